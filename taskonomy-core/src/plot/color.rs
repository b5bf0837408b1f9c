//! Colours and colour maps.

use std::fmt;

/// An sRGB colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Color(pub u8, pub u8, pub u8);

impl Color {
    /// White.
    pub const WHITE: Color = Color(255, 255, 255);
    /// Near-black, for text and axes.
    pub const INK: Color = Color(34, 34, 34);
    /// Mid grey, for secondary text and ticks.
    pub const GREY: Color = Color(120, 120, 120);
    /// Light grey, for grid lines and empty cells.
    pub const LIGHT: Color = Color(226, 226, 226);

    /// The colour between `self` (t = 0) and `other` (t = 1).
    pub fn mix(self, other: Color, t: f64) -> Color {
        let t = t.clamp(0.0, 1.0);
        let channel = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * t).round() as u8;
        Color(
            channel(self.0, other.0),
            channel(self.1, other.1),
            channel(self.2, other.2),
        )
    }

    /// Relative luminance in [0, 1] (sRGB weights, without gamma: close enough to pick a text colour).
    pub fn luminance(self) -> f64 {
        (0.2126 * self.0 as f64 + 0.7152 * self.1 as f64 + 0.0722 * self.2 as f64) / 255.0
    }

    /// Black or white, whichever reads better on this colour.
    pub fn text_on(self) -> Color {
        if self.luminance() > 0.55 {
            Color::INK
        } else {
            Color::WHITE
        }
    }
}

impl fmt::Display for Color {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
}

/// Ten well-separated colours for categorical series (the Tableau 10 palette).
pub const CATEGORICAL: [Color; 10] = [
    Color(78, 121, 167),
    Color(242, 142, 43),
    Color(225, 87, 89),
    Color(118, 183, 178),
    Color(89, 161, 79),
    Color(237, 201, 72),
    Color(176, 122, 161),
    Color(255, 157, 167),
    Color(156, 117, 95),
    Color(186, 176, 172),
];

/// The `i`-th categorical colour, cycling.
pub fn categorical(i: usize) -> Color {
    CATEGORICAL[i % CATEGORICAL.len()]
}

/// A perceptually ordered sequential map from dark purple (0) through teal to yellow (1), sampled from
/// the viridis colour map. Readable in greyscale and by colour-blind readers.
pub fn sequential(t: f64) -> Color {
    const STOPS: [Color; 10] = [
        Color(68, 1, 84),
        Color(72, 40, 120),
        Color(62, 73, 137),
        Color(49, 104, 142),
        Color(38, 130, 142),
        Color(31, 158, 137),
        Color(53, 183, 121),
        Color(110, 206, 88),
        Color(181, 222, 43),
        Color(253, 231, 37),
    ];
    interpolate(&STOPS, t)
}

/// A diverging map for values around a midpoint: blue (0) through white (0.5) to red (1).
pub fn diverging(t: f64) -> Color {
    const STOPS: [Color; 5] = [
        Color(33, 102, 172),
        Color(146, 197, 222),
        Color(247, 247, 247),
        Color(244, 165, 130),
        Color(178, 24, 43),
    ];
    interpolate(&STOPS, t)
}

fn interpolate(stops: &[Color], t: f64) -> Color {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let position = t * (stops.len() - 1) as f64;
    let lower = (position.floor() as usize).min(stops.len() - 2);
    stops[lower].mix(stops[lower + 1], position - lower as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_print_as_hex() {
        assert_eq!(Color(255, 0, 16).to_string(), "#ff0010");
    }

    #[test]
    fn maps_hit_their_ends_and_stay_in_range() {
        assert_eq!(sequential(0.0), Color(68, 1, 84));
        assert_eq!(sequential(1.0), Color(253, 231, 37));
        assert_eq!(sequential(2.0), sequential(1.0));
        assert_eq!(sequential(f64::NAN), sequential(0.0));
        assert_eq!(diverging(0.5), Color(247, 247, 247));
    }

    #[test]
    fn text_colour_contrasts() {
        assert_eq!(sequential(0.0).text_on(), Color::WHITE);
        assert_eq!(sequential(1.0).text_on(), Color::INK);
    }

    #[test]
    fn sequential_map_gets_lighter() {
        let mut last = -1.0;
        for i in 0..=20 {
            let luminance = sequential(i as f64 / 20.0).luminance();
            assert!(luminance > last);
            last = luminance;
        }
    }
}
