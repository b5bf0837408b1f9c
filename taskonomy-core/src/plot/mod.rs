//! Charts as SVG, drawn without a plotting dependency: line charts (loss curves, objective against
//! budget), heat maps (affinity matrices), grouped bars (Gain and Quality), the taxonomy graph and the
//! task similarity tree.
//!
//! Every chart is a small builder ending in `to_svg()`. Output is deterministic (coordinates rounded, no
//! time stamps), so a figure only changes when its data does.

mod axes;
mod bars;
mod color;
mod graph;
mod heatmap;
mod line;
mod scale;
mod svg;
mod tree;

pub use bars::BarChart;
pub use color::{categorical, diverging, sequential, Color, CATEGORICAL};
pub use graph::{GraphEdge, TaxonomyGraph};
pub use heatmap::{ColorMap, HeatMap};
pub use line::{LineChart, Series};
pub use scale::{nice_ticks, tick_label, Scale};
pub use svg::{escape, text_width, Anchor, Svg, TextStyle};
pub use tree::Dendrogram;
