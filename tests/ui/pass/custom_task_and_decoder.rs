// A user-defined task with its own decoder, next to standard tasks, in a dictionary of its own.
use taskonomy::prelude::*;
use taskonomy::tasks::{Depth, SurfaceNormals};

/// A decoder for three-channel dense outputs, deeper than the preset's.
pub struct GlossDecoder;
impl DecoderInfo for GlossDecoder {
    const NAME: &'static str = "GlossDecoder";
    const SHAPE: DecoderShape = DecoderShape { blocks: Some(3), width_factor: 1 };
}
impl Decoder<Dense<3>> for GlossDecoder {}

/// Specular gloss, per pixel, labelled in a dataset of our own: 16-bit RGB PNGs in `gloss/`.
#[task(
    output = Dense<3>,
    loss = Huber,
    encoding = Png16(scale = 1.0 / 512.0),
    name = "gloss",
    aliases = ["specularity"],
    domain = "gloss",
    label_cost = 3.5,
    importance = 2,
    decoder = GlossDecoder
)]
pub struct Gloss;

task_dictionary! {
    /// Geometry helps gloss.
    pub(crate) Shiny { sources: [Depth, SurfaceNormals], targets: [Gloss, Depth] }
}

fn main() {
    assert_eq!(Shiny::ALL, [Shiny::Depth, Shiny::SurfaceNormals, Shiny::Gloss]);
    assert_eq!(Shiny::TARGETS, [Shiny::Gloss, Shiny::Depth]);
    let gloss = Shiny::from_name("specularity").unwrap().spec();
    assert_eq!(gloss.decoder, "GlossDecoder");
    assert_eq!(gloss.decoder_shape.blocks, Some(3));
    assert_eq!(Shiny::Depth.spec().decoder_shape, DecoderShape::PRESET);
    assert_eq!((gloss.label_cost, gloss.importance), (3.5, 2.0));
    assert_eq!(
        gloss.summary(),
        "Specular gloss, per pixel, labelled in a dataset of our own: 16-bit RGB PNGs in `gloss/`."
    );
    assert_eq!(gloss.labelling, Labelling::Stored);
    assert_eq!(gloss.encoding.unwrap().to_string(), "Png16(scale = 0.001953125)");
    assert_eq!(Shiny::from_name("rgb2sfnorm"), Some(Shiny::SurfaceNormals));
}
