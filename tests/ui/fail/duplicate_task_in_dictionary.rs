// Listing a task twice is a mistake; the error points at the second occurrence.
use taskonomy::prelude::*;

#[task(output = Dense<1>, loss = L1)]
pub struct Depth;

#[task(output = Dense<3>, loss = Cosine)]
pub struct Normals;

task_dictionary! {
    pub Small { sources: [Depth, Normals], targets: [Depth, Normals, Depth] }
}

fn main() {}
