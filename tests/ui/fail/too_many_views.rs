// Tasks look at one image, or two or three for pose, matching and egomotion.
use taskonomy::prelude::*;

#[task(output = Vector<6>, loss = L2, views = 4, encoding = Npy)]
pub struct Pose;

fn main() {}
