//! H-score (Bao et al., ICIP 2019): how well the features separate a classification target's classes.

use nalgebra::{DMatrix, DVector, SymmetricEigen};

use super::EstimateError;

/// Eigenvalues of the feature covariance below this fraction of the largest are treated as zero: the
/// pseudo-inverse leaves directions without variance out instead of dividing by rounding noise.
const RELATIVE_FLOOR: f64 = 1e-10;

/// One sample's membership of a class, with a weight: a pixel class per pixel of a token's patch puts the
/// token in several classes, each weighted by the pixels it covers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Membership {
    /// The sample's row in the features.
    pub sample: usize,
    /// The class.
    pub class: usize,
    /// How much of the sample is in the class (pixels, or 1).
    pub weight: f64,
}

/// `H(f) = tr(cov(f)⁺ cov(E[f | y]))`: the between-class covariance of the features, measured in the
/// units of their total covariance (the pseudo-inverse where features are collinear). Between 0 (the
/// class means coincide) and `classes − 1` (the features determine the class). Both covariances are
/// taken over the memberships, so a sample counts in proportion to its weight.
pub fn hscore(
    features: &[f64],
    samples: usize,
    dims: usize,
    memberships: &[Membership],
) -> Result<f64, EstimateError> {
    if dims == 0 || features.len() != samples * dims {
        return Err(EstimateError::Shape(format!(
            "features: expected {samples} samples × {dims} dimensions, found {} values",
            features.len()
        )));
    }
    if features.iter().any(|v| !v.is_finite()) {
        return Err(EstimateError::NotFinite("a feature".into()));
    }
    if let Some(bad) = memberships
        .iter()
        .find(|m| m.sample >= samples || !(m.weight.is_finite() && m.weight >= 0.0))
    {
        return Err(EstimateError::Shape(format!(
            "a class membership of sample {} with weight {} (samples: {samples})",
            bad.sample, bad.weight
        )));
    }
    let total: f64 = memberships.iter().map(|m| m.weight).sum();
    if total <= 0.0 {
        return Err(EstimateError::Shape("no labelled sample".into()));
    }
    let row = |i: usize| &features[i * dims..(i + 1) * dims];
    let classes = memberships.iter().map(|m| m.class + 1).max().unwrap_or(0);
    let mut class_weight = vec![0.0; classes];
    let mut class_sum = vec![0.0; classes * dims];
    let mut sample_weight = vec![0.0; samples];
    for m in memberships {
        class_weight[m.class] += m.weight;
        for (sum, &x) in class_sum[m.class * dims..][..dims]
            .iter_mut()
            .zip(row(m.sample))
        {
            *sum += m.weight * x;
        }
        sample_weight[m.sample] += m.weight;
    }
    let mut mean = DVector::<f64>::zeros(dims);
    for sums in class_sum.chunks_exact(dims) {
        mean += DVector::from_column_slice(sums);
    }
    mean /= total;
    // cov(f) = E[ffᵀ] − μμᵀ over the weighted samples, accumulated as one weighted Gram matrix.
    let weighted = DMatrix::from_fn(samples, dims, |i, d| {
        sample_weight[i].sqrt() * features[i * dims + d]
    });
    let covariance = weighted.tr_mul(&weighted) / total - &mean * mean.transpose();
    let classes: Vec<(f64, DVector<f64>)> = class_sum
        .chunks_exact(dims)
        .zip(&class_weight)
        .map(|(sums, &w)| (w, DVector::from_column_slice(sums) - &mean * w))
        .collect();
    hscore_from_moments(&covariance, &classes)
}

/// H-score from moments: the features' covariance `cov(f)`, and per class its weight `w_c` and the sum
/// of its members' deviations from the mean, `w_c (μ_c − μ)`. `cov(E[f|y]) = Σ_c (w_c/W)(μ_c − μ)(μ_c −
/// μ)ᵀ` with `W = Σ_c w_c`.
pub fn hscore_from_moments(
    covariance: &DMatrix<f64>,
    classes: &[(f64, DVector<f64>)],
) -> Result<f64, EstimateError> {
    let dims = covariance.nrows();
    let total: f64 = classes.iter().map(|(w, _)| w).sum();
    if total <= 0.0 || classes.iter().any(|(_, d)| d.len() != dims) {
        return Err(EstimateError::Shape(
            "H-score: no labelled sample, or class sums of the wrong size".into(),
        ));
    }
    let mut between = DMatrix::<f64>::zeros(dims, dims);
    for (w, deviation) in classes.iter().filter(|(w, _)| *w > 0.0) {
        let centred = deviation / *w;
        between += &centred * centred.transpose() * (w / total);
    }
    let eigen = SymmetricEigen::new(covariance.clone());
    let largest = eigen.eigenvalues.iter().copied().fold(0.0, f64::max);
    if largest <= 0.0 {
        return Ok(0.0);
    }
    // tr(Σ⁺B) = Σᵢ vᵢᵀBvᵢ / λᵢ over the eigenpairs of Σ with λᵢ above the floor.
    Ok(eigen
        .eigenvalues
        .iter()
        .zip(eigen.eigenvectors.column_iter())
        .filter(|(&l, _)| l > largest * RELATIVE_FLOOR)
        .map(|(&l, v)| (v.transpose() * &between * v)[(0, 0)] / l)
        .sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_each(classes: &[usize]) -> Vec<Membership> {
        classes
            .iter()
            .enumerate()
            .map(|(sample, &class)| Membership {
                sample,
                class,
                weight: 1.0,
            })
            .collect()
    }

    #[test]
    fn features_that_separate_the_classes_score_one_per_extra_class() {
        // f = 0, 0 for class 0 and 2, 2 for class 1: variance 1, class means 0 and 2 around 1: H = 1/1.
        let h = hscore(&[0.0, 0.0, 2.0, 2.0], 4, 1, &one_each(&[0, 0, 1, 1])).unwrap();
        assert!((h - 1.0).abs() < 1e-12);
        // Three classes, two dimensions, each class a point: H = classes − 1 = 2.
        let f = [0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0];
        let h = hscore(&f, 6, 2, &one_each(&[0, 1, 2, 0, 1, 2])).unwrap();
        assert!((h - 2.0).abs() < 1e-9);
    }

    #[test]
    fn features_blind_to_the_classes_score_zero() {
        // Both classes have mean 1.
        let h = hscore(&[0.0, 2.0, 0.0, 2.0], 4, 1, &one_each(&[0, 0, 1, 1])).unwrap();
        assert!(h.abs() < 1e-12);
    }

    #[test]
    fn a_sample_in_two_classes_counts_by_weight() {
        // Sample 1 is half class 0, half class 1: the same as listing it once in each class.
        let weighted = [
            Membership {
                sample: 0,
                class: 0,
                weight: 2.0,
            },
            Membership {
                sample: 1,
                class: 0,
                weight: 1.0,
            },
            Membership {
                sample: 1,
                class: 1,
                weight: 1.0,
            },
            Membership {
                sample: 2,
                class: 1,
                weight: 2.0,
            },
        ];
        let listed = hscore(
            &[0.0, 0.0, 1.0, 1.0, 3.0, 3.0],
            6,
            1,
            &one_each(&[0, 0, 0, 1, 1, 1]),
        )
        .unwrap();
        let h = hscore(&[0.0, 1.0, 3.0], 3, 1, &weighted).unwrap();
        assert!((h - listed).abs() < 1e-12);
    }

    #[test]
    fn collinear_features_use_the_pseudo_inverse() {
        // The second dimension repeats the first: H is that of the first alone.
        let h = hscore(
            &[0.0, 0.0, 0.0, 0.0, 2.0, 2.0, 2.0, 2.0],
            4,
            2,
            &one_each(&[0, 0, 1, 1]),
        )
        .unwrap();
        assert!((h - 1.0).abs() < 1e-9);
    }
}
