//! Step II's readouts trained in groups: every readout into one target of one transfer order (the 26
//! first-order sources and `random`, then each higher order's source sets) trains in one pass.
//!
//! The readouts of a group see the same samples at every step (the target's batches, drawn once from a
//! seed of the target) and the same labels; they differ in their sources. So a step selects the labels
//! once, gathers each readout's rows of the cached representations, and then, on the CPU, runs every
//! readout's forward pass, loss, backward pass and Adam update in plain memory (`HostReadout`), the
//! readouts dealt to the cores. A readout trained alone through dfdx pays, at every step, for a dozen
//! tape operations with their allocations, a gradient store and an optimiser pass, and for losses that
//! dfdx computes one element at a time on one core (the cross-entropy of pixel classes, the contrastive
//! loss of segment embeddings): costs of the same order as its arithmetic, which is small (an 8-channel
//! representation into a 64-wide layer). A group pays none of them.
//!
//! Grouping changes how readouts are computed, not what is stored: each keeps its own weights (drawn
//! from its own seed, exactly as a readout trained alone), its own loss curve and its own artifact.
//! [`one_at_a_time`] trains the same group through dfdx's tape, one readout after the other, on any
//! device; it is what devices without a grouped step run (CUDA), and the reference the test below
//! holds the grouped step to.
//!
//! A head scored by the contrastive loss is computed only at the pixels its targets sample (64 of an
//! image's 1,024 at `small`): the rest of its output has no gradient and no score, so the grouped step
//! skips it. For the 64-channel segment embeddings that is 16 times less arithmetic in the second layer.

mod loss;
mod readout;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use indicatif::ProgressBar;

use self::readout::{HostReadout, Output};
use super::batch::{BatchSource, HostTargets, RepBatches};
use super::fit::{draw_steps, evaluate, fit, prefetched, Curve, CurveWindows, LossSpec, Schedule};
use super::TrainError;
use crate::model::device::Cpu;
use crate::model::kernels::{run_on_shard_threads, shard_threads};
use crate::model::{Head, Kernels, OutputLayout};
use crate::spec::LossKind;

/// How step II trains the readouts of a group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReadoutTraining {
    /// As the device trains groups ([`ShardDevice::fit_readouts`](super::fit::ShardDevice::fit_readouts)):
    /// together on the CPU, one after the other elsewhere.
    #[default]
    Grouped,
    /// One after the other through dfdx's tape ([`one_at_a_time`]) on every device: the reference the
    /// grouped step is held to, slower. It gives the same readouts, so it does not enter their keys.
    OneAtATime,
}

/// What every readout of a group shares: how it is scored, how it trains, on which samples.
#[derive(Clone, Copy)]
pub struct GroupJob<'a> {
    /// The target's loss and output layout.
    pub loss: LossSpec,
    /// Side of a patch (a per-pixel head emits `patch²` pixels per token).
    pub patch: usize,
    /// The readouts' schedule.
    pub schedule: &'a Schedule,
    /// The seed of the target's batches, shared by every readout of the group.
    pub seed: u64,
    /// Samples per batch when scoring.
    pub eval_batch: usize,
    /// The labels of the target's transfer split.
    pub train_targets: &'a HostTargets,
    /// The labels of its test split.
    pub test_targets: &'a HostTargets,
}

/// One readout of a group: its name and its inputs (the representations of its sources).
pub struct Member<'a> {
    /// `sources → target`, for errors and logs.
    pub name: String,
    /// Its rows of the transfer split, with the target's labels.
    pub train: RepBatches<'a>,
    /// Its rows of the test split, with the target's labels.
    pub test: RepBatches<'a>,
}

/// What training a readout leaves: its loss curve and its test losses (its weights are in its head).
#[derive(Clone, Debug, PartialEq)]
pub struct Trained {
    /// The training loss along the way.
    pub curve: Curve,
    /// The loss of every test sample, in order.
    pub test_losses: Vec<f32>,
}

/// Trains the readouts `heads` (one per member) through dfdx's tape, one after the other, then scores
/// each on its test rows. Advances `progress` by one per step of each readout.
pub fn one_at_a_time<D: super::fit::ShardDevice>(
    dev: &D,
    heads: &mut [Head<D>],
    members: &[Member<'_>],
    job: &GroupJob<'_>,
    progress: &ProgressBar,
) -> Result<Vec<Trained>, TrainError> {
    check_members(heads.len(), members)?;
    progress.set_length((job.schedule.steps * members.len()) as u64);
    heads
        .iter_mut()
        .zip(members)
        .map(|(head, member)| {
            let curve = fit(
                dev,
                head,
                &member.train,
                job.loss,
                job.schedule,
                job.seed,
                &member.name,
                progress,
            )?;
            let test_losses = evaluate(dev, head, &member.test, job.loss, job.eval_batch)?;
            Ok(Trained { curve, test_losses })
        })
        .collect()
}

/// Whether `heads` can train together on the host: two-layer readouts (no Mixer blocks).
pub fn trains_together<D: Kernels>(heads: &[Head<D>]) -> bool {
    heads
        .iter()
        .all(|h| h.blocks.is_empty() && h.norm.is_none())
}

/// Trains the two-layer readouts `heads` (one per member) together on the CPU, every step of every
/// readout on the same batch, the readouts split over the cores; then scores each on its test rows and
/// writes the trained weights back into its head. Advances `progress` by one per step of the group.
pub fn together(
    heads: &mut [Head<Cpu>],
    members: &[Member<'_>],
    job: &GroupJob<'_>,
    progress: &ProgressBar,
) -> Result<Vec<Trained>, TrainError> {
    let group = ReadoutGroup::new(heads, members, job)?;
    let schedule = job.schedule;
    let steps = draw_steps(group.samples(), schedule, job.seed);
    let mut curves: Vec<CurveWindows> = members
        .iter()
        .map(|_| CurveWindows::new(schedule.steps))
        .collect();
    progress.set_length(schedule.steps as u64);
    let mut step = 0;
    prefetched(
        &steps,
        |indices| Ok(job.train_targets.select(indices)),
        |targets| {
            let losses = group.step(step, &steps[step], &targets)?;
            for ((loss, member), curve) in losses.into_iter().zip(members).zip(&mut curves) {
                if !loss.is_finite() {
                    return Err(TrainError::Diverged {
                        network: member.name.clone(),
                        step,
                    });
                }
                curve.push(step, loss);
            }
            progress.inc(1);
            step += 1;
            Ok(())
        },
    )?;
    let scores = group.score()?;
    group.write_into(heads);
    Ok(scores
        .into_iter()
        .zip(curves)
        .map(|(test_losses, curve)| Trained {
            curve: curve.finish(),
            test_losses,
        })
        .collect())
}

/// Two-layer readouts of one target on the host, trained step by step on the same batches: what
/// [`together`] runs, open for benchmarks.
pub struct ReadoutGroup<'a> {
    readouts: Vec<Mutex<HostReadout>>,
    members: &'a [Member<'a>],
    job: GroupJob<'a>,
}

impl<'a> ReadoutGroup<'a> {
    /// The readouts `heads` (one per member, two layers each) with fresh optimiser states.
    pub fn new(
        heads: &[Head<Cpu>],
        members: &'a [Member<'a>],
        job: &GroupJob<'a>,
    ) -> Result<Self, TrainError> {
        check_members(heads.len(), members)?;
        if members[0].train.is_empty() {
            return Err(TrainError::Config(format!(
                "{}: no training samples",
                members[0].name
            )));
        }
        let output = output_of(job)?;
        let readouts = heads
            .iter()
            .map(|head| HostReadout::of(head, output).map(Mutex::new))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ReadoutGroup {
            readouts,
            members,
            job: *job,
        })
    }

    /// Training samples of every member.
    pub fn samples(&self) -> usize {
        self.members[0].train.len()
    }

    /// Optimiser step `step` (0-based, which sets the learning rate) of every readout on the training
    /// samples at `indices`, whose labels are `targets`; returns each readout's mean loss on them.
    pub fn step(
        &self,
        step: usize,
        indices: &[usize],
        targets: &HostTargets,
    ) -> Result<Vec<f32>, TrainError> {
        let schedule = self.job.schedule;
        let lr = schedule.lr_at(step);
        for_each_member(self.members.len(), &|g| {
            let x = self.members[g].train.rows(indices);
            lock(&self.readouts[g])
                .train_step(
                    &x,
                    indices.len(),
                    targets,
                    self.job.loss.loss,
                    step as i32 + 1,
                    lr,
                    schedule.weight_decay,
                )
                .map_err(TrainError::from)
        })
        .into_iter()
        .collect()
    }

    /// Every readout's loss on every test sample, in order.
    pub fn score(&self) -> Result<Vec<Vec<f32>>, TrainError> {
        let test_samples: Vec<usize> = (0..self.members[0].test.len()).collect();
        let chunks: Vec<(&[usize], HostTargets)> = test_samples
            .chunks(self.job.eval_batch.max(1))
            .map(|chunk| (chunk, self.job.test_targets.select(chunk)))
            .collect();
        for_each_member(self.members.len(), &|g| {
            let readout = lock(&self.readouts[g]);
            let mut losses = Vec::with_capacity(test_samples.len());
            for (chunk, targets) in &chunks {
                let x = self.members[g].test.rows(chunk);
                losses.extend(readout.score(&x, chunk.len(), targets, self.job.loss.loss)?);
            }
            Ok(losses)
        })
        .into_iter()
        .collect()
    }

    /// Copies every readout's trained weights into its head.
    pub fn write_into(self, heads: &mut [Head<Cpu>]) {
        for (readout, head) in self.readouts.into_iter().zip(heads) {
            readout
                .into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .write_into(head);
        }
    }
}

/// What a readout's second layer computes for the target's loss and layout.
fn output_of(job: &GroupJob<'_>) -> Result<Output, TrainError> {
    let LossSpec {
        loss,
        layout,
        image_size,
    } = job.loss;
    let tokens = (image_size / job.patch.max(1)).pow(2);
    Ok(match (layout, loss) {
        (OutputLayout::PerImage { .. }, _) => Output::Pooled { tokens },
        (OutputLayout::PerPixel { channels }, LossKind::Contrastive) => Output::Sampled {
            tokens,
            pixels: job.patch * job.patch,
            channels,
        },
        (OutputLayout::PerPixel { channels } | OutputLayout::PerToken { channels, .. }, _) => {
            Output::Tokens { channels }
        }
    })
}

fn check_members(heads: usize, members: &[Member<'_>]) -> Result<(), TrainError> {
    let samples = members.first().map(|m| (m.train.len(), m.test.len()));
    if heads != members.len()
        || members.is_empty()
        || members
            .iter()
            .any(|m| Some((m.train.len(), m.test.len())) != samples)
    {
        return Err(TrainError::Config(format!(
            "a group of {heads} readouts for {} members that must all see the same samples",
            members.len()
        )));
    }
    Ok(())
}

/// `job(g)` for every member `g` of a group, in order: the CPU's shard threads (each single-threaded)
/// take the members one at a time as they come free, so each member's arithmetic runs on one thread
/// and its result does not depend on how many threads there are or which one ran it.
fn for_each_member<R: Send>(members: usize, job: &(dyn Fn(usize) -> R + Sync)) -> Vec<R> {
    let threads = shard_threads().clamp(1, members.max(1));
    let next = AtomicUsize::new(0);
    let done: Vec<Mutex<Option<R>>> = (0..members).map(|_| Mutex::new(None)).collect();
    run_on_shard_threads(threads, &|_| loop {
        let g = next.fetch_add(1, Ordering::Relaxed);
        if g >= members {
            break;
        }
        *lock(&done[g]) = Some(job(g));
    });
    done.into_iter()
        .filter_map(|slot| slot.into_inner().unwrap_or_else(|e| e.into_inner()))
        .collect()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests;
