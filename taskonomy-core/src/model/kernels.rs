//! The element-wise operations of the networks, fused, with a fast CPU implementation.
//!
//! On the CPU, dfdx 0.13 runs every element-wise operation (and its backward) one element at a time on
//! one core, through a general strided index, and a layer norm or a broadcast bias is several such
//! operations. Profiling a training step showed those loops, not the matrix products, taking most of the
//! time. The operations here do the same arithmetic as their dfdx compositions in a single pass over
//! contiguous memory, split over threads in fixed blocks (so results do not depend on the thread count),
//! and record their own backward pass on dfdx's tape. Matrix products stay with dfdx.
//!
//! [`Kernels`] is implemented for `Cpu` with these loops and, with the `cuda` feature, for `Cuda` with
//! the dfdx compositions ([`composed`]), which the tests also use as the reference.

use dfdx::prelude::*;
use rayon::prelude::*;

use super::layers::Act;
use super::params::Vector;
use crate::train::fit::{ShardResult, ShardWork};

/// Below this many elements an operation runs on one thread (splitting costs more than it saves).
const PARALLEL_MIN: usize = 1 << 14;

/// Whether a loop over `len` elements is worth splitting: large enough, and more than one thread to
/// split over (inside a shard's single-threaded pool, rayon's splitting would be pure overhead).
fn parallel(len: usize) -> bool {
    len >= PARALLEL_MIN && rayon::current_num_threads() > 1
}

/// Column sums over row blocks are computed in this many fixed blocks, then added in block order, so
/// the floating-point result is the same for any number of threads.
const SUM_BLOCKS: usize = 16;

/// An element-wise distance between a prediction and its label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Distance {
    /// `|d|`.
    L1,
    /// `d²`.
    L2,
    /// `½d²` for `|d| < 1`, `|d| − ½` beyond (Huber with δ = 1).
    Huber,
}

impl Distance {
    /// The distance of a difference `d`, and its derivative.
    fn of(self, d: f32) -> (f32, f32) {
        let sign = if d > 0.0 {
            1.0
        } else if d < 0.0 {
            -1.0
        } else {
            0.0
        };
        match self {
            Distance::L1 => (d.abs(), sign),
            Distance::L2 => (d * d, 2.0 * d),
            Distance::Huber if d.abs() < 1.0 => (0.5 * d * d, d),
            Distance::Huber => (d.abs() - 0.5, sign),
        }
    }
}

/// A `(batch, positions, channels)` block.
type Block3<D, T> = Tensor<(usize, usize, usize), f32, D, T>;

/// The fused operations a device provides to the networks, and how it computes the shards of a batch.
/// Every method defaults to the dfdx composition ([`composed`]); the CPU overrides them with its fused
/// loops.
pub trait Kernels: Device<f32> {
    /// The loss and gradients of every part of a batch, in order. By default one part after the other;
    /// the CPU computes them in parallel threads.
    fn run_shards(work: &ShardWork<'_, Self>, parts: &[&[usize]]) -> Vec<ShardResult<Self>> {
        parts.iter().map(|part| work.gradients(part)).collect()
    }

    /// Adds `from`'s gradient of `t` into `into`'s (`from` may be left empty).
    fn merge_gradient<S: Shape>(
        into: &mut Gradients<f32, Self>,
        from: &mut Gradients<f32, Self>,
        t: &Tensor<S, f32, Self>,
    ) -> Result<(), Self::Err> {
        composed::merge_gradient(into, from, t)
    }

    /// `x + bias` for every row of `x` (`(rows, channels)`), then ReLU when `relu`.
    fn bias_act<T: Tape<f32, Self>>(
        x: Act<Self, T>,
        bias: &Vector<Self>,
        relu: bool,
    ) -> Result<Act<Self, T>, Self::Err> {
        composed::bias_act(x, bias, relu)
    }

    /// Layer norm over the channels of every row, then `× gamma + beta`.
    fn layer_norm<T: Tape<f32, Self>>(
        x: Act<Self, T>,
        gamma: &Vector<Self>,
        beta: &Vector<Self>,
        eps: f32,
    ) -> Result<Act<Self, T>, Self::Err> {
        composed::layer_norm(x, gamma, beta, eps)
    }

    /// `x + y` for two activations of the same shape.
    fn add<T: Tape<f32, Self>>(
        x: Act<Self, T>,
        y: Act<Self, T>,
    ) -> Result<Act<Self, T>, Self::Err> {
        composed::add(x, y)
    }

    /// The mean distance between `pred` and `y` over each image's positions and channels: `(batch,)`.
    fn distance<T: Tape<f32, Self>>(
        pred: Block3<Self, T>,
        y: &Block3<Self, NoneTape>,
        kind: Distance,
    ) -> Result<Tensor<(usize,), f32, Self, T>, Self::Err> {
        composed::distance(pred, y, kind)
    }

    /// Swaps the token and channel axes of `batch` images: `(batch × tokens, channels)` rows become
    /// `(batch × channels, tokens)` rows, so that mixing across tokens is one matrix product.
    fn swap_tokens<T: Tape<f32, Self>>(
        x: Act<Self, T>,
        batch: usize,
    ) -> Result<Act<Self, T>, Self::Err> {
        composed::swap_tokens(x, batch)
    }
}

/// The same operations composed from dfdx's own, for any device.
pub mod composed {
    use super::*;

    /// See [`Kernels::bias_act`].
    pub fn bias_act<D: Device<f32>, T: Tape<f32, D>>(
        x: Act<D, T>,
        bias: &Vector<D>,
        relu: bool,
    ) -> Result<Act<D, T>, D::Err> {
        let shape = *x.shape();
        let b = bias
            .retaped::<T>()
            .try_broadcast_like::<_, Axis<0>>(&shape)?;
        let y = x.try_add(b)?;
        if relu {
            y.try_relu()
        } else {
            Ok(y)
        }
    }

    /// See [`Kernels::layer_norm`].
    pub fn layer_norm<D: Device<f32>, T: Tape<f32, D>>(
        x: Act<D, T>,
        gamma: &Vector<D>,
        beta: &Vector<D>,
        eps: f32,
    ) -> Result<Act<D, T>, D::Err> {
        let shape = *x.shape();
        let x = x.try_normalize::<Axis<1>>(eps)?;
        let g = gamma
            .retaped::<T>()
            .try_broadcast_like::<_, Axis<0>>(&shape)?;
        let b = beta
            .retaped::<T>()
            .try_broadcast_like::<_, Axis<0>>(&shape)?;
        x.try_mul(g)?.try_add(b)
    }

    /// See [`Kernels::add`].
    pub fn add<D: Device<f32>, T: Tape<f32, D>>(
        x: Act<D, T>,
        y: Act<D, T>,
    ) -> Result<Act<D, T>, D::Err> {
        x.try_add(y)
    }

    /// See [`Kernels::distance`].
    pub fn distance<D: Device<f32>, T: Tape<f32, D>>(
        pred: Block3<D, T>,
        y: &Block3<D, NoneTape>,
        kind: Distance,
    ) -> Result<Tensor<(usize,), f32, D, T>, D::Err> {
        let per_element = match kind {
            Distance::L1 => pred.try_sub(y.clone())?.try_abs()?,
            Distance::L2 => pred.try_sub(y.clone())?.try_square()?,
            Distance::Huber => pred.try_huber_error(y.clone(), 1.0)?,
        };
        per_element.try_mean::<(usize,), Axes2<1, 2>>()
    }

    /// See [`Kernels::merge_gradient`]: the gradient of `Σ t ⊙ G` with respect to `t` is `G`, so tracing
    /// `t` into `into` and back-propagating that sum adds `G = from[t]` to `into[t]`, on any device.
    pub fn merge_gradient<D: Device<f32>, S: Shape>(
        into: &mut Gradients<f32, D>,
        from: &mut Gradients<f32, D>,
        t: &Tensor<S, f32, D>,
    ) -> Result<(), D::Err> {
        from.try_alloc_for(t)?;
        let g = from.get(t);
        let traced = t
            .clone()
            .traced(std::mem::replace(into, Gradients::leaky()));
        *into = traced.try_mul(g)?.try_sum::<(), _>()?.try_backward()?;
        Ok(())
    }

    /// See [`Kernels::swap_tokens`].
    pub fn swap_tokens<D: Device<f32>, T: Tape<f32, D>>(
        x: Act<D, T>,
        batch: usize,
    ) -> Result<Act<D, T>, D::Err> {
        let (rows, channels) = *x.shape();
        let tokens = rows / batch;
        x.try_reshape_like(&(batch, tokens, channels))?
            .try_permute::<_, Axes3<0, 2, 1>>()?
            .try_reshape_like(&(batch * channels, tokens))
    }
}

#[cfg(feature = "cuda")]
impl Kernels for Cuda {}

/// The values of a CPU tensor, row-major (a copy; the tensor is made contiguous first if it is not).
fn host<S: Shape, T>(t: &Tensor<S, f32, Cpu, T>) -> Result<Vec<f32>, CpuError> {
    let t = t.retaped::<NoneTape>().try_contiguous()?;
    let mut out = vec![0.0; t.shape().num_elements()];
    t.copy_into(&mut out);
    Ok(out)
}

/// The gradient of an operation's output, taken out of `grads` rather than copied: dfdx runs backward
/// passes in reverse order of creation, so every consumer of the output has already added its share, and
/// nothing reads it after the operation that produced it.
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

/// Single-threaded pools, one per concurrent shard: inside one, dfdx's matrix products and the loops
/// here run on that thread only, so parallel shards do not compete for the same cores.
fn shard_pools() -> &'static [rayon::ThreadPool] {
    static POOLS: std::sync::OnceLock<Vec<rayon::ThreadPool>> = std::sync::OnceLock::new();
    POOLS.get_or_init(|| {
        (0..MAX_PARALLEL_SHARDS)
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

/// At most this many shards run at once; more are queued.
const MAX_PARALLEL_SHARDS: usize = 16;

impl Kernels for Cpu {
    fn run_shards(work: &ShardWork<'_, Self>, parts: &[&[usize]]) -> Vec<ShardResult<Self>> {
        let pools = shard_pools();
        if parts.len() < 2 || pools.len() < 2 {
            return parts.iter().map(|part| work.gradients(part)).collect();
        }
        let mut results = Vec::with_capacity(parts.len());
        for wave in parts.chunks(pools.len()) {
            let done: Vec<ShardResult<Self>> = std::thread::scope(|scope| {
                let handles: Vec<_> = wave
                    .iter()
                    .zip(pools)
                    .map(|(part, pool)| scope.spawn(move || pool.install(|| work.gradients(part))))
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

    fn merge_gradient<S: Shape>(
        into: &mut Gradients<f32, Self>,
        from: &mut Gradients<f32, Self>,
        t: &Tensor<S, f32, Self>,
    ) -> Result<(), Self::Err> {
        let g = take_gradient(from, t)?;
        accumulate(into.get_or_alloc_mut(t)?, &g);
        Ok(())
    }

    fn bias_act<T: Tape<f32, Self>>(
        x: Act<Self, T>,
        bias: &Vector<Self>,
        relu: bool,
    ) -> Result<Act<Self, T>, Self::Err> {
        let (rows, width) = *x.shape();
        let (x, mut tape) = x.split_tape();
        let dev = x.device().clone();
        let b = host(bias)?;
        let mut out = host(&x)?;
        rows_mut(&mut out, width, |row, _| {
            for (v, b) in row.iter_mut().zip(&b) {
                *v += b;
                if relu && *v < 0.0 {
                    *v = 0.0;
                }
            }
        });
        // Where the ReLU passes its gradient, kept from the forward pass.
        let active: Vec<bool> = if relu && T::OWNS_TAPE {
            out.iter().map(|&v| v > 0.0).collect()
        } else {
            Vec::new()
        };
        let out = dev.try_tensor_from_vec(out, (rows, width))?;
        if T::OWNS_TAPE {
            let (x_key, bias_key, out_key) = (x.ghost(), bias.ghost(), out.clone());
            tape.add_backward_op(move |grads| {
                let mut g = take_gradient(grads, &out_key)?;
                if relu {
                    rows_mut(&mut g, width, |row, r| {
                        let active = &active[r * width..(r + 1) * width];
                        for (g, on) in row.iter_mut().zip(active) {
                            if !on {
                                *g = 0.0;
                            }
                        }
                    });
                }
                let gb = column_sums(rows, width, |r, acc| {
                    for (a, g) in acc.iter_mut().zip(&g[r * width..(r + 1) * width]) {
                        *a += g;
                    }
                });
                accumulate(grads.get_or_alloc_mut(&bias_key)?, &gb);
                accumulate(grads.get_or_alloc_mut(&x_key)?, &g);
                Ok(())
            });
        }
        Ok(out.put_tape(tape))
    }

    fn layer_norm<T: Tape<f32, Self>>(
        x: Act<Self, T>,
        gamma: &Vector<Self>,
        beta: &Vector<Self>,
        eps: f32,
    ) -> Result<Act<Self, T>, Self::Err> {
        let (rows, width) = *x.shape();
        let (x, mut tape) = x.split_tape();
        let dev = x.device().clone();
        let (gamma_v, beta_v) = (host(gamma)?, host(beta)?);
        // x̂ = (x − mean) / √(var + ε) per row; the row's 1/√(var + ε) is kept for the backward pass.
        let mut xhat = host(&x)?;
        let mut rstd = vec![0.0f32; rows];
        let n = width as f32;
        if parallel(xhat.len()) {
            xhat.par_chunks_mut(width)
                .zip(rstd.par_iter_mut())
                .for_each(|(row, r)| *r = normalise_row(row, n, eps));
        } else {
            xhat.chunks_mut(width)
                .zip(rstd.iter_mut())
                .for_each(|(row, r)| *r = normalise_row(row, n, eps));
        }
        let mut out = xhat.clone();
        rows_mut(&mut out, width, |row, _| {
            for ((v, g), b) in row.iter_mut().zip(&gamma_v).zip(&beta_v) {
                *v = *v * g + b;
            }
        });
        let out = dev.try_tensor_from_vec(out, (rows, width))?;
        if T::OWNS_TAPE {
            let (x_key, gamma_key, beta_key, out_key) =
                (x.ghost(), gamma.ghost(), beta.ghost(), out.clone());
            tape.add_backward_op(move |grads| {
                let g = take_gradient(grads, &out_key)?;
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
                    let (mut mean_g, mut mean_gh) = (0.0f32, 0.0f32);
                    for ((g, gamma), h) in row.iter_mut().zip(&gamma_v).zip(h) {
                        *g *= gamma;
                        mean_g += *g;
                        mean_gh += *g * h;
                    }
                    mean_g /= n;
                    mean_gh /= n;
                    for (g, h) in row.iter_mut().zip(h) {
                        *g = rstd[r] * (*g - mean_g - h * mean_gh);
                    }
                });
                accumulate(grads.get_or_alloc_mut(&gamma_key)?, &g_gamma);
                accumulate(grads.get_or_alloc_mut(&beta_key)?, &g_beta);
                accumulate(grads.get_or_alloc_mut(&x_key)?, &gx);
                Ok(())
            });
        }
        Ok(out.put_tape(tape))
    }

    fn add<T: Tape<f32, Self>>(
        x: Act<Self, T>,
        y: Act<Self, T>,
    ) -> Result<Act<Self, T>, Self::Err> {
        let shape = *x.shape();
        let (x, tx) = x.split_tape();
        let (y, ty) = y.split_tape();
        let mut tape = tx.merge(ty);
        let mut out = host(&x)?;
        accumulate(&mut out, &host(&y)?);
        let out = x.device().try_tensor_from_vec(out, shape)?;
        if T::OWNS_TAPE {
            let (x_key, y_key, out_key) = (x.ghost(), y.ghost(), out.clone());
            tape.add_backward_op(move |grads| {
                let g = take_gradient(grads, &out_key)?;
                accumulate(grads.get_or_alloc_mut(&x_key)?, &g);
                accumulate(grads.get_or_alloc_mut(&y_key)?, &g);
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
        let (batch, positions, channels) = *pred.shape();
        let per_image = positions * channels;
        let (pred, mut tape) = pred.split_tape();
        // The differences, kept for the backward pass; each image is summed in order on one thread.
        let mut d = host(&pred)?;
        for (d, label) in d.iter_mut().zip(host(y)?) {
            *d -= label;
        }
        let sum = |image: &[f32]| image.iter().map(|&x| kind.of(x).0).sum::<f32>();
        let means: Vec<f32> = if parallel(d.len()) {
            d.par_chunks(per_image.max(1)).map(sum).collect()
        } else {
            d.chunks(per_image.max(1)).map(sum).collect()
        };
        let n = per_image.max(1) as f32;
        let out = pred
            .device()
            .try_tensor_from_vec(means.iter().map(|s| s / n).collect(), (batch,))?;
        if T::OWNS_TAPE {
            let (pred_key, out_key) = (pred.ghost(), out.clone());
            tape.add_backward_op(move |grads| {
                let g = take_gradient(grads, &out_key)?;
                let mut gp = d;
                rows_mut(&mut gp, per_image.max(1), |image, b| {
                    let scale = g[b] / n;
                    image.iter_mut().for_each(|x| *x = kind.of(*x).1 * scale);
                });
                accumulate(grads.get_or_alloc_mut(&pred_key)?, &gp);
                Ok(())
            });
        }
        Ok(out.put_tape(tape))
    }

    fn swap_tokens<T: Tape<f32, Self>>(
        x: Act<Self, T>,
        batch: usize,
    ) -> Result<Act<Self, T>, Self::Err> {
        let (rows, channels) = *x.shape();
        let tokens = rows / batch.max(1);
        let (x, mut tape) = x.split_tape();
        let out = transpose_images(&host(&x)?, batch, tokens, channels);
        let out = x
            .device()
            .try_tensor_from_vec(out, (batch * channels, tokens))?;
        if T::OWNS_TAPE {
            let (x_key, out_key) = (x.ghost(), out.clone());
            tape.add_backward_op(move |grads| {
                let g = take_gradient(grads, &out_key)?;
                let back = transpose_images(&g, batch, channels, tokens);
                accumulate(grads.get_or_alloc_mut(&x_key)?, &back);
                Ok(())
            });
        }
        Ok(out.put_tape(tape))
    }
}

/// Normalises one row in place and returns its `1/√(var + ε)`.
fn normalise_row(row: &mut [f32], n: f32, eps: f32) -> f32 {
    let mean = row.iter().sum::<f32>() / n;
    let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
    let rstd = 1.0 / (var + eps).sqrt();
    row.iter_mut().for_each(|v| *v = (*v - mean) * rstd);
    rstd
}

/// Transposes each of `batch` row-major `rows × cols` matrices.
fn transpose_images(data: &[f32], batch: usize, rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; data.len()];
    let per = rows * cols;
    let one = |(src, dst): (&[f32], &mut [f32])| {
        for r in 0..rows {
            for c in 0..cols {
                dst[c * rows + r] = src[r * cols + c];
            }
        }
    };
    if parallel(data.len()) && batch > 1 {
        data.par_chunks(per)
            .zip(out.par_chunks_mut(per))
            .for_each(one);
    } else {
        data.chunks(per).zip(out.chunks_mut(per)).for_each(one);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random(dev: &Cpu, shape: (usize, usize), seed: u64) -> Act<Cpu, NoneTape> {
        let mut rng = crate::data::rng::Rng::new(seed, &[]);
        let v = (0..shape.0 * shape.1)
            .map(|_| rng.range(-2.0, 2.0) as f32)
            .collect();
        dev.tensor_from_vec(v, shape)
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

    /// Every fused operation agrees with its dfdx composition, forward and backward, for a small and
    /// a large (multi-threaded) size.
    #[test]
    fn fused_operations_match_their_compositions() {
        let dev = Cpu::default();
        for (rows, width) in [(6, 5), (2048, 24)] {
            let x = random(&dev, (rows, width), 1);
            let y = random(&dev, (rows, width), 2);
            let w = random(&dev, (rows, width), 3);
            let b: Vector<Cpu> = random(&dev, (1, width), 4).reshape_like(&(width,));
            let g: Vector<Cpu> = random(&dev, (1, width), 5).reshape_like(&(width,));
            // Each case: the op applied to a traced x, weighted by w and summed, so every output's
            // gradient differs.
            type Op<'a> = Box<
                dyn Fn(Act<Cpu, OwnedTape<f32, Cpu>>, bool) -> Act<Cpu, OwnedTape<f32, Cpu>> + 'a,
            >;
            let cases: Vec<(&str, Op)> = vec![
                (
                    "bias",
                    Box::new(|x, fused| {
                        if fused {
                            Cpu::bias_act(x, &b, false).unwrap()
                        } else {
                            composed::bias_act(x, &b, false).unwrap()
                        }
                    }),
                ),
                (
                    "bias+relu",
                    Box::new(|x, fused| {
                        if fused {
                            Cpu::bias_act(x, &b, true).unwrap()
                        } else {
                            composed::bias_act(x, &b, true).unwrap()
                        }
                    }),
                ),
                (
                    "layer norm",
                    Box::new(|x, fused| {
                        if fused {
                            Cpu::layer_norm(x, &g, &b, 1e-5).unwrap()
                        } else {
                            composed::layer_norm(x, &g, &b, 1e-5).unwrap()
                        }
                    }),
                ),
                (
                    "add",
                    Box::new(|x, fused| {
                        let y2 = x.with_empty_tape().try_mul(y.clone()).unwrap();
                        if fused {
                            Cpu::add(x, y2).unwrap()
                        } else {
                            composed::add(x, y2).unwrap()
                        }
                    }),
                ),
            ];
            for (name, op) in cases {
                let run = |fused: bool| {
                    let out = op(x.clone().traced(Gradients::leaky()), fused);
                    let values = out.retaped::<NoneTape>().as_vec();
                    let grads = out.try_mul(w.clone()).unwrap().sum::<(), _>().backward();
                    let uses_bias = name != "add";
                    let gb = if uses_bias {
                        grads.get(&b).as_vec()
                    } else {
                        Vec::new()
                    };
                    let gg = if name == "layer norm" {
                        grads.get(&g).as_vec()
                    } else {
                        Vec::new()
                    };
                    (values, grads.get(&x).as_vec(), gb, gg)
                };
                let (fused, reference) = (run(true), run(false));
                close(
                    &fused.0,
                    &reference.0,
                    &format!("{name} {rows}x{width} forward"),
                );
                close(
                    &fused.1,
                    &reference.1,
                    &format!("{name} {rows}x{width} d/dx"),
                );
                if name.starts_with("bias") || name == "layer norm" {
                    close(
                        &fused.2,
                        &reference.2,
                        &format!("{name} {rows}x{width} d/dbias"),
                    );
                }
                close(
                    &fused.3,
                    &reference.3,
                    &format!("{name} {rows}x{width} d/dgamma"),
                );
            }
            // Distances per image: forward and backward against dfdx's element-wise composition.
            let images = 2;
            let block =
                |t: &Act<Cpu, NoneTape>| t.clone().reshape_like(&(images, rows / images, width));
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
                close(
                    &fused.0,
                    &reference.0,
                    &format!("{kind:?} {rows}x{width} forward"),
                );
                close(
                    &fused.1,
                    &reference.1,
                    &format!("{kind:?} {rows}x{width} backward"),
                );
            }
            // Swapping tokens: forward and backward against the permute.
            let batch = 2;
            let out_f = Cpu::swap_tokens(x.clone().traced(Gradients::leaky()), batch).unwrap();
            let out_c = composed::swap_tokens(x.clone().traced(Gradients::leaky()), batch).unwrap();
            close(
                &out_f.retaped::<NoneTape>().as_vec(),
                &out_c.retaped::<NoneTape>().as_vec(),
                "swap forward",
            );
            let wt = random(&dev, (batch * width, rows / batch), 6);
            let gf = out_f.try_mul(wt.clone()).unwrap().sum::<(), _>().backward();
            let gc = out_c.try_mul(wt).unwrap().sum::<(), _>().backward();
            close(&gf.get(&x).as_vec(), &gc.get(&x).as_vec(), "swap backward");
        }
    }

    #[test]
    fn without_a_tape_nothing_is_recorded() {
        let dev = Cpu::default();
        let x = random(&dev, (4, 3), 1);
        let b: Vector<Cpu> = dev.tensor_from_vec(vec![1.0, -10.0, 0.5], (3,));
        let y = Cpu::bias_act(x.clone(), &b, true).unwrap().as_vec();
        let x = x.as_vec();
        for (i, v) in y.iter().enumerate() {
            assert_eq!(*v, (x[i] + b.as_vec()[i % 3]).max(0.0));
        }
    }
}
