//! The embedded dataset: renders scenes and writes, for every view, its RGB image, its point-info record and
//! the labels of every task that renders them (`#[task(label = f)]`), in the Taskonomy layout.

use std::path::Path;
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::camera::{plan_views, PlannedView, ViewConfig};
use super::encoding;
use super::labels::geometry::{vanishing_points, RoomBox};
use super::labels::LabelSource;
use super::layout::{
    encode_png, point_info_path, rgb_path, view_path, write_atomic, PngPixels, PointInfo,
    VanishingPointsJson, ViewKey,
};
use super::render::{render, Frame, RenderOptions};
use super::rng::derive_seed;
use super::scene::Scene;
use super::view::SceneView;
use super::Error;
use crate::spec::TaskDef;

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

/// One rendered view: the camera, the ray-cast buffers and the point-info record.
#[derive(Clone, Debug, PartialEq)]
pub struct RenderedView {
    /// Point and view numbers.
    pub key: ViewKey,
    /// The camera and its point.
    pub planned: PlannedView,
    /// The ray-cast buffers.
    pub frame: Frame,
    /// The point-info record.
    pub info: PointInfo,
}

/// A scene and every view rendered of it.
#[derive(Clone, Debug)]
pub struct RenderedScene {
    /// The scene.
    pub scene: Scene,
    /// Its views, in point then view order.
    pub views: Vec<RenderedView>,
}

impl RenderedScene {
    /// View `i` as label functions see it.
    pub fn view(&self, i: usize) -> SceneView<'_> {
        let v = &self.views[i];
        SceneView::new(&self.scene, &v.planned, &v.frame, &v.info)
    }
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
pub fn render_scene(config: &SynthConfig, index: usize) -> RenderedScene {
    let scene = Scene::generate(config.seed, index as u64);
    let planned = plan_views(
        &scene,
        derive_seed(config.seed, &[0xca3e, index as u64]),
        &config.view_config(),
    );
    let options = RenderOptions {
        samples_per_axis: config.samples_per_axis,
    };
    let views = planned
        .par_iter()
        .map(|view| RenderedView {
            key: ViewKey {
                point: view.point,
                view: view.view,
            },
            planned: *view,
            info: point_info(&scene, view),
            frame: render(&scene, &view.camera, &options),
        })
        .collect();
    RenderedScene { scene, views }
}

/// Writes view `i` of `rendered` under `root`: its RGB image, its point-info record, and the labels of
/// every task of `tasks` that renders them, each in its domain folder with its encoding. Returns the
/// number of files written.
pub fn write_view(
    root: &Path,
    rendered: &RenderedScene,
    i: usize,
    tasks: &[TaskDef],
) -> Result<usize, Error> {
    let view = rendered.view(i);
    let key = rendered.views[i].key;
    let building = &rendered.scene.building;
    let size = view.size();
    let rgb = rgb_path(root, building, key);
    let image =
        encode_png(size, size, PngPixels::Rgb8(&view.rgb().concat())).map_err(|source| {
            Error::PngEncode {
                path: rgb.clone(),
                source,
            }
        })?;
    write_atomic(&rgb, &image)?;
    let info = point_info_path(root, building, key);
    let json = serde_json::to_vec_pretty(view.point_info()).map_err(|source| Error::Json {
        path: info.clone(),
        source,
    })?;
    write_atomic(&info, &json)?;
    let mut files = 2;
    for task in tasks {
        let LabelSource::Rendered { label, encoding } = task.labels else {
            continue;
        };
        let path = view_path(root, building, task.spec.domain, encoding.extension(), key);
        let invalid = |message: String| Error::Label {
            task: task.spec.name.to_owned(),
            path: path.clone(),
            message,
        };
        let labels = label(&view).map_err(|e| invalid(e.to_string()))?;
        labels
            .check(&task.spec, size)
            .map_err(|e| invalid(e.to_string()))?;
        let bytes = encoding::encode(encoding, &labels, size).map_err(invalid)?;
        write_atomic(&path, &bytes)?;
        files += 1;
    }
    Ok(files)
}

/// What [`render_dataset`] did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RenderSummary {
    /// Views rendered (one RGB image each).
    pub images: usize,
    /// Files written besides the RGB images: point-info records and rendered labels.
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

/// Renders `config.scenes` scenes into `out` in the Taskonomy layout with the labels of the tasks of
/// `tasks` that render them, calling `progress` once per finished view (from worker threads), and records
/// the configuration in `out/synthetic.json`.
pub fn render_dataset(
    config: &SynthConfig,
    tasks: &[TaskDef],
    out: &Path,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<RenderSummary, Error> {
    config.validate()?;
    let start = Instant::now();
    std::fs::create_dir_all(out).map_err(|source| Error::Io {
        path: out.to_path_buf(),
        source,
    })?;
    let manifest = out.join(MANIFEST);
    let json = serde_json::to_vec_pretty(config).map_err(|source| Error::Manifest {
        path: manifest.clone(),
        source,
    })?;
    write_atomic(&manifest, &json)?;
    let counts: Vec<(usize, usize)> = (0..config.scenes)
        .into_par_iter()
        .map(|index| -> Result<(usize, usize), Error> {
            let rendered = render_scene(config, index);
            let mut files = 0;
            for i in 0..rendered.views.len() {
                files += write_view(out, &rendered, i, tasks)?;
                progress(1);
            }
            Ok((rendered.views.len(), files))
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
