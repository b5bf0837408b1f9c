// Collecting labels cannot be free or pay you back.
use taskonomy::prelude::*;

#[task(output = Dense<1>, loss = L1, label_cost = -1.0, encoding = Npy)]
pub struct Depth;

fn main() {}
