//! `taskonomy plan`: the command-line contract (JSON shape, text table, sweep files, errors).

use std::path::PathBuf;
use std::process::{Command, Output};

fn affinities() -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/taskonomy2018/affinities.csv"
    )
    .to_owned()
}

fn plan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_taskonomy"))
        .arg("plan")
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn json_for_budget_one_chooses_surface_normals() {
    let out = stdout(&plan(&[
        "--affinities",
        &affinities(),
        "--budget",
        "1",
        "--format",
        "json",
    ]));
    assert_eq!(out.lines().count(), 1, "one object on one line");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = [
        "budget",
        "max_order",
        "own_supervision",
        "objective",
        "sources",
        "transfers",
        "solve_seconds",
    ];
    expected.sort_unstable();
    let mut keys_sorted = keys.clone();
    keys_sorted.sort_unstable();
    assert_eq!(keys_sorted, expected);
    assert_eq!(json["budget"], 1);
    assert_eq!(json["max_order"], 1);
    assert_eq!(json["own_supervision"], "one");
    assert_eq!(
        format!("{:.6}", json["objective"].as_f64().unwrap()),
        "1.502045"
    );
    assert_eq!(json["sources"], serde_json::json!(["rgb2sfnorm"]));
    let transfers = json["transfers"].as_object().unwrap();
    assert_eq!(transfers.len(), 22);
    assert_eq!(
        transfers["rgb2sfnorm"],
        serde_json::json!({"sources": ["rgb2sfnorm"], "performance": 1.0, "supervised": true})
    );
    assert_eq!(
        transfers["rgb2depth"]["sources"],
        serde_json::json!(["rgb2sfnorm"])
    );
    assert_eq!(transfers["rgb2depth"]["supervised"], false);
    assert!(json["solve_seconds"].as_f64().unwrap() >= 0.0);
}

#[test]
fn options_reach_the_program() {
    let out = stdout(&plan(&[
        "--affinities",
        &affinities(),
        "--budget",
        "3",
        "--max-order",
        "2",
        "--own-supervision",
        "value",
        "--format",
        "json",
    ]));
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["own_supervision"], "value");
    assert_eq!(
        format!("{:.6}", json["objective"].as_f64().unwrap()),
        "2.864258"
    );
    assert_eq!(
        json["sources"],
        serde_json::json!(["denoise", "edge2d", "rgb2sfnorm"])
    );

    // Restricted sources and targets, a weighted target and a costly task.
    let out = stdout(&plan(&[
        "--affinities",
        &affinities(),
        "--budget",
        "2.5",
        "--sources",
        "rgb2depth,rgb2sfnorm,denoise",
        "--targets",
        "rgb2depth,rgb2sfnorm,autoencoder",
        "--importance",
        "autoencoder=10",
        "--cost",
        "rgb2depth=0.5",
        "--format",
        "json",
    ]));
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["budget"], 2.5);
    assert_eq!(json["transfers"].as_object().unwrap().len(), 3);
    // rgb2depth costs 0.5, so all three candidates fit in 2.5.
    assert_eq!(
        json["sources"],
        serde_json::json!(["denoise", "rgb2depth", "rgb2sfnorm"])
    );
    // autoencoder weighs 10 and is solved from denoise, its best source.
    assert_eq!(
        json["transfers"]["autoencoder"]["sources"],
        serde_json::json!(["denoise"])
    );
    let autoencoder = json["transfers"]["autoencoder"]["performance"]
        .as_f64()
        .unwrap();
    let objective = json["objective"].as_f64().unwrap();
    // The two other targets are labelled, so solved by their own supervision (p = 1).
    assert!(
        (objective - (2.0 + 10.0 * autoencoder)).abs() < 1e-12,
        "{objective}"
    );
}

#[test]
fn tasks_may_be_named_by_the_dictionary() {
    let affinities_path = affinities();
    let json = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec![
            "--affinities",
            &affinities_path,
            "--budget",
            "1",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        serde_json::from_str(&stdout(&plan(&args))).unwrap()
    };
    let canonical = json(&["--names", "dictionary"]);
    assert_eq!(canonical["sources"], serde_json::json!(["surface_normals"]));
    assert_eq!(
        format!("{:.6}", canonical["objective"].as_f64().unwrap()),
        "1.502045"
    );
    assert!(canonical["transfers"]["depth"].is_object());
    // Options take either spelling, whatever the output uses.
    let restricted = json(&["--sources", "depth,denoising"]);
    assert_eq!(restricted["sources"], serde_json::json!(["denoise"]));
    let restricted = json(&["--names", "dictionary", "--sources", "rgb2depth,denoise"]);
    assert_eq!(restricted["sources"], serde_json::json!(["denoising"]));
}

#[test]
fn text_lists_each_target_with_its_sources() {
    let out = stdout(&plan(&["--affinities", &affinities(), "--budget", "2"]));
    assert!(
        out.contains("Chosen sources (2, label cost 2): denoise, rgb2sfnorm"),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("rgb2depth") && l.contains("← rgb2sfnorm")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("denoise") && l.contains("(own supervision)")),
        "{out}"
    );
    assert!(out.contains("Objective 2.784192"), "{out}");
}

#[test]
fn the_sweep_writes_csv_and_svg() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("plan_cli_sweep");
    let _ = std::fs::remove_dir_all(&dir);
    let out = stdout(&plan(&[
        "--affinities",
        &affinities(),
        "--sweep",
        "--max-order",
        "2",
        "--out",
        dir.to_str().unwrap(),
    ]));
    assert!(out.contains("50 solves"), "{out}");
    let csv = std::fs::read_to_string(dir.join("sweep.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "max_order,budget,objective,sources");
    assert_eq!(lines.len(), 1 + 2 * 25);
    assert!(
        lines[1].starts_with("1,1,1.50204") && lines[1].ends_with(",rgb2sfnorm"),
        "{}",
        lines[1]
    );
    let order_2_budget_4: Vec<&str> = lines[1 + 25 + 3].split(',').collect();
    assert_eq!(order_2_budget_4[..2], ["2", "4"]);
    assert_eq!(
        format!("{:.6}", order_2_budget_4[2].parse::<f64>().unwrap()),
        "5.413006"
    );
    assert_eq!(order_2_budget_4[3], "curvature+denoise+edge3d+rgb2sfnorm");
    let svg = std::fs::read_to_string(dir.join("sweep.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert_eq!(
        svg.matches("<polyline").count(),
        2,
        "one line per max order"
    );
    assert!(svg.contains("max order 1") && svg.contains("max order 2"));
}

#[test]
fn errors_name_the_problem_and_exit_non_zero() {
    let output = plan(&[
        "--affinities",
        &affinities(),
        "--budget",
        "1",
        "--sources",
        "rgb2sfnrm",
    ]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr
            .contains("`rgb2sfnrm` is not a source task in the table (did you mean `rgb2sfnorm`?)"),
        "{stderr}"
    );

    let output = plan(&["--affinities", "no/such.csv", "--budget", "1"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot read no/such.csv"));

    let output = plan(&[
        "--affinities",
        &affinities(),
        "--budget",
        "1",
        "--importance",
        "rgb2depth",
    ]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("expected `task=number`"));

    let output = plan(&["--affinities", &affinities()]);
    assert!(!output.status.success(), "a budget or --sweep is required");
}
