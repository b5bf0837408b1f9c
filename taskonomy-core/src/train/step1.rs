//! Step I: a network per task, trained on the training split, scored image by image on the test split.

use serde::{Deserialize, Serialize};

use super::batch::{load_samples, HostTargets, LabelScale, PixelInputs};
use super::fit::{evaluate, fit, LossSpec, Schedule};
use super::{
    save_trained, seed_for, Context, Split, TaskKey, TaskSet, TestLosses, TrainError, STAGE_VERSION,
};
use crate::model::{params, Arch, Kernels, Network, OutputLayout};
use crate::spec::TaskSpec;
use crate::store::Artifact;

/// Everything that determines a task network; its hash is the artifact's key.
#[derive(Serialize)]
struct TaskNetworkKey<'a> {
    stage: &'static str,
    version: u32,
    task: TaskKey,
    data: String,
    arch: &'a Arch,
    schedule: &'a Schedule,
    train_samples: usize,
    seed: u64,
}

/// A trained task network in the run folder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskNetworkRecord {
    /// The task.
    pub task: String,
    /// The artifact's key.
    pub key: String,
    /// Mean per-image test loss.
    pub test_mean: f64,
    /// Whether the network was already there (nothing was trained).
    pub reused: bool,
}

/// The artifact of `spec`'s task network under the context's settings, and its key.
pub fn task_artifact<D>(
    ctx: &Context<'_, D>,
    spec: &TaskSpec,
) -> Result<(Artifact, String), TrainError> {
    let key = crate::store::key_of(&TaskNetworkKey {
        stage: "task",
        version: STAGE_VERSION,
        task: TaskKey::of(spec),
        data: ctx.data.fingerprint(),
        arch: &ctx.settings.arch,
        schedule: &ctx.settings.task,
        train_samples: ctx.settings.samples.train,
        seed: ctx.seed,
    })?;
    Ok((ctx.run.task(spec.name, &key), key))
}

/// The label scaling of `spec` (measured on its training split), shared by every network scored on it.
pub(crate) fn label_scale<D>(
    ctx: &Context<'_, D>,
    spec: &TaskSpec,
) -> Result<Option<LabelScale>, TrainError> {
    let train = load_samples(ctx.data, spec, Split::Train)?;
    Ok(LabelScale::measure(spec, &train.labels))
}

/// The test targets of `spec`: identical for every network scored on them (same scaling, same sampled
/// pixel pairs), so that their per-image losses can be compared.
pub(crate) fn test_targets<D>(
    ctx: &Context<'_, D>,
    spec: &TaskSpec,
    labels: &super::Labels,
    scale: Option<&LabelScale>,
) -> Result<HostTargets, TrainError> {
    Ok(HostTargets::new(
        spec,
        labels,
        &ctx.settings.arch,
        scale,
        seed_for(ctx.seed, "test-targets", &[spec.name]),
    )?)
}

/// Trains the network of every task of `tasks` that is not in the run folder yet; returns one record per
/// task, in the order of `tasks.specs`.
pub fn train_tasks<D: Kernels>(
    ctx: &Context<'_, D>,
    tasks: &TaskSet,
) -> Result<Vec<TaskNetworkRecord>, TrainError> {
    ctx.settings.validate()?;
    let overall = ctx
        .progress
        .bar(tasks.specs.len() as u64, "step I: task networks");
    let mut records = Vec::new();
    for spec in &tasks.specs {
        let (artifact, key) = task_artifact(ctx, spec)?;
        if artifact.is_done() {
            let losses = TestLosses::read(&artifact)?;
            tracing::info!(task = spec.name, key, "task network is up to date");
            records.push(TaskNetworkRecord {
                task: spec.name.into(),
                key,
                test_mean: losses.mean(),
                reused: true,
            });
            overall.inc(1);
            continue;
        }
        let record = train_one(ctx, spec, &artifact, &key)?;
        tracing::info!(
            task = spec.name,
            key,
            test_mean = record.test_mean,
            "trained task network"
        );
        records.push(record);
        overall.inc(1);
    }
    overall.finish_and_clear();
    Ok(records)
}

fn train_one<D: Kernels>(
    ctx: &Context<'_, D>,
    spec: &TaskSpec,
    artifact: &Artifact,
    key: &str,
) -> Result<TaskNetworkRecord, TrainError> {
    let settings = ctx.settings;
    let arch = &settings.arch;
    let train = load_samples(ctx.data, spec, Split::Train)?;
    let test = load_samples(ctx.data, spec, Split::Test)?;
    let scale = LabelScale::measure(spec, &train.labels);
    let layout = OutputLayout::of(spec.output);
    let loss = LossSpec {
        loss: spec.loss,
        layout,
        image_size: arch.image_size,
    };
    let train_targets = HostTargets::new(
        spec,
        &train.labels,
        arch,
        scale.as_ref(),
        seed_for(ctx.seed, "train-targets", &[spec.name]),
    )?;
    let test_targets = test_targets(ctx, spec, &test.labels, scale.as_ref())?;
    let train_inputs = PixelInputs::new(&train.inputs, arch, spec.views);
    let test_inputs = PixelInputs::new(&test.inputs, arch, spec.views);

    artifact.begin()?;
    let mut network = Network::for_task(
        ctx.dev,
        arch,
        spec,
        seed_for(ctx.seed, "task", &[spec.name]),
    )?;
    let bar = ctx
        .progress
        .bar(settings.task.steps as u64, format!("task {}", spec.name));
    let curve = fit(
        ctx.dev,
        &mut network,
        &train_inputs,
        &train_targets,
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
        &test_inputs,
        &test_targets,
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
    let record = TaskNetworkRecord {
        task: spec.name.into(),
        key: key.into(),
        test_mean: test_losses.mean(),
        reused: false,
    };
    artifact.finish(&record)?;
    Ok(record)
}

/// Loads the trained network of `spec` from the run folder.
pub(crate) fn load_task_network<D: Kernels>(
    ctx: &Context<'_, D>,
    spec: &TaskSpec,
) -> Result<Network<D>, TrainError> {
    let (artifact, _) = task_artifact(ctx, spec)?;
    artifact.require_done(
        format!("the `{}` task network", spec.name),
        "run `taskonomy train` with the same run folder first",
    )?;
    let mut network = Network::for_task(ctx.dev, &ctx.settings.arch, spec, 0)?;
    params::load_safetensors(&mut network, &artifact.path("weights.safetensors"))?;
    Ok(network)
}
