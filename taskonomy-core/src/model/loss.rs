//! The declared losses, computed per image.
//!
//! Step III needs, for every network, one test loss per image (the tournament counts on how many images one
//! transfer beats another), so every loss here returns a `(batch,)` vector; training minimises its mean.
//!
//! Predictions and targets are compared as `(batch, positions, channels)`: positions are the pixels in
//! patch order ([`patch_order`](super::patch_order)) for per-pixel outputs, or a single position for
//! image-level ones.

use dfdx::prelude::*;

use super::kernels::{Distance, Kernels};
use super::{ModelError, OutputLayout};
use crate::spec::LossKind;

/// A prediction or a label block: `(batch, positions, channels)`.
pub type Block<D, T> = Tensor<(usize, usize, usize), f32, D, T>;

/// The margin of the contrastive loss: embeddings of different segments are pushed at least this far
/// apart (embeddings are unnormalised, so the margin sets their scale).
pub const CONTRASTIVE_MARGIN: f32 = 1.0;

/// Added under square roots so that their gradients stay finite at zero.
pub(crate) const SQRT_EPS: f32 = 1e-6;

/// A batch of labels on the device, in the form its loss needs.
pub enum Target<D: Device<f32>> {
    /// Regression values, class distributions or 0/1 labels, `(batch, positions, channels)`.
    Values(Block<D, NoneTape>),
    /// The class of every position, `(batch, positions)`.
    Classes(Tensor<(usize, usize), usize, D>),
    /// Contrastive pairs: `samples` picks positions of every image, `(batch, samples)`, and `same` says
    /// whether two samples belong to one segment, `(batch, samples, samples)`, 1 or 0.
    Pairs {
        /// Sampled positions per image.
        samples: Tensor<(usize, usize), usize, D>,
        /// Whether samples `i` and `j` of an image share a segment.
        same: Block<D, NoneTape>,
    },
}

impl<D: Device<f32>> Target<D> {
    fn batch(&self) -> usize {
        match self {
            Target::Values(t) => t.shape().0,
            Target::Classes(t) => t.shape().0,
            Target::Pairs { samples, .. } => samples.shape().0,
        }
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

/// The loss of every image of the batch: `(batch,)`.
///
/// | loss | per image |
/// |---|---|
/// | `L1`, `L2`, `Huber` (δ = 1) | mean over positions and channels of `|ŷ−y|`, `(ŷ−y)²`, Huber |
/// | `Cosine` | mean over positions of `1 − ŷ·y / (‖ŷ‖ ‖y‖)` |
/// | `CrossEntropy` | mean over positions of `−log softmax(ŷ)[y]`, or `−Σ y log softmax(ŷ)` for a distribution |
/// | `BinaryCrossEntropy` | mean over labels of the sigmoid cross-entropy |
/// | `Contrastive` | mean over sampled pairs of `d²` (same segment) or `max(0, m − d)²` (different), `d = ‖ŷᵢ − ŷⱼ‖` |
pub fn per_image_loss<D: Kernels, T: Tape<f32, D>>(
    loss: LossKind,
    pred: Block<D, T>,
    target: &Target<D>,
) -> Result<Tensor<(usize,), f32, D, T>, ModelError> {
    let (batch, positions, channels) = *pred.shape();
    if target.batch() != batch {
        return Err(ModelError::Batch(format!(
            "{loss}: prediction has {batch} images, labels {}",
            target.batch()
        )));
    }
    let mismatch = |found: String| {
        Err(ModelError::Batch(format!(
            "{loss}: prediction is ({batch}, {positions}, {channels}), labels {found}"
        )))
    };
    match (loss, target) {
        (
            LossKind::L1
            | LossKind::L2
            | LossKind::Huber
            | LossKind::Cosine
            | LossKind::CrossEntropy
            | LossKind::BinaryCrossEntropy,
            Target::Values(y),
        ) if y.shape() != pred.shape() => mismatch(format!("{:?}", y.shape())),
        (LossKind::L1 | LossKind::L2 | LossKind::Huber, Target::Values(y)) => {
            let kind = match loss {
                LossKind::L1 => Distance::L1,
                LossKind::L2 => Distance::L2,
                _ => Distance::Huber,
            };
            D::distance(pred, y, kind).map_err(ModelError::device)
        }
        (LossKind::Cosine, Target::Values(y)) => cosine(pred, y).map_err(ModelError::device),
        (LossKind::CrossEntropy, Target::Values(y)) => (|| {
            pred.try_log_softmax::<Axis<2>>()?
                .try_mul(y.clone())?
                .try_sum::<(usize, usize), Axis<2>>()?
                .try_negate()?
                .try_mean::<(usize,), Axis<1>>()
        })()
        .map_err(ModelError::device),
        (LossKind::CrossEntropy, Target::Classes(classes)) => {
            if classes.shape() != &(batch, positions) {
                return mismatch(format!("{:?} class indices", classes.shape()));
            }
            D::class_cross_entropy(pred, classes).map_err(ModelError::device)
        }
        (LossKind::BinaryCrossEntropy, Target::Values(y)) => pred
            .try_bce_with_logits(y.clone())
            .and_then(|d| d.try_mean::<(usize,), Axes2<1, 2>>())
            .map_err(ModelError::device),
        (LossKind::Contrastive, Target::Pairs { samples, same }) => {
            let k = samples.shape().1;
            if same.shape() != &(batch, k, k) {
                return mismatch(format!(
                    "{:?} samples with a {:?} pair mask",
                    samples.shape(),
                    same.shape()
                ));
            }
            contrastive(pred, samples, same).map_err(ModelError::device)
        }
        (_, Target::Values(_)) => mismatch("as values".into()),
        (_, Target::Classes(_)) => mismatch("as class indices".into()),
        (_, Target::Pairs { .. }) => mismatch("as contrastive pairs".into()),
    }
}

/// `1 − cos(ŷ, y)` over channels, averaged over positions.
fn cosine<D: Device<f32>, T: Tape<f32, D>>(
    pred: Block<D, T>,
    y: &Block<D, NoneTape>,
) -> Result<Tensor<(usize,), f32, D, T>, D::Err> {
    let dot = pred
        .with_empty_tape()
        .try_mul(y.clone())?
        .try_sum::<(usize, usize), Axis<2>>()?;
    let pred_norm = pred
        .try_square()?
        .try_sum::<(usize, usize), Axis<2>>()?
        .try_add(SQRT_EPS)?
        .try_sqrt()?;
    let label_norm = y
        .clone()
        .try_square()?
        .try_sum::<(usize, usize), Axis<2>>()?
        .try_add(SQRT_EPS)?
        .try_sqrt()?;
    dot.try_div(pred_norm)?
        .try_div(label_norm)?
        .try_negate()?
        .try_add(1.0)?
        .try_mean::<(usize,), Axis<1>>()
}

/// The contrastive loss on sampled positions (Hadsell, Chopra & LeCun, 2006).
fn contrastive<D: Device<f32>, T: Tape<f32, D>>(
    pred: Block<D, T>,
    samples: &Tensor<(usize, usize), usize, D>,
    same: &Block<D, NoneTape>,
) -> Result<Tensor<(usize,), f32, D, T>, D::Err> {
    let shape = *same.shape();
    // dfdx's backward of a binary op needs two distinct tensors, so the samples are gathered twice
    // (rows `i` and columns `j` of the distance matrix) rather than one tensor meeting itself.
    let rows = pred.with_empty_tape().try_gather(samples.clone())?;
    let cols = pred.try_gather(samples.clone())?;
    let row_squares = rows
        .with_empty_tape()
        .try_square()?
        .try_sum::<(usize, usize), Axis<2>>()?;
    let col_squares = cols
        .with_empty_tape()
        .try_square()?
        .try_sum::<(usize, usize), Axis<2>>()?;
    let gram = rows.try_matmul(cols.try_permute::<_, Axes3<0, 2, 1>>()?)?;
    let d2 = row_squares
        .try_broadcast_like::<_, Axis<2>>(&shape)?
        .try_add(col_squares.try_broadcast_like::<_, Axis<1>>(&shape)?)?
        .try_sub(gram.try_mul(2.0)?)?
        .try_relu()?;
    let pull = d2.with_empty_tape().try_mul(same.clone())?;
    let apart = d2
        .try_add(SQRT_EPS)?
        .try_sqrt()?
        .try_negate()?
        .try_add(CONTRASTIVE_MARGIN)?
        .try_relu()?
        .try_square()?;
    let different = same.clone().try_negate()?.try_add(1.0)?;
    pull.try_add(apart.try_mul(different)?)?
        .try_mean::<(usize,), Axes2<1, 2>>()
}
