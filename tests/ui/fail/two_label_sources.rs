// A task's labels come from one place.
use taskonomy::prelude::*;

fn depth(view: &SceneView) -> Pixels<[f32; 1]> {
    view.map(|i| [view.depth()[i]])
}

fn brightness(image: &RgbImage, _seed: u64) -> (RgbImage, Pixels<[f32; 1]>) {
    let values = (0..image.size() * image.size())
        .map(|i| [image.pixel(i).iter().sum::<f32>() / 3.0])
        .collect();
    (image.clone(), Pixels::new(image.size(), values))
}

#[task(output = Dense<1>, loss = L1, label = depth, from_rgb = brightness)]
pub struct Depth;

fn main() {}
