//! Transitive transfer: does `s → i → t` beat the direct `s → t`?
//!
//! The paper asked whether a source reaches a target better through an intermediate task, and found that
//! it does not. Here, for every first-order pair `(s, t)` of step II:
//!
//! 1. the intermediate `i` is `t`'s best first-order source other than `s` (by the AHP affinities of
//!    `t`'s first-order transfers), so the detour goes through the representation that serves `t` best;
//! 2. a *mapping* `s → i`, a readout whose output is `i`'s frozen representation (L2, trained on the
//!    transfer split like every readout), predicts `i`'s representation of each test view from `s`'s;
//! 3. the first-order readout `i → t` trained in step II reads the predicted representation, and its
//!    per-image test losses are compared with the direct readout `s → t`'s on the same images.
//!
//! A pair's score is the fraction of test images on which the detour wins (ties half). The intermediate is
//! chosen on the same test images, which favours the detour: a verdict that it does not help is
//! conservative. The mappings and their predictions are artifacts of the run folder (a mapping serves
//! every target that shares its intermediate); scoring a path is inference only, so it is recomputed each
//! time.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::batch::{HostTargets, RepBatches};
use super::fit::ShardDevice;
use super::fit::{evaluate, fit, infer, LossSpec, Schedule};
use super::measure::win_rate;
use super::step1::{label_scale, test_targets};
use super::step2::{
    cached_reps, first_order_into, rank_sources, reps_keys, CachedReps, SplitSamples,
    TransferRecord,
};
use super::{
    mean_loss, save_trained, seed_for, Context, Split, TaskSet, TestLosses, TrainError,
    STAGE_VERSION,
};
use crate::model::{params, Arch, Head, OutputLayout};
use crate::spec::{LossKind, TaskSpec};
use crate::store::{f32_bytes, read_f32};

/// One transitive path and how it fared against the direct transfer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransitivePath {
    /// The source task `s`.
    pub source: String,
    /// The intermediate task `i`.
    pub intermediate: String,
    /// The target task `t`.
    pub target: String,
    /// Mean test loss of the direct readout `s → t`.
    pub direct_loss: f64,
    /// Mean test loss of `s → i → t`.
    pub transitive_loss: f64,
    /// Fraction of test images on which `s → i → t` has the lower loss, ties counting half.
    pub win_rate: f64,
}

/// Every measured transitive path of a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Transitive {
    /// The paths, by target then source.
    pub paths: Vec<TransitivePath>,
}

impl Transitive {
    /// The mean win rate of the detours over the direct transfers (0.5 when nothing was measured).
    pub fn mean_win_rate(&self) -> f64 {
        if self.paths.is_empty() {
            return 0.5;
        }
        self.paths.iter().map(|p| p.win_rate).sum::<f64>() / self.paths.len() as f64
    }

    /// How many paths beat their direct transfer on more than half of the test images.
    pub fn paths_won(&self) -> usize {
        self.paths.iter().filter(|p| p.win_rate > 0.5).count()
    }

    /// Whether going through an intermediate helps here: the detour wins on most pairs and on average.
    pub fn helps(&self) -> bool {
        !self.paths.is_empty()
            && 2 * self.paths_won() > self.paths.len()
            && self.mean_win_rate() > 0.5
    }

    /// One sentence for a person: how often the detour won, and the verdict.
    pub fn verdict(&self) -> String {
        format!(
            "s → i → t beat the direct s → t on {} of {} first-order pairs (mean win rate {:.3}): \
             transitive transfer {} here.",
            self.paths_won(),
            self.paths.len(),
            self.mean_win_rate(),
            if self.helps() {
                "helps"
            } else {
                "does not help"
            }
        )
    }

    /// The paths as CSV: `source,intermediate,target,direct_loss,transitive_loss,win_rate`.
    pub fn to_csv(&self) -> String {
        let mut csv =
            String::from("source,intermediate,target,direct_loss,transitive_loss,win_rate\n");
        for p in &self.paths {
            csv.push_str(&format!(
                "{},{},{},{:.6},{:.6},{:.6}\n",
                p.source, p.intermediate, p.target, p.direct_loss, p.transitive_loss, p.win_rate
            ));
        }
        csv
    }
}

/// Everything that determines a mapping from one source's representation to another's.
#[derive(Serialize)]
struct MappingKey<'a> {
    stage: &'static str,
    version: u32,
    /// `(task, representation key)` of the source.
    source: (&'a str, &'a str),
    /// `(task, representation key)` of the intermediate.
    intermediate: (&'a str, &'a str),
    arch: &'a Arch,
    schedule: &'a Schedule,
    seed: u64,
}

/// The intermediate of the pair `(source, target)`: the best-ranked source of `target` that is neither.
fn intermediate_for<'a>(ranked: &'a [String], source: &str, target: &str) -> Option<&'a str> {
    ranked
        .iter()
        .map(String::as_str)
        .find(|&i| i != source && i != target)
}

/// Measures `s → i → t` against `s → t` for every first-order transfer among `records` (step II's, which
/// must be complete), trains the mappings that are not in the run folder yet, and writes
/// `transitive.csv` at the top of the run folder.
pub fn transitive<D: ShardDevice>(
    ctx: &Context<'_, D>,
    tasks: &TaskSet,
    records: &[TransferRecord],
) -> Result<Transitive, TrainError> {
    let keys = reps_keys(&ctx.keys(), tasks)?;
    let arch = &ctx.settings.arch;
    let mut reps: BTreeMap<String, CachedReps> = BTreeMap::new();
    let mut paths = Vec::new();

    let pairs: usize = tasks
        .targets
        .iter()
        .map(|t| first_order_into(tasks, records, t).len())
        .sum();
    let bar = ctx.progress.bar(pairs as u64, "transitive transfers");
    for &target in &tasks.targets {
        let task = tasks
            .get(target)
            .ok_or_else(|| TrainError::Config(format!("target `{target}` has no spec")))?;
        let spec = &task.spec;
        let first = first_order_into(tasks, records, target);
        if first.len() < 2 {
            bar.inc(first.len() as u64);
            continue;
        }
        let ranked = rank_sources(ctx.run, spec, &first)?;
        let test = SplitSamples::of(ctx, target, Split::Test)?;
        let scale = label_scale(&ctx.keys(), spec)?;
        let targets = test_targets(ctx, task, scale.as_ref())?;
        let loss = LossSpec {
            loss: spec.loss,
            layout: OutputLayout::of(spec.output),
            image_size: arch.image_size,
        };
        // The step-II readouts `i → t` of this target's intermediates.
        let mut readouts: BTreeMap<&str, Head<D>> = BTreeMap::new();
        for direct in &first {
            let source = direct.sources[0].as_str();
            let Some(intermediate) = intermediate_for(&ranked, source, target) else {
                bar.inc(1);
                continue;
            };
            for task in [source, intermediate] {
                if !reps.contains_key(task) {
                    let cached = cached_reps(ctx, tasks, task, &keys[task])?;
                    reps.insert(task.to_owned(), cached);
                }
            }
            let predicted = map_representations(
                ctx,
                (source, &reps[source]),
                (intermediate, &reps[intermediate]),
            )?;
            if !readouts.contains_key(intermediate) {
                let readout = first_order_readout(ctx, spec, records, intermediate)?;
                readouts.insert(intermediate, readout);
            }
            let detour = evaluate(
                ctx.dev,
                &readouts[intermediate],
                &RepBatches::new(vec![&predicted], &test.views, arch, Some(&targets)),
                loss,
                ctx.settings.eval_batch,
            )?;
            let straight =
                TestLosses::read(&ctx.run.transfer(target, &direct.label(), &direct.key))?;
            paths.push(TransitivePath {
                source: source.to_owned(),
                intermediate: intermediate.to_owned(),
                target: target.to_owned(),
                direct_loss: straight.mean(),
                transitive_loss: mean_loss(&detour),
                win_rate: win_rate(&detour, &straight.losses),
            });
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    let result = Transitive { paths };
    crate::store::write_atomic(&ctx.run.file("transitive.csv"), result.to_csv().as_bytes())?;
    Ok(result)
}

/// The intermediates `source`'s representation is mapped to: for every target `source` transfers to
/// (first order), that target's best other source. Needs step II's records of every target.
fn intermediates_of<D>(
    ctx: &Context<'_, D>,
    tasks: &TaskSet,
    records: &[TransferRecord],
    source: &str,
) -> Result<std::collections::BTreeSet<String>, TrainError> {
    let mut intermediates = std::collections::BTreeSet::new();
    for &target in &tasks.targets {
        let first = first_order_into(tasks, records, target);
        if first.len() < 2 || !first.iter().any(|r| r.sources == [source]) {
            continue;
        }
        let spec = tasks
            .spec(target)
            .ok_or_else(|| TrainError::Config(format!("target `{target}` has no spec")))?;
        let ranked = rank_sources(ctx.run, spec, &first)?;
        if let Some(intermediate) = intermediate_for(&ranked, source, target) {
            intermediates.insert(intermediate.to_owned());
        }
    }
    Ok(intermediates)
}

/// Trains every mapping from `source`'s representation that [`transitive`] will read, unless it is in
/// the run folder already: one unit of work of transitive transfer, once step II is complete (its
/// `records`).
pub fn map_from<D: ShardDevice>(
    ctx: &Context<'_, D>,
    tasks: &TaskSet,
    records: &[TransferRecord],
    source: &str,
) -> Result<(), TrainError> {
    let keys = reps_keys(&ctx.keys(), tasks)?;
    let intermediates = intermediates_of(ctx, tasks, records, source)?;
    if intermediates.is_empty() {
        return Ok(());
    }
    let from = cached_reps(ctx, tasks, source, &keys[source])?;
    for intermediate in &intermediates {
        let to = cached_reps(ctx, tasks, intermediate, &keys[intermediate.as_str()])?;
        map_representations(ctx, (source, &from), (intermediate, &to))?;
    }
    Ok(())
}

/// The trained first-order readout `source → target` of step II.
fn first_order_readout<D: ShardDevice>(
    ctx: &Context<'_, D>,
    spec: &TaskSpec,
    records: &[TransferRecord],
    source: &str,
) -> Result<Head<D>, TrainError> {
    let record = records
        .iter()
        .find(|r| r.target == spec.name && r.sources == [source])
        .ok_or_else(|| {
            TrainError::Config(format!(
                "no first-order transfer {source} → {} among step II's records",
                spec.name
            ))
        })?;
    let arch = &ctx.settings.arch;
    let layout = OutputLayout::of(spec.output);
    let mut readout = Head::readout(ctx.dev, arch, spec.views * arch.bottleneck, layout, 0)?;
    let weights = ctx
        .run
        .transfer(spec.name, &record.label(), &record.key)
        .path("weights.safetensors");
    params::load_safetensors(&mut readout, &weights)?;
    Ok(readout)
}

/// `intermediate`'s representation of every test view, predicted from `source`'s by a mapping trained on
/// the transfer views (or read from the run folder).
fn map_representations<D: ShardDevice>(
    ctx: &Context<'_, D>,
    (source_name, source): (&str, &CachedReps),
    (intermediate_name, intermediate): (&str, &CachedReps),
) -> Result<Vec<f32>, TrainError> {
    let settings = ctx.settings;
    let arch = &settings.arch;
    let key = crate::store::key_of(&MappingKey {
        stage: "mapping",
        version: STAGE_VERSION,
        source: (source_name, &source.key),
        intermediate: (intermediate_name, &intermediate.key),
        arch,
        schedule: &settings.transfer,
        seed: ctx.seed,
    })?;
    let artifact = ctx.run.mapping(source_name, intermediate_name, &key);
    if artifact.is_done() {
        return Ok(read_f32(&artifact.path("test.f32"), source.test.len())?);
    }
    let per_view = arch.tokens() * arch.bottleneck;
    let single = |values: &[f32]| -> Vec<Vec<usize>> {
        (0..values.len() / per_view).map(|v| vec![v]).collect()
    };
    let (train_views, test_views) = (single(&source.transfer), single(&source.test));
    let layout = OutputLayout::PerToken {
        tokens: arch.tokens(),
        channels: arch.bottleneck,
    };
    let targets = HostTargets::Values {
        positions: arch.tokens(),
        channels: arch.bottleneck,
        values: intermediate.transfer.clone(),
    };
    let name = format!("{source_name} → representation of {intermediate_name}");
    let seed = |stage| seed_for(ctx.seed, stage, &[source_name, intermediate_name]);
    let mut head = Head::readout(ctx.dev, arch, arch.bottleneck, layout, seed("mapping"))?;
    artifact.begin()?;
    let bar = ctx
        .progress
        .bar(settings.transfer.steps as u64, name.clone());
    let loss = LossSpec {
        loss: LossKind::L2,
        layout,
        image_size: arch.image_size,
    };
    let curve = fit(
        ctx.dev,
        &mut head,
        &RepBatches::new(vec![&source.transfer], &train_views, arch, Some(&targets)),
        loss,
        &settings.transfer,
        seed("mapping-batches"),
        &name,
        &bar,
    )?;
    bar.finish_and_clear();
    let predicted = infer(
        ctx.dev,
        &RepBatches::new(vec![&source.test], &test_views, arch, None),
        settings.eval_batch,
        |rows, b| head.forward(rows, b),
    )?;
    let test_targets = HostTargets::Values {
        positions: arch.tokens(),
        channels: arch.bottleneck,
        values: intermediate.test.clone(),
    };
    let losses = TestLosses {
        network: name.clone(),
        losses: evaluate(
            ctx.dev,
            &head,
            &RepBatches::new(vec![&source.test], &test_views, arch, Some(&test_targets)),
            loss,
            settings.eval_batch,
        )?,
    };
    save_trained(&artifact, &head, &losses, &curve, &name)?;
    artifact.write("test.f32", &f32_bytes(&predicted))?;
    artifact.finish(&name)?;
    Ok(predicted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(source: &str, target: &str, win_rate: f64) -> TransitivePath {
        TransitivePath {
            source: source.into(),
            intermediate: "depth".into(),
            target: target.into(),
            direct_loss: 1.0,
            transitive_loss: 1.0,
            win_rate,
        }
    }

    #[test]
    fn the_intermediate_is_the_best_other_source() {
        let ranked: Vec<String> = ["depth", "normals", "edges"].map(String::from).to_vec();
        assert_eq!(
            intermediate_for(&ranked, "edges", "reshading"),
            Some("depth")
        );
        assert_eq!(
            intermediate_for(&ranked, "depth", "reshading"),
            Some("normals")
        );
        assert_eq!(intermediate_for(&ranked[..1], "depth", "reshading"), None);
    }

    #[test]
    fn helps_only_when_the_detour_wins_on_most_pairs_and_on_average() {
        let losing = Transitive {
            paths: vec![
                path("a", "t", 0.2),
                path("b", "t", 0.6),
                path("c", "t", 0.4),
            ],
        };
        assert_eq!(losing.paths_won(), 1);
        assert!(!losing.helps());
        assert!(losing.verdict().contains("1 of 3") && losing.verdict().contains("does not help"));
        let winning = Transitive {
            paths: vec![
                path("a", "t", 0.7),
                path("b", "u", 0.6),
                path("c", "t", 0.45),
            ],
        };
        assert!(winning.helps());
        assert!(!Transitive::default().helps());
    }

    #[test]
    fn csv_has_one_row_per_path() {
        let t = Transitive {
            paths: vec![path("a", "t", 0.25)],
        };
        assert_eq!(
            t.to_csv(),
            "source,intermediate,target,direct_loss,transitive_loss,win_rate\n\
             a,depth,t,1.000000,1.000000,0.250000\n"
        );
    }
}
