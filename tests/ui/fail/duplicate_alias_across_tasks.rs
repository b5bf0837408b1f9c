// The paper's name `rgb2depth` can belong to only one task of a dictionary.
use taskonomy::prelude::*;

#[task(output = Dense<1>, loss = L1, aliases = ["rgb2depth"], encoding = Npy)]
pub struct Depth;

#[task(output = Dense<1>, loss = L1, aliases = ["rgb2mist", "rgb2depth"], encoding = Npy)]
pub struct Distance;

task_dictionary! {
    pub Small { sources: [Depth, Distance], targets: [Depth] }
}

fn main() {}
