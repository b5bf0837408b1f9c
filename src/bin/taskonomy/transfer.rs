//! `taskonomy transfer`: step II, the transfers and baselines, into a run folder.

use clap::Args;
use taskonomy::model::Kernels;
use taskonomy::store::RunFolder;
use taskonomy::train::{transfer, Context, Progress, RunManifest, TaskSet};

use crate::device::{dispatch, OnDevice};
use crate::train::{task_set, RunFolderArgs};

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
}

/// Runs the subcommand.
pub fn run(args: TransferArgs) -> anyhow::Result<()> {
    let folder = RunFolder::open(&args.run.out)?;
    let manifest = RunManifest::read(&folder)?;
    let tasks = task_set(&manifest.tasks)?;
    manifest.check_tasks(&tasks)?;
    dispatch(
        args.run.device,
        Transfer {
            folder,
            manifest,
            tasks,
            progress: args.run.progress(),
        },
    )
}

struct Transfer {
    folder: RunFolder,
    manifest: RunManifest,
    tasks: TaskSet,
    progress: Progress,
}

impl OnDevice for Transfer {
    type Output = ();
    fn run<D: Kernels>(self, dev: &D) -> anyhow::Result<()> {
        let data = self
            .manifest
            .open_data(&self.folder, &self.tasks, &self.progress)?;
        let ctx = Context {
            dev,
            run: &self.folder,
            data: &data,
            settings: &self.manifest.settings,
            seed: self.manifest.seed,
            progress: self.progress.clone(),
        };
        let started = std::time::Instant::now();
        let records = transfer(&ctx, &self.tasks)?;
        println!(
            "{:<24} {:>9}  best first-order source (test loss)",
            "target", "transfers"
        );
        for &target in &self.tasks.targets {
            let into: Vec<_> = records.iter().filter(|r| r.target == target).collect();
            let best = into
                .iter()
                .filter(|r| r.sources.len() == 1 && self.tasks.spec(&r.sources[0]).is_some())
                .min_by(|a, b| a.test_mean.total_cmp(&b.test_mean));
            let best = best.map_or("-".to_owned(), |r| {
                format!("{} ({:.5})", r.label(), r.test_mean)
            });
            println!("{target:<24} {:>9}  {best}", into.len());
        }
        eprintln!(
            "step II done in {:.1} s; next: taskonomy affinities --out {}",
            started.elapsed().as_secs_f64(),
            self.folder.root().display()
        );
        Ok(())
    }
}
