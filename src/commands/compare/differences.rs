//! The differences of a comparison: for every shared cell and horizon, each input's mean
//! against the reference's, with a confidence interval, the probability of direction
//! (paired by parameter set and replicate) and whether the difference is large enough to
//! matter; the rows of `comparison.csv` and the text summary.

use std::fmt;
use std::fmt::Write as _;
use std::fs;
use std::io::{self, BufWriter};
use std::path::Path;
use std::str::FromStr;

use super::inputs::{CellKey, Input};
use crate::analysis::bootstrap::{self, CiMethod, Interval};
use crate::format::{number, optional, short, signed};
use crate::time::Quarter;

/// A difference is *likely* when at least this share of the paired differences has the
/// sign of the mean difference.
pub const LIKELY: f64 = 0.9;

/// What is "large enough to matter": a change of at least this fraction of the
/// reference's mean (`1%`, the default), or of at least this amount in each metric's own
/// unit (`0.005`). See docs/analysis.md for the choice.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MinEffect {
    Relative(f64),
    Absolute(f64),
}

impl Default for MinEffect {
    fn default() -> MinEffect {
        MinEffect::Relative(0.01)
    }
}

impl FromStr for MinEffect {
    type Err = String;

    fn from_str(text: &str) -> Result<MinEffect, String> {
        let text = text.trim();
        let (number, relative) = match text.strip_suffix('%') {
            Some(n) => (n.trim(), true),
            None => (text, false),
        };
        let value: f64 = number
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| format!("{text:?} is not a percentage (1%) or an amount (0.005) at or above 0"))?;
        Ok(if relative {
            MinEffect::Relative(value / 100.0)
        } else {
            MinEffect::Absolute(value)
        })
    }
}

impl fmt::Display for MinEffect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MinEffect::Relative(r) => write!(f, "{}%", short(r * 100.0)),
            MinEffect::Absolute(a) => write!(f, "{}", short(*a)),
        }
    }
}

impl MinEffect {
    /// The smallest change that matters for an outcome whose reference mean is `reference`.
    pub fn threshold(self, reference: f64) -> f64 {
        match self {
            MinEffect::Relative(r) => r * reference.abs(),
            MinEffect::Absolute(a) => a,
        }
    }

    /// How the rule reads in a sentence.
    pub fn describe(self) -> String {
        match self {
            MinEffect::Relative(_) => format!("at least {self} of the reference's mean"),
            MinEffect::Absolute(_) => format!("at least {self} in the metric's unit"),
        }
    }
}

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
    /// The probability of direction: the share of paired differences with the sign of the
    /// mean difference, and its interval (paired inputs only).
    pub direction: Option<bootstrap::Direction>,
    /// The difference over the reference's mean (none when that mean is 0).
    pub relative: Option<f64>,
    /// The difference in multiples of the smallest change that matters (infinite when that
    /// is 0 and the difference is not).
    pub size: f64,
    /// Parameter sets the pairs ran over (1: the scenarios' own values).
    pub sets: usize,
}

impl Row {
    pub fn exceeds_noise(&self) -> Option<bool> {
        self.ci.map(|ci| ci.excludes_zero())
    }

    pub fn probability(&self) -> Option<f64> {
        self.direction.map(|d| d.probability)
    }

    /// At least [`LIKELY`] in the direction of the mean difference.
    pub fn likely(&self) -> bool {
        self.probability().is_some_and(|p| p >= LIKELY)
    }

    /// At least the smallest change that matters.
    pub fn large_enough(&self) -> bool {
        self.size >= 1.0
    }
}

pub const COMPARISON_HEADER: [&str; 26] = [
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
    "parameter_sets",
    "probability_of_direction",
    "probability_ci_low",
    "probability_ci_high",
    "relative_difference",
    "size_vs_min_effect",
    "large_enough",
    "likely_and_large",
];

/// The rows of `comparison.csv`: every cell and horizon, every input against the
/// reference, with the interval its replicate values allow.
pub(super) fn difference_rows(
    inputs: &[Input],
    keys: &[CellKey],
    horizons: &[Quarter],
    seed: u64,
    resamples: usize,
    min_effect: MinEffect,
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
                let sets = reference.n_sets();
                let mut direction = None;
                let (ci, method) = match (reference.samples_at(key, date), other.samples_at(key, date)) {
                    (Some(a), Some(b)) if reference.paired_with(other) && a.len() == b.len() => {
                        let mut direction_rng = bootstrap::rng_for(seed, &format!("{stream}|direction"));
                        direction = bootstrap::direction(a, b, sets, resamples, &mut direction_rng);
                        if sets > 1 {
                            (
                                bootstrap::paired_set_difference(a, b, sets, resamples, &mut rng),
                                CiMethod::PairedSetBootstrap,
                            )
                        } else {
                            (
                                bootstrap::paired_difference(a, b, resamples, &mut rng),
                                CiMethod::PairedBootstrap,
                            )
                        }
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
                let difference = o.mean - r.mean;
                let threshold = min_effect.threshold(r.mean);
                let size = if threshold > 0.0 {
                    difference.abs() / threshold
                } else if difference != 0.0 {
                    f64::INFINITY
                } else {
                    0.0
                };
                rows.push(Row {
                    metric: key.0.clone(),
                    host: key.1.clone(),
                    partner: key.2.clone(),
                    date,
                    input: j,
                    reference: (r.mean, r.sd, reference.replicates),
                    other: (o.mean, o.sd, other.replicates),
                    difference,
                    ci,
                    method,
                    effect_size: bootstrap::effect_size((r.mean, r.sd), (o.mean, o.sd)),
                    direction,
                    relative: (r.mean != 0.0).then(|| difference / r.mean.abs()),
                    size,
                    sets: if reference.paired_with(other) { sets } else { 0 },
                });
            }
        }
    }
    rows
}

/// The rows of one compared input that are both likely and large enough, the most likely
/// first and, among equally likely ones, the largest (in multiples of the smallest change
/// that matters).
pub fn leading(rows: &[Row], input: usize, top: usize) -> Vec<&Row> {
    let mut shown: Vec<&Row> = rows
        .iter()
        .filter(|r| r.input == input && r.likely() && r.large_enough())
        .collect();
    shown.sort_by(|a, b| {
        let p = |r: &Row| r.probability().unwrap_or(0.0);
        p(b).total_cmp(&p(a)).then(b.size.total_cmp(&a.size))
    });
    shown.truncate(top);
    shown
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

/// How the pairs of one compared input were formed, for the summary's heading.
pub(super) fn pairing(reference: &Input, other: &Input) -> String {
    match (reference.paired_with(other), reference.n_sets()) {
        (true, 1) => format!("paired by replicate; {} replicates", reference.replicates),
        (true, k) => format!(
            "paired by parameter set and replicate; {} replicates on {k} parameter sets",
            reference.replicates
        ),
        (false, _) => format!(
            "not paired (different seeds, replicates or parameter sets); {} and {} replicates",
            reference.replicates, other.replicates
        ),
    }
}

pub(super) fn text_summary(inputs: &[Input], rows: &[Row], top: usize, min_effect: MinEffect) -> String {
    let reference = &inputs[0];
    let mut text = String::new();
    for (j, input) in inputs.iter().enumerate().skip(1) {
        let methods: Vec<&str> = methods_of(rows, j).iter().map(|m| m.label()).collect();
        let _ = writeln!(
            text,
            "{} vs {} ({}; {}):",
            input.label,
            reference.label,
            pairing(reference, input),
            methods.join(", ")
        );
        let all = rows.iter().filter(|r| r.input == j).count();
        let beyond = rows
            .iter()
            .filter(|r| r.input == j && r.exceeds_noise() == Some(true))
            .count();
        let likely = rows.iter().filter(|r| r.input == j && r.likely()).count();
        let both = rows
            .iter()
            .filter(|r| r.input == j && r.likely() && r.large_enough())
            .count();
        let shown = leading(rows, j, top);
        if !shown.is_empty() {
            let mut table = vec![[
                "metric".to_string(),
                "host".to_string(),
                "partner".to_string(),
                "date".to_string(),
                reference.label.clone(),
                input.label.clone(),
                "difference".to_string(),
                "95% CI".to_string(),
                "P(direction)".to_string(),
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
                    r.direction.map_or(String::new(), |d| {
                        format!("{:.2}{}", d.probability, if d.sign > 0.0 { " up" } else { " down" })
                    }),
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
        let rule = format!(
            "likely (P(direction) >= {LIKELY}: at least that share of the paired replicates moves the outcome the way the mean does) \
             and large enough ({})",
            min_effect.describe()
        );
        if shown.is_empty() {
            let _ = writeln!(text, "  no difference is both {rule}");
        } else {
            let _ = writeln!(
                text,
                "  {both} of {all} differences are {rule}{}",
                if both > shown.len() {
                    format!("; the {} most likely (then largest) shown", shown.len())
                } else {
                    String::new()
                }
            );
        }
        let _ = writeln!(
            text,
            "  {likely} of {all} are likely; {beyond} of {all} mean differences have a 95% interval that excludes 0"
        );
    }
    text
}

pub(super) fn write_comparison(path: &Path, inputs: &[Input], rows: &[Row]) -> io::Result<()> {
    let mut writer = csv::Writer::from_writer(BufWriter::new(fs::File::create(path)?));
    writer.write_record(COMPARISON_HEADER)?;
    let yes_no = |b: bool| if b { "yes" } else { "no" };
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
            &if r.sets == 0 { String::new() } else { r.sets.to_string() },
            &optional(r.probability()),
            &optional(r.direction.and_then(|d| d.interval).map(|c| c.low)),
            &optional(r.direction.and_then(|d| d.interval).map(|c| c.high)),
            &optional(r.relative),
            &optional(r.size.is_finite().then_some(r.size)),
            yes_no(r.large_enough()),
            yes_no(r.likely() && r.large_enough()),
        ])?;
    }
    writer.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_effect_reads_percentages_and_amounts() {
        assert_eq!("1%".parse::<MinEffect>(), Ok(MinEffect::Relative(0.01)));
        assert_eq!(" 2.5 % ".parse::<MinEffect>(), Ok(MinEffect::Relative(0.025)));
        assert_eq!("0.005".parse::<MinEffect>(), Ok(MinEffect::Absolute(0.005)));
        assert!("-1%".parse::<MinEffect>().is_err() && "lots".parse::<MinEffect>().is_err());
        assert_eq!(MinEffect::default().threshold(-0.5), 0.005);
        assert_eq!(MinEffect::Absolute(0.2).threshold(100.0), 0.2);
        assert_eq!(MinEffect::default().to_string(), "1%");
    }
}
