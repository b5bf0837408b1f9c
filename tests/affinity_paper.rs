//! The Bradley–Terry reading of the paper's released win rates against `pixels` reproduces the paper's
//! released AHP affinities closely: the per-image comparisons behind them were not released, so not
//! exactly (README of `data/taskonomy2018/`), but the ranking of sources agrees for every target.

use taskonomy::affinity::{affinities_from_reference_wins, PowerIteration};
use taskonomy::transfers::Transfers;

fn vendored(name: &str) -> Transfers {
    Transfers::read(format!(
        "{}/data/taskonomy2018/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// Ranks with ties sharing their mean rank.
fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start;
        while end + 1 < order.len() && values[order[end + 1]] == values[order[start]] {
            end += 1;
        }
        for &i in &order[start..=end] {
            ranks[i] = (start + end) as f64 / 2.0;
        }
        start = end + 1;
    }
    ranks
}

fn spearman(a: &[f64], b: &[f64]) -> f64 {
    let (a, b) = (ranks(a), ranks(b));
    let n = a.len() as f64;
    let (mean_a, mean_b) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let covariance: f64 = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - mean_a) * (y - mean_b))
        .sum();
    let spread = |v: &[f64], mean: f64| v.iter().map(|x| (x - mean).powi(2)).sum::<f64>().sqrt();
    covariance / (spread(&a, mean_a) * spread(&b, mean_b))
}

#[test]
fn bradley_terry_on_wins_vs_pixels_ranks_sources_like_the_paper() {
    let paper = vendored("affinities.csv");
    let ours = affinities_from_reference_wins(
        &vendored("wins_vs_pixels.csv"),
        "pixels",
        &PowerIteration::default(),
    )
    .unwrap();
    let mut correlations = Vec::new();
    let mut close_targets = 0;
    for target in paper.targets() {
        let rows: Vec<_> = paper.rows().iter().filter(|r| r.target == target).collect();
        assert_eq!(
            rows.len(),
            37,
            "{target}: 25 tasks, self, random and 10 pairs"
        );
        let (theirs, mine): (Vec<f64>, Vec<f64>) = rows
            .iter()
            .map(|r| {
                (
                    r.value,
                    ours.get(&r.sources, target)
                        .expect("the same transfers")
                        .value,
                )
            })
            .unzip();
        assert!(
            (mine.iter().sum::<f64>() - 1.0).abs() < 1e-12,
            "{target}: affinities sum to 1"
        );
        let rho = spearman(&theirs, &mine);
        assert!(rho > 0.7, "{target}: Spearman {rho}");
        correlations.push(rho);
        let mut relative: Vec<f64> = theirs
            .iter()
            .zip(&mine)
            .map(|(t, m)| (m / t - 1.0).abs())
            .collect();
        relative.sort_by(f64::total_cmp);
        if relative[relative.len() / 2] < 0.15 {
            close_targets += 1;
        }
    }
    correlations.sort_by(f64::total_cmp);
    let median = correlations[correlations.len() / 2];
    assert!(median > 0.95, "median Spearman {median}");
    assert!(
        close_targets >= 15,
        "only {close_targets} of 22 targets within ±15% (median source)"
    );
}
