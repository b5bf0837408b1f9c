//! The units of work of a run, their dependencies and estimated costs.
//!
//! | unit                   | what it trains                                                    | after            |
//! |------------------------|-------------------------------------------------------------------|------------------|
//! | `task-<t>`             | step I: `t`'s network (and its constant predictor)                | —                |
//! | `reps-<s>`             | step II: `s`'s frozen representations of the transfer/test views  | `task-<s>`       |
//! | `transfers-<t>`        | step II: every readout into `t`, of every order, and `pixels`     | `task-<t>`, every `reps-*` |
//! | `mappings-<s>`         | `--transitive`: the mappings from `s`'s representation            | every `transfers-*` |
//! | `close`                | steps III, IV, evaluation and the report                          | every other unit |
//!
//! A unit's cost is estimated from the preset's steps and the time of one training step, timed on the
//! device when the plan is made: what a scheduler needs to size jobs, and a researcher to know what a
//! dictionary will cost before training it. The estimates count training steps only, not the
//! evaluations on the test split or the preparation of batches (at the `small` preset on two CPU cores,
//! about half of the measured time); the units' records (`work/units/*/done`) keep what each took.

use std::collections::BTreeMap;

use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};

use crate::model::{Adam, DeviceKind, Head, ModelError, Network, OutputLayout};
use crate::pipeline::RunConfig;
use crate::plan::OwnSupervision;
use crate::spec::{DecoderShape, LossKind, TaskSet};
use crate::train::batch::{HostBatch, HostTargets, RepBatches};
use crate::train::fit::{train_step, LossSpec, Schedule, ShardDevice};
use crate::train::grouped::{GroupJob, Member};
use crate::train::{Preset, Settings, TrainError};
use crate::transfers::RANDOM;
use crate::uncertainty::Bootstrap;

/// What one unit does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "task")]
pub enum UnitKind {
    /// Step I: a task's network.
    #[serde(rename = "task")]
    TaskNetwork(String),
    /// Step II: a source's cached representations (`random` for the random encoder's).
    #[serde(rename = "representations")]
    Represent(String),
    /// Step II: every transfer and baseline into a target.
    #[serde(rename = "transfers")]
    TransfersInto(String),
    /// Transitive transfer: the mappings from a source's representation.
    #[serde(rename = "mappings")]
    MapFrom(String),
    /// Steps III, IV, the evaluation and the report.
    Close,
}

impl UnitKind {
    /// The unit's name: a file name in `work/units/`.
    pub fn name(&self) -> String {
        match self {
            UnitKind::TaskNetwork(t) => format!("task-{t}"),
            UnitKind::Represent(s) => format!("reps-{s}"),
            UnitKind::TransfersInto(t) => format!("transfers-{t}"),
            UnitKind::MapFrom(s) => format!("mappings-{s}"),
            UnitKind::Close => "close".into(),
        }
    }

    /// The stage of the method the unit belongs to, as the report names it.
    pub fn stage(&self) -> &'static str {
        match self {
            UnitKind::TaskNetwork(_) => crate::pipeline::STEP_I,
            UnitKind::Represent(_) | UnitKind::TransfersInto(_) => crate::pipeline::STEP_II,
            UnitKind::MapFrom(_) => crate::pipeline::TRANSITIVE,
            UnitKind::Close => "steps III-IV, evaluation, report",
        }
    }
}

/// One unit of work.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    /// What it does.
    pub kind: UnitKind,
    /// The units that must be done first, by name.
    pub after: Vec<String>,
    /// Its estimated wall time on one worker, in seconds.
    pub estimate_s: f64,
}

impl Unit {
    /// Its name ([`UnitKind::name`]).
    pub fn name(&self) -> String {
        self.kind.name()
    }
}

/// Everything of a [`RunConfig`] a worker needs besides the dictionary, as `work/plan.json` keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkConfig {
    /// The preset the settings came from.
    pub preset: Preset,
    /// Sizes and schedules.
    pub settings: Settings,
    /// The tasks, by name (those with labels in the data).
    pub tasks: Vec<String>,
    /// Supervision budgets.
    pub budgets: Vec<f64>,
    /// The planner's highest order.
    pub max_order: usize,
    /// Novel tasks.
    pub novel: Vec<String>,
    /// How a supervised target scores in the planner.
    pub own_supervision: OwnSupervision,
    /// The bootstrap of the intervals.
    pub bootstrap: Bootstrap,
    /// The run seed.
    pub seed: u64,
    /// A Taskonomy-layout dataset, if not the synthetic scenes.
    pub dataset: Option<std::path::PathBuf>,
    /// The device the networks run on.
    pub device: DeviceKind,
    /// Whether transitive transfer is measured.
    pub transitive: bool,
    /// The transferability estimators compared in the report.
    #[serde(default = "all_estimators")]
    pub estimators: Vec<crate::estimate::Estimator>,
    /// The estimator whose affinities the run plans with, instead of trained readouts.
    #[serde(default)]
    pub estimator: Option<crate::estimate::Estimator>,
}

fn all_estimators() -> Vec<crate::estimate::Estimator> {
    crate::estimate::Estimator::ALL.to_vec()
}

impl WorkConfig {
    /// The part of `config` workers need.
    pub fn of(config: &RunConfig) -> Self {
        WorkConfig {
            preset: config.preset,
            settings: config.settings.clone(),
            tasks: config.tasks.names().map(str::to_owned).collect(),
            budgets: config.budgets.clone(),
            max_order: config.max_order,
            novel: config.novel.clone(),
            own_supervision: config.own_supervision,
            bootstrap: config.bootstrap,
            seed: config.seed,
            dataset: config.dataset.clone(),
            device: config.device,
            transitive: config.transitive,
            estimators: config.estimators.clone(),
            estimator: config.estimator,
        }
    }

    /// The run's configuration, with the tasks of `dictionary` (a dictionary's whole set) it names, in
    /// the run folder `out`.
    pub fn run_config(
        &self,
        dictionary: &TaskSet,
        out: std::path::PathBuf,
    ) -> Result<RunConfig, TrainError> {
        let tasks = dictionary
            .only(&self.tasks)
            .map_err(|e| TrainError::Config(format!("work/plan.json: {e}")))?;
        Ok(RunConfig {
            preset: self.preset,
            settings: self.settings.clone(),
            tasks,
            budgets: self.budgets.clone(),
            max_order: self.max_order,
            novel: self.novel.clone(),
            own_supervision: self.own_supervision,
            bootstrap: self.bootstrap,
            seed: self.seed,
            out,
            dataset: self.dataset.clone(),
            device: self.device,
            transitive: self.transitive,
            worker: super::WorkerOptions::default(),
            estimators: self.estimators.clone(),
            estimator: self.estimator,
        })
    }
}

/// The time of one training step of each kind of network, which the estimates scale.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepSeconds {
    /// A task network's step (the preset's architecture, a batch of the task schedule's size).
    pub task: f64,
    /// A first-order readout's step (a batch of the transfer schedule's size) into a dense
    /// three-channel output with an L1 loss, as step II trains readouts: per readout of a group of
    /// [`TIMED_GROUP`] trained together (on the CPU; one after the other on other devices).
    pub readout: f64,
    /// The same into each output and loss of the run's targets, by [`output_key`]: a readout's last
    /// layer grows with its output (a 64-channel pixel embedding's costs several times a depth map's),
    /// and the loss matters too (a contrastive head is computed only at its sampled pixels).
    #[serde(default)]
    pub readout_by_output: BTreeMap<String, f64>,
    /// Where the times come from, for people ("timed on cpu: 3 steps of each").
    pub source: String,
}

/// Readouts timed together for [`StepSeconds::readout`]: a group of step II's size would take longer
/// to time than it tells.
pub const TIMED_GROUP: usize = 8;

/// How an output layout and loss are named among [`StepSeconds::readout_by_output`].
pub fn output_key(layout: OutputLayout, loss: LossKind) -> String {
    let layout = match layout {
        OutputLayout::PerPixel { channels } => format!("{channels} per pixel"),
        OutputLayout::PerImage { outputs } => format!("{outputs} per image"),
        OutputLayout::PerToken { tokens, channels } => format!("{channels} per token × {tokens}"),
    };
    format!("{layout}, {loss}")
}

impl StepSeconds {
    /// The step of a first-order readout into `layout` scored by `loss` (the dense three-channel L1
    /// one's if it was not timed).
    pub fn readout_into(&self, layout: OutputLayout, loss: LossKind) -> f64 {
        self.readout_by_output
            .get(&output_key(layout, loss))
            .copied()
            .unwrap_or(self.readout)
    }

    /// Times a few training steps, on random inputs, on `dev`: of a task network (a dense
    /// three-channel output, L1, the preset's decoder), and of first-order readouts, trained as step II
    /// trains them ([`ShardDevice::fit_readouts`]), into a dense three-channel output with an L1 loss
    /// and into each output and loss of `outputs`.
    pub fn measure<D: ShardDevice>(
        dev: &D,
        settings: &Settings,
        device: DeviceKind,
        outputs: &[(OutputLayout, LossKind)],
    ) -> Result<Self, TrainError> {
        const STEPS: usize = 3;
        let arch = &settings.arch;
        let layout = OutputLayout::PerPixel { channels: 3 };
        let spec = LossSpec {
            loss: LossKind::L1,
            layout,
            image_size: arch.image_size,
        };
        let pixels = arch.image_size * arch.image_size;
        let values = |n: usize, seed: u64| -> Vec<f32> {
            let mut rng = crate::data::rng::Rng::new(seed, &[]);
            (0..n).map(|_| rng.range(-1.0, 1.0) as f32).collect()
        };
        let batch = |size: usize, rows: usize, width: usize| HostBatch {
            rows: values(size * rows * width, 1),
            rows_per_sample: rows,
            width,
            targets: Some(HostTargets::Values {
                positions: pixels,
                channels: 3,
                values: values(size * pixels * 3, 2),
            }),
        };
        let time = |mut step: Box<dyn FnMut() -> Result<f32, ModelError> + '_>| {
            step()?; // The first step allocates; it is not timed.
            let started = std::time::Instant::now();
            for _ in 0..STEPS {
                step()?;
            }
            Ok::<f64, TrainError>(started.elapsed().as_secs_f64() / STEPS as f64)
        };

        let mut network = Network::task(dev, arch, 1, layout, DecoderShape::PRESET, 1)?;
        let mut optimiser = Adam::new(&network, dev, 1e-3).map_err(ModelError::device)?;
        let task_batch = batch(settings.task.batch_size, arch.tokens(), arch.patch_values());
        let task = time(Box::new(|| {
            train_step(
                dev,
                &mut network,
                &mut optimiser,
                &task_batch,
                spec,
                settings.task.shards,
            )
        }))?;

        // `TIMED_GROUP` readouts trained together for `STEPS` steps (and scored on one image), per
        // readout and step.
        let readout_step = |layout: OutputLayout, loss: LossKind| -> Result<f64, TrainError> {
            let size = settings.transfer.batch_size;
            let targets = HostTargets::random(loss, layout, arch.image_size, size, 2);
            let reps: Vec<Vec<f32>> = (0..TIMED_GROUP)
                .map(|g| values(size * arch.tokens() * arch.bottleneck, 10 + g as u64))
                .collect();
            let views: Vec<Vec<usize>> = (0..size).map(|i| vec![i]).collect();
            let members: Vec<Member<'_>> = reps
                .iter()
                .enumerate()
                .map(|(g, reps)| Member {
                    name: format!("timed readout {g}"),
                    train: RepBatches::new(vec![reps], &views, arch, Some(&targets)),
                    test: RepBatches::new(vec![reps], &views[..1], arch, Some(&targets)),
                })
                .collect();
            let schedule = Schedule {
                steps: STEPS,
                ..settings.transfer.clone()
            };
            let job = GroupJob {
                loss: LossSpec {
                    loss,
                    layout,
                    image_size: arch.image_size,
                },
                patch: arch.patch,
                schedule: &schedule,
                seed: 1,
                eval_batch: 1,
                train_targets: &targets,
                test_targets: &targets,
            };
            let mut heads = (0..TIMED_GROUP)
                .map(|g| Head::readout(dev, arch, arch.bottleneck, layout, g as u64))
                .collect::<Result<Vec<_>, _>>()?;
            let started = std::time::Instant::now();
            dev.fit_readouts(&mut heads, &members, &job, &ProgressBar::hidden())?;
            Ok(started.elapsed().as_secs_f64() / (STEPS * TIMED_GROUP) as f64)
        };
        let readout = readout_step(layout, LossKind::L1)?;
        let mut readout_by_output = BTreeMap::new();
        for &(output, loss) in outputs {
            if let std::collections::btree_map::Entry::Vacant(entry) =
                readout_by_output.entry(output_key(output, loss))
            {
                entry.insert(readout_step(output, loss)?);
            }
        }
        Ok(StepSeconds {
            task,
            readout,
            readout_by_output,
            source: format!("timed on {device}: {STEPS} steps of each"),
        })
    }
}

/// The units of a run, in an order that respects their dependencies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkPlan {
    /// What workers rebuild the run's configuration from.
    pub config: WorkConfig,
    /// The units, every one after those it depends on.
    pub units: Vec<Unit>,
    /// The step times the estimates are made of.
    pub step_seconds: StepSeconds,
    /// Seconds the launcher took to prepare the data (render or check it, open it).
    #[serde(default)]
    pub data_s: f64,
}

impl WorkPlan {
    /// The units of `config`'s run (its tasks those with labels), their costs from `steps`.
    pub fn new(config: &RunConfig, steps: StepSeconds) -> Self {
        let tasks = &config.tasks;
        let s = &config.settings;
        let known: Vec<&str> = tasks
            .sources
            .iter()
            .copied()
            .filter(|t| !config.novel.iter().any(|n| n == t))
            .collect();
        let reps: Vec<&str> = known.iter().copied().chain([RANDOM]).collect();
        let task_network = s.task.steps as f64 * steps.task;
        let mut units = Vec::new();

        for task in &tasks.tasks {
            units.push(Unit {
                kind: UnitKind::TaskNetwork(task.spec.name.into()),
                after: Vec::new(),
                estimate_s: task_network,
            });
        }
        // An encoder's forward pass over the transfer and test views: about a third of a training
        // step (forward and backward through encoder and decoder) per image.
        let images = (s.samples.transfer + s.samples.test) as f64;
        let represent = images / s.task.batch_size.max(1) as f64 * steps.task / 3.0;
        for &source in &reps {
            units.push(Unit {
                kind: UnitKind::Represent(source.into()),
                after: if source == RANDOM {
                    Vec::new()
                } else {
                    vec![UnitKind::TaskNetwork(source.into()).name()]
                },
                estimate_s: represent,
            });
        }
        let all_reps: Vec<String> = reps
            .iter()
            .map(|s| UnitKind::Represent((*s).into()).name())
            .collect();
        let readout = s.transfer.steps as f64 * steps.readout;
        let scratch = s.scratch.steps as f64 * steps.task * s.scratch.batch_size as f64
            / s.task.batch_size.max(1) as f64;
        let mut transfers = Vec::new();
        for &target in &tasks.targets {
            let others = known.iter().filter(|&&k| k != target).count();
            // An estimator-only run trains no readout: the unit trains the `pixels` baseline alone.
            let readouts = if config.estimator.is_some() {
                0
            } else {
                known.len() + 1 + higher_order_readouts(others, s)
            };
            let (layout, loss) = tasks.spec(target).map_or(
                (OutputLayout::PerPixel { channels: 3 }, LossKind::L1),
                |spec| (OutputLayout::of(spec.output), spec.loss),
            );
            let mut after = vec![UnitKind::TaskNetwork(target.into()).name()];
            after.extend(all_reps.iter().cloned());
            transfers.push(Unit {
                kind: UnitKind::TransfersInto(target.into()),
                after,
                estimate_s: readouts as f64
                    * s.transfer.steps as f64
                    * steps.readout_into(layout, loss)
                    + scratch,
            });
        }
        // The longest first, so that the last unit a worker takes is a short one and the workers end
        // together (longest-processing-time-first scheduling).
        transfers.sort_by(|a, b| b.estimate_s.total_cmp(&a.estimate_s));
        units.extend(transfers);
        let all_transfers: Vec<String> = tasks
            .targets
            .iter()
            .map(|t| UnitKind::TransfersInto((*t).into()).name())
            .collect();
        if config.transitive {
            // A source is mapped to the best other source of each target it reaches: a few distinct
            // intermediates in practice (at most one per target).
            let mappings = tasks.targets.len().min(s.top_k.max(1));
            for &source in &known {
                units.push(Unit {
                    kind: UnitKind::MapFrom(source.into()),
                    after: all_transfers.clone(),
                    estimate_s: mappings as f64 * readout,
                });
            }
        }
        let after: Vec<String> = units.iter().map(Unit::name).collect();
        units.push(Unit {
            kind: UnitKind::Close,
            after,
            estimate_s: 0.0,
        });
        WorkPlan {
            config: WorkConfig::of(config),
            units,
            step_seconds: steps,
            data_s: 0.0,
        }
    }

    /// The unit named `name`.
    pub fn unit(&self, name: &str) -> Option<&Unit> {
        self.units.iter().find(|u| u.name() == name)
    }

    /// The sum of every unit's estimate: the work's cost on one worker, in seconds.
    pub fn total_s(&self) -> f64 {
        self.units.iter().map(|u| u.estimate_s).sum()
    }

    /// The longest chain of dependent units, in seconds: the shortest wall time with unlimited
    /// workers. With the chain, first unit first.
    pub fn critical_path(&self) -> (f64, Vec<String>) {
        // Units come after their dependencies, so one pass in order finds every unit's earliest end.
        let mut finish: BTreeMap<String, (f64, Option<String>)> = BTreeMap::new();
        for unit in &self.units {
            let before = unit
                .after
                .iter()
                .filter_map(|a| finish.get(a).map(|(end, _)| (*end, a.clone())))
                .max_by(|a, b| a.0.total_cmp(&b.0));
            let (start, previous) = before.map_or((0.0, None), |(end, a)| (end, Some(a)));
            finish.insert(unit.name(), (start + unit.estimate_s, previous));
        }
        // The unit that ends last; among units ending together, the latest in the plan (the close).
        let mut last: Option<(String, f64)> = None;
        for unit in &self.units {
            let end = finish[&unit.name()].0;
            if last.as_ref().is_none_or(|(_, latest)| end >= *latest) {
                last = Some((unit.name(), end));
            }
        }
        let Some((last, end)) = last else {
            return (0.0, Vec::new());
        };
        let mut chain = vec![last];
        while let Some((_, Some(previous))) = finish.get(chain.last().map_or("", |s| s.as_str())) {
            chain.push(previous.clone());
        }
        chain.reverse();
        (end, chain)
    }
}

/// The higher-order readouts step II trains into a target with `others` candidate sources, as
/// [`crate::train::transfer`] chooses them: every combination of the top-k when k ≤ 5, else a beam.
pub fn higher_order_readouts(others: usize, settings: &Settings) -> usize {
    let top = settings.top_k.min(others);
    let mut count = 0;
    let mut beam = top;
    for order in 2..=settings.max_order.min(top) {
        let candidates = if top <= 5 {
            binomial(top, order)
        } else {
            // Every beam member grown by one more of the top; a bound, as grown sets can coincide.
            (beam * (top - (order - 1))).min(binomial(top, order))
        };
        count += candidates;
        beam = candidates.min(settings.beam);
    }
    count
}

fn binomial(n: usize, k: usize) -> usize {
    (0..k).fold(1, |acc, i| acc * (n - i) / (i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use taskonomy_macros::{task, task_dictionary};

    #[task(output = Dense<1>, loss = L1, encoding = Npy)]
    struct Depth;

    #[task(output = Dense<3>, loss = Cosine, encoding = Npy)]
    struct Normals;

    #[task(output = Dense<1>, loss = L1, encoding = Npy)]
    struct Edges;

    task_dictionary! {
        Three { sources: [Depth, Normals, Edges], targets: [Depth, Normals, Edges] }
    }

    fn plan(transitive: bool) -> WorkPlan {
        let tasks = TaskSet::of::<Three>();
        let mut config = RunConfig::new(tasks, Preset::Tiny, "/nowhere");
        config.transitive = transitive;
        let steps = StepSeconds {
            task: 0.01,
            readout: 0.001,
            readout_by_output: BTreeMap::from([(
                output_key(OutputLayout::PerPixel { channels: 3 }, LossKind::Cosine),
                0.004,
            )]),
            source: "given".into(),
        };
        WorkPlan::new(&config, steps)
    }

    #[test]
    fn every_unit_comes_after_its_dependencies() {
        for transitive in [false, true] {
            let plan = plan(transitive);
            let mut seen = Vec::new();
            for unit in &plan.units {
                for dependency in &unit.after {
                    assert!(
                        seen.contains(dependency),
                        "{} before {dependency}",
                        unit.name()
                    );
                }
                seen.push(unit.name());
            }
            let expected = 3 + 4 + 3 + if transitive { 3 } else { 0 } + 1;
            assert_eq!(plan.units.len(), expected);
            assert_eq!(plan.units.last().unwrap().kind, UnitKind::Close);
        }
    }

    #[test]
    fn the_critical_path_is_a_task_its_representations_a_target_and_the_close() {
        let plan = plan(false);
        let (seconds, chain) = plan.critical_path();
        assert_eq!(chain.len(), 4, "{chain:?}");
        assert!(chain[0].starts_with("task-"));
        assert!(chain[1].starts_with("reps-"));
        assert!(chain[2].starts_with("transfers-"));
        assert_eq!(chain[3], "close");
        let sum: f64 = chain.iter().map(|n| plan.unit(n).unwrap().estimate_s).sum();
        assert!((seconds - sum).abs() < 1e-9);
        assert!(seconds < plan.total_s());
    }

    #[test]
    fn the_costliest_transfers_come_first() {
        let plan = plan(false);
        let transfers: Vec<(String, f64)> = plan
            .units
            .iter()
            .filter(|u| matches!(u.kind, UnitKind::TransfersInto(_)))
            .map(|u| (u.name(), u.estimate_s))
            .collect();
        // Normals' readouts (three channels per pixel) cost four times the others' here.
        assert_eq!(transfers[0].0, "transfers-normals");
        assert!(
            transfers.windows(2).all(|w| w[0].1 >= w[1].1),
            "{transfers:?}"
        );
    }

    #[test]
    fn higher_orders_are_counted_as_step_two_trains_them() {
        let settings = Settings {
            top_k: 5,
            max_order: 3,
            beam: 4,
            ..Preset::Tiny.settings()
        };
        // C(5,2) + C(5,3): every combination of the top five.
        assert_eq!(higher_order_readouts(25, &settings), 10 + 10);
        // Fewer sources than the top-k.
        assert_eq!(higher_order_readouts(2, &settings), 1);
        assert_eq!(higher_order_readouts(0, &settings), 0);
    }
}
