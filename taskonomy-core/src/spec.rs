//! Tasks as types: output kinds, losses, the [`Task`] trait and task [`Dictionary`]s.
//!
//! Declarations are written with the macros and expand to the items here:
//!
//! ```
//! use taskonomy_core::spec::{Dense, Dictionary, Task, L1};
//! # use taskonomy_core::decoder::PixelDecoder;
//! // What `#[task(output = Dense<1>, loss = L1, aliases = ["rgb2depth"])] struct Depth;` expands to:
//! struct Depth;
//! impl Task for Depth {
//!     type Output = Dense<1>;
//!     type Loss = L1;
//!     type Decoder = PixelDecoder;
//!     const SPEC: taskonomy_core::spec::TaskSpec = taskonomy_core::spec::TaskSpec {
//!         name: "depth",
//!         type_name: "Depth",
//!         aliases: &["rgb2depth"],
//!         domain: "depth",
//!         output: taskonomy_core::spec::OutputShape::new(taskonomy_core::spec::OutputKind::Dense, 1),
//!         loss: taskonomy_core::spec::LossKind::L1,
//!         views: 1,
//!         label_cost: 1.0,
//!         importance: 1.0,
//!         decoder: "PixelDecoder",
//!         decoder_shape: taskonomy_core::spec::DecoderShape::PRESET,
//!         doc: "",
//!     };
//! }
//! assert_eq!(Depth::SPEC.output.to_string(), "Dense<1>");
//! ```

use std::fmt::Debug;
use std::hash::Hash;

pub use taskonomy_spec::{
    assert_distinct_names, closest_match, first_shared_name, is_snake_case,
    snake_case_from_type_name, DecoderShape, LossKind, NameRule, OutputKind, OutputShape,
    ShapeError, TaskSpec, MAX_VIEWS,
};

use crate::decoder::{Decoder, PixelDecoder, PooledHead};

/// A task's output as a type. The implementors are the output kinds written in declarations.
pub trait Output: Sized + 'static {
    /// The kind and size, as plain data.
    const SHAPE: OutputShape;
    /// The decoder a task with this output gets unless it names its own.
    type DefaultDecoder: Decoder<Self>;
}

macro_rules! output_kinds {
    ($($(#[$doc:meta])* $kind:ident => $decoder:ty;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
        pub struct $kind<const N: usize>;

        impl<const N: usize> Output for $kind<N> {
            const SHAPE: OutputShape = OutputShape::new(OutputKind::$kind, N);
            type DefaultDecoder = $decoder;
        }
    )*};
}

output_kinds! {
    /// Per-pixel regression with `N` channels (depth, normals, edges, reshading, autoencoding).
    Dense => PixelDecoder;
    /// Per-pixel classification into `N` classes (semantic segmentation, colour bins).
    PixelClasses => PixelDecoder;
    /// Per-pixel embedding with `N` dimensions (unsupervised segmentation).
    PixelEmbedding => PixelDecoder;
    /// One of `N` classes for the whole image, or a distribution over them.
    Classes => PooledHead;
    /// `N` independent yes/no labels for the whole image.
    MultiLabel => PooledHead;
    /// A fixed-size vector of `N` real numbers (pose, layout, vanishing points).
    Vector => PooledHead;
}

/// A training loss as a type. The implementors are the losses written in declarations.
pub trait Loss: 'static {
    /// Which loss, as plain data.
    const KIND: LossKind;
}

/// Proof that loss `Self` can train output `O`.
///
/// The macros already reject a mismatch with a message that lists the losses that fit; this bound makes
/// a hand-written `Task` impl obey the same table ([`OutputKind::admissible_losses`]).
#[diagnostic::on_unimplemented(
    message = "loss `{Self}` does not fit output `{O}`",
    label = "this loss cannot train that output",
    note = "see `OutputKind::admissible_losses` for the losses each output kind admits"
)]
pub trait LossFor<O: Output>: Loss {}

macro_rules! losses {
    ($($(#[$doc:meta])* $loss:ident fits [$($kind:ident),*];)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
        pub struct $loss;

        impl Loss for $loss {
            const KIND: LossKind = LossKind::$loss;
        }

        $(impl<const N: usize> LossFor<$kind<N>> for $loss {})*
    )*};
}

losses! {
    /// Mean absolute error.
    L1 fits [Dense, Vector];
    /// Mean squared error.
    L2 fits [Dense, Vector];
    /// Huber (smooth L1) loss.
    Huber fits [Dense, Vector];
    /// Softmax cross-entropy against class indices or distributions.
    CrossEntropy fits [PixelClasses, Classes];
    /// Sigmoid binary cross-entropy per label.
    BinaryCrossEntropy fits [MultiLabel];
    /// Angular loss `1 − cos(ŷ, y)` (surface normals, directions).
    Cosine fits [Dense, Vector];
    /// Contrastive metric-learning loss on per-pixel embeddings.
    Contrastive fits [PixelEmbedding];
}

/// A vision task: what it predicts, how it is trained and decoded, and its plain-data [`TaskSpec`].
///
/// Implemented by `#[task(...)]`; see the crate `taskonomy-macros` for the attribute's grammar.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a task",
    label = "not a task",
    note = "declare it with `#[task(output = ..., loss = ...)]` on the struct"
)]
pub trait Task: 'static {
    /// What the task predicts, e.g. `Dense<3>`.
    type Output: Output;
    /// The loss it is trained with; must fit the output.
    type Loss: LossFor<Self::Output>;
    /// The decoder from representations to the output.
    type Decoder: Decoder<Self::Output>;
    /// Everything else about the task, as plain data.
    const SPEC: TaskSpec;
}

/// A set of tasks with their roles: the candidate sources of transfers and the targets to solve.
///
/// Declared with `task_dictionary!`, which makes the dictionary an enum with one variant per task (the
/// dictionary's task ids), a `const` table of specs, and this impl. No registration happens at run time.
pub trait Dictionary: Copy + Eq + Ord + Hash + Debug + 'static {
    /// The dictionary's name (its type name).
    const NAME: &'static str;
    /// Its doc comment.
    const DOC: &'static str;
    /// Every task, sources first in declaration order, then targets that are not sources.
    const ALL: &'static [Self];
    /// The specs of [`Dictionary::ALL`], index for index.
    const SPECS: &'static [TaskSpec];
    /// The tasks that may serve as transfer sources.
    const SOURCES: &'static [Self];
    /// The tasks to solve.
    const TARGETS: &'static [Self];

    /// The task's position in [`Dictionary::ALL`] and [`Dictionary::SPECS`].
    fn index(self) -> usize;

    /// The task's spec.
    fn spec(self) -> &'static TaskSpec {
        &Self::SPECS[self.index()]
    }

    /// The task answering to `name` (its name or one of its aliases).
    fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|task| task.spec().answers_to(name))
    }

    /// Whether the task may serve as a source.
    fn is_source(self) -> bool {
        Self::SOURCES.contains(&self)
    }

    /// Whether the task is a target.
    fn is_target(self) -> bool {
        Self::TARGETS.contains(&self)
    }
}

/// Compile-time proof that `T` is a task; `task_dictionary!` calls it on every entry, so an entry that is
/// not a task is an error at that entry.
pub const fn assert_task<T: Task>() {}

#[cfg(test)]
mod tests {
    use super::*;

    fn admits<O: Output, L: LossFor<O>>() -> bool {
        O::SHAPE.admits(L::KIND).is_ok()
    }

    /// The trait impls (what a hand-written `Task` may use) agree with the table (what the macros check).
    #[test]
    fn trait_impls_agree_with_the_admissible_table() {
        assert!(admits::<Dense<3>, L1>());
        assert!(admits::<Dense<3>, L2>());
        assert!(admits::<Dense<3>, Huber>());
        assert!(admits::<Dense<3>, Cosine>());
        assert!(admits::<Vector<6>, L1>());
        assert!(admits::<Vector<6>, L2>());
        assert!(admits::<Vector<6>, Huber>());
        assert!(admits::<Vector<6>, Cosine>());
        assert!(admits::<PixelClasses<17>, CrossEntropy>());
        assert!(admits::<Classes<8>, CrossEntropy>());
        assert!(admits::<MultiLabel<5>, BinaryCrossEntropy>());
        assert!(admits::<PixelEmbedding<64>, Contrastive>());
        let impl_count = 8 + 2 + 1 + 1;
        let table_count: usize = OutputKind::ALL
            .iter()
            .map(|k| k.admissible_losses().len())
            .sum();
        assert_eq!(impl_count, table_count);
    }
}
