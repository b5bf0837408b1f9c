//! The runtime of taskonomy-rs: what a task is, how tasks form a dictionary, and (one module per step of
//! the paper) the stages of the Taskonomy method.
//!
//! Tasks are declared with the `#[task]` and `task_dictionary!` macros of `taskonomy-macros` (re-exported
//! by the `taskonomy` facade); those macros expand to implementations of the traits in [`spec`].

// One exception, allowed where it is: the call into `gemm` behind a bounds-checked safe function
// (`model::kernels::gemm`).
#![deny(unsafe_code)]
#![warn(missing_docs)]

// Lets the macros name this crate as `::taskonomy_core` from inside it too (its own tests and docs).
extern crate self as taskonomy_core;

pub mod affinity;
pub mod data;
pub mod decoder;
pub mod departures;
pub mod estimate;
pub mod eval;
pub mod model;
pub mod pipeline;
pub mod plan;
pub mod plot;
pub mod report;
pub mod similarity;
pub mod spec;
pub mod stability;
pub mod store;
pub mod train;
pub mod transfers;
pub mod uncertainty;
pub mod work;
