//! The synthetic labels obey the physics they claim: each test recomputes a label from other buffers of
//! the same render (or from the files written for it) and compares.

use taskonomy_core::data::camera::PlannedView;
use taskonomy_core::data::geometry::Shape;
use taskonomy_core::data::labels::geometry::{
    object_distribution, occlusion_edges, relative_pose, room_axes_in_camera, vanishing_points,
    OBJECT_CLASSES,
};
use taskonomy_core::data::layout::{PointInfo, ViewKey};
use taskonomy_core::data::math::{Pose, Vec3};
use taskonomy_core::data::render::{Frame, CANONICAL_LIGHT};
use taskonomy_core::data::scene::Scene;
use taskonomy_core::data::synthetic::{render_scene, room_box, SynthConfig};
use taskonomy_core::data::view::SceneView;

/// A rendered view with the labels the tests below check.
struct View {
    building: String,
    key: ViewKey,
    planned: PlannedView,
    frame: Frame,
    info: PointInfo,
    edge_occlusion: Vec<f32>,
    object_class: Vec<f32>,
}

/// A few small scenes, enough to meet every kind of surface.
fn views() -> Vec<View> {
    let config = SynthConfig::new(3, 32, 5);
    (0..config.scenes)
        .flat_map(|i| {
            let rendered = render_scene(&config, i);
            rendered
                .views
                .iter()
                .map(|v| View {
                    building: rendered.scene.building.clone(),
                    key: v.key,
                    planned: v.planned,
                    edge_occlusion: occlusion_edges(&rendered.scene, &v.frame),
                    object_class: object_distribution(&v.frame.semantic),
                    frame: v.frame.clone(),
                    info: v.info.clone(),
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

fn angle(a: Vec3, b: Vec3) -> f64 {
    a.normalized().dot(b.normalized()).clamp(-1.0, 1.0).acos()
}

#[test]
fn normals_agree_with_finite_differences_of_depth_on_planes() {
    let mut checked = 0;
    for v in views() {
        let f = &v.frame;
        let s = f.size;
        for y in 1..s - 1 {
            for x in 1..s - 1 {
                let i = y * s + x;
                let around = [i - 1, i + 1, i - s, i + s];
                // A planar patch: one surface, no curvature, over the whole cross.
                if around.iter().any(|&j| f.surface[j] != f.surface[i])
                    || f.curvature[i] != [0.0, 0.0]
                {
                    continue;
                }
                let right = f.point(i + 1) - f.point(i - 1);
                let down = f.point(i + s) - f.point(i - s);
                let mut n = down.cross(right);
                if n.dot(-f.point(i)) < 0.0 {
                    n = -n;
                }
                let a = angle(n, f.normal_vec(i)).to_degrees();
                assert!(
                    a < 1.0,
                    "{} {:?} pixel ({x}, {y}): normal off by {a:.3}°",
                    v.building,
                    v.key
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 1000, "only {checked} planar pixels checked");
}

#[test]
fn occlusion_edges_lie_on_the_near_side_of_depth_discontinuities() {
    let (mut edges, mut jumps) = (0, 0);
    for v in views() {
        let f = &v.frame;
        let s = f.size;
        for (i, &edge) in v.edge_occlusion.iter().enumerate() {
            let (x, y) = (i % s, i / s);
            let neighbours: Vec<usize> = [
                (x > 0).then(|| i - 1),
                (x + 1 < s).then(|| i + 1),
                (y > 0).then(|| i - s),
                (y + 1 < s).then(|| i + s),
            ]
            .into_iter()
            .flatten()
            .collect();
            if edge == 1.0 {
                edges += 1;
                // Some neighbour sees a different surface, farther away, across a 3-D gap.
                assert!(
                    neighbours.iter().any(|&j| f.surface[j] != f.surface[i]
                        && f.distance[j] > f.distance[i]
                        && (f.point(j) - f.point(i)).norm() > 0.01 * f64::from(f.depth[i])),
                    "{} {:?}: edge at ({x}, {y}) without a discontinuity",
                    v.building,
                    v.key
                );
            }
            // Conversely: a jump of 30% in depth between different objects is always an edge on its near side.
            for &j in &neighbours {
                if f.object[j] != f.object[i] && f.depth[j] > 1.3 * f.depth[i] {
                    jumps += 1;
                    assert_eq!(
                        edge, 1.0,
                        "{} {:?}: depth jump at ({x}, {y}) not marked",
                        v.building, v.key
                    );
                }
            }
        }
    }
    assert!(edges > 50 && jumps > 20, "{edges} edges, {jumps} jumps");
}

#[test]
fn reshading_is_the_clamped_dot_product_of_normal_and_canonical_light() {
    for v in views() {
        let f = &v.frame;
        for i in 0..f.size * f.size {
            let expected = f.normal_vec(i).dot(CANONICAL_LIGHT).max(0.0);
            assert!((f64::from(f.reshading[i]) - expected).abs() < 1e-6);
            assert!((f.normal_vec(i).norm() - 1.0).abs() < 1e-5);
            // Normals face the camera.
            assert!(f.normal_vec(i).dot(-f.point(i)) > 0.0);
        }
    }
}

#[test]
fn curvature_is_the_analytic_curvature_of_the_primitive_hit() {
    let config = SynthConfig::new(3, 32, 5);
    let (mut spheres, mut cylinders) = (0, 0);
    for index in 0..config.scenes {
        let scene = Scene::generate(config.seed, index as u64);
        for v in render_scene(&config, index).views {
            let f = &v.frame;
            for i in 0..f.size * f.size {
                let (primitive, face) = (f.surface[i] / 8, f.surface[i] % 8);
                let expected = match primitive
                    .checked_sub(scene.room_primitives())
                    .map(|p| scene.primitives[p as usize].shape)
                {
                    Some(Shape::Sphere { radius, .. }) => {
                        spheres += 1;
                        [1.0 / radius, 1.0 / radius]
                    }
                    Some(Shape::Cylinder { radius, .. }) if face == 0 => {
                        cylinders += 1;
                        [1.0 / radius, 0.0]
                    }
                    _ => [0.0, 0.0],
                };
                assert_eq!(
                    f.curvature[i],
                    expected.map(|k| k as f32),
                    "{} {:?} pixel {i}",
                    scene.building,
                    v.key
                );
            }
        }
    }
    assert!(
        spheres > 0 && cylinders > 0,
        "{spheres} sphere and {cylinders} cylinder pixels"
    );
}

#[test]
fn vanishing_points_are_the_room_axes_and_room_edges_converge_to_them() {
    let config = SynthConfig::new(3, 32, 5);
    for index in 0..config.scenes {
        let scene = Scene::generate(config.seed, index as u64);
        let room = room_box(&scene);
        for v in render_scene(&config, index).views {
            let pose = v.info.camera_pose();
            let vp = vanishing_points(&pose, &room);
            let dirs = [
                Vec3::new(vp[0], vp[1], vp[2]),
                Vec3::new(vp[3], vp[4], vp[5]),
                Vec3::new(vp[6], vp[7], vp[8]),
            ];
            for a in 0..3 {
                assert!((dirs[a].norm() - 1.0).abs() < 1e-9);
                for b in 0..a {
                    assert!(
                        dirs[a].dot(dirs[b]).abs() < 1e-9,
                        "directions {a} and {b} not orthogonal"
                    );
                }
            }
            let axes = room_axes_in_camera(&pose, &room);
            // Each room edge parallel to axis k, projected, passes through the image vanishing point of k.
            let camera = v.planned.camera;
            let (c, f) = (camera.size as f64 / 2.0, camera.focal_px());
            let half = scene.room.half_extents();
            for k in 0..3 {
                let d = dirs[k];
                assert!((d - axes.column(k)).norm() < 1e-9);
                if d.z.abs() < 1e-3 {
                    continue; // vanishing point at infinity
                }
                let vanishing = (c + f * d.x / -d.z, c - f * d.y / -d.z);
                // Two points on a room edge along axis k (room frame), in camera coordinates.
                let corner = Vec3::new(half.x, -half.y, 0.0);
                let along = [
                    Vec3::X * (2.0 * half.x),
                    Vec3::Y * (2.0 * half.y),
                    Vec3::Z * scene.room.height,
                ][k];
                let start = if k == 0 {
                    Vec3::new(-half.x, -half.y, 0.0)
                } else {
                    corner
                };
                let to_cam = |p: Vec3| camera.to_camera(p);
                let (p, q) = (to_cam(start), to_cam(start + along));
                if p.z > -0.05 || q.z > -0.05 {
                    continue; // the edge passes behind the camera: its image is not a segment
                }
                let proj = |p: Vec3| (c + f * p.x / -p.z, c - f * p.y / -p.z);
                let (a, b) = (proj(p), proj(q));
                // Collinearity of a, b and the vanishing point, as a distance from the line in pixels.
                let cross = (b.0 - a.0) * (vanishing.1 - a.1) - (b.1 - a.1) * (vanishing.0 - a.0);
                let dist = cross.abs() / ((b.0 - a.0).hypot(b.1 - a.1));
                assert!(
                    dist < 1e-6 * (1.0 + vanishing.0.abs() + vanishing.1.abs()),
                    "axis {k}: {dist} px off the edge line"
                );
            }
        }
    }
}

#[test]
fn relative_poses_compose() {
    let views = views();
    let poses: Vec<Pose> = views.iter().take(6).map(|v| v.info.camera_pose()).collect();
    for a in 0..poses.len() {
        for b in 0..poses.len() {
            for c in 0..poses.len() {
                let ab = Pose::from_vector6(relative_pose(&poses[a], &poses[b]));
                let bc = Pose::from_vector6(relative_pose(&poses[b], &poses[c]));
                let ac = Pose::from_vector6(relative_pose(&poses[a], &poses[c]));
                let composed = ab.compose(&bc);
                let p = Vec3::new(0.3, -1.2, 2.0);
                assert!(
                    (composed.apply(p) - ac.apply(p)).norm() < 1e-9,
                    "{a}->{b}->{c}"
                );
            }
        }
    }
}

#[test]
fn semantic_segmentation_agrees_with_object_classification() {
    let mut with_objects = 0;
    for v in views() {
        let dist = &v.object_class;
        assert_eq!(dist.len(), OBJECT_CLASSES);
        let furniture = v.frame.semantic.iter().filter(|&&c| c > 0).count();
        for class in 1..=16u8 {
            let pixels = v.frame.semantic.iter().filter(|&&c| c == class).count();
            let expected = if furniture == 0 {
                0.0
            } else {
                pixels as f32 / furniture as f32
            };
            assert!((dist[usize::from(class) - 1] - expected).abs() < 1e-6);
        }
        with_objects += usize::from(furniture > 0);
        assert!((dist.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
    assert!(with_objects > 10);
}

#[test]
fn fixated_views_look_at_their_point_and_nonfixated_ones_see_it_off_centre() {
    for v in views() {
        let camera = v.planned.camera;
        let (u, w) = camera
            .project(v.planned.target)
            .expect("the point is in front");
        let c = camera.size as f64 / 2.0;
        assert_eq!(v.info.fixated, v.planned.fixated);
        if v.planned.fixated {
            assert!((u - c).abs() < 1e-6 && (w - c).abs() < 1e-6);
        } else {
            assert!((u - c).hypot(w - c) > 0.1 * c);
        }
        // The point is what the camera sees there (it was chosen visible); the pixel centres nearest to its
        // image may straddle a silhouette, so one of the 3×3 around it must see it.
        let expected = (v.planned.target - camera.pose.translation).norm();
        let (px, py) = (
            (u as usize).min(camera.size - 2).max(1),
            (w as usize).min(camera.size - 2).max(1),
        );
        let seen = (py - 1..=py + 1)
            .flat_map(|y| (px - 1..=px + 1).map(move |x| (x, y)))
            .map(|(x, y)| f64::from(v.frame.distance[y * camera.size + x]))
            .min_by(|a, b| (a - expected).abs().total_cmp(&(b - expected).abs()))
            .unwrap();
        assert!(
            seen > 0.0 && (seen - expected).abs() < 0.1 * expected,
            "{seen} vs {expected}"
        );
    }
}

#[test]
fn labels_are_computed_from_the_scene_regenerated_from_its_seed() {
    let config = SynthConfig::new(1, 32, 5);
    let rendered = render_scene(&config, 0);
    let v = &rendered.views[0];
    let scene = Scene::generate(5, 0);
    let view = SceneView::new(&scene, &v.planned, &v.frame, &v.info);
    assert_eq!(
        occlusion_edges(view.scene(), view.frame()),
        occlusion_edges(&rendered.scene, &v.frame)
    );
    assert_eq!(view.room(), rendered.view(0).room());
}
