//! The measurements of step III from the per-image test losses of step II: per target, a tournament over
//! every transfer and baseline, AHP affinities, and win rates against `self` and `pixels`, each with a
//! bootstrap interval over the test images ([`crate::uncertainty`]).

use super::step2::{index_artifact, reps_keys, TransferRecord};
use super::{images_scored, Keys, TaskSet, TestLosses, TrainError};
use crate::affinity::{from_losses, DMatrix, PowerIteration};
use crate::store::write_atomic;
use crate::transfers::{Transfer, Transfers, HEADER, PIXELS, SELF};
use crate::uncertainty::{
    affinity_intervals, twice_outcome, win_rate_interval, Bootstrap, Interval, Resamples,
};

/// The three tables of a run, in the paper's format (`sources,target,order,value`), and their intervals.
#[derive(Clone, Debug, PartialEq)]
pub struct Measurements {
    /// AHP affinities: per target, over every transfer, `self` and `random`; they sum to 1. A novel
    /// target's tournament has no `self`: its own network exists for scoring Quality only.
    pub affinities: Transfers,
    /// The fraction of test images on which each transfer beats the target's own network (Quality).
    pub wins_vs_task: Transfers,
    /// The fraction of test images on which each transfer beats `pixels` (Gain).
    pub wins_vs_pixels: Transfers,
    /// Bootstrap intervals of the three tables, row for row.
    pub intervals: Intervals,
}

/// Bootstrap intervals of the rows of [`Measurements`]' tables, in the tables' row order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Intervals {
    /// The coverage of every interval (0.95).
    pub level: f64,
    /// One per row of `affinities`.
    pub affinities: Vec<Interval>,
    /// One per row of `wins_vs_task`.
    pub wins_vs_task: Vec<Interval>,
    /// One per row of `wins_vs_pixels`.
    pub wins_vs_pixels: Vec<Interval>,
}

/// What step III needs beyond the task set.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MeasureOptions {
    /// Novel targets (the paper's §4.2): their own network is left out of their tournament, since it
    /// exists only to score Quality.
    pub novel: Vec<String>,
    /// How to bootstrap the intervals.
    pub bootstrap: Bootstrap,
}

/// The fraction of images on which `a` has a lower loss than `b`, ties counting half.
pub fn win_rate(a: &[f32], b: &[f32]) -> f64 {
    let n = a.len().min(b.len());
    if n == 0 {
        return 0.5;
    }
    let twice_wins: u32 = a.iter().zip(b).map(|(&x, &y)| twice_outcome(x, y)).sum();
    f64::from(twice_wins) / (2 * n) as f64
}

/// Reads every target's transfers and baselines from the run folder (step II must be complete for the
/// same settings), computes the tables and their intervals, and writes `affinities.csv`,
/// `wins_vs_task.csv` and `wins_vs_pixels.csv` at the top of the run folder, and beside each the same
/// rows with their intervals (`…_intervals.csv`). Reads files only: no device, no dataset.
pub fn measure(
    keys: &Keys<'_>,
    tasks: &TaskSet,
    options: &MeasureOptions,
) -> Result<Measurements, TrainError> {
    let run = keys.run;
    let reps = reps_keys(keys, tasks)?;
    let power = PowerIteration::default();
    let level = options.bootstrap.level;
    let (mut affinities, mut vs_task, mut vs_pixels) = (Vec::new(), Vec::new(), Vec::new());
    let mut intervals = Intervals {
        level,
        ..Intervals::default()
    };
    for &target in &tasks.targets {
        let spec = tasks
            .spec(target)
            .ok_or_else(|| TrainError::Config(format!("target `{target}` has no spec")))?;
        let index = index_artifact(keys, spec, &reps)?;
        index.require_done(
            format!("the transfers into `{target}`"),
            "run `taskonomy transfer` with the same run folder first",
        )?;
        let records: Vec<TransferRecord> = index.read_json("index.json", "a list of transfers")?;
        let mut measured: Vec<(Vec<String>, Vec<f32>)> = Vec::new();
        for record in &records {
            let artifact = run.transfer(target, &record.label(), &record.key);
            artifact.require_done(
                format!("the transfer {} → {target}", record.label()),
                "run `taskonomy transfer` again to finish it",
            )?;
            measured.push((record.sources.clone(), TestLosses::read(&artifact)?.losses));
        }
        let (own, _) = super::step1::task_artifact(keys, spec)?;
        own.require_done(
            format!("the `{target}` task network"),
            "run `taskonomy train` with the same run folder first",
        )?;
        measured.push((vec![SELF.to_owned()], TestLosses::read(&own)?.losses));
        let images = images_scored(
            target,
            measured.iter().map(|(s, l)| (s.join("+"), l.as_slice())),
        )?;
        let resamples = Resamples::draw(images, &options.bootstrap, target);
        let novel = options.novel.iter().any(|n| n == target);

        // The tournament of the affinities: every transfer, `self` and `random` (not `pixels`, as in the
        // paper's released affinities; not `self` for a novel target, whose own network only scores).
        let ranked: Vec<&(Vec<String>, Vec<f32>)> = measured
            .iter()
            .filter(|(s, _)| s.as_slice() != [PIXELS] && !(novel && s.as_slice() == [SELF]))
            .collect();
        let matrix = DMatrix::from_fn(ranked.len(), images, |i, j| f64::from(ranked[i].1[j]));
        let result = from_losses(&matrix, &power)?;
        let rows: Vec<&[f32]> = ranked.iter().map(|(_, l)| l.as_slice()).collect();
        intervals.affinities.extend(affinity_intervals(
            &rows,
            &result.weights,
            &resamples,
            level,
            &power,
        )?);
        for (i, (sources, _)) in ranked.iter().enumerate() {
            affinities.push(Transfer::new(sources, target, result.weights[i]));
        }
        let reference = |name: &str| {
            measured
                .iter()
                .find(|(s, _)| s.len() == 1 && s[0] == name)
                .map(|(_, l)| l.clone())
        };
        let own = reference(SELF).unwrap_or_default();
        let pixels = reference(PIXELS);
        for (sources, losses) in &measured {
            let rate = win_rate(losses, &own);
            vs_task.push(Transfer::new(sources, target, rate));
            intervals
                .wins_vs_task
                .push(win_rate_interval(rate, losses, &own, &resamples, level));
            // A novel task's own network scores Quality and nothing else.
            let scoring_only = novel && sources.as_slice() == [SELF];
            if let Some(pixels) = pixels.as_ref().filter(|_| !scoring_only) {
                let rate = win_rate(losses, pixels);
                vs_pixels.push(Transfer::new(sources, target, rate));
                intervals
                    .wins_vs_pixels
                    .push(win_rate_interval(rate, losses, pixels, &resamples, level));
            }
        }
    }
    let measurements = Measurements {
        affinities: Transfers::from_rows("affinities.csv", affinities)?,
        wins_vs_task: Transfers::from_rows("wins_vs_task.csv", vs_task)?,
        wins_vs_pixels: Transfers::from_rows("wins_vs_pixels.csv", vs_pixels)?,
        intervals,
    };
    for (name, which) in [
        ("affinities", Table::Affinities),
        ("wins_vs_task", Table::WinsVsTask),
        ("wins_vs_pixels", Table::WinsVsPixels),
    ] {
        let (table, intervals) = measurements.table(which);
        write_atomic(&run.file(&format!("{name}.csv")), table.to_csv().as_bytes())?;
        write_atomic(
            &run.file(&format!("{name}_intervals.csv")),
            intervals_csv(table, intervals).as_bytes(),
        )?;
    }
    Ok(measurements)
}

/// A table's rows with their intervals: `sources,target,order,value,low,high`.
fn intervals_csv(table: &Transfers, intervals: &[Interval]) -> String {
    let mut csv = format!("{HEADER},low,high\n");
    for (row, interval) in table.rows().iter().zip(intervals) {
        csv.push_str(&format!(
            "{},{},{},{},{},{}\n",
            row.sources_label(),
            row.target,
            row.order(),
            row.value,
            interval.low,
            interval.high
        ));
    }
    csv
}

/// One of the three tables of [`Measurements`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    /// The AHP affinities.
    Affinities,
    /// Win rates against the target's own network (Quality).
    WinsVsTask,
    /// Win rates against `pixels` (Gain).
    WinsVsPixels,
}

impl Measurements {
    /// The table `which`, with its intervals.
    pub fn table(&self, which: Table) -> (&Transfers, &[Interval]) {
        match which {
            Table::Affinities => (&self.affinities, &self.intervals.affinities),
            Table::WinsVsTask => (&self.wins_vs_task, &self.intervals.wins_vs_task),
            Table::WinsVsPixels => (&self.wins_vs_pixels, &self.intervals.wins_vs_pixels),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn win_rates_count_ties_half() {
        assert_eq!(
            win_rate(&[1.0, 2.0, 3.0, 4.0], &[2.0, 2.0, 2.0, 2.0]),
            0.375
        );
        assert_eq!(win_rate(&[1.0], &[1.0]), 0.5);
        assert_eq!(win_rate(&[], &[]), 0.5);
    }
}
