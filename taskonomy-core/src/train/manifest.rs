//! `manifest.json`: what a run folder was made with, so that its later stages (`taskonomy transfer`,
//! `taskonomy affinities`) rebuild the same settings, tasks and data without repeating options.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Progress, RunData, Settings, TaskSet, TrainError};
use crate::data::dataset::Dataset;
use crate::data::labels::LabelSource;
use crate::data::synthetic::{render_dataset, SynthConfig};
use crate::model::DeviceKind;
use crate::store::{read_json, write_json, RunFolder, StoreError};

/// Where a run's images come from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum DataSource {
    /// Synthetic scenes rendered into the run folder's `data/`.
    Synthetic {
        /// Scenes (buildings).
        scenes: usize,
        /// Image side.
        size: usize,
        /// Seed of the scenes.
        seed: u64,
    },
    /// A dataset in the Taskonomy layout.
    Folder {
        /// Its root.
        path: PathBuf,
    },
}

/// The record of how a run was made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunManifest {
    /// The preset the settings came from.
    pub preset: String,
    /// Sizes and schedules.
    pub settings: Settings,
    /// The run seed.
    pub seed: u64,
    /// The device step I ran on.
    pub device: DeviceKind,
    /// The data.
    pub data: DataSource,
    /// The dictionary the tasks come from (its type name).
    pub dictionary: String,
    /// The tasks, by canonical name, sources first.
    pub tasks: Vec<String>,
    /// The version of taskonomy-rs that wrote the manifest.
    pub version: String,
}

/// The marker written after the last rendered image (the same marker `taskonomy run` uses, so both
/// reuse each other's scenes): the scenes, and the labels rendered (`task: domain (encoding)`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Rendered {
    scenes: usize,
    size: usize,
    seed: u64,
    #[serde(default)]
    labels: Vec<String>,
}

impl Rendered {
    /// Whether this rendering holds what `wanted` asks for: the same scenes, and every label it lists
    /// (a run of fewer tasks reuses a rendering of more).
    fn covers(&self, wanted: &Rendered) -> bool {
        (self.scenes, self.size, self.seed) == (wanted.scenes, wanted.size, wanted.seed)
            && wanted
                .labels
                .iter()
                .all(|label| self.labels.contains(label))
    }
}

impl RunManifest {
    /// The manifest of a new run of `tasks` (of their dictionary) with `settings` from
    /// `preset`: on the synthetic scenes its settings ask for, or on the Taskonomy-layout `dataset`.
    pub fn new(
        preset: &str,
        settings: Settings,
        seed: u64,
        device: DeviceKind,
        dataset: Option<&Path>,
        tasks: &TaskSet,
    ) -> Self {
        let data = match dataset {
            Some(path) => DataSource::Folder {
                path: path.to_owned(),
            },
            None => DataSource::Synthetic {
                scenes: settings.scenes,
                size: settings.arch.image_size,
                seed,
            },
        };
        RunManifest {
            preset: preset.into(),
            settings,
            seed,
            device,
            data,
            dictionary: tasks.dictionary.into(),
            tasks: tasks.names().map(str::to_owned).collect(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }

    /// The manifest of `run`.
    pub fn read(run: &RunFolder) -> Result<Self, TrainError> {
        let path = run.manifest_path();
        if !path.is_file() {
            return Err(crate::store::StoreError::Missing {
                what: "the run's manifest.json".into(),
                path,
                hint: "run `taskonomy train --out <folder>` first".into(),
            }
            .into());
        }
        Ok(read_json(&path, "a run manifest")?)
    }

    /// Writes the manifest into `run`.
    pub fn write(&self, run: &RunFolder) -> Result<(), TrainError> {
        Ok(write_json(&run.manifest_path(), self)?)
    }

    /// Checks that the manifest was written for dictionary `tasks.dictionary`, and returns the tasks it
    /// names (all of them, or some).
    pub fn tasks_of(&self, tasks: &TaskSet) -> Result<TaskSet, TrainError> {
        if self.dictionary != tasks.dictionary {
            return Err(TrainError::Config(format!(
                "this run folder was made for the dictionary `{}`, not `{}`; use that dictionary's \
                 command line, or another --out",
                self.dictionary, tasks.dictionary
            )));
        }
        let chosen = tasks
            .only(&self.tasks)
            .map_err(|e| TrainError::Config(format!("the run's manifest: {e}")))?;
        let names: Vec<&str> = chosen.names().collect();
        if names != self.tasks {
            return Err(TrainError::Config(format!(
                "the manifest lists tasks {:?}, but the dictionary gives {names:?}",
                self.tasks
            )));
        }
        Ok(chosen)
    }

    /// The run's data: rendered into `data/` first when synthetic (once; a finished rendering is reused),
    /// then the samples of every task of `tasks` chosen. The data report is written into the run folder.
    /// Returns the data and the tasks that have labels in it.
    pub fn open_data(
        &self,
        run: &RunFolder,
        tasks: &TaskSet,
        progress: &Progress,
    ) -> Result<(RunData, TaskSet), TrainError> {
        let root = match &self.data {
            DataSource::Folder { path } => path.clone(),
            DataSource::Synthetic { scenes, size, seed } => {
                let root = run.root().join("data");
                let wanted = Rendered {
                    scenes: *scenes,
                    size: *size,
                    seed: *seed,
                    labels: rendered_labels(tasks),
                };
                let marker = root.join("rendered.json");
                let done = read_json::<Rendered>(&marker, "the rendered data's marker").ok();
                if !done.is_some_and(|done| done.covers(&wanted)) {
                    // A rendering stopped half-way would leave files of the new labels beside the
                    // old marker, which a later run with the old labels would trust.
                    match std::fs::remove_file(&marker) {
                        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                            return Err(StoreError::Io {
                                path: marker,
                                source: e,
                            }
                            .into())
                        }
                        _ => {}
                    }
                    let config = SynthConfig::new(*scenes, *size, *seed);
                    let bar = progress.bar(
                        (config.scenes * config.views_per_scene()) as u64,
                        "rendering synthetic scenes",
                    );
                    render_dataset(&config, &tasks.tasks, &root, &|n| bar.inc(n as u64))
                        .map_err(super::DataError::from)?;
                    bar.finish_and_clear();
                    write_json(&marker, &wanted)?;
                }
                root
            }
        };
        let dataset = Dataset::open(&root).map_err(super::DataError::from)?;
        if dataset.size != self.settings.arch.image_size {
            return Err(TrainError::Config(format!(
                "{} holds {}×{} images, but the networks take {}×{} (preset {})",
                root.display(),
                dataset.size,
                dataset.size,
                self.settings.arch.image_size,
                self.settings.arch.image_size,
                self.preset
            )));
        }
        let (data, with_labels) =
            RunData::open(dataset, tasks, self.settings.samples, self.seed, progress)?;
        data.report().write(run)?;
        Ok((data, with_labels))
    }
}

/// What the tasks of `tasks` render: `task: domain (encoding)` for each task with a label function.
fn rendered_labels(tasks: &TaskSet) -> Vec<String> {
    tasks
        .tasks
        .iter()
        .filter_map(|task| match task.labels {
            LabelSource::Rendered { encoding, .. } => Some(format!(
                "{}: {} ({encoding})",
                task.spec.name, task.spec.domain
            )),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(seed: u64, labels: &[&str]) -> Rendered {
        Rendered {
            scenes: 4,
            size: 16,
            seed,
            labels: labels.iter().map(|&l| l.to_owned()).collect(),
        }
    }

    #[test]
    fn a_rendering_is_reused_for_the_same_scenes_and_any_of_its_labels() {
        let done = rendered(
            1,
            &[
                "depth: depth_zbuffer (Png16)",
                "edges: edge_texture (Png16)",
            ],
        );
        assert!(done.covers(&done));
        assert!(done.covers(&rendered(1, &["edges: edge_texture (Png16)"])));
        assert!(done.covers(&rendered(1, &[])));
        assert!(!done.covers(&rendered(2, &["edges: edge_texture (Png16)"])));
        // The same task in another encoding is another label.
        assert!(!done.covers(&rendered(1, &["depth: depth_zbuffer (Npy)"])));
        assert!(!done.covers(&rendered(1, &["material: material (Png8)"])));
    }
}
