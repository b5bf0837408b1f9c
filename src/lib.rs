//! taskonomy-rs: the Taskonomy method (Zamir et al., CVPR 2018) as an embedded scientific DSL.
//!
//! This facade re-exports the runtime ([`taskonomy_core`]), the declaration macros and the standard
//! dictionary, and gathers what a user needs in [`prelude`].

#![forbid(unsafe_code)]
#![warn(missing_docs)]

// The macros name this crate `::taskonomy`; this makes that path work inside its own examples and tests.
extern crate self as taskonomy;

pub use taskonomy_core::*;
