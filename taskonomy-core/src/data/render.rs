//! Per-pixel ray casting: one camera ray per pixel gives the geometric buffers every label is computed
//! from (depth, distance, normals, curvature, surface and object ids), plus the shaded RGB image.
//!
//! Pixels are independent and each is a pure function of `(scene, camera, pixel)`; rayon splits the image
//! across threads and `collect` puts results back in pixel order, so the output is bit-identical for any
//! number of threads.

use rayon::prelude::*;

use super::camera::Camera;
use super::geometry::Ray;
use super::math::Vec3;
use super::scene::Scene;

/// The canonical light of the reshading label: a direction in the camera frame (x right, y up, z towards
/// the viewer), up and to the left behind the camera, so that reshading depends on the normal only.
pub const CANONICAL_LIGHT: Vec3 = Vec3::new(
    -0.4 / 1.232_882_800_593_795_3,
    0.6 / 1.232_882_800_593_795_3,
    1.0 / 1.232_882_800_593_795_3,
);

/// How to render.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RenderOptions {
    /// Samples per pixel along each axis for the RGB image (`n × n` stratified samples, averaged); the
    /// geometric buffers always come from the one ray through the pixel centre.
    pub samples_per_axis: usize,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            samples_per_axis: 1,
        }
    }
}

/// The rendered buffers of one view, row-major (`index = v·size + u`), all in the camera frame.
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    /// Image side (pixels).
    pub size: usize,
    /// The camera it was rendered from.
    pub camera: Camera,
    /// Shaded image, 8-bit sRGB (what is written to disk, and what the 2-D labels are computed from).
    pub rgb: Vec<[u8; 3]>,
    /// Z-buffer depth: distance from the camera plane along the optical axis, metres.
    pub depth: Vec<f32>,
    /// Euclidean distance from the optical centre, metres.
    pub distance: Vec<f32>,
    /// Unit surface normal in the camera frame, facing the camera.
    pub normal: Vec<[f32; 3]>,
    /// Principal curvatures `[k1, k2]`, `k1 ≥ k2`, 1/m, positive where convex.
    pub curvature: Vec<[f32; 2]>,
    /// Reshading: `max(0, n · CANONICAL_LIGHT)`, unitless in `[0, 1]`.
    pub reshading: Vec<f32>,
    /// Surface id: `primitive · 8 + face` (see [`super::scene::TraceHit::primitive`]); equal ids are one
    /// smooth surface.
    pub surface: Vec<u32>,
    /// Object id: 0 for the room, `1 + i` for `scene.objects[i]`.
    pub object: Vec<u16>,
    /// Semantic class (0 background, 1..=16 [`super::scene::ObjectClass::semantic_id`]).
    pub semantic: Vec<u8>,
    /// Material (texture) id: the index of the surface's material in `scene.materials`.
    pub material: Vec<u16>,
    /// The light arriving at the surface (ambient plus the lights that reach it, shadows included),
    /// linear, the mean over red, green and blue; unitless.
    pub shading: Vec<f32>,
}

impl Frame {
    /// The 3-D point seen at pixel `i`, in the camera frame (metres).
    pub fn point(&self, i: usize) -> Vec3 {
        let (u, v) = ((i % self.size) as f64 + 0.5, (i / self.size) as f64 + 0.5);
        self.camera.direction_camera(u, v) * f64::from(self.depth[i])
    }

    /// The normal at pixel `i` as a vector.
    pub fn normal_vec(&self, i: usize) -> Vec3 {
        let n = self.normal[i];
        Vec3::new(f64::from(n[0]), f64::from(n[1]), f64::from(n[2]))
    }
}

/// Everything one pixel contributes to the frame.
#[derive(Clone, Copy)]
struct Pixel {
    rgb: [u8; 3],
    depth: f32,
    distance: f32,
    normal: [f32; 3],
    curvature: [f32; 2],
    reshading: f32,
    surface: u32,
    object: u16,
    semantic: u8,
    material: u16,
    shading: f32,
}

/// Renders one view: all geometric buffers and the RGB image.
pub fn render(scene: &Scene, camera: &Camera, options: &RenderOptions) -> Frame {
    let size = camera.size;
    let to_camera = camera.pose.rotation.transpose();
    let n = options.samples_per_axis.max(1);
    let (half, focal) = (size as f64 / 2.0, camera.focal_px());
    let pixels: Vec<Pixel> = (0..size * size)
        .into_par_iter()
        .with_min_len(64)
        .map_init(
            || vec![0usize; scene.lights.len()],
            |hints, i| {
                let (u, v) = ((i % size) as f64, (i / size) as f64);
                // `direction_camera` inlined with the focal length computed once per image, not per pixel.
                let dir = Vec3::new((u + 0.5 - half) / focal, -(v + 0.5 - half) / focal, -1.0);
                let ray = Ray::new(camera.pose.translation, camera.pose.apply_dir(dir));
                let hit = scene.trace(&ray);
                let t = hit.surface.t;
                let normal = to_camera * hit.surface.normal;
                let (mut colour, irradiance) = shade(scene, &ray, &hit, hints);
                if n > 1 {
                    colour = [0.0; 3];
                    for a in 0..n {
                        for b in 0..n {
                            let (du, dv) =
                                ((a as f64 + 0.5) / n as f64, (b as f64 + 0.5) / n as f64);
                            let r = camera.ray(u + du, v + dv);
                            let (c, _) = shade(scene, &r, &scene.trace(&r), hints);
                            for k in 0..3 {
                                colour[k] += c[k];
                            }
                        }
                    }
                    colour = colour.map(|c| c / (n * n) as f64);
                }
                let [k1, k2] = hit.surface.curvature;
                Pixel {
                    rgb: colour.map(encode_srgb),
                    depth: (t / dir.norm()) as f32,
                    distance: t as f32,
                    normal: [normal.x as f32, normal.y as f32, normal.z as f32],
                    curvature: [k1 as f32, k2 as f32],
                    reshading: normal.dot(CANONICAL_LIGHT).max(0.0) as f32,
                    surface: hit.primitive * 8 + u32::from(hit.surface.face),
                    object: hit.object.map_or(0, |o| o + 1),
                    semantic: hit.semantic(scene),
                    material: hit.material,
                    shading: (irradiance.iter().sum::<f64>() / 3.0) as f32,
                }
            },
        )
        .collect();
    Frame {
        size,
        camera: *camera,
        rgb: pixels.iter().map(|p| p.rgb).collect(),
        depth: pixels.iter().map(|p| p.depth).collect(),
        distance: pixels.iter().map(|p| p.distance).collect(),
        normal: pixels.iter().map(|p| p.normal).collect(),
        curvature: pixels.iter().map(|p| p.curvature).collect(),
        reshading: pixels.iter().map(|p| p.reshading).collect(),
        surface: pixels.iter().map(|p| p.surface).collect(),
        object: pixels.iter().map(|p| p.object).collect(),
        semantic: pixels.iter().map(|p| p.semantic).collect(),
        material: pixels.iter().map(|p| p.material).collect(),
        shading: pixels.iter().map(|p| p.shading).collect(),
    }
}

/// Linear radiance at a hit: Lambertian albedo under ambient light and the ceiling lights (with shadow
/// rays), plus emission; then a soft exposure curve that keeps highlights from clipping. Also returns the
/// irradiance (the light arriving, per channel).
///
/// `hints` holds, per light, the object that last blocked a shadow ray (see [`Scene::occluded_from`]); it
/// only orders the tests and never changes the result.
fn shade(
    scene: &Scene,
    ray: &Ray,
    hit: &super::scene::TraceHit,
    hints: &mut [usize],
) -> ([f64; 3], [f64; 3]) {
    let material = &scene.materials[usize::from(hit.material)];
    let albedo = material.albedo(hit.surface.uv).map(f64::from);
    let p = ray.at(hit.surface.t);
    let n = hit.surface.normal;
    let mut irradiance = [f64::from(scene.ambient); 3];
    for (light, hint) in scene.lights.iter().zip(hints.iter_mut()) {
        let to_light = light.position - p;
        let d = to_light.norm();
        let cos = n.dot(to_light) / d;
        if cos <= 0.0 {
            continue;
        }
        let shadow = Ray::new(p + n * 1e-6, to_light);
        if scene.occluded_from(&shadow, d - 1e-4, hint) {
            continue;
        }
        let falloff = cos / (1.0 + (d / 2.2) * (d / 2.2));
        for (e, i) in irradiance.iter_mut().zip(light.intensity) {
            *e += f64::from(i) * falloff;
        }
    }
    let emission = f64::from(material.emission);
    let colour = [0, 1, 2].map(|k| {
        let radiance = albedo[k] * (irradiance[k] + emission);
        // Reinhard's curve x/(1 + x): highlights approach white without clipping.
        let x = 0.9 * radiance;
        x / (1.0 + x)
    });
    (colour, irradiance)
}

/// Linear `[0, 1]` to 8-bit sRGB (IEC 61966-2-1 transfer curve), rounded to the nearest code.
///
/// The code is found by binary search among the 255 linear values where rounding changes (the curve is
/// monotonic), which gives the same byte as evaluating the curve, with no `pow` per pixel.
pub fn encode_srgb(linear: f64) -> u8 {
    static THRESHOLDS: std::sync::OnceLock<Vec<f64>> = std::sync::OnceLock::new();
    let t = THRESHOLDS.get_or_init(|| {
        (1..256)
            .map(|k| srgb_to_linear((k as f64 - 0.5) / 255.0))
            .collect()
    });
    t.partition_point(|&x| x <= linear) as u8
}

/// The sRGB transfer curve's inverse: encoded `[0, 1]` to linear `[0, 1]`.
fn srgb_to_linear(s: f64) -> f64 {
    if s <= 0.040_45 {
        s / 12.92
    } else {
        libm::pow((s + 0.055) / 1.055, 2.4)
    }
}

/// 8-bit sRGB to linear `[0, 1]`: the transfer curve's inverse at each of the 256 codes, computed once
/// (label functions call this for every pixel of every sample they read).
pub fn decode_srgb(v: u8) -> f64 {
    static LINEAR: std::sync::OnceLock<[f64; 256]> = std::sync::OnceLock::new();
    LINEAR.get_or_init(|| std::array::from_fn(|k| srgb_to_linear(k as f64 / 255.0)))[usize::from(v)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::camera::{plan_views, ViewConfig};

    #[test]
    fn canonical_light_is_unit() {
        assert!((CANONICAL_LIGHT.norm() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn srgb_round_trips_every_byte() {
        for v in 0..=255u8 {
            assert_eq!(encode_srgb(decode_srgb(v)), v);
        }
    }

    #[test]
    fn depth_and_distance_agree_through_the_intrinsics() {
        let scene = Scene::generate(4, 2);
        let view = plan_views(
            &scene,
            1,
            &ViewConfig {
                size: 24,
                ..ViewConfig::default()
            },
        )[0];
        let frame = render(&scene, &view.camera, &RenderOptions::default());
        let f = view.camera.focal_px();
        for i in 0..frame.size * frame.size {
            let (u, v) = ((i % 24) as f64 + 0.5 - 12.0, (i / 24) as f64 + 0.5 - 12.0);
            let expected =
                f64::from(frame.depth[i]) * (1.0 + (u / f).powi(2) + (v / f).powi(2)).sqrt();
            assert!((expected - f64::from(frame.distance[i])).abs() < 1e-5 * expected);
            assert!(frame.depth[i] > 0.0);
        }
    }
}
