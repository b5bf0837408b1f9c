// Every mistake in a declaration is reported in one compile, each at its own token.
use taskonomy::prelude::*;

#[task(output = Dense<3>, loss = CrossEntropy, name = "Normals", views = 0, importance = -2.0, encoding = Npy)]
pub struct Normals;

fn main() {}
