// A misspelt key gets a suggestion.
use taskonomy::prelude::*;

#[task(output = Dense<1>, loss = L1, lable_cost = 2.0, encoding = Npy)]
pub struct Depth;

fn main() {}
