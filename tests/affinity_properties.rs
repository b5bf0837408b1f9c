//! The properties of the AHP that the paper relies on (Section 3.3), as property tests, and the Perron root
//! cross-checked against nalgebra's Schur decomposition.

use nalgebra::linalg::Schur;
use proptest::prelude::*;
use taskonomy::affinity::{
    clip, consistency_ratio, from_losses, from_reference_wins, from_win_rates, perron_vector,
    ratio_matrix, tournament, DMatrix, DVector, PowerIteration,
};

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Positive weights whose ratios stay inside the clip range (max / min < 999), normalised to sum 1.
fn weights(n: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = DVector<f64>> {
    prop::collection::vec(0.05f64..5.0, n).prop_map(|w| {
        let w = DVector::from_vec(w);
        let sum = w.sum();
        w / sum
    })
}

/// Per-image losses on a coarse grid (so ties happen), `sources × images`.
fn losses() -> impl Strategy<Value = DMatrix<f64>> {
    (2usize..=8, 1usize..=24).prop_flat_map(|(n, images)| {
        prop::collection::vec(0u8..12, n * images).prop_map(move |v| {
            DMatrix::from_iterator(n, images, v.into_iter().map(|k| f64::from(k) / 4.0))
        })
    })
}

fn close(a: &DVector<f64>, b: &DVector<f64>, tolerance: f64) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b.iter())
            .all(|(x, y)| (x - y).abs() <= tolerance)
}

proptest! {
    #![proptest_config(config(96))]

    /// W'[i,j] = wᵢ / wⱼ is perfectly consistent: its Perron vector is w, its root n, its CR 0.
    #[test]
    fn a_consistent_matrix_returns_its_weights(w in weights(1..=12)) {
        let n = w.len();
        let ratios = DMatrix::from_fn(n, n, |i, j| w[i] / w[j]);
        let perron = perron_vector(&ratios, &PowerIteration::default()).unwrap();
        prop_assert!(close(&perron.vector, &w, 1e-10), "{} vs {}", perron.vector, w);
        prop_assert!((perron.eigenvalue - n as f64).abs() < 1e-9);
        prop_assert!(consistency_ratio(perron.eigenvalue, n) < 1e-9);
        // The same weights as Bradley–Terry win rates, wᵢ / (wᵢ + wⱼ), through the whole pipeline.
        let wins = DMatrix::from_fn(n, n, |i, j| w[i] / (w[i] + w[j]));
        let affinities = from_win_rates(&wins, &PowerIteration::default()).unwrap();
        prop_assert!(close(&affinities.weights, &w, 1e-10));
        // And as odds against a common reference of strength 1: qᵢ = sᵢ / (1 + sᵢ) with sᵢ ∝ wᵢ.
        let q = w.map(|w| w / (1.0 + w));
        let affinities = from_reference_wins(&q, &PowerIteration::default()).unwrap();
        prop_assert!(close(&affinities.weights, &w, 1e-10));
    }

    /// Relabelling the sources relabels the affinities, and nothing else changes.
    #[test]
    fn permuting_sources_permutes_the_result(losses in losses(), seed in any::<u64>()) {
        let n = losses.nrows();
        let mut order: Vec<usize> = (0..n).collect();
        // A seeded Fisher–Yates shuffle.
        let mut state = seed | 1;
        for i in (1..n).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            order.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let permuted = DMatrix::from_fn(n, losses.ncols(), |i, k| losses[(order[i], k)]);
        let settings = PowerIteration::default();
        let original = from_losses(&losses, &settings).unwrap();
        let relabelled = from_losses(&permuted, &settings).unwrap();
        let expected = DVector::from_fn(n, |i, _| original.weights[order[i]]);
        prop_assert!(close(&relabelled.weights, &expected, 1e-10));
        prop_assert!((relabelled.eigenvalue - original.eigenvalue).abs() < 1e-9);
    }

    /// Only which source wins on each image matters, so scaling every loss by c > 0 changes nothing.
    #[test]
    fn scaling_losses_changes_nothing(losses in losses(), c in 1e-3f64..1e3) {
        let settings = PowerIteration::default();
        prop_assert_eq!(tournament(&(&losses * c)).unwrap(), tournament(&losses).unwrap());
        prop_assert_eq!(from_losses(&(&losses * c), &settings).unwrap(), from_losses(&losses, &settings).unwrap());
    }

    /// The power iteration's root is the spectral radius of W' as found by the real Schur form, and its
    /// vector satisfies the eigen-equation; λ_max ≥ n for a positive reciprocal matrix.
    #[test]
    fn the_perron_root_matches_the_schur_decomposition(losses in losses()) {
        let n = losses.nrows();
        let w_prime = ratio_matrix(&clip(&tournament(&losses).unwrap()));
        let perron = perron_vector(&w_prime, &PowerIteration::default()).unwrap();
        let spectral_radius = Schur::new(w_prime.clone())
            .complex_eigenvalues()
            .iter()
            .map(|z| z.norm())
            .fold(0.0, f64::max);
        prop_assert!((perron.eigenvalue - spectral_radius).abs() <= 1e-8 * spectral_radius,
            "power iteration {} vs Schur {}", perron.eigenvalue, spectral_radius);
        let residual = (&w_prime * &perron.vector - &perron.vector * perron.eigenvalue).norm();
        prop_assert!(residual <= 1e-9 * perron.eigenvalue);
        prop_assert!(perron.vector.iter().all(|&p| p > 0.0));
        prop_assert!((perron.vector.sum() - 1.0).abs() < 1e-12);
        prop_assert!(perron.eigenvalue >= n as f64 - 1e-9);
    }
}

#[test]
fn a_source_that_always_wins_gets_the_most_affinity() {
    // Source 0 beats 1 on every image, 1 beats 2 on every image: clipping at 0.999 keeps W' finite.
    let losses = DMatrix::from_row_slice(
        3,
        4,
        &[0.1, 0.1, 0.1, 0.1, 0.5, 0.5, 0.5, 0.5, 0.9, 0.9, 0.9, 0.9],
    );
    let affinities = from_losses(&losses, &PowerIteration::default()).unwrap();
    let p = &affinities.weights;
    assert!(p[0] > p[1] && p[1] > p[2], "{p}");
    assert!(p[0] > 0.9, "{p}");
    // Inconsistent here: W'[0,2] = 999 while W'[0,1]·W'[1,2] = 999².
    assert!(
        affinities.consistency_ratio > 0.1,
        "{}",
        affinities.consistency_ratio
    );
}
