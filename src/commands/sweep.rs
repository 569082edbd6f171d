//! `greatgame sweep`: one ensemble at every point of a set of parameter values.
//!
//! Points come from the scenario's `[sweep]` table, or from `--set KEY=VALUES` and
//! `--design FILE` on the command line (which then replace the table): each parameter's
//! values are a list or a range; parameters are combined as a grid (every combination) or
//! zipped; a design file's rows are points of their own (and are crossed with any
//! parameters). Every point runs with the same seed, so replicate `i` uses the same random
//! stream at every point (common random numbers) and differences between points are not
//! blurred by different draws. When the scenario names parameter sets, every point runs
//! over them (replicate `i` on set `i mod K`), the point's own values laid over each set.

use std::fs;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::analysis::outcomes::{check_horizons, default_horizons, last_quarter, resolve_metrics, Outcome};
use crate::analysis::parameters::{
    combine, parse_set, range_by, range_steps, read_design, same_key, table_problem, Base, Combine, ValuesError,
    MAX_POINTS,
};
use crate::analysis::sets::{ensemble_scenarios, read_sets, ParameterSets, Sets};
use crate::chart::{panel_figure, write_figure, Line, PanelSpec};
use crate::format::{number, short, slug};
use crate::job::design::{DesignIdentity, Finished, Point};
use crate::job::staging::check_destination;
use crate::job::{folder_name, Job, JobError, Settings, Written};
use crate::manifest::{self, Header};
use crate::metrics::{MetricLayout, ALL_HOSTS};
use crate::scenario::file::{SweepFile, SweepParameterFile};
use crate::scenario::overrides::{parse_key, show_value, Override, ScenarioTree};
use crate::scenario::source::KeyPath;
use crate::scenario::LoadedScenario;
use crate::stats::CellStats;
use crate::time::Quarter;

#[derive(Debug, Clone)]
pub struct SweepOptions {
    pub scenario: PathBuf,
    pub settings: Settings,
    /// `--set KEY=VALUES` as written; with `design`, replaces the file's `[sweep]`.
    pub set: Vec<String>,
    /// How `set` combines; `None`: the file's, else grid.
    pub combine: Option<Combine>,
    pub design: Option<PathBuf>,
    /// Metric names ([`super::parse_metrics`]), resolved in the scenario's layout: base,
    /// per-commodity or per-route metrics.
    pub metrics: Vec<String>,
    pub horizons: Option<Vec<Quarter>>,
    /// Which parameter sets every point runs over (default: the scenario's, if any).
    pub parameter_sets: ParameterSets,
}

#[derive(Debug)]
pub struct SweepOutcome {
    pub written: Written,
    pub points: usize,
    pub summary: String,
    /// Things the user should know (a swept key the parameter sets also set).
    pub notes: Vec<String>,
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

/// The points of a sweep from the file's table and the command line.
fn points(options: &SweepOptions, tree: &ScenarioTree, file: &SweepFile) -> Result<Points, JobError> {
    let from_command_line = !options.set.is_empty() || options.design.is_some();
    let (parameters, design, combine_mode) = if from_command_line {
        let parameters = options
            .set
            .iter()
            .map(|s| parse_set(s))
            .collect::<Result<Vec<_>, _>>()?;
        for (i, (key, _)) in parameters.iter().enumerate() {
            if let Some((earlier, _)) = parameters[..i].iter().find(|(k, _)| same_key(k, key)) {
                return Err(JobError::Usage(format!(
                    "--set {key} is given twice (also as {earlier}): give each parameter once"
                )));
            }
        }
        let mode = options.combine.unwrap_or(Combine::Grid);
        (parameters, options.design.clone(), mode)
    } else {
        if file.is_empty() {
            return Err(JobError::Usage(format!(
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
        let mode = match options.combine {
            Some(mode) => mode,
            None => file
                .combine
                .parse()
                .map_err(|e: ValuesError| located(tree, KeyPath::root().key("sweep").key("combine"), e.to_string()))?,
        };
        (parameters, design, mode)
    };
    let grid = combine(&parameters, combine_mode)?;
    let mut keys: Vec<String> = parameters.iter().map(|(k, _)| k.clone()).collect();
    let (design_keys, design_rows) = match &design {
        Some(path) => read_design(path)?,
        None => (Vec::new(), vec![Vec::new()]),
    };
    // Counted before the points are built.
    let n_points = grid.len().checked_mul(design_rows.len()).filter(|&n| n <= MAX_POINTS);
    if n_points.is_none() {
        return Err(JobError::Usage(format!(
            "the sweep has more than {MAX_POINTS} points ({} combinations of the parameters times {} rows of the design)",
            grid.len(),
            design_rows.len()
        )));
    }
    for key in &design_keys {
        if keys.iter().any(|k| same_key(k, key)) {
            return Err(JobError::Usage(format!(
                "{key} is both a swept parameter and a column of the design"
            )));
        }
    }
    keys.extend(design_keys);
    let mut values = Vec::with_capacity(n_points.unwrap_or(0));
    for row in &design_rows {
        for point in &grid {
            let mut all = point.clone();
            all.extend(row.iter().cloned());
            values.push(all);
        }
    }
    if keys.is_empty() {
        return Err(JobError::Usage("the sweep varies no parameter".to_string()));
    }
    Ok(Points {
        keys,
        values,
        scattered: design.is_some(),
    })
}

fn located(tree: &ScenarioTree, path: KeyPath, message: String) -> JobError {
    table_problem(tree, "sweep", path, message)
}

fn file_parameters(
    tree: &ScenarioTree,
    parameters: &[SweepParameterFile],
) -> Result<Vec<(String, Vec<toml::Value>)>, JobError> {
    let mut out = Vec::new();
    for (i, p) in parameters.iter().enumerate() {
        let at = KeyPath::root().key("sweep").key("parameters").index(i);
        let fail = |field: &str, message: String| located(tree, at.key(field), message);
        if let Err(e) = parse_key(&p.key) {
            return Err(fail("key", e.to_string()));
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
            (None, Some(from), Some(to), None, Some(step)) => {
                range_by(from, to, step).map_err(|e| fail("step", e.to_string()))?
            }
            _ => {
                return Err(located(
                    tree,
                    at.clone(),
                    "needs `values = [...]`, or `from`, `to` and one of `steps` or `step`".to_string(),
                ))
            }
        };
        if out
            .iter()
            .any(|(k, _): &(String, Vec<toml::Value>)| same_key(k, &p.key))
        {
            return Err(fail("key", format!("{} is swept twice", p.key)));
        }
        out.push((p.key.clone(), values));
    }
    Ok(out)
}

/// Runs the sweep and writes `DIR/sweep-<scenario>/`.
pub fn sweep(options: &SweepOptions, job: Job) -> Result<SweepOutcome, JobError> {
    let from = Base::read(&options.scenario)?;
    let base = &from.loaded;
    let destination = options
        .settings
        .out_root()
        .join(folder_name("sweep", &[base.scenario.name.as_str()]));
    check_destination(&destination)?;
    let points = points(options, &from.tree, &base.resolved.sweep)?;

    // Every point is checked before anything runs (and resolved again when it runs, so
    // that a large sweep does not hold every point's scenario at once).
    let resolve = |p: usize| -> Result<LoadedScenario, JobError> {
        from.with(&points.overrides(p), || {
            format!("sweep point {} ({}) is not valid", p + 1, points.describe(p))
        })
    };
    let replicates = options.settings.replicates_or(base.scenario.replicates)?;
    let mut sets = read_sets(&options.parameter_sets, &from, None)?;
    let mut notes: Vec<String> = sets.as_mut().and_then(|s| s.fit_to(replicates)).into_iter().collect();
    let n_sets = sets.as_ref().map_or(1, |s| s.len());
    if let Some(sets) = &sets {
        let swept: Vec<&str> = points
            .keys
            .iter()
            .filter(|k| sets.keys.iter().any(|s| same_key(s, k)))
            .map(String::as_str)
            .collect();
        if !swept.is_empty() {
            notes.push(format!(
                "{} swept and also in the parameter sets of {}: each point's value is used in every set",
                swept.join(", "),
                sets.file.display()
            ));
        }
    }
    // The scenarios of point `p`, one per parameter set (the point's values win).
    let point_sets = |p: usize| ensemble_scenarios(sets.as_ref(), &from, &points.overrides(p), replicates);
    let layout = MetricLayout::new(&base.scenario);
    let metrics = resolve_metrics(&options.metrics, &layout, &format!("scenario {}", base.scenario.name))?;
    let horizons = match &options.horizons {
        Some(h) => h.clone(),
        None => default_horizons(base.scenario.start, last_quarter(&base.scenario)),
    };
    let mut largest = 0u64;
    for p in 0..points.values.len() {
        let loaded = resolve(p)?;
        let s = &loaded.scenario;
        if sets.is_some() {
            point_sets(p)?;
        }
        largest = largest.max(options.settings.ensemble_bytes_sets(s, replicates, n_sets));
        check_horizons(&horizons, s.start, last_quarter(s), &format!("sweep point {}", p + 1))?;
        let other = MetricLayout::new(s);
        if other.host_labels != layout.host_labels || other.partner_labels != layout.partner_labels {
            return Err(JobError::Usage(format!(
                "sweep point {} changes the scenario's actors",
                p + 1
            )));
        }
        for &m in &metrics {
            let name = &layout.metric(m).name;
            if other.find(name).is_none() {
                return Err(JobError::Usage(format!(
                    "sweep point {} ({}) has no metric {name:?}",
                    p + 1,
                    points.describe(p)
                )));
            }
        }
    }
    let outcomes = all_outcomes(&layout, &metrics, &horizons);
    let n_points = points.values.len();
    options
        .settings
        .budget()
        .add("the largest point's ensemble", largest)
        .add(
            "the outcomes of every point",
            (n_points as u64)
                .saturating_mul(outcomes.len() as u64)
                .saturating_mul(48),
        )
        .check()?;

    let seed = options.settings.seed.unwrap_or(base.scenario.seed);
    let design = options.settings.design(
        identity(options, base, sets.as_ref(), &points, &outcomes, seed, replicates)?,
        &destination,
    )?;
    job.progress
        .start(replicates.saturating_mul(design.points().len() as u64), "replicates");
    let mut results: Vec<Point> = Vec::with_capacity(design.points().len());
    let config = options.settings.ensemble(replicates, seed);
    for p in design.points() {
        let loaded = resolve(p)?;
        let scenarios = point_sets(p)?;
        let summary = job.ensemble_sets(&scenarios, &config, None, || {
            format!("sweep point {} ({})", p + 1, points.describe(p))
        })?;
        results.push(
            outcomes
                .iter()
                .flat_map(|o| {
                    let s = o
                        .stats(&layout, &loaded.scenario, &summary)
                        .expect("every point's layout was checked before running");
                    [s.mean, s.sd, s.p05, s.p50, s.p95]
                })
                .collect::<Vec<f64>>()
                .into(),
        );
    }
    let results: Vec<Vec<CellStats>> =
        match design.finish(results, job, |_, point| point.values.len() == outcomes.len() * 5)? {
            Finished::Shard(shard) => {
                return Ok(SweepOutcome {
                    summary: shard.summary("sweep"),
                    written: shard.written,
                    points: n_points,
                    notes,
                })
            }
            Finished::All(all) => all.iter().map(|point| cell_stats(&point.values)).collect(),
        };

    let summary = text_summary(&points, &outcomes, &results, &layout, &metrics);
    let written = job.write_folder(&destination, |dir| {
        let mut files = vec!["sweep.csv".to_string()];
        write_sweep_csv(
            &dir.join("sweep.csv"),
            &points,
            &outcomes,
            &results,
            &layout,
            replicates,
        )
        .map_err(JobError::io("writing sweep.csv"))?;
        if options.settings.charts {
            let chart_dir = dir.join("charts");
            fs::create_dir_all(&chart_dir).map_err(JobError::io("creating charts/"))?;
            let band = format!("over {replicates} replicates{}", crate::ensemble::band_holds(n_sets));
            for path in draw_charts(&chart_dir, &points, &outcomes, &results, &layout, &metrics, &horizons, &band)? {
                files.push(path.strip_prefix(dir).unwrap_or(&path).display().to_string());
            }
        }
        files.push("manifest.json".to_string());
        let mut inputs = vec![options.scenario.display().to_string()];
        inputs.extend(options.design.as_ref().map(|d| d.display().to_string()));
        inputs.extend(sets.as_ref().map(|s| s.file.display().to_string()));
        let header = Header::new("sweep", &options.settings.command_line, inputs, seed, replicates)
            .with_sets(sets.as_ref().map(|s| s.record()));
        let body = json!({
            "scenario_name": base.scenario.name,
            "scenario_files": base.file_list(),
            "random_generator": "ChaCha8 (rand_chacha), seeded with the seed, stream = replicate index; the same seed at every point",
            "parameters": points.keys,
            "points": (0..points.values.len()).map(|p| json!({
                "point": p + 1,
                "values": points.keys.iter().zip(&points.values[p]).map(|(k, v)| (k.clone(), serde_json::to_value(v).unwrap_or_default())).collect::<serde_json::Map<_, _>>(),
            })).collect::<Vec<_>>(),
            "metrics": metrics.iter().map(|&m| layout.metric(m).name.as_str()).collect::<Vec<_>>(),
            "horizons": horizons.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
            "resolved_scenario": base.resolved_json(),
            "files": files,
        });
        manifest::write(&dir.join("manifest.json"), &header, &body).map_err(JobError::io("writing manifest.json"))?;
        Ok(files)
    })?;
    Ok(SweepOutcome {
        written,
        points: points.values.len(),
        summary,
        notes,
    })
}

/// What identifies the sweep for its shards: its inputs, points, outcomes and options.
fn identity(
    options: &SweepOptions,
    base: &LoadedScenario,
    sets: Option<&Sets>,
    points: &Points,
    outcomes: &[Outcome],
    seed: u64,
    replicates: u64,
) -> Result<DesignIdentity, JobError> {
    let mut inputs = base.file_list();
    inputs.extend(options.design.as_ref().map(|d| d.display().to_string()));
    // The parameter sets' file is an input too: shards over other sets must not merge.
    inputs.extend(sets.map(|s| s.file.display().to_string()));
    let described: Vec<(usize, usize, Option<usize>, String)> = outcomes
        .iter()
        .map(|o| (o.metric, o.host, o.partner, o.date.to_string()))
        .collect();
    let design = json!({
        "inputs": [options.scenario.display().to_string(), options.design.as_ref().map(|d| d.display().to_string())],
        "keys": points.keys,
        "values": points.values,
        "scattered": points.scattered,
        "outcomes": described,
    });
    DesignIdentity::new(
        "sweep",
        &inputs,
        &options.settings,
        seed,
        replicates,
        points.values.len(),
        &design,
    )
}

/// A point's outcome statistics from the numbers a design keeps (five per outcome).
fn cell_stats(values: &[f64]) -> Vec<CellStats> {
    values
        .chunks_exact(5)
        .map(|c| CellStats {
            mean: c[0],
            sd: c[1],
            p05: c[2],
            p50: c[3],
            p95: c[4],
        })
        .collect()
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

#[allow(clippy::too_many_arguments)]
fn draw_charts(
    dir: &Path,
    points: &Points,
    outcomes: &[Outcome],
    results: &[Vec<CellStats>],
    layout: &MetricLayout,
    metrics: &[usize],
    horizons: &[Quarter],
    band: &str,
) -> Result<Vec<PathBuf>, JobError> {
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
                    "All hosts ({ALL_HOSTS}). Mean across replicates; band (or bar): 5th\u{2013}95th percentiles {band}. {}.",
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
