//! A study of your own: two new tasks, labelled from the synthetic scenes' geometry, beside three of the
//! paper's, with the whole Taskonomy command line for them.
//!
//! * `material`: the material of every pixel, from the renderer's texture ids (plain paint, tiles,
//!   stripes, wood, speckled plaster or fabric, lights), with a decoder of its own;
//! * `visible_objects`: how many pieces of furniture the view shows.
//!
//! ```sh
//! cargo run --release --example custom_task -- tasks
//! cargo run --release --example custom_task -- run --preset tiny --out runs/material
//! ```
//!
//! The second command renders the scenes with these five tasks' labels, trains a network per task,
//! measures every transfer, plans the taxonomy at every budget and writes `runs/material/report.html`.

use std::process::ExitCode;

use taskonomy::data::labels::{one_hot, Pixels};
use taskonomy::data::scene::Pattern;
use taskonomy::data::view::SceneView;
use taskonomy::prelude::*;
use taskonomy::tasks::{Depth, Edges2D, SurfaceNormals};

#[global_allocator]
static ALLOCATOR: taskonomy::cli::FastAllocator = taskonomy::cli::FastAllocator;

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

impl Decoder<PixelClasses<6>> for MaterialDecoder {}

/// The material class of every pixel: 0 plain paint, 1 tiles (checker), 2 stripes, 3 wood, 4 speckled
/// (plaster, carpet, fabric, foliage), 5 a light source.
pub fn material(view: &SceneView) -> Pixels<u32> {
    view.map(|i| {
        let material = &view.materials()[usize::from(view.material()[i])];
        if material.emission > 0.0 {
            return 5;
        }
        match material.pattern {
            Pattern::Plain => 0,
            Pattern::Checker { .. } => 1,
            Pattern::Stripes { .. } => 2,
            Pattern::Wood { .. } => 3,
            Pattern::Speckle { .. } => 4,
        }
    })
}

/// How many objects can be seen: 0 to 6, or 7 and more.
pub fn visible_objects(view: &SceneView) -> [f32; 8] {
    let mut seen: Vec<u16> = view.object().iter().copied().filter(|&o| o > 0).collect();
    seen.sort_unstable();
    seen.dedup();
    one_hot(seen.len().min(7))
}

/// Material of every pixel: paint, tiles, stripes, wood, speckle or light.
///
/// Labelling materials by hand is slow, so the label cost is three times that of a standard task, and
/// getting materials right matters twice as much to us.
#[task(
    output = PixelClasses<6>,
    loss = CrossEntropy,
    label = material,
    encoding = Png8,
    aliases = ["rgb2material"],
    domain = "material",
    label_cost = 3.0,
    importance = 2.0,
    decoder = MaterialDecoder
)]
pub struct Material;

/// The number of visible pieces of furniture (0 to 6, or 7 and more).
#[task(output = Classes<8>, loss = CrossEntropy, label = visible_objects)]
pub struct VisibleObjects;

task_dictionary! {
    /// Which geometric task helps material recognition most, and does counting objects help either?
    pub MaterialStudy {
        sources: [Depth, SurfaceNormals, Edges2D, Material, VisibleObjects],
        targets: [Material, VisibleObjects, Depth, SurfaceNormals],
    }
}

fn main() -> ExitCode {
    taskonomy::cli::main::<MaterialStudy>()
}
