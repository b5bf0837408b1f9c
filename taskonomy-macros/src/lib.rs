//! Declaring Taskonomy tasks and dictionaries, checked at compile time.
//!
//! Two macros, re-exported by the `taskonomy` facade:
//!
//! * [`macro@task`] turns a struct into a task (`impl Task`): its output, loss, decoder and spec.
//! * [`task_dictionary!`] gathers tasks into a dictionary: an enum with one variant per task, a `const`
//!   table of their specs, and which tasks are sources and which are targets.
//!
//! Both follow the same path: parse the input into plain data, check all of it against the rules of
//! `taskonomy-spec` (collecting every mistake with the span of the token that caused it), then emit code
//! that calls into the runtime. On errors the item is still emitted, with a placeholder impl, so that one
//! mistake gives one message.

#![forbid(unsafe_code)]

mod dictionary;
mod errors;
mod paths;
mod task;

use proc_macro::TokenStream;

/// Declares a task.
///
/// ```text
/// #[task(
///     output = Kind<N>,              // required: Dense<C>, PixelClasses<K>, PixelEmbedding<D>,
///                                    //           Classes<K>, MultiLabel<L> or Vector<N>
///     loss = Loss,                   // required: one that fits the output kind (below)
///
///     // required, where the labels come from: one of
///     label = f,                     // fn(&SceneView) -> label: rendered with the synthetic scenes
///                                    //   and stored in the domain folder (one view)
///     from_rgb = f,                  // fn(&RgbImage, seed) -> (input, label): derived from the image
///                                    //   when a sample is loaded (one view; self-supervised tasks)
///     point_info = f,                // fn(&PointInfo) -> label, or fn(&[PointInfo; V]) with views = V:
///                                    //   from the views' point-info records (image-level outputs)
///     // or `encoding` alone: the domain folder of a dataset labelled elsewhere (one view)
///
///     encoding = Npy,                // how label files are stored, with `label = f` or alone: Png8 or
///                                    //   Png16, optionally `(scale = .., offset = ..)` (per-pixel
///                                    //   outputs); Npy, optionally `(first = N)`; PointInfo("field")
///                                    //   of each view's record (alone only); default Npy
///     name = "snake_case",           // default: the type name in snake_case
///     aliases = ["other", "names"],  // default: none; e.g. the paper's `rgb2sfnorm`
///     domain = "folder",             // default: the name; the dataset's label folder (not `rgb` or
///                                    //   `point_info` for rendered labels)
///     views = 1,                     // default 1; 2 or 3 for pairwise and triplet tasks
///     sampling = Fixated,            // views > 1: Fixated (default); pairs also NonFixated, Matching
///     label_cost = 1.0,              // ℓ > 0, default 1
///     importance = 1.0,              // r > 0, default 1
///     decoder = SomeType,            // default: the output kind's default decoder
/// )]
/// ```
///
/// | output kind | losses that fit |
/// |---|---|
/// | `Dense<C>`, `Vector<N>` | `L1`, `L2`, `Huber`, `Cosine` (needs C, N ≥ 2) |
/// | `PixelClasses<K>`, `Classes<K>` (K ≥ 2) | `CrossEntropy` |
/// | `MultiLabel<L>` | `BinaryCrossEntropy` |
/// | `PixelEmbedding<D>` | `Contrastive` |
///
/// The struct's doc comment becomes the task's description. A named decoder must implement
/// `Decoder<Output>` for the task's output type, and a label function must return the output's label
/// type (or a `Result` of it). Every mistake is reported at once, each at the key it concerns.
#[proc_macro_attribute]
pub fn task(args: TokenStream, item: TokenStream) -> TokenStream {
    task::expand(args.into(), item.into()).into()
}

/// Declares a dictionary of tasks.
///
/// ```text
/// task_dictionary! {
///     /// Doc comment.
///     pub Name {
///         sources: [TaskA, TaskB, path::to::TaskC],
///         targets: [TaskA, TaskD],
///     }
/// }
/// ```
///
/// Expands to `pub enum Name { TaskA, TaskB, TaskC, TaskD }` (sources first, then the targets that are
/// not sources), whose variants are the dictionary's task ids, with `Name::COUNT`, and
/// `impl Dictionary for Name` with the tables of the tasks' specs (`SPECS`) and of how their labels are
/// obtained (`LABELS`), read from each task's `Task` impl.
///
/// Checked: both lists present and non-empty; no task twice in a list; every entry a declared task (an
/// entry that names nothing is reported as "`X` is not a declared task", with "did you mean" the
/// dictionary's similar entries, and a type without `#[task]` as "`X` is not a task"); no name or alias
/// claimed by two tasks; no two tasks rendering their labels into the same domain folder.
#[proc_macro]
pub fn task_dictionary(input: TokenStream) -> TokenStream {
    dictionary::expand(input.into()).into()
}
