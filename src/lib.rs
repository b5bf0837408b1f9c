//! taskonomy-rs: the Taskonomy method (Zamir et al., CVPR 2018) as an embedded scientific DSL.
//!
//! This facade re-exports the runtime ([`taskonomy_core`]), the declaration macros ([`macro@task`],
//! [`task_dictionary!`]) and the standard dictionary ([`tasks::Taskonomy`]), and gathers what a user
//! needs in [`prelude`].
//!
//! ```
//! use taskonomy::prelude::*;
//!
//! /// Per-pixel z-buffer depth.
//! #[task(output = Dense<1>, loss = L1, domain = "depth_zbuffer", aliases = ["rgb2depth"])]
//! pub struct Depth;
//!
//! /// Which of eight room types the image shows.
//! #[task(output = Classes<8>, loss = CrossEntropy, importance = 2.0)]
//! pub struct SceneClass;
//!
//! task_dictionary! {
//!     /// Two tasks: depth helps scene classification.
//!     pub Tiny { sources: [Depth], targets: [Depth, SceneClass] }
//! }
//!
//! assert_eq!(Tiny::from_name("rgb2depth"), Some(Tiny::Depth));
//! assert_eq!(Tiny::SceneClass.spec().name, "scene_class");
//! assert_eq!(Tiny::SceneClass.spec().importance, 2.0);
//! assert!(!Tiny::SceneClass.is_source());
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

// The macros name this crate `::taskonomy`; this makes that path work inside its own examples and tests.
extern crate self as taskonomy;

pub use taskonomy_core::*;
pub use taskonomy_macros::{task, task_dictionary};

/// The standard dictionary: the 26 tasks of the paper.
pub mod tasks {
    pub use taskonomy_tasks::*;
}

/// Everything needed to declare tasks and dictionaries and to look them up.
pub mod prelude {
    pub use crate::decoder::{Decoder, DecoderInfo, DecoderShape, PixelDecoder, PooledHead};
    pub use crate::spec::{
        BinaryCrossEntropy, Classes, Contrastive, Cosine, CrossEntropy, Dense, Dictionary, Huber,
        LossKind, MultiLabel, OutputKind, OutputShape, PixelClasses, PixelEmbedding, Task,
        TaskSpec, Vector, L1, L2,
    };
    pub use crate::tasks::Taskonomy;
    pub use taskonomy_macros::{task, task_dictionary};
}

// The README's examples are compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
