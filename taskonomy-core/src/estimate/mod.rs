//! Transferability estimators: how well a frozen representation transfers to a target, from closed-form
//! statistics of its features and the target's labels, without training a readout.
//!
//! Since the paper, a line of work has estimated transfer from the features alone. Three are here, each
//! computed on the cached representations of the transfer split that step II trains its readouts on
//! ([`crate::train::estimate`] gathers them):
//!
//! - **LogME** (You et al., ICML 2021; [`linear::LinearFeatures::evidence`]): the maximised evidence
//!   of a Bayesian linear model of the labels given the features, per value. For a dense target the
//!   samples are the tokens and each output channel is one model whose outputs are the pixels of the
//!   token's patch (they share `α` and `β`); for an image-level target the samples are the images
//!   (tokens averaged, as the readout does), one model per output, as published; classes are one-hot.
//! - **H-score** (Bao et al., ICIP 2019; [`hscore::hscore`]): `tr(cov(f)⁺ cov(E[f|y]))`, for
//!   classification targets only (image classes, weighted by the label's distribution, or pixel
//!   classes, a token counting once per pixel of its patch).
//! - **Ridge** ([`linear::LinearFeatures::ridge`]): the readout as a linear probe fitted in closed form,
//!   its penalty chosen by the evidence (`λ = α/β`) or by exact leave-one-out error, and scored on the
//!   test images with the target's own loss, like a trained readout.
//!
//! [`compare`] measures how far each agrees with the trained transfers: per-target rank correlation, and
//! the Quality a taxonomy planned on the estimates loses.

pub mod compare;
pub mod hscore;
pub mod linear;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why an estimate could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum EstimateError {
    /// Features or labels of the wrong shape.
    #[error("{0}")]
    Shape(String),
    /// A value that is not a number.
    #[error("{0} is not finite")]
    NotFinite(String),
}

/// A transferability estimator.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Estimator {
    /// LogME: the evidence of a Bayesian linear model.
    #[default]
    LogMe,
    /// H-score: between-class over total feature covariance (classification targets).
    HScore,
    /// The closed-form ridge readout, scored on the test images.
    Ridge,
}

impl Estimator {
    /// Every estimator.
    pub const ALL: [Estimator; 3] = [Estimator::LogMe, Estimator::HScore, Estimator::Ridge];

    /// The estimator's name: its folder under `estimates/` and its command-line spelling.
    pub fn name(self) -> &'static str {
        match self {
            Estimator::LogMe => "logme",
            Estimator::HScore => "hscore",
            Estimator::Ridge => "ridge",
        }
    }

    /// Whether the estimator scores the test images (and so yields per-image losses, a tournament and
    /// win rates, like a trained readout) rather than one number per transfer.
    pub fn scores_test_images(self) -> bool {
        self == Estimator::Ridge
    }

    /// Affinities from one score per candidate of a target (higher is better), summing to one like
    /// AHP's. LogME's scores are log evidences per value, so `exp(sᵢ − sⱼ)` is the per-value Bayes factor
    /// of candidate `i` over `j`: the weights are proportional to `exp(sᵢ)`, and their ratios are those
    /// Bayes factors (as AHP's ratios are odds of winning). H-scores are non-negative separations: the
    /// weights are proportional to them (uniform when all are zero). Ridge is not scored this way: its
    /// per-image losses go through AHP.
    pub fn affinities(self, scores: &[f64]) -> Vec<f64> {
        let weights: Vec<f64> = match self {
            Estimator::LogMe | Estimator::Ridge => {
                let top = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                scores.iter().map(|s| (s - top).exp()).collect()
            }
            Estimator::HScore => scores.iter().map(|s| s.max(0.0)).collect(),
        };
        let total: f64 = weights.iter().sum();
        if total > 0.0 && total.is_finite() {
            weights.iter().map(|w| w / total).collect()
        } else {
            vec![1.0 / scores.len().max(1) as f64; scores.len()]
        }
    }
}

impl fmt::Display for Estimator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Estimator {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Estimator::ALL
            .into_iter()
            .find(|e| e.name() == s)
            .ok_or_else(|| format!("unknown estimator `{s}`: expected logme, hscore or ridge"))
    }
}

/// How the ridge readout chooses its penalty.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Regularisation {
    /// `λ = α/β` at LogME's maximum of the evidence: free once the evidence is computed.
    #[default]
    Evidence,
    /// The penalty of least leave-one-out error among 17 from 10⁻⁶ to 10² times the mean `σᵢ²`.
    LeaveOneOut,
}

impl FromStr for Regularisation {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "evidence" => Ok(Regularisation::Evidence),
            "leave-one-out" | "loo" => Ok(Regularisation::LeaveOneOut),
            _ => Err(format!(
                "unknown regularisation `{s}`: expected evidence or leave-one-out"
            )),
        }
    }
}

impl fmt::Display for Regularisation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Regularisation::Evidence => "evidence",
            Regularisation::LeaveOneOut => "leave-one-out",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logme_affinities_are_ratios_of_bayes_factors() {
        let a = Estimator::LogMe.affinities(&[-1.0, -1.0 + 2f64.ln(), -3.0]);
        assert!((a.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!((a[1] / a[0] - 2.0).abs() < 1e-12);
        assert!((a[0] / a[2] - 2f64.exp()).abs() < 1e-9);
    }

    #[test]
    fn hscore_affinities_are_proportional_and_never_negative() {
        assert_eq!(Estimator::HScore.affinities(&[1.0, 3.0]), [0.25, 0.75]);
        assert_eq!(Estimator::HScore.affinities(&[0.0, -0.0]), [0.5, 0.5]);
    }

    #[test]
    fn names_round_trip() {
        for e in Estimator::ALL {
            assert_eq!(e.name().parse::<Estimator>().unwrap(), e);
        }
        assert!("leep".parse::<Estimator>().is_err());
    }
}
