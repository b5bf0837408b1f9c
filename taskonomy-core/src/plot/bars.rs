//! Grouped bar charts: Gain and Quality per target and budget.

use super::axes::y_grid;
use super::color::{categorical, Color};
use super::scale::Scale;
use super::svg::{text_width, Anchor, Svg, TextStyle};

/// One group of bars: a value, and optionally an error bar, per category.
#[derive(Clone, Debug)]
struct Group {
    name: String,
    values: Vec<Option<f64>>,
    errors: Vec<Option<(f64, f64)>>,
}

/// Bars for several groups (e.g. budgets) side by side in each category (e.g. target task), with an
/// optional dashed reference line (e.g. the 0.5 win rate of a tie).
///
/// ```
/// use taskonomy_core::plot::BarChart;
/// let svg = BarChart::new("Quality", vec!["depth".into(), "normals".into()])
///     .group("budget 1", vec![Some(0.3), Some(0.5)])
///     .range(0.0, 1.0)
///     .reference(0.5)
///     .to_svg();
/// assert!(svg.contains("budget 1"));
/// ```
#[derive(Clone, Debug)]
pub struct BarChart {
    title: String,
    y_label: String,
    categories: Vec<String>,
    groups: Vec<Group>,
    range: Option<(f64, f64)>,
    reference: Option<f64>,
}

impl BarChart {
    /// An empty chart over `categories`.
    pub fn new(title: impl Into<String>, categories: Vec<String>) -> Self {
        BarChart {
            title: title.into(),
            y_label: String::new(),
            categories,
            groups: Vec::new(),
            range: None,
            reference: None,
        }
    }

    /// The vertical axis's label.
    pub fn y_label(mut self, label: impl Into<String>) -> Self {
        self.y_label = label.into();
        self
    }

    /// Adds a group: one value per category (`None` leaves a gap).
    pub fn group(self, name: impl Into<String>, values: Vec<Option<f64>>) -> Self {
        self.group_with_errors(name, values, Vec::new())
    }

    /// Adds a group with an error bar `(low, high)` per category (e.g. a confidence interval; `None`, or
    /// a missing entry, draws none).
    pub fn group_with_errors(
        mut self,
        name: impl Into<String>,
        values: Vec<Option<f64>>,
        errors: Vec<Option<(f64, f64)>>,
    ) -> Self {
        self.groups.push(Group {
            name: name.into(),
            values,
            errors,
        });
        self
    }

    /// The vertical range (default: 0 to the largest value).
    pub fn range(mut self, low: f64, high: f64) -> Self {
        self.range = Some((low, high));
        self
    }

    /// A dashed horizontal line at `value`.
    pub fn reference(mut self, value: f64) -> Self {
        self.reference = Some(value);
        self
    }

    /// The chart as an SVG document.
    pub fn to_svg(&self) -> String {
        let groups = self.groups.len().max(1) as f64;
        let bar = if self.categories.len() as f64 * groups > 60.0 {
            6.0
        } else {
            10.0
        };
        let category_width = bar * groups + 10.0;
        let label_height = self
            .categories
            .iter()
            .map(|c| text_width(c, 11.0))
            .fold(0.0, f64::max)
            * std::f64::consts::FRAC_1_SQRT_2;
        let legend_width = self
            .groups
            .iter()
            .map(|group| text_width(&group.name, 12.0))
            .fold(0.0, f64::max)
            + 40.0;
        let (left, top) = (64.0, 42.0);
        let plot_height = 240.0;
        let bottom = top + plot_height;
        let right = left + category_width * self.categories.len() as f64;
        let width = (right + legend_width + 10.0).max(360.0);
        let height = bottom + label_height + 24.0;
        let mut svg = Svg::new(width, height);
        svg.text((left + right) / 2.0, 24.0, &self.title, TextStyle::title());

        let high = self.range.map(|r| r.1).unwrap_or_else(|| {
            self.groups
                .iter()
                .flat_map(|group| group.values.iter().flatten().copied())
                .fold(0.0, f64::max)
        });
        let low = self.range.map(|r| r.0).unwrap_or(0.0);
        let y = Scale::linear((low, high), (bottom, top));
        y_grid(&mut svg, &y, left, right, 5);
        svg.text(
            16.0,
            (top + bottom) / 2.0,
            &self.y_label,
            TextStyle::new(12.0).anchor(Anchor::Middle).rotate(-90.0),
        );
        let baseline = y.map(low.max(0.0).min(high));
        for (c, category) in self.categories.iter().enumerate() {
            let x0 = left + category_width * c as f64 + 5.0;
            for (g, group) in self.groups.iter().enumerate() {
                let name = &group.name;
                let Some(value) = group
                    .values
                    .get(c)
                    .copied()
                    .flatten()
                    .filter(|v| v.is_finite())
                else {
                    continue;
                };
                let py = y.map(value.clamp(low, high));
                let bx = x0 + bar * g as f64;
                let error = group.errors.get(c).copied().flatten();
                let interval = error.map_or(String::new(), |(l, h)| format!(" [{l:.3}, {h:.3}]"));
                svg.rect_with_title(
                    bx,
                    py.min(baseline),
                    bar - 1.0,
                    (baseline - py).abs(),
                    categorical(g),
                    None,
                    &format!("{category}, {name}: {value:.3}{interval}"),
                );
                if let Some((l, h)) = error.filter(|(l, h)| l.is_finite() && h.is_finite()) {
                    let (yl, yh) = (y.map(l.clamp(low, high)), y.map(h.clamp(low, high)));
                    let cx = bx + (bar - 1.0) / 2.0;
                    svg.line((cx, yl), (cx, yh), Color::INK, 1.0);
                    for cap in [yl, yh] {
                        svg.line((cx - 2.0, cap), (cx + 2.0, cap), Color::INK, 1.0);
                    }
                }
            }
            svg.text(
                x0 + category_width / 2.0 - 5.0,
                bottom + 12.0,
                category,
                TextStyle::new(11.0).anchor(Anchor::End).rotate(-45.0),
            );
        }
        if let Some(reference) = self.reference {
            let py = y.map(reference);
            svg.dashed_line((left, py), (right, py), Color::INK, 1.0);
        }
        svg.line((left, bottom), (right, bottom), Color::INK, 1.0);
        svg.line((left, top), (left, bottom), Color::INK, 1.0);
        for (g, group) in self.groups.iter().enumerate() {
            let ly = top + 8.0 + 18.0 * g as f64;
            svg.rect(right + 14.0, ly - 6.0, 12.0, 12.0, categorical(g), None);
            svg.text(right + 32.0, ly + 4.0, &group.name, TextStyle::new(12.0));
        }
        svg.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_bar_per_present_value() {
        let svg = BarChart::new("Gain", vec!["a".into(), "b".into(), "c".into()])
            .group("1", vec![Some(0.2), None, Some(0.9)])
            .group("2", vec![Some(0.4), Some(0.6), Some(f64::NAN)])
            .range(0.0, 1.0)
            .reference(0.5)
            .to_svg();
        assert_eq!(svg.matches("<title>").count(), 4);
        assert!(svg.contains("stroke-dasharray"));
    }

    #[test]
    fn error_bars_are_drawn_where_given() {
        let plain = BarChart::new("Gain", vec!["a".into(), "b".into()])
            .group("1", vec![Some(0.2), Some(0.4)])
            .to_svg();
        let with = BarChart::new("Gain", vec!["a".into(), "b".into()])
            .group_with_errors(
                "1",
                vec![Some(0.2), Some(0.4)],
                vec![Some((0.1, 0.3)), None],
            )
            .to_svg();
        // One whisker and its two caps.
        assert_eq!(
            with.matches("<line").count(),
            plain.matches("<line").count() + 3
        );
        assert!(with.contains("a, 1: 0.200 [0.100, 0.300]"));
    }
}
