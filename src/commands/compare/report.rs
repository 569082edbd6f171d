//! `report.html` of a comparison: one self-contained page that a person opens in a
//! browser, offline: the tables, and every chart as an interactive chart (uPlot, inline;
//! [`crate::chart::interactive`]) drawn from the same figures as the PNG and SVG files.

use std::fmt::Write as _;

use super::differences::{leading, MinEffect, Row, LIKELY};
use crate::analysis::bootstrap::CiMethod;
use crate::chart::interactive::{self, escape};
use crate::chart::Figure;
use crate::format::{short, signed};

/// One input as the report describes it.
pub struct InputInfo {
    pub label: String,
    pub source: String,
    pub kind: String,
    pub seed: u64,
    pub replicates: u64,
    /// Parameter sets its replicates ran over (1: its own values).
    pub sets: usize,
    pub window: String,
}

pub struct CompareReport<'a> {
    pub title: String,
    pub inputs: Vec<InputInfo>,
    pub rows: &'a [Row],
    pub labels: Vec<String>,
    pub notes: &'a [String],
    /// Chart files written (relative to the report), linked beside their figures.
    pub charts: &'a [String],
    /// Every figure, by file stem: drawn in the page.
    pub figures: &'a [(String, Figure)],
    pub top: usize,
    pub min_effect: MinEffect,
    /// For each compared input (from the second), how its pairs were formed.
    pub pairings: Vec<String>,
}

const STYLE: &str = "
body { font-family: 'DejaVu Sans', Verdana, Arial, sans-serif; margin: 2em auto; max-width: 1250px; color: #141414; padding: 0 1em; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; }
h3 { font-size: 1.05em; margin-top: 1.5em; }
p.meta { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.beyond td { background: #eef6fb; }
figure { margin: 1em 0 2em 0; }
figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { color: #555; font-size: 0.9em; }
ul.notes li { color: #8a4b00; }
details summary { cursor: pointer; font-weight: bold; margin: 0.8em 0; }
";

fn difference_table(html: &mut String, rows: &[&Row], labels: &[String]) {
    let reference = escape(&labels[0]);
    let _ = writeln!(
        html,
        "<table><tr><th>metric</th><th>host</th><th>partner</th><th>date</th><th>{reference}</th><th>scenario</th><th>mean</th>\
         <th>difference</th><th>95% CI</th><th>P(direction)</th><th>95% CI of P</th><th>relative</th><th>effect size d</th><th>CI method</th></tr>"
    );
    for r in rows {
        let beyond = r.likely() && r.large_enough();
        let ci = r.ci.map_or("&ndash;".to_string(), |ci| {
            format!("{} to {}", signed(ci.low), signed(ci.high))
        });
        let probability = r.direction.map_or("&ndash;".to_string(), |d| {
            format!("{:.2} {}", d.probability, if d.sign > 0.0 { "up" } else { "down" })
        });
        let probability_ci = r
            .direction
            .and_then(|d| d.interval)
            .map_or("&ndash;".to_string(), |ci| format!("{:.2} to {:.2}", ci.low, ci.high));
        let relative = r
            .relative
            .map_or("&ndash;".to_string(), |x| format!("{}%", signed(100.0 * x)));
        let _ = writeln!(
            html,
            "<tr{}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{probability}</td><td class=\"num\">{probability_ci}</td>\
             <td class=\"num\">{relative}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            if beyond { " class=\"beyond\"" } else { "" },
            escape(&r.metric),
            escape(&r.host),
            escape(&r.partner),
            r.date,
            short(r.reference.0),
            escape(&labels[r.input]),
            short(r.other.0),
            signed(r.difference),
            ci,
            r.effect_size.map_or("no spread".to_string(), |d| format!("{d:+.2}")),
            r.method.label()
        );
    }
    html.push_str("</table>\n");
}

/// The page.
pub fn compare_report(report: &CompareReport) -> String {
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n{}</head>\n<body>\n",
        escape(&report.title),
        interactive::head()
    );
    let _ = writeln!(html, "<h1>{}</h1>", escape(&report.title));
    let _ = writeln!(
        html,
        "<p class=\"meta\">Written by greatgame {} (<code>greatgame compare</code>). The first input, <b>{}</b>, is the reference; \
         every difference is <i>scenario minus reference</i>. The numbers are in <code>comparison.csv</code> beside this page.</p>",
        env!("CARGO_PKG_VERSION"),
        escape(&report.labels[0])
    );

    html.push_str("<h2>Inputs</h2>\n<table><tr><th>scenario</th><th>from</th><th>kind</th><th>seed</th><th>replicates</th><th>parameter sets</th><th>quarters</th></tr>\n");
    for i in &report.inputs {
        let _ = writeln!(
            html,
            "<tr><td><b>{}</b></td><td><code>{}</code></td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            escape(&i.label),
            escape(&i.source),
            escape(&i.kind),
            i.seed,
            i.replicates,
            if i.sets > 1 { i.sets.to_string() } else { "none".to_string() },
            escape(&i.window)
        );
    }
    html.push_str("</table>\n");

    html.push_str("<h2>How to read the numbers</h2>\n<ul>\n");
    let mut methods: Vec<CiMethod> = Vec::new();
    for row in report.rows {
        if !methods.contains(&row.method) {
            methods.push(row.method);
        }
    }
    for method in methods {
        let _ = writeln!(
            html,
            "<li><b>{}</b>: 95% confidence interval of the difference of means by {}.</li>",
            method.label(),
            escape(method.describe())
        );
    }
    let _ = writeln!(
        html,
        "<li><b>P(direction)</b>, the probability of direction: the share of paired replicates (replicate <i>i</i> of both \
         scenarios ran the same parameter set on the same random stream) in which the scenario moves the outcome the way \
         the mean difference does. Over parameter sets it answers &ldquo;how sure are we, given what we do not know about \
         the parameters, that this scenario raises (or lowers) the outcome?&rdquo; Its 95% interval is a two-stage \
         bootstrap (sets, then replicates within them). Only paired inputs have it.</li>\n\
         <li>A difference is <b>likely</b> when P(direction) &ge; {LIKELY} and <b>large enough</b> when it is {} \
         (<code>--min-effect</code>). Shaded rows are both; they lead the page.</li>\n\
         <li>The 95% interval is of the <i>mean</i> difference: with many replicates even tiny differences exclude zero, \
         so it says how well the mean is known, not whether the difference matters.</li>\n\
         <li><b>Effect size d</b> (Cohen's d, in comparison.csv): the difference over the pooled standard deviation across \
         replicates; without parameter sets that spread is decision noise alone, so d is not a guide to importance.</li>\n\
         <li>Charts: lines are means across replicates, bands the 5th to 95th percentiles (over the parameter sets too, \
         where the inputs have them).</li>\n</ul>",
        escape(&report.min_effect.describe())
    );
    if !report.notes.is_empty() {
        html.push_str("<h3>Notes</h3>\n<ul class=\"notes\">\n");
        for note in report.notes {
            let _ = writeln!(html, "<li>{}</li>", escape(note));
        }
        html.push_str("</ul>\n");
    }

    html.push_str("<h2>Differences that are likely and large enough</h2>\n");
    for (j, label) in report.labels.iter().enumerate().skip(1) {
        let shown = leading(report.rows, j, report.top);
        let all = report.rows.iter().filter(|r| r.input == j).count();
        let both = report
            .rows
            .iter()
            .filter(|r| r.input == j && r.likely() && r.large_enough())
            .count();
        let _ = writeln!(
            html,
            "<h3>{} vs {}</h3>\n<p>{}. {both} of {all} differences are likely and large enough; {} shown, the most likely \
             first, then the largest:</p>",
            escape(label),
            escape(&report.labels[0]),
            escape(report.pairings.get(j - 1).map_or("", String::as_str)),
            shown.len()
        );
        if !shown.is_empty() {
            difference_table(&mut html, &shown, &report.labels);
        }
    }

    if !report.figures.is_empty() {
        html.push_str(
            "<h2>Charts</h2>\n<p>Hover over a chart for the values at a quarter; click a name in a legend to hide or \
             show that series; drag across a chart to zoom the time axis, double-click to zoom out.</p>\n",
        );
        for (stem, figure) in report.figures {
            let files: Vec<String> = ["png", "svg"]
                .iter()
                .map(|ext| format!("charts/{stem}.{ext}"))
                .filter(|f| report.charts.contains(f))
                .collect();
            html.push_str(&interactive::figure_html(
                figure,
                &format!("chart-{}", crate::format::slug(stem)),
                &files,
            ));
        }
    }

    html.push_str("<h2>Every difference</h2>\n");
    for (j, label) in report.labels.iter().enumerate().skip(1) {
        let rows: Vec<&Row> = report.rows.iter().filter(|r| r.input == j).collect();
        let _ = writeln!(
            html,
            "<details><summary>{} vs {}: {} rows</summary>",
            escape(label),
            escape(&report.labels[0]),
            rows.len()
        );
        difference_table(&mut html, &rows, &report.labels);
        html.push_str("</details>\n");
    }
    html.push_str("</body>\n</html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped() {
        assert_eq!(escape("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
    }
}
