//! Every standard task learns at the `tiny` preset: each of the 26 task networks of step I ends with a
//! mean test loss below its task's best constant predictor's, scored on the same test images by the same
//! per-image loss code. A network that does not has learnt nothing about its input, and its encoder is
//! no source worth transferring from, though the planner may still choose it.
//!
//! The run is the one `taskonomy train --preset tiny` makes (its default seed, the synthetic scenes), so
//! a change of a preset, a task's label or loss, or the training loop that leaves a task behind fails
//! here, with the table of every network's margin.

use taskonomy::model::DeviceKind;
use taskonomy::spec::TaskSet;
use taskonomy::store::RunFolder;
use taskonomy::tasks::Taskonomy;
use taskonomy::train::{
    train_tasks, Context, Preset, Progress, ReadoutTraining, RunManifest, TaskNetworkRecord,
};

// Training frees and reallocates large buffers every step; keep the pages (as the command line does).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The command line's default run seed.
const SEED: u64 = 1;

/// Every network's mean test loss beside its constant predictor's, and the relative margin.
fn table(records: &[TaskNetworkRecord]) -> String {
    let mut out = format!(
        "{:<24} {:>12} {:>12} {:>8}\n",
        "task", "network", "constant", "margin"
    );
    for r in records {
        out.push_str(&format!(
            "{:<24} {:>12.5} {:>12.5} {:>7.1}%{}\n",
            r.task,
            r.test_mean,
            r.constant_mean,
            100.0 * r.margin(),
            if r.beats_constant() {
                ""
            } else {
                "  <- no better than the constant"
            }
        ));
    }
    out
}

#[test]
fn every_standard_task_beats_its_constant_predictor_at_the_tiny_preset() {
    let root = std::env::temp_dir().join(format!("taskonomy-learn-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let preset = Preset::Tiny;
    let settings = preset.settings();
    let all = TaskSet::of::<Taskonomy>();
    let manifest = RunManifest::new(
        preset.name(),
        settings.clone(),
        SEED,
        DeviceKind::Cpu,
        None,
        &all,
    );
    let folder = RunFolder::create(&root).unwrap();
    manifest.write(&folder).unwrap();
    let started = std::time::Instant::now();
    let (data, tasks) = manifest
        .open_data(&folder, &all, &Progress::hidden())
        .unwrap();
    eprintln!(
        "rendered and opened in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(tasks.tasks.len(), 26, "a task was left out of the run");
    let dev = taskonomy::model::device::cpu();
    let ctx = Context {
        dev: &dev,
        run: &folder,
        data: &data,
        settings: &settings,
        seed: SEED,
        progress: Progress::hidden(),
        readouts: ReadoutTraining::Grouped,
    };
    let records = train_tasks(&ctx, &tasks).unwrap();
    eprintln!("step I done at {:.1} s", started.elapsed().as_secs_f64());
    let table = table(&records);
    eprintln!("{table}");

    assert_eq!(records.len(), 26);
    let behind: Vec<&str> = records
        .iter()
        .filter(|r| !r.beats_constant())
        .map(|r| r.task.as_str())
        .collect();
    assert!(
        behind.is_empty(),
        "{} network(s) no better than their task's best constant predictor ({}):\n{table}",
        behind.len(),
        behind.join(", ")
    );
    std::fs::remove_dir_all(&root).unwrap();
}
