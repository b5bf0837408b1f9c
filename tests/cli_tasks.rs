//! `taskonomy tasks`: the standard dictionary as a user lists it.

use std::process::Command;

fn taskonomy(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_taskonomy"))
        .args(args)
        .output()
        .expect("run the taskonomy binary")
}

#[test]
fn json_lists_the_26_tasks_with_their_paper_aliases() {
    let output = taskonomy(&["tasks", "--format", "json"]);
    assert!(output.status.success(), "{output:?}");
    let tasks: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    let tasks = tasks.as_array().expect("an array");
    assert_eq!(tasks.len(), 26);
    let normals = tasks
        .iter()
        .find(|t| t["name"] == "surface_normals")
        .expect("surface normals listed");
    assert_eq!(normals["aliases"], serde_json::json!(["rgb2sfnorm"]));
    assert_eq!(normals["output"], "Dense<3>");
    assert_eq!(normals["loss"], "Cosine");
    assert_eq!(normals["views"], 1);
    let egomotion = tasks.iter().find(|t| t["name"] == "egomotion").unwrap();
    assert_eq!(egomotion["views"], 3);
    assert_eq!(egomotion["aliases"], serde_json::json!(["ego_motion"]));
    // Where each task's labels come from, and how its folder stores them.
    assert_eq!(normals["labels"], "rendered");
    assert_eq!(
        normals["domain_encoding"],
        "Png8(scale = 0.00784313725490196, offset = -1)"
    );
    assert_eq!(egomotion["labels"], "from point info");
    let jigsaw = tasks.iter().find(|t| t["name"] == "jigsaw").unwrap();
    assert_eq!(jigsaw["labels"], "from rgb");
    assert_eq!(jigsaw["domain_encoding"], serde_json::Value::Null);
    assert_eq!(
        (jigsaw["source"].as_bool(), jigsaw["target"].as_bool()),
        (Some(true), Some(false))
    );
}

#[test]
fn table_has_a_header_and_a_line_per_task() {
    let output = taskonomy(&["tasks"]);
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 27);
    assert!(lines[0].starts_with("name") && lines[0].contains("aliases"));
    assert!(text.contains("rgb2depth"));
}

#[test]
fn an_unknown_format_is_refused_with_the_choices() {
    let output = taskonomy(&["tasks", "--format", "yaml"]);
    assert!(!output.status.success());
    let error = String::from_utf8(output.stderr).unwrap();
    assert!(error.contains("table") && error.contains("json"), "{error}");
}
