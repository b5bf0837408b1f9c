// Two different types may not both answer to `depth` in one dictionary.
use taskonomy::prelude::*;

#[task(output = Dense<1>, loss = L1, encoding = Npy)]
pub struct Depth;

#[task(output = Dense<1>, loss = L1, name = "depth", encoding = Npy)]
pub struct ZBuffer;

task_dictionary! {
    pub Small { sources: [Depth], targets: [Depth, ZBuffer] }
}

fn main() {}
