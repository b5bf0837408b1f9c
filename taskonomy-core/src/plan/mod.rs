//! Step IV of Taskonomy (Section 3.4 of the paper): the taxonomy as a Binary Integer Program.
//!
//! Given the measured performance `p_e` of every transfer edge `e = ({s₁, …, sₘ}, t)` (the normalised
//! affinities of [`crate::affinity`], higher is better), choose which tasks get labels (the *sources*)
//! and, for every target, one edge that solves it from chosen sources only. A target that is itself
//! chosen may be solved by its own supervision, the edge `({t}, t)`. With a binary `xᵢ` per source task
//! (labelled or not) and `y_e` per edge:
//!
//! ```text
//! maximise    Σ_e r_{t(e)} · p_e · y_e                       (importance r_t of each target)
//! subject to  Σ_{e into t} y_e = 1             for every target t
//!             y_e ≤ xᵢ                          for every edge e and every source i of e
//!             Σ_i ℓᵢ · xᵢ ≤ γ                   (label cost ℓᵢ, supervision budget γ)
//! ```
//!
//! Edges are the rows of a [`Transfers`](crate::transfers::Transfers) table up to a maximum order `k`, restricted to the candidate
//! sources and targets; edges from the baselines `self`, `random`, `pixels` and edges that have their
//! own target among their sources are dropped.
//!
//! Own supervision, the edge `({t}, t)`, is scored like every other edge, as in the paper: by the table's
//! `self → t` row, the value of t's own network in the same AHP tournament as the transfers into t
//! ([`OwnSupervision::Value`], the default). [`OwnSupervision::One`] scores it `p = 1` instead, the whole
//! mass of that tournament (a target's affinities, `self` included, sum to 1; most transfers hold a few
//! hundredths), so that labelling any target outweighs dozens of transfers into it; it is for tables
//! without `self` rows, and to compare with plans made that way.
//!
//! The program is solved exactly by branch and bound over source sets held as bitmasks (the default,
//! [`Solver::BranchAndBound`]), or as the BIP above through `good_lp` and the pure-Rust `microlp` solver
//! ([`Solver::Mip`]), which also cross-checks the two (see there). Both give the same answer.
//!
//! **Ties** are broken the same way on every run and machine. Objectives within `10⁻⁹ · max(1, |z|)` are
//! equal; among equal objectives the plan with the lower total label cost wins, then the one with fewer
//! sources, then the one containing the alphabetically first task on which the two source sets differ.
//! For each target, the edge used is the first available in this order: higher `p`, fewer sources, own
//! supervision before a transfer, then again the alphabetically first differing source.
//!
//! ```
//! use taskonomy_core::plan::{OwnSupervision, PlanOptions, Problem};
//! use taskonomy_core::transfers::Transfers;
//!
//! // Each target's tournament: its own network (`self`) and its transfers, values summing to 1.
//! let table = Transfers::parse(
//!     "sources,target,order,value\n\
//!      self,depth,1,0.4\n\
//!      edges,depth,1,0.38\n\
//!      normals,depth,1,0.22\n\
//!      self,normals,1,0.42\n\
//!      edges,normals,1,0.38\n\
//!      depth,normals,1,0.2\n",
//!     "small.csv",
//! )?;
//! let problem = Problem::new(&table, &PlanOptions::default())?;
//! let plan = problem.solve(1.0)?;
//! // Labelling edges solves both targets by transfer (0.38 + 0.38): better than labelling normals,
//! // which solves normals itself (0.42) and depth by transfer (0.22), or depth (0.4 + 0.2).
//! assert_eq!(plan.sources, ["edges"]);
//! assert!((plan.objective - 0.76).abs() < 1e-12);
//! assert_eq!(plan.transfers["normals"].sources, ["edges"]);
//!
//! // Scored 1, own supervision alone outweighs both transfers from edges: normals is labelled.
//! let one = PlanOptions { own_supervision: OwnSupervision::One, ..PlanOptions::default() };
//! let plan = Problem::new(&table, &one)?.solve(1.0)?;
//! assert_eq!(plan.sources, ["normals"]);
//! assert!((plan.objective - 1.22).abs() < 1e-12);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod branch_and_bound;
mod mip;
mod problem;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

pub use problem::Problem;

/// How a target that is itself chosen as a source scores when solved by its own supervision (see the
/// module docs for why [`OwnSupervision::Value`] is the default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OwnSupervision {
    /// `p = 1`: full supervision as the gold standard, above any measured value. For tables without
    /// `self` rows, and to compare with plans made that way.
    One,
    /// `p` is the table's `self → t` row (the target's own network, measured like any transfer), as in
    /// the paper.
    #[default]
    Value,
}

impl fmt::Display for OwnSupervision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OwnSupervision::One => "one",
            OwnSupervision::Value => "value",
        })
    }
}

impl FromStr for OwnSupervision {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "one" => Ok(OwnSupervision::One),
            "value" => Ok(OwnSupervision::Value),
            other => Err(format!("expected `one` or `value`, found `{other}`")),
        }
    }
}

/// What to plan: the options of the program, as plain data. Names are the table's task names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanOptions {
    /// `k`: the largest transfer order allowed (1 = single-source transfers only).
    pub max_order: usize,
    /// How own supervision scores.
    pub own_supervision: OwnSupervision,
    /// The tasks that may be chosen as sources; `None` = every non-baseline source in the table.
    pub sources: Option<Vec<String>>,
    /// The targets to solve; `None` = every target in the table.
    pub targets: Option<Vec<String>>,
    /// `r_t` per target; unlisted targets have importance 1.
    pub importance: BTreeMap<String, f64>,
    /// `ℓᵢ` per source task; unlisted sources cost 1.
    pub cost: BTreeMap<String, f64>,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            max_order: 1,
            own_supervision: OwnSupervision::default(),
            sources: None,
            targets: None,
            importance: BTreeMap::new(),
            cost: BTreeMap::new(),
        }
    }
}

/// Which exact method solves the program. Both return the same plan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Solver {
    /// Branch and bound over source sets (bitmasks), bounded by a knapsack relaxation of each source's
    /// best possible gain; warm-started by a greedy plan. The fastest.
    #[default]
    BranchAndBound,
    /// The BIP through `good_lp` + `microlp`, used as an independent cross-check of branch and bound.
    ///
    /// With `warm_start`, branch and bound runs first and its plan seeds the MIP, which then proves that
    /// nothing better exists. Without, the MIP runs alone and its plan seeds branch and bound, which picks
    /// the tie-broken optimum among plans as good. Either way a disagreement in objective is an error
    /// ([`PlanError::Disagreement`]), and the plan returned is the same as branch and bound's.
    Mip {
        /// Seed the MIP with branch and bound's plan.
        warm_start: bool,
    },
}

/// A taxonomy: the chosen source tasks and how every target is solved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The supervision budget `γ` it was planned for.
    pub budget: f64,
    /// `Σ_t r_t · p_{e(t)}` over the targets.
    pub objective: f64,
    /// `Σ ℓᵢ` over the chosen sources (at most the budget).
    pub cost: f64,
    /// The chosen source tasks, sorted by name.
    pub sources: Vec<String>,
    /// For every target, the edge that solves it.
    pub transfers: BTreeMap<String, Assignment>,
    /// How the solve went.
    #[serde(skip)]
    pub stats: SolveStats,
}

/// How one target is solved in a [`Plan`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    /// The edge's sources, sorted by name (the target itself when supervised).
    pub sources: Vec<String>,
    /// `p_e` of the edge (before importance).
    pub performance: f64,
    /// Whether the target is solved by its own supervision.
    pub supervised: bool,
}

/// Diagnostics of one solve.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SolveStats {
    /// Branch-and-bound nodes visited (0 if it did not run).
    pub nodes: u64,
    /// The MIP's optimal objective, when the MIP ran.
    pub mip_objective: Option<f64>,
    /// Wall time of the solve.
    pub elapsed: Duration,
}

/// One budget of a [`Sweep`].
#[derive(Clone, Debug, PartialEq)]
pub struct SweepPoint {
    /// The budget `γ`.
    pub budget: f64,
    /// The optimal plan, or `None` if no plan fits the budget.
    pub plan: Option<Plan>,
}

/// Solves a series of budgets in order, each warm-started from the previous plan (a plan for a smaller
/// budget is feasible for a larger one, so it is a lower bound there). Created by [`Problem::sweep`].
pub struct Sweep<'a> {
    problem: &'a Problem,
    budgets: std::vec::IntoIter<f64>,
    solver: Solver,
    previous: Option<Plan>,
}

impl Iterator for Sweep<'_> {
    type Item = Result<SweepPoint, PlanError>;

    fn next(&mut self) -> Option<Self::Item> {
        let budget = self.budgets.next()?;
        let point = match self
            .problem
            .solve_with(budget, self.solver, self.previous.as_ref())
        {
            Ok(plan) => {
                self.previous = Some(plan.clone());
                SweepPoint {
                    budget,
                    plan: Some(plan),
                }
            }
            Err(PlanError::Infeasible { .. } | PlanError::BudgetBelowTarget { .. }) => {
                SweepPoint { budget, plan: None }
            }
            Err(error) => return Some(Err(error)),
        };
        Some(Ok(point))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.budgets.size_hint()
    }
}

/// What is wrong with the options of a [`Problem`]; all are reported together.
#[derive(Clone, Debug, PartialEq)]
pub enum OptionProblem {
    /// A name given as a candidate source is not a source task in the table.
    UnknownSource {
        /// The name.
        name: String,
        /// A close name that exists, if any.
        suggestion: Option<String>,
    },
    /// A name given as a target (or with an importance) is not a target in the table.
    UnknownTarget {
        /// The name.
        name: String,
        /// A close name that exists, if any.
        suggestion: Option<String>,
    },
    /// An importance `r_t` that is not finite and non-negative.
    Importance {
        /// The target.
        task: String,
        /// The value.
        value: f64,
    },
    /// A label cost `ℓᵢ` that is not finite and non-negative.
    Cost {
        /// The task.
        task: String,
        /// The value.
        value: f64,
    },
    /// `max_order` must be at least 1.
    MaxOrder,
    /// The candidate sources or targets are an empty list.
    Empty {
        /// `sources` or `targets`.
        what: &'static str,
    },
}

impl fmt::Display for OptionProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hint = |suggestion: &Option<String>| match suggestion {
            Some(s) => format!(" (did you mean `{s}`?)"),
            None => String::new(),
        };
        match self {
            OptionProblem::UnknownSource { name, suggestion } => {
                write!(
                    f,
                    "`{name}` is not a source task in the table{}",
                    hint(suggestion)
                )
            }
            OptionProblem::UnknownTarget { name, suggestion } => {
                write!(
                    f,
                    "`{name}` is not a target in the table{}",
                    hint(suggestion)
                )
            }
            OptionProblem::Importance { task, value } => write!(
                f,
                "the importance of `{task}` must be a finite, non-negative number, found {value}"
            ),
            OptionProblem::Cost { task, value } => write!(
                f,
                "the label cost of `{task}` must be a finite, non-negative number, found {value}"
            ),
            OptionProblem::MaxOrder => f.write_str("the maximum transfer order must be at least 1"),
            OptionProblem::Empty { what } => write!(f, "the list of {what} is empty"),
        }
    }
}

/// Why a program could not be built or solved.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The options do not fit the table; every problem is listed.
    #[error("invalid planning options for {origin}:{}", list(problems))]
    Options {
        /// The table's origin.
        origin: String,
        /// Each problem found.
        problems: Vec<OptionProblem>,
    },
    /// Own supervision scored by `value` needs the table's `self` row for every target that can be chosen.
    #[error(
        "{origin}: own supervision `value` needs the row `self,{target},1,<value>`, which is missing \
         (or plan with own supervision `one`)"
    )]
    MissingSelfRow {
        /// The table's origin.
        origin: String,
        /// The target.
        target: String,
    },
    /// A target has no edge at all from the candidate sources (at this maximum order), so no budget can
    /// solve it.
    #[error("{origin}: target `{target}` cannot be solved: no transfer into it from the candidate sources \
             at order ≤ {max_order}, and it is not a candidate source itself")]
    Uncoverable {
        /// The table's origin.
        origin: String,
        /// The target.
        target: String,
        /// The maximum order in force.
        max_order: usize,
    },
    /// Bitmasks hold 64 sources.
    #[error(
        "{count} candidate sources; the planner handles at most 64 (restrict them with `sources`)"
    )]
    TooManySources {
        /// How many there are.
        count: usize,
    },
    /// The budget is not a finite, non-negative number.
    #[error("the budget must be a finite, non-negative number, found {0}")]
    Budget(f64),
    /// Some target cannot be solved within the budget by any single edge.
    #[error(
        "infeasible: the budget γ = {budget} is below {cheapest}, the label cost of the cheapest way to \
         solve target `{target}`"
    )]
    BudgetBelowTarget {
        /// The budget.
        budget: f64,
        /// The target.
        target: String,
        /// The label cost of its cheapest edge.
        cheapest: f64,
    },
    /// Every target can be solved within the budget on its own, but not all of them together.
    #[error(
        "infeasible: no set of sources with label cost at most γ = {budget} solves every target"
    )]
    Infeasible {
        /// The budget.
        budget: f64,
    },
    /// A task named in a source set to evaluate is not a candidate source.
    #[error("`{name}` is not a candidate source{}", match suggestion { Some(s) => format!(" (did you mean `{s}`?)"), None => String::new() })]
    UnknownSource {
        /// The name.
        name: String,
        /// A close candidate, if any.
        suggestion: Option<String>,
    },
    /// The MIP solver failed (it should not on a well-formed program).
    #[error("the MIP solver failed at budget {budget}: {message}")]
    Solver {
        /// The budget.
        budget: f64,
        /// What it said.
        message: String,
    },
    /// Branch and bound and the MIP found different optima: a bug in one of them.
    #[error(
        "the solvers disagree at budget {budget}: branch and bound {branch_and_bound:?}, MIP {mip:?} \
         (this is a bug; please report it with the table)"
    )]
    Disagreement {
        /// The budget.
        budget: f64,
        /// Branch and bound's objective, if it found a plan.
        branch_and_bound: Option<f64>,
        /// The MIP's objective, if it found a plan.
        mip: Option<f64>,
    },
}

fn list(problems: &[OptionProblem]) -> String {
    problems.iter().map(|p| format!("\n  {p}")).collect()
}

impl Problem {
    /// Solves one budget `γ` with [`Solver::BranchAndBound`].
    pub fn solve(&self, budget: f64) -> Result<Plan, PlanError> {
        self.solve_with(budget, Solver::BranchAndBound, None)
    }

    /// Solves one budget with `solver`, optionally warm-started from a plan known to be feasible (a plan
    /// for a smaller budget, say); a warm start that does not fit the budget is ignored.
    pub fn solve_with(
        &self,
        budget: f64,
        solver: Solver,
        warm: Option<&Plan>,
    ) -> Result<Plan, PlanError> {
        let start = Instant::now();
        self.check_budget(budget)?;
        let seeds: Vec<u64> = warm
            .and_then(|plan| self.mask_of(&plan.sources).ok())
            .into_iter()
            .collect();
        let infeasible = || PlanError::Infeasible { budget };
        let (found, mip_objective) = match solver {
            Solver::BranchAndBound => (branch_and_bound::solve(self, budget, &seeds), None),
            Solver::Mip { warm_start: true } => {
                let found = branch_and_bound::solve(self, budget, &seeds);
                let mip = mip::solve(self, budget, found.as_ref().map(|f| f.mask))?;
                check_agreement(self, budget, found.as_ref(), mip.as_ref())?;
                (found, mip.map(|m| m.objective))
            }
            Solver::Mip { warm_start: false } => {
                let mip = mip::solve(self, budget, None)?;
                let seeds: Vec<u64> = mip.iter().map(|m| m.mask).chain(seeds).collect();
                let found = branch_and_bound::solve(self, budget, &seeds);
                check_agreement(self, budget, found.as_ref(), mip.as_ref())?;
                (found, mip.map(|m| m.objective))
            }
        };
        let found = found.ok_or_else(infeasible)?;
        let mut plan = self.plan_of(found.mask, budget);
        plan.stats = SolveStats {
            nodes: found.nodes,
            mip_objective,
            elapsed: start.elapsed(),
        };
        Ok(plan)
    }

    /// Solves every budget in `budgets`, in order, warm-starting each from the previous plan. Budgets no
    /// plan fits give a point without a plan; other errors end the sweep.
    pub fn sweep(&self, budgets: impl IntoIterator<Item = f64>, solver: Solver) -> Sweep<'_> {
        Sweep {
            problem: self,
            budgets: budgets.into_iter().collect::<Vec<_>>().into_iter(),
            solver,
            previous: None,
        }
    }

    /// The plan that labels exactly `sources` (no budget applies; `budget` of the result is their cost),
    /// or `None` if some target cannot be solved from them.
    pub fn evaluate<S: AsRef<str>>(&self, sources: &[S]) -> Result<Option<Plan>, PlanError> {
        let names: Vec<String> = sources.iter().map(|s| s.as_ref().to_owned()).collect();
        let mask = self.mask_of(&names)?;
        if !self.covers(mask) {
            return Ok(None);
        }
        let cost = self.cost_of(mask);
        Ok(Some(self.plan_of(mask, cost)))
    }
}

/// The MIP and branch and bound must agree on the optimum (and on feasibility).
fn check_agreement(
    problem: &Problem,
    budget: f64,
    found: Option<&branch_and_bound::Found>,
    mip: Option<&mip::MipSolution>,
) -> Result<(), PlanError> {
    let agree = match (found, mip) {
        (None, None) => true,
        (Some(f), Some(m)) => {
            // Compare the MIP's set scored exactly (its own objective carries the LP's rounding).
            let exact = problem.objective_of(m.mask);
            problem::same_objective(f.objective, exact)
                && (m.objective - exact).abs() <= 1e-6 * exact.abs().max(1.0)
        }
        _ => false,
    };
    if agree {
        Ok(())
    } else {
        Err(PlanError::Disagreement {
            budget,
            branch_and_bound: found.map(|f| f.objective),
            mip: mip.map(|m| m.objective),
        })
    }
}
