//! Every way this implementation departs from the paper, each with its reason: listed in every report and
//! in the README (a test keeps the two in step), so that no number is read as the paper's when it is not.

/// One departure: what differs, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Departure {
    /// The part of the method.
    pub topic: &'static str,
    /// What the paper does, what is done here, and why, in one line.
    pub line: &'static str,
}

/// Every departure from Zamir et al. (CVPR 2018), in the order of the method.
pub const DEPARTURES: &[Departure] = &[
    Departure {
        topic: "data",
        line: "Synthetic rendered rooms with exact labels (or any folder in the Taskonomy layout) instead of \
               4 million real images of 600 buildings: the method runs anywhere without a 12 TB download.",
    },
    Departure {
        topic: "image size",
        line: "16, 32 or 64 pixels (tiny, small, paper presets) instead of 256: networks train on a CPU in minutes.",
    },
    Departure {
        topic: "encoder",
        line: "An MLP-Mixer over patches instead of ResNet-50: dfdx on stable Rust has no convolutions. Its \
               representation is kept small (8 or 16 channels per patch) like the paper's 16×16×8.",
    },
    Departure {
        topic: "decoders",
        line: "Mixer or per-token MLP decoders of the shape each task declares instead of the paper's \
               convolutional decoders (same reason).",
    },
    Departure {
        topic: "transfer function",
        line: "A two-layer readout applied to every token (optionally with Mixer blocks) instead of the paper's \
               small convolutional network: the per-token readout is its counterpart without convolutions.",
    },
    Departure {
        topic: "losses",
        line: "Cosine distance for surface normals and no GAN terms on any pixel-to-pixel task: adversarial \
               training is unstable at this scale and a GAN term is not a per-image loss the tournament can use.",
    },
    Departure {
        topic: "colorization",
        line: "64 colour classes (8 × 8 bins of a*, b*) instead of 313: most of the 313 are never seen in small images.",
    },
    Departure {
        topic: "jigsaw",
        line: "100 permutations of 3 × 3 tiles instead of 1,000: a network of this size cannot tell 1,000 apart on \
               tiles of a few pixels.",
    },
    Departure {
        topic: "edges",
        line: "2-D edges learn Canny's edge strength before non-maximum suppression and hysteresis, and 3-D \
               edges their occlusion edges drawn with a 1-pixel Gaussian profile, both still with L1, instead \
               of one-pixel binary maps: on those a small network learns to predict no edge anywhere.",
    },
    Departure {
        topic: "task training",
        line: "At the tiny and small presets a task network starts at its task's best constant predictor and \
               trains with weight decay towards it, so that with a few thousand images it does not memorise \
               them and end below the constant; the paper trains from scratch on far more data.",
    },
    Departure {
        topic: "sources that learnt nothing",
        line: "A task whose network does not beat its best constant predictor on the test images is measured \
               but never chosen as a source (the report names it): at this scale a network can fail to learn, \
               which the paper's does not.",
    },
    Departure {
        topic: "splits",
        line: "Training, transfer and test splits are a few hundred images per task at the small preset instead \
               of hundreds of thousands; the transfer split stays much smaller than the training split, as in \
               the paper.",
    },
    Departure {
        topic: "higher orders",
        line: "Higher-order transfers combine a target's top first-order sources (all combinations up to 5, \
               beam search beyond), ranked by their AHP affinity; the paper's search is described the same way \
               but its exact candidate sets were not released.",
    },
    Departure {
        topic: "altered inputs",
        line: "Transfers into denoising (and `pixels`, the reference of Gain) see the noisy image the target's \
               own network sees, through each source's frozen encoder: the paper does not say which input a \
               transfer into a task with an altered input reads, and the clean image would give the answer away.",
    },
    Departure {
        topic: "own supervision",
        line: "A supervised target scores its own network's value in the same AHP tournament (`self`) by \
               default; `one` (the planner's score of 1) remains an option.",
    },
    Departure {
        topic: "novel tasks",
        line: "A novel task's fully supervised network is trained on the training split for one use only, to \
               score Quality, as the paper needs one for the same purpose.",
    },
    Departure {
        topic: "uncertainty",
        line: "Every affinity and win rate carries a 95% bootstrap interval over the test images, and runs can \
               be repeated over seeds; the paper reports point estimates.",
    },
];

/// The departures as a Markdown list, one line each, as the README shows them.
pub fn markdown() -> String {
    DEPARTURES
        .iter()
        .map(|d| format!("- **{}**: {}\n", d.topic, d.line))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn departures_are_single_lines_with_distinct_topics() {
        let mut topics: Vec<&str> = DEPARTURES.iter().map(|d| d.topic).collect();
        topics.sort_unstable();
        topics.dedup();
        assert_eq!(topics.len(), DEPARTURES.len());
        assert!(DEPARTURES.iter().all(|d| !d.line.contains('\n')));
        assert_eq!(markdown().lines().count(), DEPARTURES.len());
    }
}
