// A source that does not exist is an error at its name.
use taskonomy::prelude::*;

#[task(output = Dense<1>, loss = L1, encoding = Npy)]
pub struct Depth;

task_dictionary! {
    pub Small { sources: [Dept], targets: [Depth] }
}

fn main() {}
