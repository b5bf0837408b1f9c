//! `taskonomy`: the command line of taskonomy-rs. Each subcommand is a thin layer over one stage of the
//! library and lives in its own module.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod plan;
mod render;
mod show;
mod tasks;

/// Taskonomy (Zamir et al., CVPR 2018): declare tasks, measure transfers, plan taxonomies.
#[derive(Debug, Parser)]
#[command(name = "taskonomy", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Tasks(tasks::TasksArgs),
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
        Command::Tasks(args) => tasks::run(args),
        Command::Plan(args) => plan::run(args),
        Command::Render(args) => render::run(args),
        Command::Show(args) => show::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
