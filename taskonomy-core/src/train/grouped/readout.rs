//! One two-layer readout on the host: its weights with their Adam moments, and a training step that runs
//! forward, loss, backward and update without leaving plain memory.

use super::loss::{self, Predictions};
use crate::model::device::Cpu;
use crate::model::kernels::gemm::{matmul, Strided};
use crate::model::{Head, ModelError};
use crate::spec::LossKind;
use crate::train::batch::HostTargets;

/// What the second layer computes, and so what the loss compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Output {
    /// Every token's values: a per-pixel head's `patch² × channels` values of its patch, in patch order.
    Tokens {
        /// Values per loss position (per pixel).
        channels: usize,
    },
    /// One vector per image, from the mean of the image's tokens.
    Pooled {
        /// Tokens per image.
        tokens: usize,
    },
    /// A per-pixel head scored only at the pixels its contrastive targets sample: the second layer is
    /// computed for those pixels alone, the rest of its output having no gradient and no score.
    Sampled {
        /// Tokens per image.
        tokens: usize,
        /// Pixels per token (`patch²`).
        pixels: usize,
        /// Values per pixel.
        channels: usize,
    },
}

/// A parameter, its gradient and its Adam moments.
struct Param {
    value: Vec<f32>,
    grad: Vec<f32>,
    m: Vec<f32>,
    v: Vec<f32>,
    /// Whether decoupled weight decay applies (weight matrices, not biases, as in [`crate::model::Adam`]).
    decays: bool,
}

impl Param {
    fn new(value: Vec<f32>, decays: bool) -> Self {
        let n = value.len();
        Param {
            value,
            grad: vec![0.0; n],
            m: vec![0.0; n],
            v: vec![0.0; n],
            decays,
        }
    }

    /// One Adam step, written as dfdx's CPU kernel writes it so both paths update alike.
    fn adam(&mut self, step: i32, lr: f64, decay: f64) {
        let (b1, b2, eps) = (0.9f32, 0.999f32, 1e-8f32);
        let (c1, c2) = ((1.0 - b1.powi(step)).recip(), (1.0 - b2.powi(step)).recip());
        let lr32 = lr as f32;
        let decay = (self.decays && decay > 0.0).then_some((decay * lr) as f32);
        let moments = self.m.iter_mut().zip(self.v.iter_mut());
        for ((p, g), (m, v)) in self.value.iter_mut().zip(&self.grad).zip(moments) {
            *m = *m * b1 + g * (1.0 - b1);
            *v = *v * b2 + g.powi(2) * (1.0 - b2);
            let mut update = lr32 * (*m * c1) / ((*v * c2).sqrt() + eps);
            if let Some(decay) = decay {
                update += decay * *p;
            }
            *p -= update;
        }
    }
}

/// A forward pass, with what its backward pass needs.
struct Pass {
    /// `ReLU(x W₁ + b₁)`, `rows × width`.
    hidden: Vec<f32>,
    /// Per image, the mean of its hidden rows (pooled heads only).
    pooled: Vec<f32>,
    /// For a sampled head, the samples (flat `image × samples` numbers) at each pixel of a patch, and
    /// the hidden row of every sample's token.
    sampled: Vec<Vec<usize>>,
    sample_rows: Vec<usize>,
    /// The predictions the loss compares.
    out: Vec<f32>,
    images: usize,
    positions: usize,
    channels: usize,
}

impl Pass {
    fn predictions(&self) -> Predictions<'_> {
        Predictions {
            values: &self.out,
            images: self.images,
            positions: self.positions,
            channels: self.channels,
        }
    }
}

/// The paper's transfer function on the host: `ReLU(x W₁ + b₁) W₂ + b₂` for every token (or for the
/// mean of an image's tokens).
pub(super) struct HostReadout {
    input: usize,
    width: usize,
    outputs: usize,
    output: Output,
    w1: Param,
    b1: Param,
    w2: Param,
    b2: Param,
}

impl HostReadout {
    /// The readout `head` (two layers, no Mixer blocks) with fresh Adam moments.
    pub(super) fn of(head: &Head<Cpu>, output: Output) -> Result<Self, ModelError> {
        if !head.blocks.is_empty() || head.norm.is_some() {
            return Err(ModelError::Arch(
                "only two-layer readouts (readout_depth 0) train in groups".into(),
            ));
        }
        let (input, width, outputs) = (
            head.input.input(),
            head.input.output(),
            head.output.output(),
        );
        let fits = match output {
            Output::Tokens { channels } => channels > 0 && outputs.is_multiple_of(channels),
            Output::Pooled { tokens } => tokens > 0,
            Output::Sampled {
                tokens,
                pixels,
                channels,
            } => tokens > 0 && outputs == pixels * channels,
        };
        if head.output.input() != width
            || !fits
            || head.pooled != matches!(output, Output::Pooled { .. })
        {
            return Err(ModelError::Arch(format!(
                "a readout {input} → {width} → {outputs} does not produce {output:?}"
            )));
        }
        Ok(HostReadout {
            input,
            width,
            outputs,
            output,
            w1: Param::new(head.input.weight.as_vec(), true),
            b1: Param::new(head.input.bias.as_vec(), false),
            w2: Param::new(head.output.weight.as_vec(), true),
            b2: Param::new(head.output.bias.as_vec(), false),
        })
    }

    /// Copies the trained weights into `head` (the readout it was made from).
    pub(super) fn write_into(&self, head: &mut Head<Cpu>) {
        head.input.weight.copy_from(&self.w1.value);
        head.input.bias.copy_from(&self.b1.value);
        head.output.weight.copy_from(&self.w2.value);
        head.output.bias.copy_from(&self.b2.value);
    }

    /// One optimiser step on a batch of `images` images' input rows `x` (`images × tokens` rows) with
    /// their `targets`; returns the batch's mean loss.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn train_step(
        &mut self,
        x: &[f32],
        images: usize,
        targets: &HostTargets,
        loss: LossKind,
        step: i32,
        lr: f64,
        decay: f64,
    ) -> Result<f32, ModelError> {
        let pass = self.forward(x, images, targets)?;
        let scored = loss::per_image(loss, pass.predictions(), targets, Some(1.0 / images as f32))?;
        let gradient = scored.gradient.unwrap_or_default();
        self.backward(x, &pass, &gradient);
        for p in [&mut self.w1, &mut self.b1, &mut self.w2, &mut self.b2] {
            p.adam(step, lr, decay);
        }
        Ok(scored.losses.iter().sum::<f32>() / images as f32)
    }

    /// Every image's loss, without training.
    pub(super) fn score(
        &self,
        x: &[f32],
        images: usize,
        targets: &HostTargets,
        loss: LossKind,
    ) -> Result<Vec<f32>, ModelError> {
        let pass = self.forward(x, images, targets)?;
        Ok(loss::per_image(loss, pass.predictions(), targets, None)?.losses)
    }

    fn forward(&self, x: &[f32], images: usize, targets: &HostTargets) -> Result<Pass, ModelError> {
        let rows = x.len() / self.input.max(1);
        if images == 0 || rows * self.input != x.len() || !rows.is_multiple_of(images) {
            return Err(ModelError::Batch(format!(
                "readout input: {} values are not {images} images of rows of {}",
                x.len(),
                self.input
            )));
        }
        let tokens = rows / images;
        let mut hidden = with_bias(&self.b1.value, rows);
        matmul(
            &mut hidden,
            Strided::rows(x, rows, self.input),
            Strided::rows(&self.w1.value, self.input, self.width),
            true,
        );
        hidden.iter_mut().for_each(|v| *v = v.max(0.0));
        let mut pass = Pass {
            hidden,
            pooled: Vec::new(),
            sampled: Vec::new(),
            sample_rows: Vec::new(),
            out: Vec::new(),
            images,
            positions: 0,
            channels: 0,
        };
        let w2 = Strided::rows(&self.w2.value, self.width, self.outputs);
        match self.output {
            Output::Tokens { channels } => {
                pass.out = with_bias(&self.b2.value, rows);
                matmul(
                    &mut pass.out,
                    Strided::rows(&pass.hidden, rows, self.width),
                    w2,
                    true,
                );
                pass.channels = channels;
                pass.positions = tokens * self.outputs / channels;
            }
            Output::Pooled { tokens: expected } => {
                check_tokens(tokens, expected)?;
                pass.pooled = mean_rows(&pass.hidden, images, self.width);
                pass.out = with_bias(&self.b2.value, images);
                matmul(
                    &mut pass.out,
                    Strided::rows(&pass.pooled, images, self.width),
                    w2,
                    true,
                );
                (pass.positions, pass.channels) = (1, self.outputs);
            }
            Output::Sampled {
                tokens: expected,
                pixels,
                channels,
            } => {
                check_tokens(tokens, expected)?;
                let HostTargets::Pairs {
                    per_image,
                    positions,
                    ..
                } = targets
                else {
                    return Err(ModelError::Batch(
                        "a sampled readout needs contrastive targets".into(),
                    ));
                };
                if positions.len() != images * per_image
                    || positions.iter().any(|&p| p >= tokens * pixels)
                {
                    return Err(ModelError::Batch(format!(
                        "contrastive targets: {} sampled pixels for {images} images of {} pixels",
                        positions.len(),
                        tokens * pixels
                    )));
                }
                // The samples at each pixel of a patch share the second layer's columns for that pixel.
                pass.sampled = vec![Vec::new(); pixels];
                pass.sample_rows = positions
                    .iter()
                    .enumerate()
                    .map(|(r, &p)| {
                        pass.sampled[p % pixels].push(r);
                        (r / per_image) * tokens + p / pixels
                    })
                    .collect();
                pass.out = vec![0.0; positions.len() * channels];
                for (q, samples) in pass.sampled.iter().enumerate() {
                    if samples.is_empty() {
                        continue;
                    }
                    let rows_q = gather(
                        &pass.hidden,
                        self.width,
                        samples.iter().map(|&r| pass.sample_rows[r]),
                    );
                    let bias = &self.b2.value[q * channels..(q + 1) * channels];
                    let mut out_q = with_bias(bias, samples.len());
                    matmul(
                        &mut out_q,
                        Strided::rows(&rows_q, samples.len(), self.width),
                        self.pixel_columns(q, channels),
                        true,
                    );
                    for (&r, values) in samples.iter().zip(out_q.chunks_exact(channels)) {
                        pass.out[r * channels..(r + 1) * channels].copy_from_slice(values);
                    }
                }
                (pass.positions, pass.channels) = (*per_image, channels);
            }
        }
        Ok(pass)
    }

    /// The columns of `W₂` that produce pixel `q` of a patch: `width × channels`.
    fn pixel_columns(&self, q: usize, channels: usize) -> Strided<'_> {
        Strided::with_row_stride(
            &self.w2.value[q * channels..],
            self.width,
            channels,
            self.outputs,
        )
    }

    /// Gradients of every parameter from `g`, the gradient of the predictions.
    fn backward(&mut self, x: &[f32], pass: &Pass, g: &[f32]) {
        let rows = pass.hidden.len() / self.width;
        let (width, outputs) = (self.width, self.outputs);
        let mut g_hidden = vec![0.0f32; pass.hidden.len()];
        match self.output {
            Output::Tokens { .. } => {
                let h = Strided::rows(&pass.hidden, rows, width);
                let g_out = Strided::rows(g, rows, outputs);
                matmul(&mut self.w2.grad, h.t(), g_out, false);
                self.b2.grad = column_sums(g, outputs);
                let w2 = Strided::rows(&self.w2.value, width, outputs);
                matmul(&mut g_hidden, g_out, w2.t(), false);
            }
            Output::Pooled { tokens } => {
                let images = pass.images;
                let pooled = Strided::rows(&pass.pooled, images, width);
                let g_out = Strided::rows(g, images, outputs);
                matmul(&mut self.w2.grad, pooled.t(), g_out, false);
                self.b2.grad = column_sums(g, outputs);
                let mut g_pooled = vec![0.0f32; images * width];
                let w2 = Strided::rows(&self.w2.value, width, outputs);
                matmul(&mut g_pooled, g_out, w2.t(), false);
                // The mean passes 1/tokens of its gradient to each of the image's tokens.
                for (r, row) in g_hidden.chunks_exact_mut(width).enumerate() {
                    let image = &g_pooled[(r / tokens) * width..(r / tokens + 1) * width];
                    for (g, v) in row.iter_mut().zip(image) {
                        *g = v / tokens as f32;
                    }
                }
            }
            Output::Sampled { channels, .. } => {
                self.w2.grad.iter_mut().for_each(|v| *v = 0.0);
                self.b2.grad.iter_mut().for_each(|v| *v = 0.0);
                for (q, samples) in pass.sampled.iter().enumerate() {
                    if samples.is_empty() {
                        continue;
                    }
                    let m = samples.len();
                    let tokens_q = || samples.iter().map(|&r| pass.sample_rows[r]);
                    let rows_q = gather(&pass.hidden, width, tokens_q());
                    let g_q = gather(g, channels, samples.iter().copied());
                    let mut g_w = vec![0.0f32; width * channels];
                    matmul(
                        &mut g_w,
                        Strided::rows(&rows_q, m, width).t(),
                        Strided::rows(&g_q, m, channels),
                        false,
                    );
                    for (k, row) in g_w.chunks_exact(channels).enumerate() {
                        let at = k * outputs + q * channels;
                        accumulate(&mut self.w2.grad[at..at + channels], row);
                    }
                    let bias = &mut self.b2.grad[q * channels..(q + 1) * channels];
                    accumulate(bias, &column_sums(&g_q, channels));
                    let mut g_rows = vec![0.0f32; m * width];
                    matmul(
                        &mut g_rows,
                        Strided::rows(&g_q, m, channels),
                        self.pixel_columns(q, channels).t(),
                        false,
                    );
                    for (token, row) in tokens_q().zip(g_rows.chunks_exact(width)) {
                        accumulate(&mut g_hidden[token * width..(token + 1) * width], row);
                    }
                }
            }
        }
        // Through the ReLU: a select rather than a branch (the signs are random, and the select
        // vectorises).
        for (g, h) in g_hidden.iter_mut().zip(&pass.hidden) {
            *g = if *h > 0.0 { *g } else { 0.0 };
        }
        let x = Strided::rows(x, rows, self.input);
        matmul(
            &mut self.w1.grad,
            x.t(),
            Strided::rows(&g_hidden, rows, width),
            false,
        );
        self.b1.grad = column_sums(&g_hidden, width);
    }
}

fn check_tokens(found: usize, expected: usize) -> Result<(), ModelError> {
    if found == expected {
        Ok(())
    } else {
        Err(ModelError::Batch(format!(
            "readout input: {found} rows per image, expected {expected} tokens"
        )))
    }
}

/// `rows` copies of `bias`, one after the other: the start of an output the product is added to.
fn with_bias(bias: &[f32], rows: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(rows * bias.len());
    for _ in 0..rows {
        out.extend_from_slice(bias);
    }
    out
}

/// The rows numbered `rows` of a row-major matrix of rows of `width`, one after the other.
fn gather(matrix: &[f32], width: usize, rows: impl Iterator<Item = usize>) -> Vec<f32> {
    let mut out = Vec::new();
    for r in rows {
        out.extend_from_slice(&matrix[r * width..(r + 1) * width]);
    }
    out
}

/// The mean of each of `groups` consecutive blocks of rows.
fn mean_rows(rows: &[f32], groups: usize, width: usize) -> Vec<f32> {
    let per_group = rows.len() / (groups * width).max(1);
    let mut out = vec![0.0f32; groups * width];
    for (r, row) in rows.chunks_exact(width).enumerate() {
        accumulate(
            &mut out[(r / per_group) * width..(r / per_group + 1) * width],
            row,
        );
    }
    out.iter_mut().for_each(|v| *v /= per_group as f32);
    out
}

/// The sum of every column of rows of `width`.
fn column_sums(rows: &[f32], width: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; width];
    for row in rows.chunks_exact(width) {
        accumulate(&mut out, row);
    }
    out
}

fn accumulate(into: &mut [f32], values: &[f32]) {
    into.iter_mut().zip(values).for_each(|(a, v)| *a += v);
}
