//! Line charts: loss curves, objective against budget.

use super::axes::{x_ticks, y_grid};
use super::color::{categorical, Color};
use super::scale::Scale;
use super::svg::{text_width, Anchor, Svg, TextStyle};

/// Dash patterns of successive series: solid, dashed, dotted.
const DASHES: [Option<&str>; 3] = [None, Some("7 4"), Some("2 3")];

/// One named line of a [`LineChart`].
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend entry.
    pub name: String,
    /// `(x, y)` points, drawn in order. Non-finite points are skipped.
    pub points: Vec<(f64, f64)>,
    /// Whether to mark each point with a dot (for few points, such as one per budget).
    pub markers: bool,
    /// A vertical error bar `(low, high)` per point, in the order of `points` (empty: none).
    pub errors: Vec<Option<(f64, f64)>>,
}

/// A chart of one or more series against shared axes, with a title, axis labels and a legend.
///
/// ```
/// use taskonomy_core::plot::LineChart;
/// let svg = LineChart::new("Training loss")
///     .axes("step", "loss")
///     .log_y()
///     .series("train", vec![(0.0, 1.0), (1.0, 0.5), (2.0, 0.3)], false)
///     .to_svg();
/// assert!(svg.contains("Training loss"));
/// ```
#[derive(Clone, Debug)]
pub struct LineChart {
    title: String,
    x_label: String,
    y_label: String,
    series: Vec<Series>,
    log_y: bool,
    y_range: Option<(f64, f64)>,
    size: (f64, f64),
}

impl LineChart {
    /// An empty chart with a title.
    pub fn new(title: impl Into<String>) -> Self {
        LineChart {
            title: title.into(),
            x_label: String::new(),
            y_label: String::new(),
            series: Vec::new(),
            log_y: false,
            y_range: None,
            size: (640.0, 380.0),
        }
    }

    /// Labels of the horizontal and vertical axes.
    pub fn axes(mut self, x_label: impl Into<String>, y_label: impl Into<String>) -> Self {
        self.x_label = x_label.into();
        self.y_label = y_label.into();
        self
    }

    /// A logarithmic vertical axis (for losses spanning decades).
    pub fn log_y(mut self) -> Self {
        self.log_y = true;
        self
    }

    /// A fixed vertical range instead of the data's.
    pub fn y_range(mut self, low: f64, high: f64) -> Self {
        self.y_range = Some((low, high));
        self
    }

    /// The canvas size in pixels.
    pub fn size(mut self, width: f64, height: f64) -> Self {
        self.size = (width, height);
        self
    }

    /// Adds a series.
    pub fn series(self, name: impl Into<String>, points: Vec<(f64, f64)>, markers: bool) -> Self {
        self.series_with_errors(name, points, Vec::new(), markers)
    }

    /// Adds a series with a vertical error bar `(low, high)` per point (e.g. a confidence interval or
    /// the central range of a null distribution; `None` draws none).
    pub fn series_with_errors(
        mut self,
        name: impl Into<String>,
        points: Vec<(f64, f64)>,
        errors: Vec<Option<(f64, f64)>>,
        markers: bool,
    ) -> Self {
        self.series.push(Series {
            name: name.into(),
            points,
            markers,
            errors,
        });
        self
    }

    /// The chart as an SVG document.
    pub fn to_svg(&self) -> String {
        let (width, height) = self.size;
        let mut svg = Svg::new(width, height);
        let legend_width = self
            .series
            .iter()
            .map(|s| text_width(&s.name, 12.0))
            .fold(0.0, f64::max)
            + 34.0;
        let legend_width = if self.series.len() > 1 {
            legend_width
        } else {
            0.0
        };
        let (left, right, top, bottom) = (64.0, width - 16.0 - legend_width, 40.0, height - 46.0);

        let whiskers = self.series.iter().flat_map(|s| {
            s.points
                .iter()
                .zip(&s.errors)
                .filter_map(|(&(px, _), e)| e.map(|(l, h)| [(px, l), (px, h)]))
                .flatten()
        });
        let finite: Vec<(f64, f64)> = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().copied())
            .chain(whiskers)
            .filter(|(x, y)| x.is_finite() && y.is_finite() && (!self.log_y || *y > 0.0))
            .collect();
        let x_extent = extent(finite.iter().map(|p| p.0));
        let y_extent = self
            .y_range
            .unwrap_or_else(|| extent(finite.iter().map(|p| p.1)));
        let x = Scale::linear(x_extent, (left, right));
        let y = if self.log_y {
            Scale::log(y_extent, (bottom, top))
        } else {
            Scale::linear(y_extent, (bottom, top))
        };

        svg.text(width / 2.0, 24.0, &self.title, TextStyle::title());
        y_grid(&mut svg, &y, left, right, 5);
        x_ticks(&mut svg, &x, bottom, 6, 11.0);
        svg.line((left, bottom), (right, bottom), Color::INK, 1.0);
        svg.line((left, top), (left, bottom), Color::INK, 1.0);
        svg.text(
            (left + right) / 2.0,
            height - 10.0,
            &self.x_label,
            TextStyle::new(12.0).anchor(Anchor::Middle),
        );
        svg.text(
            16.0,
            (top + bottom) / 2.0,
            &self.y_label,
            TextStyle::new(12.0).anchor(Anchor::Middle).rotate(-90.0),
        );

        for (i, series) in self.series.iter().enumerate() {
            let color = categorical(i);
            // Dashes tell apart series that coincide, where one colour would hide the other.
            let dashes = DASHES[i % DASHES.len()];
            let points: Vec<(f64, f64)> = series
                .points
                .iter()
                .filter(|(px, py)| px.is_finite() && py.is_finite() && (!self.log_y || *py > 0.0))
                .map(|&(px, py)| (x.map(px), y.map(py)))
                .collect();
            svg.dashed_polyline(&points, color, 2.0, dashes);
            for (&(px, _), error) in series.points.iter().zip(&series.errors) {
                let Some((low, high)) = error.filter(|(l, h)| {
                    px.is_finite() && l.is_finite() && h.is_finite() && (!self.log_y || *l > 0.0)
                }) else {
                    continue;
                };
                let (cx, yl, yh) = (x.map(px), y.map(low), y.map(high));
                svg.line((cx, yl), (cx, yh), color, 1.5);
                for cap in [yl, yh] {
                    svg.line((cx - 4.0, cap), (cx + 4.0, cap), color, 1.5);
                }
            }
            if series.markers {
                for &point in &points {
                    svg.circle(point, 3.0, color, None);
                }
            }
            if self.series.len() > 1 {
                let ly = top + 8.0 + 18.0 * i as f64;
                let (from, to) = ((right + 8.0, ly), (right + 28.0, ly));
                svg.line_with_dashes(from, to, color, 2.5, dashes);
                svg.text(right + 32.0, ly + 4.0, &series.name, TextStyle::new(12.0));
            }
        }
        svg.finish()
    }
}

/// The smallest interval holding every value, or (0, 1) for none.
fn extent(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values
        .fold(None, |acc: Option<(f64, f64)>, v| match acc {
            None => Some((v, v)),
            Some((low, high)) => Some((low.min(v), high.max(v))),
        })
        .unwrap_or((0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_series_is_a_polyline_with_a_legend_entry() {
        let svg = LineChart::new("Objective")
            .axes("budget", "objective")
            .series("order 1", vec![(1.0, 1.5), (2.0, 2.7)], true)
            .series("order 2", vec![(1.0, 1.5), (2.0, 3.0)], true)
            .to_svg();
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(svg.matches("<circle").count(), 4);
        assert!(svg.contains(">order 2</text>"));
        assert!(svg.contains(">budget</text>"));
    }

    #[test]
    fn non_finite_and_non_positive_log_points_are_skipped() {
        let svg = LineChart::new("loss")
            .log_y()
            .series(
                "x",
                vec![(0.0, 1.0), (1.0, f64::NAN), (2.0, 0.0), (3.0, 0.1)],
                true,
            )
            .to_svg();
        assert_eq!(svg.matches("<circle").count(), 2);
    }

    #[test]
    fn error_bars_draw_whiskers_with_caps() {
        let svg = LineChart::new("Quality")
            .y_range(0.0, 1.0)
            .series_with_errors(
                "random",
                vec![(1.0, 0.3), (2.0, 0.35)],
                vec![Some((0.1, 0.5)), None],
                true,
            )
            .to_svg();
        let plain = LineChart::new("Quality")
            .y_range(0.0, 1.0)
            .series("random", vec![(1.0, 0.3), (2.0, 0.35)], true)
            .to_svg();
        assert_eq!(
            svg.matches("<line").count(),
            plain.matches("<line").count() + 3
        );
    }

    #[test]
    fn an_empty_chart_still_draws() {
        let svg = LineChart::new("nothing yet").to_svg();
        assert!(svg.contains("nothing yet"));
    }
}
