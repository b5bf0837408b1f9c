// Two different types may not both answer to `depth` in one dictionary.
use taskonomy::prelude::*;

#[task(output = Dense<1>, loss = L1)]
pub struct Depth;

#[task(output = Dense<1>, loss = L1, name = "depth")]
pub struct ZBuffer;

task_dictionary! {
    pub Small { sources: [Depth], targets: [Depth, ZBuffer] }
}

fn main() {}
