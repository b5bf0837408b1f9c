//! [`Kernels`] on the CPU: each operation copies its input out of dfdx once, computes in a few passes
//! over contiguous memory (split over threads in fixed blocks, so results do not depend on the thread
//! count), multiplies matrices with `gemm`, and records one backward pass on the tape.
//!
//! A backward pass takes its output's gradient out of the gradient store rather than copying it: dfdx
//! runs backward passes in reverse order of creation, so every consumer of the output has already added
//! its share, and nothing reads it afterwards.

use dfdx::prelude::*;
use rayon::prelude::*;

use super::gemm::{matmul, Strided};
use super::{Block3, Distance, Kernels, Mixing};
use crate::model::host_loss;
use crate::model::layers::{Act, Dense, LayerNorm, Mlp, LAYER_NORM_EPS};
use crate::model::params::Matrix;

/// Below this many elements a loop runs on one thread (splitting costs more than it saves).
const PARALLEL_MIN: usize = 1 << 14;

/// Whether a loop over `len` elements is worth splitting: large enough, and more than one thread to
/// split over (inside a shard's single-threaded pool, rayon's splitting would be pure overhead).
fn parallel(len: usize) -> bool {
    len >= PARALLEL_MIN && rayon::current_num_threads() > 1
}

/// Column sums over row blocks are computed in this many fixed blocks, then added in block order, so
/// the floating-point result is the same for any number of threads.
const SUM_BLOCKS: usize = 16;

/// At most this many shards run at once; more are queued.
const MAX_PARALLEL_SHARDS: usize = 16;

/// How many shards run at once on the CPU: the threads the process may use (rayon's global pool), at
/// most 16.
pub fn shard_threads() -> usize {
    shard_pools().len().max(1)
}

/// `job(0)` to `job(count - 1)`, in order, each on a thread of its own with a single-threaded pool, at most
/// `MAX_PARALLEL_SHARDS` at once: how the trainer computes the shards of a batch on the CPU. Inside a
/// job, the operations here run on that job's thread only, so parallel shards do not compete for cores.
pub fn run_on_shard_threads<R: Send>(count: usize, job: &(dyn Fn(usize) -> R + Sync)) -> Vec<R> {
    let pools = shard_pools();
    if count < 2 || pools.len() < 2 {
        return (0..count).map(job).collect();
    }
    let jobs: Vec<usize> = (0..count).collect();
    let mut results = Vec::with_capacity(count);
    for wave in jobs.chunks(pools.len()) {
        let done: Vec<R> = std::thread::scope(|scope| {
            let handles: Vec<_> = wave
                .iter()
                .zip(pools)
                .map(|(&i, pool)| scope.spawn(move || pool.install(|| job(i))))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        });
        results.extend(done);
    }
    results
}

impl Kernels for Cpu {
    fn merge_gradient<S: Shape>(
        into: &mut Gradients<f32, Self>,
        from: &mut Gradients<f32, Self>,
        t: &Tensor<S, f32, Self>,
    ) -> Result<(), Self::Err> {
        let g = take_gradient(from, t)?;
        accumulate(into.get_or_alloc_mut(t)?, &g);
        Ok(())
    }

    fn linear<T: Tape<f32, Self>>(
        x: Act<Self, T>,
        layer: &Dense<Self>,
        relu: bool,
    ) -> Result<Act<Self, T>, Self::Err> {
        let (rows, _) = *x.shape();
        let (x, mut tape) = x.split_tape();
        let dense = HostDense::of(layer)?;
        let input = host(&x)?;
        let out = dense.forward(&input, Apply::Rows, relu)?;
        // The ReLU's output, which says where it passes its gradient.
        let activated = if relu && T::OWNS_TAPE {
            out.clone()
        } else {
            Vec::new()
        };
        let out = x.device().try_tensor_from_vec(out, (rows, dense.output))?;
        if T::OWNS_TAPE {
            let (x_key, out_key) = (x.ghost(), out.clone());
            tape.add_backward_op(move |grads| {
                let mut g = take_gradient(grads, &out_key)?;
                if relu {
                    relu_backward(&mut g, &activated);
                }
                dense.add_parameter_gradients(&input, &g, Apply::Rows, grads)?;
                dense.input_gradient(&g, Apply::Rows, grads.get_or_alloc_mut(&x_key)?);
                Ok(())
            });
        }
        Ok(out.put_tape(tape))
    }

    fn embed<T: Tape<f32, Self>>(
        patches: Act<Self, T>,
        layer: &Dense<Self>,
        position: &Matrix<Self>,
    ) -> Result<Act<Self, T>, Self::Err> {
        let (rows, _) = *patches.shape();
        let (tokens, width) = *position.shape();
        let per_image = tokens * width;
        if width != layer.output() || tokens == 0 || rows % tokens != 0 {
            return Err(CpuError::WrongNumElements);
        }
        let (patches, mut tape) = patches.split_tape();
        let dense = HostDense::of(layer)?;
        let input = host(&patches)?;
        let mut out = dense.forward(&input, Apply::Rows, false)?;
        let pos = host(position)?;
        for image in out.chunks_mut(per_image) {
            accumulate(image, &pos);
        }
        let out = patches.device().try_tensor_from_vec(out, (rows, width))?;
        if T::OWNS_TAPE {
            let (out_key, position_key) = (out.clone(), position.ghost());
            tape.add_backward_op(move |grads| {
                let g = take_gradient(grads, &out_key)?;
                let gp = grads.get_or_alloc_mut(&position_key)?;
                for image in g.chunks(per_image) {
                    accumulate(gp, image);
                }
                dense.add_parameter_gradients(&input, &g, Apply::Rows, grads)
            });
        }
        Ok(out.put_tape(tape))
    }

    fn residual_mlp<T: Tape<f32, Self>>(
        x: Act<Self, T>,
        norm: &LayerNorm<Self>,
        mlp: &Mlp<Self>,
        mixing: Mixing,
    ) -> Result<Act<Self, T>, Self::Err> {
        let (rows, width) = *x.shape();
        // Mixing channels, the MLP applies to every row; mixing tokens, to every column of each image.
        // Either way it maps what it mixes (channels or tokens) to itself.
        let (apply, mixed) = match mixing {
            Mixing::Channels => (Apply::Rows, width),
            Mixing::Tokens { images } if images > 0 && rows % images == 0 => {
                (Apply::Columns { cols: width }, rows / images)
            }
            Mixing::Tokens { .. } => return Err(CpuError::WrongNumElements),
        };
        let (first, second) = (HostDense::of(&mlp.hidden)?, HostDense::of(&mlp.out)?);
        if first.input != mixed || first.output != second.input || second.output != mixed {
            return Err(CpuError::WrongNumElements);
        }
        let norm = HostNorm::of(norm, width)?;
        let (x, mut tape) = x.split_tape();
        let input = host(&x)?;
        let Normalised {
            out: normed,
            xhat,
            rstd,
        } = norm.forward(&input, LAYER_NORM_EPS);
        let hidden = first.forward(&normed, apply, true)?;
        // The residual sum: the MLP's output is accumulated onto the input.
        let mut y = input;
        second.add_forward(&hidden, apply, &mut y)?;
        let out = x.device().try_tensor_from_vec(y, (rows, width))?;
        if T::OWNS_TAPE {
            let (x_key, out_key) = (x.ghost(), out.clone());
            tape.add_backward_op(move |grads| {
                let gy = take_gradient(grads, &out_key)?;
                // The residual path passes the gradient straight through.
                accumulate(grads.get_or_alloc_mut(&x_key)?, &gy);
                second.add_parameter_gradients(&hidden, &gy, apply, grads)?;
                let mut g_hidden = vec![0.0; hidden.len()];
                second.input_gradient(&gy, apply, &mut g_hidden);
                relu_backward(&mut g_hidden, &hidden);
                first.add_parameter_gradients(&normed, &g_hidden, apply, grads)?;
                let mut g_normed = vec![0.0; normed.len()];
                first.input_gradient(&g_hidden, apply, &mut g_normed);
                let gx = norm.backward(g_normed, &xhat, &rstd, grads)?;
                accumulate(grads.get_or_alloc_mut(&x_key)?, &gx);
                Ok(())
            });
        }
        Ok(out.put_tape(tape))
    }

    fn layer_norm<T: Tape<f32, Self>>(
        x: Act<Self, T>,
        norm: &LayerNorm<Self>,
        eps: f32,
    ) -> Result<Act<Self, T>, Self::Err> {
        let (rows, width) = *x.shape();
        let norm = HostNorm::of(norm, width)?;
        let (x, mut tape) = x.split_tape();
        let Normalised { out, xhat, rstd } = norm.forward(&host(&x)?, eps);
        let out = x.device().try_tensor_from_vec(out, (rows, width))?;
        if T::OWNS_TAPE {
            let (x_key, out_key) = (x.ghost(), out.clone());
            tape.add_backward_op(move |grads| {
                let g = take_gradient(grads, &out_key)?;
                let gx = norm.backward(g, &xhat, &rstd, grads)?;
                accumulate(grads.get_or_alloc_mut(&x_key)?, &gx);
                Ok(())
            });
        }
        Ok(out.put_tape(tape))
    }

    fn distance<T: Tape<f32, Self>>(
        pred: Block3<Self, T>,
        y: &Block3<Self, NoneTape>,
        kind: Distance,
    ) -> Result<Tensor<(usize,), f32, Self, T>, Self::Err> {
        if y.shape() != pred.shape() {
            return Err(CpuError::WrongNumElements);
        }
        let labels = host(y)?;
        let per_image = pred.shape().1 * pred.shape().2;
        per_image_loss(pred, |b, p, slope| {
            let y = &labels[b * per_image..(b + 1) * per_image];
            host_loss::distance(kind, p, y, slope, 1.0)
        })
    }

    fn class_cross_entropy<T: Tape<f32, Self>>(
        pred: Block3<Self, T>,
        classes: &Tensor<(usize, usize), usize, Self>,
    ) -> Result<Tensor<(usize,), f32, Self, T>, Self::Err> {
        let (batch, positions, channels) = *pred.shape();
        let classes = classes.as_vec();
        if classes.len() != batch * positions || classes.iter().any(|&c| c >= channels) {
            return Err(CpuError::WrongNumElements);
        }
        per_image_loss(pred, |b, p, slope| {
            let y = &classes[b * positions..(b + 1) * positions];
            host_loss::class_cross_entropy(p, channels, y, slope, 1.0)
        })
    }
}

/// A loss computed image by image on the host as one node of the tape: `image(b, predictions, slope)`
/// returns image `b`'s loss and, when `slope` is given, writes its gradient there; the backward pass
/// scales each image's slope by its output's gradient. Images are split over the threads.
fn per_image_loss<T: Tape<f32, Cpu>>(
    pred: Block3<Cpu, T>,
    image: impl Fn(usize, &[f32], Option<&mut [f32]>) -> f32 + Sync,
) -> Result<Tensor<(usize,), f32, Cpu, T>, CpuError> {
    let (batch, positions, channels) = *pred.shape();
    let per_image = (positions * channels).max(1);
    let (pred, mut tape) = pred.split_tape();
    let values = host(&pred)?;
    let losses: Vec<f32>;
    // Each image's gradient, kept for the backward pass.
    let mut slopes = Vec::new();
    if T::OWNS_TAPE {
        slopes = vec![0.0f32; values.len()];
        let one = |(b, slope): (usize, &mut [f32])| {
            image(b, &values[b * per_image..(b + 1) * per_image], Some(slope))
        };
        losses = if parallel(values.len()) {
            slopes
                .par_chunks_mut(per_image)
                .enumerate()
                .map(one)
                .collect()
        } else {
            slopes.chunks_mut(per_image).enumerate().map(one).collect()
        };
    } else {
        losses = values
            .chunks(per_image)
            .enumerate()
            .map(|(b, p)| image(b, p, None))
            .collect();
    }
    let out = pred.device().try_tensor_from_vec(losses, (batch,))?;
    if T::OWNS_TAPE {
        let (pred_key, out_key) = (pred.ghost(), out.clone());
        tape.add_backward_op(move |grads| {
            let g = take_gradient(grads, &out_key)?;
            rows_mut(&mut slopes, per_image, |slope, b| {
                slope.iter_mut().for_each(|v| *v *= g[b]);
            });
            accumulate(grads.get_or_alloc_mut(&pred_key)?, &slopes);
            Ok(())
        });
    }
    Ok(out.put_tape(tape))
}

/// How a dense layer meets its input.
#[derive(Clone, Copy, Debug)]
enum Apply {
    /// To every row of `rows × input` activations: `x W + b`, the output `rows × output`.
    Rows,
    /// To every column of each image's `input × cols` block: `Wᵀ x + b`, each output block
    /// `output × cols`. This is how an MLP mixes the tokens of `tokens × channels` activations without
    /// transposing them: the matrix products read the blocks as they lie.
    Columns {
        /// Columns of a block.
        cols: usize,
    },
}

/// The gradient through a ReLU whose output was `activated`: it passes where the unit was active.
fn relu_backward(g: &mut [f32], activated: &[f32]) {
    for (g, a) in g.iter_mut().zip(activated) {
        *g = if *a > 0.0 { *g } else { 0.0 };
    }
}

/// A dense layer's weights on the host, with the layer itself (its parameters' handles, which name their
/// gradients).
struct HostDense {
    /// `input × output`, row-major.
    weight: Vec<f32>,
    bias: Vec<f32>,
    input: usize,
    output: usize,
    layer: Dense<Cpu>,
}

impl HostDense {
    fn of(layer: &Dense<Cpu>) -> Result<Self, CpuError> {
        Ok(HostDense {
            weight: host(&layer.weight)?,
            bias: host(&layer.bias)?,
            input: layer.input(),
            output: layer.output(),
            layer: layer.clone(),
        })
    }

    fn weight(&self) -> Strided<'_> {
        Strided::rows(&self.weight, self.input, self.output)
    }

    /// The length of the output for an input of `len` values, or an error when they do not fill whole
    /// rows (or blocks).
    fn output_len(&self, len: usize, apply: Apply) -> Result<usize, CpuError> {
        let block = match apply {
            Apply::Rows => self.input,
            Apply::Columns { cols } => self.input * cols,
        };
        if block == 0 || !len.is_multiple_of(block) {
            return Err(CpuError::WrongNumElements);
        }
        Ok(len / self.input * self.output)
    }

    /// The layer's output for `x`, then ReLU when `relu`. The product is accumulated onto the bias, so
    /// the output is written once before it.
    fn forward(&self, x: &[f32], apply: Apply, relu: bool) -> Result<Vec<f32>, CpuError> {
        let len = self.output_len(x.len(), apply)?;
        let mut out = Vec::with_capacity(len);
        match apply {
            Apply::Rows => {
                while out.len() < len {
                    out.extend_from_slice(&self.bias);
                }
            }
            Apply::Columns { cols } => {
                while out.len() < len {
                    for b in &self.bias {
                        out.extend(std::iter::repeat_n(*b, cols));
                    }
                }
            }
        }
        self.add_product(x, apply, &mut out)?;
        if relu {
            // A select rather than a branch: the signs are random, and the select vectorises.
            rows_mut(&mut out, self.output, |row, _| {
                row.iter_mut()
                    .for_each(|v| *v = if *v < 0.0 { 0.0 } else { *v });
            });
        }
        Ok(out)
    }

    /// Adds the layer's output for `x`, bias included, to `dst`.
    fn add_forward(&self, x: &[f32], apply: Apply, dst: &mut [f32]) -> Result<(), CpuError> {
        match apply {
            Apply::Rows => rows_mut(dst, self.output, |row, _| accumulate(row, &self.bias)),
            Apply::Columns { cols } => {
                for (row, b) in dst.chunks_mut(cols.max(1)).zip(self.bias.iter().cycle()) {
                    row.iter_mut().for_each(|v| *v += b);
                }
            }
        }
        self.add_product(x, apply, dst)
    }

    /// Adds `x W` (rows) or `Wᵀ x` (columns of every block) to `dst`.
    fn add_product(&self, x: &[f32], apply: Apply, dst: &mut [f32]) -> Result<(), CpuError> {
        if dst.len() != self.output_len(x.len(), apply)? {
            return Err(CpuError::WrongNumElements);
        }
        match apply {
            Apply::Rows => {
                let rows = x.len() / self.input;
                matmul(dst, Strided::rows(x, rows, self.input), self.weight(), true);
            }
            Apply::Columns { cols } => {
                let blocks = x
                    .chunks(self.input * cols)
                    .zip(dst.chunks_mut(self.output * cols));
                for (x, dst) in blocks {
                    matmul(
                        dst,
                        self.weight().t(),
                        Strided::rows(x, self.input, cols),
                        true,
                    );
                }
            }
        }
        Ok(())
    }

    /// From `g`, the gradient of the layer's output for input `x`, adds the weight's gradient (`xᵀ g`,
    /// or `Σ x gᵀ` over blocks) and the bias's (the sums of `g` over everything but the output channel)
    /// to `grads`.
    fn add_parameter_gradients(
        &self,
        x: &[f32],
        g: &[f32],
        apply: Apply,
        grads: &mut Gradients<f32, Cpu>,
    ) -> Result<(), CpuError> {
        let output = self.output;
        let weight_grad = grads.get_or_alloc_mut(&self.layer.weight)?;
        let bias_grad = match apply {
            Apply::Rows => {
                let rows = g.len() / output;
                matmul(
                    weight_grad,
                    Strided::rows(x, rows, self.input).t(),
                    Strided::rows(g, rows, output),
                    true,
                );
                column_sums(rows, output, |r, acc| {
                    accumulate(acc, &g[r * output..(r + 1) * output]);
                })
            }
            Apply::Columns { cols } => {
                let blocks = x.chunks(self.input * cols).zip(g.chunks(output * cols));
                // The bias's gradient sums the blocks first (element-wise, in order), then each row.
                let mut g_sum = vec![0.0f32; output * cols];
                for (x, g) in blocks {
                    matmul(
                        weight_grad,
                        Strided::rows(x, self.input, cols),
                        Strided::rows(g, output, cols).t(),
                        true,
                    );
                    accumulate(&mut g_sum, g);
                }
                g_sum
                    .chunks(cols.max(1))
                    .map(|row| row.iter().sum())
                    .collect()
            }
        };
        accumulate(grads.get_or_alloc_mut(&self.layer.bias)?, &bias_grad);
        Ok(())
    }

    /// Adds the input's gradient (`g Wᵀ`, or `W g` for every block) to `input_grad`.
    fn input_gradient(&self, g: &[f32], apply: Apply, input_grad: &mut [f32]) {
        match apply {
            Apply::Rows => {
                let rows = g.len() / self.output;
                matmul(
                    input_grad,
                    Strided::rows(g, rows, self.output),
                    self.weight().t(),
                    true,
                );
            }
            Apply::Columns { cols } => {
                let blocks = g
                    .chunks(self.output * cols)
                    .zip(input_grad.chunks_mut(self.input * cols));
                for (g, dx) in blocks {
                    matmul(dx, self.weight(), Strided::rows(g, self.output, cols), true);
                }
            }
        }
    }
}

/// A layer norm's gain and offset on the host, with the norm itself (its parameters' handles).
struct HostNorm {
    gamma: Vec<f32>,
    beta: Vec<f32>,
    norm: LayerNorm<Cpu>,
}

impl HostNorm {
    /// The norm of rows of `width`, or an error when its gain and offset have another length.
    fn of(norm: &LayerNorm<Cpu>, width: usize) -> Result<Self, CpuError> {
        if norm.gamma.shape().0 != width || norm.beta.shape().0 != width {
            return Err(CpuError::WrongNumElements);
        }
        Ok(HostNorm {
            gamma: host(&norm.gamma)?,
            beta: host(&norm.beta)?,
            norm: norm.clone(),
        })
    }

    fn forward(&self, x: &[f32], eps: f32) -> Normalised {
        Normalised::new(x, self.gamma.len(), &self.gamma, &self.beta, eps)
    }

    /// The backward pass from `g`, the output's gradient: adds γ's and β's gradients to `grads` and
    /// returns the input's.
    fn backward(
        &self,
        g: Vec<f32>,
        xhat: &[f32],
        rstd: &[f32],
        grads: &mut Gradients<f32, Cpu>,
    ) -> Result<Vec<f32>, CpuError> {
        let (gx, g_gamma, g_beta) = norm_backward(g, xhat, rstd, &self.gamma);
        accumulate(grads.get_or_alloc_mut(&self.norm.gamma)?, &g_gamma);
        accumulate(grads.get_or_alloc_mut(&self.norm.beta)?, &g_beta);
        Ok(gx)
    }
}

/// A layer norm's forward pass over rows of `width`: its output, and what its backward pass needs.
struct Normalised {
    /// `x̂ × γ + β`.
    out: Vec<f32>,
    /// `x̂ = (x − mean) / √(var + ε)`, per row.
    xhat: Vec<f32>,
    /// Each row's `1/√(var + ε)`.
    rstd: Vec<f32>,
}

impl Normalised {
    fn new(x: &[f32], width: usize, gamma: &[f32], beta: &[f32], eps: f32) -> Self {
        let width = width.max(1);
        let (mut out, mut xhat) = (vec![0.0; x.len()], vec![0.0; x.len()]);
        let mut rstd = vec![0.0; x.len() / width];
        if parallel(x.len()) {
            x.par_chunks(width)
                .zip(xhat.par_chunks_mut(width))
                .zip(out.par_chunks_mut(width))
                .zip(&mut rstd)
                .for_each(|(((x, xhat), out), rstd)| {
                    *rstd = normalise_row(x, xhat, out, gamma, beta, eps);
                });
        } else {
            let rows = x.chunks(width).zip(xhat.chunks_mut(width));
            for (((x, xhat), out), rstd) in rows.zip(out.chunks_mut(width)).zip(&mut rstd) {
                *rstd = normalise_row(x, xhat, out, gamma, beta, eps);
            }
        }
        Normalised { out, xhat, rstd }
    }
}

/// Normalises one row: writes `x̂` and `x̂ × γ + β`, returns `1/√(var + ε)`.
fn normalise_row(
    x: &[f32],
    xhat: &mut [f32],
    out: &mut [f32],
    gamma: &[f32],
    beta: &[f32],
    eps: f32,
) -> f32 {
    let n = x.len() as f32;
    let mean = lane_sum(x, |v| v) / n;
    let rstd = 1.0 / (lane_sum(x, |v| (v - mean) * (v - mean)) / n + eps).sqrt();
    for ((((x, h), o), g), b) in x.iter().zip(xhat).zip(out).zip(gamma).zip(beta) {
        *h = (x - mean) * rstd;
        *o = *h * g + b;
    }
    rstd
}

/// A layer norm's backward pass from `g`, its output's gradient: `(dx, dγ, dβ)`.
fn norm_backward(
    g: Vec<f32>,
    xhat: &[f32],
    rstd: &[f32],
    gamma: &[f32],
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let (rows, width) = (rstd.len(), gamma.len());
    let n = width as f32;
    // γ's and β's gradients in one pass: `Σ g·x̂` in the first half, `Σ g` in the second.
    let mut sums = column_sums(rows, 2 * width, |r, acc| {
        let (g, h) = (
            &g[r * width..(r + 1) * width],
            &xhat[r * width..(r + 1) * width],
        );
        let (a_gamma, a_beta) = acc.split_at_mut(width);
        for (((a, b), g), h) in a_gamma.iter_mut().zip(a_beta).zip(g).zip(h) {
            *a += g * h;
            *b += g;
        }
    });
    let g_beta = sums.split_off(width);
    let g_gamma = sums;
    // dx = rstd · (ĝ − mean(ĝ) − x̂ · mean(ĝ x̂)), ĝ = g · γ.
    let mut gx = g;
    rows_mut(&mut gx, width, |row, r| {
        let h = &xhat[r * width..(r + 1) * width];
        row.iter_mut().zip(gamma).for_each(|(g, gamma)| *g *= gamma);
        let mean_g = lane_sum(row, |g| g) / n;
        let mean_gh = lane_dot(row, h) / n;
        for (g, h) in row.iter_mut().zip(h) {
            *g = rstd[r] * (*g - mean_g - h * mean_gh);
        }
    });
    (gx, g_gamma, g_beta)
}

/// Partial sums kept by [`lane_sum`] and [`lane_dot`]: one vector register of `f32`.
const LANES: usize = 8;

/// `Σ f(v)` over `values`, in `LANES` interleaved partial sums, so that the additions vectorise instead
/// of waiting on one another.
fn lane_sum(values: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut acc = [0.0f32; LANES];
    let chunks = values.chunks_exact(LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (a, v) in acc.iter_mut().zip(chunk) {
            *a += f(*v);
        }
    }
    acc.iter().sum::<f32>() + rest.iter().map(|v| f(*v)).sum::<f32>()
}

/// `Σ a·b`, in `LANES` interleaved partial sums (see [`lane_sum`]).
fn lane_dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let rest: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(a, b)| a * b)
        .sum();
    for (ca, cb) in ca.zip(cb) {
        for ((acc, a), b) in acc.iter_mut().zip(ca).zip(cb) {
            *acc += a * b;
        }
    }
    acc.iter().sum::<f32>() + rest
}

/// The values of a CPU tensor, row-major (a copy; the tensor is made contiguous first if it is not).
fn host<S: Shape, T>(t: &Tensor<S, f32, Cpu, T>) -> Result<Vec<f32>, CpuError> {
    let t = t.retaped::<NoneTape>().try_contiguous()?;
    let mut out = vec![0.0; t.shape().num_elements()];
    t.copy_into(&mut out);
    Ok(out)
}

/// The gradient of an operation's output, taken out of `grads` rather than copied (see the module
/// comment).
fn take_gradient<S: Shape>(
    grads: &mut Gradients<f32, Cpu>,
    t: &Tensor<S, f32, Cpu>,
) -> Result<Vec<f32>, CpuError> {
    Ok(std::mem::take(&mut **grads.get_or_alloc_mut(t)?))
}

/// Applies `f(row, row_index)` to every row of `data` (rows of `width`), in parallel when large.
fn rows_mut(data: &mut [f32], width: usize, f: impl Fn(&mut [f32], usize) + Sync) {
    if parallel(data.len()) {
        data.par_chunks_mut(width)
            .enumerate()
            .for_each(|(i, row)| f(row, i));
    } else {
        data.chunks_mut(width)
            .enumerate()
            .for_each(|(i, row)| f(row, i));
    }
}

/// Column sums of `f(row index)`-weighted rows: `Σ_r f(r)[c]`, in fixed blocks added in order.
fn column_sums(rows: usize, width: usize, f: impl Fn(usize, &mut [f32]) + Sync) -> Vec<f32> {
    let block = rows.div_ceil(SUM_BLOCKS).max(1);
    let partial = |b: usize| {
        let mut acc = vec![0.0f32; width];
        for r in b * block..((b + 1) * block).min(rows) {
            f(r, &mut acc);
        }
        acc
    };
    let blocks = rows.div_ceil(block);
    let partials: Vec<Vec<f32>> = if parallel(rows * width) {
        (0..blocks).into_par_iter().map(partial).collect()
    } else {
        (0..blocks).map(partial).collect()
    };
    let mut total = vec![0.0f32; width];
    for p in partials {
        for (t, v) in total.iter_mut().zip(p) {
            *t += v;
        }
    }
    total
}

/// Adds `delta` into `target` element by element.
fn accumulate(target: &mut [f32], delta: &[f32]) {
    if parallel(target.len()) {
        target
            .par_chunks_mut(4096)
            .zip(delta.par_chunks(4096))
            .for_each(|(t, d)| t.iter_mut().zip(d).for_each(|(t, d)| *t += d));
    } else {
        target.iter_mut().zip(delta).for_each(|(t, d)| *t += d);
    }
}

/// Single-threaded pools, one per concurrent shard: inside one, the matrix products and the loops here
/// run on that thread only, so parallel shards do not compete for the same cores. As many as the
/// process's thread budget (rayon's global pool: the cores, or `RAYON_NUM_THREADS`), so that several
/// worker processes on one machine, each given its share of the cores, compute their shards one after
/// the other rather than crowd the cores with threads. Shards are merged in order either way: the
/// result does not depend on how many run at once.
fn shard_pools() -> &'static [rayon::ThreadPool] {
    static POOLS: std::sync::OnceLock<Vec<rayon::ThreadPool>> = std::sync::OnceLock::new();
    POOLS.get_or_init(|| {
        (0..MAX_PARALLEL_SHARDS.min(rayon::current_num_threads()))
            .filter_map(|i| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(1)
                    .thread_name(move |_| format!("shard-{i}"))
                    .build()
                    .ok()
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::super::composed;
    use super::*;
    use crate::data::rng::Rng;
    use crate::model::params::{ParamRef, Parameters, Vector};

    fn random(dev: &Cpu, shape: (usize, usize), seed: u64) -> Act<Cpu, NoneTape> {
        let mut rng = Rng::new(seed, &[]);
        let v = (0..shape.0 * shape.1)
            .map(|_| rng.range(-2.0, 2.0) as f32)
            .collect();
        dev.tensor_from_vec(v, shape)
    }

    fn random_vector(dev: &Cpu, len: usize, seed: u64) -> Vector<Cpu> {
        random(dev, (1, len), seed).reshape_like(&(len,))
    }

    fn close(a: &[f32], b: &[f32], what: &str) {
        assert_eq!(a.len(), b.len(), "{what}");
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!(
                (x - y).abs() <= 1e-4 * (1.0 + y.abs()),
                "{what}[{i}]: {x} vs {y}"
            );
        }
    }

    /// An operation on a traced input, fused (`true`, the CPU's) or composed from dfdx's operations.
    type Op<'a> =
        Box<dyn Fn(Act<Cpu, OwnedTape<f32, Cpu>>, bool) -> Act<Cpu, OwnedTape<f32, Cpu>> + 'a>;

    /// Runs `op` both ways on `x`, weights the output with random values and sums it (so that every
    /// output's gradient differs), and compares the outputs and the gradients of every parameter in
    /// `params` and, when `input_gradient`, of `x`.
    fn agrees(
        what: &str,
        x: &Act<Cpu, NoneTape>,
        params: &[ParamRef<'_, Cpu>],
        op: Op,
        input_gradient: bool,
    ) {
        let run = |fused: bool| {
            let out = op(x.clone().traced(Gradients::leaky()), fused);
            let values = out.retaped::<NoneTape>().as_vec();
            let weights = random(x.device(), *out.shape(), 7);
            let grads = out.try_mul(weights).unwrap().sum::<(), _>().backward();
            let mut gradients: Vec<Vec<f32>> = params
                .iter()
                .map(|p| match p {
                    ParamRef::Vector(t) => grads.get(*t).as_vec(),
                    ParamRef::Matrix(t) => grads.get(*t).as_vec(),
                })
                .collect();
            if input_gradient {
                gradients.push(grads.get(x).as_vec());
            }
            (values, gradients)
        };
        let (fused, reference) = (run(true), run(false));
        close(&fused.0, &reference.0, &format!("{what}: forward"));
        for (i, (f, r)) in fused.1.iter().zip(&reference.1).enumerate() {
            close(f, r, &format!("{what}: gradient {i}"));
        }
    }

    fn refs<'a>(layers: &[&'a dyn Parameters<Cpu>]) -> Vec<ParamRef<'a, Cpu>> {
        let mut out = Vec::new();
        for layer in layers {
            layer.visit("", &mut |_, p| out.push(p));
        }
        out
    }

    /// Every fused operation agrees with its dfdx composition, forward and backward, for a small and
    /// a large (multi-threaded) size.
    #[test]
    fn fused_operations_match_their_compositions() {
        let dev = Cpu::default();
        let rng = &mut Rng::new(9, &[]);
        for (rows, width) in [(6, 5), (2048, 24)] {
            let x = random(&dev, (rows, width), 1);
            let images = 2;
            let tokens = rows / images;
            let dense = Dense::new(&dev, width, 7, rng).unwrap();
            let position = random(&dev, (tokens, 7), 2);
            let norm = LayerNorm {
                gamma: random_vector(&dev, width, 3),
                beta: random_vector(&dev, width, 4),
            };
            let channel_mlp = Mlp::new(&dev, width, 9, rng).unwrap();
            let token_mlp = Mlp::new(&dev, tokens, 5, rng).unwrap();
            let size = format!("{rows}×{width}");
            for relu in [false, true] {
                agrees(
                    &format!("linear (ReLU {relu}) {size}"),
                    &x,
                    &refs(&[&dense]),
                    Box::new(|x, fused| {
                        if fused {
                            Cpu::linear(x, &dense, relu).unwrap()
                        } else {
                            composed::linear(x, &dense, relu).unwrap()
                        }
                    }),
                    true,
                );
            }
            // The embedding does not compute its input's gradient.
            let mut params = refs(&[&dense]);
            params.push(ParamRef::Matrix(&position));
            agrees(
                &format!("embed {size}"),
                &x,
                &params,
                Box::new(|x, fused| {
                    if fused {
                        Cpu::embed(x, &dense, &position).unwrap()
                    } else {
                        composed::embed(x, &dense, &position).unwrap()
                    }
                }),
                false,
            );
            for (mixing, mlp) in [
                (Mixing::Channels, &channel_mlp),
                (Mixing::Tokens { images }, &token_mlp),
            ] {
                agrees(
                    &format!("residual MLP ({mixing:?}) {size}"),
                    &x,
                    &refs(&[&norm, mlp]),
                    Box::new(|x, fused| {
                        if fused {
                            Cpu::residual_mlp(x, &norm, mlp, mixing).unwrap()
                        } else {
                            composed::residual_mlp(x, &norm, mlp, mixing).unwrap()
                        }
                    }),
                    true,
                );
            }
            agrees(
                &format!("layer norm {size}"),
                &x,
                &refs(&[&norm]),
                Box::new(|x, fused| {
                    if fused {
                        Cpu::layer_norm(x, &norm, 1e-5).unwrap()
                    } else {
                        composed::layer_norm(x, &norm, 1e-5).unwrap()
                    }
                }),
                true,
            );
            // Distances per image: forward and backward against dfdx's element-wise composition.
            let y = random(&dev, (rows, width), 5);
            let block = |t: &Act<Cpu, NoneTape>| t.clone().reshape_like(&(images, tokens, width));
            for kind in [Distance::L1, Distance::L2, Distance::Huber] {
                let run = |fused: bool| {
                    let pred = block(&x).traced(Gradients::leaky());
                    let out = if fused {
                        Cpu::distance(pred, &block(&y), kind).unwrap()
                    } else {
                        composed::distance(pred, &block(&y), kind).unwrap()
                    };
                    let values = out.retaped::<NoneTape>().as_vec();
                    let weights = dev.tensor_from_vec(vec![1.0, -3.0], (images,));
                    let grads = out.try_mul(weights).unwrap().sum::<(), _>().backward();
                    (values, grads.get(&block(&x)).as_vec())
                };
                let (fused, reference) = (run(true), run(false));
                close(&fused.0, &reference.0, &format!("{kind:?} {size} forward"));
                close(&fused.1, &reference.1, &format!("{kind:?} {size} backward"));
            }
            // The cross-entropy of each position's class, the channels being the classes.
            let mut pick = Rng::new(6, &[]);
            let classes: Vec<usize> = (0..rows).map(|_| pick.below(width)).collect();
            let classes = dev.tensor_from_vec(classes, (images, tokens));
            let run = |fused: bool| {
                let pred = block(&x).traced(Gradients::leaky());
                let out = if fused {
                    Cpu::class_cross_entropy(pred, &classes).unwrap()
                } else {
                    composed::class_cross_entropy(pred, &classes).unwrap()
                };
                let values = out.retaped::<NoneTape>().as_vec();
                let weights = dev.tensor_from_vec(vec![1.0, -3.0], (images,));
                let grads = out.try_mul(weights).unwrap().sum::<(), _>().backward();
                (values, grads.get(&block(&x)).as_vec())
            };
            let (fused, reference) = (run(true), run(false));
            close(
                &fused.0,
                &reference.0,
                &format!("class cross-entropy {size} forward"),
            );
            close(
                &fused.1,
                &reference.1,
                &format!("class cross-entropy {size} backward"),
            );
        }
    }

    #[test]
    fn without_a_tape_nothing_is_recorded() {
        let dev = Cpu::default();
        let x = random(&dev, (4, 3), 1);
        let layer = Dense {
            weight: dev.tensor_from_vec(vec![1.0, 0.0, 0.0, 1.0, 0.0, 0.0], (3, 2)),
            bias: dev.tensor_from_vec(vec![1.0, -10.0], (2,)),
        };
        let y = Cpu::linear(x.clone(), &layer, true).unwrap().as_vec();
        let x = x.as_vec();
        for (i, v) in y.iter().enumerate() {
            let (row, col) = (i / 2, i % 2);
            let bias = [1.0, -10.0][col];
            assert_eq!(*v, (x[row * 3 + col] + bias).max(0.0));
        }
    }

    #[test]
    fn sizes_that_do_not_fit_are_errors() {
        let dev = Cpu::default();
        let rng = &mut Rng::new(1, &[]);
        let dense = Dense::new(&dev, 4, 2, rng).unwrap();
        assert!(Cpu::linear(random(&dev, (3, 5), 1), &dense, false).is_err());
        let position = random(&dev, (4, 2), 2);
        assert!(Cpu::embed(random(&dev, (6, 4), 1), &dense, &position).is_err());
        // A class beyond the channels.
        let pred = random(&dev, (2, 3), 4).reshape_like(&(1, 2, 3));
        let classes = dev.tensor_from_vec(vec![0, 3], (1, 2));
        assert!(Cpu::class_cross_entropy(pred, &classes).is_err());
        let norm = LayerNorm::new(&dev, 4).unwrap();
        let mlp = Mlp::new(&dev, 3, 2, rng).unwrap();
        let tokens = Mixing::Tokens { images: 4 };
        assert!(Cpu::residual_mlp(random(&dev, (6, 4), 3), &norm, &mlp, tokens).is_err());
        // An MLP over 3 tokens cannot mix images of 2 tokens, nor 4 channels.
        let tokens = Mixing::Tokens { images: 3 };
        assert!(Cpu::residual_mlp(random(&dev, (6, 4), 3), &norm, &mlp, tokens).is_err());
        let channels = Mixing::Channels;
        assert!(Cpu::residual_mlp(random(&dev, (6, 4), 3), &norm, &mlp, channels).is_err());
    }
}
