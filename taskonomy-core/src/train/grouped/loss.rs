//! The declared losses of a batch on the host, with their gradients: what grouped readouts train on. The
//! arithmetic, image by image, is [`crate::model::host_loss`]'s; this module matches each loss with its
//! labels.

use crate::model::host_loss::{
    binary_cross_entropy, class_cross_entropy, contrastive, cosine, cross_entropy, distance,
};
use crate::model::kernels::Distance;
use crate::model::ModelError;
use crate::spec::LossKind;
use crate::train::batch::HostTargets;

/// Predictions of a batch, `(images, positions, channels)` row-major. For the contrastive loss the
/// positions are the sampled pixels of each image (its targets' `positions`), not all of them.
#[derive(Clone, Copy, Debug)]
pub(super) struct Predictions<'a> {
    pub(super) values: &'a [f32],
    pub(super) images: usize,
    pub(super) positions: usize,
    pub(super) channels: usize,
}

/// Every image's loss and, when asked for, the gradient of `scale × Σ losses` with respect to the
/// predictions (same layout as the predictions).
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Scored {
    pub(super) losses: Vec<f32>,
    pub(super) gradient: Option<Vec<f32>>,
}

/// The loss of every image of `pred` against `target`, and with `scale` the gradient of `scale × Σ
/// losses`.
pub(super) fn per_image(
    loss: LossKind,
    pred: Predictions<'_>,
    target: &HostTargets,
    scale: Option<f32>,
) -> Result<Scored, ModelError> {
    let Predictions {
        values,
        images,
        positions,
        channels,
    } = pred;
    let per_image = positions * channels;
    if values.len() != images * per_image || target.len() != images {
        return Err(mismatch(loss, pred, target));
    }
    let mut gradient = scale.map(|_| vec![0.0f32; values.len()]);
    let scale = scale.unwrap_or(0.0);
    let mut losses = Vec::with_capacity(images);
    for b in 0..images {
        let p = &values[b * per_image..(b + 1) * per_image];
        let g = gradient
            .as_mut()
            .map(|g| &mut g[b * per_image..(b + 1) * per_image]);
        let value = match (loss, target) {
            (
                LossKind::L1 | LossKind::L2 | LossKind::Huber,
                HostTargets::Values { values: y, .. },
            ) if y.len() == values.len() => {
                let kind = match loss {
                    LossKind::L1 => Distance::L1,
                    LossKind::L2 => Distance::L2,
                    _ => Distance::Huber,
                };
                distance(kind, p, &y[b * per_image..(b + 1) * per_image], g, scale)
            }
            (LossKind::Cosine, HostTargets::Values { values: y, .. })
                if y.len() == values.len() =>
            {
                cosine(
                    p,
                    &y[b * per_image..(b + 1) * per_image],
                    channels,
                    g,
                    scale,
                )
            }
            (LossKind::CrossEntropy, HostTargets::Values { values: y, .. })
                if y.len() == values.len() =>
            {
                let y = &y[b * per_image..(b + 1) * per_image];
                cross_entropy(
                    p,
                    channels,
                    |position, c| y[position * channels + c],
                    g,
                    scale,
                )
            }
            (LossKind::CrossEntropy, HostTargets::Classes { values: y, .. })
                if y.len() == images * positions && y.iter().all(|&k| k < channels) =>
            {
                class_cross_entropy(
                    p,
                    channels,
                    &y[b * positions..(b + 1) * positions],
                    g,
                    scale,
                )
            }
            (LossKind::BinaryCrossEntropy, HostTargets::Values { values: y, .. })
                if y.len() == values.len() =>
            {
                binary_cross_entropy(p, &y[b * per_image..(b + 1) * per_image], g, scale)
            }
            (
                LossKind::Contrastive,
                HostTargets::Pairs {
                    per_image: samples,
                    same,
                    ..
                },
            ) if *samples == positions && same.len() == images * positions * positions => {
                let pairs = positions * positions;
                contrastive(p, channels, &same[b * pairs..(b + 1) * pairs], g, scale)
            }
            _ => return Err(mismatch(loss, pred, target)),
        };
        losses.push(value);
    }
    Ok(Scored { losses, gradient })
}

fn mismatch(loss: LossKind, pred: Predictions<'_>, target: &HostTargets) -> ModelError {
    let labels = match target {
        HostTargets::Values {
            positions,
            channels,
            ..
        } => format!(
            "{} images of {positions} positions × {channels} values",
            target.len()
        ),
        HostTargets::Classes { positions, .. } => {
            format!("{} images of {positions} class indices", target.len())
        }
        HostTargets::Pairs { per_image, .. } => {
            format!("{} images of {per_image} contrastive samples", target.len())
        }
    };
    ModelError::Batch(format!(
        "{loss}: predictions ({}, {}, {}) do not fit labels of {labels}",
        pred.images, pred.positions, pred.channels
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Central differences of the summed loss agree with the analytic gradient for every loss.
    #[test]
    fn gradients_match_finite_differences() {
        let mut rng = crate::data::rng::Rng::new(3, &[]);
        let mut values =
            |n: usize| -> Vec<f32> { (0..n).map(|_| rng.range(-1.5, 1.5) as f32).collect() };
        let (images, positions, channels) = (2, 3, 4);
        let n = images * positions * channels;
        let dense = HostTargets::Values {
            positions,
            channels,
            values: values(n),
        };
        let distribution = HostTargets::Values {
            positions,
            channels,
            values: values(n).iter().map(|v| v.abs()).collect(),
        };
        let binary = HostTargets::Values {
            positions,
            channels,
            values: values(n)
                .iter()
                .map(|v| f32::from(u8::from(*v > 0.0)))
                .collect(),
        };
        let classes = HostTargets::Classes {
            positions,
            values: vec![0, 3, 1, 2, 2, 0],
        };
        let pairs = HostTargets::Pairs {
            per_image: positions,
            positions: vec![0; images * positions],
            same: vec![
                1., 0., 0., 0., 1., 1., 0., 1., 1., 1., 1., 0., 1., 1., 0., 0., 0., 1.,
            ],
        };
        let cases = [
            (LossKind::L1, &dense),
            (LossKind::L2, &dense),
            (LossKind::Huber, &dense),
            (LossKind::Cosine, &dense),
            (LossKind::CrossEntropy, &distribution),
            (LossKind::CrossEntropy, &classes),
            (LossKind::BinaryCrossEntropy, &binary),
            (LossKind::Contrastive, &pairs),
        ];
        let x = values(n).iter().map(|v| v * 0.5).collect::<Vec<f32>>();
        for (loss, target) in cases {
            let pred = |v: &[f32]| {
                per_image(
                    loss,
                    Predictions {
                        values: v,
                        images,
                        positions,
                        channels,
                    },
                    target,
                    Some(0.5),
                )
                .unwrap()
            };
            let scored = pred(&x);
            let gradient = scored.gradient.unwrap();
            let total = |v: &[f32]| 0.5 * pred(v).losses.iter().map(|&l| f64::from(l)).sum::<f64>();
            for i in 0..n {
                let h = 1e-2f32;
                let (mut up, mut down) = (x.clone(), x.clone());
                up[i] += h;
                down[i] -= h;
                let numeric = (total(&up) - total(&down)) / (2.0 * f64::from(h));
                let analytic = f64::from(gradient[i]);
                assert!(
                    (numeric - analytic).abs() < 2e-3 * (1.0 + numeric.abs()),
                    "{loss}: ∂/∂x[{i}] numeric {numeric}, analytic {analytic}"
                );
            }
        }
    }

    #[test]
    fn labels_that_do_not_fit_are_errors() {
        let pred = [0.0f32; 6];
        let predictions = Predictions {
            values: &pred,
            images: 1,
            positions: 2,
            channels: 3,
        };
        let classes = HostTargets::Classes {
            positions: 2,
            values: vec![0, 3],
        };
        let error = per_image(LossKind::CrossEntropy, predictions, &classes, None).unwrap_err();
        assert!(
            error.to_string().contains("predictions (1, 2, 3)"),
            "{error}"
        );
        let values = HostTargets::Values {
            positions: 2,
            channels: 3,
            values: vec![0.0; 6],
        };
        assert!(per_image(LossKind::Contrastive, predictions, &values, None).is_err());
        assert_eq!(
            per_image(LossKind::L1, predictions, &values, None)
                .unwrap()
                .losses,
            [0.0]
        );
    }
}
