//! `taskonomy train`, `transfer` and `affinities` as a user runs them: a run killed in the middle of
//! step I resumes without redoing finished networks and ends with the same results as an uninterrupted
//! run; `affinities` reads the run folder only (the images may be gone); the tables it writes are read
//! by `taskonomy plan`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const TASKS: &str = "depth,surface_normals,reshading";

fn taskonomy(args: &[&str]) -> std::process::Output {
    let output = Command::new(env!("CARGO_BIN_EXE_taskonomy"))
        .args(args)
        .output()
        .expect("the taskonomy binary runs");
    assert!(
        output.status.success(),
        "taskonomy {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("taskonomy-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Every finished task network's test losses, by task.
fn task_losses(run: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for task in std::fs::read_dir(run.join("tasks")).unwrap() {
        let task = task.unwrap();
        for key in std::fs::read_dir(task.path()).unwrap() {
            let key = key.unwrap().path();
            if key.join("done").is_file() {
                let losses = std::fs::read_to_string(key.join("test_losses.json")).unwrap();
                out.push((task.file_name().to_string_lossy().into_owned(), losses));
            }
        }
    }
    out.sort();
    out
}

fn count_done(run: &Path) -> usize {
    std::fs::read_dir(run.join("tasks"))
        .map(|tasks| {
            tasks
                .flatten()
                .flat_map(|t| std::fs::read_dir(t.path()).into_iter().flatten().flatten())
                .filter(|k| k.path().join("done").is_file())
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn an_interrupted_run_resumes_and_matches_an_uninterrupted_one() {
    let root = temp_dir("resume");
    let (killed, clean) = (root.join("killed"), root.join("clean"));
    let train = |out: &Path| {
        vec![
            "train".to_owned(),
            "--preset".into(),
            "tiny".into(),
            "--tasks".into(),
            TASKS.into(),
            "--quiet".into(),
            "--out".into(),
            out.display().to_string(),
        ]
    };

    // Start step I and kill it once the first network is finished (or when it ends by itself).
    let mut child = Command::new(env!("CARGO_BIN_EXE_taskonomy"))
        .args(train(&killed))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    while count_done(&killed) == 0 && child.try_wait().unwrap().is_none() {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    child.wait().unwrap();
    let finished_before = task_losses(&killed);
    assert!(!finished_before.is_empty());

    // Resuming keeps what was finished and trains the rest.
    let args = train(&killed);
    let output = taskonomy(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(report.contains("up to date"), "{report}");
    let after = task_losses(&killed);
    assert_eq!(after.len(), 3);
    for finished in &finished_before {
        assert!(after.contains(finished), "{finished:?} was redone");
    }
    // Running it again trains nothing.
    let again = taskonomy(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(
        String::from_utf8_lossy(&again.stdout)
            .matches("up to date")
            .count(),
        3
    );

    // An uninterrupted run with the same settings gives the same networks.
    let args = train(&clean);
    taskonomy(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(task_losses(&clean), after);

    // Steps II and III, then the planner reads the table. Step III reads the per-image test losses
    // only: it runs without the images.
    let out = killed.display().to_string();
    taskonomy(&["transfer", "--quiet", "--out", &out]);

    // Estimators beside the trained transfers: the same rows in the same format under `estimates/`,
    // read by the planner, and compared with the trained tables once they exist.
    taskonomy(&["affinities", "--out", &out]);
    for estimator in ["logme", "hscore", "ridge"] {
        let output = taskonomy(&[
            "affinities",
            "--estimator",
            estimator,
            "--quiet",
            "--out",
            &out,
        ]);
        let dir = killed.join("estimates").join(estimator);
        let summary = std::fs::read_to_string(dir.join("summary.json")).unwrap();
        if estimator == "hscore" {
            // No target of these three is a classification: every one is left out, and says why.
            assert!(summary.contains("H-score is defined for classification targets only"));
            continue;
        }
        let estimated = std::fs::read_to_string(dir.join("affinities.csv")).unwrap();
        let trained = std::fs::read_to_string(killed.join("affinities.csv")).unwrap();
        let rows = |csv: &str| -> Vec<String> {
            let mut rows: Vec<String> = csv
                .lines()
                .map(|l| l.rsplit_once(',').unwrap().0.to_owned())
                .collect();
            rows.sort();
            rows
        };
        assert_eq!(
            rows(&estimated),
            rows(&trained),
            "{estimator}: the same transfers"
        );
        assert!(dir.join("comparison.json").is_file());
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains("median ρ"), "{stdout}");
        let table = dir.join("affinities.csv").display().to_string();
        let plan = taskonomy(&["plan", "--affinities", &table, "--budget", "1"]);
        assert!(String::from_utf8_lossy(&plan.stdout).contains("Chosen sources"));
    }
    assert!(killed.join("estimates/ridge/wins_vs_task.csv").is_file());
    std::fs::remove_dir_all(killed.join("data")).unwrap();
    taskonomy(&["affinities", "--out", &out]);
    for table in ["affinities.csv", "wins_vs_task.csv", "wins_vs_pixels.csv"] {
        let text = std::fs::read_to_string(killed.join(table)).unwrap();
        assert!(text.starts_with("sources,target,order,value\n"), "{table}");
        assert!(text.contains(",surface_normals,"), "{table}");
    }
    let affinities = killed.join("affinities.csv").display().to_string();
    let plan = taskonomy(&["plan", "--affinities", &affinities, "--budget", "1"]);
    assert!(String::from_utf8_lossy(&plan.stdout).contains("Chosen sources"));
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn later_stages_need_a_trained_run() {
    let root = temp_dir("missing");
    std::fs::create_dir_all(&root).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_taskonomy"))
        .args(["transfer", "--quiet", "--out", &root.display().to_string()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("manifest.json") && stderr.contains("taskonomy train"),
        "{stderr}"
    );
    let estimate = Command::new(env!("CARGO_BIN_EXE_taskonomy"))
        .args(["affinities", "--estimator", "logme", "--quiet"])
        .args(["--out", &root.display().to_string()])
        .output()
        .unwrap();
    assert!(!estimate.status.success());
    let stderr = String::from_utf8_lossy(&estimate.stderr);
    assert!(stderr.contains("manifest.json"), "{stderr}");
    let unknown = Command::new(env!("CARGO_BIN_EXE_taskonomy"))
        .args(["affinities", "--estimator", "leep"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        stderr.contains("expected logme, hscore or ridge"),
        "{stderr}"
    );
    let bad = Command::new(env!("CARGO_BIN_EXE_taskonomy"))
        .args([
            "train",
            "--tasks",
            "depht",
            "--out",
            &root.display().to_string(),
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("did you mean `depth`"), "{stderr}");
    std::fs::remove_dir_all(&root).unwrap();
}
