//! The chart toolkit: figures described as plain data, drawn as PNG and SVG.
//!
//! A figure ([`Figure`]: title and subtitle (the header), legend, panels of series with
//! their bands) is first described as data and then drawn by one function that is
//! generic over the plotters backend ([`draw`]), so the PNG and the SVG of a chart come
//! from the same code and the same description. [`panel_figure`] builds the common case,
//! panels of labelled lines with bands sharing one legend; [`bars`] draws horizontal bar
//! charts with intervals.
//!
//! Text uses the bundled DejaVu Sans ([`font`]), so charts do not depend on the fonts
//! installed. Nothing here knows a scenario, a metric or a command: the run's figures
//! ([`crate::output::figures`]) and the analyses' figures describe what to draw with
//! these types.

mod bars;
mod draw;
mod font;
pub mod interactive;

use std::path::{Path, PathBuf};

use plotters::prelude::*;

pub use bars::{write_bars, Bar, BarFigure, BarPanel};
pub use font::FontError;

use draw::{draw_figure, PNG, SVG};

#[derive(Debug, thiserror::Error)]
#[error("drawing chart {path}: {message}")]
pub struct ChartError {
    pub path: PathBuf,
    pub message: String,
}

/// Okabe–Ito colour-blind-friendly palette, most distinct first (yellow last: it is
/// faint on white). Black is kept apart for "all hosts" lines.
const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(240, 228, 66),  // yellow
];
pub const INK: RGBColor = RGBColor(20, 20, 20);
pub const SUBTLE: RGBColor = RGBColor(85, 85, 85);
pub const GRID: RGBColor = RGBColor(225, 225, 225);

pub fn palette(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// Opacity of the 5th–95th percentile bands.
pub const BAND_ALPHA: f64 = 0.2;

/// Pixel sizes of a figure.
pub const PANEL_FIGURE_SIZE: (u32, u32) = (1600, 1000);
pub const SINGLE_FIGURE_SIZE: (u32, u32) = (1200, 750);
/// Height a row of panels needs at least, so a figure with many hosts grows downwards.
pub const MIN_PANEL_ROW_HEIGHT: u32 = 400;
/// Panels per row in a grid.
pub const GRID_COLUMNS: usize = 3;

/// One line (and its band) on a chart.
pub struct Series {
    pub color: RGBColor,
    pub dashed: bool,
    /// Whether to shade the 5th–95th percentile band.
    pub band: bool,
    /// (decimal year, mean, p05, p95)
    pub points: Vec<(f64, f64, f64, f64)>,
}

/// One legend entry.
pub struct LegendEntry {
    pub label: String,
    pub color: RGBColor,
    pub dashed: bool,
    pub band: bool,
}

/// One set of axes.
pub struct Panel {
    pub title: Option<String>,
    pub y_desc: String,
    pub y_range: (f64, f64),
    pub series: Vec<Series>,
}

/// A whole chart file.
pub struct Figure {
    pub title: String,
    pub subtitle: String,
    pub legend: Vec<LegendEntry>,
    /// Legend entries stacked per column (1: one row of entries).
    pub legend_group: usize,
    pub panels: Vec<Panel>,
    pub columns: usize,
    pub size: (u32, u32),
    pub x_range: (f64, f64),
    /// Description of the x axis when it is not time: `None` draws years.
    pub x_desc: Option<String>,
}

/// Writes a figure as `dir/stem.png` and `dir/stem.svg`; returns both paths.
pub fn write_figure(dir: &Path, stem: &str, figure: &Figure) -> Result<Vec<PathBuf>, ChartError> {
    let png = dir.join(format!("{stem}.png"));
    let svg = dir.join(format!("{stem}.svg"));
    render_png(&png, figure)?;
    render_svg(&svg, figure)?;
    Ok(vec![png, svg])
}

pub fn render_png(path: &Path, figure: &Figure) -> Result<(), ChartError> {
    let fail = |message: String| ChartError {
        path: path.to_path_buf(),
        message,
    };
    let root = BitMapBackend::new(path, figure.size).into_drawing_area();
    draw_figure(&root, figure, PNG).map_err(|e| fail(e.to_string()))?;
    root.present().map_err(|e| fail(format!("saving the image: {e}")))
}

pub fn render_svg(path: &Path, figure: &Figure) -> Result<(), ChartError> {
    let fail = |message: String| ChartError {
        path: path.to_path_buf(),
        message,
    };
    let root = SVGBackend::new(path, figure.size).into_drawing_area();
    draw_figure(&root, figure, SVG).map_err(|e| fail(e.to_string()))?;
    root.present().map_err(|e| fail(format!("saving the image: {e}")))
}

/// y range from 0 (or the lowest value, if negative) to 5% above the highest.
pub fn y_range(series: &[Series]) -> (f64, f64) {
    let mut lo = 0.0f64;
    let mut hi = 0.0f64;
    for s in series {
        for &(_, mean, p05, p95) in &s.points {
            for v in [mean, p05, p95] {
                if v.is_finite() {
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
            }
        }
    }
    let hi = if hi > 0.0 { hi * 1.05 } else { 0.0 };
    let lo = if lo < 0.0 { lo * 1.05 } else { 0.0 };
    if !(lo.is_finite() && hi.is_finite()) {
        (0.0, 1.0)
    } else if hi - lo > f64::EPSILON && (hi - lo).is_finite() {
        (lo, hi)
    } else {
        (lo, lo + 1.0)
    }
}

/// A usable axis range: widened when empty or a single value.
pub fn sane_range((lo, hi): (f64, f64)) -> (f64, f64) {
    if !(lo.is_finite() && hi.is_finite()) {
        (0.0, 1.0)
    } else if hi > lo {
        (lo, hi)
    } else {
        let pad = if lo == 0.0 { 0.5 } else { lo.abs() * 0.1 };
        (lo - pad, lo + pad)
    }
}

/// One line of a panel figure: label, colour and (x, mean, p05, p95) points.
pub struct Line {
    pub label: String,
    pub color_index: usize,
    pub points: Vec<(f64, f64, f64, f64)>,
}

/// One panel of a panel figure: its lines with bands, the y range fitted to them.
pub struct PanelSpec {
    pub title: Option<String>,
    pub y_desc: String,
    pub lines: Vec<Line>,
}

/// A figure of panels that share a legend (the lines' labels, taken from the first panel
/// that has each one): one panel alone, or a grid.
pub fn panel_figure(
    title: String,
    subtitle: String,
    panels: Vec<PanelSpec>,
    x_desc: Option<String>,
    x_range: (f64, f64),
) -> Figure {
    let mut legend: Vec<LegendEntry> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let panels: Vec<Panel> = panels
        .into_iter()
        .map(|spec| {
            let series: Vec<Series> = spec
                .lines
                .iter()
                .map(|line| {
                    if !seen.contains(&line.label) {
                        seen.push(line.label.clone());
                        legend.push(LegendEntry {
                            label: line.label.clone(),
                            color: palette(line.color_index),
                            dashed: false,
                            band: true,
                        });
                    }
                    Series {
                        color: palette(line.color_index),
                        dashed: false,
                        band: true,
                        points: line.points.clone(),
                    }
                })
                .collect();
            Panel {
                title: spec.title,
                y_desc: spec.y_desc,
                y_range: y_range(&series),
                series,
            }
        })
        .collect();
    let n = panels.len().max(1);
    let (columns, size) = if n == 1 {
        (1, SINGLE_FIGURE_SIZE)
    } else {
        let columns = GRID_COLUMNS.min(n);
        let rows = n.div_ceil(columns) as u32;
        (
            columns,
            (
                PANEL_FIGURE_SIZE.0,
                PANEL_FIGURE_SIZE.1.max(190 + rows * MIN_PANEL_ROW_HEIGHT),
            ),
        )
    };
    Figure {
        title,
        subtitle,
        legend,
        legend_group: 1,
        panels,
        columns,
        size,
        x_range: sane_range(x_range),
        x_desc,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn y_range_is_sensible() {
        let flat = |v: f64| Series {
            color: palette(0),
            dashed: false,
            band: true,
            points: vec![(2024.0, v, v, v), (2024.25, v, v, v)],
        };
        assert_eq!(y_range(&[flat(0.0)]), (0.0, 1.0));
        assert_eq!(y_range(&[]), (0.0, 1.0));
        let (lo, hi) = y_range(&[flat(2.0)]);
        assert_eq!(lo, 0.0);
        assert!((hi - 2.1).abs() < 1e-12);
        assert_eq!(y_range(&[flat(f64::MAX)]), (0.0, 1.0));
    }

    #[test]
    fn sane_ranges_are_never_empty() {
        assert_eq!(sane_range((1.0, 2.0)), (1.0, 2.0));
        assert_eq!(sane_range((0.0, 0.0)), (-0.5, 0.5));
        assert_eq!(sane_range((f64::NAN, 1.0)), (0.0, 1.0));
    }

    #[test]
    fn a_missing_folder_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let figure = panel_figure(
            "title".into(),
            "subtitle".into(),
            vec![PanelSpec {
                title: None,
                y_desc: "y".into(),
                lines: vec![Line {
                    label: "a".into(),
                    color_index: 0,
                    points: vec![(2024.0, 1.0, 0.5, 1.5), (2025.0, 2.0, 1.5, 2.5)],
                }],
            }],
            None,
            (2024.0, 2025.0),
        );
        let written = write_figure(dir.path(), "ok", &figure).expect("drawn");
        assert_eq!(written.len(), 2);
        let missing = dir.path().join("nope");
        let err = write_figure(&missing, "x", &figure).expect_err("no folder");
        assert!(err.path.starts_with(&missing));
    }
}
