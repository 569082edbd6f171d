//! What the screen writes: `levers.csv`, `inert.csv`, `keys.csv`, a tornado chart per
//! outcome, the summary on stdout and the manifest's body.

use std::fmt::Write as _;
use std::fs;
use std::io::{self, BufWriter};
use std::path::Path;

use serde_json::{json, Value};

use super::keys::{Direction, KeyClass, Steps, DIRECTIONS, RESOLUTION_KEYS};
use super::paired::{elasticity, KeyVerdict, Screen, Verdict, NEGLIGIBLE_ABSOLUTE, NEGLIGIBLE_RELATIVE};
use crate::analysis::bootstrap::LEVEL;
use crate::analysis::outcomes::Outcome;
use crate::chart::{Bar, BarFigure, BarPanel};
use crate::format::{number, short, signed};
use crate::metrics::MetricLayout;

/// Keys per tornado chart.
pub const TORNADO_KEYS: usize = 15;

pub const LEVERS_HEADER: [&str; 17] = [
    "key",
    "class",
    "direction",
    "base_value",
    "perturbed_value",
    "metric",
    "host",
    "partner",
    "date",
    "base_mean",
    "perturbed_mean",
    "difference",
    "difference_sd",
    "ci_low",
    "ci_high",
    "exceeds_noise",
    "elasticity",
];

pub const INERT_HEADER: [&str; 10] = [
    "key",
    "class",
    "base_value",
    "down_value",
    "up_value",
    "unchanged",
    "rows",
    "rows_beyond_noise",
    "largest_t",
    "familywise_t",
];

pub const KEYS_HEADER: [&str; 13] = [
    "key",
    "class",
    "step_rule",
    "base_value",
    "down_value",
    "down_status",
    "up_value",
    "up_status",
    "rows",
    "rows_beyond_noise",
    "largest_t",
    "familywise_t",
    "verdict",
];

/// `metric:HOST[:PARTNER]`, an outcome without its date.
pub fn cell_label(outcome: &Outcome, layout: &MetricLayout) -> String {
    let label = outcome.label(layout);
    label
        .rsplit_once('@')
        .map_or(label.clone(), |(cell, _)| cell.to_string())
}

fn csv_writer(path: &Path) -> io::Result<csv::Writer<BufWriter<fs::File>>> {
    Ok(csv::Writer::from_writer(BufWriter::new(fs::File::create(path)?)))
}

impl Screen<'_> {
    /// The value tried in one direction, or empty.
    fn tried(&self, key: usize, direction: Direction) -> String {
        self.side(key, direction)
            .perturbation
            .value
            .map_or(String::new(), number)
    }

    pub fn write_levers(&self, path: &Path) -> io::Result<()> {
        let mut writer = csv_writer(path)?;
        writer.write_record(LEVERS_HEADER)?;
        for (k, key) in self.keys.iter().enumerate() {
            for direction in DIRECTIONS {
                let result = self.side(k, direction);
                let p = &result.perturbation;
                let Some(value) = p.value.filter(|_| p.skipped.is_none()) else {
                    continue;
                };
                for ((outcome, stats), &base_mean) in self.outcomes.iter().zip(&result.stats).zip(self.base_means) {
                    let row = self.thresholds.row(stats, base_mean);
                    writer.write_record([
                        key.key.clone(),
                        key.class.label().to_string(),
                        direction.label().to_string(),
                        number(key.value),
                        number(value),
                        self.layout.metric(outcome.metric).name.clone(),
                        self.layout.host_labels[outcome.host].clone(),
                        self.layout.partner_label(outcome.partner).to_string(),
                        outcome.date.to_string(),
                        number(base_mean),
                        number(stats.perturbed_mean),
                        number(stats.difference),
                        number(stats.sd),
                        row.ci.map_or(String::new(), |c| number(c.0)),
                        row.ci.map_or(String::new(), |c| number(c.1)),
                        row.exceeds_noise.to_string(),
                        elasticity(stats.difference, base_mean, value, key.value).map_or(String::new(), number),
                    ])?;
                }
            }
        }
        writer.flush()
    }

    pub fn write_inert(&self, path: &Path, verdicts: &[KeyVerdict]) -> io::Result<()> {
        let mut writer = csv_writer(path)?;
        writer.write_record(INERT_HEADER)?;
        for (k, verdict) in verdicts.iter().enumerate() {
            if verdict.verdict != Verdict::Inert {
                continue;
            }
            let ran = |d: Direction| self.side(k, d).perturbation.skipped.is_none();
            let value = |d: Direction| if ran(d) { self.tried(k, d) } else { String::new() };
            let e = self.evidence(k);
            writer.write_record([
                verdict.key.clone(),
                verdict.class.label().to_string(),
                number(verdict.base_value),
                value(Direction::Down),
                value(Direction::Up),
                verdict.unchanged.to_string(),
                e.rows.to_string(),
                e.beyond.to_string(),
                number(e.largest),
                number(e.critical),
            ])?;
        }
        writer.flush()
    }

    pub fn write_keys(&self, path: &Path, verdicts: &[KeyVerdict]) -> io::Result<()> {
        let mut writer = csv_writer(path)?;
        writer.write_record(KEYS_HEADER)?;
        for (k, verdict) in verdicts.iter().enumerate() {
            let e = self.evidence(k);
            let status = |d: Direction| {
                self.side(k, d)
                    .perturbation
                    .skipped
                    .clone()
                    .unwrap_or_else(|| "ran".to_string())
            };
            let ran = e.rows > 0;
            writer.write_record([
                verdict.key.clone(),
                verdict.class.label().to_string(),
                self.rules[k].describe(),
                number(verdict.base_value),
                self.tried(k, Direction::Down),
                status(Direction::Down),
                self.tried(k, Direction::Up),
                status(Direction::Up),
                e.rows.to_string(),
                e.beyond.to_string(),
                if ran { number(e.largest) } else { String::new() },
                if ran { number(e.critical) } else { String::new() },
                verdict.verdict.label().to_string(),
            ])?;
        }
        writer.flush()
    }

    /// The tornado chart of cell `c` at the last horizon: the keys that move it most, a
    /// bar for each direction; `None` when no key moves it.
    pub fn tornado(&self, c: usize) -> Option<BarFigure> {
        let row = self.last_row(c);
        let ranked = self.ranking(c);
        if ranked.is_empty() {
            return None;
        }
        let bar = |k: usize, d: Direction| match self.side(k, d).stats.get(row) {
            Some(s) => Bar {
                value: s.difference,
                interval: self.thresholds.row(s, self.base_means[row]).ci,
            },
            None => Bar {
                value: f64::NAN,
                interval: None,
            },
        };
        let rows = ranked
            .iter()
            .take(TORNADO_KEYS)
            .map(|&(k, _)| {
                let key = &self.keys[k];
                let value = |d: Direction| self.side(k, d).perturbation.value.map_or("-".to_string(), short);
                let mut label = format!(
                    "{} ({} \u{2192} {} / {})",
                    key.key,
                    short(key.value),
                    value(Direction::Down),
                    value(Direction::Up)
                );
                if key.class == KeyClass::Resolution {
                    label.push_str(" [resolution]");
                }
                (label, vec![bar(k, Direction::Down), bar(k, Direction::Up)])
            })
            .collect();
        let outcome = &self.outcomes[row];
        Some(BarFigure {
            title: format!("What moves {}", outcome.title(self.layout)),
            subtitle: format!(
                "Change in the ensemble mean when one key is moved down or up (paired, {} replicates on one seed; whiskers: 95% intervals). Base mean {}. The {} of {} keys with the largest effect.",
                self.thresholds.replicates,
                short(self.base_means[row]),
                ranked.len().min(TORNADO_KEYS),
                ranked.len()
            ),
            panels: vec![BarPanel {
                title: "One key at a time".to_string(),
                x_desc: format!(
                    "Change in {} (perturbed \u{2212} base)",
                    self.layout.metric(outcome.metric).name
                ),
                measures: vec![("key moved down".to_string(), 0), ("key moved up".to_string(), 1)],
                rows,
                overlay: true,
            }],
        })
    }

    /// The summary printed on stdout.
    pub fn summary(&self, name: &str, verdicts: &[KeyVerdict]) -> String {
        let mut text = String::new();
        let replicates = self.thresholds.replicates;
        let count = |class: KeyClass| verdicts.iter().filter(|v| v.class == class).count();
        let runs = self.results.iter().filter(|r| r.perturbation.skipped.is_none()).count();
        let _ = writeln!(
            text,
            "levers {name}: {} keys screened ({} levers, {} resolution settings), {} perturbations run, {} skipped (see keys.csv); {} replicate{} each on one seed{}",
            verdicts.len(),
            count(KeyClass::Lever),
            count(KeyClass::Resolution),
            runs,
            self.results.len() - runs,
            replicates,
            if replicates == 1 { "" } else { "s" },
            if replicates == 1 {
                " (one replicate measures no noise: any change counts)"
            } else {
                ""
            }
        );
        let of = |class: KeyClass, verdict: Verdict| -> Vec<&KeyVerdict> {
            verdicts
                .iter()
                .filter(|v| v.class == class && v.verdict == verdict)
                .collect()
        };
        let _ = writeln!(
            text,
            "  live: {} levers move at least one outcome beyond the noise",
            of(KeyClass::Lever, Verdict::Live).len()
        );
        let inert = of(KeyClass::Lever, Verdict::Inert);
        let _ = writeln!(
            text,
            "  inert: {} levers move no outcome beyond the noise ({} of them, marked *, change no outcome at all):",
            inert.len(),
            inert.iter().filter(|v| v.unchanged).count()
        );
        for v in &inert {
            let mark = if v.unchanged { '*' } else { ' ' };
            let _ = writeln!(text, "   {mark} {} = {}", v.key, short(v.base_value));
        }
        let untested = of(KeyClass::Lever, Verdict::Untested);
        if !untested.is_empty() {
            let _ = writeln!(
                text,
                "  untested: {} levers (no valid step either way):",
                untested.len()
            );
            for v in &untested {
                let _ = writeln!(text, "    {} = {}", v.key, short(v.base_value));
            }
        }
        for v in verdicts.iter().filter(|v| v.class == KeyClass::Resolution) {
            let note = match v.verdict {
                Verdict::Live => "moves outcomes beyond the noise: results depend on it",
                Verdict::Inert => "moves no outcome beyond the noise",
                Verdict::Untested => "untested",
            };
            let _ = writeln!(text, "  resolution: {} = {}: {note}", v.key, short(v.base_value));
        }
        // The largest effects on the first outcomes named (by default alignment with each
        // patron) at the last horizon.
        let first_metric = self.cells.first().map(|c| c.metric);
        for (c, cell) in self.cells.iter().enumerate() {
            if Some(cell.metric) != first_metric {
                break;
            }
            self.largest_effects(&mut text, c);
        }
        text
    }

    /// The ten keys that move cell `c` most at the last horizon, each way.
    fn largest_effects(&self, text: &mut String, c: usize) {
        let row = self.last_row(c);
        let ranked = self.ranking(c);
        let _ = writeln!(
            text,
            "  largest effects on {} (base mean {}):",
            self.outcomes[row].label(self.layout),
            short(self.base_means[row])
        );
        if ranked.is_empty() {
            let _ = writeln!(text, "    none beyond rounding");
        }
        for &(k, _) in ranked.iter().take(10) {
            let part = |d: Direction| {
                let r = self.side(k, d);
                match (r.perturbation.value, r.stats.get(row)) {
                    (Some(v), Some(s)) => {
                        let verdict = self.thresholds.row(s, self.base_means[row]);
                        format!(
                            "{} at {}{}",
                            signed(s.difference),
                            short(v),
                            if verdict.exceeds_noise { "" } else { " (noise)" }
                        )
                    }
                    _ => "-".to_string(),
                }
            };
            let _ = writeln!(
                text,
                "    {} = {}: down {}, up {}",
                self.keys[k].key,
                short(self.keys[k].value),
                part(Direction::Down),
                part(Direction::Up)
            );
        }
    }

    /// The manifest's body after the header: how the screen was made, what it found and
    /// the files written.
    pub fn manifest_body(&self, run: &ManifestFacts, verdicts: &[KeyVerdict], files: &[String]) -> Value {
        let steps = run.steps;
        json!({
            "scenario_name": run.scenario_name,
            "scenario_files": run.scenario_files,
            "random_generator": "ChaCha8 (rand_chacha): replicate i of the base and of every perturbation uses stream i of the seed (common random numbers)",
            "keys_selected_by": run.globs,
            "keys_screened": self.keys.len(),
            "ensembles": 1 + self.results.iter().filter(|r| r.perturbation.skipped.is_none()).count(),
            "steps": {
                "relative": steps.relative,
                "share": steps.share,
                "integer": format!("±max(1, round({} |x|))", steps.relative),
                "zero": format!("±{} × the median magnitude of the same key's non-zero values in the other actors, else ±{} in the key's unit", steps.relative, steps.relative),
            },
            "resolution_keys": RESOLUTION_KEYS,
            "interval": "mean of per-replicate paired differences ± t(0.975, n-1) × sd / sqrt(n)",
            "verdict": "live when a row's |difference| / standard error exceeds t(1 - 0.025/m, n-1) for the key's m rows (Bonferroni); with one replicate, any change beyond rounding",
            "confidence_level": LEVEL,
            "negligible_difference": format!("{NEGLIGIBLE_RELATIVE} × |mean| + {NEGLIGIBLE_ABSOLUTE}"),
            "outcomes": self.outcomes.iter().map(|o| o.label(self.layout)).collect::<Vec<_>>(),
            "horizons": self.horizons.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
            "inert": verdicts.iter().filter(|v| v.verdict == Verdict::Inert).map(|v| v.key.clone()).collect::<Vec<_>>(),
            "resolved_scenario": run.resolved,
            "files": files,
        })
    }
}

/// What the manifest records beyond the screen's findings.
pub struct ManifestFacts<'a> {
    pub scenario_name: &'a str,
    pub scenario_files: Vec<String>,
    pub globs: &'a [String],
    pub steps: Steps,
    pub resolved: Value,
}
