//! Tasks as types: output kinds, losses, the [`Task`] trait and task [`Dictionary`]s.
//!
//! Declarations are written with the macros and expand to the items here:
//!
//! ```
//! use taskonomy_core::data::labels::{LabelSource, Pixels};
//! use taskonomy_core::data::view::SceneView;
//! use taskonomy_core::spec::{Dense, Dictionary, Encoding, Labelling, Output, Sampling, Task, L1};
//! # use taskonomy_core::decoder::PixelDecoder;
//! fn depth(view: &SceneView) -> Pixels<[f32; 1]> {
//!     view.map(|i| [view.depth()[i]])
//! }
//!
//! // What `#[task(output = Dense<1>, loss = L1, label = depth, aliases = ["rgb2depth"])] struct Depth;`
//! // expands to:
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
//!         sampling: Sampling::Fixated,
//!         labelling: Labelling::Rendered,
//!         encoding: Some(Encoding::DEFAULT),
//!         label_cost: 1.0,
//!         importance: 1.0,
//!         decoder: "PixelDecoder",
//!         decoder_shape: taskonomy_core::spec::DecoderShape::PRESET,
//!         doc: "",
//!     };
//!     const LABELS: LabelSource = LabelSource::Rendered {
//!         label: |view| <Dense<1> as Output>::to_labels(depth(view), view.size()),
//!         encoding: Encoding::DEFAULT,
//!     };
//! }
//! assert_eq!(Depth::SPEC.output.to_string(), "Dense<1>");
//! ```

use std::fmt::{self, Debug};
use std::hash::Hash;

pub use taskonomy_spec::{
    assert_declared, assert_distinct_names, assert_distinct_rendered_domains, check_labels,
    closest_match, first_shared_name, is_snake_case, snake_case_from_type_name, DecoderShape,
    Encoding, EncodingError, LabelContext, LabelDeclaration, LabelRule, Labelling, LossKind,
    NameRule, OutputKind, OutputShape, Sampling, ShapeError, TaskSpec, Written, MAX_VIEWS,
    UNDECLARED,
};

use crate::data::labels::{LabelError, LabelSource, Labels, Pixels};
use crate::decoder::{Decoder, PixelDecoder, PooledHead};

/// A task's output as a type. The implementors are the output kinds written in declarations.
pub trait Output: Sized + 'static {
    /// The kind and size, as plain data.
    const SHAPE: OutputShape;
    /// The decoder a task with this output gets unless it names its own.
    type DefaultDecoder: Decoder<Self>;
    /// What a label function of a task with this output returns for one sample: `Pixels<[f32; C]>` for
    /// `Dense<C>`, `Pixels<u32>` of ids for `PixelClasses<K>` and `PixelEmbedding<D>`, `[f32; K]` (a
    /// distribution, [`one_hot`](crate::data::labels::one_hot) for a hard label) for `Classes<K>`,
    /// `[bool; L]` for `MultiLabel<L>`, `[f32; N]` for `Vector<N>`.
    type Label;

    /// The label of one sample, for images of side `size`, in the form the trainer keeps; an error says
    /// what does not fit (pixels missing, a class out of range).
    fn to_labels(label: Self::Label, size: usize) -> Result<Labels, LabelError>;
}

macro_rules! output_kinds {
    ($($(#[$doc:meta])* $kind:ident => $decoder:ty, $label:ty, |$value:ident, $size:ident| $erase:expr;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
        pub struct $kind<const N: usize>;

        impl<const N: usize> Output for $kind<N> {
            const SHAPE: OutputShape = OutputShape::new(OutputKind::$kind, N);
            type DefaultDecoder = $decoder;
            type Label = $label;

            fn to_labels($value: Self::Label, $size: usize) -> Result<Labels, LabelError> {
                $erase
            }
        }
    )*};
}

output_kinds! {
    /// Per-pixel regression with `N` channels (depth, normals, edges, reshading, autoencoding).
    Dense => PixelDecoder, Pixels<[f32; N]>, |label, size| label.into_dense(size);
    /// Per-pixel classification into `N` classes (semantic segmentation, colour bins).
    PixelClasses => PixelDecoder, Pixels<u32>, |label, size| label.into_classes(size, N);
    /// Per-pixel embedding with `N` dimensions (unsupervised segmentation); labelled by segment ids.
    PixelEmbedding => PixelDecoder, Pixels<u32>, |label, size| label.into_segments(size);
    /// One of `N` classes for the whole image, or a distribution over them.
    Classes => PooledHead, [f32; N], |label, _size| Ok(Labels::Image { len: N, values: label.to_vec() });
    /// `N` independent yes/no labels for the whole image.
    MultiLabel => PooledHead, [bool; N], |label, _size| Ok(Labels::Image {
        len: N,
        values: label.iter().map(|&on| f32::from(u8::from(on))).collect(),
    });
    /// A fixed-size vector of `N` real numbers (pose, layout, vanishing points).
    Vector => PooledHead, [f32; N], |label, _size| Ok(Labels::Image { len: N, values: label.to_vec() });
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
    /// How its labels are obtained (the functions its declaration names).
    const LABELS: LabelSource;
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
    /// How the labels of [`Dictionary::ALL`] are obtained, index for index.
    const LABELS: &'static [LabelSource];
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

    /// How the task's labels are obtained.
    fn labels(self) -> LabelSource {
        Self::LABELS[self.index()]
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

/// A task as a run knows it: its spec and how its labels are obtained.
#[derive(Clone, Copy, Debug)]
pub struct TaskDef {
    /// Everything about the task as plain data.
    pub spec: TaskSpec,
    /// How its labels are obtained.
    pub labels: LabelSource,
}

impl TaskDef {
    /// The task `T`.
    pub fn of<T: Task>() -> Self {
        TaskDef {
            spec: T::SPEC,
            labels: T::LABELS,
        }
    }
}

/// The tasks of a run with their roles: usually a whole [`Dictionary`], possibly restricted to some
/// tasks. Plain data, so that the stages do not depend on the dictionary's type.
#[derive(Clone, Debug)]
pub struct TaskSet {
    /// The name of the dictionary the tasks come from.
    pub dictionary: &'static str,
    /// Every task, sources first.
    pub tasks: Vec<TaskDef>,
    /// Names of the tasks that may be transfer sources.
    pub sources: Vec<&'static str>,
    /// Names of the tasks to solve.
    pub targets: Vec<&'static str>,
}

/// A name that is not one of a task set's tasks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownTask {
    /// The name as given.
    pub name: String,
    /// The closest task name, when one is close.
    pub suggestion: Option<&'static str>,
    /// The dictionary searched.
    pub dictionary: &'static str,
}

impl fmt::Display for UnknownTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is not a task of {}", self.name, self.dictionary)?;
        if let Some(known) = self.suggestion {
            write!(f, " (did you mean `{known}`?)")?;
        }
        Ok(())
    }
}

impl std::error::Error for UnknownTask {}

impl TaskSet {
    /// All tasks of dictionary `D` with their roles.
    pub fn of<D: Dictionary>() -> Self {
        TaskSet {
            dictionary: D::NAME,
            tasks: D::ALL
                .iter()
                .map(|&t| TaskDef {
                    spec: *t.spec(),
                    labels: t.labels(),
                })
                .collect(),
            sources: D::SOURCES.iter().map(|t| t.spec().name).collect(),
            targets: D::TARGETS.iter().map(|t| t.spec().name).collect(),
        }
    }

    /// Only the tasks named in `names` (names or aliases), keeping their roles and order.
    pub fn only<S: AsRef<str>>(&self, names: &[S]) -> Result<Self, UnknownTask> {
        let mut chosen = Vec::new();
        for name in names {
            let name = name.as_ref();
            let task = self.find(name).ok_or_else(|| UnknownTask {
                name: name.to_owned(),
                suggestion: closest_match(name, self.names()),
                dictionary: self.dictionary,
            })?;
            if !chosen.contains(&task.spec.name) {
                chosen.push(task.spec.name);
            }
        }
        Ok(self.retain(|name| chosen.contains(&name)))
    }

    /// The tasks for which `keep` holds, with their roles.
    pub fn retain(&self, keep: impl Fn(&str) -> bool) -> Self {
        TaskSet {
            dictionary: self.dictionary,
            tasks: self
                .tasks
                .iter()
                .filter(|t| keep(t.spec.name))
                .copied()
                .collect(),
            sources: self.sources.iter().filter(|s| keep(s)).copied().collect(),
            targets: self.targets.iter().filter(|s| keep(s)).copied().collect(),
        }
    }

    /// The task answering to `name` (its name or an alias).
    pub fn find(&self, name: &str) -> Option<&TaskDef> {
        self.tasks.iter().find(|t| t.spec.answers_to(name))
    }

    /// The task called `name` (canonical name).
    pub fn get(&self, name: &str) -> Option<&TaskDef> {
        self.tasks.iter().find(|t| t.spec.name == name)
    }

    /// The spec of the task called `name` (canonical name).
    pub fn spec(&self, name: &str) -> Option<&TaskSpec> {
        self.get(name).map(|t| &t.spec)
    }

    /// Every task's spec, sources first.
    pub fn specs(&self) -> impl Iterator<Item = &TaskSpec> + '_ {
        self.tasks.iter().map(|t| &t.spec)
    }

    /// `value` of the spec of every task named in `names`, by name: the importances and label costs
    /// the planner reads.
    pub fn spec_values(
        &self,
        names: &[&str],
        value: fn(&TaskSpec) -> f64,
    ) -> std::collections::BTreeMap<String, f64> {
        self.specs()
            .filter(|s| names.contains(&s.name))
            .map(|s| (s.name.to_owned(), value(s)))
            .collect()
    }

    /// Every task's canonical name, sources first.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.tasks.iter().map(|t| t.spec.name)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A single-view `Dense<1>` task named `name`, labels rendered, for tests.
    pub(crate) fn spec(name: &'static str) -> TaskSpec {
        TaskSpec {
            name,
            type_name: "T",
            aliases: &[],
            domain: name,
            output: OutputShape::new(OutputKind::Dense, 1),
            loss: LossKind::L1,
            views: 1,
            sampling: Sampling::Fixated,
            labelling: Labelling::Rendered,
            encoding: Some(Encoding::DEFAULT),
            label_cost: 1.0,
            importance: 1.0,
            decoder: "PixelDecoder",
            decoder_shape: DecoderShape::PRESET,
            doc: "",
        }
    }

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
