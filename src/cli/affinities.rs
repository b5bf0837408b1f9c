//! `taskonomy affinities`: from the per-image test losses of step II to the tables step IV plans with.

use clap::Args;
use taskonomy_core::estimate::compare::Comparison;
use taskonomy_core::estimate::{Estimator, Regularisation};
use taskonomy_core::plan::PlanOptions;
use taskonomy_core::spec::{Dictionary, TaskSet};
use taskonomy_core::store::RunFolder;
use taskonomy_core::train::fit::ShardDevice;
use taskonomy_core::train::{
    compare_with_trained, estimate, estimates_dir, measure, Context, DataReport, EstimateOptions,
    Keys, MeasureOptions, RunManifest,
};
use taskonomy_core::uncertainty::Bootstrap;

use super::device::dispatch;
use super::stage::{InRunFolder, Stage};
use super::train::RunFolderArgs;

/// Compute, per target, the tournament of every transfer and baseline on the test images and their AHP
/// affinities, and write `affinities.csv`, `wins_vs_task.csv` (Quality) and `wins_vs_pixels.csv` (Gain)
/// in the run folder, in the format of the paper's released data, and beside each the same rows with
/// their 95% bootstrap intervals over the test images (`…_intervals.csv`). Reads the run folder only (no device,
/// no dataset). Needs `taskonomy transfer` first.
///
/// With `--estimator`, estimate the same transfers without training readouts instead (LogME, H-score, or
/// a closed-form ridge readout on the cached representations; needs `taskonomy train`), and write them
/// under `estimates/<estimator>/` in the same format, never over the trained tables; where the trained
/// tables exist, also how far the estimates agree with them (`comparison.json`).
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  taskonomy affinities --out runs/tiny && \
                        taskonomy plan --affinities runs/tiny/affinities.csv --budget 3\n  \
                        taskonomy affinities --estimator logme --out runs/small && \
                        taskonomy plan --affinities runs/small/estimates/logme/affinities.csv --budget 3")]
pub struct AffinitiesArgs {
    #[command(flatten)]
    run: RunFolderArgs,
    /// Estimate instead of measuring: logme, hscore (classification targets) or ridge.
    #[arg(long, value_name = "ESTIMATOR")]
    estimator: Option<Estimator>,
    /// How the ridge estimator chooses its penalty: evidence (α/β at LogME's optimum) or leave-one-out.
    #[arg(
        long,
        default_value = "evidence",
        value_name = "evidence|leave-one-out",
        requires = "estimator"
    )]
    regularisation: Regularisation,
}

/// Runs the subcommand.
pub fn run<D: Dictionary>(args: AffinitiesArgs) -> anyhow::Result<()> {
    if let Some(estimator) = args.estimator {
        let stage = Estimate(EstimateOptions {
            estimator,
            regularisation: args.regularisation,
        });
        return dispatch(args.run.device, InRunFolder::open::<D>(&args.run, stage)?);
    }
    let run = RunFolder::open(args.run.folder::<D>())?;
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

/// The estimates of one estimator, compared with the trained tables where the run has them.
struct Estimate(EstimateOptions);

impl Stage for Estimate {
    fn run<D: ShardDevice>(self, ctx: &Context<'_, D>, tasks: &TaskSet) -> anyhow::Result<()> {
        let estimates = estimate(ctx, tasks, &self.0, None)?;
        let dir = estimates_dir(ctx.run, self.0.estimator);
        let (seconds, pairs) = estimates.all;
        eprintln!(
            "{} estimated {pairs} transfers in {seconds:.2} s; wrote {}",
            self.0.estimator,
            dir.display()
        );
        for (target, why) in &estimates.left_out {
            eprintln!("  left out {target}: {why}");
        }
        let options = PlanOptions {
            max_order: ctx.settings.max_order,
            sources: Some(tasks.sources.iter().map(|s| s.to_string()).collect()),
            importance: tasks.spec_values(&tasks.targets, |s| s.importance),
            cost: tasks.spec_values(&tasks.sources, |s| s.label_cost),
            ..PlanOptions::default()
        };
        match compare_with_trained(ctx.run, &estimates, &options, &[1.0, 2.0, 3.0])? {
            Some(comparison) => print_comparison(&comparison),
            None => eprintln!(
                "no trained tables in the run folder: run `taskonomy transfer` and `taskonomy \
                 affinities` to compare the estimates with trained readouts"
            ),
        }
        Ok(())
    }
}

fn print_comparison(c: &Comparison) {
    let rho = |r: Option<f64>| r.map_or("-".to_owned(), |r| format!("{r:.2}"));
    println!("{:<24} Spearman ρ with the trained affinities", "target");
    for t in &c.targets {
        println!("{:<24} {} ({} sources)", t.target, rho(t.rho), t.sources);
    }
    println!("median ρ: {}", rho(c.median_rho));
    for b in &c.budgets {
        let q = |q: Option<f64>| q.map_or("-".to_owned(), |q| format!("{q:.3}"));
        println!(
            "budget {}: Quality {} planned on trained affinities ({}), {} on estimates ({}): lost {}",
            b.budget,
            q(b.trained_quality),
            b.trained_sources.join(", "),
            q(b.estimated_quality),
            b.estimated_sources.join(", "),
            q(b.lost())
        );
    }
    let (seconds, pairs) = c.first_order;
    match (c.readouts, c.speed()) {
        (Some((readout_s, readouts)), Some(speed)) => println!(
            "first order: {pairs} estimates in {seconds:.2} s, {readouts} trained readouts in \
             {readout_s:.1} s: {speed} per pair"
        ),
        _ => println!(
            "first order: {pairs} estimates in {seconds:.2} s (the readouts' training time was not \
             recorded in this run)"
        ),
    }
}
