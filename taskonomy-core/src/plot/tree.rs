//! Dendrograms: a hierarchical clustering drawn as a tree (the paper's Figure 14).

use super::axes::{caption, x_ticks};
use super::color::Color;
use super::scale::Scale;
use super::svg::{text_width, Svg, TextStyle};
use crate::similarity::Linkage;

/// A horizontal dendrogram: leaves on the right, one per row, merges further left the more distant the
/// clusters they join.
///
/// ```
/// use taskonomy_core::plot::Dendrogram;
/// use taskonomy_core::similarity::cluster;
/// let linkage = cluster(vec!["a".into(), "b".into()], &[vec![1.0, 0.0], vec![0.0, 1.0]]).unwrap();
/// let svg = Dendrogram::new("Task similarity", &linkage).to_svg();
/// assert!(svg.contains(">a</text>"));
/// ```
#[derive(Clone, Debug)]
pub struct Dendrogram<'a> {
    title: String,
    linkage: &'a Linkage,
    x_label: String,
}

impl<'a> Dendrogram<'a> {
    /// A dendrogram of `linkage`.
    pub fn new(title: impl Into<String>, linkage: &'a Linkage) -> Self {
        Dendrogram {
            title: title.into(),
            linkage,
            x_label: "distance (1 − cosine similarity of transfer-out affinities)".into(),
        }
    }

    /// The caption of the distance axis.
    pub fn x_label(mut self, label: impl Into<String>) -> Self {
        self.x_label = label.into();
        self
    }

    /// The dendrogram as an SVG document.
    pub fn to_svg(&self) -> String {
        let n = self.linkage.labels.len();
        let row = 22.0;
        let label_width = self
            .linkage
            .labels
            .iter()
            .map(|l| text_width(l, 12.0))
            .fold(40.0, f64::max);
        let (left, top) = (30.0, 44.0);
        let tree_width = 380.0;
        let right = left + tree_width;
        let width = right + label_width + 24.0;
        let height = top + row * n.max(1) as f64 + 50.0;
        let mut svg = Svg::new(width, height);
        svg.text(width / 2.0, 24.0, &self.title, TextStyle::title());
        let max_distance = self
            .linkage
            .merges
            .iter()
            .map(|m| m.distance)
            .fold(0.0, f64::max);
        let x = Scale::linear((0.0, max_distance.max(1e-9)), (right, left));
        let order = self.linkage.leaf_order();
        // Position of every node: leaves by their row, merges between their children.
        let mut position = vec![(right, 0.0); n + self.linkage.merges.len()];
        for (rank, &leaf) in order.iter().enumerate() {
            position[leaf] = (right, top + row * (rank as f64 + 0.5));
            svg.text(
                right + 8.0,
                position[leaf].1 + 4.0,
                &self.linkage.labels[leaf],
                TextStyle::new(12.0),
            );
        }
        for (k, merge) in self.linkage.merges.iter().enumerate() {
            let (a, b) = (position[merge.left], position[merge.right]);
            let merged_x = x.map(merge.distance);
            svg.line(a, (merged_x, a.1), Color::INK, 1.5);
            svg.line(b, (merged_x, b.1), Color::INK, 1.5);
            svg.line((merged_x, a.1), (merged_x, b.1), Color::INK, 1.5);
            position[n + k] = (merged_x, (a.1 + b.1) / 2.0);
        }
        let axis_y = top + row * n as f64 + 10.0;
        svg.line((left, axis_y), (right, axis_y), Color::GREY, 1.0);
        x_ticks(&mut svg, &x, axis_y, 5, 10.0);
        caption(
            &mut svg,
            (left + right) / 2.0,
            axis_y + 32.0,
            &self.x_label,
            11.0,
        );
        svg.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::similarity::cluster;

    #[test]
    fn three_lines_per_merge_and_a_label_per_leaf() {
        let linkage = cluster(
            vec!["a".into(), "b".into(), "c".into()],
            &[vec![1.0, 0.0], vec![0.9, 0.1], vec![0.0, 1.0]],
        )
        .unwrap();
        let svg = Dendrogram::new("t", &linkage).to_svg();
        // 3 lines per merge, plus the axis and its ticks.
        let ticks = svg.matches("<line").count() - 2 * 3 - 1;
        assert!(ticks >= 2, "{ticks}");
        for label in ["a", "b", "c"] {
            assert!(svg.contains(&format!(">{label}</text>")));
        }
    }
}
