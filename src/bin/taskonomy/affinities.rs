//! `taskonomy affinities`: from the per-image test losses of step II to the tables step III plans with.

use clap::Args;
use taskonomy::model::Kernels;
use taskonomy::train::{measure, Context, TaskSet};

use crate::device::dispatch;
use crate::stage::{InRunFolder, Stage};
use crate::train::RunFolderArgs;

/// Compute, per target, the tournament of every transfer and baseline on the test images and their AHP
/// affinities, and write `affinities.csv`, `wins_vs_task.csv` (Quality) and `wins_vs_pixels.csv` (Gain)
/// in the run folder, in the format of the paper's released data. Needs `taskonomy transfer` first.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  taskonomy affinities --out runs/tiny && \
                        taskonomy plan --affinities runs/tiny/affinities.csv --budget 3")]
pub struct AffinitiesArgs {
    #[command(flatten)]
    run: RunFolderArgs,
}

/// Runs the subcommand.
pub fn run(args: AffinitiesArgs) -> anyhow::Result<()> {
    dispatch(args.run.device, InRunFolder::open(&args.run, Affinities)?)
}

/// Step III's input.
struct Affinities;

impl Stage for Affinities {
    fn run<D: Kernels>(self, ctx: &Context<'_, D>, tasks: &TaskSet) -> anyhow::Result<()> {
        let tables = measure(ctx, tasks)?;
        println!("{:<24} top sources by affinity", "target");
        for target in tables.affinities.targets() {
            let mut rows: Vec<_> = tables
                .affinities
                .rows()
                .iter()
                .filter(|r| r.target == target)
                .collect();
            rows.sort_by(|a, b| b.value.total_cmp(&a.value));
            let top: Vec<String> = rows
                .iter()
                .take(3)
                .map(|r| format!("{} {:.3}", r.sources_label(), r.value))
                .collect();
            println!("{target:<24} {}", top.join(", "));
        }
        for name in ["affinities.csv", "wins_vs_task.csv", "wins_vs_pixels.csv"] {
            eprintln!("wrote {}", ctx.run.file(name).display());
        }
        Ok(())
    }
}
