//! From samples to device batches: inputs cut into patch tokens, labels laid out in the same patch order
//! and in the form each loss needs.

use dfdx::prelude::*;
use serde::{Deserialize, Serialize};

use super::data::{Images, Labels, Split, TaskSamples};
use crate::data::rng::Rng;
use crate::model::loss::Block;
use crate::model::{patch_order, patchify, Arch, Kernels, ModelError, OutputLayout, Target};
use crate::spec::{LossKind, OutputKind, TaskSpec};

/// Positions sampled per image for the contrastive loss (all pixels when the image has fewer).
pub const CONTRASTIVE_SAMPLES: usize = 64;

/// Per-channel offset and scale that bring regression labels to zero mean and unit variance, measured on
/// the task's training split, so that every task trains at the same learning rate whatever its units.
/// Every network of a target (its own, transfers, baselines) is scored with the same scaling.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabelScale {
    /// Mean per channel.
    pub mean: Vec<f32>,
    /// Standard deviation per channel (at least 1e-3 of the largest one, so constants do not explode).
    pub std: Vec<f32>,
}

impl LabelScale {
    /// The scaling a task's labels get: standardised per channel for distance losses on `Dense` and
    /// `Vector` outputs, none for everything else (directions, classes, segments).
    pub fn measure(task: &TaskSpec, train: &Labels) -> Option<LabelScale> {
        let regression = matches!(task.output.kind, OutputKind::Dense | OutputKind::Vector);
        let distance = matches!(task.loss, LossKind::L1 | LossKind::L2 | LossKind::Huber);
        let (channels, values) = match train {
            Labels::Dense { channels, values } => (*channels, values),
            Labels::Image { len, values } => (*len, values),
            _ => return None,
        };
        if !(regression && distance) || channels == 0 || values.is_empty() {
            return None;
        }
        let mut sum = vec![0f64; channels];
        let mut sq = vec![0f64; channels];
        let count = (values.len() / channels) as f64;
        for chunk in values.chunks_exact(channels) {
            for (c, &v) in chunk.iter().enumerate() {
                sum[c] += f64::from(v);
                sq[c] += f64::from(v) * f64::from(v);
            }
        }
        let mean: Vec<f64> = sum.iter().map(|s| s / count).collect();
        let std: Vec<f64> = sq
            .iter()
            .zip(&mean)
            .map(|(s, m)| (s / count - m * m).max(0.0).sqrt())
            .collect();
        let floor = std.iter().cloned().fold(0.0, f64::max).max(1e-6) * 1e-3;
        Some(LabelScale {
            mean: mean.iter().map(|&m| m as f32).collect(),
            std: std.iter().map(|&s| s.max(floor) as f32).collect(),
        })
    }

    fn apply(&self, values: &mut [f32]) {
        let channels = self.mean.len();
        for chunk in values.chunks_exact_mut(channels) {
            for (c, v) in chunk.iter_mut().enumerate() {
                *v = (*v - self.mean[c]) / self.std[c];
            }
        }
    }
}

/// Host-side targets of a task's samples, in patch order.
#[derive(Clone, Debug)]
pub enum HostTargets {
    /// `(samples, positions, channels)` values.
    Values {
        /// Positions per sample.
        positions: usize,
        /// Channels per position.
        channels: usize,
        /// The values.
        values: Vec<f32>,
    },
    /// The class of every position, `(samples, positions)`.
    Classes {
        /// Positions per sample.
        positions: usize,
        /// Class indices.
        values: Vec<usize>,
    },
    /// Contrastive pairs: sampled positions and whether two share a segment.
    Pairs {
        /// Samples per image.
        per_image: usize,
        /// `(samples, per_image)` positions.
        positions: Vec<usize>,
        /// `(samples, per_image, per_image)`: 1 for the same segment, else 0.
        same: Vec<f32>,
    },
}

impl HostTargets {
    /// Lays out `labels` for `task`'s loss. `seed` fixes which pixels the contrastive loss samples for
    /// each image (the same for every network that is scored on these images).
    pub fn new(
        task: &TaskSpec,
        labels: &Labels,
        arch: &Arch,
        scale: Option<&LabelScale>,
        seed: u64,
    ) -> Result<Self, ModelError> {
        let (size, patch) = (arch.image_size, arch.patch);
        let layout = OutputLayout::of(task.output);
        let positions = layout.positions(size);
        Ok(match (labels, task.loss) {
            (Labels::Dense { channels, values }, _) => {
                let mut values = patchify(values, *channels, size, patch);
                if let Some(scale) = scale {
                    scale.apply(&mut values);
                }
                HostTargets::Values {
                    positions,
                    channels: *channels,
                    values,
                }
            }
            (Labels::Image { len, values }, loss) => {
                let mut values = values.clone();
                if loss == LossKind::CrossEntropy {
                    // A distribution that does not sum to one (counts, unnormalised scores) is normalised.
                    for row in values.chunks_exact_mut(*len) {
                        let total: f32 = row.iter().sum();
                        if total > 0.0 {
                            row.iter_mut().for_each(|v| *v /= total);
                        }
                    }
                } else if let Some(scale) = scale {
                    scale.apply(&mut values);
                }
                HostTargets::Values {
                    positions: 1,
                    channels: *len,
                    values,
                }
            }
            (Labels::PixelClasses { values, .. }, _) => {
                let as_f32: Vec<f32> = values.iter().map(|&v| v as f32).collect();
                let ordered = patchify(&as_f32, 1, size, patch);
                HostTargets::Classes {
                    positions,
                    values: ordered.iter().map(|&v| v as usize).collect(),
                }
            }
            (Labels::Segments { values }, _) => {
                let pixels = size * size;
                let per_image = CONTRASTIVE_SAMPLES.min(pixels);
                let count = values.len() / pixels.max(1);
                let mut sampled = Vec::with_capacity(count * per_image);
                let mut same = Vec::with_capacity(count * per_image * per_image);
                for image in 0..count {
                    let segments = &values[image * pixels..(image + 1) * pixels];
                    let mut rng = Rng::new(seed, &[image as u64]);
                    let mut all: Vec<usize> = (0..pixels).collect();
                    rng.shuffle(&mut all);
                    let picked: Vec<usize> = all[..per_image].to_vec();
                    for &p in &picked {
                        let (row, col) = (p / size, p % size);
                        sampled.push(patch_order(row, col, size, patch));
                    }
                    for &a in &picked {
                        for &b in &picked {
                            same.push(if segments[a] == segments[b] { 1.0 } else { 0.0 });
                        }
                    }
                }
                HostTargets::Pairs {
                    per_image,
                    positions: sampled,
                    same,
                }
            }
        })
    }

    /// The device targets of the samples at `indices`.
    pub fn batch<D: Device<f32>>(
        &self,
        dev: &D,
        indices: &[usize],
    ) -> Result<Target<D>, ModelError> {
        fn pick<T: Copy>(values: &[T], per: usize, indices: &[usize]) -> Vec<T> {
            let mut out = Vec::with_capacity(indices.len() * per);
            for &i in indices {
                out.extend_from_slice(&values[i * per..(i + 1) * per]);
            }
            out
        }
        let b = indices.len();
        let target = match self {
            HostTargets::Values {
                positions,
                channels,
                values,
            } => Target::Values(
                dev.try_tensor_from_vec(
                    pick(values, positions * channels, indices),
                    (b, *positions, *channels),
                )
                .map_err(ModelError::device)?,
            ),
            HostTargets::Classes { positions, values } => Target::Classes(
                dev.try_tensor_from_vec(pick(values, *positions, indices), (b, *positions))
                    .map_err(ModelError::device)?,
            ),
            HostTargets::Pairs {
                per_image,
                positions,
                same,
            } => Target::Pairs {
                samples: dev
                    .try_tensor_from_vec(pick(positions, *per_image, indices), (b, *per_image))
                    .map_err(ModelError::device)?,
                same: dev
                    .try_tensor_from_vec(
                        pick(same, per_image * per_image, indices),
                        (b, *per_image, *per_image),
                    )
                    .map_err(ModelError::device)?,
            },
        };
        Ok(target)
    }
}

/// A head's output as the `(batch, positions, channels)` block its loss compares: per-pixel outputs
/// `(batch × tokens, patch² × channels)` are already in patch order, so this is a reshape.
pub fn output_block<D: Device<f32>, T: Tape<f32, D>>(
    out: Tensor<(usize, usize), f32, D, T>,
    batch: usize,
    layout: OutputLayout,
    image_size: usize,
) -> Result<Block<D, T>, ModelError> {
    let shape = (batch, layout.positions(image_size), layout.channels());
    if out.shape().0 * out.shape().1 != shape.0 * shape.1 * shape.2 {
        return Err(ModelError::Batch(format!(
            "head output {:?} does not hold {shape:?}",
            out.shape()
        )));
    }
    out.try_reshape_like(&shape).map_err(ModelError::device)
}

/// Where the input rows of a batch come from.
pub trait InputSource: Sync {
    /// Rows per sample (`views × tokens`, or `tokens` for a readout).
    fn rows_per_sample(&self) -> usize;
    /// Values per row.
    fn width(&self) -> usize;
    /// Number of samples.
    fn len(&self) -> usize;
    /// Whether there are no samples.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The rows of the samples at `indices`, row-major.
    fn rows(&self, indices: &[usize]) -> Vec<f32>;
}

/// The input rows of the samples at `indices` on `dev`: `(samples × rows per sample) × width`, the
/// counterpart of [`HostTargets::batch`].
pub fn input_batch<D: Kernels>(
    dev: &D,
    inputs: &dyn InputSource,
    indices: &[usize],
) -> Result<Tensor<(usize, usize), f32, D>, ModelError> {
    dev.try_tensor_from_vec(
        inputs.rows(indices),
        (indices.len() * inputs.rows_per_sample(), inputs.width()),
    )
    .map_err(ModelError::device)
}

/// Pixels cut into patch tokens, `[-1, 1]`-scaled: the input of a network trained from pixels.
pub struct PixelInputs {
    /// `(samples × views × tokens) × patch values`.
    pub tokens: Vec<f32>,
    /// `views × tokens`.
    pub rows_per_sample: usize,
    /// Patch values.
    pub width: usize,
}

impl PixelInputs {
    /// `inputs` (samples of `views` images each, views of a sample adjacent), patchified for `arch`.
    pub fn new(inputs: &Images, arch: &Arch, views: usize) -> Self {
        let mut tokens = patchify(&inputs.pixels, 3, arch.image_size, arch.patch);
        // Inputs centred on zero: pixel values in [0, 1] become [-1, 1].
        tokens.iter_mut().for_each(|v| *v = 2.0 * *v - 1.0);
        PixelInputs {
            tokens,
            rows_per_sample: views * arch.tokens(),
            width: arch.patch_values(),
        }
    }
}

impl InputSource for PixelInputs {
    fn rows_per_sample(&self) -> usize {
        self.rows_per_sample
    }
    fn width(&self) -> usize {
        self.width
    }
    fn len(&self) -> usize {
        self.tokens.len() / (self.rows_per_sample * self.width).max(1)
    }
    fn rows(&self, indices: &[usize]) -> Vec<f32> {
        let per = self.rows_per_sample * self.width;
        let mut out = Vec::with_capacity(indices.len() * per);
        for &i in indices {
            out.extend_from_slice(&self.tokens[i * per..(i + 1) * per]);
        }
        out
    }
}

/// Cached representations of one or more sources, gathered by view: the input of a readout. Row `n` of
/// a sample is the concatenation over sources, then over the sample's views, of token `n`'s
/// representation.
pub struct RepInputs<'a> {
    /// Per source: `(views of the split × tokens) × width` representations.
    pub reps: Vec<&'a [f32]>,
    /// The view indices of every sample.
    pub views: &'a [Vec<usize>],
    /// Tokens per image.
    pub tokens: usize,
    /// Channels of one representation token.
    pub rep_width: usize,
}

impl<'a> RepInputs<'a> {
    /// The representations `reps` (one slice per source, each `(views of the split × tokens) ×
    /// bottleneck`), gathered for samples seeing the views `views`.
    pub fn new(reps: Vec<&'a [f32]>, views: &'a [Vec<usize>], arch: &Arch) -> Self {
        RepInputs {
            reps,
            views,
            tokens: arch.tokens(),
            rep_width: arch.bottleneck,
        }
    }
}

impl InputSource for RepInputs<'_> {
    fn rows_per_sample(&self) -> usize {
        self.tokens
    }
    fn width(&self) -> usize {
        self.reps.len() * self.views.first().map_or(1, Vec::len) * self.rep_width
    }
    fn len(&self) -> usize {
        self.views.len()
    }
    fn rows(&self, indices: &[usize]) -> Vec<f32> {
        let w = self.rep_width;
        let mut out = Vec::with_capacity(indices.len() * self.tokens * self.width());
        for &i in indices {
            for n in 0..self.tokens {
                for reps in &self.reps {
                    for &view in &self.views[i] {
                        let at = (view * self.tokens + n) * w;
                        out.extend_from_slice(&reps[at..at + w]);
                    }
                }
            }
        }
        out
    }
}

/// The samples of `task` in `split`, checked.
pub fn load_samples<'d>(
    data: &'d dyn super::data::Dataset,
    task: &TaskSpec,
    split: Split,
) -> Result<&'d TaskSamples, super::TrainError> {
    let samples = data.samples(task, split)?;
    samples.check(task, data.image_size(), data.views(split)?.count(), split)?;
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three views of 2 tokens × 2 channels; value = 100·view + 10·token + channel.
    fn reps(offset: f32) -> Vec<f32> {
        (0..3)
            .flat_map(|v| {
                (0..2).flat_map(move |t| (0..2).map(move |c| (100 * v + 10 * t + c) as f32))
            })
            .map(|x| x + offset)
            .collect()
    }

    #[test]
    fn readout_rows_gather_each_tokens_sources_and_views() {
        let (a, b) = (reps(0.0), reps(0.5));
        let single_views = [vec![2], vec![0]];
        let one = RepInputs {
            reps: vec![&a],
            views: &single_views,
            tokens: 2,
            rep_width: 2,
        };
        assert_eq!(
            one.rows(&[0, 1]),
            [200.0, 201.0, 210.0, 211.0, 0.0, 1.0, 10.0, 11.0]
        );
        // Two sources of a two-view sample: per token, source a's views then source b's.
        let pairs = [vec![1, 2]];
        let two = RepInputs {
            reps: vec![&a, &b],
            views: &pairs,
            tokens: 2,
            rep_width: 2,
        };
        assert_eq!(two.width(), 8);
        assert_eq!(
            two.rows(&[0]),
            [
                100.0, 101.0, 200.0, 201.0, 100.5, 101.5, 200.5, 201.5, //
                110.0, 111.0, 210.0, 211.0, 110.5, 111.5, 210.5, 211.5,
            ]
        );
    }
}
