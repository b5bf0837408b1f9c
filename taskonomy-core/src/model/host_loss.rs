//! The declared losses of one image on host slices, with their gradients: what the CPU's fused
//! cross-entropy and step II's grouped readouts compute.
//!
//! Each follows the dfdx composition of [`per_image_loss`](super::per_image_loss) operation by operation
//! (the same ε under square roots, the same margin, the same derivative where an operation has a kink), so
//! a network trained with these and one trained through dfdx's own operations see the same loss up to
//! the order of floating point sums. Each takes one image's predictions, `positions × channels`
//! row-major, and, where `g` is given, writes the gradient of `scale ×` the image's loss into it.

use super::kernels::gemm::{matmul, Strided};
use super::kernels::Distance;
use super::loss::{CONTRASTIVE_MARGIN, SQRT_EPS};

/// Mean element-wise distance over the image's values.
pub(crate) fn distance(
    kind: Distance,
    p: &[f32],
    y: &[f32],
    g: Option<&mut [f32]>,
    scale: f32,
) -> f32 {
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
pub(crate) fn cosine(
    p: &[f32],
    y: &[f32],
    channels: usize,
    mut g: Option<&mut [f32]>,
    scale: f32,
) -> f32 {
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
pub(crate) fn cross_entropy(
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
pub(crate) fn class_cross_entropy(
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
pub(crate) fn binary_cross_entropy(p: &[f32], y: &[f32], g: Option<&mut [f32]>, scale: f32) -> f32 {
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
pub(crate) fn contrastive(
    e: &[f32],
    channels: usize,
    same: &[f32],
    g: Option<&mut [f32]>,
    scale: f32,
) -> f32 {
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
