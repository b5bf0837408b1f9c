//! Where a task's labels come from, how a dataset folder stores them, and which declarations make sense.
//!
//! A task declares its labels in one of four ways ([`Labelling`]): a function of a rendered synthetic view
//! (its labels are then written into the task's domain folder when scenes are rendered, and read back
//! like any dataset's), a domain folder labelled elsewhere, a derivation from the RGB image at load time
//! (self-supervised tasks), or a function of the views' point-info records (camera poses, the room).
//! Files are read and written with an [`Encoding`]. [`check_labels`] holds the rules the `#[task]`
//! attribute is checked against, so that the compile-time check and the runtime agree.

use std::fmt;

use crate::{OutputKind, OutputShape};

/// Where a task's labels come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Labelling {
    /// A label function of one rendered synthetic view (`label = f`); rendering stores its labels in the
    /// task's domain folder with its encoding, and training reads them from there.
    Rendered,
    /// The task's domain folder of a dataset labelled elsewhere, read with its encoding (`encoding = ...`).
    Stored,
    /// Derived from the RGB image when a sample is loaded (`from_rgb = f`): the network's input and the
    /// label (self-supervised tasks such as denoising or colorization).
    FromImage,
    /// Computed from the views' point-info records when a sample is loaded (`point_info = f`): camera
    /// poses, the fixated point, the room box.
    FromPointInfo,
}

impl Labelling {
    /// Every labelling, in declaration order.
    pub const ALL: [Labelling; 4] = [
        Labelling::Rendered,
        Labelling::Stored,
        Labelling::FromImage,
        Labelling::FromPointInfo,
    ];

    /// The variant's name, as generated code writes it (`Labelling::FromImage`).
    pub const fn variant_name(self) -> &'static str {
        match self {
            Labelling::Rendered => "Rendered",
            Labelling::Stored => "Stored",
            Labelling::FromImage => "FromImage",
            Labelling::FromPointInfo => "FromPointInfo",
        }
    }

    /// Whether the labels are files of the task's domain folder.
    pub const fn is_stored(self) -> bool {
        matches!(self, Labelling::Rendered | Labelling::Stored)
    }

    /// The attribute key that declares this labelling.
    pub const fn key(self) -> &'static str {
        match self {
            Labelling::Rendered => "label",
            Labelling::Stored => "encoding",
            Labelling::FromImage => "from_rgb",
            Labelling::FromPointInfo => "point_info",
        }
    }

    /// A short description, for task listings.
    pub const fn describe(self) -> &'static str {
        match self {
            Labelling::Rendered => "rendered",
            Labelling::Stored => "stored",
            Labelling::FromImage => "from rgb",
            Labelling::FromPointInfo => "from point info",
        }
    }
}

/// Which views a multi-view task's samples pair up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Sampling {
    /// Views that all fixate the same point (pairs, or triplets for three views). The default.
    Fixated,
    /// Two views that both see the same point off-centre.
    NonFixated,
    /// Two fixated views, of the same point or of different points of the building, half and half.
    Matching,
}

impl Sampling {
    /// Every sampling, in declaration order.
    pub const ALL: [Sampling; 3] = [Sampling::Fixated, Sampling::NonFixated, Sampling::Matching];

    /// The name as written in a declaration (`sampling = NonFixated`).
    pub const fn type_name(self) -> &'static str {
        match self {
            Sampling::Fixated => "Fixated",
            Sampling::NonFixated => "NonFixated",
            Sampling::Matching => "Matching",
        }
    }

    /// The sampling written `name` in a declaration, if there is one.
    pub fn from_type_name(name: &str) -> Option<Sampling> {
        Sampling::ALL.into_iter().find(|s| s.type_name() == name)
    }
}

/// How a domain folder stores a task's labels, one file per view.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Encoding {
    /// A PNG of `bits` (8 or 16) per sample: grey for one channel, RGB for two or three (a third channel
    /// left zero), RGBA for four. A stored sample `raw` holds the value `raw × scale + offset`; class and
    /// segment ids are stored as they are.
    Png {
        /// 8 or 16.
        bits: u8,
        /// The value of one step of the stored integer.
        scale: f64,
        /// The value of a stored zero.
        offset: f64,
    },
    /// A NumPy `.npy` array of `float32` or `float64`: the output's values (per-pixel outputs channel by
    /// channel, `C × H × W`), or, with `first`, the first that many values of a longer vector.
    Npy {
        /// Read only the first this many values (the output's size).
        first: Option<usize>,
    },
    /// A field of the view's point-info JSON: a number, a boolean, or arrays and objects of them,
    /// flattened in order.
    PointInfo {
        /// The field's name.
        field: &'static str,
    },
}

impl Encoding {
    /// What a rendered task without a declared encoding is stored as: lossless `float32`.
    pub const DEFAULT: Encoding = Encoding::Npy { first: None };

    /// A PNG of `bits` storing values as they are.
    pub const fn png(bits: u8) -> Encoding {
        Encoding::Png {
            bits,
            scale: 1.0,
            offset: 0.0,
        }
    }

    /// The extension of the label files (`png`, `npy`; `json` for point-info fields).
    pub const fn extension(&self) -> &'static str {
        match self {
            Encoding::Png { .. } => "png",
            Encoding::Npy { .. } => "npy",
            Encoding::PointInfo { .. } => "json",
        }
    }

    /// Checks that files of this encoding can hold outputs of `shape`.
    pub fn fits(&self, shape: OutputShape) -> Result<(), EncodingError> {
        let kind = shape.kind;
        match *self {
            Encoding::Png {
                bits,
                scale,
                offset,
            } => {
                if bits != 8 && bits != 16 {
                    return Err(EncodingError::Bits { bits });
                }
                if !kind.is_per_pixel() {
                    return Err(EncodingError::ImageLevelInPng { shape });
                }
                if !(scale.is_finite() && scale > 0.0 && offset.is_finite()) {
                    return Err(EncodingError::Scale { scale, offset });
                }
                match kind {
                    OutputKind::Dense if shape.size > 4 => Err(EncodingError::Channels { shape }),
                    OutputKind::PixelClasses | OutputKind::PixelEmbedding => {
                        if scale != 1.0 || offset != 0.0 {
                            Err(EncodingError::ScaledIds { shape })
                        } else if kind == OutputKind::PixelClasses && shape.size > 1usize << bits {
                            Err(EncodingError::ClassesExceedBits { shape, bits })
                        } else {
                            Ok(())
                        }
                    }
                    _ => Ok(()),
                }
            }
            Encoding::Npy { first: None } => Ok(()),
            Encoding::Npy { first: Some(first) } => {
                if kind.is_per_pixel() {
                    Err(EncodingError::FirstOfPixels { shape })
                } else if first != shape.size {
                    Err(EncodingError::FirstIsNotTheSize { shape, first })
                } else {
                    Ok(())
                }
            }
            Encoding::PointInfo { field } => {
                if kind.is_per_pixel() {
                    Err(EncodingError::PixelsInPointInfo { shape })
                } else if field.is_empty() {
                    Err(EncodingError::EmptyField)
                } else {
                    Ok(())
                }
            }
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Encoding::Png {
                bits,
                scale,
                offset,
            } => {
                write!(f, "Png{bits}")?;
                match (*scale != 1.0, *offset != 0.0) {
                    (false, false) => Ok(()),
                    (true, false) => write!(f, "(scale = {scale})"),
                    (false, true) => write!(f, "(offset = {offset})"),
                    (true, true) => write!(f, "(scale = {scale}, offset = {offset})"),
                }
            }
            Encoding::Npy { first: None } => f.write_str("Npy"),
            Encoding::Npy { first: Some(n) } => write!(f, "Npy(first = {n})"),
            Encoding::PointInfo { field } => write!(f, "PointInfo({field:?})"),
        }
    }
}

/// Why an encoding cannot store a task's labels.
#[derive(Clone, Debug, PartialEq)]
pub enum EncodingError {
    /// A PNG sample is 8 or 16 bits.
    Bits {
        /// The bits asked for.
        bits: u8,
    },
    /// An image-level output in a PNG.
    ImageLevelInPng {
        /// The output.
        shape: OutputShape,
    },
    /// More channels than a PNG has.
    Channels {
        /// The output.
        shape: OutputShape,
    },
    /// A scale that is not positive and finite, or an offset that is not finite.
    Scale {
        /// The scale.
        scale: f64,
        /// The offset.
        offset: f64,
    },
    /// Ids with a scale or offset.
    ScaledIds {
        /// The output.
        shape: OutputShape,
    },
    /// More classes than the PNG's samples can number.
    ClassesExceedBits {
        /// The output.
        shape: OutputShape,
        /// The PNG's bits.
        bits: u8,
    },
    /// `first` on a per-pixel output.
    FirstOfPixels {
        /// The output.
        shape: OutputShape,
    },
    /// `first` is not the output's size.
    FirstIsNotTheSize {
        /// The output.
        shape: OutputShape,
        /// The declared count.
        first: usize,
    },
    /// A per-pixel output in a point-info field.
    PixelsInPointInfo {
        /// The output.
        shape: OutputShape,
    },
    /// A point-info field without a name.
    EmptyField,
}

impl fmt::Display for EncodingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodingError::Bits { bits } => {
                write!(f, "a PNG stores 8 or 16 bits per sample, not {bits}: use Png8 or Png16")
            }
            EncodingError::ImageLevelInPng { shape } => write!(
                f,
                "a PNG stores per-pixel labels, but `{shape}` has one label per image; use `Npy` \
                 or `PointInfo(\"field\")`"
            ),
            EncodingError::Channels { shape } => write!(
                f,
                "a PNG holds at most 4 channels, but `{shape}` has {}; use `Npy`",
                shape.size
            ),
            EncodingError::Scale { scale, offset } => write!(
                f,
                "the scale must be positive and the offset finite, found scale = {scale}, offset = {offset}"
            ),
            EncodingError::ScaledIds { shape } => write!(
                f,
                "`{shape}` labels are ids, stored as they are: remove `scale` and `offset`"
            ),
            EncodingError::ClassesExceedBits { shape, bits } => {
                let article = if *bits == 8 { "an" } else { "a" };
                // A wider PNG helps only while there is one: past 16 bits, ids go to a `.npy`.
                let wider = if *bits == 8 { "`Png16`" } else { "`Npy`" };
                write!(
                    f,
                    "`{shape}` has more classes than {article} {bits}-bit PNG can number ({}); \
                     use {wider}",
                    1usize << bits
                )
            }
            EncodingError::FirstOfPixels { shape } => write!(
                f,
                "`first` takes the start of a vector, but `{shape}` is per pixel; use `Npy`"
            ),
            EncodingError::FirstIsNotTheSize { shape, first } => write!(
                f,
                "`first = {first}`, but `{shape}` has {} {}: read the first {}",
                shape.size,
                shape.kind.size_meaning(),
                shape.size
            ),
            EncodingError::PixelsInPointInfo { shape } => write!(
                f,
                "a point-info field holds one value per image, but `{shape}` is per pixel; use `Png8`, \
                 `Png16` or `Npy`"
            ),
            EncodingError::EmptyField => f.write_str("name the point-info field: `PointInfo(\"field\")`"),
        }
    }
}

impl std::error::Error for EncodingError {}

/// A key of a declaration, as the label rules see it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Written<T> {
    /// Not written.
    #[default]
    Absent,
    /// Written, but its value could not be read. That mistake is reported where the value was read; the
    /// rules that need the value are skipped, so that it is not reported again as another.
    Unreadable,
    /// Written, with this value.
    Value(T),
}

impl<T: Copy> Written<T> {
    /// Whether the key was written at all.
    pub const fn is_written(&self) -> bool {
        !matches!(self, Written::Absent)
    }

    /// The value, if the key was written and its value read.
    pub const fn value(&self) -> Option<T> {
        match self {
            Written::Value(value) => Some(*value),
            Written::Absent | Written::Unreadable => None,
        }
    }
}

/// The label keys of a `#[task]` declaration, as written: which were given.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LabelDeclaration {
    /// `label = f`.
    pub label: bool,
    /// `from_rgb = f`.
    pub from_rgb: bool,
    /// `point_info = f`.
    pub point_info: bool,
    /// `encoding = ...`.
    pub encoding: Written<Encoding>,
    /// `sampling = ...`.
    pub sampling: Written<Sampling>,
}

/// What the label rules need of the rest of a task's declaration. A `None` is a value that is itself
/// wrong, and reported where it was written: the rules that need it are skipped, so that one mistake
/// gives one message.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LabelContext<'a> {
    /// The task's output.
    pub shape: Option<OutputShape>,
    /// How many views the task looks at (1 unless declared).
    pub views: Option<usize>,
    /// The task's domain folder (its name unless declared).
    pub domain: Option<&'a str>,
}

impl<'a> LabelContext<'a> {
    /// A task whose output, views and domain are all valid.
    pub const fn new(shape: OutputShape, views: usize, domain: &'a str) -> Self {
        LabelContext {
            shape: Some(shape),
            views: Some(views),
            domain: Some(domain),
        }
    }
}

/// The domain folders that hold what every view of a dataset has, with what they hold; no task renders
/// its labels there (the names of `taskonomy_core::data::layout::{RGB, POINT_INFO}`).
const VIEW_DOMAINS: [(&str, &str); 2] = [("rgb", "image"), ("point_info", "camera")];

/// A rule a label declaration breaks, with the key it concerns.
#[derive(Clone, Debug, PartialEq)]
pub enum LabelRule {
    /// No key says where the labels come from (reported at the attribute).
    NoLabels,
    /// Two keys each give the labels (reported at the second).
    TwoSources {
        /// The key given first, in the order `label`, `from_rgb`, `point_info`.
        first: Labelling,
        /// The other key.
        second: Labelling,
    },
    /// `encoding` on labels that are not files (reported at `encoding`).
    EncodingWithoutFiles {
        /// Where the labels come from.
        labelling: Labelling,
    },
    /// The encoding cannot store the output (reported at `encoding`).
    Encoding(EncodingError),
    /// Rendered labels are written to files, and a point-info field is not one (reported at
    /// `encoding`).
    RenderedIntoPointInfo,
    /// Rendered labels written into a domain folder that holds every view's image or camera (reported
    /// at `label`).
    RenderedIntoViewDomain {
        /// The folder.
        domain: &'static str,
        /// What it holds of each view (`image`, `camera`).
        holds: &'static str,
    },
    /// Labels computed from point-info records are one per image (reported at `point_info`).
    PointInfoOfPixels {
        /// The output.
        shape: OutputShape,
    },
    /// A label function of one view on a task of several (reported at `label`).
    RenderedNeedsOneView {
        /// The task's views.
        views: usize,
    },
    /// A `from_rgb` function derives one view's input and label (reported at `from_rgb`).
    FromRgbNeedsOneView {
        /// The task's views.
        views: usize,
    },
    /// Stored files hold one view each; a multi-view task's labels relate views (reported at `encoding`).
    StoredNeedsOneView {
        /// The task's views.
        views: usize,
    },
    /// `sampling` on a single-view task (reported at `sampling`).
    SamplingOfOneView,
    /// Matching and non-fixated samples are pairs (reported at `sampling`).
    SamplingOfTriplets {
        /// The sampling asked for.
        sampling: Sampling,
    },
}

impl LabelRule {
    /// The attribute key the mistake is reported at (`None`: the whole attribute).
    pub fn key(&self) -> Option<&'static str> {
        match self {
            LabelRule::NoLabels => None,
            LabelRule::TwoSources { second, .. } => Some(second.key()),
            LabelRule::EncodingWithoutFiles { .. }
            | LabelRule::Encoding(_)
            | LabelRule::RenderedIntoPointInfo
            | LabelRule::StoredNeedsOneView { .. } => Some("encoding"),
            LabelRule::RenderedIntoViewDomain { .. } | LabelRule::RenderedNeedsOneView { .. } => {
                Some("label")
            }
            LabelRule::PointInfoOfPixels { .. } => Some("point_info"),
            LabelRule::FromRgbNeedsOneView { .. } => Some("from_rgb"),
            LabelRule::SamplingOfOneView | LabelRule::SamplingOfTriplets { .. } => Some("sampling"),
        }
    }
}

impl fmt::Display for LabelRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LabelRule::NoLabels => f.write_str(
                "a task needs labels: add `label = f` (a function of a rendered synthetic view), \
                 `encoding = ...` (how its `domain` folder of a dataset stores them), `from_rgb = f` \
                 (derived from the image) or `point_info = f` (from the views' cameras)",
            ),
            LabelRule::TwoSources { first, second } => write!(
                f,
                "`{}` and `{}` both give the task's labels; keep one",
                first.key(),
                second.key()
            ),
            LabelRule::EncodingWithoutFiles { labelling } => write!(
                f,
                "`encoding` says how label files are stored, but `{}` labels are computed when a \
                 sample is loaded and have no files; remove it",
                labelling.key()
            ),
            LabelRule::Encoding(error) => error.fmt(f),
            LabelRule::RenderedIntoPointInfo => f.write_str(
                "rendered labels are written to files of the task's domain folder, but a point-info \
                 field is part of each view's record, which rendering does not write; use `Npy` (or \
                 `Png8`, `Png16` for per-pixel labels)",
            ),
            LabelRule::RenderedIntoViewDomain { domain, holds } => write!(
                f,
                "rendered labels are stored in the task's domain folder, but `{domain}` holds every \
                 view's {holds}; give the task its own `domain = \"...\"`"
            ),
            LabelRule::PointInfoOfPixels { shape } => write!(
                f,
                "point-info labels are one per image, but `{shape}` is per pixel; use an image-level \
                 output (`Vector<N>`, `Classes<K>`, `MultiLabel<L>`) or `label = f`"
            ),
            LabelRule::RenderedNeedsOneView { views } => write!(
                f,
                "a label function sees one rendered view, but the task has `views = {views}`; compute \
                 labels of several views from their cameras with `point_info = f`"
            ),
            LabelRule::FromRgbNeedsOneView { views } => write!(
                f,
                "a `from_rgb` function derives the input and label of one image, but the task has \
                 `views = {views}`; compute labels of several views from their cameras with \
                 `point_info = f`"
            ),
            LabelRule::StoredNeedsOneView { views } => write!(
                f,
                "a label file belongs to one view, but the task has `views = {views}`; compute labels \
                 of several views from their cameras with `point_info = f`"
            ),
            LabelRule::SamplingOfOneView => f.write_str(
                "`sampling` chooses which views a multi-view task pairs up; add `views = 2` or 3, or \
                 remove it",
            ),
            LabelRule::SamplingOfTriplets { sampling } => write!(
                f,
                "`{}` samples are pairs; a task of 3 views sees fixated triplets (remove `sampling`, \
                 or use `views = 2`)",
                sampling.type_name()
            ),
        }
    }
}

/// The labelling and encoding a declaration amounts to, or every rule it breaks.
///
/// A rendered task without a declared encoding is stored as [`Encoding::DEFAULT`]. Rules that need a
/// value the declaration got wrong (an unreadable encoding or sampling, a `None` of `task`) are skipped;
/// with an unreadable encoding, stored labels come back without one.
///
/// ```
/// use taskonomy_spec::{
///     check_labels, Encoding, LabelContext, LabelDeclaration, Labelling, OutputKind, OutputShape,
/// };
/// let depth = OutputShape::new(OutputKind::Dense, 1);
/// let declared = LabelDeclaration { label: true, ..LabelDeclaration::default() };
/// assert_eq!(
///     check_labels(&declared, &LabelContext::new(depth, 1, "depth")),
///     Ok((Labelling::Rendered, Some(Encoding::DEFAULT)))
/// );
/// ```
pub fn check_labels(
    declared: &LabelDeclaration,
    task: &LabelContext<'_>,
) -> Result<(Labelling, Option<Encoding>), Vec<LabelRule>> {
    let mut broken = Vec::new();
    let given: Vec<Labelling> = [
        (declared.label, Labelling::Rendered),
        (declared.from_rgb, Labelling::FromImage),
        (declared.point_info, Labelling::FromPointInfo),
    ]
    .into_iter()
    .filter_map(|(given, labelling)| given.then_some(labelling))
    .collect();
    for &second in given.iter().skip(1) {
        broken.push(LabelRule::TwoSources {
            first: given[0],
            second,
        });
    }
    let labelling = match given.first() {
        Some(&labelling) => labelling,
        None if declared.encoding.is_written() => Labelling::Stored,
        None => {
            broken.push(LabelRule::NoLabels);
            Labelling::Stored
        }
    };
    let encoding = match declared.encoding {
        Written::Absent => labelling.is_stored().then_some(Encoding::DEFAULT),
        _ if !labelling.is_stored() => {
            broken.push(LabelRule::EncodingWithoutFiles { labelling });
            None
        }
        Written::Unreadable => None,
        Written::Value(encoding) => {
            // Said once, as where rendered labels go, not also as what the field could hold.
            if labelling == Labelling::Rendered && matches!(encoding, Encoding::PointInfo { .. }) {
                broken.push(LabelRule::RenderedIntoPointInfo);
            } else if let Some(Err(error)) = task.shape.map(|shape| encoding.fits(shape)) {
                broken.push(LabelRule::Encoding(error));
            }
            Some(encoding)
        }
    };
    match task.shape {
        Some(shape) if labelling == Labelling::FromPointInfo && shape.kind.is_per_pixel() => {
            broken.push(LabelRule::PointInfoOfPixels { shape })
        }
        _ => {}
    }
    if labelling == Labelling::Rendered {
        let view_domain = VIEW_DOMAINS
            .iter()
            .find(|(folder, _)| Some(*folder) == task.domain);
        if let Some(&(domain, holds)) = view_domain {
            broken.push(LabelRule::RenderedIntoViewDomain { domain, holds });
        }
    }
    if let Some(views) = task.views {
        check_views(declared, labelling, views, &mut broken);
    }
    if broken.is_empty() {
        Ok((labelling, encoding))
    } else {
        Err(broken)
    }
}

/// The rules of a task of `views` views: labels of one view only on a task of one, samplings that fit.
fn check_views(
    declared: &LabelDeclaration,
    labelling: Labelling,
    views: usize,
    broken: &mut Vec<LabelRule>,
) {
    if views > 1 {
        match labelling {
            Labelling::Rendered => broken.push(LabelRule::RenderedNeedsOneView { views }),
            Labelling::FromImage => broken.push(LabelRule::FromRgbNeedsOneView { views }),
            Labelling::Stored if declared.encoding.is_written() => {
                broken.push(LabelRule::StoredNeedsOneView { views })
            }
            _ => {}
        }
    }
    match declared.sampling {
        Written::Absent => {}
        _ if views == 1 => broken.push(LabelRule::SamplingOfOneView),
        Written::Value(sampling) if views > 2 && sampling != Sampling::Fixated => {
            broken.push(LabelRule::SamplingOfTriplets { sampling })
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEPTH: OutputShape = OutputShape::new(OutputKind::Dense, 1);
    const SCENE: OutputShape = OutputShape::new(OutputKind::Classes, 8);

    fn declared() -> LabelDeclaration {
        LabelDeclaration::default()
    }

    /// A task of `views` views with output `shape`, its domain folder its own.
    fn task(shape: OutputShape, views: usize) -> LabelContext<'static> {
        LabelContext::new(shape, views, "task")
    }

    #[test]
    fn each_key_gives_its_labelling() {
        let label = LabelDeclaration {
            label: true,
            ..declared()
        };
        assert_eq!(
            check_labels(&label, &task(DEPTH, 1)),
            Ok((Labelling::Rendered, Some(Encoding::DEFAULT)))
        );
        let png = Encoding::Png {
            bits: 16,
            scale: 1.0 / 512.0,
            offset: 0.0,
        };
        let rendered_png = LabelDeclaration {
            encoding: Written::Value(png),
            ..label
        };
        assert_eq!(
            check_labels(&rendered_png, &task(DEPTH, 1)),
            Ok((Labelling::Rendered, Some(png)))
        );
        let stored = LabelDeclaration {
            encoding: Written::Value(png),
            ..declared()
        };
        assert_eq!(
            check_labels(&stored, &task(DEPTH, 1)),
            Ok((Labelling::Stored, Some(png)))
        );
        let derived = LabelDeclaration {
            from_rgb: true,
            ..declared()
        };
        assert_eq!(
            check_labels(&derived, &task(DEPTH, 1)),
            Ok((Labelling::FromImage, None))
        );
        let pose = LabelDeclaration {
            point_info: true,
            sampling: Written::Value(Sampling::NonFixated),
            ..declared()
        };
        assert_eq!(
            check_labels(&pose, &task(OutputShape::new(OutputKind::Vector, 6), 2)),
            Ok((Labelling::FromPointInfo, None))
        );
    }

    #[test]
    fn a_task_without_labels_is_named() {
        assert_eq!(
            check_labels(&declared(), &task(DEPTH, 1)),
            Err(vec![LabelRule::NoLabels])
        );
        assert!(LabelRule::NoLabels
            .to_string()
            .starts_with("a task needs labels"));
    }

    #[test]
    fn two_sources_point_at_the_second() {
        let both = LabelDeclaration {
            label: true,
            from_rgb: true,
            ..declared()
        };
        let broken = check_labels(&both, &task(DEPTH, 1)).unwrap_err();
        assert_eq!(
            broken,
            [LabelRule::TwoSources {
                first: Labelling::Rendered,
                second: Labelling::FromImage
            }]
        );
        assert_eq!(broken[0].key(), Some("from_rgb"));
        assert_eq!(
            broken[0].to_string(),
            "`label` and `from_rgb` both give the task's labels; keep one"
        );
    }

    #[test]
    fn computed_labels_have_no_encoding() {
        let derived = LabelDeclaration {
            from_rgb: true,
            encoding: Written::Value(Encoding::DEFAULT),
            ..declared()
        };
        assert_eq!(
            check_labels(&derived, &task(DEPTH, 1)),
            Err(vec![LabelRule::EncodingWithoutFiles {
                labelling: Labelling::FromImage
            }])
        );
    }

    #[test]
    fn several_views_are_related_through_their_cameras() {
        let label = LabelDeclaration {
            label: true,
            ..declared()
        };
        assert_eq!(
            check_labels(&label, &task(SCENE, 2)),
            Err(vec![LabelRule::RenderedNeedsOneView { views: 2 }])
        );
        let derived = LabelDeclaration {
            from_rgb: true,
            ..declared()
        };
        assert_eq!(
            check_labels(&derived, &task(SCENE, 2)),
            Err(vec![LabelRule::FromRgbNeedsOneView { views: 2 }])
        );
        let stored = LabelDeclaration {
            encoding: Written::Value(Encoding::DEFAULT),
            ..declared()
        };
        assert_eq!(
            check_labels(&stored, &task(SCENE, 3)),
            Err(vec![LabelRule::StoredNeedsOneView { views: 3 }])
        );
    }

    #[test]
    fn sampling_belongs_to_pairs() {
        let one = LabelDeclaration {
            point_info: true,
            sampling: Written::Value(Sampling::Matching),
            ..declared()
        };
        assert_eq!(
            check_labels(&one, &task(SCENE, 1)),
            Err(vec![LabelRule::SamplingOfOneView])
        );
        assert_eq!(
            check_labels(&one, &task(SCENE, 3)),
            Err(vec![LabelRule::SamplingOfTriplets {
                sampling: Sampling::Matching
            }])
        );
        assert!(check_labels(&one, &task(SCENE, 2)).is_ok());
    }

    #[test]
    fn rendered_labels_are_files_of_their_own_folder() {
        let into_point_info = LabelDeclaration {
            label: true,
            encoding: Written::Value(Encoding::PointInfo { field: "x" }),
            ..declared()
        };
        // Said once, even where the field could not hold the output either.
        for shape in [SCENE, DEPTH] {
            let broken = check_labels(&into_point_info, &task(shape, 1)).unwrap_err();
            assert_eq!(broken, [LabelRule::RenderedIntoPointInfo]);
            assert_eq!(broken[0].key(), Some("encoding"));
        }
        assert!(LabelRule::RenderedIntoPointInfo
            .to_string()
            .starts_with("rendered labels are written to files"));
        let label = LabelDeclaration {
            label: true,
            ..declared()
        };
        let broken = check_labels(&label, &LabelContext::new(DEPTH, 1, "rgb")).unwrap_err();
        assert_eq!(
            broken,
            [LabelRule::RenderedIntoViewDomain {
                domain: "rgb",
                holds: "image"
            }]
        );
        assert_eq!(broken[0].key(), Some("label"));
        assert_eq!(
            broken[0].to_string(),
            "rendered labels are stored in the task's domain folder, but `rgb` holds every view's \
             image; give the task its own `domain = \"...\"`"
        );
        let stored = LabelDeclaration {
            encoding: Written::Value(Encoding::DEFAULT),
            ..declared()
        };
        assert!(check_labels(&stored, &LabelContext::new(DEPTH, 1, "point_info")).is_ok());
    }

    #[test]
    fn point_info_labels_are_one_per_image() {
        let per_pixel = LabelDeclaration {
            point_info: true,
            ..declared()
        };
        let broken = check_labels(&per_pixel, &task(DEPTH, 2)).unwrap_err();
        assert_eq!(broken, [LabelRule::PointInfoOfPixels { shape: DEPTH }]);
        assert_eq!(broken[0].key(), Some("point_info"));
        assert!(check_labels(&per_pixel, &task(SCENE, 2)).is_ok());
    }

    #[test]
    fn rules_that_need_a_wrong_value_are_skipped() {
        let unknown = LabelContext {
            shape: None,
            views: None,
            domain: None,
        };
        // An unreadable encoding still says where the labels come from, and that they are files.
        let unreadable = LabelDeclaration {
            encoding: Written::Unreadable,
            sampling: Written::Unreadable,
            ..declared()
        };
        assert_eq!(
            check_labels(&unreadable, &task(DEPTH, 1)),
            Err(vec![LabelRule::SamplingOfOneView])
        );
        assert_eq!(
            check_labels(&unreadable, &unknown),
            Ok((Labelling::Stored, None))
        );
        assert_eq!(
            check_labels(&unreadable, &task(DEPTH, 2)),
            Err(vec![LabelRule::StoredNeedsOneView { views: 2 }])
        );
        let from_rgb = LabelDeclaration {
            from_rgb: true,
            ..unreadable
        };
        assert_eq!(
            check_labels(&from_rgb, &unknown),
            Err(vec![LabelRule::EncodingWithoutFiles {
                labelling: Labelling::FromImage
            }])
        );
        // Neither the views nor the output to judge a sampling or an encoding by.
        let triplet = LabelDeclaration {
            label: true,
            encoding: Written::Value(Encoding::png(8)),
            sampling: Written::Value(Sampling::Matching),
            ..declared()
        };
        assert_eq!(
            check_labels(&triplet, &unknown),
            Ok((Labelling::Rendered, Some(Encoding::png(8))))
        );
        assert_eq!(
            check_labels(&triplet, &task(SCENE, 3)),
            Err(vec![
                LabelRule::Encoding(EncodingError::ImageLevelInPng { shape: SCENE }),
                LabelRule::RenderedNeedsOneView { views: 3 },
                LabelRule::SamplingOfTriplets {
                    sampling: Sampling::Matching
                },
            ])
        );
    }

    #[test]
    fn encodings_fit_their_outputs() {
        let png8 = Encoding::png(8);
        assert!(png8.fits(DEPTH).is_ok());
        assert_eq!(
            png8.fits(SCENE),
            Err(EncodingError::ImageLevelInPng { shape: SCENE })
        );
        assert_eq!(
            png8.fits(SCENE).unwrap_err().to_string(),
            "a PNG stores per-pixel labels, but `Classes<8>` has one label per image; use `Npy` or \
             `PointInfo(\"field\")`"
        );
        let many = OutputShape::new(OutputKind::PixelClasses, 300);
        assert_eq!(
            png8.fits(many),
            Err(EncodingError::ClassesExceedBits {
                shape: many,
                bits: 8
            })
        );
        assert_eq!(
            png8.fits(many).unwrap_err().to_string(),
            "`PixelClasses<300>` has more classes than an 8-bit PNG can number (256); use `Png16`"
        );
        assert!(Encoding::png(16).fits(many).is_ok());
        let too_many = OutputShape::new(OutputKind::PixelClasses, 70_000);
        assert_eq!(
            Encoding::png(16).fits(too_many).unwrap_err().to_string(),
            "`PixelClasses<70000>` has more classes than a 16-bit PNG can number (65536); use `Npy`"
        );
        let scaled = Encoding::Png {
            bits: 16,
            scale: 0.5,
            offset: 0.0,
        };
        assert!(scaled.fits(many).is_err());
        assert!(Encoding::Png {
            bits: 8,
            scale: 0.0,
            offset: 0.0
        }
        .fits(DEPTH)
        .is_err());
        assert!(Encoding::png(12).fits(DEPTH).is_err());
        assert!(Encoding::png(8)
            .fits(OutputShape::new(OutputKind::Dense, 5))
            .is_err());
        let selected = OutputShape::new(OutputKind::Classes, 100);
        assert!(Encoding::Npy { first: Some(100) }.fits(selected).is_ok());
        assert!(Encoding::Npy { first: Some(90) }.fits(selected).is_err());
        assert!(Encoding::Npy { first: Some(1) }.fits(DEPTH).is_err());
        assert!(Encoding::PointInfo { field: "pose" }.fits(selected).is_ok());
        assert!(Encoding::PointInfo { field: "pose" }.fits(DEPTH).is_err());
        assert!(Encoding::PointInfo { field: "" }.fits(selected).is_err());
    }

    #[test]
    fn encodings_display_as_declared() {
        assert_eq!(Encoding::png(8).to_string(), "Png8");
        assert_eq!(
            Encoding::Png {
                bits: 16,
                scale: 0.5,
                offset: -1.0
            }
            .to_string(),
            "Png16(scale = 0.5, offset = -1)"
        );
        assert_eq!(
            Encoding::Npy { first: Some(3) }.to_string(),
            "Npy(first = 3)"
        );
        assert_eq!(
            Encoding::PointInfo { field: "x" }.to_string(),
            "PointInfo(\"x\")"
        );
    }

    #[test]
    fn labellings_are_named_as_their_variants() {
        for labelling in Labelling::ALL {
            assert_eq!(labelling.variant_name(), format!("{labelling:?}"));
        }
    }

    #[test]
    fn samplings_round_trip() {
        for s in Sampling::ALL {
            assert_eq!(Sampling::from_type_name(s.type_name()), Some(s));
        }
    }
}
