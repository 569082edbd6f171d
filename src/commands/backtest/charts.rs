//! A chart per compared series: the model's band over the whole run, the observations,
//! and the naive forecasts.

use std::path::{Path, PathBuf};

use super::scores::Row;
use crate::analysis::observations::SeriesKey;
use crate::chart::{
    palette, write_figure, y_range, ChartError, Figure, LegendEntry, Panel, Series, INK, SINGLE_FIGURE_SIZE,
};

/// One series: the model's band over the whole run, the observations, and the naive
/// forecasts; a dotted line after the last calibration year.
pub(super) fn draw_series(
    dir: &Path,
    k: &SeriesKey,
    rows: &[&Row],
    forecast: &[(i32, f64, f64, f64)],
    through: Option<i32>,
) -> Result<Vec<PathBuf>, ChartError> {
    let mut sorted: Vec<&Row> = rows.to_vec();
    sorted.sort_by_key(|r| r.obs.year);
    let x = |r: &Row| r.obs.year as f64 + 0.5;
    let point = |r: &Row, v: f64| (x(r), v, v, v);
    let model = Series {
        color: palette(0),
        dashed: false,
        band: true,
        points: forecast
            .iter()
            .map(|&(year, mean, p05, p95)| (year as f64 + 0.5, mean, p05, p95))
            .collect(),
    };
    let observed = Series {
        color: INK,
        dashed: false,
        band: false,
        points: sorted.iter().map(|r| point(r, r.obs.value)).collect(),
    };
    let persist = Series {
        color: palette(1),
        dashed: true,
        band: false,
        points: sorted
            .iter()
            .filter_map(|r| r.persistence.map(|v| point(r, v)))
            .collect(),
    };
    let trend = Series {
        color: palette(2),
        dashed: true,
        band: false,
        points: sorted.iter().filter_map(|r| r.trend.map(|v| point(r, v))).collect(),
    };
    let mut series = vec![model, observed, persist, trend];
    let mut legend = vec![
        LegendEntry {
            label: "model (mean, p05-p95)".into(),
            color: palette(0),
            dashed: false,
            band: true,
        },
        LegendEntry {
            label: "observed".into(),
            color: INK,
            dashed: false,
            band: false,
        },
        LegendEntry {
            label: "persistence".into(),
            color: palette(1),
            dashed: true,
            band: false,
        },
        LegendEntry {
            label: "log-linear trend".into(),
            color: palette(2),
            dashed: true,
            band: false,
        },
    ];
    let years = forecast.iter().map(|f| f.0).chain(sorted.iter().map(|r| r.obs.year));
    let (first, last) = years.fold((i32::MAX, i32::MIN), |(lo, hi), y| (lo.min(y), hi.max(y)));
    let (first, last) = (first as f64, last as f64 + 1.0);
    if let Some(t) = through.filter(|&t| (first..last).contains(&(t as f64 + 1.0))) {
        // The end of the calibration years, as a thin vertical line across the data.
        let (lo, hi) = y_range(&series);
        let edge = t as f64 + 1.0;
        series.push(Series {
            color: INK,
            dashed: true,
            band: false,
            points: vec![(edge, lo, lo, lo), (edge, hi, hi, hi)],
        });
        legend.push(LegendEntry {
            label: format!("end of calibration ({t})"),
            color: INK,
            dashed: true,
            band: false,
        });
    }
    let figure = Figure {
        title: format!("{} {} {}", k.2, k.0, k.1),
        subtitle: format!("basis: {}; model: {}", k.3, rows[0].model_metric),
        legend,
        legend_group: 1,
        panels: vec![Panel {
            title: None,
            y_desc: rows[0].obs.unit.clone(),
            y_range: y_range(&series),
            series,
        }],
        columns: 1,
        size: SINGLE_FIGURE_SIZE,
        x_range: (first - 0.5, last.max(first + 1.0) + 0.5),
        x_desc: None,
    };
    let stem = crate::format::slug(&format!("{}_{}_{}_{}", k.2, k.0, k.1, k.3));
    write_figure(dir, &stem, &figure)
}
