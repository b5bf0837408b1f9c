//! `taskonomy worker`: one worker on a prepared run folder, as the executors start them.

use std::time::Duration;

use clap::Args;
use taskonomy_core::pipeline::{self, RunSummary};
use taskonomy_core::spec::{Dictionary, TaskSet};
use taskonomy_core::train::fit::ShardDevice;
use taskonomy_core::work::{allocated_cpus, limit_threads, Lease, WorkerOptions};

use super::device::{dispatch, OnDevice};
use super::train::RunFolderArgs;

/// Work on a run folder that `taskonomy run --executor local|slurm|none` prepared: claim the units whose
/// dependencies are done, train them, and stop when every unit is done. Any number of workers, on any
/// machines that share the folder, can work on one run at once; none trains what another trains.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  taskonomy run --preset tiny --executor none --out runs/x   # prepare only\n  \
                        taskonomy worker --out runs/x & taskonomy worker --out runs/x --close"
)]
pub struct WorkerArgs {
    #[command(flatten)]
    run: RunFolderArgs,
    /// Once every unit is done, also close the run: steps III, IV, the evaluation and the report.
    #[arg(long)]
    close: bool,
    /// Threads this worker computes with (default: the CPUs Slurm gave its job, else every core).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    #[command(flatten)]
    claims: ClaimArgs,
}

/// How a worker claims units and waits for others.
#[derive(Clone, Copy, Debug, Args)]
pub struct ClaimArgs {
    /// Seconds without a heartbeat after which a worker's claim is over and its unit is taken over by
    /// another (a worker of this machine that died is seen at once). Keep it above a minute on NFS.
    #[arg(long, default_value_t = 120.0, value_name = "SECONDS")]
    pub lease: f64,
    /// Seconds between looks at the units while waiting for other workers.
    #[arg(long, default_value_t = 2.0, value_name = "SECONDS")]
    pub poll: f64,
}

impl ClaimArgs {
    /// The worker options these give.
    pub fn options(&self) -> anyhow::Result<WorkerOptions> {
        if !(self.lease > 0.0 && self.poll > 0.0) {
            anyhow::bail!("--lease and --poll must be positive numbers of seconds");
        }
        Ok(WorkerOptions {
            lease: Lease::seconds(self.lease),
            poll: Duration::from_secs_f64(self.poll),
        })
    }

    /// The flags that give these options to a worker process.
    pub fn flags(&self) -> Vec<String> {
        vec![
            "--lease".into(),
            self.lease.to_string(),
            "--poll".into(),
            self.poll.to_string(),
        ]
    }
}

/// Runs the subcommand.
pub fn run<D: Dictionary>(args: WorkerArgs) -> anyhow::Result<()> {
    // Several workers on one machine, each with its share of the cores, rather than each crowding all.
    if let Some(threads) = args.threads.or_else(allocated_cpus) {
        limit_threads(threads)?;
    }
    let work = Work {
        out: args.run.folder::<D>(),
        dictionary: TaskSet::of::<D>(),
        options: args.claims.options()?,
        close: args.close,
        progress: args.run.progress(),
    };
    let summary = dispatch(args.run.device, work)?;
    match summary {
        Some(summary) => super::run::print_summary(&summary),
        None => eprintln!("every unit of work is done"),
    }
    Ok(())
}

/// A worker's work on whichever device was chosen; also what the executors run in their own process
/// once their workers have stopped.
pub struct Work {
    /// The run folder.
    pub out: std::path::PathBuf,
    /// The dictionary's tasks.
    pub dictionary: TaskSet,
    /// How it claims.
    pub options: WorkerOptions,
    /// Whether it closes the run.
    pub close: bool,
    /// Progress bars.
    pub progress: taskonomy_core::train::Progress,
}

impl OnDevice for Work {
    type Output = Option<RunSummary>;
    fn run<D: ShardDevice>(self, dev: &D) -> anyhow::Result<Self::Output> {
        Ok(pipeline::work_in(
            dev,
            &self.out,
            &self.dictionary,
            &self.options,
            self.close,
            self.progress,
        )?)
    }
}
