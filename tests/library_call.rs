//! The method from code, on a dictionary declared here (a task of its own beside two of the paper's):
//! `pipeline::run` trains, measures and plans, and returns the taxonomies.

use taskonomy::model::device;
use taskonomy::pipeline::{run, RunConfig};
use taskonomy::prelude::*;
use taskonomy::spec::TaskSet;
use taskonomy::tasks::{Depth, SurfaceNormals};
use taskonomy::train::{Preset, Progress};

/// How far the camera is from the nearest wall, floor or ceiling, in metres.
fn room_clearance(view: &SceneView) -> [f32; 1] {
    let room = view.room();
    let eye = view.pose().translation;
    let local =
        room.rotation().transpose() * (eye - taskonomy::data::math::Vec3::from_array(room.center));
    let clearance = (0..3)
        .map(|axis| room.half_extents[axis] - local.get(axis).abs())
        .fold(f64::INFINITY, f64::min);
    [clearance as f32]
}

/// The camera's distance to the nearest surface of the room box.
#[task(output = Vector<1>, loss = L1, label = room_clearance)]
pub struct Clearance;

task_dictionary! {
    /// Does geometry tell how far the walls are?
    pub Clearances { sources: [Depth, SurfaceNormals, Clearance], targets: [Clearance, Depth] }
}

#[test]
fn the_method_runs_from_code_on_a_dictionary_of_its_own() {
    let out = std::env::temp_dir().join(format!("taskonomy-library-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let mut config = RunConfig::new(TaskSet::of::<Clearances>(), Preset::Tiny, &out);
    config.budgets = vec![1.0, 2.0];
    for schedule in [
        &mut config.settings.task,
        &mut config.settings.transfer,
        &mut config.settings.scratch,
    ] {
        schedule.steps = 10;
    }
    let summary = run(&device::cpu(), &config, Progress::hidden(), &|_| {}).unwrap();
    assert_eq!(summary.budgets.len(), 2);
    for result in &summary.budgets {
        assert!(!result.plan.sources.is_empty());
        assert!(result.plan.transfers.contains_key("clearance"));
    }
    assert!(summary.report.is_file());
    let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    assert!(
        manifest.contains("\"dictionary\": \"Clearances\""),
        "{manifest}"
    );
    std::fs::remove_dir_all(&out).unwrap();
}
