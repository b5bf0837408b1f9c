//! Numerical checks of the networks and losses: gradients against finite differences, losses against
//! hand computation, weights through safetensors.

use dfdx::prelude::*;

use super::loss::Block;
use super::params::{ParamMut, ParamRef};
use super::*;
use crate::spec::{DecoderShape, LossKind};

fn arch() -> Arch {
    Arch {
        image_size: 8,
        patch: 4,
        width: 6,
        bottleneck: 3,
        depth: 1,
        token_hidden: 3,
        channel_hidden: 5,
        decoder_width: 4,
        decoder_depth: 1,
        readout_width: 4,
        readout_depth: 0,
    }
}

fn values(dev: &Cpu, shape: (usize, usize, usize), seed: u64) -> Block<Cpu, NoneTape> {
    let mut rng = crate::data::rng::Rng::new(seed, &[]);
    let v = (0..shape.0 * shape.1 * shape.2)
        .map(|_| rng.range(-1.0, 1.0) as f32)
        .collect();
    dev.tensor_from_vec(v, shape)
}

/// A per-loss target for a batch of 2 images of `arch()` with `channels` values per position.
fn target(dev: &Cpu, loss: LossKind, positions: usize, channels: usize) -> Target<Cpu> {
    match loss {
        LossKind::CrossEntropy => {
            let classes: Vec<usize> = (0..2 * positions).map(|i| (i * 7) % channels).collect();
            Target::Classes(dev.tensor_from_vec(classes, (2, positions)))
        }
        LossKind::BinaryCrossEntropy => {
            let v = (0..2 * positions * channels)
                .map(|i| (i % 2) as f32)
                .collect();
            Target::Values(dev.tensor_from_vec(v, (2, positions, channels)))
        }
        LossKind::Contrastive => {
            let k = 5;
            let samples: Vec<usize> = (0..2 * k).map(|i| (i * 11) % positions).collect();
            let same: Vec<f32> = (0..2 * k * k)
                .map(|i| {
                    let (a, b) = ((i / k) % k, i % k);
                    if a % 2 == b % 2 {
                        1.0
                    } else {
                        0.0
                    }
                })
                .collect();
            Target::Pairs {
                samples: dev.tensor_from_vec(samples, (2, k)),
                same: dev.tensor_from_vec(same, (2, k, k)),
            }
        }
        _ => Target::Values(values(dev, (2, positions, channels), 9)),
    }
}

fn loss_of(
    net: &Network<Cpu>,
    x: &Tensor<(usize, usize), f32, Cpu>,
    loss: LossKind,
    t: &Target<Cpu>,
    layout: OutputLayout,
) -> f32 {
    let out = net.forward(x.clone(), 2).unwrap();
    let block = crate::model::loss::output_block(out, 2, layout, 8).unwrap();
    per_image_loss(loss, block, t)
        .unwrap()
        .as_vec()
        .iter()
        .sum::<f32>()
        / 2.0
}

/// Every parameter's gradient matches a central finite difference, for every loss and both head kinds
/// (this covers the batched token mixing with broadcast weights, pooling, and each loss's backward).
#[test]
fn gradients_match_finite_differences() {
    let dev = Cpu::default();
    let arch = arch();
    let cases = [
        (LossKind::L1, OutputKind::Dense, 3),
        (LossKind::L2, OutputKind::Dense, 2),
        (LossKind::Huber, OutputKind::Vector, 4),
        (LossKind::Cosine, OutputKind::Dense, 3),
        (LossKind::CrossEntropy, OutputKind::PixelClasses, 5),
        (LossKind::BinaryCrossEntropy, OutputKind::MultiLabel, 3),
        (LossKind::Contrastive, OutputKind::PixelEmbedding, 3),
    ];
    for (case, (loss, kind, size)) in cases.into_iter().enumerate() {
        let layout = OutputLayout::of(OutputShape::new(kind, size));
        let mut net =
            Network::task(&dev, &arch, 1, layout, DecoderShape::PRESET, case as u64).unwrap();
        let x = {
            let block = values(
                &dev,
                (2 * arch.tokens(), arch.patch_values(), 1),
                3 + case as u64,
            );
            block.reshape_like(&(2 * arch.tokens(), arch.patch_values()))
        };
        let t = target(&dev, loss, layout.positions(8), layout.channels());
        let out = net
            .forward(x.clone().traced(Gradients::leaky()), 2)
            .unwrap();
        let block = crate::model::loss::output_block(out, 2, layout, 8).unwrap();
        let l = per_image_loss(loss, block, &t).unwrap().mean::<(), _>();
        let grads = l.backward();
        // Analytic gradients of the first few entries of every parameter.
        let mut analytic = Vec::new();
        net.visit("", &mut |name, p| {
            let g = match p {
                ParamRef::Vector(t) => grads.get(t).as_vec(),
                ParamRef::Matrix(t) => grads.get(t).as_vec(),
            };
            analytic.push((name, g));
        });
        let mut checked = 0;
        for (index, (name, g)) in analytic.iter().enumerate() {
            for entry in 0..g.len().min(3) {
                let shifted = |net: &mut Network<Cpu>, delta: f32| {
                    let mut i = 0;
                    net.visit_mut("", &mut |_, p| {
                        if i == index {
                            let mut v = match &p {
                                ParamMut::Vector(t) => t.as_vec(),
                                ParamMut::Matrix(t) => t.as_vec(),
                            };
                            v[entry] += delta;
                            match p {
                                ParamMut::Vector(t) => t.copy_from(&v),
                                ParamMut::Matrix(t) => t.copy_from(&v),
                            }
                        }
                        i += 1;
                    });
                };
                let mut numeric = |eps: f32| {
                    shifted(&mut net, eps);
                    let up = loss_of(&net, &x, loss, &t, layout);
                    shifted(&mut net, -2.0 * eps);
                    let down = loss_of(&net, &x, loss, &t, layout);
                    shifted(&mut net, eps);
                    (up - down) / (2.0 * eps)
                };
                let (coarse, fine) = (numeric(4e-3), numeric(2e-3));
                // A ReLU kink near the point makes the estimate depend on the step: nothing to compare. (On a
                // smooth stretch the two differ by O(step²), far below this.)
                if (coarse - fine).abs() > 3e-5 + 2e-3 * fine.abs() {
                    continue;
                }
                let tolerance = 1e-3 + 2e-2 * fine.abs().max(g[entry].abs());
                assert!(
                    (fine - g[entry]).abs() <= tolerance,
                    "{loss}: d/d {name}[{entry}]: analytic {} vs numeric {fine}",
                    g[entry]
                );
                checked += 1;
            }
        }
        assert!(checked > 30, "{loss}: only {checked} entries checked");
    }
}

#[test]
fn losses_match_hand_computation() {
    let dev = Cpu::default();
    let pred = dev.tensor_from_vec(vec![1.0, 0.0, 0.0, 2.0], (2, 1, 2));
    let y = Target::Values(dev.tensor_from_vec(vec![0.0, 0.0, 0.0, 0.0], (2, 1, 2)));
    let l1 = per_image_loss(LossKind::L1, pred.clone(), &y)
        .unwrap()
        .as_vec();
    assert_eq!(l1, [0.5, 1.0]);
    let l2 = per_image_loss(LossKind::L2, pred.clone(), &y)
        .unwrap()
        .as_vec();
    assert_eq!(l2, [0.5, 2.0]);
    // Huber with δ = 1: ½x² inside, |x| − ½ outside.
    let huber = per_image_loss(LossKind::Huber, pred.clone(), &y)
        .unwrap()
        .as_vec();
    assert_eq!(huber, [0.25, 0.75]);
    // Cosine: the first prediction points along the label, the second is orthogonal to it.
    let dir = Target::Values(dev.tensor_from_vec(vec![2.0, 0.0, 1.0, 0.0], (2, 1, 2)));
    let cos = per_image_loss(LossKind::Cosine, pred.clone(), &dir)
        .unwrap()
        .as_vec();
    assert!(
        cos[0].abs() < 1e-5 && (cos[1] - 1.0).abs() < 1e-5,
        "{cos:?}"
    );
    // Cross-entropy of logits (1, 0) against class 0 is log(1 + e⁻¹).
    let class = Target::Classes(dev.tensor_from_vec(vec![0usize, 1], (2, 1)));
    let ce = per_image_loss(LossKind::CrossEntropy, pred.clone(), &class)
        .unwrap()
        .as_vec();
    let expected = (1.0f32 + (-1.0f32).exp()).ln();
    assert!((ce[0] - expected).abs() < 1e-5, "{ce:?}");
    // A loss that does not fit the labels is an error, not a panic.
    let err = per_image_loss(LossKind::Contrastive, pred, &y).unwrap_err();
    assert!(err.to_string().contains("Contrastive"), "{err}");
}

#[test]
fn contrastive_loss_pulls_same_and_pushes_different_segments() {
    let dev = Cpu::default();
    // Two samples per image at embeddings 0 and d along one axis.
    let loss_at = |d: f32, same: f32| {
        let pred = dev.tensor_from_vec(vec![0.0, d], (1, 2, 1));
        let t = Target::Pairs {
            samples: dev.tensor_from_vec(vec![0usize, 1], (1, 2)),
            same: dev.tensor_from_vec(vec![1.0, same, same, 1.0], (1, 2, 2)),
        };
        per_image_loss(LossKind::Contrastive, pred, &t)
            .unwrap()
            .as_vec()[0]
    };
    // Same segment: d² on both off-diagonal pairs, averaged over 4 pairs.
    assert!((loss_at(0.5, 1.0) - 0.125).abs() < 1e-4);
    // Different segments beyond the margin cost nothing; inside it, (m − d)².
    assert!(loss_at(2.0, 0.0) < 1e-6);
    assert!((loss_at(0.5, 0.0) - 0.125).abs() < 1e-3);
}

#[test]
fn views_are_concatenated_along_channels() {
    let dev = Cpu::default();
    // 1 sample, 2 views, 2 tokens, width 2: rows (view, token).
    let reps = dev.tensor_from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], (4, 2));
    let combined = combine_views(reps, 1, 2).unwrap();
    assert_eq!(combined.shape(), &(2, 4));
    assert_eq!(combined.as_vec(), [1.0, 2.0, 5.0, 6.0, 3.0, 4.0, 7.0, 8.0]);
}

#[test]
fn weights_round_trip_through_safetensors() {
    let dev = Cpu::default();
    let arch = arch();
    let layout = OutputLayout::PerImage { outputs: 3 };
    let net = Network::task(&dev, &arch, 2, layout, DecoderShape::PRESET, 1).unwrap();
    let bytes = params::to_safetensors(&net).unwrap();
    let mut other = Network::task(&dev, &arch, 2, layout, DecoderShape::PRESET, 2).unwrap();
    let x: Tensor<(usize, usize), f32, Cpu> =
        dev.ones_like(&(2 * 2 * arch.tokens(), arch.patch_values()));
    assert_ne!(
        net.forward(x.clone(), 2).unwrap().as_vec(),
        other.forward(x.clone(), 2).unwrap().as_vec()
    );
    params::from_safetensors(&mut other, &bytes, "memory").unwrap();
    assert_eq!(
        net.forward(x.clone(), 2).unwrap().as_vec(),
        other.forward(x, 2).unwrap().as_vec()
    );
    // A network of another shape refuses the file and names the tensor.
    let mut wrong = Network::task(&dev, &arch, 1, layout, DecoderShape::PRESET, 1).unwrap();
    let err = params::from_safetensors(&mut wrong, &bytes, "weights.safetensors").unwrap_err();
    assert!(err.to_string().contains("head.input.weight"), "{err}");
    assert!(params::from_safetensors(&mut wrong, b"not safetensors", "x").is_err());
}

#[test]
fn parameters_are_named_by_their_path_in_declaration_order() {
    let dev = Cpu::default();
    let layout = OutputLayout::PerImage { outputs: 3 };
    let mut net = Network::task(&dev, &arch(), 1, layout, DecoderShape::PRESET, 1).unwrap();
    let mut names = Vec::new();
    net.visit("", &mut |name, _| names.push(name));
    // The names and order of the weight files: encoder then head, each layer's fields as declared.
    let block = |prefix: &str| {
        [
            "token_norm.gamma",
            "token_norm.beta",
            "tokens.hidden.weight",
            "tokens.hidden.bias",
            "tokens.out.weight",
            "tokens.out.bias",
            "channel_norm.gamma",
            "channel_norm.beta",
            "channels.hidden.weight",
            "channels.hidden.bias",
            "channels.out.weight",
            "channels.out.bias",
        ]
        .map(|field| format!("{prefix}.{field}"))
    };
    let named = |names: &[&str]| names.iter().map(|&n| n.to_owned()).collect::<Vec<_>>();
    let expected: Vec<String> = named(&[
        "encoder.embed.weight",
        "encoder.embed.bias",
        "encoder.position",
    ])
    .into_iter()
    .chain(block("encoder.blocks.0"))
    .chain(named(&[
        "encoder.norm.gamma",
        "encoder.norm.beta",
        "encoder.project.weight",
        "encoder.project.bias",
        "head.input.weight",
        "head.input.bias",
    ]))
    .chain(block("head.blocks.0"))
    .chain(named(&[
        "head.norm.gamma",
        "head.norm.beta",
        "head.output.weight",
        "head.output.bias",
    ]))
    .collect();
    assert_eq!(names, expected);
    let mut names_mut = Vec::new();
    net.visit_mut("", &mut |name, _| names_mut.push(name));
    assert_eq!(names_mut, names);
}

#[test]
fn networks_are_deterministic_in_their_seed() {
    let dev = Cpu::default();
    let layout = OutputLayout::PerPixel { channels: 2 };
    let a = Network::task(&dev, &arch(), 1, layout, DecoderShape::PRESET, 5).unwrap();
    let b = Network::task(&dev, &arch(), 1, layout, DecoderShape::PRESET, 5).unwrap();
    let c = Network::task(&dev, &arch(), 1, layout, DecoderShape::PRESET, 6).unwrap();
    assert_eq!(
        params::to_safetensors(&a).unwrap(),
        params::to_safetensors(&b).unwrap()
    );
    assert_ne!(
        params::to_safetensors(&a).unwrap(),
        params::to_safetensors(&c).unwrap()
    );
}

#[test]
fn a_task_network_has_the_decoder_its_task_declares() {
    use crate::spec::{OutputKind, OutputShape, TaskSpec};
    let dev = Cpu::default();
    let mut spec = TaskSpec {
        output: OutputShape::new(OutputKind::Dense, 3),
        ..crate::spec::tests::spec("gloss")
    };
    let standard = Network::for_task(&dev, &arch(), &spec, 0).unwrap();
    let layout = OutputLayout::PerPixel { channels: 3 };
    let preset = Network::task(&dev, &arch(), 1, layout, DecoderShape::PRESET, 0).unwrap();
    assert_eq!(standard.num_params(), preset.num_params());
    assert_eq!(standard.head.blocks.len(), arch().decoder_depth);

    spec.decoder_shape = DecoderShape {
        blocks: Some(2),
        width_factor: 2,
    };
    let custom = Network::for_task(&dev, &arch(), &spec, 0).unwrap();
    assert_eq!(custom.head.blocks.len(), 2);
    assert_eq!(custom.head.input.output(), 2 * arch().decoder_width);
    // The encoder is the one every task shares.
    assert_eq!(custom.encoder.num_params(), standard.encoder.num_params());
    let x: Tensor<(usize, usize), f32, Cpu> = dev.zeros_like(&(2 * 4, arch().patch_values()));
    assert_eq!(custom.forward(x, 2).unwrap().shape(), &(8, 3 * 16));

    spec.decoder_shape.width_factor = 0;
    assert!(matches!(
        Network::for_task(&dev, &arch(), &spec, 0),
        Err(ModelError::Arch(_))
    ));
}

#[test]
fn bad_batches_are_errors() {
    let dev = Cpu::default();
    let net = Network::task(
        &dev,
        &arch(),
        1,
        OutputLayout::PerImage { outputs: 2 },
        DecoderShape::PRESET,
        0,
    )
    .unwrap();
    let x: Tensor<(usize, usize), f32, Cpu> = dev.zeros_like(&(5, arch().patch_values()));
    assert!(matches!(net.forward(x, 2), Err(ModelError::Batch(_))));
    let bad = Arch { patch: 3, ..arch() };
    assert!(matches!(bad.validate(), Err(ModelError::Arch(_))));
}

#[test]
fn a_head_started_at_a_bias_outputs_it_when_its_weights_are_zero() {
    let dev = Cpu::default();
    let layout = OutputLayout::PerImage { outputs: 3 };
    let mut net = Network::task(&dev, &arch(), 1, layout, DecoderShape::PRESET, 0).unwrap();
    net.head.set_output_bias(&[0.5, -1.0, 2.0]).unwrap();
    net.head.output.weight = dev.zeros_like(net.head.output.weight.shape());
    let x: Tensor<(usize, usize), f32, Cpu> =
        dev.ones_like(&(2 * arch().tokens(), arch().patch_values()));
    assert_eq!(
        net.forward(x, 2).unwrap().as_vec(),
        [0.5, -1.0, 2.0, 0.5, -1.0, 2.0]
    );
    assert!(matches!(
        net.head.set_output_bias(&[0.0; 2]),
        Err(ModelError::Batch(_))
    ));
}

#[test]
fn weight_decay_shrinks_weight_matrices_and_leaves_biases() {
    let dev = Cpu::default();
    let layout = OutputLayout::PerImage { outputs: 2 };
    let mut net = Network::task(&dev, &arch(), 1, layout, DecoderShape::PRESET, 3).unwrap();
    let before = net.clone();
    // No gradient at all: only the decay moves anything, by the factor 1 − lr·decay.
    let mut adam = Adam::new(&net, &dev, 0.1).unwrap().with_weight_decay(0.5);
    adam.update(&mut net, &mut Gradients::leaky()).unwrap();
    let weights = |n: &Network<Cpu>| n.head.output.weight.as_vec();
    for (after, was) in weights(&net).iter().zip(weights(&before)) {
        assert!((after - 0.95 * was).abs() < 1e-6, "{after} vs {was}");
    }
    assert_eq!(
        net.head.output.bias.as_vec(),
        before.head.output.bias.as_vec()
    );
    assert_eq!(
        net.encoder.norm.gamma.as_vec(),
        before.encoder.norm.gamma.as_vec()
    );
}
