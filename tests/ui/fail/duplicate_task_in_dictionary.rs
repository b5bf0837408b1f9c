// Listing a task twice is a mistake; the error points at the second occurrence, and the dictionary is still
// declared, so code that uses it reports nothing more.
use taskonomy::prelude::*;

#[task(output = Dense<1>, loss = L1, encoding = Npy)]
pub struct Depth;

#[task(output = Dense<3>, loss = Cosine, encoding = Npy)]
pub struct Normals;

task_dictionary! {
    pub Small { sources: [Depth, Normals], targets: [Depth, Normals, Depth] }
}

fn main() {
    let depth = Small::Depth;
    assert_eq!(depth, Small::Depth);
    let _ = Small::NAME;
    let _ = Small::COUNT;
}
