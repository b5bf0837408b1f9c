//! Heat maps: a matrix of values as coloured cells (the paper's Figure 7).

use super::color::{diverging, sequential, Color};
use super::scale::{nice_ticks, tick_label};
use super::svg::{text_width, Anchor, Svg, TextStyle};

/// How values map to colours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorMap {
    /// Dark (low) to light (high): affinities, performances.
    Sequential,
    /// Blue (low), white (middle), red (high): win rates around 0.5.
    Diverging,
}

/// A matrix drawn as coloured cells with row and column labels, a colour bar, and optionally the values
/// written in the cells. Missing values (`None`) are drawn light grey.
///
/// ```
/// use taskonomy_core::plot::{ColorMap, HeatMap};
/// let svg = HeatMap::new("Affinity", vec!["depth".into()], vec!["normals".into()], vec![vec![Some(0.8)]])
///     .color_map(ColorMap::Sequential)
///     .range(0.0, 1.0)
///     .to_svg();
/// assert!(svg.contains("normals"));
/// ```
#[derive(Clone, Debug)]
pub struct HeatMap {
    title: String,
    rows: Vec<String>,
    columns: Vec<String>,
    values: Vec<Vec<Option<f64>>>,
    color_map: ColorMap,
    range: Option<(f64, f64)>,
    annotate: Option<bool>,
    axis_labels: (String, String),
    reversed: bool,
}

impl HeatMap {
    /// A heat map of `values[row][column]`.
    pub fn new(
        title: impl Into<String>,
        rows: Vec<String>,
        columns: Vec<String>,
        values: Vec<Vec<Option<f64>>>,
    ) -> Self {
        HeatMap {
            title: title.into(),
            rows,
            columns,
            values,
            color_map: ColorMap::Sequential,
            range: None,
            annotate: None,
            axis_labels: (String::new(), String::new()),
            reversed: false,
        }
    }

    /// The colour map (sequential by default).
    pub fn color_map(mut self, color_map: ColorMap) -> Self {
        self.color_map = color_map;
        self
    }

    /// The values mapped to the two ends of the colour map (default: the data's extent).
    pub fn range(mut self, low: f64, high: f64) -> Self {
        self.range = Some((low, high));
        self
    }

    /// Runs the colour map backwards, for values where lower is better (such as losses), so that the
    /// bright end always means "better".
    pub fn reversed(mut self) -> Self {
        self.reversed = true;
        self
    }

    /// Whether to write each value in its cell (default: when cells are large enough).
    pub fn annotate(mut self, annotate: bool) -> Self {
        self.annotate = Some(annotate);
        self
    }

    /// Captions for the rows (drawn at the left) and the columns (drawn at the top).
    pub fn axis_labels(mut self, rows: impl Into<String>, columns: impl Into<String>) -> Self {
        self.axis_labels = (rows.into(), columns.into());
        self
    }

    fn value_range(&self) -> (f64, f64) {
        self.range.unwrap_or_else(|| {
            let finite = self
                .values
                .iter()
                .flatten()
                .flatten()
                .copied()
                .filter(|v| v.is_finite());
            let (low, high) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
                (l.min(v), h.max(v))
            });
            if low.is_finite() && high > low {
                (low, high)
            } else if low.is_finite() {
                (low - 0.5, low + 0.5)
            } else {
                (0.0, 1.0)
            }
        })
    }

    fn color(&self, value: f64) -> Color {
        let (low, high) = self.value_range();
        let t = (value - low) / (high - low);
        let t = if self.reversed { 1.0 - t } else { t };
        match self.color_map {
            ColorMap::Sequential => sequential(t),
            ColorMap::Diverging => diverging(t),
        }
    }

    /// The heat map as an SVG document.
    pub fn to_svg(&self) -> String {
        let cell = if self.rows.len().max(self.columns.len()) > 16 {
            22.0
        } else {
            34.0
        };
        let label_size = 12.0;
        let row_label_width = self
            .rows
            .iter()
            .map(|r| text_width(r, label_size))
            .fold(0.0, f64::max);
        let column_label_height = self
            .columns
            .iter()
            .map(|c| text_width(c, label_size))
            .fold(0.0, f64::max)
            * std::f64::consts::FRAC_1_SQRT_2;
        let left = 34.0 + row_label_width + 8.0;
        let top = 44.0 + column_label_height + 26.0;
        let grid_width = cell * self.columns.len() as f64;
        let grid_height = cell * self.rows.len() as f64;
        let bar_x = left + grid_width + 24.0;
        // The last column's label leans right past the grid; leave room for it.
        let width = (bar_x + 70.0)
            .max(left + grid_width + column_label_height + 10.0)
            .max(text_width(&self.title, TextStyle::title().size) + 40.0);
        let height = top + grid_height + 20.0;
        let mut svg = Svg::new(width, height);
        svg.text(width / 2.0, 22.0, &self.title, TextStyle::title());
        let (row_axis, column_axis) = &self.axis_labels;
        if !column_axis.is_empty() {
            svg.text(
                left + grid_width / 2.0,
                40.0,
                column_axis,
                TextStyle::new(12.0)
                    .anchor(Anchor::Middle)
                    .color(Color::GREY),
            );
        }
        if !row_axis.is_empty() {
            svg.text(
                16.0,
                top + grid_height / 2.0,
                row_axis,
                TextStyle::new(12.0)
                    .anchor(Anchor::Middle)
                    .rotate(-90.0)
                    .color(Color::GREY),
            );
        }
        let annotate = self.annotate.unwrap_or(cell >= 30.0);
        for (r, row_label) in self.rows.iter().enumerate() {
            let y = top + cell * r as f64;
            svg.text(
                left - 6.0,
                y + cell / 2.0 + 4.0,
                row_label,
                TextStyle::new(label_size).anchor(Anchor::End),
            );
            for (c, column_label) in self.columns.iter().enumerate() {
                let x = left + cell * c as f64;
                let value = self
                    .values
                    .get(r)
                    .and_then(|row| row.get(c))
                    .copied()
                    .flatten();
                match value {
                    Some(v) if v.is_finite() => {
                        let fill = self.color(v);
                        let title = format!("{row_label} → {column_label}: {v:.4}");
                        svg.rect_with_title(x, y, cell, cell, fill, Some(Color::WHITE), &title);
                        if annotate {
                            svg.text(
                                x + cell / 2.0,
                                y + cell / 2.0 + 4.0,
                                &short_value(v),
                                TextStyle::new(10.0)
                                    .anchor(Anchor::Middle)
                                    .color(fill.text_on()),
                            );
                        }
                    }
                    _ => svg.rect(x, y, cell, cell, Color::LIGHT, Some(Color::WHITE)),
                }
            }
        }
        for (c, column_label) in self.columns.iter().enumerate() {
            let x = left + cell * c as f64 + cell / 2.0;
            svg.text(
                x,
                top - 6.0,
                column_label,
                TextStyle::new(label_size).rotate(-45.0),
            );
        }
        self.draw_color_bar(&mut svg, bar_x, top, grid_height.max(120.0));
        svg.finish()
    }

    fn draw_color_bar(&self, svg: &mut Svg, x: f64, top: f64, height: f64) {
        let (low, high) = self.value_range();
        let steps = 48;
        let step_height = height / steps as f64;
        for i in 0..steps {
            let t = 1.0 - (i as f64 + 0.5) / steps as f64;
            svg.rect(
                x,
                top + step_height * i as f64,
                14.0,
                step_height + 0.5,
                self.color(low + t * (high - low)),
                None,
            );
        }
        for tick in nice_ticks(low, high, 4) {
            let y = top + height * (1.0 - (tick - low) / (high - low));
            svg.line((x + 14.0, y), (x + 18.0, y), Color::GREY, 1.0);
            svg.text(
                x + 21.0,
                y + 4.0,
                &tick_label(tick),
                TextStyle::new(10.0).color(Color::GREY),
            );
        }
    }
}

/// A value in at most four characters, for cell annotations.
fn short_value(value: f64) -> String {
    if value.abs() >= 10.0 {
        format!("{value:.0}")
    } else if value.abs() >= 1.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}").trim_start_matches('0').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_cell_per_value_and_grey_for_missing() {
        let svg = HeatMap::new(
            "t",
            vec!["a".into(), "b".into()],
            vec!["x".into(), "y".into()],
            vec![vec![Some(0.1), None], vec![Some(0.9), Some(0.5)]],
        )
        .range(0.0, 1.0)
        .to_svg();
        assert_eq!(svg.matches("<title>").count(), 3);
        assert!(svg.contains("a → x: 0.1000"));
        assert!(svg.contains(&format!("fill=\"{}\"", Color::LIGHT)));
    }

    #[test]
    fn annotations_are_short() {
        assert_eq!(short_value(0.256), ".26");
        assert_eq!(short_value(2.54), "2.5");
        assert_eq!(short_value(42.0), "42");
    }
}
