// An angular loss compares directions; one channel has none.
use taskonomy::prelude::*;

#[task(output = Dense<1>, loss = Cosine)]
pub struct Depth;

fn main() {}
