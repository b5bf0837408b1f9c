//! What a task predicts: the output kinds and which losses make sense for each.

use std::fmt;

use crate::LossKind;

/// The kind of a task's output, named as it is written in `#[task(output = Kind<N>)]`.
///
/// The number `N` is the output's size; what it counts depends on the kind (see [`OutputKind::size_meaning`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OutputKind {
    /// Per-pixel regression with `N` channels (depth, normals, edges, reshading, autoencoding).
    Dense,
    /// Per-pixel classification into `N` classes (semantic segmentation, colour bins).
    PixelClasses,
    /// Per-pixel embedding with `N` dimensions, compared by a metric (unsupervised segmentation).
    PixelEmbedding,
    /// One of `N` classes for the whole image, or a distribution over them (scene, object classes).
    Classes,
    /// `N` independent yes/no labels for the whole image.
    MultiLabel,
    /// A fixed-size vector of `N` real numbers (camera pose, room layout, vanishing points).
    Vector,
}

impl OutputKind {
    /// Every output kind, in declaration order.
    pub const ALL: [OutputKind; 6] = [
        OutputKind::Dense,
        OutputKind::PixelClasses,
        OutputKind::PixelEmbedding,
        OutputKind::Classes,
        OutputKind::MultiLabel,
        OutputKind::Vector,
    ];

    /// The name as written in a declaration, which is also the name of the output type.
    pub const fn type_name(self) -> &'static str {
        match self {
            OutputKind::Dense => "Dense",
            OutputKind::PixelClasses => "PixelClasses",
            OutputKind::PixelEmbedding => "PixelEmbedding",
            OutputKind::Classes => "Classes",
            OutputKind::MultiLabel => "MultiLabel",
            OutputKind::Vector => "Vector",
        }
    }

    /// The output kind written `name` in a declaration, if there is one.
    pub fn from_type_name(name: &str) -> Option<OutputKind> {
        OutputKind::ALL
            .into_iter()
            .find(|kind| kind.type_name() == name)
    }

    /// What the size parameter `N` counts for this kind.
    pub const fn size_meaning(self) -> &'static str {
        match self {
            OutputKind::Dense => "channels",
            OutputKind::PixelClasses | OutputKind::Classes => "classes",
            OutputKind::PixelEmbedding => "embedding dimensions",
            OutputKind::MultiLabel => "labels",
            OutputKind::Vector => "components",
        }
    }

    /// The smallest meaningful size: a classification needs two classes, everything else one.
    pub const fn min_size(self) -> usize {
        match self {
            OutputKind::PixelClasses | OutputKind::Classes => 2,
            _ => 1,
        }
    }

    /// Whether the output has one value (or vector) per pixel rather than one per image.
    pub const fn is_per_pixel(self) -> bool {
        matches!(
            self,
            OutputKind::Dense | OutputKind::PixelClasses | OutputKind::PixelEmbedding
        )
    }

    /// The losses that make sense for this kind of output.
    ///
    /// Regression outputs take the distance losses; an angular loss needs at least two channels, which
    /// [`OutputShape::admits`] checks on top of this list. Class outputs take cross-entropy, independent
    /// labels binary cross-entropy, and embeddings a metric-learning loss: their values have no meaning on
    /// their own, only their distances do.
    pub const fn admissible_losses(self) -> &'static [LossKind] {
        match self {
            OutputKind::Dense => &[
                LossKind::L1,
                LossKind::L2,
                LossKind::Huber,
                LossKind::Cosine,
            ],
            OutputKind::Vector => &[
                LossKind::L1,
                LossKind::L2,
                LossKind::Huber,
                LossKind::Cosine,
            ],
            OutputKind::PixelClasses | OutputKind::Classes => &[LossKind::CrossEntropy],
            OutputKind::MultiLabel => &[LossKind::BinaryCrossEntropy],
            OutputKind::PixelEmbedding => &[LossKind::Contrastive],
        }
    }
}

impl fmt::Display for OutputKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.type_name())
    }
}

/// An output kind with its size: `Dense<3>` is `OutputShape { kind: Dense, size: 3 }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OutputShape {
    /// The kind of output.
    pub kind: OutputKind,
    /// Channels, classes, dimensions, labels or components, depending on the kind.
    pub size: usize,
}

/// Why an output shape or an output/loss pairing is not allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShapeError {
    /// The size is below the kind's minimum.
    TooSmall {
        /// The offending shape.
        shape: OutputShape,
    },
    /// The loss is not one of the kind's admissible losses.
    LossDoesNotFit {
        /// The declared output.
        shape: OutputShape,
        /// The declared loss.
        loss: LossKind,
    },
    /// An angular loss on a single channel, where there is no direction to compare.
    AngularNeedsTwoChannels {
        /// The declared output.
        shape: OutputShape,
    },
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShapeError::TooSmall { shape } => write!(
                f,
                "`{shape}` has too few {}: {} needs at least {}",
                shape.kind.size_meaning(),
                shape.kind,
                shape.kind.min_size()
            ),
            ShapeError::LossDoesNotFit { shape, loss } => {
                let fits: Vec<&str> = shape
                    .kind
                    .admissible_losses()
                    .iter()
                    .map(|l| l.type_name())
                    .collect();
                let verb = if fits.len() == 1 { "fits" } else { "fit" };
                write!(
                    f,
                    "loss `{loss}` does not fit output `{shape}`; {} {verb} `{}` outputs",
                    fits.join(", "),
                    shape.kind
                )
            }
            ShapeError::AngularNeedsTwoChannels { shape } => write!(
                f,
                "loss `Cosine` compares directions, but `{shape}` has a single {}; use L1, L2 or Huber",
                match shape.kind.size_meaning() {
                    "channels" => "channel",
                    _ => "component",
                }
            ),
        }
    }
}

impl std::error::Error for ShapeError {}

impl OutputShape {
    /// A shape of `kind` with `size` channels, classes, dimensions, labels or components.
    pub const fn new(kind: OutputKind, size: usize) -> Self {
        OutputShape { kind, size }
    }

    /// Checks that the size is meaningful for the kind.
    pub fn validate(self) -> Result<(), ShapeError> {
        if self.size < self.kind.min_size() {
            return Err(ShapeError::TooSmall { shape: self });
        }
        Ok(())
    }

    /// Checks that `loss` can train this output.
    pub fn admits(self, loss: LossKind) -> Result<(), ShapeError> {
        if !self.kind.admissible_losses().contains(&loss) {
            return Err(ShapeError::LossDoesNotFit { shape: self, loss });
        }
        if loss == LossKind::Cosine && self.size < 2 {
            return Err(ShapeError::AngularNeedsTwoChannels { shape: self });
        }
        Ok(())
    }
}

impl fmt::Display for OutputShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}<{}>", self.kind, self.size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_admits_some_loss_and_names_round_trip() {
        for kind in OutputKind::ALL {
            assert!(!kind.admissible_losses().is_empty());
            assert_eq!(OutputKind::from_type_name(kind.type_name()), Some(kind));
        }
        assert_eq!(OutputKind::from_type_name("dense"), None);
    }

    #[test]
    fn classification_losses_do_not_fit_regression() {
        let depth = OutputShape::new(OutputKind::Dense, 1);
        assert!(depth.admits(LossKind::L1).is_ok());
        let err = depth.admits(LossKind::CrossEntropy).unwrap_err();
        assert_eq!(
            err.to_string(),
            "loss `CrossEntropy` does not fit output `Dense<1>`; L1, L2, Huber, Cosine fit `Dense` outputs"
        );
    }

    #[test]
    fn single_admissible_loss_reads_in_the_singular() {
        let scene = OutputShape::new(OutputKind::Classes, 8);
        let err = scene.admits(LossKind::L2).unwrap_err();
        assert_eq!(
            err.to_string(),
            "loss `L2` does not fit output `Classes<8>`; CrossEntropy fits `Classes` outputs"
        );
    }

    #[test]
    fn cosine_needs_a_direction() {
        assert!(OutputShape::new(OutputKind::Dense, 3)
            .admits(LossKind::Cosine)
            .is_ok());
        assert_eq!(
            OutputShape::new(OutputKind::Dense, 1).admits(LossKind::Cosine),
            Err(ShapeError::AngularNeedsTwoChannels {
                shape: OutputShape::new(OutputKind::Dense, 1)
            })
        );
    }

    #[test]
    fn classification_needs_two_classes() {
        assert!(OutputShape::new(OutputKind::Classes, 1).validate().is_err());
        assert!(OutputShape::new(OutputKind::Classes, 2).validate().is_ok());
        assert!(OutputShape::new(OutputKind::Dense, 0).validate().is_err());
        assert!(OutputShape::new(OutputKind::Dense, 1).validate().is_ok());
    }
}
