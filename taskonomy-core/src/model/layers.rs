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
use super::params::{join, Matrix, ParamMut, ParamRef, Parameters, Vector};
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

impl<D: Device<f32>> Parameters<D> for Dense<D> {
    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(String, ParamRef<'a, D>)) {
        f(join(prefix, "weight"), ParamRef::Matrix(&self.weight));
        f(join(prefix, "bias"), ParamRef::Vector(&self.bias));
    }
    fn visit_mut(&mut self, prefix: &str, f: &mut dyn FnMut(String, ParamMut<'_, D>)) {
        f(join(prefix, "weight"), ParamMut::Matrix(&mut self.weight));
        f(join(prefix, "bias"), ParamMut::Vector(&mut self.bias));
    }
}

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
        D::layer_norm(x, &self.gamma, &self.beta, LAYER_NORM_EPS)
    }
}

impl<D: Device<f32>> Parameters<D> for LayerNorm<D> {
    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(String, ParamRef<'a, D>)) {
        f(join(prefix, "gamma"), ParamRef::Vector(&self.gamma));
        f(join(prefix, "beta"), ParamRef::Vector(&self.beta));
    }
    fn visit_mut(&mut self, prefix: &str, f: &mut dyn FnMut(String, ParamMut<'_, D>)) {
        f(join(prefix, "gamma"), ParamMut::Vector(&mut self.gamma));
        f(join(prefix, "beta"), ParamMut::Vector(&mut self.beta));
    }
}

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

impl<D: Device<f32>> Parameters<D> for Mlp<D> {
    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(String, ParamRef<'a, D>)) {
        self.hidden.visit(&join(prefix, "hidden"), f);
        self.out.visit(&join(prefix, "out"), f);
    }
    fn visit_mut(&mut self, prefix: &str, f: &mut dyn FnMut(String, ParamMut<'_, D>)) {
        self.hidden.visit_mut(&join(prefix, "hidden"), f);
        self.out.visit_mut(&join(prefix, "out"), f);
    }
}

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

impl<D: Device<f32>> Parameters<D> for MixerBlock<D> {
    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(String, ParamRef<'a, D>)) {
        self.token_norm.visit(&join(prefix, "token_norm"), f);
        self.tokens.visit(&join(prefix, "tokens"), f);
        self.channel_norm.visit(&join(prefix, "channel_norm"), f);
        self.channels.visit(&join(prefix, "channels"), f);
    }
    fn visit_mut(&mut self, prefix: &str, f: &mut dyn FnMut(String, ParamMut<'_, D>)) {
        self.token_norm.visit_mut(&join(prefix, "token_norm"), f);
        self.tokens.visit_mut(&join(prefix, "tokens"), f);
        self.channel_norm
            .visit_mut(&join(prefix, "channel_norm"), f);
        self.channels.visit_mut(&join(prefix, "channels"), f);
    }
}
