//! One rendered synthetic view as a label function sees it: every buffer the renderer computes, the camera
//! and its pose, the room, the lights and the scene itself.
//!
//! A task on the synthetic scenes declares its label as a function of a [`SceneView`]
//! (`#[task(label = f)]`), so a label can be anything the scene determines:
//!
//! ```
//! use taskonomy_core::data::labels::{one_hot, Pixels};
//! use taskonomy_core::data::view::SceneView;
//!
//! /// Is this pixel furniture?
//! fn furniture(view: &SceneView) -> Pixels<u32> {
//!     view.map(|i| u32::from(view.object()[i] > 0))
//! }
//!
//! /// How many objects can be seen (7 or more in the last class).
//! fn visible_objects(view: &SceneView) -> [f32; 8] {
//!     let mut seen: Vec<u16> = view.object().iter().copied().filter(|&o| o > 0).collect();
//!     seen.sort_unstable();
//!     seen.dedup();
//!     one_hot(seen.len().min(7))
//! }
//! ```

use super::camera::{Camera, PlannedView};
use super::labels::geometry::RoomBox;
use super::labels::{Pixels, RgbImage};
use super::layout::PointInfo;
use super::math::Pose;
use super::render::Frame;
use super::scene::{Light, Material, Scene};
use super::synthetic::room_box;

/// A rendered view of a synthetic scene, with everything the renderer knows about it. Per-pixel buffers
/// are row-major (`index = y·size + x`) and in the camera frame (x right, y up, z towards the viewer).
#[derive(Clone, Copy, Debug)]
pub struct SceneView<'a> {
    scene: &'a Scene,
    planned: &'a PlannedView,
    frame: &'a Frame,
    info: &'a PointInfo,
}

impl<'a> SceneView<'a> {
    /// The view `planned` of `scene`, rendered into `frame`, with its point-info record.
    pub fn new(
        scene: &'a Scene,
        planned: &'a PlannedView,
        frame: &'a Frame,
        info: &'a PointInfo,
    ) -> Self {
        SceneView {
            scene,
            planned,
            frame,
            info,
        }
    }

    /// The image side in pixels.
    pub fn size(&self) -> usize {
        self.frame.size
    }

    /// `f(i)` for every pixel `i`, as the per-pixel label of the view.
    pub fn map<T>(&self, f: impl FnMut(usize) -> T) -> Pixels<T> {
        Pixels::new(self.size(), (0..self.size() * self.size()).map(f).collect())
    }

    /// The shaded image, 8-bit sRGB (what is written to disk).
    pub fn rgb(&self) -> &'a [[u8; 3]] {
        &self.frame.rgb
    }

    /// The shaded image with values in `[0, 1]`, as a network sees it.
    pub fn image(&self) -> RgbImage {
        RgbImage::from_srgb8(self.size(), &self.frame.rgb)
            .unwrap_or_else(|| unreachable!("a frame holds size² pixels"))
    }

    /// Z-buffer depth: distance from the camera plane along the optical axis, metres.
    pub fn depth(&self) -> &'a [f32] {
        &self.frame.depth
    }

    /// Euclidean distance from the optical centre, metres.
    pub fn distance(&self) -> &'a [f32] {
        &self.frame.distance
    }

    /// Unit surface normals facing the camera.
    pub fn normals(&self) -> &'a [[f32; 3]] {
        &self.frame.normal
    }

    /// Principal curvatures `[k1, k2]`, `k1 ≥ k2`, 1/m, positive where convex.
    pub fn curvature(&self) -> &'a [[f32; 2]] {
        &self.frame.curvature
    }

    /// Shading under a light fixed in the camera frame, albedo removed, in `[0, 1]`.
    pub fn reshading(&self) -> &'a [f32] {
        &self.frame.reshading
    }

    /// The light arriving at the surface from the scene's own lights (ambient included, shadows cast),
    /// linear, mean over the colour channels.
    pub fn shading(&self) -> &'a [f32] {
        &self.frame.shading
    }

    /// Surface ids: equal ids are one smooth surface of one solid.
    pub fn surface(&self) -> &'a [u32] {
        &self.frame.surface
    }

    /// Object instance: 0 for the room (walls, floor, ceiling, openings), `1 + i` for `scene().objects[i]`.
    pub fn object(&self) -> &'a [u16] {
        &self.frame.object
    }

    /// Semantic class: 0 for the background, 1 to 16 for the furniture classes
    /// ([`ObjectClass::semantic_id`](super::scene::ObjectClass::semantic_id)).
    pub fn semantic(&self) -> &'a [u8] {
        &self.frame.semantic
    }

    /// Material (texture) id: the index of the seen surface's material in [`SceneView::materials`].
    pub fn material(&self) -> &'a [u16] {
        &self.frame.material
    }

    /// The scene's materials (albedo pattern, colours, emission).
    pub fn materials(&self) -> &'a [Material] {
        &self.scene.materials
    }

    /// The camera (its pose in the room frame, field of view, size).
    pub fn camera(&self) -> &'a Camera {
        &self.frame.camera
    }

    /// The camera-to-world pose.
    pub fn pose(&self) -> Pose {
        self.info.camera_pose()
    }

    /// The room as a box in the world frame.
    pub fn room(&self) -> RoomBox {
        room_box(self.scene)
    }

    /// The scene's lights (room frame).
    pub fn lights(&self) -> &'a [Light] {
        &self.scene.lights
    }

    /// The whole scene: room, objects, materials, lights.
    pub fn scene(&self) -> &'a Scene {
        self.scene
    }

    /// How the camera was placed: its point, view number, whether it fixates the point.
    pub fn planned(&self) -> &'a PlannedView {
        self.planned
    }

    /// Every rendered buffer.
    pub fn frame(&self) -> &'a Frame {
        self.frame
    }

    /// The view's point-info record, as written to the dataset.
    pub fn point_info(&self) -> &'a PointInfo {
        self.info
    }
}
