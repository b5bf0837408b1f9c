//! The measurements of step III from the per-image test losses of step II: per target, a tournament over
//! every transfer and baseline, AHP affinities, and win rates against `self` and `pixels`.

use super::step2::{index_artifact, reps_keys, TransferRecord};
use super::{images_scored, Keys, TaskSet, TestLosses, TrainError};
use crate::affinity::{from_losses, DMatrix, PowerIteration};
use crate::store::write_atomic;
use crate::transfers::{Transfer, Transfers, PIXELS, SELF};

/// The three tables of a run, in the paper's format (`sources,target,order,value`).
#[derive(Clone, Debug, PartialEq)]
pub struct Measurements {
    /// AHP affinities: per target, over every transfer, `self` and `random`; they sum to 1.
    pub affinities: Transfers,
    /// The fraction of test images on which each transfer beats the target's own network (Quality).
    pub wins_vs_task: Transfers,
    /// The fraction of test images on which each transfer beats `pixels` (Gain).
    pub wins_vs_pixels: Transfers,
}

/// The fraction of images on which `a` has a lower loss than `b`, ties counting half.
pub fn win_rate(a: &[f32], b: &[f32]) -> f64 {
    let n = a.len().min(b.len());
    if n == 0 {
        return 0.5;
    }
    let wins: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| match x.total_cmp(y) {
            std::cmp::Ordering::Less => 1.0,
            std::cmp::Ordering::Equal => 0.5,
            std::cmp::Ordering::Greater => 0.0,
        })
        .sum();
    wins / n as f64
}

/// Reads every target's transfers and baselines from the run folder (step II must be complete for the
/// same settings), computes the tables, and writes `affinities.csv`, `wins_vs_task.csv` and
/// `wins_vs_pixels.csv` at the top of the run folder. Reads files only: no device, no dataset.
pub fn measure(keys: &Keys<'_>, tasks: &TaskSet) -> Result<Measurements, TrainError> {
    let run = keys.run;
    let reps = reps_keys(keys, tasks)?;
    let (mut affinities, mut vs_task, mut vs_pixels) = (Vec::new(), Vec::new(), Vec::new());
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

        // The tournament of the affinities: every transfer, `self` and `random` (not `pixels`, as in the
        // paper's released affinities).
        let ranked: Vec<&(Vec<String>, Vec<f32>)> = measured
            .iter()
            .filter(|(s, _)| s.as_slice() != [PIXELS])
            .collect();
        let matrix = DMatrix::from_fn(ranked.len(), images, |i, j| f64::from(ranked[i].1[j]));
        let result = from_losses(&matrix, &PowerIteration::default())?;
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
            vs_task.push(Transfer::new(sources, target, win_rate(losses, &own)));
            if let Some(pixels) = &pixels {
                vs_pixels.push(Transfer::new(sources, target, win_rate(losses, pixels)));
            }
        }
    }
    let measurements = Measurements {
        affinities: Transfers::from_rows("affinities.csv", affinities)?,
        wins_vs_task: Transfers::from_rows("wins_vs_task.csv", vs_task)?,
        wins_vs_pixels: Transfers::from_rows("wins_vs_pixels.csv", vs_pixels)?,
    };
    for (name, table) in [
        ("affinities.csv", &measurements.affinities),
        ("wins_vs_task.csv", &measurements.wins_vs_task),
        ("wins_vs_pixels.csv", &measurements.wins_vs_pixels),
    ] {
        write_atomic(&run.file(name), table.to_csv().as_bytes())?;
    }
    Ok(measurements)
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
