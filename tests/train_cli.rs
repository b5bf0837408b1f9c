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
