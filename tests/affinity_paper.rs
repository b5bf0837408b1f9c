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

/// Spearman's ρ of two rankings (defined: neither side is constant here).
fn spearman(a: &[f64], b: &[f64]) -> f64 {
    taskonomy::uncertainty::spearman(a, b).expect("two non-constant rankings")
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
