//! `taskonomy affinities`: from the per-image test losses of step II to the tables step IV plans with.

use std::path::PathBuf;

use clap::Args;
use taskonomy_core::spec::{Dictionary, TaskSet};
use taskonomy_core::store::RunFolder;
use taskonomy_core::train::{measure, DataReport, Keys, MeasureOptions, RunManifest};
use taskonomy_core::uncertainty::Bootstrap;

/// Compute, per target, the tournament of every transfer and baseline on the test images and their AHP
/// affinities, and write `affinities.csv`, `wins_vs_task.csv` (Quality) and `wins_vs_pixels.csv` (Gain)
/// in the run folder, in the format of the paper's released data, and beside each the same rows with
/// their 95% bootstrap intervals over the test images (`…_intervals.csv`). Reads the run folder only (no device,
/// no dataset). Needs `taskonomy transfer` first.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  taskonomy affinities --out runs/tiny && \
                        taskonomy plan --affinities runs/tiny/affinities.csv --budget 3")]
pub struct AffinitiesArgs {
    /// The run folder (default: runs/ and the dictionary's name in snake_case).
    #[arg(long, alias = "run", value_name = "DIR")]
    out: Option<PathBuf>,
}

/// Runs the subcommand.
pub fn run<D: Dictionary>(args: AffinitiesArgs) -> anyhow::Result<()> {
    let run = RunFolder::open(args.out.unwrap_or_else(super::default_out::<D>))?;
    let manifest = RunManifest::read(&run)?;
    let data = DataReport::read(&run)?;
    let tasks = data.with_labels(&manifest.tasks_of(&TaskSet::of::<D>())?);
    let keys = Keys {
        run: &run,
        settings: &manifest.settings,
        seed: manifest.seed,
        data: &data,
    };
    let options = MeasureOptions {
        novel: Vec::new(),
        bootstrap: Bootstrap {
            seed: manifest.seed,
            ..Bootstrap::default()
        },
    };
    let tables = measure(&keys, &tasks, &options)?;
    println!("{:<24} top sources by affinity", "target");
    for target in tables.affinities.targets() {
        let mut rows: Vec<_> = tables
            .affinities
            .rows()
            .iter()
            .filter(|r| r.target == target)
            .collect();
        rows.sort_by(|a, b| b.value.total_cmp(&a.value));
        let top: Vec<String> = rows
            .iter()
            .take(3)
            .map(|r| format!("{} {:.3}", r.sources_label(), r.value))
            .collect();
        println!("{target:<24} {}", top.join(", "));
    }
    for name in ["affinities", "wins_vs_task", "wins_vs_pixels"] {
        for file in [format!("{name}.csv"), format!("{name}_intervals.csv")] {
            eprintln!("wrote {}", run.file(&file).display());
        }
    }
    Ok(())
}
