//! Decoders: the task-specific part of a task network, from the shared encoder's representation to the
//! task's output.
//!
//! As in the paper, every task shares one encoder architecture and differs only in its decoder. A task gets
//! the default decoder of its output kind ([`Output::DefaultDecoder`](crate::spec::Output)) unless its
//! declaration names another (`#[task(decoder = MyDecoder, ...)]`). A decoder states which outputs it can
//! produce by implementing [`Decoder`] for them, so naming a decoder that cannot produce the task's output
//! is a type error at the declaration.
//!
//! A decoder also declares its [`DecoderShape`]: how many Mixer blocks and how wide, relative to the
//! preset's decoder. Whether it decodes every token into its patch or pools the tokens first follows the
//! output kind, which the `Decoder<O>` bounds already tie it to.
//!
//! ```
//! use taskonomy_core::decoder::{Decoder, DecoderInfo, DecoderShape};
//! use taskonomy_core::spec::PixelClasses;
//!
//! /// A deeper, wider decoder for fine per-pixel classes.
//! struct MaterialDecoder;
//! impl DecoderInfo for MaterialDecoder {
//!     const NAME: &'static str = "MaterialDecoder";
//!     const SHAPE: DecoderShape = DecoderShape { blocks: Some(3), width_factor: 2 };
//! }
//! impl<const N: usize> Decoder<PixelClasses<N>> for MaterialDecoder {}
//! ```

pub use crate::spec::DecoderShape;
use crate::spec::{Classes, Dense, MultiLabel, Output, PixelClasses, PixelEmbedding, Vector};

/// What every decoder has, whatever it produces.
///
/// Kept apart from [`Decoder`] so that a task spec can name its decoder even while the compiler reports
/// that the decoder cannot produce the task's output: one mistake, one error.
pub trait DecoderInfo: 'static {
    /// The decoder's name, shown in task listings.
    const NAME: &'static str;
    /// Its depth and width relative to the preset's decoder (by default the preset's own).
    const SHAPE: DecoderShape = DecoderShape::PRESET;
}

/// A decoder that can produce outputs of type `O`.
#[diagnostic::on_unimplemented(
    message = "decoder `{Self}` cannot produce output `{O}`",
    label = "this decoder does not implement `Decoder<{O}>`",
    note = "`PixelDecoder` produces per-pixel outputs, `PooledHead` image-level ones"
)]
pub trait Decoder<O: Output>: DecoderInfo {}

/// Per-pixel decoder: turns the encoder's token grid back into an image of `N` values per pixel (the
/// counterpart of the paper's convolutional decoder for dense tasks).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PixelDecoder;

/// Image-level head: pools the representation and maps it through a small fully connected network (the
/// paper's decoder for classification and low-dimensional regression).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PooledHead;

impl DecoderInfo for PixelDecoder {
    const NAME: &'static str = "PixelDecoder";
}
impl DecoderInfo for PooledHead {
    const NAME: &'static str = "PooledHead";
}

impl<const N: usize> Decoder<Dense<N>> for PixelDecoder {}
impl<const N: usize> Decoder<PixelClasses<N>> for PixelDecoder {}
impl<const N: usize> Decoder<PixelEmbedding<N>> for PixelDecoder {}
impl<const N: usize> Decoder<Classes<N>> for PooledHead {}
impl<const N: usize> Decoder<MultiLabel<N>> for PooledHead {}
impl<const N: usize> Decoder<Vector<N>> for PooledHead {}
