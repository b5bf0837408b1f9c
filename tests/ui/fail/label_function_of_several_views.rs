// A label function sees one rendered view; a pair's label comes from its views' cameras.
use taskonomy::prelude::*;

fn depth_at_centre(view: &SceneView) -> [f32; 1] {
    [view.depth()[view.size() * view.size() / 2]]
}

#[task(output = Vector<1>, loss = L1, views = 2, label = depth_at_centre)]
pub struct CentreDepth;

fn main() {}
