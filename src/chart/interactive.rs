//! Interactive charts in a report: the same [`Figure`] a PNG and an SVG are drawn from,
//! written into an HTML page as data and drawn in the browser by uPlot (vendored in
//! `assets/uplot/` with its MIT licence, compiled into the binary): hover for the value
//! and band at a date, click a legend entry to hide a series, drag to zoom the time axis.
//! The page needs no network: the library, its stylesheet and the data are inline.

use std::fmt::Write as _;

use plotters::style::RGBColor;
use serde_json::{json, Value};

use super::{Figure, Panel};

/// uPlot's minified script, stylesheet and licence (npm package `uplot`).
pub const UPLOT_VERSION: &str = "1.6.32";
const UPLOT_JS: &str = include_str!("../../assets/uplot/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("../../assets/uplot/uPlot.min.css");
const UPLOT_LICENSE: &str = include_str!("../../assets/uplot/LICENSE");
/// Our code that turns the figures' data into uPlot charts.
const DRAW_JS: &str = include_str!("interactive.js");

const STYLE: &str = "
.gg-figure { margin: 1.2em 0 2.2em 0; }
.gg-figure h3 { margin-bottom: 0.1em; }
.gg-figure p.gg-sub { color: #555; margin: 0 0 0.5em 0; font-size: 0.9em; }
.gg-panels { display: flex; flex-wrap: wrap; gap: 8px 16px; }
.gg-panel-title { font-weight: bold; font-size: 0.9em; margin: 0.3em 0 0 0.4em; }
.gg-files { font-size: 0.85em; color: #555; }
.uplot .u-legend { font-size: 0.8em; text-align: left; }
.uplot .u-legend .u-series > * { padding: 1px 3px; }
";

/// What goes in the page's `<head>`: the stylesheets, uPlot with its licence, and the code
/// that draws every `.gg-figure` once the page has loaded.
pub fn head() -> String {
    let license = UPLOT_LICENSE.replace("*/", "* /");
    format!(
        "<style>{UPLOT_CSS}\n{STYLE}</style>\n<script>/*! uPlot {UPLOT_VERSION} (https://github.com/leeoniya/uPlot)\n{license}*/\n{UPLOT_JS}</script>\n<script>{DRAW_JS}</script>\n"
    )
}

/// One figure as a block of the page: its title and subtitle, the data, and a place for
/// the charts. `id` must be unique in the page; `files` are links shown under it (the
/// PNG and SVG of the same figure).
pub fn figure_html(figure: &Figure, id: &str, files: &[String]) -> String {
    let mut html = String::new();
    let _ = write!(
        html,
        "<div class=\"gg-figure\" id=\"{}\">\n<h3>{}</h3>\n<p class=\"gg-sub\">{}</p>\n<div class=\"gg-panels\"></div>\n",
        escape(id),
        escape(&figure.title),
        escape(&figure.subtitle)
    );
    if !files.is_empty() {
        let links: Vec<String> = files
            .iter()
            .map(|f| format!("<a href=\"{0}\">{0}</a>", escape(f)))
            .collect();
        let _ = writeln!(html, "<p class=\"gg-files\">Also as {}.</p>", links.join(", "));
    }
    // `</` cannot end the script early: JSON escapes it as `<\/`.
    let data = serde_json::to_string(&figure_json(figure)).unwrap_or_else(|_| "{}".to_string());
    let _ = write!(
        html,
        "<script type=\"application/json\">{}</script>\n</div>\n",
        data.replace("</", "<\\/")
    );
    html
}

/// The figure as the drawing code reads it: per panel, the x values every series shares
/// (a step a series lacks is null) and each series' mean, 5th and 95th percentile.
pub fn figure_json(figure: &Figure) -> Value {
    json!({
        "title": figure.title,
        "x_desc": figure.x_desc,
        "columns": figure.columns,
        "panels": figure.panels.iter().map(|p| panel_json(figure, p)).collect::<Vec<_>>(),
    })
}

fn panel_json(figure: &Figure, panel: &Panel) -> Value {
    let mut xs: Vec<f64> = panel
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .filter(|x| x.is_finite())
        .collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let series: Vec<Value> = panel
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let at = |pick: fn(&(f64, f64, f64, f64)) -> f64| -> Vec<Value> {
                xs.iter()
                    .map(|x| {
                        s.points
                            .iter()
                            .find(|p| p.0 == *x)
                            .map(pick)
                            .filter(|v| v.is_finite())
                            .map_or(Value::Null, |v| json!(v))
                    })
                    .collect()
            };
            json!({
                "label": label(figure, i, s.color, s.dashed),
                "color": hex(s.color),
                "dashed": s.dashed,
                "band": s.band,
                "mean": at(|p| p.1),
                "lo": if s.band { json!(at(|p| p.2)) } else { Value::Null },
                "hi": if s.band { json!(at(|p| p.3)) } else { Value::Null },
            })
        })
        .collect();
    json!({
        "title": panel.title,
        "y_desc": panel.y_desc,
        "y_range": [panel.y_range.0, panel.y_range.1],
        "x": xs,
        "series": series,
    })
}

/// A series' name: the legend entry that looks like it (colour and dash), as a reader of
/// the PNG matches them; else the entry at its position; else its number.
fn label(figure: &Figure, index: usize, color: RGBColor, dashed: bool) -> String {
    figure
        .legend
        .iter()
        .find(|e| e.color == color && e.dashed == dashed)
        .or_else(|| figure.legend.get(index))
        .map_or_else(|| format!("series {}", index + 1), |e| e.label.clone())
}

fn hex(color: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", color.0, color.1, color.2)
}

/// Text for HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::{panel_figure, Line, PanelSpec};

    fn figure() -> Figure {
        panel_figure(
            "Title </script>".into(),
            "Sub".into(),
            vec![PanelSpec {
                title: Some("P".into()),
                y_desc: "y".into(),
                lines: vec![
                    Line {
                        label: "a".into(),
                        color_index: 0,
                        points: vec![(2024.0, 1.0, 0.5, 1.5), (2024.25, 2.0, 1.5, 2.5)],
                    },
                    Line {
                        label: "b".into(),
                        color_index: 1,
                        points: vec![(2024.25, 3.0, 2.0, 4.0)],
                    },
                ],
            }],
            None,
            (2024.0, 2024.25),
        )
    }

    #[test]
    fn series_share_the_x_values_and_keep_their_names_and_bands() {
        let json = figure_json(&figure());
        let panel = &json["panels"][0];
        assert_eq!(panel["x"], json!([2024.0, 2024.25]));
        assert_eq!(panel["series"][0]["label"], json!("a"));
        assert_eq!(panel["series"][0]["lo"], json!([0.5, 1.5]));
        assert_eq!(panel["series"][1]["label"], json!("b"));
        assert_eq!(panel["series"][1]["mean"], json!([null, 3.0]));
    }

    #[test]
    fn the_page_block_cannot_close_its_script_early() {
        let html = figure_html(&figure(), "f1", &["charts/x.png".to_string()]);
        assert!(html.contains("Title &lt;/script&gt;"));
        assert_eq!(html.matches("</script>").count(), 1, "{html}");
        assert!(html.contains("<a href=\"charts/x.png\">"));
        assert!(head().contains("Leon Sorokin"), "the licence travels with the library");
    }
}
