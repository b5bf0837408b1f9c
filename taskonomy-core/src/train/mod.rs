//! Steps I and II of Taskonomy, and the measurements that feed step III.
//!
//! - **Step I** ([`train_tasks`]): every task's network (shared encoder architecture, the task's decoder)
//!   is trained on the training split; its per-image test losses are kept, beside those of the task's
//!   best constant predictor ([`ConstantPredictor`]), the baseline the network must beat.
//! - **Step II** ([`transfer`]): encoders are frozen; each source's representations of the transfer and test
//!   views are computed once and cached; a small readout is trained from every source to every target on
//!   the transfer split (much smaller than the training split, as in the paper); for each target the top-k
//!   first-order sources are combined into higher-order transfers (all combinations up to k = 5, beam
//!   search beyond). The readouts into a target of one order train together, on the same batches
//!   ([`grouped`]). Baselines on the same test images: `self` (the target's own network), `pixels` (a
//!   readout-sized network plus an encoder trained from pixels on the transfer split only) and `random` (a
//!   readout on a randomly initialised, frozen encoder).
//! - **Step III's input** ([`measure`]): every transfer's per-image test losses become, per target, a
//!   tournament and AHP affinities ([`crate::affinity`]), written as `affinities.csv` in the paper's
//!   format, with the win rates against `self` (`wins_vs_task.csv`, Quality) and `pixels`
//!   (`wins_vs_pixels.csv`, Gain).
//!
//! - **Transitive transfer** ([`transitive`]): `s → i → t` through a mapping of `s`'s representation to
//!   the intermediate `i`'s, scored against the direct `s → t`.
//!
//! Every artifact is a folder of the run ([`crate::store`]) keyed by what produced it, so an interrupted
//! stage resumes where it stopped and a finished one re-run does nothing. Every random choice draws from a
//! seed derived from `(run seed, stage, task, sources)` ([`seed_for`]).

pub mod batch;
mod constant;
pub mod data;
mod estimate;
pub mod fit;
pub mod grouped;
mod manifest;
mod measure;
mod presets;
mod step1;
mod step2;
mod transitive;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::data::rng::{derive_seed, hash_str};
use crate::spec::{DecoderShape, TaskSpec};

pub use self::estimate::{
    compare_with_trained, estimate, estimate_each, estimates_dir, not_covered, EstimateOptions,
    Estimates,
};
pub use crate::data::dataset::Split;
pub use crate::spec::TaskSet;
pub use constant::{ConstantPredictor, CONSTANT_FIT_IMAGES};
pub use data::{DataError, DataReport, RunData, SplitSizes, TaskData, ViewTable};
pub use fit::{Curve, Schedule};
pub use grouped::ReadoutTraining;
pub use manifest::{DataSource, RunManifest};
pub use measure::{measure, win_rate, Intervals, MeasureOptions, Measurements, Table};
pub use presets::{Preset, Settings, TASK_WEIGHT_DECAY};
pub use step1::{task_artifact, train_task, train_tasks, TaskNetworkRecord};
pub use step2::{
    baselines_into, represent, transfer, transfer_into, Representations, TransferRecord,
};
pub use transitive::{map_from, transitive, Transitive, TransitivePath};

/// Bumped when a stage's code changes what it produces, so old artifacts are not reused. 2: a task
/// network's artifact holds its constant predictor's test losses.
pub const STAGE_VERSION: u32 = 2;

/// Why a stage failed.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The data could not be provided.
    #[error(transparent)]
    Data(#[from] DataError),
    /// A network could not be built or run.
    #[error(transparent)]
    Model(#[from] crate::model::ModelError),
    /// The run folder could not be read or written.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The affinities could not be computed.
    #[error(transparent)]
    Affinity(#[from] crate::affinity::AffinityError),
    /// A transferability estimate could not be computed.
    #[error(transparent)]
    Estimate(#[from] crate::estimate::EstimateError),
    /// Estimates could not be compared with the trained transfers.
    #[error(transparent)]
    Compare(#[from] crate::estimate::compare::CompareError),
    /// A table of results could not be built.
    #[error(transparent)]
    Transfers(#[from] crate::transfers::TransfersError),
    /// Training produced a loss that is not a number.
    #[error("{network}: the training loss is not finite at step {step}; lower the learning rate")]
    Diverged {
        /// The network.
        network: String,
        /// The step.
        step: usize,
    },
    /// The request does not make sense (unknown task, empty selection, bad settings).
    #[error("{0}")]
    Config(String),
}

/// What of a task spec enters artifact keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskKey {
    /// Canonical name.
    pub name: String,
    /// Declared output, e.g. `Dense<3>`.
    pub output: String,
    /// Declared loss.
    pub loss: String,
    /// Views per sample.
    pub views: usize,
    /// Where the labels come from: the declaring key (`label`, `encoding`, `from_rgb`, `point_info`),
    /// the folder and encoding of label files, how the views of a sample are paired. Labels read
    /// another way are other labels, and a network trained on them is not reused. (The code of a label
    /// function cannot enter a key: after changing one, render again into a new run folder.)
    pub labels: String,
    /// The declared decoder's shape, when it is not the preset's (so that the keys of tasks with a
    /// standard decoder do not change with this field's introduction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decoder: Option<DecoderKey>,
}

/// A decoder shape as it enters artifact keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecoderKey {
    /// Mixer blocks, when not the preset's.
    pub blocks: Option<usize>,
    /// Width relative to the preset's decoder.
    pub width_factor: usize,
}

impl TaskKey {
    /// The key fields of `spec`.
    pub fn of(spec: &TaskSpec) -> Self {
        let shape = spec.decoder_shape;
        TaskKey {
            name: spec.name.into(),
            output: spec.output.to_string(),
            loss: spec.loss.to_string(),
            views: spec.views,
            labels: labels_key(spec),
            decoder: (shape != DecoderShape::PRESET).then_some(DecoderKey {
                blocks: shape.blocks,
                width_factor: shape.width_factor,
            }),
        }
    }
}

/// [`TaskKey::labels`] of `spec`, e.g. `label depth_zbuffer Png16(scale = 0.001953125)`.
fn labels_key(spec: &TaskSpec) -> String {
    let mut key = spec.labelling.key().to_owned();
    if spec.labelling.is_stored() {
        key.push_str(&format!(" {}", spec.domain));
    }
    if let Some(encoding) = spec.encoding {
        key.push_str(&format!(" {encoding}"));
    }
    if spec.views > 1 {
        key.push_str(&format!(" {}", spec.sampling.type_name()));
    }
    key
}

/// The seed of a random choice: derived from the run seed, the stage and the names involved (task,
/// sources), never from the order in which work happens.
pub fn seed_for(run_seed: u64, stage: &str, names: &[&str]) -> u64 {
    let path: Vec<u64> = std::iter::once(hash_str(stage))
        .chain(names.iter().map(|n| hash_str(n)))
        .collect();
    derive_seed(run_seed, &path)
}

/// Progress bars for long steps: drawn on the terminal by the command line, hidden in tests and
/// libraries that do not ask for them.
#[derive(Clone, Debug)]
pub struct Progress {
    multi: Option<MultiProgress>,
}

/// The bars on standard error: one set per process, so that log lines can be written between them.
fn terminal_bars() -> &'static MultiProgress {
    static BARS: std::sync::OnceLock<MultiProgress> = std::sync::OnceLock::new();
    BARS.get_or_init(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()))
}

impl Progress {
    /// Bars drawn on standard error.
    pub fn terminal() -> Self {
        Progress {
            multi: Some(terminal_bars().clone()),
        }
    }

    /// Runs `f` (which writes to the terminal, a log line say) with the terminal's bars cleared, then
    /// draws them again below what it wrote.
    pub fn suspend<R>(f: impl FnOnce() -> R) -> R {
        terminal_bars().suspend(f)
    }

    /// No bars.
    pub fn hidden() -> Self {
        Progress { multi: None }
    }

    /// A bar of `len` steps named `message`.
    pub fn bar(&self, len: u64, message: impl Into<String>) -> ProgressBar {
        let Some(multi) = &self.multi else {
            return ProgressBar::hidden();
        };
        let bar = multi.add(ProgressBar::new(len));
        if let Ok(style) =
            ProgressStyle::with_template("{msg:>32} [{bar:30}] {pos}/{len} ({elapsed}, eta {eta})")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(message.into());
        bar
    }
}

/// What every artifact key is made of: the settings, the seed and the data, as the run folder records
/// them. Enough to find every artifact of a run without a device or the dataset.
#[derive(Clone, Copy, Debug)]
pub struct Keys<'a> {
    /// The run folder.
    pub run: &'a crate::store::RunFolder,
    /// Sizes and schedules.
    pub settings: &'a Settings,
    /// The run seed.
    pub seed: u64,
    /// The run's data: its fingerprint and the keys of every task's samples.
    pub data: &'a DataReport,
}

/// Everything a training stage works with.
pub struct Context<'a, D> {
    /// The device networks run on.
    pub dev: &'a D,
    /// The run folder.
    pub run: &'a crate::store::RunFolder,
    /// The data.
    pub data: &'a RunData,
    /// Sizes and schedules.
    pub settings: &'a Settings,
    /// The run seed.
    pub seed: u64,
    /// Progress bars.
    pub progress: Progress,
    /// How step II trains its readouts (grouped unless asked otherwise).
    pub readouts: ReadoutTraining,
}

impl<'a, D> Context<'a, D> {
    /// The keys of the run's artifacts.
    pub fn keys(&self) -> Keys<'a> {
        Keys {
            run: self.run,
            settings: self.settings,
            seed: self.seed,
            data: self.data.report(),
        }
    }
}

/// Per-image test losses of one network, as stored in `test_losses.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestLosses {
    /// What the network is (`task depth`, `transfer surface_normals+depth → reshading`).
    pub network: String,
    /// The loss of every test sample, in the dataset's order.
    pub losses: Vec<f32>,
}

impl TestLosses {
    /// The mean loss.
    pub fn mean(&self) -> f64 {
        mean_loss(&self.losses)
    }

    /// The test losses kept in a trained network's artifact.
    pub fn read(artifact: &crate::store::Artifact) -> Result<Self, crate::store::StoreError> {
        artifact.read_json("test_losses.json", "per-image test losses")
    }
}

/// The number of test images every network in `scored` (label, per-image losses) was scored on, for a
/// tournament into `target`; an error if they differ (an artifact left by a run with another test split
/// cannot be compared image by image).
fn images_scored<'a>(
    target: &str,
    scored: impl IntoIterator<Item = (String, &'a [f32])>,
) -> Result<usize, TrainError> {
    let mut images = None;
    for (label, losses) in scored {
        let n = *images.get_or_insert(losses.len());
        if losses.len() != n {
            return Err(TrainError::Config(format!(
                "`{label}` → {target} was scored on {} test images, others on {n}; rerun step II",
                losses.len()
            )));
        }
    }
    Ok(images.unwrap_or(0))
}

/// The mean of per-image losses (0 for none).
fn mean_loss(losses: &[f32]) -> f64 {
    losses.iter().map(|&l| f64::from(l)).sum::<f64>() / losses.len().max(1) as f64
}

/// Writes what every trained network leaves in its artifact: its weights (safetensors), its per-image test
/// losses, and its loss curve as JSON and as SVG titled `title`.
fn save_trained<D: dfdx::prelude::Device<f32>>(
    artifact: &crate::store::Artifact,
    model: &impl crate::model::Parameters<D>,
    losses: &TestLosses,
    curve: &Curve,
    title: &str,
) -> Result<(), TrainError> {
    crate::model::params::save_safetensors(model, &artifact.path("weights.safetensors"))?;
    artifact.write_json("test_losses.json", losses)?;
    artifact.write_json("curve.json", curve)?;
    artifact.write(
        "curve.svg",
        curve_svg(title, curve, losses.mean()).as_bytes(),
    )?;
    Ok(())
}

/// A loss curve as SVG: the training loss over steps, and the mean test loss as a marked point at the end.
pub fn curve_svg(title: &str, curve: &Curve, test_mean: f64) -> String {
    let train: Vec<(f64, f64)> = curve
        .train
        .iter()
        .map(|&(step, loss)| (step as f64, loss))
        .collect();
    let last = train.last().map_or(1.0, |p| p.0);
    crate::plot::LineChart::new(title)
        .axes("step", "loss")
        .series("train", train, false)
        .series("test (mean)", vec![(last, test_mean)], true)
        .to_svg()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Encoding, Labelling, Sampling};

    #[test]
    fn labels_read_another_way_make_another_task_key() {
        let rendered = crate::spec::tests::spec("depth");
        let key = |spec: &TaskSpec| TaskKey::of(spec).labels;
        assert_eq!(key(&rendered), "label depth Npy");
        let stored = TaskSpec {
            labelling: Labelling::Stored,
            domain: "depth_zbuffer",
            encoding: Some(Encoding::png(16)),
            ..rendered
        };
        assert_eq!(key(&stored), "encoding depth_zbuffer Png16");
        let pairs = TaskSpec {
            labelling: Labelling::FromPointInfo,
            encoding: None,
            views: 2,
            sampling: Sampling::NonFixated,
            ..rendered
        };
        assert_eq!(key(&pairs), "point_info NonFixated");
        assert_ne!(TaskKey::of(&rendered), TaskKey::of(&stored));
    }

    #[test]
    fn networks_scored_on_the_same_images_can_meet_in_a_tournament() {
        let (a, b) = ([0.1, 0.2, 0.3], [0.3, 0.2, 0.1]);
        let scored = [("depth".to_owned(), &a[..]), ("edges".to_owned(), &b[..])];
        assert_eq!(images_scored("normals", scored).unwrap(), 3);
        assert_eq!(images_scored("normals", []).unwrap(), 0);
    }

    #[test]
    fn a_network_scored_on_other_images_is_named() {
        let (a, b) = ([0.1, 0.2, 0.3], [0.3, 0.2]);
        let scored = [("depth".to_owned(), &a[..]), ("edges".to_owned(), &b[..])];
        let error = images_scored("normals", scored).unwrap_err().to_string();
        assert_eq!(
            error,
            "`edges` → normals was scored on 2 test images, others on 3; rerun step II"
        );
    }
}
