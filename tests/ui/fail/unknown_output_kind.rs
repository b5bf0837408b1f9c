// Output kinds are a fixed vocabulary; a near miss gets a suggestion.
use taskonomy::prelude::*;

#[task(output = Dens<1>, loss = L1, encoding = Npy)]
pub struct Depth;

fn main() {}
