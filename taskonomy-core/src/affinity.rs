//! Step III of Taskonomy (Section 3.3 of the paper): from transfer losses to normalised task affinities,
//! by the Analytic Hierarchy Process (AHP).
//!
//! Raw test losses of different targets are not comparable (a depth loss and a classification loss have
//! different scales and different notions of "good"), and even for one target a loss difference does not
//! say how often one transfer is better. So, for each target `t` separately:
//!
//! 1. **Tournament.** For sources `s₁ … sₙ` (each a source set transferred to `t`, baselines included),
//!    `W[i,j]` is the fraction of test images on which `sᵢ → t` has a lower loss than `sⱼ → t`; ties count
//!    half ([`tournament`]). Hence `W[i,j] + W[j,i] = 1` and `W[i,i] = ½`.
//! 2. **Clip** every entry to `[0.001, 0.999]` ([`clip`]), so no source is infinitely better than another.
//! 3. **Ratio.** `W' = W / Wᵀ` elementwise ([`ratio_matrix`]): `W'[i,j]` is how many times more often `sᵢ`
//!    wins than `sⱼ`. `W'` is a positive reciprocal matrix (`W'[j,i] = 1 / W'[i,j]`, `W'[i,i] = 1`).
//! 4. **Perron vector.** The affinities `p` of the sources for `t` are the principal eigenvector of `W'`,
//!    normalised to `Σ p = 1` ([`perron_vector`]): `W' p = λ_max p`. If the tournament were perfectly
//!    consistent (`W'[i,j] = pᵢ / pⱼ`) this recovers `p` exactly and `λ_max = n`; Saaty's consistency ratio
//!    ([`consistency_ratio`]) measures how far it is from that.
//!
//! [`from_losses`] runs all four steps. [`from_win_rates`] starts from a measured `W`, and
//! [`from_reference_wins`] from the paper's released form: each source's win rate `qᵢ` against one common
//! reference, read as a Bradley–Terry tournament (see its docs).
//!
//! ```
//! use nalgebra::dmatrix;
//! use taskonomy_core::affinity::{from_losses, PowerIteration};
//! // Three sources transferred to one target, per-image test losses (lower wins) on four images.
//! let losses = dmatrix![0.1, 0.2, 0.1, 0.3;
//!                       0.4, 0.3, 0.5, 0.2;
//!                       0.9, 0.8, 0.7, 0.9];
//! let affinities = from_losses(&losses, &PowerIteration::default())?;
//! assert!(affinities.weights[0] > affinities.weights[1] && affinities.weights[1] > affinities.weights[2]);
//! assert!((affinities.weights.sum() - 1.0).abs() < 1e-12);
//! # Ok::<(), taskonomy_core::affinity::AffinityError>(())
//! ```

use std::collections::BTreeMap;

pub use nalgebra::{DMatrix, DVector};

use crate::transfers::{Transfer, Transfers, TransfersError};

/// The lower clip bound of the tournament matrix `W`.
pub const W_MIN: f64 = 0.001;
/// The upper clip bound of the tournament matrix `W`.
pub const W_MAX: f64 = 0.999;

/// Why affinities could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum AffinityError {
    /// There is nothing to rank.
    #[error("no sources to rank")]
    Empty,
    /// The loss matrix has sources but no images.
    #[error("the loss matrix has no images (columns)")]
    NoImages,
    /// A win-rate matrix must be square.
    #[error("the win-rate matrix must be square, found {rows}×{columns}")]
    NotSquare {
        /// Rows found.
        rows: usize,
        /// Columns found.
        columns: usize,
    },
    /// A loss or win rate is not a number, or a win rate lies outside `[0, 1]`.
    #[error("{what} at row {row}, column {column} must be {expected}, found {value}")]
    BadEntry {
        /// Which input (`loss`, `win rate`).
        what: &'static str,
        /// 0-based row (source).
        row: usize,
        /// 0-based column (image, or the opposing source).
        column: usize,
        /// What a valid entry is.
        expected: &'static str,
        /// The entry.
        value: f64,
    },
    /// A matrix handed to [`perron_vector`] is not positive.
    #[error("W' must be positive, found W'[{row},{column}] = {value}")]
    NotPositive {
        /// 0-based row.
        row: usize,
        /// 0-based column.
        column: usize,
        /// The entry.
        value: f64,
    },
    /// Power iteration hit its cap before the eigen-equation held to the tolerance.
    #[error(
        "power iteration did not converge in {iterations} iterations (relative residual {residual:e}, \
         tolerance {tolerance:e})"
    )]
    NotConverged {
        /// Iterations run.
        iterations: usize,
        /// The last relative residual `‖W'p − λp‖₁ / λ`.
        residual: f64,
        /// The tolerance asked for.
        tolerance: f64,
    },
    /// A table of win rates could not be read into tournaments.
    #[error("{origin}:{line}: {message}")]
    Table {
        /// The table's origin (file).
        origin: String,
        /// The offending row's line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The table of affinities built from the results failed validation (a bug if it ever happens).
    #[error(transparent)]
    Transfers(#[from] TransfersError),
}

/// Settings of the power iteration in [`perron_vector`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PowerIteration {
    /// Stop when the relative residual `‖W'p − λp‖₁ / λ` (with `Σ p = 1`) is at most this.
    pub tolerance: f64,
    /// Give up (with [`AffinityError::NotConverged`]) after this many multiplications.
    pub max_iterations: usize,
}

impl Default for PowerIteration {
    fn default() -> Self {
        PowerIteration {
            tolerance: 1e-12,
            max_iterations: 10_000,
        }
    }
}

/// The principal eigenpair of a positive matrix, as found by [`perron_vector`].
#[derive(Clone, Debug, PartialEq)]
pub struct Perron {
    /// The Perron vector `p`: positive, `Σ p = 1`.
    pub vector: DVector<f64>,
    /// The Perron root `λ_max` (the spectral radius).
    pub eigenvalue: f64,
    /// Matrix–vector products used.
    pub iterations: usize,
}

/// The affinities of `n` sources for one target, with the diagnostics of the AHP.
#[derive(Clone, Debug, PartialEq)]
pub struct Affinities {
    /// `p`: one affinity per source (row of the input), positive, summing to 1. Higher is better.
    pub weights: DVector<f64>,
    /// `λ_max` of `W'`; equals `n` exactly when the tournament is consistent.
    pub eigenvalue: f64,
    /// Saaty's consistency ratio `CR` of `W'` (0 when consistent; above 0.1 is conventionally "inconsistent").
    pub consistency_ratio: f64,
    /// Power iterations used.
    pub iterations: usize,
}

/// The tournament matrix `W` of one target: `W[i,j] = (#{k : ℓᵢₖ < ℓⱼₖ} + ½ #{k : ℓᵢₖ = ℓⱼₖ}) / K` for a
/// `n × K` matrix of per-image test losses `ℓ` (row = source, column = image; lower wins).
///
/// Only comparisons between losses matter, so `W` is unchanged by any strictly increasing transform of the
/// losses (scaling by `c > 0` in particular). Errors if there are no images or a loss is NaN.
pub fn tournament(losses: &DMatrix<f64>) -> Result<DMatrix<f64>, AffinityError> {
    let (n, images) = losses.shape();
    if n == 0 {
        return Err(AffinityError::Empty);
    }
    if images == 0 {
        return Err(AffinityError::NoImages);
    }
    if let Some((index, &value)) = losses.iter().enumerate().find(|(_, v)| v.is_nan()) {
        // nalgebra stores column-major: index = column · n + row.
        return Err(AffinityError::BadEntry {
            what: "loss",
            row: index % n,
            column: index / n,
            expected: "a number",
            value,
        });
    }
    let mut w = DMatrix::from_element(n, n, 0.5);
    for i in 0..n {
        for j in (i + 1)..n {
            // Twice the wins of i over j, so that ties add exactly 1 and the sum stays an integer.
            let twice_wins: usize = losses
                .row(i)
                .iter()
                .zip(losses.row(j).iter())
                .map(|(a, b)| match a.partial_cmp(b) {
                    Some(std::cmp::Ordering::Less) => 2,
                    Some(std::cmp::Ordering::Equal) => 1,
                    _ => 0,
                })
                .sum();
            let wins = twice_wins as f64 / (2 * images) as f64;
            w[(i, j)] = wins;
            w[(j, i)] = 1.0 - wins;
        }
    }
    Ok(w)
}

/// `W` with every entry clipped to `[W_MIN, W_MAX] = [0.001, 0.999]`. Clipping is symmetric about ½, so
/// it keeps `W[i,j] + W[j,i] = 1`.
pub fn clip(w: &DMatrix<f64>) -> DMatrix<f64> {
    w.map(|x| x.clamp(W_MIN, W_MAX))
}

/// `W' = W / Wᵀ` elementwise: `W'[i,j] = W[i,j] / W[j,i]`, positive and reciprocal for a clipped `W`.
pub fn ratio_matrix(w: &DMatrix<f64>) -> DMatrix<f64> {
    w.component_div(&w.transpose())
}

/// The Perron vector and root of a positive square matrix `A` (here `W'`), by power iteration:
/// `p₀ = 1/n`, `pₖ₊₁ = A pₖ / Σ(A pₖ)`, with `λ = Σ(A pₖ)` (since `Σ pₖ = 1`).
///
/// By the Perron–Frobenius theorem a positive matrix has a simple real eigenvalue `λ_max` strictly larger
/// in modulus than every other, with a positive eigenvector; power iteration converges to it from any
/// positive start, geometrically with ratio `|λ₂| / λ_max`. It stops when the relative residual
/// `‖A p − λ p‖₁ / λ` is at most `settings.tolerance`, and returns [`AffinityError::NotConverged`] after
/// `settings.max_iterations` products rather than an unconverged vector.
pub fn perron_vector(a: &DMatrix<f64>, settings: &PowerIteration) -> Result<Perron, AffinityError> {
    let (n, columns) = a.shape();
    if n != columns {
        return Err(AffinityError::NotSquare { rows: n, columns });
    }
    if n == 0 {
        return Err(AffinityError::Empty);
    }
    if let Some((index, &value)) = a
        .iter()
        .enumerate()
        .find(|(_, v)| !(v.is_finite() && **v > 0.0))
    {
        return Err(AffinityError::NotPositive {
            row: index % n,
            column: index / n,
            value,
        });
    }
    let mut p = DVector::from_element(n, 1.0 / n as f64);
    let mut residual = f64::INFINITY;
    for iteration in 1..=settings.max_iterations {
        let ap = a * &p;
        let lambda = ap.sum();
        residual = (&ap - &p * lambda).lp_norm(1) / lambda;
        p = ap / lambda;
        if residual <= settings.tolerance {
            return Ok(Perron {
                vector: p,
                eigenvalue: lambda,
                iterations: iteration,
            });
        }
    }
    Err(AffinityError::NotConverged {
        iterations: settings.max_iterations,
        residual,
        tolerance: settings.tolerance,
    })
}

/// Saaty's random index `RI(n)`: the mean consistency index of random reciprocal matrices of size `n`.
///
/// Saaty's table for `n ≤ 15`; beyond it the linear fit of Alonso & Lamata (2006) to the mean `λ_max` of
/// random matrices, `λ̄ = 2.7699 n − 4.3513`, i.e. `RI = (1.7699 n − 4.3513) / (n − 1)` (which gives 1.59
/// at `n = 15`, matching the table).
pub fn random_index(n: usize) -> f64 {
    const SAATY: [f64; 16] = [
        0.0, 0.0, 0.0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49, 1.51, 1.48, 1.56, 1.57, 1.59,
    ];
    match SAATY.get(n) {
        Some(&ri) => ri,
        None => (1.7699 * n as f64 - 4.3513) / (n as f64 - 1.0),
    }
}

/// Saaty's consistency ratio `CR = CI / RI(n)`, with the consistency index `CI = (λ_max − n) / (n − 1)`.
/// Reciprocal matrices of size 1 or 2 are always consistent, so `CR = 0` there.
pub fn consistency_ratio(eigenvalue: f64, n: usize) -> f64 {
    if n <= 2 {
        return 0.0;
    }
    let ci = (eigenvalue - n as f64) / (n as f64 - 1.0);
    // λ_max ≥ n for a positive reciprocal matrix; clamp the rounding error of a consistent one.
    (ci / random_index(n)).max(0.0)
}

/// The affinities of the sources (rows of `losses`) for one target from per-image test losses: all four
/// steps of the AHP, `W` → clip → `W'` → Perron vector. Invariant to scaling the losses.
pub fn from_losses(
    losses: &DMatrix<f64>,
    settings: &PowerIteration,
) -> Result<Affinities, AffinityError> {
    from_tournament(&tournament(losses)?, settings)
}

/// The affinities from measured win rates: `w[i,j]` is the fraction of images on which source `i` beats
/// source `j` (entries in `[0, 1]`; the diagonal is ignored). Steps 2–4 of the AHP. `W' = W / Wᵀ` is
/// reciprocal whether or not `w[i,j] + w[j,i] = 1`, so win rates measured pair by pair are accepted.
pub fn from_win_rates(
    w: &DMatrix<f64>,
    settings: &PowerIteration,
) -> Result<Affinities, AffinityError> {
    let (rows, columns) = w.shape();
    if rows != columns {
        return Err(AffinityError::NotSquare { rows, columns });
    }
    if let Some((index, &value)) = w
        .iter()
        .enumerate()
        .find(|(index, v)| index % rows != index / rows && !(0.0..=1.0).contains(*v))
    {
        return Err(AffinityError::BadEntry {
            what: "win rate",
            row: index % rows,
            column: index / rows,
            expected: "in [0, 1]",
            value,
        });
    }
    let mut w = w.clone();
    w.fill_diagonal(0.5);
    from_tournament(&w, settings)
}

/// The affinities from each source's win rate `qᵢ` against one common reference (the paper's released
/// form: wins against the target's own network, or against a network trained from scratch).
///
/// Read as a Bradley–Terry tournament: the reference has strength 1, source `i` has strength equal to
/// its odds against it, `sᵢ = qᵢ / (1 − qᵢ)` (with `qᵢ` clipped to `[0.001, 0.999]`), and
/// `W[i,j] = sᵢ / (sᵢ + sⱼ)`. Then `W'[i,j] = sᵢ / sⱼ` is consistent wherever `W` needs no clipping,
/// and the affinities are `sᵢ / Σ s`.
pub fn from_reference_wins(
    q: &DVector<f64>,
    settings: &PowerIteration,
) -> Result<Affinities, AffinityError> {
    if let Some((row, &value)) = q
        .iter()
        .enumerate()
        .find(|(_, v)| !(0.0..=1.0).contains(*v))
    {
        return Err(AffinityError::BadEntry {
            what: "win rate",
            row,
            column: 0,
            expected: "in [0, 1]",
            value,
        });
    }
    let strength = q.map(|q| {
        let q = q.clamp(W_MIN, W_MAX);
        q / (1.0 - q)
    });
    let n = q.len();
    let w = DMatrix::from_fn(n, n, |i, j| strength[i] / (strength[i] + strength[j]));
    from_tournament(&w, settings)
}

fn from_tournament(
    w: &DMatrix<f64>,
    settings: &PowerIteration,
) -> Result<Affinities, AffinityError> {
    let perron = perron_vector(&ratio_matrix(&clip(w)), settings)?;
    Ok(Affinities {
        consistency_ratio: consistency_ratio(perron.eigenvalue, w.nrows()),
        weights: perron.vector,
        eigenvalue: perron.eigenvalue,
        iterations: perron.iterations,
    })
}

/// A whole table of win rates against a common `reference` (e.g. `wins_vs_pixels.csv` with reference
/// `pixels`) turned into a table of affinities, target by target, with [`from_reference_wins`].
///
/// For each target, every row except the reference's own takes part (baselines such as `self` and
/// `random` included, as in the paper's affinity tables); the output has the same rows, in the same
/// order, with the affinity as value.
pub fn affinities_from_reference_wins(
    table: &Transfers,
    reference: &str,
    settings: &PowerIteration,
) -> Result<Transfers, AffinityError> {
    let mut by_target: BTreeMap<&str, Vec<&Transfer>> = BTreeMap::new();
    for row in table.rows() {
        if row.sources.len() == 1 && row.sources[0] == reference {
            continue;
        }
        if !(0.0..=1.0).contains(&row.value) {
            return Err(AffinityError::Table {
                origin: table.origin().to_owned(),
                line: row.line,
                message: format!(
                    "a win rate must lie in [0, 1], found {} for {} → {}",
                    row.value,
                    row.sources_label(),
                    row.target
                ),
            });
        }
        by_target.entry(&row.target).or_default().push(row);
    }
    let mut affinity_of_line = BTreeMap::new();
    for rows in by_target.values() {
        let q = DVector::from_iterator(rows.len(), rows.iter().map(|r| r.value));
        let affinities = from_reference_wins(&q, settings)?;
        for (row, weight) in rows.iter().zip(affinities.weights.iter()) {
            affinity_of_line.insert(row.line, *weight);
        }
    }
    let rows = table
        .rows()
        .iter()
        .filter_map(|row| {
            let value = *affinity_of_line.get(&row.line)?;
            Some(Transfer::new(&row.sources, &row.target, value))
        })
        .collect();
    Ok(Transfers::from_rows(table.origin(), rows)?)
}

#[cfg(test)]
mod tests {
    use nalgebra::{dmatrix, dvector};

    use super::*;

    #[test]
    fn tournament_counts_wins_and_half_ties() {
        let losses = dmatrix![1.0, 2.0, 3.0, 4.0;
                              2.0, 2.0, 1.0, 5.0];
        let w = tournament(&losses).unwrap();
        // Row 0 wins images 0 and 3, ties image 1, loses image 2: (2 + 0.5) / 4.
        assert_eq!(w[(0, 1)], 0.625);
        assert_eq!(w[(1, 0)], 0.375);
        assert_eq!(w[(0, 0)], 0.5);
    }

    #[test]
    fn a_nan_loss_is_named_by_row_and_column() {
        let losses = dmatrix![1.0, 2.0; 3.0, f64::NAN];
        let err = tournament(&losses).unwrap_err();
        assert!(
            matches!(
                err,
                AffinityError::BadEntry {
                    row: 1,
                    column: 1,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn clipping_keeps_the_reciprocal_sum() {
        let w = clip(&dmatrix![0.5, 1.0; 0.0, 0.5]);
        assert_eq!(w, dmatrix![0.5, 0.999; 0.001, 0.5]);
        let ratio = ratio_matrix(&w);
        assert!((ratio[(0, 1)] * ratio[(1, 0)] - 1.0).abs() < 1e-12);
    }

    #[test]
    fn non_convergence_is_an_error_not_an_answer() {
        let a = dmatrix![1.0, 9.0, 0.2; 1.0 / 9.0, 1.0, 7.0; 5.0, 1.0 / 7.0, 1.0];
        let settings = PowerIteration {
            tolerance: 1e-15,
            max_iterations: 2,
        };
        let err = perron_vector(&a, &settings).unwrap_err();
        assert!(
            matches!(err, AffinityError::NotConverged { iterations: 2, .. }),
            "{err}"
        );
    }

    #[test]
    fn a_non_positive_matrix_is_rejected() {
        let err =
            perron_vector(&dmatrix![1.0, 0.0; 1.0, 1.0], &PowerIteration::default()).unwrap_err();
        assert!(matches!(
            err,
            AffinityError::NotPositive {
                row: 0,
                column: 1,
                ..
            }
        ));
    }

    #[test]
    fn random_index_follows_saaty_then_the_fit() {
        assert_eq!(random_index(3), 0.58);
        assert_eq!(random_index(10), 1.49);
        assert!((random_index(16) - 1.6).abs() < 0.05);
        assert!(random_index(37) > random_index(16));
    }

    #[test]
    fn bradley_terry_reads_win_rates_as_odds() {
        // Odds 3, 1 and 1/3 against the reference.
        let a =
            from_reference_wins(&dvector![0.75, 0.5, 0.25], &PowerIteration::default()).unwrap();
        let expected = [9.0 / 13.0, 3.0 / 13.0, 1.0 / 13.0];
        for (got, want) in a.weights.iter().zip(expected) {
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
        assert!(a.consistency_ratio < 1e-12);
    }

    #[test]
    fn win_rates_outside_the_unit_interval_are_rejected() {
        let err =
            from_win_rates(&dmatrix![0.5, 1.5; 0.2, 0.5], &PowerIteration::default()).unwrap_err();
        assert!(matches!(
            err,
            AffinityError::BadEntry {
                row: 0,
                column: 1,
                ..
            }
        ));
        assert!(from_win_rates(&dmatrix![0.5, 0.5, 0.5], &PowerIteration::default()).is_err());
    }
}
