// A dictionary with nothing to solve is a mistake.
use taskonomy::prelude::*;

#[task(output = Dense<1>, loss = L1, encoding = Npy)]
pub struct Depth;

task_dictionary! {
    pub Small { sources: [Depth], targets: [] }
}

fn main() {}
