//! The best constant predictor of a task: what a network that ignores its input achieves at best, the
//! baseline every task network of step I must beat. A network that does not beat it has learnt nothing
//! about its input, and its encoder keeps nothing a transfer could use.
//!
//! "Constant" means one value per output position and channel, not one value for every pixel: for a
//! per-pixel output it is a constant *image* (the mean image under L2, the median image under L1). A
//! network can learn the mean image without looking at its input (its decoder's biases suffice), so a
//! baseline that leaves it out would count that as learning; with it, the baseline is the stronger and
//! the fairer one. Image-level outputs have a single position, so there it is one value per channel.
//!
//! Fitted on the training targets exactly as training prepares them (scaled, normalised, the same
//! contrastive pairs), per position `p` and channel `k`, over the `n` training images `i`:
//!
//! | loss | constant `c[p, k]` | why |
//! |---|---|---|
//! | `L2` | mean of `y[i, p, k]` | `Σᵢ (c − yᵢ)²` is least at the mean |
//! | `L1` | median of `y[i, p, k]` | `Σᵢ |c − yᵢ|` is least at a median |
//! | `Huber` (δ = 1) | root of `Σᵢ clamp(c − yᵢ, −1, 1) = 0` | the loss's derivative, by bisection |
//! | `CrossEntropy` | `ln f[p, k]`, `f` the class frequencies (mean distribution for soft labels) | Gibbs' inequality |
//! | `BinaryCrossEntropy` | `ln f / (1 − f)`, `f` the label frequency | as for cross-entropy, per label |
//! | `Cosine` | `Σᵢ yᵢ/‖yᵢ‖`, normalised (over channels) | maximises `Σᵢ cos(c, yᵢ)` |
//! | `Contrastive` | `s · (row, col)`, the scale `s ≥ 0` least on the training pairs | see below |
//!
//! Frequencies are shrunk towards a prior (uniform for an image-level output; for a per-pixel one,
//! the frequencies over all positions) by as many pseudo-images as leave-one-out on the training
//! images finds best. The exact training minimiser gives a class never seen in training probability 0,
//! and one such image at test time an infinite loss: a baseline every network would beat for nothing.
//! With a hundred classes and a hundred training images (jigsaw at the tiny preset) the raw frequencies
//! are mostly noise and the prior wins; with many images per class they are kept.
//!
//! The contrastive loss sees only distances `d` between the embeddings of sampled pixels: `d²` for a
//! pair of one segment, `max(0, m − d)²` for a pair of two. Every embedding equal (`d = 0`) pays `m²`
//! for every pair of different segments. A constant image does better by spreading pixels apart, since
//! pixels far apart rarely share a segment: the embedding `s · (row, col)` (pixel coordinates in the
//! first two channels), with the `s` that minimises the training loss (convex in `s`, found by
//! golden-section search on `[0, m]`; beyond `m` every pair of distinct pixels is already apart).
//! `s = 0` is "every embedding equal", so this baseline is never weaker than that one. The best constant
//! image overall is a metric-embedding problem (scaling the positions' same-segment frequencies) with no
//! closed form; this one's loss bounds it from above.
//!
//! ```
//! use taskonomy_core::model::device;
//! use taskonomy_core::model::OutputLayout;
//! use taskonomy_core::spec::LossKind;
//! use taskonomy_core::train::batch::HostTargets;
//! use taskonomy_core::train::{ConstantPredictor, Preset};
//!
//! // Three images labelled with two numbers each: under L1 the best constant is their median, (1, 20).
//! let targets = HostTargets::Values {
//!     positions: 1,
//!     channels: 2,
//!     values: vec![0.0, 10.0, 1.0, 20.0, 5.0, 30.0],
//! };
//! let arch = Preset::Tiny.settings().arch;
//! let layout = OutputLayout::PerImage { outputs: 2 };
//! let constant = ConstantPredictor::fit(LossKind::L1, layout, &arch, &targets).unwrap();
//! assert_eq!(constant.values, [1.0, 20.0]);
//! // Scored image by image with the networks' own loss code.
//! let losses = constant.per_image_losses(&device::cpu(), &targets, 64).unwrap();
//! assert_eq!(losses, [5.5, 0.0, 7.0]);
//! ```

use super::batch::HostTargets;
use super::TrainError;
use crate::model::loss::CONTRASTIVE_MARGIN;
use crate::model::{patch_pixel, per_image_loss, Arch, Kernels, ModelError, OutputLayout};
use crate::spec::LossKind;
use crate::uncertainty::median_in_place;

/// At most this many training images are used to fit a constant predictor: all of the `tiny` and
/// `small` presets' 3 000, and a bound on the memory its targets take with the `paper` preset's 20 000
/// (beyond a few thousand images, a constant's values hardly move: their error shrinks as 1/√n).
pub const CONSTANT_FIT_IMAGES: usize = 4096;

/// Bisection steps of the Huber constant: the bracket shrinks by 2⁻⁶⁰, far below f32 resolution.
const HUBER_STEPS: usize = 60;

/// Golden-section steps of the contrastive scale: the bracket `[0, m]` shrinks by 0.618⁸⁰.
const SCALE_STEPS: usize = 80;

/// Added to squared distances as the contrastive loss adds it, so that the fit sees the loss it scores.
const EPS: f64 = 1e-6;

/// The constant prediction that minimises a loss's mean over a task's training targets: one value per
/// output position and channel ([module docs](self)).
#[derive(Clone, Debug, PartialEq)]
pub struct ConstantPredictor {
    /// The loss it minimises.
    pub loss: LossKind,
    /// Positions of the output per image (pixels in patch order, or 1 for an image-level output).
    pub positions: usize,
    /// Values per position.
    pub channels: usize,
    /// The prediction, `(positions, channels)`, row-major: what the network's head would output for
    /// every image (logits for the cross-entropies, as the head's).
    pub values: Vec<f32>,
}

impl ConstantPredictor {
    /// The best constant for `loss` on `targets` (training targets as prepared for training), for a
    /// head of `layout` in networks of `arch`; an error when the targets are empty or do not fit the
    /// loss and the layout.
    pub fn fit(
        loss: LossKind,
        layout: OutputLayout,
        arch: &Arch,
        targets: &HostTargets,
    ) -> Result<Self, TrainError> {
        let images = targets.len();
        if images == 0 {
            return Err(TrainError::Config(format!(
                "{loss}: no training targets to fit a constant predictor on"
            )));
        }
        let (positions, channels) = (layout.positions(arch.image_size), layout.channels());
        let mismatch = |found: String| {
            Err(TrainError::Config(format!(
                "{loss}: a constant predictor of {positions} positions × {channels} channels cannot \
                 be fitted on {found}"
            )))
        };
        let values = match (loss, targets) {
            (
                _,
                HostTargets::Values {
                    positions: p,
                    channels: c,
                    ..
                },
            ) if (*p, *c) != (positions, channels) => {
                return mismatch(format!("targets of {p} positions × {c} channels"))
            }
            (_, HostTargets::Classes { positions: p, .. }) if *p != positions => {
                return mismatch(format!("class targets of {p} positions"))
            }
            (LossKind::L2, HostTargets::Values { values, .. }) => {
                per_column(values, images, |column| mean(column))
            }
            (LossKind::L1, HostTargets::Values { values, .. }) => {
                // A column holds one value per training image, and there is at least one.
                per_column(values, images, |column| {
                    median_in_place(column).unwrap_or_default()
                })
            }
            (LossKind::Huber, HostTargets::Values { values, .. }) => {
                per_column(values, images, huber_centre)
            }
            (LossKind::Cosine, HostTargets::Values { values, .. }) => {
                mean_direction(values, images, positions, channels)
            }
            (LossKind::CrossEntropy, HostTargets::Values { values, .. }) => {
                let counts = Counts::new(column_sums(values, images), images, channels, channels);
                counts.log_frequencies(|visit| {
                    for (at, &y) in values.iter().enumerate() {
                        if y != 0.0 {
                            visit(at % counts.sums.len(), f64::from(y));
                        }
                    }
                })
            }
            (LossKind::CrossEntropy, HostTargets::Classes { values, .. }) => {
                if let Some(class) = values.iter().find(|&&class| class >= channels) {
                    return mismatch(format!("class {class}"));
                }
                let at = |i: usize, class: usize| (i % positions) * channels + class;
                let mut sums = vec![0.0; positions * channels];
                for (i, &class) in values.iter().enumerate() {
                    sums[at(i, class)] += 1.0;
                }
                let counts = Counts::new(sums, images, channels, channels);
                counts.log_frequencies(|visit| {
                    for (i, &class) in values.iter().enumerate() {
                        visit(at(i, class), 1.0);
                    }
                })
            }
            (LossKind::BinaryCrossEntropy, HostTargets::Values { values, .. }) => {
                let counts = Counts::new(column_sums(values, images), images, channels, 2);
                counts.label_logits(|visit| {
                    for (at, &y) in values.iter().enumerate() {
                        visit(at % counts.sums.len(), f64::from(y));
                    }
                })
            }
            (
                LossKind::Contrastive,
                HostTargets::Pairs {
                    per_image,
                    positions: sampled,
                    same,
                },
            ) => scaled_grid(*per_image, sampled, same, arch, positions, channels),
            (_, HostTargets::Values { .. }) => return mismatch("value targets".into()),
            (_, HostTargets::Classes { .. }) => return mismatch("class targets".into()),
            (_, HostTargets::Pairs { .. }) => return mismatch("contrastive pairs".into()),
        };
        Ok(ConstantPredictor {
            loss,
            positions,
            channels,
            values,
        })
    }

    /// What the constant is, in words, for logs and reports: "the median image", "the class
    /// frequencies".
    pub fn describe(&self) -> &'static str {
        let image = self.positions > 1;
        match (self.loss, image) {
            (LossKind::L2, true) => "the mean image",
            (LossKind::L2, false) => "the mean label",
            (LossKind::L1, true) => "the median image",
            (LossKind::L1, false) => "the median label",
            (LossKind::Huber, true) => "the Huber centre of every pixel",
            (LossKind::Huber, false) => "the Huber centre of the labels",
            (LossKind::CrossEntropy, true) => "the class frequencies of every pixel",
            (LossKind::CrossEntropy, false) => "the class frequencies",
            (LossKind::BinaryCrossEntropy, _) => "the label frequencies",
            (LossKind::Cosine, true) => "the mean direction of every pixel",
            (LossKind::Cosine, false) => "the mean direction",
            (LossKind::Contrastive, _) => "the best scaled pixel grid",
        }
    }

    /// The output bias that starts a task's head at this constant, for a network of `tokens` tokens per
    /// image: the constant itself for an image-level head, its mean over tokens for a per-pixel head
    /// (whose bias is shared by every token's patch: `patch² × channels` values, the order of the
    /// constant's positions within a token). `None` for the contrastive loss, which only compares
    /// embeddings with each other.
    pub fn head_bias(&self, tokens: usize) -> Option<Vec<f32>> {
        if self.loss == LossKind::Contrastive || tokens == 0 {
            return None;
        }
        if self.positions == 1 {
            return Some(self.values.clone());
        }
        let per_token = self.values.len() / tokens;
        let mut bias = vec![0.0f32; per_token];
        for token in self.values.chunks_exact(per_token) {
            for (b, &v) in bias.iter_mut().zip(token) {
                *b += v / tokens as f32;
            }
        }
        Some(bias)
    }

    /// The loss of the constant on every image of `targets`, in order, computed by the code that scores
    /// the networks ([`per_image_loss`]) in batches of `batch_size`.
    pub fn per_image_losses<D: Kernels>(
        &self,
        dev: &D,
        targets: &HostTargets,
        batch_size: usize,
    ) -> Result<Vec<f32>, ModelError> {
        let all: Vec<usize> = (0..targets.len()).collect();
        let mut losses = Vec::with_capacity(all.len());
        for chunk in all.chunks(batch_size.max(1)) {
            let target = targets.batch(dev, chunk)?;
            let shape = (chunk.len(), self.positions, self.channels);
            let prediction = dev
                .try_tensor_from_vec(self.values.repeat(chunk.len()), shape)
                .map_err(ModelError::device)?;
            losses.extend(per_image_loss(self.loss, prediction, &target)?.as_vec());
        }
        Ok(losses)
    }
}

/// `f` of every column of `images` rows of `values` (each row an image's `positions × channels`), in
/// row order.
fn per_column(values: &[f32], images: usize, f: impl Fn(&mut [f64]) -> f64) -> Vec<f32> {
    let width = values.len() / images;
    let mut column = vec![0.0; images];
    (0..width)
        .map(|j| {
            for (i, v) in column.iter_mut().enumerate() {
                *v = f64::from(values[i * width + j]);
            }
            f(&mut column) as f32
        })
        .collect()
}

fn mean(column: &[f64]) -> f64 {
    column.iter().sum::<f64>() / column.len() as f64
}

/// The minimiser of `Σ huber(c − y)` (δ = 1): the root of its derivative `Σ clamp(c − y, −1, 1)`,
/// non-decreasing in `c`, bracketed by the smallest and the largest value.
fn huber_centre(column: &mut [f64]) -> f64 {
    let slope = |c: f64| {
        column
            .iter()
            .map(|&y| (c - y).clamp(-1.0, 1.0))
            .sum::<f64>()
    };
    let (mut lo, mut hi) = column
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &y| {
            (lo.min(y), hi.max(y))
        });
    for _ in 0..HUBER_STEPS {
        let mid = 0.5 * (lo + hi);
        if slope(mid) < 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Sums over images of every entry of `values` (`images` rows of equal width).
fn column_sums(values: &[f32], images: usize) -> Vec<f64> {
    let width = values.len() / images;
    let mut sums = vec![0.0; width];
    for row in values.chunks_exact(width) {
        for (sum, &v) in sums.iter_mut().zip(row) {
            *sum += f64::from(v);
        }
    }
    sums
}

/// How often each class (or label) occurs at each position of the training targets, and the
/// frequencies a constant predicts from that.
struct Counts {
    /// Training images.
    images: usize,
    /// Channels per position.
    channels: usize,
    /// Sum over images of every `(position, channel)` entry, `positions × channels`.
    sums: Vec<f64>,
    /// Frequency of every channel over all positions, add-one smoothed: the prior a position's
    /// frequencies shrink towards when the output is per pixel.
    pooled: Vec<f64>,
}

/// The shrinkage strengths tried, in pseudo-images: from almost none (the raw frequencies) to so many
/// that the frequencies are the prior's.
fn strengths() -> impl Iterator<Item = f64> {
    (-8..=40).map(|j| 2f64.powi(j))
}

impl Counts {
    /// The counts `sums` (`positions × channels`) of `images` training images, each position of each
    /// image an observation of one of `outcomes` outcomes (the classes, or on and off for a label).
    fn new(sums: Vec<f64>, images: usize, channels: usize, outcomes: usize) -> Self {
        let observations = (images * sums.len() / channels) as f64;
        let pooled = (0..channels)
            .map(|k| {
                let total: f64 = sums.iter().skip(k).step_by(channels).sum();
                (total + 1.0) / (observations + outcomes as f64)
            })
            .collect();
        Counts {
            images,
            channels,
            sums,
            pooled,
        }
    }

    /// The prior of entry `at`: uniform over `uniform` outcomes for an image-level output, the
    /// frequency over all positions for a per-pixel one.
    fn prior(&self, at: usize, uniform: f64) -> f64 {
        if self.sums.len() == self.channels {
            1.0 / uniform
        } else {
            self.pooled[at % self.channels]
        }
    }

    /// The frequencies `(S + α q) / (n + α)`: the counts `S` of `n` images shrunk by `α` pseudo-images
    /// towards the prior `q`, with the `α` whose leave-one-out loss `loo(α)` on the training images is
    /// least. The raw frequencies (α = 0) minimise the training loss itself, but give a class unseen in
    /// training probability 0, and a test image showing it an infinite loss: a baseline every network
    /// would beat for nothing. Leaving each image out in turn measures what a frequency learnt from the
    /// others costs on it, which is what the test images will see.
    fn shrunk(&self, uniform: f64, loo: impl Fn(f64) -> f64) -> Vec<f64> {
        let alpha = if self.images > 1 {
            strengths()
                .map(|alpha| (alpha, loo(alpha)))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map_or(1.0, |(alpha, _)| alpha)
        } else {
            1.0
        };
        let n = self.images as f64;
        self.sums
            .iter()
            .enumerate()
            .map(|(at, &s)| (s + alpha * self.prior(at, uniform)) / (n + alpha))
            .collect()
    }

    /// Cross-entropy: the logits `ln f` of the shrunk class frequencies (their softmax is `f`), from
    /// `targets`, which hands every non-zero target entry `(entry, y)` of every training image to its
    /// visitor.
    fn log_frequencies(&self, targets: impl Fn(&mut dyn FnMut(usize, f64))) -> Vec<f32> {
        let n = self.images as f64;
        let uniform = self.channels as f64;
        let loo = |alpha: f64| {
            let mut total = 0.0;
            targets(&mut |at, y| {
                let left = self.sums[at] - y + alpha * self.prior(at, uniform);
                total -= y * (left / (n - 1.0 + alpha)).ln();
            });
            total
        };
        self.shrunk(uniform, loo)
            .into_iter()
            .map(|f| f.ln() as f32)
            .collect()
    }

    /// Binary cross-entropy: the logit `ln f/(1 − f)` of every label's shrunk frequency (each label its
    /// own two-outcome problem, so an image-level prior of ½), from `targets`, which hands every target
    /// entry `(entry, y)` of every training image to its visitor.
    fn label_logits(&self, targets: impl Fn(&mut dyn FnMut(usize, f64))) -> Vec<f32> {
        let n = self.images as f64;
        let loo = |alpha: f64| {
            let mut total = 0.0;
            targets(&mut |at, y| {
                let q = self.prior(at, 2.0);
                let on = (self.sums[at] - y + alpha * q) / (n - 1.0 + alpha);
                let off = (n - self.sums[at] - (1.0 - y) + alpha * (1.0 - q)) / (n - 1.0 + alpha);
                total -= y * on.ln() + (1.0 - y) * off.ln();
            });
            total
        };
        self.shrunk(2.0, loo)
            .into_iter()
            .map(|f| (f / (1.0 - f)).ln() as f32)
            .collect()
    }
}

/// Cosine: at every position, the normalised sum of the unit labels (zero where they cancel out, which
/// scores a cosine of 0 like any other direction would on average).
fn mean_direction(values: &[f32], images: usize, positions: usize, channels: usize) -> Vec<f32> {
    let mut sums = vec![0.0f64; positions * channels];
    for (r, row) in values
        .chunks_exact(channels)
        .take(images * positions)
        .enumerate()
    {
        // The loss divides by √(‖y‖² + ε); so does the sum it maximises.
        let norm = (row.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() + EPS).sqrt();
        let at = (r % positions) * channels;
        for (sum, &v) in sums[at..at + channels].iter_mut().zip(row) {
            *sum += f64::from(v) / norm;
        }
    }
    sums.chunks_exact(channels)
        .flat_map(|direction| {
            let norm = direction.iter().map(|v| v * v).sum::<f64>().sqrt();
            let scale = if norm > 0.0 { 1.0 / norm } else { 0.0 };
            direction.iter().map(move |v| (v * scale) as f32)
        })
        .collect()
}

/// Contrastive: the embedding `s · (row, col)` of every pixel, with the best scale on the training
/// pairs ([module docs](self)).
fn scaled_grid(
    per_image: usize,
    sampled: &[usize],
    same: &[f32],
    arch: &Arch,
    positions: usize,
    channels: usize,
) -> Vec<f32> {
    // With a single channel, only the row.
    let coords = |p: usize| -> [f64; 2] {
        let (row, col) = patch_pixel(p, arch.image_size, arch.patch);
        [row as f64, if channels > 1 { col as f64 } else { 0.0 }]
    };
    // The pairs of every image by squared pixel distance r²: how many of one segment, how many of two.
    let side = arch.image_size;
    let mut one = vec![0.0f64; 2 * side * side + 1];
    let mut two = one.clone();
    for (k, image) in sampled.chunks_exact(per_image).enumerate() {
        let mask = &same[k * per_image * per_image..(k + 1) * per_image * per_image];
        for (a, &pa) in image.iter().enumerate() {
            let ca = coords(pa);
            for (b, &pb) in image.iter().enumerate() {
                let cb = coords(pb);
                let r2 = (ca[0] - cb[0]).powi(2) + (ca[1] - cb[1]).powi(2);
                let bin = r2 as usize;
                let s = f64::from(mask[a * per_image + b]);
                one[bin] += s;
                two[bin] += 1.0 - s;
            }
        }
    }
    let m = f64::from(CONTRASTIVE_MARGIN);
    let loss = |s: f64| -> f64 {
        one.iter()
            .zip(&two)
            .enumerate()
            .map(|(r2, (&one, &two))| {
                let d2 = s * s * r2 as f64;
                let apart = (m - (d2 + EPS).sqrt()).max(0.0);
                one * d2 + two * apart * apart
            })
            .sum::<f64>()
    };
    let s = golden_minimum(loss, 0.0, m);
    let s = if loss(s) < loss(0.0) { s } else { 0.0 };
    let mut values = vec![0.0f32; positions * channels];
    for (p, row) in values.chunks_exact_mut(channels).enumerate() {
        let c = coords(p);
        for (v, x) in row.iter_mut().zip(c) {
            *v = (s * x) as f32;
        }
    }
    values
}

/// The minimum of a convex `f` on `[lo, hi]`, by golden-section search.
fn golden_minimum(f: impl Fn(f64) -> f64, mut lo: f64, mut hi: f64) -> f64 {
    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    let (mut a, mut b) = (hi - ratio * (hi - lo), lo + ratio * (hi - lo));
    let (mut fa, mut fb) = (f(a), f(b));
    for _ in 0..SCALE_STEPS {
        if fa <= fb {
            hi = b;
            (b, fb) = (a, fa);
            a = hi - ratio * (hi - lo);
            fa = f(a);
        } else {
            lo = a;
            (a, fa) = (b, fb);
            b = lo + ratio * (hi - lo);
            fb = f(b);
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::rng::Rng;
    use crate::model::device::cpu;
    use crate::train::Preset;

    fn arch() -> Arch {
        Preset::Tiny.settings().arch
    }

    fn values(positions: usize, channels: usize, values: Vec<f32>) -> HostTargets {
        HostTargets::Values {
            positions,
            channels,
            values,
        }
    }

    fn fit(loss: LossKind, layout: OutputLayout, targets: &HostTargets) -> ConstantPredictor {
        ConstantPredictor::fit(loss, layout, &arch(), targets).unwrap()
    }

    /// The mean loss of `constant` on `targets`, through the networks' loss code.
    fn mean_loss(constant: &ConstantPredictor, targets: &HostTargets) -> f64 {
        let losses = constant.per_image_losses(&cpu(), targets, 7).unwrap();
        losses.iter().map(|&l| f64::from(l)).sum::<f64>() / losses.len() as f64
    }

    /// Whether moving any single value of `constant` by ±`step` raises its mean loss on `targets` (or
    /// lowers it by less than `slack`): the fitted constant is a minimum of the very loss the networks
    /// are scored with (frequencies up to their shrinkage, hence the slack).
    fn assert_local_minimum(
        constant: &ConstantPredictor,
        targets: &HostTargets,
        step: f32,
        slack: f64,
    ) {
        let best = mean_loss(constant, targets);
        for at in 0..constant.values.len() {
            for delta in [-step, step] {
                let mut moved = constant.clone();
                moved.values[at] += delta;
                let moved_loss = mean_loss(&moved, targets);
                assert!(
                    moved_loss >= best - slack,
                    "{}: moving value {at} by {delta} lowers the loss from {best} to {moved_loss}",
                    constant.loss
                );
            }
        }
    }

    /// `images` images of `positions × channels` values drawn around a different centre per entry.
    fn random_values(images: usize, positions: usize, channels: usize, seed: u64) -> Vec<f32> {
        let mut rng = Rng::new(seed, &[]);
        let centres: Vec<f64> = (0..positions * channels).map(|j| j as f64 - 1.0).collect();
        (0..images)
            .flat_map(|_| centres.clone())
            .map(|c| (c + 2.0 * rng.normal() + if rng.chance(0.2) { 6.0 } else { 0.0 }) as f32)
            .collect()
    }

    #[test]
    fn regression_constants_are_the_mean_median_and_huber_centre_of_every_pixel() {
        // Three images of two positions: every position has its own constant.
        let targets = values(2, 1, vec![0.0, 10.0, 1.0, 20.0, 5.0, 30.0]);
        let layout = OutputLayout::PerToken {
            tokens: 2,
            channels: 1,
        };
        assert_eq!(fit(LossKind::L2, layout, &targets).values, [2.0, 20.0]);
        assert_eq!(fit(LossKind::L1, layout, &targets).values, [1.0, 20.0]);
        // Four values, one an outlier: the mean is 2.5, the median 0, and the Huber centre solves
        // 3·c + (c − 10 clamped to −1) = 0, c = 1/3.
        let skewed = values(1, 1, vec![0.0, 0.0, 0.0, 10.0]);
        let one = OutputLayout::PerImage { outputs: 1 };
        assert_eq!(fit(LossKind::L1, one, &skewed).values, [0.0]);
        let huber = fit(LossKind::Huber, one, &skewed).values[0];
        assert!((huber - 1.0 / 3.0).abs() < 1e-6, "{huber}");
        // An even count: the midpoint of the middle two.
        assert_eq!(
            fit(LossKind::L1, one, &values(1, 1, vec![4.0, 1.0])).values,
            [2.5]
        );
    }

    #[test]
    fn every_fitted_constant_is_a_minimum_of_the_scored_loss() {
        let layout = OutputLayout::PerToken {
            tokens: 3,
            channels: 2,
        };
        let targets = values(3, 2, random_values(41, 3, 2, 1));
        for loss in [LossKind::L1, LossKind::L2, LossKind::Huber] {
            assert_local_minimum(&fit(loss, layout, &targets), &targets, 0.05, 1e-6);
        }
        // Directions: normals scattered around a different axis at each position.
        let directions = values(2, 3, random_values(40, 2, 3, 2));
        let three = OutputLayout::PerToken {
            tokens: 2,
            channels: 3,
        };
        let cosine = fit(LossKind::Cosine, three, &directions);
        assert_local_minimum(&cosine, &directions, 0.05, 1e-6);
        // Classes of 200 images at two positions, frequent enough that shrinkage hardly moves them.
        let mut rng = Rng::new(3, &[]);
        let classes: Vec<usize> = (0..400)
            .map(|i| {
                if i % 2 == 0 {
                    rng.weighted(&[5.0, 3.0, 2.0])
                } else {
                    rng.weighted(&[1.0, 1.0, 8.0])
                }
            })
            .collect();
        let classes = HostTargets::Classes {
            positions: 2,
            values: classes,
        };
        let ce = fit(LossKind::CrossEntropy, three, &classes);
        assert_local_minimum(&ce, &classes, 0.1, 1e-3);
        // 0/1 labels.
        let labels: Vec<f32> = (0..300)
            .map(|i| f32::from(u8::from(rng.chance([0.2, 0.7, 0.5][i % 3]))))
            .collect();
        let labels = values(1, 3, labels);
        let bce = fit(
            LossKind::BinaryCrossEntropy,
            OutputLayout::PerImage { outputs: 3 },
            &labels,
        );
        assert_local_minimum(&bce, &labels, 0.1, 1e-3);
    }

    #[test]
    fn cross_entropy_constants_are_log_frequencies_that_keep_unseen_classes_possible() {
        // 90 images of one position: class 0 sixty times, class 1 thirty, class 2 never.
        let classes = HostTargets::Classes {
            positions: 1,
            values: (0..90).map(|i| usize::from(i % 3 == 2)).collect(),
        };
        let constant = fit(
            LossKind::CrossEntropy,
            OutputLayout::PerImage { outputs: 3 },
            &classes,
        );
        let p: Vec<f64> = constant
            .values
            .iter()
            .map(|&l| f64::from(l).exp())
            .collect();
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-5, "{p:?}");
        assert!(
            (p[0] - 2.0 / 3.0).abs() < 0.02 && (p[1] - 1.0 / 3.0).abs() < 0.02,
            "{p:?}"
        );
        // Unseen in training, possible at test time: a finite loss.
        assert!(p[2] > 0.0 && p[2] < 0.02, "{p:?}");
        let unseen = HostTargets::Classes {
            positions: 1,
            values: vec![2],
        };
        assert!(constant.per_image_losses(&cpu(), &unseen, 8).unwrap()[0].is_finite());
        // Soft labels: the mean distribution.
        let soft = values(1, 2, [0.9, 0.1, 0.5, 0.5, 0.7, 0.3].repeat(20));
        let constant = fit(
            LossKind::CrossEntropy,
            OutputLayout::PerImage { outputs: 2 },
            &soft,
        );
        let p0 = f64::from(constant.values[0]).exp();
        assert!((p0 - 0.7).abs() < 0.01, "{p0}");
    }

    #[test]
    fn classes_seen_about_once_are_not_trusted() {
        // 100 images, each of a different class among 100 drawn uniformly: the raw frequencies say
        // 1/100 for the seen classes and 0 for the rest; leave-one-out finds the prior (uniform) better.
        let mut rng = Rng::new(9, &[]);
        let train = HostTargets::Classes {
            positions: 1,
            values: (0..100).map(|_| rng.below(100)).collect(),
        };
        let test = HostTargets::Classes {
            positions: 1,
            values: (0..1000).map(|_| rng.below(100)).collect(),
        };
        let constant = fit(
            LossKind::CrossEntropy,
            OutputLayout::PerImage { outputs: 100 },
            &train,
        );
        let uniform = 100f64.ln();
        let test_loss = mean_loss(&constant, &test);
        assert!(test_loss < uniform + 0.05, "{test_loss} vs {uniform}");
    }

    #[test]
    fn the_cosine_constant_is_the_normalised_mean_direction() {
        let targets = values(1, 3, vec![2.0, 0.0, 0.0, 0.0, 0.5, 0.0]);
        let constant = fit(
            LossKind::Cosine,
            OutputLayout::PerImage { outputs: 3 },
            &targets,
        );
        let h = std::f32::consts::FRAC_1_SQRT_2;
        for (got, want) in constant.values.iter().zip([h, h, 0.0]) {
            assert!((got - want).abs() < 1e-4, "{:?}", constant.values);
        }
    }

    /// Contrastive targets of `images` images of the tiny preset's size, whose segments are the left
    /// and the right half (when `halves`) or one segment for the whole image, all pixels sampled.
    fn pairs(images: usize, halves: bool) -> HostTargets {
        let arch = arch();
        let pixels = arch.image_size * arch.image_size;
        let segment = |p: usize| {
            let (_, col) = patch_pixel(p, arch.image_size, arch.patch);
            halves && col >= arch.image_size / 2
        };
        let per_image = pixels;
        let positions: Vec<usize> = (0..images).flat_map(|_| 0..pixels).collect();
        let mut same = Vec::new();
        for _ in 0..images {
            for a in 0..pixels {
                for b in 0..pixels {
                    same.push(if segment(a) == segment(b) { 1.0 } else { 0.0 });
                }
            }
        }
        HostTargets::Pairs {
            per_image,
            positions,
            same,
        }
    }

    #[test]
    fn a_constant_embedding_spreads_pixels_as_far_as_segments_reward() {
        let layout = OutputLayout::PerPixel { channels: 8 };
        // One segment everywhere: every embedding equal is best, and costs nothing.
        let one = pairs(2, false);
        let constant = fit(LossKind::Contrastive, layout, &one);
        assert!(constant.values.iter().all(|&v| v == 0.0));
        assert!(mean_loss(&constant, &one) < 1e-5);
        // Two halves: spreading columns apart beats every embedding equal (which pays m² for the half
        // of all pairs that straddle the halves).
        let halves = pairs(2, true);
        let constant = fit(LossKind::Contrastive, layout, &halves);
        let equal = ConstantPredictor {
            values: vec![0.0; constant.values.len()],
            ..constant.clone()
        };
        let (spread, flat) = (mean_loss(&constant, &halves), mean_loss(&equal, &halves));
        assert!((flat - 0.5).abs() < 0.01, "{flat}");
        assert!(spread < 0.8 * flat, "{spread} vs {flat}");
    }

    #[test]
    fn a_head_starts_at_the_constant_averaged_over_tokens() {
        // Two tokens of two pixels, one channel: the per-pixel bias is the mean of the tokens' constants.
        let constant = ConstantPredictor {
            loss: LossKind::L1,
            positions: 4,
            channels: 1,
            values: vec![1.0, 2.0, 3.0, 6.0],
        };
        assert_eq!(constant.head_bias(2), Some(vec![2.0, 4.0]));
        let image = ConstantPredictor {
            positions: 1,
            values: vec![0.5, -0.5],
            ..constant.clone()
        };
        assert_eq!(image.head_bias(2), Some(vec![0.5, -0.5]));
        let embedding = ConstantPredictor {
            loss: LossKind::Contrastive,
            ..constant
        };
        assert_eq!(embedding.head_bias(2), None);
    }

    #[test]
    fn targets_that_do_not_fit_are_an_error() {
        let layout = OutputLayout::PerPixel { channels: 1 };
        let empty = values(256, 1, Vec::new());
        assert!(ConstantPredictor::fit(LossKind::L2, layout, &arch(), &empty).is_err());
        let wrong = values(3, 1, vec![0.0; 6]);
        let error = ConstantPredictor::fit(LossKind::L2, layout, &arch(), &wrong).unwrap_err();
        assert!(error.to_string().contains("3 positions"), "{error}");
        let classes = HostTargets::Classes {
            positions: 1,
            values: vec![0, 5],
        };
        let image = OutputLayout::PerImage { outputs: 2 };
        assert!(ConstantPredictor::fit(LossKind::CrossEntropy, image, &arch(), &classes).is_err());
        assert!(ConstantPredictor::fit(LossKind::L1, image, &arch(), &classes).is_err());
    }
}
