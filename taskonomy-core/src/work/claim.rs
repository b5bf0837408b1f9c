//! Claims on units of work: which worker trains what, safe on the filesystems clusters share (NFS).
//!
//! A unit's folder (`work/units/<unit>/`) holds numbered claims, `claim.1`, `claim.2`, …; the highest is
//! the unit's current claim. A worker claims a unit by creating the next number, and only when the
//! current claim is over: released, or held by a worker that is gone. Creation is exclusive on every
//! filesystem, NFS included: the claim is written under a name of the worker's own, then hard-linked to
//! `claim.<n>`; `link(2)` fails when the name exists, and, as `open(2)`'s manual advises for NFS, a link
//! whose reply was lost is recognised by the link count of the worker's own file. (`O_EXCL` is atomic
//! only from NFSv3 on; `link` always is.) Numbers are never reused, so two workers that both find a
//! claim over race for the same next number, and one of them wins.
//!
//! A claim is a **lease**: its holder rewrites it (a temporary file renamed over it) with a new beat
//! every [`Lease::beat_every`]; a claim whose beat has not changed for its lease, as seen by the worker
//! watching it (on its own monotonic clock, so clocks that differ between machines do not matter), is
//! over, and the unit is taken over. A claim held by a process of this machine that no longer exists
//! (same boot, no process with that id and start time) is over at once: a worker killed here loses
//! nothing but its unit, and a crash leaves no lock anyone must wait for.
//!
//! A holder that finds a higher claim than its own has lost its lease (it stalled longer than the lease,
//! and another worker took over); it leaves the unit to the new holder and writes no `done`. Its
//! artifacts, if it wrote any, are the same bytes the new holder writes: every unit is deterministic.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::store::{io_error, read_json, write_json, StoreError};

/// The default lease: a claim whose beat has not changed for this long belongs to a worker that is gone.
/// Long enough for NFS's attribute and directory caches (up to 60 s by default) to show every beat.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(120);

/// The process that claims units: where it runs, and which job of a scheduler it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Worker {
    /// The machine's host name.
    pub host: String,
    /// The process id.
    pub pid: u32,
    /// The machine's boot (Linux's `boot_id`): a process id means something only within one boot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot: Option<String>,
    /// When the process started, in clock ticks since boot: with the id, it names one process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<u64>,
    /// The scheduler's job, e.g. `1234_5` for task 5 of Slurm array job 1234.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
}

impl Worker {
    /// This process.
    pub fn this_process() -> Self {
        let pid = std::process::id();
        let (host, boot) = this_machine();
        Worker {
            host: host.clone(),
            pid,
            boot: boot.clone(),
            started: process_start(pid),
            job: slurm_job(),
        }
    }

    /// How the worker is named in logs and in `taskonomy status`: `host:pid`, and its job.
    pub fn label(&self) -> String {
        match &self.job {
            Some(job) => format!("{}:{} (job {job})", self.host, self.pid),
            None => format!("{}:{}", self.host, self.pid),
        }
    }

    /// Whether this worker is a process of this machine, in this boot, that no longer runs. `false`
    /// when that cannot be known (another machine, or no `/proc`): then only the lease can tell.
    pub fn is_gone_from_this_machine(&self) -> bool {
        let (host, boot) = this_machine();
        if self.host != *host || self.boot.is_none() || self.boot != *boot {
            return false;
        }
        match process_start(self.pid) {
            // No process with that id in this boot.
            None => true,
            // A process with that id, started at another time: the id was reused.
            Some(now) => self.started.is_some_and(|then| then != now),
        }
    }
}

/// This machine's host name and boot, read once: a worker asks at every look at the units.
fn this_machine() -> &'static (String, Option<String>) {
    static MACHINE: std::sync::OnceLock<(String, Option<String>)> = std::sync::OnceLock::new();
    MACHINE.get_or_init(|| (host_name(), boot_id()))
}

/// The host name, from the kernel (Linux) or the environment.
fn host_name() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

fn boot_id() -> Option<String> {
    fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|b| b.trim().to_owned())
}

/// A process's start time in clock ticks since boot (field 22 of `/proc/<pid>/stat`), if it runs (a
/// zombie, killed and not yet reaped by its parent, does not).
fn process_start(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count fields after the last `)`.
    let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace();
    if fields.next()? == "Z" {
        return None;
    }
    fields.nth(18)?.parse().ok()
}

/// The Slurm job of this process: `<array job>_<task>` for an array task, else the job id.
fn slurm_job() -> Option<String> {
    let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
    match (var("SLURM_ARRAY_JOB_ID"), var("SLURM_ARRAY_TASK_ID")) {
        (Some(array), Some(task)) => Some(format!("{array}_{task}")),
        _ => var("SLURM_JOB_ID"),
    }
}

/// Seconds since the Unix epoch, for records people read (never for deciding whether a lease is over).
pub fn unix_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// What a claim file holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    /// Who holds it.
    pub worker: Worker,
    /// Its number among the unit's claims.
    pub number: u32,
    /// How long its beat may stay unchanged before the claim is over, in seconds.
    pub lease_s: f64,
    /// Rewritten with one more at every beat.
    pub beat: u64,
    /// When it was claimed (Unix seconds, for people).
    pub claimed_at: f64,
}

/// How the holder keeps its claims alive.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lease {
    /// A claim whose beat does not change for this long is over.
    pub duration: Duration,
}

impl Default for Lease {
    fn default() -> Self {
        Lease {
            duration: DEFAULT_LEASE,
        }
    }
}

impl Lease {
    /// A lease of `seconds`.
    pub fn seconds(seconds: f64) -> Self {
        Lease {
            duration: Duration::from_secs_f64(seconds.max(0.05)),
        }
    }

    /// How often the holder beats: eight beats per lease, so that a few slow writes do not end it.
    pub fn beat_every(&self) -> Duration {
        self.duration / 8
    }
}

/// Why a unit's folder could not be read or written.
pub type ClaimError = StoreError;

/// The folder of one unit of work: its claims, and the markers of how it ended.
#[derive(Clone, Debug)]
pub struct UnitFolder {
    dir: PathBuf,
}

/// What a finished unit's `done` marker holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finished {
    /// Who did it.
    pub worker: Worker,
    /// When it began and ended (Unix seconds).
    pub began: f64,
    /// When it ended.
    pub ended: f64,
    /// Seconds the worker spent finding and claiming it (reading the units' states, the claim itself):
    /// the protocol's overhead on the unit.
    #[serde(default)]
    pub claim_s: f64,
}

impl Finished {
    /// Its wall time in seconds.
    pub fn seconds(&self) -> f64 {
        (self.ended - self.began).max(0.0)
    }
}

/// What a failed unit's `failed` marker holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Failed {
    /// Who tried.
    pub worker: Worker,
    /// The error, as the command line would print it.
    pub error: String,
    /// When (Unix seconds).
    pub at: f64,
}

const DONE: &str = "done";
const FAILED: &str = "failed";

impl UnitFolder {
    /// The unit folder at `dir` (created when first claimed).
    pub fn at(dir: PathBuf) -> Self {
        UnitFolder { dir }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The unit's `done` marker, if it finished.
    pub fn finished(&self) -> Option<Finished> {
        read_json(&self.dir.join(DONE), "a finished unit's record").ok()
    }

    /// Whether the unit finished.
    pub fn is_done(&self) -> bool {
        self.dir.join(DONE).is_file()
    }

    /// The unit's `failed` marker, if its last attempt failed.
    pub fn failure(&self) -> Option<Failed> {
        read_json(&self.dir.join(FAILED), "a failed unit's record").ok()
    }

    /// Forgets that the unit failed, so that workers try it again.
    pub fn clear_failure(&self) -> Result<(), StoreError> {
        let path = self.dir.join(FAILED);
        match fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_error(&path)(e)),
            _ => Ok(()),
        }
    }

    /// The unit's claims, lowest number first.
    pub fn claim_numbers(&self) -> Result<Vec<u32>, StoreError> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_error(&self.dir)(e)),
        };
        let mut numbers: Vec<u32> = entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().to_str()?.strip_prefix("claim.")?.parse().ok())
            .collect();
        numbers.sort_unstable();
        Ok(numbers)
    }

    /// Whether another worker has claimed the unit after claim `number` (took it over).
    fn claimed_after(&self, number: u32) -> Result<bool, StoreError> {
        Ok(self.claim_numbers()?.last().is_some_and(|&n| n > number))
    }

    fn claim_path(&self, number: u32) -> PathBuf {
        self.dir.join(format!("claim.{number}"))
    }

    fn release_path(&self, number: u32) -> PathBuf {
        self.dir.join(format!("released.{number}"))
    }

    /// The current (highest) claim and whether it was released; `None` when the unit was never
    /// claimed. A claim file that cannot be parsed (a foreign file, say) is an error that names it.
    pub fn current(&self) -> Result<Option<(Claim, bool)>, StoreError> {
        let Some(&number) = self.claim_numbers()?.last() else {
            return Ok(None);
        };
        let claim: Claim = read_json(&self.claim_path(number), "a claim on a unit of work")?;
        Ok(Some((claim, self.release_path(number).exists())))
    }

    /// Claims the unit as `worker` if its current claim is over (`is_over` decides, for a claim not
    /// released), and starts beating. `None` when another worker holds it, or won the race for it.
    pub fn try_claim(
        &self,
        worker: &Worker,
        lease: Lease,
        is_over: impl FnOnce(&Claim) -> bool,
    ) -> Result<Option<Held>, StoreError> {
        let next = match self.current()? {
            None => 1,
            Some((claim, released)) => {
                if !released && !is_over(&claim) {
                    return Ok(None);
                }
                claim.number + 1
            }
        };
        fs::create_dir_all(&self.dir).map_err(io_error(&self.dir))?;
        let claim = Claim {
            worker: worker.clone(),
            number: next,
            lease_s: lease.duration.as_secs_f64(),
            beat: 0,
            claimed_at: unix_seconds(),
        };
        if !create_exclusive(&self.claim_path(next), &claim, worker)? {
            return Ok(None);
        }
        Ok(Some(Held::start(self.clone(), claim, lease)))
    }

    /// Writes the `done` marker of a unit that `held` finished.
    fn mark_done(&self, finished: &Finished) -> Result<(), StoreError> {
        write_json(&self.dir.join(DONE), finished)
    }

    /// Writes the `failed` marker and releases the claim.
    fn mark_failed(&self, failed: &Failed, number: u32) -> Result<(), StoreError> {
        write_json(&self.dir.join(FAILED), failed)?;
        write_json(&self.release_path(number), &failed.worker)
    }
}

/// Creates `path` holding `claim` if no file has that name, in a way that is exclusive on NFS: the
/// claim is written to a file of the worker's own and hard-linked to `path`. Returns whether this
/// worker created it.
fn create_exclusive(path: &Path, claim: &Claim, worker: &Worker) -> Result<bool, StoreError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("claim");
    let own = dir.join(format!(".{name}.{}-{}", worker.host, worker.pid));
    write_json(&own, claim)?;
    let linked = match fs::hard_link(&own, path) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            // NFS: the link may have been made and its reply lost; then our file has two links.
            links_of(&own) == Some(2)
        }
        Err(e) => {
            let _ = fs::remove_file(&own);
            return Err(io_error(path)(e));
        }
    };
    let _ = fs::remove_file(&own);
    Ok(linked)
}

#[cfg(unix)]
fn links_of(path: &Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(path).ok().map(|m| m.nlink())
}

#[cfg(not(unix))]
fn links_of(_: &Path) -> Option<u64> {
    None
}

thread_local! {
    /// The claim under which this thread writes artifacts, if it is a worker's.
    static FENCE: std::cell::RefCell<Option<(UnitFolder, u32)>> = const { std::cell::RefCell::new(None) };
}

/// An error if this thread writes under a claim that another worker took over (this one stalled past
/// its lease); `path` is the write refused. Every artifact write calls it first
/// ([`crate::store::Artifact`]), so a worker taken over writes nothing more into the artifacts the new
/// holder is writing.
pub(crate) fn check_fence(path: &Path) -> Result<(), StoreError> {
    FENCE.with(|fence| {
        let Some((unit, number)) = &*fence.borrow() else {
            return Ok(());
        };
        if unit.claimed_after(*number)? {
            return Err(StoreError::Io {
                path: path.to_owned(),
                source: std::io::Error::other(format!(
                    "another worker took over {} (this one's claim {number} ran out): this \
                     worker writes nothing more of it",
                    unit.dir.display()
                )),
            });
        }
        Ok(())
    })
}

/// Makes this thread's artifact writes check that claim `number` on `unit` is still the newest.
fn fence_writes(claim: Option<(UnitFolder, u32)>) {
    FENCE.with(|fence| *fence.borrow_mut() = claim);
}

/// A claim this worker holds, kept alive by a thread that beats until it is dropped or the unit ends.
pub struct Held {
    unit: UnitFolder,
    claim: Claim,
    lost: Arc<AtomicBool>,
    stop: Option<mpsc::Sender<()>>,
    beating: Option<std::thread::JoinHandle<()>>,
    began: f64,
}

impl Held {
    fn start(unit: UnitFolder, claim: Claim, lease: Lease) -> Self {
        // This thread's artifact writes stop as soon as another worker takes the unit over.
        fence_writes(Some((unit.clone(), claim.number)));
        let lost = Arc::new(AtomicBool::new(false));
        let (stop, stopped) = mpsc::channel::<()>();
        let beating = {
            let (unit, mut claim, lost) = (unit.clone(), claim.clone(), lost.clone());
            std::thread::Builder::new()
                .name(format!("lease {}", claim.number))
                .spawn(move || loop {
                    match stopped.recv_timeout(lease.beat_every()) {
                        Err(mpsc::RecvTimeoutError::Timeout) => {}
                        _ => return,
                    }
                    // Another worker took the unit over: this one stalled past its lease.
                    if unit.claimed_after(claim.number).unwrap_or(false) {
                        lost.store(true, Ordering::SeqCst);
                        return;
                    }
                    claim.beat += 1;
                    if let Err(e) = write_json(&unit.claim_path(claim.number), &claim) {
                        tracing::warn!("cannot renew the claim on {}: {e}", unit.dir.display());
                    }
                })
                .ok()
        };
        Held {
            unit,
            claim,
            lost,
            stop: Some(stop),
            beating,
            began: unix_seconds(),
        }
    }

    /// The claim.
    pub fn claim(&self) -> &Claim {
        &self.claim
    }

    /// Whether another worker took the unit over (this one stalled past its lease).
    pub fn is_lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
            || self.unit.claimed_after(self.claim.number).unwrap_or(false)
    }

    fn stop_beating(&mut self) {
        fence_writes(None);
        drop(self.stop.take());
        if let Some(beating) = self.beating.take() {
            let _ = beating.join();
        }
    }

    /// Marks the unit done, unless the claim was lost (then the new holder marks it); `claim_s` is the
    /// time it took to find and claim it. Returns whether it did.
    pub fn finish(mut self, claim_s: f64) -> Result<bool, StoreError> {
        self.stop_beating();
        if self.is_lost() {
            return Ok(false);
        }
        self.unit.mark_done(&Finished {
            worker: self.claim.worker.clone(),
            began: self.began,
            ended: unix_seconds(),
            claim_s,
        })?;
        Ok(true)
    }

    /// Records that the unit failed with `error` and releases it.
    pub fn fail(mut self, error: String) -> Result<(), StoreError> {
        self.stop_beating();
        if self.is_lost() {
            return Ok(());
        }
        let failed = Failed {
            worker: self.claim.worker.clone(),
            error,
            at: unix_seconds(),
        };
        self.unit.mark_failed(&failed, self.claim.number)
    }
}

#[cfg(test)]
impl Held {
    /// Stops beating and leaves the claim as a killed worker would.
    fn crash(mut self) {
        self.stop_beating();
        std::mem::forget(self);
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.stop_beating();
    }
}

/// What a worker has seen of other workers' claims: each claim's last beat, and when (on this
/// worker's clock) it last changed.
#[derive(Debug, Default)]
pub struct Watch {
    seen: BTreeMap<(PathBuf, u32), (u64, Instant)>,
}

impl Watch {
    /// Whether `claim` on `unit` is over: its holder is a process of this machine that no longer runs,
    /// or its beat has not changed for its lease since this watch first saw it.
    pub fn is_over(&mut self, unit: &UnitFolder, claim: &Claim) -> bool {
        if claim.worker.is_gone_from_this_machine() {
            return true;
        }
        let now = Instant::now();
        let entry = self
            .seen
            .entry((unit.dir.clone(), claim.number))
            .or_insert((claim.beat, now));
        if entry.0 != claim.beat {
            *entry = (claim.beat, now);
        }
        now.duration_since(entry.1) >= Duration::from_secs_f64(claim.lease_s.max(0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_unit(name: &str) -> UnitFolder {
        let dir =
            std::env::temp_dir().join(format!("taskonomy-claim-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        UnitFolder::at(dir)
    }

    fn elsewhere() -> Worker {
        Worker {
            host: "another-node".into(),
            pid: 1,
            boot: None,
            started: None,
            job: Some("77_3".into()),
        }
    }

    #[test]
    fn a_unit_is_claimed_once_until_its_claim_is_over() {
        let unit = temp_unit("once");
        let me = Worker::this_process();
        let held = unit
            .try_claim(&me, Lease::seconds(60.0), |_| true)
            .unwrap()
            .expect("the first claim");
        assert_eq!(held.claim().number, 1);
        // A claim that is not over keeps the unit.
        assert!(unit
            .try_claim(&elsewhere(), Lease::seconds(60.0), |_| false)
            .unwrap()
            .is_none());
        assert!(held.finish(0.0).unwrap());
        assert!(unit.is_done());
        assert_eq!(unit.finished().unwrap().worker, me);
        fs::remove_dir_all(unit.dir()).unwrap();
    }

    #[test]
    fn racing_workers_get_one_claim_each_number() {
        let unit = temp_unit("race");
        let wins: usize = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let unit = unit.clone();
                    scope.spawn(move || {
                        let worker = Worker {
                            pid: 1000 + i,
                            ..elsewhere()
                        };
                        unit.try_claim(&worker, Lease::seconds(60.0), |_| false)
                            .unwrap()
                            .map(Held::crash)
                            .is_some() as usize
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(wins, 1);
        assert_eq!(unit.claim_numbers().unwrap(), [1]);
        fs::remove_dir_all(unit.dir()).unwrap();
    }

    #[test]
    fn a_claim_whose_beat_stops_is_over_after_its_lease() {
        let unit = temp_unit("lease");
        let held = unit
            .try_claim(&elsewhere(), Lease::seconds(0.2), |_| true)
            .unwrap()
            .unwrap();
        let mut watch = Watch::default();
        let beating = || unit.current().unwrap().unwrap().0;
        // While its holder beats, the claim is never over.
        for _ in 0..6 {
            assert!(!watch.is_over(&unit, &beating()));
            std::thread::sleep(Duration::from_millis(60));
        }
        assert!(beating().beat > 0, "the holder beats");
        // A holder that stops beating (a worker that died) loses the unit after the lease, not before.
        held.crash();
        let stopped = beating();
        assert!(!watch.is_over(&unit, &stopped));
        std::thread::sleep(Duration::from_millis(250));
        assert!(watch.is_over(&unit, &beating()));
        let taken = unit
            .try_claim(&Worker::this_process(), Lease::seconds(60.0), |c| {
                watch.is_over(&unit, c)
            })
            .unwrap()
            .expect("the unit is taken over");
        assert_eq!(taken.claim().number, 2);
        fs::remove_dir_all(unit.dir()).unwrap();
    }

    #[test]
    fn a_claim_of_a_process_gone_from_this_machine_is_over_at_once() {
        let unit = temp_unit("gone");
        let me = Worker::this_process();
        if me.boot.is_none() {
            return; // No /proc: only the lease can tell.
        }
        // A process of this machine that no longer runs: this one, as if it had started earlier.
        let gone = Worker {
            started: me.started.map(|s| s.wrapping_sub(1)),
            ..me.clone()
        };
        assert!(gone.is_gone_from_this_machine());
        assert!(!me.is_gone_from_this_machine());
        unit.try_claim(&gone, Lease::seconds(3600.0), |_| true)
            .unwrap()
            .expect("the first claim")
            .crash();
        let mut watch = Watch::default();
        let (claim, _) = unit.current().unwrap().unwrap();
        assert!(watch.is_over(&unit, &claim));
        fs::remove_dir_all(unit.dir()).unwrap();

        // A worker killed and not yet reaped by its parent (a zombie) no longer runs either.
        let mut child = std::process::Command::new("sleep")
            .arg("0.2")
            .spawn()
            .unwrap();
        let zombie = Worker {
            pid: child.id(),
            started: process_start(child.id()),
            ..me
        };
        assert!(!zombie.is_gone_from_this_machine(), "it runs");
        let started = std::time::Instant::now();
        while !zombie.is_gone_from_this_machine() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "seen running after it ended"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        child.wait().unwrap();
    }

    #[test]
    fn a_holder_that_was_taken_over_writes_no_done() {
        let unit = temp_unit("lost");
        let first = unit
            .try_claim(&elsewhere(), Lease::seconds(60.0), |_| true)
            .unwrap()
            .unwrap();
        let second = unit
            .try_claim(&Worker::this_process(), Lease::seconds(60.0), |_| true)
            .unwrap()
            .unwrap();
        assert!(first.is_lost());
        assert!(!first.finish(0.0).unwrap());
        assert!(!unit.is_done());
        assert!(second.finish(0.0).unwrap());
        assert!(unit.is_done());
        fs::remove_dir_all(unit.dir()).unwrap();
    }

    #[test]
    fn a_holder_that_was_taken_over_writes_no_more_artifacts() {
        let unit = temp_unit("fenced");
        let artifact = crate::store::Artifact::at(unit.dir().join("artifact"));
        let held = unit
            .try_claim(&elsewhere(), Lease::seconds(60.0), |_| true)
            .unwrap()
            .unwrap();
        artifact.begin().unwrap();
        artifact.write("half.json", b"[1]").unwrap();
        // Another worker takes the unit over (this one stalled past its lease, say).
        let newer = unit.claim_path(2);
        fs::write(&newer, "{}").unwrap();
        let error = artifact.begin().unwrap_err().to_string();
        assert!(error.contains("another worker took over"), "{error}");
        assert!(artifact.write("more.json", b"[2]").is_err());
        assert!(artifact.finish(&"done").is_err());
        assert!(artifact.path("half.json").is_file(), "nothing was cleared");
        drop(held);
        // Without a claim, writes are not fenced.
        artifact.write("more.json", b"[2]").unwrap();
        fs::remove_dir_all(unit.dir()).unwrap();
    }

    #[test]
    fn a_failed_unit_is_released_and_can_be_retried() {
        let unit = temp_unit("failed");
        let held = unit
            .try_claim(&Worker::this_process(), Lease::seconds(60.0), |_| false)
            .unwrap()
            .unwrap();
        held.fail("diverged at step 3".into()).unwrap();
        assert_eq!(unit.failure().unwrap().error, "diverged at step 3");
        let (claim, released) = unit.current().unwrap().unwrap();
        assert!(released);
        unit.clear_failure().unwrap();
        assert!(unit.failure().is_none());
        let again = unit
            .try_claim(&Worker::this_process(), Lease::seconds(60.0), |_| false)
            .unwrap()
            .expect("a released unit is claimed again");
        assert_eq!(again.claim().number, claim.number + 1);
        drop(again);
        fs::remove_dir_all(unit.dir()).unwrap();
    }
}
