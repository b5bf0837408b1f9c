//! The layers every network here is built from: fully connected layers over tokens, layer norm, and the
//! MLP-Mixer block (Tolstikhin et al., 2021).
//!
//! Activations are kept as one matrix of `rows = batch × tokens` by `channels`, so a per-token layer is a
//! single matrix product (dfdx multiplies a 3-D tensor by a matrix one batch item at a time, which costs
//! more than the arithmetic at these sizes). The layers hold the parameters; what they compute goes
//! through the device's [`Kernels`]: a layer with its bias and activation, and each half of a Mixer block
//! (norm, MLP, residual sum), is one operation there.

use dfdx::prelude::*;

use super::kernels::{Kernels, Mixing};
use super::params::{parameters, Matrix, Vector};
use crate::data::rng::Rng;

/// Activations: `(rows, channels)`, rows are `batch × tokens`, token-major within an image.
pub type Act<D, T> = Tensor<(usize, usize), f32, D, T>;

/// ε of every layer norm (PyTorch's default).
pub const LAYER_NORM_EPS: f32 = 1e-5;

/// A tensor of `dims` filled from `rng` with a uniform distribution on `[-bound, bound]`.
fn uniform<D: Device<f32>, S: Shape>(
    dev: &D,
    shape: S,
    bound: f32,
    rng: &mut Rng,
) -> Result<Tensor<S, f32, D>, D::Err> {
    let values = (0..shape.num_elements())
        .map(|_| rng.range(-f64::from(bound), f64::from(bound)) as f32)
        .collect();
    dev.try_tensor_from_vec(values, shape)
}

/// A fully connected layer applied to every row: `y = x W + b`, `W` stored `in × out`.
///
/// Initialised like PyTorch's `nn.Linear`: weights and bias uniform on `±1/√in`.
#[derive(Clone, Debug)]
pub struct Dense<D: Device<f32>> {
    /// `in × out`.
    pub weight: Matrix<D>,
    /// `out`.
    pub bias: Vector<D>,
}

impl<D: Kernels> Dense<D> {
    /// A layer from `input` to `output` channels, initialised from `rng`.
    pub fn new(dev: &D, input: usize, output: usize, rng: &mut Rng) -> Result<Self, D::Err> {
        let bound = 1.0 / (input as f32).sqrt();
        Ok(Dense {
            weight: uniform(dev, (input, output), bound, rng)?,
            bias: uniform(dev, (output,), bound, rng)?,
        })
    }

    /// Input channels.
    pub fn input(&self) -> usize {
        self.weight.shape().0
    }

    /// Output channels.
    pub fn output(&self) -> usize {
        self.weight.shape().1
    }

    /// `x W + b` for `x` of shape `(rows, in)`.
    pub fn forward<T: Tape<f32, D>>(&self, x: Act<D, T>) -> Result<Act<D, T>, D::Err> {
        D::linear(x, self, false)
    }

    /// `ReLU(x W + b)`.
    pub fn forward_relu<T: Tape<f32, D>>(&self, x: Act<D, T>) -> Result<Act<D, T>, D::Err> {
        D::linear(x, self, true)
    }
}

parameters!(Dense { weight, bias });

/// Layer norm over the channels of every row, with a learned gain and offset.
#[derive(Clone, Debug)]
pub struct LayerNorm<D: Device<f32>> {
    /// Gain, initialised to 1.
    pub gamma: Vector<D>,
    /// Offset, initialised to 0.
    pub beta: Vector<D>,
}

impl<D: Kernels> LayerNorm<D> {
    /// A layer norm over `channels`.
    pub fn new(dev: &D, channels: usize) -> Result<Self, D::Err> {
        Ok(LayerNorm {
            gamma: dev.try_ones_like(&(channels,))?,
            beta: dev.try_zeros_like(&(channels,))?,
        })
    }

    /// Normalises every row of `x` to zero mean and unit variance, then scales and shifts.
    pub fn forward<T: Tape<f32, D>>(&self, x: Act<D, T>) -> Result<Act<D, T>, D::Err> {
        D::layer_norm(x, self, LAYER_NORM_EPS)
    }
}

parameters!(LayerNorm { gamma, beta });

/// A two-layer MLP: `Dense → ReLU → Dense`, applied across the tokens or the channels of activations
/// ([`Mixing`]).
#[derive(Clone, Debug)]
pub struct Mlp<D: Device<f32>> {
    /// `in → hidden`.
    pub hidden: Dense<D>,
    /// `hidden → in`.
    pub out: Dense<D>,
}

impl<D: Kernels> Mlp<D> {
    /// An MLP from `channels` through `hidden` back to `channels`.
    pub fn new(dev: &D, channels: usize, hidden: usize, rng: &mut Rng) -> Result<Self, D::Err> {
        Ok(Mlp {
            hidden: Dense::new(dev, channels, hidden, rng)?,
            out: Dense::new(dev, hidden, channels, rng)?,
        })
    }
}

parameters!(Mlp { hidden, out });

/// One Mixer block (pre-norm): `x + TokenMlp(LN(x))`, then `x + ChannelMlp(LN(x))`.
#[derive(Clone, Debug)]
pub struct MixerBlock<D: Device<f32>> {
    /// Norm before token mixing.
    pub token_norm: LayerNorm<D>,
    /// Token mixing.
    pub tokens: Mlp<D>,
    /// Norm before channel mixing.
    pub channel_norm: LayerNorm<D>,
    /// Channel mixing.
    pub channels: Mlp<D>,
}

impl<D: Kernels> MixerBlock<D> {
    /// A block over `tokens` tokens of `width` channels, with the two MLPs' hidden sizes.
    pub fn new(
        dev: &D,
        tokens: usize,
        width: usize,
        token_hidden: usize,
        channel_hidden: usize,
        rng: &mut Rng,
    ) -> Result<Self, D::Err> {
        Ok(MixerBlock {
            token_norm: LayerNorm::new(dev, width)?,
            tokens: Mlp::new(dev, tokens, token_hidden, rng)?,
            channel_norm: LayerNorm::new(dev, width)?,
            channels: Mlp::new(dev, width, channel_hidden, rng)?,
        })
    }

    /// Applies the block to `x` (`(batch × tokens, width)`).
    pub fn forward<T: Tape<f32, D>>(
        &self,
        x: Act<D, T>,
        batch: usize,
    ) -> Result<Act<D, T>, D::Err> {
        let x = D::residual_mlp(
            x,
            &self.token_norm,
            &self.tokens,
            Mixing::Tokens { images: batch },
        )?;
        D::residual_mlp(x, &self.channel_norm, &self.channels, Mixing::Channels)
    }
}

parameters!(MixerBlock {
    token_norm,
    tokens,
    channel_norm,
    channels
});
