//! Steps I–III end to end on a few synthetic scenes: every output kind and a multi-view task, the tables
//! in the paper's format, and resuming an interrupted run.

use std::path::{Path, PathBuf};

use taskonomy::data::dataset::Dataset;
use taskonomy::data::synthetic::{render_dataset, SynthConfig};
use taskonomy::model::device;
use taskonomy::spec::TaskSet;
use taskonomy::store::RunFolder;
use taskonomy::tasks::Taskonomy;
use taskonomy::train::{
    self, measure, train_tasks, transfer, Context, MeasureOptions, Preset, Progress,
    ReadoutTraining, RunData, Settings, SplitSizes,
};
use taskonomy::transfers::Transfers;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("taskonomy-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The tasks `names` of the standard dictionary on six rendered scenes of 16×16 pixels under `root`, and
/// their samples for `settings`: `seeds` are the scenes' and the samples'.
fn tiny_data(
    root: &Path,
    names: &[&str],
    seeds: (u64, u64),
    settings: &Settings,
) -> (RunData, TaskSet) {
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let tasks = TaskSet::of::<Taskonomy>().only(&names).unwrap();
    let data_dir = root.join("data");
    let started = std::time::Instant::now();
    render_dataset(
        &SynthConfig::new(6, 16, seeds.0),
        &tasks.tasks,
        &data_dir,
        &|_| {},
    )
    .unwrap();
    eprintln!("rendered in {:?}", started.elapsed());
    let dataset = Dataset::open(&data_dir).unwrap();
    let started = std::time::Instant::now();
    let opened = RunData::open(
        dataset,
        &tasks,
        settings.samples,
        seeds.1,
        &Progress::hidden(),
    )
    .unwrap();
    eprintln!("samples chosen in {:?}", started.elapsed());
    opened
}

#[test]
fn a_tiny_run_measures_every_kind_of_task_and_resumes() {
    let root = temp_dir("pipeline");
    let mut settings = Preset::Tiny.settings();
    settings.task.steps = 6;
    settings.transfer.steps = 4;
    settings.scratch.steps = 4;
    settings.samples = SplitSizes {
        train: 24,
        transfer: 12,
        test: 10,
    };
    settings.max_order = 2;
    settings.top_k = 2;
    // One task of every output kind, a multi-view task, and a source-only task.
    let (data, tasks) = tiny_data(
        &root,
        &[
            "depth",
            "surface_normals",
            "colorization",
            "segment2d",
            "scene_class",
            "point_matching",
        ],
        (11, 3),
        &settings,
    );
    let dev = device::cpu();
    let run = RunFolder::create(root.join("run")).unwrap();
    let ctx = Context {
        dev: &dev,
        run: &run,
        data: &data,
        settings: &settings,
        seed: 1,
        progress: Progress::hidden(),
        readouts: ReadoutTraining::Grouped,
    };

    let started = std::time::Instant::now();
    let trained = train_tasks(&ctx, &tasks).unwrap();
    assert_eq!(trained.len(), tasks.tasks.len());
    assert!(trained.iter().all(|r| !r.reused && r.test_mean.is_finite()));
    let records = transfer(&ctx, &tasks).unwrap();
    let tables = measure(&ctx.keys(), &tasks, &MeasureOptions::default()).unwrap();
    eprintln!("steps I-III in {:?}", started.elapsed());

    // Colorization is a source only; every other task is a target with 6 first-order transfers, random,
    // pixels, and one second-order transfer (top 2 sources).
    let targets = tasks.targets.len();
    assert_eq!(targets, 5);
    assert_eq!(records.len(), targets * (6 + 2 + 1));
    for table in ["affinities.csv", "wins_vs_task.csv", "wins_vs_pixels.csv"] {
        let read = Transfers::read(run.file(table)).unwrap();
        assert_eq!(read.targets().len(), targets, "{table}");
    }
    for target in &tasks.targets {
        let sum: f64 = tables
            .affinities
            .rows()
            .iter()
            .filter(|r| r.target == *target)
            .map(|r| r.value)
            .sum();
        assert!(
            (sum - 1.0).abs() < 1e-9,
            "{target}: affinities sum to {sum}"
        );
        assert_eq!(
            tables.wins_vs_task.get(&["self"], target).unwrap().value,
            0.5
        );
        assert_eq!(
            tables
                .wins_vs_pixels
                .get(&["pixels"], target)
                .unwrap()
                .value,
            0.5
        );
        assert!(tables.affinities.get(&["random"], target).is_some());
        assert!(tables.affinities.get(&["pixels"], target).is_none());
    }
    let second: Vec<_> = tables
        .affinities
        .rows()
        .iter()
        .filter(|r| r.order() == 2)
        .collect();
    assert_eq!(second.len(), targets);

    // A finished run re-run trains nothing.
    let again = train_tasks(&ctx, &tasks).unwrap();
    assert!(again.iter().all(|r| r.reused));
    let same = |a: &[train::TransferRecord], b: &[train::TransferRecord]| {
        a.len() == b.len()
            && a.iter().zip(b).all(|(x, y)| {
                // Means read back from JSON may differ in the last bit.
                (x.target.as_str(), &x.sources, &x.key) == (y.target.as_str(), &y.sources, &y.key)
                    && (x.test_mean - y.test_mean).abs() <= 1e-9 * x.test_mean.abs().max(1.0)
            })
    };
    assert!(same(&transfer(&ctx, &tasks).unwrap(), &records));

    // An interrupted transfer (its `done` missing, a file half written) is redone, and only it.
    let victim = &records[1];
    let dir = run.transfer(&victim.target, &victim.label(), &victim.key);
    std::fs::remove_file(dir.path("done")).unwrap();
    std::fs::write(dir.path("weights.safetensors"), b"half").unwrap();
    // The target's index is done, so a plain rerun would not look at the transfer; drop the index too.
    let index_dirs = std::fs::read_dir(
        run.root()
            .join("transfers")
            .join(&victim.target)
            .join("index"),
    )
    .unwrap()
    .map(|e| e.unwrap().path())
    .collect::<Vec<_>>();
    for d in index_dirs {
        std::fs::remove_dir_all(d).unwrap();
    }
    let before = std::fs::metadata(
        run.transfer(&records[0].target, &records[0].label(), &records[0].key)
            .path("done"),
    )
    .unwrap()
    .modified()
    .unwrap();
    let redone = transfer(&ctx, &tasks).unwrap();
    assert!(dir.is_done());
    assert!(redone.iter().any(|r| r.key == victim.key));
    let after = std::fs::metadata(
        run.transfer(&records[0].target, &records[0].label(), &records[0].key)
            .path("done"),
    )
    .unwrap()
    .modified()
    .unwrap();
    assert_eq!(before, after, "a finished transfer was redone");
    let again = measure(&ctx.keys(), &tasks, &MeasureOptions::default()).unwrap();
    assert_eq!(again, tables);
    std::fs::remove_dir_all(&root).unwrap();
}

/// Step II's readouts trained in groups and one at a time (through dfdx's tape) are the same readouts:
/// every loss of the standard dictionary, per-pixel and per-image heads, a two-view target and a target
/// whose input is derived from its image, with their higher orders.
#[test]
fn grouped_readouts_are_the_readouts_trained_one_at_a_time() {
    let root = temp_dir("grouped");
    let mut settings = Preset::Tiny.settings();
    settings.task.steps = 4;
    settings.transfer.steps = 12;
    settings.scratch.steps = 2;
    settings.samples = SplitSizes {
        train: 24,
        transfer: 16,
        test: 12,
    };
    settings.max_order = 2;
    settings.top_k = 2;
    let (data, tasks) = tiny_data(
        &root,
        &[
            "depth",
            "surface_normals",
            "curvature",
            "semantic_segmentation",
            "segment2d",
            "scene_class",
            "egomotion",
            "denoising",
        ],
        (5, 2),
        &settings,
    );
    let dev = device::cpu();
    let step_two = |name: &str, readouts: ReadoutTraining| {
        let run = RunFolder::create(root.join(name)).unwrap();
        let ctx = Context {
            dev: &dev,
            run: &run,
            data: &data,
            settings: &settings,
            seed: 1,
            progress: Progress::hidden(),
            readouts,
        };
        train_tasks(&ctx, &tasks).unwrap();
        let records = transfer(&ctx, &tasks).unwrap();
        let tables = measure(&ctx.keys(), &tasks, &MeasureOptions::default()).unwrap();
        (run, records, tables)
    };
    let (grouped_run, grouped, grouped_tables) = step_two("grouped", ReadoutTraining::Grouped);
    let (alone_run, alone, alone_tables) = step_two("alone", ReadoutTraining::OneAtATime);

    assert_eq!(grouped.len(), alone.len());
    let mut largest = 0.0f32;
    for (g, a) in grouped.iter().zip(&alone) {
        assert_eq!(
            (&g.target, &g.sources, &g.key),
            (&a.target, &a.sources, &a.key)
        );
        let losses = |run: &RunFolder| {
            train::TestLosses::read(&run.transfer(&g.target, &g.label(), &g.key))
                .unwrap()
                .losses
        };
        for (x, y) in losses(&grouped_run).iter().zip(losses(&alone_run)) {
            let difference = (x - y).abs() / (1.0 + y.abs());
            assert!(
                difference <= 1e-5,
                "{} → {}: test losses {x} and {y}",
                g.label(),
                g.target
            );
            largest = largest.max(difference);
        }
    }
    eprintln!("largest relative difference of a test loss: {largest:e}");
    // So the tournaments, and every table made of them, are the same.
    assert_eq!(grouped_tables.wins_vs_task, alone_tables.wins_vs_task);
    assert_eq!(grouped_tables.wins_vs_pixels, alone_tables.wins_vs_pixels);
    for (g, a) in grouped_tables
        .affinities
        .rows()
        .iter()
        .zip(alone_tables.affinities.rows())
    {
        assert_eq!((&g.target, &g.sources), (&a.target, &a.sources));
        assert!((g.value - a.value).abs() < 1e-9, "{g:?} against {a:?}");
    }
    std::fs::remove_dir_all(&root).unwrap();
}
