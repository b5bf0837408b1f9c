//! The encoder, the heads (task decoders and transfer readouts), and a whole task network.

use dfdx::prelude::*;

use super::kernels::Kernels;
use super::layers::{Act, Dense, LayerNorm, MixerBlock};
use super::params::{parameters, Matrix};
use super::{Arch, ModelError, OutputLayout};
use crate::data::rng::{derive_seed, Rng};
use crate::spec::{DecoderShape, TaskSpec};

/// The encoder shared (as an architecture) by every task: patch embedding plus learned position
/// embedding, Mixer blocks, a layer norm, and a projection to the representation's `bottleneck`
/// channels. Its output for one image is `tokens × bottleneck` values.
#[derive(Clone, Debug)]
pub struct Encoder<D: Device<f32>> {
    /// Patch values → token channels.
    pub embed: Dense<D>,
    /// One learned vector per token position, `tokens × width`.
    pub position: Matrix<D>,
    /// The Mixer blocks.
    pub blocks: Vec<MixerBlock<D>>,
    /// The norm after the blocks.
    pub norm: LayerNorm<D>,
    /// Channels → representation channels.
    pub project: Dense<D>,
}

impl<D: Kernels> Encoder<D> {
    /// A freshly initialised encoder of the sizes in `arch`, its weights drawn from `seed`.
    pub fn new(dev: &D, arch: &Arch, seed: u64) -> Result<Self, ModelError> {
        arch.validate()?;
        let build = || -> Result<Self, D::Err> {
            let mut rng = Rng::new(seed, &[]);
            let embed = Dense::new(dev, arch.patch_values(), arch.width, &mut rng)?;
            let position: Vec<f32> = (0..arch.tokens() * arch.width)
                .map(|_| (0.02 * rng.normal()) as f32)
                .collect();
            let position = dev.try_tensor_from_vec(position, (arch.tokens(), arch.width))?;
            let blocks = (0..arch.depth)
                .map(|_| {
                    MixerBlock::new(
                        dev,
                        arch.tokens(),
                        arch.width,
                        arch.token_hidden,
                        arch.channel_hidden,
                        &mut rng,
                    )
                })
                .collect::<Result<_, _>>()?;
            Ok(Encoder {
                embed,
                position,
                blocks,
                norm: LayerNorm::new(dev, arch.width)?,
                project: Dense::new(dev, arch.width, arch.bottleneck, &mut rng)?,
            })
        };
        build().map_err(ModelError::device)
    }

    /// Channels per token inside the encoder.
    pub fn width(&self) -> usize {
        self.embed.output()
    }

    /// Channels per token of the representation.
    pub fn bottleneck(&self) -> usize {
        self.project.output()
    }

    /// Tokens per image.
    pub fn tokens(&self) -> usize {
        self.position.shape().0
    }

    /// The representation of `images` images given as patch tokens `(images × tokens, patch values)`:
    /// `(images × tokens, bottleneck)`.
    pub fn forward<T: Tape<f32, D>>(
        &self,
        patches: Act<D, T>,
        images: usize,
    ) -> Result<Act<D, T>, ModelError> {
        let (rows, values) = *patches.shape();
        if values != self.embed.input() {
            return Err(ModelError::Batch(format!(
                "encoder input: expected {} values per token, found {values}",
                self.embed.input()
            )));
        }
        check_rows("encoder input", rows, images * self.tokens())?;
        let run = move || -> Result<Act<D, T>, D::Err> {
            let mut x = D::embed(patches, &self.embed, &self.position)?;
            for block in &self.blocks {
                x = block.forward(x, images)?;
            }
            self.project.forward(self.norm.forward(x)?)
        };
        run().map_err(ModelError::device)
    }
}

fn check_rows(what: &str, found: usize, expected: usize) -> Result<(), ModelError> {
    if found == expected {
        Ok(())
    } else {
        Err(ModelError::Batch(format!(
            "{what}: expected {expected} rows, found {found}"
        )))
    }
}

parameters!(Encoder {
    embed,
    position,
    blocks,
    norm,
    project
});

/// A head from representations to a task's output: an input layer (which also merges views and
/// sources, concatenated along channels), optional Mixer blocks, and an output layer that either decodes
/// every token into its patch or pools the tokens and emits one vector per image.
///
/// A task decoder ([`Head::decoder`]) has Mixer blocks; a transfer readout ([`Head::readout`]) is the
/// paper's two layers.
#[derive(Clone, Debug)]
pub struct Head<D: Device<f32>> {
    /// Input channels → head width.
    pub input: Dense<D>,
    /// Mixer blocks at the head width.
    pub blocks: Vec<MixerBlock<D>>,
    /// Norm before the output layer, when there are blocks.
    pub norm: Option<LayerNorm<D>>,
    /// Head width → values per token or per image.
    pub output: Dense<D>,
    /// Whether tokens are averaged before the output layer.
    pub pooled: bool,
}

impl<D: Kernels> Head<D> {
    fn build(
        dev: &D,
        arch: &Arch,
        input: usize,
        width: usize,
        depth: usize,
        layout: OutputLayout,
        seed: u64,
    ) -> Result<Self, ModelError> {
        arch.validate()?;
        let build = || -> Result<Self, D::Err> {
            let rng = &mut Rng::new(seed, &[]);
            let input = Dense::new(dev, input, width, rng)?;
            let blocks = (0..depth)
                .map(|_| {
                    MixerBlock::new(dev, arch.tokens(), width, arch.token_hidden, 2 * width, rng)
                })
                .collect::<Result<Vec<_>, _>>()?;
            let norm = if depth > 0 {
                Some(LayerNorm::new(dev, width)?)
            } else {
                None
            };
            let output = Dense::new(dev, width, layout.head_outputs(arch.patch), rng)?;
            Ok(Head {
                input,
                blocks,
                norm,
                output,
                pooled: matches!(layout, OutputLayout::PerImage { .. }),
            })
        };
        build().map_err(ModelError::device)
    }

    /// A task decoder for `layout` on top of `views` encoder outputs (concatenated along channels), as
    /// deep and wide as `shape` asks relative to the preset's decoder.
    pub fn decoder(
        dev: &D,
        arch: &Arch,
        views: usize,
        layout: OutputLayout,
        shape: DecoderShape,
        seed: u64,
    ) -> Result<Self, ModelError> {
        let width = shape.width(arch.decoder_width);
        if width == 0 {
            return Err(ModelError::Arch(
                "a decoder's width factor must be positive".into(),
            ));
        }
        Self::build(
            dev,
            arch,
            views * arch.bottleneck,
            width,
            shape.blocks(arch.decoder_depth),
            layout,
            seed,
        )
    }

    /// A two-layer readout for `layout` from `channels` input channels per token (`sources × views ×
    /// bottleneck` for a transfer).
    pub fn readout(
        dev: &D,
        arch: &Arch,
        channels: usize,
        layout: OutputLayout,
        seed: u64,
    ) -> Result<Self, ModelError> {
        Self::build(
            dev,
            arch,
            channels,
            arch.readout_width,
            arch.readout_depth,
            layout,
            seed,
        )
    }

    /// Sets the output layer's bias to `bias` (one value per output of a token, or of an image for a
    /// pooled head), so that the head starts from a chosen prediction, such as the task's constant
    /// predictor, rather than a random one.
    pub fn set_output_bias(&mut self, bias: &[f32]) -> Result<(), ModelError> {
        let outputs = self.output.output();
        if bias.len() != outputs {
            return Err(ModelError::Batch(format!(
                "an output bias of {} values for a head of {outputs} outputs",
                bias.len()
            )));
        }
        self.output.bias.copy_from(bias);
        Ok(())
    }

    /// Input channels per token.
    pub fn input_channels(&self) -> usize {
        self.input.input()
    }

    /// The head's output for `(batch × tokens, input channels)`: `(batch × tokens, values per token)`
    /// for a per-pixel head, `(batch, values)` for a pooled one.
    pub fn forward<T: Tape<f32, D>>(
        &self,
        x: Act<D, T>,
        batch: usize,
    ) -> Result<Act<D, T>, ModelError> {
        let (rows, channels) = *x.shape();
        if channels != self.input_channels() || batch == 0 || rows % batch != 0 {
            return Err(ModelError::Batch(format!(
                "head input: expected (batch × tokens, {}) with batch {batch}, found ({rows}, {channels})",
                self.input_channels()
            )));
        }
        let run = || -> Result<Act<D, T>, D::Err> {
            let mut h = self.input.forward_relu(x)?;
            for block in &self.blocks {
                h = block.forward(h, batch)?;
            }
            if let Some(norm) = &self.norm {
                h = norm.forward(h)?;
            }
            if self.pooled {
                let width = h.shape().1;
                h = h
                    .try_reshape_like(&(batch, rows / batch, width))?
                    .try_mean::<(usize, usize), Axis<1>>()?;
            }
            self.output.forward(h)
        };
        run().map_err(ModelError::device)
    }
}

parameters!(Head {
    input,
    blocks,
    norm,
    output
});

/// Concatenates the representations of the `views` views of each sample along channels:
/// `(batch × views × tokens, width)` (views of a sample adjacent) → `(batch × tokens, views × width)`.
pub fn combine_views<D: Kernels, T: Tape<f32, D>>(
    reps: Act<D, T>,
    batch: usize,
    views: usize,
) -> Result<Act<D, T>, ModelError> {
    if views == 1 {
        return Ok(reps);
    }
    let (rows, width) = *reps.shape();
    let tokens = rows / (batch * views).max(1);
    check_rows("views to combine", rows, batch * views * tokens)?;
    let run = || -> Result<Act<D, T>, D::Err> {
        reps.try_reshape_like(&(batch, views, tokens, width))?
            .try_permute::<_, Axes4<0, 2, 1, 3>>()?
            .try_reshape_like(&(batch * tokens, views * width))
    };
    run().map_err(ModelError::device)
}

/// A whole network from pixels to a task's output: the encoder, run on every view, and a head.
///
/// A task network (step I) and the `pixels` baseline of step II (the same architecture trained from
/// scratch on the transfer data) have the task's [`Head::decoder`].
#[derive(Clone, Debug)]
pub struct Network<D: Device<f32>> {
    /// The encoder.
    pub encoder: Encoder<D>,
    /// The head.
    pub head: Head<D>,
    /// Views per sample.
    pub views: usize,
}

impl<D: Kernels> Network<D> {
    /// The network of task `spec`: encoder plus the decoder the task declares, weights drawn from `seed`.
    pub fn for_task(dev: &D, arch: &Arch, spec: &TaskSpec, seed: u64) -> Result<Self, ModelError> {
        Self::task(
            dev,
            arch,
            spec.views,
            OutputLayout::of(spec.output),
            spec.decoder_shape,
            seed,
        )
    }

    /// A task network: encoder plus a decoder of `shape` for `layout`, over `views` views, weights drawn
    /// from `seed`.
    pub fn task(
        dev: &D,
        arch: &Arch,
        views: usize,
        layout: OutputLayout,
        shape: DecoderShape,
        seed: u64,
    ) -> Result<Self, ModelError> {
        let encoder = Encoder::new(dev, arch, derive_seed(seed, &[1]))?;
        let head = Head::decoder(dev, arch, views, layout, shape, derive_seed(seed, &[2]))?;
        Ok(Network {
            encoder,
            head,
            views,
        })
    }

    /// The output for `batch` samples given as patch tokens of all their views,
    /// `(batch × views × tokens, patch values)`, views of a sample adjacent.
    pub fn forward<T: Tape<f32, D>>(
        &self,
        patches: Act<D, T>,
        batch: usize,
    ) -> Result<Act<D, T>, ModelError> {
        let reps = self.encoder.forward(patches, batch * self.views)?;
        self.head
            .forward(combine_views(reps, batch, self.views)?, batch)
    }
}

parameters!(Network { encoder, head });
