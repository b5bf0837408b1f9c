// Every task must say how it is trained.
use taskonomy::prelude::*;

#[task(output = Dense<1>, encoding = Npy)]
pub struct Depth;

fn main() {}
