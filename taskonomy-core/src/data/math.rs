//! Small, exact 3-D linear algebra for the renderer: vectors, rotations and rigid poses.
//!
//! Everything is `f64` and uses only `+ − × ÷ √` from the standard library (IEEE-754 exact rounding) and
//! [`libm`] for transcendental functions, so that a scene renders to the same bits on every platform.

use std::ops::{Add, Div, Mul, Neg, Sub};

/// A 3-vector in metres (points) or unitless (directions).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Vec3 {
    /// First coordinate.
    pub x: f64,
    /// Second coordinate.
    pub y: f64,
    /// Third coordinate.
    pub z: f64,
}

impl Vec3 {
    /// The zero vector.
    pub const ZERO: Vec3 = Vec3::new(0.0, 0.0, 0.0);
    /// The unit x axis.
    pub const X: Vec3 = Vec3::new(1.0, 0.0, 0.0);
    /// The unit y axis.
    pub const Y: Vec3 = Vec3::new(0.0, 1.0, 0.0);
    /// The unit z axis (up, in the world and room frames).
    pub const Z: Vec3 = Vec3::new(0.0, 0.0, 1.0);

    /// A vector from its coordinates.
    pub const fn new(x: f64, y: f64, z: f64) -> Self {
        Vec3 { x, y, z }
    }

    /// From an array `[x, y, z]`.
    pub const fn from_array(a: [f64; 3]) -> Self {
        Vec3::new(a[0], a[1], a[2])
    }

    /// As an array `[x, y, z]`.
    pub const fn to_array(self) -> [f64; 3] {
        [self.x, self.y, self.z]
    }

    /// Dot product.
    pub fn dot(self, o: Vec3) -> f64 {
        self.x * o.x + self.y * o.y + self.z * o.z
    }

    /// Cross product `self × o`.
    pub fn cross(self, o: Vec3) -> Vec3 {
        Vec3::new(
            self.y * o.z - self.z * o.y,
            self.z * o.x - self.x * o.z,
            self.x * o.y - self.y * o.x,
        )
    }

    /// Euclidean length.
    pub fn norm(self) -> f64 {
        self.dot(self).sqrt()
    }

    /// The unit vector along `self`; the zero vector stays zero rather than becoming NaN.
    pub fn normalized(self) -> Vec3 {
        let n = self.norm();
        if n > 0.0 {
            self / n
        } else {
            self
        }
    }

    /// Component-wise product.
    pub fn mul_elem(self, o: Vec3) -> Vec3 {
        Vec3::new(self.x * o.x, self.y * o.y, self.z * o.z)
    }

    /// Coordinate `i` (0, 1 or 2).
    pub fn get(self, i: usize) -> f64 {
        match i {
            0 => self.x,
            1 => self.y,
            _ => self.z,
        }
    }

    /// The vector of length `value` along coordinate axis `i` (0, 1 or 2): `get`'s inverse.
    pub fn along(i: usize, value: f64) -> Vec3 {
        let mut v = Vec3::ZERO;
        match i {
            0 => v.x = value,
            1 => v.y = value,
            _ => v.z = value,
        }
        v
    }

    /// Component-wise absolute value.
    pub fn abs(self) -> Vec3 {
        Vec3::new(self.x.abs(), self.y.abs(), self.z.abs())
    }
}

impl Add for Vec3 {
    type Output = Vec3;
    fn add(self, o: Vec3) -> Vec3 {
        Vec3::new(self.x + o.x, self.y + o.y, self.z + o.z)
    }
}

impl Sub for Vec3 {
    type Output = Vec3;
    fn sub(self, o: Vec3) -> Vec3 {
        Vec3::new(self.x - o.x, self.y - o.y, self.z - o.z)
    }
}

impl Neg for Vec3 {
    type Output = Vec3;
    fn neg(self) -> Vec3 {
        Vec3::new(-self.x, -self.y, -self.z)
    }
}

impl Mul<f64> for Vec3 {
    type Output = Vec3;
    fn mul(self, s: f64) -> Vec3 {
        Vec3::new(self.x * s, self.y * s, self.z * s)
    }
}

impl Div<f64> for Vec3 {
    type Output = Vec3;
    fn div(self, s: f64) -> Vec3 {
        Vec3::new(self.x / s, self.y / s, self.z / s)
    }
}

/// A 3×3 matrix, row-major: `m[r][c]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mat3 {
    /// Rows.
    pub m: [[f64; 3]; 3],
}

impl Mat3 {
    /// The identity.
    pub const IDENTITY: Mat3 = Mat3 {
        m: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
    };

    /// The matrix whose columns are `a`, `b`, `c`.
    pub fn from_columns(a: Vec3, b: Vec3, c: Vec3) -> Mat3 {
        Mat3 {
            m: [[a.x, b.x, c.x], [a.y, b.y, c.y], [a.z, b.z, c.z]],
        }
    }

    /// Column `i`.
    pub fn column(&self, i: usize) -> Vec3 {
        Vec3::new(self.m[0][i], self.m[1][i], self.m[2][i])
    }

    /// The transpose (the inverse, for a rotation).
    pub fn transpose(&self) -> Mat3 {
        let m = &self.m;
        Mat3 {
            m: [
                [m[0][0], m[1][0], m[2][0]],
                [m[0][1], m[1][1], m[2][1]],
                [m[0][2], m[1][2], m[2][2]],
            ],
        }
    }

    /// Rotation by `angle` radians about the x axis (right-handed).
    pub fn rot_x(angle: f64) -> Mat3 {
        let (s, c) = (libm::sin(angle), libm::cos(angle));
        Mat3 {
            m: [[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]],
        }
    }

    /// Rotation by `angle` radians about the y axis (right-handed).
    pub fn rot_y(angle: f64) -> Mat3 {
        let (s, c) = (libm::sin(angle), libm::cos(angle));
        Mat3 {
            m: [[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]],
        }
    }

    /// Rotation by `angle` radians about the z axis (right-handed).
    pub fn rot_z(angle: f64) -> Mat3 {
        let (s, c) = (libm::sin(angle), libm::cos(angle));
        Mat3 {
            m: [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]],
        }
    }

    /// The rotation of the static-axis Euler angles `[ex, ey, ez]` (Blender's `XYZ`, transforms3d's
    /// `sxyz`): first about x by `ex`, then about the fixed y by `ey`, then about the fixed z by `ez`,
    /// so `R = Rz(ez)·Ry(ey)·Rx(ex)`. This is how the Taskonomy dataset stores `camera_rotation_final`.
    pub fn from_euler_xyz(e: [f64; 3]) -> Mat3 {
        Mat3::rot_z(e[2]) * Mat3::rot_y(e[1]) * Mat3::rot_x(e[0])
    }

    /// The inverse of [`Mat3::from_euler_xyz`], with `ey` in `[−π/2, π/2]`.
    pub fn to_euler_xyz(&self) -> [f64; 3] {
        let m = &self.m;
        let ey = libm::asin((-m[2][0]).clamp(-1.0, 1.0));
        if m[2][0].abs() < 1.0 - 1e-12 {
            [
                libm::atan2(m[2][1], m[2][2]),
                ey,
                libm::atan2(m[1][0], m[0][0]),
            ]
        } else {
            // Gimbal lock: only ex ± ez is defined; put it all in ex.
            [libm::atan2(-m[1][2], m[1][1]), ey, 0.0]
        }
    }

    /// The rotation `exp([ω]×)` of the rotation vector `ω` (axis × angle in radians), by Rodrigues' formula.
    pub fn from_rotation_vector(w: Vec3) -> Mat3 {
        let angle = w.norm();
        if angle < 1e-12 {
            return Mat3::IDENTITY;
        }
        let k = w / angle;
        let (s, c) = (libm::sin(angle), libm::cos(angle));
        let v = 1.0 - c;
        Mat3 {
            m: [
                [
                    c + k.x * k.x * v,
                    k.x * k.y * v - k.z * s,
                    k.x * k.z * v + k.y * s,
                ],
                [
                    k.y * k.x * v + k.z * s,
                    c + k.y * k.y * v,
                    k.y * k.z * v - k.x * s,
                ],
                [
                    k.z * k.x * v - k.y * s,
                    k.z * k.y * v + k.x * s,
                    c + k.z * k.z * v,
                ],
            ],
        }
    }

    /// The rotation vector `ω = log(R)` (axis × angle, angle in `[0, π]`), the inverse of
    /// [`Mat3::from_rotation_vector`].
    pub fn to_rotation_vector(&self) -> Vec3 {
        let m = &self.m;
        let skew = Vec3::new(m[2][1] - m[1][2], m[0][2] - m[2][0], m[1][0] - m[0][1]);
        // sin θ = |skew|/2 and cos θ = (tr R − 1)/2; atan2 keeps θ accurate near 0 and near π, where acos
        // or asin alone lose half their digits.
        let (sin, cos) = (skew.norm() / 2.0, (m[0][0] + m[1][1] + m[2][2] - 1.0) / 2.0);
        let angle = libm::atan2(sin, cos);
        if angle < 1e-9 {
            return skew / 2.0;
        }
        if angle < std::f64::consts::FRAC_PI_2 {
            return skew * (angle / (2.0 * sin));
        }
        // Past π/2 the axis comes from the symmetric part, (R + Rᵀ)/2 = cos θ·I + (1 − cos θ)·k kᵀ, which
        // has no sin θ factor to vanish; the sign of k comes from the skew part (2 sin θ·k).
        let kk = |i: usize, j: usize| {
            ((m[i][j] + m[j][i]) / 2.0 - if i == j { cos } else { 0.0 }) / (1.0 - cos)
        };
        let i = (0..3)
            .max_by(|&a, &b| kk(a, a).total_cmp(&kk(b, b)))
            .unwrap_or(0);
        let scale = kk(i, i).sqrt();
        let axis = Vec3::new(kk(0, i), kk(1, i), kk(2, i)) / scale;
        let axis = if axis.dot(skew) < 0.0 { -axis } else { axis };
        axis.normalized() * angle
    }
}

impl Mul for Mat3 {
    type Output = Mat3;
    fn mul(self, o: Mat3) -> Mat3 {
        let mut r = [[0.0; 3]; 3];
        for (i, row) in r.iter_mut().enumerate() {
            for (j, cell) in row.iter_mut().enumerate() {
                *cell =
                    self.m[i][0] * o.m[0][j] + self.m[i][1] * o.m[1][j] + self.m[i][2] * o.m[2][j];
            }
        }
        Mat3 { m: r }
    }
}

impl Mul<Vec3> for Mat3 {
    type Output = Vec3;
    fn mul(self, v: Vec3) -> Vec3 {
        let m = &self.m;
        Vec3::new(
            m[0][0] * v.x + m[0][1] * v.y + m[0][2] * v.z,
            m[1][0] * v.x + m[1][1] * v.y + m[1][2] * v.z,
            m[2][0] * v.x + m[2][1] * v.y + m[2][2] * v.z,
        )
    }
}

impl Add for Mat3 {
    type Output = Mat3;
    fn add(self, o: Mat3) -> Mat3 {
        let mut r = self.m;
        for (i, row) in r.iter_mut().enumerate() {
            for (j, cell) in row.iter_mut().enumerate() {
                *cell += o.m[i][j];
            }
        }
        Mat3 { m: r }
    }
}

/// A rigid transform from a local frame to a parent frame: `x_parent = rotation · x_local + translation`.
///
/// A camera's pose maps camera coordinates to world coordinates, so its translation is the camera centre
/// and its rotation's columns are the camera axes in the world.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pose {
    /// Local-to-parent rotation.
    pub rotation: Mat3,
    /// The local origin in parent coordinates (metres).
    pub translation: Vec3,
}

impl Pose {
    /// The identity transform.
    pub const IDENTITY: Pose = Pose {
        rotation: Mat3::IDENTITY,
        translation: Vec3::ZERO,
    };

    /// Maps a point from the local to the parent frame.
    pub fn apply(&self, p: Vec3) -> Vec3 {
        self.rotation * p + self.translation
    }

    /// Maps a direction (no translation) from the local to the parent frame.
    pub fn apply_dir(&self, d: Vec3) -> Vec3 {
        self.rotation * d
    }

    /// The inverse transform (parent to local).
    pub fn inverse(&self) -> Pose {
        let rt = self.rotation.transpose();
        Pose {
            rotation: rt,
            translation: -(rt * self.translation),
        }
    }

    /// `self ∘ other`: first `other`, then `self`.
    pub fn compose(&self, other: &Pose) -> Pose {
        Pose {
            rotation: self.rotation * other.rotation,
            translation: self.apply(other.translation),
        }
    }

    /// The 6-vector `[ω (rad), t (m)]`: rotation vector then translation.
    pub fn to_vector6(&self) -> [f64; 6] {
        let w = self.rotation.to_rotation_vector();
        [
            w.x,
            w.y,
            w.z,
            self.translation.x,
            self.translation.y,
            self.translation.z,
        ]
    }

    /// The inverse of [`Pose::to_vector6`].
    pub fn from_vector6(v: [f64; 6]) -> Pose {
        Pose {
            rotation: Mat3::from_rotation_vector(Vec3::new(v[0], v[1], v[2])),
            translation: Vec3::new(v[3], v[4], v[5]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Mat3, b: Mat3, eps: f64) -> bool {
        (0..3).all(|i| (0..3).all(|j| (a.m[i][j] - b.m[i][j]).abs() < eps))
    }

    #[test]
    fn euler_round_trip() {
        for e in [
            [0.3, -0.4, 2.0],
            [-1.2, 0.1, -3.0],
            [0.0, 0.0, 0.0],
            [1.5, 1.2, -0.5],
        ] {
            let r = Mat3::from_euler_xyz(e);
            let back = r.to_euler_xyz();
            assert!(
                close(Mat3::from_euler_xyz(back), r, 1e-12),
                "{e:?} -> {back:?}"
            );
        }
    }

    #[test]
    fn rotation_vector_round_trip_including_near_pi() {
        for w in [
            Vec3::new(0.1, -0.2, 0.3),
            Vec3::new(0.0, 0.0, std::f64::consts::PI - 1e-5),
            Vec3::new(2.0, 1.0, -1.5),
            Vec3::ZERO,
        ] {
            let r = Mat3::from_rotation_vector(w);
            let back = r.to_rotation_vector();
            assert!(
                close(Mat3::from_rotation_vector(back), r, 1e-9),
                "{w:?} -> {back:?}"
            );
        }
    }

    #[test]
    fn pose_inverse_and_compose() {
        let a = Pose {
            rotation: Mat3::from_euler_xyz([0.2, 0.5, -1.0]),
            translation: Vec3::new(1.0, 2.0, 3.0),
        };
        let b = Pose {
            rotation: Mat3::from_euler_xyz([-0.7, 0.1, 0.4]),
            translation: Vec3::new(-2.0, 0.5, 1.0),
        };
        let p = Vec3::new(0.3, -0.8, 2.2);
        let q = a.compose(&b).apply(p);
        let expected = a.apply(b.apply(p));
        assert!((q - expected).norm() < 1e-12);
        assert!((a.inverse().apply(a.apply(p)) - p).norm() < 1e-12);
    }
}
