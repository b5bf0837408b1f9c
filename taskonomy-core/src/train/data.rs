//! The run's data as the stages see it: the dataset folder, the samples chosen for every task and split,
//! and the report of what could not be read.
//!
//! Only the choice of samples is kept for the whole run (a few numbers per sample): a sample is read from
//! disk when a batch needs it, and kept for the network's later epochs only within a constant budget
//! ([`SAMPLE_CACHE_BYTES`](super::batch::SAMPLE_CACHE_BYTES)), so memory does not grow with the
//! dataset. The training, transfer and test samples of a task are the first readable samples of a seeded
//! shuffle of its split, up to the preset's sizes. A task whose labels cannot be read at all is left out
//! of the run, with a warning, and listed in the report.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Progress, TrainError};
use crate::data::dataset::{Dataset, Problem, Sample, SampleRef, Split};
use crate::data::labels::Labels;
use crate::data::layout::ViewKey;
use crate::spec::{TaskDef, TaskSet};
use crate::store::{read_json, write_json, RunFolder, StoreError};

/// At most how many samples of each task each split holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitSizes {
    /// Training split (step I).
    pub train: usize,
    /// Transfer split (step II).
    pub transfer: usize,
    /// Test split.
    pub test: usize,
}

impl SplitSizes {
    /// The size of `split`.
    pub fn of(&self, split: Split) -> usize {
        match split {
            Split::Train => self.train,
            Split::Transfer => self.transfer,
            Split::Test => self.test,
        }
    }
}

/// Why the data of a task could not be provided.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The run has no samples of a task in a split.
    #[error("the run has no `{task}` samples in the {split} split")]
    NoSamples {
        /// The task.
        task: String,
        /// The split.
        split: Split,
    },
    /// A sample could not be read although it was readable when the samples were chosen.
    #[error("`{task}`, {split} split: {source}")]
    Sample {
        /// The task.
        task: String,
        /// The split.
        split: Split,
        /// What went wrong.
        source: crate::data::Error,
    },
    /// The dataset could not be read.
    #[error(transparent)]
    Source(#[from] crate::data::Error),
}

/// What the run's data held: how many samples of each task were used and skipped, the problems met, and
/// the tasks left out for want of labels. Written to the run folder as `data.json`, shown in the summary
/// and the report.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DataReport {
    /// What identifies the data in artifact keys.
    pub fingerprint: String,
    /// The dataset folder.
    pub root: String,
    /// Per task with labels: samples used in the train, transfer and test splits, and samples skipped.
    pub tasks: Vec<TaskData>,
    /// The keys of the views whose representations step II caches, in the transfer and test splits.
    pub views: [String; 2],
    /// Tasks left out because none of their samples could be read in some split, with the reason.
    pub without_labels: Vec<(String, String)>,
    /// The first [`DataReport::KEPT_PROBLEMS`] samples skipped, verbatim.
    pub problems: Vec<Problem>,
}

/// One task's samples in a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskData {
    /// The task.
    pub task: String,
    /// Samples of the train, transfer and test splits.
    pub samples: [usize; 3],
    /// Samples skipped because a file was missing or corrupt.
    pub skipped: usize,
    /// The keys of the train, transfer and test samples: what the task's artifacts are keyed by.
    pub selections: [String; 3],
}

impl DataReport {
    /// How many problems are kept verbatim.
    pub const KEPT_PROBLEMS: usize = 32;
    /// The report's file in the run folder.
    pub const FILE: &'static str = "data.json";

    /// Samples skipped over all tasks.
    pub fn skipped(&self) -> usize {
        self.tasks.iter().map(|t| t.skipped).sum()
    }

    /// Writes the report into `run`.
    pub fn write(&self, run: &RunFolder) -> Result<(), StoreError> {
        write_json(&run.file(Self::FILE), self)
    }

    /// The report of `run`, written when its data was opened.
    pub fn read(run: &RunFolder) -> Result<Self, StoreError> {
        let path = run.file(Self::FILE);
        if !path.is_file() {
            return Err(StoreError::Missing {
                what: "the run's data report".into(),
                path,
                hint: "run `taskonomy train` with the same run folder first".into(),
            });
        }
        read_json(&path, "a data report")
    }

    /// The tasks of `tasks` that have labels in the run's data.
    pub fn with_labels(&self, tasks: &TaskSet) -> TaskSet {
        tasks.retain(|name| self.without_labels.iter().all(|(t, _)| t != name))
    }

    /// The key of `task`'s samples in `split`.
    pub fn selection(&self, task: &str, split: Split) -> Result<&str, DataError> {
        self.tasks
            .iter()
            .find(|t| t.task == task)
            .map(|t| t.selections[slot(split)].as_str())
            .ok_or_else(|| DataError::NoSamples {
                task: task.to_owned(),
                split,
            })
    }

    /// The key of the views of `split` whose representations are cached (transfer or test).
    pub fn views(&self, split: Split) -> &str {
        match split {
            Split::Test => &self.views[1],
            _ => &self.views[0],
        }
    }
}

/// The position of `split` in per-split arrays.
fn slot(split: Split) -> usize {
    match split {
        Split::Train => 0,
        Split::Transfer => 1,
        Split::Test => 2,
    }
}

/// The run's data: a dataset folder and the samples chosen for each task of the run.
#[derive(Debug)]
pub struct RunData {
    dataset: Dataset,
    seed: u64,
    samples: BTreeMap<(&'static str, Split), Vec<SampleRef>>,
    /// The views of the targets' samples in the transfer and test splits.
    views: [ViewTable; 2],
    report: DataReport,
}

impl RunData {
    /// Chooses, for every task of `tasks`, up to `sizes` readable samples per split, the sample order and
    /// the alterations of `from_rgb` tasks drawn from `seed`. Tasks none of whose samples can be read in
    /// some split are left out, with a warning. Returns the data and the tasks that have labels.
    ///
    /// The views whose representations step II caches are those the targets' samples see in the transfer
    /// and test splits.
    pub fn open(
        dataset: Dataset,
        tasks: &TaskSet,
        sizes: SplitSizes,
        seed: u64,
        progress: &Progress,
    ) -> Result<(RunData, TaskSet), TrainError> {
        let fingerprint = crate::store::key_of(&(dataset.fingerprint()?, sizes, seed))?;
        let mut report = DataReport {
            fingerprint,
            root: dataset.root.display().to_string(),
            ..DataReport::default()
        };
        let mut samples = BTreeMap::new();
        let bar = progress.bar(tasks.tasks.len() as u64, "choosing samples");
        'tasks: for task in &tasks.tasks {
            let name = task.spec.name;
            let mut counts = [0; 3];
            let mut keys: [String; 3] = Default::default();
            let mut skipped = Vec::new();
            for split in Split::ALL {
                match dataset.select(task, split, sizes.of(split), seed) {
                    Ok(selection) => {
                        counts[slot(split)] = selection.samples.len();
                        keys[slot(split)] = crate::store::key_of(&selection.samples)?;
                        skipped.extend(selection.skipped);
                        samples.insert((name, split), selection.samples);
                    }
                    Err(error) => {
                        tracing::warn!(
                            task = name,
                            "left out of the run, it has no labels: {error}"
                        );
                        report
                            .without_labels
                            .push((name.to_owned(), error.to_string()));
                        for split in Split::ALL {
                            samples.remove(&(name, split));
                        }
                        bar.inc(1);
                        continue 'tasks;
                    }
                }
            }
            report.tasks.push(TaskData {
                task: name.to_owned(),
                samples: counts,
                skipped: skipped.len(),
                selections: keys,
            });
            let room = DataReport::KEPT_PROBLEMS.saturating_sub(report.problems.len());
            report.problems.extend(skipped.into_iter().take(room));
            bar.inc(1);
        }
        bar.finish_and_clear();
        let with_labels = report.with_labels(tasks);
        let table = |split| view_table(&samples, &with_labels.targets, split);
        let views = [table(Split::Transfer), table(Split::Test)];
        report.views = [
            crate::store::key_of(&views[0])?,
            crate::store::key_of(&views[1])?,
        ];
        let data = RunData {
            dataset,
            seed,
            samples,
            views,
            report,
        };
        Ok((data, with_labels))
    }

    /// The dataset folder.
    pub fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    /// The run seed, which also draws the sample order and the alterations of `from_rgb` tasks.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Image side.
    pub fn image_size(&self) -> usize {
        self.dataset.size
    }

    /// What identifies the data (the folder's views and splits, the sample sizes and the seed) in
    /// artifact keys.
    pub fn fingerprint(&self) -> &str {
        &self.report.fingerprint
    }

    /// What was used, skipped and left out.
    pub fn report(&self) -> &DataReport {
        &self.report
    }

    /// The samples of `task` in `split`.
    pub fn samples(&self, task: &str, split: Split) -> Result<&[SampleRef], DataError> {
        self.samples
            .iter()
            .find(|((name, s), _)| *name == task && *s == split)
            .map(|(_, samples)| samples.as_slice())
            .ok_or_else(|| DataError::NoSamples {
                task: task.to_owned(),
                split,
            })
    }

    /// Reads `sample` of `task` (of `split`, for messages).
    pub fn load(
        &self,
        task: &TaskDef,
        split: Split,
        sample: &SampleRef,
    ) -> Result<Sample, DataError> {
        self.dataset
            .load(task, sample, self.seed)
            .map_err(sample_error(task, split))
    }

    /// Reads only the labels of `sample` of `task` (of `split`, for messages).
    pub fn load_labels(
        &self,
        task: &TaskDef,
        split: Split,
        sample: &SampleRef,
    ) -> Result<Labels, DataError> {
        self.dataset
            .load_labels(task, sample, self.seed)
            .map_err(sample_error(task, split))
    }

    /// The views of the targets' samples in `split` (transfer or test), whose representations step II
    /// caches.
    pub fn views(&self, split: Split) -> &ViewTable {
        match split {
            Split::Test => &self.views[1],
            _ => &self.views[0],
        }
    }
}

/// A sample of `task` in `split` that could not be read, as the stages report it.
fn sample_error(task: &TaskDef, split: Split) -> impl FnOnce(crate::data::Error) -> DataError + '_ {
    move |source| DataError::Sample {
        task: task.spec.name.to_owned(),
        split,
        source,
    }
}

/// Every view the samples of `tasks` see in `split`, once, in building and view order.
fn view_table(
    samples: &BTreeMap<(&'static str, Split), Vec<SampleRef>>,
    tasks: &[&str],
    split: Split,
) -> ViewTable {
    let mut views: Vec<(usize, ViewKey)> = samples
        .iter()
        .filter(|((task, s), _)| *s == split && tasks.contains(task))
        .flat_map(|(_, samples)| samples)
        .flat_map(|sample| sample.views.iter().map(|&v| (sample.building, v)))
        .collect();
    views.sort();
    views.dedup();
    ViewTable { views }
}

/// Distinct views of a split, in building and view order: the rows of a cached representation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ViewTable {
    views: Vec<(usize, ViewKey)>,
}

impl ViewTable {
    /// The views.
    pub fn views(&self) -> &[(usize, ViewKey)] {
        &self.views
    }

    /// Their number.
    pub fn len(&self) -> usize {
        self.views.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.views.is_empty()
    }

    /// The row of every view of every sample, or `None` when a view is not in the table.
    pub fn rows_of(&self, samples: &[SampleRef]) -> Option<Vec<Vec<usize>>> {
        samples
            .iter()
            .map(|sample| {
                sample
                    .views
                    .iter()
                    .map(|&v| self.views.binary_search(&(sample.building, v)).ok())
                    .collect()
            })
            .collect()
    }
}
