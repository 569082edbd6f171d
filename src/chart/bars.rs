//! Horizontal bar charts with intervals (the sensitivity indices), in the style of the
//! other figures: same header, legend, font and palette; with `overlay`, tornado charts
//! (a row's bars to either side of a line at zero: the levers screen's effects down and
//! up).

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::draw::{
    draw_legend, fitted_size, text_style, text_width, value_ticks, Backend, DrawError, TickedAxis, PNG, SVG,
};
use super::figure::{palette, sane_range, ChartError, LegendEntry, GRID, INK, SUBTLE};
use super::font::{ensure_font, FONT};
use crate::format::fixed;

/// One bar with an optional interval.
pub struct Bar {
    pub value: f64,
    pub interval: Option<(f64, f64)>,
}

/// A panel of horizontal bars: for each parameter (top to bottom), one bar per measure.
pub struct BarPanel {
    pub title: String,
    pub x_desc: String,
    /// Measure names and colour indices, in bar order.
    pub measures: Vec<(String, usize)>,
    /// `(parameter label, bars per measure)`, top first.
    pub rows: Vec<(String, Vec<Bar>)>,
    /// Draw a row's bars over one another in one band, with a line at zero (a tornado
    /// chart: one bar to each side), instead of one under the other.
    pub overlay: bool,
}

pub struct BarFigure {
    pub title: String,
    pub subtitle: String,
    pub panels: Vec<BarPanel>,
}

/// Writes a bar figure as PNG and SVG.
pub fn write_bars(dir: &Path, stem: &str, figure: &BarFigure) -> Result<Vec<PathBuf>, ChartError> {
    let rows = figure.panels.iter().map(|p| p.rows.len()).max().unwrap_or(1) as u32;
    let size = (1600, (260 + rows * 70).max(600));
    let png = dir.join(format!("{stem}.png"));
    let svg = dir.join(format!("{stem}.svg"));
    let fail = |path: &Path| {
        let path = path.to_path_buf();
        move |message: String| ChartError { path, message }
    };
    {
        let root = BitMapBackend::new(&png, size).into_drawing_area();
        draw_bars(&root, figure, PNG).map_err(|e| fail(&png)(e.to_string()))?;
        root.present()
            .map_err(|e| fail(&png)(format!("saving the image: {e}")))?;
    }
    {
        let root = SVGBackend::new(&svg, size).into_drawing_area();
        draw_bars(&root, figure, SVG).map_err(|e| fail(&svg)(e.to_string()))?;
        root.present()
            .map_err(|e| fail(&svg)(format!("saving the image: {e}")))?;
    }
    Ok(vec![png, svg])
}

fn draw_bars<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    figure: &BarFigure,
    backend: Backend,
) -> Result<(), DrawError> {
    ensure_font()?;
    let drawing = |e: DrawingAreaErrorKind<DB::ErrorType>| DrawError(format!("drawing: {e}"));
    root.fill(&WHITE).map_err(drawing)?;
    let (width, _) = root.dim_in_pixel();
    let centre = i32::try_from(width / 2).unwrap_or(0);
    let usable = width.saturating_sub(40);
    let title_size = fitted_size(root, &figure.title, 28.0, 12.0, usable)?;
    root.draw(&Text::new(
        figure.title.as_str(),
        (centre, 14),
        text_style(title_size, &INK, HPos::Center, VPos::Top),
    ))
    .map_err(drawing)?;
    let subtitle_size = fitted_size(root, &figure.subtitle, 17.0, 9.0, usable)?;
    let subtitle_top = 14 + title_size as i32 + 12;
    root.draw(&Text::new(
        figure.subtitle.as_str(),
        (centre, subtitle_top),
        text_style(subtitle_size, &SUBTLE, HPos::Center, VPos::Top),
    ))
    .map_err(drawing)?;
    let mut legend: Vec<LegendEntry> = Vec::new();
    for panel in &figure.panels {
        for (name, color) in &panel.measures {
            if !legend.iter().any(|e| &e.label == name) {
                legend.push(LegendEntry {
                    label: name.clone(),
                    color: palette(*color),
                    dashed: false,
                    band: true,
                });
            }
        }
    }
    let header = subtitle_top + subtitle_size as i32 + 14;
    let legend_bottom = draw_legend(root, &legend, 1, 18.0, header, backend)?;
    let (_, body) = root.split_vertically(legend_bottom + 8);
    let body = body.margin(0, 10, 10, 10);
    let cells = body.split_evenly((1, figure.panels.len().max(1)));
    for (panel, area) in figure.panels.iter().zip(cells.iter()) {
        draw_bar_panel(area, panel, backend)?;
    }
    Ok(())
}

fn draw_bar_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &BarPanel,
    backend: Backend,
) -> Result<(), DrawError> {
    let drawing = |e: DrawingAreaErrorKind<DB::ErrorType>| DrawError(format!("drawing: {e}"));
    let tick = 15.0;
    let n = panel.rows.len().max(1);
    let mut hi = 0.0f64;
    let mut lo = 0.0f64;
    for (_, bars) in &panel.rows {
        for bar in bars {
            for v in [Some(bar.value), bar.interval.map(|i| i.0), bar.interval.map(|i| i.1)]
                .into_iter()
                .flatten()
                .filter(|v| v.is_finite())
            {
                hi = hi.max(v);
                lo = lo.min(v);
            }
        }
    }
    let x_range = sane_range((
        if lo < 0.0 { lo * 1.05 } else { 0.0 },
        if hi > 0.0 { hi * 1.05 } else { 1.0 },
    ));
    let (x_ticks, decimals) = value_ticks(x_range, 6);
    let mut label_w = 0;
    for (label, _) in &panel.rows {
        label_w = label_w.max(text_width(area, label, tick)?);
    }
    let y_range = (-0.5, n as f64 - 0.5);
    let y_ticks: Vec<f64> = (0..panel.rows.len()).map(|i| i as f64).collect();
    let mut chart = ChartBuilder::on(area)
        .margin(8)
        .margin_right(24)
        .caption(&panel.title, (FONT, 20.0).into_font().color(&INK))
        .x_label_area_size(52)
        .y_label_area_size(label_w + 18)
        .build_cartesian_2d(TickedAxis::new(x_range, x_ticks), TickedAxis::new(y_range, y_ticks))
        .map_err(drawing)?;
    // Row i (0 = top) sits at y = n - 1 - i.
    let labels: Vec<&str> = panel.rows.iter().map(|(l, _)| l.as_str()).collect();
    let y_format = |y: &f64| {
        let i = (n as f64 - 1.0 - y).round();
        if i >= 0.0 && (i as usize) < labels.len() {
            labels[i as usize].to_string()
        } else {
            String::new()
        }
    };
    let x_format = |x: &f64| fixed(*x, decimals);
    chart
        .configure_mesh()
        .x_desc(panel.x_desc.as_str())
        .x_label_formatter(&x_format)
        .y_label_formatter(&y_format)
        .y_label_offset((tick * backend.centre_nudge).round() as i32)
        .label_style((FONT, tick).into_font().color(&INK))
        .axis_desc_style((FONT, 17.0).into_font().color(&INK))
        .bold_line_style(GRID.stroke_width(1))
        .light_line_style(TRANSPARENT)
        .axis_style(SUBTLE.stroke_width(1))
        .disable_y_mesh()
        .draw()
        .map_err(drawing)?;

    if panel.overlay {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, y_range.0), (0.0, y_range.1)],
                INK.stroke_width(1),
            )))
            .map_err(drawing)?;
    }
    let m = panel.measures.len().max(1) as f64;
    let band = 0.7 / m;
    for (i, (_, bars)) in panel.rows.iter().enumerate() {
        let centre = n as f64 - 1.0 - i as f64;
        // In a tornado, bars to opposite sides share the band; bars to one side (or a
        // single bar) take a slice each, so none hides another.
        let finite: Vec<f64> = bars.iter().map(|b| b.value).filter(|v| v.is_finite()).collect();
        let opposite = finite.iter().any(|&v| v < 0.0) && finite.iter().any(|&v| v > 0.0);
        for (j, bar) in bars.iter().enumerate() {
            let color = palette(panel.measures.get(j).map_or(j, |(_, c)| *c));
            let (top, bottom, mid) = if panel.overlay && opposite {
                // Whiskers a little apart, so both stay readable.
                let offset = (j as f64 - (m - 1.0) / 2.0) * 0.3 / m;
                (centre + 0.35, centre - 0.35, centre - offset)
            } else {
                let top = centre + 0.35 - j as f64 * band;
                let bottom = top - band * 0.9;
                (top, bottom, (top + bottom) / 2.0)
            };
            if bar.value.is_finite() {
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(0.0, bottom), (bar.value, top)],
                        color.mix(0.75).filled(),
                    )))
                    .map_err(drawing)?;
            }
            if let Some((a, b)) = bar.interval.filter(|(a, b)| a.is_finite() && b.is_finite()) {
                let cap = band * 0.3;
                let ink = INK.stroke_width(2);
                chart
                    .draw_series([
                        PathElement::new(vec![(a, mid), (b, mid)], ink),
                        PathElement::new(vec![(a, mid - cap), (a, mid + cap)], ink),
                        PathElement::new(vec![(b, mid - cap), (b, mid + cap)], ink),
                    ])
                    .map_err(drawing)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_figures_render_in_both_formats() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let figure = BarFigure {
            title: "Sensitivity of something".into(),
            subtitle: "a subtitle".into(),
            panels: vec![BarPanel {
                title: "Sobol".into(),
                x_desc: "index".into(),
                measures: vec![("S1".into(), 0), ("ST".into(), 1)],
                rows: vec![
                    (
                        "model.alignment_inertia".into(),
                        vec![
                            Bar {
                                value: 0.4,
                                interval: Some((0.3, 0.5)),
                            },
                            Bar {
                                value: 0.6,
                                interval: None,
                            },
                        ],
                    ),
                    (
                        "b".into(),
                        vec![
                            Bar {
                                value: -0.01,
                                interval: Some((-0.05, 0.02)),
                            },
                            Bar {
                                value: f64::NAN,
                                interval: None,
                            },
                        ],
                    ),
                ],
                overlay: false,
            }],
        };
        let written = write_bars(dir.path(), "bars", &figure).expect("drawn");
        assert_eq!(written.len(), 2);
        let svg = std::fs::read_to_string(&written[1]).unwrap();
        assert!(svg.contains("model.alignment_inertia") && svg.contains("Sobol"));
    }

    /// `(y, height)` of each bar (the rectangles drawn at the bars' opacity), in drawing
    /// order: row by row, measures in order.
    fn bar_rectangles(svg: &str) -> Vec<(i64, i64)> {
        let attribute = |rect: &str, name: &str| -> i64 {
            let start = rect.find(&format!(" {name}=\"")).expect("attribute") + name.len() + 3;
            let end = start + rect[start..].find('"').expect("closing quote");
            rect[start..end].parse().expect("a whole number")
        };
        svg.split("<rect")
            .skip(1)
            .filter(|rect| rect.contains("opacity=\"0.75\""))
            .map(|rect| (attribute(rect, "y"), attribute(rect, "height")))
            .collect()
    }

    #[test]
    fn tornado_panels_put_opposite_bars_in_one_band() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let figure = |overlay: bool| BarFigure {
            title: "What moves something".into(),
            subtitle: "a subtitle".into(),
            panels: vec![BarPanel {
                title: "One key at a time".into(),
                x_desc: "change".into(),
                measures: vec![("down".into(), 0), ("up".into(), 1)],
                rows: vec![
                    (
                        "opposite".into(),
                        vec![
                            Bar {
                                value: -0.5,
                                interval: Some((-0.6, -0.4)),
                            },
                            Bar {
                                value: 0.7,
                                interval: Some((0.6, 0.8)),
                            },
                        ],
                    ),
                    (
                        "same side".into(),
                        vec![
                            Bar {
                                value: 0.2,
                                interval: None,
                            },
                            Bar {
                                value: 0.4,
                                interval: None,
                            },
                        ],
                    ),
                ],
                overlay,
            }],
        };
        let bars = |overlay: bool| {
            let written = write_bars(dir.path(), &format!("tornado_{overlay}"), &figure(overlay)).expect("drawn");
            bar_rectangles(&std::fs::read_to_string(&written[1]).expect("the SVG"))
        };
        let tornado = bars(true);
        assert_eq!(tornado.len(), 4, "{tornado:?}");
        // Opposite bars share the row's band; bars to one side stay one under the other.
        assert_eq!(tornado[0], tornado[1], "{tornado:?}");
        assert!(tornado[2].0 < tornado[3].0, "{tornado:?}");
        assert!(tornado[0].1 > tornado[2].1, "{tornado:?}");
        let plain = bars(false);
        assert!(
            plain[0].0 < plain[1].0 && (plain[0].1 - plain[2].1).abs() <= 1,
            "{plain:?}"
        );
    }
}
