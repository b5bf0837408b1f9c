//! The taxonomy graph: chosen source tasks on the left, every target on the right, an edge from each
//! source of a target's transfer to that target (the paper's Figure 8).

use super::axes::caption;
use super::color::{categorical, Color};
use super::svg::{text_width, Anchor, Svg, TextStyle};

/// How one target is solved in a taxonomy.
#[derive(Clone, Debug, PartialEq)]
pub struct GraphEdge {
    /// The target task.
    pub target: String,
    /// The source tasks its readout reads from.
    pub sources: Vec<String>,
    /// The transfer's performance (higher is better).
    pub performance: f64,
    /// Whether the target is solved by its own supervision.
    pub supervised: bool,
}

/// A taxonomy drawn as a bipartite graph.
///
/// Sources keep the order given; targets are ordered by the mean position of their sources (the
/// barycentre heuristic), which removes most edge crossings in a two-layer drawing.
///
/// ```
/// use taskonomy_core::plot::{GraphEdge, TaxonomyGraph};
/// let svg = TaxonomyGraph::new("Budget 1", vec!["normals".into()])
///     .edge(GraphEdge { target: "depth".into(), sources: vec!["normals".into()], performance: 0.4, supervised: false })
///     .to_svg();
/// assert!(svg.contains("depth"));
/// ```
#[derive(Clone, Debug)]
pub struct TaxonomyGraph {
    title: String,
    subtitle: String,
    sources: Vec<String>,
    edges: Vec<GraphEdge>,
}

impl TaxonomyGraph {
    /// A graph over the chosen `sources`.
    pub fn new(title: impl Into<String>, sources: Vec<String>) -> Self {
        TaxonomyGraph {
            title: title.into(),
            subtitle: String::new(),
            sources,
            edges: Vec::new(),
        }
    }

    /// A line under the title (e.g. the objective).
    pub fn subtitle(mut self, subtitle: impl Into<String>) -> Self {
        self.subtitle = subtitle.into();
        self
    }

    /// Adds how one target is solved.
    pub fn edge(mut self, edge: GraphEdge) -> Self {
        self.edges.push(edge);
        self
    }

    /// The targets in drawing order (barycentre of their sources, then name).
    fn target_order(&self) -> Vec<&GraphEdge> {
        let position = |name: &str| self.sources.iter().position(|s| s == name);
        let mut ordered: Vec<(f64, &GraphEdge)> = self
            .edges
            .iter()
            .map(|edge| {
                let positions: Vec<f64> = edge
                    .sources
                    .iter()
                    .filter_map(|s| position(s))
                    .map(|p| p as f64)
                    .collect();
                let barycentre = if positions.is_empty() {
                    f64::INFINITY
                } else {
                    positions.iter().sum::<f64>() / positions.len() as f64
                };
                (barycentre, edge)
            })
            .collect();
        ordered.sort_by(|(a, ea), (b, eb)| a.total_cmp(b).then_with(|| ea.target.cmp(&eb.target)));
        ordered.into_iter().map(|(_, edge)| edge).collect()
    }

    /// The graph as an SVG document.
    pub fn to_svg(&self) -> String {
        let row = 24.0;
        let size = 12.0;
        let targets = self.target_order();
        let source_width = self
            .sources
            .iter()
            .map(|s| text_width(s, size))
            .fold(60.0, f64::max)
            + 20.0;
        let target_width = targets
            .iter()
            .map(|e| text_width(&e.target, size))
            .fold(60.0, f64::max)
            + 20.0;
        let label_width = 130.0;
        let gap = 260.0;
        let left = 20.0;
        let source_x = left + source_width;
        let target_x = source_x + gap;
        let width = target_x + target_width + label_width;
        let top = if self.subtitle.is_empty() { 48.0 } else { 64.0 };
        let rows = targets.len().max(self.sources.len()).max(1) as f64;
        let height = top + rows * row + 30.0;
        let mut svg = Svg::new(width, height);
        svg.text(width / 2.0, 24.0, &self.title, TextStyle::title());
        if !self.subtitle.is_empty() {
            svg.text(
                width / 2.0,
                44.0,
                &self.subtitle,
                TextStyle::new(12.0)
                    .anchor(Anchor::Middle)
                    .color(Color::GREY),
            );
        }
        // Centre the shorter column against the longer one.
        let source_top = top + (rows - self.sources.len() as f64) * row / 2.0;
        let target_top = top + (rows - targets.len() as f64) * row / 2.0;
        let source_y = |i: usize| source_top + row * (i as f64 + 0.5);
        let target_y = |i: usize| target_top + row * (i as f64 + 0.5);
        let performances: Vec<f64> = targets.iter().map(|e| e.performance).collect();
        let best = performances
            .iter()
            .copied()
            .fold(f64::MIN_POSITIVE, f64::max);

        for (t, edge) in targets.iter().enumerate() {
            for source in &edge.sources {
                if let Some(s) = self.sources.iter().position(|name| name == source) {
                    // Stronger transfers are drawn thicker.
                    let weight = 1.0 + 3.0 * (edge.performance / best).clamp(0.0, 1.0);
                    svg.horizontal_curve(
                        (source_x + 6.0, source_y(s)),
                        (target_x - 6.0, target_y(t)),
                        categorical(s),
                        weight,
                        0.75,
                    );
                }
            }
        }
        for (s, source) in self.sources.iter().enumerate() {
            svg.circle(
                (source_x, source_y(s)),
                6.0,
                categorical(s),
                Some(Color::INK),
            );
            svg.text(
                source_x - 12.0,
                source_y(s) + 4.0,
                source,
                TextStyle::new(size).anchor(Anchor::End).bold(),
            );
        }
        for (t, edge) in targets.iter().enumerate() {
            let fill = if edge.supervised {
                Color::INK
            } else {
                Color::WHITE
            };
            svg.circle((target_x, target_y(t)), 5.0, fill, Some(Color::INK));
            svg.text(
                target_x + 12.0,
                target_y(t) + 4.0,
                &edge.target,
                TextStyle::new(size),
            );
            let note = if edge.supervised {
                format!("supervised, {:.3}", edge.performance)
            } else {
                format!("{:.3}", edge.performance)
            };
            svg.text(
                target_x + target_width + 4.0,
                target_y(t) + 4.0,
                &note,
                TextStyle::new(11.0).color(Color::GREY),
            );
        }
        caption(&mut svg, source_x, height - 10.0, "sources", 11.0);
        caption(&mut svg, target_x, height - 10.0, "targets", 11.0);
        svg.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(target: &str, sources: &[&str], supervised: bool) -> GraphEdge {
        GraphEdge {
            target: target.into(),
            sources: sources.iter().map(|s| s.to_string()).collect(),
            performance: 0.5,
            supervised,
        }
    }

    #[test]
    fn targets_follow_their_sources() {
        let graph = TaxonomyGraph::new("t", vec!["a".into(), "b".into()])
            .edge(edge("z", &["a"], false))
            .edge(edge("y", &["b"], false))
            .edge(edge("x", &["a", "b"], false))
            .edge(edge("b", &["b"], true));
        let order: Vec<&str> = graph
            .target_order()
            .iter()
            .map(|e| e.target.as_str())
            .collect();
        assert_eq!(order, ["z", "x", "b", "y"]);
    }

    #[test]
    fn one_curve_per_source_of_each_target() {
        let svg = TaxonomyGraph::new("t", vec!["a".into(), "b".into()])
            .edge(edge("x", &["a", "b"], false))
            .edge(edge("a", &["a"], true))
            .to_svg();
        assert_eq!(svg.matches("<path").count(), 3);
        assert!(svg.contains("supervised, 0.500"));
    }
}
