//! Grouped training against the one-readout-at-a-time path through dfdx's tape: the same heads, the
//! same batches, every loss and layout a target can declare.

use super::*;
use crate::data::rng::Rng;
use crate::model::params::{ParamRef, Parameters};
use crate::model::Arch;

/// Sizes small enough for a test: 8×8 images in 2×2 patches (16 tokens), 4-channel representations.
fn arch() -> Arch {
    Arch {
        image_size: 8,
        patch: 2,
        width: 8,
        bottleneck: 4,
        depth: 1,
        token_hidden: 8,
        channel_hidden: 8,
        decoder_width: 8,
        decoder_depth: 1,
        readout_width: 8,
        readout_depth: 0,
    }
}

fn schedule() -> Schedule {
    Schedule {
        steps: 40,
        batch_size: 6,
        shards: 2,
        lr: 5e-3,
        warmup: 4,
        final_lr_fraction: 0.1,
        weight_decay: 0.0,
    }
}

/// Labels of `images` images for `loss` with `layout`, drawn from `seed`.
fn targets(loss: LossKind, layout: OutputLayout, images: usize, seed: u64) -> HostTargets {
    HostTargets::random(loss, layout, arch().image_size, images, seed)
}

/// Cached representations of `sources` sources for `views` views: `(views × tokens) × bottleneck`.
fn representations(sources: usize, views: usize, seed: u64) -> Vec<Vec<f32>> {
    let arch = arch();
    (0..sources)
        .map(|s| {
            let mut rng = Rng::new(seed, &[s as u64]);
            (0..views * arch.tokens() * arch.bottleneck)
                .map(|_| rng.normal() as f32)
                .collect()
        })
        .collect()
}

fn weights(head: &Head<Cpu>) -> Vec<f32> {
    let mut out = Vec::new();
    head.visit("", &mut |_, p: ParamRef<'_, Cpu>| out.extend(p.values()));
    out
}

/// The largest difference between `a` and `b`, relative to `1 + |b|`.
fn largest_difference(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(a, b)| (a - b).abs() / (1.0 + b.abs()))
        .fold(0.0, f32::max)
}

/// The tolerance the grouped step is held to: the largest relative difference of a test loss from the
/// one-at-a-time path's after 40 steps. Measured: at most 1.2e-7 over the cases below (the two paths sum
/// in different orders: the batch in two shards or whole, the loss's terms, the gradient's products).
const TOLERANCE: f32 = 1e-5;

#[test]
fn grouped_readouts_match_readouts_trained_one_at_a_time() {
    let arch = arch();
    let (train_images, test_images) = (20, 12);
    let cases = [
        (LossKind::L1, OutputLayout::PerPixel { channels: 2 }, 1, 1),
        (LossKind::L2, OutputLayout::PerImage { outputs: 3 }, 1, 2),
        (
            LossKind::Huber,
            OutputLayout::PerPixel { channels: 1 },
            2,
            1,
        ),
        (
            LossKind::Cosine,
            OutputLayout::PerPixel { channels: 3 },
            1,
            1,
        ),
        (
            LossKind::CrossEntropy,
            OutputLayout::PerPixel { channels: 5 },
            1,
            1,
        ),
        (
            LossKind::CrossEntropy,
            OutputLayout::PerImage { outputs: 4 },
            1,
            1,
        ),
        (
            LossKind::BinaryCrossEntropy,
            OutputLayout::PerImage { outputs: 3 },
            1,
            1,
        ),
        (
            LossKind::Contrastive,
            OutputLayout::PerPixel { channels: 4 },
            1,
            1,
        ),
    ];
    let mut largest = 0.0f32;
    for (case, (loss, layout, order, views)) in cases.into_iter().enumerate() {
        let what = format!("{loss} {layout:?}, order {order}, {views} views");
        let reps = representations(3, (train_images + test_images) * views, case as u64);
        let train_targets = targets(loss, layout, train_images, 10 + case as u64);
        let test_targets = targets(loss, layout, test_images, 20 + case as u64);
        // Each sample sees `views` views of its own; the test samples' views follow the training ones.
        let view_rows = |first: usize, images: usize| -> Vec<Vec<usize>> {
            (first..first + images)
                .map(|i| (0..views).map(|v| i * views + v).collect())
                .collect()
        };
        let (train_views, test_views) = (
            view_rows(0, train_images),
            view_rows(train_images, test_images),
        );
        // The source sets of the group: every source alone, or every pair.
        let sets: Vec<Vec<usize>> = match order {
            1 => vec![vec![0], vec![1], vec![2]],
            _ => vec![vec![0, 1], vec![0, 2], vec![1, 2]],
        };
        let members: Vec<Member<'_>> = sets
            .iter()
            .map(|set| Member {
                name: format!("{set:?}"),
                train: RepBatches::new(
                    set.iter().map(|&s| reps[s].as_slice()).collect(),
                    &train_views,
                    &arch,
                    Some(&train_targets),
                ),
                test: RepBatches::new(
                    set.iter().map(|&s| reps[s].as_slice()).collect(),
                    &test_views,
                    &arch,
                    Some(&test_targets),
                ),
            })
            .collect();
        let schedule = schedule();
        let job = GroupJob {
            loss: LossSpec {
                loss,
                layout,
                image_size: arch.image_size,
            },
            patch: arch.patch,
            schedule: &schedule,
            seed: 5,
            eval_batch: 5,
            train_targets: &train_targets,
            test_targets: &test_targets,
        };
        let dev = Cpu::default();
        let heads = || -> Vec<Head<Cpu>> {
            sets.iter()
                .enumerate()
                .map(|(g, set)| {
                    let channels = set.len() * views * arch.bottleneck;
                    Head::readout(&dev, &arch, channels, layout, 100 + g as u64).unwrap()
                })
                .collect()
        };
        let (mut grouped, mut single) = (heads(), heads());
        let before = weights(&grouped[0]);
        let hidden = ProgressBar::hidden();
        let together = together(&mut grouped, &members, &job, &hidden).unwrap();
        let alone = one_at_a_time(&dev, &mut single, &members, &job, &hidden).unwrap();
        for (g, (t, a)) in together.iter().zip(&alone).enumerate() {
            let difference = largest_difference(&t.test_losses, &a.test_losses);
            assert!(
                difference <= TOLERANCE,
                "{what}, member {g}: test losses differ by {difference}"
            );
            largest = largest.max(difference);
            let curve = |c: &Curve| c.train.iter().map(|&(_, l)| l as f32).collect::<Vec<_>>();
            assert_eq!(t.curve.train.len(), a.curve.train.len());
            let curves = largest_difference(&curve(&t.curve), &curve(&a.curve));
            assert!(
                curves <= TOLERANCE,
                "{what}, member {g}: curves differ by {curves}"
            );
            let trained = largest_difference(&weights(&grouped[g]), &weights(&single[g]));
            assert!(
                trained <= TOLERANCE,
                "{what}, member {g}: weights differ by {trained}"
            );
        }
        // The readouts did train: their weights moved, and each member's differ from the others'.
        assert!(
            largest_difference(&weights(&grouped[0]), &before) > 1e-3,
            "{what}"
        );
        assert_ne!(together[0].test_losses, together[1].test_losses, "{what}");
    }
    eprintln!("largest relative difference of a test loss: {largest:e}");
}

#[test]
fn members_must_share_their_samples_and_fit_their_heads() {
    let arch = arch();
    let reps = representations(1, 10, 1);
    let layout = OutputLayout::PerPixel { channels: 1 };
    let targets = targets(LossKind::L1, layout, 10, 2);
    let views: Vec<Vec<usize>> = (0..10).map(|i| vec![i]).collect();
    let member = |n: usize| Member {
        name: "member".into(),
        train: RepBatches::new(vec![&reps[0]], &views[..n], &arch, Some(&targets)),
        test: RepBatches::new(vec![&reps[0]], &views[..n], &arch, Some(&targets)),
    };
    let schedule = schedule();
    let job = GroupJob {
        loss: LossSpec {
            loss: LossKind::L1,
            layout,
            image_size: arch.image_size,
        },
        patch: arch.patch,
        schedule: &schedule,
        seed: 1,
        eval_batch: 4,
        train_targets: &targets,
        test_targets: &targets,
    };
    let dev = Cpu::default();
    let head = || Head::readout(&dev, &arch, arch.bottleneck, layout, 1).unwrap();
    let hidden = ProgressBar::hidden();
    let error = together(
        &mut [head(), head()],
        &[member(10), member(8)],
        &job,
        &hidden,
    )
    .unwrap_err();
    assert!(
        error.to_string().contains("must all see the same samples"),
        "{error}"
    );
    // A readout with Mixer blocks does not train in a group.
    let deep = Arch {
        readout_depth: 1,
        ..arch.clone()
    };
    let deep_head = Head::readout(&dev, &deep, arch.bottleneck, layout, 1).unwrap();
    assert!(!trains_together(std::slice::from_ref(&deep_head)));
    assert!(together(&mut [deep_head], &[member(10)], &job, &hidden).is_err());
}
