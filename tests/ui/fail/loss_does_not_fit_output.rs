// Scene classes are trained with cross-entropy, not a regression loss.
use taskonomy::prelude::*;

#[task(output = Classes<8>, loss = L1, encoding = Npy)]
pub struct SceneClass;

fn main() {}
