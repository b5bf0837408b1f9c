//! `taskonomy run`: the whole method in one command, on the embedded synthetic scenes by default.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context as _};
use clap::Args;
use taskonomy_core::estimate::Estimator;
use taskonomy_core::model::DeviceKind;
use taskonomy_core::pipeline::{self, RunConfig, RunSummary, StageStart};
use taskonomy_core::plan::OwnSupervision;
use taskonomy_core::spec::Dictionary;
use taskonomy_core::stability::Stability;
use taskonomy_core::train::fit::ShardDevice;
use taskonomy_core::train::{Preset, Progress};

use super::device::{dispatch, OnDevice};
use super::executor::{DryRun, Executor, Launch, SlurmArgs};
use super::train::parse_tasks;
use super::worker::ClaimArgs;

/// Run the whole Taskonomy method: render the synthetic scenes, train the task networks, train the
/// transfers, compute affinities, plan taxonomies over a range of budgets, evaluate them and write a
/// report. Every stage resumes where an interrupted run stopped.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  taskonomy run                       # small preset, all 26 tasks\n  \
                        taskonomy run --preset tiny --tasks depth,surface_normals,reshading,edges2d\n  \
                        taskonomy run --novel surface_normals --budget 1..4\n  \
                        taskonomy run --seeds 1,2,3         # three runs and their stability\n  \
                        taskonomy run --transitive          # also measure s → i → t against s → t\n  \
                        taskonomy run --estimator logme     # plan on LogME's estimates: no readout trained\n  \
                        taskonomy run --executor local --workers 2\n  \
                        taskonomy run --executor slurm --workers 32 --partition gpu --gres gpu:1 --device cuda\n  \
                        taskonomy run --preset paper --dry-run   # the units of work and their cost"
)]
pub struct RunArgs {
    /// Sizes and schedules: `tiny` (minutes, for tests), `small` (all 26 tasks in under half an hour on
    /// two cores), `paper` (the paper's proportions, for a GPU).
    #[arg(long, default_value = "small")]
    preset: Preset,
    /// The tasks: `all`, or names and aliases separated by commas.
    #[arg(long, default_value = "all", value_name = "all|a,b,..")]
    tasks: String,
    /// The supervision budgets to plan for: `N..M` (inclusive), or one number. Default: 1 to 8, or
    /// to the number of sources if smaller.
    #[arg(long, value_name = "N..M")]
    budget: Option<String>,
    /// The highest transfer order to train and plan with (default: the preset's).
    #[arg(long, value_name = "K")]
    max_order: Option<usize>,
    /// Where the networks run.
    #[arg(long, default_value = "cpu", value_name = "cpu|cuda")]
    device: DeviceKind,
    /// The run folder (default: runs/ and the dictionary's name in snake_case).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// The run seed (data, initialisation, batches).
    #[arg(long, default_value_t = 1, conflicts_with = "seeds")]
    seed: u64,
    /// Run the whole method once per seed, into `seed_<N>` folders of the run folder, and measure how
    /// stable its findings are across them (rank agreement of the affinities, agreement of the
    /// taxonomies); every seed's report gets the stability section.
    #[arg(long, value_name = "a,b,..", value_delimiter = ',', num_args = 1..)]
    seeds: Vec<u64>,
    /// Novel tasks (the paper's §4.2): they exist for the method only on the transfer split, are no
    /// source of anything, and are solved by their best transfer from all the known tasks. A network of
    /// theirs is trained only to score Quality.
    #[arg(long, value_name = "a,b,..", value_delimiter = ',')]
    novel: Vec<String>,
    /// How a target solved by its own supervision scores in the planner: `value`, its own network's
    /// affinity in the same AHP tournament as the transfers (the paper's edge ({t}, t), scored like any
    /// other); or `one`, which makes supervising a target worth many transfers.
    #[arg(long, value_enum, default_value_t = Own::Value)]
    own_supervision: Own,
    /// A dataset in the Taskonomy layout to use instead of the synthetic scenes.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Also measure transitive transfer: for every first-order pair s → t, the detour through the
    /// target's best other source i (s's representation mapped to i's, then i's readout) against the
    /// direct readout; the report says whether it helps.
    #[arg(long)]
    transitive: bool,
    /// Skip the transferability estimators (LogME, H-score, ridge) the report compares with the trained
    /// transfers; they take seconds, against minutes of readouts.
    #[arg(long)]
    no_estimators: bool,
    /// Plan on this estimator's affinities (logme, hscore or ridge) instead of training readouts: step II
    /// trains only each target's `pixels` baseline, and the taxonomies are scored with closed-form ridge
    /// readouts. Minutes instead of the readouts' hours at scale; the report says so. Not with
    /// `--transitive` (it needs trained readouts) or `--seeds` (stability compares trained affinities).
    #[arg(long, value_name = "ESTIMATOR", conflicts_with_all = ["transitive", "seeds"])]
    estimator: Option<Estimator>,
    /// Who trains the units of work (the task networks, each source's representations, each target's
    /// transfers): `inline`, this process; `local`, `--workers` processes on this machine; `slurm`, a
    /// job array of `--workers` workers and a closing job; `none`, nobody (prepare the folder for
    /// `taskonomy worker`). The results are the same, byte for byte.
    #[arg(long, value_enum, default_value_t = Executor::Inline)]
    executor: Executor,
    /// Workers of the `local` and `slurm` executors.
    #[arg(long, default_value_t = 2, value_name = "N")]
    workers: usize,
    /// Threads of each worker of the `local` executor (default: the cores shared out among them; a
    /// Slurm worker uses the CPUs of its job).
    #[arg(long, value_name = "N")]
    worker_threads: Option<usize>,
    /// List the units of work with their dependencies and estimated costs (a training step is timed
    /// on the device), and the critical path; train nothing.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    claims: ClaimArgs,
    #[command(flatten)]
    slurm: SlurmArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Own {
    One,
    Value,
}

/// Runs the subcommand.
pub fn run<D: Dictionary>(args: RunArgs) -> anyhow::Result<()> {
    let config = config::<D>(&args)?;
    if args.dry_run {
        return dispatch(args.device, DryRun { config: &config });
    }
    if args.executor != Executor::Inline {
        if !args.seeds.is_empty() {
            bail!("--executor local|slurm|none runs one seed: start one run per seed (--seed N --out DIR/seed_N), then `taskonomy stability`");
        }
        let launch = Launch {
            config: &config,
            dictionary: taskonomy_core::spec::TaskSet::of::<D>(),
            executor: args.executor,
            workers: args.workers,
            worker_threads: args.worker_threads,
            claims: args.claims,
            slurm: args.slurm,
        };
        if let Some(summary) = dispatch(args.device, launch)? {
            print_summary(&summary);
        }
        return Ok(());
    }
    eprintln!(
        "{} run: {} preset, {} tasks, budgets {}, max order {}, {} → {}",
        D::NAME,
        config.preset,
        config.tasks.tasks.len(),
        budgets_label(&config.budgets),
        config.max_order,
        args.device,
        config.out.display()
    );
    let started = Instant::now();
    let on_stage = |seed: Option<u64>, stage: StageStart| {
        let seed = seed.map_or(String::new(), |s| format!("seed {s}: "));
        eprintln!(
            "[{seed}{}/{}] {} ({:.0} s so far)",
            stage.number,
            stage.count,
            stage.name,
            started.elapsed().as_secs_f64()
        );
    };
    let (summaries, stability) = dispatch(
        args.device,
        Pipeline {
            config: &config,
            seeds: &args.seeds,
            on_stage: &on_stage,
        },
    )?;
    for summary in &summaries {
        print_summary(summary);
    }
    if let Some(stability) = &stability {
        super::stability::print(stability);
        println!(
            "\nStability: {}",
            config.out.join("stability.json").display()
        );
    }
    Ok(())
}

/// The whole run, once or once per seed, on whichever device was chosen.
struct Pipeline<'a> {
    config: &'a RunConfig,
    seeds: &'a [u64],
    on_stage: &'a dyn Fn(Option<u64>, StageStart),
}

impl OnDevice for Pipeline<'_> {
    type Output = (Vec<RunSummary>, Option<Stability>);
    fn run<D: ShardDevice>(self, dev: &D) -> anyhow::Result<Self::Output> {
        if self.seeds.is_empty() {
            let summary = pipeline::run(dev, self.config, Progress::terminal(), &|stage| {
                (self.on_stage)(None, stage)
            })?;
            return Ok((vec![summary], None));
        }
        let (summaries, stability) = pipeline::run_seeds(
            dev,
            self.config,
            self.seeds,
            Progress::terminal(),
            &|seed, stage| (self.on_stage)(Some(seed), stage),
        )?;
        Ok((summaries, Some(stability)))
    }
}

fn config<D: Dictionary>(args: &RunArgs) -> anyhow::Result<RunConfig> {
    let tasks = parse_tasks::<D>(&args.tasks)?;
    let novel = args
        .novel
        .iter()
        .map(|name| {
            tasks
                .find(name)
                .map(|t| t.spec.name.to_owned())
                .with_context(|| format!("--novel: `{name}` is not one of the run's tasks"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let out = args.out.clone().unwrap_or_else(super::default_out::<D>);
    let mut config = RunConfig::new(tasks, args.preset, out);
    if let Some(order) = args.max_order {
        if order == 0 {
            bail!("--max-order must be at least 1");
        }
        config.settings.max_order = order;
        config.settings.top_k = config.settings.top_k.max(order);
        config.max_order = order;
    }
    if let Some(text) = &args.budget {
        config.budgets = parse_budgets(text)?;
    }
    if args.seeds.len() == 1 {
        bail!("--seeds: give at least two seeds to compare (or --seed for one run)");
    }
    Ok(RunConfig {
        novel,
        own_supervision: match args.own_supervision {
            Own::One => OwnSupervision::One,
            Own::Value => OwnSupervision::Value,
        },
        seed: args.seed,
        dataset: args.data.clone(),
        device: args.device,
        transitive: args.transitive,
        estimator: args.estimator,
        estimators: if args.no_estimators || args.estimator.is_some() {
            Vec::new()
        } else {
            Estimator::ALL.to_vec()
        },
        worker: args.claims.options()?,
        ..config
    })
}

/// `N..M` (inclusive) or `N`.
fn parse_budgets(text: &str) -> anyhow::Result<Vec<f64>> {
    let parse = |part: &str| -> anyhow::Result<usize> {
        part.trim()
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .with_context(|| format!("--budget: expected a positive whole number, found `{part}`"))
    };
    let (low, high) = match text.split_once("..") {
        Some((low, high)) => (parse(low)?, parse(high.trim_start_matches('='))?),
        None => {
            let n = parse(text)?;
            (n, n)
        }
    };
    if low > high {
        bail!("--budget: `{text}` is an empty range");
    }
    Ok((low..=high).map(|b| b as f64).collect())
}

fn budgets_label(budgets: &[f64]) -> String {
    match (budgets.first(), budgets.last()) {
        (Some(first), Some(last)) if budgets.len() > 1 => format!("{first}..{last}"),
        (Some(only), _) => only.to_string(),
        _ => "none".into(),
    }
}

pub(super) fn print_summary(summary: &RunSummary) {
    let total: f64 = summary.steps.iter().map(|(_, seconds)| seconds).sum();
    println!("\nStage wall times:");
    for (stage, seconds) in &summary.steps {
        println!("  {stage:<36} {seconds:>8.1} s");
    }
    println!("  {:<36} {total:>8.1} s", "total");
    let mean = |v: Option<f64>| v.map_or("–".to_owned(), |v| format!("{v:.3}"));
    println!(
        "\n{:>6}  {:>9}  {:>9}  {:>9}  {:>7}  sources",
        "budget", "objective", "gain", "quality", "p"
    );
    for result in &summary.budgets {
        println!(
            "{:>6}  {:>9.4}  {:>9}  {:>9}  {:>7}  {}",
            result.plan.budget,
            result.plan.objective,
            mean(result.evaluation.mean_gain),
            mean(result.evaluation.mean_quality),
            result
                .significance
                .map_or("–".to_owned(), |s| format!("{:.3}", s.p_value)),
            result.plan.sources.join(", ")
        );
    }
    println!(
        "\nGain and quality: means over the targets solved by transfer. p: how often random source sets \
         of the same budget reach the taxonomy's mean quality."
    );
    for novel in &summary.novel {
        println!(
            "novel {}: all for one from {}, gain {:.3}, quality {:.3}",
            novel.target,
            novel.sources.join(" + "),
            novel.gain,
            novel.quality
        );
    }
    if let Some(transitive) = &summary.transitive {
        println!("\nTransitive transfer: {}", transitive.verdict());
    }
    super::report_data(&summary.data);
    println!("\nReport: {}", summary.report.display());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_are_ranges_or_single_numbers() {
        assert_eq!(parse_budgets("1..3").unwrap(), [1.0, 2.0, 3.0]);
        assert_eq!(parse_budgets("2..=2").unwrap(), [2.0]);
        assert_eq!(parse_budgets("4").unwrap(), [4.0]);
        assert!(parse_budgets("3..1").is_err());
        assert!(parse_budgets("0..2").is_err());
        assert!(parse_budgets("a").is_err());
    }
}
