//! The Taskonomy layout and the loader: what the writer writes, the loader reads back; bad files are
//! reported, skipped and counted; rendering is bit-identical for any number of threads.

use std::path::PathBuf;

use taskonomy_core::data::labels::derived::JIGSAW_PERMUTATIONS;
use taskonomy_core::data::labels::geometry::{relative_pose, OBJECT_CLASSES, SCENE_CLASSES};
use taskonomy_core::data::labels::{Label, SampleKind};
use taskonomy_core::data::layout::{encode_npy, view_path, Domain, ViewKey};
use taskonomy_core::data::loader::{Dataset, Loader, LoaderConfig, Split, SplitRule};
use taskonomy_core::data::render::CANONICAL_LIGHT;
use taskonomy_core::data::synthetic::{encode_domain, render_dataset, render_scene, SynthConfig};

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

fn all_buildings(dataset: &Dataset) -> SplitRule {
    SplitRule::Lists {
        train: dataset.buildings.iter().map(|b| b.name.clone()).collect(),
        val: vec![],
        test: vec![],
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
    assert_eq!(one.len(), config.views_per_scene());
    for (a, b) in one.iter().zip(&two) {
        // Compare the encoded files: every domain, byte for byte.
        for domain in Domain::ALL {
            assert_eq!(
                encode_domain(a, domain).unwrap(),
                encode_domain(b, domain).unwrap(),
                "{domain:?} differs"
            );
        }
        assert_eq!(
            a.frame
                .depth
                .iter()
                .map(|d| d.to_bits())
                .collect::<Vec<_>>(),
            b.frame
                .depth
                .iter()
                .map(|d| d.to_bits())
                .collect::<Vec<_>>()
        );
    }
}

#[test]
fn loader_reads_back_what_the_writer_wrote() {
    let dir = TempDir::new("roundtrip");
    let config = SynthConfig::new(2, 32, 3);
    let summary = render_dataset(&config, &dir.0, &|_| {}).unwrap();
    assert_eq!(summary.images, 2 * config.views_per_scene());
    assert_eq!(summary.labels, summary.images * (Domain::ALL.len() - 1));

    let dataset = Dataset::open(&dir.0).unwrap();
    assert_eq!(dataset.size, 32);
    assert_eq!(dataset.buildings.len(), 2);
    let labels = vec![
        Label::Depth,
        Label::Distance,
        Label::SurfaceNormals,
        Label::Reshading,
        Label::SemanticSegmentation,
        Label::ObjectClass,
        Label::ObjectClassSelected,
        Label::SceneClass,
        Label::Edges3d,
        Label::Segment2d,
        Label::Curvature,
        Label::RoomLayout,
        Label::VanishingPoints,
        Label::Autoencoding,
    ];
    let loader_config = LoaderConfig {
        split_rule: all_buildings(&dataset),
        ..LoaderConfig::new(labels, 4, 0)
    };
    let loader = Loader::new(&dataset, Split::Train, &loader_config).unwrap();
    assert_eq!(loader.len(), summary.images);

    let rendered: Vec<_> = (0..2).flat_map(|i| render_scene(&config, i)).collect();
    let mut seen = 0;
    for batch in loader.epoch(0) {
        assert_eq!(batch.rgb[0].shape, vec![batch.len(), 3, 32, 32]);
        for (k, (building, views)) in batch.samples.iter().enumerate() {
            let v = rendered
                .iter()
                .find(|r| &r.building == building && r.key == views[0])
                .unwrap();
            let n = 32 * 32;
            let depth = batch.targets[&Label::Depth].item(k);
            let distance = batch.targets[&Label::Distance].item(k);
            let normals = batch.targets[&Label::SurfaceNormals].item(k);
            let reshading = batch.targets[&Label::Reshading].item(k);
            for i in 0..n {
                assert!((depth[i] - v.frame.depth[i]).abs() <= 0.5 / 512.0 + 1e-6);
                assert!((distance[i] - v.frame.distance[i]).abs() <= 0.5 / 512.0 + 1e-6);
                for c in 0..3 {
                    assert!((normals[c * n + i] - v.frame.normal[i][c]).abs() <= 1.0 / 255.0);
                }
                // Reshading read back equals the clamped dot product of the normals read back.
                let dot = (0..3)
                    .map(|c| f64::from(normals[c * n + i]) * CANONICAL_LIGHT.get(c))
                    .sum::<f64>()
                    .max(0.0);
                assert!((f64::from(reshading[i]) - dot).abs() < 3.0 / 255.0);
            }
            let semantic = batch.targets[&Label::SemanticSegmentation].item(k);
            assert!(semantic
                .iter()
                .zip(&v.frame.semantic)
                .all(|(a, &b)| *a == f32::from(b)));
            assert_eq!(
                batch.targets[&Label::ObjectClass].item(k),
                v.labels.object_class.as_slice()
            );
            assert_eq!(
                batch.targets[&Label::ObjectClass].shape,
                vec![batch.len(), OBJECT_CLASSES]
            );
            let selected = batch.targets[&Label::ObjectClassSelected].item(k);
            assert!((selected.iter().sum::<f32>() - 1.0).abs() < 1e-5);
            let scene = batch.targets[&Label::SceneClass].item(k);
            assert_eq!(scene.len(), SCENE_CLASSES);
            assert_eq!(scene[v.scene_class], 1.0);
            assert_eq!(
                batch.targets[&Label::Edges3d].item(k),
                v.labels.edge_occlusion.as_slice()
            );
            let seg = batch.targets[&Label::Segment2d].item(k);
            assert!(seg
                .iter()
                .zip(&v.labels.segment2d)
                .all(|(a, &b)| *a == b as f32));
            let curvature = batch.targets[&Label::Curvature].item(k);
            assert!((0..n).all(
                |i| (curvature[i] - v.frame.curvature[i][0].clamp(-32.0, 32.0)).abs() <= 0.13
            ));
            let rgb = batch.rgb[0].item(k);
            assert!((0..n).all(|i| rgb[i] == f32::from(v.frame.rgb[i][0]) / 255.0));
            assert_eq!(batch.targets[&Label::Autoencoding].item(k), rgb);
            let layout = batch.targets[&Label::RoomLayout].item(k);
            assert!(layout[3..6].iter().all(|&h| h > 0.5));
            let vp = batch.targets[&Label::VanishingPoints].item(k);
            assert!((vp[6] * vp[6] + vp[7] * vp[7] + vp[8] * vp[8] - 1.0).abs() < 1e-5);
            seen += 1;
        }
    }
    assert_eq!(seen, summary.images);
    let stats = loader.stats();
    assert_eq!((stats.loaded, stats.skipped), (summary.images, 0));
}

#[test]
fn a_corrupt_or_missing_file_is_reported_skipped_and_counted() {
    let dir = TempDir::new("corrupt");
    let config = SynthConfig::new(1, 32, 4);
    render_dataset(&config, &dir.0, &|_| {}).unwrap();
    let dataset = Dataset::open(&dir.0).unwrap();
    let building = dataset.buildings[0].name.clone();
    let bad_png = view_path(
        &dir.0,
        &building,
        Domain::Rgb,
        ViewKey { point: 0, view: 1 },
    );
    std::fs::write(&bad_png, b"\x89PNG\r\n\x1a\nthis is not a png").unwrap();
    let missing = view_path(
        &dir.0,
        &building,
        Domain::DepthZbuffer,
        ViewKey { point: 1, view: 0 },
    );
    std::fs::remove_file(&missing).unwrap();
    let wrong_size = view_path(
        &dir.0,
        &building,
        Domain::ClassObject,
        ViewKey { point: 2, view: 0 },
    );
    std::fs::write(&wrong_size, encode_npy(&[0.5; 10])).unwrap();

    let loader_config = LoaderConfig {
        split_rule: all_buildings(&dataset),
        ..LoaderConfig::new(vec![Label::Depth, Label::ObjectClass], 4, 9)
    };
    let loader = Loader::new(&dataset, Split::Train, &loader_config).unwrap();
    let delivered: usize = loader.epoch(0).map(|b| b.len()).sum();
    let stats = loader.stats();
    assert_eq!(delivered, config.views_per_scene() - 3);
    assert_eq!((stats.loaded, stats.skipped), (delivered, 3));
    let text = stats.problems.join("\n");
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
    // Batches stay full while samples remain: only the last may be short.
    let sizes: Vec<usize> = loader.epoch(1).map(|b| b.len()).collect();
    assert!(
        sizes[..sizes.len() - 1].iter().all(|&s| s == 4),
        "{sizes:?}"
    );
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
    render_dataset(&config, &dir.0, &|_| {}).unwrap();
    let dataset = Dataset::open(&dir.0).unwrap();
    let rule = SplitRule::default();
    let parts: Vec<Vec<usize>> = Split::ALL
        .iter()
        .map(|&s| dataset.split(s, &rule))
        .collect();
    assert!(parts.iter().all(|p| !p.is_empty()), "{parts:?}");
    let mut all: Vec<usize> = parts.concat();
    all.sort();
    assert_eq!(all, (0..7).collect::<Vec<_>>());
    assert_eq!(
        parts,
        Split::ALL
            .iter()
            .map(|&s| dataset.split(s, &rule))
            .collect::<Vec<_>>()
    );
}

#[test]
fn multi_view_samples_carry_consistent_poses_and_matches() {
    let dir = TempDir::new("pairs");
    let config = SynthConfig::new(1, 16, 8);
    render_dataset(&config, &dir.0, &|_| {}).unwrap();
    let dataset = Dataset::open(&dir.0).unwrap();
    let rule = all_buildings(&dataset);
    let load = |labels: Vec<Label>| {
        let loader = Loader::new(
            &dataset,
            Split::Train,
            &LoaderConfig {
                split_rule: rule.clone(),
                ..LoaderConfig::new(labels, 64, 1)
            },
        )
        .unwrap();
        loader.epoch(0).collect::<Vec<_>>()
    };
    let fixed = load(vec![Label::FixatedPose]);
    // 3 points × 3 fixated views: 6 ordered pairs each.
    assert_eq!(fixed.iter().map(|b| b.len()).sum::<usize>(), 18);
    for batch in &fixed {
        assert_eq!(batch.rgb.len(), 2);
        for (k, (building, views)) in batch.samples.iter().enumerate() {
            assert_eq!(views[0].point, views[1].point);
            let a = dataset.point_info(building, views[0]).unwrap();
            let b = dataset.point_info(building, views[1]).unwrap();
            assert!(a.fixated && b.fixated);
            let expected = relative_pose(&a.camera_pose(), &b.camera_pose());
            let got = batch.targets[&Label::FixatedPose].item(k);
            assert!(expected
                .iter()
                .zip(got)
                .all(|(e, g)| (*e as f32 - g).abs() < 1e-5));
        }
    }
    let loose = load(vec![Label::NonFixatedPose]);
    assert_eq!(loose.iter().map(|b| b.len()).sum::<usize>(), 6); // 3 points × 2 ordered pairs
    let ego = load(vec![Label::Egomotion]);
    assert_eq!(ego[0].rgb.len(), 3);
    assert_eq!(
        ego[0].targets[&Label::Egomotion].shape,
        vec![ego[0].len(), 12]
    );
    let matching = load(vec![Label::PointMatching]);
    let labels: Vec<f32> = matching
        .iter()
        .flat_map(|b| (0..b.len()).map(|k| b.targets[&Label::PointMatching].item(k)[1]))
        .collect();
    let same = labels.iter().filter(|&&l| l == 1.0).count();
    assert_eq!((same, labels.len() - same), (9, 9));
    for batch in &matching {
        for (k, (_, views)) in batch.samples.iter().enumerate() {
            let same = batch.targets[&Label::PointMatching].item(k)[1] == 1.0;
            assert_eq!(same, views[0].point == views[1].point);
        }
    }
    assert!(Loader::new(
        &dataset,
        Split::Train,
        &LoaderConfig {
            split_rule: rule.clone(),
            ..LoaderConfig::new(vec![Label::Depth, Label::FixatedPose], 4, 0)
        }
    )
    .is_err());
    assert_eq!(Label::Egomotion.sample_kind(), SampleKind::Triplet);
}

#[test]
fn self_supervised_inputs_are_derived_and_reproducible() {
    let dir = TempDir::new("derived");
    let config = SynthConfig::new(1, 33, 6);
    render_dataset(&config, &dir.0, &|_| {}).unwrap();
    let dataset = Dataset::open(&dir.0).unwrap();
    let labels = vec![
        Label::Colorization,
        Label::Denoising,
        Label::Inpainting,
        Label::Jigsaw,
    ];
    let config = LoaderConfig {
        split_rule: all_buildings(&dataset),
        ..LoaderConfig::new(labels, 5, 2)
    };
    let loader = Loader::new(&dataset, Split::Train, &config).unwrap();
    let a: Vec<_> = loader.epoch(0).collect();
    let b: Vec<_> = loader.epoch(0).collect();
    assert_eq!(a, b, "an epoch is reproducible");
    let c: Vec<_> = loader.epoch(1).collect();
    assert_ne!(
        a[0].samples, c[0].samples,
        "epochs are shuffled differently"
    );
    let batch = &a[0];
    let jigsaw = &batch.targets[&Label::Jigsaw];
    assert_eq!(jigsaw.shape, vec![batch.len(), JIGSAW_PERMUTATIONS]);
    assert_eq!(
        batch.input(Label::Jigsaw).shape,
        vec![batch.len(), 3, 33, 33]
    );
    let classes = &batch.targets[&Label::Colorization];
    assert_eq!(classes.shape, vec![batch.len(), 33, 33]);
    assert!(classes
        .data
        .iter()
        .all(|&c| (0.0..64.0).contains(&c) && c.fract() == 0.0));
    let grey = batch.input(Label::Colorization).item(0);
    assert_eq!(grey[..33 * 33], grey[33 * 33..2 * 33 * 33]);
    assert_ne!(batch.input(Label::Denoising).item(0), batch.rgb[0].item(0));
    assert!(
        batch
            .input(Label::Inpainting)
            .item(0)
            .iter()
            .filter(|&&v| v == 0.5)
            .count()
            >= 3 * 16 * 16
    );
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
