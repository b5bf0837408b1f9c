//! How far an estimator's affinities agree with the trained ones: what a researcher needs to decide
//! whether the readouts could have been skipped.

use serde::{Deserialize, Serialize};

use super::Estimator;
use crate::eval::{evaluate, EvalError, WinRates};
use crate::plan::{PlanError, PlanOptions, Problem};
use crate::transfers::{is_pseudo_source, Transfers};
use crate::uncertainty::spearman;

/// One target's agreement: Spearman's ρ between the estimator's and the trained affinities of its
/// first-order sources (the task sources both tables rank; baselines and `self` left out).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetAgreement {
    /// The target.
    pub target: String,
    /// The rank correlation; `None` with fewer than two sources or a constant side.
    pub rho: Option<f64>,
    /// How many sources were ranked.
    pub sources: usize,
}

/// The taxonomies of one budget planned on the trained and on the estimated affinities, both scored
/// with the trained win rates against the targets' own networks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BudgetLoss {
    /// The supervision budget.
    pub budget: f64,
    /// The sources the trained affinities choose.
    pub trained_sources: Vec<String>,
    /// The sources the estimated affinities choose.
    pub estimated_sources: Vec<String>,
    /// Mean Quality over the transferred targets of the taxonomy planned on the trained affinities.
    pub trained_quality: Option<f64>,
    /// The same for the taxonomy planned on the estimates.
    pub estimated_quality: Option<f64>,
}

impl BudgetLoss {
    /// The Quality lost by planning on the estimates: trained minus estimated (negative when the
    /// estimates happened to plan better).
    pub fn lost(&self) -> Option<f64> {
        Some(self.trained_quality? - self.estimated_quality?)
    }
}

/// One estimator against the trained transfers of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The estimator.
    pub estimator: Estimator,
    /// Per target, in the order of the estimated table.
    pub targets: Vec<TargetAgreement>,
    /// The median of the targets' ρ.
    pub median_rho: Option<f64>,
    /// The Quality lost at each budget compared.
    pub budgets: Vec<BudgetLoss>,
    /// Targets the estimator does not cover, and why.
    pub left_out: Vec<(String, String)>,
    /// Seconds the estimator took for its first-order pairs, and how many pairs.
    pub first_order: (f64, usize),
    /// Seconds training the first-order readouts took, as their records tell, and how many; `None`
    /// when the run did not record it.
    pub readouts: Option<(f64, usize)>,
}

impl Comparison {
    /// How many times faster the estimator was than the readouts it replaces, per pair.
    pub fn speed_ratio(&self) -> Option<f64> {
        let (readout_s, readouts) = self.readouts?;
        let (estimate_s, pairs) = self.first_order;
        (readouts > 0 && pairs > 0 && estimate_s > 0.0)
            .then(|| (readout_s / readouts as f64) / (estimate_s / pairs as f64))
    }

    /// [`speed_ratio`](Self::speed_ratio) in words: `62× faster`, or `2.4× slower` for an estimator
    /// slower than the readouts.
    pub fn speed(&self) -> Option<String> {
        self.speed_ratio().map(|r| {
            if r >= 1.0 {
                format!("{r:.0}× faster")
            } else {
                format!("{:.1}× slower", 1.0 / r)
            }
        })
    }
}

/// Per target of `estimated`, Spearman's ρ between its first-order task sources' values there and in
/// `trained`.
pub fn agreement(trained: &Transfers, estimated: &Transfers) -> Vec<TargetAgreement> {
    estimated
        .targets()
        .into_iter()
        .map(|target| {
            let (mut ours, mut theirs) = (Vec::new(), Vec::new());
            for row in estimated.rows().iter().filter(|r| r.target == target) {
                if row.sources.len() != 1 || is_pseudo_source(&row.sources[0]) {
                    continue;
                }
                if let Some(trained_row) = trained.get(&row.sources, target) {
                    ours.push(row.value);
                    theirs.push(trained_row.value);
                }
            }
            TargetAgreement {
                target: target.to_owned(),
                rho: spearman(&ours, &theirs),
                sources: ours.len(),
            }
        })
        .collect()
}

/// Why a comparison failed.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// A taxonomy could not be planned.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// A taxonomy could not be scored.
    #[error(transparent)]
    Eval(#[from] EvalError),
}

/// At each budget, the taxonomy planned on `trained` and the one planned on `estimated` (same options,
/// restricted to the targets both tables have), both scored with the trained `wins`.
pub fn quality_lost(
    trained: &Transfers,
    estimated: &Transfers,
    wins: &WinRates,
    options: &PlanOptions,
    budgets: &[f64],
) -> Result<Vec<BudgetLoss>, CompareError> {
    let covered: Vec<String> = estimated
        .targets()
        .into_iter()
        .filter(|t| trained.targets().contains(t))
        .filter(|t| {
            options
                .targets
                .as_ref()
                .is_none_or(|o| o.iter().any(|x| x == t))
        })
        .map(str::to_owned)
        .collect();
    if covered.is_empty() {
        // The estimator covers none of the targets: there is no taxonomy to compare.
        return Ok(Vec::new());
    }
    let options = PlanOptions {
        targets: Some(covered),
        importance: options
            .importance
            .iter()
            .filter(|(t, _)| estimated.targets().contains(&t.as_str()))
            .map(|(t, v)| (t.clone(), *v))
            .collect(),
        ..options.clone()
    };
    let on_trained = Problem::new(trained, &options)?;
    let on_estimates = Problem::new(estimated, &options)?;
    let mut losses = Vec::with_capacity(budgets.len());
    for &budget in budgets {
        let (Ok(ours), Ok(theirs)) = (on_estimates.solve(budget), on_trained.solve(budget)) else {
            continue;
        };
        losses.push(BudgetLoss {
            budget,
            trained_quality: evaluate(&theirs, wins, "trained")?.mean_quality,
            estimated_quality: evaluate(&ours, wins, "estimated")?.mean_quality,
            trained_sources: theirs.sources,
            estimated_sources: ours.sources,
        });
    }
    Ok(losses)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transfers::Transfer;

    fn table(rows: &[(&str, &str, f64)]) -> Transfers {
        Transfers::from_rows(
            "test",
            rows.iter()
                .map(|(s, t, v)| Transfer::new(&s.split('+').collect::<Vec<_>>(), t, *v))
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn agreement_ranks_task_sources_only() {
        let trained = table(&[
            ("a", "t", 0.5),
            ("b", "t", 0.3),
            ("c", "t", 0.1),
            ("random", "t", 0.05),
            ("self", "t", 0.05),
        ]);
        let same_order = table(&[
            ("a", "t", 9.0),
            ("b", "t", 5.0),
            ("c", "t", 1.0),
            ("random", "t", 99.0),
        ]);
        let reversed = table(&[("a", "t", 1.0), ("b", "t", 2.0), ("c", "t", 3.0)]);
        assert_eq!(agreement(&trained, &same_order)[0].rho, Some(1.0));
        assert_eq!(agreement(&trained, &reversed)[0].rho, Some(-1.0));
        assert_eq!(agreement(&trained, &reversed)[0].sources, 3);
    }

    #[test]
    fn planning_on_misleading_estimates_loses_quality() {
        // Two sources, two targets; `a` truly serves both, the estimates prefer `b`.
        let trained = table(&[
            ("a", "x", 0.6),
            ("b", "x", 0.1),
            ("self", "x", 0.3),
            ("a", "y", 0.6),
            ("b", "y", 0.1),
            ("self", "y", 0.3),
        ]);
        let estimated = table(&[
            ("a", "x", 0.1),
            ("b", "x", 0.6),
            ("self", "x", 0.3),
            ("a", "y", 0.1),
            ("b", "y", 0.6),
            ("self", "y", 0.3),
        ]);
        let wins = WinRates::new(
            table(&[
                ("a", "x", 0.45),
                ("b", "x", 0.2),
                ("self", "x", 0.5),
                ("a", "y", 0.4),
                ("b", "y", 0.1),
                ("self", "y", 0.5),
            ]),
            table(&[
                ("a", "x", 0.9),
                ("b", "x", 0.6),
                ("self", "x", 0.95),
                ("a", "y", 0.9),
                ("b", "y", 0.6),
                ("self", "y", 0.95),
            ]),
        );
        let options = PlanOptions {
            sources: Some(vec!["a".into(), "b".into()]),
            ..PlanOptions::default()
        };
        let losses = quality_lost(&trained, &estimated, &wins, &options, &[1.0]).unwrap();
        assert_eq!(losses[0].trained_sources, ["a"]);
        assert_eq!(losses[0].estimated_sources, ["b"]);
        assert!((losses[0].lost().unwrap() - (0.425 - 0.15)).abs() < 1e-12);
    }
}
