//! The training loop shared by every network of steps I and II, and per-image evaluation.
//!
//! Batches are prepared on the host ([`BatchSource`]: read from disk and decoded, or gathered from cached
//! representations) one step ahead, on a thread of their own, while the device trains on the previous one
//! ([`prefetched`]); at most a few batches are in memory at once, whatever the size of the data.

use std::sync::mpsc;

use dfdx::prelude::*;
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};

use super::batch::{BatchSource, HostBatch};
use super::grouped::{GroupJob, Member, Trained};
use super::TrainError;
use crate::data::rng::Rng;
use crate::model::layers::Act;
use crate::model::params::ParamRef;
use crate::model::{
    output_block, per_image_loss, Adam, Head, Kernels, ModelError, Network, OutputLayout,
    Parameters,
};
use crate::spec::LossKind;

/// A network that maps input rows of a batch to its head's output.
pub trait Predict<D: Kernels>: Parameters<D> {
    /// The network as one of the kinds a training step knows.
    fn trainable(&self) -> Trainable<'_, D>;

    /// The output for `batch` samples of input rows.
    fn predict<T: Tape<f32, D>>(
        &self,
        rows: Act<D, T>,
        batch: usize,
    ) -> Result<Act<D, T>, ModelError> {
        self.trainable().predict(rows, batch)
    }
}

/// A reference to a network being trained: a whole network, or a head on cached representations. A
/// closed set, so that a device can hand the concrete networks to its threads (the CPU's are `Sync`).
pub enum Trainable<'a, D: Kernels> {
    /// Encoder and head.
    Network(&'a Network<D>),
    /// A head alone.
    Head(&'a Head<D>),
}

impl<D: Kernels> Clone for Trainable<'_, D> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<D: Kernels> Copy for Trainable<'_, D> {}

impl<D: Kernels> Trainable<'_, D> {
    fn predict<T: Tape<f32, D>>(
        self,
        rows: Act<D, T>,
        batch: usize,
    ) -> Result<Act<D, T>, ModelError> {
        match self {
            Trainable::Network(n) => n.forward(rows, batch),
            Trainable::Head(h) => h.forward(rows, batch),
        }
    }
}

impl<D: Kernels> Predict<D> for Network<D> {
    fn trainable(&self) -> Trainable<'_, D> {
        Trainable::Network(self)
    }
}

impl<D: Kernels> Predict<D> for Head<D> {
    fn trainable(&self) -> Trainable<'_, D> {
        Trainable::Head(self)
    }
}

/// How long and how fast a network trains: Adam with a linear warm-up, then a cosine decay to a fraction
/// of the peak learning rate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    /// Optimiser steps.
    pub steps: usize,
    /// Samples per step.
    pub batch_size: usize,
    /// Each step's batch is cut into this many shards whose gradients are summed; the CPU computes them
    /// in parallel threads. A fixed number (not the machine's core count), because the summation order
    /// it implies is part of the result.
    pub shards: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// Steps of linear warm-up.
    pub warmup: usize,
    /// The learning rate at the last step, as a fraction of the peak.
    pub final_lr_fraction: f64,
    /// Decoupled weight decay of the weight matrices, per unit of learning rate (0: none; left out of
    /// the settings' JSON, and so of artifact keys, when 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub weight_decay: f64,
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

impl Schedule {
    /// The learning rate of step `step` (0-based).
    pub fn lr_at(&self, step: usize) -> f64 {
        if step < self.warmup {
            return self.lr * (step + 1) as f64 / self.warmup as f64;
        }
        let span = self.steps.saturating_sub(self.warmup).max(1) as f64;
        let t = ((step - self.warmup) as f64 / span).min(1.0);
        let floor = self.final_lr_fraction;
        self.lr * (floor + (1.0 - floor) * 0.5 * (1.0 + (std::f64::consts::PI * t).cos()))
    }
}

/// The training loss along the way: the mean over each window of steps.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Curve {
    /// `(last step of the window, mean training loss over the window)`.
    pub train: Vec<(usize, f64)>,
}

/// What the loop needs to know about the labels: the loss, the output layout, the image side.
#[derive(Clone, Copy, Debug)]
pub struct LossSpec {
    /// The task's loss.
    pub loss: LossKind,
    /// The head's output layout.
    pub layout: OutputLayout,
    /// Image side.
    pub image_size: usize,
}

/// Draws batches: epochs of a shuffled order, a new shuffle for each epoch.
struct Batches {
    order: Vec<usize>,
    at: usize,
    epoch: u64,
    seed: u64,
}

impl Batches {
    fn new(len: usize, seed: u64) -> Self {
        // `at` at the end: the first batch shuffles.
        Batches {
            order: (0..len).collect(),
            at: len,
            epoch: 0,
            seed,
        }
    }

    fn next(&mut self, size: usize) -> Vec<usize> {
        let mut out = Vec::with_capacity(size);
        while out.len() < size.min(self.order.len()) {
            if self.at == self.order.len() {
                Rng::new(self.seed, &[self.epoch]).shuffle(&mut self.order);
                self.epoch += 1;
                self.at = 0;
            }
            out.push(self.order[self.at]);
            self.at += 1;
        }
        out
    }
}

/// Batches prepared this many steps ahead of the one being trained.
const PREFETCH: usize = 2;

/// Prepares `produce(job)` for every job in order on a thread of its own, at most `PREFETCH` (2) ahead, and
/// hands each to `consume` in order. Stops at the first error, which is the one returned: a job that
/// could not be produced is never consumed.
pub fn prefetched<J: Sync, T: Send>(
    jobs: &[J],
    produce: impl Fn(&J) -> Result<T, TrainError> + Sync,
    mut consume: impl FnMut(T) -> Result<(), TrainError>,
) -> Result<(), TrainError> {
    let produce = &produce;
    std::thread::scope(|scope| {
        let (send, receive) = mpsc::sync_channel(PREFETCH);
        let producer = scope.spawn(move || {
            for job in jobs {
                let ready = produce(job);
                let failed = ready.is_err();
                // The consumer stopped (it failed): nothing more is wanted.
                if send.send(ready).is_err() || failed {
                    break;
                }
            }
        });
        let mut outcome = Ok(());
        for ready in receive.iter() {
            if let Err(e) = ready.and_then(&mut consume) {
                outcome = Err(e);
                break;
            }
        }
        drop(receive);
        if let Err(panic) = producer.join() {
            std::panic::resume_unwind(panic);
        }
        outcome
    })
}

/// A shard's share of the batch loss and its gradients.
pub type ShardResult<D> = Result<(f32, Gradients<f32, D>), ModelError>;

/// What every shard of a training step reads.
pub struct ShardWork<'a, D: Kernels> {
    dev: &'a D,
    model: Trainable<'a, D>,
    batch: &'a HostBatch,
    spec: LossSpec,
    /// Samples in the whole batch: each shard's loss is its sum over this, so the shards' gradients add
    /// up to the gradient of the batch mean.
    total: f32,
}

/// A device the trainer runs on, and how it computes the shards of a training step: the trainer cuts
/// each batch into a fixed number of shards (their order fixes the result); the CPU computes them at
/// once, on threads of their own, another device one after the other.
pub trait ShardDevice: Kernels {
    /// The loss share and gradients of every shard, in order.
    fn shard_gradients(work: &ShardWork<'_, Self>, parts: &[&[usize]]) -> Vec<ShardResult<Self>> {
        parts.iter().map(|part| work.gradients(part)).collect()
    }

    /// Trains a group of readouts into one target (one head per member, all on the same batches) and
    /// scores each; by default one after the other through dfdx's tape
    /// ([`one_at_a_time`](super::grouped::one_at_a_time)).
    fn fit_readouts(
        &self,
        heads: &mut [Head<Self>],
        members: &[Member<'_>],
        job: &GroupJob<'_>,
        progress: &ProgressBar,
    ) -> Result<Vec<Trained>, TrainError> {
        super::grouped::one_at_a_time(self, heads, members, job, progress)
    }
}

// This impl also compiles the CPU's training step in this crate, which dev builds optimise: downstream
// crates (tests, examples) reuse that instance rather than compiling the hot path unoptimised.
impl ShardDevice for crate::model::device::Cpu {
    fn shard_gradients(work: &ShardWork<'_, Self>, parts: &[&[usize]]) -> Vec<ShardResult<Self>> {
        crate::model::kernels::run_on_shard_threads(parts.len(), &|i| work.gradients(parts[i]))
    }

    /// Two-layer readouts train together in plain memory ([`together`](super::grouped::together));
    /// deeper ones one after the other.
    fn fit_readouts(
        &self,
        heads: &mut [Head<Self>],
        members: &[Member<'_>],
        job: &GroupJob<'_>,
        progress: &ProgressBar,
    ) -> Result<Vec<Trained>, TrainError> {
        if super::grouped::trains_together(heads) {
            super::grouped::together(heads, members, job, progress)
        } else {
            super::grouped::one_at_a_time(self, heads, members, job, progress)
        }
    }
}

#[cfg(feature = "cuda")]
impl ShardDevice for crate::model::device::Cuda {}

impl<D: Kernels> ShardWork<'_, D> {
    /// The loss share and gradients of the batch's samples at `part`.
    fn gradients(&self, part: &[usize]) -> ShardResult<D> {
        let b = part.len();
        let rows = self.batch.rows_on(self.dev, part)?;
        let target = self
            .batch
            .targets
            .as_ref()
            .ok_or_else(|| ModelError::Batch("a training batch without targets".into()))?
            .batch(self.dev, part)?;
        let out = self.model.predict(rows.traced(Gradients::leaky()), b)?;
        let block = output_block(out, b, self.spec.layout, self.spec.image_size)?;
        let loss = per_image_loss(self.spec.loss, block, &target)?
            .try_sum::<(), _>()
            .and_then(|l| l.try_div(self.total))
            .map_err(ModelError::device)?;
        let value = loss
            .retaped::<NoneTape>()
            .as_vec()
            .first()
            .copied()
            .unwrap_or(f32::NAN);
        let grads = loss.try_backward().map_err(ModelError::device)?;
        Ok((value, grads))
    }
}

/// One optimiser step on `batch`, cut into `shards` parts whose gradients are computed (in parallel on
/// the CPU) and summed; returns the batch's mean loss.
pub fn train_step<D: ShardDevice, M: Predict<D>>(
    dev: &D,
    model: &mut M,
    optimiser: &mut Adam<D>,
    batch: &HostBatch,
    spec: LossSpec,
    shards: usize,
) -> Result<f32, ModelError> {
    let positions: Vec<usize> = (0..batch.len()).collect();
    let per_shard = positions.len().div_ceil(shards.max(1)).max(1);
    let parts: Vec<&[usize]> = positions.chunks(per_shard).collect();
    let work = ShardWork {
        dev,
        model: model.trainable(),
        batch,
        spec,
        total: positions.len() as f32,
    };
    let results = D::shard_gradients(&work, &parts);
    let mut results = results.into_iter();
    let (mut value, mut grads) = results
        .next()
        .ok_or_else(|| ModelError::Batch("an empty batch".into()))??;
    for result in results {
        let (v, mut g) = result?;
        value += v;
        let mut failure = None;
        model.visit("", &mut |_, p| {
            let merged = match p {
                ParamRef::Vector(t) => D::merge_gradient(&mut grads, &mut g, t),
                ParamRef::Matrix(t) => D::merge_gradient(&mut grads, &mut g, t),
            };
            if let Err(e) = merged {
                failure.get_or_insert(e);
            }
        });
        if let Some(e) = failure {
            return Err(ModelError::device(e));
        }
    }
    optimiser
        .update(model, &mut grads)
        .map_err(ModelError::device)?;
    Ok(value)
}

/// Trains `model` on the samples of `source` following `schedule`; `name` labels errors and the progress
/// bar (advanced by one per step).
#[allow(clippy::too_many_arguments)]
pub fn fit<D: ShardDevice, M: Predict<D>>(
    dev: &D,
    model: &mut M,
    source: &dyn BatchSource,
    spec: LossSpec,
    schedule: &Schedule,
    seed: u64,
    name: &str,
    progress: &ProgressBar,
) -> Result<Curve, TrainError> {
    if source.is_empty() {
        return Err(TrainError::Config(format!("{name}: no training samples")));
    }
    let mut optimiser = Adam::new(model, dev, schedule.lr)
        .map_err(ModelError::device)?
        .with_weight_decay(schedule.weight_decay);
    let steps = draw_steps(source.len(), schedule, seed);
    let mut curve = CurveWindows::new(schedule.steps);
    let mut step = 0;
    prefetched(
        &steps,
        |indices| source.batch(indices),
        |batch| {
            optimiser.set_lr(schedule.lr_at(step));
            let loss = train_step(dev, model, &mut optimiser, &batch, spec, schedule.shards)?;
            if !loss.is_finite() {
                return Err(TrainError::Diverged {
                    network: name.into(),
                    step,
                });
            }
            curve.push(step, loss);
            progress.inc(1);
            step += 1;
            Ok(())
        },
    )?;
    Ok(curve.finish())
}

/// The samples of every step of `schedule` over `len` samples, drawn before training starts (so that
/// batches can be prepared ahead): epochs of a shuffled order drawn from `seed`.
pub fn draw_steps(len: usize, schedule: &Schedule, seed: u64) -> Vec<Vec<usize>> {
    let mut batches = Batches::new(len, seed);
    (0..schedule.steps)
        .map(|_| batches.next(schedule.batch_size))
        .collect()
}

/// A [`Curve`] in the making: the training loss averaged over windows of a fiftieth of the steps.
#[derive(Clone, Debug)]
pub struct CurveWindows {
    steps: usize,
    window: usize,
    sum: f64,
    count: usize,
    curve: Curve,
}

impl CurveWindows {
    /// Windows for a schedule of `steps` steps.
    pub fn new(steps: usize) -> Self {
        CurveWindows {
            steps,
            window: (steps / 50).max(1),
            sum: 0.0,
            count: 0,
            curve: Curve::default(),
        }
    }

    /// The loss of step `step` (0-based).
    pub fn push(&mut self, step: usize, loss: f32) {
        self.sum += f64::from(loss);
        self.count += 1;
        if self.count == self.window || step + 1 == self.steps {
            self.curve
                .train
                .push((step + 1, self.sum / self.count as f64));
            (self.sum, self.count) = (0.0, 0);
        }
    }

    /// The curve.
    pub fn finish(self) -> Curve {
        self.curve
    }
}

/// Hands every batch of `source`, in order and `batch_size` samples at a time, to `each` with its input
/// rows already on `dev`: the loop of inference and scoring.
fn in_batches<D: Kernels>(
    dev: &D,
    source: &dyn BatchSource,
    batch_size: usize,
    mut each: impl FnMut(&HostBatch, Tensor<(usize, usize), f32, D>) -> Result<(), TrainError>,
) -> Result<(), TrainError> {
    let all: Vec<usize> = (0..source.len()).collect();
    let chunks: Vec<&[usize]> = all.chunks(batch_size.max(1)).collect();
    prefetched(
        &chunks,
        |indices| source.batch(indices),
        |batch| {
            let positions: Vec<usize> = (0..batch.len()).collect();
            let rows = batch.rows_on(dev, &positions)?;
            each(&batch, rows)
        },
    )
}

/// The loss of every sample of `source`, in order, computed in batches of `batch_size` without gradients.
pub fn evaluate<D: Kernels, M: Predict<D>>(
    dev: &D,
    model: &M,
    source: &dyn BatchSource,
    spec: LossSpec,
    batch_size: usize,
) -> Result<Vec<f32>, TrainError> {
    evaluate_outputs(dev, source, spec, batch_size, |rows, b| {
        model.predict(rows, b)
    })
}

/// The loss of every sample of `source`, in order, of the head outputs `predict` makes from a batch's
/// input rows: [`evaluate`] for a model that is not a network (a readout fitted in closed form, say).
pub fn evaluate_outputs<D: Kernels>(
    dev: &D,
    source: &dyn BatchSource,
    spec: LossSpec,
    batch_size: usize,
    predict: impl Fn(Tensor<(usize, usize), f32, D>, usize) -> Result<Act<D, NoneTape>, ModelError>,
) -> Result<Vec<f32>, TrainError> {
    let mut losses = Vec::with_capacity(source.len());
    in_batches(dev, source, batch_size, |batch, rows| {
        let b = batch.len();
        let positions: Vec<usize> = (0..b).collect();
        let target = batch
            .targets
            .as_ref()
            .ok_or_else(|| TrainError::Config("scoring a batch without targets".into()))?
            .batch(dev, &positions)?;
        let out = predict(rows, b)?;
        let block = output_block(out, b, spec.layout, spec.image_size)?;
        losses.extend(per_image_loss(spec.loss, block, &target)?.as_vec());
        Ok(())
    })?;
    Ok(losses)
}

/// Runs `run` without gradients on all samples of `source` and returns its output rows (the
/// representations of an encoder, for instance), in batches of `batch_size`.
pub fn infer<D: Kernels>(
    dev: &D,
    source: &dyn BatchSource,
    batch_size: usize,
    run: impl Fn(Tensor<(usize, usize), f32, D>, usize) -> Result<Act<D, NoneTape>, ModelError>,
) -> Result<Vec<f32>, TrainError> {
    let mut out = Vec::new();
    in_batches(dev, source, batch_size, |batch, rows| {
        out.extend(run(rows, batch.len())?.as_vec());
        Ok(())
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_warms_up_then_decays_to_the_floor() {
        let s = Schedule {
            steps: 100,
            batch_size: 8,
            shards: 1,
            lr: 1e-3,
            warmup: 10,
            final_lr_fraction: 0.1,
            weight_decay: 0.0,
        };
        assert!((s.lr_at(0) - 1e-4).abs() < 1e-12);
        assert!((s.lr_at(9) - 1e-3).abs() < 1e-12);
        assert!((s.lr_at(10) - 1e-3).abs() < 1e-12);
        assert!(s.lr_at(55) < s.lr_at(30));
        assert!((s.lr_at(100) - 1e-4).abs() < 1e-12);
    }

    #[test]
    fn prefetched_jobs_arrive_in_order_and_errors_stop_both_sides() {
        let jobs: Vec<usize> = (0..20).collect();
        let mut seen = Vec::new();
        prefetched(
            &jobs,
            |&j| Ok(j * 10),
            |v| {
                seen.push(v);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(seen, (0..20).map(|j| j * 10).collect::<Vec<_>>());
        let produced = std::sync::atomic::AtomicUsize::new(0);
        let error = prefetched(
            &jobs,
            |&j| {
                produced.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Ok(j)
            },
            |j| match j {
                3 => Err(TrainError::Config("consumer failed".into())),
                _ => Ok(()),
            },
        )
        .unwrap_err();
        assert_eq!(error.to_string(), "consumer failed");
        // The producer stops soon after: no more than the prefetch depth beyond the failure.
        assert!(produced.load(std::sync::atomic::Ordering::SeqCst) <= 4 + PREFETCH + 1);
        let error = prefetched(
            &jobs,
            |&j| match j {
                5 => Err(TrainError::Config("producer failed".into())),
                j => Ok(j),
            },
            |_| Ok(()),
        )
        .unwrap_err();
        assert_eq!(error.to_string(), "producer failed");
    }

    #[test]
    fn batches_cover_every_sample_once_per_epoch() {
        let mut b = Batches::new(10, 3);
        let mut seen: Vec<usize> = (0..5).flat_map(|_| b.next(2)).collect();
        seen.sort();
        assert_eq!(seen, (0..10).collect::<Vec<_>>());
        // A batch larger than the data is the whole data.
        assert_eq!(Batches::new(3, 0).next(8).len(), 3);
    }
}
