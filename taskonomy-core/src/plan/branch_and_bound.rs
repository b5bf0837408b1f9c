//! The exact combinatorial method: depth-first branch and bound over source sets held as bitmasks.
//!
//! A node fixes a set `I` of included sources and a set `A ⊇ I` of still-allowed ones. Its bound on any
//! plan `I ∪ B` (`B ⊆ A \ I`, `ℓ(B) ≤ γ − ℓ(I)`) is the smaller of
//!
//! * `Σ_t r_t · max p_e` over the edges `e ⊆ A` affordable from `I` (no budget coupling), and
//! * `f(I) + knapsack(g, γ − ℓ(I))`, where the gain `g_u = Σ_t r_t · max(0, p_e − p_t(I))` over the
//!   affordable edges `e ∋ u` is what source `u` could at most add to each target. Any improvement of a
//!   target by `B` comes through an edge whose new sources all lie in `B`, and is at most `g_u` for each
//!   of them, so `f(I ∪ B) − f(I) ≤ Σ_{u∈B} g_u`, bounded by the fractional knapsack of the `g_u` under
//!   the remaining budget. This holds for edges of any order (no submodularity needed).
//!
//! Sources with no gain are dropped from `A`: a target's current edge only gets better deeper in the
//! tree, so they never help there, and adding them only worsens the tie key. The branching source is the
//! one with the largest gain, included first (a greedy dive), which finds good plans early. A greedy plan
//! (and any warm start) seeds the incumbent.

use super::problem::{alphabetical_first, bits, fits, same_objective, tolerance, Problem};

/// The optimum found, with the number of nodes visited.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Found {
    pub mask: u64,
    pub objective: f64,
    pub nodes: u64,
}

/// A feasible plan and its tie key.
#[derive(Clone, Copy, Debug)]
struct Candidate {
    mask: u64,
    objective: f64,
    cost: f64,
}

impl Candidate {
    /// The tie rule of the module docs: objective, then lower cost, fewer sources, alphabetical.
    fn better_than(&self, other: &Candidate) -> bool {
        if !same_objective(self.objective, other.objective) {
            return self.objective > other.objective;
        }
        let cost_tolerance = tolerance(self.cost.max(other.cost));
        if (self.cost - other.cost).abs() > cost_tolerance {
            return self.cost < other.cost;
        }
        if self.mask.count_ones() != other.mask.count_ones() {
            return self.mask.count_ones() < other.mask.count_ones();
        }
        alphabetical_first(self.mask, other.mask).is_lt()
    }
}

/// The optimal source set for `budget` (tie-broken), or `None` if no set within it solves every target.
/// `seeds` are known source sets (warm starts); those within budget are completed greedily and offered as
/// incumbents.
pub(super) fn solve(problem: &Problem, budget: f64, seeds: &[u64]) -> Option<Found> {
    let universe = problem
        .targets
        .iter()
        .flat_map(|t| t.edges.iter().map(|e| e.mask))
        .fold(0, |all, mask| all | mask);
    let mut search = Search {
        problem,
        budget,
        best: None,
        nodes: 0,
    };
    search.offer_greedy(0, universe);
    for &seed in seeds {
        if fits(problem.cost_of(seed), budget) {
            search.offer_greedy(seed & universe, universe);
        }
    }
    search.node(0, universe, 0.0, true);
    search.best.map(|best| Found {
        mask: best.mask,
        objective: best.objective,
        nodes: search.nodes,
    })
}

struct Search<'a> {
    problem: &'a Problem,
    budget: f64,
    best: Option<Candidate>,
    nodes: u64,
}

impl Search<'_> {
    fn offer(&mut self, candidate: Candidate) {
        if self.best.is_none_or(|best| candidate.better_than(&best)) {
            self.best = Some(candidate);
        }
    }

    /// Completes `start` greedily (most targets newly solved, then largest gain per label cost) and offers
    /// the result if it solves every target.
    fn offer_greedy(&mut self, start: u64, universe: u64) {
        let problem = self.problem;
        let score = |mask: u64| {
            let unsolved = problem
                .targets
                .iter()
                .filter(|t| !t.edges.iter().any(|e| e.mask & !mask == 0))
                .count();
            (unsolved, problem.objective_of(mask))
        };
        let mut chosen = start;
        let mut spent = problem.cost_of(chosen);
        let (mut unsolved, mut objective) = score(chosen);
        loop {
            let mut pick: Option<(usize, f64, usize, f64)> = None;
            for u in bits(universe & !chosen) {
                let cost = problem.cost[u];
                if !fits(spent + cost, self.budget) {
                    continue;
                }
                let (now_unsolved, now) = score(chosen | 1 << u);
                let gain = now - objective;
                if now_unsolved == unsolved && gain <= tolerance(objective) {
                    continue;
                }
                let rate = if cost > 0.0 {
                    gain / cost
                } else {
                    f64::INFINITY
                };
                let wins = pick.is_none_or(|(_, _, best_unsolved, best_rate)| {
                    now_unsolved < best_unsolved
                        || (now_unsolved == best_unsolved && rate > best_rate)
                });
                if wins {
                    pick = Some((u, now, now_unsolved, rate));
                }
            }
            let Some((u, now, now_unsolved, _)) = pick else {
                break;
            };
            chosen |= 1 << u;
            spent += problem.cost[u];
            objective = now;
            unsolved = now_unsolved;
        }
        if unsolved == 0 {
            self.offer(Candidate {
                mask: chosen,
                objective,
                cost: spent,
            });
        }
    }

    /// Visits the node (`included`, `allowed`) whose included sources cost `spent`; `fresh` says whether
    /// `included` has not been offered yet (an exclude-branch child has the same set as its parent).
    fn node(&mut self, included: u64, allowed: u64, spent: f64, fresh: bool) {
        self.nodes += 1;
        let problem = self.problem;
        let remaining = self.budget - spent;
        let mut gain = [0.0f64; 64];
        let mut useful = 0u64;
        let mut value = 0.0;
        let mut solved_all = true;
        let mut reachable_value = 0.0;
        for target in &problem.targets {
            let current = target.edges.iter().position(|e| e.mask & !included == 0);
            let preferred = &target.edges[..current.unwrap_or(target.edges.len())];
            let base = current.map_or(0.0, |i| target.edges[i].performance);
            let mut best_reachable = None;
            let mut credited = 0u64;
            for edge in preferred {
                let new = edge.mask & !included;
                if edge.mask & !allowed != 0 || !fits(problem.cost_of(new), remaining) {
                    continue;
                }
                best_reachable.get_or_insert(edge.performance);
                let improvement = target.importance * (edge.performance - base);
                // An edge no better than the current one only matters while the target is unsolved.
                if current.is_some() && improvement <= 0.0 {
                    continue;
                }
                // Edges come best first, so a source's first edge is its largest gain for this target.
                for u in bits(new & !credited) {
                    gain[u] += improvement;
                }
                credited |= new;
                useful |= new;
            }
            if current.is_none() && best_reachable.is_none() {
                return; // this target cannot be solved anywhere below this node
            }
            solved_all &= current.is_some();
            value += target.importance * base;
            reachable_value += target.importance * best_reachable.unwrap_or(base).max(base);
        }
        if fresh && solved_all {
            self.offer(Candidate {
                mask: included,
                objective: value,
                cost: spent,
            });
        }
        if useful == 0 {
            return;
        }
        let bound = reachable_value.min(value + self.knapsack(&gain, useful, remaining));
        if let Some(best) = self.best {
            if bound < best.objective - tolerance(best.objective) {
                return;
            }
            if bound <= best.objective + tolerance(best.objective)
                && !could_win_tie(spent, included.count_ones(), &best)
            {
                return;
            }
        }
        let branch = bits(useful)
            .max_by(|&a, &b| gain[a].total_cmp(&gain[b]).then(b.cmp(&a)))
            .expect("useful is not empty");
        let child_allowed = included | useful;
        let cost = problem.cost[branch];
        if fits(spent + cost, self.budget) {
            self.node(included | 1 << branch, child_allowed, spent + cost, true);
        }
        self.node(included, child_allowed & !(1 << branch), spent, false);
    }

    /// The fractional knapsack of the gains of `items` under `capacity`: an upper bound on the 0/1 one.
    fn knapsack(&self, gain: &[f64; 64], items: u64, capacity: f64) -> f64 {
        let cost = &self.problem.cost;
        let mut order: Vec<usize> = bits(items).filter(|&u| gain[u] > 0.0).collect();
        // Best gain per cost first; free sources have infinite rate.
        let rate = |u: usize| {
            if cost[u] > 0.0 {
                gain[u] / cost[u]
            } else {
                f64::INFINITY
            }
        };
        order.sort_by(|&a, &b| rate(b).total_cmp(&rate(a)));
        let mut left = capacity;
        let mut total = 0.0;
        for u in order {
            if cost[u] <= left {
                left -= cost[u];
                total += gain[u];
            } else {
                total += gain[u] * (left / cost[u]).max(0.0);
                break;
            }
        }
        total
    }
}

/// Whether a plan below a node (a superset of `included`, costing at least `spent`) could still beat
/// `best` on the tie key if it only matched its objective.
fn could_win_tie(spent: f64, count: u32, best: &Candidate) -> bool {
    let cost_tolerance = tolerance(spent.max(best.cost));
    spent < best.cost - cost_tolerance
        || (spent <= best.cost + cost_tolerance && count < best.mask.count_ones())
}
