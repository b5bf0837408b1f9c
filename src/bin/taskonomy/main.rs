//! `taskonomy`: the command line of taskonomy-rs on the standard dictionary, the paper's 26 tasks
//! (`taskonomy::cli` is the same command line for any dictionary).

use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: taskonomy::cli::FastAllocator = taskonomy::cli::FastAllocator;

fn main() -> ExitCode {
    taskonomy::cli::main::<taskonomy::tasks::Taskonomy>()
}
