//! The standard Taskonomy dictionary: the 26 tasks of Zamir et al., "Taskonomy: Disentangling Task
//! Transfer Learning" (CVPR 2018), declared with the taskonomy-rs DSL.
//!
//! Each task carries, as an alias, the name the paper's released measurements use for it (`rgb2sfnorm`,
//! `rgb2depth`, ...), so those files can be read by task, and as its domain the folder name of its labels
//! in the Taskonomy dataset. Outputs and losses follow the paper's supplementary material; where this
//! library departs from it (fewer colour bins, 100 jigsaw permutations) the task's doc says so.
//!
//! ```
//! use taskonomy_core::spec::Dictionary;
//! use taskonomy_tasks::Taskonomy;
//!
//! assert_eq!(Taskonomy::ALL.len(), 26);
//! let normals = Taskonomy::from_name("rgb2sfnorm").unwrap();
//! assert_eq!(normals, Taskonomy::SurfaceNormals);
//! assert_eq!(normals.spec().output.to_string(), "Dense<3>");
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use taskonomy_macros::{task, task_dictionary};

// ---- 2D: tasks whose labels come from the image itself ------------------------------------------------

/// Autoencoding: reconstruct the RGB image through the representation.
#[task(output = Dense<3>, loss = L1, aliases = ["autoencoder"], domain = "rgb")]
pub struct Autoencoding;

/// Colorization: predict the colour of a greyscale image.
///
/// Per-pixel classes over the CIE Lab chroma plane, a and b each cut into 8 bins (64 classes; the paper
/// uses 313 bins).
#[task(output = PixelClasses<64>, loss = CrossEntropy, domain = "rgb")]
pub struct Colorization;

/// Inpainting: fill in the masked centre of the image.
#[task(output = Dense<3>, loss = L1, aliases = ["impainting_whole"], domain = "rgb")]
pub struct Inpainting;

/// Jigsaw: which of a fixed set of permutations shuffled the 3×3 tiles of the image.
///
/// 100 permutations chosen for large Hamming distance (the paper uses 1000).
#[task(output = Classes<100>, loss = CrossEntropy, domain = "rgb")]
pub struct Jigsaw;

/// Denoising: recover the clean image from a noisy one.
#[task(output = Dense<3>, loss = L1, aliases = ["denoise"], domain = "rgb")]
pub struct Denoising;

/// 2D (texture) edges: edge strength of the RGB image.
#[task(output = Dense<1>, loss = L1, aliases = ["edge2d"], domain = "edge_texture")]
pub struct Edges2D;

/// 2D keypoints: corner response of the RGB image.
#[task(output = Dense<1>, loss = L1, aliases = ["keypoint2d"], domain = "keypoints2d")]
pub struct Keypoints2D;

/// Unsupervised 2D segmentation: per-pixel embedding that groups pixels of one colour segment.
#[task(
    output = PixelEmbedding<64>,
    loss = Contrastive,
    domain = "segment_unsup2d"
)]
pub struct Segment2D;

// ---- 3D: tasks whose labels come from scene geometry --------------------------------------------------

/// 3D (occlusion) edges: depth discontinuities and object boundaries.
#[task(output = Dense<1>, loss = L1, aliases = ["edge3d"], domain = "edge_occlusion")]
pub struct Edges3D;

/// 3D keypoints: corner response of the scene's geometry (normals and depth), not its texture.
#[task(output = Dense<1>, loss = L1, aliases = ["keypoint3d"], domain = "keypoints3d")]
pub struct Keypoints3D;

/// Curvature: the two principal curvatures of the visible surface.
#[task(output = Dense<2>, loss = L2, domain = "principal_curvature")]
pub struct Curvature;

/// Reshading: shading under a fixed canonical light, albedo removed.
#[task(output = Dense<1>, loss = L1, aliases = ["reshade"], domain = "reshading")]
pub struct Reshading;

/// Z-buffer depth: distance along the camera's viewing axis, per pixel.
#[task(output = Dense<1>, loss = L1, aliases = ["rgb2depth"], domain = "depth_zbuffer")]
pub struct Depth;

/// Euclidean distance: distance from the camera centre, per pixel.
#[task(output = Dense<1>, loss = L1, aliases = ["rgb2mist"], domain = "depth_euclidean")]
pub struct Distance;

/// Surface normals in the camera frame.
#[task(output = Dense<3>, loss = Cosine, aliases = ["rgb2sfnorm"], domain = "normal")]
pub struct SurfaceNormals;

/// Unsupervised 2.5D segmentation: segments of depth, normals and distance (no colour).
#[task(
    output = PixelEmbedding<64>,
    loss = Contrastive,
    domain = "segment_unsup25d"
)]
pub struct Segment25D;

// ---- Geometric: camera and room geometry ---------------------------------------------------------------

/// Room layout: the room's box relative to the camera (centre, half-size, rotation).
#[task(output = Vector<9>, loss = L2, domain = "point_info")]
pub struct RoomLayout;

/// Vanishing points: the room's three Manhattan directions in the camera frame.
#[task(
    output = Vector<9>,
    loss = L2,
    aliases = ["vanishing_point_well_defined", "vanishing_point"],
    domain = "point_info"
)]
pub struct VanishingPoints;

/// Point matching: do the centres of two views show the same 3D point?
#[task(
    output = Classes<2>,
    loss = CrossEntropy,
    views = 2,
    aliases = ["point_match"],
    domain = "point_info"
)]
pub struct PointMatching;

/// Pairwise fixated camera pose: the 6-DoF relative pose of two views looking at one point.
#[task(
    output = Vector<6>,
    loss = L2,
    views = 2,
    aliases = ["fix_pose"],
    domain = "point_info"
)]
pub struct FixatedPose;

/// Pairwise non-fixated camera pose: the 6-DoF relative pose of two overlapping views.
#[task(output = Vector<6>, loss = L2, views = 2, domain = "point_info")]
pub struct NonFixatedPose;

/// Triplet fixated camera pose (egomotion): the relative poses of three views of one point.
#[task(
    output = Vector<12>,
    loss = L2,
    views = 3,
    aliases = ["ego_motion"],
    domain = "point_info"
)]
pub struct Egomotion;

// ---- Semantic ------------------------------------------------------------------------------------------

/// Semantic segmentation: the object class of every pixel (class 0 is background).
#[task(
    output = PixelClasses<17>,
    loss = CrossEntropy,
    aliases = ["segmentsemantic_rb", "segmentsemantic"],
    domain = "segment_semantic"
)]
pub struct SemanticSegmentation;

/// Object classification: distribution over 1000 object classes (the paper distils ImageNet).
#[task(
    output = Classes<1000>,
    loss = CrossEntropy,
    aliases = ["class_1000"],
    domain = "class_object"
)]
pub struct ObjectClass;

/// Object classification restricted to a selected subset of 100 classes.
#[task(
    output = Classes<100>,
    loss = CrossEntropy,
    aliases = ["class_selected"],
    domain = "class_object"
)]
pub struct ObjectClassSelected;

/// Scene classification: distribution over the 365 Places scene classes.
#[task(
    output = Classes<365>,
    loss = CrossEntropy,
    aliases = ["class_places"],
    domain = "class_scene"
)]
pub struct SceneClass;

task_dictionary! {
    /// The 26 tasks of the Taskonomy paper. Every task can serve as a source; colorization, inpainting
    /// and jigsaw are sources only, as in the paper (their outputs are not useful targets).
    pub Taskonomy {
        sources: [
            Autoencoding, Colorization, Inpainting, Jigsaw, Denoising, Edges2D, Keypoints2D, Segment2D,
            Edges3D, Keypoints3D, Curvature, Reshading, Depth, Distance, SurfaceNormals, Segment25D,
            RoomLayout, VanishingPoints, PointMatching, FixatedPose, NonFixatedPose, Egomotion,
            SemanticSegmentation, ObjectClass, ObjectClassSelected, SceneClass,
        ],
        targets: [
            Autoencoding, Denoising, Edges2D, Keypoints2D, Segment2D,
            Edges3D, Keypoints3D, Curvature, Reshading, Depth, Distance, SurfaceNormals, Segment25D,
            RoomLayout, VanishingPoints, PointMatching, FixatedPose, NonFixatedPose, Egomotion,
            SemanticSegmentation, ObjectClass, ObjectClassSelected, SceneClass,
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use taskonomy_core::spec::{Dictionary, OutputKind};

    /// The task names of the paper's released measurements (`tasks.csv`, pseudo-sources excluded).
    const PAPER_NAMES: [&str; 26] = [
        "autoencoder",
        "class_1000",
        "class_places",
        "class_selected",
        "colorization",
        "curvature",
        "denoise",
        "edge2d",
        "edge3d",
        "ego_motion",
        "fix_pose",
        "impainting_whole",
        "jigsaw",
        "keypoint2d",
        "keypoint3d",
        "non_fixated_pose",
        "point_match",
        "reshade",
        "rgb2depth",
        "rgb2mist",
        "rgb2sfnorm",
        "room_layout",
        "segment25d",
        "segment2d",
        "segmentsemantic_rb",
        "vanishing_point_well_defined",
    ];

    #[test]
    fn every_paper_task_is_found_by_its_released_name() {
        let mut found: Vec<Taskonomy> = PAPER_NAMES
            .iter()
            .map(|name| Taskonomy::from_name(name).unwrap_or_else(|| panic!("{name} not found")))
            .collect();
        found.sort();
        found.dedup();
        assert_eq!(found.len(), 26, "two paper names map to one task");
        assert_eq!(Taskonomy::ALL.len(), Taskonomy::COUNT);
    }

    #[test]
    fn roles_follow_the_paper() {
        assert_eq!(Taskonomy::SOURCES.len(), 26);
        assert_eq!(Taskonomy::TARGETS.len(), 23);
        for source_only in [
            Taskonomy::Colorization,
            Taskonomy::Inpainting,
            Taskonomy::Jigsaw,
        ] {
            assert!(source_only.is_source() && !source_only.is_target());
        }
    }

    #[test]
    fn multi_view_tasks_declare_their_views() {
        let views = |task: Taskonomy| task.spec().views;
        assert_eq!(views(Taskonomy::PointMatching), 2);
        assert_eq!(views(Taskonomy::FixatedPose), 2);
        assert_eq!(views(Taskonomy::NonFixatedPose), 2);
        assert_eq!(views(Taskonomy::Egomotion), 3);
        assert_eq!(views(Taskonomy::Depth), 1);
    }

    #[test]
    fn specs_carry_the_declarations() {
        let normals = Taskonomy::SurfaceNormals.spec();
        assert_eq!(normals.name, "surface_normals");
        assert_eq!(normals.type_name, "SurfaceNormals");
        assert_eq!(normals.domain, "normal");
        assert_eq!(normals.decoder, "PixelDecoder");
        assert_eq!(normals.summary(), "Surface normals in the camera frame.");
        let scene = Taskonomy::SceneClass.spec();
        assert_eq!(scene.output.kind, OutputKind::Classes);
        assert_eq!(scene.decoder, "PooledHead");
        assert_eq!(<Depth as taskonomy_core::spec::Task>::SPEC.name, "depth");
    }
}
