//! Linear models on frozen features in closed form: LogME's evidence and the ridge readout.
//!
//! Both work on the same decomposition. With the features `F` (`n` samples × `D` dimensions) and the
//! labels centred on their means (the intercept is left unpenalised), the thin singular value
//! decomposition `F = U Σ Vᵀ` (`r` positive singular values `σᵢ`) is computed once, from whichever Gram
//! matrix is smaller (`FᵀF`, `D × D`, or `FFᵀ`, `n × n`), and every label column `y` is summarised by its
//! projection `z = Uᵀy` and the part of `‖y‖²` outside the features' span. Everything below is then a sum
//! over the `r` singular values.
//!
//! The moments suffice: from the centred Gram matrix `F̃ᵀF̃ = VΣ²Vᵀ` and the cross moments `F̃ᵀy`,
//! `z = Σ⁻¹VᵀF̃ᵀy` ([`LinearFeatures::from_moments`], [`LinearFeatures::project_cross`]). A run uses them:
//! the features of all of a target's sources meet its labels in one matrix product
//! ([`features_by_labels`]), and each source set's moments are blocks of it.

use nalgebra::{DMatrix, DVector, SymmetricEigen};

use super::EstimateError;
use crate::model::kernels::gemm::{matmul, Strided};

/// The largest number of fixed-point iterations of [`LinearFeatures::evidence`]; MacKay's updates
/// converge in tens.
const MAX_ITERATIONS: usize = 1000;
/// The relative change of `α` and `β` at which the fixed point has converged.
const TOLERANCE: f64 = 1e-10;

/// Centred features and their singular value decomposition: what LogME and the ridge readout share across
/// every label column of a target.
#[derive(Clone, Debug)]
pub struct LinearFeatures {
    samples: usize,
    dims: usize,
    /// The mean feature vector, `D`.
    means: DVector<f64>,
    /// Left singular vectors with positive singular values, `n × r`: only when built from the samples
    /// ([`Self::new`]), not from their moments ([`Self::from_moments`]).
    left: Option<DMatrix<f64>>,
    /// Right singular vectors, `D × r`.
    right: DMatrix<f64>,
    /// `σᵢ²`, positive, `r` of them.
    sigma2: Vec<f64>,
}

/// A label column (or several sharing hyper-parameters) as the features see it.
#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    /// The column's mean, restored by a prediction.
    pub mean: f64,
    /// `z = Uᵀ(y − ȳ)`, `r` values.
    pub z: Vec<f64>,
    /// `‖y − ȳ‖² − ‖z‖²`: the squared norm of the part no linear model of the features can fit.
    pub outside: f64,
}

impl Projection {
    /// A column of mean `mean`, projection `z` and centred squared norm `centred`.
    fn new(mean: f64, z: Vec<f64>, centred: f64) -> Self {
        let inside: f64 = z.iter().map(|v| v * v).sum();
        Projection {
            mean,
            z,
            outside: (centred - inside).max(0.0),
        }
    }

    /// Whether the column is constant: no model of it has a finite evidence, and none is needed.
    pub fn is_constant(&self) -> bool {
        self.outside + self.z.iter().map(|v| v * v).sum::<f64>() <= f64::EPSILON
    }
}

/// The maximum of the evidence of a Bayesian linear model, LogME's score.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evidence {
    /// The prior precision of the weights, `w ~ N(0, α⁻¹ I)`.
    pub alpha: f64,
    /// The precision of the noise, `y = Fw + ε`, `ε ~ N(0, β⁻¹)`.
    pub beta: f64,
    /// `log p(y | F, α, β)` divided by the number of values (samples × columns): LogME.
    pub per_value: f64,
    /// Fixed-point iterations taken.
    pub iterations: usize,
}

impl Evidence {
    /// The ridge penalty this evidence implies: the posterior mean of the weights is the ridge solution
    /// with `λ = α / β`.
    pub fn ridge_lambda(&self) -> f64 {
        self.alpha / self.beta
    }
}

/// A fitted linear readout: `ŷ = xᵀW + b`.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearReadout {
    /// `D × K` weights.
    pub weights: DMatrix<f64>,
    /// `K` intercepts.
    pub bias: DVector<f64>,
}

impl LinearReadout {
    /// The `K` outputs for one feature vector.
    pub fn predict(&self, x: &[f64], out: &mut [f64]) {
        for (k, value) in out.iter_mut().enumerate() {
            *value = self.bias[k]
                + x.iter()
                    .enumerate()
                    .map(|(d, &v)| v * self.weights[(d, k)])
                    .sum::<f64>();
        }
    }

    /// Outputs per feature vector.
    pub fn outputs(&self) -> usize {
        self.bias.len()
    }
}

impl LinearFeatures {
    /// Centres `rows` (`samples × dims`, row-major) and decomposes them.
    pub fn new(rows: &[f64], samples: usize, dims: usize) -> Result<Self, EstimateError> {
        if samples < 2 || dims == 0 || rows.len() != samples * dims {
            return Err(EstimateError::Shape(format!(
                "features: expected at least 2 samples of at least 1 dimension in {} values, found \
                 {samples} × {dims}",
                rows.len()
            )));
        }
        if rows.iter().any(|v| !v.is_finite()) {
            return Err(EstimateError::NotFinite("a feature".into()));
        }
        let mut f = DMatrix::from_row_slice(samples, dims, rows);
        let means = DVector::from_iterator(dims, f.column_iter().map(|c| c.mean()));
        for (d, mut column) in f.column_iter_mut().enumerate() {
            column.add_scalar_mut(-means[d]);
        }
        if dims <= samples {
            // `tr_mul` forms FᵀF from dot products of F's columns, without materialising Fᵀ.
            let mut features = Self::from_moments(samples, means, f.tr_mul(&f))?;
            // U = F V Σ⁻¹.
            let mut left = &f * &features.right;
            for (mut column, s2) in left.column_iter_mut().zip(&features.sigma2) {
                column /= s2.sqrt();
            }
            features.left = Some(left);
            return Ok(features);
        }
        // More dimensions than samples: the eigenvectors of FFᵀ are U, and V = FᵀUΣ⁻¹.
        let (sigma2, left) = positive_eigen(&f * f.transpose());
        let mut right = f.transpose() * &left;
        for (mut column, s2) in right.column_iter_mut().zip(&sigma2) {
            column /= s2.sqrt();
        }
        Ok(LinearFeatures {
            samples,
            dims,
            means,
            left: Some(left),
            right,
            sigma2,
        })
    }

    /// The features of `samples` samples known only by their moments: their mean `x̄` and their centred
    /// Gram matrix `F̃ᵀF̃ = Σᵢ (xᵢ − x̄)(xᵢ − x̄)ᵀ` (`D × D`). Enough for LogME and the ridge readout, with
    /// the labels' cross moments ([`Self::project_cross`]); leave-one-out needs the samples themselves.
    pub fn from_moments(
        samples: usize,
        means: DVector<f64>,
        centred_gram: DMatrix<f64>,
    ) -> Result<Self, EstimateError> {
        let dims = means.len();
        if samples < 2 || dims == 0 || centred_gram.shape() != (dims, dims) {
            return Err(EstimateError::Shape(format!(
                "moments: expected at least 2 samples and a {dims} × {dims} Gram matrix, found {samples} \
                 samples and {:?}",
                centred_gram.shape()
            )));
        }
        if centred_gram
            .iter()
            .chain(means.iter())
            .any(|v| !v.is_finite())
        {
            return Err(EstimateError::NotFinite("a feature moment".into()));
        }
        let (sigma2, right) = positive_eigen(centred_gram);
        Ok(LinearFeatures {
            samples,
            dims,
            means,
            left: None,
            right,
            sigma2,
        })
    }

    /// Samples `n`.
    pub fn samples(&self) -> usize {
        self.samples
    }

    /// Dimensions `D`.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// The centred Gram matrix `F̃ᵀF̃ = V diag(σ²) Vᵀ`.
    pub fn centred_gram(&self) -> DMatrix<f64> {
        let scaled = DMatrix::from_fn(self.dims, self.sigma2.len(), |d, i| {
            self.right[(d, i)] * self.sigma2[i]
        });
        scaled * self.right.transpose()
    }

    /// The squared singular values `σᵢ²` of the centred features.
    pub fn sigma2(&self) -> &[f64] {
        &self.sigma2
    }

    /// Projects label columns (`samples × K`, column `k` of sample `i` at `i·K + k`) onto the features.
    pub fn project(
        &self,
        labels: &[f64],
        columns: usize,
    ) -> Result<Vec<Projection>, EstimateError> {
        if columns == 0 || labels.len() != self.samples * columns {
            return Err(EstimateError::Shape(format!(
                "labels: expected {} samples × {columns} columns, found {} values",
                self.samples,
                labels.len()
            )));
        }
        self.project_columns(&DMatrix::from_row_slice(self.samples, columns, labels))
    }

    /// Projects the columns of `labels` (`samples × K`) onto the features, all in one product.
    pub fn project_columns(&self, labels: &DMatrix<f64>) -> Result<Vec<Projection>, EstimateError> {
        if labels.nrows() != self.samples {
            return Err(EstimateError::Shape(format!(
                "labels: expected {} samples, found {}",
                self.samples,
                labels.nrows()
            )));
        }
        if labels.iter().any(|v| !v.is_finite()) {
            return Err(EstimateError::NotFinite("a label".into()));
        }
        // U's columns are orthogonal to the constant vector (they span centred features), so
        // Uᵀ(y − ȳ1) = Uᵀy: the labels need no centring.
        let z = self.left()?.tr_mul(labels);
        let n = self.samples as f64;
        Ok(labels
            .column_iter()
            .zip(z.column_iter())
            .map(|(y, z)| {
                let mean = y.mean();
                let centred = (y.norm_squared() - n * mean * mean).max(0.0);
                Projection::new(mean, z.iter().copied().collect(), centred)
            })
            .collect())
    }

    /// Projects one-hot labels without building them: `classes` holds, for each sample, the class of each
    /// of its `per_row` pixels, and column `j·count + c` is the indicator of class `c` at pixel `j`. One
    /// pass over the samples, however many classes.
    pub fn project_classes(
        &self,
        classes: &[usize],
        per_row: usize,
        count: usize,
    ) -> Result<Vec<Projection>, EstimateError> {
        if classes.len() != self.samples * per_row {
            return Err(EstimateError::Shape(format!(
                "classes: expected {} samples × {per_row} pixels, found {} values",
                self.samples,
                classes.len()
            )));
        }
        if let Some(bad) = classes.iter().find(|&&c| c >= count) {
            return Err(EstimateError::Shape(format!(
                "class {bad} of a task with {count} classes"
            )));
        }
        let left = self.left()?;
        let (r, columns) = (self.sigma2.len(), per_row * count);
        let mut z = vec![0.0; columns * r];
        let mut counts = vec![0.0; columns];
        for (i, row_classes) in classes.chunks_exact(per_row).enumerate() {
            for (j, &class) in row_classes.iter().enumerate() {
                let column = j * count + class;
                counts[column] += 1.0;
                for (k, value) in z[column * r..(column + 1) * r].iter_mut().enumerate() {
                    *value += left[(i, k)];
                }
            }
        }
        let n = self.samples as f64;
        Ok(counts
            .iter()
            .zip(z.chunks_exact(r.max(1)).chain(std::iter::repeat(&[][..])))
            .map(|(&ones, z)| {
                // An indicator's squares are itself: ‖y − ȳ‖² = ones − ones²/n.
                Projection::new(ones / n, z.to_vec(), (ones - ones * ones / n).max(0.0))
            })
            .collect())
    }

    /// Projects label columns known by their moments: `cross = F̃ᵀ(Y − 1ȳᵀ)` (`D × K`, the centred
    /// cross moments), the columns' means `ȳ` and centred squared norms `‖y − ȳ‖²`. Since `F̃ = UΣVᵀ`,
    /// `z = Uᵀy = Σ⁻¹Vᵀ F̃ᵀy`.
    pub fn project_cross(
        &self,
        cross: &DMatrix<f64>,
        means: &[f64],
        centred: &[f64],
    ) -> Result<Vec<Projection>, EstimateError> {
        let columns = cross.ncols();
        if cross.nrows() != self.dims || means.len() != columns || centred.len() != columns {
            return Err(EstimateError::Shape(format!(
                "cross moments: expected {} × K with K means and norms, found {:?}, {} and {}",
                self.dims,
                cross.shape(),
                means.len(),
                centred.len()
            )));
        }
        let mut z = self.right.tr_mul(cross);
        for (mut row, s2) in z.row_iter_mut().zip(&self.sigma2) {
            row /= s2.sqrt();
        }
        Ok((0..columns)
            .map(|k| Projection::new(means[k], z.column(k).iter().copied().collect(), centred[k]))
            .collect())
    }

    fn left(&self) -> Result<&DMatrix<f64>, EstimateError> {
        self.left.as_ref().ok_or_else(|| {
            EstimateError::Shape(
                "features known by their moments only: this needs the samples (LinearFeatures::new)"
                    .into(),
            )
        })
    }

    /// LogME (You et al., ICML 2021): the evidence of the Bayesian linear model `y = Fw + ε`,
    /// `w ~ N(0, α⁻¹I)`, `ε ~ N(0, β⁻¹I)`, maximised over `α` and `β`, for the columns `outputs`, which
    /// share `α` and `β` (one column: LogME exactly as published; the pixels of a dense channel: one
    /// model per channel).
    ///
    /// For one column, with `A = αI + βFᵀF` and the posterior mean `m = βA⁻¹Fᵀy`,
    ///
    /// `log p(y|F,α,β) = n/2 log β + D/2 log α − n/2 log 2π − β/2 ‖Fm − y‖² − α/2 ‖m‖² − ½ log |A|`,
    ///
    /// and in terms of the decomposition, `mᵢ = βσᵢzᵢ / (α + βσᵢ²)`, `‖Fm − y‖² = Σᵢ (αzᵢ / (α + βσᵢ²))² +
    /// outside`, `log |A| = D log α + Σᵢ log(1 + βσᵢ²/α)`. MacKay's fixed point maximises it: with
    /// `γ = Σᵢ βσᵢ² / (α + βσᵢ²)` (the effective number of parameters), `α ← Kγ / Σₖ ‖mₖ‖²` and
    /// `β ← K(n − γ) / Σₖ ‖Fmₖ − yₖ‖²` over the `K` columns. Returns the maximum divided by `n·K`.
    pub fn evidence(&self, outputs: &[Projection]) -> Result<Evidence, EstimateError> {
        if outputs.is_empty() || outputs.iter().all(Projection::is_constant) {
            return Err(EstimateError::Shape(
                "the evidence of constant labels is unbounded: leave them out".into(),
            ));
        }
        let n = self.samples as f64;
        let k = outputs.len() as f64;
        let (mut alpha, mut beta) = (1.0, 1.0);
        let mut iterations = 0;
        while iterations < MAX_ITERATIONS {
            iterations += 1;
            let gamma: f64 = self
                .sigma2
                .iter()
                .map(|&s2| beta * s2 / (alpha + beta * s2))
                .sum();
            let (m2, residual2) = self.fit_terms(outputs, alpha, beta);
            // Labels orthogonal to the features push α to infinity (w = 0); a perfect fit pushes β there.
            let next_alpha = (k * gamma / m2).clamp(1e-12, 1e12);
            let next_beta = (k * (n - gamma) / residual2).clamp(1e-12, 1e12);
            let converged = ((next_alpha - alpha) / alpha).abs() < TOLERANCE
                && ((next_beta - beta) / beta).abs() < TOLERANCE;
            (alpha, beta) = (next_alpha, next_beta);
            if converged {
                break;
            }
        }
        let per_value = self.log_evidence(outputs, alpha, beta) / (n * k);
        if !per_value.is_finite() {
            return Err(EstimateError::NotFinite("the evidence".into()));
        }
        Ok(Evidence {
            alpha,
            beta,
            per_value,
            iterations,
        })
    }

    /// `Σₖ log p(yₖ | F, α, β)` over the columns `outputs`, in closed form (see [`Self::evidence`]).
    pub fn log_evidence(&self, outputs: &[Projection], alpha: f64, beta: f64) -> f64 {
        let n = self.samples as f64;
        let (m2, residual2) = self.fit_terms(outputs, alpha, beta);
        // D/2 log α − ½ log|A| = −½ Σᵢ log(1 + βσᵢ²/α): the directions without variance add nothing.
        let log_det: f64 = self
            .sigma2
            .iter()
            .map(|&s2| (beta * s2 / alpha).ln_1p())
            .sum();
        let k = outputs.len() as f64;
        k * (n / 2.0 * beta.ln() - n / 2.0 * (2.0 * std::f64::consts::PI).ln() - log_det / 2.0)
            - beta / 2.0 * residual2
            - alpha / 2.0 * m2
    }

    /// `(Σₖ ‖mₖ‖², Σₖ ‖Fmₖ − yₖ‖²)` at `(α, β)`.
    fn fit_terms(&self, outputs: &[Projection], alpha: f64, beta: f64) -> (f64, f64) {
        let (mut m2, mut residual2) = (0.0, 0.0);
        for output in outputs {
            for (&s2, &z) in self.sigma2.iter().zip(&output.z) {
                let denominator = alpha + beta * s2;
                m2 += (beta * s2.sqrt() * z / denominator).powi(2);
                residual2 += (alpha * z / denominator).powi(2);
            }
            residual2 += output.outside;
        }
        (m2, residual2)
    }

    /// The ridge readout of the columns `outputs`: `W = argmin ‖FW + 1bᵀ − Y‖² + λ‖W‖²` with the
    /// intercept `b` unpenalised, in closed form: `W = V diag(σᵢ / (σᵢ² + λ)) Z`, `b = ȳ − Wᵀx̄`.
    pub fn ridge(&self, outputs: &[Projection], lambda: f64) -> LinearReadout {
        let r = self.sigma2.len();
        let shrunk = DMatrix::from_fn(r, outputs.len(), |i, k| {
            self.sigma2[i].sqrt() * outputs[k].z[i] / (self.sigma2[i] + lambda)
        });
        let weights = &self.right * shrunk;
        let means = DVector::from_iterator(outputs.len(), outputs.iter().map(|o| o.mean));
        let bias = means - weights.transpose() * &self.means;
        LinearReadout { weights, bias }
    }

    /// The penalty among `grid` with the smallest leave-one-out error of the ridge readout of
    /// `outputs` (summed over the columns), and that error per value. Exact, without refitting: the
    /// residual of sample `i` left out is `eᵢ / (1 − hᵢᵢ)`, with `eᵢ` its residual in the fit on all
    /// samples and `hᵢᵢ = 1/n + Σⱼ Uᵢⱼ² σⱼ² / (σⱼ² + λ)` the leverage (the `1/n` is the intercept's).
    pub fn leave_one_out(
        &self,
        outputs: &[Projection],
        labels: &[f64],
        grid: &[f64],
    ) -> Result<(f64, f64), EstimateError> {
        let left = self.left()?;
        let (n, columns) = (self.samples, outputs.len());
        if labels.len() != n * columns {
            return Err(EstimateError::Shape(format!(
                "labels: expected {n} samples × {columns} columns, found {} values",
                labels.len()
            )));
        }
        let mut best = (f64::NAN, f64::INFINITY);
        for &lambda in grid {
            let shrink: Vec<f64> = self.sigma2.iter().map(|&s2| s2 / (s2 + lambda)).collect();
            let mut error = 0.0;
            for i in 0..n {
                let row = left.row(i);
                let leverage =
                    1.0 / n as f64 + row.iter().zip(&shrink).map(|(u, s)| u * u * s).sum::<f64>();
                for (k, output) in outputs.iter().enumerate() {
                    let fitted = output.mean
                        + row
                            .iter()
                            .zip(&shrink)
                            .zip(&output.z)
                            .map(|((u, s), z)| u * s * z)
                            .sum::<f64>();
                    let residual = labels[i * columns + k] - fitted;
                    error += (residual / (1.0 - leverage).max(f64::EPSILON)).powi(2);
                }
            }
            let error = error / (n * columns) as f64;
            if error < best.1 {
                best = (lambda, error);
            }
        }
        Ok(best)
    }

    /// Penalties to search by leave-one-out: from 10⁻⁶ to 10² times the mean `σᵢ²`, 17 of them.
    pub fn lambda_grid(&self) -> Vec<f64> {
        let scale = self.sigma2.iter().sum::<f64>() / self.sigma2.len().max(1) as f64;
        (0..17)
            .map(|i| scale.max(f64::MIN_POSITIVE) * 10f64.powf(-6.0 + 0.5 * i as f64))
            .collect()
    }
}

/// `FᵀY` for features `F` (`samples × dims`, column-major, as nalgebra stores a matrix) and labels `Y`
/// (`samples × K`): the one large product a target's estimates share, when the features of all its
/// sources sit side by side (the `gemm` crate's, on every core).
pub fn features_by_labels(
    features: &[f64],
    samples: usize,
    labels: &DMatrix<f64>,
) -> Result<DMatrix<f64>, EstimateError> {
    let dims = features.len() / samples.max(1);
    if labels.nrows() != samples || features.len() != samples * dims {
        return Err(EstimateError::Shape(format!(
            "features of {} values and labels of {} rows for {samples} samples",
            features.len(),
            labels.nrows()
        )));
    }
    let columns = labels.ncols();
    let mut product = vec![0.0; dims * columns];
    matmul(
        &mut product,
        Strided::columns(features, samples, dims).t(),
        Strided::columns(labels.as_slice(), samples, columns),
        false,
    );
    Ok(DMatrix::from_row_slice(dims, columns, &product))
}

/// The eigenpairs of a symmetric positive semi-definite matrix whose eigenvalue is positive (above
/// rounding noise): `(values, vectors as columns)`.
fn positive_eigen(gram: DMatrix<f64>) -> (Vec<f64>, DMatrix<f64>) {
    let size = gram.nrows();
    let eigen = SymmetricEigen::new(gram);
    let largest = eigen.eigenvalues.iter().copied().fold(0.0, f64::max);
    let floor = largest * f64::EPSILON * size.max(1) as f64 * 16.0;
    let kept: Vec<usize> = (0..eigen.eigenvalues.len())
        .filter(|&i| eigen.eigenvalues[i] > floor)
        .collect();
    let values = kept.iter().map(|&i| eigen.eigenvalues[i]).collect();
    (values, eigen.eigenvectors.select_columns(&kept))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The log density of `y ~ N(0, α⁻¹ffᵀ + β⁻¹I)`, the marginal likelihood of a one-dimensional
    /// Bayesian linear model, computed directly from the covariance matrix.
    fn direct_log_evidence(f: &[f64], y: &[f64], alpha: f64, beta: f64) -> f64 {
        let n = f.len();
        let fv = DVector::from_column_slice(f);
        let cov = &fv * fv.transpose() / alpha + DMatrix::identity(n, n) / beta;
        let yv = DVector::from_column_slice(y);
        let cholesky = cov.cholesky().expect("a covariance is positive definite");
        let log_det = 2.0 * cholesky.l().diagonal().iter().map(|v| v.ln()).sum::<f64>();
        let quadratic = yv.dot(&cholesky.solve(&yv));
        -0.5 * (n as f64 * (2.0 * std::f64::consts::PI).ln() + log_det + quadratic)
    }

    #[test]
    fn evidence_in_closed_form_is_the_marginal_likelihood() {
        // Already centred, so the closed form sees exactly these values.
        let f = [1.0, -1.0, 2.0, -2.0, 0.5, -0.5];
        let y = [1.1, -0.9, 2.2, -2.4, 0.3, -0.3];
        let features = LinearFeatures::new(&f, 6, 1).unwrap();
        let outputs = features.project(&y, 1).unwrap();
        for (alpha, beta) in [(1.0, 1.0), (0.3, 7.0), (20.0, 0.05)] {
            let closed = features.log_evidence(&outputs, alpha, beta);
            let direct = direct_log_evidence(&f, &y, alpha, beta);
            assert!((closed - direct).abs() < 1e-10, "{closed} vs {direct}");
        }
    }

    #[test]
    fn logme_in_one_dimension_is_the_maximum_of_the_evidence() {
        let f = [1.0, -1.0, 2.0, -2.0, 0.5, -0.5];
        let y = [1.1, -0.9, 2.2, -2.4, 0.3, -0.3];
        let features = LinearFeatures::new(&f, 6, 1).unwrap();
        let outputs = features.project(&y, 1).unwrap();
        let best = features.evidence(&outputs).unwrap();
        // In one dimension the fixed point can be checked by hand: ‖f‖² = 10.5, fᵀy = 11.5, ‖y‖² = 12.8.
        // At the optimum, α = γ/m² and β = (n − γ)/‖fm − y‖² with m = βfᵀy/(α + β‖f‖²).
        let m = best.beta * 11.5 / (best.alpha + best.beta * 10.5);
        let gamma = best.beta * 10.5 / (best.alpha + best.beta * 10.5);
        let residual = 12.8 - 2.0 * m * 11.5 + m * m * 10.5;
        assert!((best.alpha - gamma / (m * m)).abs() < 1e-6 * best.alpha);
        assert!((best.beta - (6.0 - gamma) / residual).abs() < 1e-6 * best.beta);
        // ... and it is the maximum of the direct marginal likelihood over (α, β).
        let peak = direct_log_evidence(&f, &y, best.alpha, best.beta);
        assert!((best.per_value * 6.0 - peak).abs() < 1e-9);
        for (da, db) in [(1.1, 1.0), (0.9, 1.0), (1.0, 1.1), (1.0, 0.9), (1.2, 0.8)] {
            assert!(direct_log_evidence(&f, &y, best.alpha * da, best.beta * db) < peak);
        }
    }

    #[test]
    fn more_informative_features_have_more_evidence() {
        let n = 40;
        let x: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
        let noise: Vec<f64> = (0..n).map(|i| (i as f64 * 1.91).cos()).collect();
        let y: Vec<f64> = x
            .iter()
            .map(|v| 2.0 * v + 0.01 * (v * 31.0).sin())
            .collect();
        let logme = |f: &[f64]| {
            let features = LinearFeatures::new(f, n, 1).unwrap();
            features
                .evidence(&features.project(&y, 1).unwrap())
                .unwrap()
                .per_value
        };
        assert!(logme(&x) > logme(&noise) + 1.0);
    }

    /// Ridge by gradient descent on `‖Fw + b − y‖² + λ‖w‖²`.
    fn ridge_by_descent(f: &DMatrix<f64>, y: &DVector<f64>, lambda: f64) -> (DVector<f64>, f64) {
        let (n, d) = f.shape();
        let (mut w, mut b) = (DVector::zeros(d), 0.0);
        let step = 1.0 / (2.0 * (f.norm_squared() + n as f64 + lambda));
        for _ in 0..200_000 {
            let residual = f * &w + DVector::repeat(n, b) - y;
            let grad_w = 2.0 * (f.transpose() * &residual + lambda * &w);
            let grad_b = 2.0 * residual.sum();
            w -= step * grad_w;
            b -= step * grad_b;
        }
        (w, b)
    }

    #[test]
    fn ridge_closed_form_matches_gradient_descent() {
        let (n, d) = (12, 3);
        let rows: Vec<f64> = (0..n * d)
            .map(|i| ((i * 7 + 3) % 11) as f64 / 5.0 - 1.0)
            .collect();
        let f = DMatrix::from_row_slice(n, d, &rows);
        let y = DVector::from_fn(n, |i, _| {
            1.5 * f[(i, 0)] - 0.5 * f[(i, 2)] + 0.3 + ((i * 5) % 3) as f64 * 0.1
        });
        let features = LinearFeatures::new(&rows, n, d).unwrap();
        let outputs = features.project(y.as_slice(), 1).unwrap();
        for lambda in [0.0, 0.5, 4.0] {
            let closed = features.ridge(&outputs, lambda);
            let (w, b) = ridge_by_descent(&f, &y, lambda);
            for k in 0..d {
                assert!((closed.weights[(k, 0)] - w[k]).abs() < 1e-6, "λ = {lambda}");
            }
            assert!((closed.bias[0] - b).abs() < 1e-6, "λ = {lambda}");
        }
    }

    #[test]
    fn more_dimensions_than_samples_take_the_dual() {
        // 3 samples in 5 dimensions: the ridge solution is still the minimiser, through FFᵀ.
        let rows = [
            1.0, 0.0, 2.0, -1.0, 0.5, //
            0.0, 1.0, -1.0, 0.0, 1.5, //
            2.0, 1.0, 0.0, 1.0, -0.5,
        ];
        let y = [1.0, -2.0, 0.5];
        let features = LinearFeatures::new(&rows, 3, 5).unwrap();
        assert_eq!(
            features.sigma2().len(),
            2,
            "three centred samples span two dimensions"
        );
        let outputs = features.project(&y, 1).unwrap();
        let f = DMatrix::from_row_slice(3, 5, &rows);
        let (w, b) = ridge_by_descent(&f, &DVector::from_column_slice(&y), 0.7);
        let closed = features.ridge(&outputs, 0.7);
        for k in 0..5 {
            assert!((closed.weights[(k, 0)] - w[k]).abs() < 1e-6);
        }
        assert!((closed.bias[0] - b).abs() < 1e-6);
    }

    #[test]
    fn leave_one_out_errors_are_those_of_refitting_without_the_sample() {
        let (n, d) = (9, 2);
        let rows: Vec<f64> = (0..n * d).map(|i| ((i * 5 + 1) % 7) as f64 - 3.0).collect();
        let y: Vec<f64> = (0..n)
            .map(|i| rows[i * d] * 0.8 - rows[i * d + 1] + (i % 3) as f64)
            .collect();
        let lambda = 1.3;
        let features = LinearFeatures::new(&rows, n, d).unwrap();
        let (_, shortcut) = features
            .leave_one_out(&features.project(&y, 1).unwrap(), &y, &[lambda])
            .unwrap();
        let mut refitted = 0.0;
        for left_out in 0..n {
            let keep: Vec<usize> = (0..n).filter(|&i| i != left_out).collect();
            let sub_rows: Vec<f64> = keep
                .iter()
                .flat_map(|&i| rows[i * d..(i + 1) * d].to_vec())
                .collect();
            let sub_y: Vec<f64> = keep.iter().map(|&i| y[i]).collect();
            let sub = LinearFeatures::new(&sub_rows, n - 1, d).unwrap();
            let readout = sub.ridge(&sub.project(&sub_y, 1).unwrap(), lambda);
            let mut predicted = [0.0];
            readout.predict(&rows[left_out * d..(left_out + 1) * d], &mut predicted);
            refitted += (y[left_out] - predicted[0]).powi(2);
        }
        assert!((shortcut - refitted / n as f64).abs() < 1e-9);
    }

    #[test]
    fn one_hot_projections_match_the_built_columns() {
        let rows: Vec<f64> = (0..16).map(|i| ((i * 7) % 5) as f64 - 2.0).collect();
        let features = LinearFeatures::new(&rows, 8, 2).unwrap();
        // Two pixels per sample, three classes.
        let classes = [0, 2, 1, 1, 2, 0, 0, 0, 1, 2, 2, 2, 0, 1, 1, 0];
        let mut built = vec![0.0; 8 * 6];
        for (i, pixels) in classes.chunks(2).enumerate() {
            for (j, &c) in pixels.iter().enumerate() {
                built[i * 6 + j * 3 + c] = 1.0;
            }
        }
        let direct = features.project(&built, 6).unwrap();
        let scattered = features.project_classes(&classes, 2, 3).unwrap();
        for (a, b) in direct.iter().zip(&scattered) {
            assert!((a.mean - b.mean).abs() < 1e-12 && (a.outside - b.outside).abs() < 1e-9);
            for (x, y) in a.z.iter().zip(&b.z) {
                assert!((x - y).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn moments_give_the_projections_and_readouts_of_the_samples() {
        let (n, d) = (10, 3);
        let rows: Vec<f64> = (0..n * d)
            .map(|i| ((i * 11 + 4) % 13) as f64 / 4.0)
            .collect();
        let y: Vec<f64> = (0..n * 2).map(|i| ((i * 5 + 2) % 7) as f64).collect();
        let samples = LinearFeatures::new(&rows, n, d).unwrap();
        let direct = samples.project(&y, 2).unwrap();
        let f = DMatrix::from_row_slice(n, d, &rows);
        let means = DVector::from_iterator(d, f.column_iter().map(|c| c.mean()));
        let centred = DMatrix::from_fn(n, d, |i, j| f[(i, j)] - means[j]);
        let labels = DMatrix::from_row_slice(n, 2, &y);
        let label_means: Vec<f64> = labels.column_iter().map(|c| c.mean()).collect();
        let norms: Vec<f64> = labels
            .column_iter()
            .zip(&label_means)
            .map(|(c, m)| c.iter().map(|v| (v - m).powi(2)).sum())
            .collect();
        let moments = LinearFeatures::from_moments(n, means, centred.tr_mul(&centred)).unwrap();
        let cross = moments
            .project_cross(&centred.tr_mul(&labels), &label_means, &norms)
            .unwrap();
        for (a, b) in direct.iter().zip(&cross) {
            assert!((a.outside - b.outside).abs() < 1e-9 && (a.mean - b.mean).abs() < 1e-12);
            // Singular vectors are defined up to sign: compare the energies.
            for (x, y) in a.z.iter().zip(&b.z) {
                assert!((x.abs() - y.abs()).abs() < 1e-9);
            }
        }
        let (r1, r2) = (samples.ridge(&direct, 0.4), moments.ridge(&cross, 0.4));
        assert!((r1.weights - r2.weights).abs().max() < 1e-9);
        assert!((r1.bias - r2.bias).abs().max() < 1e-9);
        assert_eq!(
            samples.evidence(&direct).unwrap().per_value,
            samples.evidence(&direct).unwrap().per_value
        );
        let (e1, e2) = (
            samples.evidence(&direct).unwrap(),
            moments.evidence(&cross).unwrap(),
        );
        assert!((e1.per_value - e2.per_value).abs() < 1e-9);
        assert!(moments.project(&y, 2).is_err(), "no samples to project");
    }

    #[test]
    fn the_shared_product_is_the_matrix_product() {
        let f = DMatrix::from_fn(7, 3, |i, j| (i * 3 + j) as f64 - 4.0);
        let y = DMatrix::from_fn(7, 2, |i, k| ((i + 2 * k) % 5) as f64);
        let product = features_by_labels(f.as_slice(), 7, &y).unwrap();
        assert!((product - f.tr_mul(&y)).abs().max() < 1e-12);
        assert!(features_by_labels(f.as_slice(), 6, &y).is_err());
    }

    #[test]
    fn bad_shapes_and_values_are_errors() {
        assert!(LinearFeatures::new(&[1.0, 2.0], 1, 2).is_err());
        assert!(LinearFeatures::new(&[1.0, f64::NAN, 2.0, 3.0], 2, 2).is_err());
        let features = LinearFeatures::new(&[1.0, 2.0, 3.0], 3, 1).unwrap();
        assert!(features.project(&[1.0, 2.0], 1).is_err());
        let constant = features.project(&[4.0, 4.0, 4.0], 1).unwrap();
        assert!(constant[0].is_constant());
        assert!(features.evidence(&constant).is_err());
    }
}
