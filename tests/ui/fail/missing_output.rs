// Every task must say what it predicts.
use taskonomy::prelude::*;

#[task(loss = L1, encoding = Npy)]
pub struct Depth;

fn main() {}
