// Only types declared with #[task] can be listed.
use taskonomy::prelude::*;

#[task(output = Dense<1>, loss = L1, encoding = Npy)]
pub struct Depth;

pub struct Colour;

task_dictionary! {
    pub Small { sources: [Depth, Colour], targets: [Depth] }
}

fn main() {}
