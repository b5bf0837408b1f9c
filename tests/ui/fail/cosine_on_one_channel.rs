// An angular loss compares directions; one channel has none.
use taskonomy::prelude::*;

#[task(output = Dense<1>, loss = Cosine, encoding = Npy)]
pub struct Depth;

fn main() {}
