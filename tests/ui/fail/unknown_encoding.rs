// An encoding is Png8, Png16, Npy or PointInfo("field").
use taskonomy::prelude::*;

#[task(output = Dense<1>, loss = L1, encoding = Png(scale = 1.0 / 512.0))]
pub struct Depth;

fn main() {}
