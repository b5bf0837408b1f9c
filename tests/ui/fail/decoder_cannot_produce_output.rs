// A named decoder must be able to produce the task's output.
use taskonomy::prelude::*;

/// A decoder for scene classes only.
pub struct SceneHead;
impl DecoderInfo for SceneHead {
    const NAME: &'static str = "SceneHead";
}
impl Decoder<Classes<8>> for SceneHead {}

#[task(output = Dense<1>, loss = L1, decoder = SceneHead, encoding = Npy)]
pub struct Depth;

fn main() {}
