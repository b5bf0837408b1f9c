//! The program as data: candidate sources as bits, each target's edges presolved into preference order.

use std::collections::{BTreeMap, BTreeSet};

use taskonomy_spec::closest_match;

use super::{Assignment, OptionProblem, OwnSupervision, Plan, PlanError, PlanOptions, SolveStats};
use crate::transfers::{is_pseudo_source, Transfers, SELF};

/// One transfer edge `({s₁, …, sₘ}, t)` of a target, its sources as bits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Edge {
    /// Bit `i` set ⇔ candidate source `i` is among the edge's sources.
    pub mask: u64,
    /// `p_e`.
    pub performance: f64,
    /// The own-supervision edge `({t}, t)`.
    pub supervised: bool,
}

/// A target, its importance and its edges.
#[derive(Clone, Debug)]
pub(super) struct Target {
    pub name: String,
    /// `r_t`.
    pub importance: f64,
    /// In preference order (see the tie rule in the module docs), with dominated edges removed: an edge
    /// is dropped when a preferred one needs a subset of its sources, since it could then never be used.
    /// So the edge that solves `t` under a source set `S` is the first whose mask lies in `S`.
    pub edges: Vec<Edge>,
}

/// A taxonomy program built from a table of transfers and [`PlanOptions`]; solve it with
/// [`Problem::solve`] or [`Problem::solve_with`].
///
/// Building it parses nothing and prints nothing: it validates the options against the table (every
/// problem reported at once), keeps the edges the options allow, and presolves them (preference order,
/// dominated edges dropped).
#[derive(Clone, Debug)]
pub struct Problem {
    /// Candidate sources, sorted by name; index = bit.
    pub(super) sources: Vec<String>,
    /// `ℓᵢ` per candidate source.
    pub(super) cost: Vec<f64>,
    /// Targets, sorted by name.
    pub(super) targets: Vec<Target>,
    max_order: usize,
    own_supervision: OwnSupervision,
    edges_in_table: usize,
}

impl Problem {
    /// Builds the program for `table` under `options`.
    pub fn new(table: &Transfers, options: &PlanOptions) -> Result<Self, PlanError> {
        let origin = table.origin().to_owned();
        let table_sources: Vec<&str> = table.sources();
        let table_targets: Vec<&str> = table.targets();
        let mut problems = Vec::new();

        if options.max_order == 0 {
            problems.push(OptionProblem::MaxOrder);
        }
        let sources: Vec<String> = select(
            options.sources.as_deref(),
            &table_sources,
            "sources",
            &mut problems,
            |name, suggestion| OptionProblem::UnknownSource { name, suggestion },
        );
        let targets: Vec<String> = select(
            options.targets.as_deref(),
            &table_targets,
            "targets",
            &mut problems,
            |name, suggestion| OptionProblem::UnknownTarget { name, suggestion },
        );
        for (task, &value) in &options.importance {
            if !table_targets.contains(&task.as_str()) {
                problems.push(OptionProblem::UnknownTarget {
                    name: task.clone(),
                    suggestion: suggest(task, &table_targets),
                });
            } else if !(value.is_finite() && value >= 0.0) {
                problems.push(OptionProblem::Importance {
                    task: task.clone(),
                    value,
                });
            }
        }
        for (task, &value) in &options.cost {
            if !table_sources.contains(&task.as_str()) {
                problems.push(OptionProblem::UnknownSource {
                    name: task.clone(),
                    suggestion: suggest(task, &table_sources),
                });
            } else if !(value.is_finite() && value >= 0.0) {
                problems.push(OptionProblem::Cost {
                    task: task.clone(),
                    value,
                });
            }
        }
        if !problems.is_empty() {
            return Err(PlanError::Options { origin, problems });
        }
        if sources.len() > 64 {
            return Err(PlanError::TooManySources {
                count: sources.len(),
            });
        }

        let bit: BTreeMap<&str, u64> = sources
            .iter()
            .enumerate()
            .map(|(i, name)| (name.as_str(), 1u64 << i))
            .collect();
        let mut edges: BTreeMap<&str, Vec<Edge>> =
            targets.iter().map(|t| (t.as_str(), Vec::new())).collect();
        let mut self_row: BTreeMap<&str, f64> = BTreeMap::new();
        for row in table.rows() {
            let Some(target_edges) = edges.get_mut(row.target.as_str()) else {
                continue;
            };
            if row.sources.len() == 1 && row.sources[0] == SELF {
                self_row.insert(&row.target, row.value);
            }
            let usable = row.order() <= options.max_order
                && !row.sources.contains(&row.target)
                && row.sources.iter().all(|s| !is_pseudo_source(s));
            // A mask only if every source is a candidate.
            let mask = row
                .sources
                .iter()
                .try_fold(0u64, |mask, s| bit.get(s.as_str()).map(|b| mask | b));
            if let (true, Some(mask)) = (usable, mask) {
                target_edges.push(Edge {
                    mask,
                    performance: row.value,
                    supervised: false,
                });
            }
        }
        let edges_in_table = edges.values().map(Vec::len).sum();

        let mut planned = Vec::with_capacity(targets.len());
        for name in &targets {
            let mut target_edges = edges.remove(name.as_str()).unwrap_or_default();
            if let Some(&own) = bit.get(name.as_str()) {
                let performance =
                    match options.own_supervision {
                        OwnSupervision::One => 1.0,
                        OwnSupervision::Value => *self_row.get(name.as_str()).ok_or_else(|| {
                            PlanError::MissingSelfRow {
                                origin: origin.clone(),
                                target: name.clone(),
                            }
                        })?,
                    };
                target_edges.push(Edge {
                    mask: own,
                    performance,
                    supervised: true,
                });
            }
            if target_edges.is_empty() {
                return Err(PlanError::Uncoverable {
                    origin,
                    target: name.clone(),
                    max_order: options.max_order,
                });
            }
            planned.push(Target {
                name: name.clone(),
                importance: options.importance.get(name).copied().unwrap_or(1.0),
                edges: presolve(target_edges),
            });
        }
        let cost = sources
            .iter()
            .map(|s| options.cost.get(s).copied().unwrap_or(1.0))
            .collect();
        Ok(Problem {
            sources,
            cost,
            targets: planned,
            max_order: options.max_order,
            own_supervision: options.own_supervision,
            edges_in_table,
        })
    }

    /// The candidate sources, sorted by name.
    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    /// The targets, sorted by name.
    pub fn targets(&self) -> Vec<&str> {
        self.targets.iter().map(|t| t.name.as_str()).collect()
    }

    /// `ℓᵢ` of a candidate source (`None` if `source` is not one).
    pub fn label_cost(&self, source: &str) -> Option<f64> {
        let i = self
            .sources
            .binary_search_by(|s| s.as_str().cmp(source))
            .ok()?;
        Some(self.cost[i])
    }

    /// Whether a label cost fits a budget, as the planner decides it (up to rounding: costs 0.1 + 0.2
    /// fit a budget of 0.3).
    pub fn fits(cost: f64, budget: f64) -> bool {
        fits(cost, budget)
    }

    /// The maximum transfer order `k`.
    pub fn max_order(&self) -> usize {
        self.max_order
    }

    /// How own supervision scores.
    pub fn own_supervision(&self) -> OwnSupervision {
        self.own_supervision
    }

    /// How many edges the options allow (own supervision included), and how many remain after presolve.
    pub fn edge_counts(&self) -> (usize, usize) {
        let own = self
            .targets
            .iter()
            .filter(|t| self.sources.contains(&t.name))
            .count();
        (
            self.edges_in_table + own,
            self.targets.iter().map(|t| t.edges.len()).sum(),
        )
    }

    pub(super) fn check_budget(&self, budget: f64) -> Result<(), PlanError> {
        if !(budget.is_finite() && budget >= 0.0) {
            return Err(PlanError::Budget(budget));
        }
        for target in &self.targets {
            let cheapest = target
                .edges
                .iter()
                .map(|e| self.cost_of(e.mask))
                .fold(f64::INFINITY, f64::min);
            if !fits(cheapest, budget) {
                return Err(PlanError::BudgetBelowTarget {
                    budget,
                    target: target.name.clone(),
                    cheapest,
                });
            }
        }
        Ok(())
    }

    pub(super) fn mask_of(&self, names: &[String]) -> Result<u64, PlanError> {
        names
            .iter()
            .try_fold(0u64, |mask, name| match self.sources.binary_search(name) {
                Ok(i) => Ok(mask | 1 << i),
                Err(_) => Err(PlanError::UnknownSource {
                    name: name.clone(),
                    suggestion: suggest(
                        name,
                        &self.sources.iter().map(String::as_str).collect::<Vec<_>>(),
                    ),
                }),
            })
    }

    /// `Σ ℓᵢ` over the bits of `mask`.
    pub(super) fn cost_of(&self, mask: u64) -> f64 {
        bits(mask).map(|i| self.cost[i]).sum()
    }

    /// Whether every target has an edge within `mask`.
    pub(super) fn covers(&self, mask: u64) -> bool {
        self.targets
            .iter()
            .all(|t| t.edges.iter().any(|e| e.mask & !mask == 0))
    }

    /// `Σ_t r_t · p` of the edge solving each target under `mask` (unsolved targets count 0).
    pub(super) fn objective_of(&self, mask: u64) -> f64 {
        self.targets
            .iter()
            .filter_map(|t| {
                let edge = t.edges.iter().find(|e| e.mask & !mask == 0)?;
                Some(t.importance * edge.performance)
            })
            .sum()
    }

    /// The plan that labels `mask` (which must solve every target).
    pub(super) fn plan_of(&self, mask: u64, budget: f64) -> Plan {
        let transfers = self
            .targets
            .iter()
            .filter_map(|t| {
                let edge = t.edges.iter().find(|e| e.mask & !mask == 0)?;
                Some((
                    t.name.clone(),
                    Assignment {
                        sources: self.names_of(edge.mask),
                        performance: edge.performance,
                        supervised: edge.supervised,
                    },
                ))
            })
            .collect();
        Plan {
            budget,
            objective: self.objective_of(mask),
            cost: self.cost_of(mask),
            sources: self.names_of(mask),
            transfers,
            stats: SolveStats::default(),
        }
    }

    fn names_of(&self, mask: u64) -> Vec<String> {
        bits(mask).map(|i| self.sources[i].clone()).collect()
    }
}

/// The option's list (validated against the table), or every name in the table.
fn select(
    given: Option<&[String]>,
    table: &[&str],
    what: &'static str,
    problems: &mut Vec<OptionProblem>,
    unknown: impl Fn(String, Option<String>) -> OptionProblem,
) -> Vec<String> {
    let Some(given) = given else {
        return table.iter().map(|s| s.to_string()).collect();
    };
    if given.is_empty() {
        problems.push(OptionProblem::Empty { what });
    }
    let mut chosen = BTreeSet::new();
    for name in given {
        if table.contains(&name.as_str()) {
            chosen.insert(name.clone());
        } else {
            problems.push(unknown(name.clone(), suggest(name, table)));
        }
    }
    chosen.into_iter().collect()
}

fn suggest(name: &str, candidates: &[&str]) -> Option<String> {
    closest_match(name, candidates.iter().copied()).map(str::to_owned)
}

/// Sorts a target's edges into preference order and drops the dominated ones (see [`Target::edges`]).
fn presolve(mut edges: Vec<Edge>) -> Vec<Edge> {
    edges.sort_by(|a, b| {
        b.performance
            .total_cmp(&a.performance)
            .then(a.mask.count_ones().cmp(&b.mask.count_ones()))
            .then(b.supervised.cmp(&a.supervised))
            .then(alphabetical_first(a.mask, b.mask))
    });
    let mut kept: Vec<Edge> = Vec::with_capacity(edges.len());
    for edge in edges {
        if !kept.iter().any(|k| k.mask & !edge.mask == 0) {
            kept.push(edge);
        }
    }
    kept
}

/// Orders two source sets by the tie rule: the one containing the alphabetically first task on which
/// they differ comes first. Bits are in name order, so that task is the lowest differing bit.
pub(super) fn alphabetical_first(a: u64, b: u64) -> std::cmp::Ordering {
    let differ = a ^ b;
    if differ == 0 {
        std::cmp::Ordering::Equal
    } else if a & differ & differ.wrapping_neg() != 0 {
        std::cmp::Ordering::Less
    } else {
        std::cmp::Ordering::Greater
    }
}

/// Objectives this close are a tie.
pub(super) fn same_objective(a: f64, b: f64) -> bool {
    (a - b).abs() <= tolerance(a.abs().max(b.abs()))
}

/// The tolerance of comparisons at magnitude `x`: `10⁻⁹ · max(1, x)`.
pub(super) fn tolerance(x: f64) -> f64 {
    1e-9 * x.max(1.0)
}

/// Whether a label cost fits a budget (up to rounding: costs 0.1 + 0.2 fit a budget of 0.3).
pub(super) fn fits(cost: f64, budget: f64) -> bool {
    cost <= budget + tolerance(budget)
}

/// The indices of the set bits, lowest first.
pub(super) fn bits(mut mask: u64) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        if mask == 0 {
            return None;
        }
        let i = mask.trailing_zeros() as usize;
        mask &= mask - 1;
        Some(i)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(mask: u64, performance: f64, supervised: bool) -> Edge {
        Edge {
            mask,
            performance,
            supervised,
        }
    }

    #[test]
    fn presolve_orders_by_preference_and_drops_dominated_edges() {
        let edges = vec![
            edge(0b0011, 0.5, false), // dominated: {0} alone does better
            edge(0b0001, 0.6, false),
            edge(0b1001, 0.9, false), // dominated: {3} alone does as well with fewer sources
            edge(0b0110, 0.95, false),
            edge(0b0100, 0.9, false),
            edge(0b1000, 0.9, true), // own supervision first among equals, alphabet notwithstanding
            edge(0b0010, 0.6, false), // ties {0}: the alphabetically first source comes first
        ];
        let kept = presolve(edges);
        assert_eq!(
            kept,
            [
                edge(0b0110, 0.95, false),
                edge(0b1000, 0.9, true),
                edge(0b0100, 0.9, false),
                edge(0b0001, 0.6, false),
                edge(0b0010, 0.6, false),
            ]
        );
    }

    #[test]
    fn the_alphabetically_first_differing_task_decides() {
        use std::cmp::Ordering::*;
        // Bit 0 is the alphabetically first source.
        assert_eq!(alphabetical_first(0b101, 0b110), Less);
        assert_eq!(alphabetical_first(0b110, 0b101), Greater);
        assert_eq!(alphabetical_first(0b1000, 0b0110), Greater);
        assert_eq!(alphabetical_first(0b11, 0b11), Equal);
    }

    #[test]
    fn costs_fit_up_to_rounding() {
        assert!(fits(0.1 + 0.2, 0.3));
        assert!(!fits(1.0 + 1e-6, 1.0));
        assert_eq!(bits(0b10110).collect::<Vec<_>>(), [1, 2, 4]);
    }
}
