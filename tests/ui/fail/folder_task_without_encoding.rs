// A task read from a dataset folder must say how its files store the labels.
use taskonomy::prelude::*;

#[task(output = Dense<1>, loss = L1, domain = "depth_zbuffer")]
pub struct Depth;

fn main() {}
