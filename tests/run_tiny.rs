//! `taskonomy run --preset tiny --transitive`: the whole method end to end, data → report, as a user runs
//! it; and started again, it redoes nothing and reports the same taxonomies.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_taskonomy"))
        .args([
            "run",
            "--preset",
            "tiny",
            "--tasks",
            "depth,surface_normals,reshading,edges2d,autoencoding,scene_class",
            "--budget",
            "1..3",
            "--max-order",
            "2",
            "--novel",
            "scene_class",
            "--seed",
            "5",
            "--transitive",
            "--out",
        ])
        .arg(out)
        .output()
        .expect("run the taskonomy binary")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("taskonomy-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The summary table's rows: `budget objective gain quality p sources`.
fn taxonomy_rows(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .skip_while(|line| !line.trim_start().starts_with("budget"))
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

/// The line that says whether transitive transfer helps.
fn transitive_verdict(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|line| line.strip_prefix("Transitive transfer: "))
        .unwrap_or_else(|| panic!("no transitive verdict in\n{stdout}"))
        .to_owned()
}

/// Every artifact folder two levels under `dir` (`name/key`), sorted.
fn artifacts(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flat_map(|entry| std::fs::read_dir(entry.unwrap().path()).unwrap())
        .map(|entry| entry.unwrap().path())
        .collect();
    found.sort();
    found
}

#[test]
fn the_tiny_preset_runs_end_to_end_and_resumes() {
    let out = temp_dir("run-tiny");
    let first = run(&out);
    let stdout = String::from_utf8_lossy(&first.stdout).into_owned();
    assert!(
        first.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&first.stderr)
    );

    let rows = taxonomy_rows(&stdout);
    assert_eq!(rows.len(), 3, "one taxonomy per budget:\n{stdout}");
    for (budget, row) in rows.iter().enumerate() {
        let fields: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(fields[0], (budget + 1).to_string());
        let sources = fields[5..].join(" ");
        let count = sources.split(", ").count();
        assert!(
            count <= budget + 1,
            "budget {} labels {count} sources",
            budget + 1
        );
        // The novel task is never supervised, so never a source.
        assert!(!row.contains("scene_class"), "{row}");
        let gain: f64 = fields[2].parse().unwrap();
        let quality: f64 = fields[3].parse().unwrap();
        assert!((0.0..=1.0).contains(&gain) && (0.0..=1.0).contains(&quality));
    }

    for table in ["affinities", "wins_vs_task", "wins_vs_pixels"] {
        assert!(out.join(format!("{table}.csv")).is_file(), "{table}");
        // Every row's bootstrap interval contains its point estimate.
        let csv = std::fs::read_to_string(out.join(format!("{table}_intervals.csv"))).unwrap();
        assert!(csv.starts_with("sources,target,order,value,low,high\n"));
        for line in csv.lines().skip(1) {
            let fields: Vec<f64> = line
                .split(',')
                .skip(3)
                .map(|v| v.parse().unwrap())
                .collect();
            let [value, low, high] = fields[..] else {
                panic!("{line}")
            };
            assert!(low <= value && value <= high, "{table}: {line}");
        }
    }

    // The novel task exists only as a target: no representation of it, no transfer from it, no row
    // with it as a source; its own network appears in no tournament (no `self` affinity), only in the
    // Quality table.
    assert!(!out.join("reps/scene_class").exists());
    for target in std::fs::read_dir(out.join("transfers")).unwrap() {
        for sources in std::fs::read_dir(target.unwrap().path()).unwrap() {
            let name = sources.unwrap().file_name().to_string_lossy().into_owned();
            assert!(
                !name.contains("scene_class"),
                "a transfer from the novel task: {name}"
            );
        }
    }
    let affinities = std::fs::read_to_string(out.join("affinities.csv")).unwrap();
    assert!(affinities.lines().any(|l| l.contains(",scene_class,")));
    for line in affinities.lines() {
        let sources = line.split(',').next().unwrap();
        assert!(!sources.contains("scene_class"), "{line}");
        assert!(!line.starts_with("self,scene_class,"), "{line}");
    }
    let quality = std::fs::read_to_string(out.join("wins_vs_task.csv")).unwrap();
    assert!(quality.lines().any(|l| l.starts_with("self,scene_class,")));
    let gain = std::fs::read_to_string(out.join("wins_vs_pixels.csv")).unwrap();
    assert!(!gain.lines().any(|l| l.starts_with("self,scene_class,")));
    let novel = std::fs::read_to_string(out.join("novel.json")).unwrap();
    assert!(novel.contains("\"target\": \"scene_class\""), "{novel}");
    assert!(
        stdout.contains("novel scene_class: all for one from"),
        "{stdout}"
    );
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    for figure in [
        "affinity_before_ahp.svg",
        "affinity_after_ahp.svg",
        "similarity_tree.svg",
        "taxonomy_budget_1.svg",
        "taxonomy_budget_3.svg",
        "gain.svg",
        "quality.svg",
        "significance.svg",
        "loss_task_depth.svg",
    ] {
        assert!(out.join("figures").join(figure).is_file(), "{figure}");
        assert!(report.contains(&format!("figures/{figure}")), "{figure}");
    }
    assert!(report.contains("Novel tasks") && report.contains("Departures from the paper"));
    // The estimators ran beside the trained transfers, and the report compares them.
    assert!(
        report.contains("Transferability estimators"),
        "no estimators section"
    );
    for estimator in ["logme", "hscore", "ridge"] {
        let dir = out.join("estimates").join(estimator);
        assert!(dir.join("summary.json").is_file(), "{estimator}");
        assert!(dir.join("comparison.json").is_file(), "{estimator}");
    }
    let estimated = std::fs::read_to_string(out.join("estimates/ridge/affinities.csv")).unwrap();
    assert!(
        !estimated
            .lines()
            .any(|l| l.starts_with("self,scene_class,")),
        "the novel task's own network enters no tournament"
    );
    assert!(report.contains("tiny"));

    // Transitive transfer: every first-order pair through an intermediate that is neither its source nor
    // its target. The novel task is no source: 5 known targets × 4 other sources, and 5 into the novel one.
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(stderr.contains("[4/8] transitive transfers"), "{stderr}");
    let verdict = transitive_verdict(&stdout);
    assert!(verdict.contains("of 25 first-order pairs"), "{verdict}");
    let csv = std::fs::read_to_string(out.join("transitive.csv")).unwrap();
    let paths: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(paths.len(), 25, "{csv}");
    for path in &paths {
        let (source, intermediate, target) = (path[0], path[1], path[2]);
        assert!(intermediate != source && intermediate != target, "{csv}");
        let win_rate: f64 = path[5].parse().unwrap();
        assert!((0.0..=1.0).contains(&win_rate), "{csv}");
    }
    assert!(out.join("figures/transitive.svg").is_file());
    assert!(report.contains("Transitive transfer") && report.contains(&verdict));
    let mappings = artifacts(&out.join("mappings"));
    assert!(!mappings.is_empty());

    // Started again: every stage finds its artifacts, and the taxonomies are the same.
    let again = run(&out);
    assert!(again.status.success());
    let again_stdout = String::from_utf8_lossy(&again.stdout).into_owned();
    assert_eq!(taxonomy_rows(&again_stdout), rows);
    assert_eq!(transitive_verdict(&again_stdout), verdict);
    assert_eq!(
        artifacts(&out.join("mappings")),
        mappings,
        "no mapping trained again"
    );
    std::fs::remove_dir_all(&out).unwrap();
}

/// Runs the `taskonomy` binary with `args`; panics with its output when it fails.
fn taskonomy(args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_taskonomy"))
        .args(args)
        .output()
        .expect("run the taskonomy binary");
    assert!(
        output.status.success(),
        "taskonomy {args:?}:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[test]
fn missing_and_corrupt_labels_are_reported_as_met_and_counted() {
    let root = temp_dir("run-damaged");
    let data = root.join("data");
    let data_arg = data.display().to_string();
    // Few enough scenes that every view of every split is read when samples are chosen.
    taskonomy(&[
        "render", "--scenes", "4", "--size", "16", "--seed", "2", "--out", &data_arg,
    ]);
    let building = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .min()
        .unwrap();
    let normals = building.join("normal/point_0_view_0_domain_normal.png");
    std::fs::remove_file(&normals).unwrap();
    let depth = building.join("depth_zbuffer/point_1_view_0_domain_depth_zbuffer.png");
    std::fs::write(&depth, b"\x89PNG\r\n\x1a\nnot an image at all").unwrap();
    // And no 2-D edges anywhere: that task has no labels.
    for building in std::fs::read_dir(&data).unwrap() {
        let _ = std::fs::remove_dir_all(building.unwrap().path().join("edge_texture"));
    }

    let out = root.join("run").display().to_string();
    let run = taskonomy(&[
        "run",
        "--preset",
        "tiny",
        "--data",
        &data_arg,
        "--tasks",
        "depth,surface_normals,reshading,edges2d",
        "--budget",
        "1",
        "--out",
        &out,
    ]);
    // Each problem is a warning as it is met, naming the file ...
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("WARN") && stderr.contains("point_0_view_0_domain_normal.png"),
        "{stderr}"
    );
    assert!(
        stderr.contains("point_1_view_0_domain_depth_zbuffer.png"),
        "{stderr}"
    );
    // ... counted in the summary ...
    assert!(
        stderr.contains("edges2d") && stderr.contains("left out of the run"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        stdout.contains(
            "Data: 2 sample(s) skipped because a file was missing or corrupt, 1 task(s) left out"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("surface_normals") && stdout.contains("1 skipped"));
    assert!(stdout.contains("edges2d") && stdout.contains("left out:"));
    // ... and in the report.
    let report = std::fs::read_to_string(root.join("run/report.html")).unwrap();
    assert!(
        report.contains("2 samples skipped") && report.contains("domain_normal.png"),
        "the report's data section"
    );
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn an_estimator_only_run_trains_no_readout_and_plans_on_the_estimates() {
    let out = temp_dir("run-logme");
    let out_arg = out.display().to_string();
    let run = taskonomy(&[
        "run",
        "--preset",
        "tiny",
        "--tasks",
        "depth,surface_normals,reshading,edges2d",
        "--budget",
        "1..2",
        "--estimator",
        "logme",
        "--out",
        &out_arg,
    ]);
    let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
    assert_eq!(taxonomy_rows(&stdout).len(), 2, "{stdout}");

    // Step II trained each target's `pixels` baseline and nothing else.
    for target in std::fs::read_dir(out.join("transfers")).unwrap() {
        let target = target.unwrap().path();
        let trained: Vec<String> = std::fs::read_dir(&target)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(trained, ["pixels"], "{}", target.display());
    }
    // The tables are the estimates, where estimates go; no trained table was written.
    assert!(out.join("estimates/logme/affinities.csv").is_file());
    assert!(out.join("estimates/ridge/wins_vs_task.csv").is_file());
    assert!(!out.join("affinities.csv").exists());
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(report.contains("Affinities estimated by logme"), "{report}");

    // The estimator-only run cannot measure transitive transfer: it has no readouts.
    let refused = Command::new(env!("CARGO_BIN_EXE_taskonomy"))
        .args([
            "run",
            "--estimator",
            "logme",
            "--transitive",
            "--out",
            &out_arg,
        ])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--transitive"));
    // H-score estimates classification targets only: none of these.
    let nothing = Command::new(env!("CARGO_BIN_EXE_taskonomy"))
        .args([
            "run",
            "--preset",
            "tiny",
            "--tasks",
            "depth,surface_normals,reshading,edges2d",
        ])
        .args(["--estimator", "hscore", "--out", &out_arg])
        .output()
        .unwrap();
    assert!(!nothing.status.success());
    let stderr = String::from_utf8_lossy(&nothing.stderr);
    assert!(
        stderr.contains("hscore estimates no target of this run")
            && stderr.contains("H-score is defined for classification targets only"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&out).unwrap();
}
