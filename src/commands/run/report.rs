//! `report.html` of a run: one self-contained page, readable offline, that opens with the
//! scenario's question and the headline outcomes at the start, mid-run and end with their
//! bands, then tells what happened to each host and why ([`crate::analysis::explain`]),
//! then shows every chart of the run as an interactive chart (hover for values, click a
//! legend entry to hide a series, drag to zoom) drawn from the same figures as the PNG and
//! SVG files ([`crate::output::figures`], [`crate::chart::interactive`]).
//!
//! Everything on the page comes from the statistics the run has just written to its
//! tables. `greatgame explain` reads the same statistics back from those tables
//! ([`crate::output::tables`]), which hold every number to the last bit, so the page and the
//! command say the same thing; the page takes them from memory rather than reading back
//! what was just written (which cost as much as a fifth of a short run).

use std::fmt::Write as _;
use std::path::Path;

use crate::analysis::explain::{explain, headlines, Account, Headline};
use crate::chart::interactive::{self, escape};
use crate::format::short;
use crate::job::JobError;
use crate::model::Scenario;

use crate::ensemble::EnsembleSummary;
use crate::output::figures;

const STYLE: &str = "
body { font-family: 'DejaVu Sans', Verdana, Arial, sans-serif; margin: 2em auto; max-width: 1250px; color: #141414; padding: 0 1em; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; }
h3 { font-size: 1.05em; margin-top: 1.4em; }
h4 { font-size: 0.95em; margin: 0.8em 0 0.2em 0; }
p.meta { color: #555; margin-top: 0; }
p.question { font-size: 1.15em; background: #f4f8fb; border-left: 4px solid #0072b2; padding: 0.5em 0.8em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.num small { color: #666; }
.account p { margin: 0.25em 0 0.25em 1em; }
nav a { margin-right: 0.8em; }
";

/// Writes `dir/report.html` for a run of `scenario` whose tables, written from `summary`,
/// are in `dir`; `charts` are the chart files written (relative to `dir`), linked beside
/// their interactive versions.
pub fn write_run_report(
    dir: &Path,
    scenario: &Scenario,
    summary: &EnsembleSummary,
    charts: &[String],
) -> Result<(), JobError> {
    let account = explain(scenario, summary);
    let headline = headlines(scenario, summary);
    let figures = figures::figures(scenario, summary, &dir.join("charts"))?;
    let mut html = String::new();
    let title = format!("greatgame run: {}", scenario.name);
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n{}</head>\n<body>\n",
        escape(&title),
        interactive::head()
    );
    let _ = writeln!(html, "<h1>{}</h1>", escape(&scenario.name));
    if !scenario.description.is_empty() {
        let _ = writeln!(html, "<p class=\"question\">{}</p>", escape(&scenario.description));
    }
    let _ = writeln!(
        html,
        "<p class=\"meta\">{} Written by greatgame {} (<code>greatgame run</code>); the seed, the command line and the \
         resolved scenario are in <code>manifest.json</code>, every number in <code>summary.csv</code> and \
         <code>decisions.csv</code> beside this page. <code>greatgame explain</code> prints the account below.</p>",
        escape(
            &account
                .preamble()
                .into_iter()
                .filter(|line| !line.starts_with("Question:"))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        env!("CARGO_PKG_VERSION")
    );
    html.push_str("<nav><a href=\"#headline\">Headline outcomes</a><a href=\"#account\">What happened and why</a><a href=\"#charts\">Charts</a></nav>\n");
    headline_table(&mut html, &headline);
    account_html(&mut html, &account);

    html.push_str("<h2 id=\"charts\">Charts</h2>\n<p>Lines are means across replicates, bands the 5th to 95th percentiles. Hover over a chart for the values at a quarter; click a name in a legend to hide or show that series (in every panel of the figure); drag across a chart to zoom the time axis, double-click to zoom out.</p>\n");
    for (stem, figure) in &figures {
        let files: Vec<String> = ["png", "svg"]
            .iter()
            .map(|ext| format!("charts/{stem}.{ext}"))
            .filter(|f| charts.contains(f))
            .collect();
        html.push_str(&interactive::figure_html(figure, &format!("chart-{stem}"), &files));
    }
    html.push_str("</body>\n</html>\n");
    std::fs::write(dir.join("report.html"), html).map_err(JobError::io("writing report.html"))
}

fn headline_table(html: &mut String, rows: &[Headline]) {
    html.push_str("<h2 id=\"headline\">Headline outcomes, all hosts together (C5)</h2>\n");
    let Some(first) = rows.first() else {
        html.push_str("<p>The run has no quarter to report.</p>\n");
        return;
    };
    html.push_str("<table><tr><th>metric</th><th>patron</th><th>unit</th>");
    for (q, _) in &first.at {
        let _ = write!(html, "<th>{q}</th>");
    }
    html.push_str("</tr>\n");
    for row in rows {
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td>",
            escape(&row.metric),
            escape(&row.partner),
            escape(&row.unit)
        );
        for (_, stats) in &row.at {
            let _ = write!(
                html,
                "<td class=\"num\">{} <small>[{}\u{2013}{}]</small></td>",
                short(stats.mean),
                short(stats.p05),
                short(stats.p95)
            );
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</table>\n<p class=\"meta\">Mean across replicates [5th\u{2013}95th percentile].</p>\n");
}

fn account_html(html: &mut String, account: &Account) {
    html.push_str("<h2 id=\"account\">What happened and why</h2>\n<div class=\"account\">\n");
    for host in &account.hosts {
        let _ = writeln!(
            html,
            "<h3 id=\"host-{}\">{} ({})</h3>",
            escape(&host.id),
            escape(&host.name),
            escape(&host.id)
        );
        for section in &host.sections {
            let _ = writeln!(html, "<h4>{}</h4>", escape(&section.heading));
            for sentence in &section.sentences {
                let _ = writeln!(html, "<p>{}</p>", escape(sentence));
            }
        }
    }
    html.push_str("</div>\n");
}
