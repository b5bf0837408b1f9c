//! A crate outside the workspace, written only from the README's "Your own task" section, compiles
//! against `taskonomy` by path and runs the whole method for its own dictionary: its own task is
//! trained, measured as a source and as a target, and planned, and the report is written.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The README's section headed `title`, up to the next section.
fn section<'a>(readme: &'a str, title: &str) -> &'a str {
    let start = readme
        .find(&format!("\n## {title}\n"))
        .unwrap_or_else(|| panic!("the README has a section `{title}`"));
    let rest = &readme[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    &rest[..end]
}

/// The contents of the first code block of `text` whose info string starts with `lang`.
fn code_block<'a>(text: &'a str, lang: &str) -> &'a str {
    let fence = format!("```{lang}");
    let start = text
        .find(&fence)
        .unwrap_or_else(|| panic!("a ```{lang} block"));
    let body = &text[start..];
    let body = &body[body.find('\n').expect("a fence line") + 1..];
    &body[..body.find("```").expect("a closing fence")]
}

/// The `[profile...]` tables of the workspace's manifest, so that the crate builds as the workspace
/// does (and reuses its dependencies' builds in the same target folder).
fn profiles(manifest: &str) -> String {
    let start = manifest
        .find("\n[profile.")
        .expect("the workspace manifest has build profiles");
    let mut out = String::new();
    for block in manifest[start..].split("\n[").skip(1) {
        if block.starts_with("profile.") {
            out.push('[');
            out.push_str(block.trim_end());
            out.push('\n');
        }
    }
    out
}

fn run(command: &mut Command) -> std::process::Output {
    let output = command.output().expect("the command runs");
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[test]
fn a_crate_written_from_the_readme_runs_the_method_for_its_own_task() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(repo.join("README.md")).unwrap();
    let own = section(&readme, "Your own task");
    let dependencies = code_block(own, "toml").replace(
        "path = \"../taskonomy-rs\"",
        &format!("path = {:?}", repo.display().to_string()),
    );
    let code = code_block(own, "rust");

    let dir = std::env::temp_dir().join(format!("taskonomy-outside-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let template =
        std::fs::read_to_string(repo.join("tests/outside_crate/Cargo.toml.template")).unwrap();
    let workspace = std::fs::read_to_string(repo.join("Cargo.toml")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!("{template}\n{dependencies}\n{}", profiles(&workspace)),
    )
    .unwrap();
    std::fs::write(dir.join("src/main.rs"), code).unwrap();
    // The workspace's lock file, so that the crate builds with the versions the workspace was tested
    // with, and the workspace's target folder, so that their builds are reused.
    std::fs::copy(repo.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let target: PathBuf = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| repo.join("target"), PathBuf::from)
        .join("outside-crate");

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run(Command::new(&cargo)
        .args(["build", "--quiet", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target));
    let binary = target.join("debug").join("material-study");

    let tasks = run(Command::new(&binary).arg("tasks"));
    let listed = String::from_utf8_lossy(&tasks.stdout);
    assert!(
        listed.contains("material") && listed.contains("PixelClasses<6>"),
        "{listed}"
    );

    let out = dir.join("run");
    let method = run(Command::new(&binary)
        .args(["run", "--preset", "tiny", "--budget", "1..2", "--out"])
        .arg(&out));
    let summary = String::from_utf8_lossy(&method.stdout);
    assert!(summary.contains("budget"), "{summary}");
    let affinities = std::fs::read_to_string(out.join("affinities.csv")).unwrap();
    let rows: Vec<Vec<&str>> = affinities
        .lines()
        .skip(1)
        .map(|line| line.split(',').collect())
        .collect();
    assert!(
        rows.iter().any(|r| r[1] == "material"),
        "material is a target:\n{affinities}"
    );
    assert!(
        rows.iter()
            .any(|r| r[0] == "material" && r[1] != "material"),
        "material is a source:\n{affinities}"
    );
    assert!(out.join("report.html").is_file());
    std::fs::remove_dir_all(&dir).unwrap();
}
