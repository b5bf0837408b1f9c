//! How stable a run's findings are across seeds: the same method run again with another seed (other
//! initialisations, batches and synthetic scenes) should rank the sources of every target the same way and
//! choose the same taxonomies.
//!
//! * **Affinities**: for every target, Spearman's rank correlation of its first-order affinities (one per
//!   source task) between every two runs, and their mean over the pairs.
//! * **Taxonomies**: for every budget, the Jaccard index of the chosen sources between every two runs, and
//!   how many runs agree with the most common choice.
//!
//! Two identical runs have a stability of exactly 1 on both counts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::plan::Plan;
use crate::store::{read_json, StoreError};
use crate::transfers::{is_pseudo_source, Transfers, TransfersError};
use crate::uncertainty::{jaccard, median, spearman};

/// What one finished run contributes: its affinities and its taxonomies.
#[derive(Clone, Debug)]
pub struct RunFindings {
    /// How the run is named in the report (its seed, or its folder).
    pub label: String,
    /// Its `affinities.csv`.
    pub affinities: Transfers,
    /// Its taxonomies, one per budget.
    pub plans: Vec<Plan>,
}

/// Why a run folder's findings could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StabilityError {
    /// A table could not be read.
    #[error(transparent)]
    Table(#[from] TransfersError),
    /// A plan could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The folder holds no plans.
    #[error("{0}: no taxonomies in plans/ (is it a finished `taskonomy run`?)")]
    NoPlans(PathBuf),
    /// Fewer than two runs.
    #[error("stability needs at least two runs, found {0}")]
    TooFew(usize),
}

impl RunFindings {
    /// The findings of a finished run folder: `affinities.csv` and `plans/budget_*.json`.
    pub fn read(folder: &Path, label: impl Into<String>) -> Result<Self, StabilityError> {
        let affinities = Transfers::read(folder.join("affinities.csv"))?;
        let plans_dir = folder.join("plans");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&plans_dir)
            .map_err(crate::store::io_error(&plans_dir))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| {
                path.extension().is_some_and(|e| e == "json")
                    && path
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("budget_"))
            })
            .collect();
        files.sort();
        let mut plans: Vec<Plan> = files
            .iter()
            .map(|path| read_json(path, "a taxonomy"))
            .collect::<Result<_, _>>()?;
        if plans.is_empty() {
            return Err(StabilityError::NoPlans(folder.to_owned()));
        }
        plans.sort_by(|a, b| a.budget.total_cmp(&b.budget));
        Ok(RunFindings {
            label: label.into(),
            affinities,
            plans,
        })
    }
}

/// One target's agreement across runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetStability {
    /// The target.
    pub target: String,
    /// Spearman's ρ of its first-order affinities for every pair of runs (`None` where undefined: a
    /// constant ranking, or fewer than two shared sources).
    pub pairs: Vec<Option<f64>>,
    /// The mean of the defined pairs.
    pub mean: Option<f64>,
}

/// One budget's agreement across runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BudgetStability {
    /// The budget.
    pub budget: f64,
    /// The sources each run chose (in run order).
    pub sources: Vec<Vec<String>>,
    /// The Jaccard index of the chosen sources for every pair of runs.
    pub pairs: Vec<f64>,
    /// Their mean.
    pub mean_jaccard: f64,
    /// How many runs chose the most common source set.
    pub agreeing: usize,
}

/// The stability of several runs' findings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stability {
    /// The runs compared, in order.
    pub runs: Vec<String>,
    /// The pairs of runs, as indices into `runs`, in the order of every `pairs` list.
    pub pairs: Vec<(usize, usize)>,
    /// Per target, sorted by name.
    pub targets: Vec<TargetStability>,
    /// The median over targets of their mean Spearman's ρ.
    pub median_spearman: Option<f64>,
    /// Per budget present in every run, in increasing order.
    pub budgets: Vec<BudgetStability>,
}

impl Stability {
    /// Compares the findings of `runs` (at least two).
    pub fn of(runs: &[RunFindings]) -> Result<Self, StabilityError> {
        if runs.len() < 2 {
            return Err(StabilityError::TooFew(runs.len()));
        }
        let pairs: Vec<(usize, usize)> = (0..runs.len())
            .flat_map(|i| ((i + 1)..runs.len()).map(move |j| (i, j)))
            .collect();
        let first_order: Vec<BTreeMap<(String, String), f64>> =
            runs.iter().map(|r| first_order(&r.affinities)).collect();
        let mut targets: Vec<String> = runs[0]
            .affinities
            .targets()
            .iter()
            .map(|t| t.to_string())
            .collect();
        targets.retain(|t| {
            runs.iter()
                .all(|r| r.affinities.targets().contains(&t.as_str()))
        });
        let targets: Vec<TargetStability> = targets
            .into_iter()
            .map(|target| {
                let pairs: Vec<Option<f64>> = pairs
                    .iter()
                    .map(|&(i, j)| rank_agreement(&first_order[i], &first_order[j], &target))
                    .collect();
                let defined: Vec<f64> = pairs.iter().flatten().copied().collect();
                let mean = (!defined.is_empty())
                    .then(|| defined.iter().sum::<f64>() / defined.len() as f64);
                TargetStability {
                    target,
                    pairs,
                    mean,
                }
            })
            .collect();
        let means: Vec<f64> = targets.iter().filter_map(|t| t.mean).collect();

        let budgets = runs[0]
            .plans
            .iter()
            .map(|p| p.budget)
            .filter_map(|budget| {
                let sources: Vec<Vec<String>> = runs
                    .iter()
                    .map(|r| {
                        r.plans
                            .iter()
                            .find(|p| p.budget == budget)
                            .map(|p| p.sources.clone())
                    })
                    .collect::<Option<_>>()?;
                let jaccards: Vec<f64> = pairs
                    .iter()
                    .map(|&(i, j)| jaccard(&sources[i], &sources[j]))
                    .collect();
                let agreeing = sources
                    .iter()
                    .map(|s| sources.iter().filter(|other| *other == s).count())
                    .max()
                    .unwrap_or(0);
                Some(BudgetStability {
                    budget,
                    mean_jaccard: jaccards.iter().sum::<f64>() / jaccards.len() as f64,
                    pairs: jaccards,
                    sources,
                    agreeing,
                })
            })
            .collect();
        Ok(Stability {
            runs: runs.iter().map(|r| r.label.clone()).collect(),
            pairs,
            median_spearman: median(&means),
            targets,
            budgets,
        })
    }

    /// The targets whose mean ρ is below `threshold` (or undefined), worst first.
    pub fn unstable_targets(&self, threshold: f64) -> Vec<&TargetStability> {
        let mut unstable: Vec<&TargetStability> = self
            .targets
            .iter()
            .filter(|t| t.mean.is_none_or(|m| m < threshold))
            .collect();
        unstable.sort_by(|a, b| {
            a.mean
                .unwrap_or(f64::NEG_INFINITY)
                .total_cmp(&b.mean.unwrap_or(f64::NEG_INFINITY))
        });
        unstable
    }
}

/// The first-order affinities of real source tasks, by `(source, target)`.
fn first_order(table: &Transfers) -> BTreeMap<(String, String), f64> {
    table
        .rows()
        .iter()
        .filter(|r| r.order() == 1 && !is_pseudo_source(&r.sources[0]))
        .map(|r| ((r.sources[0].clone(), r.target.clone()), r.value))
        .collect()
}

/// Spearman's ρ of `target`'s first-order affinities in two runs, over the sources both measured.
fn rank_agreement(
    a: &BTreeMap<(String, String), f64>,
    b: &BTreeMap<(String, String), f64>,
    target: &str,
) -> Option<f64> {
    let (x, y): (Vec<f64>, Vec<f64>) = a
        .iter()
        .filter(|((_, t), _)| t == target)
        .filter_map(|(key, &va)| b.get(key).map(|&vb| (va, vb)))
        .unzip();
    spearman(&x, &y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{OwnSupervision, PlanOptions, Problem};

    fn table(rows: &str) -> Transfers {
        Transfers::parse(
            &format!("sources,target,order,value\n{rows}"),
            "affinities.csv",
        )
        .unwrap()
    }

    fn findings(label: &str, affinities: Transfers) -> RunFindings {
        let options = PlanOptions {
            own_supervision: OwnSupervision::Value,
            ..PlanOptions::default()
        };
        let problem = Problem::new(&affinities, &options).unwrap();
        let plans = [1.0, 2.0]
            .into_iter()
            .map(|b| problem.solve(b).unwrap())
            .collect();
        RunFindings {
            label: label.into(),
            affinities,
            plans,
        }
    }

    const ROWS: &str = "a,c,1,0.5\nb,c,1,0.3\nd,c,1,0.1\nself,c,1,0.1\n\
                        a,b,1,0.2\nd,b,1,0.4\nself,b,1,0.4\n";

    #[test]
    fn identical_runs_are_perfectly_stable() {
        let runs = [findings("1", table(ROWS)), findings("2", table(ROWS))];
        let stability = Stability::of(&runs).unwrap();
        assert_eq!(stability.median_spearman, Some(1.0));
        assert!(stability.targets.iter().all(|t| t.mean == Some(1.0)));
        for budget in &stability.budgets {
            assert_eq!(budget.mean_jaccard, 1.0);
            assert_eq!(budget.agreeing, 2);
        }
        assert!(stability.unstable_targets(0.8).is_empty());
    }

    #[test]
    fn reversed_rankings_and_other_sources_show() {
        let reversed = "a,c,1,0.1\nb,c,1,0.3\nd,c,1,0.5\nself,c,1,0.1\n\
                        a,b,1,0.2\nd,b,1,0.4\nself,b,1,0.4\n";
        let runs = [findings("1", table(ROWS)), findings("2", table(reversed))];
        let stability = Stability::of(&runs).unwrap();
        let c = stability.targets.iter().find(|t| t.target == "c").unwrap();
        assert_eq!(c.mean, Some(-1.0));
        let b = stability.targets.iter().find(|t| t.target == "b").unwrap();
        assert_eq!(b.mean, Some(1.0));
        assert_eq!(stability.unstable_targets(0.8)[0].target, "c");
        let one = &stability.budgets[0];
        assert_eq!(one.sources, [vec!["a".to_string()], vec!["d".to_string()]]);
        assert_eq!((one.mean_jaccard, one.agreeing), (0.0, 1));
        assert!(Stability::of(&runs[..1]).is_err());
    }
}
