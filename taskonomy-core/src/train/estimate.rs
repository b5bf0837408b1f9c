//! Transferability estimators in place of step II's readouts ([`crate::estimate`]): every source set a
//! target's readouts would be trained from, estimated from the cached representations of the transfer
//! split and the target's labels, and written as tables in the paper's format under
//! `estimates/<estimator>/`, beside the trained tables and never over them.

use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::batch::{split_targets, HostTargets, RepBatches};
use super::fit::{evaluate_outputs, LossSpec, ShardDevice};
use super::measure::win_rate;
use super::step1::{label_scale, target_prep, task_artifact, test_targets};
use super::step2::{
    combinations, derives_its_input, extend, index_artifact, input_reps, pixels_artifact,
    CachedReps, Representations, SplitSamples, TransferRecord,
};
use super::{images_scored, Context, Split, TaskSet, TestLosses, TrainError};
use crate::affinity::{from_losses, DMatrix, DVector, PowerIteration};
use crate::estimate::compare::{agreement, quality_lost, Comparison};
use crate::estimate::hscore::hscore_from_moments;
use crate::estimate::linear::{features_by_labels, LinearFeatures, LinearReadout, Projection};
use crate::estimate::{EstimateError, Estimator, Regularisation};
use crate::eval::WinRates;
use crate::model::kernels::gemm::{matmul, Strided};
use crate::model::{ModelError, OutputLayout};
use crate::plan::PlanOptions;
use crate::spec::{LossKind, TaskDef};
use crate::store::{write_atomic, write_json};
use crate::transfers::{Transfer, Transfers, HEADER, PIXELS, RANDOM, SELF};
use crate::uncertainty::median;

/// Class probabilities a ridge readout predicts are floored here before their logarithm: a linear model
/// of one-hot labels can predict zero or less, and the cross-entropy of a zero is infinite.
const PROBABILITY_FLOOR: f64 = 1e-3;

/// What to estimate, and how.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EstimateOptions {
    /// The estimator.
    pub estimator: Estimator,
    /// How the ridge readout chooses its penalty.
    pub regularisation: Regularisation,
}

impl EstimateOptions {
    /// `estimator` with its default settings.
    pub fn of(estimator: Estimator) -> Self {
        EstimateOptions {
            estimator,
            ..EstimateOptions::default()
        }
    }
}

/// An estimator's tables for a run, and what it took.
#[derive(Clone, Debug)]
pub struct Estimates {
    /// How they were made.
    pub options: EstimateOptions,
    /// Affinities per target, in the paper's format, summing to one per target like AHP's.
    pub affinities: Transfers,
    /// The raw score of every row: LogME's log evidence per value (often negative, so not a table of
    /// affinities), the H-score, or the ridge readout's mean test loss.
    pub scores: Vec<Transfer>,
    /// Win rates against the targets' own networks (Quality): estimators that score test images only.
    pub wins_vs_task: Option<Transfers>,
    /// Win rates against `pixels` (Gain), where the run has it: estimators that score test images only.
    pub wins_vs_pixels: Option<Transfers>,
    /// Targets the estimator does not cover, and why.
    pub left_out: Vec<(String, String)>,
    /// Seconds and source sets of the first-order estimates, each target's own preparation (its label
    /// table, the features and their moments) included; not what step II's readouts need too and do not
    /// count in their time (the representations, the split's labels).
    pub first_order: (f64, usize),
    /// Seconds and source sets of all estimates.
    pub all: (f64, usize),
    /// Seconds and number of the trained first-order readouts the first-order estimates stand for, as
    /// their records tell; `None` unless every one of them recorded its time.
    pub readouts: Option<(f64, usize)>,
}

/// What `estimates/<estimator>/summary.json` records.
#[derive(Serialize, Deserialize)]
struct Summary {
    options: EstimateOptions,
    left_out: Vec<(String, String)>,
    first_order_seconds: f64,
    first_order_pairs: usize,
    seconds: f64,
    pairs: usize,
}

/// Why `estimator` cannot estimate transfers into `task`, if it cannot.
pub fn not_covered(estimator: Estimator, task: &TaskDef) -> Option<String> {
    let spec = &task.spec;
    if matches!(spec.loss, LossKind::Contrastive) {
        return Some(
            "a contrastive embedding has no labels a linear model of the features can fit".into(),
        );
    }
    if estimator == Estimator::HScore && spec.loss != LossKind::CrossEntropy {
        return Some("H-score is defined for classification targets only".into());
    }
    None
}

/// Estimates every transfer into every target of `tasks` with `options.estimator`, from the sources'
/// cached representations (computed now if step II has not cached them), and writes
/// `estimates/<estimator>/affinities.csv`, `scores.csv`, `summary.json`, and, for an estimator that
/// scores test images, `wins_vs_task.csv` and `wins_vs_pixels.csv`. The source sets are those the
/// trained readouts of the run cover when step II is done for a target; otherwise every source, then
/// the combinations of the best first-order sources by the estimator's own scores, chosen as step II
/// chooses them (top k, beam search), unless `same_sets_as` (another estimator's table) lists them.
pub fn estimate<D: ShardDevice>(
    ctx: &Context<'_, D>,
    tasks: &TaskSet,
    options: &EstimateOptions,
    same_sets_as: Option<&Transfers>,
) -> Result<Estimates, TrainError> {
    let mut estimates = estimate_each(ctx, tasks, std::slice::from_ref(options), same_sets_as)?;
    Ok(estimates.remove(0))
}

/// [`estimate`] with every estimator of `options`, in one pass over the targets: each target's labels,
/// representations of its own inputs and gathered features are prepared once for all of them.
pub fn estimate_each<D: ShardDevice>(
    ctx: &Context<'_, D>,
    tasks: &TaskSet,
    options: &[EstimateOptions],
    same_sets_as: Option<&Transfers>,
) -> Result<Vec<Estimates>, TrainError> {
    let mut reps = Representations::of(ctx, tasks)?;
    let keys = reps.keys().clone();
    let loaded = reps.get(ctx, tasks)?;
    let mut made: Vec<Made> = options.iter().map(|_| Made::default()).collect();
    // Targets that see the same views read the same features: the last gathered are kept.
    let mut last_features = None;
    let names: Vec<&str> = options.iter().map(|o| o.estimator.name()).collect();
    let bar = ctx.progress.bar(
        tasks.targets.len() as u64,
        format!("estimates: {}", names.join(", ")),
    );
    for &target in &tasks.targets {
        let task = tasks
            .get(target)
            .ok_or_else(|| TrainError::Config(format!("target `{target}` has no spec")))?;
        let trained_sets = trained_source_sets(ctx, task, &keys)?;
        let readouts = trained_sets.as_deref().and_then(first_order_readouts);
        let mut inputs = None;
        for (options, made) in options.iter().zip(&mut made) {
            if let Some(why) = not_covered(options.estimator, task) {
                made.left_out.push((target.to_owned(), why));
                continue;
            }
            made.readouts = match (made.readouts, readouts) {
                (Some((seconds, count)), Some((s, n))) => Some((seconds + s, count + n)),
                _ => None,
            };
            let given: Option<Vec<Vec<String>>> = match (&trained_sets, same_sets_as) {
                (Some(records), _) => Some(
                    records
                        .iter()
                        .filter(|r| r.sources != [PIXELS])
                        .map(|r| r.sources.clone())
                        .collect(),
                ),
                (None, Some(table)) => {
                    let sets: Vec<Vec<String>> = table
                        .rows()
                        .iter()
                        .filter(|r| r.target == target && r.sources != [SELF])
                        .map(|r| r.sources.clone())
                        .collect();
                    if sets.is_empty() {
                        made.left_out.push((
                            target.to_owned(),
                            format!("{} has no transfer into it to estimate", table.origin()),
                        ));
                        continue;
                    }
                    Some(sets)
                }
                (None, None) => None,
            };
            let inputs = match &mut inputs {
                Some(inputs) => inputs,
                None => inputs.insert(TargetInputs::prepare(ctx, tasks, task, loaded)?),
            };
            let estimated = estimate_into(
                ctx,
                tasks,
                inputs,
                given,
                options,
                &mut made.rows,
                &mut last_features,
            );
            // A target the linear models cannot describe (labels that never vary in the transfer
            // split) is left out and says why; its rows are only appended once all its estimates are
            // made.
            let timing = match estimated {
                Err(TrainError::Estimate(why)) => {
                    made.left_out.push((target.to_owned(), why.to_string()));
                    continue;
                }
                other => other?,
            };
            made.first_order.0 += timing.first_order.0;
            made.first_order.1 += timing.first_order.1;
            made.all.0 += timing.all.0;
            made.all.1 += timing.all.1;
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    options
        .iter()
        .zip(made)
        .map(|(options, made)| {
            let rows = made.rows;
            let estimates = Estimates {
                options: *options,
                affinities: Transfers::from_rows("estimated affinities", rows.affinities)?,
                scores: rows.scores,
                wins_vs_task: rows
                    .vs_task
                    .map(|r| Transfers::from_rows("estimated wins_vs_task", r))
                    .transpose()?,
                wins_vs_pixels: rows
                    .vs_pixels
                    .filter(|r| !r.is_empty())
                    .map(|r| Transfers::from_rows("estimated wins_vs_pixels", r))
                    .transpose()?,
                left_out: made.left_out,
                first_order: made.first_order,
                all: made.all,
                readouts: made.readouts,
            };
            write_estimates(ctx.run, &estimates)?;
            Ok(estimates)
        })
        .collect()
}

/// The seconds and number of a target's trained first-order readouts, as their records tell; `None`
/// unless every one recorded its time.
fn first_order_readouts(records: &[TransferRecord]) -> Option<(f64, usize)> {
    let first: Vec<&TransferRecord> = records
        .iter()
        .filter(|r| r.sources.len() == 1 && r.sources[0] != PIXELS)
        .collect();
    let seconds = first.iter().map(|r| r.train_s).sum::<Option<f64>>()?;
    Some((seconds, first.len()))
}

/// One estimator's rows and tallies while the targets are estimated.
struct Made {
    rows: Rows,
    left_out: Vec<(String, String)>,
    first_order: (f64, usize),
    all: (f64, usize),
    readouts: Option<(f64, usize)>,
}

impl Default for Made {
    fn default() -> Self {
        Made {
            rows: Rows::default(),
            left_out: Vec::new(),
            first_order: (0.0, 0),
            all: (0.0, 0),
            readouts: Some((0.0, 0)),
        }
    }
}

/// The estimates against the trained tables at the top of the run folder (`affinities.csv`,
/// `wins_vs_task.csv`, `wins_vs_pixels.csv`): per-target agreement and the Quality lost at each of
/// `budgets` by planning on the estimates with `options`; written as
/// `estimates/<estimator>/comparison.json`. `None` when the run has no trained tables.
pub fn compare_with_trained(
    run: &crate::store::RunFolder,
    estimates: &Estimates,
    options: &PlanOptions,
    budgets: &[f64],
) -> Result<Option<Comparison>, TrainError> {
    let file = |name: &str| run.file(name);
    if !["affinities.csv", "wins_vs_task.csv", "wins_vs_pixels.csv"]
        .iter()
        .all(|name| file(name).is_file())
    {
        return Ok(None);
    }
    let trained = Transfers::read(file("affinities.csv"))?;
    let wins = WinRates::new(
        Transfers::read(file("wins_vs_task.csv"))?,
        Transfers::read(file("wins_vs_pixels.csv"))?,
    );
    let targets = agreement(&trained, &estimates.affinities);
    let comparison = Comparison {
        estimator: estimates.options.estimator,
        median_rho: median(&targets.iter().filter_map(|t| t.rho).collect::<Vec<_>>()),
        targets,
        budgets: quality_lost(&trained, &estimates.affinities, &wins, options, budgets)?,
        left_out: estimates.left_out.clone(),
        first_order: estimates.first_order,
        readouts: estimates.readouts,
    };
    write_json(
        &estimates_dir(run, estimates.options.estimator).join("comparison.json"),
        &comparison,
    )?;
    Ok(Some(comparison))
}

/// The folder of an estimator's tables in a run folder.
pub fn estimates_dir(run: &crate::store::RunFolder, estimator: Estimator) -> std::path::PathBuf {
    run.root().join("estimates").join(estimator.name())
}

fn write_estimates(run: &crate::store::RunFolder, e: &Estimates) -> Result<(), TrainError> {
    let dir = estimates_dir(run, e.options.estimator);
    std::fs::create_dir_all(&dir).map_err(crate::store::io_error(&dir))?;
    let mut scores = format!("{HEADER}\n");
    for row in &e.scores {
        let (sources, order) = (row.sources_label(), row.order());
        scores.push_str(&format!("{sources},{},{order},{}\n", row.target, row.value));
    }
    write_atomic(&dir.join("scores.csv"), scores.as_bytes())?;
    let tables = [
        ("affinities.csv", Some(&e.affinities)),
        ("wins_vs_task.csv", e.wins_vs_task.as_ref()),
        ("wins_vs_pixels.csv", e.wins_vs_pixels.as_ref()),
    ];
    for (name, table) in tables {
        match table {
            Some(table) => write_atomic(&dir.join(name), table.to_csv().as_bytes())?,
            // Not this estimator's: a table of an earlier estimate would be read as this one's.
            None => match std::fs::remove_file(dir.join(name)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(crate::store::io_error(&dir.join(name))(e).into())
                }
                _ => {}
            },
        }
    }
    write_json(
        &dir.join("summary.json"),
        &Summary {
            options: e.options,
            left_out: e.left_out.clone(),
            first_order_seconds: e.first_order.0,
            first_order_pairs: e.first_order.1,
            seconds: e.all.0,
            pairs: e.all.1,
        },
    )?;
    Ok(())
}

/// The rows of the tables being built.
#[derive(Default)]
struct Rows {
    affinities: Vec<Transfer>,
    scores: Vec<Transfer>,
    vs_task: Option<Vec<Transfer>>,
    vs_pixels: Option<Vec<Transfer>>,
}

/// Seconds and source sets spent on one target.
struct Timing {
    first_order: (f64, usize),
    all: (f64, usize),
}

/// The trained transfer records of `task`, when step II is done for it.
fn trained_source_sets<D: ShardDevice>(
    ctx: &Context<'_, D>,
    task: &TaskDef,
    reps: &BTreeMap<String, String>,
) -> Result<Option<Vec<TransferRecord>>, TrainError> {
    let index = index_artifact(&ctx.keys(), &task.spec, reps)?;
    if !index.is_done() {
        return Ok(None);
    }
    Ok(Some(index.read_json("index.json", "a list of transfers")?))
}

/// One source set's estimate.
struct Scored {
    /// Higher is better: the estimator's score, or minus the mean test loss.
    score: f64,
    /// What `scores.csv` records: the score, or the mean test loss.
    raw: f64,
    /// Per-image test losses, for an estimator that scores test images.
    losses: Option<Vec<f32>>,
}

impl Scored {
    /// A score that is its own record.
    fn value(value: f64) -> Self {
        Scored {
            score: value,
            raw: value,
            losses: None,
        }
    }
}

/// What every estimator of a target reads: its labels on the transfer and test splits, and the
/// representations its readouts would see (the sources' representations of its own inputs, for a target
/// that derives its input from the image).
struct TargetInputs<'a> {
    task: &'a TaskDef,
    transfer_targets: HostTargets,
    /// The test labels, once an estimator that scores test images needs them.
    test_targets: Option<HostTargets>,
    scale: Option<crate::train::batch::LabelScale>,
    own_reps: Option<BTreeMap<String, CachedReps>>,
    views_reps: &'a BTreeMap<String, CachedReps>,
    transfer_views: Vec<Vec<usize>>,
    test_views: Vec<Vec<usize>>,
    /// The label table and moments the first estimator made, for the others.
    prepared: Option<Rc<Prepared>>,
}

/// A target's label table and the moments of its first-order sources' features with it.
struct Prepared {
    /// The first-order sources, in the order of the features' blocks.
    singles: Vec<String>,
    labels: LabelTable,
    moments: Moments,
    /// Seconds the labels, features and moments took.
    seconds: f64,
}

impl Prepared {
    /// The labels and moments of `singles` for `target`; `last_features` are the features the previous
    /// target gathered, reused when they are the same (the same sources, views and pooling).
    fn new(
        target: &Target,
        inputs: &TargetInputs<'_>,
        singles: Vec<String>,
        last_features: &mut Option<Rc<FeatureBlocks>>,
    ) -> Result<Self, TrainError> {
        // The clock starts here: the labels and the representations are what the readouts of step II
        // are trained from too, outside the time their records keep.
        let started = Instant::now();
        let labels = target.labels(&inputs.transfer_targets)?;
        let own_inputs = derives_its_input(inputs.task);
        let transfer_views = &inputs.transfer_views;
        let reusable = last_features.as_ref().filter(|f| {
            !own_inputs
                && f.pooled == target.pooled()
                && &f.views == transfer_views
                && f.sources == singles
        });
        let features = match reusable {
            Some(f) => Rc::clone(f),
            None => Rc::new(FeatureBlocks::new(
                target,
                inputs.reps(),
                &singles,
                transfer_views,
            )?),
        };
        if !own_inputs {
            *last_features = Some(Rc::clone(&features));
        }
        let moments = Moments::new(features, &labels)?;
        Ok(Prepared {
            singles,
            labels,
            moments,
            seconds: started.elapsed().as_secs_f64(),
        })
    }
}

impl<'a> TargetInputs<'a> {
    fn prepare<D: ShardDevice>(
        ctx: &Context<'_, D>,
        tasks: &TaskSet,
        task: &'a TaskDef,
        views_reps: &'a BTreeMap<String, CachedReps>,
    ) -> Result<Self, TrainError> {
        let spec = &task.spec;
        let keys = ctx.keys();
        let scale = label_scale(&keys, spec)?;
        let transfer_targets = split_targets(
            ctx.data,
            task,
            Split::Transfer,
            target_prep(&keys, spec, scale.as_ref(), Split::Transfer),
        )?;
        // As step II does: a target that derives its input from the image is estimated from the
        // sources' representations of that input.
        let (own_reps, transfer_views, test_views) = if derives_its_input(task) {
            (
                Some(input_reps(ctx, tasks, task, scale.as_ref(), views_reps)?),
                SplitSamples::own_inputs(ctx, spec.name, Split::Transfer)?.views,
                SplitSamples::own_inputs(ctx, spec.name, Split::Test)?.views,
            )
        } else {
            (
                None,
                SplitSamples::of(ctx, spec.name, Split::Transfer)?.views,
                SplitSamples::of(ctx, spec.name, Split::Test)?.views,
            )
        };
        Ok(TargetInputs {
            task,
            transfer_targets,
            test_targets: None,
            scale,
            own_reps,
            views_reps,
            transfer_views,
            test_views,
            prepared: None,
        })
    }

    /// Reads the test labels if `options`' estimator scores test images and they are not read yet.
    fn need_test<D>(
        &mut self,
        ctx: &Context<'_, D>,
        options: &EstimateOptions,
    ) -> Result<(), TrainError> {
        if options.estimator.scores_test_images() && self.test_targets.is_none() {
            self.test_targets = Some(test_targets(ctx, self.task, self.scale.as_ref())?);
        }
        Ok(())
    }

    /// The representations the target's readouts see.
    fn reps(&self) -> &BTreeMap<String, CachedReps> {
        self.own_reps.as_ref().unwrap_or(self.views_reps)
    }
}

/// Estimates every source set into the target of `inputs` (the `given` ones, or every source and the
/// combinations of the best) and appends its rows; `last_features` are the features the previous target
/// gathered, reused when this one sees the same views of the same sources.
fn estimate_into<D: ShardDevice>(
    ctx: &Context<'_, D>,
    tasks: &TaskSet,
    inputs: &mut TargetInputs<'_>,
    given: Option<Vec<Vec<String>>>,
    options: &EstimateOptions,
    rows: &mut Rows,
    last_features: &mut Option<Rc<FeatureBlocks>>,
) -> Result<Timing, TrainError> {
    inputs.need_test(ctx, options)?;
    let task = inputs.task;
    let spec = &task.spec;
    let target = Target {
        layout: OutputLayout::of(spec.output),
        loss: spec.loss,
        patch: ctx.settings.arch.patch,
        tokens: ctx.settings.arch.tokens(),
        rep_width: ctx.settings.arch.bottleneck,
    };
    // The source sets: the trained readouts' when step II is done for this target, else every source
    // and then combinations of the best, as step II would choose them from these scores.
    let first: Vec<Vec<String>> = match &given {
        Some(sets) => sets.iter().filter(|s| s.len() == 1).cloned().collect(),
        None => tasks
            .sources
            .iter()
            .copied()
            .chain(std::iter::once(RANDOM))
            .map(|s| vec![s.to_owned()])
            .collect(),
    };
    let singles: Vec<String> = first.iter().map(|s| s[0].clone()).collect();
    // Every estimator of a target reads the same label table and moments: made for the first, kept
    // for the others (each of which still counts the time they took, as if it had made them).
    let prepared = match inputs.prepared.as_ref().filter(|p| p.singles == singles) {
        Some(prepared) => Rc::clone(prepared),
        None => {
            let prepared = Rc::new(Prepared::new(&target, inputs, singles, last_features)?);
            inputs.prepared = Some(Rc::clone(&prepared));
            prepared
        }
    };
    let inputs = &*inputs;
    let (labels, moments, prepared_s) = (&prepared.labels, &prepared.moments, prepared.seconds);
    let (reps, test_views) = (inputs.reps(), &inputs.test_views);
    let test_targets = inputs
        .test_targets
        .as_ref()
        .filter(|_| options.estimator.scores_test_images());

    let score = |sources: &[String]| -> Result<(Scored, f64), TrainError> {
        let began = Instant::now();
        let (features, cross) = moments.of(sources)?;
        let scored = match (options.estimator, &test_targets) {
            (Estimator::HScore, _) => Scored::value(labels.hscore(&features, &cross)?),
            (Estimator::LogMe, _) | (Estimator::Ridge, None) => {
                let projections = labels.project_cross(&features, &cross)?;
                Scored::value(logme(&features, labels, &projections)?)
            }
            (Estimator::Ridge, Some(test_targets)) => {
                let readouts = match options.regularisation {
                    Regularisation::Evidence => {
                        let projections = labels.project_cross(&features, &cross)?;
                        ridge(&features, labels, &projections, |group, _| {
                            Ok(features.evidence(group)?.ridge_lambda())
                        })?
                    }
                    // Leave-one-out needs every sample's leverage: the features themselves.
                    Regularisation::LeaveOneOut => {
                        let samples = LinearFeatures::new(
                            &moments.rows_of(sources)?,
                            moments.features.samples,
                            features.dims(),
                        )?;
                        let projections = labels.project(&samples)?;
                        ridge(&samples, labels, &projections, |_, channel| {
                            let columns: Vec<Projection> = labels
                                .group_columns(channel)
                                .map(|c| projections[c].clone())
                                .collect();
                            let grid = samples.lambda_grid();
                            Ok(samples
                                .leave_one_out(&columns, &labels.group(channel), &grid)?
                                .0)
                        })?
                    }
                };
                let cached: Vec<&CachedReps> = sources
                    .iter()
                    .map(|s| {
                        reps.get(s).ok_or_else(|| {
                            TrainError::Config(format!("no representations of `{s}`"))
                        })
                    })
                    .collect::<Result<_, _>>()?;
                let (test_features, _) = target.features(&cached, |c| &c.test, test_views);
                let losses = target.test_losses(ctx, &readouts, &test_features, test_targets)?;
                let mean = super::mean_loss(&losses);
                Scored {
                    score: -mean,
                    raw: mean,
                    losses: Some(losses),
                }
            }
        };
        Ok((scored, began.elapsed().as_secs_f64()))
    };

    let mut sets: Vec<(Vec<String>, Scored)> = Vec::new();
    let mut first_order_s = prepared_s;
    let mut all_s = prepared_s;
    for sources in first {
        let (scored, seconds) = score(&sources)?;
        first_order_s += seconds;
        all_s += seconds;
        sets.push((sources, scored));
    }
    let first_order_pairs = sets.len();

    let higher: Vec<Vec<String>> = match &given {
        Some(sets) => sets.iter().filter(|s| s.len() > 1).cloned().collect(),
        None => Vec::new(),
    };
    for sources in higher {
        let (scored, seconds) = score(&sources)?;
        all_s += seconds;
        sets.push((sources, scored));
    }
    if given.is_none() {
        let settings = ctx.settings;
        let mut ranked: Vec<(&Vec<String>, f64)> = sets
            .iter()
            .filter(|(s, _)| s[0] != spec.name && s[0] != RANDOM)
            .map(|(s, scored)| (s, scored.score))
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let top: Vec<String> = ranked
            .iter()
            .take(settings.top_k)
            .map(|(s, _)| s[0].clone())
            .collect();
        let mut beam: Vec<Vec<String>> = top.iter().map(|s| vec![s.clone()]).collect();
        for order in 2..=settings.max_order.min(top.len()) {
            let candidates = if top.len() <= 5 {
                combinations(&top, order)
            } else {
                extend(&beam, &top)
            };
            let mut scored_sets = Vec::new();
            for sources in candidates {
                let (scored, seconds) = score(&sources)?;
                all_s += seconds;
                scored_sets.push((scored.score, sources.clone()));
                sets.push((sources, scored));
            }
            scored_sets.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
            beam = scored_sets
                .into_iter()
                .take(settings.beam)
                .map(|(_, s)| s)
                .collect();
        }
    }
    let pairs = sets.len();
    // A novel target is no source: its own network scores Quality, and enters no tournament.
    let novel = !tasks.sources.contains(&spec.name);
    append_rows(ctx, task, options.estimator, sets, novel, rows)?;
    Ok(Timing {
        first_order: (first_order_s, first_order_pairs),
        all: (all_s, pairs),
    })
}

/// Turns one target's estimates into table rows: affinities from the scores (or, for per-image losses,
/// AHP over the same tournament the trained readouts enter, `self` being the target's own network).
fn append_rows<D>(
    ctx: &Context<'_, D>,
    task: &TaskDef,
    estimator: Estimator,
    mut sets: Vec<(Vec<String>, Scored)>,
    novel: bool,
    rows: &mut Rows,
) -> Result<(), TrainError> {
    let target = task.spec.name;
    for (sources, scored) in &sets {
        rows.scores.push(Transfer::new(sources, target, scored.raw));
    }
    if !estimator.scores_test_images() {
        // `self` is estimated as the target's own encoder read out linearly: its `t → t` row.
        if let Some(own) = sets.iter().find(|(s, _)| s.len() == 1 && s[0] == target) {
            let copy = Scored {
                score: own.1.score,
                raw: own.1.raw,
                losses: None,
            };
            sets.push((vec![SELF.to_owned()], copy));
        }
        let scores: Vec<f64> = sets.iter().map(|(_, s)| s.score).collect();
        for ((sources, _), value) in sets.iter().zip(estimator.affinities(&scores)) {
            rows.affinities.push(Transfer::new(sources, target, value));
        }
        return Ok(());
    }
    let (own, _) = task_artifact(&ctx.keys(), &task.spec)?;
    own.require_done(
        format!("the `{target}` task network"),
        "run `taskonomy train` with the same run folder first",
    )?;
    let own = TestLosses::read(&own)?.losses;
    let mut measured: Vec<(Vec<String>, Vec<f32>)> = sets
        .into_iter()
        .map(|(sources, scored)| (sources, scored.losses.unwrap_or_default()))
        .collect();
    measured.push((vec![SELF.to_owned()], own.clone()));
    let images = images_scored(
        target,
        measured.iter().map(|(s, l)| (s.join("+"), l.as_slice())),
    )?;
    let ranked = if novel {
        measured.len() - 1
    } else {
        measured.len()
    };
    let matrix = DMatrix::from_fn(ranked, images, |i, j| f64::from(measured[i].1[j]));
    let weights = from_losses(&matrix, &PowerIteration::default())?.weights;
    let (pixels, _) = pixels_artifact(ctx, &task.spec)?;
    let pixels = if pixels.is_done() {
        Some(TestLosses::read(&pixels)?)
    } else {
        None
    };
    for (i, (sources, losses)) in measured.iter().enumerate() {
        if let Some(&weight) = weights.get(i) {
            rows.affinities.push(Transfer::new(sources, target, weight));
        }
        rows.vs_task
            .get_or_insert_with(Vec::new)
            .push(Transfer::new(sources, target, win_rate(losses, &own)));
        let vs_pixels = rows.vs_pixels.get_or_insert_with(Vec::new);
        let scoring_only = novel && sources.as_slice() == [SELF];
        if let Some(pixels) = pixels.as_ref().filter(|_| !scoring_only) {
            vs_pixels.push(Transfer::new(
                sources,
                target,
                win_rate(losses, &pixels.losses),
            ));
        }
    }
    Ok(())
}

/// LogME of one source set for a target: the mean over the target's label groups (a dense channel, a
/// class, an output) of the maximised evidence per value; constant labels are left out.
fn logme(
    features: &LinearFeatures,
    labels: &LabelTable,
    projections: &[Projection],
) -> Result<f64, EstimateError> {
    let mut total = 0.0;
    let mut groups = 0;
    for group in 0..labels.groups() {
        let varying: Vec<Projection> = labels
            .group_columns(group)
            .map(|c| &projections[c])
            .filter(|p| !p.is_constant())
            .cloned()
            .collect();
        if varying.is_empty() {
            continue;
        }
        total += features.evidence(&varying)?.per_value;
        groups += 1;
    }
    if groups == 0 {
        return Err(EstimateError::Shape(
            "every label of the transfer split is the same: there is nothing to estimate".into(),
        ));
    }
    Ok(total / groups as f64)
}

/// The ridge readout of every label group, with the penalty `penalty` chooses from the group's varying
/// columns and its channel.
fn ridge(
    features: &LinearFeatures,
    labels: &LabelTable,
    projections: &[Projection],
    penalty: impl Fn(&[Projection], usize) -> Result<f64, EstimateError>,
) -> Result<Vec<LinearReadout>, EstimateError> {
    (0..labels.groups())
        .map(|channel| {
            let columns: Vec<Projection> = labels
                .group_columns(channel)
                .map(|c| projections[c].clone())
                .collect();
            let varying: Vec<Projection> = columns
                .iter()
                .filter(|p| !p.is_constant())
                .cloned()
                .collect();
            // Constant labels: the readout predicts their mean whatever the penalty.
            let lambda = if varying.is_empty() {
                1.0
            } else {
                penalty(&varying, channel)?
            };
            Ok(features.ridge(&columns, lambda))
        })
        .collect()
}

/// The features of a target's first-order sources on its transfer split, side by side: every source
/// set's moments are blocks of theirs.
struct FeatureBlocks {
    /// What they are the features of: the sources, the views of the samples, pooled or not.
    sources: Vec<String>,
    views: Vec<Vec<usize>>,
    pooled: bool,
    samples: usize,
    /// Each source's first column and width.
    blocks: BTreeMap<String, (usize, usize)>,
    /// `samples × dims` features, column-major, not centred.
    features: Vec<f64>,
    /// The mean of every column.
    means: Vec<f64>,
}

impl FeatureBlocks {
    fn new(
        target: &Target,
        reps: &BTreeMap<String, CachedReps>,
        sources: &[String],
        views: &[Vec<usize>],
    ) -> Result<Self, TrainError> {
        // Every source's representation has the same width: the views of a sample, times the
        // bottleneck. Allocated once, the blocks are filled in place.
        let samples = views.len() * target.rows_per_image();
        let width = views.first().map_or(0, Vec::len) * target.rep_width;
        let mut blocks = BTreeMap::new();
        let mut features = vec![0.0; samples * width * sources.len()];
        for (k, source) in sources.iter().enumerate() {
            let cached = reps
                .get(source)
                .ok_or_else(|| TrainError::Config(format!("no representations of `{source}`")))?;
            let (rows, dims) = target.features(&[cached], |c| &c.transfer, views);
            if dims != width || rows.len() != samples * width {
                return Err(TrainError::Config(format!(
                    "the representations of `{source}` are {dims} wide for {} values; expected \
                     {width} for {samples} samples",
                    rows.len()
                )));
            }
            blocks.insert(source.clone(), (k * width, width));
            // Row-major to column-major: `width` write streams, each one element per row.
            let block = &mut features[k * width * samples..(k + 1) * width * samples];
            for (i, row) in rows.chunks_exact(width).enumerate() {
                for (d, &value) in row.iter().enumerate() {
                    block[d * samples + i] = value;
                }
            }
        }
        let means = features
            .chunks_exact(samples.max(1))
            .map(|c| c.iter().sum::<f64>() / samples as f64)
            .collect();
        Ok(FeatureBlocks {
            sources: sources.to_vec(),
            views: views.to_vec(),
            pooled: target.pooled(),
            samples,
            blocks,
            features,
            means,
        })
    }

    fn dims(&self) -> usize {
        self.means.len()
    }
}

/// A target's moments: its first-order sources' features and their cross moments with its labels, all
/// sources at once (one matrix product), from which every source set's are assembled.
struct Moments {
    features: Rc<FeatureBlocks>,
    /// The centred cross moments with the labels' columns, `dims × K`.
    cross: DMatrix<f64>,
}

impl Moments {
    fn new(features: Rc<FeatureBlocks>, labels: &LabelTable) -> Result<Self, EstimateError> {
        let cross = labels.cross(
            &features.features,
            features.samples,
            features.dims(),
            &features.means,
        )?;
        Ok(Moments { features, cross })
    }

    /// The first column and width of each of `sources`, in order.
    fn columns(&self, sources: &[String]) -> Result<Vec<(usize, usize)>, TrainError> {
        sources
            .iter()
            .map(|s| {
                self.features.blocks.get(s).copied().ok_or_else(|| {
                    TrainError::Config(format!("`{s}` is not a first-order source here"))
                })
            })
            .collect()
    }

    /// The features of `sources` (concatenated, as a readout's input) by their moments, and their
    /// centred cross moments with the labels.
    fn of(&self, sources: &[String]) -> Result<(LinearFeatures, DMatrix<f64>), TrainError> {
        let columns = self.columns(sources)?;
        let (n, all) = (self.features.samples, &self.features);
        let dims: usize = columns.iter().map(|(_, w)| w).sum();
        let block = |(start, width): (usize, usize)| {
            Strided::columns(&all.features[start * n..(start + width) * n], n, width)
        };
        let mut gram = DMatrix::zeros(dims, dims);
        let mut means = Vec::with_capacity(dims);
        let mut cross = DMatrix::zeros(dims, self.cross.ncols());
        let mut row = 0;
        for &(start_a, width_a) in &columns {
            let mut col = 0;
            for &(start_b, width_b) in &columns {
                let mut product = vec![0.0; width_a * width_b];
                matmul(
                    &mut product,
                    block((start_a, width_a)).t(),
                    block((start_b, width_b)),
                    false,
                );
                for i in 0..width_a {
                    for j in 0..width_b {
                        gram[(row + i, col + j)] = product[i * width_b + j]
                            - n as f64 * all.means[start_a + i] * all.means[start_b + j];
                    }
                }
                col += width_b;
            }
            means.extend_from_slice(&all.means[start_a..start_a + width_a]);
            cross
                .rows_mut(row, width_a)
                .copy_from(&self.cross.rows(start_a, width_a));
            row += width_a;
        }
        let features = LinearFeatures::from_moments(n, DVector::from_vec(means), gram)?;
        Ok((features, cross))
    }

    /// The features of `sources` themselves, `samples × dims` row-major.
    fn rows_of(&self, sources: &[String]) -> Result<Vec<f64>, TrainError> {
        let columns = self.columns(sources)?;
        let (n, all) = (self.features.samples, &self.features);
        let mut rows = Vec::new();
        for i in 0..n {
            for &(start, width) in &columns {
                rows.extend((start..start + width).map(|d| all.features[d * n + i]));
            }
        }
        Ok(rows)
    }
}

/// How a target's labels and a source's representations become a linear problem.
struct Target {
    layout: OutputLayout,
    loss: LossKind,
    patch: usize,
    tokens: usize,
    rep_width: usize,
}

impl Target {
    /// Whether a sample is an image (tokens averaged, as a pooled readout averages them) rather than a
    /// token.
    fn pooled(&self) -> bool {
        matches!(self.layout, OutputLayout::PerImage { .. })
    }

    /// Rows per image: its tokens, or one.
    fn rows_per_image(&self) -> usize {
        if self.pooled() {
            1
        } else {
            self.tokens
        }
    }

    /// Label values per row and channel: the pixels of a token's patch, or one.
    fn per_row(&self) -> usize {
        if self.pooled() {
            1
        } else {
            self.patch * self.patch
        }
    }

    /// The features of the samples whose views are `views`, from the sources `cached` (concatenated, as
    /// a readout's input): `(rows, dims)` row-major, and `dims`.
    fn features(
        &self,
        cached: &[&CachedReps],
        split: impl Fn(&CachedReps) -> &Vec<f32>,
        views: &[Vec<usize>],
    ) -> (Vec<f64>, usize) {
        let batches = RepBatches {
            reps: cached.iter().map(|c| split(c).as_slice()).collect(),
            views,
            tokens: self.tokens,
            rep_width: self.rep_width,
            targets: None,
        };
        let dims = batches.width();
        let all: Vec<usize> = (0..views.len()).collect();
        let tokens = batches.rows(&all);
        if !self.pooled() {
            return (tokens.iter().map(|&v| f64::from(v)).collect(), dims);
        }
        let mut pooled = vec![0.0; views.len() * dims];
        for (image, out) in pooled.chunks_exact_mut(dims).enumerate() {
            for token in 0..self.tokens {
                let row = &tokens[(image * self.tokens + token) * dims..][..dims];
                for (o, &v) in out.iter_mut().zip(row) {
                    *o += f64::from(v) / self.tokens as f64;
                }
            }
        }
        (pooled, dims)
    }

    /// The labels of a split as the estimators read them.
    fn labels(&self, targets: &HostTargets) -> Result<LabelTable, TrainError> {
        let channels = self.layout.channels();
        let (per_row, per_image) = (self.per_row(), self.rows_per_image());
        let (images, positions) = match targets {
            HostTargets::Values {
                positions, values, ..
            } => (values.len() / (positions * channels).max(1), *positions),
            HostTargets::Classes { positions, values } => {
                (values.len() / (*positions).max(1), *positions)
            }
            HostTargets::Pairs { .. } => {
                return Err(TrainError::Config(
                    "contrastive labels cannot be estimated linearly".into(),
                ))
            }
        };
        // Row `image · per_image + token`, pixel `j`: position `token · per_row + j` of the image.
        let rows = images * per_image;
        let position = |row: usize, pixel: usize| {
            (row / per_image) * positions + (row % per_image) * per_row + pixel
        };
        let columns = match targets {
            HostTargets::Values { values, .. } => {
                LabelColumns::Values(DMatrix::from_fn(rows, per_row * channels, |row, column| {
                    let (pixel, channel) = (column / channels, column % channels);
                    f64::from(values[position(row, pixel) * channels + channel])
                }))
            }
            HostTargets::Classes { values, .. } => LabelColumns::Classes(
                (0..rows)
                    .flat_map(|row| (0..per_row).map(move |pixel| (row, pixel)))
                    .map(|(row, pixel)| values[position(row, pixel)])
                    .collect(),
            ),
            HostTargets::Pairs { .. } => unreachable!("refused above"),
        };
        let (means, centred) = match &columns {
            LabelColumns::Values(y) => y
                .column_iter()
                .map(|c| {
                    let mean = c.mean();
                    (
                        mean,
                        (c.norm_squared() - rows as f64 * mean * mean).max(0.0),
                    )
                })
                .unzip(),
            LabelColumns::Classes(classes) => {
                let mut ones = vec![0.0; per_row * channels];
                for pixels in classes.chunks_exact(per_row) {
                    for (pixel, &class) in pixels.iter().enumerate() {
                        ones[pixel * channels + class] += 1.0;
                    }
                }
                // An indicator's squares are itself: ‖y − ȳ‖² = ones − ones²/n.
                ones.iter()
                    .map(|&k| (k / rows as f64, (k - k * k / rows as f64).max(0.0)))
                    .unzip()
            }
        };
        Ok(LabelTable {
            columns,
            rows,
            per_row,
            channels,
            means,
            centred,
        })
    }

    /// The per-image test losses of `readouts` (one per label group) on `features`, scored with the
    /// target's loss exactly as a trained readout's outputs are.
    fn test_losses<D: ShardDevice>(
        &self,
        ctx: &Context<'_, D>,
        readouts: &[LinearReadout],
        features: &[f64],
        targets: &HostTargets,
    ) -> Result<Vec<f32>, TrainError> {
        let dims = readouts.first().map_or(1, |r| r.weights.nrows());
        let (per_row, channels) = (self.per_row(), self.layout.channels());
        let width = per_row * channels;
        let rows = features.len() / dims;
        let mut outputs = vec![0f32; rows * width];
        let mut group_out = vec![0.0; per_row];
        for (x, out) in features
            .chunks_exact(dims)
            .zip(outputs.chunks_exact_mut(width))
        {
            for (channel, readout) in readouts.iter().enumerate() {
                readout.predict(x, &mut group_out);
                for (j, &p) in group_out.iter().enumerate() {
                    out[j * channels + channel] = self.link(p) as f32;
                }
            }
        }
        let images = rows / self.rows_per_image();
        let views: Vec<Vec<usize>> = (0..images).map(|i| vec![i]).collect();
        let source = RepBatches {
            reps: vec![&outputs],
            views: &views,
            tokens: self.rows_per_image(),
            rep_width: width,
            targets: Some(targets),
        };
        let spec = LossSpec {
            loss: self.loss,
            layout: self.layout,
            image_size: ctx.settings.arch.image_size,
        };
        evaluate_outputs(
            ctx.dev,
            &source,
            spec,
            ctx.settings.eval_batch,
            |rows, _| Ok::<_, ModelError>(rows),
        )
    }

    /// A linear model's prediction of a label as the head's output the loss reads: a class probability
    /// becomes a logit (its logarithm for a softmax, its log-odds for a sigmoid), floored away from zero;
    /// a regression value stays.
    fn link(&self, p: f64) -> f64 {
        match self.loss {
            LossKind::CrossEntropy => p.max(PROBABILITY_FLOOR).ln(),
            LossKind::BinaryCrossEntropy => {
                let p = p.clamp(PROBABILITY_FLOOR, 1.0 - PROBABILITY_FLOOR);
                (p / (1.0 - p)).ln()
            }
            _ => p,
        }
    }
}

/// A split's labels, one row per estimator sample (a token, or an image), gathered once per target. Column
/// `j·channels + c` is channel `c` of the row's pixel `j` (its class indicator, for classes), the order
/// of a head's outputs; group `c` gathers channel `c` of every pixel.
struct LabelTable {
    columns: LabelColumns,
    rows: usize,
    per_row: usize,
    channels: usize,
    /// Every column's mean.
    means: Vec<f64>,
    /// Every column's centred squared norm, `‖y − ȳ‖²`.
    centred: Vec<f64>,
}

enum LabelColumns {
    /// `rows × (per_row · channels)` values.
    Values(DMatrix<f64>),
    /// The class of every pixel, `rows × per_row`.
    Classes(Vec<usize>),
}

impl LabelTable {
    fn groups(&self) -> usize {
        self.channels
    }

    /// The columns of group `channel`, in pixel order.
    fn group_columns(&self, channel: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.per_row).map(move |pixel| pixel * self.channels + channel)
    }

    /// Channel `channel` of pixel `pixel` of row `row`.
    fn value(&self, row: usize, pixel: usize, channel: usize) -> f64 {
        match &self.columns {
            LabelColumns::Values(m) => m[(row, pixel * self.channels + channel)],
            LabelColumns::Classes(c) => {
                f64::from(u8::from(c[row * self.per_row + pixel] == channel))
            }
        }
    }

    /// The centred cross moments `F̃ᵀ(Y − 1ȳᵀ)` of the features (`samples × dims`, column-major, with
    /// their column means) and every label column: `dims × K`. One matrix product for values; one pass
    /// adding each row's features to its classes' columns for classes.
    fn cross(
        &self,
        features: &[f64],
        samples: usize,
        dims: usize,
        means: &[f64],
    ) -> Result<DMatrix<f64>, EstimateError> {
        let columns = self.per_row * self.channels;
        let mut product = vec![0.0; dims * columns];
        match &self.columns {
            LabelColumns::Values(y) => {
                let fy = features_by_labels(features, samples, y)?;
                for d in 0..dims {
                    for k in 0..columns {
                        product[d * columns + k] = fy[(d, k)];
                    }
                }
            }
            LabelColumns::Classes(classes) => {
                // Columns of the product are contiguous in its transpose: `columns × dims`.
                let mut transposed = vec![0.0; columns * dims];
                let mut row = vec![0.0; dims];
                for (i, pixels) in classes.chunks_exact(self.per_row).enumerate() {
                    for (d, value) in row.iter_mut().enumerate() {
                        *value = features[d * samples + i];
                    }
                    for (pixel, &class) in pixels.iter().enumerate() {
                        let column = pixel * self.channels + class;
                        for (sum, &value) in
                            transposed[column * dims..][..dims].iter_mut().zip(&row)
                        {
                            *sum += value;
                        }
                    }
                }
                for (column, sums) in transposed.chunks_exact(dims).enumerate() {
                    for (d, &sum) in sums.iter().enumerate() {
                        product[d * columns + column] = sum;
                    }
                }
            }
        }
        // F̃ᵀ(Y − 1ȳᵀ) = FᵀY − n x̄ȳᵀ.
        Ok(DMatrix::from_fn(dims, columns, |d, k| {
            product[d * columns + k] - samples as f64 * means[d] * self.means[k]
        }))
    }

    /// Every column projected onto features known by their moments, from the cross moments.
    fn project_cross(
        &self,
        features: &LinearFeatures,
        cross: &DMatrix<f64>,
    ) -> Result<Vec<Projection>, EstimateError> {
        features.project_cross(cross, &self.means, &self.centred)
    }

    /// H-score from the moments: the rows weigh the same (a token's pixels, an image's distribution
    /// summing to one), so cov(f) is the centred Gram matrix over `n`, and class `c`'s mean deviates
    /// from the features' mean by the sum of its columns' centred cross moments over its weight.
    fn hscore(
        &self,
        features: &LinearFeatures,
        cross: &DMatrix<f64>,
    ) -> Result<f64, EstimateError> {
        let n = features.samples() as f64;
        let classes: Vec<(f64, DVector<f64>)> = (0..self.channels)
            .map(|class| {
                let weight: f64 = self.group_columns(class).map(|c| n * self.means[c]).sum();
                let mut sum = DVector::zeros(features.dims());
                for c in self.group_columns(class) {
                    sum += cross.column(c);
                }
                (weight, sum)
            })
            .collect();
        hscore_from_moments(&(features.centred_gram() / n), &classes)
    }

    /// Every column projected onto `features`.
    fn project(&self, features: &LinearFeatures) -> Result<Vec<Projection>, EstimateError> {
        match &self.columns {
            LabelColumns::Values(m) => features.project_columns(m),
            LabelColumns::Classes(c) => features.project_classes(c, self.per_row, self.channels),
        }
    }

    /// Group `channel` as a `rows × per_row` matrix, row-major.
    fn group(&self, channel: usize) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.rows * self.per_row);
        for row in 0..self.rows {
            for pixel in 0..self.per_row {
                out.push(self.value(row, pixel, channel));
            }
        }
        out
    }
}
