//! Trend charts: a signal's history as a server-rendered SVG line chart
//! (charts-rs), with its watch and act thresholds drawn across it, and a
//! text alternative for people who do not see the picture. Nothing is
//! fetched at run time: the SVG goes inline into the page.

use charts_rs::{Color, LineChart, MarkLine, MarkLineCategory, Series, Symbol, YAxisConfig};
use chrono::NaiveDate;

/// Line colours: distinct from each other and from the threshold colours,
/// each at least 4.5:1 on white.
const PALETTE: [&str; 4] = ["#1f4fbf", "#6b3fa0", "#00756f", "#4a5260"];
/// The watch threshold's colour (the `.status.watch` colour).
const WATCH: &str = "#8a5a00";
/// The act threshold's colour (the `.status.act` colour).
const ACT: &str = "#b0261b";

/// One subject's values over days.
#[derive(Clone, Debug)]
pub(crate) struct Trend {
    /// Who or what, as people say it.
    pub(crate) name: String,
    /// Values by day, oldest first.
    pub(crate) points: Vec<(NaiveDate, f64)>,
}

/// What a chart shows.
#[derive(Clone, Debug)]
pub(crate) struct Spec<'a> {
    /// The days on the x axis, oldest first.
    pub(crate) days: &'a [NaiveDate],
    /// The lines.
    pub(crate) trends: &'a [Trend],
    /// The watch threshold.
    pub(crate) watch: f64,
    /// The act threshold.
    pub(crate) act: f64,
    /// Whether values are shares (drawn as percentages).
    pub(crate) percent: bool,
}

/// A value as the chart draws it.
fn scaled(v: f64, percent: bool) -> f32 {
    (if percent { v * 100.0 } else { v }) as f32
}

/// A round top for the value axis that shows every line and both
/// thresholds.
fn axis_top(spec: &Spec<'_>) -> f32 {
    let highest = spec
        .trends
        .iter()
        .flat_map(|t| t.points.iter().map(|p| p.1))
        .chain([spec.watch, spec.act])
        .fold(0.0_f64, f64::max);
    let top = scaled(highest, spec.percent) * 1.1;
    if spec.percent {
        // Five even steps of a round size.
        [10.0, 20.0, 25.0, 50.0, 75.0, 100.0]
            .into_iter()
            .find(|t| top <= *t)
            .unwrap_or(100.0)
    } else {
        ((top / 5.0).ceil() * 5.0).max(5.0)
    }
}

/// The chart as inline SVG, labelled by the element `labelled_by`; `None`
/// when there is nothing to draw.
pub(crate) fn line_svg(spec: &Spec<'_>, labelled_by: &str) -> Option<String> {
    if spec.days.is_empty() || spec.trends.iter().all(|t| t.points.is_empty()) {
        return None;
    }
    let index: std::collections::HashMap<NaiveDate, usize> =
        spec.days.iter().enumerate().map(|(i, d)| (*d, i)).collect();
    let mut series: Vec<Series> = spec
        .trends
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut data: Vec<Option<f32>> = vec![None; spec.days.len()];
            for (d, v) in &t.points {
                if let Some(slot) = index.get(d).and_then(|i| data.get_mut(*i)) {
                    *slot = Some(scaled(*v, spec.percent));
                }
            }
            let mut s = Series::new_nullable(t.name.clone(), data);
            s.index = Some(i);
            s.symbol = Some(Symbol::None);
            s
        })
        .collect();
    if let Some(first) = series.first_mut() {
        for (value, colour) in [(spec.watch, WATCH), (spec.act, ACT)] {
            first.mark_lines.push(MarkLine {
                category: MarkLineCategory::Value(scaled(value, spec.percent)),
                color: Some(Color::from(colour)),
                stroke_width: Some(1.5),
                stroke_dash_array: Some("6,4".into()),
            });
        }
    }
    let labels = spec
        .days
        .iter()
        .map(|d| d.format("%-d %b").to_string())
        .collect();
    let mut chart = LineChart::new(series, labels);
    chart.width = 640.0;
    chart.height = 280.0;
    chart.series.colors = PALETTE.iter().map(|c| Color::from(*c)).collect();
    chart.series.stroke_width = 2.0;
    chart.series.symbol = Some(Symbol::None);
    chart.y_axis_configs = vec![YAxisConfig {
        min: Some(0.0),
        max: Some(axis_top(spec)),
        split_number: 5,
        formatter: spec.percent.then(|| "{c}%".to_owned()),
        ..chart.y_axis_configs.first().cloned().unwrap_or_default()
    }];
    let svg = chart
        .svg()
        .map_err(|e| tracing::warn!(error = %e, "cannot draw a chart"))
        .ok()?;
    Some(svg.replacen(
        "<svg ",
        &format!("<svg role=\"img\" aria-labelledby=\"{labelled_by}\" focusable=\"false\" "),
        1,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).unwrap_or_default()
    }

    #[test]
    fn a_chart_draws_lines_and_thresholds_and_escapes_names() {
        let days: Vec<NaiveDate> = (1..=30).map(day).collect();
        let trends = vec![
            Trend {
                name: "Victor <Vance> & co".into(),
                points: days
                    .iter()
                    .enumerate()
                    .map(|(i, d)| (*d, i as f64 / 60.0))
                    .collect(),
            },
            Trend {
                name: "EMEA".into(),
                points: days.iter().skip(10).map(|d| (*d, 0.1)).collect(),
            },
        ];
        let svg = line_svg(
            &Spec {
                days: &days,
                trends: &trends,
                watch: 0.2,
                act: 0.4,
                percent: true,
            },
            "cap-1",
        )
        .unwrap_or_default();
        assert!(
            svg.starts_with("<svg role=\"img\" aria-labelledby=\"cap-1\""),
            "{}",
            &svg[..80.min(svg.len())]
        );
        assert!(svg.contains("Victor &lt;Vance&gt; &amp; co"));
        assert!(!svg.contains("<Vance>"));
        assert!(
            svg.contains(&ACT.to_uppercase()) && svg.contains(&WATCH.to_uppercase()),
            "the thresholds are drawn"
        );
        assert!(svg.contains("%"));
    }

    #[test]
    fn nothing_to_draw_is_no_chart() {
        let days = vec![day(1)];
        let spec = Spec {
            days: &days,
            trends: &[],
            watch: 0.2,
            act: 0.4,
            percent: true,
        };
        assert!(line_svg(&spec, "x").is_none());
    }
}
