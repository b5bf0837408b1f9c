//! Exact ray–primitive intersection: boxes, vertical cylinders, spheres, and the inside of a room.
//!
//! Every intersection returns, besides the distance, the outward unit normal, the two principal curvatures
//! of the surface at the hit and texture coordinates in metres. Curvatures follow one sign convention:
//! positive where the surface bends away from its outward normal (a ball seen from outside has
//! `k1 = k2 = 1/r`), zero on planes. Edges and corners of boxes are creases of zero area; a ray that hits
//! one exactly is assigned to one face, so the labels stay defined there.

use super::math::Vec3;

/// Rays start this far (metres) past their origin, so a secondary ray does not hit its own surface.
pub const EPSILON: f64 = 1e-7;

/// A half-line `origin + t·dir`, `t > 0`, with `dir` a unit vector (so `t` is in metres).
#[derive(Clone, Copy, Debug)]
pub struct Ray {
    /// Start point.
    pub origin: Vec3,
    /// Unit direction.
    pub dir: Vec3,
    /// `1/dir`, component-wise (±∞ where `dir` is 0), for the slab tests.
    pub inv_dir: Vec3,
}

impl Ray {
    /// A ray from `origin` along `dir` (normalised here).
    pub fn new(origin: Vec3, dir: Vec3) -> Ray {
        let dir = dir.normalized();
        Ray {
            origin,
            dir,
            inv_dir: Vec3::new(1.0 / dir.x, 1.0 / dir.y, 1.0 / dir.z),
        }
    }

    /// The point at distance `t`.
    pub fn at(&self, t: f64) -> Vec3 {
        self.origin + self.dir * t
    }
}

/// Where a ray meets a surface.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SurfaceHit {
    /// Distance along the ray (metres).
    pub t: f64,
    /// Outward unit normal of the surface (for the room: pointing into the room).
    pub normal: Vec3,
    /// Principal curvatures `[k1, k2]`, `k1 ≥ k2`, in 1/m; positive where the surface is convex.
    pub curvature: [f64; 2],
    /// Texture coordinates on the surface, in metres.
    pub uv: [f64; 2],
    /// Which face of the primitive (box: 0..6 as −x,+x,−y,+y,−z,+z; cylinder: 0 side, 1 top, 2 bottom).
    pub face: u8,
}

/// An axis-aligned bounding box.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Aabb {
    /// Lower corner.
    pub min: Vec3,
    /// Upper corner.
    pub max: Vec3,
}

impl Aabb {
    /// The box `[min, max]`.
    pub fn new(min: Vec3, max: Vec3) -> Aabb {
        Aabb { min, max }
    }

    /// The smallest box holding both.
    pub fn union(&self, o: &Aabb) -> Aabb {
        Aabb {
            min: Vec3::new(
                self.min.x.min(o.min.x),
                self.min.y.min(o.min.y),
                self.min.z.min(o.min.z),
            ),
            max: Vec3::new(
                self.max.x.max(o.max.x),
                self.max.y.max(o.max.y),
                self.max.z.max(o.max.z),
            ),
        }
    }

    /// Whether `p` lies inside (boundary included).
    pub fn contains(&self, p: Vec3) -> bool {
        p.x >= self.min.x
            && p.x <= self.max.x
            && p.y >= self.min.y
            && p.y <= self.max.y
            && p.z >= self.min.z
            && p.z <= self.max.z
    }

    /// The box grown by `m` on every side.
    pub fn expanded(&self, m: f64) -> Aabb {
        Aabb {
            min: self.min - Vec3::new(m, m, m),
            max: self.max + Vec3::new(m, m, m),
        }
    }

    /// Whether the ray meets the box for some `t` in `(0, t_max)` (slab test).
    pub fn hit(&self, ray: &Ray, t_max: f64) -> bool {
        let (t0, t1) = slabs(ray, self.min, self.max);
        t0 <= t1 && t1 > 0.0 && t0 < t_max
    }
}

/// Entry and exit distances of a ray through the slabs of an axis-aligned box: the comparisons of
/// [`slabs_with_axes`] without keeping the axes, for the bounding-box tests that every ray makes.
fn slabs(ray: &Ray, min: Vec3, max: Vec3) -> (f64, f64) {
    #[inline(always)]
    fn slab(min: f64, max: f64, origin: f64, inv: f64, enter: &mut f64, exit: &mut f64) {
        let a = (min - origin) * inv;
        let b = (max - origin) * inv;
        // A NaN (origin exactly on a slab of a parallel ray) must not win a comparison.
        let (near, far) = if a <= b { (a, b) } else { (b, a) };
        if near > *enter {
            *enter = near;
        }
        if far < *exit {
            *exit = far;
        }
    }
    let (mut enter, mut exit) = (f64::NEG_INFINITY, f64::INFINITY);
    let (o, inv) = (ray.origin, ray.inv_dir);
    slab(min.x, max.x, o.x, inv.x, &mut enter, &mut exit);
    slab(min.y, max.y, o.y, inv.y, &mut enter, &mut exit);
    slab(min.z, max.z, o.z, inv.z, &mut enter, &mut exit);
    (enter, exit)
}

/// As [`slabs`], returning `(t_enter, axis_enter)` and `(t_exit, axis_exit)`.
fn slabs_with_axes(ray: &Ray, min: Vec3, max: Vec3) -> ((f64, usize), (f64, usize)) {
    let mut enter = (f64::NEG_INFINITY, 0);
    let mut exit = (f64::INFINITY, 0);
    for axis in 0..3 {
        let inv = ray.inv_dir.get(axis);
        let o = ray.origin.get(axis);
        let a = (min.get(axis) - o) * inv;
        let b = (max.get(axis) - o) * inv;
        // A NaN (origin exactly on a slab of a parallel ray) must not win a comparison.
        let (near, far) = if a <= b { (a, b) } else { (b, a) };
        if near > enter.0 {
            enter = (near, axis);
        }
        if far < exit.0 {
            exit = (far, axis);
        }
    }
    (enter, exit)
}

/// The texture coordinates of a point on the face of a box perpendicular to `axis`: the other two
/// coordinates, in metres.
fn face_uv(p: Vec3, axis: usize) -> [f64; 2] {
    match axis {
        0 => [p.y, p.z],
        1 => [p.x, p.z],
        _ => [p.x, p.y],
    }
}

/// The unit normal of a face perpendicular to `axis` that faces a ray whose direction has component `d`
/// along it (the normal points against the ray).
fn facing_normal(axis: usize, d: f64) -> Vec3 {
    Vec3::along(axis, if d > 0.0 { -1.0 } else { 1.0 })
}

/// Where a ray that starts inside the axis-aligned box `[min, max]` leaves it, seen from inside: the normal
/// points back into the box. Used for the room and for the recesses of doors and windows.
pub fn interior_exit(ray: &Ray, min: Vec3, max: Vec3) -> SurfaceHit {
    let (_, (t, axis)) = slabs_with_axes(ray, min, max);
    let d = ray.dir.get(axis);
    let normal = facing_normal(axis, d);
    let p = ray.at(t);
    // Faces numbered −x,+x,−y,+y,−z,+z by where they are; the face at +x has normal −x.
    let face = (2 * axis + usize::from(d > 0.0)) as u8;
    SurfaceHit {
        t,
        normal,
        curvature: [0.0, 0.0],
        uv: face_uv(p, axis),
        face,
    }
}

/// The solid primitives that furniture is built from, in the room frame (z up, metres).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Shape {
    /// A box turned by `yaw` radians about the vertical axis through its centre.
    Cuboid {
        /// Centre.
        center: Vec3,
        /// Half-extents along the box's own axes.
        half: Vec3,
        /// Rotation about z (radians).
        yaw: f64,
        /// `[cos yaw, sin yaw]`, kept so that tracing a ray costs no trigonometry; see [`Shape::cuboid`].
        cos_sin: [f64; 2],
    },
    /// A cylinder with a vertical axis, closed by two discs.
    Cylinder {
        /// Centre of the bottom disc.
        base: Vec3,
        /// Radius (metres).
        radius: f64,
        /// Height (metres).
        height: f64,
    },
    /// A ball.
    Sphere {
        /// Centre.
        center: Vec3,
        /// Radius (metres).
        radius: f64,
    },
}

impl Shape {
    /// A box centred at `center` with half-extents `half`, turned by `yaw` radians about the vertical.
    pub fn cuboid(center: Vec3, half: Vec3, yaw: f64) -> Shape {
        Shape::Cuboid {
            center,
            half,
            yaw,
            cos_sin: [libm::cos(yaw), libm::sin(yaw)],
        }
    }

    /// The bounding box in the room frame.
    pub fn aabb(&self) -> Aabb {
        match *self {
            Shape::Cuboid {
                center,
                half,
                cos_sin: [c, s],
                ..
            } => {
                let (s, c) = (s.abs(), c.abs());
                let e = Vec3::new(c * half.x + s * half.y, s * half.x + c * half.y, half.z);
                Aabb::new(center - e, center + e)
            }
            Shape::Cylinder {
                base,
                radius,
                height,
            } => Aabb::new(
                base - Vec3::new(radius, radius, 0.0),
                base + Vec3::new(radius, radius, height),
            ),
            Shape::Sphere { center, radius } => {
                let r = Vec3::new(radius, radius, radius);
                Aabb::new(center - r, center + r)
            }
        }
    }

    /// The first intersection with `t` in `(EPSILON, t_max)`, seen from outside the solid.
    pub fn intersect(&self, ray: &Ray, t_max: f64) -> Option<SurfaceHit> {
        match *self {
            Shape::Cuboid {
                center,
                half,
                cos_sin,
                ..
            } => intersect_cuboid(ray, center, half, cos_sin, t_max),
            Shape::Cylinder {
                base,
                radius,
                height,
            } => intersect_cylinder(ray, base, radius, height, t_max),
            Shape::Sphere { center, radius } => intersect_sphere(ray, center, radius, t_max),
        }
    }
    /// Whether [`Shape::intersect`] finds a hit: the same tests in the same arithmetic, without building
    /// the hit (no normal, texture coordinates or `atan2`), for shadow rays.
    pub fn hits(&self, ray: &Ray, t_max: f64) -> bool {
        match *self {
            Shape::Cuboid {
                center,
                half,
                cos_sin: [c, s],
                ..
            } => {
                let (t0, t1) = slabs(&box_frame(ray, center, [c, s]), -half, half);
                !(t0 > t1 || t0 <= EPSILON || t0 >= t_max)
            }
            Shape::Cylinder {
                base,
                radius,
                height,
            } => {
                let o = ray.origin - base;
                let d = ray.dir;
                let ok = |t: f64| t > EPSILON && t < t_max;
                let a = d.x * d.x + d.y * d.y;
                if a > 1e-18 {
                    let b = o.x * d.x + o.y * d.y;
                    let c = o.x * o.x + o.y * o.y - radius * radius;
                    let disc = b * b - a * c;
                    if disc >= 0.0 {
                        let t = (-b - disc.sqrt()) / a;
                        let z = o.z + t * d.z;
                        if (0.0..=height).contains(&z) && ok(t) {
                            return true;
                        }
                    }
                }
                if d.z != 0.0 {
                    for (z, up) in [(height, 1.0), (0.0, -1.0)] {
                        if (d.z < 0.0) == (up > 0.0) {
                            let t = (z - o.z) / d.z;
                            let px = o.x + t * d.x;
                            let py = o.y + t * d.y;
                            if px * px + py * py <= radius * radius && ok(t) {
                                return true;
                            }
                        }
                    }
                }
                false
            }
            Shape::Sphere { center, radius } => {
                let o = ray.origin - center;
                let b = o.dot(ray.dir);
                let c = o.dot(o) - radius * radius;
                let disc = b * b - c;
                if disc < 0.0 {
                    return false;
                }
                let t = -b - disc.sqrt();
                !(t <= EPSILON || t >= t_max)
            }
        }
    }
}

/// Rotates `v` about z by the angle whose cosine and sine are `c`, `s`.
fn turn(v: Vec3, c: f64, s: f64) -> Vec3 {
    Vec3::new(c * v.x - s * v.y, s * v.x + c * v.y, v.z)
}

/// `ray` in the frame of a box centred at `center` and turned about z by (`c`, `s`), where the box is
/// axis-aligned; lengths are unchanged by the rotation, so distances along the ray are too.
fn box_frame(ray: &Ray, center: Vec3, [c, s]: [f64; 2]) -> Ray {
    let dir = turn(ray.dir, c, -s);
    Ray {
        origin: turn(ray.origin - center, c, -s),
        dir,
        inv_dir: Vec3::new(1.0 / dir.x, 1.0 / dir.y, 1.0 / dir.z),
    }
}

fn intersect_cuboid(
    ray: &Ray,
    center: Vec3,
    half: Vec3,
    [c, s]: [f64; 2],
    t_max: f64,
) -> Option<SurfaceHit> {
    let local = box_frame(ray, center, [c, s]);
    let ((t0, axis), (t1, _)) = slabs_with_axes(&local, -half, half);
    if t0 > t1 || t0 <= EPSILON || t0 >= t_max {
        return None;
    }
    let n = facing_normal(axis, local.dir.get(axis));
    let p = local.at(t0);
    // Offset the texture by the box centre so that identical boxes do not show identical patterns.
    let uv = face_uv(p + center, axis);
    let face = (2 * axis + usize::from(n.get(axis) > 0.0)) as u8;
    Some(SurfaceHit {
        t: t0,
        normal: turn(n, c, s),
        curvature: [0.0, 0.0],
        uv,
        face,
    })
}

fn intersect_cylinder(
    ray: &Ray,
    base: Vec3,
    radius: f64,
    height: f64,
    t_max: f64,
) -> Option<SurfaceHit> {
    let o = ray.origin - base;
    let d = ray.dir;
    let mut best: Option<SurfaceHit> = None;
    let mut consider = |hit: SurfaceHit| {
        if hit.t > EPSILON && hit.t < t_max && best.is_none_or(|b| hit.t < b.t) {
            best = Some(hit);
        }
    };
    // Side: |o_xy + t d_xy|² = r², entering root.
    let a = d.x * d.x + d.y * d.y;
    if a > 1e-18 {
        let b = o.x * d.x + o.y * d.y;
        let c = o.x * o.x + o.y * o.y - radius * radius;
        let disc = b * b - a * c;
        if disc >= 0.0 {
            let t = (-b - disc.sqrt()) / a;
            let z = o.z + t * d.z;
            if (0.0..=height).contains(&z) {
                let px = o.x + t * d.x;
                let py = o.y + t * d.y;
                let normal = Vec3::new(px / radius, py / radius, 0.0);
                let angle = libm::atan2(py, px);
                consider(SurfaceHit {
                    t,
                    normal,
                    curvature: [1.0 / radius, 0.0],
                    uv: [angle * radius, z + base.z],
                    face: 0,
                });
            }
        }
    }
    // Caps: the plane z = h (from above) or z = 0 (from below), inside the disc.
    if d.z != 0.0 {
        for (z, face, up) in [(height, 1u8, 1.0), (0.0, 2u8, -1.0)] {
            if (d.z < 0.0) == (up > 0.0) {
                let t = (z - o.z) / d.z;
                let px = o.x + t * d.x;
                let py = o.y + t * d.y;
                if px * px + py * py <= radius * radius {
                    let normal = Vec3::new(0.0, 0.0, up);
                    consider(SurfaceHit {
                        t,
                        normal,
                        curvature: [0.0, 0.0],
                        uv: [px + base.x, py + base.y],
                        face,
                    });
                }
            }
        }
    }
    best
}

fn intersect_sphere(ray: &Ray, center: Vec3, radius: f64, t_max: f64) -> Option<SurfaceHit> {
    let o = ray.origin - center;
    let b = o.dot(ray.dir);
    let c = o.dot(o) - radius * radius;
    let disc = b * b - c;
    if disc < 0.0 {
        return None;
    }
    let t = -b - disc.sqrt();
    if t <= EPSILON || t >= t_max {
        return None;
    }
    let p = o + ray.dir * t;
    let normal = p / radius;
    let k = 1.0 / radius;
    let uv = [libm::atan2(p.y, p.x) * radius, p.z + center.z];
    Some(SurfaceHit {
        t,
        normal,
        curvature: [k, k],
        uv,
        face: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::math::Mat3;

    #[test]
    fn ray_hits_axis_aligned_box_face_with_outward_normal() {
        let shape = Shape::cuboid(Vec3::new(0.0, 0.0, 1.0), Vec3::new(0.5, 0.5, 0.5), 0.0);
        let ray = Ray::new(Vec3::new(-3.0, 0.1, 1.2), Vec3::X);
        let hit = shape.intersect(&ray, f64::INFINITY).expect("hit");
        assert!((hit.t - 2.5).abs() < 1e-12);
        assert_eq!(hit.normal, Vec3::new(-1.0, 0.0, 0.0));
        assert_eq!(hit.curvature, [0.0, 0.0]);
        assert!(shape
            .intersect(&Ray::new(Vec3::new(-3.0, 0.9, 1.2), Vec3::X), f64::INFINITY)
            .is_none());
        // Beyond t_max: no hit.
        assert!(shape.intersect(&ray, 2.0).is_none());
    }

    #[test]
    fn rotated_box_normal_is_rotated() {
        let yaw = std::f64::consts::FRAC_PI_4;
        let shape = Shape::cuboid(Vec3::ZERO, Vec3::new(1.0, 1.0, 1.0), yaw);
        // Along −x towards a box turned by 45°: hits the corner edge at x = √2; tilt slightly to be on a face.
        let ray = Ray::new(Vec3::new(5.0, 0.2, 0.0), -Vec3::X);
        let hit = shape.intersect(&ray, f64::INFINITY).unwrap();
        let p = ray.at(hit.t);
        // The hit point lies on the face's plane: n·p = 1 (half-extent).
        assert!((hit.normal.dot(p) - 1.0).abs() < 1e-12);
        assert!((hit.normal.norm() - 1.0).abs() < 1e-12);
        assert!(hit.normal.dot(ray.dir) < 0.0);
    }

    #[test]
    fn sphere_hit_distance_normal_and_curvature() {
        let r = 0.4;
        let shape = Shape::Sphere {
            center: Vec3::new(0.0, 2.0, 1.0),
            radius: r,
        };
        let ray = Ray::new(Vec3::new(0.0, 0.0, 1.0), Vec3::Y);
        let hit = shape.intersect(&ray, f64::INFINITY).unwrap();
        assert!((hit.t - (2.0 - r)).abs() < 1e-12);
        assert!((hit.normal - (-Vec3::Y)).norm() < 1e-12);
        assert_eq!(hit.curvature, [1.0 / r, 1.0 / r]);
        // An oblique ray: the normal is (p − c)/r and the curvature is still 1/r everywhere.
        let ray = Ray::new(Vec3::new(0.3, 0.0, 1.1), Vec3::new(0.0, 1.0, 0.05));
        let hit = shape.intersect(&ray, f64::INFINITY).unwrap();
        let p = ray.at(hit.t);
        assert!(((p - Vec3::new(0.0, 2.0, 1.0)).norm() - r).abs() < 1e-12);
        assert!((hit.normal - (p - Vec3::new(0.0, 2.0, 1.0)) / r).norm() < 1e-12);
        assert_eq!(hit.curvature, [2.5, 2.5]);
    }

    #[test]
    fn cylinder_side_and_caps() {
        let shape = Shape::Cylinder {
            base: Vec3::new(1.0, 1.0, 0.0),
            radius: 0.25,
            height: 1.0,
        };
        let side = Ray::new(Vec3::new(-1.0, 1.0, 0.5), Vec3::X);
        let hit = shape.intersect(&side, f64::INFINITY).unwrap();
        assert!((hit.t - 1.75).abs() < 1e-12);
        assert_eq!(hit.face, 0);
        assert!((hit.normal - (-Vec3::X)).norm() < 1e-12);
        assert_eq!(hit.curvature, [4.0, 0.0]);
        let top = Ray::new(Vec3::new(1.1, 1.0, 3.0), -Vec3::Z);
        let hit = shape.intersect(&top, f64::INFINITY).unwrap();
        assert!((hit.t - 2.0).abs() < 1e-12);
        assert_eq!(
            (hit.face, hit.normal, hit.curvature),
            (1, Vec3::Z, [0.0, 0.0])
        );
        let bottom = Ray::new(Vec3::new(1.1, 1.0, -1.0), Vec3::Z);
        assert_eq!(shape.intersect(&bottom, f64::INFINITY).unwrap().face, 2);
        // Passing above the top misses.
        assert!(shape
            .intersect(&Ray::new(Vec3::new(-1.0, 1.0, 1.5), Vec3::X), f64::INFINITY)
            .is_none());
    }

    #[test]
    fn interior_exit_of_room_points_inward() {
        let (min, max) = (Vec3::new(-2.0, -1.5, 0.0), Vec3::new(2.0, 1.5, 2.5));
        let ray = Ray::new(Vec3::new(0.0, 0.0, 1.0), Vec3::new(1.0, 0.0, -0.1));
        let hit = interior_exit(&ray, min, max);
        let p = ray.at(hit.t);
        assert!((p.x - 2.0).abs() < 1e-12);
        assert_eq!(hit.normal, -Vec3::X);
        assert_eq!(hit.face, 1);
        let down = interior_exit(&Ray::new(Vec3::new(0.0, 0.0, 1.0), -Vec3::Z), min, max);
        assert_eq!((down.t, down.normal, down.face), (1.0, Vec3::Z, 4));
    }

    #[test]
    fn hits_agrees_with_intersect() {
        let shapes = [
            Shape::cuboid(Vec3::new(0.3, -0.2, 0.5), Vec3::new(0.4, 0.2, 0.3), 0.7),
            Shape::Cylinder {
                base: Vec3::new(-0.2, 0.1, 0.0),
                radius: 0.3,
                height: 0.8,
            },
            Shape::Sphere {
                center: Vec3::new(0.1, 0.4, 0.6),
                radius: 0.35,
            },
        ];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 * 4.0 - 2.0
        };
        for _ in 0..20_000 {
            let origin = Vec3::new(next(), next(), next());
            let target = Vec3::new(next() * 0.4, next() * 0.4, next() * 0.4 + 0.4);
            let ray = Ray::new(origin, target - origin);
            let t_max = next().abs() * 2.0;
            for shape in &shapes {
                assert_eq!(
                    shape.hits(&ray, t_max),
                    shape.intersect(&ray, t_max).is_some()
                );
            }
        }
    }

    #[test]
    fn aabb_of_rotated_box_contains_its_corners() {
        let shape = Shape::cuboid(Vec3::new(1.0, 2.0, 0.5), Vec3::new(0.6, 0.2, 0.5), 0.7);
        let bb = shape.aabb();
        for sx in [-1.0, 1.0] {
            for sy in [-1.0, 1.0] {
                let corner = Vec3::new(1.0, 2.0, 0.5)
                    + Mat3::rot_z(0.7) * Vec3::new(0.6 * sx, 0.2 * sy, 0.5);
                assert!(bb.expanded(1e-12).contains(corner));
            }
        }
    }
}
