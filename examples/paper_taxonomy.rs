//! The taxonomies of the Taskonomy paper's released affinities (`data/taskonomy2018/affinities.csv`,
//! already AHP-normalised, so nothing is normalised here) for supervision budgets 1 to 8, with transfers
//! of order 1 and of order up to 2, every target's importance and every task's label cost 1, and a
//! labelled target scored by its `self` row (the default own supervision, `value`).
//!
//! Run with `cargo run --release --example paper_taxonomy`.

use taskonomy::plan::{PlanOptions, Problem};
use taskonomy::transfers::Transfers;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/taskonomy2018/affinities.csv"
    );
    let table = Transfers::read(path)?;
    println!("{table}");
    for max_order in [1, 2] {
        let options = PlanOptions {
            max_order,
            ..PlanOptions::default()
        };
        let problem = Problem::new(&table, &options)?;
        for budget in 1..=8 {
            let plan = problem.solve(f64::from(budget))?;
            println!(
                "\n== budget {budget}, max order {max_order}: label {} (objective {:.6}, {:.2} ms)",
                plan.sources.join(", "),
                plan.objective,
                plan.stats.elapsed.as_secs_f64() * 1e3
            );
            for (target, assignment) in &plan.transfers {
                let how = if assignment.supervised {
                    "(own supervision)".to_owned()
                } else {
                    assignment.sources.join(" + ")
                };
                println!("  {target} ← {how}");
            }
        }
    }
    Ok(())
}
