//! Drawing a [`Figure`] on any plotters backend: the header (title and subtitle fitted to
//! the width), the legend box, the grid of panels with their axes, bands and lines.

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::figure::{Figure, LegendEntry, Panel, BAND_ALPHA, GRID, INK, SUBTLE};
use super::font::{ensure_font, FontError, FONT};
use crate::format::fixed;

/// Why a figure could not be drawn (the caller adds the file).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct DrawError(pub String);

impl From<FontError> for DrawError {
    fn from(e: FontError) -> DrawError {
        DrawError(e.to_string())
    }
}

/// Font sizes, in pixels, of a figure's texts.
struct Fonts {
    title: f64,
    subtitle: f64,
    legend: f64,
    panel_title: f64,
    axis_desc: f64,
    tick: f64,
}

/// Differences between backends that the drawing has to make up for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Backend {
    /// Downward shift, as a share of the font size, that centres text drawn with a
    /// centre anchor. plotters' bitmap text (ab_glyph) sits its baseline near the anchor,
    /// so centred labels float above their tick; SVG viewers centre them themselves.
    pub(crate) centre_nudge: f64,
}

pub(crate) const PNG: Backend = Backend { centre_nudge: 0.22 };
pub(crate) const SVG: Backend = Backend { centre_nudge: 0.0 };

pub(crate) fn text_style(size: f64, color: &'static RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    TextStyle::from((FONT, size).into_font())
        .color(color)
        .pos(Pos::new(h, v))
}

pub(crate) fn text_width<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    size: f64,
) -> Result<u32, DrawError> {
    area.estimate_text_size(text, &text_style(size, &INK, HPos::Left, VPos::Top))
        .map(|(w, _)| w)
        .map_err(|e| DrawError(format!("measuring text: {e}")))
}

/// The largest size not above `size` (and not below `min`) at which `text` fits `width`.
pub(crate) fn fitted_size<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    size: f64,
    min: f64,
    width: u32,
) -> Result<f64, DrawError> {
    let mut size = size;
    while size > min && text_width(area, text, size)? > width {
        size -= 1.0;
    }
    Ok(size.max(min))
}

pub(crate) fn draw_figure<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    figure: &Figure,
    backend: Backend,
) -> Result<(), DrawError> {
    ensure_font()?;
    let drawing = |e: DrawingAreaErrorKind<DB::ErrorType>| DrawError(format!("drawing: {e}"));
    root.fill(&WHITE).map_err(drawing)?;
    let (width, _) = root.dim_in_pixel();
    let grid = figure.panels.len() > 1;
    let fonts = if grid {
        Fonts {
            title: 30.0,
            subtitle: 19.0,
            legend: 20.0,
            panel_title: 22.0,
            axis_desc: 17.0,
            tick: 15.0,
        }
    } else {
        Fonts {
            title: 27.0,
            subtitle: 17.0,
            legend: 18.0,
            panel_title: 20.0,
            axis_desc: 19.0,
            tick: 16.0,
        }
    };
    let centre = i32::try_from(width / 2).unwrap_or(0);
    let usable = width.saturating_sub(40);

    // Title and subtitle, shrunk if need be to fit the width.
    let title_size = fitted_size(root, &figure.title, fonts.title, 12.0, usable)?;
    root.draw(&Text::new(
        figure.title.as_str(),
        (centre, 14),
        text_style(title_size, &INK, HPos::Center, VPos::Top),
    ))
    .map_err(drawing)?;
    let subtitle_size = fitted_size(root, &figure.subtitle, fonts.subtitle, 9.0, usable)?;
    let subtitle_top = 14 + title_size as i32 + 12;
    root.draw(&Text::new(
        figure.subtitle.as_str(),
        (centre, subtitle_top),
        text_style(subtitle_size, &SUBTLE, HPos::Center, VPos::Top),
    ))
    .map_err(drawing)?;
    let header_bottom = subtitle_top + subtitle_size as i32 + 14;

    let legend_bottom = draw_legend(
        root,
        &figure.legend,
        figure.legend_group,
        fonts.legend,
        header_bottom,
        backend,
    )?;
    let (_, body) = root.split_vertically(legend_bottom + 8);
    let body = body.margin(0, 10, 10, 10);

    let columns = figure.columns.max(1);
    let rows = figure.panels.len().div_ceil(columns).max(1);
    let cells = body.split_evenly((rows, columns));
    for (panel, area) in figure.panels.iter().zip(cells.iter()) {
        draw_panel(area, panel, figure, &fonts, grid, backend)?;
    }
    Ok(())
}

/// Draws the legend in a framed box below `top`, centred; returns the box's bottom
/// edge (or `top` when there is nothing to show).
///
/// Entries are taken `group` at a time and stacked in a column (so, say, a patron's
/// "pledged" and "disbursed" sit one above the other); the columns run left to right
/// and wrap onto further rows when the figure is too narrow.
pub(crate) fn draw_legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    entries: &[LegendEntry],
    group: usize,
    font: f64,
    top: i32,
    backend: Backend,
) -> Result<i32, DrawError> {
    if entries.is_empty() {
        return Ok(top);
    }
    let drawing = |e: DrawingAreaErrorKind<DB::ErrorType>| DrawError(format!("drawing the legend: {e}"));
    let (width, _) = root.dim_in_pixel();
    let width = i32::try_from(width).unwrap_or(i32::MAX / 4);
    let group = group.max(1);
    let swatch = 44;
    let gap = 8;
    let spacing = 34;
    let padding = 12;
    let entry_height = (font * 1.6).round() as i32;
    let max_row = (width - 80).max(200);
    let nudge = (font * backend.centre_nudge).round() as i32;
    let style = text_style(font, &INK, HPos::Left, VPos::Center);

    // Columns of `group` entries, with their widths.
    let mut columns: Vec<(&[LegendEntry], i32)> = Vec::new();
    for chunk in entries.chunks(group) {
        let mut w = 0;
        for entry in chunk {
            let text_w = i32::try_from(text_width(root, &entry.label, font)?).unwrap_or(i32::MAX / 4);
            w = w.max(swatch + gap + text_w);
        }
        columns.push((chunk, w));
    }
    // Rows of columns.
    let mut rows: Vec<(Vec<usize>, i32)> = vec![(Vec::new(), 0)];
    for (c, &(_, w)) in columns.iter().enumerate() {
        let last = rows.len() - 1;
        let needed = if rows[last].0.is_empty() {
            w
        } else {
            rows[last].1 + spacing + w
        };
        if needed > max_row && !rows[last].0.is_empty() {
            rows.push((vec![c], w));
        } else {
            rows[last].0.push(c);
            rows[last].1 = needed;
        }
    }
    let row_height = entry_height * group.min(entries.len()) as i32;
    let box_w = rows.iter().map(|(_, w)| *w).max().unwrap_or(0) + 2 * padding;
    let box_h = row_height * rows.len() as i32 + padding;
    let x0 = (width - box_w) / 2;
    let y0 = top;
    root.draw(&Rectangle::new(
        [(x0, y0), (x0 + box_w, y0 + box_h)],
        WHITE.mix(0.85).filled(),
    ))
    .map_err(drawing)?;
    root.draw(&Rectangle::new(
        [(x0, y0), (x0 + box_w, y0 + box_h)],
        ShapeStyle::from(&SUBTLE.mix(0.6)).stroke_width(1),
    ))
    .map_err(drawing)?;

    for (r, (row, row_w)) in rows.iter().enumerate() {
        let mut x = (width - row_w) / 2;
        for &c in row {
            let (chunk, w) = columns[c];
            for (k, entry) in chunk.iter().enumerate() {
                let y = y0 + padding / 2 + row_height * r as i32 + entry_height * k as i32 + entry_height / 2;
                if entry.band {
                    root.draw(&Rectangle::new(
                        [(x, y - 8), (x + swatch, y + 8)],
                        entry.color.mix(BAND_ALPHA).filled(),
                    ))
                    .map_err(drawing)?;
                }
                let line = entry.color.stroke_width(3);
                if entry.dashed {
                    root.draw(&DashedPathElement::new(vec![(x, y), (x + swatch, y)], 9, 6, line))
                        .map_err(drawing)?;
                } else {
                    root.draw(&PathElement::new(vec![(x, y), (x + swatch, y)], line))
                        .map_err(drawing)?;
                }
                root.draw(&Text::new(
                    entry.label.as_str(),
                    (x + swatch + gap, y + nudge),
                    style.clone(),
                ))
                .map_err(drawing)?;
            }
            x += w + spacing;
        }
    }
    Ok(y0 + box_h)
}

/// Years to label on the x axis: whole years, at most `max_ticks` of them (or the ends
/// of the range when it holds no whole year).
fn year_ticks(x_range: (f64, f64), max_ticks: usize) -> Vec<f64> {
    let (lo, hi) = x_range;
    let first = lo.ceil();
    let last = hi.floor();
    if !(first.is_finite() && last.is_finite()) || last < first || last - first > 1e6 {
        return vec![lo, hi];
    }
    let span = (last - first) as i64;
    let step = [1i64, 2, 5, 10, 20, 50, 100, 1000, 10_000, 100_000, 1_000_000]
        .into_iter()
        .find(|step| (span / step + 1) as usize <= max_ticks.max(2))
        .unwrap_or(1_000_000);
    let first = first as i64;
    let start = first + (step - first.rem_euclid(step)) % step;
    (0..)
        .map(|k| start + k * step)
        .take_while(|&year| year as f64 <= last)
        .map(|year| year as f64)
        .collect()
}

/// Round-number ticks over a value range: a step of 1, 2 or 5 times a power of ten
/// giving at most `max_ticks` ticks; returns the ticks and the decimals they need.
pub(crate) fn value_ticks(range: (f64, f64), max_ticks: usize) -> (Vec<f64>, usize) {
    let (lo, hi) = range;
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0 && lo.is_finite() && hi.is_finite()) {
        return (vec![lo], 2);
    }
    let raw = span / (max_ticks.max(2) - 1) as f64;
    let power = raw.log10().floor();
    let mut step = 10f64.powf(power);
    let mut exponent = power as i32;
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * 10f64.powf(power) >= raw * (1.0 - 1e-9) {
            step = m * 10f64.powf(power);
            if m == 10.0 {
                exponent += 1;
            }
            break;
        }
    }
    let decimals = usize::try_from(-exponent).unwrap_or(0).min(12);
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    let ticks = (first..=last)
        .take(max_ticks.max(2) + 2)
        .map(|i| i as f64 * step)
        .collect();
    (ticks, decimals)
}

/// A numeric axis whose ticks (and grid lines) are given.
///
/// plotters' own `with_key_points` wrapper loses the label formatting of f64 axes, so
/// this is the small equivalent that keeps it.
pub(crate) struct TickedAxis {
    inner: RangedCoordf64,
    ticks: Vec<f64>,
}

impl TickedAxis {
    pub(crate) fn new(range: (f64, f64), ticks: Vec<f64>) -> TickedAxis {
        TickedAxis {
            inner: (range.0..range.1).into(),
            ticks,
        }
    }
}

impl Ranged for TickedAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.inner.range()
    }
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
    figure: &Figure,
    fonts: &Fonts,
    grid: bool,
    backend: Backend,
) -> Result<(), DrawError> {
    let drawing = |e: DrawingAreaErrorKind<DB::ErrorType>| DrawError(format!("drawing: {e}"));
    let (y0, y1) = panel.y_range;
    let x_range = figure.x_range;
    // Time axes tick whole years; other axes round values.
    let (x_ticks, x_decimals) = match figure.x_desc {
        None => (year_ticks(x_range, if grid { 7 } else { 13 }), None),
        Some(_) => {
            let (ticks, decimals) = value_ticks(x_range, if grid { 6 } else { 9 });
            (ticks, Some(decimals))
        }
    };
    let (y_ticks, decimals) = value_ticks(panel.y_range, if grid { 6 } else { 9 });

    // Room for the widest tick label, the tick mark and the rotated axis description.
    let mut label_w = 0;
    for &tick in &y_ticks {
        label_w = label_w.max(text_width(area, &fixed(tick, decimals), fonts.tick)?);
    }
    let y_area = label_w + (fonts.axis_desc * 1.2) as u32 + 24;

    let mut builder = ChartBuilder::on(area);
    builder
        .margin_top(6)
        .margin_bottom(6)
        .margin_left(6)
        .margin_right(24)
        .x_label_area_size((fonts.tick + fonts.axis_desc * 1.2 + 22.0) as u32)
        .y_label_area_size(y_area);
    if let Some(title) = &panel.title {
        builder.caption(title, (FONT, fonts.panel_title).into_font().color(&INK));
    }
    let mut chart = builder
        .build_cartesian_2d(
            TickedAxis::new(x_range, x_ticks),
            TickedAxis::new(panel.y_range, y_ticks),
        )
        .map_err(drawing)?;

    let x_format = |x: &f64| {
        if let Some(decimals) = x_decimals {
            fixed(*x, decimals)
        } else if x.fract() == 0.0 {
            format!("{x:.0}")
        } else {
            format!("{x:.2}")
        }
    };
    let y_format = |y: &f64| fixed(*y, decimals);
    chart
        .configure_mesh()
        .x_desc(figure.x_desc.as_deref().unwrap_or("Year"))
        .y_desc(panel.y_desc.as_str())
        .x_label_formatter(&x_format)
        .y_label_formatter(&y_format)
        .y_label_offset((fonts.tick * backend.centre_nudge).round() as i32)
        .label_style((FONT, fonts.tick).into_font().color(&INK))
        .axis_desc_style((FONT, fonts.axis_desc).into_font().color(&INK))
        .bold_line_style(GRID.stroke_width(1))
        .light_line_style(TRANSPARENT)
        .axis_style(SUBTLE.stroke_width(1))
        .draw()
        .map_err(drawing)?;

    // Every band first, so no band covers another series' line.
    for series in panel.series.iter().filter(|s| s.band && s.points.len() > 1) {
        let outline: Vec<(f64, f64)> = series
            .points
            .iter()
            .map(|&(x, _, _, hi)| (x, hi.clamp(y0, y1)))
            .chain(series.points.iter().rev().map(|&(x, _, lo, _)| (x, lo.clamp(y0, y1))))
            .collect();
        chart
            .draw_series(std::iter::once(Polygon::new(
                outline,
                series.color.mix(BAND_ALPHA).filled(),
            )))
            .map_err(drawing)?;
    }
    let line_width = if grid { 2 } else { 3 };
    for series in &panel.series {
        let points: Vec<(f64, f64)> = series.points.iter().map(|&(x, mean, _, _)| (x, mean)).collect();
        let style = series.color.stroke_width(line_width);
        if let [(x, mean, lo, hi)] = series.points[..] {
            // A single step: a dot, and the band as a bar.
            if series.band {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(x, lo.clamp(y0, y1)), (x, hi.clamp(y0, y1))],
                        series.color.mix(0.5).stroke_width(line_width * 3),
                    )))
                    .map_err(drawing)?;
            }
            chart
                .draw_series(std::iter::once(Circle::new((x, mean), line_width * 3, style.filled())))
                .map_err(drawing)?;
        } else if series.dashed {
            chart
                .draw_series(DashedLineSeries::new(points, 10, 7, style))
                .map_err(drawing)?;
        } else {
            chart.draw_series(LineSeries::new(points, style)).map_err(drawing)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn year_ticks_are_whole_years() {
        assert_eq!(
            year_ticks((2024.0, 2035.75), 13),
            (2024..=2035).map(f64::from).collect::<Vec<_>>()
        );
        assert_eq!(
            year_ticks((2024.0, 2035.75), 7),
            [2024.0, 2026.0, 2028.0, 2030.0, 2032.0, 2034.0]
        );
        assert_eq!(year_ticks((2024.25, 2024.75), 7), [2024.25, 2024.75]);
    }

    #[test]
    fn value_ticks_are_round_numbers() {
        let (ticks, decimals) = value_ticks((0.0, 1.0), 6);
        assert_eq!(decimals, 1);
        let labels: Vec<String> = ticks.iter().map(|t| fixed(*t, decimals)).collect();
        assert_eq!(labels, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        let (ticks, decimals) = value_ticks((0.0, 34.3), 9);
        assert_eq!((ticks.len(), decimals), (7, 0));
        assert_eq!(ticks.last().copied(), Some(30.0));
        let (ticks, decimals) = value_ticks((0.0, 0.0), 9);
        assert_eq!((ticks, decimals), (vec![0.0], 2));
    }
}
