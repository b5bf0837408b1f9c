//! Cameras like Taskonomy's: pinhole cameras inside the room, grouped by the 3-D "point" they look at.
//!
//! For every point (a spot on a visible surface) there are several *fixated* views, whose optical axis
//! passes through the point (it is at the image centre), and several *non-fixated* views, which see the
//! point somewhere off-centre. Fixated views of one point give the fixated-pose and point-matching pairs;
//! non-fixated views of one point give the non-fixated-pose pairs; three views of one point give egomotion.
//!
//! Camera frame (Blender's, as in the Taskonomy dataset): x right, y up, z backwards; the camera looks
//! along −z. Images are square; pixel `(u, v)` has `u` to the right and `v` down, pixel centres at
//! half-integers.

use super::geometry::Ray;
use super::math::{Mat3, Pose, Vec3};
use super::rng::Rng;
use super::scene::Scene;

/// A square pinhole camera.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Camera {
    /// Camera-to-room transform: its translation is the optical centre, its rotation's columns the camera
    /// axes in the room frame.
    pub pose: Pose,
    /// Field of view, horizontal = vertical (radians).
    pub fov: f64,
    /// Image side (pixels).
    pub size: usize,
}

impl Camera {
    /// A camera at `eye` looking at `target`, turned by `roll` radians about its optical axis.
    pub fn look_at(eye: Vec3, target: Vec3, roll: f64, fov: f64, size: usize) -> Camera {
        let forward = (target - eye).normalized();
        // Looking straight up or down, the world's "up" gives no "right": use the x axis instead.
        let up_hint = if forward.cross(Vec3::Z).norm() < 1e-6 {
            Vec3::X
        } else {
            Vec3::Z
        };
        let right = forward.cross(up_hint).normalized();
        let up = right.cross(forward);
        let rotation = Mat3::from_columns(right, up, -forward) * Mat3::rot_z(roll);
        Camera {
            pose: Pose {
                rotation,
                translation: eye,
            },
            fov,
            size,
        }
    }

    /// Focal length in pixels: `f = (S/2) / tan(fov/2)`.
    pub fn focal_px(&self) -> f64 {
        self.size as f64 / 2.0 / libm::tan(self.fov / 2.0)
    }

    /// The direction through image position `(u, v)` (pixels) in the camera frame, scaled so that its z is
    /// −1: `((u − S/2)/f, −(v − S/2)/f, −1)`. A point at z-depth `d` along it is `d` times this vector.
    pub fn direction_camera(&self, u: f64, v: f64) -> Vec3 {
        let (c, f) = (self.size as f64 / 2.0, self.focal_px());
        Vec3::new((u - c) / f, -(v - c) / f, -1.0)
    }

    /// The ray through image position `(u, v)`, in the room frame.
    pub fn ray(&self, u: f64, v: f64) -> Ray {
        Ray::new(
            self.pose.translation,
            self.pose.apply_dir(self.direction_camera(u, v)),
        )
    }

    /// A room-frame point in camera coordinates.
    pub fn to_camera(&self, p: Vec3) -> Vec3 {
        self.pose.inverse().apply(p)
    }

    /// The image position `(u, v)` of a room-frame point, if it is in front of the camera.
    pub fn project(&self, p: Vec3) -> Option<(f64, f64)> {
        let q = self.to_camera(p);
        if q.z >= -1e-9 {
            return None;
        }
        let (c, f) = (self.size as f64 / 2.0, self.focal_px());
        Some((c + f * q.x / -q.z, c - f * q.y / -q.z))
    }
}

/// How many points and views to place in each scene.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ViewConfig {
    /// Points per scene.
    pub points: usize,
    /// Fixated views per point.
    pub fixated_views: usize,
    /// Non-fixated views per point (numbered after the fixated ones).
    pub nonfixated_views: usize,
    /// Image side (pixels).
    pub size: usize,
    /// Range of the field of view (radians).
    pub fov: (f64, f64),
}

impl Default for ViewConfig {
    fn default() -> Self {
        ViewConfig {
            points: 3,
            fixated_views: 3,
            nonfixated_views: 2,
            size: 64,
            fov: (0.9, 1.25),
        }
    }
}

/// One camera placed for the dataset.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlannedView {
    /// Point number within the scene.
    pub point: u32,
    /// View number within the point; fixated views come first.
    pub view: u32,
    /// Whether the optical axis passes through the point.
    pub fixated: bool,
    /// The camera.
    pub camera: Camera,
    /// The point, in the room frame.
    pub target: Vec3,
    /// The surface normal at the point (room frame).
    pub target_normal: Vec3,
}

/// Whether `target` (on a surface) is the first thing seen from `eye` in its direction.
fn sees(scene: &Scene, eye: Vec3, target: Vec3) -> bool {
    let d = target - eye;
    let hit = scene.trace(&Ray::new(eye, d));
    (hit.surface.t - d.norm()).abs() < 1e-6 * (1.0 + d.norm())
}

/// A random place where a person could hold a camera: free space at eye-ish height.
fn random_eye(scene: &Scene, rng: &mut Rng) -> Option<Vec3> {
    let room = &scene.room;
    for _ in 0..50 {
        let p = Vec3::new(
            rng.range(-room.half_x, room.half_x),
            rng.range(-room.half_y, room.half_y),
            rng.range(0.9, (room.height - 0.3).min(1.9)),
        );
        if scene.is_free(p, 0.25) {
            return Some(p);
        }
    }
    None
}

/// Places the cameras of one scene. Deterministic in `seed`; points whose views cannot all be placed are
/// dropped and drawn again, so every returned point has its full set of views.
pub fn plan_views(scene: &Scene, seed: u64, config: &ViewConfig) -> Vec<PlannedView> {
    let mut views = Vec::new();
    let mut point = 0u32;
    for attempt in 0..(config.points as u64 * 20) {
        if point as usize == config.points {
            break;
        }
        let mut rng = Rng::new(seed, &[0xca3e7a, attempt]);
        if let Some(mut set) = plan_point(scene, &mut rng, config) {
            for v in &mut set {
                v.point = point;
            }
            views.extend(set);
            point += 1;
        }
    }
    views
}

fn plan_point(scene: &Scene, rng: &mut Rng, config: &ViewConfig) -> Option<Vec<PlannedView>> {
    // The point: what a random look around the room lands on, but not the ceiling.
    let probe = random_eye(scene, rng)?;
    let dir = if !scene.objects.is_empty() && rng.chance(0.6) {
        // Mostly aim at furniture, as a photographer would: a point inside an object's bounding box.
        let o = &scene.objects[rng.below(scene.objects.len())].aabb;
        let aim = Vec3::new(
            rng.range(o.min.x, o.max.x),
            rng.range(o.min.y, o.max.y),
            rng.range(o.min.z, o.max.z),
        );
        aim - probe
    } else {
        let azimuth = rng.range(-std::f64::consts::PI, std::f64::consts::PI);
        let elevation = rng.range(-0.7, 0.1);
        Vec3::new(
            libm::cos(azimuth) * libm::cos(elevation),
            libm::sin(azimuth) * libm::cos(elevation),
            libm::sin(elevation),
        )
    };
    let hit = scene.trace(&Ray::new(probe, dir));
    if hit.surface.normal.z < -0.5 || hit.surface.t < 0.6 {
        return None;
    }
    let target = probe + dir.normalized() * hit.surface.t;
    let normal = hit.surface.normal;

    let mut out: Vec<PlannedView> = Vec::new();
    let total = config.fixated_views + config.nonfixated_views;
    let mut tries = 0;
    while out.len() < total {
        tries += 1;
        if tries > 80 * total {
            return None;
        }
        let Some(eye) = random_eye(scene, rng) else {
            continue;
        };
        let to_eye = eye - target;
        let dist = to_eye.norm();
        // Seen from 1.2–5 m, not too obliquely (< 75° from the normal), and not from where another view stands.
        if !(1.2..=5.0).contains(&dist) || to_eye.dot(normal) < dist * libm::cos(75f64.to_radians())
        {
            continue;
        }
        if out
            .iter()
            .any(|v| (v.camera.pose.translation - eye).norm() < 0.3)
            || !sees(scene, eye, target)
        {
            continue;
        }
        let fov = rng.range(config.fov.0, config.fov.1);
        let roll = rng.range(-0.08, 0.08);
        let fixated = out.len() < config.fixated_views;
        let camera = if fixated {
            Camera::look_at(eye, target, roll, fov, config.size)
        } else {
            // Turn away from the point by a fraction of the field of view, so it lands off-centre.
            let yaw = rng.range(0.12, 0.4) * fov * if rng.chance(0.5) { 1.0 } else { -1.0 };
            let pitch = rng.range(-0.3, 0.3) * fov;
            let look = Mat3::rot_z(yaw) * (target - eye);
            let look = look + Vec3::Z * (look.norm() * libm::tan(pitch));
            let camera = Camera::look_at(eye, eye + look, roll, fov, config.size);
            let s = config.size as f64;
            match camera.project(target) {
                Some((u, v))
                    if (0.1 * s..0.9 * s).contains(&u) && (0.1 * s..0.9 * s).contains(&v) =>
                {
                    let off = ((u - s / 2.0).powi(2) + (v - s / 2.0).powi(2)).sqrt();
                    if off < 0.12 * s {
                        continue;
                    }
                    camera
                }
                _ => continue,
            }
        };
        out.push(PlannedView {
            point: 0,
            view: out.len() as u32,
            fixated,
            camera,
            target,
            target_normal: normal,
        });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_at_centres_the_target_and_projection_inverts_rays() {
        let cam = Camera::look_at(
            Vec3::new(0.0, 0.0, 1.5),
            Vec3::new(2.0, 1.0, 0.8),
            0.05,
            1.0,
            64,
        );
        let (u, v) = cam.project(Vec3::new(2.0, 1.0, 0.8)).unwrap();
        assert!((u - 32.0).abs() < 1e-9 && (v - 32.0).abs() < 1e-9);
        let ray = cam.ray(10.5, 40.25);
        let (u, v) = cam.project(ray.at(3.0)).unwrap();
        assert!((u - 10.5).abs() < 1e-9 && (v - 40.25).abs() < 1e-9);
        // Rotation is orthonormal with determinant +1.
        let r = cam.pose.rotation;
        let det = r.column(0).cross(r.column(1)).dot(r.column(2));
        assert!((det - 1.0).abs() < 1e-12);
    }

    #[test]
    fn planned_views_see_their_point_where_they_should() {
        let scene = Scene::generate(2, 1);
        let config = ViewConfig::default();
        let views = plan_views(&scene, 11, &config);
        assert_eq!(
            views.len(),
            config.points * (config.fixated_views + config.nonfixated_views)
        );
        for v in &views {
            assert!(scene.is_free(v.camera.pose.translation, 0.2));
            assert!(sees(&scene, v.camera.pose.translation, v.target));
            let (u, w) = v.camera.project(v.target).unwrap();
            let s = config.size as f64 / 2.0;
            if v.fixated {
                assert!((u - s).abs() < 1e-6 && (w - s).abs() < 1e-6);
            } else {
                assert!((u - s).hypot(w - s) > 0.1 * s);
            }
        }
        assert_eq!(views, plan_views(&scene, 11, &config));
    }
}
