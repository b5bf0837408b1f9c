//! What training needs from a dataset: for each task and split, samples made of views, the task's input
//! images, and labels; and for each split the clean RGB views that transfers read.
//!
//! The trainer is written against the [`Dataset`] trait so that it does not depend on where data comes
//! from: [`InMemoryDataset`] holds everything in memory and is what the synthetic scenes and the Taskonomy
//! folder loader are turned into.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::spec::{OutputKind, TaskSpec};

/// The three disjoint image sets of the method: task networks are trained on `Train`, transfers on the
/// (much smaller) `Transfer` split, and every network is scored on `Test`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Training data of the task-specific networks (step I).
    Train,
    /// Training data of the transfer functions and the `pixels` baseline (step II).
    Transfer,
    /// The test images every per-image loss is measured on.
    Test,
}

impl Split {
    /// All splits.
    pub const ALL: [Split; 3] = [Split::Train, Split::Transfer, Split::Test];

    /// The split's name.
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Transfer => "transfer",
            Split::Test => "test",
        }
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why data could not be provided.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The dataset has no samples of a task in a split.
    #[error("the dataset has no `{task}` samples in the {split} split")]
    NoSamples {
        /// The task.
        task: String,
        /// The split.
        split: Split,
    },
    /// Samples are inconsistent (sizes, view indices, label ranges).
    #[error("`{task}`, {split} split: {message}")]
    Invalid {
        /// The task (or `views` for the split's view table).
        task: String,
        /// The split.
        split: Split,
        /// What is wrong.
        message: String,
    },
    /// The underlying source failed (files, rendering).
    #[error(transparent)]
    Source(#[from] crate::data::Error),
}

/// Square RGB images, `count × size × size × 3`, row-major, channels last, values in `[0, 1]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Images {
    /// Side in pixels.
    pub size: usize,
    /// The pixels of all images.
    pub pixels: Vec<f32>,
}

impl Images {
    /// Values per image.
    pub fn image_len(&self) -> usize {
        self.size * self.size * 3
    }

    /// How many images there are.
    pub fn count(&self) -> usize {
        self.pixels.len() / self.image_len().max(1)
    }

    /// Image `i`.
    pub fn image(&self, i: usize) -> &[f32] {
        let n = self.image_len();
        &self.pixels[i * n..(i + 1) * n]
    }
}

/// The labels of a task's samples, in the form of its output kind. Per-pixel labels are row-major,
/// channels last.
#[derive(Clone, Debug, PartialEq)]
pub enum Labels {
    /// `Dense<C>`: `count × size² × C` values.
    Dense {
        /// Channels per pixel.
        channels: usize,
        /// The values.
        values: Vec<f32>,
    },
    /// `PixelClasses<K>`: the class of every pixel, `count × size²`.
    PixelClasses {
        /// Number of classes.
        classes: usize,
        /// Class indices.
        values: Vec<u32>,
    },
    /// `PixelEmbedding<E>`: the segment of every pixel, `count × size²` (ids are only compared).
    Segments {
        /// Segment ids.
        values: Vec<u32>,
    },
    /// `Classes<K>` (a distribution, one-hot for a hard label), `MultiLabel<K>` (0 or 1 per label),
    /// `Vector<N>`: `count × len` values.
    Image {
        /// Values per image.
        len: usize,
        /// The values.
        values: Vec<f32>,
    },
}

impl Labels {
    /// Number of samples, for images of side `size`.
    pub fn count(&self, size: usize) -> usize {
        let pixels = size * size;
        match self {
            Labels::Dense { channels, values } => values.len() / (pixels * channels).max(1),
            Labels::PixelClasses { values, .. } | Labels::Segments { values } => {
                values.len() / pixels.max(1)
            }
            Labels::Image { len, values } => values.len() / (*len).max(1),
        }
    }

    /// Checks that the labels have the form `task` declares.
    pub fn check(&self, task: &TaskSpec, size: usize, split: Split) -> Result<(), DataError> {
        let invalid = |message: String| DataError::Invalid {
            task: task.name.into(),
            split,
            message,
        };
        let shape = task.output;
        let fits = match (shape.kind, self) {
            (OutputKind::Dense, Labels::Dense { channels, .. }) => *channels == shape.size,
            (OutputKind::PixelClasses, Labels::PixelClasses { classes, values }) => {
                if let Some(bad) = values.iter().find(|&&v| v as usize >= *classes) {
                    return Err(invalid(format!("class {bad} is outside 0..{classes}")));
                }
                *classes == shape.size
            }
            (OutputKind::PixelEmbedding, Labels::Segments { .. }) => true,
            (
                OutputKind::Classes | OutputKind::MultiLabel | OutputKind::Vector,
                Labels::Image { len, .. },
            ) => *len == shape.size,
            _ => false,
        };
        if !fits {
            return Err(invalid(format!(
                "labels are {}, but the task declares output `{shape}`",
                self.describe()
            )));
        }
        let per_sample = match self {
            Labels::Dense { channels, .. } => size * size * channels,
            Labels::PixelClasses { .. } | Labels::Segments { .. } => size * size,
            Labels::Image { len, .. } => *len,
        };
        if self.len().checked_rem(per_sample.max(1)) != Some(0) {
            return Err(invalid(format!(
                "{} label values do not divide into samples of {per_sample}",
                self.len()
            )));
        }
        if let Labels::Dense { values, .. } | Labels::Image { values, .. } = self {
            if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                return Err(invalid(format!("label value {i} is not finite")));
            }
        }
        Ok(())
    }

    fn len(&self) -> usize {
        match self {
            Labels::Dense { values, .. } | Labels::Image { values, .. } => values.len(),
            Labels::PixelClasses { values, .. } | Labels::Segments { values } => values.len(),
        }
    }

    fn describe(&self) -> String {
        match self {
            Labels::Dense { channels, .. } => format!("dense with {channels} channels"),
            Labels::PixelClasses { classes, .. } => format!("pixel classes over {classes}"),
            Labels::Segments { .. } => "pixel segments".into(),
            Labels::Image { len, .. } => format!("image-level vectors of {len}"),
        }
    }
}

/// The samples of one task in one split.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskSamples {
    /// For every sample, the index of each of its views in the split's view table ([`Dataset::views`]);
    /// every sample has the task's number of views.
    pub views: Vec<Vec<usize>>,
    /// The task's input images, `samples × views` of them, views of a sample adjacent. Usually the
    /// views themselves; a task may see them altered (grey for colorization, noisy for denoising).
    pub inputs: Images,
    /// The labels.
    pub labels: Labels,
}

impl TaskSamples {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.views.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.views.is_empty()
    }

    /// Checks the samples against the task's declaration and the split's view table of `view_count`
    /// views.
    pub fn check(
        &self,
        task: &TaskSpec,
        size: usize,
        view_count: usize,
        split: Split,
    ) -> Result<(), DataError> {
        let invalid = |message: String| DataError::Invalid {
            task: task.name.into(),
            split,
            message,
        };
        if self.is_empty() {
            return Err(DataError::NoSamples {
                task: task.name.into(),
                split,
            });
        }
        if let Some(i) = self.views.iter().position(|v| v.len() != task.views) {
            return Err(invalid(format!(
                "sample {i} has {} views, the task declares {}",
                self.views[i].len(),
                task.views
            )));
        }
        if let Some(&bad) = self.views.iter().flatten().find(|&&v| v >= view_count) {
            return Err(invalid(format!(
                "view index {bad} is outside the split's {view_count} views"
            )));
        }
        if self.inputs.size != size || self.inputs.count() != self.len() * task.views {
            return Err(invalid(format!(
                "expected {} input images of {size}×{size}, found {} of {}×{}",
                self.len() * task.views,
                self.inputs.count(),
                self.inputs.size,
                self.inputs.size
            )));
        }
        self.labels.check(task, size, split)?;
        if self.labels.count(size) != self.len() {
            return Err(invalid(format!(
                "{} samples but {} labels",
                self.len(),
                self.labels.count(size)
            )));
        }
        Ok(())
    }
}

/// A source of training data.
pub trait Dataset {
    /// Side of every image.
    fn image_size(&self) -> usize;
    /// A string that changes whenever the data does (it enters every artifact key).
    fn fingerprint(&self) -> String;
    /// The clean RGB views of `split`, the table that [`TaskSamples::views`] indexes.
    fn views(&self, split: Split) -> Result<&Images, DataError>;
    /// The samples of `task` in `split`.
    fn samples(&self, task: &TaskSpec, split: Split) -> Result<&TaskSamples, DataError>;
}

/// Everything in memory: per split, a view table and the samples of every task (by task name).
#[derive(Clone, Debug, Default)]
pub struct InMemoryDataset {
    /// Side of every image.
    pub size: usize,
    /// Identifies the data in artifact keys.
    pub fingerprint: String,
    /// The view table of each split.
    pub views: BTreeMap<Split, Images>,
    /// The samples of each task (by canonical name) in each split.
    pub samples: BTreeMap<(Split, String), TaskSamples>,
}

impl Dataset for InMemoryDataset {
    fn image_size(&self) -> usize {
        self.size
    }

    fn fingerprint(&self) -> String {
        self.fingerprint.clone()
    }

    fn views(&self, split: Split) -> Result<&Images, DataError> {
        self.views.get(&split).ok_or_else(|| DataError::Invalid {
            task: "views".into(),
            split,
            message: "the dataset has no views in this split".into(),
        })
    }

    fn samples(&self, task: &TaskSpec, split: Split) -> Result<&TaskSamples, DataError> {
        self.samples
            .get(&(split, task.name.to_owned()))
            .ok_or_else(|| DataError::NoSamples {
                task: task.name.into(),
                split,
            })
    }
}
