//! The training loop shared by every network of steps I and II, and per-image evaluation.

use dfdx::prelude::*;
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};

use super::batch::{input_batch, output_block, HostTargets, InputSource};
use super::TrainError;
use crate::data::rng::Rng;
use crate::model::layers::Act;
use crate::model::params::ParamRef;
use crate::model::{
    per_image_loss, Adam, Head, Kernels, ModelError, Network, OutputLayout, Parameters,
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

/// A shard's share of the batch loss and its gradients.
pub type ShardResult<D> = Result<(f32, Gradients<f32, D>), ModelError>;

/// What every shard of a training step reads.
pub struct ShardWork<'a, D: Kernels> {
    /// The device.
    pub dev: &'a D,
    /// The network.
    pub model: Trainable<'a, D>,
    /// The inputs.
    pub inputs: &'a dyn InputSource,
    /// The targets.
    pub targets: &'a HostTargets,
    /// The loss and layout.
    pub spec: LossSpec,
    /// Samples in the whole batch: each shard's loss is its sum over this, so the shards' gradients add
    /// up to the gradient of the batch mean.
    pub total: f32,
}

impl<D: Kernels> ShardWork<'_, D> {
    /// The loss share and gradients of the samples at `part`.
    pub fn gradients(&self, part: &[usize]) -> ShardResult<D> {
        let b = part.len();
        let rows = input_batch(self.dev, self.inputs, part)?;
        let target = self.targets.batch(self.dev, part)?;
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

/// One optimiser step on the samples at `indices`, cut into `shards` parts whose gradients are computed
/// (in parallel on the CPU) and summed; returns the batch's mean loss.
#[allow(clippy::too_many_arguments)]
pub fn train_step<D: Kernels, M: Predict<D>>(
    dev: &D,
    model: &mut M,
    optimiser: &mut Adam<D>,
    inputs: &dyn InputSource,
    targets: &HostTargets,
    spec: LossSpec,
    indices: &[usize],
    shards: usize,
) -> Result<f32, ModelError> {
    let per_shard = indices.len().div_ceil(shards.max(1)).max(1);
    let parts: Vec<&[usize]> = indices.chunks(per_shard).collect();
    let work = ShardWork {
        dev,
        model: model.trainable(),
        inputs,
        targets,
        spec,
        total: indices.len() as f32,
    };
    let results = D::run_shards(&work, &parts);
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

/// Trains `model` on all samples of `inputs`/`targets` following `schedule`; `name` labels errors and the
/// progress bar (advanced by one per step).
#[allow(clippy::too_many_arguments)]
pub fn fit<D: Kernels, M: Predict<D>>(
    dev: &D,
    model: &mut M,
    inputs: &dyn InputSource,
    targets: &HostTargets,
    spec: LossSpec,
    schedule: &Schedule,
    seed: u64,
    name: &str,
    progress: &ProgressBar,
) -> Result<Curve, TrainError> {
    if inputs.is_empty() {
        return Err(TrainError::Config(format!("{name}: no training samples")));
    }
    let mut optimiser = Adam::new(model, dev, schedule.lr).map_err(ModelError::device)?;
    let mut batches = Batches::new(inputs.len(), seed);
    let window = (schedule.steps / 50).max(1);
    let mut curve = Curve::default();
    let (mut sum, mut count) = (0.0f64, 0usize);
    for step in 0..schedule.steps {
        optimiser.set_lr(schedule.lr_at(step));
        let indices = batches.next(schedule.batch_size);
        let loss = train_step(
            dev,
            model,
            &mut optimiser,
            inputs,
            targets,
            spec,
            &indices,
            schedule.shards,
        )?;
        if !loss.is_finite() {
            return Err(TrainError::Diverged {
                network: name.into(),
                step,
            });
        }
        sum += f64::from(loss);
        count += 1;
        if count == window || step + 1 == schedule.steps {
            curve.train.push((step + 1, sum / count as f64));
            (sum, count) = (0.0, 0);
        }
        progress.inc(1);
    }
    Ok(curve)
}

/// The loss of every sample, in order, computed in batches of `batch_size` without gradients.
pub fn evaluate<D: Kernels, M: Predict<D>>(
    dev: &D,
    model: &M,
    inputs: &dyn InputSource,
    targets: &HostTargets,
    spec: LossSpec,
    batch_size: usize,
) -> Result<Vec<f32>, ModelError> {
    let all: Vec<usize> = (0..inputs.len()).collect();
    let mut losses = Vec::with_capacity(all.len());
    for indices in all.chunks(batch_size.max(1)) {
        let b = indices.len();
        let rows = input_batch(dev, inputs, indices)?;
        let target = targets.batch(dev, indices)?;
        let out = model.predict(rows, b)?;
        let block = output_block(out, b, spec.layout, spec.image_size)?;
        losses.extend(per_image_loss(spec.loss, block, &target)?.as_vec());
    }
    Ok(losses)
}

/// Runs `model` without gradients on all samples and returns its output rows (the representations of an
/// encoder, for instance), in batches of `batch_size`.
pub fn infer<D: Kernels>(
    dev: &D,
    inputs: &dyn InputSource,
    batch_size: usize,
    run: impl Fn(Tensor<(usize, usize), f32, D>, usize) -> Result<Act<D, NoneTape>, ModelError>,
) -> Result<Vec<f32>, ModelError> {
    let all: Vec<usize> = (0..inputs.len()).collect();
    let mut out = Vec::new();
    for indices in all.chunks(batch_size.max(1)) {
        let b = indices.len();
        let rows = input_batch(dev, inputs, indices)?;
        out.extend(run(rows, b)?.as_vec());
    }
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
        };
        assert!((s.lr_at(0) - 1e-4).abs() < 1e-12);
        assert!((s.lr_at(9) - 1e-3).abs() < 1e-12);
        assert!((s.lr_at(10) - 1e-3).abs() < 1e-12);
        assert!(s.lr_at(55) < s.lr_at(30));
        assert!((s.lr_at(100) - 1e-4).abs() < 1e-12);
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
