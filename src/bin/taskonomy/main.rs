//! `taskonomy`: the command line of taskonomy-rs. Each subcommand is a thin layer over one stage of the
//! library and lives in its own module.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

// Training allocates and frees large buffers at every step; mimalloc keeps freed pages for reuse instead
// of handing them back to the system and faulting fresh zeroed ones in (see `model::device::cpu`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod affinities;
mod device;
mod plan;
mod render;
mod run;
mod show;
mod stage;
mod tasks;
mod train;
mod transfer;

/// Taskonomy (Zamir et al., CVPR 2018): declare tasks, measure transfers, plan taxonomies.
#[derive(Debug, Parser)]
#[command(name = "taskonomy", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the whole method on the embedded synthetic scenes and write a report.
    Run(run::RunArgs),
    /// List the tasks of the standard Taskonomy dictionary.
    Tasks(tasks::TasksArgs),
    /// Train every task's network (step I) and score it image by image on the test split.
    Train(train::TrainArgs),
    /// Train transfers from frozen representations to every target, and the baselines (step II).
    Transfer(transfer::TransferArgs),
    /// Affinities and win rates from the transfers' per-image test losses, as CSV tables (step III).
    Affinities(affinities::AffinitiesArgs),
    /// Plan a taxonomy from an affinity table under a supervision budget (the BIP of Section 3.4).
    Plan(plan::PlanArgs),
    /// Render the synthetic dataset: indoor scenes with exact labels for every task, Taskonomy layout.
    Render(render::RenderArgs),
    /// Draw one view's contact sheet: RGB and every task's label, captioned.
    Show(show::ShowArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Tasks(args) => tasks::run(args),
        Command::Train(args) => train::run(args),
        Command::Transfer(args) => transfer::run(args),
        Command::Affinities(args) => affinities::run(args),
        Command::Plan(args) => plan::run(args),
        Command::Render(args) => render::run(args),
        Command::Show(args) => show::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", describe(&error));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line. The library's messages already quote the cause they wrap
/// (`file: what the system said`), so a cause is added only where the message does not hold it yet.
fn describe(error: &anyhow::Error) -> String {
    let mut message = error.to_string();
    for cause in error.chain().skip(1) {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
    }
    message
}
