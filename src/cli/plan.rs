//! `taskonomy plan`: the taxonomy for one supervision budget, or a sweep over budgets (Section 3.4).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use taskonomy_core::plan::{OwnSupervision, Plan, PlanOptions, Problem, Solver};
use taskonomy_core::plot::LineChart;
use taskonomy_core::spec::Dictionary;
use taskonomy_core::transfers::Transfers;

/// Plan a taxonomy: which tasks to label so that every target is solved best, under a budget.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  taskonomy plan --affinities data/taskonomy2018/affinities.csv \
                        --budget 4 --max-order 2"
)]
pub struct PlanArgs {
    /// The affinity table: CSV `sources,target,order,value`, sources joined by `+`, higher is better.
    #[arg(long, value_name = "FILE.csv")]
    affinities: PathBuf,
    /// The supervision budget γ: the most total label cost the chosen source tasks may have.
    #[arg(
        long,
        value_name = "N",
        required_unless_present = "sweep",
        conflicts_with = "sweep"
    )]
    budget: Option<f64>,
    /// Solve every budget from 1 to the number of candidate sources, for every max order up to K; write
    /// sweep.csv and sweep.svg into --out.
    #[arg(long)]
    sweep: bool,
    /// The largest transfer order K (number of sources of one transfer).
    #[arg(long, value_name = "K", default_value_t = 1)]
    max_order: usize,
    /// How a chosen target scores when solved by its own supervision: its `self` row (`value`) or 1 (`one`).
    ///
    /// `value` (the default) scores the edge ({t}, t) like every other edge, as the paper does: by the
    /// value of t's own network in the same AHP tournament as the transfers into t, on the same scale.
    /// `one` gives it the whole mass of that tournament (a target's affinities sum to 1; most transfers
    /// hold a few hundredths), so that labelling any target outweighs dozens of transfers into it; it is
    /// for tables without `self` rows, and to compare with plans made that way.
    #[arg(long, value_enum, default_value_t = Own::Value)]
    own_supervision: Own,
    /// The tasks that may be chosen as sources (default: every non-baseline source in the table).
    #[arg(long, value_name = "a,b,..", value_delimiter = ',')]
    sources: Option<Vec<String>>,
    /// The targets to solve (default: every target in the table).
    #[arg(long, value_name = "a,b,..", value_delimiter = ',')]
    targets: Option<Vec<String>>,
    /// Importance r of targets (default 1).
    #[arg(long, value_name = "t=w,..", value_delimiter = ',', value_parser = task_weight)]
    importance: Vec<(String, f64)>,
    /// Label cost ℓ of source tasks (default 1).
    #[arg(long, value_name = "t=c,..", value_delimiter = ',', value_parser = task_weight)]
    cost: Vec<(String, f64)>,
    /// Output for a single budget.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Where --sweep writes sweep.csv and sweep.svg.
    #[arg(long, value_name = "DIR", default_value = ".")]
    out: PathBuf,
    /// How to name tasks in the output: as the file does (`file`), or by the dictionary's canonical names
    /// (`dictionary`: in the standard dictionary, `rgb2sfnorm` becomes `surface_normals`). Task names given to
    /// the other options may use either spelling.
    #[arg(long, value_enum, default_value_t = Names::File)]
    names: Names,
    /// The exact method (both give the same plan; `mip` also cross-checks it with the BIP solver).
    #[arg(long, value_enum, default_value_t = Method::BranchAndBound)]
    solver: Method,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Own {
    One,
    Value,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Names {
    File,
    Dictionary,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Method {
    BranchAndBound,
    Mip,
}

fn task_weight(text: &str) -> Result<(String, f64), String> {
    let (task, weight) = text
        .split_once('=')
        .ok_or_else(|| format!("expected `task=number`, found `{text}`"))?;
    let weight: f64 = weight
        .trim()
        .parse()
        .map_err(|_| format!("expected a number after `{task}=`, found `{weight}`"))?;
    Ok((task.trim().to_owned(), weight))
}

/// Runs the subcommand.
pub fn run<D: Dictionary>(args: PlanArgs) -> anyhow::Result<()> {
    let table = Transfers::read(&args.affinities)?;
    // Standard error, so that `--format json` leaves standard output to the plan.
    if let Some(note) = skip_note(&table) {
        eprintln!("{note}");
    }
    let table = match args.names {
        Names::File => table,
        Names::Dictionary => table.with_dictionary_names::<D>()?,
    };
    let spell = |name: &String| table.spelling_of::<D>(name);
    let spell_all =
        |names: &Option<Vec<String>>| names.as_ref().map(|n| n.iter().map(spell).collect());
    let spell_weights = |weights: &[(String, f64)]| -> BTreeMap<String, f64> {
        weights.iter().map(|(task, w)| (spell(task), *w)).collect()
    };
    let options = |max_order| PlanOptions {
        max_order,
        own_supervision: match args.own_supervision {
            Own::One => OwnSupervision::One,
            Own::Value => OwnSupervision::Value,
        },
        sources: spell_all(&args.sources),
        targets: spell_all(&args.targets),
        importance: spell_weights(&args.importance),
        cost: spell_weights(&args.cost),
    };
    let solver = match args.solver {
        Method::BranchAndBound => Solver::BranchAndBound,
        Method::Mip => Solver::Mip { warm_start: true },
    };
    if args.sweep {
        return sweep(&args, &table, options, solver);
    }
    let budget = args
        .budget
        .context("--budget is required without --sweep")?;
    let problem = Problem::new(&table, &options(args.max_order))?;
    let plan = problem.solve_with(budget, solver, None)?;
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string(&PlanJson::new(&problem, &plan))?
        ),
        Format::Text => print!("{}", text(&table, &problem, &plan)),
    }
    Ok(())
}

/// The one line that says which rows of the file the planner never saw, and why; `None` if it saw all.
fn skip_note(table: &Transfers) -> Option<String> {
    let skipped = table.skipped()?;
    let first = &skipped.first;
    let (rows, combine, example) = match skipped.count {
        1 => ("1 row".to_owned(), "combines", ""),
        count => (format!("{count} rows"), "combine", "e.g. "),
    };
    Some(format!(
        "note: skipped {rows} of {} that {combine} a baseline with other sources \
         ({example}line {}: {} → {}); a baseline is not a task a taxonomy can label",
        table.origin(),
        first.line,
        first.sources_label(),
        first.target
    ))
}

/// The JSON object of one plan (field order as documented).
#[derive(Serialize)]
struct PlanJson<'a> {
    budget: serde_json::Number,
    max_order: usize,
    own_supervision: OwnSupervision,
    objective: f64,
    sources: &'a [String],
    transfers: &'a BTreeMap<String, taskonomy_core::plan::Assignment>,
    solve_seconds: f64,
}

impl<'a> PlanJson<'a> {
    fn new(problem: &Problem, plan: &'a Plan) -> Self {
        PlanJson {
            budget: number(plan.budget),
            max_order: problem.max_order(),
            own_supervision: problem.own_supervision(),
            objective: plan.objective,
            sources: &plan.sources,
            transfers: &plan.transfers,
            solve_seconds: plan.stats.elapsed.as_secs_f64(),
        }
    }
}

/// A whole budget as a JSON integer, any other as a float.
fn number(x: f64) -> serde_json::Number {
    if x.fract() == 0.0 && (0.0..9e15).contains(&x) {
        serde_json::Number::from(x as u64)
    } else {
        serde_json::Number::from_f64(x).unwrap_or_else(|| serde_json::Number::from(0))
    }
}

/// The readable table: one line per target, `target ← sources  performance`.
fn text(table: &Transfers, problem: &Problem, plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Taxonomy of {}: budget {}, max order {}, own supervision `{}`",
        table.origin(),
        plan.budget,
        problem.max_order(),
        problem.own_supervision()
    );
    let _ = writeln!(
        out,
        "Chosen sources ({}, label cost {}): {}\n",
        plan.sources.len(),
        plan.cost,
        plan.sources.join(", ")
    );
    let target_width = plan
        .transfers
        .keys()
        .map(|t| t.chars().count())
        .max()
        .unwrap_or(0)
        .max(6);
    let source_labels: Vec<String> = plan
        .transfers
        .values()
        .map(|a| {
            if a.supervised {
                "(own supervision)".to_owned()
            } else {
                a.sources.join(" + ")
            }
        })
        .collect();
    let source_width = source_labels
        .iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(0)
        .max(7);
    let _ = writeln!(
        out,
        "{:target_width$}   {:source_width$}  performance",
        "target", "sources"
    );
    for ((target, assignment), sources) in plan.transfers.iter().zip(&source_labels) {
        let _ = writeln!(
            out,
            "{target:target_width$} ← {sources:source_width$}  {:.6}",
            assignment.performance
        );
    }
    let _ = writeln!(
        out,
        "\nObjective {:.6}  (solved in {:.2} ms)",
        plan.objective,
        plan.stats.elapsed.as_secs_f64() * 1e3
    );
    out
}

/// One row of sweep.csv.
struct SweepRow {
    max_order: usize,
    budget: f64,
    plan: Option<Plan>,
}

fn sweep(
    args: &PlanArgs,
    table: &Transfers,
    options: impl Fn(usize) -> PlanOptions,
    solver: Solver,
) -> anyhow::Result<()> {
    if args.max_order == 0 {
        bail!("--max-order must be at least 1");
    }
    let problems = (1..=args.max_order)
        .map(|k| Problem::new(table, &options(k)))
        .collect::<Result<Vec<_>, _>>()?;
    let budgets = problems[0].sources().len();
    let progress = ProgressBar::new((budgets * problems.len()) as u64).with_style(
        ProgressStyle::with_template("{msg:>18} [{bar:30}] {pos}/{len} solves, {elapsed_precise}")?
            .progress_chars("=> "),
    );
    let start = Instant::now();
    let mut rows = Vec::with_capacity(budgets * problems.len());
    for problem in &problems {
        progress.set_message(format!("max order {}", problem.max_order()));
        for point in problem.sweep((1..=budgets).map(|b| b as f64), solver) {
            let point = point?;
            rows.push(SweepRow {
                max_order: problem.max_order(),
                budget: point.budget,
                plan: point.plan,
            });
            progress.inc(1);
        }
    }
    let elapsed = start.elapsed();
    progress.finish_and_clear();

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let csv_path = args.out.join("sweep.csv");
    let svg_path = args.out.join("sweep.svg");
    write(&csv_path, &sweep_csv(&rows))?;
    let title = format!(
        "{}: objective against budget (own supervision: {})",
        file_name(&args.affinities),
        problems[0].own_supervision()
    );
    write(&svg_path, &sweep_svg(&title, &rows))?;
    println!(
        "{} solves in {:.3} s; wrote {} and {}",
        rows.len(),
        elapsed.as_secs_f64(),
        csv_path.display(),
        svg_path.display()
    );
    Ok(())
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn write(path: &Path, contents: &str) -> anyhow::Result<()> {
    std::fs::write(path, contents).with_context(|| format!("cannot write {}", path.display()))
}

/// `max_order,budget,objective,sources`: sources sorted and joined by `+` as in the input tables; an
/// infeasible budget leaves objective and sources empty.
fn sweep_csv(rows: &[SweepRow]) -> String {
    let mut out = String::from("max_order,budget,objective,sources\n");
    for row in rows {
        match &row.plan {
            Some(plan) => {
                let _ = writeln!(
                    out,
                    "{},{},{},{}",
                    row.max_order,
                    row.budget,
                    plan.objective,
                    plan.sources.join("+")
                );
            }
            None => {
                let _ = writeln!(out, "{},{},,", row.max_order, row.budget);
            }
        }
    }
    out
}

/// A line plot of objective against budget, one line per max order.
fn sweep_svg(title: &str, rows: &[SweepRow]) -> String {
    let mut orders: Vec<usize> = rows.iter().map(|r| r.max_order).collect();
    orders.dedup();
    let y_max = rows
        .iter()
        .filter_map(|r| r.plan.as_ref().map(|p| p.objective))
        .fold(1.0, f64::max);
    let mut chart = LineChart::new(title)
        .axes(
            "supervision budget γ (label cost of the chosen sources)",
            "objective Σ r·p",
        )
        .y_range(0.0, y_max * 1.05)
        .size(720.0, 450.0);
    for order in orders {
        let points = rows
            .iter()
            .filter(|r| r.max_order == order)
            .filter_map(|r| r.plan.as_ref().map(|p| (r.budget, p.objective)))
            .collect();
        chart = chart.series(format!("max order {order}"), points, true);
    }
    chart.to_svg()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_skip_note_counts_in_words_and_cites_the_first_row() {
        let note = |text: &str| skip_note(&Transfers::parse(text, "released.csv").unwrap());
        assert_eq!(
            note("sources,target,order,value\na,t,1,0.5\na+random,t,2,0.9\n").as_deref(),
            Some(
                "note: skipped 1 row of released.csv that combines a baseline with other sources \
                 (line 3: a+random → t); a baseline is not a task a taxonomy can label"
            )
        );
        let two = note("sources,target,order,value\nb+self,t,2,0.5\nb+pixels,t,2,0.5\n").unwrap();
        assert!(
            two.starts_with(
                "note: skipped 2 rows of released.csv that combine a baseline with other sources \
                 (e.g. line 2: b+self → t);"
            ),
            "{two}"
        );
        assert_eq!(note("sources,target,order,value\na,t,1,0.5\n"), None);
    }
}
