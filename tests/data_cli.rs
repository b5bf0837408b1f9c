//! `taskonomy render` writes the Taskonomy layout, with the labels of every task that renders them, and
//! reports what it did; `taskonomy show` draws one view with every task's label.

use std::process::Command;

#[test]
fn render_writes_every_domain_and_prints_a_summary() {
    let out = std::env::temp_dir().join(format!("taskonomy-cli-render-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let output = Command::new(env!("CARGO_BIN_EXE_taskonomy"))
        .args([
            "render", "--scenes", "1", "--size", "32", "--seed", "3", "--points", "1", "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("5 images")
            && stdout.contains("75 other files")
            && stdout.contains("the labels of 14 task(s)")
            && stdout.contains("images/s"),
        "{stdout}"
    );
    let building = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.path().is_dir())
        .unwrap()
        .path();
    assert_eq!(std::fs::read_dir(&building).unwrap().count(), 16);
    assert!(building
        .join("depth_zbuffer/point_0_view_0_domain_depth_zbuffer.png")
        .is_file());
    assert!(building
        .join("point_info/point_0_view_4_domain_point_info.json")
        .is_file());

    // The folders: the images, the point-info records and one per rendered task.
    assert!(building
        .join("principal_curvature/point_0_view_0_domain_principal_curvature.png")
        .is_file());
    assert!(building
        .join("class_scene/point_0_view_0_domain_class_scene.npy")
        .is_file());

    // `show` draws a captioned sheet of every label of one view.
    let sheet = out.join("sheet.png");
    let shown = Command::new(env!("CARGO_BIN_EXE_taskonomy"))
        .arg("show")
        .arg(&out)
        .args(["--point", "0", "--view", "0", "--out"])
        .arg(&sheet)
        .output()
        .unwrap();
    assert!(
        shown.status.success(),
        "{}",
        String::from_utf8_lossy(&shown.stderr)
    );
    let png = std::fs::read(&sheet).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    let missing = Command::new(env!("CARGO_BIN_EXE_taskonomy"))
        .arg("show")
        .arg(&out)
        .args(["--point", "7", "--out"])
        .arg(&sheet)
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no point 7 view 0"));

    let bad = Command::new(env!("CARGO_BIN_EXE_taskonomy"))
        .args(["render", "--size", "2", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("between 8 and 4096"));
    let _ = std::fs::remove_dir_all(&out);
}
