//! Step II: frozen encoders, cached representations, readouts from one or more sources to every target,
//! and the `pixels` (the target's own network trained from scratch on the transfer split) and `random`
//! (a frozen random encoder) baselines.

use std::collections::BTreeMap;

use dfdx::prelude::Device;
use serde::{Deserialize, Serialize};

use super::batch::{
    split_targets, BatchSource, HostTargets, LabelScale, PixelBatches, RepBatches, ViewBatches,
};
use super::fit::ShardDevice;
use super::fit::{evaluate, fit, infer, Curve, LossSpec, Predict, Schedule};
use super::grouped::{one_at_a_time, GroupJob, Member, ReadoutTraining};
use super::step1::{label_scale, load_task_network, target_prep, test_targets};
use super::{
    images_scored, save_trained, seed_for, Context, Keys, Split, TaskKey, TaskSet, TestLosses,
    TrainError, STAGE_VERSION,
};
use crate::affinity::{from_losses, DMatrix, PowerIteration};
use crate::data::dataset::SampleRef;
use crate::data::labels::LabelSource;
use crate::model::{Arch, Encoder, Head, Network, OutputLayout, Parameters};
use crate::spec::{TaskDef, TaskSpec};
use crate::store::{f32_bytes, read_f32, Artifact, RunFolder};
use crate::transfers::{PIXELS, RANDOM};

/// One measured transfer (or baseline) into a target, as listed in the target's index.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransferRecord {
    /// The target task.
    pub target: String,
    /// The source tasks, sorted (a single pseudo-source for a baseline).
    pub sources: Vec<String>,
    /// The artifact's key.
    pub key: String,
    /// Mean per-image test loss.
    pub test_mean: f64,
    /// Seconds its training and scoring took: for a readout trained in a group, its share of the group's
    /// time (absent in runs made before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_s: Option<f64>,
}

impl TransferRecord {
    /// The sources joined with `+`: the artifact's folder and the `sources` column of the tables.
    pub fn label(&self) -> String {
        self.sources.join("+")
    }

    /// `sources → target`: the network's name in logs, errors and its test losses.
    pub fn name(&self) -> String {
        format!("{} → {}", self.label(), self.target)
    }

    /// Writes the trained `model`'s weights, its test `losses` and its `curve` into `artifact` and marks
    /// it done: returns this record with its test mean and the `seconds` its training took.
    fn store<D: Device<f32>>(
        self,
        artifact: &Artifact,
        model: &impl Parameters<D>,
        losses: Vec<f32>,
        curve: &Curve,
        seconds: f64,
    ) -> Result<TransferRecord, TrainError> {
        let name = self.name();
        let losses = TestLosses {
            network: name.clone(),
            losses,
        };
        let record = TransferRecord {
            test_mean: losses.mean(),
            train_s: Some(seconds),
            ..self
        };
        save_trained(artifact, model, &losses, curve, &name)?;
        artifact.finish(&record)?;
        tracing::info!(
            transfer = name,
            test_mean = record.test_mean,
            "trained transfer"
        );
        Ok(record)
    }
}

/// A source's cached representations of the views of the transfer and test splits the targets' samples
/// see ([`RunData::views`](super::RunData::views)).
pub(super) struct CachedReps {
    pub(super) key: String,
    /// `(transfer views × tokens) × bottleneck`.
    pub(super) transfer: Vec<f32>,
    /// `(test views × tokens) × bottleneck`.
    pub(super) test: Vec<f32>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct RepsMeta {
    transfer_views: usize,
    test_views: usize,
    tokens: usize,
    width: usize,
}

/// Everything that determines a source's representations.
#[derive(Serialize)]
struct RepsKey<'a> {
    stage: &'static str,
    version: u32,
    source: &'a str,
    /// The task network's key, or the seed of the random encoder.
    encoder: String,
    data: &'a str,
    /// The keys of the transfer and test views represented.
    views: [&'a str; 2],
    arch: &'a Arch,
}

/// The key stage of the `pixels` baseline: the target's own architecture trained from scratch (the
/// stage's name changed when it stopped being an encoder with a readout-sized head).
const PIXELS_STAGE: &str = "pixels: task network from scratch";

/// The key stage of a readout: the readouts into a target draw their batches from one seed of the
/// target, so that they can train together (the stage's name changed when they stopped drawing them
/// from a seed of their own).
const READOUT_STAGE: &str = "readout: the target's batches";

/// Everything that determines one readout (or the `pixels` baseline).
#[derive(Serialize)]
struct ReadoutKey<'a> {
    stage: &'static str,
    version: u32,
    target: TaskKey,
    /// `(source, representation key)`, sorted by source.
    sources: Vec<(&'a str, &'a str)>,
    data: &'a str,
    /// The keys of the target's train (the labels' scaling is measured there), transfer and test
    /// samples.
    samples: [&'a str; 3],
    arch: &'a Arch,
    schedule: &'a Schedule,
    seed: u64,
}

/// Everything that determines the set of transfers into a target.
#[derive(Serialize)]
struct IndexKey<'a> {
    stage: &'static str,
    version: u32,
    target: TaskKey,
    /// Representation key of every candidate source.
    sources: BTreeMap<&'a str, &'a str>,
    data: &'a str,
    /// The keys of the target's train (the labels' scaling is measured there), transfer and test
    /// samples.
    samples: [&'a str; 3],
    arch: &'a Arch,
    transfer: &'a Schedule,
    scratch: &'a Schedule,
    max_order: usize,
    top_k: usize,
    beam: usize,
    seed: u64,
}

/// The representation key of every source of `tasks` (and of `random`), from the task networks' keys:
/// computable without reading any weights.
pub(crate) fn reps_keys(
    keys: &Keys<'_>,
    tasks: &TaskSet,
) -> Result<BTreeMap<String, String>, TrainError> {
    let mut reps = BTreeMap::new();
    for &source in &tasks.sources {
        let spec = tasks
            .spec(source)
            .ok_or_else(|| TrainError::Config(format!("source `{source}` has no spec")))?;
        let (_, task_key) = super::step1::task_artifact(keys, spec)?;
        reps.insert(source.to_owned(), reps_key(keys, source, task_key)?);
    }
    let random_seed = seed_for(keys.seed, "random-encoder", &[]);
    reps.insert(
        RANDOM.to_owned(),
        reps_key(keys, RANDOM, format!("seed {random_seed}"))?,
    );
    Ok(reps)
}

fn reps_key(keys: &Keys<'_>, source: &str, encoder: String) -> Result<String, TrainError> {
    Ok(crate::store::key_of(&RepsKey {
        stage: "reps",
        version: STAGE_VERSION,
        source,
        encoder,
        data: &keys.data.fingerprint,
        views: [
            keys.data.views(Split::Transfer),
            keys.data.views(Split::Test),
        ],
        arch: &keys.settings.arch,
    })?)
}

/// The keys of `target`'s train, transfer and test samples.
fn sample_keys<'a>(keys: &Keys<'a>, target: &str) -> Result<[&'a str; 3], TrainError> {
    Ok([
        keys.data.selection(target, Split::Train)?,
        keys.data.selection(target, Split::Transfer)?,
        keys.data.selection(target, Split::Test)?,
    ])
}

/// The artifact listing every transfer into `target`, and its key.
pub(crate) fn index_artifact(
    keys: &Keys<'_>,
    target: &TaskSpec,
    reps: &BTreeMap<String, String>,
) -> Result<Artifact, TrainError> {
    let s = keys.settings;
    let key = crate::store::key_of(&IndexKey {
        stage: "transfer-index: readouts on the target's batches",
        version: STAGE_VERSION,
        target: TaskKey::of(target),
        sources: reps.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect(),
        data: &keys.data.fingerprint,
        samples: sample_keys(keys, target.name)?,
        arch: &s.arch,
        transfer: &s.transfer,
        scratch: &s.scratch,
        max_order: s.max_order,
        top_k: s.top_k,
        beam: s.beam,
        seed: keys.seed,
    })?;
    Ok(keys.run.transfer(target.name, "index", &key))
}

/// Runs step II for every target of `tasks`: caches the representations of every source (training
/// nothing that is already in the run folder), then trains and scores the transfers and baselines into
/// each target. Returns every transfer record, targets in order.
pub fn transfer<D: ShardDevice>(
    ctx: &Context<'_, D>,
    tasks: &TaskSet,
) -> Result<Vec<TransferRecord>, TrainError> {
    let mut reps = Representations::of(ctx, tasks)?;
    let mut records = Vec::new();
    let targets = ctx
        .progress
        .bar(tasks.targets.len() as u64, "step II: targets");
    for &target in &tasks.targets {
        records.extend(transfer_into(ctx, tasks, target, &mut reps)?);
        targets.inc(1);
    }
    targets.finish_and_clear();
    Ok(records)
}

/// Caches the representations of `source` (a source task of `tasks`, or `random`) unless they are in
/// the run folder already: one unit of work of step II, which every target's transfers read.
pub fn represent<D: ShardDevice>(
    ctx: &Context<'_, D>,
    tasks: &TaskSet,
    source: &str,
) -> Result<(), TrainError> {
    let keys = reps_keys(&ctx.keys(), tasks)?;
    let key = keys
        .get(source)
        .ok_or_else(|| TrainError::Config(format!("`{source}` is not a source of this run")))?;
    cached_reps(ctx, tasks, source, key)?;
    Ok(())
}

/// Every source's representations (and `random`'s), read from the run folder (or computed) the first
/// time a target needs them, then kept for the next targets.
pub struct Representations {
    keys: BTreeMap<String, String>,
    loaded: Option<BTreeMap<String, CachedReps>>,
}

impl Representations {
    /// The representations of the sources of `tasks`, none read yet.
    pub fn of<D>(ctx: &Context<'_, D>, tasks: &TaskSet) -> Result<Self, TrainError> {
        ctx.settings.validate()?;
        if tasks.targets.is_empty() || tasks.sources.is_empty() {
            return Err(TrainError::Config(
                "step II needs at least one source and one target".into(),
            ));
        }
        Ok(Representations {
            keys: reps_keys(&ctx.keys(), tasks)?,
            loaded: None,
        })
    }

    /// The representation key of every source (and of `random`).
    pub(super) fn keys(&self) -> &BTreeMap<String, String> {
        &self.keys
    }

    pub(super) fn get<D: ShardDevice>(
        &mut self,
        ctx: &Context<'_, D>,
        tasks: &TaskSet,
    ) -> Result<&BTreeMap<String, CachedReps>, TrainError> {
        if self.loaded.is_none() {
            let started = std::time::Instant::now();
            let sources: Vec<&str> = tasks
                .sources
                .iter()
                .copied()
                .chain(std::iter::once(RANDOM))
                .collect();
            let bar = ctx
                .progress
                .bar(sources.len() as u64, "step II: representations");
            let mut reps = BTreeMap::new();
            for &source in &sources {
                reps.insert(
                    source.to_owned(),
                    cached_reps(ctx, tasks, source, &self.keys[source])?,
                );
                bar.inc(1);
            }
            bar.finish_and_clear();
            tracing::info!(
                seconds = started.elapsed().as_secs_f64(),
                "representations of {} sources ready",
                sources.len()
            );
            self.loaded = Some(reps);
        }
        Ok(self.loaded.get_or_insert_with(BTreeMap::new))
    }
}

/// Trains and scores every transfer and baseline into `target` that is not in the run folder yet (one
/// unit of work of step II), reading the sources' representations from `reps` only if there is work
/// left; returns the target's transfer records.
pub fn transfer_into<D: ShardDevice>(
    ctx: &Context<'_, D>,
    tasks: &TaskSet,
    target: &str,
    reps: &mut Representations,
) -> Result<Vec<TransferRecord>, TrainError> {
    let task = tasks
        .get(target)
        .ok_or_else(|| TrainError::Config(format!("target `{target}` has no spec")))?;
    let spec = &task.spec;
    let index = index_artifact(&ctx.keys(), spec, &reps.keys)?;
    if index.is_done() {
        let listed: Vec<TransferRecord> = index.read_json("index.json", "a list of transfers")?;
        tracing::debug!(
            target = spec.name,
            transfers = listed.len(),
            "transfers are up to date"
        );
        return Ok(listed);
    }
    let listed = transfers_into(ctx, tasks, task, reps.get(ctx, tasks)?)?;
    index.begin()?;
    index.write_json("index.json", &listed)?;
    index.finish(&format!("{} transfers into {}", listed.len(), spec.name))?;
    Ok(listed)
}

/// The representations of `source` for the transfer and test views, from the run folder or computed now.
pub(super) fn cached_reps<D: ShardDevice>(
    ctx: &Context<'_, D>,
    tasks: &TaskSet,
    source: &str,
    key: &str,
) -> Result<CachedReps, TrainError> {
    let arch = &ctx.settings.arch;
    let artifact = ctx.run.reps(source, key);
    let transfer_views = ctx.data.views(Split::Transfer);
    let test_views = ctx.data.views(Split::Test);
    let per_view = arch.tokens() * arch.bottleneck;
    if artifact.is_done() {
        return Ok(CachedReps {
            key: key.to_owned(),
            transfer: read_f32(
                &artifact.path("transfer.f32"),
                transfer_views.len() * per_view,
            )?,
            test: read_f32(&artifact.path("test.f32"), test_views.len() * per_view)?,
        });
    }
    let encoder = encoder_of(ctx, tasks, source)?;
    let represent = |views| -> Result<Vec<f32>, TrainError> {
        let images = ViewBatches {
            data: ctx.data,
            views,
            arch,
        };
        infer(ctx.dev, &images, ctx.settings.eval_batch, |rows, b| {
            encoder.forward(rows, b)
        })
    };
    let cached = CachedReps {
        key: key.to_owned(),
        transfer: represent(transfer_views)?,
        test: represent(test_views)?,
    };
    artifact.begin()?;
    artifact.write("transfer.f32", &f32_bytes(&cached.transfer))?;
    artifact.write("test.f32", &f32_bytes(&cached.test))?;
    let meta = RepsMeta {
        transfer_views: transfer_views.len(),
        test_views: test_views.len(),
        tokens: arch.tokens(),
        width: arch.bottleneck,
    };
    artifact.write_json("meta.json", &meta)?;
    artifact.finish(&format!("representations of {source}"))?;
    Ok(cached)
}

/// The samples of a target in a split, and the rows of their views in the split's cached
/// representations.
pub(super) struct SplitSamples<'a> {
    pub(super) samples: &'a [SampleRef],
    pub(super) views: Vec<Vec<usize>>,
}

impl<'a> SplitSamples<'a> {
    pub(super) fn of<D>(
        ctx: &Context<'a, D>,
        target: &str,
        split: Split,
    ) -> Result<Self, TrainError> {
        let samples = ctx.data.samples(target, split)?;
        let views = ctx.data.views(split).rows_of(samples).ok_or_else(|| {
            TrainError::Config(format!(
                "a view of a `{target}` sample in the {split} split has no cached representation"
            ))
        })?;
        Ok(SplitSamples { samples, views })
    }

    /// The samples of a target in a split, each the row of its own input in representations computed
    /// for them alone ([`input_reps`]).
    pub(super) fn own_inputs<D>(
        ctx: &Context<'a, D>,
        target: &str,
        split: Split,
    ) -> Result<Self, TrainError> {
        let samples = ctx.data.samples(target, split)?;
        let views = (0..samples.len()).map(|row| vec![row]).collect();
        Ok(SplitSamples { samples, views })
    }
}

/// Whether `task`'s network sees an input derived from its image (a `from_rgb` task) rather than its
/// views.
pub(super) fn derives_its_input(task: &TaskDef) -> bool {
    matches!(task.labels, LabelSource::FromRgb { .. })
}

/// Every source's representations of `task`'s own inputs in the transfer and test splits (the noisy
/// image of denoising, say), one row per sample, keyed by the source's representation key and the
/// target. Computed when the target's transfers are trained, and not kept: only a `from_rgb` target
/// needs them, and they cost one pass of each encoder over its samples.
pub(super) fn input_reps<D: ShardDevice>(
    ctx: &Context<'_, D>,
    tasks: &TaskSet,
    task: &TaskDef,
    scale: Option<&LabelScale>,
    views_reps: &BTreeMap<String, CachedReps>,
) -> Result<BTreeMap<String, CachedReps>, TrainError> {
    let spec = &task.spec;
    let keys = ctx.keys();
    // The inputs are read (and derived) once and kept for every source's encoder, as far as the sample
    // cache holds them (at the small preset, both splits whole).
    let inputs = |split| -> Result<PixelBatches<'_>, TrainError> {
        Ok(PixelBatches::new(
            ctx.data,
            task,
            split,
            ctx.data.samples(spec.name, split)?,
            target_prep(&keys, spec, scale, split),
        ))
    };
    let (transfer_inputs, test_inputs) = (inputs(Split::Transfer)?, inputs(Split::Test)?);
    let mut reps = BTreeMap::new();
    for (source, view_reps) in views_reps {
        let encoder = encoder_of(ctx, tasks, source)?;
        let represent = |inputs: &PixelBatches<'_>| {
            infer(ctx.dev, inputs, ctx.settings.eval_batch, |rows, b| {
                encoder.forward(rows, b)
            })
        };
        reps.insert(
            source.clone(),
            CachedReps {
                key: format!("{} on the inputs of {}", view_reps.key, spec.name),
                transfer: represent(&transfer_inputs)?,
                test: represent(&test_inputs)?,
            },
        );
    }
    Ok(reps)
}

/// The frozen encoder of `source`: its task network's, or the random encoder of the run.
fn encoder_of<D: ShardDevice>(
    ctx: &Context<'_, D>,
    tasks: &TaskSet,
    source: &str,
) -> Result<Encoder<D>, TrainError> {
    if source == RANDOM {
        return Ok(Encoder::new(
            ctx.dev,
            &ctx.settings.arch,
            seed_for(ctx.seed, "random-encoder", &[]),
        )?);
    }
    let spec = tasks
        .spec(source)
        .ok_or_else(|| TrainError::Config(format!("source `{source}` has no spec")))?;
    Ok(load_task_network(ctx, spec)?.encoder)
}

/// What every network trained into one target shares.
struct TargetData<'a> {
    task: &'a TaskDef,
    transfer: SplitSamples<'a>,
    test: SplitSamples<'a>,
    scale: Option<LabelScale>,
    train_targets: HostTargets,
    test_targets: HostTargets,
    loss: LossSpec,
}

/// Trains and scores every transfer into `task` and the baselines; returns them all.
fn transfers_into<D: ShardDevice>(
    ctx: &Context<'_, D>,
    tasks: &TaskSet,
    task: &TaskDef,
    reps: &BTreeMap<String, CachedReps>,
) -> Result<Vec<TransferRecord>, TrainError> {
    let settings = ctx.settings;
    let spec = &task.spec;
    let scale: Option<LabelScale> = label_scale(&ctx.keys(), spec)?;
    let train_targets = split_targets(
        ctx.data,
        task,
        Split::Transfer,
        target_prep(&ctx.keys(), spec, scale.as_ref(), Split::Transfer),
    )?;
    let test_targets = test_targets(ctx, task, scale.as_ref())?;
    // A target whose network sees an input derived from the image (denoising sees the noisy image) is
    // transferred to from that input too, as its own network and `pixels` see it: from the sources'
    // representations of its own inputs, not of the clean views.
    let own_inputs;
    let (reps, transfer, test) = if derives_its_input(task) {
        own_inputs = input_reps(ctx, tasks, task, scale.as_ref(), reps)?;
        (
            &own_inputs,
            SplitSamples::own_inputs(ctx, spec.name, Split::Transfer)?,
            SplitSamples::own_inputs(ctx, spec.name, Split::Test)?,
        )
    } else {
        (
            reps,
            SplitSamples::of(ctx, spec.name, Split::Transfer)?,
            SplitSamples::of(ctx, spec.name, Split::Test)?,
        )
    };
    let data = TargetData {
        task,
        transfer,
        test,
        train_targets,
        test_targets,
        loss: LossSpec {
            loss: spec.loss,
            layout: OutputLayout::of(spec.output),
            image_size: settings.arch.image_size,
        },
        scale,
    };

    // First order: every source, the target itself included (the paper's `t → t` row), and `random`.
    let first: Vec<Vec<&str>> = tasks
        .sources
        .iter()
        .chain(std::iter::once(&RANDOM))
        .map(|&source| vec![source])
        .collect();
    let mut records = readouts(ctx, &data, &first, reps)?;
    records.push(scratch(ctx, &data)?);

    // Higher orders from the best first-order sources (the target itself left out: the planner never
    // uses it as a source of itself).
    let ranked = rank_sources(ctx.run, spec, &first_order_into(tasks, &records, spec.name))?;
    let top: Vec<String> = ranked.into_iter().take(settings.top_k).collect();
    let mut beam: Vec<Vec<String>> = top.iter().map(|s| vec![s.clone()]).collect();
    for order in 2..=settings.max_order.min(top.len()) {
        let candidates: Vec<Vec<String>> = if top.len() <= 5 {
            combinations(&top, order)
        } else {
            extend(&beam, &top)
        };
        let sets: Vec<Vec<&str>> = candidates
            .iter()
            .map(|sources| sources.iter().map(String::as_str).collect())
            .collect();
        let trained = readouts(ctx, &data, &sets, reps)?;
        let mut scored: Vec<(f64, Vec<String>)> = trained
            .iter()
            .zip(&candidates)
            .map(|(record, sources)| (record.test_mean, sources.clone()))
            .collect();
        records.extend(trained);
        scored.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        beam = scored
            .into_iter()
            .take(settings.beam)
            .map(|(_, s)| s)
            .collect();
    }
    Ok(records)
}

/// First-order sources of a target, best first, by their AHP affinities on the test images.
pub(super) fn rank_sources(
    run: &RunFolder,
    spec: &TaskSpec,
    first: &[&TransferRecord],
) -> Result<Vec<String>, TrainError> {
    if first.len() < 2 {
        return Ok(first.iter().map(|r| r.sources[0].clone()).collect());
    }
    let losses: Vec<TestLosses> = first
        .iter()
        .map(|r| TestLosses::read(&run.transfer(spec.name, &r.label(), &r.key)))
        .collect::<Result<_, _>>()?;
    let images = images_scored(
        spec.name,
        first
            .iter()
            .zip(&losses)
            .map(|(r, l)| (r.label(), l.losses.as_slice())),
    )?;
    let matrix = DMatrix::from_fn(first.len(), images, |i, j| f64::from(losses[i].losses[j]));
    let affinities = from_losses(&matrix, &PowerIteration::default())?;
    let mut order: Vec<usize> = (0..first.len()).collect();
    order.sort_by(|&a, &b| {
        affinities.weights[b]
            .total_cmp(&affinities.weights[a])
            .then_with(|| first[a].sources.cmp(&first[b].sources))
    });
    Ok(order
        .into_iter()
        .map(|i| first[i].sources[0].clone())
        .collect())
}

/// All `k`-subsets of `items`, in lexicographic order of positions.
pub(super) fn combinations(items: &[String], k: usize) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut chosen = Vec::new();
    fn go(
        items: &[String],
        k: usize,
        start: usize,
        chosen: &mut Vec<String>,
        out: &mut Vec<Vec<String>>,
    ) {
        if chosen.len() == k {
            let mut c = chosen.clone();
            c.sort();
            out.push(c);
            return;
        }
        for i in start..items.len() {
            chosen.push(items[i].clone());
            go(items, k, i + 1, chosen, out);
            chosen.pop();
        }
    }
    go(items, k, 0, &mut chosen, &mut out);
    out
}

/// Every set made of a beam member plus one more source of `top`, sorted and without repeats.
pub(super) fn extend(beam: &[Vec<String>], top: &[String]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    for set in beam {
        for source in top {
            if set.contains(source) {
                continue;
            }
            let mut bigger = set.clone();
            bigger.push(source.clone());
            bigger.sort();
            if !out.contains(&bigger) {
                out.push(bigger);
            }
        }
    }
    out
}

/// A readout's record (its test loss still to measure), its artifact and its sources' representations.
struct ReadoutPlan<'r> {
    record: TransferRecord,
    artifact: Artifact,
    cached: Vec<&'r CachedReps>,
}

/// The record, artifact and inputs of the readout from `sources` into the target.
fn plan_readout<'r, D>(
    ctx: &Context<'_, D>,
    data: &TargetData<'_>,
    sources: &[&str],
    reps: &'r BTreeMap<String, CachedReps>,
) -> Result<ReadoutPlan<'r>, TrainError> {
    let settings = ctx.settings;
    let mut sorted: Vec<&str> = sources.to_vec();
    sorted.sort();
    let cached: Vec<&CachedReps> = sorted
        .iter()
        .map(|s| {
            reps.get(*s)
                .ok_or_else(|| TrainError::Config(format!("no representations of `{s}`")))
        })
        .collect::<Result<_, _>>()?;
    let spec = &data.task.spec;
    let key = crate::store::key_of(&ReadoutKey {
        stage: READOUT_STAGE,
        version: STAGE_VERSION,
        target: TaskKey::of(spec),
        sources: sorted
            .iter()
            .zip(&cached)
            .map(|(s, c)| (*s, c.key.as_str()))
            .collect(),
        data: ctx.data.fingerprint(),
        samples: sample_keys(&ctx.keys(), spec.name)?,
        arch: &settings.arch,
        schedule: &settings.transfer,
        seed: ctx.seed,
    })?;
    let record = TransferRecord {
        target: spec.name.into(),
        sources: sorted.iter().map(|s| s.to_string()).collect(),
        key: key.clone(),
        test_mean: 0.0,
        train_s: None,
    };
    let artifact = ctx.run.transfer(spec.name, &record.label(), &key);
    Ok(ReadoutPlan {
        record,
        artifact,
        cached,
    })
}

/// Trains (or reuses) the readouts from each of `source_sets` into the target and scores them: those
/// not in the run folder yet train as one group, on the same batches of the target
/// ([`ShardDevice::fit_readouts`]), each into its own artifact. Returns the records in the order of
/// `source_sets`; each trained one's `train_s` is its share of the group's time.
fn readouts<D: ShardDevice>(
    ctx: &Context<'_, D>,
    data: &TargetData<'_>,
    source_sets: &[Vec<&str>],
    reps: &BTreeMap<String, CachedReps>,
) -> Result<Vec<TransferRecord>, TrainError> {
    let settings = ctx.settings;
    let arch = &settings.arch;
    let spec = &data.task.spec;
    let mut records = Vec::with_capacity(source_sets.len());
    let mut pending: Vec<(usize, ReadoutPlan<'_>)> = Vec::new();
    for sources in source_sets {
        let plan = plan_readout(ctx, data, sources, reps)?;
        match reuse(&plan.artifact, &plan.record)? {
            Some(done) => records.push(done),
            None => {
                records.push(plan.record.clone());
                pending.push((records.len() - 1, plan));
            }
        }
    }
    let Some((_, first)) = pending.first() else {
        return Ok(records);
    };
    let started = std::time::Instant::now();
    let order = first.cached.len();
    let members: Vec<Member<'_>> = pending
        .iter()
        .map(|(_, plan)| Member {
            name: plan.record.name(),
            train: RepBatches::new(
                plan.cached.iter().map(|c| c.transfer.as_slice()).collect(),
                &data.transfer.views,
                arch,
                Some(&data.train_targets),
            ),
            test: RepBatches::new(
                plan.cached.iter().map(|c| c.test.as_slice()).collect(),
                &data.test.views,
                arch,
                Some(&data.test_targets),
            ),
        })
        .collect();
    let mut heads = pending
        .iter()
        .map(|(_, plan)| {
            Head::readout(
                ctx.dev,
                arch,
                plan.cached.len() * spec.views * arch.bottleneck,
                data.loss.layout,
                seed_for(ctx.seed, "readout", &[spec.name, &plan.record.label()]),
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let job = GroupJob {
        loss: data.loss,
        patch: arch.patch,
        schedule: &settings.transfer,
        seed: seed_for(ctx.seed, "transfer-batches", &[spec.name]),
        eval_batch: settings.eval_batch,
        train_targets: &data.train_targets,
        test_targets: &data.test_targets,
    };
    for (_, plan) in &pending {
        plan.artifact.begin()?;
    }
    let bar = ctx.progress.bar(
        settings.transfer.steps as u64,
        format!(
            "{} readouts of order {order} → {}",
            pending.len(),
            spec.name
        ),
    );
    let trained = match ctx.readouts {
        ReadoutTraining::Grouped => ctx.dev.fit_readouts(&mut heads, &members, &job, &bar)?,
        ReadoutTraining::OneAtATime => one_at_a_time(ctx.dev, &mut heads, &members, &job, &bar)?,
    };
    bar.finish_and_clear();
    let share = started.elapsed().as_secs_f64() / pending.len() as f64;
    for (((at, plan), head), trained) in pending.into_iter().zip(&heads).zip(trained) {
        records[at] = plan.record.store(
            &plan.artifact,
            head,
            trained.test_losses,
            &trained.curve,
            share,
        )?;
    }
    Ok(records)
}

/// Trains (or reuses) the `pixels` baseline, the reference of Gain as the paper defines it: the target's
/// own architecture (the encoder and its declared decoder) trained from scratch on the transfer split,
/// with the scratch schedule.
fn scratch<D: ShardDevice>(
    ctx: &Context<'_, D>,
    data: &TargetData<'_>,
) -> Result<TransferRecord, TrainError> {
    let settings = ctx.settings;
    let arch = &settings.arch;
    let spec = &data.task.spec;
    let (artifact, record) = match pixels_record(ctx, spec)? {
        Pending::Done(done) => return Ok(done),
        Pending::ToTrain(artifact, record) => (artifact, record),
    };
    // The target's own inputs, as its network and the transfers into it see them (so Gain compares like
    // with like: the same images, the same targets, the same transfer data).
    let keys = ctx.keys();
    let scale = data.scale.as_ref();
    let pixels =
        |split, samples, prep| PixelBatches::new(ctx.data, data.task, split, samples, prep);
    let train_inputs = pixels(
        Split::Transfer,
        data.transfer.samples,
        target_prep(&keys, spec, scale, Split::Transfer),
    );
    let test_inputs = pixels(
        Split::Test,
        data.test.samples,
        target_prep(&keys, spec, scale, Split::Test),
    )
    .read_once();
    let mut network = Network::for_task(
        ctx.dev,
        arch,
        spec,
        seed_for(ctx.seed, PIXELS, &[spec.name]),
    )?;
    train_and_score(
        ctx,
        data,
        record,
        &artifact,
        &mut network,
        &train_inputs,
        &test_inputs,
        &settings.scratch,
    )
}

/// The artifact of `target`'s `pixels` baseline, and its key: computable without training anything.
pub(crate) fn pixels_artifact<D>(
    ctx: &Context<'_, D>,
    target: &TaskSpec,
) -> Result<(Artifact, String), TrainError> {
    let settings = ctx.settings;
    let key = crate::store::key_of(&ReadoutKey {
        stage: PIXELS_STAGE,
        version: STAGE_VERSION,
        target: TaskKey::of(target),
        sources: Vec::new(),
        data: ctx.data.fingerprint(),
        samples: sample_keys(&ctx.keys(), target.name)?,
        arch: &settings.arch,
        schedule: &settings.scratch,
        seed: ctx.seed,
    })?;
    Ok((ctx.run.transfer(target.name, PIXELS, &key), key))
}

/// Trains (or reuses) the `pixels` baseline of `target` alone, the reference of Gain: what step II trains
/// in a run whose affinities an estimator gives ([`crate::train::estimate`]), which trains no readout.
pub fn baselines_into<D: ShardDevice>(
    ctx: &Context<'_, D>,
    tasks: &TaskSet,
    target: &str,
) -> Result<TransferRecord, TrainError> {
    let task = tasks
        .get(target)
        .ok_or_else(|| TrainError::Config(format!("target `{target}` has no spec")))?;
    let spec = &task.spec;
    // A finished baseline is read back before any label is.
    if let Pending::Done(done) = pixels_record(ctx, spec)? {
        return Ok(done);
    }
    let scale = label_scale(&ctx.keys(), spec)?;
    let keys = ctx.keys();
    let data = TargetData {
        task,
        transfer: SplitSamples::own_inputs(ctx, spec.name, Split::Transfer)?,
        test: SplitSamples::own_inputs(ctx, spec.name, Split::Test)?,
        train_targets: split_targets(
            ctx.data,
            task,
            Split::Transfer,
            target_prep(&keys, spec, scale.as_ref(), Split::Transfer),
        )?,
        test_targets: test_targets(ctx, task, scale.as_ref())?,
        loss: LossSpec {
            loss: spec.loss,
            layout: OutputLayout::of(spec.output),
            image_size: ctx.settings.arch.image_size,
        },
        scale,
    };
    scratch(ctx, &data)
}

/// A transfer already in the run folder, or its artifact and record to train.
enum Pending {
    /// Its record, with its mean test loss.
    Done(TransferRecord),
    /// Still to train.
    ToTrain(Artifact, TransferRecord),
}

/// The `pixels` baseline of `target`: read back, or still to train.
fn pixels_record<D>(ctx: &Context<'_, D>, target: &TaskSpec) -> Result<Pending, TrainError> {
    let (artifact, key) = pixels_artifact(ctx, target)?;
    let record = TransferRecord {
        target: target.name.into(),
        sources: vec![PIXELS.into()],
        key,
        test_mean: 0.0,
        train_s: None,
    };
    Ok(match reuse(&artifact, &record)? {
        Some(done) => Pending::Done(done),
        None => Pending::ToTrain(artifact, record),
    })
}

/// The record of a transfer already in the run folder, with its mean test loss; `None` when it still has
/// to be trained. Checked before any input is gathered or network built.
fn reuse(
    artifact: &Artifact,
    record: &TransferRecord,
) -> Result<Option<TransferRecord>, TrainError> {
    if !artifact.is_done() {
        return Ok(None);
    }
    // The marker holds the record as it was trained, with its training time.
    let trained: Option<TransferRecord> = artifact.read_json("done", "a transfer record").ok();
    Ok(Some(TransferRecord {
        test_mean: TestLosses::read(artifact)?.mean(),
        train_s: trained.and_then(|t| t.train_s),
        ..record.clone()
    }))
}

/// The first-order transfers among `records` into `target` from the sources of `tasks` other than the
/// target itself: the candidates for higher orders and for transitive paths.
pub(super) fn first_order_into<'a>(
    tasks: &TaskSet,
    records: &'a [TransferRecord],
    target: &str,
) -> Vec<&'a TransferRecord> {
    records
        .iter()
        .filter(|r| r.target == target && r.sources.len() == 1 && r.sources[0] != target)
        .filter(|r| tasks.sources.contains(&r.sources[0].as_str()))
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn train_and_score<D: ShardDevice, M: Predict<D>>(
    ctx: &Context<'_, D>,
    data: &TargetData<'_>,
    record: TransferRecord,
    artifact: &Artifact,
    model: &mut M,
    train_inputs: &dyn BatchSource,
    test_inputs: &dyn BatchSource,
    schedule: &Schedule,
) -> Result<TransferRecord, TrainError> {
    let spec = &data.task.spec;
    let name = record.name();
    let started = std::time::Instant::now();
    artifact.begin()?;
    let bar = ctx.progress.bar(schedule.steps as u64, name.clone());
    let curve = fit(
        ctx.dev,
        model,
        train_inputs,
        data.loss,
        schedule,
        seed_for(ctx.seed, "transfer-batches", &[spec.name, &record.label()]),
        &name,
        &bar,
    )?;
    bar.finish_and_clear();
    let losses = evaluate(
        ctx.dev,
        model,
        test_inputs,
        data.loss,
        ctx.settings.eval_batch,
    )?;
    record.store(
        artifact,
        model,
        losses,
        &curve,
        started.elapsed().as_secs_f64(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn combinations_are_sorted_subsets() {
        let c = combinations(&names(&["c", "a", "b"]), 2);
        assert_eq!(
            c,
            [names(&["a", "c"]), names(&["b", "c"]), names(&["a", "b"])]
        );
        assert_eq!(
            combinations(&names(&["a", "b", "c", "d", "e"]), 3).len(),
            10
        );
    }

    #[test]
    fn beam_extension_adds_one_source_without_repeats() {
        let beam = vec![names(&["a"]), names(&["b"])];
        let grown = extend(&beam, &names(&["a", "b", "c"]));
        assert_eq!(
            grown,
            [names(&["a", "b"]), names(&["a", "c"]), names(&["b", "c"])]
        );
    }
}
