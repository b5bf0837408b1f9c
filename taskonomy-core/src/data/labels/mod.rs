//! Labels as tasks declare them: what a label function returns ([`Pixels`], arrays), how a task's labels
//! are obtained ([`LabelSource`]), and the form the trainer keeps them in ([`Labels`]).
//!
//! A task's declaration says where its labels come from (`#[task(label = f)]`, `encoding = ...`,
//! `from_rgb = f`, `point_info = f`); the macro turns the typed function the user wrote into one of the
//! type-erased functions of [`LabelSource`], checked at compile time against the task's output kind
//! (`Dense<C>` labels are `Pixels<[f32; C]>`, `Classes<K>` labels are `[f32; K]`, ...; see
//! [`Output::Label`]). Every task, the paper's and a user's alike, is loaded through that one mechanism.
//!
//! The submodules hold the operators the standard tasks' labels are computed with, usable by any task:
//! [`image`] (blur, Sobel, Canny, Harris, graph-based segmentation), [`geometry`] (occlusion edges, the
//! room box, relative poses) and [`derived`] (colour classes, corruptions).

pub mod derived;
pub mod geometry;
pub mod image;

use std::fmt;

use super::layout::PointInfo;
use super::view::SceneView;
use crate::spec::{
    Classes, Dense, Encoding, MultiLabel, Output, OutputKind, PixelClasses, PixelEmbedding,
    TaskSpec, Vector,
};

/// Per-pixel labels of one view, row-major (`index = y·size + x`): what the label function of a per-pixel
/// task returns (`Pixels<[f32; C]>` for `Dense<C>`, `Pixels<u32>` of class or segment ids for
/// `PixelClasses<K>` and `PixelEmbedding<D>`).
///
/// ```
/// use taskonomy_core::data::labels::Pixels;
/// // A 2×2 view: 1 on the diagonal.
/// let diagonal = Pixels::from_fn(2, |x, y| [f32::from(u8::from(x == y))]);
/// assert_eq!(diagonal.values(), &[[1.0], [0.0], [0.0], [1.0]]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Pixels<T> {
    size: usize,
    values: Vec<T>,
}

impl<T> Pixels<T> {
    /// The labels of a `size × size` view, row-major. Their number is checked against the view when the
    /// label is used.
    pub fn new(size: usize, values: Vec<T>) -> Self {
        Pixels { size, values }
    }

    /// The labels `f(x, y)` of every pixel of a `size × size` view.
    pub fn from_fn(size: usize, mut f: impl FnMut(usize, usize) -> T) -> Self {
        let values = (0..size * size).map(|i| f(i % size, i / size)).collect();
        Pixels { size, values }
    }

    /// The view's side.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The labels, row-major.
    pub fn values(&self) -> &[T] {
        &self.values
    }

    /// The labels, row-major.
    pub fn into_values(self) -> Vec<T> {
        self.values
    }

    /// Checks that there is one label per pixel of a `size × size` view.
    fn check_size(&self, size: usize) -> Result<(), LabelError> {
        if self.size != size || self.values.len() != size * size {
            return Err(LabelError(format!(
                "expected labels of a {size}×{size} view ({} values), found {} values for a {}×{} view",
                size * size,
                self.values.len(),
                self.size,
                self.size
            )));
        }
        Ok(())
    }
}

impl<const C: usize> Pixels<[f32; C]> {
    /// Interleaved values (`C` per pixel), as [`Labels::Dense`] keeps them.
    pub(crate) fn into_dense(self, size: usize) -> Result<Labels, LabelError> {
        self.check_size(size)?;
        Ok(Labels::Dense {
            channels: C,
            values: self.values.concat(),
        })
    }
}

impl Pixels<u32> {
    /// Class ids below `classes`, as [`Labels::PixelClasses`] keeps them.
    pub(crate) fn into_classes(self, size: usize, classes: usize) -> Result<Labels, LabelError> {
        self.check_size(size)?;
        if let Some(bad) = self.values.iter().find(|&&c| c as usize >= classes) {
            return Err(LabelError(format!("class {bad} is outside 0..{classes}")));
        }
        Ok(Labels::PixelClasses {
            classes,
            values: self.values,
        })
    }

    /// Segment ids, as [`Labels::Segments`] keeps them.
    pub(crate) fn into_segments(self, size: usize) -> Result<Labels, LabelError> {
        self.check_size(size)?;
        Ok(Labels::Segments {
            values: self.values,
        })
    }
}

/// The one-hot distribution of class `class` among `K` (all zeros when `class` is out of range: a label
/// of no class, which [`Labels::check`] then reports).
///
/// ```
/// use taskonomy_core::data::labels::one_hot;
/// assert_eq!(one_hot::<3>(1), [0.0, 1.0, 0.0]);
/// ```
pub fn one_hot<const K: usize>(class: usize) -> [f32; K] {
    let mut out = [0.0; K];
    if let Some(slot) = out.get_mut(class) {
        *slot = 1.0;
    }
    out
}

/// What a label function may return for a task with output `O`: the output's label
/// ([`Output::Label`]), or a `Result` of it when the label cannot always be made (a record without the
/// field it needs).
#[diagnostic::on_unimplemented(
    message = "a `{O}` task's label function cannot return `{Self}`",
    label = "this label function returns `{Self}`",
    note = "`Dense<C>` labels are `Pixels<[f32; C]>`; `PixelClasses<K>` and `PixelEmbedding<D>` labels \
            `Pixels<u32>` (ids); `Classes<K>` labels `[f32; K]`; `MultiLabel<L>` labels `[bool; L]`; \
            `Vector<N>` labels `[f32; N]`; a `Result` of the label fits too"
)]
pub trait IntoLabel<O: Output> {
    /// The label of one sample for images of side `size`, as the trainer keeps it.
    fn into_labels(self, size: usize) -> Result<Labels, LabelError>;
}

macro_rules! into_label {
    ($($kind:ident => $label:ty;)*) => {$(
        #[diagnostic::do_not_recommend]
        impl<const N: usize> IntoLabel<$kind<N>> for $label {
            fn into_labels(self, size: usize) -> Result<Labels, LabelError> {
                <$kind<N> as Output>::to_labels(self, size)
            }
        }

        #[diagnostic::do_not_recommend]
        impl<const N: usize, E: fmt::Display> IntoLabel<$kind<N>> for Result<$label, E> {
            fn into_labels(self, size: usize) -> Result<Labels, LabelError> {
                let label = self.map_err(|e| LabelError(e.to_string()))?;
                <$kind<N> as Output>::to_labels(label, size)
            }
        }
    )*};
}

into_label! {
    Dense => Pixels<[f32; N]>;
    PixelClasses => Pixels<u32>;
    PixelEmbedding => Pixels<u32>;
    Classes => [f32; N];
    MultiLabel => [bool; N];
    Vector => [f32; N];
}

/// Why a label could not be made: what the label function returned, or what a file held, does not fit
/// the task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelError(pub String);

impl fmt::Display for LabelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LabelError {}

/// The labels of one or more samples of a task, in the form of its output kind, samples one after the
/// other. Per-pixel labels are row-major, channels last.
#[derive(Clone, Debug, PartialEq)]
pub enum Labels {
    /// `Dense<C>`: `count × size² × C` values.
    Dense {
        /// Channels per pixel.
        channels: usize,
        /// The values.
        values: Vec<f32>,
    },
    /// `PixelClasses<K>`: the class of every pixel, `count × size²`.
    PixelClasses {
        /// Number of classes.
        classes: usize,
        /// Class indices.
        values: Vec<u32>,
    },
    /// `PixelEmbedding<E>`: the segment of every pixel, `count × size²` (ids are only compared).
    Segments {
        /// Segment ids.
        values: Vec<u32>,
    },
    /// `Classes<K>` (non-negative with a positive sum: a distribution, one-hot for a hard label, or the
    /// selected part of a distribution), `MultiLabel<K>` (0 or 1 per label), `Vector<N>`: `count × len`
    /// values.
    Image {
        /// Values per image.
        len: usize,
        /// The values.
        values: Vec<f32>,
    },
}

impl Labels {
    /// No samples yet, in the form `task` declares.
    pub fn empty(task: &TaskSpec) -> Labels {
        let size = task.output.size;
        match task.output.kind {
            OutputKind::Dense => Labels::Dense {
                channels: size,
                values: Vec::new(),
            },
            OutputKind::PixelClasses => Labels::PixelClasses {
                classes: size,
                values: Vec::new(),
            },
            OutputKind::PixelEmbedding => Labels::Segments { values: Vec::new() },
            OutputKind::Classes | OutputKind::MultiLabel | OutputKind::Vector => Labels::Image {
                len: size,
                values: Vec::new(),
            },
        }
    }

    /// Number of samples, for images of side `size`.
    pub fn count(&self, size: usize) -> usize {
        let pixels = size * size;
        match self {
            Labels::Dense { channels, values } => values.len() / (pixels * channels).max(1),
            Labels::PixelClasses { values, .. } | Labels::Segments { values } => {
                values.len() / pixels.max(1)
            }
            Labels::Image { len, values } => values.len() / (*len).max(1),
        }
    }

    /// Values per sample, for images of side `size`.
    pub fn per_sample(&self, size: usize) -> usize {
        match self {
            Labels::Dense { channels, .. } => size * size * channels,
            Labels::PixelClasses { .. } | Labels::Segments { .. } => size * size,
            Labels::Image { len, .. } => *len,
        }
    }

    /// Appends the samples of `other`, which must have the same form.
    pub fn append(&mut self, other: Labels) -> Result<(), LabelError> {
        match (self, other) {
            (
                Labels::Dense { channels, values },
                Labels::Dense {
                    channels: c,
                    values: more,
                },
            ) if *channels == c => values.extend(more),
            (
                Labels::PixelClasses { classes, values },
                Labels::PixelClasses {
                    classes: k,
                    values: more,
                },
            ) if *classes == k => values.extend(more),
            (Labels::Segments { values }, Labels::Segments { values: more }) => values.extend(more),
            (
                Labels::Image { len, values },
                Labels::Image {
                    len: l,
                    values: more,
                },
            ) if *len == l => values.extend(more),
            (this, other) => {
                return Err(LabelError(format!(
                    "cannot add {} to {}",
                    other.describe(),
                    this.describe()
                )))
            }
        }
        Ok(())
    }

    /// Checks that the labels have the form `task` declares, for images of side `size`: the kind and
    /// size of the output, whole samples, classes in range, finite values, and image-level values its
    /// output kind can hold: `Classes` non-negative with a positive sum, `MultiLabel` 0 or 1.
    pub fn check(&self, task: &TaskSpec, size: usize) -> Result<(), LabelError> {
        let shape = task.output;
        let fits = match (shape.kind, self) {
            (OutputKind::Dense, Labels::Dense { channels, .. }) => *channels == shape.size,
            (OutputKind::PixelClasses, Labels::PixelClasses { classes, values }) => {
                if let Some(bad) = values.iter().find(|&&v| v as usize >= *classes) {
                    return Err(LabelError(format!("class {bad} is outside 0..{classes}")));
                }
                *classes == shape.size
            }
            (OutputKind::PixelEmbedding, Labels::Segments { .. }) => true,
            (
                OutputKind::Classes | OutputKind::MultiLabel | OutputKind::Vector,
                Labels::Image { len, .. },
            ) => *len == shape.size,
            _ => false,
        };
        if !fits {
            return Err(LabelError(format!(
                "labels are {}, but the task declares output `{shape}`",
                self.describe()
            )));
        }
        let per_sample = self.per_sample(size).max(1);
        if !self.len().is_multiple_of(per_sample) {
            return Err(LabelError(format!(
                "{} label values do not divide into samples of {per_sample}",
                self.len()
            )));
        }
        if let Labels::Dense { values, .. } | Labels::Image { values, .. } = self {
            if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                return Err(LabelError(format!("label value {i} is not finite")));
            }
        }
        if let Labels::Image { len, values } = self {
            let samples = values.len() / (*len).max(1);
            for (n, sample) in values.chunks((*len).max(1)).enumerate() {
                if let Some(problem) = image_level_problem(shape.kind, sample) {
                    return Err(LabelError(if samples > 1 {
                        format!("sample {n}: {problem}")
                    } else {
                        problem
                    }));
                }
            }
        }
        Ok(())
    }

    fn len(&self) -> usize {
        match self {
            Labels::Dense { values, .. } | Labels::Image { values, .. } => values.len(),
            Labels::PixelClasses { values, .. } | Labels::Segments { values } => values.len(),
        }
    }

    fn describe(&self) -> String {
        match self {
            Labels::Dense { channels, .. } => format!("dense with {channels} channels"),
            Labels::PixelClasses { classes, .. } => format!("pixel classes over {classes}"),
            Labels::Segments { .. } => "pixel segments".into(),
            Labels::Image { len, .. } => format!("image-level vectors of {len}"),
        }
    }
}

/// What is wrong with one sample's image-level label for output kind `kind`, if anything: a `Classes`
/// label must be non-negative with a positive sum, and a `MultiLabel` label 0 or 1 everywhere. A
/// `Classes` label need not sum to 1: a task may read the first entries of a stored distribution (the
/// standard `object_class_selected` reads 100 of 1000), and training normalises each target to sum to 1
/// before the cross-entropy.
fn image_level_problem(kind: OutputKind, values: &[f32]) -> Option<String> {
    match kind {
        OutputKind::Classes => {
            if let Some((i, v)) = values.iter().enumerate().find(|(_, &v)| v < 0.0) {
                return Some(format!(
                    "class {i} has the negative value {v}; a `Classes` label is a distribution"
                ));
            }
            let sum: f32 = values.iter().sum();
            (sum <= 0.0).then(|| {
                "every class is 0; a `Classes` label needs some mass (one-hot for a hard label; an \
                 out-of-range class makes all zeros)"
                    .to_owned()
            })
        }
        OutputKind::MultiLabel => values
            .iter()
            .enumerate()
            .find(|(_, &v)| v != 0.0 && v != 1.0)
            .map(|(i, v)| format!("label {i} is {v}; a `MultiLabel` label is 0 or 1")),
        _ => None,
    }
}

/// A square RGB image, channel by channel (`3 × size × size`, row-major), values in `[0, 1]`: a view as a
/// network sees it, and what `from_rgb` label functions take and return.
#[derive(Clone, Debug, PartialEq)]
pub struct RgbImage {
    size: usize,
    planes: Vec<f32>,
}

impl RgbImage {
    /// An image of side `size` from its three planes; `None` when there are not `3 × size²` values.
    pub fn from_planes(size: usize, planes: Vec<f32>) -> Option<Self> {
        (planes.len() == 3 * size * size).then_some(RgbImage { size, planes })
    }

    /// An image from 8-bit sRGB pixels (row-major), each value divided by 255.
    pub fn from_srgb8(size: usize, pixels: &[[u8; 3]]) -> Option<Self> {
        if pixels.len() != size * size {
            return None;
        }
        let n = size * size;
        let mut planes = vec![0.0; 3 * n];
        for (i, p) in pixels.iter().enumerate() {
            for c in 0..3 {
                planes[c * n + i] = f32::from(p[c]) / 255.0;
            }
        }
        Some(RgbImage { size, planes })
    }

    /// The side in pixels.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The three planes, R then G then B.
    pub fn planes(&self) -> &[f32] {
        &self.planes
    }

    /// Pixel `i` (row-major) as `[r, g, b]`.
    pub fn pixel(&self, i: usize) -> [f32; 3] {
        let n = self.size * self.size;
        [self.planes[i], self.planes[n + i], self.planes[2 * n + i]]
    }

    /// Every pixel as 8-bit sRGB, rounded and clamped.
    pub fn to_srgb8(&self) -> Vec<[u8; 3]> {
        (0..self.size * self.size)
            .map(|i| {
                self.pixel(i)
                    .map(|v| (v * 255.0).round().clamp(0.0, 255.0) as u8)
            })
            .collect()
    }

    /// The values pixel by pixel (`size × size × 3`, channels last), as the networks' inputs are laid out.
    pub fn interleaved(&self) -> Vec<f32> {
        let n = self.size * self.size;
        let mut out = vec![0.0; 3 * n];
        for i in 0..n {
            for c in 0..3 {
                out[i * 3 + c] = self.planes[c * n + i];
            }
        }
        out
    }
}

/// The label of one rendered view, type-erased (what `#[task(label = f)]` generates around `f`).
pub type RenderFn = fn(&SceneView<'_>) -> Result<Labels, LabelError>;
/// The network input and label derived from one view's RGB image and its seed (`from_rgb = f`).
pub type FromRgbFn = fn(&RgbImage, u64) -> Result<(RgbImage, Labels), LabelError>;
/// The label of a sample computed from its views' point-info records (`point_info = f`).
pub type PointInfoFn = fn(&[PointInfo]) -> Result<Labels, LabelError>;

/// How a task's labels are obtained: the runtime side of its declaration.
#[derive(Clone, Copy)]
pub enum LabelSource {
    /// Rendered from synthetic views by `label`, stored in the task's domain folder with `encoding`.
    Rendered {
        /// The label function.
        label: RenderFn,
        /// How the files are written and read.
        encoding: Encoding,
    },
    /// Read from the task's domain folder with `encoding`.
    Stored {
        /// How the files are read.
        encoding: Encoding,
    },
    /// Derived from each view's RGB image when a sample is loaded.
    FromRgb {
        /// The input and label of an image.
        derive: FromRgbFn,
    },
    /// Computed from the point-info records of a sample's views when it is loaded.
    FromPointInfo {
        /// The label of the views.
        label: PointInfoFn,
    },
}

impl fmt::Debug for LabelSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LabelSource::Rendered { encoding, .. } => write!(f, "Rendered({encoding})"),
            LabelSource::Stored { encoding } => write!(f, "Stored({encoding})"),
            LabelSource::FromRgb { .. } => f.write_str("FromRgb"),
            LabelSource::FromPointInfo { .. } => f.write_str("FromPointInfo"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::OutputShape;

    fn task(kind: OutputKind, size: usize) -> TaskSpec {
        TaskSpec {
            output: OutputShape::new(kind, size),
            ..crate::spec::tests::spec("t")
        }
    }

    #[test]
    fn pixel_labels_must_cover_the_view() {
        let labels = Pixels::from_fn(2, |x, y| [x as f32, y as f32]);
        assert_eq!(
            labels.clone().into_dense(2).unwrap(),
            Labels::Dense {
                channels: 2,
                values: vec![0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0]
            }
        );
        assert_eq!(
            labels.into_dense(3).unwrap_err().to_string(),
            "expected labels of a 3×3 view (9 values), found 4 values for a 2×2 view"
        );
        let classes = Pixels::new(1, vec![7u32]);
        assert_eq!(
            classes.into_classes(1, 6).unwrap_err().to_string(),
            "class 7 is outside 0..6"
        );
    }

    #[test]
    fn labels_stack_and_check_against_the_declaration() {
        let depth = task(OutputKind::Dense, 1);
        let mut labels = Labels::empty(&depth);
        labels
            .append(Labels::Dense {
                channels: 1,
                values: vec![1.0; 4],
            })
            .unwrap();
        labels
            .append(Labels::Dense {
                channels: 1,
                values: vec![2.0; 4],
            })
            .unwrap();
        assert_eq!(labels.count(2), 2);
        labels.check(&depth, 2).unwrap();
        assert!(labels.append(Labels::Segments { values: vec![0] }).is_err());
        let normals = task(OutputKind::Dense, 3);
        assert_eq!(
            labels.check(&normals, 2).unwrap_err().to_string(),
            "labels are dense with 1 channels, but the task declares output `Dense<3>`"
        );
        let nan = Labels::Image {
            len: 1,
            values: vec![f32::NAN],
        };
        assert!(nan.check(&task(OutputKind::Vector, 1), 2).is_err());
    }

    #[test]
    fn class_labels_must_be_non_negative_with_some_mass() {
        let classes = task(OutputKind::Classes, 3);
        let image = |values: Vec<f32>| Labels::Image { len: 3, values };
        image(one_hot::<3>(2).to_vec()).check(&classes, 2).unwrap();
        // Part of a distribution (the first entries of a softmax) need not sum to 1.
        image(vec![0.1, 0.05, 0.0]).check(&classes, 2).unwrap();
        assert_eq!(
            image(one_hot::<3>(7).to_vec())
                .check(&classes, 2)
                .unwrap_err()
                .to_string(),
            "every class is 0; a `Classes` label needs some mass (one-hot for a hard label; an \
             out-of-range class makes all zeros)"
        );
        assert_eq!(
            image(vec![0.5, -0.25, 0.75])
                .check(&classes, 2)
                .unwrap_err()
                .to_string(),
            "class 1 has the negative value -0.25; a `Classes` label is a distribution"
        );
        // Every sample is checked, and the bad one named.
        assert_eq!(
            image(vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0])
                .check(&classes, 2)
                .unwrap_err()
                .to_string()
                .split(':')
                .next(),
            Some("sample 1")
        );
        // The same values are a valid vector.
        image(vec![0.5, -0.25, 0.0])
            .check(&task(OutputKind::Vector, 3), 2)
            .unwrap();
    }

    #[test]
    fn multi_labels_must_be_zero_or_one() {
        let flags = task(OutputKind::MultiLabel, 3);
        let image = |values: Vec<f32>| Labels::Image { len: 3, values };
        image(vec![0.0, 1.0, 1.0]).check(&flags, 2).unwrap();
        image(vec![0.0; 3]).check(&flags, 2).unwrap();
        assert_eq!(
            image(vec![0.0, 0.5, 1.0])
                .check(&flags, 2)
                .unwrap_err()
                .to_string(),
            "label 1 is 0.5; a `MultiLabel` label is 0 or 1"
        );
        assert!(image(vec![-1.0, 0.0, 0.0]).check(&flags, 2).is_err());
    }

    #[test]
    fn images_convert_between_layouts() {
        let image = RgbImage::from_srgb8(1, &[[255, 0, 51]]).unwrap();
        assert_eq!(image.planes(), &[1.0, 0.0, 0.2]);
        assert_eq!(image.to_srgb8(), [[255, 0, 51]]);
        assert_eq!(image.interleaved(), [1.0, 0.0, 0.2]);
        assert!(RgbImage::from_planes(2, vec![0.0; 3]).is_none());
    }
}
