//! Mapping data values to pixels, and choosing tick marks a person can read.

/// A linear or logarithmic map from a data interval to a pixel interval.
#[derive(Clone, Copy, Debug)]
pub struct Scale {
    domain: (f64, f64),
    range: (f64, f64),
    log: bool,
}

impl Scale {
    /// A linear map from `domain` to `range`. An empty domain is widened so that the map stays defined.
    pub fn linear(domain: (f64, f64), range: (f64, f64)) -> Self {
        Scale {
            domain: widen(domain),
            range,
            log: false,
        }
    }

    /// A logarithmic map (base 10) from a positive `domain` to `range`.
    pub fn log(domain: (f64, f64), range: (f64, f64)) -> Self {
        let low = domain.0.max(f64::MIN_POSITIVE);
        let high = domain.1.max(low);
        let (low, high) = if high / low < 1.0 + 1e-9 {
            (low / 2.0, high * 2.0)
        } else {
            (low, high)
        };
        Scale {
            domain: (low.log10(), high.log10()),
            range,
            log: true,
        }
    }

    /// The pixel position of `value`.
    pub fn map(&self, value: f64) -> f64 {
        let value = if self.log {
            value.max(f64::MIN_POSITIVE).log10()
        } else {
            value
        };
        let t = (value - self.domain.0) / (self.domain.1 - self.domain.0);
        self.range.0 + t * (self.range.1 - self.range.0)
    }

    /// Tick values inside the domain: 1-2-5 steps (linear) or powers of ten (log).
    pub fn ticks(&self, target: usize) -> Vec<f64> {
        if self.log {
            let first = self.domain.0.floor() as i32;
            let last = self.domain.1.ceil() as i32;
            // With few decades in view, 2 and 5 times each power of ten keep the axis readable.
            let multiples: &[f64] = if self.domain.1 - self.domain.0 <= 2.0 {
                &[1.0, 2.0, 5.0]
            } else {
                &[1.0]
            };
            (first..=last)
                .flat_map(|exponent| multiples.iter().map(move |m| m * 10f64.powi(exponent)))
                .filter(|v| {
                    let l = v.log10();
                    l >= self.domain.0 - 1e-9 && l <= self.domain.1 + 1e-9
                })
                .collect()
        } else {
            nice_ticks(self.domain.0, self.domain.1, target)
        }
    }
}

fn widen((low, high): (f64, f64)) -> (f64, f64) {
    if !(low.is_finite() && high.is_finite()) {
        return (0.0, 1.0);
    }
    if (high - low).abs() < 1e-12 {
        let pad = if low == 0.0 { 1.0 } else { low.abs() * 0.1 };
        (low - pad, high + pad)
    } else {
        (low.min(high), high.max(low))
    }
}

/// About `target` round tick values (steps of 1, 2 or 5 times a power of ten) covering [low, high].
pub fn nice_ticks(low: f64, high: f64, target: usize) -> Vec<f64> {
    let (low, high) = widen((low, high));
    let rough = (high - low) / target.max(1) as f64;
    let magnitude = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|step| *step >= rough)
        .unwrap_or(10.0 * magnitude);
    let first = (low / step).ceil() as i64;
    let last = (high / step).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

/// A tick label: as few decimals as the step needs.
pub fn tick_label(value: f64) -> String {
    if value == 0.0 {
        return "0".to_string();
    }
    let magnitude = value.abs();
    if !(1e-3..1e5).contains(&magnitude) {
        return format!("{value:.0e}");
    }
    let text = format!("{value:.4}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_maps_ends_to_ends() {
        let scale = Scale::linear((0.0, 10.0), (100.0, 0.0));
        assert_eq!(scale.map(0.0), 100.0);
        assert_eq!(scale.map(10.0), 0.0);
        assert_eq!(scale.map(5.0), 50.0);
    }

    #[test]
    fn degenerate_domains_stay_defined() {
        let scale = Scale::linear((3.0, 3.0), (0.0, 1.0));
        assert!(scale.map(3.0).is_finite());
        let scale = Scale::log((2.0, 2.0), (0.0, 1.0));
        assert!(scale.map(2.0).is_finite());
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(
            nice_ticks(0.0, 1.0, 5),
            [0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
        );
        assert_eq!(nice_ticks(1.0, 26.0, 5), [5.0, 10.0, 15.0, 20.0, 25.0]);
        let log = Scale::log((0.003, 20.0), (0.0, 1.0));
        assert_eq!(log.ticks(5), [0.01, 0.1, 1.0, 10.0]);
        let log = Scale::log((0.08, 2.0), (0.0, 1.0));
        assert_eq!(log.ticks(5), [0.1, 0.2, 0.5, 1.0, 2.0]);
    }

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(tick_label(0.6000000000000001), "0.6");
        assert_eq!(tick_label(25.0), "25");
        assert_eq!(tick_label(0.0001), "1e-4");
        assert_eq!(tick_label(0.0), "0");
    }
}
