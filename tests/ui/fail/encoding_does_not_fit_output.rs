// A PNG holds per-pixel labels; a label per image is stored in a `.npy` or a point-info field.
use taskonomy::prelude::*;

#[task(output = Classes<8>, loss = CrossEntropy, encoding = Png8, domain = "class_scene")]
pub struct SceneClass;

fn main() {}
