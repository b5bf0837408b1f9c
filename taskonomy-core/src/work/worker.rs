//! A worker: claims the next unit whose dependencies are done, trains it, marks it done; waits while
//! other workers train what is left; returns when every unit but the closing one is done.

use std::time::Duration;

use super::claim::{Held, Lease, Watch, Worker};
use super::{Unit, UnitKind, UnitState, WorkError, WorkFolder, WorkPlan};
use crate::pipeline::{known_tasks, RunConfig};
use crate::train::fit::ShardDevice;
use crate::train::{
    baselines_into, map_from, represent, train_task, transfer, transfer_into, Context,
    Representations, TrainError,
};

/// How a worker claims and waits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WorkerOptions {
    /// The lease of its claims.
    pub lease: Lease,
    /// How often it looks again at the units when it has nothing to claim.
    pub poll: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            lease: Lease::default(),
            poll: Duration::from_secs(2),
        }
    }
}

/// Limits this process to `threads` threads (rayon's global pool, which also bounds how many shards of a
/// training step run at once: one thread computes them one after the other, with the same result). To
/// be called before any computation; the pool is built once.
pub fn limit_threads(threads: usize) -> Result<(), WorkError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build_global()
        .map_err(|e| {
            WorkError::Scheduler(format!(
                "cannot limit this process to {threads} threads: {e}"
            ))
        })
}

/// The CPUs a scheduler gave this process: Slurm's `SLURM_CPUS_PER_TASK`, else `SLURM_CPUS_ON_NODE` (a
/// job's CPUs on its node). `None` outside a Slurm job.
pub fn allocated_cpus() -> Option<usize> {
    ["SLURM_CPUS_PER_TASK", "SLURM_CPUS_ON_NODE"]
        .iter()
        .find_map(|name| std::env::var(name).ok()?.trim().parse().ok())
        .filter(|&n: &usize| n > 0)
}

/// Works through `plan`'s units in `ctx`'s run folder until every unit but the closing one is done:
/// claims each unit whose dependencies are done and that nobody holds, trains it, marks it done.
/// Calls `on_unit` as it starts each unit it claimed. Units other workers hold are waited for (and
/// taken over when their worker is gone); a unit that fails is marked failed, and the worker goes on
/// with the units that do not depend on it, then returns [`WorkError::Failed`].
pub fn work<D: ShardDevice>(
    ctx: &Context<'_, D>,
    config: &RunConfig,
    plan: &WorkPlan,
    options: &WorkerOptions,
    on_unit: &dyn Fn(&Unit),
) -> Result<usize, WorkError> {
    let folder = WorkFolder::of(ctx.run);
    let me = Worker::this_process();
    let known = known_tasks(config);
    let mut watch = Watch::default();
    let mut reps: Option<Representations> = None;
    let mut trained = 0;
    let units: Vec<&Unit> = plan
        .units
        .iter()
        .filter(|u| u.kind != UnitKind::Close)
        .collect();
    let bar = ctx.progress.bar(units.len() as u64, "units of work");
    loop {
        let looking = std::time::Instant::now();
        let states: Vec<UnitState> = units
            .iter()
            .map(|u| folder.state(u))
            .collect::<Result<_, _>>()?;
        let done: std::collections::BTreeSet<String> = units
            .iter()
            .zip(&states)
            .filter(|(_, s)| matches!(s, UnitState::Done(_)))
            .map(|(u, _)| u.name())
            .collect();
        bar.set_position(done.len() as u64);
        let failed: Vec<(String, String)> = units
            .iter()
            .zip(&states)
            .filter_map(|(u, s)| match s {
                UnitState::Failed(f) => Some((u.name(), f.error.clone())),
                _ => None,
            })
            .collect();
        let mut ready = units
            .iter()
            .zip(&states)
            .filter(|(u, s)| {
                matches!(s, UnitState::Pending | UnitState::Claimed(_))
                    && u.after.iter().all(|a| done.contains(a))
            })
            .peekable();
        if ready.peek().is_none() {
            let waiting = states
                .iter()
                .any(|s| matches!(s, UnitState::Pending | UnitState::Claimed(_)));
            if !waiting {
                bar.finish_and_clear();
                return if failed.is_empty() {
                    Ok(trained)
                } else {
                    Err(WorkError::Failed(failed))
                };
            }
            // Pending units wait for a failed one: nobody can train them.
            let running = states.iter().any(|s| matches!(s, UnitState::Claimed(_)));
            if !running && !failed.is_empty() {
                bar.finish_and_clear();
                return Err(WorkError::Failed(failed));
            }
        }
        let mut claimed = None;
        for (unit, state) in ready {
            if let UnitState::Claimed(claim) = state {
                if !watch.is_over(&folder.unit(&unit.name()), claim) {
                    continue;
                }
                tracing::warn!(
                    unit = unit.name(),
                    "the claim of {} on {} is over (its worker is gone): taking the unit over",
                    claim.worker.label(),
                    unit.name()
                );
            }
            let unit_folder = folder.unit(&unit.name());
            if let Some(held) =
                unit_folder.try_claim(&me, options.lease, |c| watch.is_over(&unit_folder, c))?
            {
                claimed = Some((*unit, held));
                break;
            }
        }
        let Some((unit, held)) = claimed else {
            std::thread::sleep(options.poll);
            continue;
        };
        let claim_s = looking.elapsed().as_secs_f64();
        on_unit(unit);
        match execute(ctx, config, &known, &unit.kind, &mut reps) {
            Ok(()) => {
                if held.finish(claim_s)? {
                    trained += 1;
                    tracing::info!(unit = unit.name(), "unit done");
                } else {
                    tracing::warn!(
                        unit = unit.name(),
                        "{} was taken over by another worker while this one trained it (it stalled \
                         longer than its lease); the other worker finishes it",
                        unit.name()
                    );
                }
            }
            Err(error) => fail(held, unit, error)?,
        }
    }
}

fn fail(held: Held, unit: &Unit, error: TrainError) -> Result<(), WorkError> {
    tracing::error!(unit = unit.name(), "{}: {error}", unit.name());
    held.fail(error.to_string())?;
    Ok(())
}

/// Trains one unit (the same functions a one-process run calls, on the same inputs).
fn execute<D: ShardDevice>(
    ctx: &Context<'_, D>,
    config: &RunConfig,
    known: &crate::train::TaskSet,
    kind: &UnitKind,
    reps: &mut Option<Representations>,
) -> Result<(), TrainError> {
    match kind {
        UnitKind::TaskNetwork(task) => {
            let task = config
                .tasks
                .get(task)
                .ok_or_else(|| TrainError::Config(format!("`{task}` is not a task of this run")))?;
            train_task(ctx, task)?;
        }
        UnitKind::Represent(source) => represent(ctx, known, source)?,
        UnitKind::TransfersInto(target) if config.estimator.is_some() => {
            // An estimator-only run trains no readout, only the target's reference for Gain.
            baselines_into(ctx, known, target)?;
        }
        UnitKind::TransfersInto(target) => {
            // A worker keeps the representations it read for the next target it takes.
            let reps = match reps {
                Some(reps) => reps,
                None => reps.insert(Representations::of(ctx, known)?),
            };
            transfer_into(ctx, known, target, reps)?;
        }
        UnitKind::MapFrom(source) => {
            let records = transfer(ctx, known)?;
            map_from(ctx, known, &records, source)?;
        }
        UnitKind::Close => {}
    }
    Ok(())
}
