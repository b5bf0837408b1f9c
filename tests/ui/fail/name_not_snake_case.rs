// Task names are snake_case so they read the same in files, the CLI and the paper's data.
use taskonomy::prelude::*;

#[task(output = Dense<1>, loss = L1, name = "zDepth", encoding = Npy)]
pub struct Depth;

fn main() {}
