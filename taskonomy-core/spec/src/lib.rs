//! The vocabulary of a Taskonomy task: what a task outputs, which losses fit that output, where its labels
//! come from and how they are stored, how tasks are named, and the plain [`TaskSpec`] record every declared
//! task compiles down to.
//!
//! This crate has no dependencies and no logic beyond these rules, because two crates must agree on them
//! exactly: `taskonomy-macros` checks declarations against them at compile time (so that a wrong loss is a
//! spanned compile error), and `taskonomy-core` uses them at run time. Keeping the rules in one place means
//! the compile-time check and the run-time behaviour cannot drift apart.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod labels;
mod loss;
mod naming;
mod output;
mod task;

pub use labels::{
    check_labels, Encoding, EncodingError, LabelContext, LabelDeclaration, LabelRule, Labelling,
    Sampling, Written,
};
pub use loss::LossKind;
pub use naming::{closest_match, is_snake_case, snake_case_from_type_name, NameRule};
pub use output::{OutputKind, OutputShape, ShapeError};
pub use task::{
    assert_declared, assert_distinct_names, assert_distinct_rendered_domains, first_shared_name,
    DecoderShape, TaskSpec, MAX_VIEWS, UNDECLARED,
};
