//! `greatgame sweep`: one ensemble at every point of a set of parameter values.
//!
//! Points come from the scenario's `[sweep]` table, or from `--set KEY=VALUES` and
//! `--design FILE` on the command line (which then replace the table): each parameter's
//! values are a list or a range; parameters are combined as a grid (every combination) or
//! zipped; a design file's rows are points of their own (and are crossed with any
//! parameters). Every point runs with the same seed, so replicate `i` uses the same random
//! stream at every point (common random numbers) and differences between points are not
//! blurred by different draws.

use std::fs;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use serde_json::json;

use super::{
    check_horizons, default_horizons, io_context, last_quarter, resolve_metrics, run_ensemble, write_folder,
    write_json, AnalysisError, Outcome, Progress, RunSettings, Written,
};
use crate::chart::{panel_figure, write_figure, Line, PanelSpec};
use crate::ensemble::EnsembleConfig;
use crate::format::{number, short, slug};
use crate::metrics::{MetricLayout, ALL_HOSTS};
use crate::scenario::file::{SweepFile, SweepParameterFile};
use crate::scenario::overrides::{parse_key, parse_value, show_value, Override, ScenarioTree};
use crate::scenario::source::KeyPath;
use crate::scenario::{LoadedScenario, Problem, ScenarioError};
use crate::stats::CellStats;
use crate::time::Quarter;

/// Most points a sweep runs.
pub const MAX_POINTS: usize = 100_000;

#[derive(Debug, Clone)]
pub struct SweepOptions {
    pub scenario: PathBuf,
    pub settings: RunSettings,
    /// `--set KEY=VALUES` as written; with `design`, replaces the file's `[sweep]`.
    pub set: Vec<String>,
    /// `grid` or `zip`; `None`: the file's, else grid.
    pub combine: Option<String>,
    pub design: Option<PathBuf>,
    /// Metric names ([`super::parse_metrics`]), resolved in the scenario's layout: base,
    /// per-commodity or per-route metrics.
    pub metrics: Vec<String>,
    pub horizons: Option<Vec<Quarter>>,
}

#[derive(Debug)]
pub struct SweepOutcome {
    pub written: Written,
    pub points: usize,
    pub summary: String,
}

/// The points to run: column keys and, per point, one value per column.
#[derive(Debug, Clone, PartialEq)]
pub struct Points {
    pub keys: Vec<String>,
    pub values: Vec<Vec<toml::Value>>,
    /// Whether the points come from a design file (scattered) rather than lists and ranges.
    pub scattered: bool,
}

impl Points {
    pub fn overrides(&self, point: usize) -> Vec<Override> {
        self.keys
            .iter()
            .cloned()
            .zip(self.values[point].iter().cloned())
            .collect()
    }

    fn describe(&self, point: usize) -> String {
        self.keys
            .iter()
            .zip(&self.values[point])
            .map(|(k, v)| format!("{k} = {}", show_value(v)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Rounds to 12 significant digits, so ranges give 0.08 rather than 0.07999999999999999,
/// and makes whole numbers TOML integers (which integer and real keys both accept).
pub fn tidy_number(value: f64) -> toml::Value {
    let rounded: f64 = format!("{value:.11e}").parse().unwrap_or(value);
    if rounded.fract() == 0.0 && rounded.abs() < 1e15 {
        toml::Value::Integer(rounded as i64)
    } else {
        toml::Value::Float(rounded)
    }
}

/// `steps` evenly spaced values from `from` to `to`, ends included.
pub fn range_steps(from: f64, to: f64, steps: u32) -> Vec<toml::Value> {
    if steps <= 1 {
        return vec![tidy_number(from)];
    }
    (0..steps)
        .map(|k| tidy_number(from + (to - from) * f64::from(k) / f64::from(steps - 1)))
        .collect()
}

/// Values from `from` by `step` up to `to` (with a little slack for rounding).
pub fn range_by(from: f64, to: f64, step: f64) -> Result<Vec<toml::Value>, String> {
    if !(step.is_finite() && from.is_finite() && to.is_finite()) || step == 0.0 || (to - from) / step < 0.0 {
        return Err(format!("a step of {step} never goes from {from} to {to}"));
    }
    let count = ((to - from) / step + 1e-9).floor() as usize + 1;
    if count > MAX_POINTS {
        return Err(format!("{count} values; at most {MAX_POINTS}"));
    }
    Ok((0..count).map(|k| tidy_number(from + step * k as f64)).collect())
}

/// Parses `KEY=VALUES`: `a,b,c` (a list) or `FROM..TO:N` (N evenly spaced values).
pub fn parse_set(text: &str) -> Result<(String, Vec<toml::Value>), String> {
    let (key, values) = text
        .split_once('=')
        .ok_or_else(|| format!("--set {text:?}: expected KEY=VALUES, e.g. model.alignment_inertia=0.04,0.08"))?;
    let key = key.trim();
    parse_key(key).map_err(|e| format!("--set {text:?}: {e}"))?;
    let values = values.trim();
    if let Some((range, n)) = values.rsplit_once(':').filter(|(r, _)| r.contains("..")) {
        let (from, to) = range.split_once("..").expect("checked");
        let parse = |s: &str| -> Result<f64, String> {
            s.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| format!("--set {text:?}: {s:?} is not a number"))
        };
        let n: u32 = n
            .trim()
            .parse()
            .ok()
            .filter(|n| (1..=MAX_POINTS as u32).contains(n))
            .ok_or_else(|| format!("--set {text:?}: {n:?} is not a number of points (1 to {MAX_POINTS})"))?;
        return Ok((key.to_string(), range_steps(parse(from)?, parse(to)?, n)));
    }
    if values.contains("..") {
        return Err(format!(
            "--set {text:?}: a range needs its number of points, e.g. {key}=0.5..2:4"
        ));
    }
    let list: Vec<toml::Value> = values
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(parse_value)
        .collect();
    if list.is_empty() {
        return Err(format!("--set {text:?}: no values"));
    }
    Ok((key.to_string(), list))
}

/// Combines parameters' values: every combination (`grid`, the last parameter varying
/// fastest) or the i-th values together (`zip`).
pub fn combine(parameters: &[(String, Vec<toml::Value>)], zip: bool) -> Result<Vec<Vec<toml::Value>>, String> {
    if parameters.is_empty() {
        return Ok(vec![Vec::new()]);
    }
    if zip {
        let n = parameters[0].1.len();
        if let Some((key, values)) = parameters.iter().find(|(_, v)| v.len() != n) {
            return Err(format!(
                "combine = \"zip\" needs lists of one length: {} has {n} values, {key} has {}",
                parameters[0].0,
                values.len()
            ));
        }
        return Ok((0..n)
            .map(|i| parameters.iter().map(|(_, v)| v[i].clone()).collect())
            .collect());
    }
    let total = parameters
        .iter()
        .try_fold(1usize, |acc, (_, v)| acc.checked_mul(v.len()))
        .filter(|&t| t <= MAX_POINTS)
        .ok_or_else(|| format!("the grid has more than {MAX_POINTS} points"))?;
    let mut points = Vec::with_capacity(total);
    for mut index in 0..total {
        let mut point = vec![toml::Value::Boolean(false); parameters.len()];
        for (slot, (_, values)) in point.iter_mut().zip(parameters).rev() {
            *slot = values[index % values.len()].clone();
            index /= values.len();
        }
        points.push(point);
    }
    Ok(points)
}

/// Reads a design: a CSV header of key paths, then one row of values per point.
pub fn read_design(path: &Path) -> Result<(Vec<String>, Vec<Vec<toml::Value>>), AnalysisError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| AnalysisError::input(path, format!("cannot be read: {e}")))?;
    let keys: Vec<String> = reader
        .headers()
        .map_err(|e| AnalysisError::input(path, e.to_string()))?
        .iter()
        .map(str::to_string)
        .collect();
    for key in &keys {
        parse_key(key).map_err(|e| AnalysisError::input(path, format!("line 1: {e}")))?;
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| AnalysisError::input(path, e.to_string()))?;
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().any(str::is_empty) {
            return Err(AnalysisError::input(
                path,
                format!("line {line}: every column needs a value"),
            ));
        }
        rows.push(record.iter().map(parse_value).collect());
        if rows.len() > MAX_POINTS {
            return Err(AnalysisError::input(path, format!("more than {MAX_POINTS} points")));
        }
    }
    if rows.is_empty() {
        return Err(AnalysisError::input(path, "has a header but no points"));
    }
    Ok((keys, rows))
}

/// The points of a sweep from the file's table and the command line.
fn points(options: &SweepOptions, tree: &ScenarioTree, file: &SweepFile) -> Result<Points, AnalysisError> {
    let from_command_line = !options.set.is_empty() || options.design.is_some();
    let (parameters, design, combine_mode) = if from_command_line {
        let parameters = options
            .set
            .iter()
            .map(|s| parse_set(s))
            .collect::<Result<Vec<_>, _>>()
            .map_err(AnalysisError::Usage)?;
        let mode = options.combine.clone().unwrap_or_else(|| "grid".to_string());
        (parameters, options.design.clone(), mode)
    } else {
        if file.is_empty() {
            return Err(AnalysisError::Usage(format!(
                "{} has no [sweep] table: add one (see docs/analysis.md) or give parameters with --set KEY=VALUES",
                options.scenario.display()
            )));
        }
        let parameters = file_parameters(tree, &file.parameters)?;
        let design = file.design.as_ref().map(|d| {
            let base = tree
                .defining_file(&["sweep", "design"])
                .and_then(|f| f.parent().map(Path::to_path_buf))
                .unwrap_or_default();
            base.join(d)
        });
        let mode = options.combine.clone().unwrap_or_else(|| file.combine.clone());
        (parameters, design, mode)
    };
    let zip = match combine_mode.as_str() {
        "grid" => false,
        "zip" => true,
        other => {
            let message = format!("combine must be \"grid\" or \"zip\", got {other:?}");
            return Err(if from_command_line || options.combine.is_some() {
                AnalysisError::Usage(message)
            } else {
                located(tree, KeyPath::root().key("sweep").key("combine"), "", message)
            });
        }
    };
    let grid = combine(&parameters, zip).map_err(AnalysisError::Usage)?;
    let mut keys: Vec<String> = parameters.iter().map(|(k, _)| k.clone()).collect();
    let (design_keys, design_rows) = match &design {
        Some(path) => read_design(path)?,
        None => (Vec::new(), vec![Vec::new()]),
    };
    for key in &design_keys {
        if keys.contains(key) {
            return Err(AnalysisError::Usage(format!(
                "{key} is both a swept parameter and a column of the design"
            )));
        }
    }
    keys.extend(design_keys);
    let mut values = Vec::new();
    for row in &design_rows {
        for point in &grid {
            let mut all = point.clone();
            all.extend(row.iter().cloned());
            values.push(all);
        }
    }
    if values.len() > MAX_POINTS {
        return Err(AnalysisError::Usage(format!(
            "the sweep has more than {MAX_POINTS} points"
        )));
    }
    if keys.is_empty() {
        return Err(AnalysisError::Usage("the sweep varies no parameter".to_string()));
    }
    Ok(Points {
        keys,
        values,
        scattered: design.is_some(),
    })
}

fn located(tree: &ScenarioTree, path: KeyPath, _what: &str, message: String) -> AnalysisError {
    AnalysisError::Scenario {
        context: "the [sweep] table is not valid".to_string(),
        error: ScenarioError {
            problems: vec![Problem {
                location: tree.locate(&path),
                key: path.to_string(),
                message,
            }],
        },
    }
}

fn file_parameters(
    tree: &ScenarioTree,
    parameters: &[SweepParameterFile],
) -> Result<Vec<(String, Vec<toml::Value>)>, AnalysisError> {
    let mut out = Vec::new();
    for (i, p) in parameters.iter().enumerate() {
        let at = KeyPath::root().key("sweep").key("parameters").index(i);
        let fail = |field: &str, message: String| located(tree, at.key(field), "", message);
        if let Err(e) = parse_key(&p.key) {
            return Err(fail("key", e));
        }
        let values = match (&p.values, p.from, p.to, p.steps, p.step) {
            (Some(values), None, None, None, None) if !values.is_empty() => values.clone(),
            (Some(_), None, None, None, None) => return Err(fail("values", "is empty".to_string())),
            (None, Some(from), Some(to), Some(steps), None) => {
                if steps == 0 || steps as usize > MAX_POINTS {
                    return Err(fail("steps", format!("must be 1 to {MAX_POINTS}, got {steps}")));
                }
                range_steps(from, to, steps)
            }
            (None, Some(from), Some(to), None, Some(step)) => range_by(from, to, step).map_err(|e| fail("step", e))?,
            _ => {
                return Err(located(
                    tree,
                    at.clone(),
                    "",
                    "needs `values = [...]`, or `from`, `to` and one of `steps` or `step`".to_string(),
                ))
            }
        };
        if out.iter().any(|(k, _): &(String, Vec<toml::Value>)| *k == p.key) {
            return Err(fail("key", format!("{} is swept twice", p.key)));
        }
        out.push((p.key.clone(), values));
    }
    Ok(out)
}

/// Runs the sweep and writes `DIR/sweep-<scenario>/`.
pub fn sweep(
    options: &SweepOptions,
    progress: &dyn Progress,
    cancel: &AtomicBool,
) -> Result<SweepOutcome, AnalysisError> {
    let invalid = |context: String| move |error: ScenarioError| AnalysisError::Scenario { context, error };
    let (tree, base) = super::read_base(&options.scenario)?;
    let points = points(options, &tree, &base.resolved.sweep)?;

    // Every point is checked before anything runs.
    let scenarios: Vec<LoadedScenario> = (0..points.values.len())
        .map(|p| {
            tree.resolve(&points.overrides(p)).map_err(invalid(format!(
                "sweep point {} ({}) is not valid",
                p + 1,
                points.describe(p)
            )))
        })
        .collect::<Result<_, _>>()?;
    let layout = MetricLayout::new(&base.scenario);
    let metrics = resolve_metrics(&options.metrics, &layout, &format!("scenario {}", base.scenario.name))?;
    let horizons = match &options.horizons {
        Some(h) => h.clone(),
        None => default_horizons(base.scenario.start, last_quarter(&base.scenario)),
    };
    for (p, loaded) in scenarios.iter().enumerate() {
        let s = &loaded.scenario;
        check_horizons(&horizons, s.start, last_quarter(s), &format!("sweep point {}", p + 1))?;
        let other = MetricLayout::new(s);
        if other.host_labels != layout.host_labels || other.partner_labels != layout.partner_labels {
            return Err(AnalysisError::Usage(format!(
                "sweep point {} changes the scenario's actors",
                p + 1
            )));
        }
        for &m in &metrics {
            let name = &layout.metric(m).name;
            if other.find(name).is_none() {
                return Err(AnalysisError::Usage(format!(
                    "sweep point {} ({}) has no metric {name:?}",
                    p + 1,
                    points.describe(p)
                )));
            }
        }
    }
    let outcomes = all_outcomes(&layout, &metrics, &horizons);

    let replicates = options.settings.replicates.unwrap_or(base.scenario.replicates);
    let seed = options.settings.seed.unwrap_or(base.scenario.seed);
    progress.start(replicates * scenarios.len() as u64, "replicates");
    let mut results: Vec<Vec<CellStats>> = Vec::with_capacity(scenarios.len());
    for (p, loaded) in scenarios.iter().enumerate() {
        let config = EnsembleConfig {
            replicates,
            seed,
            threads: options.settings.threads,
            max_memory_bytes: options.settings.max_memory_bytes,
        };
        let summary = run_ensemble(&loaded.scenario, &config, progress, cancel, None, || {
            format!("sweep point {} ({})", p + 1, points.describe(p))
        })?;
        results.push(
            outcomes
                .iter()
                .map(|o| {
                    *o.stats(&layout, &loaded.scenario, &summary)
                        .expect("every point's layout was checked before running")
                })
                .collect(),
        );
    }

    let summary = text_summary(&points, &outcomes, &results, &layout, &metrics);
    let name = super::folder_name("sweep", &[base.scenario.name.as_str()]);
    let written = write_folder(options.settings.out_root(), &name, |dir| {
        let mut files = vec!["sweep.csv".to_string()];
        write_sweep_csv(
            &dir.join("sweep.csv"),
            &points,
            &outcomes,
            &results,
            &layout,
            replicates,
        )
        .map_err(io_context("writing sweep.csv"))?;
        if options.settings.charts {
            let chart_dir = dir.join("charts");
            fs::create_dir_all(&chart_dir).map_err(io_context("creating charts/"))?;
            for path in draw_charts(&chart_dir, &points, &outcomes, &results, &layout, &metrics, &horizons)? {
                files.push(path.strip_prefix(dir).unwrap_or(&path).display().to_string());
            }
        }
        files.push("manifest.json".to_string());
        let manifest = json!({
            "greatgame_version": env!("CARGO_PKG_VERSION"),
            "command": "sweep",
            "command_line": options.settings.command_line,
            "scenario_name": base.scenario.name,
            "scenario_files": base.files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
            "seed": seed,
            "replicates": replicates,
            "random_generator": "ChaCha8 (rand_chacha), seeded with the seed, stream = replicate index; the same seed at every point",
            "parameters": points.keys,
            "points": (0..points.values.len()).map(|p| json!({
                "point": p + 1,
                "values": points.keys.iter().zip(&points.values[p]).map(|(k, v)| (k.clone(), serde_json::to_value(v).unwrap_or_default())).collect::<serde_json::Map<_, _>>(),
            })).collect::<Vec<_>>(),
            "metrics": metrics.iter().map(|&m| layout.metric(m).name.as_str()).collect::<Vec<_>>(),
            "horizons": horizons.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
            "resolved_scenario": serde_json::to_value(&base.resolved).unwrap_or_default(),
            "files": files,
        });
        write_json(&dir.join("manifest.json"), &manifest).map_err(io_context("writing manifest.json"))?;
        Ok(files)
    })?;
    Ok(SweepOutcome {
        written,
        points: points.values.len(),
        summary,
    })
}

/// Every host row and partner of the chosen metrics at every horizon, metric-major
/// (regional metrics: only the all-hosts row).
fn all_outcomes(layout: &MetricLayout, metrics: &[usize], horizons: &[Quarter]) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    for &metric in metrics {
        let rows = if layout.metric(metric).regional {
            layout.all_hosts_row()..layout.n_rows()
        } else {
            0..layout.n_rows()
        };
        for host in rows {
            let partners: Vec<Option<usize>> = if layout.metric(metric).per_partner {
                (0..layout.partner_labels.len()).map(Some).collect()
            } else {
                vec![None]
            };
            for partner in partners {
                for &date in horizons {
                    outcomes.push(Outcome {
                        metric,
                        host,
                        partner,
                        date,
                    });
                }
            }
        }
    }
    outcomes
}

/// A parameter value in a CSV cell: strings bare, numbers as numbers.
fn cell(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Float(x) => number(*x),
        other => other.to_string(),
    }
}

fn numeric(value: &toml::Value) -> Option<f64> {
    match value {
        toml::Value::Float(x) => Some(*x),
        toml::Value::Integer(i) => Some(*i as f64),
        _ => None,
    }
}

fn write_sweep_csv(
    path: &Path,
    points: &Points,
    outcomes: &[Outcome],
    results: &[Vec<CellStats>],
    layout: &MetricLayout,
    replicates: u64,
) -> io::Result<()> {
    let mut writer = csv::Writer::from_writer(BufWriter::new(fs::File::create(path)?));
    let mut header = vec!["point".to_string()];
    header.extend(points.keys.iter().cloned());
    header.extend(
        [
            "metric", "host", "partner", "date", "mean", "sd", "p05", "p50", "p95", "se",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    writer.write_record(&header)?;
    let root_n = (replicates as f64).sqrt();
    for (p, stats) in results.iter().enumerate() {
        for (outcome, s) in outcomes.iter().zip(stats) {
            let mut row = vec![(p + 1).to_string()];
            row.extend(points.values[p].iter().map(cell));
            row.extend([
                layout.metric(outcome.metric).name.clone(),
                layout.host_labels[outcome.host].clone(),
                layout.partner_label(outcome.partner).to_string(),
                outcome.date.to_string(),
                number(s.mean),
                number(s.sd),
                number(s.p05),
                number(s.p50),
                number(s.p95),
                number(s.sd / root_n),
            ]);
            writer.write_record(&row)?;
        }
    }
    writer.flush()
}

fn text_summary(
    points: &Points,
    outcomes: &[Outcome],
    results: &[Vec<CellStats>],
    layout: &MetricLayout,
    metrics: &[usize],
) -> String {
    // The first metric, hosts together, at the last horizon.
    let Some(&metric) = metrics.first() else {
        return String::new();
    };
    let last = outcomes.iter().map(|o| o.date).max();
    let shown: Vec<usize> = outcomes
        .iter()
        .enumerate()
        .filter(|(_, o)| o.metric == metric && o.host == layout.n_rows() - 1 && Some(o.date) == last)
        .map(|(i, _)| i)
        .collect();
    let mut table: Vec<Vec<String>> = Vec::new();
    let mut header = vec!["point".to_string()];
    header.extend(points.keys.iter().cloned());
    for &i in &shown {
        let o = &outcomes[i];
        header.push(match o.partner {
            Some(p) => format!(
                "{} {ALL_HOSTS} {}",
                layout.metric(metric).name,
                layout.partner_labels[p]
            ),
            None => format!("{} {ALL_HOSTS}", layout.metric(metric).name),
        });
    }
    table.push(header);
    for (p, stats) in results.iter().enumerate() {
        let mut row = vec![(p + 1).to_string()];
        row.extend(points.values[p].iter().map(cell));
        row.extend(shown.iter().map(|&i| short(stats[i].mean)));
        table.push(row);
    }
    let widths: Vec<usize> = (0..table[0].len())
        .map(|c| table.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut text = format!(
        "means at {} (all of them, with sd and percentiles, in sweep.csv):\n",
        last.map_or(String::new(), |d| d.to_string())
    );
    for row in table.iter().take(41) {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:>w$}", w = *w))
            .collect();
        text.push_str(&format!("  {}\n", line.join("  ")));
    }
    if table.len() > 41 {
        text.push_str(&format!("  ... and {} more points\n", table.len() - 41));
    }
    text
}

fn draw_charts(
    dir: &Path,
    points: &Points,
    outcomes: &[Outcome],
    results: &[Vec<CellStats>],
    layout: &MetricLayout,
    metrics: &[usize],
    horizons: &[Quarter],
) -> Result<Vec<PathBuf>, AnalysisError> {
    let mut written = Vec::new();
    let Some(&date) = horizons.last() else {
        return Ok(written);
    };
    let c5 = layout.n_rows() - 1;
    for (k, key) in points.keys.iter().enumerate() {
        let xs: Option<Vec<f64>> = points.values.iter().map(|v| numeric(&v[k])).collect();
        let Some(xs) = xs else {
            continue; // A parameter of words has no axis.
        };
        // Lines: the points that share the other parameters' values.
        let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
        for p in 0..points.values.len() {
            let label = points
                .keys
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != k)
                .map(|(j, other)| format!("{other} = {}", cell(&points.values[p][j])))
                .collect::<Vec<_>>()
                .join(", ");
            match groups.iter_mut().find(|(l, _)| *l == label) {
                Some((_, members)) => members.push(p),
                None => groups.push((label, vec![p])),
            }
        }
        let scattered = points.scattered || groups.len() > 7;
        let x_range = (
            xs.iter().copied().fold(f64::INFINITY, f64::min),
            xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        );
        for &metric in metrics {
            let m = layout.metric(metric);
            let partners: Vec<Option<usize>> = if m.per_partner {
                (0..layout.partner_labels.len()).map(Some).collect()
            } else {
                vec![None]
            };
            let panels = partners
                .iter()
                .map(|&partner| {
                    let index = outcomes
                        .iter()
                        .position(|o| o.metric == metric && o.host == c5 && o.partner == partner && o.date == date)
                        .expect("every outcome is recorded");
                    let point = |p: usize| {
                        let s = &results[p][index];
                        (xs[p], s.mean, s.p05, s.p95)
                    };
                    let lines = if scattered {
                        (0..points.values.len())
                            .map(|p| Line {
                                label: "each point (bar: 5th\u{2013}95th percentile)".to_string(),
                                color_index: 0,
                                points: vec![point(p)],
                            })
                            .collect()
                    } else {
                        groups
                            .iter()
                            .enumerate()
                            .map(|(g, (label, members))| {
                                let mut pts: Vec<_> = members.iter().map(|&p| point(p)).collect();
                                pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                                Line {
                                    label: if label.is_empty() {
                                        "mean".to_string()
                                    } else {
                                        label.clone()
                                    },
                                    color_index: g,
                                    points: pts,
                                }
                            })
                            .collect()
                    };
                    PanelSpec {
                        title: partner.map(|p| layout.partner_labels[p].clone()),
                        y_desc: m.unit.to_string(),
                        lines,
                    }
                })
                .collect();
            let figure = panel_figure(
                format!("{} at {date} against {key}", m.name),
                format!(
                    "All hosts ({ALL_HOSTS}). Mean across replicates; band (or bar): 5th\u{2013}95th percentile. {}.",
                    m.description
                ),
                panels,
                Some(key.clone()),
                x_range,
            );
            let stem = format!("{}-vs-{}", m.name, slug(key));
            written.extend(write_figure(dir, &stem, &figure)?);
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn floats(values: &[toml::Value]) -> Vec<f64> {
        values.iter().map(|v| numeric(v).unwrap()).collect()
    }

    #[test]
    fn ranges_are_tidy_and_include_their_ends() {
        assert_eq!(floats(&range_steps(0.04, 0.16, 4)), [0.04, 0.08, 0.12, 0.16]);
        assert_eq!(
            range_steps(2.0, 8.0, 4),
            (1..=4).map(|k| toml::Value::Integer(2 * k)).collect::<Vec<_>>()
        );
        assert_eq!(floats(&range_by(0.0, 1.0, 0.25).unwrap()), [0.0, 0.25, 0.5, 0.75, 1.0]);
        assert!(range_by(0.0, 1.0, -0.1).is_err());
        assert_eq!(floats(&range_by(0.1, 0.3, 0.1).unwrap()), [0.1, 0.2, 0.3]);
    }

    #[test]
    fn set_parses_lists_and_ranges() {
        let (key, values) = parse_set("patrons.USA.investment_budget_usd_bn=0.6,1.5,3").unwrap();
        assert_eq!(key, "patrons.USA.investment_budget_usd_bn");
        assert_eq!(
            values,
            [
                toml::Value::Float(0.6),
                toml::Value::Float(1.5),
                toml::Value::Integer(3)
            ]
        );
        let (_, values) = parse_set("model.alignment_inertia=0.04..0.16:4").unwrap();
        assert_eq!(floats(&values), [0.04, 0.08, 0.12, 0.16]);
        let (_, values) = parse_set("patrons.USA.strategy.rule=fixed,learning").unwrap();
        assert_eq!(values[1], toml::Value::String("learning".into()));
        for bad in ["novalue", "a=0..1", "a=0..1:0", "a=x..1:3", "a b=1", "a="] {
            assert!(parse_set(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn grids_and_zips_combine_as_documented() {
        let p = |k: &str, v: &[i64]| {
            (
                k.to_string(),
                v.iter().map(|&x| toml::Value::Integer(x)).collect::<Vec<_>>(),
            )
        };
        let grid = combine(&[p("a", &[1, 2]), p("b", &[10, 20, 30])], false).unwrap();
        assert_eq!(grid.len(), 6);
        assert_eq!(grid[0], [toml::Value::Integer(1), toml::Value::Integer(10)]);
        assert_eq!(grid[1], [toml::Value::Integer(1), toml::Value::Integer(20)]);
        assert_eq!(grid[5], [toml::Value::Integer(2), toml::Value::Integer(30)]);
        let zip = combine(&[p("a", &[1, 2]), p("b", &[10, 20])], true).unwrap();
        assert_eq!(
            zip,
            [
                [toml::Value::Integer(1), toml::Value::Integer(10)],
                [toml::Value::Integer(2), toml::Value::Integer(20)]
            ]
        );
        assert!(combine(&[p("a", &[1, 2]), p("b", &[10])], true).is_err());
    }

    #[test]
    fn designs_read_keys_and_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("design.csv");
        fs::write(
            &path,
            "model.alignment_inertia, patrons.USA.strategy.rule\n0.05, fixed\n0.1,learning\n",
        )
        .unwrap();
        let (keys, rows) = read_design(&path).unwrap();
        assert_eq!(keys, ["model.alignment_inertia", "patrons.USA.strategy.rule"]);
        assert_eq!(
            rows[1],
            [toml::Value::Float(0.1), toml::Value::String("learning".into())]
        );
        fs::write(&path, "a\n").unwrap();
        assert!(read_design(&path).is_err());
        fs::write(&path, "a,b\n1,\n").unwrap();
        assert!(read_design(&path).unwrap_err().to_string().contains("line 2"));
    }
}
