//! `taskonomy train`: step I, the task-specific networks, into a run folder.

use std::path::PathBuf;

use clap::Args;
use taskonomy_core::model::DeviceKind;
use taskonomy_core::spec::{Dictionary, TaskSet};
use taskonomy_core::store::RunFolder;
use taskonomy_core::train::fit::ShardDevice;
use taskonomy_core::train::{train_tasks, Context, Preset, Progress, RunManifest};

use super::device::dispatch;
use super::stage::{InRunFolder, Stage};

/// Where a run lives and what the networks run on, for every stage subcommand.
#[derive(Debug, Args)]
pub struct RunFolderArgs {
    /// The run folder (default: runs/ and the dictionary's name in snake_case).
    #[arg(long, alias = "run", value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Where the networks run.
    #[arg(long, default_value = "cpu", value_name = "cpu|cuda")]
    pub device: DeviceKind,
    /// Draw no progress bars.
    #[arg(long)]
    pub quiet: bool,
}

impl RunFolderArgs {
    /// The run folder: `--out`, or dictionary `D`'s default.
    pub fn folder<D: Dictionary>(&self) -> PathBuf {
        self.out.clone().unwrap_or_else(super::default_out::<D>)
    }

    /// Progress bars, unless `--quiet`.
    pub fn progress(&self) -> Progress {
        if self.quiet {
            Progress::hidden()
        } else {
            Progress::terminal()
        }
    }
}

/// Train every task's network (step I) on the synthetic scenes or a Taskonomy-layout dataset, and score
/// it image by image on the test split. Finished networks are kept: run it again to resume.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  taskonomy train --preset tiny --out runs/tiny\n  \
                        taskonomy train --tasks depth,surface_normals,reshading --out runs/geometry\n  \
                        taskonomy train --data /data/taskonomy --preset paper --device cuda"
)]
pub struct TrainArgs {
    #[command(flatten)]
    run: RunFolderArgs,
    /// Sizes and schedules: `tiny` (minutes), `small` (all 26 tasks end to end in about half an hour on
    /// two cores), `paper` (a GPU's worth).
    #[arg(long, default_value = "small")]
    preset: Preset,
    /// The tasks: `all`, or names and aliases separated by commas.
    #[arg(long, default_value = "all", value_name = "all|a,b,..")]
    tasks: String,
    /// The run seed (scenes, initialisation, batches).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// A dataset in the Taskonomy layout instead of the synthetic scenes (rendered into DIR/data).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
}

/// The tasks of dictionary `D` a `--tasks` option names: `all`, or names and aliases separated by
/// commas.
pub fn parse_tasks<D: Dictionary>(option: &str) -> anyhow::Result<TaskSet> {
    let all = TaskSet::of::<D>();
    if option.trim() == "all" {
        return Ok(all);
    }
    let names: Vec<&str> = option.split(',').map(str::trim).collect();
    Ok(all.only(&names)?)
}

/// Runs the subcommand.
pub fn run<D: Dictionary>(args: TrainArgs) -> anyhow::Result<()> {
    let tasks = parse_tasks::<D>(&args.tasks)?;
    let manifest = RunManifest::new(
        args.preset.name(),
        args.preset.settings(),
        args.seed,
        args.run.device,
        args.data.as_deref(),
        &tasks,
    );
    let folder = RunFolder::create(args.run.folder::<D>())?;
    if let Ok(old) = RunManifest::read(&folder) {
        if old.dictionary != manifest.dictionary {
            eprintln!(
                "note: {} was made for the dictionary `{}` and now holds a run of `{}` (networks of \
                 tasks the two share are reused where settings and data agree)",
                folder.root().display(),
                old.dictionary,
                manifest.dictionary
            );
        } else if old.settings != manifest.settings
            || old.seed != manifest.seed
            || old.data != manifest.data
        {
            eprintln!(
                "note: {} was made with other settings; its networks stay there but will not be reused",
                folder.root().display()
            );
        }
    }
    manifest.write(&folder)?;
    eprintln!(
        "taskonomy train: {} preset, {} tasks, {} → {}",
        manifest.preset,
        tasks.tasks.len(),
        args.run.device,
        folder.root().display()
    );
    dispatch(
        args.run.device,
        InRunFolder {
            folder,
            manifest,
            tasks,
            progress: args.run.progress(),
            stage: Train,
        },
    )
}

/// Step I.
struct Train;

impl Stage for Train {
    fn run<D: ShardDevice>(self, ctx: &Context<'_, D>, tasks: &TaskSet) -> anyhow::Result<()> {
        let started = std::time::Instant::now();
        let records = train_tasks(ctx, tasks)?;
        println!(
            "{:<24} {:>12} {:>12} {:>8}  status",
            "task", "test loss", "constant", "margin"
        );
        for r in &records {
            let status = match (r.reused, r.beats_constant()) {
                (false, true) => "trained",
                (true, true) => "up to date",
                (false, false) => "trained, no better than a constant",
                (true, false) => "up to date, no better than a constant",
            };
            println!(
                "{:<24} {:>12.5} {:>12.5} {:>7.1}%  {status}",
                r.task,
                r.test_mean,
                r.constant_mean,
                100.0 * r.margin()
            );
        }
        eprintln!(
            "step I done in {:.1} s; next: taskonomy transfer --out {}",
            started.elapsed().as_secs_f64(),
            ctx.run.root().display()
        );
        Ok(())
    }
}
