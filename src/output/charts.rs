//! Charts (PNG and SVG) drawn from an ensemble's statistics.
//!
//! Every chart shows, over time, the mean across replicates of one or more series with a
//! translucent band from the 5th to the 95th percentile. A figure is first described as
//! plain data ([`Figure`]: title, legend, panels, series) and then drawn by one function
//! that is generic over the plotters backend, so the PNG and the SVG of a chart are drawn
//! by the same code from the same description.
//!
//! Text is drawn with the bundled DejaVu Sans, registered once as the `sans-serif`
//! family, so the charts do not depend on the fonts installed on the machine. Nothing
//! here is tied to particular actors: colours follow the patron's (or host's) position in
//! the scenario and cycle through the palette, and the panel grid grows with the hosts.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{register_font, FontStyle};

use crate::ensemble::EnsembleSummary;
use crate::metrics::MetricLayout;
use crate::model::Scenario;

#[derive(Debug, thiserror::Error)]
#[error("drawing chart {path}: {message}")]
pub struct ChartError {
    pub path: PathBuf,
    pub message: String,
}

/// The font family every text on the charts uses.
pub(crate) const FONT: &str = "sans-serif";
/// DejaVu Sans, shipped with the crate (see `assets/fonts/DejaVuSans-LICENSE.txt`).
static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static FONT_REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();

/// Registers the bundled font as `sans-serif` (once per process).
pub(crate) fn ensure_font() -> Result<(), String> {
    FONT_REGISTERED
        .get_or_init(|| {
            register_font(FONT, FontStyle::Normal, FONT_BYTES)
                .map_err(|_| "the bundled font assets/fonts/DejaVuSans.ttf could not be read".to_string())
        })
        .clone()
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
pub(crate) const INK: RGBColor = RGBColor(20, 20, 20);
pub(crate) const SUBTLE: RGBColor = RGBColor(85, 85, 85);
pub(crate) const GRID: RGBColor = RGBColor(225, 225, 225);

pub(crate) fn palette(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// Opacity of the 5th–95th percentile bands.
pub(crate) const BAND_ALPHA: f64 = 0.2;

/// Pixel sizes of a figure.
pub(crate) const PANEL_FIGURE_SIZE: (u32, u32) = (1600, 1000);
pub(crate) const SINGLE_FIGURE_SIZE: (u32, u32) = (1200, 750);
/// Height a row of panels needs at least, so a figure with many hosts grows downwards.
pub(crate) const MIN_PANEL_ROW_HEIGHT: u32 = 400;
/// Panels per row in a grid.
pub(crate) const GRID_COLUMNS: usize = 3;

/// One line (and its band) on a chart.
pub(crate) struct Series {
    pub(crate) color: RGBColor,
    pub(crate) dashed: bool,
    /// Whether to shade the 5th–95th percentile band.
    pub(crate) band: bool,
    /// (decimal year, mean, p05, p95)
    pub(crate) points: Vec<(f64, f64, f64, f64)>,
}

/// One legend entry.
pub(crate) struct LegendEntry {
    pub(crate) label: String,
    pub(crate) color: RGBColor,
    pub(crate) dashed: bool,
    pub(crate) band: bool,
}

/// One set of axes.
pub(crate) struct Panel {
    pub(crate) title: Option<String>,
    pub(crate) y_desc: String,
    pub(crate) y_range: (f64, f64),
    pub(crate) series: Vec<Series>,
}

/// A whole chart file.
pub(crate) struct Figure {
    pub(crate) title: String,
    pub(crate) subtitle: String,
    pub(crate) legend: Vec<LegendEntry>,
    /// Legend entries stacked per column (1: one row of entries).
    pub(crate) legend_group: usize,
    pub(crate) panels: Vec<Panel>,
    pub(crate) columns: usize,
    pub(crate) size: (u32, u32),
    pub(crate) x_range: (f64, f64),
    /// Description of the x axis when it is not time: `None` draws years.
    pub(crate) x_desc: Option<String>,
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

/// Draws every chart of a run into `dir`; returns the files written.
///
/// For each chart, in the order alignment, trade_shares, hedging_index, investment, the
/// PNG and then the SVG.
pub fn write_charts(scenario: &Scenario, summary: &EnsembleSummary, dir: &Path) -> Result<Vec<PathBuf>, ChartError> {
    ensure_font().map_err(|message| ChartError {
        path: dir.to_path_buf(),
        message,
    })?;
    let data = Data::new(scenario, summary).map_err(|message| ChartError {
        path: dir.to_path_buf(),
        message,
    })?;

    type Build = Box<dyn Fn(&Data) -> Result<Figure, String>>;
    let mut charts: Vec<(String, Build)> = vec![
        ("alignment".to_string(), Box::new(alignment_figure)),
        ("trade_shares".to_string(), Box::new(trade_share_figure)),
        ("hedging_index".to_string(), Box::new(hedging_figure)),
        ("investment".to_string(), Box::new(investment_figure)),
    ];
    if !scenario.commodities.is_empty() {
        charts.push(("minerals".to_string(), Box::new(minerals_figure)));
    }
    if !scenario.routes.is_empty() {
        charts.push(("routes".to_string(), Box::new(routes_figure)));
    }
    for (h, host) in scenario.hosts.iter().enumerate() {
        charts.push((
            format!("decisions_{}", host.id),
            Box::new(move |data: &Data| decisions_figure(data, h)),
        ));
    }
    let mut written = Vec::with_capacity(charts.len() * 2);
    for (stem, build) in charts {
        let png = dir.join(format!("{stem}.png"));
        let svg = dir.join(format!("{stem}.svg"));
        let figure = build(&data).map_err(|message| ChartError {
            path: png.clone(),
            message,
        })?;
        render_png(&png, &figure)?;
        written.push(png);
        render_svg(&svg, &figure)?;
        written.push(svg);
    }
    Ok(written)
}

pub(crate) fn render_png(path: &Path, figure: &Figure) -> Result<(), ChartError> {
    let fail = |message: String| ChartError {
        path: path.to_path_buf(),
        message,
    };
    let root = BitMapBackend::new(path, figure.size).into_drawing_area();
    draw_figure(&root, figure, PNG).map_err(fail)?;
    root.present().map_err(|e| fail(format!("saving the image: {e}")))
}

pub(crate) fn render_svg(path: &Path, figure: &Figure) -> Result<(), ChartError> {
    let fail = |message: String| ChartError {
        path: path.to_path_buf(),
        message,
    };
    let root = SVGBackend::new(path, figure.size).into_drawing_area();
    draw_figure(&root, figure, SVG).map_err(fail)?;
    root.present().map_err(|e| fail(format!("saving the image: {e}")))
}

// ---------------------------------------------------------------------------------------
// What to draw
// ---------------------------------------------------------------------------------------

/// The summary with the scenario's names and dates, checked to fit together.
struct Data<'a> {
    scenario: &'a Scenario,
    summary: &'a EnsembleSummary,
    /// Decimal year of each step.
    years: Vec<f64>,
    n_hosts: usize,
    n_patrons: usize,
}

impl<'a> Data<'a> {
    fn new(scenario: &'a Scenario, summary: &'a EnsembleSummary) -> Result<Data<'a>, String> {
        let layout = &summary.layout;
        let n_hosts = scenario.n_hosts();
        let n_patrons = scenario.n_patrons();
        if layout.n_rows() != n_hosts + 1 || layout.partner_labels.len() != n_patrons {
            return Err(format!(
                "the statistics have {} host rows and {} partners, but the scenario has {} hosts and {} patrons",
                layout.n_rows(),
                layout.partner_labels.len(),
                n_hosts,
                n_patrons
            ));
        }
        let needed = summary.n_steps.checked_mul(layout.n_cells());
        if !matches!(needed, Some(needed) if summary.cells.len() >= needed) {
            return Err(format!(
                "the statistics hold {} cells, fewer than {} steps of {} cells",
                summary.cells.len(),
                summary.n_steps,
                layout.n_cells()
            ));
        }
        let years = (0..summary.n_steps)
            .map(|s| {
                scenario
                    .quarter_of_step(u32::try_from(s).unwrap_or(u32::MAX))
                    .decimal_year()
            })
            .collect();
        Ok(Data {
            scenario,
            summary,
            years,
            n_hosts,
            n_patrons,
        })
    }

    fn metric(&self, name: &str) -> Result<usize, String> {
        MetricLayout::metric_index(name)
            .or_else(|| self.summary.layout.find(name))
            .ok_or_else(|| format!("metric {name:?} is not in the catalogue"))
    }

    /// Mean decision term, or NaN (skipped when drawn) if the statistics lack it.
    fn decision(&self, step: usize, host: usize, patron: usize, term: usize) -> f64 {
        let nt = crate::model::DecisionTerms::NAMES.len();
        let i = ((step * self.n_hosts + host) * self.n_patrons + patron) * nt + term;
        self.summary.decision_means.get(i).copied().unwrap_or(f64::NAN)
    }

    /// Row of all hosts together.
    fn all_hosts(&self) -> usize {
        self.n_hosts
    }

    /// Mean and band of one cell over time, skipping steps with non-finite statistics.
    fn points(&self, metric: usize, host_row: usize, partner: Option<usize>) -> Vec<(f64, f64, f64, f64)> {
        let cell = self.summary.layout.index(metric, host_row, partner);
        self.years
            .iter()
            .enumerate()
            .map(|(s, &x)| {
                let stats = self.summary.cell(s, cell);
                (x, stats.mean, stats.p05, stats.p95)
            })
            .filter(|(x, mean, lo, hi)| x.is_finite() && mean.is_finite() && lo.is_finite() && hi.is_finite())
            .collect()
    }

    fn x_range(&self) -> (f64, f64) {
        let lo = self
            .years
            .first()
            .copied()
            .unwrap_or_else(|| self.scenario.start.decimal_year());
        let hi = self.years.last().copied().unwrap_or(lo);
        if lo.is_finite() && hi.is_finite() && hi > lo {
            (lo, hi)
        } else if lo.is_finite() {
            // One step (or none): a year centred on it.
            (lo - 0.5, lo + 0.5)
        } else {
            (0.0, 1.0)
        }
    }

    fn patron_name(&self, p: usize) -> &str {
        self.scenario.patrons.get(p).map_or("?", |patron| patron.name.as_str())
    }

    fn host_name(&self, h: usize) -> &str {
        self.scenario.hosts.get(h).map_or("?", |host| host.name.as_str())
    }

    /// "N replicates" (or "1 replicate").
    fn replicates(&self) -> String {
        match self.summary.replicates {
            1 => "1 replicate".to_string(),
            n => format!("{n} replicates"),
        }
    }

    /// Scenario name and the span of quarters, for subtitles.
    fn scope(&self) -> String {
        let steps = self.summary.n_steps;
        if steps == 0 {
            return format!("Scenario \u{201c}{}\u{201d}", self.scenario.name);
        }
        let last = u32::try_from(steps - 1).unwrap_or(u32::MAX);
        format!(
            "Scenario \u{201c}{}\u{201d}, {}\u{2013}{}",
            self.scenario.name,
            self.scenario.quarter_of_step(0),
            self.scenario.quarter_of_step(last)
        )
    }

    /// "the five states'" style phrase for the hosts together.
    fn hosts_phrase(&self) -> String {
        const WORDS: [&str; 11] = [
            "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        ];
        match self.n_hosts {
            1 => "the host state\u{2019}s".to_string(),
            n => match WORDS.get(n) {
                Some(word) => format!("the {word} host states\u{2019}"),
                None => format!("the {n} host states\u{2019}"),
            },
        }
    }
}

/// Title suffix explaining lines and bands.
fn band_note(data: &Data) -> String {
    format!("(mean, band = 5th\u{2013}95th percentile across {})", data.replicates())
}

/// y range from 0 (or the lowest value, if negative) to 5% above the highest.
pub(crate) fn y_range(series: &[Series]) -> (f64, f64) {
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

fn patron_legend(data: &Data) -> Vec<LegendEntry> {
    (0..data.n_patrons)
        .map(|p| LegendEntry {
            label: data.patron_name(p).to_string(),
            color: palette(p),
            dashed: false,
            band: true,
        })
        .collect()
}

fn alignment_figure(data: &Data) -> Result<Figure, String> {
    let metric = data.metric("alignment")?;
    let panel = |row: usize, title: String| Panel {
        title: Some(title),
        y_desc: "Alignment (share)".to_string(),
        y_range: (0.0, 1.0),
        series: (0..data.n_patrons)
            .map(|p| Series {
                color: palette(p),
                dashed: false,
                band: true,
                points: data.points(metric, row, Some(p)),
            })
            .collect(),
    };
    let mut panels: Vec<Panel> = (0..data.n_hosts)
        .map(|h| panel(h, data.host_name(h).to_string()))
        .collect();
    let mut subtitle = format!("{}. One panel per host", data.scope());
    if data.n_hosts > 1 {
        panels.push(panel(data.all_hosts(), "All hosts (unweighted mean)".to_string()));
        subtitle.push_str("; the last panel averages the hosts");
    }
    subtitle.push_str(". A host\u{2019}s alignments sum to 1 over the patrons.");
    let columns = GRID_COLUMNS.min(panels.len()).max(1);
    let rows = panels.len().div_ceil(columns).max(1) as u32;
    let height = PANEL_FIGURE_SIZE.1.max(190 + rows * MIN_PANEL_ROW_HEIGHT);
    Ok(Figure {
        title: format!("Alignment with each patron {}", band_note(data)),
        subtitle,
        legend: patron_legend(data),
        legend_group: 1,
        panels,
        columns,
        size: (PANEL_FIGURE_SIZE.0, height),
        x_range: data.x_range(),
        x_desc: None,
    })
}

fn trade_share_figure(data: &Data) -> Result<Figure, String> {
    let metric = data.metric("trade_share")?;
    let series: Vec<Series> = (0..data.n_patrons)
        .map(|p| Series {
            color: palette(p),
            dashed: false,
            band: true,
            points: data.points(metric, data.all_hosts(), Some(p)),
        })
        .collect();
    let phrase = data.hosts_phrase();
    let y_desc = format!("Share of {phrase} total trade");
    Ok(Figure {
        title: format!("Each patron\u{2019}s share of {phrase} trade"),
        subtitle: format!(
            "{}. All hosts together; trade with other partners makes up the rest. {}.",
            data.scope(),
            capitalised(&band_note(data))
        ),
        legend: patron_legend(data),
        legend_group: 1,
        panels: vec![Panel {
            title: None,
            y_range: y_range(&series),
            y_desc,
            series,
        }],
        columns: 1,
        size: SINGLE_FIGURE_SIZE,
        x_range: data.x_range(),
        x_desc: None,
    })
}

fn hedging_figure(data: &Data) -> Result<Figure, String> {
    let metric = data.metric("hedging_index")?;
    let mut series: Vec<Series> = (0..data.n_hosts)
        .map(|h| Series {
            color: palette(h),
            dashed: false,
            band: true,
            points: data.points(metric, h, None),
        })
        .collect();
    let mut legend: Vec<LegendEntry> = (0..data.n_hosts)
        .map(|h| LegendEntry {
            label: data.host_name(h).to_string(),
            color: palette(h),
            dashed: false,
            band: true,
        })
        .collect();
    if data.n_hosts > 1 {
        series.push(Series {
            color: INK,
            dashed: true,
            band: false,
            points: data.points(metric, data.all_hosts(), None),
        });
        legend.push(LegendEntry {
            label: "All hosts (mean)".to_string(),
            color: INK,
            dashed: true,
            band: false,
        });
    }
    let ceiling = if data.n_patrons > 0 {
        format!(
            "; with {} patrons it is at most {:.2}",
            data.n_patrons,
            1.0 - 1.0 / data.n_patrons as f64
        )
    } else {
        String::new()
    };
    Ok(Figure {
        title: format!("Hedging index of each host {}", band_note(data)),
        subtitle: format!(
            "{}. 0 = aligned with one patron only; higher = alignment spread over several{ceiling}.",
            data.scope()
        ),
        legend,
        legend_group: 1,
        panels: vec![Panel {
            title: None,
            y_range: y_range(&series),
            y_desc: "Hedging index (1 \u{2212} HHI of alignment)".to_string(),
            series,
        }],
        columns: 1,
        size: SINGLE_FIGURE_SIZE,
        x_range: data.x_range(),
        x_desc: None,
    })
}

fn investment_figure(data: &Data) -> Result<Figure, String> {
    let pledged = data.metric("pledged_cumulative_usd_bn")?;
    let disbursed = data.metric("disbursed_cumulative_usd_bn")?;
    let mut series = Vec::with_capacity(data.n_patrons * 2);
    let mut legend = Vec::with_capacity(data.n_patrons * 2);
    for p in 0..data.n_patrons {
        let name = data.patron_name(p);
        for (metric, dashed, what) in [(pledged, false, "pledged"), (disbursed, true, "disbursed")] {
            series.push(Series {
                color: palette(p),
                dashed,
                band: true,
                points: data.points(metric, data.all_hosts(), Some(p)),
            });
            legend.push(LegendEntry {
                label: format!("{name} {what}"),
                color: palette(p),
                dashed,
                band: true,
            });
        }
    }
    Ok(Figure {
        title: format!("Cumulative investment by patron {}", band_note(data)),
        subtitle: format!(
            "{}. All hosts together. Solid = pledged (offers accepted), dashed = disbursed as projects.",
            data.scope()
        ),
        legend,
        legend_group: 2,
        panels: vec![Panel {
            title: None,
            y_range: y_range(&series),
            y_desc: "Cumulative investment since start (USD bn)".to_string(),
            series,
        }],
        columns: 1,
        size: SINGLE_FIGURE_SIZE,
        x_range: data.x_range(),
        x_desc: None,
    })
}

/// Where each commodity's output goes: one panel per commodity the hosts produce.
fn minerals_figure(data: &Data) -> Result<Figure, String> {
    let mut panels = Vec::new();
    let last = data.summary.n_steps.saturating_sub(1);
    for commodity in &data.scenario.commodities {
        let share = data.metric(&format!("supply_share.{}", commodity.id))?;
        let production = data.metric(&format!("production_t.{}", commodity.id))?;
        let cell = data.summary.layout.index(production, data.all_hosts(), None);
        let (start_t, end_t) = if data.summary.n_steps > 0 {
            (data.summary.cell(0, cell).mean, data.summary.cell(last, cell).mean)
        } else {
            (0.0, 0.0)
        };
        if start_t <= 0.0 && end_t <= 0.0 {
            continue;
        }
        let series: Vec<Series> = (0..data.n_patrons)
            .map(|p| Series {
                color: palette(p),
                dashed: false,
                band: true,
                points: data.points(share, data.all_hosts(), Some(p)),
            })
            .collect();
        panels.push(Panel {
            title: Some(format!(
                "{}: {} \u{2192} {} a year",
                commodity.name,
                format_tonnes(start_t),
                format_tonnes(end_t)
            )),
            y_desc: "Share of output".to_string(),
            y_range: (0.0, 1.0),
            series,
        });
    }
    if panels.is_empty() {
        panels.push(Panel {
            title: Some("No mineral output in this scenario".to_string()),
            y_desc: "Share of output".to_string(),
            y_range: (0.0, 1.0),
            series: Vec::new(),
        });
    }
    let rows = panels.len().div_ceil(GRID_COLUMNS) as u32;
    Ok(Figure {
        title: format!("Where the hosts\u{2019} mineral output is processed {}", band_note(data)),
        subtitle: format!(
            "{}. Share of each commodity reaching each patron\u{2019}s supply chain; the rest goes to the world market.",
            data.scope()
        ),
        legend: patron_legend(data),
        legend_group: 1,
        panels,
        columns: GRID_COLUMNS,
        size: (PANEL_FIGURE_SIZE.0, PANEL_FIGURE_SIZE.1.max(rows * MIN_PANEL_ROW_HEIGHT)),
        x_range: data.x_range(),
        x_desc: None,
    })
}

/// Tonnes in words a reader takes in at a glance: "21.1 kt", "6.1 Mt".
fn format_tonnes(tonnes: f64) -> String {
    if tonnes >= 1e6 {
        format!("{:.1} Mt", tonnes / 1e6)
    } else if tonnes >= 1e3 {
        format!("{:.1} kt", tonnes / 1e3)
    } else {
        format!("{tonnes:.0} t")
    }
}

/// Freight on the Asia–Europe routes: cargo and shares.
fn routes_figure(data: &Data) -> Result<Figure, String> {
    let mut cargo = Vec::new();
    let mut shares = Vec::new();
    let mut legend = Vec::new();
    for (r, route) in data.scenario.routes.iter().enumerate() {
        let color = palette(r);
        let cargo_metric = data.metric(&format!("route_cargo_mt.{}", route.id))?;
        let share_metric = data.metric(&format!("route_share.{}", route.id))?;
        cargo.push(Series {
            color,
            dashed: false,
            band: true,
            points: data.points(cargo_metric, data.all_hosts(), None),
        });
        shares.push(Series {
            color,
            dashed: false,
            band: true,
            points: data.points(share_metric, data.all_hosts(), None),
        });
        legend.push(LegendEntry {
            label: route.name.clone(),
            color,
            dashed: false,
            band: true,
        });
    }
    Ok(Figure {
        title: format!("Asia\u{2013}Europe overland freight by route {}", band_note(data)),
        subtitle: format!(
            "{}. Freight chooses routes by cost, time and risk; sanctions raise the exposed route\u{2019}s cost.",
            data.scope()
        ),
        legend,
        legend_group: 1,
        panels: vec![
            Panel {
                title: Some("Cargo carried".to_string()),
                y_range: y_range(&cargo),
                y_desc: "Mt a year".to_string(),
                series: cargo,
            },
            Panel {
                title: Some("Share of overland freight".to_string()),
                y_range: (0.0, 1.0),
                y_desc: "Share".to_string(),
                series: shares,
            },
        ],
        columns: 2,
        size: SINGLE_FIGURE_SIZE,
        x_range: data.x_range(),
        x_desc: None,
    })
}

/// One line per decision term (means over replicates) for one host and patron.
fn term_series(data: &Data, host: usize, patron: usize, term: usize, color: RGBColor, dashed: bool) -> Series {
    Series {
        color,
        dashed,
        band: false,
        points: data
            .years
            .iter()
            .enumerate()
            .map(|(s, &x)| {
                let v = data.decision(s, host, patron, term);
                (x, v, v, v)
            })
            .filter(|(x, v, ..)| x.is_finite() && v.is_finite())
            .collect(),
    }
}

/// For one host, the mean contribution of each decision term to its utility for each
/// patron's offers: which terms pushed it toward or away from each patron.
fn decisions_figure(data: &Data, host: usize) -> Result<Figure, String> {
    use crate::model::DecisionTerms;
    // The seven terms, then their sum (utility) as a dashed line.
    let terms = &DecisionTerms::NAMES[..7];
    let utility = DecisionTerms::NAMES
        .iter()
        .position(|n| *n == "utility")
        .ok_or("no utility term")?;
    let panels: Vec<Panel> = (0..data.n_patrons)
        .map(|p| {
            let mut series: Vec<Series> = (0..terms.len())
                .map(|t| term_series(data, host, p, t, palette(t), false))
                .collect();
            series.push(term_series(data, host, p, utility, INK, true));
            Panel {
                title: Some(format!("Offers of {}", data.patron_name(p))),
                y_range: y_range(&series),
                y_desc: "Contribution to utility".to_string(),
                series,
            }
        })
        .collect();
    let mut legend: Vec<LegendEntry> = terms
        .iter()
        .enumerate()
        .map(|(t, name)| LegendEntry {
            label: capitalised(name),
            color: palette(t),
            dashed: false,
            band: false,
        })
        .collect();
    legend.push(LegendEntry {
        label: "Utility (sum)".to_string(),
        color: INK,
        dashed: true,
        band: false,
    });
    let columns = data.n_patrons.clamp(1, GRID_COLUMNS);
    let rows = data.n_patrons.div_ceil(columns).max(1) as u32;
    Ok(Figure {
        title: format!("Why {} takes or turns down each patron\u{2019}s offers", data.host_name(host)),
        subtitle: format!(
            "{}. Mean over {} of each term of the host\u{2019}s utility: above zero draws it to the patron, below pushes it away.",
            data.scope(),
            data.replicates()
        ),
        legend,
        legend_group: 1,
        panels,
        columns,
        size: (PANEL_FIGURE_SIZE.0, (rows * 560).max(SINGLE_FIGURE_SIZE.1)),
        x_range: data.x_range(),
        x_desc: None,
    })
}

fn capitalised(text: &str) -> String {
    let text = text.trim_start_matches('(').trim_end_matches(')');
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

// ---------------------------------------------------------------------------------------
// Drawing
// ---------------------------------------------------------------------------------------

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
) -> Result<u32, String> {
    area.estimate_text_size(text, &text_style(size, &INK, HPos::Left, VPos::Top))
        .map(|(w, _)| w)
        .map_err(|e| format!("measuring text: {e}"))
}

/// The largest size not above `size` (and not below `min`) at which `text` fits `width`.
pub(crate) fn fitted_size<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    size: f64,
    min: f64,
    width: u32,
) -> Result<f64, String> {
    let mut size = size;
    while size > min && text_width(area, text, size)? > width {
        size -= 1.0;
    }
    Ok(size.max(min))
}

fn draw_figure<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    figure: &Figure,
    backend: Backend,
) -> Result<(), String> {
    let drawing = |e: DrawingAreaErrorKind<DB::ErrorType>| format!("drawing: {e}");
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
) -> Result<i32, String> {
    if entries.is_empty() {
        return Ok(top);
    }
    let drawing = |e: DrawingAreaErrorKind<DB::ErrorType>| format!("drawing the legend: {e}");
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
) -> Result<(), String> {
    let drawing = |e: DrawingAreaErrorKind<DB::ErrorType>| format!("drawing: {e}");
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
        label_w = label_w.max(text_width(area, &crate::format::fixed(tick, decimals), fonts.tick)?);
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
            crate::format::fixed(*x, decimals)
        } else if x.fract() == 0.0 {
            format!("{x:.0}")
        } else {
            format!("{x:.2}")
        }
    };
    let y_format = |y: &f64| crate::format::fixed(*y, decimals);
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
    use std::sync::atomic::AtomicBool;

    use super::*;
    use crate::ensemble::EnsembleConfig;

    fn small_run() -> (Scenario, EnsembleSummary) {
        let scenario = crate::scenario::load_builtin_baseline()
            .expect("the built-in baseline loads")
            .scenario;
        let config = EnsembleConfig {
            replicates: 4,
            seed: 1,
            threads: Some(1),
            max_memory_bytes: u64::MAX,
        };
        let summary =
            crate::ensemble::run(&scenario, &config, &|| {}, &AtomicBool::new(false), None).expect("the ensemble runs");
        (scenario, summary)
    }

    #[test]
    fn charts_are_written_as_png_and_svg_with_text() {
        let (scenario, summary) = small_run();
        let dir = tempfile::tempdir().expect("temporary folder");
        let written = write_charts(&scenario, &summary, dir.path()).expect("charts are drawn");

        let mut stems: Vec<String> = [
            "alignment",
            "trade_shares",
            "hedging_index",
            "investment",
            "minerals",
            "routes",
        ]
        .map(String::from)
        .to_vec();
        stems.extend(scenario.hosts.iter().map(|h| format!("decisions_{}", h.id)));
        let expected: Vec<PathBuf> = stems
            .iter()
            .flat_map(|stem| ["png", "svg"].map(|ext| dir.path().join(format!("{stem}.{ext}"))))
            .collect();
        assert_eq!(written, expected);

        for path in &written {
            let bytes = std::fs::read(path).expect("chart file exists");
            if path.extension().is_some_and(|e| e == "png") {
                assert!(
                    bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
                    "{} is not a PNG",
                    path.display()
                );
                assert!(bytes.len() > 20_000, "{} is only {} bytes", path.display(), bytes.len());
            } else {
                let text = String::from_utf8(bytes).expect("SVG is text");
                assert!(text.contains("<svg"), "{} is not an SVG", path.display());
                assert!(text.contains("<text"), "{} has no text", path.display());
            }
        }
        let svg = |stem: &str| std::fs::read_to_string(dir.path().join(format!("{stem}.svg"))).unwrap_or_default();
        assert!(svg("alignment").contains("Alignment with each patron"));
        assert!(svg("alignment").contains(&scenario.hosts[0].name));
        assert!(svg("alignment").contains(&scenario.patrons[0].name));
        assert!(svg("trade_shares").contains("share of the five host states"));
        assert!(svg("hedging_index").contains("Hedging index of each host"));
        assert!(svg("investment").contains(&format!("{} disbursed", scenario.patrons[0].name)));
    }

    #[test]
    fn charts_are_deterministic() {
        let (scenario, summary) = small_run();
        let a = tempfile::tempdir().expect("temporary folder");
        let b = tempfile::tempdir().expect("temporary folder");
        let first = write_charts(&scenario, &summary, a.path()).expect("charts are drawn");
        let second = write_charts(&scenario, &summary, b.path()).expect("charts are drawn");
        for (x, y) in first.iter().zip(&second) {
            let x_bytes = std::fs::read(x).expect("chart file exists");
            let y_bytes = std::fs::read(y).expect("chart file exists");
            assert!(x_bytes == y_bytes, "{} differs between runs", x.display());
        }
    }

    #[test]
    fn missing_folder_is_an_error_not_a_panic() {
        let (scenario, summary) = small_run();
        let dir = tempfile::tempdir().expect("temporary folder");
        let missing = dir.path().join("does-not-exist");
        let err = write_charts(&scenario, &summary, &missing).expect_err("cannot write into a missing folder");
        assert!(err.path.starts_with(&missing));
    }

    /// A summary with made-up statistics for a scenario with more actors than the
    /// baseline: the charts must cope with any number of hosts and patrons.
    fn synthetic(
        n_hosts: usize,
        n_patrons: usize,
        n_steps: u32,
        value: impl Fn(usize, usize) -> f64,
    ) -> (Scenario, EnsembleSummary) {
        let mut scenario = crate::scenario::load_builtin_baseline()
            .expect("the built-in baseline loads")
            .scenario;
        let host = scenario.hosts[0].clone();
        let patron = scenario.patrons[0].clone();
        scenario.hosts = (0..n_hosts)
            .map(|h| {
                let mut host = host.clone();
                host.id = format!("H{h}");
                host.name = format!("Host number {h}");
                host
            })
            .collect();
        scenario.patrons = (0..n_patrons)
            .map(|p| {
                let mut patron = patron.clone();
                patron.id = format!("P{p}");
                patron.name = format!("Patron {p}");
                patron
            })
            .collect();
        scenario.horizon_quarters = n_steps;
        let layout = MetricLayout::new(&scenario);
        let n_cells = layout.n_cells();
        let cells = (0..n_steps as usize * n_cells)
            .map(|i| {
                let v = value(i / n_cells, i % n_cells);
                crate::stats::CellStats {
                    mean: v,
                    sd: 0.0,
                    p05: 0.8 * v,
                    p50: v,
                    p95: 1.2 * v,
                }
            })
            .collect();
        let summary = EnsembleSummary {
            layout,
            n_steps: n_steps as usize,
            replicates: 1,
            cells,
            decision_means: Vec::new(),
        };
        (scenario, summary)
    }

    #[test]
    fn many_actors_and_degenerate_data_are_drawn() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let (scenario, summary) = synthetic(6, 8, 16, |step, cell| ((step + 1) * (cell % 13 + 1)) as f64 / 500.0);
        let written = write_charts(&scenario, &summary, dir.path()).expect("charts are drawn");
        // Four charts, minerals and routes where the scenario has them, one per host of
        // decision terms; each as PNG and SVG.
        let optional = usize::from(!scenario.commodities.is_empty()) + usize::from(!scenario.routes.is_empty());
        assert_eq!(written.len(), 2 * (4 + optional + scenario.n_hosts()));
        let svg = std::fs::read_to_string(dir.path().join("investment.svg")).unwrap_or_default();
        assert!(svg.contains("Patron 7 disbursed"));

        // One step, all zero; and no steps at all.
        for steps in [1, 0] {
            let (scenario, summary) = synthetic(1, 1, steps, |_, _| 0.0);
            let written = write_charts(&scenario, &summary, dir.path()).expect("charts are drawn");
            let optional = usize::from(!scenario.commodities.is_empty()) + usize::from(!scenario.routes.is_empty());
            assert_eq!(written.len(), 2 * (4 + optional + scenario.n_hosts()));
        }
    }

    #[test]
    fn mismatched_summary_is_an_error_not_a_panic() {
        let (scenario, _) = synthetic(2, 2, 4, |_, _| 0.5);
        let (_, other) = synthetic(3, 2, 4, |_, _| 0.5);
        let dir = tempfile::tempdir().expect("temporary folder");
        assert!(write_charts(&scenario, &other, dir.path()).is_err());
    }

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
        let labels: Vec<String> = ticks.iter().map(|t| crate::format::fixed(*t, decimals)).collect();
        assert_eq!(labels, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        let (ticks, decimals) = value_ticks((0.0, 34.3), 9);
        assert_eq!((ticks.len(), decimals), (7, 0));
        assert_eq!(ticks.last().copied(), Some(30.0));
        let (ticks, decimals) = value_ticks((0.0, 0.0), 9);
        assert_eq!((ticks, decimals), (vec![0.0], 2));
    }

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
}
