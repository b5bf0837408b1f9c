//! How good is a taxonomy? The paper's Section 4: **Gain** and **Quality**, against baselines that spend
//! the same supervision, and how significant the difference is.
//!
//! Every transfer was trained on the small transfer split and compared image by image, on the test split,
//! with two reference networks:
//!
//! * **Gain**: the win rate against the target's own architecture trained from scratch on the same
//!   transfer data (`pixels`). Above 0.5, the taxonomy's supervision helped.
//! * **Quality**: the win rate against the target's own fully supervised network (`self`). At 0.5, the
//!   transfer is as good as full supervision.
//!
//! Means are taken over the targets solved by transfer. A target solved by its own supervision is its
//! `self` network (a Quality of exactly 0.5 by definition): it is listed, but averaging it in would make
//! every curve rise with the budget by construction.
//!
//! Two baselines spend the same budget (the same label cost):
//!
//! * **random sources**: source sets drawn at random, each as large as the budget allows, every target
//!   solved as well as the drawn sources allow ([`random_sources_baseline`]). Their spread is the null
//!   distribution of the paper's significance test: where the taxonomy's mean Quality falls among them
//!   ([`RandomSources::standing`]).
//! * **best general-purpose sources**: the sources with the highest mean first-order affinity over the
//!   targets, as many as the budget allows, every target taking its best transfer from them
//!   ([`general_sources_baseline`]).
//!
//! A novel task (the paper's §4.2) is solved "all for one": by the best transfer, of any order the planner
//! allows, from all the known tasks ([`all_for_one`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::data::rng::{hash_str, Rng};
use crate::plan::{Plan, PlanError, Problem};
use crate::train::Measurements;
use crate::transfers::{is_pseudo_source, Transfers, SELF};
use crate::uncertainty::{standing, Interval, Standing};

/// The two win-rate tables a taxonomy is scored with (same format as the paper's released files), and
/// their bootstrap intervals when they were measured.
#[derive(Clone, Debug)]
pub struct WinRates {
    /// Win rates against the fully supervised network: Quality.
    pub vs_self: Transfers,
    /// Win rates against the target's architecture trained from scratch on the transfer data: Gain.
    pub vs_scratch: Transfers,
    /// The interval of every row of `vs_self`, in row order (empty when none was measured).
    pub vs_self_intervals: Vec<Interval>,
    /// The interval of every row of `vs_scratch`, in row order (empty when none was measured).
    pub vs_scratch_intervals: Vec<Interval>,
}

impl WinRates {
    /// Tables without intervals (the released ones, say).
    pub fn new(vs_self: Transfers, vs_scratch: Transfers) -> Self {
        WinRates {
            vs_self,
            vs_scratch,
            vs_self_intervals: Vec::new(),
            vs_scratch_intervals: Vec::new(),
        }
    }

    /// The Gain of `sources → target` (its win rate against `pixels`) and its interval, if measured.
    pub fn gain(
        &self,
        sources: &[&str],
        target: &str,
    ) -> Result<(f64, Option<Interval>), EvalError> {
        rate(
            &self.vs_scratch,
            &self.vs_scratch_intervals,
            sources,
            target,
        )
    }

    /// The Quality of `sources → target` (its win rate against `self`) and its interval, if measured.
    pub fn quality(
        &self,
        sources: &[&str],
        target: &str,
    ) -> Result<(f64, Option<Interval>), EvalError> {
        rate(&self.vs_self, &self.vs_self_intervals, sources, target)
    }

    /// A run's tables with their intervals.
    pub fn measured(tables: &Measurements) -> Self {
        WinRates {
            vs_self: tables.wins_vs_task.clone(),
            vs_scratch: tables.wins_vs_pixels.clone(),
            vs_self_intervals: tables.intervals.wins_vs_task.clone(),
            vs_scratch_intervals: tables.intervals.wins_vs_pixels.clone(),
        }
    }
}

/// How one target fares in a taxonomy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetScore {
    /// The target task.
    pub target: String,
    /// The sources of the transfer that solves it (the target itself when supervised).
    pub sources: Vec<String>,
    /// Whether it is solved by its own supervision.
    pub supervised: bool,
    /// Win rate against the scratch network.
    pub gain: f64,
    /// Win rate against the fully supervised network.
    pub quality: f64,
    /// The bootstrap interval of `gain`, when measured.
    #[serde(default)]
    pub gain_interval: Option<Interval>,
    /// The bootstrap interval of `quality`, when measured.
    #[serde(default)]
    pub quality_interval: Option<Interval>,
}

/// Gain and Quality of one taxonomy (or baseline), per target and on average over the targets solved by
/// transfer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// What was evaluated: `taxonomy`, `random sources`, `best general-purpose sources`.
    pub label: String,
    /// The sources it labels (empty for an average over random draws).
    pub sources: Vec<String>,
    /// The label cost of the sources (for random draws, their mean).
    pub cost: f64,
    /// Per target, sorted by name.
    pub targets: Vec<TargetScore>,
    /// Mean Gain over the targets solved by transfer (`None` if every target is supervised).
    pub mean_gain: Option<f64>,
    /// Mean Quality over the targets solved by transfer (`None` if every target is supervised).
    pub mean_quality: Option<f64>,
}

impl Evaluation {
    /// The targets solved by their own supervision.
    pub fn supervised(&self) -> impl Iterator<Item = &TargetScore> {
        self.targets.iter().filter(|t| t.supervised)
    }

    /// The targets solved by transfer.
    pub fn transferred(&self) -> impl Iterator<Item = &TargetScore> {
        self.targets.iter().filter(|t| !t.supervised)
    }
}

/// Why a taxonomy could not be scored.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A transfer the plan uses has no row in a win-rate table.
    #[error("{table} has no row `{sources},{target}`: the transfer was chosen but its win rate was not measured")]
    MissingWinRate {
        /// The table's origin (file name).
        table: String,
        /// The transfer's sources joined with `+` (`self` for own supervision).
        sources: String,
        /// The target.
        target: String,
    },
    /// The plan could not be built.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// No source set within the budget solves every target.
    #[error("no set of sources with label cost at most {budget} solves every target")]
    Uncovered {
        /// The budget.
        budget: f64,
    },
}

/// Gain and Quality of `plan`'s transfers.
pub fn evaluate(plan: &Plan, wins: &WinRates, label: &str) -> Result<Evaluation, EvalError> {
    let mut targets = Vec::with_capacity(plan.transfers.len());
    for (target, assignment) in &plan.transfers {
        let lookup: Vec<&str> = if assignment.supervised {
            vec![SELF]
        } else {
            assignment.sources.iter().map(String::as_str).collect()
        };
        let (gain, gain_interval) = wins.gain(&lookup, target)?;
        let (quality, quality_interval) = wins.quality(&lookup, target)?;
        targets.push(TargetScore {
            target: target.clone(),
            sources: assignment.sources.clone(),
            supervised: assignment.supervised,
            gain,
            quality,
            gain_interval,
            quality_interval,
        });
    }
    Ok(summarise(label, plan.sources.clone(), plan.cost, targets))
}

/// The value of the row `sources → target` of a win-rate table, and its interval if `intervals` (in the
/// table's row order) has one.
fn rate(
    table: &Transfers,
    intervals: &[Interval],
    sources: &[&str],
    target: &str,
) -> Result<(f64, Option<Interval>), EvalError> {
    let position = table
        .position(sources, target)
        .ok_or_else(|| EvalError::MissingWinRate {
            table: table.origin().to_owned(),
            sources: sources.join("+"),
            target: target.to_owned(),
        })?;
    Ok((
        table.rows()[position].value,
        intervals.get(position).copied(),
    ))
}

fn summarise(
    label: &str,
    sources: Vec<String>,
    cost: f64,
    targets: Vec<TargetScore>,
) -> Evaluation {
    let transferred: Vec<&TargetScore> = targets.iter().filter(|t| !t.supervised).collect();
    let mean = |pick: fn(&TargetScore) -> f64| {
        (!transferred.is_empty())
            .then(|| transferred.iter().map(|t| pick(t)).sum::<f64>() / transferred.len() as f64)
    };
    Evaluation {
        label: label.to_owned(),
        mean_gain: mean(|t| t.gain),
        mean_quality: mean(|t| t.quality),
        sources,
        cost,
        targets,
    }
}

/// The random-sources baseline of one budget: the draws, and their average.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RandomSources {
    /// Each target's Gain and Quality averaged over the draws that solve it by transfer (a target
    /// supervised in every draw is listed as supervised); the means are the means of the draws' means.
    pub average: Evaluation,
    /// Every draw, evaluated.
    pub draws: Vec<Evaluation>,
}

impl RandomSources {
    /// Where a mean Quality (the taxonomy's) falls among the draws' mean Qualities: the paper's test of
    /// whether the taxonomy's structure matters, or any sources of that budget would do.
    pub fn standing(&self, mean_quality: f64) -> Standing {
        let draws: Vec<f64> = self.draws.iter().filter_map(|d| d.mean_quality).collect();
        standing(mean_quality, &draws)
    }
}

/// A source set drawn at random within `budget`: the candidates in a random order, each taken if it still
/// fits. With unit label costs that is `budget` sources (or all of them); with others, a set no candidate
/// can be added to, so that every draw spends the budget as fully as a planner could.
fn draw_sources(problem: &Problem, budget: f64, rng: &mut Rng) -> Vec<String> {
    let mut order: Vec<&String> = problem.sources().iter().collect();
    for i in 0..order.len() {
        let j = i + rng.below(order.len() - i);
        order.swap(i, j);
    }
    take_within_budget(problem, order, budget)
}

/// `candidates` in order, each taken if its label cost still fits `budget`; sorted by name.
fn take_within_budget<'a>(
    problem: &Problem,
    candidates: impl IntoIterator<Item = &'a String>,
    budget: f64,
) -> Vec<String> {
    let mut chosen = Vec::new();
    let mut spent = 0.0;
    for source in candidates {
        let cost = problem.label_cost(source).unwrap_or(f64::INFINITY);
        if Problem::fits(spent + cost, budget) {
            spent += cost;
            chosen.push(source.clone());
        }
    }
    chosen.sort();
    chosen
}

/// The baseline of `draws` random source sets within `budget` (see [`draw_sources`]), each target solved
/// as well as its draw's sources allow. Draws that leave a target unsolvable are redrawn, up to a limit.
///
/// Deterministic: draw `i` uses a generator seeded from `seed`, the budget and `i`.
pub fn random_sources_baseline(
    problem: &Problem,
    budget: f64,
    draws: usize,
    seed: u64,
    wins: &WinRates,
) -> Result<RandomSources, EvalError> {
    let mut evaluated = Vec::with_capacity(draws);
    let mut attempt = 0u64;
    while evaluated.len() < draws.max(1) && attempt < 50 * draws.max(1) as u64 {
        let mut rng = Rng::new(
            seed,
            &[
                hash_str("random sources baseline"),
                budget.to_bits(),
                attempt,
            ],
        );
        attempt += 1;
        let drawn = draw_sources(problem, budget, &mut rng);
        let Some(plan) = problem.evaluate(&drawn)? else {
            continue;
        };
        evaluated.push(evaluate(&plan, wins, "random sources")?);
    }
    if evaluated.is_empty() {
        return Err(EvalError::Uncovered { budget });
    }
    Ok(RandomSources {
        average: average(&evaluated),
        draws: evaluated,
    })
}

/// The average of the draws: per target over the draws that transfer into it, and the mean of the
/// draws' means.
fn average(draws: &[Evaluation]) -> Evaluation {
    let mut sums: BTreeMap<&str, (f64, f64, usize)> = BTreeMap::new();
    for draw in draws {
        for score in &draw.targets {
            let entry = sums.entry(&score.target).or_insert((0.0, 0.0, 0));
            if !score.supervised {
                entry.0 += score.gain;
                entry.1 += score.quality;
                entry.2 += 1;
            }
        }
    }
    let targets = sums
        .into_iter()
        .map(|(target, (gain, quality, n))| TargetScore {
            target: target.to_owned(),
            sources: Vec::new(),
            supervised: n == 0,
            gain: if n == 0 { 0.0 } else { gain / n as f64 },
            quality: if n == 0 { 0.5 } else { quality / n as f64 },
            gain_interval: None,
            quality_interval: None,
        })
        .collect();
    let mean_of = |pick: fn(&Evaluation) -> Option<f64>| {
        let values: Vec<f64> = draws.iter().filter_map(pick).collect();
        (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
    };
    Evaluation {
        label: format!("random sources (mean of {})", draws.len()),
        sources: Vec::new(),
        cost: draws.iter().map(|d| d.cost).sum::<f64>() / draws.len().max(1) as f64,
        targets,
        mean_gain: mean_of(|d| d.mean_gain),
        mean_quality: mean_of(|d| d.mean_quality),
    }
}

/// The candidate sources ranked as general-purpose sources: by their mean first-order affinity over the
/// targets other than themselves (best first; ties by name). A source with no first-order row counts 0.
pub fn general_purpose_ranking(problem: &Problem, affinities: &Transfers) -> Vec<(String, f64)> {
    let targets = problem.targets();
    let mut ranking: Vec<(String, f64)> = problem
        .sources()
        .iter()
        .map(|source| {
            let values: Vec<f64> = affinities
                .rows()
                .iter()
                .filter(|r| r.order() == 1 && r.sources[0] == *source && r.target != *source)
                .filter(|r| targets.contains(&r.target.as_str()))
                .map(|r| r.value)
                .collect();
            let mean = values.iter().sum::<f64>() / values.len().max(1) as f64;
            (source.clone(), mean)
        })
        .collect();
    ranking.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    ranking
}

/// The baseline of the best general-purpose sources within `budget`: down [`general_purpose_ranking`],
/// each source taken if it still fits, every target solved by its best transfer from them.
pub fn general_sources_baseline(
    problem: &Problem,
    affinities: &Transfers,
    budget: f64,
    wins: &WinRates,
) -> Result<Evaluation, EvalError> {
    let ranking = general_purpose_ranking(problem, affinities);
    let chosen = take_within_budget(problem, ranking.iter().map(|(source, _)| source), budget);
    let plan = problem
        .evaluate(&chosen)?
        .ok_or(EvalError::Uncovered { budget })?;
    evaluate(&plan, wins, "best general-purpose sources")
}

/// A novel task solved "all for one" (the paper's §4.2): its best transfer from the known tasks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NovelResult {
    /// The novel task.
    pub target: String,
    /// The sources of its best transfer.
    pub sources: Vec<String>,
    /// The transfer's affinity (in the novel task's tournament).
    pub affinity: f64,
    /// Its win rate against the novel task's architecture trained from scratch on the transfer data.
    pub gain: f64,
    /// Its win rate against a fully supervised network of the novel task, trained for scoring only.
    pub quality: f64,
    /// The bootstrap interval of `gain`, when measured.
    pub gain_interval: Option<Interval>,
    /// The bootstrap interval of `quality`, when measured.
    pub quality_interval: Option<Interval>,
}

/// The all-for-one transfer into each of `novel`: of every transfer in `affinities` into it whose sources
/// are all in `known` and number at most `max_order`, the one with the highest affinity (ties: fewer
/// sources, then the alphabetically first), with its Gain and Quality.
pub fn all_for_one(
    affinities: &Transfers,
    wins: &WinRates,
    novel: &[String],
    known: &[String],
    max_order: usize,
) -> Result<Vec<NovelResult>, EvalError> {
    let mut results = Vec::with_capacity(novel.len());
    for target in novel {
        let best = affinities
            .rows()
            .iter()
            .filter(|r| r.target == *target && r.order() <= max_order)
            .filter(|r| {
                r.sources
                    .iter()
                    .all(|s| !is_pseudo_source(s) && known.contains(s))
            })
            .min_by(|a, b| {
                b.value
                    .total_cmp(&a.value)
                    .then(a.order().cmp(&b.order()))
                    .then_with(|| a.sources.cmp(&b.sources))
            })
            .ok_or_else(|| EvalError::MissingWinRate {
                table: affinities.origin().to_owned(),
                sources: format!("<any known task, order ≤ {max_order}>"),
                target: target.clone(),
            })?;
        let sources: Vec<&str> = best.sources.iter().map(String::as_str).collect();
        let (gain, gain_interval) = wins.gain(&sources, target)?;
        let (quality, quality_interval) = wins.quality(&sources, target)?;
        results.push(NovelResult {
            target: target.clone(),
            sources: best.sources.clone(),
            affinity: best.value,
            gain,
            quality,
            gain_interval,
            quality_interval,
        });
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{OwnSupervision, PlanOptions};
    use crate::transfers::Transfer;

    /// Three sources `a`, `b`, `d`; targets `a`, `b`, `c`. `a` helps `c` more than `b` does; `d` helps
    /// nobody much. Own supervision scores the `self` rows of the affinities.
    fn tables() -> (Transfers, WinRates) {
        let affinity = Transfers::from_rows(
            "affinities",
            vec![
                Transfer::new(&["a"], "b", 0.3),
                Transfer::new(&["d"], "b", 0.1),
                Transfer::new(&["self"], "b", 0.6),
                Transfer::new(&["b"], "a", 0.2),
                Transfer::new(&["d"], "a", 0.1),
                Transfer::new(&["self"], "a", 0.7),
                Transfer::new(&["a"], "c", 0.5),
                Transfer::new(&["b"], "c", 0.3),
                Transfer::new(&["d"], "c", 0.05),
                Transfer::new(&["a", "b"], "c", 0.15),
            ],
        )
        .unwrap();
        let rows = |vs: &[(&str, &str, f64)]| {
            vs.iter()
                .map(|(s, t, v)| Transfer::new(&s.split('+').collect::<Vec<_>>(), t, *v))
                .collect::<Vec<_>>()
        };
        let vs_self = Transfers::from_rows(
            "wins_vs_self",
            rows(&[
                ("a", "b", 0.2),
                ("d", "b", 0.1),
                ("b", "a", 0.1),
                ("d", "a", 0.05),
                ("a", "c", 0.45),
                ("b", "c", 0.3),
                ("d", "c", 0.02),
                ("a+b", "c", 0.2),
                ("self", "a", 0.5),
                ("self", "b", 0.5),
                ("self", "c", 0.5),
            ]),
        )
        .unwrap();
        let vs_scratch = Transfers::from_rows(
            "wins_vs_scratch",
            rows(&[
                ("a", "b", 0.6),
                ("d", "b", 0.4),
                ("b", "a", 0.55),
                ("d", "a", 0.3),
                ("a", "c", 0.9),
                ("b", "c", 0.7),
                ("d", "c", 0.1),
                ("a+b", "c", 0.6),
                ("self", "a", 0.95),
                ("self", "b", 0.9),
                ("self", "c", 0.97),
            ]),
        )
        .unwrap();
        (affinity, WinRates::new(vs_self, vs_scratch))
    }

    fn problem(affinity: &Transfers, cost: &[(&str, f64)]) -> Problem {
        let options = PlanOptions {
            max_order: 2,
            own_supervision: OwnSupervision::Value,
            cost: cost.iter().map(|(t, c)| (t.to_string(), *c)).collect(),
            ..PlanOptions::default()
        };
        Problem::new(affinity, &options).unwrap()
    }

    #[test]
    fn means_are_over_the_targets_solved_by_transfer() {
        let (affinity, wins) = tables();
        let plan = problem(&affinity, &[]).evaluate(&["a"]).unwrap().unwrap();
        let evaluation = evaluate(&plan, &wins, "taxonomy").unwrap();
        let scores: Vec<(&str, bool, f64, f64)> = evaluation
            .targets
            .iter()
            .map(|t| (t.target.as_str(), t.supervised, t.gain, t.quality))
            .collect();
        assert_eq!(
            scores,
            [
                ("a", true, 0.95, 0.5),
                ("b", false, 0.6, 0.2),
                ("c", false, 0.9, 0.45)
            ]
        );
        assert_eq!(evaluation.mean_gain, Some((0.6 + 0.9) / 2.0));
        assert_eq!(evaluation.mean_quality, Some((0.2 + 0.45) / 2.0));
        assert_eq!(evaluation.supervised().count(), 1);
        // Every target supervised: nothing is solved by transfer, so there is no mean.
        let supervised: Vec<TargetScore> = evaluation.supervised().cloned().collect();
        let only = summarise("supervised", vec!["a".into()], 1.0, supervised);
        assert_eq!((only.mean_gain, only.mean_quality), (None, None));
    }

    #[test]
    fn every_baseline_spends_the_budget() {
        let (affinity, wins) = tables();
        // Unit costs: every draw and the general-purpose baseline label exactly `budget` sources.
        let unit = problem(&affinity, &[]);
        for budget in [1.0, 2.0] {
            let random = random_sources_baseline(&unit, budget, 12, 7, &wins).unwrap();
            assert_eq!(random.draws.len(), 12);
            for draw in &random.draws {
                assert_eq!(draw.sources.len(), budget as usize, "{draw:?}");
                assert_eq!(draw.cost, budget);
            }
            let general = general_sources_baseline(&unit, &affinity, budget, &wins).unwrap();
            assert_eq!(general.sources.len(), budget as usize);
        }
        // Other costs: no draw leaves room for another source.
        let costly = problem(&affinity, &[("a", 2.0), ("b", 1.0), ("d", 1.0)]);
        let random = random_sources_baseline(&costly, 2.0, 20, 7, &wins).unwrap();
        for draw in &random.draws {
            assert!(draw.cost <= 2.0, "{draw:?}");
            let room = costly
                .sources()
                .iter()
                .filter(|s| !draw.sources.contains(s))
                .any(|s| draw.cost + costly.label_cost(s).unwrap() <= 2.0);
            assert!(!room, "a source still fits beside {:?}", draw.sources);
        }
        let general = general_sources_baseline(&costly, &affinity, 2.0, &wins).unwrap();
        assert_eq!(
            general.sources,
            ["a"],
            "the best general source fills the budget alone"
        );
    }

    #[test]
    fn general_purpose_sources_rank_by_mean_first_order_affinity() {
        let (affinity, _) = tables();
        let ranking = general_purpose_ranking(&problem(&affinity, &[]), &affinity);
        let names: Vec<&str> = ranking.iter().map(|(s, _)| s.as_str()).collect();
        // a: (0.3 + 0.5) / 2; b: (0.2 + 0.3) / 2; d: (0.1 + 0.1 + 0.05) / 3. Second order is ignored.
        assert_eq!(names, ["a", "b", "d"]);
        assert!((ranking[0].1 - 0.4).abs() < 1e-12);
    }

    #[test]
    fn random_baselines_are_deterministic_and_give_a_standing() {
        let (affinity, wins) = tables();
        let problem = problem(&affinity, &[]);
        let first = random_sources_baseline(&problem, 1.0, 30, 7, &wins).unwrap();
        let again = random_sources_baseline(&problem, 1.0, 30, 7, &wins).unwrap();
        assert_eq!(first, again);
        // The optimum beats or ties every draw of its budget.
        let best = problem.solve(1.0).unwrap();
        let taxonomy = evaluate(&best, &wins, "taxonomy").unwrap();
        let draws: Vec<f64> = first.draws.iter().filter_map(|d| d.mean_quality).collect();
        let standing = first.standing(taxonomy.mean_quality.unwrap());
        assert_eq!(standing.draws, draws.len());
        assert!(standing.p_value > 0.0 && standing.p_value <= 1.0);
        let worst = first.standing(-1.0);
        assert_eq!(worst.percentile, 0.0);
        assert_eq!(worst.p_value, 1.0);
    }

    #[test]
    fn a_novel_task_takes_its_best_transfer_from_the_known_tasks() {
        let (affinity, wins) = tables();
        let known = vec!["b".to_string(), "d".to_string()];
        let results = all_for_one(&affinity, &wins, &["c".to_string()], &known, 2).unwrap();
        // `a → c` is better, but `a` is not known; `a+b` needs `a` too.
        assert_eq!(results[0].sources, ["b"]);
        assert_eq!((results[0].gain, results[0].quality), (0.7, 0.3));
        let everyone = vec!["a".to_string(), "b".to_string(), "d".to_string()];
        let results = all_for_one(&affinity, &wins, &["c".to_string()], &everyone, 2).unwrap();
        assert_eq!(results[0].sources, ["a"]);
    }

    #[test]
    fn a_missing_win_rate_names_the_row() {
        let (affinity, mut wins) = tables();
        wins.vs_self =
            Transfers::from_rows("wins_vs_self", vec![Transfer::new(&["a"], "b", 0.2)]).unwrap();
        let plan = problem(&affinity, &[]).evaluate(&["a"]).unwrap().unwrap();
        let error = evaluate(&plan, &wins, "taxonomy").unwrap_err();
        assert_eq!(
            error.to_string(),
            "wins_vs_self has no row `self,a`: the transfer was chosen but its win rate was not measured"
        );
    }
}
