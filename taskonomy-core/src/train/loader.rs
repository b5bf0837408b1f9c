//! From a dataset folder in the Taskonomy layout (rendered synthetic scenes or the released data) to an
//! [`InMemoryDataset`]: the loader's training, validation and test buildings become the train, transfer
//! and test splits.
//!
//! The view table of a split holds every view of the split's buildings, in building and file order, so
//! it does not depend on which tasks are loaded (cached representations are keyed by it); each task's
//! samples are the first samples of the loader's seeded shuffle, up to the split's size.

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::data::{Images, InMemoryDataset, Labels, Split, TaskSamples};
use super::{Progress, TrainError};
use crate::data::labels::Label;
use crate::data::layout::{Domain, ViewKey};
use crate::data::loader::{self, LoaderConfig, SplitRule};
use crate::spec::{OutputKind, TaskSpec};

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

/// The loader's split that plays the role of `split`.
fn loader_split(split: Split) -> loader::Split {
    match split {
        Split::Train => loader::Split::Train,
        Split::Transfer => loader::Split::Val,
        Split::Test => loader::Split::Test,
    }
}

/// The dataset's label for a task: by canonical name, then by alias.
fn label_of(spec: &TaskSpec) -> Option<Label> {
    spec.all_names().find_map(Label::from_name)
}

/// `[C, H, W]` planes to `H × W × C` interleaved values.
fn interleave(planes: &[f32], channels: usize) -> Vec<f32> {
    let pixels = planes.len() / channels.max(1);
    let mut out = vec![0.0; planes.len()];
    for c in 0..channels {
        for p in 0..pixels {
            out[p * channels + c] = planes[c * pixels + p];
        }
    }
    out
}

/// Loads, for every task of `tasks` the dataset has labels for, up to `sizes` samples per split, and the
/// view table of each split. `seed` drives the loader (sample order, point-matching pairs, corruptions).
pub fn load_dataset(
    dataset: &loader::Dataset,
    tasks: &[TaskSpec],
    sizes: SplitSizes,
    seed: u64,
    progress: &Progress,
) -> Result<InMemoryDataset, TrainError> {
    let rule = SplitRule::default();
    let size = dataset.size;
    let mut out = InMemoryDataset {
        size,
        ..InMemoryDataset::default()
    };
    let mut identity: Vec<(String, Vec<ViewKey>)> = Vec::new();
    for split in Split::ALL {
        let buildings = dataset.split(loader_split(split), &rule);
        let keys: Vec<(usize, ViewKey)> = buildings
            .iter()
            .flat_map(|&b| dataset.buildings[b].views.iter().map(move |&v| (b, v)))
            .collect();
        let bar = progress.bar(keys.len() as u64, format!("reading {split} views"));
        let images: Vec<Vec<f32>> = keys
            .par_iter()
            .map(|&(b, v)| {
                let planes = dataset.read(&dataset.buildings[b].name, Domain::Rgb, v)?;
                bar.inc(1);
                Ok(interleave(&planes, 3))
            })
            .collect::<Result<_, crate::data::Error>>()
            .map_err(super::DataError::from)?;
        bar.finish_and_clear();
        let table: BTreeMap<(String, ViewKey), usize> = keys
            .iter()
            .enumerate()
            .map(|(i, &(b, v))| ((dataset.buildings[b].name.clone(), v), i))
            .collect();
        for &b in &buildings {
            identity.push((
                format!("{split}/{}", dataset.buildings[b].name),
                dataset.buildings[b].views.clone(),
            ));
        }
        out.views.insert(
            split,
            Images {
                size,
                pixels: images.concat(),
            },
        );
        for spec in tasks {
            let Some(label) = label_of(spec) else {
                tracing::warn!(task = spec.name, "the dataset has no labels for this task");
                continue;
            };
            let samples = load_task(dataset, spec, label, split, sizes.of(split), seed, &table)?;
            out.samples.insert((split, spec.name.to_owned()), samples);
        }
    }
    let manifest =
        std::fs::read(dataset.root.join(crate::data::synthetic::MANIFEST)).unwrap_or_default();
    out.fingerprint = crate::store::key_of(&(
        "taskonomy-layout",
        size,
        String::from_utf8_lossy(&manifest),
        identity,
        sizes,
        seed,
    ))?;
    Ok(out)
}

fn load_task(
    dataset: &loader::Dataset,
    spec: &TaskSpec,
    label: Label,
    split: Split,
    limit: usize,
    seed: u64,
    table: &BTreeMap<(String, ViewKey), usize>,
) -> Result<TaskSamples, TrainError> {
    let size = dataset.size;
    let invalid = |message: String| super::DataError::Invalid {
        task: spec.name.into(),
        split,
        message,
    };
    let config = LoaderConfig::new(vec![label], 32, seed);
    let loader = loader::Loader::new(dataset, loader_split(split), &config)
        .map_err(super::DataError::from)?;
    let mut views = Vec::new();
    let mut inputs = Vec::new();
    let mut targets: Vec<f32> = Vec::new();
    for batch in loader.epoch(0) {
        let target = &batch.targets[&label];
        for (i, (building, keys)) in batch.samples.iter().enumerate() {
            if views.len() == limit {
                break;
            }
            let ids = keys
                .iter()
                .map(|&k| {
                    table.get(&(building.clone(), k)).copied().ok_or_else(|| {
                        invalid(format!("view {k:?} of {building} is not in the split"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            if ids.len() != spec.views {
                return Err(invalid(format!(
                    "the dataset's `{}` samples have {} views, the task declares {}",
                    label.name(),
                    ids.len(),
                    spec.views
                ))
                .into());
            }
            views.push(ids);
            if spec.views == 1 {
                inputs.extend(interleave(batch.input(label).item(i), 3));
            } else {
                for slot in &batch.rgb {
                    inputs.extend(interleave(slot.item(i), 3));
                }
            }
            targets.extend_from_slice(target.item(i));
        }
        if views.len() == limit {
            break;
        }
    }
    let labels = match spec.output.kind {
        OutputKind::Dense => Labels::Dense {
            channels: spec.output.size,
            values: targets
                .chunks(spec.output.size * size * size)
                .flat_map(|planes| interleave(planes, spec.output.size))
                .collect(),
        },
        OutputKind::PixelClasses => Labels::PixelClasses {
            classes: spec.output.size,
            values: targets.iter().map(|&v| v.max(0.0).round() as u32).collect(),
        },
        OutputKind::PixelEmbedding => Labels::Segments {
            values: targets.iter().map(|&v| v.max(0.0).round() as u32).collect(),
        },
        OutputKind::Classes | OutputKind::MultiLabel | OutputKind::Vector => Labels::Image {
            len: spec.output.size,
            values: targets,
        },
    };
    Ok(TaskSamples {
        views,
        inputs: Images {
            size,
            pixels: inputs,
        },
        labels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planes_interleave() {
        // Two channels of a 2-pixel image.
        assert_eq!(
            interleave(&[1.0, 2.0, 10.0, 20.0], 2),
            [1.0, 10.0, 2.0, 20.0]
        );
    }
}
