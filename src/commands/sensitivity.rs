//! `greatgame sensitivity`: which parameters drive an outcome.
//!
//! The parameters and their ranges come from the scenario's `[sensitivity]` table. The
//! model's output at a design point is the ensemble mean of an outcome (a metric in one
//! cell at one quarter) over `replicates` replicates, all with the same seed (common random
//! numbers, so the noise is the same at every point and does not masquerade as an effect).
//! Morris screening gives μ, μ* and σ of elementary effects; Sobol' indices (Saltelli
//! design, Saltelli/Jansen estimators) give S1 and ST. Every interval is a percentile
//! bootstrap with a generator seeded from the run seed.
//!
//! What is held grows only by what the estimators need: the designs (Morris trajectories,
//! Saltelli's two matrices) and each point's outcome means. A point's name and coordinates
//! are made from the designs when they are needed, and `points.csv` is written as each
//! point is computed (or read back from the shards by a merge).

use std::fmt::Write as _;
use std::fs;
use std::io::{self, BufWriter};
use std::mem::size_of;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use crate::analysis::bootstrap::{self, Interval};
use crate::analysis::design::{self, Saltelli, Trajectory, MAX_SOBOL_DIMENSIONS, MAX_SOBOL_PARAMETERS};
use crate::analysis::indices::{self, MorrisIndex, SobolIndex};
use crate::analysis::outcomes::{check_horizons, last_quarter, parse_outcomes, Outcome, OutcomeIdentity};
use crate::analysis::parameters::{overrides, parameters, table_problem, tidy_number, Base, Parameter};
use crate::chart::{write_bars, Bar, BarFigure, BarPanel};
use crate::format::{number, optional, short, slug};
use crate::job::design::{DesignIdentity, Next, Point};
use crate::job::staging::check_destination;
use crate::job::{folder_name, Job, JobError, Settings, Written};
use crate::manifest::{self, Header, LazyArray};
use crate::metrics::{MetricId, MetricLayout};
use crate::scenario::overrides::ScenarioTree;
use crate::scenario::source::KeyPath;
use crate::scenario::LoadedScenario;
use crate::time::Quarter;

/// Outcomes analysed when neither the command line nor the file names any.
pub const DEFAULT_OUTPUTS: [MetricId; 2] = [MetricId::Alignment, MetricId::HedgingIndex];

#[derive(Debug, Clone)]
pub struct SensitivityOptions {
    pub scenario: PathBuf,
    pub settings: Settings,
    /// Outcome specifications (`metric[:HOST[:PARTNER]]`); `None`: the file's, else
    /// [`DEFAULT_OUTPUTS`].
    pub outputs: Option<Vec<String>>,
    /// `morris`, `sobol` or `both`; `None`: the file's.
    pub method: Option<Method>,
    pub samples: Option<u64>,
    pub trajectories: Option<u64>,
    pub levels: Option<u32>,
    pub resamples: usize,
    /// Quarters of the outcomes; `None`: the last quarter.
    pub horizons: Option<Vec<Quarter>>,
}

#[derive(Debug)]
pub struct SensitivityOutcome {
    pub written: Written,
    pub evaluations: usize,
    pub summary: String,
}

/// Which indices to estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Morris,
    Sobol,
    Both,
}

impl Method {
    fn morris(self) -> bool {
        matches!(self, Method::Morris | Method::Both)
    }

    fn sobol(self) -> bool {
        matches!(self, Method::Sobol | Method::Both)
    }

    pub fn name(self) -> &'static str {
        match self {
            Method::Morris => "morris",
            Method::Sobol => "sobol",
            Method::Both => "both",
        }
    }
}

/// A method name that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("method must be \"morris\", \"sobol\" or \"both\", got {0:?}")]
pub struct UnknownMethod(pub String);

impl FromStr for Method {
    type Err = UnknownMethod;

    fn from_str(text: &str) -> Result<Method, UnknownMethod> {
        match text {
            "morris" => Ok(Method::Morris),
            "sobol" => Ok(Method::Sobol),
            "both" => Ok(Method::Both),
            other => Err(UnknownMethod(other.to_string())),
        }
    }
}

fn problem(tree: &ScenarioTree, path: KeyPath, message: String) -> JobError {
    table_problem(tree, "sensitivity", path, message)
}

/// Runs the analysis and writes `DIR/sensitivity-<scenario>/`.
pub fn sensitivity(options: &SensitivityOptions, job: Job) -> Result<SensitivityOutcome, JobError> {
    let from = Base::read(&options.scenario)?;
    let (tree, base) = (&from.tree, &from.loaded);
    let destination = options
        .settings
        .out_root()
        .join(folder_name("sensitivity", &[base.scenario.name.as_str()]));
    check_destination(&destination)?;
    let spec = &base.resolved.sensitivity;
    let params = parameters(tree, "sensitivity", &spec.parameters, &options.scenario)?;
    let k = params.len();

    let method = match options.method {
        Some(method) => method,
        None => spec.method.parse().map_err(|e: UnknownMethod| {
            problem(tree, KeyPath::root().key("sensitivity").key("method"), e.to_string())
        })?,
    };
    let samples = options.samples.unwrap_or(spec.samples);
    let trajectories = options.trajectories.unwrap_or(spec.trajectories);
    let levels = options.levels.unwrap_or(spec.levels);
    let field = |name: &str| KeyPath::root().key("sensitivity").key(name);
    let bad = |from_cli: bool, name: &str, message: String| {
        if from_cli {
            JobError::Usage(format!("--{name}: {message}"))
        } else {
            problem(tree, field(name), message)
        }
    };
    if method.sobol() {
        if !(2..=1_000_000).contains(&samples) {
            return Err(bad(
                options.samples.is_some(),
                "samples",
                format!("must be 2 to 1000000, got {samples}"),
            ));
        }
        if k > MAX_SOBOL_PARAMETERS {
            return Err(JobError::Usage(format!(
                "Sobol' indices take at most {MAX_SOBOL_PARAMETERS} parameters (Saltelli's design needs two dimensions of the Sobol' sequence per parameter, and Joe and Kuo's direction numbers give {MAX_SOBOL_DIMENSIONS}), the scenario lists {k}; screen them with --method morris first"
            )));
        }
    }
    if method.morris() {
        if !(2..=100_000).contains(&trajectories) {
            return Err(bad(
                options.trajectories.is_some(),
                "trajectories",
                format!("must be 2 to 100000, got {trajectories}"),
            ));
        }
        if levels < 2 || levels % 2 == 1 || levels > 100 {
            return Err(bad(
                options.levels.is_some(),
                "levels",
                format!("must be an even number from 2 to 100, got {levels}"),
            ));
        }
    }

    let replicates = options.settings.replicates_or(spec.replicates)?;
    // The ranges' ends must make valid scenarios; the larger one's ensemble is counted.
    let mut largest = options.settings.points_bytes_sets(&base.scenario, replicates, 1);
    for (end, u) in [("minimum", 0.0), ("maximum", 1.0)] {
        let at_end = from.with(&overrides(&params, &vec![u; k]), || {
            format!("the scenario with every sensitivity parameter at its {end} is not valid")
        })?;
        largest = largest.max(options.settings.points_bytes_sets(&at_end.scenario, replicates, 1));
    }

    let layout = MetricLayout::new(&base.scenario);
    let dates = match &options.horizons {
        Some(h) => {
            check_horizons(h, base.scenario.start, last_quarter(&base.scenario), "the scenario")?;
            h.clone()
        }
        None => vec![last_quarter(&base.scenario)],
    };
    let specs: Vec<String> = match (&options.outputs, spec.outputs.is_empty()) {
        (Some(list), _) => list.clone(),
        (None, false) => spec.outputs.clone(),
        (None, true) => DEFAULT_OUTPUTS.iter().map(|m| m.name().to_string()).collect(),
    };
    let outcomes = parse_outcomes(&specs, &layout, &dates)?;

    // The designs' points, counted before they are drawn.
    let k64 = k as u64;
    let morris_trajectories = if method.morris() { trajectories } else { 0 };
    let sobol_rows = if method.sobol() { samples.saturating_mul(2) } else { 0 };
    let points_counted = morris_trajectories
        .saturating_mul(k64 + 1)
        .saturating_add(if method.sobol() {
            samples.saturating_mul(k64 + 2)
        } else {
            0
        });
    // k numbers in a vector of their own: a Saltelli row, a trajectory's start, moves or
    // steps.
    let row = k64.saturating_mul(8).saturating_add(size_of::<Vec<f64>>() as u64 + 16);
    options
        .settings
        .budget()
        .add("the largest ensemble", largest)
        .add(
            "the designs (Morris trajectories, Saltelli's matrices)",
            morris_trajectories
                .saturating_mul(3)
                .saturating_add(sobol_rows)
                .saturating_mul(row),
        )
        .add(
            "the outcome means of every point",
            // Every point's means, and one outcome's column with the estimators' copy.
            points_counted.saturating_mul((outcomes.len() as u64).saturating_mul(8).saturating_add(16)),
        )
        .check()?;

    // Designs, from generators seeded by the run seed.
    let seed = options.settings.seed.unwrap_or(base.scenario.seed);
    let mut design_rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6465_7369_676e); // "design"
    let morris_design: Vec<Trajectory> = if method.morris() {
        design_rng.set_stream(1);
        design::morris(k, trajectories as usize, levels, &mut design_rng)
    } else {
        Vec::new()
    };
    let saltelli = if method.sobol() {
        design_rng.set_stream(2);
        Some(Saltelli::new(k, samples as usize, &mut design_rng).expect("k checked against the maximum"))
    } else {
        None
    };
    let runs = Runs {
        k,
        morris: &morris_design,
        saltelli: saltelli.as_ref(),
    };
    let n_runs = runs.len();

    let resolve = |r: usize| {
        from.with(&overrides(&params, &runs.unit(r)), || {
            format!("design point {} is not valid", r + 1)
        })
    };
    let design = options.settings.design(
        identity(
            options,
            base,
            &runs,
            &outcomes,
            (method, samples, trajectories, levels),
            seed,
            replicates,
        )?,
        &destination,
    )?;
    // Validate every point this process computes (a shard its own, a merge none: its
    // shards did), then run them, each resolved again when it runs, so that a large
    // design does not hold every point's scenario at once.
    for r in design.points() {
        job.check()?;
        let loaded = resolve(r)?;
        if MetricLayout::same(&base.scenario, &loaded.scenario) {
            continue;
        }
        let other = MetricLayout::new(&loaded.scenario);
        if let Some(missing) = outcomes.iter().find(|o| !o.exists_in(&layout, &other)) {
            return Err(JobError::Usage(format!(
                "design point {} has no outcome {}",
                r + 1,
                missing.label(&layout)
            )));
        }
    }
    job.progress
        .start(replicates.saturating_mul(design.points().len() as u64), "replicates");
    let config = options.settings.point_ensemble(replicates, seed);
    let compute = |r: usize| -> Result<Point, JobError> {
        let loaded = resolve(r)?;
        let summary = job.ensemble(&loaded.scenario, &config, None, || {
            format!("design point {} of {}", r + 1, n_runs)
        })?;
        Ok(outcomes
            .iter()
            .map(|o| {
                o.stats(&layout, &loaded.scenario, &summary)
                    .expect("every design point's layout was checked before running")
                    .mean
            })
            .collect::<Vec<f64>>()
            .into())
    };
    let design = match design.shard(job, compute)? {
        Next::Shard(shard) => {
            return Ok(SensitivityOutcome {
                summary: shard.summary("sensitivity"),
                written: shard.written,
                evaluations: shard.points.len(),
            })
        }
        Next::Output(design) => design,
    };

    let mut summary = String::new();
    let written = job.write_folder(&destination, |dir| {
        // Every point's outcome means, point-major: y[r * outcomes + o].
        let mut y: Vec<f64> = Vec::with_capacity(n_runs.saturating_mul(outcomes.len()));
        let mut table = PointsTable::create(&dir.join("points.csv"), &params, &outcomes, &layout)
            .map_err(JobError::io("writing points.csv"))?;
        design.stream(
            job,
            compute,
            |_, point| point.values.len() == outcomes.len(),
            |r, point| {
                table
                    .write(r, &runs, &params, &point.values)
                    .map_err(JobError::io("writing points.csv"))?;
                y.extend_from_slice(&point.values);
                Ok(())
            },
        )?;
        table.finish().map_err(JobError::io("writing points.csv"))?;
        let results = estimate(&y, &outcomes, &layout, &runs, options.resamples, seed, method);
        summary = text_summary(&params, &results);
        let mut files = vec!["sensitivity.csv".to_string(), "points.csv".to_string()];
        write_indices(&dir.join("sensitivity.csv"), &params, &outcomes, &layout, &results)
            .map_err(JobError::io("writing sensitivity.csv"))?;
        if options.settings.charts {
            let chart_dir = dir.join("charts");
            fs::create_dir_all(&chart_dir).map_err(JobError::io("creating charts/"))?;
            for result in &results {
                let figure = bar_figure(&params, result, replicates);
                for path in write_bars(&chart_dir, &slug(&result.label), &figure)? {
                    files.push(path.strip_prefix(dir).unwrap_or(&path).display().to_string());
                }
            }
        }
        files.push("manifest.json".to_string());
        let header = Header::new(
            "sensitivity",
            &options.settings.command_line,
            vec![options.scenario.display().to_string()],
            seed,
            replicates,
        );
        let body = json!({
            "scenario_name": base.scenario.name,
            "scenario_files": base.file_list(),
            "random_generator": "ChaCha8 (rand_chacha): replicate i uses stream i of the seed at every point; designs use the seed XOR 0x64657369676e (Morris stream 1, Sobol' shift stream 2); bootstraps are named streams of the seed (see docs/analysis.md)",
            "method": method.name(),
            "parameters": params.iter().map(|p| json!({"key": p.key, "min": p.min, "max": p.max, "integer": p.integer})).collect::<Vec<_>>(),
            "outputs": results.iter().map(|r| r.label.clone()).collect::<Vec<_>>(),
            "morris": method.morris().then(|| json!({"trajectories": trajectories, "levels": levels, "delta": f64::from(levels) / (2.0 * (f64::from(levels) - 1.0)), "points": morris_design.len() * (k + 1)})),
            "sobol": saltelli.as_ref().map(|s| json!({"samples": s.n, "points": s.n * (k + 2), "sequence": "Sobol' (Joe-Kuo new-joe-kuo-6.21201 direction numbers), random digital shift", "first_order": "Saltelli et al. 2010", "total": "Jansen 1999"})),
            "bootstrap": {"resamples": options.resamples, "interval": "percentile", "confidence_level": bootstrap::LEVEL},
            "resolved_scenario": base.resolved_json(),
            "files": files,
        });
        manifest::write(&dir.join("manifest.json"), &header, &body).map_err(JobError::io("writing manifest.json"))?;
        Ok(files)
    })?;
    Ok(SensitivityOutcome {
        written,
        evaluations: n_runs,
        summary,
    })
}

/// Every outcome's indices from every point's outcome means `y` (point-major).
fn estimate(
    y: &[f64],
    outcomes: &[Outcome],
    layout: &MetricLayout,
    runs: &Runs,
    resamples: usize,
    seed: u64,
    method: Method,
) -> Vec<OutcomeResult> {
    let k = runs.k;
    let n_outcomes = outcomes.len();
    let mut results = Vec::with_capacity(n_outcomes);
    for (o, outcome) in outcomes.iter().enumerate() {
        let label = outcome.label(layout);
        let values: Vec<f64> = y.iter().skip(o).step_by(n_outcomes.max(1)).copied().collect();
        let morris = if method.morris() {
            let per_trajectory: Vec<Vec<f64>> = values[..runs.morris.len() * (k + 1)]
                .chunks(k + 1)
                .map(<[f64]>::to_vec)
                .collect();
            let mut rng = bootstrap::rng_for(seed, &format!("morris|{label}"));
            Some(indices::morris(k, runs.morris, &per_trajectory, resamples, &mut rng))
        } else {
            None
        };
        let sobol = runs.saltelli.map(|s| {
            let start = runs.morris.len() * (k + 1);
            let block = |b: usize| values[start + b * s.n..start + (b + 1) * s.n].to_vec();
            let y_ab: Vec<Vec<f64>> = (0..k).map(|i| block(2 + i)).collect();
            let mut rng = bootstrap::rng_for(seed, &format!("sobol|{label}"));
            indices::sobol(&block(0), &block(1), &y_ab, resamples, &mut rng)
        });
        results.push(OutcomeResult {
            title: outcome.title(layout),
            label,
            mean: bootstrap::mean(&values),
            sd: bootstrap::sd(&values),
            morris,
            sobol,
        });
    }
    results
}

/// The design's points, each made from the designs when asked for: the Morris
/// trajectories' points, then Saltelli's A, B and AB_0 … AB_{k−1} (each `n` rows).
struct Runs<'a> {
    k: usize,
    morris: &'a [Trajectory],
    saltelli: Option<&'a Saltelli>,
}

impl Runs<'_> {
    fn len(&self) -> usize {
        self.morris.len() * (self.k + 1) + self.saltelli.map_or(0, |s| s.n * (s.k + 2))
    }

    /// Point `r`'s design: `morris-T` (its trajectory), `sobol-A`, `sobol-B` or
    /// `sobol-AB-I`.
    fn name(&self, r: usize) -> String {
        let morris = self.morris.len() * (self.k + 1);
        if r < morris {
            return format!("morris-{}", r / (self.k + 1) + 1);
        }
        let s = self.saltelli.expect("a point past the Morris design is Saltelli's");
        match (r - morris) / s.n {
            0 => "sobol-A".to_string(),
            1 => "sobol-B".to_string(),
            b => format!("sobol-AB-{}", b - 1),
        }
    }

    /// Point `r`'s unit coordinates.
    fn unit(&self, r: usize) -> Vec<f64> {
        let morris = self.morris.len() * (self.k + 1);
        if r < morris {
            return self.morris[r / (self.k + 1)].point(r % (self.k + 1));
        }
        let s = self.saltelli.expect("a point past the Morris design is Saltelli's");
        let (block, row) = ((r - morris) / s.n, (r - morris) % s.n);
        match block {
            0 => s.a[row].clone(),
            1 => s.b[row].clone(),
            b => s.ab(b - 2, row),
        }
    }
}

/// What identifies a sensitivity design for its shards: inputs, points, outcomes and
/// options.
fn identity(
    options: &SensitivityOptions,
    base: &LoadedScenario,
    runs: &Runs,
    outcomes: &[Outcome],
    (method, samples, trajectories, levels): (Method, u64, u64, u32),
    seed: u64,
    replicates: u64,
) -> Result<DesignIdentity, JobError> {
    let described: Vec<OutcomeIdentity> = outcomes.iter().map(Outcome::identity).collect();
    // Hashed as the JSON object of these fields (written by name), every point's
    // coordinates (as bits) made as they are hashed.
    #[derive(serde::Serialize)]
    #[serde(bound = "")]
    struct Design<'a, F: Fn(usize) -> serde_json::Value> {
        levels: u32,
        method: &'a str,
        outcomes: Vec<OutcomeIdentity>,
        points: LazyArray<F>,
        resamples: usize,
        samples: u64,
        scenario: String,
        trajectories: u64,
    }
    let design = Design {
        levels,
        method: method.name(),
        outcomes: described,
        points: LazyArray {
            len: runs.len(),
            element: |r| serde_json::json!(runs.unit(r).iter().map(|x| x.to_bits()).collect::<Vec<u64>>()),
        },
        resamples: options.resamples,
        samples,
        scenario: options.scenario.display().to_string(),
        trajectories,
    };
    DesignIdentity::new(
        "sensitivity",
        &base.file_list(),
        &options.settings,
        seed,
        replicates,
        runs.len(),
        &design,
    )
}

struct OutcomeResult {
    label: String,
    title: String,
    /// Mean and sd of the outcome over every design point.
    mean: f64,
    sd: f64,
    morris: Option<Vec<MorrisIndex>>,
    sobol: Option<Vec<SobolIndex>>,
}

impl OutcomeResult {
    /// Parameter indices, most influential first: by ST if known, else μ*.
    fn ranking(&self, k: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..k).collect();
        let key = |i: usize| match (&self.sobol, &self.morris) {
            (Some(s), _) => s[i].st,
            (None, Some(m)) => m[i].mu_star,
            _ => 0.0,
        };
        order.sort_by(|&a, &b| key(b).total_cmp(&key(a)).then(a.cmp(&b)));
        order
    }
}

pub const SENSITIVITY_HEADER: [&str; 21] = [
    "output",
    "metric",
    "host",
    "partner",
    "date",
    "parameter",
    "min",
    "max",
    "output_mean",
    "output_sd",
    "mu",
    "mu_star",
    "mu_star_ci_low",
    "mu_star_ci_high",
    "sigma",
    "s1",
    "s1_ci_low",
    "s1_ci_high",
    "st",
    "st_ci_low",
    "st_ci_high",
];

fn write_indices(
    path: &Path,
    params: &[Parameter],
    outcomes: &[Outcome],
    layout: &MetricLayout,
    results: &[OutcomeResult],
) -> io::Result<()> {
    let mut writer = csv::Writer::from_writer(BufWriter::new(fs::File::create(path)?));
    writer.write_record(SENSITIVITY_HEADER)?;
    let low = |i: Option<Interval>| optional(i.map(|i| i.low));
    let high = |i: Option<Interval>| optional(i.map(|i| i.high));
    for (outcome, result) in outcomes.iter().zip(results) {
        for (i, p) in params.iter().enumerate() {
            let m = result.morris.as_ref().map(|m| &m[i]);
            let s = result.sobol.as_ref().map(|s| &s[i]);
            writer.write_record([
                result.label.clone(),
                layout.metric(outcome.metric).name.clone(),
                layout.host_labels[outcome.host].clone(),
                layout.partner_label(outcome.partner).to_string(),
                outcome.date.to_string(),
                p.key.clone(),
                number(p.min),
                number(p.max),
                number(result.mean),
                number(result.sd),
                optional(m.map(|m| m.mu)),
                optional(m.map(|m| m.mu_star)),
                low(m.and_then(|m| m.mu_star_ci)),
                high(m.and_then(|m| m.mu_star_ci)),
                optional(m.map(|m| m.sigma)),
                optional(s.map(|s| s.s1)),
                low(s.and_then(|s| s.s1_ci)),
                high(s.and_then(|s| s.s1_ci)),
                optional(s.map(|s| s.st)),
                low(s.and_then(|s| s.st_ci)),
                high(s.and_then(|s| s.st_ci)),
            ])?;
        }
    }
    writer.flush()
}

/// `points.csv`, written a point at a time: each point's design, parameter values and
/// outcome means.
struct PointsTable {
    writer: csv::Writer<BufWriter<fs::File>>,
}

impl PointsTable {
    fn create(
        path: &Path,
        params: &[Parameter],
        outcomes: &[Outcome],
        layout: &MetricLayout,
    ) -> io::Result<PointsTable> {
        let mut writer = csv::Writer::from_writer(BufWriter::new(fs::File::create(path)?));
        let mut header = vec!["point".to_string(), "design".to_string()];
        header.extend(params.iter().map(|p| p.key.clone()));
        header.extend(outcomes.iter().map(|o| o.label(layout)));
        writer.write_record(&header)?;
        Ok(PointsTable { writer })
    }

    fn write(&mut self, r: usize, runs: &Runs, params: &[Parameter], values: &[f64]) -> io::Result<()> {
        let mut row = vec![(r + 1).to_string(), runs.name(r)];
        row.extend(
            params
                .iter()
                .zip(runs.unit(r))
                .map(|(p, u)| match tidy_number(p.value(u)) {
                    toml::Value::Integer(i) => i.to_string(),
                    toml::Value::Float(x) => number(x),
                    other => other.to_string(),
                }),
        );
        row.extend(values.iter().map(|v| number(*v)));
        Ok(self.writer.write_record(&row)?)
    }

    fn finish(mut self) -> io::Result<()> {
        self.writer.flush()?;
        let file = self.writer.into_inner().map_err(|e| e.into_error())?;
        file.into_inner().map_err(|e| e.into_error())?;
        Ok(())
    }
}

fn text_summary(params: &[Parameter], results: &[OutcomeResult]) -> String {
    let mut text = String::new();
    let interval = |i: Option<Interval>| i.map_or(String::new(), |i| format!("[{}, {}]", short(i.low), short(i.high)));
    for result in results {
        let _ = writeln!(
            text,
            "{} (mean {}, sd {} over the design):",
            result.label,
            short(result.mean),
            short(result.sd)
        );
        let mut table: Vec<Vec<String>> = vec![vec!["parameter".to_string()]];
        if result.morris.is_some() {
            table[0].extend(["mu*", "95% CI", "sigma"].map(String::from));
        }
        if result.sobol.is_some() {
            table[0].extend(["S1", "95% CI", "ST", "95% CI"].map(String::from));
        }
        for i in result.ranking(params.len()) {
            let mut row = vec![params[i].key.clone()];
            if let Some(m) = &result.morris {
                row.extend([short(m[i].mu_star), interval(m[i].mu_star_ci), short(m[i].sigma)]);
            }
            if let Some(s) = &result.sobol {
                row.extend([
                    short(s[i].s1),
                    interval(s[i].s1_ci),
                    short(s[i].st),
                    interval(s[i].st_ci),
                ]);
            }
            table.push(row);
        }
        let widths: Vec<usize> = (0..table[0].len())
            .map(|c| table.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        for row in &table {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(c, (cell, w))| {
                    if c == 0 {
                        format!("{cell:<w$}")
                    } else {
                        format!("{cell:>w$}")
                    }
                })
                .collect();
            let _ = writeln!(text, "  {}", cells.join("  ").trim_end());
        }
    }
    text
}

fn bar_figure(params: &[Parameter], result: &OutcomeResult, replicates: u64) -> BarFigure {
    let order = result.ranking(params.len());
    let mut panels = Vec::new();
    if let Some(m) = &result.morris {
        panels.push(BarPanel {
            title: "Morris screening".to_string(),
            x_desc: "Elementary effect (output per parameter range)".to_string(),
            measures: vec![("\u{3bc}* (95% CI)".to_string(), 0), ("\u{3c3}".to_string(), 4)],
            rows: order
                .iter()
                .map(|&i| {
                    (
                        params[i].key.clone(),
                        vec![
                            Bar {
                                value: m[i].mu_star,
                                interval: m[i].mu_star_ci.map(|c| (c.low, c.high)),
                            },
                            Bar {
                                value: m[i].sigma,
                                interval: None,
                            },
                        ],
                    )
                })
                .collect(),
            overlay: false,
        });
    }
    if let Some(s) = &result.sobol {
        panels.push(BarPanel {
            title: "Sobol\u{2019} indices".to_string(),
            x_desc: "Share of the output\u{2019}s variance".to_string(),
            measures: vec![
                ("S1 first order (95% CI)".to_string(), 1),
                ("ST total (95% CI)".to_string(), 2),
            ],
            rows: order
                .iter()
                .map(|&i| {
                    (
                        params[i].key.clone(),
                        vec![
                            Bar {
                                value: s[i].s1,
                                interval: s[i].s1_ci.map(|c| (c.low, c.high)),
                            },
                            Bar {
                                value: s[i].st,
                                interval: s[i].st_ci.map(|c| (c.low, c.high)),
                            },
                        ],
                    )
                })
                .collect(),
            overlay: false,
        });
    }
    BarFigure {
        title: format!("What drives {}", result.title),
        subtitle: format!(
            "Output: the mean over {replicates} replicates (same seed at every point). Mean {} and sd {} across the design. Parameters by influence, most first.",
            short(result.mean),
            short(result.sd)
        ),
        panels,
    }
}
