//! How good is a taxonomy? The paper's Section 4: **Gain** and **Quality**.
//!
//! Every transfer was trained on the small transfer split and compared image by image, on the test split,
//! with two reference networks:
//!
//! * **Gain**: the win rate against a network trained from scratch on the same transfer data (`scratch`,
//!   the paper's `pixels`). Above 0.5, the taxonomy's supervision helped.
//! * **Quality**: the win rate against the target's own fully supervised network (`self`). At 0.5, the
//!   transfer is as good as full supervision.
//!
//! A target solved by its own supervision scores the `self` row of each table (exactly 0.5 in Quality).
//! A taxonomy is compared with two baselines of the same supervision: every target from a random set of
//! sources of the same size (the mean over several draws), and every target from the single best
//! general-purpose source.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::data::rng::{hash_str, Rng};
use crate::plan::{Plan, PlanError, Problem};
use crate::transfers::{Transfers, SELF};

/// The two win-rate tables a taxonomy is scored with (same format as the paper's released files).
#[derive(Clone, Debug)]
pub struct WinRates {
    /// Win rates against the fully supervised network: Quality.
    pub vs_self: Transfers,
    /// Win rates against a network trained from scratch on the transfer data: Gain.
    pub vs_scratch: Transfers,
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
}

/// Gain and Quality of one taxonomy (or baseline), per target and on average.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// What was evaluated: `taxonomy`, `random sources`, `best single source`.
    pub label: String,
    /// The sources it labels.
    pub sources: Vec<String>,
    /// Per target, sorted by name.
    pub targets: Vec<TargetScore>,
    /// Mean Gain over the targets.
    pub mean_gain: f64,
    /// Mean Quality over the targets.
    pub mean_quality: f64,
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
    /// No source set of the requested size covers every target.
    #[error("no set of {size} source(s) solves every target")]
    Uncovered {
        /// The set size.
        size: usize,
    },
}

/// Gain and Quality of `plan`'s transfers.
pub fn evaluate(plan: &Plan, wins: &WinRates, label: &str) -> Result<Evaluation, EvalError> {
    let mut targets = Vec::with_capacity(plan.transfers.len());
    for (target, assignment) in &plan.transfers {
        let lookup_sources: Vec<&str> = if assignment.supervised {
            vec![SELF]
        } else {
            assignment.sources.iter().map(String::as_str).collect()
        };
        let rate = |table: &Transfers| {
            table
                .get(&lookup_sources, target)
                .map(|row| row.value)
                .ok_or_else(|| EvalError::MissingWinRate {
                    table: table.origin().to_owned(),
                    sources: lookup_sources.join("+"),
                    target: target.clone(),
                })
        };
        targets.push(TargetScore {
            target: target.clone(),
            sources: assignment.sources.clone(),
            supervised: assignment.supervised,
            gain: rate(&wins.vs_scratch)?,
            quality: rate(&wins.vs_self)?,
        });
    }
    Ok(summarise(label, plan.sources.clone(), targets))
}

fn summarise(label: &str, sources: Vec<String>, targets: Vec<TargetScore>) -> Evaluation {
    let count = targets.len().max(1) as f64;
    let mean_gain = targets.iter().map(|t| t.gain).sum::<f64>() / count;
    let mean_quality = targets.iter().map(|t| t.quality).sum::<f64>() / count;
    Evaluation {
        label: label.to_owned(),
        sources,
        targets,
        mean_gain,
        mean_quality,
    }
}

/// The baseline of `draws` random source sets of `size` tasks drawn from `candidates`: each target's
/// Gain and Quality averaged over the draws (each draw solved as well as its sources allow). Draws whose
/// sources leave a target unsolvable are redrawn, up to a limit.
///
/// Deterministic: draw `i` uses a generator seeded from `seed`, the set size and `i`.
pub fn random_sources_baseline(
    problem: &Problem,
    candidates: &[String],
    size: usize,
    draws: usize,
    seed: u64,
    wins: &WinRates,
) -> Result<Evaluation, EvalError> {
    let size = size.min(candidates.len());
    let mut sums: BTreeMap<String, (f64, f64, usize)> = BTreeMap::new();
    let mut evaluations = 0;
    let mut attempt = 0u64;
    while evaluations < draws.max(1) && attempt < 50 * draws.max(1) as u64 {
        let mut rng = Rng::new(
            seed,
            &[hash_str("random sources baseline"), size as u64, attempt],
        );
        attempt += 1;
        let drawn = sample(candidates, size, &mut rng);
        let Some(plan) = problem.evaluate(&drawn)? else {
            continue;
        };
        evaluations += 1;
        for score in evaluate(&plan, wins, "random")?.targets {
            let entry = sums.entry(score.target).or_insert((0.0, 0.0, 0));
            entry.0 += score.gain;
            entry.1 += score.quality;
            entry.2 += 1;
        }
    }
    if evaluations == 0 {
        return Err(EvalError::Uncovered { size });
    }
    let targets = sums
        .into_iter()
        .map(|(target, (gain, quality, n))| TargetScore {
            target,
            sources: Vec::new(),
            supervised: false,
            gain: gain / n as f64,
            quality: quality / n as f64,
        })
        .collect();
    Ok(summarise(
        &format!("random sources (mean of {evaluations})"),
        Vec::new(),
        targets,
    ))
}

/// The baseline of one general-purpose source: of all `candidates`, the one whose transfers give the
/// highest objective when every target is solved from it alone (ties: the first by name).
pub fn best_single_source_baseline(
    problem: &Problem,
    candidates: &[String],
    wins: &WinRates,
) -> Result<Evaluation, EvalError> {
    let mut best: Option<Plan> = None;
    for candidate in candidates {
        if let Some(plan) = problem.evaluate(std::slice::from_ref(candidate))? {
            if best.as_ref().is_none_or(|b| plan.objective > b.objective) {
                best = Some(plan);
            }
        }
    }
    let best = best.ok_or(EvalError::Uncovered { size: 1 })?;
    let label = format!("best single source ({})", best.sources.join(", "));
    evaluate(&best, wins, &label)
}

/// `size` distinct items of `pool` chosen uniformly (a partial Fisher–Yates shuffle), sorted.
fn sample(pool: &[String], size: usize, rng: &mut Rng) -> Vec<String> {
    let mut items: Vec<&String> = pool.iter().collect();
    for i in 0..size.min(items.len()) {
        let j = i + rng.below(items.len() - i);
        items.swap(i, j);
    }
    let mut chosen: Vec<String> = items[..size.min(items.len())]
        .iter()
        .map(|s| s.to_string())
        .collect();
    chosen.sort();
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::PlanOptions;
    use crate::transfers::Transfer;

    /// Two sources `a`, `b`; targets `a`, `b`, `c`. `a` helps `c` more than `b` does.
    fn tables() -> (Transfers, WinRates) {
        let affinity = Transfers::from_rows(
            "affinities",
            vec![
                Transfer::new(&["a"], "b", 0.3),
                Transfer::new(&["b"], "a", 0.2),
                Transfer::new(&["a"], "c", 0.9),
                Transfer::new(&["b"], "c", 0.4),
            ],
        )
        .unwrap();
        let rows = |vs: &[(&str, &str, f64)]| {
            vs.iter()
                .map(|(s, t, v)| Transfer::new(&[*s], t, *v))
                .collect::<Vec<_>>()
        };
        let vs_self = Transfers::from_rows(
            "wins_vs_self",
            rows(&[
                ("a", "b", 0.2),
                ("b", "a", 0.1),
                ("a", "c", 0.45),
                ("b", "c", 0.3),
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
                ("b", "a", 0.55),
                ("a", "c", 0.9),
                ("b", "c", 0.7),
                ("self", "a", 0.95),
                ("self", "b", 0.9),
                ("self", "c", 0.97),
            ]),
        )
        .unwrap();
        (
            affinity,
            WinRates {
                vs_self,
                vs_scratch,
            },
        )
    }

    #[test]
    fn a_plan_scores_its_transfers_and_its_supervision() {
        let (affinity, wins) = tables();
        let problem = Problem::new(&affinity, &PlanOptions::default()).unwrap();
        let plan = problem.evaluate(&["a"]).unwrap().unwrap();
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
        assert!((evaluation.mean_gain - (0.95 + 0.6 + 0.9) / 3.0).abs() < 1e-12);
    }

    #[test]
    fn the_best_single_source_is_the_one_with_the_highest_objective() {
        let (affinity, wins) = tables();
        let problem = Problem::new(&affinity, &PlanOptions::default()).unwrap();
        let candidates = vec!["a".to_string(), "b".to_string()];
        let best = best_single_source_baseline(&problem, &candidates, &wins).unwrap();
        assert_eq!(best.sources, ["a"]);
        assert_eq!(best.label, "best single source (a)");
    }

    #[test]
    fn random_baselines_average_their_draws_deterministically() {
        let (affinity, wins) = tables();
        let problem = Problem::new(&affinity, &PlanOptions::default()).unwrap();
        let candidates = vec!["a".to_string(), "b".to_string()];
        let first = random_sources_baseline(&problem, &candidates, 1, 20, 7, &wins).unwrap();
        let again = random_sources_baseline(&problem, &candidates, 1, 20, 7, &wins).unwrap();
        assert_eq!(first, again);
        // Every draw is {a} or {b}: target c's Gain lies between the two, strictly inside if both occur.
        let c = first.targets.iter().find(|t| t.target == "c").unwrap();
        assert!(c.gain > 0.7 && c.gain < 0.9, "{}", c.gain);
        // With both sources the baseline is the full set.
        let both = random_sources_baseline(&problem, &candidates, 2, 3, 7, &wins).unwrap();
        let c = both.targets.iter().find(|t| t.target == "c").unwrap();
        assert_eq!(c.gain, 0.9);
    }

    #[test]
    fn a_missing_win_rate_names_the_row() {
        let (affinity, mut wins) = tables();
        wins.vs_self =
            Transfers::from_rows("wins_vs_self", vec![Transfer::new(&["a"], "b", 0.2)]).unwrap();
        let problem = Problem::new(&affinity, &PlanOptions::default()).unwrap();
        let plan = problem.evaluate(&["a"]).unwrap().unwrap();
        let error = evaluate(&plan, &wins, "taxonomy").unwrap_err();
        assert_eq!(
            error.to_string(),
            "wins_vs_self has no row `self,a`: the transfer was chosen but its win rate was not measured"
        );
    }
}
