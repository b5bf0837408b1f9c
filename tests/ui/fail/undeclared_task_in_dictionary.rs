// A dictionary lists declared (or imported) tasks; a name that is neither is reported as such, with the
// dictionary's similar names.
use taskonomy::prelude::*;
use taskonomy::tasks::{Depth, SurfaceNormals};

task_dictionary! {
    pub Study { sources: [Depth, SurfaceNormals], targets: [Depth, Normals] }
}

fn main() {
    let _ = Study::Depth;
}
