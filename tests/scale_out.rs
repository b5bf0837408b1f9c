//! Scale out: many workers on one run folder, on this machine and through Slurm. Whatever the
//! executor, and whatever happens to a worker (killed, cancelled, crashed long ago, started beside
//! another), every unit is trained once and the tables are those of a one-process run, byte for byte.
//!
//! The Slurm tests need `sbatch` and a running cluster (`.ci/slurm.sh` starts one); without them they
//! are skipped with a message, unless `TASKONOMY_REQUIRE_SLURM` is set (as CI sets it), when they fail.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The run every test makes: four tiny tasks, transfers of order ≤ 2.
const RUN: [&str; 10] = [
    "--preset",
    "tiny",
    "--tasks",
    "depth,surface_normals,reshading,edges2d",
    "--budget",
    "1..2",
    "--max-order",
    "2",
    "--seed",
    "3",
];

/// The tables that must not depend on who trained what.
const TABLES: [&str; 3] = ["affinities.csv", "wins_vs_task.csv", "wins_vs_pixels.csv"];

fn taskonomy() -> Command {
    Command::new(env!("CARGO_BIN_EXE_taskonomy"))
}

fn checked(output: Output, what: &str) -> Output {
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("taskonomy-scale-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// `taskonomy run` with the test's run, `extra` flags, into `out`.
fn run(out: &Path, extra: &[&str]) -> Output {
    taskonomy()
        .arg("run")
        .args(RUN)
        .args(extra)
        .arg("--out")
        .arg(out)
        .output()
        .expect("run the taskonomy binary")
}

/// The one-process run every other is compared with, made once.
fn reference() -> &'static Path {
    static REFERENCE: OnceLock<PathBuf> = OnceLock::new();
    REFERENCE.get_or_init(|| {
        let out = temp_dir("reference");
        checked(run(&out, &["--transitive"]), "the one-process run");
        out
    })
}

fn assert_same_tables(out: &Path, tables: &[&str]) {
    for table in tables {
        let expected = std::fs::read(reference().join(table)).expect("the reference table");
        let found = std::fs::read(out.join(table))
            .unwrap_or_else(|e| panic!("{}: {e}", out.join(table).display()));
        assert!(
            expected == found,
            "{table} differs from the one-process run's:\n{}\n---\n{}",
            String::from_utf8_lossy(&expected),
            String::from_utf8_lossy(&found)
        );
    }
}

/// The units of a prepared run, by name.
fn units(out: &Path) -> Vec<String> {
    let plan: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("work/plan.json")).expect("work/plan.json"))
            .expect("a plan");
    plan["units"]
        .as_array()
        .expect("units")
        .iter()
        .map(|u| {
            let kind = u["kind"]["kind"].as_str().unwrap_or_default();
            let task = u["kind"]["task"].as_str().unwrap_or_default();
            match kind {
                "task" => format!("task-{task}"),
                "representations" => format!("reps-{task}"),
                "transfers" => format!("transfers-{task}"),
                "mappings" => format!("mappings-{task}"),
                _ => "close".to_owned(),
            }
        })
        .collect()
}

/// The numbers of a unit's claims (`claim.<n>`), sorted.
fn claims(out: &Path, unit: &str) -> Vec<u32> {
    let mut numbers: Vec<u32> = std::fs::read_dir(out.join("work/units").join(unit))
        .map(|entries| {
            entries
                .filter_map(|e| {
                    e.ok()?
                        .file_name()
                        .to_str()?
                        .strip_prefix("claim.")?
                        .parse()
                        .ok()
                })
                .collect()
        })
        .unwrap_or_default();
    numbers.sort_unstable();
    numbers
}

fn unit_done(out: &Path, unit: &str) -> bool {
    out.join("work/units").join(unit).join("done").is_file()
}

/// A JSON file of a unit (`done`, `claim.1`).
fn unit_file(out: &Path, unit: &str, file: &str) -> serde_json::Value {
    let path = out.join("work/units").join(unit).join(file);
    serde_json::from_slice(
        &std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .expect("JSON")
}

/// Prepares `out` for workers started by hand.
fn prepare(out: &Path) {
    checked(
        run(out, &["--executor", "none"]),
        "preparing the run folder",
    );
}

/// A worker process on `out`, with a short lease and poll so that tests do not wait long.
fn worker(out: &Path, close: bool, log: &Path) -> Child {
    let log = std::fs::File::create(log).expect("a log file");
    let mut command = taskonomy();
    command
        .args([
            "-v", "worker", "--quiet", "--lease", "2", "--poll", "0.2", "--out",
        ])
        .arg(out)
        .stdout(log.try_clone().expect("log"))
        .stderr(log);
    if close {
        command.arg("--close");
    }
    command.spawn().expect("start a worker")
}

fn wait(mut child: Child, what: &str) {
    let status = child.wait().expect("wait for a worker");
    assert!(status.success(), "{what} failed ({status})");
}

/// Waits (at most two minutes) until `found` gives something.
fn wait_for<T>(what: &str, mut found: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = found() {
            return value;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A unit claimed and not done yet: being trained.
fn unit_in_training(out: &Path, of: Option<&str>) -> Option<String> {
    units(out).into_iter().find(|unit| {
        unit != "close"
            && !claims(out, unit).is_empty()
            && !unit_done(out, unit)
            && of.is_none_or(|job| {
                std::fs::read(out.join("work/units").join(unit).join("claim.1"))
                    .ok()
                    .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                    .is_some_and(|c| c["worker"]["job"].as_str() == Some(job))
            })
    })
}

#[test]
fn local_workers_give_the_tables_of_one_process() {
    let out = temp_dir("local");
    checked(
        run(
            &out,
            &["--transitive", "--executor", "local", "--workers", "2"],
        ),
        "the local executor",
    );
    assert_same_tables(&out, &TABLES);
    assert_same_tables(&out, &["transitive.csv"]);
    for unit in units(&out) {
        assert!(unit_done(&out, &unit), "{unit} is not done");
        if unit != "close" {
            assert_eq!(
                claims(&out, &unit),
                [1],
                "{unit} was claimed more than once"
            );
        }
    }
    // Both workers worked.
    let workers: std::collections::BTreeSet<u64> = units(&out)
        .iter()
        .filter(|u| u.starts_with("task-") || u.starts_with("transfers-"))
        .map(|u| {
            unit_file(&out, u, "done")["worker"]["pid"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(workers.len(), 2, "{workers:?}");
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn two_workers_started_at_once_train_each_unit_once() {
    let out = temp_dir("together");
    prepare(&out);
    let logs = [out.join("a.log"), out.join("b.log")];
    let (a, b) = (worker(&out, false, &logs[0]), worker(&out, false, &logs[1]));
    wait(a, "worker a");
    wait(b, "worker b");
    let trained: Vec<String> = logs
        .iter()
        .flat_map(|log| {
            std::fs::read_to_string(log)
                .expect("a worker's log")
                .lines()
                .filter_map(|line| {
                    line.split("training ")
                        .nth(1)
                        .map(|u| u.split(' ').next().unwrap_or("").to_owned())
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let mut expected: Vec<String> = units(&out).into_iter().filter(|u| u != "close").collect();
    let mut found = trained.clone();
    expected.sort();
    found.sort();
    assert_eq!(found, expected, "each unit trained exactly once");
    // Each task network was written once, under one key.
    for task in ["depth", "surface_normals", "reshading", "edges2d"] {
        let keys = std::fs::read_dir(out.join("tasks").join(task))
            .unwrap()
            .count();
        assert_eq!(keys, 1, "{task}");
    }
    wait(
        worker(&out, true, &out.join("close.log")),
        "the closing worker",
    );
    assert_same_tables(&out, &TABLES);
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn two_runs_started_on_one_folder_share_the_work() {
    // Once, the second of two `taskonomy run`s on one folder stopped with a missing `done` file, and
    // both trained the same networks.
    let out = temp_dir("two-runs");
    let start = || {
        taskonomy()
            .arg("run")
            .args(RUN)
            .arg("--out")
            .arg(&out)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start a run")
    };
    let first = start();
    std::thread::sleep(Duration::from_millis(1500));
    let second = start();
    for (child, which) in [(first, "first"), (second, "second")] {
        checked(child.wait_with_output().expect("a run"), which);
    }
    for unit in units(&out).iter().filter(|u| *u != "close") {
        assert_eq!(claims(&out, unit), [1], "{unit} was trained twice");
    }
    assert_same_tables(&out, &TABLES);
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn a_killed_worker_loses_only_the_unit_it_was_training() {
    let out = temp_dir("killed");
    prepare(&out);
    let mut victim = worker(&out, false, &out.join("victim.log"));
    // Killed in the middle of a unit, once it has finished a few.
    let unit = wait_for("a unit in training after some are done", || {
        let done = units(&out).iter().filter(|u| unit_done(&out, u)).count();
        (done >= 2).then(|| unit_in_training(&out, None)).flatten()
    });
    victim.kill().expect("SIGKILL the worker");
    let victim_pid = u64::from(victim.id());
    victim.wait().expect("the killed worker");
    assert!(
        !unit_done(&out, &unit),
        "{unit} finished before the kill; the test proves nothing"
    );
    let finished_before: Vec<String> = units(&out)
        .into_iter()
        .filter(|u| unit_done(&out, u))
        .collect();

    wait(
        worker(&out, true, &out.join("rescuer.log")),
        "the worker that takes over",
    );
    assert_eq!(claims(&out, &unit), [1, 2], "{unit} was taken over");
    // What the killed worker had finished was not trained again.
    for done in &finished_before {
        assert_eq!(claims(&out, done), [1], "{done} was trained again");
        assert_eq!(
            unit_file(&out, done, "done")["worker"]["pid"].as_u64(),
            Some(victim_pid)
        );
    }
    assert_same_tables(&out, &TABLES);
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn a_stale_lock_left_by_an_earlier_crash_is_taken_over() {
    let out = temp_dir("stale");
    prepare(&out);
    // Claims from long ago: one by a worker on another machine (over once its 1-second lease has passed
    // without a beat), one by a process of this machine that no longer runs (over at once).
    let gone = {
        let mut child = Command::new("true").spawn().expect("a short process");
        let pid = child.id();
        child.wait().unwrap();
        pid
    };
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").ok();
    let stale = [
        (
            "task-depth",
            serde_json::json!({"host": "node-that-crashed", "pid": 4242}),
        ),
        (
            "task-edges2d",
            serde_json::json!({"host": host.map(|h| h.trim().to_owned()), "pid": gone,
                               "boot": boot.map(|b| b.trim().to_owned()), "started": 1}),
        ),
    ];
    for (unit, worker) in &stale {
        let dir = out.join("work/units").join(unit);
        std::fs::create_dir_all(&dir).unwrap();
        let claim = serde_json::json!({
            "worker": worker, "number": 1, "lease_s": 1.0, "beat": 7, "claimed_at": 0.0
        });
        std::fs::write(dir.join("claim.1"), claim.to_string()).unwrap();
    }
    wait(
        worker(&out, true, &out.join("worker.log")),
        "a worker after a crash",
    );
    for (unit, _) in &stale {
        assert_eq!(claims(&out, unit), [1, 2], "{unit}");
        assert!(unit_done(&out, unit));
    }
    assert_same_tables(&out, &TABLES);
    std::fs::remove_dir_all(&out).unwrap();
}

/// Whether a Slurm cluster answers; when it does not, the reason (and the test is skipped, unless CI
/// requires Slurm).
fn slurm() -> Result<(), String> {
    let answer = Command::new("sinfo").args(["-h", "-o", "%t"]).output();
    let reason = match answer {
        Err(e) => format!("sbatch/sinfo not found ({e})"),
        Ok(o) if !o.status.success() => format!(
            "sinfo failed: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Ok(o) if String::from_utf8_lossy(&o.stdout).trim().is_empty() => "no Slurm node".into(),
        Ok(_) => return Ok(()),
    };
    if std::env::var_os("TASKONOMY_REQUIRE_SLURM").is_some() {
        panic!("TASKONOMY_REQUIRE_SLURM is set, but Slurm cannot be used: {reason}");
    }
    Err(reason)
}

#[test]
fn the_slurm_executor_gives_the_tables_of_one_process() {
    if let Err(reason) = slurm() {
        eprintln!("skipped: no Slurm here ({reason}); .ci/slurm.sh starts a one-node cluster");
        return;
    }
    let out = temp_dir("slurm");
    let output = checked(
        run(
            &out,
            &["--transitive", "--executor", "slurm", "--workers", "2"],
        ),
        "the slurm executor",
    );
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    assert_same_tables(&out, &TABLES);
    assert_same_tables(&out, &["transitive.csv"]);
    let jobs =
        String::from_utf8_lossy(&std::fs::read(out.join("work/slurm.json")).unwrap()).into_owned();
    let array: serde_json::Value = serde_json::from_str(&jobs).unwrap();
    let array = array["workers"].as_str().unwrap().to_owned();
    // The units were trained by the array's tasks, and the run closed by the closing job.
    let by_job = |unit: &str| {
        unit_file(&out, unit, "done")["worker"]["job"]
            .as_str()
            .map(str::to_owned)
    };
    assert!(by_job("task-depth").is_some_and(|job| job.starts_with(&format!("{array}_"))));
    assert!(unit_done(&out, "close"));
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn a_cancelled_array_task_loses_only_its_unit() {
    if let Err(reason) = slurm() {
        eprintln!("skipped: no Slurm here ({reason}); .ci/slurm.sh starts a one-node cluster");
        return;
    }
    let out = temp_dir("scancel");
    checked(
        run(
            &out,
            &[
                "--executor",
                "slurm",
                "--workers",
                "2",
                "--no-wait",
                "--lease",
                "2",
                "--poll",
                "0.2",
            ],
        ),
        "submitting to Slurm",
    );
    let jobs: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("work/slurm.json")).unwrap()).unwrap();
    let (array, close) = (
        jobs["workers"].as_str().unwrap(),
        jobs["close"].as_str().unwrap(),
    );
    let victim = format!("{array}_1");
    let unit = wait_for("a unit in training by array task 1", || {
        unit_in_training(&out, Some(&victim))
    });
    checked(
        Command::new("scancel")
            .arg(&victim)
            .output()
            .expect("scancel"),
        "scancel",
    );
    // The other task and the closing job finish the run.
    wait_for("the run's jobs to end", || {
        let queued = Command::new("squeue")
            .args(["-h", "-r", "-j", &format!("{array},{close}")])
            .output()
            .ok()?;
        String::from_utf8_lossy(&queued.stdout)
            .trim()
            .is_empty()
            .then_some(())
    });
    assert!(unit_done(&out, "close"), "the run was not closed");
    assert_eq!(claims(&out, &unit), [1, 2], "{unit} was taken over");
    assert_same_tables(&out, &TABLES);
    std::fs::remove_dir_all(&out).unwrap();
}
