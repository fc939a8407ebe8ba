use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};

/// "Nice" tick spacing (1, 2 or 5 times a power of ten) for an axis from 0
/// to `max` with about `n` ticks; an axis is extended to a multiple of it so
/// that it ends on a labelled tick.
pub(crate) fn nice_step(max: f64, n: usize) -> f64 {
    if max <= 0.0 || !max.is_finite() {
        return 1.0;
    }
    let raw = max / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let nice = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// A tick label: the shortest decimal that shows the value (`0`, `0.2`,
/// `0.001`, `40`), free of the float noise of summed steps.
pub(crate) fn tick_label(v: f64) -> String {
    let text = format!("{:.10}", v + 0.0);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

/// An axis of `n` categories (bars, confusion-matrix classes): category `i`
/// spans `i..i + 1` and is labelled at its centre, `i + 0.5`. When
/// `downwards`, category 0 is drawn at the far end of a vertical axis (the
/// top), as a matrix's first row is.
///
/// plotters' own category axis (`into_segmented`) rounds each slot to whole
/// pixels and puts a single category at the wrong place, so slots are
/// mapped here directly.
pub(crate) struct Categories {
    n: usize,
    downwards: bool,
}

impl Categories {
    pub(crate) fn new(n: usize) -> Self {
        Categories {
            n: n.max(1),
            downwards: false,
        }
    }

    /// The first category at the top of a vertical axis.
    pub(crate) fn downwards(n: usize) -> Self {
        Categories {
            downwards: true,
            ..Categories::new(n)
        }
    }

    /// The category a coordinate falls in (its label's index).
    pub(crate) fn index(v: f64) -> usize {
        v.max(0.0).floor() as usize
    }
}

impl Ranged for Categories {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let (from, to) = if self.downwards {
            (limit.1, limit.0)
        } else {
            limit
        };
        from + (f64::from(to - from) * value / self.n as f64).round() as i32
    }

    /// Every centre, as the axis must name every category; none when no
    /// labels are asked for.
    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() || hint.max_num_points() == 0 {
            return Vec::new();
        }
        (0..self.n).map(|i| i as f64 + 0.5).collect()
    }

    fn range(&self) -> Range<f64> {
        0.0..self.n as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_steps() {
        assert_eq!(nice_step(80.0, 5), 20.0);
        assert_eq!(nice_step(7.0, 5), 2.0);
        assert_eq!(nice_step(0.9, 5), 0.2);
        assert_eq!(nice_step(0.0, 5), 1.0);
    }

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(tick_label(0.1 + 0.2), "0.3");
        assert_eq!(tick_label(-0.0), "0");
        assert_eq!(tick_label(40.0), "40");
        assert_eq!(tick_label(0.0001), "0.0001");
        assert_eq!(tick_label(-0.2), "-0.2");
    }

    #[test]
    fn categories_fill_the_axis_in_equal_slots() {
        let across = Categories::new(4);
        assert_eq!(across.map(&0.0, (10, 410)), 10);
        assert_eq!(across.map(&1.0, (10, 410)), 110);
        assert_eq!(across.map(&4.0, (10, 410)), 410);
        // A vertical axis runs from the bottom (limit.0) to the top.
        let down = Categories::downwards(4);
        assert_eq!(down.map(&0.0, (410, 10)), 10);
        assert_eq!(down.map(&1.0, (410, 10)), 110);
        // One category fills the axis and is labelled in the middle.
        let one = Categories::new(1);
        assert_eq!(one.map(&0.5, (100, 300)), 200);
        assert_eq!(
            one.key_points(plotters::coord::ranged1d::BoldPoints(10)),
            [0.5]
        );
        assert_eq!((Categories::index(2.5), Categories::index(0.0)), (2, 0));
    }
}
