// Every output kind with each loss that fits it, multi-view tasks, and paths to kinds and losses.
use taskonomy::prelude::*;

#[task(output = Dense<1>, loss = L2)]
pub struct A;
#[task(output = taskonomy::spec::Dense<2>, loss = taskonomy::spec::Huber)]
pub struct B;
#[task(output = Vector<3>, loss = Cosine)]
pub struct C;
#[task(output = PixelClasses<17>, loss = CrossEntropy)]
pub struct D;
#[task(output = PixelEmbedding<8>, loss = Contrastive)]
pub struct E;
#[task(output = MultiLabel<5>, loss = BinaryCrossEntropy)]
pub struct F;
#[task(output = Vector<12>, loss = L1, views = 3)]
pub struct G;

task_dictionary! {
    pub All { sources: [A, B, C, D], targets: [E, F, G] }
}

fn main() {
    assert_eq!(All::COUNT, 7);
    assert_eq!(All::G.spec().views, 3);
    assert_eq!(All::E.spec().decoder, "PixelDecoder");
    assert_eq!(All::F.spec().decoder, "PooledHead");
    assert_eq!(<C as Task>::SPEC.output.to_string(), "Vector<3>");
}
