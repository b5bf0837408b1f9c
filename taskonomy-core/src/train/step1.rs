//! Step I: a network per task, trained on the training split, scored image by image on the test split.

use serde::{Deserialize, Serialize};

use super::batch::{
    split_targets, split_targets_of, HostTargets, LabelScale, PixelBatches, TargetPrep,
};
use super::constant::{ConstantPredictor, CONSTANT_FIT_IMAGES};
use super::fit::ShardDevice;
use super::fit::{evaluate, fit, LossSpec, Schedule};
use super::{
    save_trained, seed_for, Context, Keys, Split, TaskKey, TaskSet, TestLosses, TrainError,
    STAGE_VERSION,
};
use crate::model::{params, Arch, Network, OutputLayout};
use crate::spec::{TaskDef, TaskSpec};
use crate::store::Artifact;

/// Everything that determines a task network; its hash is the artifact's key.
#[derive(Serialize)]
struct TaskNetworkKey<'a> {
    stage: &'static str,
    version: u32,
    task: TaskKey,
    data: &'a str,
    /// The keys of its training and test samples.
    samples: [&'a str; 2],
    arch: &'a Arch,
    schedule: &'a Schedule,
    seed: u64,
}

/// The file of a task network's artifact that holds its label scaling, which every network scored on
/// the task's labels shares.
const LABEL_SCALE: &str = "label_scale.json";

/// The file of a task network's artifact that holds its best constant predictor's per-image test losses.
const CONSTANT_LOSSES: &str = "constant_test_losses.json";

/// A trained task network in the run folder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskNetworkRecord {
    /// The task.
    pub task: String,
    /// The artifact's key.
    pub key: String,
    /// Mean per-image test loss.
    pub test_mean: f64,
    /// Mean per-image test loss of the task's best constant predictor ([`ConstantPredictor`]), scored
    /// on the same images by the same loss code: the network must be below it.
    pub constant_mean: f64,
    /// Whether the network was already there (nothing was trained).
    pub reused: bool,
}

impl TaskNetworkRecord {
    /// How much of the constant predictor's loss the network removes: `(constant − network) / constant`;
    /// positive when the network beats the constant, 0 or less when it learnt nothing about its input.
    pub fn margin(&self) -> f64 {
        if self.constant_mean > 0.0 {
            (self.constant_mean - self.test_mean) / self.constant_mean
        } else {
            // A constant with no loss at all cannot be beaten, only matched.
            -self.test_mean.max(0.0)
        }
    }

    /// Whether the network's mean test loss is below its constant predictor's.
    pub fn beats_constant(&self) -> bool {
        self.test_mean < self.constant_mean
    }
}

/// The artifact of `spec`'s task network under the run's settings, and its key.
pub fn task_artifact(keys: &Keys<'_>, spec: &TaskSpec) -> Result<(Artifact, String), TrainError> {
    let key = crate::store::key_of(&TaskNetworkKey {
        stage: "task",
        version: STAGE_VERSION,
        task: TaskKey::of(spec),
        data: &keys.data.fingerprint,
        samples: [
            keys.data.selection(spec.name, Split::Train)?,
            keys.data.selection(spec.name, Split::Test)?,
        ],
        arch: &keys.settings.arch,
        schedule: &keys.settings.task,
        seed: keys.seed,
    })?;
    Ok((keys.run.task(spec.name, &key), key))
}

/// The label scaling of `spec`, measured on its training split when its task network was trained and
/// kept in the network's artifact: every network scored on the task's labels uses it.
pub(crate) fn label_scale(
    keys: &Keys<'_>,
    spec: &TaskSpec,
) -> Result<Option<LabelScale>, TrainError> {
    let (artifact, _) = task_artifact(keys, spec)?;
    artifact.require_done(
        format!("the `{}` task network", spec.name),
        "run `taskonomy train` with the same run folder first",
    )?;
    Ok(artifact.read_json(LABEL_SCALE, "a label scaling")?)
}

/// The test targets of `task`, as every network scored on them sees them ([`target_prep`]).
pub(crate) fn test_targets<D>(
    ctx: &Context<'_, D>,
    task: &TaskDef,
    scale: Option<&LabelScale>,
) -> Result<HostTargets, TrainError> {
    let prep = target_prep(&ctx.keys(), &task.spec, scale, Split::Test);
    split_targets(ctx.data, task, Split::Test, prep)
}

/// How `spec`'s labels in `split` become targets: the same for every network trained or scored on them
/// (same scaling, same sampled pixel pairs), so that their per-image losses can be compared.
pub(crate) fn target_prep<'a>(
    keys: &Keys<'a>,
    spec: &'a TaskSpec,
    scale: Option<&'a LabelScale>,
    split: Split,
) -> TargetPrep<'a> {
    let stage = match split {
        Split::Train => "train-targets",
        Split::Transfer => "transfer-targets",
        Split::Test => "test-targets",
    };
    TargetPrep {
        task: spec,
        arch: &keys.settings.arch,
        scale,
        seed: seed_for(keys.seed, stage, &[spec.name]),
    }
}

/// Trains the network of every task of `tasks` that is not in the run folder yet; returns one record per
/// task, in the order of `tasks.tasks`.
pub fn train_tasks<D: ShardDevice>(
    ctx: &Context<'_, D>,
    tasks: &TaskSet,
) -> Result<Vec<TaskNetworkRecord>, TrainError> {
    ctx.settings.validate()?;
    let overall = ctx
        .progress
        .bar(tasks.tasks.len() as u64, "step I: task networks");
    let mut records = Vec::new();
    for task in &tasks.tasks {
        records.push(train_task(ctx, task)?);
        overall.inc(1);
    }
    overall.finish_and_clear();
    Ok(records)
}

/// Trains `task`'s network unless it is in the run folder already (one unit of work of step I); warns
/// when a network it trains does not beat its best constant predictor.
pub fn train_task<D: ShardDevice>(
    ctx: &Context<'_, D>,
    task: &TaskDef,
) -> Result<TaskNetworkRecord, TrainError> {
    let spec = &task.spec;
    let (artifact, key) = task_artifact(&ctx.keys(), spec)?;
    if artifact.is_done() {
        let losses = TestLosses::read(&artifact)?;
        let constant: TestLosses =
            artifact.read_json(CONSTANT_LOSSES, "a constant predictor's test losses")?;
        tracing::debug!(task = spec.name, key, "task network is up to date");
        return Ok(TaskNetworkRecord {
            task: spec.name.into(),
            key,
            test_mean: losses.mean(),
            constant_mean: constant.mean(),
            reused: true,
        });
    }
    let record = train_one(ctx, task, &artifact, &key)?;
    tracing::info!(
        task = spec.name,
        key,
        test_mean = record.test_mean,
        constant_mean = record.constant_mean,
        "trained task network"
    );
    // Said once, when the network is trained; the report's table of task networks says it every time.
    if !record.beats_constant() {
        tracing::warn!(
            task = spec.name,
            test_mean = record.test_mean,
            constant_mean = record.constant_mean,
            "the `{}` network ({}) does not beat its best constant predictor: mean test loss {:.5} \
             against the constant's {:.5}. It learnt nothing about its input, and its encoder is \
             no source worth transferring from; train it longer (a larger preset or more steps), \
             or declare a loss and label whose constant optimum is not a point the network stays \
             at (see the task's doc)",
            spec.name,
            spec.loss,
            record.test_mean,
            record.constant_mean
        );
    }
    Ok(record)
}

fn train_one<D: ShardDevice>(
    ctx: &Context<'_, D>,
    task: &TaskDef,
    artifact: &Artifact,
    key: &str,
) -> Result<TaskNetworkRecord, TrainError> {
    let (spec, settings) = (&task.spec, ctx.settings);
    let arch = &settings.arch;
    let train = ctx.data.samples(spec.name, Split::Train)?;
    let test = ctx.data.samples(spec.name, Split::Test)?;
    let scale = LabelScale::measure(
        spec,
        train
            .iter()
            .map(|sample| ctx.data.load_labels(task, Split::Train, sample)),
    )?;
    let loss = LossSpec {
        loss: spec.loss,
        layout: OutputLayout::of(spec.output),
        image_size: arch.image_size,
    };
    let batches = |split, samples, prep| PixelBatches::new(ctx.data, task, split, samples, prep);
    let keys = ctx.keys();
    let train_prep = target_prep(&keys, spec, scale.as_ref(), Split::Train);
    let test_prep = target_prep(&keys, spec, scale.as_ref(), Split::Test);

    artifact.begin()?;
    let constant = fit_constant(ctx, task, train_prep)?;
    let mut network = Network::for_task(
        ctx.dev,
        arch,
        spec,
        seed_for(ctx.seed, "task", &[spec.name]),
    )?;
    if let Some(bias) = constant.head_bias(arch.tokens()) {
        network.head.set_output_bias(&bias)?;
    }
    let bar = ctx
        .progress
        .bar(settings.task.steps as u64, format!("task {}", spec.name));
    let curve = fit(
        ctx.dev,
        &mut network,
        &batches(Split::Train, train, train_prep),
        loss,
        &settings.task,
        seed_for(ctx.seed, "task-batches", &[spec.name]),
        spec.name,
        &bar,
    )?;
    bar.finish_and_clear();
    let losses = evaluate(
        ctx.dev,
        &network,
        &batches(Split::Test, test, test_prep).read_once(),
        loss,
        settings.eval_batch,
    )?;
    let test_losses = TestLosses {
        network: format!("task {}", spec.name),
        losses,
    };
    save_trained(
        artifact,
        &network,
        &test_losses,
        &curve,
        &format!("{} ({})", spec.name, spec.loss),
    )?;
    artifact.write_json(LABEL_SCALE, &scale)?;
    let test_targets = split_targets(ctx.data, task, Split::Test, test_prep)?;
    let constant = TestLosses {
        network: format!("constant {} ({})", spec.name, constant.describe()),
        losses: constant.per_image_losses(ctx.dev, &test_targets, settings.eval_batch)?,
    };
    artifact.write_json(CONSTANT_LOSSES, &constant)?;
    let record = TaskNetworkRecord {
        task: spec.name.into(),
        key: key.into(),
        test_mean: test_losses.mean(),
        constant_mean: constant.mean(),
        reused: false,
    };
    artifact.finish(&record)?;
    Ok(record)
}

/// `task`'s best constant predictor, fitted on (at most [`CONSTANT_FIT_IMAGES`] of) its training
/// targets prepared as the network's are.
fn fit_constant<D>(
    ctx: &Context<'_, D>,
    task: &TaskDef,
    train_prep: TargetPrep<'_>,
) -> Result<ConstantPredictor, TrainError> {
    let spec = &task.spec;
    let train = ctx.data.samples(spec.name, Split::Train)?.len();
    let picked = CONSTANT_FIT_IMAGES.min(train);
    // Evenly spread over the split (already in a seeded shuffle's order) when it has more.
    let images: Vec<usize> = (0..picked).map(|i| i * train / picked).collect();
    let fitted_on = split_targets_of(ctx.data, task, Split::Train, train_prep, &images)?;
    ConstantPredictor::fit(
        spec.loss,
        OutputLayout::of(spec.output),
        &ctx.settings.arch,
        &fitted_on,
    )
}

/// Loads the trained network of `spec` from the run folder.
pub(crate) fn load_task_network<D: ShardDevice>(
    ctx: &Context<'_, D>,
    spec: &TaskSpec,
) -> Result<Network<D>, TrainError> {
    let (artifact, _) = task_artifact(&ctx.keys(), spec)?;
    artifact.require_done(
        format!("the `{}` task network", spec.name),
        "run `taskonomy train` with the same run folder first",
    )?;
    let mut network = Network::for_task(ctx.dev, &ctx.settings.arch, spec, 0)?;
    params::load_safetensors(&mut network, &artifact.path("weights.safetensors"))?;
    Ok(network)
}
