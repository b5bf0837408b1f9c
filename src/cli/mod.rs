//! The command line of taskonomy-rs, for any task dictionary.
//!
//! `taskonomy` is the standard dictionary's; a crate with a dictionary of its own gets the same commands,
//! flags and outputs for its tasks from one line:
//!
//! ```no_run
//! use std::process::ExitCode;
//! # use taskonomy::prelude::*;
//! # #[task(output = Dense<1>, loss = L1, label = taskonomy::tasks::labels::depth)]
//! # pub struct Depth;
//! # task_dictionary! { pub MaterialStudy { sources: [Depth], targets: [Depth] } }
//!
//! fn main() -> ExitCode {
//!     taskonomy::cli::main::<MaterialStudy>()
//! }
//! ```
//!
//! Each subcommand is a thin layer over one stage of the library and lives in its own module. Logs go
//! to standard error through `tracing` (warnings by default; `-v` for progress notes, `-vv` for details,
//! or `RUST_LOG`), written between the progress bars.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use taskonomy_core::spec::Dictionary;
use taskonomy_core::train::Progress;

mod affinities;
mod device;
mod executor;
mod plan;
mod render;
mod run;
mod show;
mod stability;
mod stage;
mod status;
mod tasks;
mod train;
mod transfer;
mod worker;

pub use device::{dispatch, OnDevice};

/// The allocator the `taskonomy` binary uses: training allocates and frees large buffers at every step,
/// and mimalloc keeps freed pages for reuse instead of handing them back to the system and faulting
/// fresh zeroed ones in. A binary of your own is faster with it too:
///
/// ```no_run
/// #[global_allocator]
/// static ALLOCATOR: taskonomy::cli::FastAllocator = taskonomy::cli::FastAllocator;
/// # fn main() {}
/// ```
pub use mimalloc::MiMalloc as FastAllocator;

/// Taskonomy (Zamir et al., CVPR 2018): declare tasks, measure transfers, plan taxonomies.
#[derive(Debug, Parser)]
#[command(name = "taskonomy", version, about, long_about = None)]
struct Cli {
    /// Say more: `-v` for progress notes, `-vv` for details (`RUST_LOG` overrides).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the whole method on the synthetic scenes (or a dataset) and write a report.
    Run(run::RunArgs),
    /// List the dictionary's tasks.
    Tasks(tasks::TasksArgs),
    /// Train every task's network (step I) and score it image by image on the test split.
    Train(train::TrainArgs),
    /// Train transfers from frozen representations to every target, and the baselines (step II).
    Transfer(transfer::TransferArgs),
    /// Affinities and win rates from the transfers' per-image test losses, as CSV tables (step III).
    Affinities(affinities::AffinitiesArgs),
    /// Plan a taxonomy from an affinity table under a supervision budget (the BIP of Section 3.4).
    Plan(plan::PlanArgs),
    /// Compare finished runs (other seeds): how stable their affinities and taxonomies are.
    Stability(stability::StabilityArgs),
    /// Render the synthetic dataset: indoor scenes with the labels of the dictionary's tasks.
    Render(render::RenderArgs),
    /// Draw one view's contact sheet: RGB and every task's label, captioned.
    Show(show::ShowArgs),
    /// Work on a run folder prepared by `run --executor local|slurm|none`: claim units, train them.
    Worker(worker::WorkerArgs),
    /// Show where the units of work of a run stand: done, running, failed, pending.
    Status(status::StatusArgs),
}

/// Runs the command line of dictionary `D` on the process's arguments; returns the exit code (failure
/// after printing the error on one line).
pub fn main<D: Dictionary>() -> ExitCode {
    let program = std::env::args_os()
        .next()
        .and_then(|arg| {
            std::path::Path::new(&arg)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "taskonomy".to_owned());
    let mut command = Cli::command().name(program);
    if D::NAME != "Taskonomy" {
        let summary = D::DOC.lines().next().unwrap_or("").trim();
        command = command.about(format!(
            "The Taskonomy method on the dictionary {}{}{summary}",
            D::NAME,
            if summary.is_empty() { "" } else { ": " }
        ));
    }
    let cli = match Cli::from_arg_matches(&command.get_matches()) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    init_logging(cli.verbose);
    let result = match cli.command {
        Command::Run(args) => run::run::<D>(args),
        Command::Tasks(args) => tasks::run::<D>(args),
        Command::Train(args) => train::run::<D>(args),
        Command::Transfer(args) => transfer::run::<D>(args),
        Command::Affinities(args) => affinities::run::<D>(args),
        Command::Plan(args) => plan::run::<D>(args),
        Command::Stability(args) => stability::run(args),
        Command::Render(args) => render::run::<D>(args),
        Command::Show(args) => show::run::<D>(args),
        Command::Worker(args) => worker::run::<D>(args),
        Command::Status(args) => status::run::<D>(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", describe(&error));
            ExitCode::FAILURE
        }
    }
}

/// Logs to standard error, between the progress bars: `RUST_LOG` if set, else warnings from the
/// library (skipped samples, tasks without labels), more with `-v`.
fn init_logging(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let level = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .without_time()
        .with_writer(|| BetweenBars(Vec::new()))
        .try_init();
}

/// A log line, written to standard error when complete, with the progress bars cleared meanwhile.
struct BetweenBars(Vec<u8>);

impl Write for BetweenBars {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for BetweenBars {
    fn drop(&mut self) {
        if !self.0.is_empty() {
            let line = std::mem::take(&mut self.0);
            Progress::suspend(|| {
                let _ = std::io::stderr().write_all(&line);
            });
        }
    }
}

/// The default run folder of dictionary `D`: `runs/` and its name in snake_case (`runs/taskonomy`).
fn default_out<D: Dictionary>() -> std::path::PathBuf {
    std::path::Path::new("runs").join(taskonomy_core::spec::snake_case_from_type_name(D::NAME))
}

/// What the data held, after a stage that read it: samples skipped and tasks left out, with the first
/// problems (each was logged as it happened).
fn report_data(data: &taskonomy_core::train::DataReport) {
    if data.skipped() == 0 && data.without_labels.is_empty() {
        return;
    }
    println!(
        "\nData: {} sample(s) skipped because a file was missing or corrupt, {} task(s) left out for \
         want of labels.",
        data.skipped(),
        data.without_labels.len()
    );
    for task in data.tasks.iter().filter(|t| t.skipped > 0) {
        println!("  {:<24} {} skipped", task.task, task.skipped);
    }
    for (task, reason) in &data.without_labels {
        println!("  {task:<24} left out: {reason}");
    }
    for problem in data.problems.iter().take(5) {
        println!("  {problem}");
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
