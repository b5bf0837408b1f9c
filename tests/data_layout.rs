//! The Taskonomy layout and the dataset: what rendering writes for each task, the dataset reads back;
//! bad files are reported, skipped and counted; rendering is bit-identical for any number of threads.

use std::path::PathBuf;

use taskonomy::data::dataset::{Dataset, SampleRef, Split, SplitRule};
use taskonomy::data::encoding;
use taskonomy::data::labels::derived::JIGSAW_PERMUTATIONS;
use taskonomy::data::labels::geometry::relative_pose;
use taskonomy::data::labels::{LabelSource, Labels};
use taskonomy::data::layout::{encode_npy, rgb_path, view_path, ViewKey};
use taskonomy::data::render::CANONICAL_LIGHT;
use taskonomy::data::synthetic::{render_dataset, render_scene, SynthConfig};
use taskonomy::spec::{TaskDef, TaskSet};
use taskonomy::tasks::Taskonomy;

/// A fresh folder under the system's temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("taskonomy-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn standard() -> TaskSet {
    TaskSet::of::<Taskonomy>()
}

fn task(name: &str) -> TaskDef {
    *standard().get(name).unwrap()
}

/// The dataset at `dir` with every building in the training split.
fn open_all_train(dir: &std::path::Path) -> Dataset {
    let mut dataset = Dataset::open(dir).unwrap();
    let train = dataset.buildings.iter().map(|b| b.name.clone()).collect();
    dataset
        .set_rule(SplitRule::Lists {
            train,
            transfer: vec![],
            test: vec![],
        })
        .unwrap();
    dataset
}

/// The values of one sample's dense or image-level labels.
fn values(labels: &Labels) -> &[f32] {
    match labels {
        Labels::Dense { values, .. } | Labels::Image { values, .. } => values,
        _ => panic!("expected values, found {labels:?}"),
    }
}

fn ids(labels: &Labels) -> &[u32] {
    match labels {
        Labels::PixelClasses { values, .. } | Labels::Segments { values } => values,
        _ => panic!("expected ids, found {labels:?}"),
    }
}

#[test]
fn rendering_is_bit_identical_for_one_and_two_threads() {
    let config = SynthConfig::new(1, 32, 21);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| render_scene(&config, 0))
    };
    let (one, two) = (run(1), run(2));
    assert_eq!(one.views.len(), config.views_per_scene());
    for i in 0..one.views.len() {
        assert_eq!(one.views[i].frame, two.views[i].frame);
        // Every rendered label, as written to disk, byte for byte.
        for task in &standard().tasks {
            let LabelSource::Rendered { label, encoding } = task.labels else {
                continue;
            };
            let bytes = |rendered: &taskonomy::data::synthetic::RenderedScene| {
                encoding::encode(encoding, &label(&rendered.view(i)).unwrap(), 32).unwrap()
            };
            assert_eq!(bytes(&one), bytes(&two), "{} differs", task.spec.name);
        }
    }
}

#[test]
fn the_dataset_reads_back_what_rendering_wrote() {
    let dir = TempDir::new("roundtrip");
    let config = SynthConfig::new(2, 32, 3);
    let tasks = standard();
    let summary = render_dataset(&config, &tasks.tasks, &dir.0, &|_| {}).unwrap();
    assert_eq!(summary.images, 2 * config.views_per_scene());
    let rendered_tasks = tasks
        .tasks
        .iter()
        .filter(|t| matches!(t.labels, LabelSource::Rendered { .. }))
        .count();
    // A point-info record and each rendered task's label file per view.
    assert_eq!(summary.labels, summary.images * (1 + rendered_tasks));

    let dataset = open_all_train(&dir.0);
    assert_eq!(dataset.size, 32);
    assert_eq!(dataset.buildings.len(), 2);
    let scenes: Vec<_> = (0..2).map(|i| render_scene(&config, i)).collect();
    let n = 32 * 32;
    for (b, building) in dataset.buildings.iter().enumerate() {
        let scene = scenes
            .iter()
            .find(|s| s.scene.building == building.name)
            .unwrap();
        assert_eq!(building.views.len(), scene.views.len());
        for (i, view) in scene.views.iter().enumerate() {
            let sample = SampleRef {
                building: b,
                views: vec![view.key],
            };
            let load = |name: &str| dataset.load(&task(name), &sample, 0).unwrap();
            let depth = load("depth");
            let frame = &view.frame;
            for (got, want) in values(&depth.labels).iter().zip(&frame.depth) {
                assert!((got - want).abs() <= 0.5 / 512.0 + 1e-6);
            }
            let distance = load("distance");
            for (got, want) in values(&distance.labels).iter().zip(&frame.distance) {
                assert!((got - want).abs() <= 0.5 / 512.0 + 1e-6);
            }
            let normals = load("surface_normals");
            let reshading = load("reshading");
            let (normals, reshading) = (values(&normals.labels), values(&reshading.labels));
            for p in 0..n {
                for c in 0..3 {
                    assert!((normals[3 * p + c] - frame.normal[p][c]).abs() <= 1.0 / 255.0 + 1e-6);
                }
                // Reshading read back equals the clamped dot product of the normals read back.
                let dot = (0..3)
                    .map(|c| f64::from(normals[3 * p + c]) * CANONICAL_LIGHT.get(c))
                    .sum::<f64>()
                    .max(0.0);
                assert!((f64::from(reshading[p]) - dot).abs() < 3.0 / 255.0);
            }
            let semantic = load("semantic_segmentation");
            assert!(ids(&semantic.labels)
                .iter()
                .zip(&frame.semantic)
                .all(|(&a, &b)| a == u32::from(b)));
            // Labels stored losslessly come back exactly as the label functions computed them.
            let exactly = |name: &str| {
                let LabelSource::Rendered { label, .. } = task(name).labels else {
                    panic!("{name} is rendered")
                };
                assert_eq!(load(name).labels, label(&scene.view(i)).unwrap(), "{name}");
            };
            for name in ["object_class", "scene_class", "segment2d"] {
                exactly(name);
            }
            // Edge strengths and edge profiles come back to within half a 16-bit step.
            for name in ["edges2d", "edges3d"] {
                let LabelSource::Rendered { label, .. } = task(name).labels else {
                    panic!("{name} is rendered")
                };
                let computed = label(&scene.view(i)).unwrap();
                let read = load(name).labels;
                for (got, want) in values(&read).iter().zip(values(&computed)) {
                    assert!((got - want).abs() <= 0.5 / 65535.0 + 1e-7, "{name}");
                }
            }
            let selected = load("object_class_selected");
            assert_eq!(values(&selected.labels).len(), 100);
            assert!((values(&selected.labels).iter().sum::<f32>() - 1.0).abs() < 1e-5);
            let curvature = load("curvature");
            assert!((0..n).all(|p| (values(&curvature.labels)[2 * p]
                - frame.curvature[p][0].clamp(-32.0, 32.0))
            .abs()
                <= 0.13));
            let autoencoding = load("autoencoding");
            let rgb = autoencoding.views[0].interleaved();
            assert!((0..n).all(|p| rgb[3 * p] == f32::from(frame.rgb[p][0]) / 255.0));
            assert_eq!(values(&autoencoding.labels), rgb.as_slice());
            let layout = load("room_layout");
            assert!(values(&layout.labels)[3..6].iter().all(|&h| h > 0.5));
            let vp = load("vanishing_points");
            let z = &values(&vp.labels)[6..9];
            assert!((z.iter().map(|v| v * v).sum::<f32>() - 1.0).abs() < 1e-5);
        }
    }
}

#[test]
fn a_corrupt_or_missing_file_is_reported_skipped_and_counted() {
    let dir = TempDir::new("corrupt");
    let config = SynthConfig::new(1, 32, 4);
    render_dataset(&config, &standard().tasks, &dir.0, &|_| {}).unwrap();
    let dataset = open_all_train(&dir.0);
    let building = dataset.buildings[0].name.clone();
    let bad_png = rgb_path(&dir.0, &building, ViewKey { point: 0, view: 1 });
    std::fs::write(&bad_png, b"\x89PNG\r\n\x1a\nthis is not a png").unwrap();
    let missing = view_path(
        &dir.0,
        &building,
        "depth_zbuffer",
        "png",
        ViewKey { point: 1, view: 0 },
    );
    std::fs::remove_file(&missing).unwrap();
    let wrong_size = view_path(
        &dir.0,
        &building,
        "class_object",
        "npy",
        ViewKey { point: 2, view: 0 },
    );
    std::fs::write(&wrong_size, encode_npy(&[0.5; 10])).unwrap();

    let views = config.views_per_scene();
    let depth = dataset
        .select(&task("depth"), Split::Train, 100, 9)
        .unwrap();
    assert_eq!(depth.samples.len(), views - 2);
    let objects = dataset
        .select(&task("object_class"), Split::Train, 100, 9)
        .unwrap();
    assert_eq!(objects.samples.len(), views - 2);
    let problems: Vec<String> = depth
        .skipped
        .iter()
        .chain(&objects.skipped)
        .map(ToString::to_string)
        .collect();
    let text = problems.join("\n");
    assert_eq!(problems.len(), 4, "{text}");
    assert!(
        text.contains("point_0_view_1_domain_rgb.png") && text.contains("PNG"),
        "{text}"
    );
    assert!(
        text.contains("point_1_view_0_domain_depth_zbuffer.png"),
        "{text}"
    );
    assert!(
        text.contains("point_2_view_0_domain_class_object.npy") && text.contains("1000 values"),
        "{text}"
    );
    // Every problem names the task and split it was met in.
    assert!(problems.iter().all(|p| p.contains("train split")), "{text}");
    // A limit is met from further down the order: the skipped samples are replaced.
    let few = dataset.select(&task("depth"), Split::Train, 5, 9).unwrap();
    assert_eq!(few.samples.len(), 5);
    assert_eq!(few.samples[..], depth.samples[..5]);
}

#[test]
fn splits_are_by_building_disjoint_and_cover_everything() {
    let dir = TempDir::new("splits");
    let config = SynthConfig {
        points: 1,
        fixated_views: 1,
        nonfixated_views: 0,
        ..SynthConfig::new(7, 16, 2)
    };
    render_dataset(&config, &[], &dir.0, &|_| {}).unwrap();
    let dataset = Dataset::open(&dir.0).unwrap();
    let parts: Vec<Vec<usize>> = Split::ALL.iter().map(|&s| dataset.split(s)).collect();
    assert!(parts.iter().all(|p| !p.is_empty()), "{parts:?}");
    let mut all: Vec<usize> = parts.concat();
    all.sort();
    assert_eq!(all, (0..7).collect::<Vec<_>>());
    assert_eq!(
        parts,
        Split::ALL
            .iter()
            .map(|&s| dataset.split(s))
            .collect::<Vec<_>>()
    );
}

#[test]
fn multi_view_samples_carry_consistent_poses_and_matches() {
    let dir = TempDir::new("pairs");
    let config = SynthConfig::new(1, 16, 8);
    render_dataset(&config, &[], &dir.0, &|_| {}).unwrap();
    let dataset = open_all_train(&dir.0);
    let all = |name: &str| {
        let task = task(name);
        let chosen = dataset.select(&task, Split::Train, 1000, 1).unwrap();
        assert!(chosen.skipped.is_empty());
        let loaded: Vec<_> = chosen
            .samples
            .iter()
            .map(|s| dataset.load(&task, s, 1).unwrap())
            .collect();
        (chosen.samples, loaded)
    };
    let (pairs, fixed) = all("fixated_pose");
    // 3 points × 3 fixated views: 6 ordered pairs each.
    assert_eq!(pairs.len(), 18);
    for (sample, loaded) in pairs.iter().zip(&fixed) {
        assert_eq!(loaded.views.len(), 2);
        assert_eq!(sample.views[0].point, sample.views[1].point);
        let a = dataset.read_point_info(0, sample.views[0]).unwrap();
        let b = dataset.read_point_info(0, sample.views[1]).unwrap();
        assert!(a.fixated && b.fixated);
        let expected = relative_pose(&a.camera_pose(), &b.camera_pose());
        assert!(expected
            .iter()
            .zip(values(&loaded.labels))
            .all(|(e, g)| (*e as f32 - g).abs() < 1e-5));
    }
    assert_eq!(all("non_fixated_pose").0.len(), 6); // 3 points × 2 ordered pairs
    let (triplets, ego) = all("egomotion");
    assert_eq!(triplets.len(), 18);
    assert_eq!(ego[0].views.len(), 3);
    assert_eq!(values(&ego[0].labels).len(), 12);
    let (pairs, matching) = all("point_matching");
    let same: Vec<bool> = matching
        .iter()
        .map(|m| values(&m.labels)[1] == 1.0)
        .collect();
    assert_eq!(same.iter().filter(|&&s| s).count(), 9);
    assert_eq!(same.len(), 18);
    for (sample, same) in pairs.iter().zip(same) {
        assert_eq!(same, sample.views[0].point == sample.views[1].point);
    }
}

#[test]
fn self_supervised_inputs_are_derived_and_reproducible() {
    let dir = TempDir::new("derived");
    let config = SynthConfig::new(1, 33, 6);
    render_dataset(&config, &[], &dir.0, &|_| {}).unwrap();
    let dataset = open_all_train(&dir.0);
    let sample = SampleRef {
        building: 0,
        views: vec![dataset.buildings[0].views[0]],
    };
    let load = |name: &str, seed| dataset.load(&task(name), &sample, seed).unwrap();
    // The same view is altered the same way for a seed, and differently for another.
    assert_eq!(load("denoising", 2), load("denoising", 2));
    assert_ne!(load("denoising", 2).derived, load("denoising", 3).derived);
    let jigsaw = load("jigsaw", 2);
    assert_eq!(values(&jigsaw.labels).len(), JIGSAW_PERMUTATIONS);
    assert_eq!(values(&jigsaw.labels).iter().sum::<f32>(), 1.0);
    assert_eq!(jigsaw.inputs()[0].size(), 33);
    let colorization = load("colorization", 2);
    assert!(ids(&colorization.labels).iter().all(|&c| c < 64));
    let grey = colorization.inputs()[0].planes();
    assert_eq!(grey[..33 * 33], grey[33 * 33..2 * 33 * 33]);
    let denoising = load("denoising", 2);
    assert_ne!(denoising.inputs()[0], denoising.views[0]);
    let inpainting = load("inpainting", 2);
    assert!(
        inpainting.inputs()[0]
            .planes()
            .iter()
            .filter(|&&v| v == 0.5)
            .count()
            >= 3 * 16 * 16
    );
    // A task that sees the image as it is has no derived input.
    assert_eq!(load("room_layout", 2).derived, None);
}

#[test]
fn opening_a_folder_without_images_names_it() {
    let dir = TempDir::new("empty");
    std::fs::create_dir_all(dir.0.join("not_a_building")).unwrap();
    let err = Dataset::open(&dir.0).unwrap_err().to_string();
    assert!(
        err.contains(&*dir.0.to_string_lossy()) && err.contains("rgb"),
        "{err}"
    );
}
