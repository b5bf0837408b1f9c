//! The reference optima of the paper's released affinities (`data/taskonomy2018/README.md`), reproduced by
//! both exact methods, and the shape of the plans they return.

use taskonomy::plan::{OwnSupervision, Plan, PlanOptions, Problem, Solver};
use taskonomy::transfers::Transfers;

fn paper_affinities() -> Transfers {
    Transfers::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/taskonomy2018/affinities.csv"
    ))
    .unwrap()
}

fn problem(max_order: usize, own_supervision: OwnSupervision) -> Problem {
    let options = PlanOptions {
        max_order,
        own_supervision,
        ..PlanOptions::default()
    };
    Problem::new(&paper_affinities(), &options).unwrap()
}

/// budget, max order, own supervision, objective (6 decimals), chosen sources.
const REFERENCE: [(f64, usize, OwnSupervision, f64, &[&str]); 8] = [
    (1.0, 1, OwnSupervision::One, 1.502045, &["rgb2sfnorm"]),
    (
        2.0,
        1,
        OwnSupervision::One,
        2.784192,
        &["denoise", "rgb2sfnorm"],
    ),
    (
        2.0,
        2,
        OwnSupervision::One,
        3.057192,
        &["fix_pose", "rgb2sfnorm"],
    ),
    (
        4.0,
        2,
        OwnSupervision::One,
        5.413006,
        &["curvature", "denoise", "edge3d", "rgb2sfnorm"],
    ),
    (1.0, 1, OwnSupervision::Value, 1.313496, &["denoise"]),
    (
        2.0,
        1,
        OwnSupervision::Value,
        2.146462,
        &["denoise", "edge2d"],
    ),
    (
        3.0,
        2,
        OwnSupervision::Value,
        2.864258,
        &["denoise", "edge2d", "rgb2sfnorm"],
    ),
    (
        4.0,
        2,
        OwnSupervision::Value,
        3.515646,
        &["denoise", "edge2d", "edge3d", "rgb2sfnorm"],
    ),
];

fn assert_reference(plan: &Plan, objective: f64, sources: &[&str], label: &str) {
    assert_eq!(
        format!("{:.6}", plan.objective),
        format!("{objective:.6}"),
        "{label}"
    );
    assert_eq!(plan.sources, sources, "{label}");
}

#[test]
fn branch_and_bound_reproduces_every_reference_row() {
    for (budget, max_order, own, objective, sources) in REFERENCE {
        let plan = problem(max_order, own).solve(budget).unwrap();
        assert_reference(
            &plan,
            objective,
            sources,
            &format!("γ={budget} k={max_order} {own}"),
        );
    }
}

#[test]
fn the_mip_reproduces_every_reference_row_alone_and_seeded() {
    for (budget, max_order, own, objective, sources) in REFERENCE {
        let problem = problem(max_order, own);
        for warm_start in [false, true] {
            let plan = problem
                .solve_with(budget, Solver::Mip { warm_start }, None)
                .unwrap();
            let label = format!("γ={budget} k={max_order} {own} warm_start={warm_start}");
            assert_reference(&plan, objective, sources, &label);
            let mip = plan.stats.mip_objective.expect("the MIP ran");
            assert!(
                (mip - objective).abs() < 1e-6,
                "{label}: MIP objective {mip}"
            );
        }
    }
}

#[test]
fn a_plan_solves_every_target_from_chosen_sources_only() {
    let problem = problem(2, OwnSupervision::One);
    let plan = problem.solve(4.0).unwrap();
    assert_eq!(plan.transfers.len(), 22);
    assert_eq!(plan.cost, 4.0);
    let mut objective = 0.0;
    for (target, assignment) in &plan.transfers {
        assert!(
            assignment.sources.iter().all(|s| plan.sources.contains(s)),
            "{target}"
        );
        assert!(
            !assignment.sources.is_empty() && assignment.sources.len() <= 2,
            "{target}"
        );
        assert_eq!(
            assignment.supervised,
            plan.sources.contains(target),
            "{target}"
        );
        if assignment.supervised {
            assert_eq!(
                (assignment.sources.as_slice(), assignment.performance),
                (&[target.clone()][..], 1.0)
            );
        } else {
            assert!(
                !assignment.sources.contains(target),
                "{target} is never its own transfer source"
            );
        }
        objective += assignment.performance;
    }
    assert!((objective - plan.objective).abs() < 1e-12);
}

#[test]
fn a_transfer_uses_the_value_in_the_table() {
    let table = paper_affinities();
    let plan = problem(2, OwnSupervision::One).solve(4.0).unwrap();
    let ego = &plan.transfers["ego_motion"];
    assert_eq!(ego.sources, ["edge3d", "rgb2sfnorm"]);
    assert_eq!(
        ego.performance,
        table
            .get(&["rgb2sfnorm", "edge3d"], "ego_motion")
            .unwrap()
            .value
    );
}

#[test]
fn own_supervision_value_scores_the_self_row() {
    let table = paper_affinities();
    let plan = problem(1, OwnSupervision::Value).solve(1.0).unwrap();
    let denoise = &plan.transfers["denoise"];
    assert!(denoise.supervised);
    assert_eq!(
        denoise.performance,
        table.get(&["self"], "denoise").unwrap().value
    );
}

#[test]
fn the_sweep_is_monotone_and_matches_single_solves() {
    for own in [OwnSupervision::One, OwnSupervision::Value] {
        let problem = problem(2, own);
        let budgets: Vec<f64> = (1..=problem.sources().len()).map(|b| b as f64).collect();
        let points: Vec<_> = problem
            .sweep(budgets.clone(), Solver::BranchAndBound)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(points.len(), 25);
        let objectives: Vec<f64> = points
            .iter()
            .map(|p| p.plan.as_ref().unwrap().objective)
            .collect();
        assert!(
            objectives.windows(2).all(|w| w[0] <= w[1] + 1e-12),
            "{own}: {objectives:?}"
        );
        // Warm starts change how fast, never what: every fourth budget solved cold gives the same plan.
        for point in points.iter().step_by(4) {
            let cold = problem.solve(point.budget).unwrap();
            assert_eq!(
                &cold.sources,
                &point.plan.as_ref().unwrap().sources,
                "{own} γ={}",
                point.budget
            );
        }
    }
    // Own supervision `one` with every task labelled solves each of the 22 targets at p = 1.
    let full = problem(1, OwnSupervision::One).solve(25.0).unwrap();
    assert_eq!(full.objective, 22.0);
    assert_eq!(
        full.sources.len(),
        22,
        "labelling a source-only task adds nothing, so it is not chosen"
    );
}

#[test]
fn second_order_ties_are_broken_alphabetically() {
    // Every second-order transfer into class_selected has the same value (README: quirks). Labelling
    // class_1000, curvature and edge3d makes three tied pairs available; the rule picks the pair holding
    // the alphabetically first task on which they differ.
    let table = paper_affinities();
    let tied = table
        .get(&["class_1000", "curvature"], "class_selected")
        .unwrap()
        .value;
    assert_eq!(
        table
            .get(&["curvature", "edge3d"], "class_selected")
            .unwrap()
            .value,
        tied
    );
    let plan = problem(2, OwnSupervision::One)
        .evaluate(&["edge3d", "curvature", "class_1000"])
        .unwrap()
        .unwrap();
    assert_eq!(
        plan.transfers["class_selected"].sources,
        ["class_1000", "curvature"]
    );
    assert_eq!(plan.transfers["class_selected"].performance, tied);
}
