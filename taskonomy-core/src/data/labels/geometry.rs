//! Labels that come from 3-D geometry alone: occlusion edges, the room box and its Manhattan directions in
//! the camera frame, and relative camera poses.

use serde::{Deserialize, Serialize};

use crate::data::math::{Mat3, Pose, Vec3};
use crate::data::render::Frame;
use crate::data::scene::Scene;

/// The smallest jump in distance, as a fraction of the nearer distance, that counts as an occlusion.
pub const OCCLUSION_MARGIN: f64 = 0.01;

/// Bisection steps between two pixel centres: the boundary between their surfaces is located to
/// `2⁻⁷` pixel, where a crease's jump has shrunk to nothing and an occlusion's has not.
pub const OCCLUSION_BISECTIONS: usize = 7;

/// Occlusion edges: 1.0 at pixel `p` when, for a 4-neighbour `q` that sees a different surface and is
/// farther, the visible distance jumps along the image segment between the two pixel centres by more than
/// `OCCLUSION_MARGIN` of the nearer distance; 0.0 elsewhere. The jump is measured exactly by bisecting the
/// segment with camera rays until the two surfaces are [`OCCLUSION_BISECTIONS`] halvings apart. Creases
/// (a wall meeting the floor, the edge of a box, a leg standing on the floor) are continuous and are not
/// occlusions; silhouettes of balls and cylinders are. The edge is drawn on the near (occluding) side.
/// Unitless.
pub fn occlusion_edges(scene: &Scene, frame: &Frame) -> Vec<f32> {
    let size = frame.size;
    let mut out = vec![0.0f32; size * size];
    for i in 0..size * size {
        let (x, y) = (i % size, i / size);
        for j in [
            (x + 1 < size).then(|| i + 1),
            (y + 1 < size).then(|| i + size),
        ]
        .into_iter()
        .flatten()
        {
            if frame.surface[i] != frame.surface[j] && jumps(scene, frame, i, j) {
                let near = if frame.distance[i] <= frame.distance[j] {
                    i
                } else {
                    j
                };
                out[near] = 1.0;
            }
        }
    }
    out
}

/// Whether the visible distance jumps between the centres of pixels `i` and `j`.
fn jumps(scene: &Scene, frame: &Frame, i: usize, j: usize) -> bool {
    let size = frame.size;
    let end = |k: usize| End {
        u: (k % size) as f64 + 0.5,
        v: (k / size) as f64 + 0.5,
        surface: frame.surface[k],
        t: f64::from(frame.distance[k]),
    };
    jumps_between(scene, frame, end(i), end(j), OCCLUSION_BISECTIONS)
}

/// One end of a bisected image segment: position, surface seen, distance.
#[derive(Clone, Copy)]
struct End {
    u: f64,
    v: f64,
    surface: u32,
    t: f64,
}

fn jumps_between(scene: &Scene, frame: &Frame, a: End, b: End, steps: usize) -> bool {
    if steps == 0 {
        return (a.t - b.t).abs() > OCCLUSION_MARGIN * a.t.min(b.t);
    }
    let (u, v) = ((a.u + b.u) / 2.0, (a.v + b.v) / 2.0);
    let hit = scene.trace(&frame.camera.ray(u, v));
    let mid = End {
        u,
        v,
        surface: hit.primitive * 8 + u32::from(hit.surface.face),
        t: hit.surface.t,
    };
    // Follow the half whose ends see different surfaces; a third surface in between splits the search.
    if mid.surface == a.surface {
        jumps_between(scene, frame, mid, b, steps - 1)
    } else if mid.surface == b.surface {
        jumps_between(scene, frame, a, mid, steps - 1)
    } else {
        jumps_between(scene, frame, a, mid, steps - 1)
            || jumps_between(scene, frame, mid, b, steps - 1)
    }
}

/// The number of entries of the object-classification label (the paper's ImageNet-sized output).
pub const OBJECT_CLASSES: usize = 1000;
/// The number of entries of the selected-object-classification label.
pub const OBJECT_CLASSES_SELECTED: usize = 100;
/// The number of entries of the scene-classification label (the paper's Places365-sized output).
pub const SCENE_CLASSES: usize = 365;
/// The object-classification entry that holds the mass of a view showing no furniture at all.
pub const NO_OBJECT: usize = 16;

/// Object classification: the fraction of the pixels showing furniture that show each class. Entry
/// `c − 1` is semantic class `c` (1..=16); entry [`NO_OBJECT`] is 1 when no furniture is visible; the rest
/// of the [`OBJECT_CLASSES`] entries are 0. Sums to 1. Unitless.
pub fn object_distribution(semantic: &[u8]) -> Vec<f32> {
    let mut counts = [0usize; 17];
    for &c in semantic {
        counts[usize::from(c).min(16)] += 1;
    }
    let total: usize = counts[1..].iter().sum();
    let mut out = vec![0.0f32; OBJECT_CLASSES];
    if total == 0 {
        out[NO_OBJECT] = 1.0;
    } else {
        for c in 1..17 {
            out[c - 1] = counts[c] as f32 / total as f32;
        }
    }
    out
}

/// The room as a box in the world frame: what the room-layout and vanishing-point labels are computed from.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoomBox {
    /// Centre of the box (world, metres).
    pub center: [f64; 3],
    /// Half-extents along the room's own x (long side), y and z (up) axes (metres).
    pub half_extents: [f64; 3],
    /// The room's x, y and z axes as unit vectors in the world frame (rows of this array).
    pub axes: [[f64; 3]; 3],
}

impl RoomBox {
    /// The room axes as the columns of a rotation matrix (room to world).
    pub fn rotation(&self) -> Mat3 {
        Mat3::from_columns(
            Vec3::from_array(self.axes[0]),
            Vec3::from_array(self.axes[1]),
            Vec3::from_array(self.axes[2]),
        )
    }
}

/// The room's axes in the camera frame, canonicalised: columns are the room's x (long side), y and z (up)
/// axes; because a box looks the same turned by 180° about its vertical axis, x and y are both negated when
/// that makes x point to the camera's right (`x·right ≥ 0`).
pub fn room_axes_in_camera(camera_to_world: &Pose, room: &RoomBox) -> Mat3 {
    let r = camera_to_world.rotation.transpose() * room.rotation();
    if r.column(0).x < 0.0 {
        Mat3::from_columns(-r.column(0), -r.column(1), r.column(2))
    } else {
        r
    }
}

/// Room layout, 9 numbers: the room box's centre in the camera frame (metres, 3), its half-extents along
/// the room's x, y, z axes (metres, 3), and the rotation vector (axis × angle, radians, 3) of the
/// canonical room axes in the camera frame ([`room_axes_in_camera`]).
pub fn room_layout(camera_to_world: &Pose, room: &RoomBox) -> [f64; 9] {
    let c = camera_to_world
        .inverse()
        .apply(Vec3::from_array(room.center));
    let w = room_axes_in_camera(camera_to_world, room).to_rotation_vector();
    let h = room.half_extents;
    [c.x, c.y, c.z, h[0], h[1], h[2], w.x, w.y, w.z]
}

/// Vanishing points, 9 numbers: the room's three Manhattan directions (x, y, z axes, canonicalised as in
/// [`room_axes_in_camera`]) as unit vectors in the camera frame, a point each on the Gaussian sphere.
/// The image vanishing point of direction `d` is `(S/2 + f·dx/(−dz), S/2 − f·dy/(−dz))` pixels, the same for
/// `±d`; it is at infinity when `dz = 0`. Unitless.
pub fn vanishing_points(camera_to_world: &Pose, room: &RoomBox) -> [f64; 9] {
    let r = room_axes_in_camera(camera_to_world, room);
    let (x, y, z) = (r.column(0), r.column(1), r.column(2));
    [x.x, x.y, x.z, y.x, y.y, y.z, z.x, z.y, z.z]
}

/// Relative pose, 6 numbers: the pose of camera B in camera A's frame, `T_AB = T_A⁻¹ ∘ T_B`, as its rotation
/// vector (radians, 3) and translation (metres, 3). Composes: `T_AC = T_AB ∘ T_BC`.
pub fn relative_pose(a_to_world: &Pose, b_to_world: &Pose) -> [f64; 6] {
    a_to_world.inverse().compose(b_to_world).to_vector6()
}

/// Egomotion, 12 numbers: the relative poses of three views taken in sequence, `[T_01, T_12]` (each as in
/// [`relative_pose`]).
pub fn egomotion(views: [&Pose; 3]) -> [f64; 12] {
    let (a, b) = (
        relative_pose(views[0], views[1]),
        relative_pose(views[1], views[2]),
    );
    let mut out = [0.0; 12];
    out[..6].copy_from_slice(&a);
    out[6..].copy_from_slice(&b);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_distribution_sums_to_one() {
        let d = object_distribution(&[0, 0, 1, 1, 1, 5]);
        assert_eq!(d[0], 0.75);
        assert_eq!(d[4], 0.25);
        assert!((d.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        let empty = object_distribution(&[0, 0]);
        assert_eq!(empty[NO_OBJECT], 1.0);
    }

    #[test]
    fn room_layout_of_a_camera_at_the_centre_looking_along_room_x() {
        // Camera at the room centre looking along +x (world = room), level: camera −z = world x.
        let cam = Pose {
            rotation: Mat3::from_columns(-Vec3::Y, Vec3::Z, -Vec3::X),
            translation: Vec3::new(0.0, 0.0, 1.5),
        };
        let room = RoomBox {
            center: [0.0, 0.0, 1.5],
            half_extents: [3.0, 2.0, 1.5],
            axes: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
        };
        let layout = room_layout(&cam, &room);
        assert!(layout[..3].iter().all(|v| v.abs() < 1e-12));
        assert_eq!(&layout[3..6], &[3.0, 2.0, 1.5]);
        // Room x is straight ahead (camera −z), which has x = 0 so no flip; room z is camera y.
        let r = room_axes_in_camera(&cam, &room);
        assert!((r.column(0) - (-Vec3::Z)).norm() < 1e-12);
        assert!((r.column(2) - Vec3::Y).norm() < 1e-12);
    }
}
