//! Random programs checked against an exhaustive search written here from the documented rules alone
//! (independent of the planner's presolve and bounds): same optimum, same tie-broken source set, same
//! edge performance per target, for branch and bound and the MIP; the plan does not depend on the
//! order of the table's rows, nor on rows that combine a baseline with tasks (skipped when read).

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use taskonomy::plan::{OwnSupervision, Plan, PlanError, PlanOptions, Problem, Solver};
use taskonomy::transfers::{is_pseudo_source, Transfer, Transfers};

/// Source task names, deliberately not in alphabetical order of index.
const NAMES: [&str; 6] = ["mu", "beta", "zeta", "alpha", "kappa", "eta"];

#[derive(Clone, Debug)]
struct Instance {
    rows: Vec<Transfer>,
    options: PlanOptions,
    budget: f64,
}

fn value() -> impl Strategy<Value = f64> {
    // Mostly a coarse grid, so that exact ties between edges and between plans are common.
    prop_oneof![3 => (0u8..=8).prop_map(|k| f64::from(k) / 8.0), 1 => 0.0f64..1.0]
}

fn instance() -> impl Strategy<Value = Instance> {
    (2usize..=6, 1usize..=6, any::<bool>()).prop_flat_map(|(n, targets, extra_target)| {
        let targets = targets.min(n);
        let target_names: Vec<String> = NAMES[..targets]
            .iter()
            .map(|s| s.to_string())
            .chain(extra_target.then(|| "omega".to_owned()))
            .collect();
        let t = target_names.len();
        (
            Just(n),
            Just(target_names),
            prop::collection::vec((1u32..(1 << n), 0..t, value()), 1..24),
            prop::collection::vec(value(), t), // self rows
            prop::collection::vec((0..t, value()), 0..3), // random-encoder rows
            1usize..=3,                        // max order
            any::<bool>(),                     // own supervision `value`
            prop::collection::vec(prop::sample::select(vec![0.0, 0.5, 1.0, 2.0]), n),
            prop::collection::vec(prop::sample::select(vec![0.0, 0.5, 1.0, 3.0]), t),
            (0u32..=12).prop_map(|b| f64::from(b) / 2.0),
        )
            .prop_map(
                |(
                    n,
                    targets,
                    edges,
                    selfs,
                    randoms,
                    max_order,
                    by_value,
                    costs,
                    importances,
                    budget,
                )| {
                    let mut seen = BTreeSet::new();
                    let mut rows = Vec::new();
                    for (mask, target, value) in edges {
                        if seen.insert((mask, target)) {
                            let sources: Vec<&str> = (0..n)
                                .filter(|i| mask >> i & 1 == 1)
                                .map(|i| NAMES[i])
                                .collect();
                            rows.push(Transfer::new(&sources, &targets[target], value));
                        }
                    }
                    for (target, value) in selfs.into_iter().enumerate() {
                        rows.push(Transfer::new(&["self"], &targets[target], value));
                    }
                    let mut random_seen = BTreeSet::new();
                    for (target, value) in randoms {
                        if random_seen.insert(target) {
                            rows.push(Transfer::new(&["random"], &targets[target], value));
                        }
                    }
                    let options = PlanOptions {
                        max_order,
                        own_supervision: if by_value {
                            OwnSupervision::Value
                        } else {
                            OwnSupervision::One
                        },
                        sources: None,
                        targets: None,
                        importance: targets.iter().cloned().zip(importances).collect(),
                        // Costs only for names the table uses as sources (others are an error).
                        cost: NAMES[..n]
                            .iter()
                            .zip(costs)
                            .filter(|(name, _)| {
                                rows.iter().any(|r| r.sources.iter().any(|s| s == *name))
                            })
                            .map(|(name, cost)| (name.to_string(), cost))
                            .collect(),
                    };
                    Instance {
                        rows,
                        options,
                        budget,
                    }
                },
            )
    })
}

/// What the exhaustive search concludes.
#[derive(Debug, PartialEq)]
enum Expected {
    /// Some target has no usable edge at all.
    Uncoverable,
    /// No source set within the budget solves every target.
    Infeasible,
    /// The tie-broken optimum: objective, sources, and the performance used for each target.
    Optimum(f64, Vec<String>, BTreeMap<String, f64>),
}

fn exhaustive(instance: &Instance) -> Expected {
    let options = &instance.options;
    let pseudo = |s: &str| ["self", "random", "pixels"].contains(&s);
    let candidates: Vec<&str> = instance
        .rows
        .iter()
        .flat_map(|r| r.sources.iter().map(String::as_str))
        .filter(|s| !pseudo(s))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let targets: BTreeSet<&str> = instance.rows.iter().map(|r| r.target.as_str()).collect();
    // Usable edges per target: (sources, p).
    let mut edges: BTreeMap<&str, Vec<(BTreeSet<&str>, f64)>> = BTreeMap::new();
    for &t in &targets {
        let mut list: Vec<(BTreeSet<&str>, f64)> = instance
            .rows
            .iter()
            .filter(|r| r.target == t && r.sources.len() <= options.max_order)
            .filter(|r| r.sources.iter().all(|s| !pseudo(s) && s != t))
            .map(|r| (r.sources.iter().map(String::as_str).collect(), r.value))
            .collect();
        if candidates.contains(&t) {
            let own = match options.own_supervision {
                OwnSupervision::One => 1.0,
                OwnSupervision::Value => {
                    instance
                        .rows
                        .iter()
                        .find(|r| r.target == t && r.sources == ["self"])
                        .unwrap()
                        .value
                }
            };
            list.push((BTreeSet::from([t]), own));
        }
        if list.is_empty() {
            return Expected::Uncoverable;
        }
        edges.insert(t, list);
    }
    let cost = |s: &str| options.cost.get(s).copied().unwrap_or(1.0);
    let importance = |t: &str| options.importance.get(t).copied().unwrap_or(1.0);
    // Objective, label cost, sources, performance per target.
    type Best<'a> = (f64, f64, BTreeSet<&'a str>, BTreeMap<String, f64>);
    let mut best: Option<Best> = None;
    for mask in 0u32..(1 << candidates.len()) {
        let chosen: BTreeSet<&str> = (0..candidates.len())
            .filter(|i| mask >> i & 1 == 1)
            .map(|i| candidates[i])
            .collect();
        let spent: f64 = chosen.iter().map(|s| cost(s)).sum();
        if spent > instance.budget + 1e-9 * instance.budget.max(1.0) {
            continue;
        }
        let mut performance = BTreeMap::new();
        let mut objective = 0.0;
        let mut solves_all = true;
        for (&t, list) in &edges {
            match list
                .iter()
                .filter(|(s, _)| s.is_subset(&chosen))
                .map(|(_, p)| *p)
                .reduce(f64::max)
            {
                Some(p) => {
                    performance.insert(t.to_owned(), p);
                    objective += importance(t) * p;
                }
                None => solves_all = false,
            }
        }
        if !solves_all {
            continue;
        }
        let wins = match &best {
            None => true,
            Some((best_objective, best_cost, best_set, _)) => {
                let tolerance = 1e-9 * objective.abs().max(best_objective.abs()).max(1.0);
                if (objective - best_objective).abs() > tolerance {
                    objective > *best_objective
                } else if (spent - best_cost).abs() > 1e-9 * spent.max(*best_cost).max(1.0) {
                    spent < *best_cost
                } else if chosen.len() != best_set.len() {
                    chosen.len() < best_set.len()
                } else {
                    // The set holding the alphabetically first task on which they differ.
                    let first = chosen.symmetric_difference(best_set).next();
                    first.is_some_and(|name| chosen.contains(name))
                }
            }
        };
        if wins {
            best = Some((objective, spent, chosen, performance));
        }
    }
    match best {
        None => Expected::Infeasible,
        Some((objective, _, chosen, performance)) => Expected::Optimum(
            objective,
            chosen.into_iter().map(str::to_owned).collect(),
            performance,
        ),
    }
}

fn planned(instance: &Instance, rows: Vec<Transfer>, solver: Solver) -> Result<Plan, PlanError> {
    let table = Transfers::from_rows("random.csv", rows).expect("generated rows are valid");
    Problem::new(&table, &instance.options)?.solve_with(instance.budget, solver, None)
}

fn check(instance: &Instance, solver: Solver) -> Result<(), TestCaseError> {
    let expected = exhaustive(instance);
    let result = planned(instance, instance.rows.clone(), solver);
    match (&expected, &result) {
        (Expected::Uncoverable, Err(PlanError::Uncoverable { .. })) => {}
        (
            Expected::Infeasible,
            Err(PlanError::Infeasible { .. } | PlanError::BudgetBelowTarget { .. }),
        ) => {}
        (Expected::Optimum(objective, sources, performance), Ok(plan)) => {
            prop_assert!(
                (plan.objective - objective).abs() <= 1e-9 * objective.abs().max(1.0),
                "objective {} vs exhaustive {objective}",
                plan.objective
            );
            prop_assert_eq!(&plan.sources, sources);
            let used: BTreeMap<String, f64> = plan
                .transfers
                .iter()
                .map(|(t, a)| (t.clone(), a.performance))
                .collect();
            prop_assert_eq!(&used, performance);
        }
        _ => prop_assert!(false, "exhaustive {:?}, planner {:?}", expected, result),
    }
    // The plan depends on the table's content, not on the order of its rows.
    let mut reversed = instance.rows.clone();
    reversed.reverse();
    let again = planned(instance, reversed, solver);
    prop_assert_eq!(
        result.as_ref().ok().map(|p| (&p.sources, &p.transfers)),
        again.as_ref().ok().map(|p| (&p.sources, &p.transfers))
    );
    Ok(())
}

/// The instance read from a file that also holds, as the authors' released tables do, a row combining
/// `random` with the sources of each transfer, valued above all others: the same plan, or the same error.
fn check_rows_combining_a_baseline_change_nothing(
    instance: &Instance,
) -> Result<(), TestCaseError> {
    let table = Transfers::from_rows("random.csv", instance.rows.clone()).unwrap();
    let mut csv = table.to_csv();
    let transfers: Vec<&Transfer> = table
        .rows()
        .iter()
        .filter(|r| !r.sources.iter().any(|s| is_pseudo_source(s)))
        .collect();
    for row in &transfers {
        let (sources, order) = (row.sources_label(), row.order() + 1);
        csv.push_str(&format!("{sources}+random,{},{order},2\n", row.target));
    }
    let read = Transfers::parse(&csv, "random.csv").unwrap();
    prop_assert_eq!(read.rows().len(), table.rows().len());
    prop_assert_eq!(
        read.skipped().map(|s| s.count),
        Some(transfers.len()).filter(|&n| n > 0)
    );
    let outcome = |table: &Transfers| {
        Problem::new(table, &instance.options)
            .and_then(|problem| problem.solve(instance.budget))
            .map(|plan| (plan.objective, plan.sources, plan.transfers))
            .map_err(|error| error.to_string())
    };
    prop_assert_eq!(outcome(&read), outcome(&table));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn branch_and_bound_matches_exhaustive_search(instance in instance()) {
        check(&instance, Solver::BranchAndBound)?;
        check_rows_combining_a_baseline_change_nothing(&instance)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_mip_matches_exhaustive_search(instance in instance(), warm_start in any::<bool>()) {
        check(&instance, Solver::Mip { warm_start })?;
    }
}
