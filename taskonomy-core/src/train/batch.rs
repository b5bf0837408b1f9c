//! From samples to batches: inputs cut into patch tokens, labels laid out in the same patch order and in
//! the form each loss needs, read from disk one batch at a time ([`PixelBatches`]) or gathered from
//! cached representations ([`RepBatches`]).

use dfdx::prelude::*;
use serde::{Deserialize, Serialize};

use super::data::{DataError, RunData, ViewTable};
use super::TrainError;
use crate::data::dataset::{SampleRef, Split};
use crate::data::labels::{Labels, RgbImage};
use crate::data::rng::Rng;
use crate::model::{patch_order, patchify, Arch, Kernels, ModelError, OutputLayout, Target};
use crate::spec::{LossKind, OutputKind, TaskDef, TaskSpec};

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
    /// Whether a task's labels are scaled: standardised per channel for distance losses on `Dense` and
    /// `Vector` outputs, never for anything else (directions, classes, segments).
    pub fn applies(task: &TaskSpec) -> bool {
        matches!(task.output.kind, OutputKind::Dense | OutputKind::Vector)
            && matches!(task.loss, LossKind::L1 | LossKind::L2 | LossKind::Huber)
    }

    /// The scaling of `task`'s labels measured on `samples` (its training split, read one after the
    /// other), or `None` when its labels are not scaled.
    pub fn measure(
        task: &TaskSpec,
        samples: impl IntoIterator<Item = Result<Labels, DataError>>,
    ) -> Result<Option<LabelScale>, DataError> {
        if !Self::applies(task) {
            return Ok(None);
        }
        let channels = task.output.size;
        let mut sum = vec![0f64; channels];
        let mut sq = vec![0f64; channels];
        let mut count = 0usize;
        for labels in samples {
            let (Labels::Dense { values, .. } | Labels::Image { values, .. }) = labels? else {
                continue;
            };
            for chunk in values.chunks_exact(channels) {
                for (c, &v) in chunk.iter().enumerate() {
                    sum[c] += f64::from(v);
                    sq[c] += f64::from(v) * f64::from(v);
                }
                count += 1;
            }
        }
        if count == 0 {
            return Ok(None);
        }
        let count = count as f64;
        let mean: Vec<f64> = sum.iter().map(|s| s / count).collect();
        let std: Vec<f64> = sq
            .iter()
            .zip(&mean)
            .map(|(s, m)| (s / count - m * m).max(0.0).sqrt())
            .collect();
        let floor = std.iter().cloned().fold(0.0, f64::max).max(1e-6) * 1e-3;
        Ok(Some(LabelScale {
            mean: mean.iter().map(|&m| m as f32).collect(),
            std: std.iter().map(|&s| s.max(floor) as f32).collect(),
        }))
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

/// How a task's labels become training targets: the scaling of its training split, and the seed that
/// fixes which pixel pairs the contrastive loss compares in each image (the same for every network
/// scored on these images).
#[derive(Clone, Copy, Debug)]
pub struct TargetPrep<'a> {
    /// The task.
    pub task: &'a TaskSpec,
    /// Sizes.
    pub arch: &'a Arch,
    /// Its label scaling.
    pub scale: Option<&'a LabelScale>,
    /// The seed of the sampled pixel pairs.
    pub seed: u64,
}

/// Host-side targets of some samples of a task, in patch order.
#[derive(Clone, Debug, PartialEq)]
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
    /// Lays out `labels` (of the samples numbered `images` in their split, one each) for the task's loss.
    pub fn new(prep: TargetPrep<'_>, labels: &Labels, images: &[usize]) -> Self {
        let (size, patch) = (prep.arch.image_size, prep.arch.patch);
        let positions = OutputLayout::of(prep.task.output).positions(size);
        match (labels, prep.task.loss) {
            (Labels::Dense { channels, values }, _) => {
                let mut values = patchify(values, *channels, size, patch);
                if let Some(scale) = prep.scale {
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
                } else if let Some(scale) = prep.scale {
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
                let mut sampled = Vec::with_capacity(images.len() * per_image);
                let mut same = Vec::with_capacity(images.len() * per_image * per_image);
                for (k, &image) in images.iter().enumerate() {
                    let segments = &values[k * pixels..(k + 1) * pixels];
                    let mut rng = Rng::new(prep.seed, &[image as u64]);
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
        }
    }

    /// Random labels of `images` images in the form `loss` compares for an output of `layout` (images
    /// of `image_size` pixels a side), drawn from `seed`: what a step is timed on when no data is read.
    pub fn random(
        loss: LossKind,
        layout: OutputLayout,
        image_size: usize,
        images: usize,
        seed: u64,
    ) -> HostTargets {
        let mut rng = Rng::new(seed, &[]);
        let positions = layout.positions(image_size);
        let channels = layout.channels();
        match loss {
            LossKind::CrossEntropy if matches!(layout, OutputLayout::PerPixel { .. }) => {
                HostTargets::Classes {
                    positions,
                    values: (0..images * positions)
                        .map(|_| rng.below(channels))
                        .collect(),
                }
            }
            LossKind::Contrastive => {
                let per_image = CONTRASTIVE_SAMPLES.min(positions);
                let mut sampled = Vec::with_capacity(images * per_image);
                let mut same = Vec::with_capacity(images * per_image * per_image);
                for _ in 0..images {
                    let mut pixels: Vec<usize> = (0..positions).collect();
                    rng.shuffle(&mut pixels);
                    let segments: Vec<usize> = (0..per_image).map(|_| rng.below(3)).collect();
                    sampled.extend_from_slice(&pixels[..per_image]);
                    for a in &segments {
                        for b in &segments {
                            same.push(f32::from(u8::from(a == b)));
                        }
                    }
                }
                HostTargets::Pairs {
                    per_image,
                    positions: sampled,
                    same,
                }
            }
            _ => HostTargets::Values {
                positions,
                channels,
                values: (0..images * positions * channels)
                    .map(|_| match loss {
                        LossKind::CrossEntropy => rng.range(0.0, 1.0) as f32,
                        LossKind::BinaryCrossEntropy => {
                            f32::from(u8::from(rng.range(0.0, 1.0) < 0.3))
                        }
                        _ => rng.normal() as f32,
                    })
                    .collect(),
            },
        }
    }

    /// The targets of the samples at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> HostTargets {
        fn pick<T: Copy>(values: &[T], per: usize, indices: &[usize]) -> Vec<T> {
            let mut out = Vec::with_capacity(indices.len() * per);
            for &i in indices {
                out.extend_from_slice(&values[i * per..(i + 1) * per]);
            }
            out
        }
        match self {
            HostTargets::Values {
                positions,
                channels,
                values,
            } => HostTargets::Values {
                positions: *positions,
                channels: *channels,
                values: pick(values, positions * channels, indices),
            },
            HostTargets::Classes { positions, values } => HostTargets::Classes {
                positions: *positions,
                values: pick(values, *positions, indices),
            },
            HostTargets::Pairs {
                per_image,
                positions,
                same,
            } => HostTargets::Pairs {
                per_image: *per_image,
                positions: pick(positions, *per_image, indices),
                same: pick(same, per_image * per_image, indices),
            },
        }
    }

    /// How many samples the targets hold.
    pub fn len(&self) -> usize {
        match self {
            HostTargets::Values {
                positions,
                channels,
                values,
            } => values.len() / (positions * channels).max(1),
            HostTargets::Classes { positions, values } => values.len() / (*positions).max(1),
            HostTargets::Pairs {
                per_image,
                positions,
                ..
            } => positions.len() / (*per_image).max(1),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The device targets of the samples at `indices`.
    pub fn batch<D: Device<f32>>(
        &self,
        dev: &D,
        indices: &[usize],
    ) -> Result<Target<D>, ModelError> {
        let b = indices.len();
        Ok(match self.select(indices) {
            HostTargets::Values {
                positions,
                channels,
                values,
            } => Target::Values(
                dev.try_tensor_from_vec(values, (b, positions, channels))
                    .map_err(ModelError::device)?,
            ),
            HostTargets::Classes { positions, values } => Target::Classes(
                dev.try_tensor_from_vec(values, (b, positions))
                    .map_err(ModelError::device)?,
            ),
            HostTargets::Pairs {
                per_image,
                positions,
                same,
            } => Target::Pairs {
                samples: dev
                    .try_tensor_from_vec(positions, (b, per_image))
                    .map_err(ModelError::device)?,
                same: dev
                    .try_tensor_from_vec(same, (b, per_image, per_image))
                    .map_err(ModelError::device)?,
            },
        })
    }
}

/// One batch on the host: the input rows of its samples and, for training and scoring, their targets.
#[derive(Clone, Debug, PartialEq)]
pub struct HostBatch {
    /// `(samples × rows per sample) × width`, row-major.
    pub rows: Vec<f32>,
    /// Rows per sample (`views × tokens`, or `tokens` for a readout).
    pub rows_per_sample: usize,
    /// Values per row.
    pub width: usize,
    /// The samples' targets, in the same order.
    pub targets: Option<HostTargets>,
}

impl HostBatch {
    /// Samples in the batch.
    pub fn len(&self) -> usize {
        self.rows.len() / (self.rows_per_sample * self.width).max(1)
    }

    /// Whether the batch is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The input rows of the samples at `positions` of the batch on `dev`:
    /// `(samples × rows per sample) × width`.
    pub fn rows_on<D: Kernels>(
        &self,
        dev: &D,
        positions: &[usize],
    ) -> Result<Tensor<(usize, usize), f32, D>, ModelError> {
        let per = self.rows_per_sample * self.width;
        let mut rows = Vec::with_capacity(positions.len() * per);
        for &i in positions {
            rows.extend_from_slice(&self.rows[i * per..(i + 1) * per]);
        }
        dev.try_tensor_from_vec(rows, (positions.len() * self.rows_per_sample, self.width))
            .map_err(ModelError::device)
    }
}

/// Where a network's batches come from: samples numbered `0..len()`, any of which a batch may hold.
pub trait BatchSource: Sync {
    /// Number of samples.
    fn len(&self) -> usize;
    /// Whether there are no samples.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The batch of the samples at `indices`, in that order.
    fn batch(&self, indices: &[usize]) -> Result<HostBatch, TrainError>;
}

/// Images as the encoder reads them: cut into patch tokens, values scaled from `[0, 1]` to `[-1, 1]`.
fn tokens_of(images: &[&RgbImage], arch: &Arch) -> Vec<f32> {
    let mut tokens = Vec::with_capacity(images.len() * arch.image_size * arch.image_size * 3);
    for image in images {
        tokens.extend(patchify(
            &image.interleaved(),
            3,
            arch.image_size,
            arch.patch,
        ));
    }
    // Inputs centred on zero: pixel values in [0, 1] become [-1, 1].
    tokens.iter_mut().for_each(|v| *v = 2.0 * *v - 1.0);
    tokens
}

/// How many bytes of prepared samples a [`PixelBatches`] keeps for the next epochs: a constant, so that
/// memory does not grow with the dataset. A single-view sample of the `small` preset (32×32) takes
/// 16–24 KiB with its labels, so most of its 3 000 training images (all of them for a task of one or two
/// label channels) are read once instead of at every epoch.
pub const SAMPLE_CACHE_BYTES: usize = 64 << 20;

/// A sample as a network trained from pixels reads it: its patch tokens and its label.
struct Prepared {
    tokens: Vec<f32>,
    labels: Labels,
}

impl Prepared {
    fn bytes(&self) -> usize {
        let labels = match &self.labels {
            Labels::Dense { values, .. } | Labels::Image { values, .. } => values.len(),
            Labels::PixelClasses { values, .. } | Labels::Segments { values } => values.len(),
        };
        4 * (self.tokens.len() + labels)
    }
}

/// Prepared samples kept while they fit in [`SAMPLE_CACHE_BYTES`]: the first ones read stay, later ones
/// are read again when drawn again.
#[derive(Default)]
struct SampleCache {
    kept: std::collections::HashMap<usize, std::sync::Arc<Prepared>>,
    bytes: usize,
}

/// Batches of a task's samples in a split, read from disk when drawn (and kept for the next epochs while
/// a constant budget lasts): the input of a network trained from pixels.
pub struct PixelBatches<'a> {
    data: &'a RunData,
    task: &'a TaskDef,
    split: Split,
    samples: &'a [SampleRef],
    targets: TargetPrep<'a>,
    cache: std::sync::Mutex<SampleCache>,
    /// At most [`SAMPLE_CACHE_BYTES`]; none for samples read once.
    cache_bytes: usize,
}

impl<'a> PixelBatches<'a> {
    /// The `samples` of `task` in `split` of `data` as the task's network sees them (its altered image for
    /// a `from_rgb` task, else its views), their labels laid out by `targets`.
    pub fn new(
        data: &'a RunData,
        task: &'a TaskDef,
        split: Split,
        samples: &'a [SampleRef],
        targets: TargetPrep<'a>,
    ) -> Self {
        PixelBatches {
            data,
            task,
            split,
            samples,
            targets,
            cache: std::sync::Mutex::new(SampleCache::default()),
            cache_bytes: SAMPLE_CACHE_BYTES,
        }
    }

    /// The same batches, keeping no sample: for samples read once (a network's test scores), whose
    /// cache would never be read.
    pub fn read_once(self) -> Self {
        PixelBatches {
            cache_bytes: 0,
            ..self
        }
    }

    /// Sample `i`, from the cache or read now (and kept if it fits).
    fn prepared(&self, i: usize) -> Result<std::sync::Arc<Prepared>, TrainError> {
        let cache = || self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(kept) = cache().kept.get(&i) {
            return Ok(kept.clone());
        }
        let sample = self.data.load(self.task, self.split, &self.samples[i])?;
        let images: Vec<&RgbImage> = sample.inputs().iter().collect();
        let prepared = std::sync::Arc::new(Prepared {
            tokens: tokens_of(&images, self.targets.arch),
            labels: sample.labels,
        });
        let mut cache = cache();
        let bytes = prepared.bytes();
        // A sample two threads missed at once is counted once.
        if cache.bytes + bytes <= self.cache_bytes
            && cache.kept.insert(i, prepared.clone()).is_none()
        {
            cache.bytes += bytes;
        }
        Ok(prepared)
    }
}

impl BatchSource for PixelBatches<'_> {
    fn len(&self) -> usize {
        self.samples.len()
    }

    fn batch(&self, indices: &[usize]) -> Result<HostBatch, TrainError> {
        let arch = self.targets.arch;
        let mut rows = Vec::new();
        let mut labels = Labels::empty(&self.task.spec);
        for &i in indices {
            let sample = self.prepared(i)?;
            rows.extend_from_slice(&sample.tokens);
            append_labels(&mut labels, sample.labels.clone(), &self.task.spec)?;
        }
        Ok(HostBatch {
            rows,
            rows_per_sample: self.task.spec.views * arch.tokens(),
            width: arch.patch_values(),
            targets: Some(HostTargets::new(self.targets, &labels, indices)),
        })
    }
}

/// The clean views of a table, one after the other: the input of an encoder whose representations are
/// cached.
pub struct ViewBatches<'a> {
    /// The run's data.
    pub data: &'a RunData,
    /// The views.
    pub views: &'a ViewTable,
    /// Sizes.
    pub arch: &'a Arch,
}

impl BatchSource for ViewBatches<'_> {
    fn len(&self) -> usize {
        self.views.len()
    }

    fn batch(&self, indices: &[usize]) -> Result<HostBatch, TrainError> {
        let mut rows = Vec::new();
        for &i in indices {
            let (building, key) = self.views.views()[i];
            let image = self
                .data
                .dataset()
                .read_rgb(building, key)
                .map_err(DataError::from)?;
            rows.extend(tokens_of(&[&image], self.arch));
        }
        Ok(HostBatch {
            rows,
            rows_per_sample: self.arch.tokens(),
            width: self.arch.patch_values(),
            targets: None,
        })
    }
}

/// Cached representations of one or more sources, gathered by view: the input of a readout. Row `n` of
/// a sample is the concatenation over sources, then over the sample's views, of token `n`'s
/// representation.
pub struct RepBatches<'a> {
    /// Per source: `(views of the table × tokens) × width` representations.
    pub reps: Vec<&'a [f32]>,
    /// The rows (in the representations' view table) of every sample's views.
    pub views: &'a [Vec<usize>],
    /// Tokens per image.
    pub tokens: usize,
    /// Channels of one representation token.
    pub rep_width: usize,
    /// The samples' targets, all of them.
    pub targets: Option<&'a HostTargets>,
}

impl<'a> RepBatches<'a> {
    /// The representations `reps` (one slice per source) gathered for samples seeing the views `views`,
    /// with their `targets`.
    pub fn new(
        reps: Vec<&'a [f32]>,
        views: &'a [Vec<usize>],
        arch: &Arch,
        targets: Option<&'a HostTargets>,
    ) -> Self {
        RepBatches {
            reps,
            views,
            tokens: arch.tokens(),
            rep_width: arch.bottleneck,
            targets,
        }
    }

    /// Values per row.
    pub fn width(&self) -> usize {
        self.reps.len() * self.views.first().map_or(1, Vec::len) * self.rep_width
    }

    /// The input rows of the samples at `indices`: `(samples × tokens) × width`.
    pub fn rows(&self, indices: &[usize]) -> Vec<f32> {
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

impl BatchSource for RepBatches<'_> {
    fn len(&self) -> usize {
        self.views.len()
    }

    fn batch(&self, indices: &[usize]) -> Result<HostBatch, TrainError> {
        Ok(HostBatch {
            rows: self.rows(indices),
            rows_per_sample: self.tokens,
            width: self.width(),
            targets: self.targets.map(|t| t.select(indices)),
        })
    }
}

/// Appends one sample's labels to a batch's, which checked that they are `task`'s.
fn append_labels(labels: &mut Labels, sample: Labels, task: &TaskSpec) -> Result<(), TrainError> {
    labels
        .append(sample)
        .map_err(|e| TrainError::Config(format!("`{}`: {e}", task.name)))
}

/// The labels of every sample of `task` in `split`, as targets laid out by `prep`: what the readouts of
/// a target train and are scored on. Held in memory: a split holds at most the preset's few thousand
/// samples.
pub fn split_targets(
    data: &RunData,
    task: &TaskDef,
    split: Split,
    prep: TargetPrep<'_>,
) -> Result<HostTargets, TrainError> {
    let images: Vec<usize> = (0..data.samples(task.spec.name, split)?.len()).collect();
    split_targets_of(data, task, split, prep, &images)
}

/// The targets of the samples numbered `images` of `task` in `split`, in that order, laid out by `prep`
/// exactly as a batch of those samples lays them out (the same contrastive pairs of each image).
pub fn split_targets_of(
    data: &RunData,
    task: &TaskDef,
    split: Split,
    prep: TargetPrep<'_>,
    images: &[usize],
) -> Result<HostTargets, TrainError> {
    let samples = data.samples(task.spec.name, split)?;
    let mut labels = Labels::empty(&task.spec);
    for &image in images {
        let sample = samples.get(image).ok_or_else(|| {
            TrainError::Config(format!(
                "`{}`: no sample {image} in the {} split of {}",
                task.spec.name,
                split.name(),
                samples.len()
            ))
        })?;
        append_labels(
            &mut labels,
            data.load_labels(task, split, sample)?,
            &task.spec,
        )?;
    }
    Ok(HostTargets::new(prep, &labels, images))
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

    fn rep_batches<'a>(reps: Vec<&'a [f32]>, views: &'a [Vec<usize>]) -> RepBatches<'a> {
        RepBatches {
            reps,
            views,
            tokens: 2,
            rep_width: 2,
            targets: None,
        }
    }

    #[test]
    fn readout_rows_gather_each_tokens_sources_and_views() {
        let (a, b) = (reps(0.0), reps(0.5));
        let single_views = [vec![2], vec![0]];
        let one = rep_batches(vec![&a], &single_views);
        assert_eq!(
            one.batch(&[0, 1]).unwrap().rows,
            [200.0, 201.0, 210.0, 211.0, 0.0, 1.0, 10.0, 11.0]
        );
        // Two sources of a two-view sample: per token, source a's views then source b's.
        let pairs = [vec![1, 2]];
        let two = rep_batches(vec![&a, &b], &pairs);
        assert_eq!(two.width(), 8);
        assert_eq!(
            two.batch(&[0]).unwrap().rows,
            [
                100.0, 101.0, 200.0, 201.0, 100.5, 101.5, 200.5, 201.5, //
                110.0, 111.0, 210.0, 211.0, 110.5, 111.5, 210.5, 211.5,
            ]
        );
    }

    #[test]
    fn targets_are_selected_sample_by_sample() {
        let targets = HostTargets::Values {
            positions: 2,
            channels: 1,
            values: vec![0.0, 1.0, 10.0, 11.0, 20.0, 21.0],
        };
        assert_eq!(targets.len(), 3);
        assert_eq!(
            targets.select(&[2, 0]),
            HostTargets::Values {
                positions: 2,
                channels: 1,
                values: vec![20.0, 21.0, 0.0, 1.0]
            }
        );
    }

    #[test]
    fn label_scales_standardise_each_channel() {
        let spec = crate::spec::TaskSpec {
            output: crate::spec::OutputShape::new(OutputKind::Vector, 2),
            loss: LossKind::L2,
            ..crate::spec::tests::spec("v")
        };
        let samples = [[1.0, 10.0], [3.0, 10.0]].map(|v| {
            Ok(Labels::Image {
                len: 2,
                values: v.to_vec(),
            })
        });
        let scale = LabelScale::measure(&spec, samples).unwrap().unwrap();
        assert_eq!(scale.mean, [2.0, 10.0]);
        assert_eq!(scale.std[0], 1.0);
        // A constant channel keeps a small, finite scale.
        assert!(scale.std[1] > 0.0 && scale.std[1] < 0.01);
        let classes = crate::spec::TaskSpec {
            loss: LossKind::CrossEntropy,
            output: crate::spec::OutputShape::new(OutputKind::Classes, 2),
            ..spec
        };
        assert_eq!(LabelScale::measure(&classes, []).unwrap(), None);
    }
}
