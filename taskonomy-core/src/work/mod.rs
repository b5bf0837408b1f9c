//! Scale out: a run as units of work that any number of workers, on one machine or on the nodes of a
//! Slurm cluster, take from one run folder.
//!
//! Every network of steps I and II is already an artifact keyed by what produced it ([`crate::store`]),
//! so the run folder is the only state workers share. What this module adds is who trains what:
//!
//! - [`WorkPlan`]: the units (a task network, a source's representations, every transfer into a target,
//!   the mappings of transitive transfer, and the closing steps III to the report), their dependencies
//!   and estimated costs; written once as `work/plan.json`, read by every worker;
//! - [`claim`]: a unit is trained by the worker that claims it, through lock files that are exclusive on
//!   NFS, kept alive by a heartbeat, and taken over when their worker is gone;
//! - [`work`]: a worker's loop: claim the next unit whose dependencies are done, train it, mark it done;
//!   wait while others train what is left; stop when every unit is done;
//! - [`slurm`]: the job array of workers and the closing job, submitted with `sbatch`.
//!
//! ```text
//! run/work/
//!   plan.json                  the units, their dependencies and estimates, the run's configuration
//!   units/<unit>/claim.<n>     the n-th claim on the unit: worker, job, lease, beat
//!                released.<n>  the n-th claim was given up (its unit failed)
//!                done          the unit is finished: who, when
//!                failed        its last attempt failed: who, the error
//!   logs/                      the workers' logs (local processes, Slurm jobs)
//!   slurm.json                 the jobs submitted for the run
//! ```
//!
//! Whatever the number of workers, every unit is computed by the same code on the same inputs with the
//! same seeds, so the tables are identical byte for byte to a one-process run's.

pub mod claim;
mod plan;
pub mod slurm;
mod worker;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use claim::{Claim, Failed, Finished, Lease, UnitFolder, Watch, Worker};
pub use plan::{
    higher_order_readouts, output_key, StepSeconds, Unit, UnitKind, WorkConfig, WorkPlan,
};
pub use worker::{allocated_cpus, limit_threads, work, WorkerOptions};

use crate::store::{read_json, write_json, RunFolder, StoreError};

/// Why a worker stopped.
#[derive(Debug, thiserror::Error)]
pub enum WorkError {
    /// The run folder could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A unit could not even be started (its configuration is wrong).
    #[error(transparent)]
    Train(#[from] crate::train::TrainError),
    /// Units failed, and the units after them cannot be trained.
    #[error("{}", failed_message(.0))]
    Failed(Vec<(String, String)>),
    /// A scheduler could not be used.
    #[error("{0}")]
    Scheduler(String),
}

fn failed_message(failed: &[(String, String)]) -> String {
    let mut message = format!(
        "{} unit(s) failed, and the units after them cannot be trained:",
        failed.len()
    );
    for (unit, error) in failed {
        message.push_str(&format!("\n  {unit}: {error}"));
    }
    message.push_str("\nfix the cause and start the run again: it retries them and keeps the rest");
    message
}

/// The `work/` folder of a run.
#[derive(Clone, Debug)]
pub struct WorkFolder {
    root: PathBuf,
}

/// Where a unit stands.
#[derive(Clone, Debug, PartialEq)]
pub enum UnitState {
    /// Finished.
    Done(Finished),
    /// Its last attempt failed.
    Failed(Failed),
    /// Claimed, and the claim was not released.
    Claimed(Claim),
    /// Never claimed, or released.
    Pending,
}

/// The jobs submitted to Slurm for a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SlurmJobs {
    /// The job array of workers.
    pub workers: Option<String>,
    /// The closing job.
    pub close: Option<String>,
}

impl WorkFolder {
    /// The `work/` folder of `run`.
    pub fn of(run: &RunFolder) -> Self {
        WorkFolder {
            root: run.root().join("work"),
        }
    }

    /// The folder itself.
    pub fn root(&self) -> &std::path::Path {
        &self.root
    }

    /// `plan.json`.
    pub fn plan_path(&self) -> PathBuf {
        self.root.join("plan.json")
    }

    /// Writes the plan.
    pub fn write_plan(&self, plan: &WorkPlan) -> Result<(), StoreError> {
        std::fs::create_dir_all(&self.root).map_err(crate::store::io_error(&self.root))?;
        write_json(&self.plan_path(), plan)
    }

    /// Reads the plan a launcher wrote.
    pub fn read_plan(&self) -> Result<WorkPlan, StoreError> {
        let path = self.plan_path();
        if !path.is_file() {
            return Err(StoreError::Missing {
                what: "the run's plan of work".into(),
                path,
                hint: "start the run with `taskonomy run --executor local|slurm --out <folder>` \
                       (it writes the plan, then starts the workers)"
                    .into(),
            });
        }
        read_json(&path, "a plan of work (units, dependencies, configuration)")
    }

    /// The folder of the unit `name`.
    pub fn unit(&self, name: &str) -> UnitFolder {
        UnitFolder::at(self.root.join("units").join(name))
    }

    /// The workers' logs.
    pub fn logs(&self) -> PathBuf {
        self.root.join("logs")
    }

    /// `slurm.json`.
    pub fn slurm_path(&self) -> PathBuf {
        self.root.join("slurm.json")
    }

    /// The jobs submitted for the run, if any.
    pub fn slurm_jobs(&self) -> Option<SlurmJobs> {
        read_json(&self.slurm_path(), "the run's Slurm jobs").ok()
    }

    /// Where `unit` stands.
    pub fn state(&self, unit: &Unit) -> Result<UnitState, StoreError> {
        let folder = self.unit(&unit.name());
        if let Some(done) = folder.finished() {
            return Ok(UnitState::Done(done));
        }
        if let Some(failed) = folder.failure() {
            return Ok(UnitState::Failed(failed));
        }
        Ok(match folder.current()? {
            Some((claim, false)) => UnitState::Claimed(claim),
            _ => UnitState::Pending,
        })
    }

    /// Forgets every failure of `plan`'s units, so that workers try them again: what a restarted run
    /// does.
    pub fn clear_failures(&self, plan: &WorkPlan) -> Result<(), StoreError> {
        for unit in &plan.units {
            self.unit(&unit.name()).clear_failure()?;
        }
        Ok(())
    }

    /// Marks the closing unit done (closing is idempotent: it reads finished artifacts and writes the
    /// tables and report atomically, so it needs no claim).
    pub fn mark_closed(&self, began: f64) -> Result<(), StoreError> {
        let folder = self.unit(&UnitKind::Close.name());
        std::fs::create_dir_all(folder.dir()).map_err(crate::store::io_error(folder.dir()))?;
        write_json(
            &folder.dir().join("done"),
            &Finished {
                worker: Worker::this_process(),
                began,
                ended: claim::unix_seconds(),
                claim_s: 0.0,
            },
        )
    }

    /// The wall time of each stage of the finished units of `plan`: from the first unit's start to the
    /// last one's end, whichever worker ran them; the data's first, as the launcher prepared it.
    pub fn stage_times(&self, plan: &WorkPlan) -> Vec<(String, f64)> {
        let mut spans: Vec<(&'static str, f64, f64)> =
            vec![(crate::pipeline::DATA, 0.0, plan.data_s)];
        for unit in &plan.units {
            if unit.kind == UnitKind::Close {
                continue;
            }
            let Some(done) = self.unit(&unit.name()).finished() else {
                continue;
            };
            let stage = unit.kind.stage();
            match spans.iter_mut().find(|(s, _, _)| *s == stage) {
                Some((_, began, ended)) => {
                    *began = began.min(done.began);
                    *ended = ended.max(done.ended);
                }
                None => spans.push((stage, done.began, done.ended)),
            }
        }
        spans
            .into_iter()
            .map(|(stage, began, ended)| (stage.to_owned(), (ended - began).max(0.0)))
            .collect()
    }
}
