//! Training throughput on the CPU, in images per second, at 64×64 with batches of 32: one optimiser
//! step of a task network (encoder + decoder, from pixels) and one step of a readout (from cached
//! representations), a step of 25 readouts trained together against the same 25 trained one after the
//! other, then the same networks in PyTorch, side by side in the same run. Also the
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
use taskonomy::train::fit::{train_step, LossSpec, Predict, Schedule};
use taskonomy::train::grouped::{GroupJob, Member, ReadoutGroup};
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

/// Readouts in a group, as step II trains those into one target: one per source representation.
const GROUP: usize = 25;

/// What a group of `GROUP` readouts needs: each member's cached representations of `BATCH` images (one
/// source each), the images' views and their targets.
struct GroupData {
    arch: Arch,
    reps: Vec<Vec<f32>>,
    views: Vec<Vec<usize>>,
    targets: HostTargets,
    spec: LossSpec,
    schedule: Schedule,
}

impl GroupData {
    fn new(arch: &Arch) -> Self {
        let (task, _) = task_setup(arch);
        GroupData {
            arch: arch.clone(),
            reps: (0..GROUP)
                .map(|g| values(BATCH * arch.tokens() * arch.bottleneck, 10 + g as u64))
                .collect(),
            views: (0..BATCH).map(|i| vec![i]).collect(),
            targets: task.targets,
            spec: task.spec,
            schedule: Schedule {
                steps: 1_000,
                batch_size: BATCH,
                shards: SHARDS,
                lr: 1e-3,
                warmup: 1,
                final_lr_fraction: 1.0,
                weight_decay: 0.0,
            },
        }
    }

    fn members(&self) -> Vec<Member<'_>> {
        self.reps
            .iter()
            .enumerate()
            .map(|(g, reps)| Member {
                name: format!("source {g}"),
                train: RepBatches::new(vec![reps], &self.views, &self.arch, Some(&self.targets)),
                test: RepBatches::new(vec![reps], &self.views, &self.arch, Some(&self.targets)),
            })
            .collect()
    }

    fn job(&self) -> GroupJob<'_> {
        GroupJob {
            loss: self.spec,
            patch: self.arch.patch,
            schedule: &self.schedule,
            seed: 1,
            eval_batch: BATCH,
            train_targets: &self.targets,
            test_targets: &self.targets,
        }
    }

    fn heads(&self, dev: &Cpu) -> Vec<Head<Cpu>> {
        (0..GROUP)
            .map(|g| {
                Head::readout(
                    dev,
                    &self.arch,
                    self.arch.bottleneck,
                    self.spec.layout,
                    g as u64,
                )
                .expect("head")
            })
            .collect()
    }
}

/// The same `GROUP` readouts trained one after the other through dfdx's tape, each step gathering its
/// batch: what step II did before readouts trained in groups.
struct Singles {
    setups: Vec<Setup<Head<Cpu>>>,
}

impl Singles {
    fn new(data: &GroupData) -> Self {
        let dev = device::cpu();
        let setups = data
            .heads(&dev)
            .into_iter()
            .map(|model| Setup {
                optimiser: Adam::new(&model, &dev, 1e-3).expect("optimiser"),
                dev: dev.clone(),
                model,
                targets: data.targets.clone(),
                spec: data.spec,
            })
            .collect();
        Singles { setups }
    }

    fn step(&mut self, members: &[Member<'_>], indices: &[usize]) {
        for (setup, member) in self.setups.iter_mut().zip(members) {
            let batch = member.train.batch(indices).expect("a batch");
            step(setup, &batch);
        }
    }
}

/// FLOPs of one training step of a readout on one image, counted from the layer sizes: the forward
/// pass (2 per multiply-add), then the backward pass's weight gradients of both layers and the hidden
/// layer's gradient (the input, a frozen representation, needs none).
fn readout_flops(arch: &Arch, outputs: usize) -> f64 {
    let (input, width) = (arch.bottleneck, arch.readout_width);
    let per_token =
        2 * (input * width + width * outputs) + 2 * (input * width + 2 * width * outputs);
    (arch.tokens() * per_token) as f64
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
    readout_groups(c);
    read_batches(c);
}

/// One optimiser step of `GROUP` readouts of the `small` preset (what step II trains): together (the
/// grouped step) and one after the other through dfdx. Throughput counts readout-images (images ×
/// readouts).
fn readout_groups(c: &mut Criterion) {
    let data = GroupData::new(&Preset::Small.settings().arch);
    let members = data.members();
    let job = data.job();
    let indices: Vec<usize> = (0..BATCH).collect();
    let mut group = c.benchmark_group(format!("readouts_{GROUP}_32px_batch32"));
    group.throughput(Throughput::Elements((BATCH * GROUP) as u64));
    group.sample_size(20);
    let readouts = ReadoutGroup::new(&data.heads(&device::cpu()), &members, &job).expect("group");
    let mut n = 0;
    group.bench_function("together", |b| {
        b.iter(|| {
            let targets = data.targets.select(&indices);
            n += 1;
            readouts.step(n, &indices, &targets).expect("a step")
        })
    });
    let mut singles = Singles::new(&data);
    group.bench_function("one_at_a_time", |b| {
        b.iter(|| singles.step(&members, &indices))
    });
    group.finish();
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
    let small = Preset::Small.settings().arch;
    let data = GroupData::new(&small);
    let members = data.members();
    let job = data.job();
    let indices: Vec<usize> = (0..BATCH).collect();
    let readouts = ReadoutGroup::new(&data.heads(&device::cpu()), &members, &job).expect("group");
    let mut singles = Singles::new(&data);
    let mut n = 0;
    // Readout-images per second: `best_rate` counts `BATCH` images per run, a group step trains `GROUP`
    // readouts on them.
    let mut grouped = (0.0f64, 0.0f64);
    let mut theirs_grouped: Option<(f64, f64)> = None;
    let mut ours = (0.0f64, 0.0f64);
    let mut theirs: Result<(f64, f64, String), String> = Err(String::new());
    for _ in 0..2 {
        grouped.0 = grouped.0.max(
            GROUP as f64
                * best_rate(
                    || {
                        let targets = data.targets.select(&indices);
                        n += 1;
                        readouts.step(n, &indices, &targets).expect("a step");
                    },
                    5,
                    5,
                ),
        );
        grouped.1 = grouped
            .1
            .max(GROUP as f64 * best_rate(|| singles.step(&members, &indices), 2, 5));
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
        if let Ok(v) = pytorch(&small) {
            let (g, s) = (
                v["readout_group"].as_f64().unwrap_or(0.0),
                v["readout_singles"].as_f64().unwrap_or(0.0),
            );
            let (bg, bs) = theirs_grouped.unwrap_or((0.0, 0.0));
            theirs_grouped = Some((g.max(bg), s.max(bs)));
        }
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
    let flops = readout_flops(&small, data.spec.layout.head_outputs(small.patch));
    println!();
    println!(
        "{GROUP} readouts of one target at the small preset (32×32, 4×4 patches, 3 values per pixel), \
         batch {BATCH}, Adam, L1"
    );
    println!(
        "(readout-images per second, best of 5 windows ×2; {:.2} MFLOP per readout-image):",
        flops / 1e6
    );
    println!(
        "  {:<22} {:>10} {:>9} {:>10} {:>9}",
        "", "dfdx", "GFLOP/s", "PyTorch", "GFLOP/s"
    );
    let row = |what: &str, ours: f64, theirs: Option<f64>| {
        let theirs = theirs.map_or_else(
            || format!("{:>10} {:>9}", "-", "-"),
            |t| format!("{t:>10.0} {:>9.1}", t * flops / 1e9),
        );
        println!(
            "  {what:<22} {ours:>10.0} {:>9.1} {theirs}",
            ours * flops / 1e9
        );
    };
    row("together", grouped.0, theirs_grouped.map(|t| t.0));
    row("one at a time", grouped.1, theirs_grouped.map(|t| t.1));
    println!(
        "  together: {:.1}× one at a time; PyTorch's stacked group (torch.baddbmm) is its anchor",
        grouped.0 / grouped.1
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
