//! `taskonomy affinities`: from the per-image test losses of step II to the tables step III plans with.

use clap::Args;
use taskonomy::model::Kernels;
use taskonomy::store::RunFolder;
use taskonomy::train::{measure, Context, Progress, RunManifest, TaskSet};

use crate::device::{dispatch, OnDevice};
use crate::train::{task_set, RunFolderArgs};

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
    let folder = RunFolder::open(&args.run.out)?;
    let manifest = RunManifest::read(&folder)?;
    let tasks = task_set(&manifest.tasks)?;
    manifest.check_tasks(&tasks)?;
    dispatch(
        args.run.device,
        Affinities {
            folder,
            manifest,
            tasks,
            progress: args.run.progress(),
        },
    )
}

struct Affinities {
    folder: RunFolder,
    manifest: RunManifest,
    tasks: TaskSet,
    progress: Progress,
}

impl OnDevice for Affinities {
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
        let tables = measure(&ctx, &self.tasks)?;
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
            eprintln!("wrote {}", self.folder.file(name).display());
        }
        Ok(())
    }
}
