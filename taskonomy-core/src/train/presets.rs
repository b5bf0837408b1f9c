//! Sizes and schedules of a run, in three presets.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::data::SplitSizes;
use super::fit::Schedule;
use super::TrainError;
use crate::model::Arch;

/// A named set of [`Settings`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// 16×16 images and networks of a few thousand weights: the whole pipeline on all 26 tasks in a few
    /// minutes (continuous integration). Still, every standard task's network beats its best constant
    /// predictor here (`tests/tasks_learn.rs`), which takes 400 scenes, 3 000 training images per task
    /// and 300 steps; with the 12 scenes, 96 images and 60 steps this preset once had, half of the
    /// networks (poses, layout, classes, depth, normals) ended worse than the constant.
    Tiny,
    /// 32×32 images, 3 000 training, 384 transfer and 512 test images per task from 400 scenes: all 26
    /// tasks end to end in about 5½ minutes on two idle cores. Its findings are stable across seeds where
    /// the data allow (a median per-target Spearman's ρ of 0.82 between three seeds, against 0.58 with the
    /// 480, 96 and 96 images it once had). With those 480 training images from 48 scenes, the image-level
    /// networks (poses, layout, vanishing points, classes, jigsaw) memorised them and ended worse than
    /// their constant predictors.
    Small,
    /// 64×64 images and deeper networks, for real measurements on a GPU or a long CPU run.
    Paper,
}

impl Preset {
    /// All presets.
    pub const ALL: [Preset; 3] = [Preset::Tiny, Preset::Small, Preset::Paper];

    /// The preset's name.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Tiny => "tiny",
            Preset::Small => "small",
            Preset::Paper => "paper",
        }
    }

    /// The preset's settings.
    ///
    /// The task networks of `tiny` and `small` train with decoupled weight decay on their weight
    /// matrices ([`TASK_WEIGHT_DECAY`]): they start at their task's constant predictor (step I sets the
    /// decoder's output bias to it), and the decay pulls them back towards that prediction wherever the
    /// few thousand training images do not pull harder. Without it the pose networks at `tiny` memorise
    /// their training pairs and predict the test pairs worse than the constant.
    pub fn settings(self) -> Settings {
        let schedule = |steps: usize, batch_size: usize, lr: f64| Schedule {
            steps,
            batch_size,
            shards: 2,
            lr,
            warmup: (steps / 20).max(1),
            final_lr_fraction: 0.05,
            weight_decay: 0.0,
        };
        let task = |steps: usize, batch_size: usize, lr: f64| Schedule {
            weight_decay: TASK_WEIGHT_DECAY,
            ..schedule(steps, batch_size, lr)
        };
        match self {
            Preset::Tiny => Settings {
                preset: self.name().into(),
                arch: Arch {
                    image_size: 16,
                    patch: 4,
                    width: 32,
                    bottleneck: 8,
                    depth: 1,
                    token_hidden: 32,
                    channel_hidden: 64,
                    decoder_width: 32,
                    decoder_depth: 1,
                    readout_width: 32,
                    readout_depth: 0,
                },
                task: task(300, 32, 3e-3),
                transfer: schedule(60, 16, 3e-3),
                scratch: schedule(60, 16, 3e-3),
                eval_batch: 64,
                max_order: 2,
                top_k: 3,
                beam: 4,
                samples: SplitSizes {
                    train: 3000,
                    transfer: 32,
                    test: 128,
                },
                scenes: 400,
            },
            Preset::Small => Settings {
                preset: self.name().into(),
                arch: Arch {
                    image_size: 32,
                    patch: 4,
                    width: 64,
                    bottleneck: 8,
                    depth: 2,
                    token_hidden: 64,
                    channel_hidden: 128,
                    decoder_width: 64,
                    decoder_depth: 1,
                    readout_width: 64,
                    readout_depth: 0,
                },
                task: task(300, 32, 2e-3),
                transfer: schedule(150, 32, 2e-3),
                scratch: schedule(300, 32, 2e-3),
                eval_batch: 64,
                max_order: 3,
                top_k: 4,
                beam: 4,
                samples: SplitSizes {
                    train: 3000,
                    transfer: 384,
                    test: 512,
                },
                scenes: 400,
            },
            Preset::Paper => Settings {
                preset: self.name().into(),
                arch: Arch {
                    image_size: 64,
                    patch: 8,
                    width: 128,
                    bottleneck: 16,
                    depth: 4,
                    token_hidden: 128,
                    channel_hidden: 256,
                    decoder_width: 128,
                    decoder_depth: 2,
                    readout_width: 128,
                    readout_depth: 0,
                },
                task: schedule(6000, 32, 1e-3),
                transfer: schedule(1500, 32, 1e-3),
                scratch: schedule(6000, 32, 1e-3),
                eval_batch: 64,
                max_order: 4,
                top_k: 5,
                beam: 5,
                samples: SplitSizes {
                    train: 20_000,
                    transfer: 2_000,
                    test: 2_000,
                },
                scenes: 600,
            },
        }
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Preset {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Preset::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| format!("unknown preset `{s}`: expected tiny, small or paper"))
    }
}

/// The decoupled weight decay of the task networks of `tiny` and `small`, per unit of learning rate:
/// their schedules' learning rates sum to about 0.47 and 0.31, so a weight no gradient holds shrinks
/// to about 0.6 and 0.7 of its initial size.
pub const TASK_WEIGHT_DECAY: f64 = 1.0;

/// Everything that sizes a run; it enters the key of every artifact.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// The preset these settings came from.
    pub preset: String,
    /// Network sizes.
    pub arch: Arch,
    /// Step I: the task networks.
    pub task: Schedule,
    /// Step II: the readouts.
    pub transfer: Schedule,
    /// Step II: the `pixels` baseline.
    pub scratch: Schedule,
    /// Samples per batch when evaluating or caching representations.
    pub eval_batch: usize,
    /// The highest transfer order (number of sources).
    pub max_order: usize,
    /// How many of a target's best first-order sources are combined into higher orders.
    pub top_k: usize,
    /// Beam width of the search over higher orders when `top_k` exceeds 5.
    pub beam: usize,
    /// At most this many samples of each task per split.
    pub samples: SplitSizes,
    /// Scenes to render for a synthetic dataset.
    pub scenes: usize,
}

impl Settings {
    /// Checks that the settings make sense.
    pub fn validate(&self) -> Result<(), TrainError> {
        self.arch.validate()?;
        for (name, s) in [
            ("task", &self.task),
            ("transfer", &self.transfer),
            ("scratch", &self.scratch),
        ] {
            if s.steps == 0
                || s.batch_size == 0
                || s.shards == 0
                || !s.lr.is_finite()
                || s.lr <= 0.0
            {
                return Err(TrainError::Config(format!(
                    "the {name} schedule needs positive steps, batch size, shards and learning rate"
                )));
            }
        }
        if self.max_order == 0 || self.top_k == 0 || self.beam == 0 || self.eval_batch == 0 {
            return Err(TrainError::Config(
                "max_order, top_k, beam and eval_batch must be positive".into(),
            ));
        }
        let samples = self.samples;
        if samples.train == 0 || samples.transfer == 0 || samples.test == 0 {
            return Err(TrainError::Config(
                "every split needs at least one sample per task".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid_and_grow() {
        let mut last = 0;
        for preset in Preset::ALL {
            let s = preset.settings();
            s.validate().unwrap();
            assert_eq!(s.preset.parse::<Preset>().unwrap(), preset);
            assert!(s.arch.image_size > last);
            last = s.arch.image_size;
            // The transfer split is much smaller than the training split, as in the paper.
            assert!(s.samples.transfer * 3 <= s.samples.train);
        }
        assert!("huge".parse::<Preset>().is_err());
    }
}
