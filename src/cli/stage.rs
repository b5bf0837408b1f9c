//! The stage subcommands' common part: a run folder, its manifest and tasks, the data opened on the
//! chosen device, and the stage's own work on that context.

use anyhow::Context as _;
use taskonomy_core::spec::{Dictionary, TaskSet};
use taskonomy_core::store::RunFolder;
use taskonomy_core::train::fit::ShardDevice;
use taskonomy_core::train::{Context, Progress, ReadoutTraining, RunManifest};

use super::device::OnDevice;
use super::train::RunFolderArgs;

/// What a stage does once its data is open.
pub trait Stage {
    /// Does the stage's work on `tasks`, in `ctx`'s run folder.
    fn run<D: ShardDevice>(self, ctx: &Context<'_, D>, tasks: &TaskSet) -> anyhow::Result<()>;

    /// How the stage trains readouts, if it trains any.
    fn readouts(&self) -> ReadoutTraining {
        ReadoutTraining::Grouped
    }
}

/// A stage in a run folder, as the folder's manifest describes the run.
pub struct InRunFolder<S> {
    /// The run folder.
    pub folder: RunFolder,
    /// Its manifest: settings, seed, data.
    pub manifest: RunManifest,
    /// The run's tasks.
    pub tasks: TaskSet,
    /// Progress bars.
    pub progress: Progress,
    /// The stage's own work.
    pub stage: S,
}

impl<S> InRunFolder<S> {
    /// `stage` in the existing run folder named by `args`, with the tasks of dictionary `D` its manifest
    /// lists.
    pub fn open<D: Dictionary>(args: &RunFolderArgs, stage: S) -> anyhow::Result<Self> {
        let folder = RunFolder::open(args.folder::<D>())?;
        let manifest = RunManifest::read(&folder)?;
        let tasks = manifest.tasks_of(&TaskSet::of::<D>())?;
        Ok(InRunFolder {
            folder,
            manifest,
            tasks,
            progress: args.progress(),
            stage,
        })
    }
}

impl<S: Stage> OnDevice for InRunFolder<S> {
    type Output = ();
    fn run<D: ShardDevice>(self, dev: &D) -> anyhow::Result<()> {
        let (data, tasks) = self
            .manifest
            .open_data(&self.folder, &self.tasks, &self.progress)
            .context("preparing the data")?;
        let ctx = Context {
            dev,
            run: &self.folder,
            data: &data,
            settings: &self.manifest.settings,
            seed: self.manifest.seed,
            progress: self.progress.clone(),
            readouts: self.stage.readouts(),
        };
        self.stage.run(&ctx, &tasks)?;
        super::report_data(data.report());
        Ok(())
    }
}
