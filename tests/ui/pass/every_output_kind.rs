// Every output kind with each loss that fits it, every way of declaring labels, multi-view tasks, and
// paths to kinds and losses.
use taskonomy::prelude::*;

fn depth(view: &SceneView) -> Pixels<[f32; 1]> {
    view.map(|i| [view.depth()[i]])
}

/// A label that cannot always be made is a `Result`; the sample is then skipped and reported.
fn camera_height(info: &PointInfo) -> Result<[f32; 3], String> {
    match info.camera_location {
        [_, _, z] if z > 0.0 => Ok([z as f32, 0.0, 0.0]),
        _ => Err("the camera is under the floor".to_string()),
    }
}

fn semantic(view: &SceneView) -> Pixels<u32> {
    view.map(|i| u32::from(view.semantic()[i]))
}

fn seen_classes(view: &SceneView) -> [bool; 5] {
    let mut seen = [false; 5];
    for &class in view.semantic() {
        if let Some(slot) = seen.get_mut(usize::from(class)) {
            *slot = true;
        }
    }
    seen
}

fn three_views(views: &[PointInfo; 3]) -> [f32; 12] {
    let mut out = [0.0; 12];
    out[0] = views[0].camera_distance as f32;
    out
}

fn brightest_corner(image: &RgbImage, _seed: u64) -> (RgbImage, [f32; 4]) {
    let size = image.size();
    let corners = [0, size - 1, size * (size - 1), size * size - 1];
    let brightness = |i: usize| image.pixel(i).iter().sum::<f32>();
    let best = (0..4).max_by(|&a, &b| brightness(corners[a]).total_cmp(&brightness(corners[b])));
    (image.clone(), one_hot(best.unwrap_or(0)))
}

#[task(output = Dense<1>, loss = L2, label = depth)]
pub struct A;
#[task(
    output = taskonomy::spec::Dense<2>,
    loss = taskonomy::spec::Huber,
    encoding = Png16(scale = 1.0 / 512.0, offset = -8.0)
)]
pub struct B;
#[task(output = Vector<3>, loss = Cosine, point_info = camera_height)]
pub struct C;
#[task(output = PixelClasses<17>, loss = CrossEntropy, label = semantic, encoding = Png8)]
pub struct D;
#[task(output = PixelEmbedding<8>, loss = Contrastive, encoding = Png16)]
pub struct E;
#[task(output = MultiLabel<5>, loss = BinaryCrossEntropy, label = seen_classes)]
pub struct F;
#[task(output = Vector<12>, loss = L1, views = 3, point_info = three_views)]
pub struct G;
#[task(output = Classes<4>, loss = CrossEntropy, from_rgb = brightest_corner)]
pub struct H;
#[task(output = Vector<9>, loss = L2, encoding = PointInfo("vanishing_points_gaussian_sphere"))]
pub struct I;

task_dictionary! {
    pub All { sources: [A, B, C, D, H], targets: [E, F, G, I] }
}

fn main() {
    assert_eq!(All::COUNT, 9);
    assert_eq!(All::G.spec().views, 3);
    assert_eq!(All::E.spec().decoder, "PixelDecoder");
    assert_eq!(All::F.spec().decoder, "PooledHead");
    assert_eq!(<C as Task>::SPEC.output.to_string(), "Vector<3>");
    let labelling = |task: All| task.spec().labelling;
    assert_eq!(labelling(All::A), Labelling::Rendered);
    assert_eq!(labelling(All::B), Labelling::Stored);
    assert_eq!(labelling(All::C), Labelling::FromPointInfo);
    assert_eq!(labelling(All::H), Labelling::FromImage);
    assert_eq!(All::A.spec().encoding.map(|e| e.to_string()), Some("Npy".into()));
    assert_eq!(All::H.spec().encoding, None);
    assert_eq!(All::I.spec().encoding.unwrap().extension(), "json");
}
