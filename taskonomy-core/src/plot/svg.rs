//! A minimal SVG writer: the few shapes the charts need, with text escaped and numbers rounded so that
//! files are small and identical from run to run.

use std::fmt::Write;

use super::color::Color;

/// Horizontal anchoring of a text label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor {
    /// The text starts at the point.
    Start,
    /// The text is centred on the point.
    Middle,
    /// The text ends at the point.
    End,
}

impl Anchor {
    fn as_str(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// How a text label is drawn.
#[derive(Clone, Copy, Debug)]
pub struct TextStyle {
    /// Font size in pixels.
    pub size: f64,
    /// Horizontal anchoring.
    pub anchor: Anchor,
    /// Bold or regular.
    pub bold: bool,
    /// Rotation in degrees around the anchor point (−90 writes upwards).
    pub rotate: f64,
    /// Text colour.
    pub color: Color,
}

impl TextStyle {
    /// Regular dark text of `size` pixels, anchored at its start.
    pub const fn new(size: f64) -> Self {
        TextStyle {
            size,
            anchor: Anchor::Start,
            bold: false,
            rotate: 0.0,
            color: Color::INK,
        }
    }

    /// A figure's title: bold, centred, larger than every other text.
    pub const fn title() -> Self {
        TextStyle::new(15.0).anchor(Anchor::Middle).bold()
    }

    /// The same style with another anchor.
    pub const fn anchor(mut self, anchor: Anchor) -> Self {
        self.anchor = anchor;
        self
    }

    /// The same style in bold.
    pub const fn bold(mut self) -> Self {
        self.bold = true;
        self
    }

    /// The same style rotated by `degrees`.
    pub const fn rotate(mut self, degrees: f64) -> Self {
        self.rotate = degrees;
        self
    }

    /// The same style in another colour.
    pub const fn color(mut self, color: Color) -> Self {
        self.color = color;
        self
    }
}

/// An SVG document being drawn, in pixel coordinates with the origin at the top left.
#[derive(Clone, Debug)]
pub struct Svg {
    width: f64,
    height: f64,
    body: String,
}

impl Svg {
    /// An empty white canvas.
    pub fn new(width: f64, height: f64) -> Self {
        let mut svg = Svg {
            width,
            height,
            body: String::new(),
        };
        svg.rect(0.0, 0.0, width, height, Color::WHITE, None);
        svg
    }

    /// The canvas width in pixels.
    pub fn width(&self) -> f64 {
        self.width
    }

    /// The canvas height in pixels.
    pub fn height(&self) -> f64 {
        self.height
    }

    /// A filled rectangle, optionally outlined.
    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: Color, stroke: Option<Color>) {
        let _ = write!(
            self.body,
            r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{fill}""#,
            num(x),
            num(y),
            num(w),
            num(h)
        );
        if let Some(stroke) = stroke {
            let _ = write!(self.body, r#" stroke="{stroke}""#);
        }
        self.body.push_str("/>\n");
    }

    /// A rectangle with a tooltip (shown by browsers on hover).
    #[allow(clippy::too_many_arguments)]
    pub fn rect_with_title(
        &mut self,
        x: f64,
        y: f64,
        w: f64,
        h: f64,
        fill: Color,
        stroke: Option<Color>,
        title: &str,
    ) {
        self.body.push_str("<g>");
        let _ = write!(self.body, "<title>{}</title>", escape(title));
        self.rect(x, y, w, h, fill, stroke);
        self.body.push_str("</g>\n");
    }

    /// A straight line.
    pub fn line(&mut self, from: (f64, f64), to: (f64, f64), stroke: Color, width: f64) {
        self.line_with_dashes(from, to, stroke, width, None);
    }

    /// A dashed straight line (`"4 3"` dashes).
    pub fn dashed_line(&mut self, from: (f64, f64), to: (f64, f64), stroke: Color, width: f64) {
        self.line_with_dashes(from, to, stroke, width, Some("4 3"));
    }

    /// A straight line, dashed by an SVG `stroke-dasharray` such as `"7 4"` when `dashes` is given.
    pub fn line_with_dashes(
        &mut self,
        from: (f64, f64),
        to: (f64, f64),
        stroke: Color,
        width: f64,
        dashes: Option<&str>,
    ) {
        let _ = write!(
            self.body,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{stroke}" stroke-width="{}""#,
            num(from.0),
            num(from.1),
            num(to.0),
            num(to.1),
            num(width)
        );
        if let Some(dashes) = dashes {
            let _ = write!(self.body, r#" stroke-dasharray="{}""#, escape(dashes));
        }
        self.body.push_str("/>\n");
    }

    /// Connected line segments through `points`.
    pub fn polyline(&mut self, points: &[(f64, f64)], stroke: Color, width: f64) {
        self.dashed_polyline(points, stroke, width, None);
    }

    /// Connected line segments through `points`, dashed by an SVG `stroke-dasharray` such as `"7 4"`.
    pub fn dashed_polyline(
        &mut self,
        points: &[(f64, f64)],
        stroke: Color,
        width: f64,
        dashes: Option<&str>,
    ) {
        if points.is_empty() {
            return;
        }
        let coordinates: Vec<String> = points
            .iter()
            .map(|(x, y)| format!("{},{}", num(*x), num(*y)))
            .collect();
        let _ = write!(
            self.body,
            r#"<polyline points="{}" fill="none" stroke="{stroke}" stroke-width="{}" stroke-linejoin="round""#,
            coordinates.join(" "),
            num(width)
        );
        if let Some(dashes) = dashes {
            let _ = write!(self.body, r#" stroke-dasharray="{}""#, escape(dashes));
        }
        self.body.push_str("/>\n");
    }

    /// A cubic Bézier curve from `from` to `to`, leaving and arriving horizontally (graph edges).
    pub fn horizontal_curve(
        &mut self,
        from: (f64, f64),
        to: (f64, f64),
        stroke: Color,
        width: f64,
        opacity: f64,
    ) {
        let middle = (from.0 + to.0) / 2.0;
        let _ = writeln!(
            self.body,
            r#"<path d="M{},{} C{},{} {},{} {},{}" fill="none" stroke="{stroke}" stroke-width="{}" stroke-opacity="{}"/>"#,
            num(from.0),
            num(from.1),
            num(middle),
            num(from.1),
            num(middle),
            num(to.1),
            num(to.0),
            num(to.1),
            num(width),
            num(opacity)
        );
    }

    /// A filled circle.
    pub fn circle(&mut self, center: (f64, f64), radius: f64, fill: Color, stroke: Option<Color>) {
        let _ = write!(
            self.body,
            r#"<circle cx="{}" cy="{}" r="{}" fill="{fill}""#,
            num(center.0),
            num(center.1),
            num(radius)
        );
        if let Some(stroke) = stroke {
            let _ = write!(self.body, r#" stroke="{stroke}" stroke-width="1.5""#);
        }
        self.body.push_str("/>\n");
    }

    /// A text label at `(x, y)` (the baseline).
    pub fn text(&mut self, x: f64, y: f64, text: &str, style: TextStyle) {
        let _ = write!(
            self.body,
            r#"<text x="{}" y="{}" font-size="{}" text-anchor="{}" fill="{}""#,
            num(x),
            num(y),
            num(style.size),
            style.anchor.as_str(),
            style.color
        );
        if style.bold {
            self.body.push_str(r#" font-weight="bold""#);
        }
        if style.rotate != 0.0 {
            let _ = write!(
                self.body,
                r#" transform="rotate({} {} {})""#,
                num(style.rotate),
                num(x),
                num(y)
            );
        }
        let _ = writeln!(self.body, ">{}</text>", escape(text));
    }

    /// The finished document.
    pub fn finish(self) -> String {
        format!(
            concat!(
                r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" "#,
                r#"font-family="DejaVu Sans, Helvetica, Arial, sans-serif">"#,
                "\n{body}</svg>\n"
            ),
            w = num(self.width),
            h = num(self.height),
            body = self.body
        )
    }
}

/// A coordinate rounded to two decimals, without trailing zeros.
fn num(value: f64) -> String {
    let rounded = (value * 100.0).round() / 100.0;
    // `-0` reads oddly and differs from `0` byte for byte.
    let rounded = if rounded == 0.0 { 0.0 } else { rounded };
    format!("{rounded}")
}

/// `text` with the characters that are special in XML escaped.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// An estimate of a text's width in pixels, for layout (SVG cannot measure text before it is drawn).
/// DejaVu Sans averages a little over half an em per character.
pub fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * 0.58
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        let mut svg = Svg::new(10.0, 10.0);
        svg.text(1.0, 2.0, "a<b & \"c\"", TextStyle::new(12.0));
        let document = svg.finish();
        assert!(document.contains("a&lt;b &amp; &quot;c&quot;"));
        assert!(!document.contains("a<b"));
    }

    #[test]
    fn numbers_are_short_and_stable() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(1.23456), "1.23");
        assert_eq!(num(-0.001), "0");
    }

    #[test]
    fn documents_are_well_formed() {
        let mut svg = Svg::new(100.0, 50.0);
        svg.line((0.0, 0.0), (10.0, 10.0), Color::INK, 1.0);
        svg.polyline(&[(0.0, 0.0), (5.0, 5.0)], Color::INK, 1.0);
        svg.circle((3.0, 3.0), 2.0, Color::WHITE, Some(Color::INK));
        let document = svg.finish();
        assert!(document.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100\""));
        assert!(document.trim_end().ends_with("</svg>"));
        assert_eq!(document.matches("<line").count(), 1);
    }
}
