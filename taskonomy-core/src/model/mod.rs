//! The networks of steps I and II: one encoder architecture shared by every task, a decoder per output
//! kind generated from each task's declaration, and the small readouts that transfer frozen
//! representations to a target.
//!
//! dfdx 0.13 has no convolutions on stable Rust, so the encoder is an MLP-Mixer (Tolstikhin et al., 2021):
//! the image is cut into `patch × patch` patches, each patch becomes a token, and blocks alternate mixing
//! across tokens with mixing across channels. Its output, a grid of `tokens × bottleneck` values, is this
//! library's counterpart of the paper's 16×16×8 representation.
//!
//! Sizes are chosen at run time ([`Arch`], from a preset) because one run builds networks for outputs
//! declared as types (`Classes<1000>`, `Dense<3>`): a compile-time size would force one Rust type per task.
//! Which head a task gets follows its [`OutputShape`]: per-pixel outputs are decoded token by token into
//! their patch, image-level outputs are pooled over tokens ([`OutputLayout`]).
//!
//! Inputs and per-pixel labels are laid out by patch on the host ([`patchify`]), so the networks never
//! permute an image. The activation is ReLU: dfdx evaluates GELU's `tanh` through scalar libm calls, which
//! took a third of a training step on the CPU.

pub mod device;
pub(crate) mod host_loss;
pub mod kernels;
pub mod layers;
pub mod loss;
pub mod network;
#[cfg(test)]
mod numeric_tests;
pub mod params;

use serde::{Deserialize, Serialize};

use crate::spec::{OutputKind, OutputShape};

pub use device::DeviceKind;
pub use kernels::Kernels;
pub use loss::{output_block, per_image_loss, Target};
pub use network::{combine_views, Encoder, Head, Network};
pub use params::{Adam, Parameters};

/// Why a network could not be built, run, saved or loaded.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The architecture's sizes do not fit together.
    #[error("invalid architecture: {0}")]
    Arch(String),
    /// A weight file could not be written or read, or does not match the network.
    #[error("{what}: {message}")]
    Weights {
        /// The file (or what was being converted).
        what: String,
        /// What went wrong.
        message: String,
    },
    /// A batch does not fit the network or the loss.
    #[error("batch: {0}")]
    Batch(String),
    /// The device reported an error (out of memory, a failed kernel).
    #[error("device error: {0}")]
    Device(String),
}

impl ModelError {
    /// Wraps a device error.
    pub fn device(e: impl std::fmt::Display) -> Self {
        ModelError::Device(e.to_string())
    }
}

/// The sizes of every network of a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Arch {
    /// Side of the square input images, in pixels.
    pub image_size: usize,
    /// Side of a patch; `image_size` must be a multiple of it.
    pub patch: usize,
    /// Channels per token inside the encoder.
    pub width: usize,
    /// Channels per token of the representation: the encoder ends in a projection to this many, the
    /// counterpart of the 8 channels of the paper's 16×16×8 representation. A bottleneck matters to the
    /// method: a representation as large as the image keeps everything, and then any encoder, even a
    /// random one, transfers about equally well.
    pub bottleneck: usize,
    /// Mixer blocks of the encoder.
    pub depth: usize,
    /// Hidden units of every token-mixing MLP.
    pub token_hidden: usize,
    /// Hidden units of the encoder's channel-mixing MLPs.
    pub channel_hidden: usize,
    /// Channels per token inside a task decoder.
    pub decoder_width: usize,
    /// Mixer blocks of a task decoder.
    pub decoder_depth: usize,
    /// Hidden units of a readout.
    pub readout_width: usize,
    /// Mixer blocks of a readout: 0 gives the paper's two-layer transfer function (applied to every
    /// token); a block adds mixing across tokens, the counterpart of a convolution's spatial extent.
    pub readout_depth: usize,
}

impl Arch {
    /// Tokens per image: `(image_size / patch)²`.
    pub fn tokens(&self) -> usize {
        let side = self.image_size / self.patch.max(1);
        side * side
    }

    /// Values per input token: 3 colour channels of `patch²` pixels.
    pub fn patch_values(&self) -> usize {
        3 * self.patch * self.patch
    }

    /// Checks that the sizes are positive and fit together.
    pub fn validate(&self) -> Result<(), ModelError> {
        let sizes = [
            ("image_size", self.image_size),
            ("patch", self.patch),
            ("width", self.width),
            ("bottleneck", self.bottleneck),
            ("token_hidden", self.token_hidden),
            ("channel_hidden", self.channel_hidden),
            ("decoder_width", self.decoder_width),
            ("readout_width", self.readout_width),
        ];
        if let Some((name, _)) = sizes.iter().find(|(_, v)| *v == 0) {
            return Err(ModelError::Arch(format!("`{name}` must be positive")));
        }
        if self.image_size.checked_rem(self.patch) != Some(0) {
            return Err(ModelError::Arch(format!(
                "image_size {} is not a multiple of patch {}",
                self.image_size, self.patch
            )));
        }
        Ok(())
    }
}

/// What a task's head produces, from the task's declared output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputLayout {
    /// `channels` values per pixel (dense regression, pixel classes, pixel embeddings): every token is
    /// decoded into its `patch × patch` pixels.
    PerPixel {
        /// Values per pixel.
        channels: usize,
    },
    /// `outputs` values per image (classes, labels, vectors): tokens are pooled first.
    PerImage {
        /// Values per image.
        outputs: usize,
    },
    /// `channels` values per token: another network's representation, the output of the mappings that
    /// measure transitive transfer (`s → i`, then `i`'s readout to `t`).
    PerToken {
        /// Tokens per image.
        tokens: usize,
        /// Values per token.
        channels: usize,
    },
}

impl OutputLayout {
    /// The layout of an output shape: per pixel for `Dense`, `PixelClasses`, `PixelEmbedding`, per image
    /// otherwise.
    pub fn of(shape: OutputShape) -> Self {
        match shape.kind {
            OutputKind::Dense | OutputKind::PixelClasses | OutputKind::PixelEmbedding => {
                OutputLayout::PerPixel {
                    channels: shape.size,
                }
            }
            OutputKind::Classes | OutputKind::MultiLabel | OutputKind::Vector => {
                OutputLayout::PerImage {
                    outputs: shape.size,
                }
            }
        }
    }

    /// Values a head emits per token (per pixel of its patch, or per token) or per image (pooled).
    pub fn head_outputs(self, patch: usize) -> usize {
        match self {
            OutputLayout::PerPixel { channels } => channels * patch * patch,
            OutputLayout::PerImage { outputs } => outputs,
            OutputLayout::PerToken { channels, .. } => channels,
        }
    }

    /// Values per position of the loss: channels per pixel or token, or outputs for the single image
    /// position.
    pub fn channels(self) -> usize {
        match self {
            OutputLayout::PerPixel { channels } | OutputLayout::PerToken { channels, .. } => {
                channels
            }
            OutputLayout::PerImage { outputs } => outputs,
        }
    }

    /// Positions of the loss per image: pixels, tokens, or 1.
    pub fn positions(self, image_size: usize) -> usize {
        match self {
            OutputLayout::PerPixel { .. } => image_size * image_size,
            OutputLayout::PerImage { .. } => 1,
            OutputLayout::PerToken { tokens, .. } => tokens,
        }
    }
}

/// The position of pixel `(row, col)` in patch order: tokens row-major, then pixels row-major within the
/// token's patch. Per-pixel labels and predictions are compared in this order.
pub fn patch_order(row: usize, col: usize, image_size: usize, patch: usize) -> usize {
    let side = image_size / patch;
    let token = (row / patch) * side + col / patch;
    token * patch * patch + (row % patch) * patch + col % patch
}

/// The pixel `(row, col)` at `position` in patch order: the inverse of [`patch_order`].
pub fn patch_pixel(position: usize, image_size: usize, patch: usize) -> (usize, usize) {
    let side = image_size / patch;
    let (token, within) = (position / (patch * patch), position % (patch * patch));
    (
        (token / side) * patch + within / patch,
        (token % side) * patch + within % patch,
    )
}

/// Cuts interleaved `image_size × image_size × channels` images (row-major, channels last) into
/// tokens: the result is `(images × tokens) × (patch² × channels)`, row-major, each token's values ordered
/// pixel-major then channel, so that `values[patch_order(r, c) * channels + k]` is pixel `(r, c)`'s
/// channel `k`. The same function lays out the inputs of the encoder and the per-pixel labels.
pub fn patchify(pixels: &[f32], channels: usize, image_size: usize, patch: usize) -> Vec<f32> {
    let per_image = image_size * image_size * channels;
    let mut out = vec![0.0; pixels.len()];
    for (src, dst) in pixels
        .chunks_exact(per_image)
        .zip(out.chunks_exact_mut(per_image))
    {
        for row in 0..image_size {
            for col in 0..image_size {
                let from = (row * image_size + col) * channels;
                let to = patch_order(row, col, image_size, patch) * channels;
                dst[to..to + channels].copy_from_slice(&src[from..from + channels]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_order_is_a_permutation() {
        let (size, patch) = (8, 4);
        let mut seen = vec![false; size * size];
        for r in 0..size {
            for c in 0..size {
                let i = patch_order(r, c, size, patch);
                assert!(!seen[i]);
                seen[i] = true;
            }
        }
        // The second token starts at the top-left pixel of the second patch of the first row.
        assert_eq!(patch_order(0, 4, size, patch), 16);
        assert_eq!(patch_order(4, 0, size, patch), 32);
        for r in 0..size {
            for c in 0..size {
                assert_eq!(
                    patch_pixel(patch_order(r, c, size, patch), size, patch),
                    (r, c)
                );
            }
        }
    }

    #[test]
    fn patchify_groups_each_patch() {
        // A 4×4 image with 2 channels, value = 10·row + col (channel 1 negated), patches of 2.
        let mut pixels = Vec::new();
        for r in 0..4 {
            for c in 0..4 {
                let v = (10 * r + c) as f32;
                pixels.extend([v, -v]);
            }
        }
        let tokens = patchify(&pixels, 2, 4, 2);
        // Token 1 is the top-right patch: pixels (0,2), (0,3), (1,2), (1,3).
        assert_eq!(
            &tokens[8..16],
            &[2.0, -2.0, 3.0, -3.0, 12.0, -12.0, 13.0, -13.0]
        );
    }

    #[test]
    fn layouts_follow_the_output_kind() {
        let depth = OutputShape::new(OutputKind::Dense, 1);
        let scene = OutputShape::new(OutputKind::Classes, 365);
        assert_eq!(
            OutputLayout::of(depth),
            OutputLayout::PerPixel { channels: 1 }
        );
        assert_eq!(OutputLayout::of(depth).head_outputs(4), 16);
        assert_eq!(OutputLayout::of(scene).head_outputs(4), 365);
        assert_eq!(OutputLayout::of(scene).positions(32), 1);
        // A representation of 64 tokens of 8 channels: one loss position per token.
        let reps = OutputLayout::PerToken {
            tokens: 64,
            channels: 8,
        };
        assert_eq!(
            (reps.head_outputs(4), reps.positions(32), reps.channels()),
            (8, 64, 8)
        );
    }
}
