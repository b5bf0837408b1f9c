//! The operations the networks are made of, each one node on dfdx's tape, with a fast CPU implementation.
//!
//! On the CPU, dfdx 0.13 runs every element-wise operation (and its backward) one element at a time on
//! one core, through a general strided index; a layer norm or a broadcast bias is several such
//! operations, and every operation allocates a zero-filled output. Reading a tensor's values costs a copy
//! (dfdx keeps them private), so the CPU pays for every boundary between operations. The operations here
//! are therefore as large as the networks allow: a fully connected layer with its bias and ReLU, the
//! patch embedding with its position, and half a Mixer block (layer norm, two-layer MLP across tokens or
//! channels, residual sum) are each one node. On the CPU (the `cpu` module) each does its arithmetic in
//! a few passes over contiguous memory, multiplies matrices with the `gemm` crate that dfdx itself uses,
//! and records one backward pass on dfdx's tape; dfdx keeps the tape, the gradients and the optimiser.
//!
//! [`Kernels`] is implemented for `Cpu` with those loops and, with the `cuda` feature, for `Cuda` with
//! the dfdx compositions ([`composed`]), which the tests also use as the reference.

mod cpu;
pub(crate) mod gemm;

pub use cpu::{run_on_shard_threads, shard_threads};

use dfdx::prelude::*;

use super::layers::{Act, Dense, LayerNorm, Mlp, LAYER_NORM_EPS};
use super::params::{Matrix, Vector};

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
    /// The distance of a difference `d`, and its derivative. Written with selects rather than branches:
    /// the signs of a prediction's errors are random, and a mispredicted branch per value cost more
    /// than the arithmetic.
    pub(crate) fn of(self, d: f32) -> (f32, f32) {
        let sign = f32::from(u8::from(d > 0.0)) - f32::from(u8::from(d < 0.0));
        match self {
            Distance::L1 => (d.abs(), sign),
            Distance::L2 => (d * d, 2.0 * d),
            Distance::Huber => {
                let inside = d.abs() < 1.0;
                (
                    if inside { 0.5 * d * d } else { d.abs() - 0.5 },
                    if inside { d } else { sign },
                )
            }
        }
    }
}

/// What a residual MLP mixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mixing {
    /// The channels of every token: the MLP is applied to every row.
    Channels,
    /// The tokens of every channel of each of `images` images: the MLP is applied to every column of
    /// each image's `tokens × channels` block.
    Tokens {
        /// Images in the activations.
        images: usize,
    },
}

/// A `(batch, positions, channels)` block.
type Block3<D, T> = Tensor<(usize, usize, usize), f32, D, T>;

/// The operations a device provides to the networks. Every method defaults to the dfdx composition
/// ([`composed`]); the CPU overrides them.
pub trait Kernels: Device<f32> {
    /// Adds `from`'s gradient of `t` into `into`'s (`from` may be left empty).
    fn merge_gradient<S: Shape>(
        into: &mut Gradients<f32, Self>,
        from: &mut Gradients<f32, Self>,
        t: &Tensor<S, f32, Self>,
    ) -> Result<(), Self::Err> {
        composed::merge_gradient(into, from, t)
    }

    /// A fully connected layer applied to every row of `x` (`(rows, in)`): `x W + b`, then ReLU when
    /// `relu`.
    fn linear<T: Tape<f32, Self>>(
        x: Act<Self, T>,
        layer: &Dense<Self>,
        relu: bool,
    ) -> Result<Act<Self, T>, Self::Err> {
        composed::linear(x, layer, relu)
    }

    /// The patch embedding: `x W + b` for every token of every image, plus the learned vector of the
    /// token's position (`position` is `tokens × width`). `patches` are the network's input, so their
    /// gradient is not needed and the CPU does not compute it.
    fn embed<T: Tape<f32, Self>>(
        patches: Act<Self, T>,
        layer: &Dense<Self>,
        position: &Matrix<Self>,
    ) -> Result<Act<Self, T>, Self::Err> {
        composed::embed(patches, layer, position)
    }

    /// Half a pre-norm Mixer block: `x + MLP(LN(x))`, the MLP mixing tokens or channels.
    fn residual_mlp<T: Tape<f32, Self>>(
        x: Act<Self, T>,
        norm: &LayerNorm<Self>,
        mlp: &Mlp<Self>,
        mixing: Mixing,
    ) -> Result<Act<Self, T>, Self::Err> {
        composed::residual_mlp(x, norm, mlp, mixing)
    }

    /// Layer norm over the channels of every row, then `× γ + β` (the norm's gain and offset).
    fn layer_norm<T: Tape<f32, Self>>(
        x: Act<Self, T>,
        norm: &LayerNorm<Self>,
        eps: f32,
    ) -> Result<Act<Self, T>, Self::Err> {
        composed::layer_norm(x, norm, eps)
    }

    /// The mean distance between `pred` and `y` over each image's positions and channels: `(batch,)`.
    fn distance<T: Tape<f32, Self>>(
        pred: Block3<Self, T>,
        y: &Block3<Self, NoneTape>,
        kind: Distance,
    ) -> Result<Tensor<(usize,), f32, Self, T>, Self::Err> {
        composed::distance(pred, y, kind)
    }

    /// The cross-entropy of every position's class: the mean over each image's positions of
    /// `−log softmax(pred)[class]`, `(batch,)`. `classes` is `(batch, positions)`, each below the
    /// channel count.
    fn class_cross_entropy<T: Tape<f32, Self>>(
        pred: Block3<Self, T>,
        classes: &Tensor<(usize, usize), usize, Self>,
    ) -> Result<Tensor<(usize,), f32, Self, T>, Self::Err> {
        composed::class_cross_entropy(pred, classes)
    }
}

/// The same operations composed from dfdx's own, for any device.
pub mod composed {
    use super::*;

    /// `x + bias` for every row of `x` (`(rows, channels)`), then ReLU when `relu`.
    fn bias_act<D: Device<f32>, T: Tape<f32, D>>(
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

    /// See [`Kernels::linear`].
    pub fn linear<D: Device<f32>, T: Tape<f32, D>>(
        x: Act<D, T>,
        layer: &Dense<D>,
        relu: bool,
    ) -> Result<Act<D, T>, D::Err> {
        bias_act(
            x.try_matmul(layer.weight.retaped::<T>())?,
            &layer.bias,
            relu,
        )
    }

    /// See [`Kernels::embed`].
    pub fn embed<D: Device<f32>, T: Tape<f32, D>>(
        patches: Act<D, T>,
        layer: &Dense<D>,
        position: &Matrix<D>,
    ) -> Result<Act<D, T>, D::Err> {
        let (tokens, width) = *position.shape();
        let images = patches.shape().0 / tokens.max(1);
        let blocks = (images, tokens, width);
        let position = position
            .retaped::<T>()
            .try_broadcast_like::<_, Axis<0>>(&blocks)?;
        linear(patches, layer, false)?
            .try_reshape_like(&blocks)?
            .try_add(position)?
            .try_reshape_like(&(images * tokens, width))
    }

    /// See [`Kernels::residual_mlp`].
    pub fn residual_mlp<D: Device<f32>, T: Tape<f32, D>>(
        x: Act<D, T>,
        norm: &LayerNorm<D>,
        mlp: &Mlp<D>,
        mixing: Mixing,
    ) -> Result<Act<D, T>, D::Err> {
        let normed = layer_norm(x.with_empty_tape(), norm, LAYER_NORM_EPS)?;
        let apply = |rows| linear(linear(rows, &mlp.hidden, true)?, &mlp.out, false);
        let mixed = match mixing {
            Mixing::Channels => apply(normed)?,
            Mixing::Tokens { images } => swap_tokens(apply(swap_tokens(normed, images)?)?, images)?,
        };
        mixed.try_add(x)
    }

    /// See [`Kernels::layer_norm`].
    pub fn layer_norm<D: Device<f32>, T: Tape<f32, D>>(
        x: Act<D, T>,
        norm: &LayerNorm<D>,
        eps: f32,
    ) -> Result<Act<D, T>, D::Err> {
        let shape = *x.shape();
        let x = x.try_normalize::<Axis<1>>(eps)?;
        let g = norm
            .gamma
            .retaped::<T>()
            .try_broadcast_like::<_, Axis<0>>(&shape)?;
        let b = norm
            .beta
            .retaped::<T>()
            .try_broadcast_like::<_, Axis<0>>(&shape)?;
        x.try_mul(g)?.try_add(b)
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

    /// See [`Kernels::class_cross_entropy`].
    pub fn class_cross_entropy<D: Device<f32>, T: Tape<f32, D>>(
        pred: Block3<D, T>,
        classes: &Tensor<(usize, usize), usize, D>,
    ) -> Result<Tensor<(usize,), f32, D, T>, D::Err> {
        pred.try_log_softmax::<Axis<2>>()?
            .try_select(classes.clone())?
            .try_negate()?
            .try_mean::<(usize,), Axis<1>>()
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

    /// Swaps the token and channel axes of `images` images: `(images × tokens, channels)` rows become
    /// `(images × channels, tokens)` rows, so that mixing across tokens is one matrix product.
    fn swap_tokens<D: Device<f32>, T: Tape<f32, D>>(
        x: Act<D, T>,
        images: usize,
    ) -> Result<Act<D, T>, D::Err> {
        let (rows, channels) = *x.shape();
        let tokens = rows / images.max(1);
        x.try_reshape_like(&(images, tokens, channels))?
            .try_permute::<_, Axes3<0, 2, 1>>()?
            .try_reshape_like(&(images * channels, tokens))
    }
}

#[cfg(feature = "cuda")]
impl Kernels for Cuda {}
