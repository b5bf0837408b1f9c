//! The report a researcher reads by looking: `report.html`, self-contained, and the figures it shows
//! under `figures/`.
//!
//! * the first-order affinity matrix before and after AHP as heat maps, tasks ordered by cluster
//!   (the paper's Figure 7);
//! * the taxonomy graph of every budget (Figure 8);
//! * the task similarity tree (Figure 14);
//! * Gain and Quality per target and budget with their bootstrap intervals, against baselines that spend
//!   the same budget, the significance of the taxonomy among random source sets, and the objective
//!   against budget;
//! * the novel tasks, each solved all for one (the paper's §4.2);
//! * the stability of the findings across seeds, when several were run;
//! * every departure from the paper;
//! * when measured, transitive transfer (`s → i → t` against `s → t`) as a heat map of win rates;
//! * the loss curve of every network;
//! * the data: samples used and skipped per task, and the tasks left out for want of labels.
//!
//! The page embeds every figure inline, so it can be mailed or archived alone; the SVG files beside it are
//! the same figures for papers and slides.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::estimate::compare::{BudgetLoss, Comparison};
use crate::eval::{Evaluation, NovelResult};
use crate::plan::{OwnSupervision, Plan};
use crate::plot::{
    escape, BarChart, ColorMap, Dendrogram, GraphEdge, HeatMap, LineChart, TaxonomyGraph,
};
use crate::similarity::{cluster, ClusterError, Linkage};
use crate::stability::Stability;
use crate::train::TaskNetworkRecord;
use crate::train::{DataReport, Transitive};
use crate::transfers::{is_pseudo_source, Transfers};
use crate::uncertainty::{Interval, Standing};

/// Facts about the run, stated at the top of the report so that a figure is never separated from how it
/// was made.
#[derive(Clone, Debug, Default)]
pub struct RunFacts {
    /// `key: value` lines in order: preset, sizes, seed, device, versions, ...
    pub settings: Vec<(String, String)>,
    /// Wall time of each step, in order.
    pub step_seconds: Vec<(String, f64)>,
}

/// One budget's taxonomy, how it scored, and how the baselines that spend the same budget scored.
#[derive(Clone, Debug)]
pub struct BudgetResult {
    /// The optimal plan.
    pub plan: Plan,
    /// Gain and Quality of the plan.
    pub evaluation: Evaluation,
    /// The baselines at the same budget (best general-purpose sources, random sources).
    pub baselines: Vec<Evaluation>,
    /// The mean Quality of every random source set drawn at this budget: the null distribution.
    pub random_qualities: Vec<f64>,
    /// Where the taxonomy's mean Quality falls among them (`None` if every target is supervised).
    pub significance: Option<Standing>,
}

/// Everything the report shows.
#[derive(Clone, Debug)]
pub struct ReportInput {
    /// The report's title.
    pub title: String,
    /// How the run was made.
    pub facts: RunFacts,
    /// What the data held: samples used and skipped per task, tasks without labels.
    pub data: DataReport,
    /// First-order transfers before normalisation: each transfer's mean test loss divided by the best
    /// (lowest) mean loss into the same target, so 1 is the best source and larger is worse.
    pub relative_losses: Transfers,
    /// AHP affinities (higher is better).
    pub affinities: Transfers,
    /// The bootstrap interval of every row of `affinities`, in row order (empty: not measured).
    pub affinity_intervals: Vec<Interval>,
    /// How the planner scored own supervision.
    pub own_supervision: OwnSupervision,
    /// The taxonomies of the budget sweep, by increasing budget.
    pub budgets: Vec<BudgetResult>,
    /// The novel tasks, each solved all for one.
    pub novel: Vec<NovelResult>,
    /// The task networks of step I and their test losses.
    pub task_networks: Vec<TaskNetworkRecord>,
    /// The stability of the findings across seeds, when several seeds were run.
    pub stability: Option<Stability>,
    /// Extra sections (title, HTML-escaped text): novel tasks, transitive transfer, ...
    pub notes: Vec<(String, String)>,
    /// Loss curves of the task networks as `(task, SVG document)`, shown in the page.
    pub task_curves: Vec<(String, String)>,
    /// Loss curves of the transfer readouts as `(target, sources, SVG file)`: hundreds of them in a
    /// full run, so they are copied beside the page and linked from a table, not drawn in it.
    pub transfer_curves: Vec<(String, String, PathBuf)>,
    /// Transitive transfer, when it was measured.
    pub transitive: Option<Transitive>,
    /// Transferability estimators against the trained transfers, when they were computed.
    pub estimators: Vec<Comparison>,
}

/// Why the report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The tasks could not be clustered.
    #[error("cannot cluster the tasks: {0}")]
    Cluster(#[from] ClusterError),
}

/// A figure: its file name under `figures/`, caption and SVG document.
struct Figure {
    file: String,
    caption: String,
    svg: String,
}

/// Writes `dir/report.html` and `dir/figures/*.svg`; returns the report's path.
pub fn write_report(dir: &Path, input: &ReportInput) -> Result<PathBuf, ReportError> {
    let figures_dir = dir.join("figures");
    std::fs::create_dir_all(&figures_dir).map_err(|source| ReportError::Io {
        path: figures_dir.clone(),
        source,
    })?;
    let matrix = FirstOrder::from_tables(&input.relative_losses, &input.affinities);
    let linkage = matrix.cluster()?;
    let order: Vec<String> = linkage
        .leaf_order()
        .into_iter()
        .map(|i| linkage.labels[i].clone())
        .collect();

    let mut sections: Vec<(String, Vec<Figure>, String)> = Vec::new();
    sections.push(("Data".into(), Vec::new(), data_table(&input.data)));
    sections.push((
        "Task affinities".into(),
        vec![
            Figure {
                file: "affinity_before_ahp.svg".into(),
                caption:
                    "Before AHP: each first-order transfer's mean test loss relative to the best \
                          source of its target (1 = best; lower is better)."
                        .into(),
                svg: matrix.heat_map(
                    "First-order transfers before AHP (relative test loss)",
                    &order,
                    &matrix.relative_loss,
                    true,
                ),
            },
            Figure {
                file: "affinity_after_ahp.svg".into(),
                caption:
                    "After AHP: each target's affinities divided by its best source's (1 = best; \
                          higher is better). Sources and targets ordered by the similarity tree."
                        .into(),
                svg: matrix.heat_map(
                    "First-order affinities after AHP (relative to each target's best)",
                    &order,
                    &matrix.relative_affinity(),
                    false,
                ),
            },
            Figure {
                file: "similarity_tree.svg".into(),
                caption: "Task similarity tree: tasks clustered by their transfer-out affinities \
                          (average linkage, cosine distance)."
                    .into(),
                svg: Dendrogram::new("Task similarity tree", &linkage).to_svg(),
            },
        ],
        String::new(),
    ));

    if !input.task_networks.is_empty() {
        sections.push((
            "Task networks".into(),
            Vec::new(),
            task_network_table(&input.task_networks),
        ));
    }
    if !input.budgets.is_empty() {
        let graphs = input
            .budgets
            .iter()
            .map(|result| Figure {
                file: format!("taxonomy_budget_{}.svg", budget_label(result.plan.budget)),
                caption: format!(
                    "Taxonomy at budget {}: {} source(s), objective {:.4}. {}",
                    budget_label(result.plan.budget),
                    result.plan.sources.len(),
                    result.plan.objective,
                    own_supervision_note(input.own_supervision)
                ),
                svg: taxonomy_graph(&result.plan, input.own_supervision),
            })
            .collect();
        sections.push((
            "Taxonomies".into(),
            graphs,
            budget_table(&input.budgets, input),
        ));
        let mut figures = scores_figures(&input.budgets);
        figures.push(significance_figure(&input.budgets));
        sections.push((
            "Gain and Quality".into(),
            figures,
            target_table(&input.budgets, input),
        ));
    }
    if !input.novel.is_empty() {
        sections.push(("Novel tasks".into(), Vec::new(), novel_table(&input.novel)));
    }
    if let Some(stability) = &input.stability {
        sections.push((
            "Stability across seeds".into(),
            vec![stability_figure(stability)],
            stability_table(stability),
        ));
    }
    sections.push((
        "Departures from the paper".into(),
        Vec::new(),
        departures_list(),
    ));
    if let Some(transitive) = &input.transitive {
        sections.push((
            "Transitive transfer".into(),
            vec![Figure {
                file: "transitive.svg".into(),
                caption: "Win rate of s → i → t over the direct s → t on the test images (above 0.5: \
                          the detour through the intermediate i, the target's best other source, wins)."
                    .into(),
                svg: transitive_heat_map(transitive, &order),
            }],
            transitive_table(transitive),
        ));
    }
    if !input.estimators.is_empty() {
        sections.push((
            "Transferability estimators".into(),
            Vec::new(),
            estimators_table(&input.estimators),
        ));
    }
    if !input.task_curves.is_empty() || !input.transfer_curves.is_empty() {
        let curves = input
            .task_curves
            .iter()
            .map(|(task, svg)| Figure {
                file: format!("loss_task_{}.svg", file_stem(task)),
                caption: format!("Training loss of the task network for {task}."),
                svg: svg.clone(),
            })
            .collect();
        sections.push((
            "Loss curves".into(),
            curves,
            transfer_curve_table(&input.transfer_curves),
        ));
    }
    for (_, figures, _) in &sections {
        for figure in figures {
            let path = figures_dir.join(&figure.file);
            std::fs::write(&path, &figure.svg)
                .map_err(|source| ReportError::Io { path, source })?;
        }
    }
    for (target, sources, curve) in &input.transfer_curves {
        let path = figures_dir.join(transfer_curve_file(target, sources));
        std::fs::copy(curve, &path).map_err(|source| ReportError::Io { path, source })?;
    }
    let html = page(input, &sections);
    let path = dir.join("report.html");
    std::fs::write(&path, html).map_err(|source| ReportError::Io {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// The first-order matrices over the tasks that are both in the tables.
struct FirstOrder {
    sources: Vec<String>,
    targets: Vec<String>,
    /// `[source][target]`
    relative_loss: BTreeMap<(String, String), f64>,
    affinity: BTreeMap<(String, String), f64>,
}

impl FirstOrder {
    fn from_tables(relative_losses: &Transfers, affinities: &Transfers) -> Self {
        let first_order = |table: &Transfers| -> BTreeMap<(String, String), f64> {
            table
                .rows()
                .iter()
                .filter(|row| row.order() == 1 && !is_pseudo_source(&row.sources[0]))
                .map(|row| ((row.sources[0].clone(), row.target.clone()), row.value))
                .collect()
        };
        let affinity = first_order(affinities);
        let relative_loss = first_order(relative_losses);
        let sources: BTreeSet<String> = affinity.keys().map(|(s, _)| s.clone()).collect();
        let targets: BTreeSet<String> = affinity.keys().map(|(_, t)| t.clone()).collect();
        FirstOrder {
            sources: sources.into_iter().collect(),
            targets: targets.into_iter().collect(),
            relative_loss,
            affinity,
        }
    }

    /// Affinities divided by the best affinity into the same target.
    fn relative_affinity(&self) -> BTreeMap<(String, String), f64> {
        let mut best: BTreeMap<&str, f64> = BTreeMap::new();
        for ((_, target), value) in &self.affinity {
            let entry = best.entry(target.as_str()).or_insert(0.0);
            *entry = entry.max(*value);
        }
        self.affinity
            .iter()
            .map(|((source, target), value)| {
                let top = best[target.as_str()];
                let relative = if top > 0.0 { value / top } else { 0.0 };
                ((source.clone(), target.clone()), relative)
            })
            .collect()
    }

    /// Sources clustered by their transfer-out vectors (relative affinities, so that every target counts
    /// alike).
    fn cluster(&self) -> Result<Linkage, ClusterError> {
        let relative = self.relative_affinity();
        let features: Vec<Vec<f64>> = self
            .sources
            .iter()
            .map(|s| {
                self.targets
                    .iter()
                    .map(|t| {
                        relative
                            .get(&(s.clone(), t.clone()))
                            .copied()
                            .unwrap_or(0.0)
                    })
                    .collect()
            })
            .collect();
        cluster(self.sources.clone(), &features)
    }

    /// A heat map with sources as rows in `order`, targets as columns in the same order (targets that
    /// are not sources at the end). `lower_is_better` runs the colours backwards so that bright always
    /// means a good transfer.
    fn heat_map(
        &self,
        title: &str,
        order: &[String],
        values: &BTreeMap<(String, String), f64>,
        lower_is_better: bool,
    ) -> String {
        let columns = in_order(order, self.targets.iter().map(String::as_str));
        let cells: Vec<Vec<Option<f64>>> = order
            .iter()
            .map(|s| {
                columns
                    .iter()
                    .map(|t| values.get(&(s.clone(), t.clone())).copied())
                    .collect()
            })
            .collect();
        let map = HeatMap::new(title, order.to_vec(), columns, cells)
            .color_map(ColorMap::Sequential)
            .axis_labels("source", "target");
        if lower_is_better {
            map.reversed().to_svg()
        } else {
            map.to_svg()
        }
    }
}

fn taxonomy_graph(plan: &Plan, own: OwnSupervision) -> String {
    let scale = match own {
        OwnSupervision::Value => "own supervision on the AHP scale",
        OwnSupervision::One => "own supervision scored 1",
    };
    let mut graph = TaxonomyGraph::new(
        format!("Taxonomy at budget {}", budget_label(plan.budget)),
        plan.sources.clone(),
    )
    .subtitle(format!(
        "objective {:.4}, supervision cost {}, {scale}",
        plan.objective,
        budget_label(plan.cost)
    ));
    for (target, assignment) in &plan.transfers {
        graph = graph.edge(GraphEdge {
            target: target.clone(),
            sources: assignment.sources.clone(),
            performance: assignment.performance,
            supervised: assignment.supervised,
        });
    }
    graph.to_svg()
}

/// What a supervised target's number in the graphs means.
fn own_supervision_note(own: OwnSupervision) -> &'static str {
    match own {
        OwnSupervision::Value => {
            "A supervised target shows the value of its own network in its AHP tournament, on the same \
             scale as the transfers."
        }
        OwnSupervision::One => {
            "A supervised target scores 1 (own supervision `one`), far above any transfer's affinity."
        }
    }
}

fn scores_figures(budgets: &[BudgetResult]) -> Vec<Figure> {
    let targets: Vec<String> = budgets[0]
        .evaluation
        .targets
        .iter()
        .map(|t| t.target.clone())
        .collect();
    type Pick = fn(&crate::eval::TargetScore) -> (f64, Option<Interval>);
    let per_budget = |pick: Pick, title: &str, label: &str| {
        let mut chart = BarChart::new(title, targets.clone())
            .y_label(label)
            .range(0.0, 1.0)
            .reference(0.5);
        for result in budgets {
            let by_target: BTreeMap<&str, (f64, Option<Interval>)> = result
                .evaluation
                .transferred()
                .map(|t| (t.target.as_str(), pick(t)))
                .collect();
            let values = targets
                .iter()
                .map(|t| by_target.get(t.as_str()).map(|v| v.0))
                .collect();
            let errors = targets
                .iter()
                .map(|t| {
                    by_target
                        .get(t.as_str())
                        .and_then(|v| v.1)
                        .map(|i| (i.low, i.high))
                })
                .collect();
            chart = chart.group_with_errors(
                format!("budget {}", budget_label(result.plan.budget)),
                values,
                errors,
            );
        }
        chart.to_svg()
    };
    let x = |result: &BudgetResult| result.plan.budget;
    let mean_points = |evaluations: Vec<(f64, &Evaluation)>,
                       pick: fn(&Evaluation) -> Option<f64>| {
        evaluations
            .into_iter()
            .filter_map(|(x, e)| pick(e).map(|y| (x, y)))
            .collect::<Vec<_>>()
    };
    let taxonomy: Vec<(f64, &Evaluation)> = budgets.iter().map(|r| (x(r), &r.evaluation)).collect();
    let mut means = LineChart::new("Mean Gain and Quality against budget")
        .axes(
            "budget (label cost of the sources)",
            "mean win rate over transferred targets",
        )
        .y_range(0.0, 1.0)
        .series(
            "Gain: taxonomy",
            mean_points(taxonomy.clone(), |e| e.mean_gain),
            true,
        )
        .series(
            "Quality: taxonomy",
            mean_points(taxonomy, |e| e.mean_quality),
            true,
        );
    let baseline_names: Vec<String> = budgets[0]
        .baselines
        .iter()
        .map(|b| baseline_kind(&b.label))
        .collect();
    for (i, name) in baseline_names.iter().enumerate() {
        let evaluations = || -> Vec<(f64, &Evaluation)> {
            budgets
                .iter()
                .filter_map(|r| r.baselines.get(i).map(|b| (x(r), b)))
                .collect()
        };
        means = means
            .series(
                format!("Gain: {name}"),
                mean_points(evaluations(), |e| e.mean_gain),
                true,
            )
            .series(
                format!("Quality: {name}"),
                mean_points(evaluations(), |e| e.mean_quality),
                true,
            );
    }
    let objective = LineChart::new("Objective against budget")
        .axes(
            "budget (label cost of the sources)",
            "Σ importance · performance",
        )
        .series(
            "objective",
            budgets.iter().map(|r| (x(r), r.plan.objective)).collect(),
            true,
        );
    vec![
        Figure {
            file: "gain.svg".into(),
            caption:
                "Gain per target solved by transfer: win rate against the target's own architecture \
                 trained from scratch on the same transfer data (above 0.5: the taxonomy's supervision \
                 helped). Error bars: 95% bootstrap intervals over the test images."
                    .into(),
            svg: per_budget(
                |t| (t.gain, t.gain_interval),
                "Gain per target",
                "win rate vs. scratch",
            ),
        },
        Figure {
            file: "quality.svg".into(),
            caption: "Quality per target solved by transfer: win rate against the fully supervised \
                      network (0.5: as good as full supervision). Error bars: 95% bootstrap intervals over \
                      the test images."
                .into(),
            svg: per_budget(
                |t| (t.quality, t.quality_interval),
                "Quality per target",
                "win rate vs. fully supervised",
            ),
        },
        Figure {
            file: "mean_scores.svg".into(),
            caption: "Mean Gain and Quality over the targets solved by transfer, of the taxonomy and of \
                      the baselines that spend the same budget."
                .into(),
            svg: means.size(760.0, 400.0).to_svg(),
        },
        Figure {
            file: "objective.svg".into(),
            caption: "The planner's objective against the supervision budget.".into(),
            svg: objective.to_svg(),
        },
    ]
}

/// The taxonomy's mean Quality at every budget against the random source sets of the same budget: the
/// draws' median and their central 95%.
fn significance_figure(budgets: &[BudgetResult]) -> Figure {
    let mut taxonomy = Vec::new();
    let (mut medians, mut ranges) = (Vec::new(), Vec::new());
    for result in budgets {
        let budget = result.plan.budget;
        if let Some(quality) = result.evaluation.mean_quality {
            taxonomy.push((budget, quality));
        }
        if let Some(median) = crate::uncertainty::median(&result.random_qualities) {
            let range =
                crate::uncertainty::percentile_interval(median, &result.random_qualities, 0.95);
            medians.push((budget, median));
            ranges.push(Some((range.low, range.high)));
        }
    }
    let chart = LineChart::new("Is the structure significant? Taxonomy against random sources")
        .axes(
            "budget (label cost of the sources)",
            "mean Quality over transferred targets",
        )
        .series("taxonomy", taxonomy, true)
        .series_with_errors("random sources: median, central 95%", medians, ranges, true)
        .size(760.0, 400.0);
    Figure {
        file: "significance.svg".into(),
        caption: "The paper's significance test: the taxonomy's mean Quality against the mean Quality of \
                  random source sets of the same budget (median and central 95% of the draws). The table \
                  above gives the taxonomy's percentile among them and the empirical p-value."
            .into(),
        svg: chart.to_svg(),
    }
}

/// `random sources (mean of 8)` → `random sources`.
fn baseline_kind(label: &str) -> String {
    label.split(" (").next().unwrap_or(label).to_owned()
}

fn transfer_curve_file(target: &str, sources: &str) -> String {
    format!(
        "loss_transfer_{}_to_{}.svg",
        file_stem(sources),
        file_stem(target)
    )
}

/// Links to every readout's loss curve: one row per target, one link per transfer into it.
fn transfer_curve_table(curves: &[(String, String, PathBuf)]) -> String {
    if curves.is_empty() {
        return String::new();
    }
    let mut by_target: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (target, sources, _) in curves {
        by_target.entry(target).or_default().push(sources);
    }
    let mut html = String::from(
        "<p>Task networks are drawn below. The readouts' curves are files beside this page:</p>\n\
         <table><tr><th>target</th><th>readouts (sources)</th></tr>\n",
    );
    for (target, sources) in by_target {
        let links: Vec<String> = sources
            .iter()
            .map(|s| {
                format!(
                    "<a href=\"figures/{}\">{}</a>",
                    escape(&transfer_curve_file(target, s)),
                    escape(s)
                )
            })
            .collect();
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td></tr>",
            escape(target),
            links.join(" · ")
        );
    }
    html.push_str("</table>\n");
    html
}

fn budget_label(budget: f64) -> String {
    if budget.fract() == 0.0 {
        format!("{budget:.0}")
    } else {
        format!("{budget}")
    }
}

fn file_stem(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// Samples per task and split, those skipped, the tasks left out and the first problems met.
fn data_table(data: &DataReport) -> String {
    let mut html = format!(
        "<p>{} samples skipped because a file was missing or corrupt; {} task(s) left out for want of \
         labels. Data: <code>{}</code>.</p>\n",
        data.skipped(),
        data.without_labels.len(),
        escape(&data.root)
    );
    html.push_str(
        "<table><tr><th>task</th><th>train</th><th>transfer</th><th>test</th><th>skipped</th></tr>\n",
    );
    for task in &data.tasks {
        let [train, transfer, test] = task.samples;
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{train}</td><td>{transfer}</td><td>{test}</td><td>{}</td></tr>",
            escape(&task.task),
            task.skipped
        );
    }
    for (task, reason) in &data.without_labels {
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td colspan=\"4\">left out: {}</td></tr>",
            escape(task),
            escape(reason)
        );
    }
    html.push_str("</table>\n");
    if !data.problems.is_empty() {
        html.push_str("<p>The first samples skipped:</p>\n<ul>\n");
        for problem in &data.problems {
            let _ = writeln!(html, "<li>{}</li>", escape(&problem.to_string()));
        }
        html.push_str("</ul>\n");
    }
    html
}

/// A mean that may not exist (every target supervised), to three decimals.
fn mean_cell(value: Option<f64>) -> String {
    value.map_or("–".to_owned(), |v| format!("{v:.3}"))
}

fn budget_table(budgets: &[BudgetResult], input: &ReportInput) -> String {
    let mut html = format!(
        "<p>{} Means are over the targets solved by transfer; supervised targets are listed apart. Both \
         baselines spend the same budget: the best general-purpose sources (highest mean first-order \
         affinity) and random source sets (the mean of the draws). The significance is the taxonomy's \
         percentile among the random source sets' mean Quality, and the one-sided empirical p-value.</p>\n\
         <table><tr><th>budget</th><th>sources</th><th>supervised targets</th><th>objective</th>\
         <th>mean Gain</th><th>mean Quality</th><th>baselines (Gain / Quality)</th>\
         <th>significance</th></tr>\n",
        escape(own_supervision_note(input.own_supervision))
    );
    for result in budgets {
        let baselines: Vec<String> = result
            .baselines
            .iter()
            .map(|b| {
                let sources = if b.sources.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", b.sources.join(", "))
                };
                format!(
                    "{}{}: {} / {}",
                    escape(&b.label),
                    escape(&sources),
                    mean_cell(b.mean_gain),
                    mean_cell(b.mean_quality)
                )
            })
            .collect();
        let supervised: Vec<&str> = result
            .evaluation
            .supervised()
            .map(|t| t.target.as_str())
            .collect();
        let significance = result.significance.map_or("–".to_owned(), |s| {
            format!(
                "{:.0}th percentile of {}, p = {:.3}",
                s.percentile, s.draws, s.p_value
            )
        });
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.4}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td></tr>",
            budget_label(result.plan.budget),
            escape(&result.plan.sources.join(", ")),
            escape(&supervised.join(", ")),
            result.plan.objective,
            mean_cell(result.evaluation.mean_gain),
            mean_cell(result.evaluation.mean_quality),
            baselines.join("<br>"),
            escape(&significance)
        );
    }
    html.push_str("</table>\n");
    html
}

/// `0.412 [0.35, 0.47]`, or the value alone when no interval was measured.
fn with_interval(value: f64, interval: Option<Interval>) -> String {
    match interval {
        Some(i) => format!("{value:.3} [{:.2}, {:.2}]", i.low, i.high),
        None => format!("{value:.3}"),
    }
}

fn target_table(budgets: &[BudgetResult], input: &ReportInput) -> String {
    let mut html = String::from(
        "<p>Each target's transfer with its affinity, and its Gain and Quality, with their 95% bootstrap \
         intervals over the test images (the test set's share of the uncertainty; the seed's is in the \
         stability section when several seeds ran).</p>\n<table><tr><th>target</th>",
    );
    // The affinity of `sources → target` (the planner's performance) with its interval.
    let affinity = |sources: &[&str], target: &str| {
        let position = input.affinities.position(sources, target)?;
        Some(with_interval(
            input.affinities.rows()[position].value,
            input.affinity_intervals.get(position).copied(),
        ))
    };
    for result in budgets {
        let _ = write!(
            html,
            "<th>budget {}: transfer</th><th>Gain</th><th>Quality</th>",
            budget_label(result.plan.budget)
        );
    }
    html.push_str("</tr>\n");
    let targets: Vec<&str> = budgets[0]
        .evaluation
        .targets
        .iter()
        .map(|t| t.target.as_str())
        .collect();
    for target in targets {
        let _ = write!(html, "<tr><td>{}</td>", escape(target));
        for result in budgets {
            match result
                .evaluation
                .targets
                .iter()
                .find(|t| t.target == target)
            {
                Some(score) => {
                    let (label, sources): (String, Vec<&str>) = if score.supervised {
                        ("supervised".into(), vec![crate::transfers::SELF])
                    } else {
                        (
                            format!("← {}", score.sources.join(" + ")),
                            score.sources.iter().map(String::as_str).collect(),
                        )
                    };
                    let transfer = match affinity(&sources, target) {
                        Some(affinity) => format!("{label} ({affinity})"),
                        None => label,
                    };
                    let _ = write!(
                        html,
                        "<td>{}</td><td>{}</td><td>{}</td>",
                        escape(&transfer),
                        with_interval(score.gain, score.gain_interval),
                        with_interval(score.quality, score.quality_interval)
                    );
                }
                None => html.push_str("<td>–</td><td>–</td><td>–</td>"),
            }
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</table>\n");
    html
}

/// Each task network's mean test loss against its best constant predictor's (a network that does not
/// beat it learnt nothing about its input, and its encoder is no source worth choosing).
fn task_network_table(networks: &[TaskNetworkRecord]) -> String {
    let failing: Vec<&str> = networks
        .iter()
        .filter(|n| !n.beats_constant())
        .map(|n| n.task.as_str())
        .collect();
    let verdict = if failing.is_empty() {
        "Every task network beats its task's best constant predictor on the test images.".to_owned()
    } else {
        format!(
            "Do not trust these tasks as sources: their networks do not beat the best constant \
             predictor: {}.",
            failing.join(", ")
        )
    };
    let mut html = format!(
        "<p>{}</p>\n<table><tr><th>task</th><th>mean test loss</th><th>best constant predictor</th>\
         <th>margin</th><th>trained now</th></tr>\n",
        escape(&verdict)
    );
    for network in networks {
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{:.4}</td><td>{:.4}</td><td>{:.1}%</td><td>{}</td></tr>",
            escape(&network.task),
            network.test_mean,
            network.constant_mean,
            100.0 * network.margin(),
            if network.reused { "no (reused)" } else { "yes" }
        );
    }
    html.push_str("</table>\n");
    html
}

/// The all-for-one transfer into every novel task, with its Gain and Quality.
fn novel_table(novel: &[NovelResult]) -> String {
    let mut html = String::from(
        "<p>Each novel task existed for the method only on the transfer split. It is solved all for one: \
         by its best transfer, of any order the planner allows, from all the known tasks. Its Quality is \
         measured against a fully supervised network of the task trained for scoring only.</p>\n\
         <table><tr><th>novel task</th><th>best transfer from</th><th>affinity</th><th>Gain</th>\
         <th>Quality</th></tr>\n",
    );
    for result in novel {
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{:.4}</td><td>{}</td><td>{}</td></tr>",
            escape(&result.target),
            escape(&result.sources.join(" + ")),
            result.affinity,
            with_interval(result.gain, result.gain_interval),
            with_interval(result.quality, result.quality_interval)
        );
    }
    html.push_str("</table>\n");
    html
}

/// The median Spearman's ρ, the unstable targets, and every budget's sources per run.
fn stability_table(stability: &Stability) -> String {
    let runs = stability.runs.join(", ");
    let mut html = format!(
        "<p>Runs compared: {}. Median over targets of the mean Spearman's ρ of their first-order \
         affinities between runs: <b>{}</b> (1: every run ranks the sources alike).</p>\n",
        escape(&runs),
        mean_cell(stability.median_spearman)
    );
    let unstable = stability.unstable_targets(0.5);
    if !unstable.is_empty() {
        let names: Vec<String> = unstable
            .iter()
            .map(|t| format!("{} ({})", t.target, mean_cell(t.mean)))
            .collect();
        let _ = writeln!(
            html,
            "<p>Unstable (ρ below 0.5): {}. Findings about these targets' sources depend on the seed.</p>",
            escape(&names.join(", "))
        );
    }
    html.push_str("<table><tr><th>budget</th>");
    for run in &stability.runs {
        let _ = write!(html, "<th>{}</th>", escape(run));
    }
    html.push_str("<th>mean Jaccard</th><th>runs agreeing</th><th>finding</th></tr>\n");
    for budget in &stability.budgets {
        let _ = write!(html, "<tr><td>{}</td>", budget_label(budget.budget));
        for sources in &budget.sources {
            let _ = write!(html, "<td>{}</td>", escape(&sources.join(", ")));
        }
        let verdict = if budget.agreeing == budget.sources.len() {
            "stable"
        } else if 2 * budget.agreeing > budget.sources.len() {
            "mostly stable"
        } else {
            "unstable"
        };
        let _ = writeln!(
            html,
            "<td>{:.2}</td><td>{} of {}</td><td>{verdict}</td></tr>",
            budget.mean_jaccard,
            budget.agreeing,
            budget.sources.len()
        );
    }
    html.push_str("</table>\n");
    html
}

/// Each target's mean Spearman's ρ across the runs, as bars.
fn stability_figure(stability: &Stability) -> Figure {
    let targets: Vec<String> = stability.targets.iter().map(|t| t.target.clone()).collect();
    let chart = BarChart::new(
        "Rank agreement of each target's first-order affinities across seeds",
        targets,
    )
    .y_label("mean Spearman's ρ between runs")
    .range(-1.0, 1.0)
    .reference(0.8)
    .group_with_errors(
        "mean over pairs of runs",
        stability.targets.iter().map(|t| t.mean).collect(),
        stability
            .targets
            .iter()
            .map(|t| {
                let defined: Vec<f64> = t.pairs.iter().flatten().copied().collect();
                let low = defined.iter().copied().fold(f64::INFINITY, f64::min);
                let high = defined.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                (defined.len() > 1).then_some((low, high))
            })
            .collect(),
    );
    Figure {
        file: "stability.svg".into(),
        caption: "Spearman's ρ of each target's first-order affinities between every two seeds: the bar \
                  is the mean over the pairs, the whisker spans the lowest and highest pair; the dashed \
                  line is the goal of 0.8."
            .into(),
        svg: chart.to_svg(),
    }
}

/// Every departure from the paper, one line each.
fn departures_list() -> String {
    let mut html = String::from("<ul>\n");
    for departure in crate::departures::DEPARTURES {
        let _ = writeln!(
            html,
            "<li><b>{}</b>: {}</li>",
            escape(departure.topic),
            escape(departure.line)
        );
    }
    html.push_str("</ul>\n");
    html
}

fn page(input: &ReportInput, sections: &[(String, Vec<Figure>, String)]) -> String {
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\n\
         <style>body{{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;max-width:1200px;margin:2em auto;\
         color:#222;padding:0 1em}}h1{{font-size:1.6em}}h2{{border-bottom:1px solid #ddd;padding-bottom:.2em;\
         margin-top:2em}}table{{border-collapse:collapse;margin:1em 0;font-size:.9em}}td,th{{border:1px solid #ddd;\
         padding:.25em .6em;text-align:left}}th{{background:#f4f4f4}}figure{{margin:1.5em 0}}figcaption{{color:#555;\
         font-size:.9em;max-width:900px}}.figure svg{{max-width:100%;height:auto}}</style></head><body>\n\
         <h1>{title}</h1>\n",
        title = escape(&input.title)
    );
    html.push_str("<h2>Run</h2>\n<table>\n");
    for (key, value) in &input.facts.settings {
        let _ = writeln!(
            html,
            "<tr><th>{}</th><td>{}</td></tr>",
            escape(key),
            escape(value)
        );
    }
    html.push_str("</table>\n");
    if !input.facts.step_seconds.is_empty() {
        html.push_str("<table><tr><th>step</th><th>wall time</th></tr>\n");
        let mut total = 0.0;
        for (step, seconds) in &input.facts.step_seconds {
            total += seconds;
            let _ = writeln!(
                html,
                "<tr><td>{}</td><td>{:.1} s</td></tr>",
                escape(step),
                seconds
            );
        }
        let _ = writeln!(
            html,
            "<tr><th>total</th><th>{total:.1} s</th></tr>\n</table>"
        );
    }
    html.push_str("<nav><ul>\n");
    for (title, _, _) in sections {
        let _ = writeln!(
            html,
            "<li><a href=\"#{}\">{}</a></li>",
            file_stem(title),
            escape(title)
        );
    }
    for (title, _) in &input.notes {
        let _ = writeln!(
            html,
            "<li><a href=\"#{}\">{}</a></li>",
            file_stem(title),
            escape(title)
        );
    }
    html.push_str("</ul></nav>\n");
    for (title, figures, table) in sections {
        let _ = writeln!(
            html,
            "<h2 id=\"{}\">{}</h2>",
            file_stem(title),
            escape(title)
        );
        html.push_str(table);
        for figure in figures {
            let _ = writeln!(
                html,
                "<figure><div class=\"figure\">{}</div><figcaption>{} <a href=\"figures/{}\">SVG</a></figcaption></figure>",
                strip_xml_prolog(&figure.svg),
                escape(&figure.caption),
                escape(&figure.file)
            );
        }
    }
    for (title, text) in &input.notes {
        let _ = writeln!(
            html,
            "<h2 id=\"{}\">{}</h2>\n<p>{}</p>",
            file_stem(title),
            escape(title),
            escape(text).replace('\n', "<br>")
        );
    }
    html.push_str("</body></html>\n");
    html
}

/// The distinct `names`: those in `order` first, in that order, then the others, sorted.
fn in_order<'a>(order: &[String], names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let names: BTreeSet<&str> = names.into_iter().collect();
    let mut out: Vec<String> = order
        .iter()
        .filter(|t| names.contains(t.as_str()))
        .cloned()
        .collect();
    out.extend(
        names
            .into_iter()
            .filter(|n| !order.iter().any(|o| o == n))
            .map(str::to_owned),
    );
    out
}

/// Sources × targets, each cell the win rate of the source's detour into the target; tasks in `order`
/// (the similarity tree's), then any others.
fn transitive_heat_map(transitive: &Transitive, order: &[String]) -> String {
    let rows = in_order(order, transitive.paths.iter().map(|p| p.source.as_str()));
    let columns = in_order(order, transitive.paths.iter().map(|p| p.target.as_str()));
    let cells = rows
        .iter()
        .map(|s| {
            columns
                .iter()
                .map(|t| {
                    transitive
                        .paths
                        .iter()
                        .find(|p| &p.source == s && &p.target == t)
                        .map(|p| p.win_rate)
                })
                .collect()
        })
        .collect();
    HeatMap::new(
        "Transitive transfer: win rate of s → i → t over s → t",
        rows,
        columns,
        cells,
    )
    .color_map(ColorMap::Diverging)
    .range(0.0, 1.0)
    .axis_labels("source s", "target t")
    .to_svg()
}

/// The verdict, then per target: the intermediates used, the pairs won and the mean win rate.
fn transitive_table(transitive: &Transitive) -> String {
    let mut html = format!(
        "<p>{}</p>\n<table><tr><th>target</th><th>intermediate(s)</th><th>pairs won</th>\
         <th>mean win rate</th><th>mean loss direct</th><th>mean loss transitive</th></tr>\n",
        escape(&transitive.verdict())
    );
    let mut by_target: BTreeMap<&str, Vec<&crate::train::TransitivePath>> = BTreeMap::new();
    for path in &transitive.paths {
        by_target
            .entry(path.target.as_str())
            .or_default()
            .push(path);
    }
    for (target, paths) in by_target {
        let n = paths.len() as f64;
        let intermediates: BTreeSet<&str> = paths.iter().map(|p| p.intermediate.as_str()).collect();
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{} of {}</td><td>{:.3}</td><td>{:.4}</td><td>{:.4}</td></tr>",
            escape(target),
            escape(&intermediates.into_iter().collect::<Vec<_>>().join(", ")),
            paths.iter().filter(|p| p.win_rate > 0.5).count(),
            paths.len(),
            paths.iter().map(|p| p.win_rate).sum::<f64>() / n,
            paths.iter().map(|p| p.direct_loss).sum::<f64>() / n,
            paths.iter().map(|p| p.transitive_loss).sum::<f64>() / n,
        );
    }
    html.push_str("</table>\n");
    html
}

/// How far each estimator agrees with the trained transfers: the summary, then ρ per target.
fn estimators_table(comparisons: &[Comparison]) -> String {
    let number =
        |v: Option<f64>, digits: usize| v.map_or("–".to_owned(), |v| format!("{v:.digits$}"));
    let budgets: BTreeSet<String> = comparisons
        .iter()
        .flat_map(|c| c.budgets.iter().map(|b| budget_label(b.budget)))
        .collect();
    let mut html = String::from(
        "<p>Each estimator scores every transfer of step II from the cached representations of the \
         transfer split and the target's labels, without training a readout: LogME (the maximised \
         evidence of a Bayesian linear model, per value), H-score (classification targets only), and a \
         ridge readout fitted in closed form (penalty α/β from the evidence) and scored on the test \
         images with the target's loss. ρ is Spearman's rank correlation between an estimator's and the \
         trained affinities of a target's first-order task sources. <em>Quality lost</em> is the mean \
         Quality of the taxonomy planned on the trained affinities minus that of the taxonomy planned \
         on the estimates, both scored with the trained win rates, at the same budget and over the \
         targets the estimator covers (negative: the estimates planned better). The last column compares \
         the time per pair of the first-order estimates with that of the trained first-order readouts \
         they stand for, on the same machine.</p>\n<table><tr><th>estimator</th><th>targets</th>\
         <th>median ρ</th>",
    );
    for budget in &budgets {
        let _ = write!(html, "<th>Quality lost, budget {budget}</th>");
    }
    html.push_str("<th>first order</th><th>readouts</th><th>per pair</th></tr>\n");
    for c in comparisons {
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td>",
            c.estimator,
            c.targets.len(),
            number(c.median_rho, 2)
        );
        for budget in &budgets {
            let lost = c
                .budgets
                .iter()
                .find(|b| &budget_label(b.budget) == budget)
                .and_then(BudgetLoss::lost);
            let _ = write!(html, "<td>{}</td>", number(lost, 3));
        }
        let (seconds, pairs) = c.first_order;
        let readouts = c.readouts.map_or("not recorded".to_owned(), |(s, n)| {
            format!("{s:.1} s for {n}")
        });
        let _ = writeln!(
            html,
            "<td>{seconds:.2} s for {pairs}</td><td>{readouts}</td><td>{}</td></tr>",
            c.speed().unwrap_or_else(|| "–".to_owned())
        );
    }
    html.push_str("</table>\n");
    for c in comparisons.iter().filter(|c| !c.left_out.is_empty()) {
        let mut by_reason: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (target, why) in &c.left_out {
            by_reason.entry(why).or_default().push(target);
        }
        let reasons: Vec<String> = by_reason
            .iter()
            .map(|(why, targets)| format!("{} ({why})", targets.join(", ")))
            .collect();
        let _ = writeln!(
            html,
            "<p>{} leaves out {}.</p>",
            c.estimator,
            escape(&reasons.join("; "))
        );
    }
    let targets: BTreeSet<&str> = comparisons
        .iter()
        .flat_map(|c| c.targets.iter().map(|t| t.target.as_str()))
        .collect();
    html.push_str("<table><tr><th>target</th>");
    for c in comparisons {
        let _ = write!(html, "<th>ρ {}</th>", c.estimator);
    }
    html.push_str("</tr>\n");
    for target in targets {
        let _ = write!(html, "<tr><td>{}</td>", escape(target));
        for c in comparisons {
            let rho = c
                .targets
                .iter()
                .find(|t| t.target == target)
                .and_then(|t| t.rho);
            let _ = write!(html, "<td>{}</td>", number(rho, 2));
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</table>\n");
    html
}

/// An SVG document ready to inline in HTML (no XML declaration).
fn strip_xml_prolog(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(start) => &svg[start..],
        None => svg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::{evaluate, WinRates};
    use crate::plan::{PlanOptions, Problem};
    use crate::stability::Stability;
    use crate::transfers::Transfer;

    fn table(origin: &str, rows: &[(&str, &str, f64)]) -> Transfers {
        Transfers::from_rows(
            origin,
            rows.iter()
                .map(|(s, t, v)| Transfer::new(&[*s], t, *v))
                .collect(),
        )
        .unwrap()
    }

    fn input() -> ReportInput {
        let affinities = table(
            "affinities",
            &[
                ("a", "b", 0.7),
                ("c", "b", 0.3),
                ("b", "a", 0.6),
                ("c", "a", 0.4),
                ("a", "c", 0.5),
                ("b", "c", 0.5),
                ("self", "a", 0.8),
                ("self", "b", 0.6),
                ("self", "c", 0.7),
            ],
        );
        let relative_losses = table(
            "relative losses",
            &[
                ("a", "b", 1.0),
                ("c", "b", 1.3),
                ("b", "a", 1.0),
                ("c", "a", 1.1),
                ("a", "c", 1.0),
                ("b", "c", 1.0),
            ],
        );
        let rows: Vec<(&str, &str, f64)> = affinities
            .rows()
            .iter()
            .map(|r| {
                let value = if r.sources[0] == "self" { 0.5 } else { 0.3 };
                (r.sources[0].as_str(), r.target.as_str(), value)
            })
            .collect();
        let wins = WinRates::new(
            table("wins_vs_self", &rows),
            table("wins_vs_scratch", &rows),
        );
        let options = PlanOptions {
            own_supervision: OwnSupervision::Value,
            ..PlanOptions::default()
        };
        let problem = Problem::new(&affinities, &options).unwrap();
        let budgets = [1.0, 2.0]
            .iter()
            .map(|&budget| {
                let plan = problem.solve(budget).unwrap();
                let evaluation = evaluate(&plan, &wins, "taxonomy").unwrap();
                BudgetResult {
                    baselines: vec![Evaluation {
                        label: "random sources (mean of 3)".into(),
                        ..evaluation.clone()
                    }],
                    random_qualities: vec![0.2, 0.3, 0.25],
                    significance: Some(crate::uncertainty::standing(0.3, &[0.2, 0.3, 0.25])),
                    plan,
                    evaluation,
                }
            })
            .collect();
        ReportInput {
            title: "Test <run>".into(),
            facts: RunFacts {
                settings: vec![("seed".into(), "7".into())],
                step_seconds: vec![("train".into(), 1.5)],
            },
            data: DataReport {
                tasks: vec![crate::train::TaskData {
                    task: "a".into(),
                    samples: [10, 4, 4],
                    skipped: 1,
                    selections: Default::default(),
                }],
                without_labels: vec![("z".into(), "no files".into())],
                ..DataReport::default()
            },
            relative_losses,
            affinity_intervals: affinities
                .rows()
                .iter()
                .map(|r| Interval {
                    low: r.value - 0.1,
                    high: r.value + 0.1,
                })
                .collect(),
            own_supervision: OwnSupervision::Value,
            affinities,
            budgets,
            novel: vec![NovelResult {
                target: "c".into(),
                sources: vec!["a".into()],
                affinity: 0.5,
                gain: 0.6,
                quality: 0.3,
                gain_interval: Some(Interval {
                    low: 0.5,
                    high: 0.7,
                }),
                quality_interval: None,
            }],
            task_networks: vec![TaskNetworkRecord {
                task: "a".into(),
                key: "k".into(),
                test_mean: 0.6,
                constant_mean: 0.5,
                reused: false,
            }],
            stability: Some(Stability {
                runs: vec!["seed 1".into(), "seed 2".into()],
                pairs: vec![(0, 1)],
                targets: vec![crate::stability::TargetStability {
                    target: "b".into(),
                    pairs: vec![Some(0.4)],
                    mean: Some(0.4),
                }],
                median_spearman: Some(0.4),
                budgets: vec![crate::stability::BudgetStability {
                    budget: 1.0,
                    sources: vec![vec!["a".into()], vec!["b".into()]],
                    pairs: vec![0.0],
                    mean_jaccard: 0.0,
                    agreeing: 1,
                }],
            }),
            notes: vec![("Novel tasks".into(), "none held out".into())],
            task_curves: vec![("a".into(), LineChart::new("a").to_svg())],
            transfer_curves: Vec::new(),
            estimators: Vec::new(),
            transitive: Some(Transitive {
                paths: vec![crate::train::TransitivePath {
                    source: "c".into(),
                    intermediate: "a".into(),
                    target: "b".into(),
                    direct_loss: 0.5,
                    transitive_loss: 0.75,
                    win_rate: 0.25,
                }],
            }),
        }
    }

    #[test]
    fn the_report_embeds_every_figure_and_writes_it_beside() {
        let dir = std::env::temp_dir().join(format!("taskonomy-report-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        // A readout's curve, as a run folder holds it.
        let curve = dir.join("run").join("curve.svg");
        std::fs::create_dir_all(curve.parent().unwrap()).unwrap();
        std::fs::write(&curve, LineChart::new("a+c → b").to_svg()).unwrap();
        let mut input = input();
        input.transfer_curves = vec![("b".into(), "a+c".into(), curve)];
        let path = write_report(&dir, &input).unwrap();
        let html = std::fs::read_to_string(&path).unwrap();
        let figures: Vec<String> = std::fs::read_dir(dir.join("figures"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        for expected in [
            "affinity_before_ahp.svg",
            "affinity_after_ahp.svg",
            "similarity_tree.svg",
            "taxonomy_budget_1.svg",
            "taxonomy_budget_2.svg",
            "gain.svg",
            "quality.svg",
            "mean_scores.svg",
            "objective.svg",
            "loss_task_a.svg",
            "loss_transfer_a_c_to_b.svg",
            "transitive.svg",
            "significance.svg",
            "stability.svg",
        ] {
            assert!(figures.iter().any(|f| f == expected), "{expected} missing");
            assert!(html.contains(&format!("figures/{expected}")));
        }
        // Every figure but the readout's curve is drawn in the page.
        assert_eq!(html.matches("<svg").count(), figures.len() - 1);
        assert!(html.contains("Test &lt;run&gt;"));
        assert!(html.contains("<td>none held out</td>") || html.contains("<p>none held out</p>"));
        // The transitive section gives the verdict and the target's row.
        assert!(html.contains("on 0 of 1 first-order pairs"));
        assert!(html.contains("<tr><td>b</td><td>a</td><td>0 of 1</td><td>0.250</td>"));
        // The novel task with its interval, the unstable target, every departure.
        assert!(html.contains("<td>c</td><td>a</td><td>0.5000</td><td>0.600 [0.50, 0.70]</td>"));
        assert!(html.contains("Unstable (ρ below 0.5): b (0.400)"));
        // Budget 1 labels `a`: `b` takes the transfer from it, shown with its affinity and interval.
        assert!(
            html.contains("← a (0.700 [0.60, 0.80])"),
            "the affinity of a → b"
        );
        // A network worse than its constant predictor is named.
        assert!(html.contains("best constant predictor: a."));
        assert!(html.contains("<td>0.6000</td><td>0.5000</td><td>-20.0%</td>"));
        for departure in crate::departures::DEPARTURES {
            assert!(
                html.contains(&escape(departure.line)),
                "{}",
                departure.topic
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn relative_affinities_put_each_targets_best_at_one() {
        let input = input();
        let matrix = FirstOrder::from_tables(&input.relative_losses, &input.affinities);
        let relative = matrix.relative_affinity();
        assert_eq!(relative[&("a".to_string(), "b".to_string())], 1.0);
        assert!((relative[&("c".to_string(), "b".to_string())] - 0.3 / 0.7).abs() < 1e-12);
        assert_eq!(relative[&("b".to_string(), "c".to_string())], 1.0);
    }
}
