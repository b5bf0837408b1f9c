//! Training throughput on the CPU, in images per second, at 64×64 with batches of 32: one optimiser
//! step of a task network (encoder + decoder, from pixels) and one step of a readout (from cached
//! representations), then the same two networks in PyTorch, side by side in the same run. Also the
//! cost of reading a batch from disk (images decoded, labels decoded or derived, patches cut), which a
//! training step overlaps with the previous step's arithmetic.
//!
//! The networks are the `small` preset's at 64×64 (8×8 patches, 64 tokens). The PyTorch twin is
//! `benches/pytorch/mixer.py`; its comparison is skipped, with a note, when `python3` cannot import
//! `torch`. Set `TASKONOMY_BENCH_PYTHON` to use another interpreter.
//!
//! ```text
//! cargo bench --bench training
//! ```

use std::process::Command;
use std::time::Instant;

use criterion::{Criterion, Throughput};
use taskonomy::data::dataset::{Dataset, Split};
use taskonomy::data::synthetic::{render_dataset, SynthConfig};
use taskonomy::decoder::DecoderShape;
use taskonomy::model::device::{self, Cpu};
use taskonomy::model::{Adam, Arch, Head, Network, OutputLayout};
use taskonomy::spec::{LossKind, TaskSet};
use taskonomy::tasks::Taskonomy;
use taskonomy::train::batch::{
    BatchSource, HostBatch, HostTargets, PixelBatches, RepBatches, TargetPrep,
};
use taskonomy::train::fit::{train_step, LossSpec, Predict};
use taskonomy::train::{Preset, Progress, RunData, SplitSizes};

// The allocator keeps freed pages for the next step's buffers (see `model::device::cpu`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BATCH: usize = 32;
/// Shards per step, as in the presets.
const SHARDS: usize = 2;

fn arch() -> Arch {
    Arch {
        image_size: 64,
        patch: 8,
        ..Preset::Small.settings().arch
    }
}

/// Deterministic pseudo-random values in [-1, 1].
fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = taskonomy::data::rng::Rng::new(seed, &[]);
    (0..n).map(|_| rng.range(-1.0, 1.0) as f32).collect()
}

/// Everything one kind of training step needs.
struct Setup<M> {
    dev: Cpu,
    model: M,
    optimiser: Adam<Cpu>,
    targets: HostTargets,
    spec: LossSpec,
}

/// A batch of `BATCH` images' patch tokens with the setup's targets.
fn task_setup(arch: &Arch) -> (Setup<Network<Cpu>>, HostBatch) {
    let dev = device::cpu();
    let layout = OutputLayout::PerPixel { channels: 3 };
    let model = Network::task(&dev, arch, 1, layout, DecoderShape::PRESET, 1).expect("network");
    let optimiser = Adam::new(&model, &dev, 1e-3).expect("optimiser");
    let pixels = arch.image_size * arch.image_size;
    let targets = HostTargets::Values {
        positions: pixels,
        channels: 3,
        values: values(BATCH * pixels * 3, 3),
    };
    let inputs = HostBatch {
        rows: values(BATCH * arch.tokens() * arch.patch_values(), 2),
        rows_per_sample: arch.tokens(),
        width: arch.patch_values(),
        targets: Some(targets.clone()),
    };
    let spec = LossSpec {
        loss: LossKind::L1,
        layout,
        image_size: arch.image_size,
    };
    (
        Setup {
            dev,
            model,
            optimiser,
            targets,
            spec,
        },
        inputs,
    )
}

/// A readout and a batch of `BATCH` images' cached representations, gathered as step II gathers them.
fn readout_setup(arch: &Arch) -> (Setup<Head<Cpu>>, HostBatch) {
    let (task, _) = task_setup(arch);
    let model = Head::readout(&task.dev, arch, arch.bottleneck, task.spec.layout, 4).expect("head");
    let optimiser = Adam::new(&model, &task.dev, 1e-3).expect("optimiser");
    let reps = values(BATCH * arch.tokens() * arch.bottleneck, 5);
    let views: Vec<Vec<usize>> = (0..BATCH).map(|i| vec![i]).collect();
    let indices: Vec<usize> = (0..BATCH).collect();
    let batch = RepBatches::new(vec![&reps], &views, arch, Some(&task.targets))
        .batch(&indices)
        .expect("a batch of representations");
    (
        Setup {
            dev: task.dev,
            model,
            optimiser,
            targets: task.targets,
            spec: task.spec,
        },
        batch,
    )
}

fn step<M: Predict<Cpu>>(s: &mut Setup<M>, batch: &HostBatch) -> f32 {
    train_step(
        &s.dev,
        &mut s.model,
        &mut s.optimiser,
        batch,
        s.spec,
        SHARDS,
    )
    .expect("training step")
}

/// Images per second of `run` (one step of `BATCH` images): the best of `windows` windows of `steps`.
fn best_rate(mut run: impl FnMut(), steps: usize, windows: usize) -> f64 {
    for _ in 0..3 {
        run();
    }
    let best = (0..windows)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..steps {
                run();
            }
            start.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min);
    (steps * BATCH) as f64 / best
}

fn criterion_benches(c: &mut Criterion) {
    let arch = arch();
    let mut group = c.benchmark_group("train_step_64px_batch32");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(20);
    let (mut task, inputs) = task_setup(&arch);
    group.bench_function("task_network", |b| b.iter(|| step(&mut task, &inputs)));
    let (mut readout, inputs) = readout_setup(&arch);
    group.bench_function("readout", |b| b.iter(|| step(&mut readout, &inputs)));
    group.finish();
    read_batches(c);
}

/// Reading a batch of 32 samples from a rendered dataset, at the `small` preset's 32×32: a task whose
/// labels are a 16-bit PNG (depth), one derived from the image at load time (colorization), one computed
/// from the point-info records of two views (fixated pose).
fn read_batches(c: &mut Criterion) {
    let root = std::env::temp_dir().join(format!("taskonomy-bench-read-{}", std::process::id()));
    let tasks = TaskSet::of::<Taskonomy>()
        .only(&["depth", "colorization", "fixated_pose"])
        .expect("standard tasks");
    render_dataset(&SynthConfig::new(8, 32, 1), &tasks.tasks, &root, &|_| {}).expect("render");
    let dataset = Dataset::open(&root).expect("dataset");
    let sizes = SplitSizes {
        train: 256,
        transfer: 32,
        test: 32,
    };
    let (data, tasks) =
        RunData::open(dataset, &tasks, sizes, 1, &Progress::hidden()).expect("samples");
    let arch = Preset::Small.settings().arch;
    let mut group = c.benchmark_group("read_batch_32px_batch32");
    group.throughput(Throughput::Elements(BATCH as u64));
    for task in &tasks.tasks {
        let samples = data.samples(task.spec.name, Split::Train).expect("samples");
        let prep = TargetPrep {
            task: &task.spec,
            arch: &arch,
            scale: None,
            seed: 1,
        };
        let indices: Vec<usize> = (0..BATCH).collect();
        // A new source each time: the cost of reading from disk, not of the cache of later epochs.
        group.bench_function(task.spec.name, |b| {
            b.iter(|| {
                PixelBatches::new(&data, task, Split::Train, samples, prep)
                    .batch(&indices)
                    .expect("a batch")
            })
        });
    }
    group.finish();
    let _ = std::fs::remove_dir_all(&root);
}

/// The PyTorch twin's numbers, or why there are none.
fn pytorch(arch: &Arch) -> Result<serde_json::Value, String> {
    let python = std::env::var("TASKONOMY_BENCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/pytorch/mixer.py");
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let args = [
        ("--image", arch.image_size),
        ("--patch", arch.patch),
        ("--width", arch.width),
        ("--bottleneck", arch.bottleneck),
        ("--depth", arch.depth),
        ("--token-hidden", arch.token_hidden),
        ("--channel-hidden", arch.channel_hidden),
        ("--decoder-width", arch.decoder_width),
        ("--decoder-depth", arch.decoder_depth),
        ("--readout-width", arch.readout_width),
        ("--batch", BATCH),
        ("--threads", threads),
    ];
    let mut command = Command::new(&python);
    command.arg(script);
    for (flag, value) in args {
        command.arg(flag).arg(value.to_string());
    }
    let output = command
        .output()
        .map_err(|e| format!("cannot run {python}: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().last().unwrap_or("").to_owned();
        return Err(format!("{python} {script} failed: {last}"));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(stdout.lines().last().unwrap_or(""))
        .map_err(|e| format!("unexpected output from {script}: {e}"))
}

/// dfdx and PyTorch measured the same way (best of 5 windows), alternating, in one run.
fn side_by_side() {
    let arch = arch();
    let (mut task, inputs) = task_setup(&arch);
    let (mut readout, rep_inputs) = readout_setup(&arch);
    let mut ours = (0.0f64, 0.0f64);
    let mut theirs: Result<(f64, f64, String), String> = Err(String::new());
    for _ in 0..2 {
        ours.0 = ours.0.max(best_rate(
            || {
                step(&mut task, &inputs);
            },
            10,
            5,
        ));
        ours.1 = ours.1.max(best_rate(
            || {
                step(&mut readout, &rep_inputs);
            },
            50,
            5,
        ));
        theirs = match (pytorch(&arch), theirs) {
            (Ok(v), previous) => {
                let (t, r) = (
                    v["task_network"].as_f64().unwrap_or(0.0),
                    v["readout"].as_f64().unwrap_or(0.0),
                );
                let (bt, br) = previous.map_or((0.0, 0.0), |p| (p.0, p.1));
                Ok((
                    t.max(bt),
                    r.max(br),
                    format!("torch {} on {} threads", v["torch"], v["threads"]),
                ))
            }
            (Err(e), _) => Err(e),
        };
    }
    println!();
    println!(
        "side by side, 64×64, batch {BATCH}, Adam, L1 (images per second, best of 5 windows ×2):"
    );
    println!(
        "  {:<22} {:>10} {:>10} {:>8}",
        "", "dfdx", "PyTorch", "ratio"
    );
    match &theirs {
        Ok((t, r, about)) => {
            println!(
                "  {:<22} {:>10.0} {:>10.0} {:>7.2}×",
                "task network step",
                ours.0,
                t,
                ours.0 / t
            );
            println!(
                "  {:<22} {:>10.0} {:>10.0} {:>7.2}×",
                "readout step",
                ours.1,
                r,
                ours.1 / r
            );
            println!("  ({about})");
        }
        Err(why) => {
            println!("  {:<22} {:>10.0}", "task network step", ours.0);
            println!("  {:<22} {:>10.0}", "readout step", ours.1);
            println!("  PyTorch comparison skipped: {why}");
        }
    }
    println!(
        "  a readout step costs {:.1}% of a task-network step",
        100.0 * ours.0 / ours.1
    );
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    criterion_benches(&mut c);
    c.final_summary();
    // `--profile-time` runs the steps for a profiler; the comparison would only add noise to the profile.
    if !std::env::args().any(|a| a == "--profile-time") {
        side_by_side();
    }
}
