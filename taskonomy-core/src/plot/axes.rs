//! Axes shared by the charts: horizontal grid lines with value labels, tick marks with labels, captions.

use super::color::Color;
use super::scale::{tick_label, Scale};
use super::svg::{Anchor, Svg, TextStyle};

/// Light horizontal grid lines from `left` to `right` at about `count` ticks of the vertical `scale`,
/// each labelled at the left.
pub(super) fn y_grid(svg: &mut Svg, scale: &Scale, left: f64, right: f64, count: usize) {
    for tick in scale.ticks(count) {
        let y = scale.map(tick);
        svg.line((left, y), (right, y), Color::LIGHT, 1.0);
        svg.text(
            left - 6.0,
            y + 4.0,
            &tick_label(tick),
            TextStyle::new(11.0).anchor(Anchor::End).color(Color::GREY),
        );
    }
}

/// Tick marks hanging below the horizontal line at `y`, at about `count` ticks of `scale`, labelled
/// underneath in `size`-pixel text.
pub(super) fn x_ticks(svg: &mut Svg, scale: &Scale, y: f64, count: usize, size: f64) {
    for tick in scale.ticks(count) {
        let x = scale.map(tick);
        svg.line((x, y), (x, y + 4.0), Color::GREY, 1.0);
        svg.text(
            x,
            y + 6.0 + size,
            &tick_label(tick),
            TextStyle::new(size)
                .anchor(Anchor::Middle)
                .color(Color::GREY),
        );
    }
}

/// A grey caption centred on `x`.
pub(super) fn caption(svg: &mut Svg, x: f64, y: f64, text: &str, size: f64) {
    svg.text(
        x,
        y,
        text,
        TextStyle::new(size)
            .anchor(Anchor::Middle)
            .color(Color::GREY),
    );
}
