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
//!
//! **Memory does not grow with the points.** A point's values are made from the swept
//! lists (or the design file's row) when they are needed, `sweep.csv` is written into the
//! staging folder as each point is computed (or read back from the shards by a merge), and
//! only what the printed summary shows (its first [`SUMMARY_POINTS`] points) and what the
//! charts draw is kept. A chart draws every point up to [`MAX_CHART_POINTS`]; a larger
//! sweep's charts draw an evenly spaced subset of each line (or of the scattered points),
//! and say so, while `sweep.csv` holds every point.

use std::fs;
use std::io::{self, BufWriter};
use std::mem::size_of;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::analysis::outcomes::{check_horizons, default_horizons, last_quarter, resolve_metrics, Outcome};
use crate::analysis::parameters::{
    parse_set, range_by, range_steps, read_design, same_key, table_problem, Base, Combine, Combined, ValuesError,
    MAX_POINTS,
};
use crate::analysis::sets::{ensemble_scenarios, read_sets, ParameterSets, Sets};
use crate::chart::{panel_figure, write_figure, Line, PanelSpec};
use crate::format::{number, short, slug};
use crate::job::design::{DesignIdentity, Next, Point};
use crate::job::staging::check_destination;
use crate::job::{folder_name, Job, JobError, Settings, Written};
use crate::manifest::{self, Header, LazyArray};
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

/// Points the printed summary lists; the rest are counted.
pub const SUMMARY_POINTS: usize = 40;
/// Most points a chart draws: a larger sweep's charts draw every `s`-th point of each line
/// (or of the scattered points), `s` the smallest stride that keeps them within this.
pub const MAX_CHART_POINTS: usize = 10_000;

/// The points to run: column keys and, per point, one value per column, made when asked
/// for from the swept parameters' lists (combined) crossed with the design file's rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Points {
    pub keys: Vec<String>,
    /// The swept parameters' values, combined; their columns come first.
    grid: Combined,
    /// The design file's rows (one empty row without a file): every row is crossed with
    /// every point of `grid`, the rows varying slowest.
    rows: Vec<Vec<toml::Value>>,
    /// Whether the points come from a design file (scattered) rather than lists and ranges.
    pub scattered: bool,
}

impl Points {
    /// How many points.
    pub fn len(&self) -> usize {
        self.grid.len() * self.rows.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Point `point`'s values, one per key.
    pub fn values(&self, point: usize) -> Vec<toml::Value> {
        let mut values = Vec::with_capacity(self.keys.len());
        self.grid.point_into(point % self.grid.len(), &mut values);
        values.extend(self.rows[point / self.grid.len()].iter().cloned());
        values
    }

    pub fn overrides(&self, point: usize) -> Vec<Override> {
        self.keys.iter().cloned().zip(self.values(point)).collect()
    }

    fn describe(&self, point: usize) -> String {
        self.keys
            .iter()
            .zip(&self.values(point))
            .map(|(k, v)| format!("{k} = {}", show_value(v)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// About the bytes the points hold: the swept lists and the design file's rows (a
    /// value each, and a little text for a string), not the points themselves.
    fn bytes(&self) -> u64 {
        let value = size_of::<toml::Value>() as u64 + 16;
        let held = self.grid.values_held() + self.rows.iter().map(Vec::len).sum::<usize>();
        (held as u64).saturating_mul(value)
            + (self.rows.len() as u64).saturating_mul(size_of::<Vec<toml::Value>>() as u64 + 16)
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
    let mut keys: Vec<String> = parameters.iter().map(|(k, _)| k.clone()).collect();
    let grid = Combined::new(parameters, combine_mode)?;
    let (design_keys, rows) = match &design {
        Some(path) => read_design(path)?,
        None => (Vec::new(), vec![Vec::new()]),
    };
    // Counted before any point is made.
    if grid
        .len()
        .checked_mul(rows.len())
        .filter(|&n| n <= MAX_POINTS)
        .is_none()
    {
        return Err(JobError::Usage(format!(
            "the sweep has more than {MAX_POINTS} points ({} combinations of the parameters times {} rows of the design)",
            grid.len(),
            rows.len()
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
    if keys.is_empty() {
        return Err(JobError::Usage("the sweep varies no parameter".to_string()));
    }
    Ok(Points {
        keys,
        grid,
        rows,
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
    let n_points = points.len();

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
    // The scenario of point `p` that is checked: the point alone, or over the first
    // parameter set (which has the same quarters and layout, `Sets::scenarios` checks).
    // Over sets, a point that is not valid by itself is reported as such, as when it is
    // resolved alone first; a valid point is resolved once per set, not once more.
    let checked = |p: usize| -> Result<crate::model::Scenario, JobError> {
        if sets.is_none() {
            return Ok(resolve(p)?.scenario);
        }
        match point_sets(p) {
            Ok(mut scenarios) => Ok(scenarios.swap_remove(0)),
            Err(error) => {
                resolve(p)?;
                Err(error)
            }
        }
    };
    let layout = MetricLayout::new(&base.scenario);
    let metrics = resolve_metrics(&options.metrics, &layout, &format!("scenario {}", base.scenario.name))?;
    let horizons = match &options.horizons {
        Some(h) => h.clone(),
        None => default_horizons(base.scenario.start, last_quarter(&base.scenario)),
    };
    let mut largest = 0u64;
    for p in 0..n_points {
        job.check()?;
        let s = &checked(p)?;
        largest = largest.max(options.settings.ensemble_bytes_sets(s, replicates, n_sets));
        check_horizons(&horizons, s.start, last_quarter(s), &format!("sweep point {}", p + 1))?;
        if MetricLayout::same(&base.scenario, s) {
            continue;
        }
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
    let charts = options
        .settings
        .charts
        .then(|| Charts::new(&points, &outcomes, &layout, &metrics, &horizons));
    // What the sweep holds besides one point at a time: the largest ensemble, the swept
    // lists and design rows, what the charts draw and what the summary lists (both
    // bounded, whatever the number of points), and a point's numbers on their way to
    // sweep.csv.
    let point_bytes = (outcomes.len() as u64).saturating_mul(5 * 8 + size_of::<CellStats>() as u64);
    options
        .settings
        .budget()
        .add("the largest point's ensemble", largest)
        .add("the swept values and design rows", points.bytes())
        .add("the charts' points", charts.as_ref().map_or(0, Charts::bytes))
        .add(
            "a point's outcomes and the summary's points",
            point_bytes.saturating_mul(2)
                + (SUMMARY_POINTS.min(n_points) as u64)
                    .saturating_mul(points.keys.len() as u64 * 32 + outcomes.len() as u64 * 8 + 64),
        )
        .check()?;

    let seed = options.settings.seed.unwrap_or(base.scenario.seed);
    let design = options.settings.design(
        identity(options, base, sets.as_ref(), &points, &outcomes, seed, replicates)?,
        &destination,
    )?;
    job.progress
        .start(replicates.saturating_mul(design.points().len() as u64), "replicates");
    let config = options.settings.ensemble(replicates, seed);
    let compute = |p: usize| -> Result<Point, JobError> {
        let scenarios = point_sets(p)?;
        let summary = job.ensemble_sets(&scenarios, &config, None, || {
            format!("sweep point {} ({})", p + 1, points.describe(p))
        })?;
        // Every set has the point's quarters (`Sets::scenarios` checks), which is all
        // the statistics are read by.
        Ok(outcomes
            .iter()
            .flat_map(|o| {
                let s = o
                    .stats(&layout, &scenarios[0], &summary)
                    .expect("every point's layout was checked before running");
                [s.mean, s.sd, s.p05, s.p50, s.p95]
            })
            .collect::<Vec<f64>>()
            .into())
    };
    let design = match design.shard(job, compute)? {
        Next::Shard(shard) => {
            return Ok(SweepOutcome {
                summary: shard.summary("sweep"),
                written: shard.written,
                points: n_points,
                notes,
            })
        }
        Next::Output(design) => design,
    };

    let mut summary = Summary::new(&points, &outcomes, &layout, &metrics);
    let mut charts = charts;
    let written = job.write_folder(&destination, |dir| {
        let mut files = vec!["sweep.csv".to_string()];
        let mut table = SweepTable::create(&dir.join("sweep.csv"), &points, replicates)
            .map_err(JobError::io("writing sweep.csv"))?;
        design.stream(
            job,
            compute,
            |_, point| point.values.len() == outcomes.len() * 5,
            |p, point| {
                let values = points.values(p);
                let stats = cell_stats(&point.values);
                table
                    .write(p, &values, &outcomes, &stats, &layout)
                    .map_err(JobError::io("writing sweep.csv"))?;
                summary.add(p, &values, &stats);
                if let Some(charts) = &mut charts {
                    charts.add(&points.keys, p, &values, &stats);
                }
                Ok(())
            },
        )?;
        table.finish().map_err(JobError::io("writing sweep.csv"))?;
        if let Some(charts) = &charts {
            let chart_dir = dir.join("charts");
            fs::create_dir_all(&chart_dir).map_err(JobError::io("creating charts/"))?;
            let band = format!("over {replicates} replicates{}", crate::ensemble::band_holds(n_sets));
            for path in charts.draw(&chart_dir, &points, &layout, &metrics, &band)? {
                files.push(path.strip_prefix(dir).unwrap_or(&path).display().to_string());
            }
        }
        files.push("manifest.json".to_string());
        let mut inputs = vec![options.scenario.display().to_string()];
        inputs.extend(options.design.as_ref().map(|d| d.display().to_string()));
        inputs.extend(sets.as_ref().map(|s| s.file.display().to_string()));
        let header = Header::new("sweep", &options.settings.command_line, inputs, seed, replicates)
            .with_sets(sets.as_ref().map(|s| s.record()));
        // The fields in the order a JSON object of them is written (by name), the points
        // made one at a time as they are written.
        #[derive(serde::Serialize)]
        #[serde(bound = "")]
        struct Body<'a, F: Fn(usize) -> serde_json::Value> {
            files: Vec<String>,
            horizons: Vec<String>,
            metrics: Vec<&'a str>,
            parameters: &'a [String],
            points: LazyArray<F>,
            random_generator: &'a str,
            resolved_scenario: serde_json::Value,
            scenario_files: Vec<String>,
            scenario_name: &'a str,
        }
        let body = Body {
            files: files.clone(),
            horizons: horizons.iter().map(|d| d.to_string()).collect(),
            metrics: metrics.iter().map(|&m| layout.metric(m).name.as_str()).collect(),
            parameters: &points.keys,
            points: LazyArray {
                len: n_points,
                element: |p| {
                    json!({
                        "point": p + 1,
                        "values": points.keys.iter().zip(points.values(p)).map(|(k, v)| (k.clone(), serde_json::to_value(v).unwrap_or_default())).collect::<serde_json::Map<_, _>>(),
                    })
                },
            },
            random_generator: "ChaCha8 (rand_chacha), seeded with the seed, stream = replicate index; the same seed at every point",
            resolved_scenario: base.resolved_json(),
            scenario_files: base.file_list(),
            scenario_name: &base.scenario.name,
        };
        manifest::write(&dir.join("manifest.json"), &header, &body).map_err(JobError::io("writing manifest.json"))?;
        Ok(files)
    })?;
    Ok(SweepOutcome {
        written,
        points: n_points,
        summary: summary.text(),
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
    // Hashed as the JSON object of these fields (written by name), every point's values
    // made as they are hashed.
    #[derive(serde::Serialize)]
    #[serde(bound = "")]
    struct Design<'a, F: Fn(usize) -> serde_json::Value> {
        inputs: serde_json::Value,
        keys: &'a [String],
        outcomes: Vec<(usize, usize, Option<usize>, String)>,
        scattered: bool,
        values: LazyArray<F>,
    }
    let design = Design {
        inputs: json!([
            options.scenario.display().to_string(),
            options.design.as_ref().map(|d| d.display().to_string())
        ]),
        keys: &points.keys,
        outcomes: described,
        scattered: points.scattered,
        values: LazyArray {
            len: points.len(),
            element: |p| serde_json::to_value(points.values(p)).unwrap_or_default(),
        },
    };
    DesignIdentity::new(
        "sweep",
        &inputs,
        &options.settings,
        seed,
        replicates,
        points.len(),
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

/// `sweep.csv`, written a point at a time.
struct SweepTable {
    writer: csv::Writer<BufWriter<fs::File>>,
    root_n: f64,
    row: Vec<String>,
}

impl SweepTable {
    /// Creates the file and writes its header.
    fn create(path: &Path, points: &Points, replicates: u64) -> io::Result<SweepTable> {
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
        Ok(SweepTable {
            writer,
            root_n: (replicates as f64).sqrt(),
            row: Vec::new(),
        })
    }

    /// Point `p`'s rows: one per outcome.
    fn write(
        &mut self,
        p: usize,
        values: &[toml::Value],
        outcomes: &[Outcome],
        stats: &[CellStats],
        layout: &MetricLayout,
    ) -> io::Result<()> {
        let number_text = (p + 1).to_string();
        let values: Vec<String> = values.iter().map(cell).collect();
        for (outcome, s) in outcomes.iter().zip(stats) {
            let row = &mut self.row;
            row.clear();
            row.push(number_text.clone());
            row.extend(values.iter().cloned());
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
                number(s.sd / self.root_n),
            ]);
            self.writer.write_record(&*row)?;
        }
        Ok(())
    }

    fn finish(mut self) -> io::Result<()> {
        self.writer.flush()?;
        let file = self.writer.into_inner().map_err(|e| e.into_error())?;
        file.into_inner().map_err(|e| e.into_error())?;
        Ok(())
    }
}

/// The printed summary: the first metric, hosts together, at the last horizon, for the
/// first [`SUMMARY_POINTS`] points (the rest are counted).
struct Summary {
    /// The outcomes shown, as indices into the outcomes.
    shown: Vec<usize>,
    last: Option<Quarter>,
    table: Vec<Vec<String>>,
    points: usize,
}

impl Summary {
    fn new(points: &Points, outcomes: &[Outcome], layout: &MetricLayout, metrics: &[usize]) -> Summary {
        let last = outcomes.iter().map(|o| o.date).max();
        let mut summary = Summary {
            shown: Vec::new(),
            last,
            table: Vec::new(),
            points: 0,
        };
        let Some(&metric) = metrics.first() else {
            return summary;
        };
        summary.shown = outcomes
            .iter()
            .enumerate()
            .filter(|(_, o)| o.metric == metric && o.host == layout.n_rows() - 1 && Some(o.date) == last)
            .map(|(i, _)| i)
            .collect();
        let mut header = vec!["point".to_string()];
        header.extend(points.keys.iter().cloned());
        for &i in &summary.shown {
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
        summary.table.push(header);
        summary
    }

    /// Point `p`, in point order.
    fn add(&mut self, p: usize, values: &[toml::Value], stats: &[CellStats]) {
        self.points += 1;
        if self.table.is_empty() || p >= SUMMARY_POINTS {
            return;
        }
        let mut row = vec![(p + 1).to_string()];
        row.extend(values.iter().map(cell));
        row.extend(self.shown.iter().map(|&i| short(stats[i].mean)));
        self.table.push(row);
    }

    fn text(&self) -> String {
        if self.table.is_empty() {
            return String::new();
        }
        let widths: Vec<usize> = (0..self.table[0].len())
            .map(|c| self.table.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        let mut text = format!(
            "means at {} (all of them, with sd and percentiles, in sweep.csv):\n",
            self.last.map_or(String::new(), |d| d.to_string())
        );
        for row in &self.table {
            let line: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, w)| format!("{cell:>w$}", w = *w))
                .collect();
            text.push_str(&format!("  {}\n", line.join("  ")));
        }
        if self.points > SUMMARY_POINTS {
            text.push_str(&format!("  ... and {} more points\n", self.points - SUMMARY_POINTS));
        }
        text
    }
}

/// What the charts draw, gathered as the points come: for every parameter of numbers, a
/// chart per metric of the hosts together at the last horizon against the parameter.
/// Points that share the other parameters' values make a line (up to 7 lines; more, or a
/// design file, and each point is drawn on its own). At most about [`MAX_CHART_POINTS`]
/// points are kept per parameter: beyond, every `stride`-th point of each line (and its
/// last) or of the scattered points, so what is held does not grow with the sweep.
struct Charts {
    /// The last horizon, the charts' date.
    date: Option<Quarter>,
    /// Per metric, per panel (partner), the outcome drawn.
    drawn: Vec<Vec<(Option<usize>, usize)>>,
    axes: Vec<Axis>,
    stride: usize,
    points: usize,
}

/// One parameter's charts.
struct Axis {
    key: usize,
    x_range: (f64, f64),
    /// The lines: label, members and members seen; `None`: each point on its own.
    lines: Option<Vec<(String, usize, usize)>>,
    /// The points kept: line, x and per drawn outcome mean, 5th and 95th percentile.
    kept: Vec<(usize, f64, Vec<[f64; 3]>)>,
}

impl Charts {
    fn new(
        points: &Points,
        outcomes: &[Outcome],
        layout: &MetricLayout,
        metrics: &[usize],
        horizons: &[Quarter],
    ) -> Charts {
        let n = points.len();
        let date = horizons.last().copied();
        let c5 = layout.n_rows() - 1;
        let drawn = if date.is_none() {
            Vec::new()
        } else {
            metrics
                .iter()
                .map(|&metric| {
                    let partners: Vec<Option<usize>> = if layout.metric(metric).per_partner {
                        (0..layout.partner_labels.len()).map(Some).collect()
                    } else {
                        vec![None]
                    };
                    partners
                        .into_iter()
                        .map(|partner| {
                            let index = outcomes
                                .iter()
                                .position(|o| {
                                    o.metric == metric && o.host == c5 && o.partner == partner && Some(o.date) == date
                                })
                                .expect("every outcome is recorded");
                            (partner, index)
                        })
                        .collect()
                })
                .collect()
        };
        let mut axes = Vec::new();
        if date.is_some() {
            for k in 0..points.keys.len() {
                // A parameter of words has no axis.
                let mut x_range = (f64::INFINITY, f64::NEG_INFINITY);
                let mut lines: Option<Vec<(String, usize, usize)>> = (!points.scattered).then(Vec::new);
                let mut numbers = true;
                for p in 0..n {
                    let values = points.values(p);
                    let Some(x) = numeric(&values[k]) else {
                        numbers = false;
                        break;
                    };
                    x_range = (x_range.0.min(x), x_range.1.max(x));
                    if let Some(found) = &mut lines {
                        let label = line_label(&points.keys, &values, k);
                        match found.iter().position(|(l, ..)| *l == label) {
                            Some(line) => found[line].1 += 1,
                            None if found.len() < 7 => found.push((label, 1, 0)),
                            None => lines = None,
                        }
                    }
                }
                if numbers {
                    axes.push(Axis {
                        key: k,
                        x_range,
                        lines,
                        kept: Vec::new(),
                    });
                }
            }
        }
        Charts {
            date,
            drawn,
            axes,
            stride: n.div_ceil(MAX_CHART_POINTS).max(1),
            points: n,
        }
    }

    /// About the bytes the charts will hold: every axis's points kept, and while a
    /// figure is drawn each point (a dot, at worst) as a line of its own, with a label,
    /// in every panel, twice (the panels and the figure made of them). Measured: 10,000
    /// dots against two parameters in three panels held 20 MB more than no charts.
    fn bytes(&self) -> u64 {
        let drawn: usize = self.drawn.iter().map(Vec::len).sum();
        let panels = self.drawn.iter().map(Vec::len).max().unwrap_or(0) as u64;
        let kept = self.points.min(MAX_CHART_POINTS + 7) as u64;
        let held = kept
            .saturating_mul(64 + 24 * drawn as u64)
            .saturating_mul(self.axes.len() as u64);
        let drawing = kept.saturating_mul(panels).saturating_mul(2 * 300);
        held.saturating_add(drawing)
    }

    /// Point `p`, in point order.
    fn add(&mut self, keys: &[String], p: usize, values: &[toml::Value], stats: &[CellStats]) {
        for axis in &mut self.axes {
            let x = numeric(&values[axis.key]).expect("every point's value was a number");
            let (line, keep) = match &mut axis.lines {
                None => (0, p % self.stride == 0),
                Some(lines) => {
                    let label = line_label(keys, values, axis.key);
                    let line = lines
                        .iter()
                        .position(|(l, ..)| *l == label)
                        .expect("every line was found before");
                    let (_, members, seen) = &mut lines[line];
                    let member = *seen;
                    *seen += 1;
                    (line, member % self.stride == 0 || member + 1 == *members)
                }
            };
            if keep {
                let numbers = self
                    .drawn
                    .iter()
                    .flatten()
                    .map(|&(_, i)| [stats[i].mean, stats[i].p05, stats[i].p95])
                    .collect();
                axis.kept.push((line, x, numbers));
            }
        }
    }

    /// Draws the charts into `dir`; returns the files written.
    fn draw(
        &self,
        dir: &Path,
        points: &Points,
        layout: &MetricLayout,
        metrics: &[usize],
        band: &str,
    ) -> Result<Vec<PathBuf>, JobError> {
        let mut written = Vec::new();
        let Some(date) = self.date else {
            return Ok(written);
        };
        for axis in &self.axes {
            let key = &points.keys[axis.key];
            let thinned = if self.stride > 1 {
                format!(
                    " {} of the {} points drawn (every {}th{}); sweep.csv has them all.",
                    axis.kept.len(),
                    self.points,
                    self.stride,
                    if axis.lines.is_some() {
                        " of each line, and its last"
                    } else {
                        ""
                    }
                )
            } else {
                String::new()
            };
            let mut first = 0;
            for (&metric, panels) in metrics.iter().zip(&self.drawn) {
                let m = layout.metric(metric);
                let n_panels = panels.len();
                let panels = panels
                    .iter()
                    .enumerate()
                    .map(|(q, &(partner, _))| {
                        let point = |(_, x, numbers): &(usize, f64, Vec<[f64; 3]>)| {
                            let [mean, p05, p95] = numbers[first + q];
                            (*x, mean, p05, p95)
                        };
                        let lines = match &axis.lines {
                            None => axis
                                .kept
                                .iter()
                                .map(|kept| Line {
                                    label: "each point (bar: 5th\u{2013}95th percentile)".to_string(),
                                    color_index: 0,
                                    points: vec![point(kept)],
                                })
                                .collect(),
                            Some(lines) => lines
                                .iter()
                                .enumerate()
                                .map(|(g, (label, ..))| {
                                    let mut pts: Vec<_> =
                                        axis.kept.iter().filter(|kept| kept.0 == g).map(point).collect();
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
                                .collect(),
                        };
                        PanelSpec {
                            title: partner.map(|p| layout.partner_labels[p].clone()),
                            y_desc: m.unit.to_string(),
                            lines,
                        }
                    })
                    .collect();
                first += n_panels;
                let figure = panel_figure(
                    format!("{} at {date} against {key}", m.name),
                    format!(
                        "All hosts ({ALL_HOSTS}). Mean across replicates; band (or bar): 5th\u{2013}95th percentiles {band}. {}.{thinned}",
                        m.description
                    ),
                    panels,
                    Some(key.clone()),
                    axis.x_range,
                );
                let stem = format!("{}-vs-{}", m.name, slug(key));
                written.extend(write_figure(dir, &stem, &figure)?);
            }
        }
        Ok(written)
    }
}

/// The label of the line point `values` is on in the charts against parameter `k`: the
/// other parameters' values.
fn line_label(keys: &[String], values: &[toml::Value], k: usize) -> String {
    keys.iter()
        .enumerate()
        .filter(|(j, _)| *j != k)
        .map(|(j, other)| format!("{other} = {}", cell(&values[j])))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The charts of `points` on the built-in baseline's alignment at its last quarter,
    /// every point added with outcome statistics that give its number as the mean.
    fn charted(points: &Points) -> Charts {
        let base = Base::builtin().unwrap();
        let layout = MetricLayout::new(&base.loaded.scenario);
        let metrics = resolve_metrics(&["alignment".to_string()], &layout, "the baseline").unwrap();
        let horizons = vec![last_quarter(&base.loaded.scenario)];
        let outcomes = all_outcomes(&layout, &metrics, &horizons);
        let mut charts = Charts::new(points, &outcomes, &layout, &metrics, &horizons);
        for p in 0..points.len() {
            let stats = vec![
                CellStats {
                    mean: p as f64,
                    ..CellStats::default()
                };
                outcomes.len()
            ];
            charts.add(&points.keys, p, &points.values(p), &stats);
        }
        charts
    }

    fn grid(a: u32, b: &[i64]) -> Points {
        let b = b.iter().map(|&v| toml::Value::Integer(v)).collect();
        let parameters = [("a".to_string(), range_steps(0.0, 1.0, a)), ("b".to_string(), b)];
        Points {
            keys: vec!["a".into(), "b".into()],
            grid: Combined::new(parameters.to_vec(), Combine::Grid).unwrap(),
            rows: vec![Vec::new()],
            scattered: false,
        }
    }

    #[test]
    fn charts_keep_every_point_of_a_sweep_that_fits() {
        let points = grid(3000, &[1, 2, 3]);
        let charts = charted(&points);
        assert_eq!(charts.stride, 1);
        let [a, b] = &charts.axes[..] else { panic!("two axes") };
        // Against a: three lines (b's values) of 3,000 points; against b: 3,000 lines, so
        // each point on its own.
        assert_eq!(a.lines.as_ref().map(Vec::len), Some(3));
        assert!(b.lines.is_none());
        assert_eq!((a.kept.len(), b.kept.len()), (9000, 9000));
        let means: Vec<f64> = a.kept.iter().map(|k| k.2[0][0]).collect();
        assert_eq!(means, (0..9000).map(|p| p as f64).collect::<Vec<_>>());
    }

    #[test]
    fn charts_of_a_large_sweep_keep_a_bounded_subset_of_each_line() {
        let points = grid(12_000, &[1, 2]);
        let charts = charted(&points);
        assert_eq!(charts.stride, 3, "24,000 points within 10,000");
        let [a, b] = &charts.axes[..] else { panic!("two axes") };
        // Each line: every third point from its first, and its last.
        for line in 0..2 {
            let xs: Vec<f64> = a.kept.iter().filter(|k| k.0 == line).map(|k| k.1).collect();
            assert_eq!(xs.len(), 4001);
            assert_eq!((xs[0], xs[4000]), (0.0, 1.0), "the line spans the whole axis");
        }
        assert_eq!(a.x_range, (0.0, 1.0));
        // Scattered: every third point.
        assert!(b.lines.is_none());
        assert_eq!(b.kept.len(), 8000);
        assert!(a.kept.len() <= MAX_CHART_POINTS + 7 && b.kept.len() <= MAX_CHART_POINTS);
    }

    #[test]
    fn points_are_made_in_the_order_they_were_listed() {
        let points = Points {
            keys: vec!["a".into(), "b".into(), "c".into()],
            rows: vec![vec![toml::Value::Integer(7)], vec![toml::Value::Integer(8)]],
            ..grid(2, &[1, 2, 3])
        };
        assert_eq!(points.len(), 12);
        let number = |v: &toml::Value| v.as_float().or(v.as_integer().map(|i| i as f64)).unwrap();
        let all: Vec<Vec<f64>> = (0..12).map(|p| points.values(p).iter().map(number).collect()).collect();
        assert_eq!(all[0], [0.0, 1.0, 7.0]);
        assert_eq!(all[1], [0.0, 2.0, 7.0]);
        assert_eq!(all[3], [1.0, 1.0, 7.0]);
        assert_eq!(all[6], [0.0, 1.0, 8.0]);
        assert_eq!(all[11], [1.0, 3.0, 8.0]);
    }
}
