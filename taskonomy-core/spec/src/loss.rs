//! The losses a task can be trained with.

use std::fmt;

/// A training loss, named as it is written in `#[task(loss = ...)]`.
///
/// Which losses fit which output is decided by [`OutputKind::admissible_losses`](crate::OutputKind).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LossKind {
    /// Mean absolute error, `mean |ŷ − y|`.
    L1,
    /// Mean squared error, `mean (ŷ − y)²`.
    L2,
    /// Huber (smooth L1) loss with δ = 1: quadratic near zero, linear in the tails.
    Huber,
    /// Softmax cross-entropy against a class index or a class distribution (soft labels, as in the
    /// paper's distilled ImageNet and Places targets).
    CrossEntropy,
    /// Sigmoid binary cross-entropy, one independent decision per label.
    BinaryCrossEntropy,
    /// Angular loss `1 − cos(ŷ, y)` over the channel dimension (surface normals, directions).
    Cosine,
    /// Contrastive metric-learning loss on per-pixel embeddings: pixels of one segment are pulled
    /// together, pixels of different segments pushed at least a margin apart.
    Contrastive,
}

impl LossKind {
    /// Every loss, in declaration order.
    pub const ALL: [LossKind; 7] = [
        LossKind::L1,
        LossKind::L2,
        LossKind::Huber,
        LossKind::CrossEntropy,
        LossKind::BinaryCrossEntropy,
        LossKind::Cosine,
        LossKind::Contrastive,
    ];

    /// The name as written in a declaration (`loss = Huber`), which is also the name of the loss type.
    pub const fn type_name(self) -> &'static str {
        match self {
            LossKind::L1 => "L1",
            LossKind::L2 => "L2",
            LossKind::Huber => "Huber",
            LossKind::CrossEntropy => "CrossEntropy",
            LossKind::BinaryCrossEntropy => "BinaryCrossEntropy",
            LossKind::Cosine => "Cosine",
            LossKind::Contrastive => "Contrastive",
        }
    }

    /// The loss written `name` in a declaration, if there is one.
    pub fn from_type_name(name: &str) -> Option<LossKind> {
        LossKind::ALL
            .into_iter()
            .find(|loss| loss.type_name() == name)
    }
}

impl fmt::Display for LossKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.type_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for loss in LossKind::ALL {
            assert_eq!(LossKind::from_type_name(loss.type_name()), Some(loss));
        }
        assert_eq!(LossKind::from_type_name("l1"), None);
    }
}
