//! `taskonomy status`: where the units of a run stand, and the jobs working on them.

use std::time::SystemTime;

use clap::Args;
use taskonomy_core::spec::Dictionary;
use taskonomy_core::store::RunFolder;
use taskonomy_core::work::{claim::unix_seconds, slurm, UnitState, WorkFolder};

use super::train::RunFolderArgs;

/// Show the units of work of a run: done, running (by which worker and job), failed (and why) and
/// pending, with the Slurm jobs of the run.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  taskonomy status --out runs/x")]
pub struct StatusArgs {
    #[command(flatten)]
    run: RunFolderArgs,
    /// List every unit, not only those not done.
    #[arg(long)]
    all: bool,
}

/// Runs the subcommand.
pub fn run<D: Dictionary>(args: StatusArgs) -> anyhow::Result<()> {
    let run = RunFolder::open(args.run.folder::<D>())?;
    let work = WorkFolder::of(&run);
    let plan = work.read_plan()?;
    let (critical, _) = plan.critical_path();
    println!(
        "{}: {} units, estimated {} on one worker, {} with unlimited workers ({})",
        run.root().display(),
        plan.units.len(),
        duration(plan.total_s()),
        duration(critical),
        plan.step_seconds.source
    );
    if let Some(jobs) = work.slurm_jobs() {
        for (role, job) in [("workers", &jobs.workers), ("close", &jobs.close)] {
            let Some(job) = job else { continue };
            let queued = slurm::queued(job).unwrap_or_default();
            let states = if queued.is_empty() {
                "ended".to_owned()
            } else {
                queued
                    .iter()
                    .map(|(id, state)| format!("{id} {state}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            println!("slurm {role} job {job}: {states}");
        }
    }
    let mut counts = [0usize; 4];
    let mut rows = Vec::new();
    let states = plan
        .units
        .iter()
        .map(|unit| Ok((unit.name(), work.state(unit)?)))
        .collect::<anyhow::Result<std::collections::BTreeMap<String, UnitState>>>()?;
    for unit in &plan.units {
        let (index, label, detail) = match &states[&unit.name()] {
            UnitState::Done(done) => (
                0,
                "done",
                format!("{} in {:.1} s", done.worker.label(), done.seconds()),
            ),
            UnitState::Claimed(claim) => (
                1,
                "running",
                format!(
                    "{}, claimed {} ago, last beat {}",
                    claim.worker.label(),
                    duration(unix_seconds() - claim.claimed_at),
                    beat_age(&work, &unit.name(), claim.number)
                ),
            ),
            UnitState::Failed(failed) => (
                2,
                "failed",
                format!("{}: {}", failed.worker.label(), failed.error),
            ),
            UnitState::Pending => {
                let waiting = unit
                    .after
                    .iter()
                    .filter(|a| !matches!(states.get(*a), Some(UnitState::Done(_))))
                    .count();
                let detail = if waiting == 0 {
                    "ready".to_owned()
                } else {
                    format!("after {waiting} unit(s)")
                };
                (3, "pending", detail)
            }
        };
        counts[index] += 1;
        if args.all || index != 0 {
            rows.push(format!("  {:<36} {label:<8} {detail}", unit.name()));
        }
    }
    println!(
        "done {}, running {}, failed {}, pending {}",
        counts[0], counts[1], counts[2], counts[3]
    );
    for row in rows {
        println!("{row}");
    }
    Ok(())
}

/// How long ago the claim file was last rewritten (its holder's heartbeat), by its modification time.
fn beat_age(work: &WorkFolder, unit: &str, number: u32) -> String {
    let path = work.unit(unit).dir().join(format!("claim.{number}"));
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .map_or("unknown".to_owned(), |age| {
            format!("{} ago", duration(age.as_secs_f64()))
        })
}

/// Seconds as people read them: `42 s`, `3.5 min`, `2.1 h`.
pub fn duration(seconds: f64) -> String {
    if seconds < 90.0 {
        format!("{seconds:.0} s")
    } else if seconds < 5400.0 {
        format!("{:.1} min", seconds / 60.0)
    } else {
        format!("{:.1} h", seconds / 3600.0)
    }
}
