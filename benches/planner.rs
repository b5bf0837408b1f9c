//! The taxonomy planner (Section 3.4) on the paper's released affinities (`data/taskonomy2018/`):
//! single solves at budgets 1, 4, 8, 16 for max orders 1 and 2 (own supervision `one`), by branch and
//! bound and by the cross-checking MIP, and the whole sweep (every budget × orders 1, 2 × both
//! own-supervision rules, 100 solves, each warm-started from the previous budget).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use taskonomy::plan::{OwnSupervision, PlanOptions, Problem, Solver};
use taskonomy::transfers::Transfers;

fn paper_affinities() -> Transfers {
    Transfers::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/taskonomy2018/affinities.csv"
    ))
    .expect("the vendored affinities read")
}

fn problem(table: &Transfers, max_order: usize, own_supervision: OwnSupervision) -> Problem {
    let options = PlanOptions {
        max_order,
        own_supervision,
        ..PlanOptions::default()
    };
    Problem::new(table, &options).expect("the paper's program builds")
}

fn single_solves(c: &mut Criterion) {
    let table = paper_affinities();
    let mut group = c.benchmark_group("solve");
    for max_order in [1, 2] {
        let problem = problem(&table, max_order, OwnSupervision::One);
        for budget in [1.0, 4.0, 8.0, 16.0] {
            let id = BenchmarkId::new(format!("branch_and_bound/order_{max_order}"), budget);
            group.bench_with_input(id, &budget, |b, &budget| {
                b.iter(|| problem.solve(black_box(budget)).expect("feasible"))
            });
        }
    }
    group.finish();

    let mut group = c.benchmark_group("solve_mip");
    group.sample_size(20);
    for max_order in [1, 2] {
        let problem = problem(&table, max_order, OwnSupervision::One);
        for budget in [1.0, 4.0, 8.0, 16.0] {
            for warm_start in [true, false] {
                let name = if warm_start { "seeded" } else { "cold" };
                let id = BenchmarkId::new(format!("{name}/order_{max_order}"), budget);
                group.bench_with_input(id, &budget, |b, &budget| {
                    b.iter(|| {
                        problem
                            .solve_with(black_box(budget), Solver::Mip { warm_start }, None)
                            .expect("feasible")
                    })
                });
            }
        }
    }
    group.finish();
}

fn whole_sweep(c: &mut Criterion) {
    let table = paper_affinities();
    c.bench_function("sweep/100_solves", |b| {
        b.iter(|| {
            let mut solved = 0;
            for own_supervision in [OwnSupervision::One, OwnSupervision::Value] {
                for max_order in [1, 2] {
                    let problem = problem(&table, max_order, own_supervision);
                    let budgets = (1..=problem.sources().len()).map(|b| b as f64);
                    for point in problem.sweep(budgets, Solver::BranchAndBound) {
                        black_box(point.expect("solves"));
                        solved += 1;
                    }
                }
            }
            assert_eq!(solved, 100);
        })
    });
    c.bench_function("build/order_2", |b| {
        b.iter(|| problem(black_box(&table), 2, OwnSupervision::One))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = single_solves, whole_sweep
}
criterion_main!(benches);
