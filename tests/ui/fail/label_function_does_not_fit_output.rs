// A label function must return the label of the task's output: `Dense<3>` labels are `Pixels<[f32; 3]>`.
use taskonomy::prelude::*;

fn material(view: &SceneView) -> Pixels<u32> {
    view.map(|i| u32::from(view.material()[i]))
}

#[task(output = Dense<3>, loss = L1, label = material)]
pub struct Material;

fn main() {}
