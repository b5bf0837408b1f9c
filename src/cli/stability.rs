//! `taskonomy stability`: how stable the findings of finished runs are across their seeds.

use std::path::PathBuf;

use anyhow::bail;
use clap::Args;
use taskonomy_core::stability::{RunFindings, Stability};
use taskonomy_core::store::write_json;

/// Compare finished runs of the same settings (e.g. with different `--seed`): Spearman's rank
/// correlation of every target's first-order affinities between every two runs, and how often each
/// budget's taxonomy chooses the same sources (Jaccard index). Reads `affinities.csv` and `plans/` of each
/// run folder; writes `stability.json` into --out.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  taskonomy run --seed 1 --out runs/s1 && taskonomy run --seed 2 --out runs/s2 && \
                        taskonomy stability runs/s1 runs/s2"
)]
pub struct StabilityArgs {
    /// Two or more finished run folders.
    #[arg(value_name = "RUN", num_args = 2.., required = true)]
    runs: Vec<PathBuf>,
    /// Where to write stability.json.
    #[arg(long, value_name = "DIR", default_value = ".")]
    out: PathBuf,
}

/// Runs the subcommand.
pub fn run(args: StabilityArgs) -> anyhow::Result<()> {
    if args.runs.len() < 2 {
        bail!("give at least two run folders");
    }
    let findings: Vec<RunFindings> = args
        .runs
        .iter()
        .map(|folder| RunFindings::read(folder, folder.display().to_string()))
        .collect::<Result<_, _>>()?;
    let stability = Stability::of(&findings)?;
    print(&stability);
    std::fs::create_dir_all(&args.out)?;
    let path = args.out.join("stability.json");
    write_json(&path, &stability)?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

/// Prints the stability of several runs: the median rank agreement, the unstable targets, and every
/// budget's sources per run.
pub(super) fn print(stability: &Stability) {
    let rho = |v: Option<f64>| v.map_or("undefined".to_owned(), |v| format!("{v:.2}"));
    println!(
        "\nStability over {} runs ({}):",
        stability.runs.len(),
        stability.runs.join(", ")
    );
    println!(
        "  median per-target Spearman's rho of the first-order affinities: {}",
        rho(stability.median_spearman)
    );
    let unstable = stability.unstable_targets(0.5);
    if !unstable.is_empty() {
        let names: Vec<String> = unstable
            .iter()
            .map(|t| format!("{} {}", t.target, rho(t.mean)))
            .collect();
        println!("  unstable targets (rho < 0.5): {}", names.join(", "));
    }
    for budget in &stability.budgets {
        let sets: Vec<String> = budget.sources.iter().map(|s| s.join("+")).collect();
        println!(
            "  budget {}: {} agree of {}, mean Jaccard {:.2}: {}",
            budget.budget,
            budget.agreeing,
            budget.sources.len(),
            budget.mean_jaccard,
            sets.join(" | ")
        );
    }
}
