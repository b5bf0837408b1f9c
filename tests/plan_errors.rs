//! Malformed tables and impossible programs are errors that name what is wrong and where; nothing panics.

use proptest::prelude::*;
use taskonomy::plan::{OptionProblem, OwnSupervision, PlanError, PlanOptions, Problem};
use taskonomy::transfers::{Transfer, Transfers, TransfersError};

fn paper_affinities() -> Transfers {
    Transfers::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/taskonomy2018/affinities.csv"
    ))
    .unwrap()
}

fn table(text: &str) -> Transfers {
    Transfers::parse(text, "small.csv").unwrap()
}

#[test]
fn a_budget_below_any_way_to_solve_a_target_names_it() {
    let problem = Problem::new(&paper_affinities(), &PlanOptions::default()).unwrap();
    let err = problem.solve(0.5).unwrap_err();
    assert!(
        matches!(&err, PlanError::BudgetBelowTarget { target, cheapest, .. } if target == "autoencoder" && *cheapest == 1.0),
        "{err}"
    );
    assert!(err.to_string().contains("target `autoencoder`"), "{err}");
}

#[test]
fn a_budget_that_solves_each_target_but_not_all_together_is_infeasible() {
    let table = table("sources,target,order,value\nx,a,1,0.5\ny,b,1,0.5\n");
    let problem = Problem::new(&table, &PlanOptions::default()).unwrap();
    let err = problem.solve(1.0).unwrap_err();
    assert!(
        matches!(err, PlanError::Infeasible { budget } if budget == 1.0),
        "{err}"
    );
    assert_eq!(problem.solve(2.0).unwrap().sources, ["x", "y"]);
}

#[test]
fn every_bad_option_is_reported_at_once_with_suggestions() {
    let options = PlanOptions {
        max_order: 0,
        sources: Some(vec!["rgb2sfnrm".into(), "denoise".into()]),
        targets: Some(vec!["nope".into()]),
        importance: [
            ("rgb2depht".to_owned(), 2.0),
            ("rgb2mist".to_owned(), f64::NAN),
        ]
        .into(),
        cost: [("denoise".to_owned(), -1.0)].into(),
        ..PlanOptions::default()
    };
    let err = Problem::new(&paper_affinities(), &options).unwrap_err();
    let PlanError::Options { problems, .. } = &err else {
        panic!("expected an options error, got {err}");
    };
    assert_eq!(problems.len(), 6, "{err}");
    assert!(problems.contains(&OptionProblem::MaxOrder));
    assert!(problems.contains(&OptionProblem::UnknownSource {
        name: "rgb2sfnrm".into(),
        suggestion: Some("rgb2sfnorm".into())
    }));
    assert!(problems.contains(&OptionProblem::UnknownTarget {
        name: "nope".into(),
        suggestion: None
    }));
    assert!(problems.contains(&OptionProblem::UnknownTarget {
        name: "rgb2depht".into(),
        suggestion: Some("rgb2depth".into())
    }));
    assert!(problems
        .iter()
        .any(|p| matches!(p, OptionProblem::Importance { task, .. } if task == "rgb2mist")));
    assert!(problems.contains(&OptionProblem::Cost {
        task: "denoise".into(),
        value: -1.0
    }));
    assert!(
        err.to_string().contains("did you mean `rgb2sfnorm`?"),
        "{err}"
    );
}

#[test]
fn a_target_without_any_usable_transfer_is_named() {
    let table = table("sources,target,order,value\nx,t,1,0.5\ny,u,1,0.5\nx+y,t,2,0.9\n");
    let options = PlanOptions {
        sources: Some(vec!["y".into()]),
        max_order: 2,
        ..PlanOptions::default()
    };
    let err = Problem::new(&table, &options).unwrap_err();
    assert!(
        matches!(&err, PlanError::Uncoverable { target, .. } if target == "t"),
        "{err}"
    );
}

#[test]
fn own_supervision_by_value_needs_the_self_row() {
    let table = table("sources,target,order,value\nt,u,1,0.5\nu,t,1,0.5\nself,u,1,0.9\n");
    let options = PlanOptions {
        own_supervision: OwnSupervision::Value,
        ..PlanOptions::default()
    };
    let err = Problem::new(&table, &options).unwrap_err();
    assert!(
        matches!(&err, PlanError::MissingSelfRow { target, .. } if target == "t"),
        "{err}"
    );
    assert!(err
        .to_string()
        .contains("small.csv: own supervision `value` needs the row `self,t,1,<value>`"));
}

#[test]
fn nan_negative_duplicate_and_malformed_rows_are_named_by_line() {
    let text = "sources,target,order,value\n\
                a,t,1,0.5\n\
                b,t,1,NaN\n\
                c,t,1,-2\n\
                b+a,t,2,0.5\n\
                a+b,t,2,0.75\n\
                d,t,2,0.5\n\
                e,t\n";
    let err = Transfers::parse(text, "bad.csv").unwrap_err();
    let TransfersError::Invalid { problems, .. } = &err else {
        panic!("{err}")
    };
    let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, [3, 4, 6, 7, 8], "{err}");
    let message = err.to_string();
    for expected in [
        "bad.csv:3: the value of b → t must be a finite, non-negative number, found NaN",
        "bad.csv:4: the value of c → t must be a finite, non-negative number, found -2",
        "bad.csv:6: duplicate transfer a+b → t (first given on line 5)",
        "bad.csv:7: the order is 2 but `d` names 1 source(s)",
        "bad.csv:8: expected 4 comma-separated fields `sources,target,order,value`, found 2",
    ] {
        assert!(
            message.contains(expected),
            "missing `{expected}` in:\n{message}"
        );
    }
}

#[test]
fn rows_built_in_memory_are_checked_the_same_way() {
    let rows = vec![
        Transfer::new(&["a"], "t", 0.5),
        Transfer::new(&["a"], "t", 0.25),
        Transfer::new(&["b"], "t", f64::INFINITY),
    ];
    let err = Transfers::from_rows("memory", rows).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("memory:2: duplicate transfer a → t (first given on line 1)"),
        "{message}"
    );
    assert!(
        message.contains("memory:3: the value of b → t must be a finite"),
        "{message}"
    );
}

#[test]
fn a_missing_file_is_an_io_error_naming_it() {
    let err = Transfers::read("no/such/affinities.csv").unwrap_err();
    assert!(matches!(err, TransfersError::Io { .. }));
    assert!(
        err.to_string()
            .starts_with("cannot read no/such/affinities.csv"),
        "{err}"
    );
}

#[test]
fn budgets_and_source_sets_are_checked() {
    let problem = Problem::new(&paper_affinities(), &PlanOptions::default()).unwrap();
    assert!(matches!(problem.solve(f64::NAN), Err(PlanError::Budget(_))));
    assert!(matches!(problem.solve(-1.0), Err(PlanError::Budget(_))));
    let err = problem.evaluate(&["denoize"]).unwrap_err();
    assert!(
        matches!(&err, PlanError::UnknownSource { suggestion: Some(s), .. } if s == "denoise"),
        "{err}"
    );
    // jigsaw is not a target, but every target has a transfer from it, so labelling it alone is a plan.
    assert!(problem.evaluate(&["jigsaw"]).unwrap().is_some());
    assert!(problem.evaluate::<&str>(&[]).unwrap().is_none());
}

#[test]
fn more_than_64_sources_is_an_error_not_a_wrong_answer() {
    let mut text = String::from("sources,target,order,value\n");
    for i in 0..65 {
        text.push_str(&format!("s{i},t,1,0.5\n"));
    }
    let err = Problem::new(&table(&text), &PlanOptions::default()).unwrap_err();
    assert!(
        matches!(err, PlanError::TooManySources { count: 65 }),
        "{err}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    /// Whatever the text, reading it returns a table or an error; and whatever the options, building and
    /// solving a program returns a plan or an error.
    #[test]
    fn nothing_panics(
        lines in prop::collection::vec(prop_oneof![
            // Well-formed or nearly: names, orders and values drawn from the troublesome ones.
            (
                "(a|b|c|self|random)(\\+(a|b|c|self))?",
                "(a|b|c|self)",
                "[0-3]",
                "(0|0\\.5|1|1e-9|-1|NaN|inf|x)",
            ).prop_map(|(s, t, o, v)| format!("{s},{t},{o},{v}")),
            // Noise.
            "[a-c+,0-9.\\-eNa ]{0,16}",
        ], 0..10),
        budget in -1.0f64..4.0,
        max_order in 0usize..3,
    ) {
        let text = format!("sources,target,order,value\n{}", lines.join("\n"));
        if let Ok(table) = Transfers::parse(&text, "fuzz.csv") {
            let options = PlanOptions { max_order, ..PlanOptions::default() };
            if let Ok(problem) = Problem::new(&table, &options) {
                let _ = problem.solve(budget);
            }
        }
    }
}
