//! taskonomy-rs: the Taskonomy method (Zamir et al., CVPR 2018) as an embedded scientific DSL.
//!
//! This facade re-exports the runtime ([`taskonomy_core`]), the declaration macros ([`macro@task`],
//! [`task_dictionary!`]), the standard dictionary ([`tasks::Taskonomy`]) and the command line for any
//! dictionary ([`cli`]), and gathers what a user needs in [`prelude`].
//!
//! ```
//! use taskonomy::prelude::*;
//!
//! /// Per-pixel z-buffer depth, in metres: on the synthetic scenes, the renderer's depth buffer.
//! #[task(output = Dense<1>, loss = L1, label = depth, domain = "depth_zbuffer", aliases = ["rgb2depth"])]
//! pub struct Depth;
//!
//! fn depth(view: &SceneView) -> Pixels<[f32; 1]> {
//!     view.map(|i| [view.depth()[i]])
//! }
//!
//! /// Which of eight room types the image shows, read from `class_scene/*.npy` in a dataset.
//! #[task(output = Classes<8>, loss = CrossEntropy, encoding = Npy, importance = 2.0)]
//! pub struct SceneClass;
//!
//! task_dictionary! {
//!     /// Two tasks: depth helps scene classification.
//!     pub Tiny { sources: [Depth], targets: [Depth, SceneClass] }
//! }
//!
//! fn main() {
//!     assert_eq!(Tiny::from_name("rgb2depth"), Some(Tiny::Depth));
//!     assert_eq!(Tiny::SceneClass.spec().name, "scene_class");
//!     assert_eq!(Tiny::SceneClass.spec().importance, 2.0);
//!     assert!(!Tiny::SceneClass.is_source());
//! }
//! ```
//!
//! A dictionary lists tasks declared or imported in its module, so declare both at module level (as
//! above), not inside a function.

// One exception, allowed where it is: the CUDA driver asked for a device before dfdx touches it
// (`cli::device`, with the `cuda` feature).
#![deny(unsafe_code)]
#![warn(missing_docs)]

// The macros name this crate `::taskonomy`; this makes that path work inside its own examples and tests.
extern crate self as taskonomy;

pub use taskonomy_core::*;
pub use taskonomy_macros::{task, task_dictionary};

/// The standard dictionary: the 26 tasks of the paper.
pub mod tasks {
    pub use taskonomy_tasks::*;
}

pub mod cli;

/// Everything needed to declare tasks (their outputs, losses, decoders and label functions) and
/// dictionaries, and to look them up.
pub mod prelude {
    pub use crate::data::labels::{one_hot, Pixels, RgbImage};
    pub use crate::data::layout::PointInfo;
    pub use crate::data::view::SceneView;
    pub use crate::decoder::{Decoder, DecoderInfo, DecoderShape, PixelDecoder, PooledHead};
    pub use crate::spec::{
        BinaryCrossEntropy, Classes, Contrastive, Cosine, CrossEntropy, Dense, Dictionary,
        Encoding, Huber, Labelling, LossKind, MultiLabel, OutputKind, OutputShape, PixelClasses,
        PixelEmbedding, Sampling, Task, TaskSpec, Vector, L1, L2,
    };
    pub use crate::tasks::Taskonomy;
    pub use taskonomy_macros::{task, task_dictionary};
}

// The README's examples are compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
