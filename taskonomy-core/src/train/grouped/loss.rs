//! The declared losses on the host, per image, with their gradients: what grouped readouts train on.
//!
//! Each loss follows the dfdx composition of [`crate::model::per_image_loss`] operation by operation (the
//! same ε under square roots, the same margin, the same derivative where an operation has a kink), so a
//! readout trained here and one trained through dfdx's tape see the same loss up to the order of floating
//! point sums. The test of the parent module measures how far apart that leaves them.

use crate::model::kernels::gemm::{matmul, Strided};
use crate::model::kernels::Distance;
use crate::model::loss::{CONTRASTIVE_MARGIN, SQRT_EPS};
use crate::model::ModelError;
use crate::spec::LossKind;
use crate::train::batch::HostTargets;

/// Predictions of a batch, `(images, positions, channels)` row-major. For the contrastive loss the
/// positions are the sampled pixels of each image (its targets' `positions`), not all of them.
#[derive(Clone, Copy, Debug)]
pub(super) struct Predictions<'a> {
    pub(super) values: &'a [f32],
    pub(super) images: usize,
    pub(super) positions: usize,
    pub(super) channels: usize,
}

/// Every image's loss and, when asked for, the gradient of `scale × Σ losses` with respect to the
/// predictions (same layout as the predictions).
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Scored {
    pub(super) losses: Vec<f32>,
    pub(super) gradient: Option<Vec<f32>>,
}

/// The loss of every image of `pred` against `target`, and with `scale` the gradient of `scale × Σ
/// losses`.
pub(super) fn per_image(
    loss: LossKind,
    pred: Predictions<'_>,
    target: &HostTargets,
    scale: Option<f32>,
) -> Result<Scored, ModelError> {
    let Predictions {
        values,
        images,
        positions,
        channels,
    } = pred;
    let per_image = positions * channels;
    if values.len() != images * per_image || target.len() != images {
        return Err(mismatch(loss, pred, target));
    }
    let mut gradient = scale.map(|_| vec![0.0f32; values.len()]);
    let scale = scale.unwrap_or(0.0);
    let mut losses = Vec::with_capacity(images);
    for b in 0..images {
        let p = &values[b * per_image..(b + 1) * per_image];
        let g = gradient
            .as_mut()
            .map(|g| &mut g[b * per_image..(b + 1) * per_image]);
        let value = match (loss, target) {
            (
                LossKind::L1 | LossKind::L2 | LossKind::Huber,
                HostTargets::Values { values: y, .. },
            ) if y.len() == values.len() => {
                let kind = match loss {
                    LossKind::L1 => Distance::L1,
                    LossKind::L2 => Distance::L2,
                    _ => Distance::Huber,
                };
                distance(kind, p, &y[b * per_image..(b + 1) * per_image], g, scale)
            }
            (LossKind::Cosine, HostTargets::Values { values: y, .. })
                if y.len() == values.len() =>
            {
                cosine(
                    p,
                    &y[b * per_image..(b + 1) * per_image],
                    channels,
                    g,
                    scale,
                )
            }
            (LossKind::CrossEntropy, HostTargets::Values { values: y, .. })
                if y.len() == values.len() =>
            {
                let y = &y[b * per_image..(b + 1) * per_image];
                cross_entropy(
                    p,
                    channels,
                    |position, c| y[position * channels + c],
                    g,
                    scale,
                )
            }
            (LossKind::CrossEntropy, HostTargets::Classes { values: y, .. })
                if y.len() == images * positions && y.iter().all(|&k| k < channels) =>
            {
                class_cross_entropy(
                    p,
                    channels,
                    &y[b * positions..(b + 1) * positions],
                    g,
                    scale,
                )
            }
            (LossKind::BinaryCrossEntropy, HostTargets::Values { values: y, .. })
                if y.len() == values.len() =>
            {
                binary_cross_entropy(p, &y[b * per_image..(b + 1) * per_image], g, scale)
            }
            (
                LossKind::Contrastive,
                HostTargets::Pairs {
                    per_image: samples,
                    same,
                    ..
                },
            ) if *samples == positions && same.len() == images * positions * positions => {
                let pairs = positions * positions;
                contrastive(p, channels, &same[b * pairs..(b + 1) * pairs], g, scale)
            }
            _ => return Err(mismatch(loss, pred, target)),
        };
        losses.push(value);
    }
    Ok(Scored { losses, gradient })
}

fn mismatch(loss: LossKind, pred: Predictions<'_>, target: &HostTargets) -> ModelError {
    let labels = match target {
        HostTargets::Values {
            positions,
            channels,
            ..
        } => format!(
            "{} images of {positions} positions × {channels} values",
            target.len()
        ),
        HostTargets::Classes { positions, .. } => {
            format!("{} images of {positions} class indices", target.len())
        }
        HostTargets::Pairs { per_image, .. } => {
            format!("{} images of {per_image} contrastive samples", target.len())
        }
    };
    ModelError::Batch(format!(
        "{loss}: predictions ({}, {}, {}) do not fit labels of {labels}",
        pred.images, pred.positions, pred.channels
    ))
}

/// Mean element-wise distance over the image's values.
fn distance(kind: Distance, p: &[f32], y: &[f32], g: Option<&mut [f32]>, scale: f32) -> f32 {
    let n = p.len().max(1) as f32;
    match g {
        None => p.iter().zip(y).map(|(p, y)| kind.of(p - y).0).sum::<f32>() / n,
        Some(g) => {
            let per_value = scale / n;
            let mut sum = 0.0f32;
            for ((g, p), y) in g.iter_mut().zip(p).zip(y) {
                let (value, slope) = kind.of(p - y);
                sum += value;
                *g = slope * per_value;
            }
            sum / n
        }
    }
}

/// Mean over positions of `1 − ŷ·y / (‖ŷ‖ ‖y‖)`, each norm `√(Σ v² + ε)`.
fn cosine(p: &[f32], y: &[f32], channels: usize, mut g: Option<&mut [f32]>, scale: f32) -> f32 {
    let positions = p.len() / channels.max(1);
    let per_position = scale / positions.max(1) as f32;
    let mut total = 0.0f32;
    for k in 0..positions {
        let (pk, yk) = (
            &p[k * channels..(k + 1) * channels],
            &y[k * channels..(k + 1) * channels],
        );
        let dot: f32 = pk.iter().zip(yk).map(|(a, b)| a * b).sum();
        let pn = (pk.iter().map(|v| v * v).sum::<f32>() + SQRT_EPS).sqrt();
        let yn = (yk.iter().map(|v| v * v).sum::<f32>() + SQRT_EPS).sqrt();
        total += 1.0 - dot / pn / yn;
        if let Some(g) = g.as_deref_mut() {
            // d(−ŷ·y / (‖ŷ‖ ‖y‖))/dŷ = −y / (‖ŷ‖ ‖y‖) + (ŷ·y) ŷ / (‖ŷ‖³ ‖y‖).
            let gk = &mut g[k * channels..(k + 1) * channels];
            for ((g, a), b) in gk.iter_mut().zip(pk).zip(yk) {
                *g = per_position * (-b / (pn * yn) + dot * a / (pn * pn * pn * yn));
            }
        }
    }
    total / positions.max(1) as f32
}

/// Mean over positions of `−Σ_c y_c log softmax(ŷ)_c`, the label of channel `c` at a position given by
/// `label` (a distribution, or a class as one-hot).
fn cross_entropy(
    p: &[f32],
    channels: usize,
    label: impl Fn(usize, usize) -> f32,
    mut g: Option<&mut [f32]>,
    scale: f32,
) -> f32 {
    let positions = p.len() / channels.max(1);
    let per_position = scale / positions.max(1) as f32;
    let mut total = 0.0f32;
    // `exp(ŷ_c − max)` of one position: the softmax's numerators, computed once for the loss and the
    // gradient.
    let mut shifted = vec![0.0f32; channels];
    for k in 0..positions {
        let pk = &p[k * channels..(k + 1) * channels];
        let max = pk.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        for (e, v) in shifted.iter_mut().zip(pk) {
            *e = (v - max).exp();
        }
        let sum: f32 = shifted.iter().sum();
        let lse = max + sum.ln();
        let mut mass = 0.0f32;
        let mut value = 0.0f32;
        for (c, v) in pk.iter().enumerate() {
            let y = label(k, c);
            value -= y * (v - lse);
            mass += y;
        }
        total += value;
        if let Some(g) = g.as_deref_mut() {
            // d/dŷ_c = softmax(ŷ)_c Σ y − y_c.
            let gk = &mut g[k * channels..(k + 1) * channels];
            for (c, (g, e)) in gk.iter_mut().zip(&shifted).enumerate() {
                *g = per_position * (e / sum * mass - label(k, c));
            }
        }
    }
    total / positions.max(1) as f32
}

/// Mean over positions of `−log softmax(ŷ)_y`, `y` the position's class: [`cross_entropy`] with one-hot
/// labels, written for them (the loss of the pixel-class heads, the costliest after the contrastive).
fn class_cross_entropy(
    p: &[f32],
    channels: usize,
    classes: &[usize],
    mut g: Option<&mut [f32]>,
    scale: f32,
) -> f32 {
    let per_position = scale / classes.len().max(1) as f32;
    let mut total = 0.0f32;
    let mut shifted = vec![0.0f32; channels];
    for (k, (pk, &class)) in p.chunks_exact(channels.max(1)).zip(classes).enumerate() {
        let max = pk.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        for (e, v) in shifted.iter_mut().zip(pk) {
            *e = (v - max).exp();
        }
        let sum: f32 = shifted.iter().sum();
        total += max + sum.ln() - pk[class];
        if let Some(g) = g.as_deref_mut() {
            // softmax(ŷ) − onehot(y).
            let gk = &mut g[k * channels..(k + 1) * channels];
            let share = per_position / sum;
            for (g, e) in gk.iter_mut().zip(&shifted) {
                *g = e * share;
            }
            gk[class] -= per_position;
        }
    }
    total / classes.len().max(1) as f32
}

/// Mean over values of the sigmoid cross-entropy `max(x, 0) − x y + ln(1 + e^−|x|)`.
fn binary_cross_entropy(p: &[f32], y: &[f32], g: Option<&mut [f32]>, scale: f32) -> f32 {
    let n = p.len().max(1) as f32;
    let sum: f32 = p
        .iter()
        .zip(y)
        .map(|(&x, &y)| x.max(0.0) - x * y + (1.0 + (-x.abs()).exp()).ln())
        .sum();
    if let Some(g) = g {
        for ((g, &x), &y) in g.iter_mut().zip(p).zip(y) {
            // σ(x) − y, written as dfdx writes it.
            *g = scale / n * (1.0 - y - (1.0 + x.exp()).recip());
        }
    }
    sum / n
}

/// The contrastive loss of one image's `samples × channels` embeddings: the mean over sample pairs of
/// `d²` (same segment) or `max(0, m − d)²` (different), `d² = max(0, ‖e_i‖² + ‖e_j‖² − 2 e_i·e_j)` and
/// `d = √(d² + ε)`.
fn contrastive(e: &[f32], channels: usize, same: &[f32], g: Option<&mut [f32]>, scale: f32) -> f32 {
    let samples = e.len() / channels.max(1);
    let pairs = (samples * samples).max(1) as f32;
    let embeddings = Strided::rows(e, samples, channels);
    let squares: Vec<f32> = e
        .chunks_exact(channels.max(1))
        .map(|row| row.iter().map(|v| v * v).sum())
        .collect();
    let mut gram = vec![0.0f32; samples * samples];
    matmul(&mut gram, embeddings, embeddings.t(), false);
    let mut total = 0.0f32;
    // d loss / d d²ᵢⱼ, zero where the `max(0, ·)` of d² is not passing.
    let mut slope = vec![0.0f32; samples * samples];
    for (ij, (dot, slope)) in gram.iter().zip(&mut slope).enumerate() {
        let (i, j) = (ij / samples, ij % samples);
        let raw = squares[i] + squares[j] - 2.0 * dot;
        let d2 = raw.max(0.0);
        let s = same[ij];
        let d = (d2 + SQRT_EPS).sqrt();
        let apart = (CONTRASTIVE_MARGIN - d).max(0.0);
        total += d2 * s + apart * apart * (1.0 - s);
        if raw > 0.0 {
            *slope = s - (1.0 - s) * apart / d;
        }
    }
    if let Some(g) = g {
        // d²ᵢⱼ moves with eᵢ and eⱼ alike: dL/deᵢ = 2 Σⱼ Aᵢⱼ (eᵢ − eⱼ) with A = S + Sᵀ (S the slopes),
        // that is 2 (rowsum(A)ᵢ eᵢ − (A E)ᵢ).
        let factor = 2.0 * scale / pairs;
        let mut a = vec![0.0f32; samples * samples];
        for i in 0..samples {
            for j in 0..samples {
                a[i * samples + j] = slope[i * samples + j] + slope[j * samples + i];
            }
        }
        let mut ae = vec![0.0f32; e.len()];
        matmul(
            &mut ae,
            Strided::rows(&a, samples, samples),
            embeddings,
            false,
        );
        for (i, (gi, aei)) in g
            .chunks_exact_mut(channels.max(1))
            .zip(ae.chunks_exact(channels.max(1)))
            .enumerate()
        {
            let weight: f32 = a[i * samples..(i + 1) * samples].iter().sum();
            for ((g, ei), aei) in gi.iter_mut().zip(&e[i * channels..]).zip(aei) {
                *g = factor * (weight * ei - aei);
            }
        }
    }
    total / pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Central differences of the summed loss agree with the analytic gradient for every loss.
    #[test]
    fn gradients_match_finite_differences() {
        let mut rng = crate::data::rng::Rng::new(3, &[]);
        let mut values =
            |n: usize| -> Vec<f32> { (0..n).map(|_| rng.range(-1.5, 1.5) as f32).collect() };
        let (images, positions, channels) = (2, 3, 4);
        let n = images * positions * channels;
        let dense = HostTargets::Values {
            positions,
            channels,
            values: values(n),
        };
        let distribution = HostTargets::Values {
            positions,
            channels,
            values: values(n).iter().map(|v| v.abs()).collect(),
        };
        let binary = HostTargets::Values {
            positions,
            channels,
            values: values(n)
                .iter()
                .map(|v| f32::from(u8::from(*v > 0.0)))
                .collect(),
        };
        let classes = HostTargets::Classes {
            positions,
            values: vec![0, 3, 1, 2, 2, 0],
        };
        let pairs = HostTargets::Pairs {
            per_image: positions,
            positions: vec![0; images * positions],
            same: vec![
                1., 0., 0., 0., 1., 1., 0., 1., 1., 1., 1., 0., 1., 1., 0., 0., 0., 1.,
            ],
        };
        let cases = [
            (LossKind::L1, &dense),
            (LossKind::L2, &dense),
            (LossKind::Huber, &dense),
            (LossKind::Cosine, &dense),
            (LossKind::CrossEntropy, &distribution),
            (LossKind::CrossEntropy, &classes),
            (LossKind::BinaryCrossEntropy, &binary),
            (LossKind::Contrastive, &pairs),
        ];
        let x = values(n).iter().map(|v| v * 0.5).collect::<Vec<f32>>();
        for (loss, target) in cases {
            let pred = |v: &[f32]| {
                per_image(
                    loss,
                    Predictions {
                        values: v,
                        images,
                        positions,
                        channels,
                    },
                    target,
                    Some(0.5),
                )
                .unwrap()
            };
            let scored = pred(&x);
            let gradient = scored.gradient.unwrap();
            let total = |v: &[f32]| 0.5 * pred(v).losses.iter().map(|&l| f64::from(l)).sum::<f64>();
            for i in 0..n {
                let h = 1e-2f32;
                let (mut up, mut down) = (x.clone(), x.clone());
                up[i] += h;
                down[i] -= h;
                let numeric = (total(&up) - total(&down)) / (2.0 * f64::from(h));
                let analytic = f64::from(gradient[i]);
                assert!(
                    (numeric - analytic).abs() < 2e-3 * (1.0 + numeric.abs()),
                    "{loss}: ∂/∂x[{i}] numeric {numeric}, analytic {analytic}"
                );
            }
        }
    }

    #[test]
    fn labels_that_do_not_fit_are_errors() {
        let pred = [0.0f32; 6];
        let predictions = Predictions {
            values: &pred,
            images: 1,
            positions: 2,
            channels: 3,
        };
        let classes = HostTargets::Classes {
            positions: 2,
            values: vec![0, 3],
        };
        let error = per_image(LossKind::CrossEntropy, predictions, &classes, None).unwrap_err();
        assert!(
            error.to_string().contains("predictions (1, 2, 3)"),
            "{error}"
        );
        let values = HostTargets::Values {
            positions: 2,
            channels: 3,
            values: vec![0.0; 6],
        };
        assert!(per_image(LossKind::Contrastive, predictions, &values, None).is_err());
        assert_eq!(
            per_image(LossKind::L1, predictions, &values, None)
                .unwrap()
                .losses,
            [0.0]
        );
    }
}
