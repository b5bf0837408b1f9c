//! The Binary Integer Program of Section 3.4 through `good_lp`, solved by the pure-Rust `microlp`.
//!
//! Formulation (over the presolved edges, so dominated edges never enter the model):
//!
//! ```text
//! maximise    Σ_t Σ_{e into t} r_t · p_e · y_e
//! subject to  Σ_{e into t} y_e = 1                 for every target t
//!             Σ_{e into t, i ∈ e} y_e ≤ xᵢ          for every target t and source i of its edges
//!             Σ_i ℓᵢ · xᵢ ≤ γ
//!             xᵢ ∈ {0, 1},   0 ≤ y_e ≤ 1
//! ```
//!
//! Two choices make it tight and small. The linking rows are aggregated per (target, source) rather than
//! written per edge: since a target uses one edge, `Σ_{e∋i} y_e ≤ xᵢ` is valid and implies every
//! `y_e ≤ xᵢ`, so the LP relaxation is stronger with fewer rows. And only `x` is integer: for a fixed 0/1
//! `x`, the `y` of each target range over a simplex of the edges its chosen sources allow, whose optimum
//! is a vertex (a single edge), so integral `y` come for free.

use good_lp::{
    microlp, variable, Expression, ProblemVariables, Solution, SolverModel, Variable,
    WithInitialSolution,
};

use super::problem::{bits, Problem};
use super::PlanError;

/// The MIP's answer: the chosen sources and its objective.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct MipSolution {
    pub mask: u64,
    pub objective: f64,
}

/// Solves the BIP for `budget`; `warm` is a feasible source set to start from. `None` if infeasible.
pub(super) fn solve(
    problem: &Problem,
    budget: f64,
    warm: Option<u64>,
) -> Result<Option<MipSolution>, PlanError> {
    let failed = |message: String| PlanError::Solver { budget, message };
    let mut variables = ProblemVariables::new();
    let used = problem
        .targets
        .iter()
        .flat_map(|t| t.edges.iter().map(|e| e.mask))
        .fold(0u64, |all, mask| all | mask);
    let x: Vec<Option<Variable>> = (0..problem.sources.len())
        .map(|i| (used >> i & 1 == 1).then(|| variables.add(variable().binary())))
        .collect();
    let y: Vec<Vec<Variable>> = problem
        .targets
        .iter()
        .map(|t| {
            t.edges
                .iter()
                .map(|_| variables.add(variable().min(0).max(1)))
                .collect()
        })
        .collect();

    let mut objective = Expression::from(0.0);
    for (target, y_t) in problem.targets.iter().zip(&y) {
        for (edge, &y_e) in target.edges.iter().zip(y_t) {
            objective += target.importance * edge.performance * y_e;
        }
    }
    let mut model = variables.maximise(objective).using(microlp);

    for (target, y_t) in problem.targets.iter().zip(&y) {
        let one_edge: Expression = y_t.iter().copied().sum();
        model.add_constraint(one_edge.eq(1.0));
        let sources = target.edges.iter().fold(0u64, |all, e| all | e.mask);
        for i in bits(sources) {
            let using_i: Expression = target
                .edges
                .iter()
                .zip(y_t)
                .filter(|(e, _)| e.mask >> i & 1 == 1)
                .map(|(_, &y_e)| y_e)
                .sum();
            let x_i = x[i].expect("a source of an edge has a variable");
            model.add_constraint(using_i.leq(x_i));
        }
    }
    let labels: Expression = x
        .iter()
        .enumerate()
        .filter_map(|(i, x_i)| x_i.map(|x_i| problem.cost[i] * x_i))
        .sum();
    model.add_constraint(labels.leq(budget));

    if let Some(warm) = warm {
        let mut start: Vec<(Variable, f64)> = x
            .iter()
            .enumerate()
            .filter_map(|(i, x_i)| x_i.map(|x_i| (x_i, f64::from(u8::from(warm >> i & 1 == 1)))))
            .collect();
        for (target, y_t) in problem.targets.iter().zip(&y) {
            let used_edge = target.edges.iter().position(|e| e.mask & !warm == 0);
            for (j, &y_e) in y_t.iter().enumerate() {
                start.push((y_e, f64::from(u8::from(Some(j) == used_edge))));
            }
        }
        model = model.with_initial_solution(start);
    }

    let solution = match model.solve() {
        Ok(solution) => solution,
        Err(good_lp::ResolutionError::Infeasible) => return Ok(None),
        Err(error) => return Err(failed(error.to_string())),
    };
    if !matches!(solution.status(), good_lp::solvers::SolutionStatus::Optimal) {
        return Err(failed(format!(
            "stopped without proving optimality ({:?})",
            solution.status()
        )));
    }
    let mask = x
        .iter()
        .enumerate()
        .filter_map(|(i, x_i)| {
            x_i.filter(|&x_i| solution.value(x_i) > 0.5)
                .map(|_| 1u64 << i)
        })
        .fold(0, |all, bit| all | bit);
    let objective = problem
        .targets
        .iter()
        .zip(&y)
        .map(|(target, y_t)| {
            target
                .edges
                .iter()
                .zip(y_t)
                .map(|(e, &y_e)| target.importance * e.performance * solution.value(y_e))
                .sum::<f64>()
        })
        .sum();
    Ok(Some(MipSolution { mask, objective }))
}
