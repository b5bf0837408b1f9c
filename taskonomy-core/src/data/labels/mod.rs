//! Every Taskonomy label, each defined here from the scene geometry, with its units.
//!
//! [`Label`] names the 26 tasks' targets (by the tasks' canonical names) and says, in
//! [`Label::definition`], exactly what each one is. Per-pixel labels that need computing beyond the ray
//! cast live in [`ViewLabels`]; the geometric vectors in [`geometry`]; the labels the paper derives from RGB
//! at load time in [`derived`].

pub mod derived;
pub mod geometry;
pub mod image;

use super::layout::Domain;
use super::render::Frame;
use super::scene::Scene;

/// Canny on luminance: blur σ (pixels) and the hysteresis thresholds (luminance per pixel).
pub const CANNY: (f64, f32, f32) = (1.0, 0.012, 0.03);
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

/// The target of each of the 26 Taskonomy tasks, named after the task's canonical name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Label {
    /// `autoencoding`: the clean RGB image.
    Autoencoding,
    /// `colorization`: colour classes from a grey input.
    Colorization,
    /// `inpainting`: the whole RGB image from a masked one.
    Inpainting,
    /// `jigsaw`: which permutation shuffled the tiles.
    Jigsaw,
    /// `denoising`: the clean image from a noisy one.
    Denoising,
    /// `edges2d`: texture edges.
    Edges2d,
    /// `edges3d`: occlusion edges.
    Edges3d,
    /// `keypoints2d`: corners of the image.
    Keypoints2d,
    /// `keypoints3d`: corners of the geometry.
    Keypoints3d,
    /// `curvature`: principal curvatures.
    Curvature,
    /// `reshading`: shading under a canonical light.
    Reshading,
    /// `depth`: z-buffer depth.
    Depth,
    /// `distance`: Euclidean distance.
    Distance,
    /// `surface_normals`: normals in the camera frame.
    SurfaceNormals,
    /// `room_layout`: the room box relative to the camera.
    RoomLayout,
    /// `vanishing_points`: the three Manhattan directions.
    VanishingPoints,
    /// `segment2d`: unsupervised segments of the RGB image.
    Segment2d,
    /// `segment25d`: unsupervised segments of the geometry.
    Segment25d,
    /// `semantic_segmentation`: per-pixel object class.
    SemanticSegmentation,
    /// `object_class`: distribution of visible object classes.
    ObjectClass,
    /// `object_class_selected`: the same over the selected classes.
    ObjectClassSelected,
    /// `scene_class`: the room type.
    SceneClass,
    /// `point_matching`: do two views fixate the same point?
    PointMatching,
    /// `fixated_pose`: relative pose of two fixated views of a point.
    FixatedPose,
    /// `non_fixated_pose`: relative pose of two non-fixated views of a point.
    NonFixatedPose,
    /// `egomotion`: relative poses along three views.
    Egomotion,
}

/// What a training sample is made of: one view, or several views with a relation between them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SampleKind {
    /// One view.
    Single,
    /// Two fixated views of the same point.
    FixatedPair,
    /// Two non-fixated views of the same point.
    NonFixatedPair,
    /// Two fixated views, of the same point (label 1) or of different points of the building (label 0).
    MatchingPair,
    /// Three fixated views of the same point.
    Triplet,
}

impl SampleKind {
    /// How many views a sample holds.
    pub fn views(self) -> usize {
        match self {
            SampleKind::Single => 1,
            SampleKind::Triplet => 3,
            _ => 2,
        }
    }
}

impl Label {
    /// All 26, in the order of the paper's task list.
    pub const ALL: [Label; 26] = [
        Label::Autoencoding,
        Label::Colorization,
        Label::Inpainting,
        Label::Jigsaw,
        Label::Denoising,
        Label::Edges2d,
        Label::Edges3d,
        Label::Keypoints2d,
        Label::Keypoints3d,
        Label::Curvature,
        Label::Reshading,
        Label::Depth,
        Label::Distance,
        Label::SurfaceNormals,
        Label::RoomLayout,
        Label::VanishingPoints,
        Label::Segment2d,
        Label::Segment25d,
        Label::SemanticSegmentation,
        Label::ObjectClass,
        Label::ObjectClassSelected,
        Label::SceneClass,
        Label::PointMatching,
        Label::FixatedPose,
        Label::NonFixatedPose,
        Label::Egomotion,
    ];

    /// The task's canonical name.
    pub fn name(self) -> &'static str {
        self.names().0
    }

    /// The name of the task in the paper's released data.
    pub fn paper_alias(self) -> &'static str {
        self.names().1
    }

    fn names(self) -> (&'static str, &'static str) {
        match self {
            Label::Autoencoding => ("autoencoding", "autoencoder"),
            Label::Colorization => ("colorization", "colorization"),
            Label::Inpainting => ("inpainting", "impainting_whole"),
            Label::Jigsaw => ("jigsaw", "jigsaw"),
            Label::Denoising => ("denoising", "denoise"),
            Label::Edges2d => ("edges2d", "edge2d"),
            Label::Edges3d => ("edges3d", "edge3d"),
            Label::Keypoints2d => ("keypoints2d", "keypoint2d"),
            Label::Keypoints3d => ("keypoints3d", "keypoint3d"),
            Label::Curvature => ("curvature", "curvature"),
            Label::Reshading => ("reshading", "reshade"),
            Label::Depth => ("depth", "rgb2depth"),
            Label::Distance => ("distance", "rgb2mist"),
            Label::SurfaceNormals => ("surface_normals", "rgb2sfnorm"),
            Label::RoomLayout => ("room_layout", "room_layout"),
            Label::VanishingPoints => ("vanishing_points", "vanishing_point_well_defined"),
            Label::Segment2d => ("segment2d", "segment2d"),
            Label::Segment25d => ("segment25d", "segment25d"),
            Label::SemanticSegmentation => ("semantic_segmentation", "segmentsemantic_rb"),
            Label::ObjectClass => ("object_class", "class_1000"),
            Label::ObjectClassSelected => ("object_class_selected", "class_selected"),
            Label::SceneClass => ("scene_class", "class_places"),
            Label::PointMatching => ("point_matching", "point_match"),
            Label::FixatedPose => ("fixated_pose", "fix_pose"),
            Label::NonFixatedPose => ("non_fixated_pose", "non_fixated_pose"),
            Label::Egomotion => ("egomotion", "ego_motion"),
        }
    }

    /// The label of a task, by canonical name or paper alias.
    pub fn from_name(name: &str) -> Option<Label> {
        Label::ALL
            .into_iter()
            .find(|l| l.name() == name || l.paper_alias() == name)
    }

    /// The folder of the dataset the label is read from (the RGB folder for labels derived from the image,
    /// `point_info` for labels computed from camera poses).
    pub fn domain(self) -> Domain {
        match self {
            Label::Autoencoding
            | Label::Colorization
            | Label::Inpainting
            | Label::Jigsaw
            | Label::Denoising => Domain::Rgb,
            Label::Edges2d => Domain::EdgeTexture,
            Label::Edges3d => Domain::EdgeOcclusion,
            Label::Keypoints2d => Domain::Keypoints2d,
            Label::Keypoints3d => Domain::Keypoints3d,
            Label::Curvature => Domain::PrincipalCurvature,
            Label::Reshading => Domain::Reshading,
            Label::Depth => Domain::DepthZbuffer,
            Label::Distance => Domain::DepthEuclidean,
            Label::SurfaceNormals => Domain::Normal,
            Label::Segment2d => Domain::SegmentUnsup2d,
            Label::Segment25d => Domain::SegmentUnsup25d,
            Label::SemanticSegmentation => Domain::SegmentSemantic,
            Label::ObjectClass | Label::ObjectClassSelected => Domain::ClassObject,
            Label::SceneClass => Domain::ClassScene,
            Label::RoomLayout
            | Label::VanishingPoints
            | Label::PointMatching
            | Label::FixatedPose
            | Label::NonFixatedPose
            | Label::Egomotion => Domain::PointInfo,
        }
    }

    /// What a sample for this label is made of.
    pub fn sample_kind(self) -> SampleKind {
        match self {
            Label::PointMatching => SampleKind::MatchingPair,
            Label::FixatedPose => SampleKind::FixatedPair,
            Label::NonFixatedPose => SampleKind::NonFixatedPair,
            Label::Egomotion => SampleKind::Triplet,
            _ => SampleKind::Single,
        }
    }

    /// The shape of one sample's target for images of side `size`: `[C, H, W]` for dense maps, `[H, W]`
    /// (class or segment id per pixel) for per-pixel classes and embeddings, `[K]` for class distributions
    /// and vectors.
    pub fn target_shape(self, size: usize) -> Vec<usize> {
        match self {
            Label::Autoencoding | Label::Inpainting | Label::Denoising | Label::SurfaceNormals => {
                vec![3, size, size]
            }
            Label::Curvature => vec![2, size, size],
            Label::Edges2d
            | Label::Edges3d
            | Label::Keypoints2d
            | Label::Keypoints3d
            | Label::Reshading
            | Label::Depth
            | Label::Distance => {
                vec![1, size, size]
            }
            Label::Colorization
            | Label::Segment2d
            | Label::Segment25d
            | Label::SemanticSegmentation => vec![size, size],
            Label::Jigsaw => vec![derived::JIGSAW_PERMUTATIONS],
            Label::ObjectClass => vec![geometry::OBJECT_CLASSES],
            Label::ObjectClassSelected => vec![geometry::OBJECT_CLASSES_SELECTED],
            Label::SceneClass => vec![geometry::SCENE_CLASSES],
            Label::PointMatching => vec![2],
            Label::RoomLayout | Label::VanishingPoints => vec![9],
            Label::FixatedPose | Label::NonFixatedPose => vec![6],
            Label::Egomotion => vec![12],
        }
    }

    /// Whether the network input for this label is the clean RGB image (otherwise it is a corruption of it:
    /// grey, masked, noisy or shuffled).
    pub fn input_is_clean_rgb(self) -> bool {
        !matches!(
            self,
            Label::Colorization | Label::Inpainting | Label::Denoising | Label::Jigsaw
        )
    }

    /// The exact definition of the label and its units.
    pub fn definition(self) -> &'static str {
        match self {
            Label::Autoencoding => "The RGB image itself, sRGB values in [0, 1] per channel (3 × H × W).",
            Label::Colorization => {
                "Input: CIE lightness L*/100 in [0, 1], repeated in 3 channels. Target: per pixel, the CIE \
                 L*a*b* (D65) chroma class 8·i_a + i_b in 0..64, where i_a = ⌊(a* + 128)/32⌋ and \
                 i_b = ⌊(b* + 128)/32⌋ clamped to 0..8 (H × W class ids)."
            }
            Label::Inpainting => {
                "Input: the image with a square of side H/2, at a position drawn from the view's seed, set to \
                 0.5. Target: the whole clean image, sRGB in [0, 1] (3 × H × W)."
            }
            Label::Jigsaw => {
                "Input: the 3×3 tiles of side ⌊H/3⌋ rearranged by one of 100 fixed permutations (greedy maximal \
                 minimum Hamming distance, seeded), drawn from the view's seed. Target: one-hot over the 100 \
                 permutation indices."
            }
            Label::Denoising => {
                "Input: the image plus Gaussian noise of σ = 0.1 (sRGB units), clamped to [0, 1], drawn from the \
                 view's seed. Target: the clean image, sRGB in [0, 1] (3 × H × W)."
            }
            Label::Edges2d => {
                "Texture edges: Canny on luminance Y = (0.299R + 0.587G + 0.114B)/255 of the 8-bit image; \
                 Gaussian blur σ = 1 px, Sobel gradient, non-maximum suppression, hysteresis between 0.012 and \
                 0.03 luminance per pixel. 1 on edges, 0 elsewhere (1 × H × W)."
            }
            Label::Edges3d => {
                "Occlusion edges: 1 at a pixel when the visible distance jumps by more than 1% between its centre \
                 and a farther 4-neighbour's that sees a different surface (the jump located exactly by bisecting \
                 the segment with camera rays to 1/128 px); creases are continuous and are not edges; the \
                 edge is on the near side. 0 elsewhere (1 × H × W)."
            }
            Label::Keypoints2d => {
                "Image corners: Harris response R = det M − 0.04 (tr M)² of the luminance structure tensor \
                 (Sobel gradients, Gaussian window σ = 1 px), label min(1, √max(R, 0) / 0.003), unitless in \
                 [0, 1] (1 × H × W)."
            }
            Label::Keypoints3d => {
                "Geometric corners: the same Harris response summed over the channels n_x, n_y, n_z (camera-frame \
                 normal) and ln(distance / 1 m), label min(1, √max(R, 0) / 0.1), unitless in [0, 1] \
                 (1 × H × W)."
            }
            Label::Curvature => {
                "Principal curvatures k1 ≥ k2 of the surface seen at each pixel, analytic: 1/r and 1/r on a ball \
                 of radius r, 1/r and 0 on a cylinder's side, 0 on planes (box faces, walls, caps; an edge \
                 pixel takes the face its ray hits); positive where convex; 1/m (2 × H × W)."
            }
            Label::Reshading => {
                "Shading of the surface by a directional light fixed in the camera frame, l = (−0.4, 0.6, 1)/‖·‖, \
                 with albedo removed: max(0, n · l), unitless in [0, 1] (1 × H × W)."
            }
            Label::Depth => {
                "Z-buffer depth: distance from the camera plane along the optical axis to the surface seen at the \
                 pixel centre, metres (1 × H × W). Stored at 1/512 m per unit."
            }
            Label::Distance => {
                "Euclidean distance from the optical centre to the surface seen at the pixel centre, metres \
                 (1 × H × W); equals depth · √(1 + ((u − W/2)/f)² + ((v − H/2)/f)²)."
            }
            Label::SurfaceNormals => {
                "Unit surface normal in the camera frame (x right, y up, z towards the viewer), facing the \
                 camera, components in [−1, 1] (3 × H × W); stored as round((n + 1)/2 · 255)."
            }
            Label::RoomLayout => {
                "The room box in the camera frame, 9 numbers: centre (m, 3), half-extents along the room's x \
                 (long side), y, z (up) axes (m, 3), rotation vector of the room axes in the camera frame \
                 (rad, 3), with x and y negated together when that makes x·right ≥ 0."
            }
            Label::VanishingPoints => {
                "The room's three Manhattan directions (x, y, z axes, canonicalised as for the room layout) as \
                 unit vectors in the camera frame, 9 numbers; the image vanishing point of d is \
                 (W/2 + f·dx/(−dz), H/2 − f·dy/(−dz)) px."
            }
            Label::Segment2d => {
                "Unsupervised 2-D segments: graph-based segmentation (Felzenszwalb–Huttenlocher) of the RGB image \
                 (values in [0, 1], blurred σ = 0.8 px), 8-connected, k = 0.6·(H/64)², regions ≥ H²/256 px; \
                 segment ids numbered in scan order (H × W)."
            }
            Label::Segment25d => {
                "Unsupervised 2.5-D segments: the same algorithm on the features (n_x, n_y, n_z, ln depth, \
                 ln distance) with no RGB, k = 1.5·(H/64)², regions ≥ H²/256 px; segment ids (H × W)."
            }
            Label::SemanticSegmentation => {
                "Per-pixel class of the object seen: 0 background (walls, floor, ceiling, doors, windows), \
                 1..=16 chair, sofa, bed, table, cabinet, lamp, plant, screen, shelf, rug, toilet, sink, \
                 refrigerator, bathtub, stove, vase (H × W class ids)."
            }
            Label::ObjectClass => {
                "Object classification: the fraction of the furniture pixels showing each class (entry c − 1 for \
                 semantic class c), or entry 16 = 1 when no furniture is visible; 1000 entries summing to 1."
            }
            Label::ObjectClassSelected => {
                "The object-classification distribution restricted to its first 100 entries (all the mass is \
                 there), renormalised; 100 entries summing to 1."
            }
            Label::SceneClass => {
                "Room type, one-hot over 365 entries: 0 bedroom, 1 living room, 2 kitchen, 3 bathroom, 4 office, \
                 5 dining room, 6 classroom, 7 lobby."
            }
            Label::PointMatching => {
                "Two fixated views: one-hot [different, same], 'same' when both optical axes pass through the \
                 same 3-D point (the centre patches show the same surface point)."
            }
            Label::FixatedPose => {
                "Pose of view B in view A's camera frame, T_AB = T_A⁻¹ T_B, for two fixated views of one point: \
                 rotation vector (rad, 3) then translation (m, 3)."
            }
            Label::NonFixatedPose => {
                "As the fixated pose, for two non-fixated views that both see the point off-centre: rotation \
                 vector (rad, 3), translation (m, 3)."
            }
            Label::Egomotion => {
                "Three views of one point in sequence: [T_01, T_12], each a rotation vector (rad, 3) and a \
                 translation (m, 3), 12 numbers; T_02 = T_01 T_12."
            }
        }
    }
}

/// The per-pixel and per-view labels that need computing beyond the ray cast (the rest are [`Frame`]
/// buffers as they are).
#[derive(Clone, Debug, PartialEq)]
pub struct ViewLabels {
    /// [`Label::Edges2d`], row-major.
    pub edge_texture: Vec<f32>,
    /// [`Label::Edges3d`].
    pub edge_occlusion: Vec<f32>,
    /// [`Label::Keypoints2d`].
    pub keypoints2d: Vec<f32>,
    /// [`Label::Keypoints3d`].
    pub keypoints3d: Vec<f32>,
    /// [`Label::Segment2d`].
    pub segment2d: Vec<u32>,
    /// [`Label::Segment25d`].
    pub segment25d: Vec<u32>,
    /// [`Label::ObjectClass`] ([`geometry::OBJECT_CLASSES`] entries).
    pub object_class: Vec<f32>,
}

/// Luminance `Y = (0.299R + 0.587G + 0.114B)/255` of 8-bit sRGB pixels.
pub fn luminance(rgb: &[[u8; 3]]) -> Vec<f32> {
    rgb.iter()
        .map(|p| {
            (0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])) / 255.0
        })
        .collect()
}

impl ViewLabels {
    /// Computes every label of one view rendered from `scene`.
    pub fn compute(scene: &Scene, frame: &Frame) -> ViewLabels {
        let size = frame.size;
        let y = luminance(&frame.rgb);
        let edge_texture = image::canny(&y, size, CANNY.0, CANNY.1, CANNY.2);
        let keypoints2d = image::harris(&[&y], size, HARRIS_SIGMA)
            .iter()
            .map(|&r| (r.max(0.0).sqrt() / KEYPOINTS2D_SCALE).min(1.0))
            .collect();

        let channel = |k: usize| -> Vec<f32> { frame.normal.iter().map(|n| n[k]).collect() };
        let (nx, ny, nz) = (channel(0), channel(1), channel(2));
        let log_distance: Vec<f32> = frame
            .distance
            .iter()
            .map(|&d| libm::logf(d.max(1e-3)))
            .collect();
        let keypoints3d = image::harris(&[&nx, &ny, &nz, &log_distance], size, HARRIS_SIGMA)
            .iter()
            .map(|&r| (r.max(0.0).sqrt() / KEYPOINTS3D_SCALE).min(1.0))
            .collect();

        let area = (size * size) as f32;
        let scale = area / (64.0 * 64.0);
        let planes: Vec<Vec<f32>> = (0..3)
            .map(|k| {
                image::blur(
                    &frame
                        .rgb
                        .iter()
                        .map(|p| f32::from(p[k]) / 255.0)
                        .collect::<Vec<_>>(),
                    size,
                    0.8,
                )
            })
            .collect();
        let rgb: Vec<f32> = (0..size * size)
            .flat_map(|i| [planes[0][i], planes[1][i], planes[2][i]])
            .collect();
        let min_size = |fraction: f32| (area * fraction).max(2.0) as usize;
        let segment2d =
            image::felzenszwalb(&rgb, 3, size, SEGMENT2D.0 * scale, min_size(SEGMENT2D.1));
        let geo: Vec<f32> = (0..size * size)
            .flat_map(|i| {
                [
                    nx[i],
                    ny[i],
                    nz[i],
                    libm::logf(frame.depth[i].max(1e-3)),
                    log_distance[i],
                ]
            })
            .collect();
        let segment25d =
            image::felzenszwalb(&geo, 5, size, SEGMENT25D.0 * scale, min_size(SEGMENT25D.1));

        ViewLabels {
            edge_texture,
            edge_occlusion: geometry::occlusion_edges(scene, frame),
            keypoints2d,
            keypoints3d,
            segment2d,
            segment25d,
            object_class: geometry::object_distribution(&frame.semantic),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_resolve() {
        for l in Label::ALL {
            assert_eq!(Label::from_name(l.name()), Some(l));
            assert_eq!(Label::from_name(l.paper_alias()), Some(l));
            assert!(!l.definition().is_empty());
        }
        let names: std::collections::BTreeSet<_> = Label::ALL.iter().map(|l| l.name()).collect();
        assert_eq!(names.len(), 26);
    }
}
