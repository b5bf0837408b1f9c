// Two tasks that render their labels into one domain folder would overwrite each other's files.
use taskonomy::prelude::*;

fn depth(view: &SceneView) -> Pixels<[f32; 1]> {
    view.map(|i| [view.depth()[i]])
}

fn distance(view: &SceneView) -> Pixels<[f32; 1]> {
    view.map(|i| [view.distance()[i]])
}

#[task(output = Dense<1>, loss = L1, label = depth, domain = "depth")]
pub struct Depth;

#[task(output = Dense<1>, loss = L1, label = distance, domain = "depth")]
pub struct Distance;

task_dictionary! {
    pub Study { sources: [Depth, Distance], targets: [Distance] }
}

fn main() {}
