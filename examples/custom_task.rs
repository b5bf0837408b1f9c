//! A task of your own, with its own output, loss and decoder, in a small dictionary next to three
//! standard Taskonomy tasks.
//!
//! Run with `cargo run --example custom_task`.

use taskonomy::model::{device, Network, Parameters};
use taskonomy::prelude::*;
use taskonomy::tasks::{Depth, Edges3D, SurfaceNormals};
use taskonomy::train::Preset;

/// A decoder for per-pixel material classes: twice as wide as the preset's decoder and two Mixer blocks
/// deep, because telling materials apart takes more than reading geometry off the representation.
pub struct MaterialDecoder;

impl DecoderInfo for MaterialDecoder {
    const NAME: &'static str = "MaterialDecoder";
    const SHAPE: DecoderShape = DecoderShape {
        blocks: Some(2),
        width_factor: 2,
    };
}

impl Decoder<PixelClasses<12>> for MaterialDecoder {}

/// Material of every pixel: wood, metal, fabric, glass, ... (12 classes).
///
/// Labelling materials by hand is slow, so the label cost is three times that of a standard task, and
/// getting materials right matters twice as much to us.
#[task(
    output = PixelClasses<12>,
    loss = CrossEntropy,
    aliases = ["rgb2material"],
    domain = "material",
    label_cost = 3.0,
    importance = 2.0,
    decoder = MaterialDecoder
)]
pub struct Material;

task_dictionary! {
    /// Which geometric task helps material recognition most?
    pub MaterialStudy {
        sources: [Depth, SurfaceNormals, Edges3D],
        targets: [Material, Depth],
    }
}

fn main() {
    println!("{}: {}\n", MaterialStudy::NAME, MaterialStudy::DOC);
    let header = ["task", "output", "loss", "ℓ", "r", "decoder", "role"];
    // Each task's network as the `small` preset builds it: the shared encoder and the declared decoder.
    let dev = device::cpu();
    let arch = Preset::Small.settings().arch;
    println!(
        "{:<16} {:<18} {:<13} {:>5} {:>5}  {:<34} {}",
        header[0], header[1], header[2], header[3], header[4], header[5], header[6]
    );
    for &task in MaterialStudy::ALL {
        let spec = task.spec();
        let role = match (task.is_source(), task.is_target()) {
            (true, true) => "source, target",
            (true, false) => "source",
            _ => "target",
        };
        let decoder = match Network::for_task(&dev, &arch, spec, 0) {
            Ok(network) => format!("{} ({} weights)", spec.decoder, network.head.num_params()),
            Err(e) => format!("{} (cannot be built: {e})", spec.decoder),
        };
        println!(
            "{:<16} {:<18} {:<13} {:>5} {:>5}  {:<34} {}",
            spec.name,
            spec.output.to_string(),
            spec.loss.to_string(),
            spec.label_cost,
            spec.importance,
            decoder,
            role
        );
    }
    let material = MaterialStudy::from_name("rgb2material").map(|task| task.spec());
    if let Some(spec) = material {
        println!("\n{} ({}):\n{}", spec.name, spec.type_name, spec.doc);
    }
}
