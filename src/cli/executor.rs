//! The executors of `taskonomy run`: who trains the units of work of a prepared run folder.
//!
//! - `inline`: this process (the default);
//! - `local`: `--workers` processes of `taskonomy worker` on this machine;
//! - `slurm`: a job array of `--workers` workers and a closing job, submitted with `sbatch`;
//! - `none`: nobody: the run folder is prepared, and workers are started by hand or by another
//!   scheduler (`taskonomy worker --out DIR`, one of them with `--close`).
//!
//! Whatever the executor, this process prepares the run folder first (manifest, data, plan) and, once
//! the workers have stopped, finishes whatever they left and closes the run itself, so that the summary
//! it prints is the same as a one-process run's.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::{Args, ValueEnum};
use taskonomy_core::model::DeviceKind;
use taskonomy_core::pipeline::{self, RunConfig, RunSummary};
use taskonomy_core::spec::TaskSet;
use taskonomy_core::store::{write_json, RunFolder};
use taskonomy_core::train::fit::ShardDevice;
use taskonomy_core::train::Progress;
use taskonomy_core::work::slurm::{self, SlurmOptions};
use taskonomy_core::work::{SlurmJobs, StepSeconds, UnitKind, UnitState, WorkFolder, WorkPlan};

use super::device::OnDevice;
use super::status::duration;
use super::worker::ClaimArgs;

/// Who trains the units of work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Executor {
    /// This process.
    Inline,
    /// `--workers` worker processes on this machine.
    Local,
    /// A Slurm job array of `--workers` workers, and a closing job.
    Slurm,
    /// Nobody: prepare the run folder and stop; start `taskonomy worker` yourself.
    None,
}

/// What the `slurm` executor passes to `sbatch`.
#[derive(Clone, Debug, Default, Args)]
pub struct SlurmArgs {
    /// Slurm: the partition.
    #[arg(long, value_name = "NAME")]
    partition: Option<String>,
    /// Slurm: the time limit of each job (`HH:MM:SS`, `D-HH`).
    #[arg(long, value_name = "LIMIT")]
    time: Option<String>,
    /// Slurm: the account.
    #[arg(long, value_name = "NAME")]
    account: Option<String>,
    /// Slurm: generic resources per job, e.g. `gpu:1` (the default with `--device cuda`).
    #[arg(long, value_name = "GRES")]
    gres: Option<String>,
    /// Slurm: any other sbatch option, as sbatch takes it (`--sbatch-option=--mem=8G`); repeatable.
    #[arg(long, value_name = "OPTION", allow_hyphen_values = true)]
    sbatch_option: Vec<String>,
    /// Slurm: a file of sbatch options, one per line (`--mem=8G` or `#SBATCH --mem=8G`).
    #[arg(long, value_name = "FILE")]
    sbatch_options: Option<PathBuf>,
    /// Slurm: submit the jobs and return, instead of waiting for the run to finish.
    #[arg(long)]
    no_wait: bool,
}

impl SlurmArgs {
    fn options(&self, workers: usize, device: DeviceKind) -> anyhow::Result<SlurmOptions> {
        let mut extra = match &self.sbatch_options {
            Some(path) => slurm::read_options_file(path)?,
            None => Vec::new(),
        };
        extra.extend(self.sbatch_option.iter().cloned());
        Ok(SlurmOptions {
            workers,
            partition: self.partition.clone(),
            time: self.time.clone(),
            account: self.account.clone(),
            gres: self
                .gres
                .clone()
                .or((device == DeviceKind::Cuda).then(|| "gpu:1".to_owned())),
            extra,
        })
    }
}

/// A run handed to workers: prepared here, trained by the executor's workers, closed here.
pub struct Launch<'a> {
    /// The run.
    pub config: &'a RunConfig,
    /// The dictionary's tasks (for the workers' plan).
    pub dictionary: TaskSet,
    /// Who trains.
    pub executor: Executor,
    /// How many workers.
    pub workers: usize,
    /// Threads per local worker (default: its share of the cores).
    pub worker_threads: Option<usize>,
    /// How the workers claim.
    pub claims: ClaimArgs,
    /// What Slurm gets.
    pub slurm: SlurmArgs,
}

impl OnDevice for Launch<'_> {
    type Output = Option<RunSummary>;
    fn run<D: ShardDevice>(self, dev: &D) -> anyhow::Result<Self::Output> {
        if self.workers == 0 {
            bail!("--workers must be at least 1");
        }
        let out = std::path::absolute(&self.config.out)
            .with_context(|| format!("{}", self.config.out.display()))?;
        let run = RunFolder::create(&out)?;
        let prepared = pipeline::prepare(dev, &run, self.config, &Progress::terminal())?;
        let plan = prepared.plan.clone();
        // The workers open the data themselves.
        drop(prepared);
        let work = WorkFolder::of(&run);
        std::fs::create_dir_all(work.logs())
            .with_context(|| format!("{}", work.logs().display()))?;
        let worker = WorkerCommand {
            out: &out,
            device: self.config.device,
            claims: self.claims,
        };
        match self.executor {
            Executor::None => {
                eprintln!(
                    "prepared {} ({} units of work); start workers on machines that share it with \
                     `taskonomy worker --out {}`, and close the run with `taskonomy worker --close`",
                    out.display(),
                    plan.units.len(),
                    out.display()
                );
                return Ok(None);
            }
            // This process is the worker: below.
            Executor::Inline => {}
            Executor::Local => run_local(&work, &plan, &worker, self.workers, self.worker_threads)?,
            Executor::Slurm => {
                let options = self.slurm.options(self.workers, self.config.device)?;
                let jobs = submit_slurm(&work, &worker, &options)?;
                if self.slurm.no_wait {
                    eprintln!(
                        "follow the run with `taskonomy status --out {}`; its report will be {}",
                        out.display(),
                        out.join("report.html").display()
                    );
                    return Ok(None);
                }
                wait_for_slurm(&work, &plan, &jobs)?;
            }
        }
        // Whatever the workers left (none, unless one failed), and the close.
        let summary = pipeline::work_in(
            dev,
            &out,
            &self.dictionary,
            &self.claims.options()?,
            true,
            Progress::terminal(),
        )?;
        Ok(summary)
    }
}

/// The command line of a worker process.
struct WorkerCommand<'a> {
    out: &'a Path,
    device: DeviceKind,
    claims: ClaimArgs,
}

impl WorkerCommand<'_> {
    fn args(&self, close: bool) -> anyhow::Result<Vec<String>> {
        let exe = std::env::current_exe().context("the path of this program")?;
        let mut args = vec![
            exe.display().to_string(),
            "-v".into(),
            "worker".into(),
            "--quiet".into(),
            "--out".into(),
            self.out.display().to_string(),
            "--device".into(),
            self.device.to_string(),
        ];
        args.extend(self.claims.flags());
        if close {
            args.push("--close".into());
        }
        Ok(args)
    }
}

/// Starts `workers` worker processes on this machine, each logging to `work/logs/worker-<i>.log`, and
/// shows the units done until they have all stopped.
fn run_local(
    work: &WorkFolder,
    plan: &WorkPlan,
    worker: &WorkerCommand<'_>,
    workers: usize,
    threads: Option<usize>,
) -> anyhow::Result<()> {
    // Each worker gets its share of the cores (a worker with one thread computes the shards of a
    // training step one after the other, with the same result).
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = threads.unwrap_or(cores / workers).max(1);
    let mut command = worker.args(false)?;
    command.extend(["--threads".to_owned(), threads.to_string()]);
    let mut children: Vec<(usize, Child)> = Vec::new();
    for i in 0..workers {
        let log_path = work.logs().join(format!("worker-{i}.log"));
        let log =
            std::fs::File::create(&log_path).with_context(|| format!("{}", log_path.display()))?;
        let child = Command::new(&command[0])
            .args(&command[1..])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting worker {i} ({})", command[0]))?;
        children.push((i, child));
    }
    eprintln!(
        "{workers} workers started; their logs: {}",
        work.logs().display()
    );
    let bar = units_bar(plan);
    while !children.is_empty() {
        bar.set_position(units_done(work, plan) as u64);
        let mut still = Vec::new();
        for (i, mut child) in children {
            match child.try_wait()? {
                None => still.push((i, child)),
                Some(status) if status.success() => {}
                Some(status) => eprintln!(
                    "worker {i} stopped ({status}); see {}",
                    work.logs().join(format!("worker-{i}.log")).display()
                ),
            }
        }
        children = still;
        std::thread::sleep(Duration::from_millis(500));
    }
    bar.finish_and_clear();
    Ok(())
}

/// Submits the job array of workers and the closing job; records them in `work/slurm.json`.
fn submit_slurm(
    work: &WorkFolder,
    worker: &WorkerCommand<'_>,
    options: &SlurmOptions,
) -> anyhow::Result<SlurmJobs> {
    let name = "taskonomy";
    let array = slurm::submit(&options.workers_job(name, &work.logs(), &worker.args(false)?))?;
    let close = slurm::submit(&options.close_job(name, &work.logs(), &array, &worker.args(true)?))?;
    let jobs = SlurmJobs {
        workers: Some(array.clone()),
        close: Some(close.clone()),
    };
    write_json(&work.slurm_path(), &jobs)?;
    eprintln!(
        "submitted to Slurm: workers {array} (array of {}), closing job {close}; logs in {}",
        options.workers,
        work.logs().display()
    );
    Ok(jobs)
}

/// Shows the units done until the run's jobs have all ended; an error if the run was not closed.
fn wait_for_slurm(work: &WorkFolder, plan: &WorkPlan, jobs: &SlurmJobs) -> anyhow::Result<()> {
    let bar = units_bar(plan);
    let ids: Vec<&String> = [&jobs.workers, &jobs.close].into_iter().flatten().collect();
    loop {
        bar.set_position(units_done(work, plan) as u64);
        let mut queued = 0;
        for id in &ids {
            queued += slurm::queued(id)?.len();
        }
        if queued == 0 {
            break;
        }
        std::thread::sleep(Duration::from_secs(2));
    }
    bar.finish_and_clear();
    if !work.unit(&UnitKind::Close.name()).is_done() {
        bail!(
            "the run's jobs have ended, but the run was not closed: see `taskonomy status --out {}` \
             and the logs in {}",
            work.root().parent().unwrap_or(work.root()).display(),
            work.logs().display()
        );
    }
    Ok(())
}

fn units_bar(plan: &WorkPlan) -> indicatif::ProgressBar {
    let units = plan.units.len() - 1;
    Progress::terminal().bar(units as u64, "units of work done")
}

fn units_done(work: &WorkFolder, plan: &WorkPlan) -> usize {
    plan.units
        .iter()
        .filter(|u| u.kind != UnitKind::Close)
        .filter(|u| matches!(work.state(u), Ok(UnitState::Done(_))))
        .count()
}

/// `taskonomy run --dry-run`: the units, their dependencies and costs, the critical path.
pub struct DryRun<'a> {
    /// The run.
    pub config: &'a RunConfig,
}

impl OnDevice for DryRun<'_> {
    type Output = ();
    fn run<D: ShardDevice>(self, dev: &D) -> anyhow::Result<()> {
        let steps = StepSeconds::measure(
            dev,
            &self.config.settings,
            self.config.device,
            &pipeline::target_outputs(&self.config.tasks),
        )?;
        print_plan(&WorkPlan::new(self.config, steps));
        Ok(())
    }
}

/// The plan as a table, then its totals.
fn print_plan(plan: &WorkPlan) {
    println!("{:<36} {:>10}  after", "unit", "estimate");
    for unit in &plan.units {
        let after = match unit.after.len() {
            0 => "–".to_owned(),
            1..=3 => unit.after.join(", "),
            n => format!("{} … ({n} units)", unit.after[..2].join(", ")),
        };
        println!(
            "{:<36} {:>10}  {after}",
            unit.name(),
            duration(unit.estimate_s)
        );
    }
    let count = |f: fn(&UnitKind) -> bool| plan.units.iter().filter(|u| f(&u.kind)).count();
    println!(
        "\n{} units: {} task networks, {} representations, {} targets' transfers, {} mappings, 1 close",
        plan.units.len(),
        count(|k| matches!(k, UnitKind::TaskNetwork(_))),
        count(|k| matches!(k, UnitKind::Represent(_))),
        count(|k| matches!(k, UnitKind::TransfersInto(_))),
        count(|k| matches!(k, UnitKind::MapFrom(_))),
    );
    let s = &plan.step_seconds;
    println!(
        "one training step: task network {:.4} s, readout {:.5} s ({})",
        s.task, s.readout, s.source
    );
    let (critical, chain) = plan.critical_path();
    println!(
        "estimated: {:.2} hours of {} on one worker; critical path (unlimited workers) {}: {}",
        plan.total_s() / 3600.0,
        plan.config.device,
        duration(critical),
        chain.join(" → ")
    );
}
