//! The label functions of the standard tasks: each computes one task's label from a rendered synthetic
//! view, from a view's RGB image, or from the views' point-info records, with the operators of
//! [`taskonomy_core::data::labels`]. Their exact definitions are the tasks' doc comments.

use taskonomy_core::data::labels::derived::{
    add_noise, apply_jigsaw, jigsaw_permutations, lab_class, mask_square, srgb_to_lab,
    JIGSAW_PERMUTATIONS,
};
use taskonomy_core::data::labels::geometry::{
    egomotion, object_distribution, occlusion_edges, relative_pose, room_layout, vanishing_points,
    OBJECT_CLASSES, SCENE_CLASSES,
};
use taskonomy_core::data::labels::image::{blur, edge_strength, felzenszwalb, harris};
use taskonomy_core::data::labels::{one_hot, Pixels, RgbImage};
use taskonomy_core::data::layout::PointInfo;
use taskonomy_core::data::rng::Rng;
use taskonomy_core::data::view::SceneView;

/// The Gaussian blur σ (pixels) of the 2-D edge strength, Canny's.
pub const EDGES2D_SIGMA: f64 = 1.0;
/// The Gaussian σ (pixels) of the profile the 3-D edges are drawn with.
pub const EDGES3D_SIGMA: f64 = 1.0;
/// Harris window σ (pixels) for both keypoint labels.
pub const HARRIS_SIGMA: f64 = 1.0;
/// The 2-D keypoint label is `min(1, √max(R, 0) / KEYPOINTS2D_SCALE)`, `R` in (luminance/pixel)⁴.
pub const KEYPOINTS2D_SCALE: f32 = 0.003;
/// The 3-D keypoint label is `min(1, √max(R, 0) / KEYPOINTS3D_SCALE)`, `R` from normals and log-distance.
pub const KEYPOINTS3D_SCALE: f32 = 0.1;
/// Graph-based segmentation on RGB: `k` at 64 px (scaled with the image area) and the minimum region as a
/// fraction of the image.
pub const SEGMENT2D: (f32, f32) = (0.6, 1.0 / 256.0);
/// Graph-based segmentation on geometry: `k` at 64 px and the minimum region fraction.
pub const SEGMENT25D: (f32, f32) = (1.5, 1.0 / 256.0);
/// The standard deviation of the denoising task's noise, in sRGB units.
pub const NOISE_SIGMA: f64 = 0.1;

// ---- From the RGB image ---------------------------------------------------------------------------------

/// The image, pixel by pixel, as a `Dense<3>` label.
fn pixels_of(image: &RgbImage) -> Pixels<[f32; 3]> {
    let size = image.size();
    Pixels::new(size, (0..size * size).map(|i| image.pixel(i)).collect())
}

/// An image of side `size` from planes an operator of `derived` returned (always `3 × size²` values).
fn image_of(size: usize, planes: Vec<f32>) -> RgbImage {
    RgbImage::from_planes(size, planes).unwrap_or_else(|| unreachable!("3 planes of size²"))
}

/// Autoencoding: the image in, the image out.
pub fn autoencoding(image: &RgbImage, _seed: u64) -> (RgbImage, Pixels<[f32; 3]>) {
    (image.clone(), pixels_of(image))
}

/// Denoising: the image with Gaussian noise in, the clean image out.
pub fn denoising(image: &RgbImage, seed: u64) -> (RgbImage, Pixels<[f32; 3]>) {
    let noisy = add_noise(image.planes(), NOISE_SIGMA, seed);
    (image_of(image.size(), noisy), pixels_of(image))
}

/// Inpainting: the image with a masked square in, the whole image out.
pub fn inpainting(image: &RgbImage, seed: u64) -> (RgbImage, Pixels<[f32; 3]>) {
    let (masked, _) = mask_square(image.planes(), 3, image.size(), seed);
    (image_of(image.size(), masked), pixels_of(image))
}

/// Jigsaw: the tiles shuffled by one of the fixed permutations in, the permutation out.
pub fn jigsaw(image: &RgbImage, seed: u64) -> (RgbImage, [f32; JIGSAW_PERMUTATIONS]) {
    let index = Rng::new(seed, &[0x0001_95a3]).below(JIGSAW_PERMUTATIONS);
    let shuffled = apply_jigsaw(
        image.planes(),
        3,
        image.size(),
        &jigsaw_permutations()[index],
    );
    (image_of(image.size(), shuffled), one_hot(index))
}

/// Colorization: CIE lightness in (three equal channels), the chroma class of every pixel out.
pub fn colorization(image: &RgbImage, _seed: u64) -> (RgbImage, Pixels<u32>) {
    let lab: Vec<[f64; 3]> = image.to_srgb8().into_iter().map(srgb_to_lab).collect();
    let grey: Vec<f32> = lab.iter().map(|l| (l[0] / 100.0) as f32).collect();
    let planes = [grey.as_slice(), grey.as_slice(), grey.as_slice()].concat();
    let classes = lab.iter().map(|&l| u32::from(lab_class(l))).collect();
    (
        image_of(image.size(), planes),
        Pixels::new(image.size(), classes),
    )
}

// ---- From the rendered view ------------------------------------------------------------------------------

/// Luminance `Y = (0.299R + 0.587G + 0.114B)/255` of 8-bit sRGB pixels.
pub fn luminance(rgb: &[[u8; 3]]) -> Vec<f32> {
    rgb.iter()
        .map(|p| {
            (0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])) / 255.0
        })
        .collect()
}

/// One value per pixel as a `Dense<1>` label.
fn single(size: usize, values: Vec<f32>) -> Pixels<[f32; 1]> {
    Pixels::new(size, values.into_iter().map(|v| [v]).collect())
}

/// `min(1, √max(R, 0) / scale)` of a Harris response `R`.
fn corner_strength(response: &[f32], scale: f32) -> Vec<f32> {
    response
        .iter()
        .map(|&r| (r.max(0.0).sqrt() / scale).min(1.0))
        .collect()
}

/// The camera-frame normal's channels and the log distance, the features of the 3-D labels.
fn geometry_channels(view: &SceneView) -> ([Vec<f32>; 3], Vec<f32>) {
    let channel = |k: usize| -> Vec<f32> { view.normals().iter().map(|n| n[k]).collect() };
    let log_distance = view
        .distance()
        .iter()
        .map(|&d| libm::logf(d.max(1e-3)))
        .collect();
    ([channel(0), channel(1), channel(2)], log_distance)
}

/// `k` of the graph-based segmentation scaled with the image area, and the minimum region in pixels.
fn segmentation_parameters(size: usize, (k, fraction): (f32, f32)) -> (f32, usize) {
    let area = (size * size) as f32;
    (
        k * area / (64.0 * 64.0),
        (area * fraction).max(2.0) as usize,
    )
}

/// 2-D edges: the edge strength (Canny before non-maximum suppression and hysteresis) of the luminance
/// of the 8-bit image.
pub fn edges2d(view: &SceneView) -> Pixels<[f32; 1]> {
    let size = view.size();
    let y = luminance(view.rgb());
    let (_, _, strength) = edge_strength(&y, size, EDGES2D_SIGMA);
    single(size, strength)
}

/// 2-D keypoints: the Harris corner strength of the luminance.
pub fn keypoints2d(view: &SceneView) -> Pixels<[f32; 1]> {
    let size = view.size();
    let y = luminance(view.rgb());
    let response = harris(&[&y], size, HARRIS_SIGMA);
    single(size, corner_strength(&response, KEYPOINTS2D_SCALE))
}

/// Unsupervised 2-D segments of the blurred RGB image.
pub fn segment2d(view: &SceneView) -> Pixels<u32> {
    let size = view.size();
    let planes: Vec<Vec<f32>> = (0..3)
        .map(|k| {
            let channel: Vec<f32> = view.rgb().iter().map(|p| f32::from(p[k]) / 255.0).collect();
            blur(&channel, size, 0.8)
        })
        .collect();
    let rgb: Vec<f32> = (0..size * size)
        .flat_map(|i| [planes[0][i], planes[1][i], planes[2][i]])
        .collect();
    let (k, min_size) = segmentation_parameters(size, SEGMENT2D);
    Pixels::new(size, felzenszwalb(&rgb, 3, size, k, min_size))
}

/// 3-D (occlusion) edges, located exactly by casting rays between pixel centres, drawn with a Gaussian
/// profile whose peak on a straight edge is 1.
pub fn edges3d(view: &SceneView) -> Pixels<[f32; 1]> {
    let size = view.size();
    let edges = occlusion_edges(view.scene(), view.frame());
    let peak = (2.0 * std::f64::consts::PI).sqrt() * EDGES3D_SIGMA;
    let soft = blur(&edges, size, EDGES3D_SIGMA)
        .into_iter()
        .map(|v| (v * peak as f32).min(1.0))
        .collect();
    single(size, soft)
}

/// 3-D keypoints: the Harris corner strength of the normals and the log distance.
pub fn keypoints3d(view: &SceneView) -> Pixels<[f32; 1]> {
    let size = view.size();
    let ([nx, ny, nz], log_distance) = geometry_channels(view);
    let response = harris(&[&nx, &ny, &nz, &log_distance], size, HARRIS_SIGMA);
    single(size, corner_strength(&response, KEYPOINTS3D_SCALE))
}

/// Unsupervised 2.5-D segments of the geometry (normals, log depth, log distance).
pub fn segment25d(view: &SceneView) -> Pixels<u32> {
    let size = view.size();
    let ([nx, ny, nz], log_distance) = geometry_channels(view);
    let features: Vec<f32> = (0..size * size)
        .flat_map(|i| {
            [
                nx[i],
                ny[i],
                nz[i],
                libm::logf(view.depth()[i].max(1e-3)),
                log_distance[i],
            ]
        })
        .collect();
    let (k, min_size) = segmentation_parameters(size, SEGMENT25D);
    Pixels::new(size, felzenszwalb(&features, 5, size, k, min_size))
}

/// Principal curvatures.
pub fn curvature(view: &SceneView) -> Pixels<[f32; 2]> {
    view.map(|i| view.curvature()[i])
}

/// Shading under the canonical light, albedo removed.
pub fn reshading(view: &SceneView) -> Pixels<[f32; 1]> {
    view.map(|i| [view.reshading()[i]])
}

/// Z-buffer depth.
pub fn depth(view: &SceneView) -> Pixels<[f32; 1]> {
    view.map(|i| [view.depth()[i]])
}

/// Euclidean distance.
pub fn distance(view: &SceneView) -> Pixels<[f32; 1]> {
    view.map(|i| [view.distance()[i]])
}

/// Surface normals in the camera frame.
pub fn surface_normals(view: &SceneView) -> Pixels<[f32; 3]> {
    view.map(|i| view.normals()[i])
}

/// Semantic class of every pixel.
pub fn semantic_segmentation(view: &SceneView) -> Pixels<u32> {
    view.map(|i| u32::from(view.semantic()[i]))
}

/// The distribution of the visible furniture classes.
pub fn object_class(view: &SceneView) -> [f32; OBJECT_CLASSES] {
    let mut out = [0.0; OBJECT_CLASSES];
    out.copy_from_slice(&object_distribution(view.semantic()));
    out
}

/// The room type, one-hot.
pub fn scene_class(view: &SceneView) -> [f32; SCENE_CLASSES] {
    one_hot(view.scene().class.index())
}

// ---- From the point-info records -------------------------------------------------------------------------

fn as_f32<const N: usize>(values: [f64; N]) -> [f32; N] {
    values.map(|v| v as f32)
}

/// The room layout of a view whose record holds the room box.
pub fn room_layout_label(info: &PointInfo) -> Result<[f32; 9], &'static str> {
    let room = info
        .room_box
        .as_ref()
        .ok_or("expected a \"room_box\" for the room-layout label")?;
    Ok(as_f32(room_layout(&info.camera_pose(), room)))
}

/// The vanishing points of a view: its record's `vanishing_points_gaussian_sphere`, or the room box's
/// directions.
pub fn vanishing_points_label(info: &PointInfo) -> Result<[f32; 9], &'static str> {
    if let Some(vp) = &info.vanishing_points_gaussian_sphere {
        let mut out = [0.0; 9];
        for (i, v) in vp.x.iter().chain(&vp.y).chain(&vp.z).enumerate() {
            out[i] = *v as f32;
        }
        return Ok(out);
    }
    let room = info
        .room_box
        .as_ref()
        .ok_or("expected \"vanishing_points_gaussian_sphere\" or a \"room_box\"")?;
    Ok(as_f32(vanishing_points(&info.camera_pose(), room)))
}

/// Whether two views show the same point: the same point id, or when the records have none, the same
/// point location.
pub fn same_point(a: &PointInfo, b: &PointInfo) -> bool {
    if !a.point_uuid.is_empty() && !b.point_uuid.is_empty() {
        return a.point_uuid == b.point_uuid;
    }
    matches!((a.point_location, b.point_location), (Some(p), Some(q)) if p == q)
}

/// Point matching: `[different, same]`.
pub fn point_matching(views: &[PointInfo; 2]) -> [f32; 2] {
    one_hot(usize::from(same_point(&views[0], &views[1])))
}

/// The pose of the second view in the first's camera frame.
pub fn relative_pose_label(views: &[PointInfo; 2]) -> [f32; 6] {
    as_f32(relative_pose(
        &views[0].camera_pose(),
        &views[1].camera_pose(),
    ))
}

/// Egomotion: the relative poses along three views.
pub fn egomotion_label(views: &[PointInfo; 3]) -> [f32; 12] {
    let poses = views.each_ref().map(PointInfo::camera_pose);
    as_f32(egomotion([&poses[0], &poses[1], &poses[2]]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use taskonomy_core::data::labels::geometry::RoomBox;
    use taskonomy_core::data::layout::VanishingPointsJson;

    /// A record of point `uuid` at `location`, seen by a camera at (1, 2, 3) whose frame is the world's
    /// (identity rotation: it looks down, along world −z), with neither room box nor vanishing points.
    fn info(uuid: &str, location: Option<[f64; 3]>) -> PointInfo {
        PointInfo {
            building: "b".into(),
            point_uuid: uuid.into(),
            view_id: 0,
            camera_uuid: String::new(),
            camera_location: [1.0, 2.0, 3.0],
            camera_rotation_final: [0.0; 3],
            field_of_view_rads: 1.0,
            resolution: 32,
            point_location: location,
            camera_distance: 0.0,
            obliqueness_angle: 0.0,
            nonfixated_points_in_view: Vec::new(),
            fixated: true,
            room_type: None,
            room_box: None,
            vanishing_points_gaussian_sphere: None,
        }
    }

    /// An axis-aligned room centred 1.5 m below the camera of [`info`]; `mirrored` turns it by 180° about
    /// the vertical, which describes the same box.
    fn room(mirrored: bool) -> RoomBox {
        let s = if mirrored { -1.0 } else { 1.0 };
        RoomBox {
            center: [1.0, 2.0, 1.5],
            half_extents: [3.0, 2.0, 1.5],
            axes: [[s, 0.0, 0.0], [0.0, s, 0.0], [0.0, 0.0, 1.0]],
        }
    }

    #[test]
    fn same_point_compares_ids_and_falls_back_to_locations() {
        let here = Some([1.0, 2.0, 0.5]);
        let there = Some([1.0, 2.0, 0.75]);
        // Ids decide when both records have one, whatever the locations say.
        assert!(same_point(&info("p1", here), &info("p1", there)));
        assert!(!same_point(&info("p1", here), &info("p2", here)));
        // Without an id on either side, the locations decide.
        assert!(same_point(&info("", here), &info("p2", here)));
        assert!(!same_point(&info("", here), &info("", there)));
        assert!(!same_point(&info("", None), &info("", None)));
        assert!(!same_point(&info("p1", here), &info("", None)));
        assert_eq!(
            point_matching(&[info("", here), info("", here)]),
            [0.0, 1.0]
        );
        assert_eq!(
            point_matching(&[info("p1", here), info("p2", here)]),
            [1.0, 0.0]
        );
    }

    #[test]
    fn vanishing_points_come_from_the_record_or_else_the_room_box() {
        let mut recorded = info("p", None);
        recorded.vanishing_points_gaussian_sphere = Some(VanishingPointsJson {
            x: [0.0, 0.0, -1.0],
            y: [1.0, 0.0, 0.0],
            z: [0.0, 1.0, 0.0],
        });
        // The record wins over a room box, and its axes are read x, then y, then z.
        recorded.room_box = Some(room(false));
        assert_eq!(
            vanishing_points_label(&recorded),
            Ok([0.0, 0.0, -1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0])
        );
        // The fallback: the room's axes in the camera frame, canonical whichever way the box is turned.
        let identity = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
        for mirrored in [false, true] {
            let mut boxed = info("p", None);
            boxed.room_box = Some(room(mirrored));
            assert_eq!(vanishing_points_label(&boxed), Ok(identity), "{mirrored}");
        }
        assert_eq!(
            vanishing_points_label(&info("p", None)),
            Err("expected \"vanishing_points_gaussian_sphere\" or a \"room_box\"")
        );
    }

    #[test]
    fn room_layout_needs_the_room_box() {
        assert_eq!(
            room_layout_label(&info("p", None)),
            Err("expected a \"room_box\" for the room-layout label")
        );
        let mut boxed = info("p", None);
        boxed.room_box = Some(room(false));
        // The centre 1.5 m below the camera, in the camera frame; the half-extents; no rotation.
        assert_eq!(
            room_layout_label(&boxed),
            Ok([0.0, 0.0, -1.5, 3.0, 2.0, 1.5, 0.0, 0.0, 0.0])
        );
    }

    #[test]
    fn corner_strength_is_the_scaled_root_of_positive_responses_capped_at_one() {
        let strength = corner_strength(&[-4.0, 0.0, 0.0025, 0.01, 0.04, 7.0], 0.1);
        let expected = [0.0, 0.0, 0.5, 1.0, 1.0, 1.0];
        for (got, want) in strength.iter().zip(expected) {
            assert!((got - want).abs() < 1e-6, "{strength:?}");
        }
    }

    #[test]
    fn segmentation_parameters_scale_with_the_image_area() {
        // 64 px is the reference: k as given, the minimum region `fraction` of the 4096 pixels.
        assert_eq!(segmentation_parameters(64, (0.6, 1.0 / 256.0)), (0.6, 16));
        assert_eq!(segmentation_parameters(128, (0.6, 1.0 / 256.0)), (2.4, 64));
        // A tiny image still needs regions of two pixels.
        assert_eq!(
            segmentation_parameters(4, (1.5, 1.0 / 256.0)),
            (1.5 / 256.0, 2)
        );
    }
}
