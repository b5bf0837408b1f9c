// A task is a struct; an enum of tasks is what task_dictionary! makes.
use taskonomy::prelude::*;

#[task(output = Dense<1>, loss = L1, encoding = Npy)]
pub enum Depth {
    Near,
    Far,
}

fn main() {}
