//! The stage subcommands' common part: a run folder, its manifest and tasks, the data opened on the
//! chosen device, and the stage's own work on that context.

use anyhow::Context as _;
use taskonomy::model::Kernels;
use taskonomy::store::RunFolder;
use taskonomy::train::{Context, Progress, RunManifest, TaskSet};

use crate::device::OnDevice;
use crate::train::{task_set, RunFolderArgs};

/// What a stage does once its data is open.
pub trait Stage {
    /// Does the stage's work on `tasks`, in `ctx`'s run folder.
    fn run<D: Kernels>(self, ctx: &Context<'_, D>, tasks: &TaskSet) -> anyhow::Result<()>;
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
    /// `stage` in the existing run folder named by `args`, with the tasks its manifest lists.
    pub fn open(args: &RunFolderArgs, stage: S) -> anyhow::Result<Self> {
        let folder = RunFolder::open(&args.out)?;
        let manifest = RunManifest::read(&folder)?;
        let tasks = task_set(&manifest.tasks)?;
        manifest.check_tasks(&tasks)?;
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
    fn run<D: Kernels>(self, dev: &D) -> anyhow::Result<()> {
        let data = self
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
        };
        self.stage.run(&ctx, &self.tasks)
    }
}
