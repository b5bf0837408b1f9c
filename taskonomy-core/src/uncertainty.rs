//! How sure a measurement is: bootstrap intervals over the test images, and how stable a run's findings
//! are across seeds.
//!
//! **Bootstrap.** Every affinity and win rate of a target is a function of the per-image test losses of
//! the networks into it. Resampling the test images with replacement and recomputing the statistic from
//! the same losses (no retraining) shows how much it owes to which images happened to be drawn. All rows
//! of one target share each resample (a *paired* bootstrap), as they share the images. The interval is
//! the percentile interval of the replicates. The AHP is not linear in the losses, so a percentile
//! interval of an affinity may, rarely, fall just beside the point estimate; it is then widened to
//! include it, so an interval always contains the number it qualifies.
//!
//! The bootstrap measures the test set's share of the uncertainty only. What the seed decides
//! (initialisation, batches, the data drawn) is measured by running again: [`spearman`] of a target's
//! affinities between two runs and [`jaccard`] of their chosen sources.

use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

use crate::affinity::{from_win_rates, AffinityError, PowerIteration};
use crate::data::rng::{hash_str, Rng};

/// How to bootstrap.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bootstrap {
    /// Resamples of the test images.
    pub replicates: usize,
    /// Coverage of the intervals (0.95: from the 2.5th to the 97.5th percentile).
    pub level: f64,
    /// Seed of the resampling, so a run's intervals are the same every time they are computed.
    pub seed: u64,
}

impl Default for Bootstrap {
    fn default() -> Self {
        Bootstrap {
            replicates: 500,
            level: 0.95,
            seed: 1,
        }
    }
}

/// A confidence interval `[low, high]`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Lower end.
    pub low: f64,
    /// Upper end.
    pub high: f64,
}

impl Interval {
    /// Whether `x` lies in the interval.
    pub fn contains(&self, x: f64) -> bool {
        self.low <= x && x <= self.high
    }

    /// `high − low`.
    pub fn width(&self) -> f64 {
        self.high - self.low
    }
}

/// The resamples of one target's test images: replicate `r` draws image `k` `counts[r][k]` times.
pub struct Resamples {
    counts: Vec<Vec<u32>>,
}

impl Resamples {
    /// `settings.replicates` resamples of `images` images, each drawn with replacement. Deterministic in
    /// the seed and `stream` (give each target its own stream, e.g. its name).
    pub fn draw(images: usize, settings: &Bootstrap, stream: &str) -> Self {
        let counts = (0..settings.replicates)
            .map(|r| {
                let mut rng = Rng::new(settings.seed, &[hash_str(stream), r as u64]);
                let mut counts = vec![0u32; images];
                for _ in 0..images {
                    counts[rng.below(images)] += 1;
                }
                counts
            })
            .collect();
        Resamples { counts }
    }

    /// How many replicates there are.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }
}

/// The percentile interval of `replicates` at `level`, widened to contain `point` if it falls outside
/// (see the module docs). With no replicates, the interval is the point itself.
pub fn percentile_interval(point: f64, replicates: &[f64], level: f64) -> Interval {
    let mut sorted: Vec<f64> = replicates
        .iter()
        .copied()
        .filter(|x| x.is_finite())
        .collect();
    if sorted.is_empty() {
        return Interval {
            low: point,
            high: point,
        };
    }
    sorted.sort_by(f64::total_cmp);
    let tail = (1.0 - level.clamp(0.0, 1.0)) / 2.0;
    Interval {
        low: quantile(&sorted, tail).min(point),
        high: quantile(&sorted, 1.0 - tail).max(point),
    }
}

/// The `q`-quantile of sorted values, interpolating linearly between order statistics.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = position.ceil() as usize;
    let fraction = position - below as f64;
    sorted[below] + (sorted[above] - sorted[below]) * fraction
}

/// Twice the outcome of one image for a network with loss `a` against one with loss `b`: 2 if `a` is
/// lower, 1 on a tie, 0 else (twice, so that a tie stays a whole number). Every win rate counts with it.
pub(crate) fn twice_outcome(a: f32, b: f32) -> u32 {
    match a.total_cmp(&b) {
        std::cmp::Ordering::Less => 2,
        std::cmp::Ordering::Equal => 1,
        std::cmp::Ordering::Greater => 0,
    }
}

/// The win rate of `losses` against `reference` under each resample: the fraction of the resampled
/// images on which it has the lower loss, ties counting half (as [`crate::train::win_rate`]).
fn resampled_win_rates(losses: &[f32], reference: &[f32], resamples: &Resamples) -> Vec<f64> {
    let outcomes: Vec<u32> = losses
        .iter()
        .zip(reference)
        .map(|(&a, &b)| twice_outcome(a, b))
        .collect();
    resamples
        .counts
        .iter()
        .map(|counts| {
            let drawn: u32 = counts.iter().sum();
            let twice: u64 = counts
                .iter()
                .zip(&outcomes)
                .map(|(&c, &o)| u64::from(c) * u64::from(o))
                .sum();
            twice as f64 / (2.0 * f64::from(drawn.max(1)))
        })
        .collect()
}

/// The interval of the win rate `point` of `losses` against `reference` (per-image test losses of the
/// same images, in the same order).
pub fn win_rate_interval(
    point: f64,
    losses: &[f32],
    reference: &[f32],
    resamples: &Resamples,
    level: f64,
) -> Interval {
    percentile_interval(
        point,
        &resampled_win_rates(losses, reference, resamples),
        level,
    )
}

/// The interval of every AHP affinity of one target: `losses` holds one row of per-image test losses per
/// network in the tournament, `points` their affinities as computed from all the images. Each resample
/// rebuilds the tournament `W` from the resampled images and reruns the AHP ([`from_win_rates`]).
pub fn affinity_intervals(
    losses: &[&[f32]],
    points: &DVector<f64>,
    resamples: &Resamples,
    level: f64,
    settings: &PowerIteration,
) -> Result<Vec<Interval>, AffinityError> {
    let n = losses.len();
    // The outcome of every pair on every image, computed once.
    let mut pairs: Vec<(usize, usize, Vec<u32>)> = Vec::with_capacity(n * n.saturating_sub(1) / 2);
    for i in 0..n {
        for j in (i + 1)..n {
            let outcomes = losses[i]
                .iter()
                .zip(losses[j])
                .map(|(&a, &b)| twice_outcome(a, b))
                .collect();
            pairs.push((i, j, outcomes));
        }
    }
    let mut replicates: Vec<Vec<f64>> = vec![Vec::with_capacity(resamples.len()); n];
    for counts in &resamples.counts {
        let twice_drawn = 2.0 * f64::from(counts.iter().sum::<u32>().max(1));
        let mut w = DMatrix::from_element(n, n, 0.5);
        for (i, j, outcomes) in &pairs {
            let twice: u64 = counts
                .iter()
                .zip(outcomes)
                .map(|(&c, &o)| u64::from(c) * u64::from(o))
                .sum();
            let wins = twice as f64 / twice_drawn;
            w[(*i, *j)] = wins;
            w[(*j, *i)] = 1.0 - wins;
        }
        let affinities = from_win_rates(&w, settings)?;
        for (row, weight) in replicates.iter_mut().zip(affinities.weights.iter()) {
            row.push(*weight);
        }
    }
    Ok(points
        .iter()
        .zip(&replicates)
        .map(|(&point, replicates)| percentile_interval(point, replicates, level))
        .collect())
}

/// Spearman's rank correlation of paired values (ties get their average rank); `None` with fewer than
/// two pairs or when either side is constant.
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.len() != y.len() || x.len() < 2 {
        return None;
    }
    pearson(&ranks(x), &ranks(y))
}

/// 1-based ranks, ties sharing the mean of the ranks they span.
fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Positions start..end (0-based) hold ranks start+1 ..= end: their mean.
        let shared = (start + end + 1) as f64 / 2.0;
        for &index in &order[start..end] {
            ranks[index] = shared;
        }
        start = end;
    }
    ranks
}

fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len() as f64;
    let (mean_x, mean_y) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut xy, mut xx, mut yy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        let (dx, dy) = (a - mean_x, b - mean_y);
        xy += dx * dy;
        xx += dx * dx;
        yy += dy * dy;
    }
    (xx > 0.0 && yy > 0.0).then(|| (xy / (xx * yy).sqrt()).clamp(-1.0, 1.0))
}

/// `|A ∩ B| / |A ∪ B|` of two sets of names (1 when both are empty).
pub fn jaccard<S: AsRef<str>>(a: &[S], b: &[S]) -> f64 {
    let a: std::collections::BTreeSet<&str> = a.iter().map(AsRef::as_ref).collect();
    let b: std::collections::BTreeSet<&str> = b.iter().map(AsRef::as_ref).collect();
    let union = a.union(&b).count();
    if union == 0 {
        return 1.0;
    }
    a.intersection(&b).count() as f64 / union as f64
}

/// The median of some values (`None` if there are none): for an even count, the midpoint of the two
/// middle ones.
pub fn median(values: &[f64]) -> Option<f64> {
    median_in_place(&mut values.to_vec())
}

/// [`median`], sorting `values` in place instead of a copy.
pub fn median_in_place(values: &mut [f64]) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    (!values.is_empty()).then(|| quantile(values, 0.5))
}

/// Where `value` falls among `draws` from a null distribution, higher being better.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Standing {
    /// The percentage of draws strictly below `value`, ties counting half.
    pub percentile: f64,
    /// The one-sided empirical p-value `(1 + #{draws ≥ value}) / (1 + draws)`: the chance of doing at
    /// least as well by drawing at random, counting the value itself as a draw so it is never 0.
    pub p_value: f64,
    /// How many draws there were.
    pub draws: usize,
}

/// The [`Standing`] of `value` among `draws`.
pub fn standing(value: f64, draws: &[f64]) -> Standing {
    let tolerance = 1e-12 * value.abs().max(1.0);
    let below = draws.iter().filter(|&&d| d < value - tolerance).count() as f64;
    let tied = draws
        .iter()
        .filter(|&&d| (d - value).abs() <= tolerance)
        .count() as f64;
    let at_least = draws.len() as f64 - below;
    Standing {
        percentile: if draws.is_empty() {
            50.0
        } else {
            100.0 * (below + tied / 2.0) / draws.len() as f64
        },
        p_value: (1.0 + at_least) / (1.0 + draws.len() as f64),
        draws: draws.len(),
    }
}

#[cfg(test)]
mod tests {
    use nalgebra::DMatrix;

    use super::*;
    use crate::affinity::from_losses;

    #[test]
    fn resamples_draw_every_image_count_once_per_image() {
        let resamples = Resamples::draw(20, &Bootstrap::default(), "depth");
        assert_eq!(resamples.len(), 500);
        assert!(resamples.counts.iter().all(|c| c.iter().sum::<u32>() == 20));
        let again = Resamples::draw(20, &Bootstrap::default(), "depth");
        assert_eq!(resamples.counts, again.counts);
        let other = Resamples::draw(20, &Bootstrap::default(), "normals");
        assert_ne!(resamples.counts, other.counts);
    }

    #[test]
    fn percentile_intervals_cover_the_middle_and_the_point() {
        let replicates: Vec<f64> = (0..=100).map(f64::from).collect();
        let interval = percentile_interval(50.0, &replicates, 0.9);
        assert!((interval.low - 5.0).abs() < 1e-9 && (interval.high - 95.0).abs() < 1e-9);
        // A point outside the replicates widens the interval to reach it.
        assert_eq!(percentile_interval(120.0, &replicates, 0.9).high, 120.0);
        assert_eq!(
            percentile_interval(0.3, &[], 0.95),
            Interval {
                low: 0.3,
                high: 0.3
            }
        );
    }

    #[test]
    fn a_win_rate_interval_narrows_with_more_images() {
        let interval_of = |images: usize| {
            // Wins on every other image: the win rate is ½ however many images there are.
            let a: Vec<f32> = (0..images).map(|k| (k % 2) as f32).collect();
            let b = vec![0.5f32; images];
            let resamples = Resamples::draw(images, &Bootstrap::default(), "t");
            win_rate_interval(0.5, &a, &b, &resamples, 0.95)
        };
        let (few, many) = (interval_of(20), interval_of(400));
        assert!(few.contains(0.5) && many.contains(0.5));
        assert!(many.width() < few.width() / 3.0, "{few:?} {many:?}");
    }

    #[test]
    fn a_clear_winner_keeps_a_tight_affinity_interval() {
        // Row 0 beats the others on every image: its affinity hardly depends on which images are drawn.
        let losses: Vec<Vec<f32>> = vec![
            (0..30).map(|k| 0.1 + 0.001 * k as f32).collect(),
            (0..30)
                .map(|k| 0.5 + 0.02 * ((k * 7) % 11) as f32)
                .collect(),
            (0..30)
                .map(|k| 0.5 + 0.02 * ((k * 5) % 13) as f32)
                .collect(),
        ];
        let matrix = DMatrix::from_fn(3, 30, |i, k| f64::from(losses[i][k]));
        let points = from_losses(&matrix, &PowerIteration::default())
            .unwrap()
            .weights;
        let rows: Vec<&[f32]> = losses.iter().map(Vec::as_slice).collect();
        let resamples = Resamples::draw(30, &Bootstrap::default(), "t");
        let intervals =
            affinity_intervals(&rows, &points, &resamples, 0.95, &PowerIteration::default())
                .unwrap();
        for (interval, point) in intervals.iter().zip(points.iter()) {
            assert!(interval.contains(*point), "{interval:?} {point}");
        }
        assert!(intervals[0].width() < 0.01, "{:?}", intervals[0]);
        assert!(intervals[1].width() > intervals[0].width());
    }

    #[test]
    fn spearman_ranks_with_ties() {
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[10.0, 20.0, 30.0]), Some(1.0));
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]), Some(-1.0));
        assert_eq!(ranks(&[5.0, 1.0, 5.0, 2.0]), [3.5, 1.0, 3.5, 2.0]);
        assert_eq!(spearman(&[1.0, 1.0], &[1.0, 2.0]), None);
        assert_eq!(spearman(&[1.0], &[1.0]), None);
        // A monotone transform changes nothing.
        let x = [0.3, 0.1, 0.7, 0.2];
        let y: Vec<f64> = x.iter().map(|v: &f64| v.exp()).collect();
        assert_eq!(spearman(&x, &y), Some(1.0));
    }

    #[test]
    fn jaccard_of_source_sets() {
        assert_eq!(jaccard(&["a", "b"], &["b", "a"]), 1.0);
        assert_eq!(jaccard(&["a", "b"], &["b", "c"]), 1.0 / 3.0);
        assert_eq!(jaccard::<&str>(&[], &[]), 1.0);
    }

    #[test]
    fn standing_among_random_draws() {
        let draws: Vec<f64> = (1..=99).map(f64::from).collect();
        let best = standing(100.0, &draws);
        assert_eq!(best.percentile, 100.0);
        assert_eq!(best.p_value, 0.01);
        let middle = standing(50.0, &draws);
        assert_eq!(middle.percentile, 49.5 / 99.0 * 100.0);
        assert_eq!(middle.p_value, 51.0 / 100.0);
        assert_eq!(median(&[3.0, 1.0, 2.0, 10.0]), Some(2.5));
    }
}
