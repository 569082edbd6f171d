//! The run's figures: what a run's `charts/` folder holds (alignment, trade shares,
//! hedging, investment, minerals, routes, and each host's decision terms), described
//! with the chart toolkit ([`crate::chart`]) from an ensemble's statistics.
//!
//! Every chart shows, over time, the mean across replicates of one or more series with a
//! translucent band from the 5th to the 95th percentile. Nothing here is tied to
//! particular actors: colours follow the patron's (or host's) position in the scenario
//! and cycle through the palette, and the panel grid grows with the hosts.

use std::path::{Path, PathBuf};

use plotters::style::RGBColor;

use crate::chart::{
    palette, render_png, render_svg, y_range, ChartError, Figure, LegendEntry, Panel, Series, GRID_COLUMNS, INK,
    MIN_PANEL_ROW_HEIGHT, PANEL_FIGURE_SIZE, SINGLE_FIGURE_SIZE,
};
use crate::ensemble::EnsembleSummary;
use crate::metrics::{CommodityMetric, MetricId, RouteMetric};
use crate::model::Scenario;

/// For each chart, in the order alignment, trade_shares, hedging_index, investment, the
/// PNG and then the SVG.
///
/// `stop` is asked before each chart; when it says so, the charts drawn so far are
/// returned (the caller is being interrupted and will not keep them).
pub fn write_charts(
    scenario: &Scenario,
    summary: &EnsembleSummary,
    dir: &Path,
    stop: &dyn Fn() -> bool,
) -> Result<Vec<PathBuf>, ChartError> {
    let mut written = Vec::new();
    for (stem, figure) in figures(scenario, summary, dir)? {
        if stop() {
            break;
        }
        let png = dir.join(format!("{stem}.png"));
        let svg = dir.join(format!("{stem}.svg"));
        render_png(&png, &figure)?;
        written.push(png);
        render_svg(&svg, &figure)?;
        written.push(svg);
    }
    Ok(written)
}

/// Every chart of a run, by file stem, in the order [`write_charts`] writes them: what the
/// PNG and SVG files and the report's interactive charts are drawn from. `dir` only names
/// the charts' folder in an error.
pub fn figures(
    scenario: &Scenario,
    summary: &EnsembleSummary,
    dir: &Path,
) -> Result<Vec<(String, Figure)>, ChartError> {
    let data = Data::new(scenario, summary, dir)?;

    type Build = Box<dyn Fn(&Data) -> Figure>;
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
    Ok(charts
        .into_iter()
        .map(|(stem, build)| {
            let figure = build(&data);
            (stem, figure)
        })
        .collect())
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
    /// The data, or why the statistics do not belong to the scenario.
    fn new(scenario: &'a Scenario, summary: &'a EnsembleSummary, dir: &Path) -> Result<Data<'a>, ChartError> {
        let mismatch = |message: String| ChartError {
            path: dir.to_path_buf(),
            message,
        };
        let layout = &summary.layout;
        let n_hosts = scenario.n_hosts();
        let n_patrons = scenario.n_patrons();
        if layout.n_rows() != n_hosts + 1
            || layout.partner_labels.len() != n_patrons
            || layout.n_commodities() != scenario.commodities.len()
            || layout.n_routes() != scenario.routes.len()
        {
            return Err(mismatch(format!(
                "the statistics have {} host rows, {} partners, {} commodities and {} routes, but the scenario has \
                 {} hosts, {} patrons, {} commodities and {} routes",
                layout.n_rows(),
                layout.partner_labels.len(),
                layout.n_commodities(),
                layout.n_routes(),
                n_hosts,
                n_patrons,
                scenario.commodities.len(),
                scenario.routes.len()
            )));
        }
        let needed = summary.n_steps.checked_mul(layout.n_cells());
        if !matches!(needed, Some(needed) if summary.cells.len() >= needed) {
            return Err(mismatch(format!(
                "the statistics hold {} cells, fewer than {} steps of {} cells",
                summary.cells.len(),
                summary.n_steps,
                layout.n_cells()
            )));
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

    fn metric(&self, metric: MetricId) -> usize {
        self.summary.layout.base(metric)
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
    format!(
        "(mean, band = 5th\u{2013}95th percentiles over {}{})",
        data.replicates(),
        data.summary.band_holds()
    )
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

fn alignment_figure(data: &Data) -> Figure {
    let metric = data.metric(MetricId::Alignment);
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
    Figure {
        title: format!("Alignment with each patron {}", band_note(data)),
        subtitle,
        legend: patron_legend(data),
        legend_group: 1,
        panels,
        columns,
        size: (PANEL_FIGURE_SIZE.0, height),
        x_range: data.x_range(),
        x_desc: None,
    }
}

fn trade_share_figure(data: &Data) -> Figure {
    let metric = data.metric(MetricId::TradeShare);
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
    Figure {
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
    }
}

fn hedging_figure(data: &Data) -> Figure {
    let metric = data.metric(MetricId::HedgingIndex);
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
    Figure {
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
    }
}

fn investment_figure(data: &Data) -> Figure {
    let pledged = data.metric(MetricId::PledgedCumulativeUsdBn);
    let disbursed = data.metric(MetricId::DisbursedCumulativeUsdBn);
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
    Figure {
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
    }
}

/// Where each commodity's output goes: one panel per commodity the hosts produce.
fn minerals_figure(data: &Data) -> Figure {
    let mut panels = Vec::new();
    let last = data.summary.n_steps.saturating_sub(1);
    for (c, commodity) in data.scenario.commodities.iter().enumerate() {
        let share = data.summary.layout.commodity(CommodityMetric::SupplyShare, c);
        let production = data.summary.layout.commodity(CommodityMetric::Production, c);
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
    Figure {
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
    }
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
fn routes_figure(data: &Data) -> Figure {
    let mut cargo = Vec::new();
    let mut shares = Vec::new();
    let mut legend = Vec::new();
    for (r, route) in data.scenario.routes.iter().enumerate() {
        let color = palette(r);
        let cargo_metric = data.summary.layout.route(RouteMetric::Cargo, r);
        let share_metric = data.summary.layout.route(RouteMetric::Share, r);
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
    Figure {
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
    }
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
fn decisions_figure(data: &Data, host: usize) -> Figure {
    use crate::model::DecisionTerms;
    // The seven terms, then their sum (utility) as a dashed line.
    let terms = &DecisionTerms::NAMES[..7];
    // The utility is the term after the seven it sums.
    let utility = DecisionTerms::NAMES.iter().position(|n| *n == "utility");
    let panels: Vec<Panel> = (0..data.n_patrons)
        .map(|p| {
            let mut series: Vec<Series> = (0..terms.len())
                .map(|t| term_series(data, host, p, t, palette(t), false))
                .collect();
            if let Some(utility) = utility {
                series.push(term_series(data, host, p, utility, INK, true));
            }
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
    Figure {
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
    }
}

fn capitalised(text: &str) -> String {
    let text = text.trim_start_matches('(').trim_end_matches(')');
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests;
