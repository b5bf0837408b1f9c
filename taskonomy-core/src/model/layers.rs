//! The layers every network here is built from: fully connected layers over tokens, layer norm, and the
//! MLP-Mixer block (Tolstikhin et al., 2021).
//!
//! Activations are kept as one matrix of `rows = batch × tokens` by `channels`, so a per-token layer is a
//! single matrix product (dfdx multiplies a 3-D tensor by a matrix one batch item at a time, which costs
//! more than the arithmetic at these sizes). Only token mixing looks at the `(batch, tokens, channels)`
//! view, through a batched product with the weight broadcast over the batch, so no activation is ever
//! transposed.

use dfdx::prelude::*;

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

impl<D: Device<f32>> Dense<D> {
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
        let rows = x.shape().0;
        let y = x.try_matmul(self.weight.retaped::<T>())?;
        let b = self
            .bias
            .retaped::<T>()
            .try_broadcast_like::<_, Axis<0>>(&(rows, self.output()))?;
        y.try_add(b)
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

impl<D: Device<f32>> LayerNorm<D> {
    /// A layer norm over `channels`.
    pub fn new(dev: &D, channels: usize) -> Result<Self, D::Err> {
        Ok(LayerNorm {
            gamma: dev.try_ones_like(&(channels,))?,
            beta: dev.try_zeros_like(&(channels,))?,
        })
    }

    /// Normalises every row of `x` to zero mean and unit variance, then scales and shifts.
    pub fn forward<T: Tape<f32, D>>(&self, x: Act<D, T>) -> Result<Act<D, T>, D::Err> {
        let shape = *x.shape();
        let x = x.try_normalize::<Axis<1>>(LAYER_NORM_EPS)?;
        let gamma = self
            .gamma
            .retaped::<T>()
            .try_broadcast_like::<_, Axis<0>>(&shape)?;
        let beta = self
            .beta
            .retaped::<T>()
            .try_broadcast_like::<_, Axis<0>>(&shape)?;
        x.try_mul(gamma)?.try_add(beta)
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

/// A two-layer MLP across the tokens of each image, applied to every channel: the token-mixing half of a
/// Mixer block. Weights are stored `out × in`, the orientation in which they multiply a
/// `(tokens, channels)` image from the left.
#[derive(Clone, Debug)]
pub struct TokenMlp<D: Device<f32>> {
    /// `hidden × tokens`.
    pub hidden_weight: Matrix<D>,
    /// `hidden`.
    pub hidden_bias: Vector<D>,
    /// `tokens × hidden`.
    pub out_weight: Matrix<D>,
    /// `tokens`.
    pub out_bias: Vector<D>,
}

impl<D: Device<f32>> TokenMlp<D> {
    /// Mixing over `tokens` through `hidden` units.
    pub fn new(dev: &D, tokens: usize, hidden: usize, rng: &mut Rng) -> Result<Self, D::Err> {
        let b1 = 1.0 / (tokens as f32).sqrt();
        let b2 = 1.0 / (hidden as f32).sqrt();
        Ok(TokenMlp {
            hidden_weight: uniform(dev, (hidden, tokens), b1, rng)?,
            hidden_bias: uniform(dev, (hidden,), b1, rng)?,
            out_weight: uniform(dev, (tokens, hidden), b2, rng)?,
            out_bias: uniform(dev, (tokens,), b2, rng)?,
        })
    }

    /// Mixes the tokens of `x` (`(batch × tokens, channels)`) for each channel.
    pub fn forward<T: Tape<f32, D>>(
        &self,
        x: Act<D, T>,
        batch: usize,
    ) -> Result<Act<D, T>, D::Err> {
        let (rows, channels) = *x.shape();
        let tokens = rows / batch;
        let hidden = self.hidden_bias.shape().0;
        let x = x.try_reshape_like(&(batch, tokens, channels))?;
        let w1 = self
            .hidden_weight
            .retaped::<T>()
            .try_broadcast_like::<_, Axis<0>>(&(batch, hidden, tokens))?;
        let b1 = self
            .hidden_bias
            .retaped::<T>()
            .try_broadcast_like::<_, Axes2<0, 2>>(&(batch, hidden, channels))?;
        let h = w1.try_matmul(x)?.try_add(b1)?.try_relu()?;
        let w2 = self
            .out_weight
            .retaped::<T>()
            .try_broadcast_like::<_, Axis<0>>(&(batch, tokens, hidden))?;
        let b2 = self
            .out_bias
            .retaped::<T>()
            .try_broadcast_like::<_, Axes2<0, 2>>(&(batch, tokens, channels))?;
        w2.try_matmul(h)?
            .try_add(b2)?
            .try_reshape_like(&(rows, channels))
    }
}

impl<D: Device<f32>> Parameters<D> for TokenMlp<D> {
    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(String, ParamRef<'a, D>)) {
        f(
            join(prefix, "hidden_weight"),
            ParamRef::Matrix(&self.hidden_weight),
        );
        f(
            join(prefix, "hidden_bias"),
            ParamRef::Vector(&self.hidden_bias),
        );
        f(
            join(prefix, "out_weight"),
            ParamRef::Matrix(&self.out_weight),
        );
        f(join(prefix, "out_bias"), ParamRef::Vector(&self.out_bias));
    }
    fn visit_mut(&mut self, prefix: &str, f: &mut dyn FnMut(String, ParamMut<'_, D>)) {
        f(
            join(prefix, "hidden_weight"),
            ParamMut::Matrix(&mut self.hidden_weight),
        );
        f(
            join(prefix, "hidden_bias"),
            ParamMut::Vector(&mut self.hidden_bias),
        );
        f(
            join(prefix, "out_weight"),
            ParamMut::Matrix(&mut self.out_weight),
        );
        f(
            join(prefix, "out_bias"),
            ParamMut::Vector(&mut self.out_bias),
        );
    }
}

/// A two-layer MLP applied to every token: `Dense → ReLU → Dense`.
#[derive(Clone, Debug)]
pub struct ChannelMlp<D: Device<f32>> {
    /// `channels → hidden`.
    pub hidden: Dense<D>,
    /// `hidden → channels`.
    pub out: Dense<D>,
}

impl<D: Device<f32>> ChannelMlp<D> {
    /// An MLP from `channels` through `hidden` back to `channels`.
    pub fn new(dev: &D, channels: usize, hidden: usize, rng: &mut Rng) -> Result<Self, D::Err> {
        Ok(ChannelMlp {
            hidden: Dense::new(dev, channels, hidden, rng)?,
            out: Dense::new(dev, hidden, channels, rng)?,
        })
    }

    /// Applies the MLP to every row of `x`.
    pub fn forward<T: Tape<f32, D>>(&self, x: Act<D, T>) -> Result<Act<D, T>, D::Err> {
        self.out.forward(self.hidden.forward(x)?.try_relu()?)
    }
}

impl<D: Device<f32>> Parameters<D> for ChannelMlp<D> {
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
    pub tokens: TokenMlp<D>,
    /// Norm before channel mixing.
    pub channel_norm: LayerNorm<D>,
    /// Channel mixing.
    pub channels: ChannelMlp<D>,
}

impl<D: Device<f32>> MixerBlock<D> {
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
            tokens: TokenMlp::new(dev, tokens, token_hidden, rng)?,
            channel_norm: LayerNorm::new(dev, width)?,
            channels: ChannelMlp::new(dev, width, channel_hidden, rng)?,
        })
    }

    /// Applies the block to `x` (`(batch × tokens, width)`).
    pub fn forward<T: Tape<f32, D>>(
        &self,
        x: Act<D, T>,
        batch: usize,
    ) -> Result<Act<D, T>, D::Err> {
        let mixed = self
            .tokens
            .forward(self.token_norm.forward(x.with_empty_tape())?, batch)?;
        let x = mixed.try_add(x)?;
        let mixed = self
            .channels
            .forward(self.channel_norm.forward(x.with_empty_tape())?)?;
        mixed.try_add(x)
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
