//! The differences of a comparison: for every shared cell and horizon, each input's mean
//! against the reference's, with a confidence interval and an effect size; the rows of
//! `comparison.csv` and the text summary.

use std::fmt::Write as _;
use std::fs;
use std::io::{self, BufWriter};
use std::path::Path;

use super::inputs::{CellKey, Input};
use crate::analysis::bootstrap::{self, CiMethod, Interval};
use crate::format::{number, optional, short, signed};
use crate::time::Quarter;

/// One line of `comparison.csv`.
#[derive(Debug, Clone)]
pub struct Row {
    /// The metric's name.
    pub metric: String,
    pub host: String,
    pub partner: String,
    pub date: Quarter,
    /// Index of the compared input (1..).
    pub input: usize,
    pub reference: (f64, f64, u64),
    pub other: (f64, f64, u64),
    pub difference: f64,
    pub ci: Option<Interval>,
    pub method: CiMethod,
    pub effect_size: Option<f64>,
}

impl Row {
    pub fn exceeds_noise(&self) -> Option<bool> {
        self.ci.map(|ci| ci.excludes_zero())
    }
}

pub const COMPARISON_HEADER: [&str; 18] = [
    "metric",
    "host",
    "partner",
    "date",
    "scenario",
    "reference",
    "reference_mean",
    "mean",
    "difference",
    "ci_low",
    "ci_high",
    "ci_method",
    "exceeds_noise",
    "effect_size",
    "reference_sd",
    "sd",
    "reference_replicates",
    "replicates",
];

/// The rows of `comparison.csv`: every cell and horizon, every input against the
/// reference, with the interval its replicate values allow.
pub(super) fn difference_rows(
    inputs: &[Input],
    keys: &[CellKey],
    horizons: &[Quarter],
    seed: u64,
    resamples: usize,
) -> Vec<Row> {
    let reference = &inputs[0];
    let mut rows = Vec::new();
    for key in keys {
        for &date in horizons {
            let r = reference.stats_at(key, date).expect("reference covers the horizons");
            for (j, other) in inputs.iter().enumerate().skip(1) {
                let o = other.stats_at(key, date).expect("inputs cover the horizons");
                let partner = &key.2;
                let stream = format!(
                    "{}|{}|{}|{}|{}|{}",
                    reference.label, other.label, key.0, key.1, partner, date
                );
                let mut rng = bootstrap::rng_for(seed, &stream);
                let (ci, method) = match (reference.samples_at(key, date), other.samples_at(key, date)) {
                    (Some(a), Some(b))
                        if reference.seed == other.seed
                            && reference.replicates == other.replicates
                            && a.len() == b.len() =>
                    {
                        (
                            bootstrap::paired_difference(a, b, resamples, &mut rng),
                            CiMethod::PairedBootstrap,
                        )
                    }
                    (Some(a), Some(b)) => (
                        bootstrap::unpaired_difference(a, b, resamples, &mut rng),
                        CiMethod::UnpairedBootstrap,
                    ),
                    _ => (
                        bootstrap::normal_difference(
                            (r.mean, r.sd, reference.replicates),
                            (o.mean, o.sd, other.replicates),
                        ),
                        CiMethod::NormalApprox,
                    ),
                };
                let method = if ci.is_none() { CiMethod::None } else { method };
                rows.push(Row {
                    metric: key.0.clone(),
                    host: key.1.clone(),
                    partner: key.2.clone(),
                    date,
                    input: j,
                    reference: (r.mean, r.sd, reference.replicates),
                    other: (o.mean, o.sd, other.replicates),
                    difference: o.mean - r.mean,
                    ci,
                    method,
                    effect_size: bootstrap::effect_size((r.mean, r.sd), (o.mean, o.sd)),
                });
            }
        }
    }
    rows
}

/// The rows of one compared input that exceed the noise, largest effect first (a
/// difference with no spread at all counts as the largest).
pub fn largest(rows: &[Row], input: usize, top: usize) -> Vec<&Row> {
    let mut beyond: Vec<&Row> = rows
        .iter()
        .filter(|r| r.input == input && r.exceeds_noise() == Some(true))
        .collect();
    beyond.sort_by(|a, b| {
        let size = |r: &Row| r.effect_size.map_or(f64::INFINITY, f64::abs);
        size(b).total_cmp(&size(a))
    });
    beyond.truncate(top);
    beyond
}

pub(super) fn methods_of(rows: &[Row], input: usize) -> Vec<CiMethod> {
    let mut methods: Vec<CiMethod> = Vec::new();
    for row in rows.iter().filter(|r| r.input == input) {
        if !methods.contains(&row.method) {
            methods.push(row.method);
        }
    }
    methods
}

pub(super) fn text_summary(inputs: &[Input], rows: &[Row], top: usize) -> String {
    let reference = &inputs[0];
    let mut text = String::new();
    for (j, input) in inputs.iter().enumerate().skip(1) {
        let methods: Vec<&str> = methods_of(rows, j).iter().map(|m| m.label()).collect();
        let _ = writeln!(
            text,
            "{} vs {} ({}; {} and {} replicates):",
            input.label,
            reference.label,
            methods.join(", "),
            reference.replicates,
            input.replicates
        );
        let all = rows.iter().filter(|r| r.input == j).count();
        let beyond = rows
            .iter()
            .filter(|r| r.input == j && r.exceeds_noise() == Some(true))
            .count();
        let shown = largest(rows, j, top);
        if shown.is_empty() {
            let _ = writeln!(
                text,
                "  no difference exceeds the noise (every 95% interval contains 0)"
            );
        } else {
            let mut table = vec![[
                "metric".to_string(),
                "host".to_string(),
                "partner".to_string(),
                "date".to_string(),
                reference.label.clone(),
                input.label.clone(),
                "difference".to_string(),
                "95% CI".to_string(),
                "effect".to_string(),
            ]];
            for r in &shown {
                let ci =
                    r.ci.map_or(String::new(), |ci| format!("[{}, {}]", signed(ci.low), signed(ci.high)));
                table.push([
                    r.metric.clone(),
                    r.host.clone(),
                    r.partner.clone(),
                    r.date.to_string(),
                    short(r.reference.0),
                    short(r.other.0),
                    signed(r.difference),
                    ci,
                    r.effect_size
                        .map_or("no spread".to_string(), |d| format!("d = {d:+.2}")),
                ]);
            }
            let widths: Vec<usize> = (0..9)
                .map(|c| table.iter().map(|row| row[c].chars().count()).max().unwrap_or(0))
                .collect();
            for row in &table {
                let mut line = String::from(" ");
                for (c, cell) in row.iter().enumerate() {
                    let pad = widths[c] - cell.chars().count();
                    if c >= 4 {
                        let _ = write!(line, " {}{}", " ".repeat(pad), cell);
                    } else {
                        let _ = write!(line, " {}{}", cell, " ".repeat(pad));
                    }
                }
                let _ = writeln!(text, "{}", line.trim_end());
            }
        }
        let _ = writeln!(
            text,
            "  {beyond} of {all} differences exceed the noise (95% interval excludes 0){}",
            if beyond > shown.len() {
                format!("; the {} with the largest effect size shown", shown.len())
            } else {
                String::new()
            }
        );
    }
    text
}

pub(super) fn write_comparison(path: &Path, inputs: &[Input], rows: &[Row]) -> io::Result<()> {
    let mut writer = csv::Writer::from_writer(BufWriter::new(fs::File::create(path)?));
    writer.write_record(COMPARISON_HEADER)?;
    for r in rows {
        writer.write_record([
            r.metric.as_str(),
            &r.host,
            &r.partner,
            &r.date.to_string(),
            &inputs[r.input].label,
            &inputs[0].label,
            &number(r.reference.0),
            &number(r.other.0),
            &number(r.difference),
            &optional(r.ci.map(|c| c.low)),
            &optional(r.ci.map(|c| c.high)),
            r.method.label(),
            match r.exceeds_noise() {
                Some(true) => "yes",
                Some(false) => "no",
                None => "",
            },
            &optional(r.effect_size),
            &number(r.reference.1),
            &number(r.other.1),
            &r.reference.2.to_string(),
            &r.other.2.to_string(),
        ])?;
    }
    writer.flush()
}
