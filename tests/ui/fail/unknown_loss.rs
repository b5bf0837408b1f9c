// Losses are a fixed vocabulary; a near miss gets a suggestion.
use taskonomy::prelude::*;

#[task(output = Dense<1>, loss = Hubber, encoding = Npy)]
pub struct Depth;

fn main() {}
