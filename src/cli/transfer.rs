//! `taskonomy transfer`: step II, the transfers and baselines, into a run folder.

use clap::Args;
use taskonomy_core::spec::Dictionary;
use taskonomy_core::train::fit::ShardDevice;
use taskonomy_core::train::{transfer, Context, ReadoutTraining, TaskSet};

use super::device::dispatch;
use super::stage::{InRunFolder, Stage};
use super::train::RunFolderArgs;

/// Train the transfers of step II: freeze every task network's encoder, cache its representations, and
/// train readouts from each source (and from combinations of the best sources) to every target, with the
/// `pixels` and `random` baselines. Needs `taskonomy train` first; resumes where it stopped.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  taskonomy train --preset tiny --out runs/tiny && taskonomy transfer --out runs/tiny"
)]
pub struct TransferArgs {
    #[command(flatten)]
    run: RunFolderArgs,
    /// Train each readout alone, one after the other, through dfdx's tape, instead of the readouts into
    /// a target together: the reference the grouped step is tested against (the same readouts, slower)
    #[arg(long)]
    one_at_a_time: bool,
}

/// Runs the subcommand.
pub fn run<D: Dictionary>(args: TransferArgs) -> anyhow::Result<()> {
    let readouts = if args.one_at_a_time {
        ReadoutTraining::OneAtATime
    } else {
        ReadoutTraining::Grouped
    };
    dispatch(
        args.run.device,
        InRunFolder::open::<D>(&args.run, Transfer { readouts })?,
    )
}

/// Step II.
struct Transfer {
    readouts: ReadoutTraining,
}

impl Stage for Transfer {
    fn readouts(&self) -> ReadoutTraining {
        self.readouts
    }

    fn run<D: ShardDevice>(self, ctx: &Context<'_, D>, tasks: &TaskSet) -> anyhow::Result<()> {
        let started = std::time::Instant::now();
        let records = transfer(ctx, tasks)?;
        println!(
            "{:<24} {:>9}  best first-order source (test loss)",
            "target", "transfers"
        );
        for &target in &tasks.targets {
            let into: Vec<_> = records.iter().filter(|r| r.target == target).collect();
            let best = into
                .iter()
                .filter(|r| r.sources.len() == 1 && tasks.spec(&r.sources[0]).is_some())
                .min_by(|a, b| a.test_mean.total_cmp(&b.test_mean));
            let best = best.map_or("-".to_owned(), |r| {
                format!("{} ({:.5})", r.label(), r.test_mean)
            });
            println!("{target:<24} {:>9}  {best}", into.len());
        }
        eprintln!(
            "step II done in {:.1} s; next: taskonomy affinities --out {}",
            started.elapsed().as_secs_f64(),
            ctx.run.root().display()
        );
        Ok(())
    }
}
