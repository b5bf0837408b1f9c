//! `taskonomy run`: the whole method, one stage after another, each resumable.
//!
//! 1. **data**: render the synthetic scenes (or use a Taskonomy-layout folder given by the user);
//! 2. **step I**: train every task's network ([`crate::train::train_tasks`]);
//! 3. **step II**: train the transfers, first and higher order, and the baselines ([`crate::train::transfer`]);
//!    with `transitive`, also measure `s → i → t` against `s → t` ([`crate::train::transitive`]);
//! 4. **step III**: affinities and win rates ([`crate::train::measure`]);
//! 5. **step IV**: plan a taxonomy for every budget ([`crate::plan`]);
//! 6. **evaluation**: Gain and Quality of each taxonomy and of the baselines ([`crate::eval`]);
//! 7. **report** ([`crate::report`]).
//!
//! Every stage writes into the run folder and skips what is already there, so an interrupted run started
//! again loses no finished work, and a finished run started again only redraws the report. Steps I and
//! II (and the mappings of transitive transfer) are units of work ([`crate::work`]): this process trains
//! them as one worker, beside any others on the same folder ([`prepare`], [`work_in`]).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use crate::estimate::compare::Comparison;
use crate::estimate::Estimator;
use crate::eval::{
    all_for_one, evaluate, general_sources_baseline, random_sources_baseline, EvalError,
    NovelResult, WinRates,
};
use crate::model::DeviceKind;
use crate::plan::{OwnSupervision, PlanError, PlanOptions, Problem};
use crate::report::{write_report, BudgetResult, ReportError, ReportInput, RunFacts};
use crate::stability::{RunFindings, Stability, StabilityError};
use crate::store::{io_error, write_json, RunFolder, StoreError};
use crate::train::fit::ShardDevice;
use crate::train::{
    baselines_into, compare_with_trained, estimate, estimate_each, measure, train_tasks, transfer,
    transitive, Context, DataReport, DataSource, EstimateOptions, Estimates, MeasureOptions,
    Preset, Progress, RunData, RunManifest, Settings, TaskSet, TrainError, TransferRecord,
    Transitive,
};
use crate::transfers::{is_pseudo_source, Transfer, Transfers, TransfersError};
use crate::uncertainty::Bootstrap;
use crate::work::{work, StepSeconds, WorkError, WorkFolder, WorkPlan, WorkerOptions};

/// Random source sets drawn for the random-sources baseline of each budget: the null distribution of
/// the significance test, so enough draws that a p-value of 0.01 can show.
const RANDOM_DRAWS: usize = 200;

/// What `taskonomy run` does.
///
/// The method on a dictionary of your own, from code, returns the taxonomies:
///
/// ```no_run
/// use taskonomy_core::model::device;
/// use taskonomy_core::pipeline::{run, RunConfig, RunError};
/// use taskonomy_core::spec::TaskSet;
/// use taskonomy_core::train::{Preset, Progress};
///
/// /// The taxonomies of `tasks` (a dictionary's: `TaskSet::of::<MyStudy>()`) at the `tiny` preset.
/// fn print_taxonomies(tasks: TaskSet) -> Result<(), RunError> {
///     let config = RunConfig::new(tasks, Preset::Tiny, "runs/my_study");
///     let summary = run(&device::cpu(), &config, Progress::hidden(), &|_| {})?;
///     for result in &summary.budgets {
///         println!("budget {}: {:?}", result.plan.budget, result.plan.sources);
///     }
///     Ok(())
/// }
/// ```
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// The preset the settings came from.
    pub preset: Preset,
    /// Sizes and schedules (the preset's, possibly adjusted).
    pub settings: Settings,
    /// The tasks: a dictionary's, possibly restricted.
    pub tasks: TaskSet,
    /// The supervision budgets to plan for, in increasing order.
    pub budgets: Vec<f64>,
    /// The highest transfer order the planner may use (at most the trained order).
    pub max_order: usize,
    /// Novel tasks (the paper's §4.2): they exist for the method only on the transfer split. Their
    /// representation is no source anywhere; each is solved by its best transfer from all the known
    /// tasks ("all for one"), and planned for as a target only. A network of theirs is trained on the
    /// training split for one purpose: to score Quality.
    pub novel: Vec<String>,
    /// How a target solved by its own supervision scores in the planner: by default its `self` row
    /// (the value of its own network in the same AHP tournament as the transfers).
    pub own_supervision: OwnSupervision,
    /// How the intervals of the affinities and win rates are bootstrapped (its seed is the run's).
    pub bootstrap: Bootstrap,
    /// The run seed.
    pub seed: u64,
    /// The run folder.
    pub out: PathBuf,
    /// A Taskonomy-layout dataset to use instead of rendering the synthetic scenes.
    pub dataset: Option<PathBuf>,
    /// The device the networks run on.
    pub device: DeviceKind,
    /// Whether to measure transitive transfer (`s → i → t` against `s → t`) for the first-order pairs.
    pub transitive: bool,
    /// How this process claims its units of work, and waits for those other processes on the same
    /// run folder train ([`crate::work`]).
    pub worker: WorkerOptions,
    /// The transferability estimators computed beside the trained transfers once step II is done, and
    /// compared with them in the report ([`crate::estimate`]): seconds, against minutes of readouts.
    pub estimators: Vec<Estimator>,
    /// Plan on this estimator's affinities instead of trained transfers: step II trains no readout, only
    /// each target's `pixels` baseline (for Gain), and the taxonomies are scored with closed-form ridge
    /// readouts.
    pub estimator: Option<Estimator>,
}

impl RunConfig {
    /// The whole method on `tasks` with `preset`'s settings, in the run folder `out`, on the synthetic
    /// scenes and the CPU, as `taskonomy run` does by default: budgets 1 to 8 (or the number of sources),
    /// transfers up to the preset's order, seed 1, no novel tasks, no transitive transfer.
    pub fn new(tasks: TaskSet, preset: Preset, out: impl Into<PathBuf>) -> Self {
        let settings = preset.settings();
        let sources = tasks.sources.len().clamp(1, 8);
        RunConfig {
            preset,
            max_order: settings.max_order,
            settings,
            budgets: (1..=sources).map(|b| b as f64).collect(),
            tasks,
            novel: Vec::new(),
            own_supervision: OwnSupervision::Value,
            bootstrap: Bootstrap::default(),
            seed: 1,
            out: out.into(),
            dataset: None,
            device: DeviceKind::Cpu,
            transitive: false,
            worker: WorkerOptions::default(),
            estimators: Estimator::ALL.to_vec(),
            estimator: None,
        }
    }
}

/// What a finished run hands back.
#[derive(Clone, Debug)]
pub struct RunSummary {
    /// `report.html`.
    pub report: PathBuf,
    /// Wall time of each stage, in order.
    pub steps: Vec<(String, f64)>,
    /// The taxonomy and its scores at every budget.
    pub budgets: Vec<BudgetResult>,
    /// The transitive paths, when they were measured.
    pub transitive: Option<Transitive>,
    /// What the data held: samples used and skipped, tasks without labels.
    pub data: DataReport,
    /// The all-for-one transfer into each novel task.
    pub novel: Vec<NovelResult>,
    /// What the report shows, to redraw it (with the stability of several seeds, say).
    pub report_input: ReportInput,
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Steps I–III failed.
    #[error(transparent)]
    Train(#[from] TrainError),
    /// Planning failed.
    #[error("planning: {0}")]
    Plan(#[from] PlanError),
    /// Evaluation failed.
    #[error("evaluation: {0}")]
    Eval(#[from] EvalError),
    /// A table could not be built.
    #[error(transparent)]
    Transfers(#[from] TransfersError),
    /// The run folder could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The report could not be written.
    #[error("report: {0}")]
    Report(#[from] ReportError),
    /// The configuration does not make sense.
    #[error("{0}")]
    Config(String),
    /// The runs of several seeds could not be compared.
    #[error("stability: {0}")]
    Stability(#[from] StabilityError),
    /// The units of work could not all be trained.
    #[error(transparent)]
    Work(#[from] WorkError),
}

pub(crate) const DATA: &str = "data";
pub(crate) const STEP_I: &str = "step I: task networks";
pub(crate) const STEP_II: &str = "step II: transfers";
pub(crate) const TRANSITIVE: &str = "transitive transfers";
const STEP_III: &str = "step III: affinities";
const STEP_IV: &str = "step IV: taxonomies";
const EVALUATION: &str = "evaluation";
const REPORT: &str = "report";

/// The stages `config` runs, in order.
pub fn stages(config: &RunConfig) -> Vec<&'static str> {
    let mut stages = vec![DATA, STEP_I, STEP_II];
    if config.transitive {
        stages.push(TRANSITIVE);
    }
    stages.extend([STEP_III, STEP_IV, EVALUATION, REPORT]);
    stages
}

/// A stage as it begins, as announced to [`run`]'s `on_stage`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StageStart {
    /// Its position among [`stages`], from 1.
    pub number: usize,
    /// How many stages the run has.
    pub count: usize,
    /// What it does.
    pub name: &'static str,
}

/// The stages' wall times, and the announcement of each as it begins.
struct Stopwatch<'a> {
    stages: Vec<&'static str>,
    on_stage: &'a dyn Fn(StageStart),
    current: Option<(&'static str, Instant)>,
    times: Vec<(String, f64)>,
}

impl Stopwatch<'_> {
    /// Ends the current stage, if any, and begins `name`.
    fn begin(&mut self, name: &'static str) {
        if self.current.is_some_and(|(current, _)| current == name) {
            return;
        }
        self.end();
        let number = self
            .stages
            .iter()
            .position(|s| *s == name)
            .map_or(0, |i| i + 1);
        (self.on_stage)(StageStart {
            number,
            count: self.stages.len(),
            name,
        });
        self.current = Some((name, Instant::now()));
    }

    /// Ends the current stage and records its wall time.
    fn end(&mut self) {
        if let Some((name, started)) = self.current.take() {
            self.times
                .push((name.to_owned(), started.elapsed().as_secs_f64()));
        }
    }
}

/// Runs every stage of [`stages`] on `dev`, calling `on_stage` as each begins.
///
/// Steps I and II go unit by unit through [`work`], each unit claimed as any worker claims it: several
/// processes started on one run folder (`taskonomy run` twice, or workers of `taskonomy worker`) share
/// the work, and none trains what another is training.
pub fn run<D: ShardDevice>(
    dev: &D,
    config: &RunConfig,
    progress: Progress,
    on_stage: &dyn Fn(StageStart),
) -> Result<RunSummary, RunError> {
    check(config)?;
    let clock = RefCell::new(Stopwatch {
        stages: stages(config),
        on_stage,
        current: None,
        times: Vec::new(),
    });
    let run = RunFolder::create(&config.out)?;
    clock.borrow_mut().begin(DATA);
    let prepared = prepare(dev, &run, config, &progress)?;
    let ctx = prepared.context(dev, &run, progress);
    work(
        &ctx,
        &prepared.config,
        &prepared.plan,
        &config.worker,
        &|unit| clock.borrow_mut().begin(unit.kind.stage()),
    )?;
    close(&ctx, &prepared, &mut clock.into_inner())
}

/// A run folder ready for workers: its manifest written, its data rendered and open, its plan of work
/// written.
pub struct Prepared {
    /// The run's manifest.
    pub manifest: RunManifest,
    /// The run's data.
    pub data: RunData,
    /// The run's configuration, its tasks those with labels in the data.
    pub config: RunConfig,
    /// The units of work.
    pub plan: WorkPlan,
}

impl Prepared {
    /// The context stages run in.
    pub fn context<'a, D>(
        &'a self,
        dev: &'a D,
        run: &'a RunFolder,
        progress: Progress,
    ) -> Context<'a, D> {
        Context {
            dev,
            run,
            data: &self.data,
            settings: &self.config.settings,
            seed: self.config.seed,
            progress,
            readouts: crate::train::ReadoutTraining::Grouped,
        }
    }
}

/// Prepares `config`'s run folder for workers: writes the manifest, renders (or checks) the data,
/// measures a training step on `dev` for the estimates, and writes the plan of work. Failures of an
/// earlier attempt are forgotten, so that workers try those units again.
pub fn prepare<D: ShardDevice>(
    dev: &D,
    run: &RunFolder,
    config: &RunConfig,
    progress: &Progress,
) -> Result<Prepared, RunError> {
    check(config)?;
    let started = Instant::now();
    // The record of the run, which the stage commands and the workers read too.
    let manifest = RunManifest::new(
        config.preset.name(),
        config.settings.clone(),
        config.seed,
        config.device,
        config.dataset.as_deref(),
        &config.tasks,
    );
    manifest.write(run)?;
    let (data, tasks) = manifest.open_data(run, &config.tasks, progress)?;
    let config = RunConfig {
        tasks,
        ..config.clone()
    };
    check_labelled(&config)?;
    let data_s = started.elapsed().as_secs_f64();
    let steps = StepSeconds::measure(
        dev,
        &config.settings,
        config.device,
        &target_outputs(&config.tasks),
    )?;
    let plan = WorkPlan {
        data_s,
        ..WorkPlan::new(&config, steps)
    };
    let folder = WorkFolder::of(run);
    folder.write_plan(&plan)?;
    folder.clear_failures(&plan)?;
    Ok(Prepared {
        manifest,
        data,
        config,
        plan,
    })
}

/// The output layouts and losses of `tasks`' targets, whose readouts a plan of work times.
pub fn target_outputs(tasks: &TaskSet) -> Vec<(crate::model::OutputLayout, crate::spec::LossKind)> {
    tasks
        .targets
        .iter()
        .filter_map(|t| tasks.spec(t))
        .map(|spec| (crate::model::OutputLayout::of(spec.output), spec.loss))
        .collect()
}

/// Opens a run folder a launcher prepared ([`prepare`]), with the tasks of `dictionary` its plan names.
pub fn open_prepared(
    out: &std::path::Path,
    dictionary: &TaskSet,
    progress: &Progress,
) -> Result<(RunFolder, Prepared), RunError> {
    let run = RunFolder::open(out)?;
    let plan = WorkFolder::of(&run).read_plan()?;
    let config = plan.config.run_config(dictionary, out.to_owned())?;
    let manifest = RunManifest::read(&run)?;
    let (data, tasks) = manifest.open_data(&run, &config.tasks, progress)?;
    let config = RunConfig { tasks, ..config };
    Ok((
        run,
        Prepared {
            manifest,
            data,
            config,
            plan,
        },
    ))
}

/// What a worker does in a prepared run folder ([`prepare`]): trains the units it can claim until every
/// unit is done, then, when `close` is set, closes the run (steps III, IV, the evaluation and the
/// report), and returns the summary.
pub fn work_in<D: ShardDevice>(
    dev: &D,
    out: &std::path::Path,
    dictionary: &TaskSet,
    options: &WorkerOptions,
    close_run: bool,
    progress: Progress,
) -> Result<Option<RunSummary>, RunError> {
    let (run, prepared) = open_prepared(out, dictionary, &progress)?;
    let ctx = prepared.context(dev, &run, progress);
    work(&ctx, &prepared.config, &prepared.plan, options, &|unit| {
        tracing::info!(unit = unit.name(), "training {}", unit.name())
    })?;
    if !close_run {
        return Ok(None);
    }
    let no_announcements = |_: StageStart| {};
    let mut clock = Stopwatch {
        stages: stages(&prepared.config),
        on_stage: &no_announcements,
        current: None,
        // The stages the workers trained, as their units' records tell.
        times: WorkFolder::of(&run).stage_times(&prepared.plan),
    };
    Ok(Some(close(&ctx, &prepared, &mut clock)?))
}

/// Steps III and IV, the evaluation and the report, once every unit of work is done: reads the trained
/// networks, computes the tables, plans, evaluates, and writes the report.
fn close<D: ShardDevice>(
    ctx: &Context<'_, D>,
    prepared: &Prepared,
    clock: &mut Stopwatch<'_>,
) -> Result<RunSummary, RunError> {
    let began = crate::work::claim::unix_seconds();
    let (config, manifest, data, run) = (&prepared.config, &prepared.manifest, ctx.data, ctx.run);
    // Every task's network, the novel tasks' included: theirs scores Quality and nothing else.
    let networks = train_tasks(ctx, &config.tasks)?;
    // Steps II and III see only the known tasks as sources.
    let known = known_tasks(config);
    let (tables, transfers, transitive) = match config.estimator {
        None => {
            let transfers = transfer(ctx, &known)?;
            let transitive = if config.transitive {
                Some(transitive(ctx, &known, &transfers)?)
            } else {
                None
            };
            clock.begin(STEP_III);
            let tables = measure(
                &ctx.keys(),
                &known,
                &MeasureOptions {
                    novel: config.novel.clone(),
                    bootstrap: Bootstrap {
                        seed: config.seed,
                        ..config.bootstrap
                    },
                },
            )?;
            (Tables::measured(tables), transfers, transitive)
        }
        Some(estimator) => {
            clock.begin(STEP_III);
            (estimated_tables(ctx, &known, estimator)?, Vec::new(), None)
        }
    };

    clock.begin(STEP_IV);
    // A task whose network does not beat its best constant predictor learnt nothing about its input:
    // its encoder is measured like any other, but no taxonomy labels it.
    // When none learnt anything (data far too small), the taxonomies are planned anyway, and say so.
    let learnt_nothing: Vec<String> = networks
        .iter()
        .filter(|n| !n.beats_constant())
        .map(|n| n.task.clone())
        .collect();
    let mut candidates: Vec<String> = candidate_sources(config)
        .into_iter()
        .filter(|s| !learnt_nothing.contains(s))
        .collect();
    let none_learnt = candidates.is_empty();
    if none_learnt {
        tracing::warn!(
            "no source's task network beats its best constant predictor: the taxonomies choose among \
             encoders that learnt nothing, and mean nothing"
        );
        candidates = candidate_sources(config);
    }
    let left_out: Vec<String> = learnt_nothing
        .iter()
        .filter(|t| !candidates.contains(t))
        .cloned()
        .collect();
    let wins = tables.wins.clone();
    let options = PlanOptions {
        max_order: config.max_order,
        own_supervision: config.own_supervision,
        sources: Some(candidates.clone()),
        targets: None,
        // The targets the table has: an estimator leaves out those it cannot estimate.
        importance: config
            .tasks
            .spec_values(&tables.affinities.targets(), |s| s.importance),
        cost: config.tasks.spec_values(&known.sources, |s| s.label_cost),
    };
    let problem = Problem::new(&tables.affinities, &options)?;
    let plans_dir = run.root().join("plans");
    std::fs::create_dir_all(&plans_dir).map_err(io_error(&plans_dir))?;
    let mut plans = Vec::new();
    for point in problem.sweep(config.budgets.iter().copied(), Default::default()) {
        let Some(plan) = point?.plan else { continue };
        write_json(
            &plans_dir.join(format!(
                "budget_{}_order_{}.json",
                plan.budget, config.max_order
            )),
            &plan,
        )?;
        plans.push(plan);
    }

    clock.begin(EVALUATION);
    let mut budgets = Vec::new();
    for plan in plans {
        let evaluation = evaluate(&plan, &wins, "taxonomy")?;
        let random =
            random_sources_baseline(&problem, plan.budget, RANDOM_DRAWS, config.seed, &wins)?;
        let general = general_sources_baseline(&problem, &tables.affinities, plan.budget, &wins)?;
        let significance = evaluation
            .mean_quality
            .map(|quality| random.standing(quality));
        budgets.push(BudgetResult {
            plan,
            evaluation,
            baselines: vec![general, random.average.clone()],
            random_qualities: random.draws.iter().filter_map(|d| d.mean_quality).collect(),
            significance,
        });
    }
    let novel = all_for_one(
        &tables.affinities,
        &wins,
        &config.novel,
        &candidates,
        config.max_order,
    )?;
    write_json(&run.file("novel.json"), &novel)?;
    // An estimator-only run has no trained tables to compare estimates with.
    let estimators = if config.estimator.is_none() {
        compare_estimators(ctx, &known, config, &options)?
    } else {
        Vec::new()
    };

    clock.begin(REPORT);
    let (task_curves, transfer_curves) = loss_curves(run, &networks, &transfers);
    let relative_losses = match &tables.first_order {
        Some(records) => relative_losses(records)?,
        None => relative_losses(&transfers)?,
    };
    clock.end();
    let input = ReportInput {
        title: format!("Taskonomy run: {} preset", config.preset),
        facts: facts(config, &manifest.data, clock.times.clone()),
        data: data.report().clone(),
        relative_losses,
        affinities: tables.affinities.clone(),
        affinity_intervals: tables.affinity_intervals.clone(),
        own_supervision: config.own_supervision,
        budgets: budgets.clone(),
        novel: novel.clone(),
        task_networks: networks.clone(),
        notes: notes(
            config,
            &learnt_nothing,
            &left_out,
            none_learnt,
            tables.estimated.as_ref(),
        ),
        task_curves,
        transfer_curves,
        transitive: transitive.clone(),
        estimators,
        stability: None,
    };
    let report = write_report(run.root(), &input)?;
    WorkFolder::of(run).mark_closed(began)?;
    Ok(RunSummary {
        report,
        steps: clock.times.clone(),
        budgets,
        transitive,
        data: data.report().clone(),
        novel,
        report_input: input,
    })
}

/// The tables a run plans with and scores taxonomies with.
struct Tables {
    affinities: Transfers,
    /// Bootstrap intervals of the affinities, row for row (none for estimates).
    affinity_intervals: Vec<crate::uncertainty::Interval>,
    wins: WinRates,
    /// First-order mean test losses for the report when no readout was trained (the ridge readouts').
    first_order: Option<Vec<TransferRecord>>,
    /// The estimates the affinities are, in an estimator-only run.
    estimated: Option<Estimates>,
}

impl Tables {
    fn measured(tables: crate::train::Measurements) -> Self {
        Tables {
            wins: WinRates::measured(&tables),
            affinity_intervals: tables.intervals.affinities,
            affinities: tables.affinities,
            first_order: None,
            estimated: None,
        }
    }
}

/// The tables of an estimator-only run: `estimator`'s affinities, and the closed-form ridge readouts'
/// win rates against the targets' own networks and their `pixels` baselines (trained by the run's
/// step II units) to score the taxonomies with.
fn estimated_tables<D: ShardDevice>(
    ctx: &Context<'_, D>,
    known: &TaskSet,
    estimator: Estimator,
) -> Result<Tables, RunError> {
    for target in &known.targets {
        baselines_into(ctx, known, target)?;
    }
    let estimates = estimate(ctx, known, &EstimateOptions::of(estimator), None)?;
    if estimates.affinities.rows().is_empty() {
        let reasons: Vec<String> = estimates
            .left_out
            .iter()
            .map(|(target, why)| format!("{target}: {why}"))
            .collect();
        return Err(RunError::Config(format!(
            "{estimator} estimates no target of this run, so there is nothing to plan ({})",
            reasons.join("; ")
        )));
    }
    // The ridge readouts score the transfers the estimator chose, not the ones ridge would choose.
    let ridge = if estimator == Estimator::Ridge {
        estimates.clone()
    } else {
        estimate(
            ctx,
            known,
            &EstimateOptions::of(Estimator::Ridge),
            Some(&estimates.affinities),
        )?
    };
    let missing = |what: &str| RunError::Config(format!("the ridge estimates have no {what}"));
    let wins = WinRates::new(
        ridge
            .wins_vs_task
            .clone()
            .ok_or_else(|| missing("win rates"))?,
        ridge
            .wins_vs_pixels
            .clone()
            .ok_or_else(|| missing("pixels baselines"))?,
    );
    let first_order = ridge
        .scores
        .iter()
        .filter(|row| row.order() == 1)
        .map(|row| TransferRecord {
            target: row.target.clone(),
            sources: row.sources.clone(),
            key: String::new(),
            test_mean: row.value,
            train_s: None,
        })
        .collect();
    Ok(Tables {
        affinities: estimates.affinities.clone(),
        affinity_intervals: Vec::new(),
        wins,
        first_order: Some(first_order),
        estimated: Some(estimates),
    })
}

/// Every estimator of `config` on the run's cached representations (written under `estimates/`), each
/// compared with the trained tables at the budgets up to three the run plans for, with the taxonomy's
/// own planning options.
fn compare_estimators<D: ShardDevice>(
    ctx: &Context<'_, D>,
    known: &TaskSet,
    config: &RunConfig,
    options: &PlanOptions,
) -> Result<Vec<Comparison>, RunError> {
    let budgets: Vec<f64> = config
        .budgets
        .iter()
        .copied()
        .filter(|&b| b <= 3.0)
        .collect();
    let options_each: Vec<EstimateOptions> = config
        .estimators
        .iter()
        .map(|&e| EstimateOptions::of(e))
        .collect();
    let mut comparisons = Vec::new();
    for estimates in estimate_each(ctx, known, &options_each, None)? {
        comparisons.extend(compare_with_trained(
            ctx.run, &estimates, options, &budgets,
        )?);
    }
    Ok(comparisons)
}

/// The method on `config` once per seed, each run in `out/seed_<seed>`, then the stability of their
/// findings across the seeds ([`crate::stability`]), written as `out/stability.json` and added to every
/// seed's report. Returns each seed's summary and the stability.
pub fn run_seeds<D: ShardDevice>(
    dev: &D,
    config: &RunConfig,
    seeds: &[u64],
    progress: Progress,
    on_stage: &dyn Fn(u64, StageStart),
) -> Result<(Vec<RunSummary>, Stability), RunError> {
    if seeds.len() < 2 {
        return Err(RunError::Config(
            "give at least two seeds to measure stability".into(),
        ));
    }
    let mut summaries = Vec::with_capacity(seeds.len());
    for &seed in seeds {
        let seeded = RunConfig {
            seed,
            out: seed_folder(&config.out, seed),
            ..config.clone()
        };
        summaries.push(run(dev, &seeded, progress.clone(), &|stage| {
            on_stage(seed, stage)
        })?);
    }
    let findings: Vec<RunFindings> = seeds
        .iter()
        .map(|&seed| RunFindings::read(&seed_folder(&config.out, seed), format!("seed {seed}")))
        .collect::<Result<_, _>>()?;
    let stability = Stability::of(&findings)?;
    write_json(&config.out.join("stability.json"), &stability)?;
    for (summary, &seed) in summaries.iter_mut().zip(seeds) {
        summary.report_input.stability = Some(stability.clone());
        summary.report = write_report(&seed_folder(&config.out, seed), &summary.report_input)?;
    }
    Ok((summaries, stability))
}

/// The run folder of one seed of a [`run_seeds`].
pub fn seed_folder(out: &std::path::Path, seed: u64) -> PathBuf {
    out.join(format!("seed_{seed}"))
}

/// The tasks as steps II and III see them: the novel tasks are targets, never sources.
pub(crate) fn known_tasks(config: &RunConfig) -> TaskSet {
    TaskSet {
        sources: config
            .tasks
            .sources
            .iter()
            .copied()
            .filter(|s| !config.novel.iter().any(|n| n == s))
            .collect(),
        ..config.tasks.clone()
    }
}

/// Checks, once the data is open, that the tasks left out for want of labels leave something to do:
/// sources and targets, every novel task, a source to transfer from that is not novel.
fn check_labelled(config: &RunConfig) -> Result<(), RunError> {
    if config.tasks.sources.is_empty() || config.tasks.targets.is_empty() {
        return Err(RunError::Config(
            "no source or no target has labels in the data (see the warnings above)".into(),
        ));
    }
    check_novel(
        config,
        "has no labels in the data (see the warnings above)",
        "every source with labels in the data is a novel task: none is left to transfer from",
    )
}

fn check(config: &RunConfig) -> Result<(), RunError> {
    config.settings.validate()?;
    if config.budgets.is_empty() || config.budgets.iter().any(|b| b.is_nan() || *b <= 0.0) {
        return Err(RunError::Config("give at least one positive budget".into()));
    }
    if config.max_order == 0 || config.max_order > config.settings.max_order {
        return Err(RunError::Config(format!(
            "the planner's max order must be between 1 and the trained order {}",
            config.settings.max_order
        )));
    }
    check_novel(
        config,
        "is not a target of this run",
        "no source task is left once the novel tasks are held out",
    )
}

/// Checks that every novel task is a target (else "novel task `t` {not_a_target}") and that a source
/// is left once they are held out (else `no_source`).
fn check_novel(config: &RunConfig, not_a_target: &str, no_source: &str) -> Result<(), RunError> {
    if let Some(novel) = config
        .novel
        .iter()
        .find(|novel| !config.tasks.targets.contains(&novel.as_str()))
    {
        return Err(RunError::Config(format!(
            "novel task `{novel}` {not_a_target}"
        )));
    }
    if candidate_sources(config).is_empty() {
        return Err(RunError::Config(no_source.into()));
    }
    Ok(())
}

/// The sources the planner may choose: every source task but the novel ones.
fn candidate_sources(config: &RunConfig) -> Vec<String> {
    config
        .tasks
        .sources
        .iter()
        .filter(|s| !config.novel.iter().any(|n| n == *s))
        .map(|s| s.to_string())
        .collect()
}

/// First-order transfers' mean test losses divided by the best (lowest) into the same target.
fn relative_losses(records: &[TransferRecord]) -> Result<Transfers, TransfersError> {
    let first_order: Vec<&TransferRecord> = records
        .iter()
        .filter(|r| r.sources.len() == 1 && !is_pseudo_source(&r.sources[0]))
        .collect();
    let mut best: BTreeMap<&str, f64> = BTreeMap::new();
    for record in &first_order {
        let entry = best.entry(record.target.as_str()).or_insert(f64::INFINITY);
        *entry = entry.min(record.test_mean);
    }
    let rows = first_order
        .iter()
        .map(|r| {
            let lowest = best[r.target.as_str()];
            let relative = if lowest > 0.0 {
                r.test_mean / lowest
            } else {
                1.0
            };
            Transfer::new(&r.sources, &r.target, relative)
        })
        .collect();
    Transfers::from_rows("relative test losses", rows)
}

/// Every network's loss curve, as drawn by the training stages: the task networks' `(task, svg)` and
/// the readouts' `(target, sources, svg file)`.
#[allow(clippy::type_complexity)]
fn loss_curves(
    run: &RunFolder,
    networks: &[crate::train::TaskNetworkRecord],
    transfers: &[TransferRecord],
) -> (Vec<(String, String)>, Vec<(String, String, PathBuf)>) {
    let tasks = networks
        .iter()
        .filter_map(|n| {
            let path = run.task(&n.task, &n.key).path("curve.svg");
            std::fs::read_to_string(path)
                .ok()
                .map(|svg| (n.task.clone(), svg))
        })
        .collect();
    let readouts = transfers
        .iter()
        .map(|t| {
            let path = run
                .transfer(&t.target, &t.label(), &t.key)
                .path("curve.svg");
            (t.target.clone(), t.label(), path)
        })
        .filter(|(_, _, path)| path.is_file())
        .collect();
    (tasks, readouts)
}

fn facts(config: &RunConfig, data: &DataSource, step_seconds: Vec<(String, f64)>) -> RunFacts {
    let s = &config.settings;
    let settings = vec![
        ("preset".into(), config.preset.to_string()),
        ("dictionary".into(), config.tasks.dictionary.to_owned()),
        ("seed".into(), config.seed.to_string()),
        ("device".into(), config.device.to_string()),
        (
            "data".into(),
            match data {
                DataSource::Synthetic { scenes, size, seed } => format!(
                    "synthetic scenes: {scenes} buildings, {size}×{size} images, seed {seed}"
                ),
                DataSource::Folder { path } => format!("Taskonomy layout at {}", path.display()),
            },
        ),
        (
            "tasks".into(),
            format!(
                "{} ({} sources, {} targets)",
                config.tasks.tasks.len(),
                config.tasks.sources.len(),
                config.tasks.targets.len()
            ),
        ),
        (
            "samples per task".into(),
            format!(
                "train {}, transfer {}, test {}",
                s.samples.train, s.samples.transfer, s.samples.test
            ),
        ),
        (
            "networks".into(),
            format!(
                "patch {}, width {}, depth {}, bottleneck {}; readout width {}",
                s.arch.patch, s.arch.width, s.arch.depth, s.arch.bottleneck, s.arch.readout_width
            ),
        ),
        (
            "schedules (steps × batch)".into(),
            format!(
                "task {}×{}, transfer {}×{}, scratch {}×{}",
                s.task.steps,
                s.task.batch_size,
                s.transfer.steps,
                s.transfer.batch_size,
                s.scratch.steps,
                s.scratch.batch_size
            ),
        ),
        (
            "transfer orders".into(),
            format!(
                "trained up to {} (top {} sources per target), planned up to {}",
                s.max_order, s.top_k, config.max_order
            ),
        ),
        (
            "own supervision".into(),
            match config.own_supervision {
                OwnSupervision::Value => {
                    "value: the target's own network in its AHP tournament (`self`)".into()
                }
                OwnSupervision::One => "one: a supervised target scores 1".into(),
            },
        ),
        (
            "uncertainty".into(),
            format!(
                "{} bootstrap resamples of the test images, {:.0}% percentile intervals",
                config.bootstrap.replicates,
                100.0 * config.bootstrap.level
            ),
        ),
        (
            "baselines".into(),
            format!("best general-purpose sources; {RANDOM_DRAWS} random source sets per budget"),
        ),
        (
            "budgets".into(),
            config
                .budgets
                .iter()
                .map(|b| b.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        (
            "versions".into(),
            format!(
                "taskonomy {} with dfdx 0.13, {}-{}",
                env!("CARGO_PKG_VERSION"),
                std::env::consts::ARCH,
                std::env::consts::OS
            ),
        ),
    ];
    RunFacts {
        settings,
        step_seconds,
    }
}

/// The report's notes: the task networks that learnt nothing (`learnt_nothing`, of which `left_out` were
/// kept out of the taxonomies; all the candidate sources when `none_learnt`, which were then kept), and
/// how the novel tasks were handled.
fn notes(
    config: &RunConfig,
    learnt_nothing: &[String],
    left_out: &[String],
    none_learnt: bool,
    estimated: Option<&Estimates>,
) -> Vec<(String, String)> {
    let mut notes = Vec::new();
    if let Some(estimates) = estimated {
        let estimator = estimates.options.estimator;
        let mut text = format!(
            "No readout was trained. The affinities are {estimator}'s estimates from the cached \
             representations of the transfer split ({} transfers in {:.2} s), normalised per target; \
             the Gain and Quality of every taxonomy are those of the closed-form ridge readouts of its \
             transfers, scored on the test images against the targets' own networks and their `pixels` \
             baselines, not of trained readouts.",
            estimates.all.1, estimates.all.0
        );
        if !estimates.left_out.is_empty() {
            let left: Vec<String> = estimates
                .left_out
                .iter()
                .map(|(t, why)| format!("{t} ({why})"))
                .collect();
            text.push_str(&format!(" Not planned for: {}.", left.join("; ")));
        }
        notes.push((format!("Affinities estimated by {estimator}"), text));
    }
    if none_learnt {
        notes.push((
            "No task network learnt anything".into(),
            format!(
                "None of the sources' networks beats its best constant predictor ({}): the data are too \
                 few for this preset. The taxonomies below choose among encoders that learnt nothing, and \
                 mean nothing.",
                learnt_nothing.join(", ")
            ),
        ));
    }
    if !left_out.is_empty() {
        notes.push((
            "Sources left out of the taxonomies".into(),
            format!(
                "{}: the task network does not beat its best constant predictor on the test images (see \
                 Task networks), so its encoder learnt nothing worth labelling. Its transfers are measured \
                 and shown like every other's, but the planner and the baselines do not choose it.",
                left_out.join(", ")
            ),
        ));
    }
    if config.novel.is_empty() {
        return notes;
    }
    notes.push((
        "How the novel tasks were handled".into(),
        format!(
            "{} existed for the method only on the transfer split: no representation of theirs was a \
             source of any transfer or any tournament, and the planner never labels them. Each was trained \
             once more, on the training split, as a fully supervised network used for nothing but scoring \
             Quality (it is left out of the novel task's own affinity tournament).",
            config.novel.join(", ")
        ),
    ));
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run of tasks named `sources` and `targets` (their labels do not matter here).
    fn config(sources: &[&'static str], targets: &[&'static str], novel: &[&str]) -> RunConfig {
        let tasks = TaskSet {
            dictionary: "Study",
            tasks: Vec::new(),
            sources: sources.to_vec(),
            targets: targets.to_vec(),
        };
        RunConfig {
            novel: novel.iter().map(|&n| n.to_owned()).collect(),
            ..RunConfig::new(tasks, Preset::Tiny, "runs/study")
        }
    }

    #[test]
    fn tasks_left_out_for_want_of_labels_must_leave_a_run() {
        assert!(check_labelled(&config(
            &["depth", "edges"],
            &["depth", "edges"],
            &["edges"]
        ))
        .is_ok());
        let error = |config| check_labelled(&config).unwrap_err().to_string();
        assert_eq!(
            error(config(&["depth"], &["depth"], &["edges"])),
            "novel task `edges` has no labels in the data (see the warnings above)"
        );
        assert_eq!(
            error(config(&["edges"], &["depth", "edges"], &["edges"])),
            "every source with labels in the data is a novel task: none is left to transfer from"
        );
        assert_eq!(
            error(config(&[], &["depth"], &[])),
            "no source or no target has labels in the data (see the warnings above)"
        );
    }
}
