//! Labels that come from 3-D geometry alone: occlusion edges, the room box and its Manhattan directions in
//! the camera frame, and relative camera poses.

use serde::{Deserialize, Serialize};

use crate::data::math::{Mat3, Pose, Vec3};
use crate::data::render::Frame;

/// How far (as a fraction of the near pixel's depth) the far pixel must lie behind the near surface's
/// tangent plane, and the near pixel in front of the far surface's, for an occlusion edge. Below it, two
/// surfaces meet in a crease, which is not an occlusion.
pub const OCCLUSION_MARGIN: f64 = 0.01;

/// Occlusion edges: 1.0 at pixel `p` when a 4-neighbour `q` sees a different surface that `p`'s surface
/// hides part of, i.e. `q`'s point lies behind `p`'s tangent plane and `p`'s point in front of `q`'s
/// tangent plane, each by more than `OCCLUSION_MARGIN · depth(p)`; 0.0 elsewhere. The edge is drawn on the
/// near (occluding) side. Creases (a wall meeting the floor, the edge of a box) fail one of the two tests
/// and are not occlusions. Unitless.
pub fn occlusion_edges(frame: &Frame) -> Vec<f32> {
    let size = frame.size;
    let mut out = vec![0.0f32; size * size];
    for (i, slot) in out.iter_mut().enumerate() {
        let (x, y) = (i % size, i / size);
        let p = frame.point(i);
        let np = frame.normal_vec(i);
        let margin = OCCLUSION_MARGIN * f64::from(frame.depth[i]);
        let neighbours = [
            (x > 0).then(|| i - 1),
            (x + 1 < size).then(|| i + 1),
            (y > 0).then(|| i - size),
            (y + 1 < size).then(|| i + size),
        ];
        for j in neighbours.into_iter().flatten() {
            if frame.surface[j] == frame.surface[i] {
                continue;
            }
            let q = frame.point(j);
            let nq = frame.normal_vec(j);
            if (q - p).dot(np) < -margin && (p - q).dot(nq) > margin {
                *slot = 1.0;
                break;
            }
        }
    }
    out
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
