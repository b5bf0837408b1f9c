//! The embedded dataset: renders scenes and writes every domain of every view in the Taskonomy layout.

use std::path::Path;
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::camera::{plan_views, PlannedView, ViewConfig};
use super::labels::geometry::{room_layout, vanishing_points, RoomBox, SCENE_CLASSES};
use super::labels::ViewLabels;
use super::layout::{
    curvature_to_u8, encode_npy, encode_png, metres_to_u16, normal_to_u8, unit_to_u16, view_path,
    write_atomic, Domain, PngPixels, PointInfo, VanishingPointsJson, ViewKey,
};
use super::render::{render, Frame, RenderOptions};
use super::rng::derive_seed;
use super::scene::Scene;
use super::Error;

/// The name of the file, at the dataset root, recording how a synthetic dataset was made.
pub const MANIFEST: &str = "synthetic.json";

/// How to make a synthetic dataset.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SynthConfig {
    /// Number of scenes (buildings).
    pub scenes: usize,
    /// Image side (pixels).
    pub size: usize,
    /// Seed of everything.
    pub seed: u64,
    /// Points per scene.
    pub points: usize,
    /// Fixated views per point.
    pub fixated_views: usize,
    /// Non-fixated views per point.
    pub nonfixated_views: usize,
    /// RGB samples per pixel along each axis.
    pub samples_per_axis: usize,
}

impl SynthConfig {
    /// `scenes` scenes at `size` pixels with the default cameras: 3 points, each with 3 fixated and 2
    /// non-fixated views (15 views per scene).
    pub fn new(scenes: usize, size: usize, seed: u64) -> SynthConfig {
        let v = ViewConfig::default();
        SynthConfig {
            scenes,
            size,
            seed,
            points: v.points,
            fixated_views: v.fixated_views,
            nonfixated_views: v.nonfixated_views,
            samples_per_axis: 1,
        }
    }

    /// Views per scene.
    pub fn views_per_scene(&self) -> usize {
        self.points * (self.fixated_views + self.nonfixated_views)
    }

    fn view_config(&self) -> ViewConfig {
        ViewConfig {
            points: self.points,
            fixated_views: self.fixated_views,
            nonfixated_views: self.nonfixated_views,
            size: self.size,
            ..ViewConfig::default()
        }
    }

    /// Checks the parameters are usable.
    pub fn validate(&self) -> Result<(), Error> {
        if self.size < 8 || self.size > 4096 {
            return Err(Error::Invalid(format!(
                "image size must be between 8 and 4096 pixels, got {}",
                self.size
            )));
        }
        if self.points == 0 || self.fixated_views + self.nonfixated_views == 0 {
            return Err(Error::Invalid(
                "a scene needs at least one point with one view".into(),
            ));
        }
        Ok(())
    }
}

/// One rendered view with everything written for it.
#[derive(Clone, Debug, PartialEq)]
pub struct RenderedView {
    /// Building (scene) name.
    pub building: String,
    /// Point and view numbers.
    pub key: ViewKey,
    /// The camera and its point.
    pub planned: PlannedView,
    /// The ray-cast buffers.
    pub frame: Frame,
    /// The computed labels.
    pub labels: ViewLabels,
    /// The point-info record.
    pub info: PointInfo,
    /// Room type index.
    pub scene_class: usize,
}

/// The room of a scene as a world-frame box.
pub fn room_box(scene: &Scene) -> RoomBox {
    let r = scene.room_to_world.rotation;
    RoomBox {
        center: scene.room_to_world.apply(scene.room.center()).to_array(),
        half_extents: scene.room.half_extents().to_array(),
        axes: [
            r.column(0).to_array(),
            r.column(1).to_array(),
            r.column(2).to_array(),
        ],
    }
}

/// The point-info record of a planned view.
pub fn point_info(scene: &Scene, view: &PlannedView) -> PointInfo {
    let to_world = scene.room_to_world.compose(&view.camera.pose);
    let point_uuid = format!("{}_point_{}", scene.building, view.point);
    let to_eye = view.camera.pose.translation - view.target;
    let room = room_box(scene);
    let vp = vanishing_points(&to_world, &room);
    PointInfo {
        building: scene.building.clone(),
        point_uuid: point_uuid.clone(),
        view_id: view.view,
        camera_uuid: format!("{point_uuid}_view_{}", view.view),
        camera_location: to_world.translation.to_array(),
        camera_rotation_final: to_world.rotation.to_euler_xyz(),
        field_of_view_rads: view.camera.fov,
        resolution: view.camera.size as u32,
        point_location: Some(scene.room_to_world.apply(view.target).to_array()),
        camera_distance: to_eye.norm(),
        obliqueness_angle: libm::acos(
            (to_eye.normalized().dot(view.target_normal)).clamp(-1.0, 1.0),
        ),
        nonfixated_points_in_view: if view.fixated {
            Vec::new()
        } else {
            vec![point_uuid]
        },
        fixated: view.fixated,
        room_type: Some(scene.class.name().to_string()),
        room_box: Some(room),
        vanishing_points_gaussian_sphere: Some(VanishingPointsJson {
            x: [vp[0], vp[1], vp[2]],
            y: [vp[3], vp[4], vp[5]],
            z: [vp[6], vp[7], vp[8]],
        }),
    }
}

/// Renders every view of scene `index` (views in parallel; the result does not depend on thread count).
pub fn render_scene(config: &SynthConfig, index: usize) -> Vec<RenderedView> {
    let scene = Scene::generate(config.seed, index as u64);
    let planned = plan_views(
        &scene,
        derive_seed(config.seed, &[0xca3e, index as u64]),
        &config.view_config(),
    );
    let options = RenderOptions {
        samples_per_axis: config.samples_per_axis,
    };
    planned
        .par_iter()
        .map(|view| {
            let frame = render(&scene, &view.camera, &options);
            let labels = ViewLabels::compute(&scene, &frame);
            RenderedView {
                building: scene.building.clone(),
                key: ViewKey {
                    point: view.point,
                    view: view.view,
                },
                planned: *view,
                info: point_info(&scene, view),
                frame,
                labels,
                scene_class: scene.class.index(),
            }
        })
        .collect()
}

/// The bytes of one domain's file for a rendered view, in the encodings documented on [`Domain`].
pub fn encode_domain(view: &RenderedView, domain: Domain) -> Result<Vec<u8>, png::EncodingError> {
    let f = &view.frame;
    let s = f.size;
    let gray16 = |v: Vec<u16>| encode_png(s, s, PngPixels::Gray16(&v));
    match domain {
        Domain::Rgb => encode_png(s, s, PngPixels::Rgb8(&f.rgb.concat())),
        Domain::DepthZbuffer => gray16(f.depth.iter().map(|&d| metres_to_u16(d)).collect()),
        Domain::DepthEuclidean => gray16(f.distance.iter().map(|&d| metres_to_u16(d)).collect()),
        Domain::Normal => encode_png(
            s,
            s,
            PngPixels::Rgb8(
                &f.normal
                    .iter()
                    .flat_map(|n| n.map(normal_to_u8))
                    .collect::<Vec<_>>(),
            ),
        ),
        Domain::EdgeTexture => gray16(
            view.labels
                .edge_texture
                .iter()
                .map(|&v| unit_to_u16(v))
                .collect(),
        ),
        Domain::EdgeOcclusion => gray16(
            view.labels
                .edge_occlusion
                .iter()
                .map(|&v| unit_to_u16(v))
                .collect(),
        ),
        Domain::Keypoints2d => gray16(
            view.labels
                .keypoints2d
                .iter()
                .map(|&v| unit_to_u16(v))
                .collect(),
        ),
        Domain::Keypoints3d => gray16(
            view.labels
                .keypoints3d
                .iter()
                .map(|&v| unit_to_u16(v))
                .collect(),
        ),
        Domain::PrincipalCurvature => {
            let px: Vec<u8> = f
                .curvature
                .iter()
                .flat_map(|k| [curvature_to_u8(k[0]), curvature_to_u8(k[1]), 0])
                .collect();
            encode_png(s, s, PngPixels::Rgb8(&px))
        }
        Domain::Reshading => encode_png(
            s,
            s,
            PngPixels::Gray8(
                &f.reshading
                    .iter()
                    .map(|&r| (r.clamp(0.0, 1.0) * 255.0 + 0.5) as u8)
                    .collect::<Vec<_>>(),
            ),
        ),
        Domain::SegmentUnsup2d => gray16(
            view.labels
                .segment2d
                .iter()
                .map(|&i| i.min(65535) as u16)
                .collect(),
        ),
        Domain::SegmentUnsup25d => gray16(
            view.labels
                .segment25d
                .iter()
                .map(|&i| i.min(65535) as u16)
                .collect(),
        ),
        Domain::SegmentSemantic => encode_png(s, s, PngPixels::Gray8(&f.semantic)),
        Domain::ClassObject => Ok(encode_npy(&view.labels.object_class)),
        Domain::ClassScene => {
            let mut v = vec![0.0f32; SCENE_CLASSES];
            v[view.scene_class] = 1.0;
            Ok(encode_npy(&v))
        }
        Domain::PointInfo => Ok(serde_json::to_vec_pretty(&view.info).unwrap_or_default()),
    }
}

/// Writes every domain of a rendered view under `root`; returns the number of files written.
pub fn write_view(root: &Path, view: &RenderedView) -> Result<usize, Error> {
    for domain in Domain::ALL {
        let path = view_path(root, &view.building, domain, view.key);
        let bytes = encode_domain(view, domain).map_err(|source| Error::PngEncode {
            path: path.clone(),
            source,
        })?;
        write_atomic(&path, &bytes)?;
    }
    Ok(Domain::ALL.len())
}

/// What [`render_dataset`] did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RenderSummary {
    /// Views rendered (one RGB image each).
    pub images: usize,
    /// Label files written besides the RGB images (every other domain).
    pub labels: usize,
    /// Wall-clock seconds.
    pub seconds: f64,
}

impl RenderSummary {
    /// Views per second.
    pub fn images_per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.images as f64 / self.seconds
        } else {
            0.0
        }
    }
}

/// Renders `config.scenes` scenes into `out` in the Taskonomy layout, calling `progress` once per finished
/// view (from worker threads), and records the configuration in `out/synthetic.json`.
pub fn render_dataset(
    config: &SynthConfig,
    out: &Path,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<RenderSummary, Error> {
    config.validate()?;
    let start = Instant::now();
    std::fs::create_dir_all(out).map_err(|source| Error::Io {
        path: out.to_path_buf(),
        source,
    })?;
    write_atomic(
        &out.join(MANIFEST),
        &serde_json::to_vec_pretty(config).unwrap_or_default(),
    )?;
    let counts: Vec<(usize, usize)> = (0..config.scenes)
        .into_par_iter()
        .map(|index| -> Result<(usize, usize), Error> {
            let views = render_scene(config, index);
            let mut files = 0;
            for view in &views {
                files += write_view(out, view)?;
                progress(1);
            }
            Ok((views.len(), files))
        })
        .collect::<Result<_, _>>()?;
    let images: usize = counts.iter().map(|c| c.0).sum();
    let files: usize = counts.iter().map(|c| c.1).sum();
    Ok(RenderSummary {
        images,
        labels: files - images,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The room-layout label of a point-info record, if it has a room box.
pub fn room_layout_of(info: &PointInfo) -> Option<[f64; 9]> {
    info.room_box
        .as_ref()
        .map(|room| room_layout(&info.camera_pose(), room))
}
