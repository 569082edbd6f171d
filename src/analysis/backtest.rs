//! `greatgame backtest`: a run set against observations (`observed.csv`), with skill
//! scores against two naive forecasts. Matching and aggregation rules: `docs/backtest.md`.
//!
//! Each observation whose metric, host and partner the model produces is matched to one
//! cell of the layout and an annual aggregation rule ([`Aggregate`]); a
//! [`ReplicateObserver`] turns every replicate's quarterly values into that year's value,
//! so the 5th and 95th percentiles are of the annual value. Only the matched cells are
//! kept (targets × replicates numbers). Observations the model cannot produce go to
//! `backtest_skipped.csv` with the reason.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use crate::analysis::sweep::read_design;
use crate::analysis::{
    io_context, read_base, run_ensemble, write_folder, write_json, AnalysisError, Progress, RunSettings, Written,
};
use crate::chart::{
    palette, write_figure, y_range, ChartError, Figure, LegendEntry, Panel, Series, INK, SINGLE_FIGURE_SIZE,
};
use crate::ensemble::{EnsembleConfig, ReplicateObserver, ReplicateRecord};
use crate::format::{optional, short};
use crate::metrics::MetricLayout;
use crate::model::Scenario;
use crate::scenario::overrides::{Override, ScenarioTree};
use crate::scenario::LoadedScenario;
use crate::stats::quantile_sorted;

/// The columns an observations file must have (in any order; others are ignored).
pub const OBSERVED_COLUMNS: [&str; 9] = [
    "year", "host", "partner", "metric", "value", "unit", "basis", "note", "source",
];

/// One row of the observations file.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// Line in the file (the header is line 1).
    pub line: usize,
    pub year: i32,
    pub host: String,
    pub partner: String,
    pub metric: String,
    pub value: f64,
    pub unit: String,
    pub basis: String,
    pub note: String,
    pub source: String,
}

/// How a year's value is formed from its four quarterly values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Aggregate {
    /// Mean of the four quarters: annual rates (trade, cargo) and shares.
    Mean,
    /// The fourth quarter's value: stocks.
    YearEnd,
    /// Sum of the four quarters: quarterly flows.
    Sum,
}

impl Aggregate {
    pub fn name(self) -> &'static str {
        match self {
            Aggregate::Mean => "annual mean",
            Aggregate::YearEnd => "year-end (Q4)",
            Aggregate::Sum => "annual sum",
        }
    }

    /// The year's value from its quarters in order (`quarters` holds all four).
    pub fn apply(self, quarters: &[f64]) -> f64 {
        match self {
            Aggregate::Mean => quarters.iter().sum::<f64>() / quarters.len() as f64,
            Aggregate::YearEnd => *quarters.last().unwrap_or(&f64::NAN),
            Aggregate::Sum => quarters.iter().sum(),
        }
    }
}

/// A model quantity an observation is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Target {
    pub cell: usize,
    /// First step of the year (Q1).
    pub first_step: usize,
    pub aggregate: Aggregate,
}

/// An observation matched to the model: `scale × aggregate(cell over the year)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Matched {
    pub target: Target,
    pub scale: f64,
    /// The model metric, e.g. `trade_share ×100`.
    pub model_metric: String,
}

/// The model metric for an observed metric and partner: (name, scale, rule), or the
/// reason there is none.
pub fn model_metric(metric: &str, partner: &str) -> Result<(String, f64, Aggregate), String> {
    let world = partner == "WORLD";
    Ok(match metric {
        "trade_turnover_usd_bn" if world => ("trade_total_usd_bn".into(), 1.0, Aggregate::Mean),
        "trade_turnover_usd_bn" => ("trade_turnover_usd_bn".into(), 1.0, Aggregate::Mean),
        "trade_share_pct" if !world => ("trade_share".into(), 100.0, Aggregate::Mean),
        "fdi_stock_usd_bn" if !world => ("fdi_stock_usd_bn".into(), 1.0, Aggregate::YearEnd),
        "fdi_stock_usd_bn" => {
            return Err("the model holds FDI stocks from its patrons only, not from all origins".into())
        }
        "remittances_pct_gdp" => ("remittances_pct_gdp".into(), 1.0, Aggregate::Mean),
        "arms_import_share_pct" if !world => ("security_dependence".into(), 100.0, Aggregate::YearEnd),
        "middle_corridor_cargo_mt" => ("route_cargo_mt.MIDDLE".into(), 1.0, Aggregate::Mean),
        "exports_to_partner_usd_bn" | "imports_from_partner_usd_bn" => {
            return Err("the model has no split of trade into exports and imports".into())
        }
        "remittance_share_pct" => {
            return Err("remittance shares by partner are an input of the model (ties), not an outcome".into())
        }
        "middle_corridor_teu" => return Err("the model carries freight in tonnes, not TEU".into()),
        "fdi_inflow_usd_bn" => {
            return Err(
                "the model's disbursed investment (patrons' projects, loans included) is not \
                        net FDI inflow from all origins"
                    .into(),
            )
        }
        "trade_turnover_eur_bn" => return Err("value in EUR; the model is in USD".into()),
        _ if world => return Err(format!("no model metric for {metric} with all partners (WORLD)")),
        _ => return Err(format!("no model metric for {metric}")),
    })
}

/// Matches one observation to the scenario's run, or says why it cannot be.
pub fn match_observation(obs: &Observation, scenario: &Scenario, layout: &MetricLayout) -> Result<Matched, String> {
    let (name, scale, aggregate) = model_metric(&obs.metric, &obs.partner)?;
    let metric = layout
        .find(&name)
        .ok_or_else(|| format!("the scenario has no metric {name}"))?;
    let spec = layout.metric(metric);
    let host = layout
        .host_labels
        .iter()
        .position(|h| *h == obs.host)
        .ok_or_else(|| format!("host {} is not in the scenario", obs.host))?;
    if spec.regional && host != layout.all_hosts_row() {
        return Err(format!("{name} is regional: only the C5 row exists"));
    }
    let partner = if spec.per_partner {
        Some(
            layout
                .partner_labels
                .iter()
                .position(|p| *p == obs.partner)
                .ok_or_else(|| format!("partner {} is not a patron of the scenario", obs.partner))?,
        )
    } else {
        None
    };
    let first = scenario.start;
    let steps = scenario.horizon_quarters as i64;
    let q1 = crate::time::Quarter::new(obs.year, 1).ok_or_else(|| format!("year {} is not valid", obs.year))?;
    let first_step = q1.since(first);
    if first_step < 0 || first_step + 4 > steps {
        return Err(format!(
            "year {} is not wholly inside the run ({} to {})",
            obs.year,
            first,
            scenario.quarter_of_step(scenario.horizon_quarters - 1)
        ));
    }
    let label = if scale == 1.0 { name } else { format!("{name} x{scale}") };
    Ok(Matched {
        target: Target {
            cell: layout.index(metric, host, partner),
            first_step: first_step as usize,
            aggregate,
        },
        scale,
        model_metric: label,
    })
}

/// Reads an observations file; errors name the file and line.
pub fn read_observed(path: &Path) -> Result<Vec<Observation>, AnalysisError> {
    let bad = |message: String| AnalysisError::input(path, message);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_path(path)
        .map_err(|e| bad(format!("cannot read: {e}")))?;
    let headers = reader.headers().map_err(|e| bad(format!("line 1: {e}")))?.clone();
    let mut columns = [0usize; 9];
    for (i, name) in OBSERVED_COLUMNS.iter().enumerate() {
        columns[i] = headers.iter().position(|h| h.trim() == *name).ok_or_else(|| {
            bad(format!(
                "line 1: no column \"{name}\" (expected {})",
                OBSERVED_COLUMNS.join(",")
            ))
        })?;
    }
    let mut observations = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(i + 2, |p| p.line() as usize);
            bad(format!("line {line}: {e}"))
        })?;
        let line = record.position().map_or(i + 2, |p| p.line() as usize);
        let field = |k: usize| record.get(columns[k]).unwrap_or("").trim().to_string();
        let year: i32 = field(0)
            .parse()
            .map_err(|_| bad(format!("line {line}: year \"{}\" is not a whole number", field(0))))?;
        let value: f64 = field(4)
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| bad(format!("line {line}: value \"{}\" is not a number", field(4))))?;
        for (k, what) in [(1, "host"), (2, "partner"), (3, "metric")] {
            if field(k).is_empty() {
                return Err(bad(format!("line {line}: {what} is empty")));
            }
        }
        observations.push(Observation {
            line,
            year,
            host: field(1),
            partner: field(2),
            metric: field(3),
            value,
            unit: field(5),
            basis: field(6),
            note: field(7),
            source: field(8),
        });
    }
    Ok(observations)
}

// ---------------------------------------------------------------- naive forecasts, skill

/// Persistence: the value of the latest year before `year` (`history`: (year, value)).
pub fn persistence(history: &[(i32, f64)], year: i32) -> Option<f64> {
    history
        .iter()
        .filter(|(y, _)| *y < year)
        .max_by_key(|(y, _)| *y)
        .map(|&(_, v)| v)
}

/// Log-linear trend fitted by least squares on the years before `year` (at least two
/// distinct years, all values positive), extrapolated to `year`.
pub fn log_linear_trend(history: &[(i32, f64)], year: i32) -> Option<f64> {
    let points: Vec<(f64, f64)> = history
        .iter()
        .filter(|(y, v)| *y < year && *v > 0.0)
        .map(|&(y, v)| (y as f64, v.ln()))
        .collect();
    if history.iter().any(|(y, v)| *y < year && *v <= 0.0) {
        return None;
    }
    let n = points.len() as f64;
    if n < 2.0 {
        return None;
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let slope = sxy / sxx;
    Some((my + slope * (year as f64 - mx)).exp())
}

/// Absolute log error |ln(forecast / observed)|; `None` unless both are positive.
pub fn abs_log_error(forecast: f64, observed: f64) -> Option<f64> {
    (forecast > 0.0 && observed > 0.0 && forecast.is_finite()).then(|| (forecast / observed).ln().abs())
}

/// Mean of the values that exist; `None` if none do.
pub fn mean_of(values: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    let (sum, n) = values
        .into_iter()
        .flatten()
        .fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

/// Share of observations inside their band (p05 to p95, ends included).
pub fn coverage(rows: &[(f64, f64, f64)]) -> Option<f64> {
    (!rows.is_empty())
        .then(|| rows.iter().filter(|(obs, lo, hi)| obs >= lo && obs <= hi).count() as f64 / rows.len() as f64)
}

// ---------------------------------------------------------------- derived rows

/// The metrics summed into a derived turnover row.
const EXPORTS: &str = "exports_to_partner_usd_bn";
const IMPORTS: &str = "imports_from_partner_usd_bn";
const TURNOVER: &str = "trade_turnover_usd_bn";

/// The model has no split of trade into exports and imports, but it has their sum. For
/// each year, host, partner and basis with both an exports and an imports row and no
/// turnover row, adds a derived turnover row (their sum, on the same basis). Returns the
/// rows, and for each exports or imports row so used (by line) the line of its partner.
pub fn derive_turnover(observations: &[Observation]) -> (Vec<Observation>, BTreeMap<usize, usize>) {
    type Key<'a> = (i32, &'a str, &'a str, &'a str);
    let mut groups: BTreeMap<Key, [Option<&Observation>; 3]> = BTreeMap::new();
    for obs in observations {
        let slot = match obs.metric.as_str() {
            EXPORTS => 0,
            IMPORTS => 1,
            TURNOVER => 2,
            _ => continue,
        };
        let key = (obs.year, obs.host.as_str(), obs.partner.as_str(), obs.basis.as_str());
        groups.entry(key).or_default()[slot].get_or_insert(obs);
    }
    let mut out = observations.to_vec();
    let mut used = BTreeMap::new();
    for group in groups.values() {
        if let [Some(exports), Some(imports), None] = group {
            used.insert(exports.line, imports.line);
            used.insert(imports.line, exports.line);
            out.push(Observation {
                metric: TURNOVER.to_string(),
                value: exports.value + imports.value,
                note: format!(
                    "derived: exports (line {}) + imports (line {})",
                    exports.line, imports.line
                ),
                ..(*exports).clone()
            });
        }
    }
    (out, used)
}

// ---------------------------------------------------------------- the plan and the observer

/// Observations set against a scenario: which are compared (and with which annual model
/// value), which are skipped and why, and the targets an ensemble must collect.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Every observation, derived rows included (the naive forecasts' histories).
    pub observations: Vec<Observation>,
    pub matched: Vec<(Observation, Matched)>,
    pub skipped: Vec<(Observation, String)>,
    /// For each compared series, its model quantity in every whole year of the run: the
    /// forecast drawn and written beside the observations.
    pub series_years: BTreeMap<SeriesKey, Vec<(i32, Matched)>>,
    /// Distinct targets, sorted.
    pub targets: Vec<Target>,
    n_cells: usize,
    /// The run the targets index into: its first quarter and length.
    start: crate::time::Quarter,
    horizon_quarters: u32,
}

impl Plan {
    pub fn new(observations: &[Observation], scenario: &Scenario) -> Plan {
        let layout = MetricLayout::new(scenario);
        let (observations, summed) = derive_turnover(observations);
        let results: Vec<Result<Matched, String>> = observations
            .iter()
            .map(|obs| match_observation(obs, scenario, &layout))
            .collect();
        // A derived row carries the line of its exports row; the halves of a pair that was
        // compared point to it.
        let derived_compared: BTreeMap<usize, bool> = observations
            .iter()
            .zip(&results)
            .filter(|(obs, _)| obs.metric == TURNOVER && summed.contains_key(&obs.line))
            .map(|(obs, result)| (obs.line, result.is_ok()))
            .collect();
        let mut skipped = Vec::new();
        let mut matched = Vec::new();
        for (obs, result) in observations.iter().zip(results) {
            if obs.metric != TURNOVER {
                if let Some(&other) = summed.get(&obs.line) {
                    let derived_line = if obs.metric == EXPORTS { obs.line } else { other };
                    if derived_compared.get(&derived_line) == Some(&true) {
                        let reason = format!("compared as a derived {TURNOVER} row: the sum with line {other}");
                        skipped.push((obs.clone(), reason));
                        continue;
                    }
                }
            }
            match result {
                Ok(m) => matched.push((obs.clone(), m)),
                Err(reason) => skipped.push((obs.clone(), reason)),
            }
        }
        let first_year = scenario.start.year() + i32::from(scenario.start.quarter_of_year() != 1);
        let last_year = scenario
            .quarter_of_step(scenario.horizon_quarters.saturating_sub(1))
            .year();
        let mut series_years: BTreeMap<SeriesKey, Vec<(i32, Matched)>> = BTreeMap::new();
        for (obs, _) in &matched {
            series_years.entry(key(obs)).or_insert_with(|| {
                (first_year..=last_year)
                    .filter_map(|year| {
                        let at_year = Observation { year, ..obs.clone() };
                        match_observation(&at_year, scenario, &layout).ok().map(|m| (year, m))
                    })
                    .collect()
            });
        }
        let mut targets: Vec<Target> = matched
            .iter()
            .map(|(_, m)| m.target)
            .chain(series_years.values().flatten().map(|(_, m)| m.target))
            .collect();
        targets.sort();
        targets.dedup();
        Plan {
            observations,
            matched,
            skipped,
            series_years,
            targets,
            n_cells: layout.n_cells(),
            start: scenario.start,
            horizon_quarters: scenario.horizon_quarters,
        }
    }

    /// Why `scenario` cannot fill this plan's targets, if it cannot: overrides changed its
    /// actors, commodities, routes or time.
    pub fn incompatible(&self, scenario: &Scenario) -> Option<&'static str> {
        if MetricLayout::new(scenario).n_cells() != self.n_cells {
            Some("it changes the scenario's actors, commodities or routes")
        } else if scenario.start != self.start || scenario.horizon_quarters != self.horizon_quarters {
            Some("it changes the scenario's time.start or time.horizon_quarters")
        } else {
            None
        }
    }

    /// Where a matched observation's target is in [`Plan::targets`].
    pub fn target_index(&self, m: &Matched) -> usize {
        self.targets
            .binary_search(&m.target)
            .expect("every matched target is in the plan")
    }

    /// Runs one ensemble of `scenario` (which must have the layout the plan was made
    /// for) and appends every replicate's annual value of each target to `values[t]`.
    pub(crate) fn collect(
        &self,
        scenario: &Scenario,
        config: &EnsembleConfig,
        values: &mut [Vec<f64>],
        progress: &dyn Progress,
        cancel: &AtomicBool,
        context: impl Fn() -> String,
    ) -> Result<(), AnalysisError> {
        if let Some(problem) = self.incompatible(scenario) {
            return Err(AnalysisError::Usage(format!("{}: {problem}", context())));
        }
        let mut collector = AnnualCollector {
            targets: &self.targets,
            n_cells: self.n_cells,
            values,
        };
        run_ensemble(scenario, config, progress, cancel, Some(&mut collector), context)?;
        Ok(())
    }
}

/// Collects, for each target, every replicate's annual value.
struct AnnualCollector<'a> {
    targets: &'a [Target],
    n_cells: usize,
    /// `values[t]`: the replicates' values of target `t`, in replicate order.
    values: &'a mut [Vec<f64>],
}

impl ReplicateObserver for AnnualCollector<'_> {
    fn on_replicate(&mut self, _index: u64, record: &ReplicateRecord) -> io::Result<()> {
        let mut quarters = [0.0; 4];
        for (t, target) in self.targets.iter().enumerate() {
            for (q, slot) in quarters.iter_mut().enumerate() {
                *slot = record.values[(target.first_step + q) * self.n_cells + target.cell];
            }
            self.values[t].push(target.aggregate.apply(&quarters));
        }
        Ok(())
    }
}

/// The calibrated parameter sets to run, as overrides (none: the file's values). A file
/// the scenario names is relative to the scenario file.
fn parameter_sets(
    which: &ParameterSets,
    tree: &ScenarioTree,
    loaded: &LoadedScenario,
) -> Result<Option<(PathBuf, Vec<ParameterSet>)>, AnalysisError> {
    let path = match which {
        ParameterSets::None => return Ok(None),
        ParameterSets::File(path) => path.clone(),
        ParameterSets::Scenario => {
            let file = &loaded.resolved.calibration.parameter_sets;
            if file.is_empty() {
                return Ok(None);
            }
            // Relative to the file that names it, which may be a parent through `extends`.
            let naming = tree
                .defining_file(&["calibration", "parameter_sets"])
                .unwrap_or_else(|| tree.path().to_path_buf());
            naming.parent().unwrap_or(Path::new("")).join(file)
        }
    };
    let (keys, rows) = read_design(&path)?;
    let sets = rows
        .into_iter()
        .map(|row| keys.iter().cloned().zip(row).collect())
        .collect();
    Ok(Some((path, sets)))
}

// ---------------------------------------------------------------- the command

#[derive(Debug, Clone)]
pub struct BacktestOptions {
    pub scenario: PathBuf,
    pub observed: PathBuf,
    pub settings: RunSettings,
    /// Which calibrated parameter sets to spread the replicates over.
    pub parameter_sets: ParameterSets,
    /// Last calibration year, instead of the scenario's `[calibration] through`.
    pub through: Option<i32>,
}

/// One calibrated parameter set: a value for each of its keys.
type ParameterSet = Vec<Override>;

/// Where a backtest's parameter sets come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParameterSets {
    /// The file the scenario names in `[calibration] parameter_sets`, if any.
    Scenario,
    /// This file (a CSV as `calibrate` writes).
    File(PathBuf),
    /// None: every replicate runs the file's values.
    None,
}

#[derive(Debug)]
pub struct BacktestOutcome {
    pub summary: String,
    pub written: Written,
    pub matched: usize,
    pub skipped: usize,
}

/// One compared observation.
#[derive(Debug, Clone)]
pub struct Row {
    pub obs: Observation,
    pub model_metric: String,
    pub aggregate: Aggregate,
    pub mean: f64,
    pub p05: f64,
    pub p95: f64,
    pub persistence: Option<f64>,
    pub trend: Option<f64>,
}

/// A series: host, partner, metric and basis (rows on different bases are not mixed).
pub(crate) type SeriesKey = (String, String, String, String);

pub(crate) fn key(obs: &Observation) -> SeriesKey {
    (
        obs.host.clone(),
        obs.partner.clone(),
        obs.metric.clone(),
        obs.basis.clone(),
    )
}

/// Skill of one series (or of all together).
#[derive(Debug, Clone, Default)]
pub struct Skill {
    pub n: usize,
    pub male_model: Option<f64>,
    pub coverage: Option<f64>,
    /// Observations with a trend forecast, and the model's and the forecasts' errors on them.
    pub n_naive: usize,
    pub male_model_naive: Option<f64>,
    pub male_persistence: Option<f64>,
    pub male_trend: Option<f64>,
}

pub fn skill(rows: &[&Row]) -> Skill {
    let comparable: Vec<&&Row> = rows
        .iter()
        .filter(|r| r.trend.is_some() && r.persistence.is_some())
        .collect();
    Skill {
        n: rows.len(),
        male_model: mean_of(rows.iter().map(|r| abs_log_error(r.mean, r.obs.value))),
        coverage: coverage(&rows.iter().map(|r| (r.obs.value, r.p05, r.p95)).collect::<Vec<_>>()),
        n_naive: comparable.len(),
        male_model_naive: mean_of(comparable.iter().map(|r| abs_log_error(r.mean, r.obs.value))),
        male_persistence: mean_of(
            comparable
                .iter()
                .map(|r| r.persistence.and_then(|p| abs_log_error(p, r.obs.value))),
        ),
        male_trend: mean_of(
            comparable
                .iter()
                .map(|r| r.trend.and_then(|p| abs_log_error(p, r.obs.value))),
        ),
    }
}

fn verdict(s: &Skill) -> &'static str {
    match (s.male_model_naive, s.male_trend) {
        (Some(m), Some(t)) if m < t => "beats the trend",
        (Some(_), Some(_)) => "loses to the trend",
        _ => "no trend forecast",
    }
}

/// How the replicates were run: the file's values, or spread over parameter sets.
struct Runs {
    replicates: u64,
    seed: u64,
    parameter_sets: usize,
    through: Option<i32>,
}

pub fn backtest(
    options: &BacktestOptions,
    progress: &dyn Progress,
    cancel: &AtomicBool,
) -> Result<BacktestOutcome, AnalysisError> {
    let (tree, loaded) = read_base(&options.scenario)?;
    let observations = read_observed(&options.observed)?;
    let scenario = &loaded.scenario;
    let (root, name) = options.settings.place("backtest", &scenario.name)?;
    let plan = Plan::new(&observations, scenario);

    let replicates = options.settings.replicates.unwrap_or(scenario.replicates);
    if replicates == 0 {
        return Err(AnalysisError::Usage("--replicates must be at least 1".into()));
    }
    let seed = options.settings.seed.unwrap_or(scenario.seed);
    let (sets_file, sets) = parameter_sets(&options.parameter_sets, &tree, &loaded)?.unzip();
    let sets = sets.unwrap_or_default();
    // Each parameter set runs its share of the replicates, on its own seed (seed + set):
    // the band then holds parameter uncertainty as well as the model's own noise.
    let mut runs: Vec<(Cow<Scenario>, u64, u64)> = Vec::new();
    if sets.is_empty() {
        runs.push((Cow::Borrowed(scenario), replicates, seed));
    } else {
        let n = sets.len() as u64;
        let file = sets_file.as_deref().unwrap_or(Path::new("?"));
        for (s, overrides) in sets.iter().enumerate() {
            let share = replicates / n + u64::from((s as u64) < replicates % n);
            let resolved = tree.resolve(overrides).map_err(|error| AnalysisError::Scenario {
                context: format!("parameter set {} of {} is not valid", s + 1, file.display()),
                error,
            })?;
            if let Some(problem) = plan.incompatible(&resolved.scenario) {
                return Err(AnalysisError::input(
                    file,
                    format!("parameter set {}: {problem}", s + 1),
                ));
            }
            runs.push((Cow::Owned(resolved.scenario), share.max(1), seed.wrapping_add(s as u64)));
        }
    }
    let total: u64 = runs.iter().map(|r| r.1).sum();
    progress.start(total, "replicates");
    let mut values = vec![Vec::with_capacity(total.min(1 << 20) as usize); plan.targets.len()];
    for (s, (run, n, run_seed)) in runs.iter().enumerate() {
        let config = EnsembleConfig {
            replicates: *n,
            seed: *run_seed,
            threads: options.settings.threads,
            max_memory_bytes: options.settings.max_memory_bytes,
        };
        plan.collect(run, &config, &mut values, progress, cancel, || {
            if runs.len() == 1 {
                format!("backtest of {}", scenario.name)
            } else {
                format!("backtest of {}, parameter set {}", scenario.name, s + 1)
            }
        })?;
    }
    let stats: Vec<(f64, f64, f64)> = values
        .iter_mut()
        .map(|v| {
            v.sort_by(f64::total_cmp);
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            (mean, quantile_sorted(v, 0.05), quantile_sorted(v, 0.95))
        })
        .collect();

    // Histories of every series, from the whole file (years outside the run too).
    let mut history: BTreeMap<SeriesKey, Vec<(i32, f64)>> = BTreeMap::new();
    for obs in &plan.observations {
        history.entry(key(obs)).or_default().push((obs.year, obs.value));
    }
    let rows: Vec<Row> = plan
        .matched
        .iter()
        .map(|(obs, m)| {
            let (mean, p05, p95) = stats[plan.target_index(m)];
            let h = &history[&key(obs)];
            Row {
                persistence: persistence(h, obs.year),
                trend: log_linear_trend(h, obs.year),
                model_metric: m.model_metric.clone(),
                aggregate: m.target.aggregate,
                mean: mean * m.scale,
                p05: p05 * m.scale,
                p95: p95 * m.scale,
                obs: obs.clone(),
            }
        })
        .collect();

    let mut by_series: BTreeMap<SeriesKey, Vec<&Row>> = BTreeMap::new();
    for row in &rows {
        by_series.entry(key(&row.obs)).or_default().push(row);
    }
    // Every whole year of the run, for each series: (year, mean, p05, p95).
    let forecasts: BTreeMap<&SeriesKey, Vec<(i32, f64, f64, f64)>> = plan
        .series_years
        .iter()
        .map(|(k, years)| {
            let values = years
                .iter()
                .map(|(year, m)| {
                    let (mean, p05, p95) = stats[plan.target_index(m)];
                    (*year, mean * m.scale, p05 * m.scale, p95 * m.scale)
                })
                .collect();
            (k, values)
        })
        .collect();
    let how = Runs {
        replicates: total,
        seed,
        parameter_sets: sets.len(),
        through: options.through.or(loaded.resolved.calibration.through),
    };
    let summary = report(
        &scenario.name,
        &how,
        &options.observed,
        &rows,
        &by_series,
        plan.skipped.len(),
    );

    let written = write_folder(&root, &name, |dir| {
        let mut files = vec![
            "backtest.csv".to_string(),
            "backtest_skipped.csv".to_string(),
            "skill.csv".to_string(),
        ];
        write_rows(&dir.join("backtest.csv"), &rows).map_err(io_context("writing backtest.csv"))?;
        write_skipped(&dir.join("backtest_skipped.csv"), &plan.skipped)
            .map_err(io_context("writing backtest_skipped.csv"))?;
        write_skill(&dir.join("skill.csv"), &by_series, &rows).map_err(io_context("writing skill.csv"))?;
        write_forecasts(&dir.join("forecast.csv"), &forecasts).map_err(io_context("writing forecast.csv"))?;
        files.push("forecast.csv".into());
        fs::write(dir.join("report.txt"), &summary).map_err(io_context("writing report.txt"))?;
        files.push("report.txt".into());
        if options.settings.charts {
            let chart_dir = dir.join("charts");
            fs::create_dir_all(&chart_dir).map_err(io_context("creating charts/"))?;
            for (k, series) in &by_series {
                for path in draw_series(&chart_dir, k, series, &forecasts[k], how.through)? {
                    let relative = path.strip_prefix(dir).unwrap_or(&path);
                    files.push(relative.display().to_string());
                }
            }
        }
        let manifest = serde_json::json!({
            "command": "backtest",
            "scenario": scenario.name,
            "scenario_file": options.scenario.display().to_string(),
            "observed": options.observed.display().to_string(),
            "replicates": total,
            "seed": seed,
            "parameter_sets": sets.len(),
            "parameter_sets_file": sets_file.as_ref().map(|p| p.display().to_string()),
            "calibrated_through": how.through,
            "crate_version": env!("CARGO_PKG_VERSION"),
            "command_line": options.settings.command_line,
            "observations": plan.observations.len(),
            "compared": rows.len(),
            "skipped": plan.skipped.len(),
            "files": files,
        });
        write_json(&dir.join("manifest.json"), &manifest).map_err(io_context("writing manifest.json"))?;
        files.push("manifest.json".into());
        Ok(files)
    })?;
    Ok(BacktestOutcome {
        summary,
        written,
        matched: rows.len(),
        skipped: plan.skipped.len(),
    })
}

fn report(
    name: &str,
    how: &Runs,
    observed: &Path,
    rows: &[Row],
    by_series: &BTreeMap<SeriesKey, Vec<&Row>>,
    skipped: usize,
) -> String {
    let mut out = String::new();
    let pct = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{:.0}%", v * 100.0));
    let num = |v: Option<f64>| v.map_or("-".to_string(), short);
    let spread = match how.parameter_sets {
        0 => String::new(),
        n => format!(" spread over {n} calibrated parameter sets"),
    };
    out.push_str(&format!(
        "backtest of {name} against {}: {} observations compared, {skipped} skipped; {} replicates{spread}, seed {}\n",
        observed.display(),
        rows.len(),
        how.replicates,
        how.seed
    ));
    out.push_str("MALE = mean absolute log error |ln(forecast/observed)| (0.1 is about 10% off); coverage = share inside the model's p05-p95.\n");
    out.push_str("naive forecasts use only observations of the same series from earlier years; 'vs naive' columns are on the observations that have both.\n");
    match how.through {
        Some(t) => out.push_str(&format!(
            "the scenario was calibrated on the years up to {t}; later years are held out.\n\n"
        )),
        None => out.push_str("the scenario names no calibration years ([calibration] through).\n\n"),
    }
    out.push_str(&format!(
        "{:<4} {:<6} {:<24} {:<30} {:>3} {:>7} {:>6} | {:>3} {:>7} {:>7} {:>7}  {}\n",
        "host", "partner", "metric", "basis", "n", "MALE", "cover", "n", "model", "persist", "trend", "verdict"
    ));
    for ((host, partner, metric, basis), series) in by_series {
        let s = skill(series);
        let mut basis = basis.clone();
        basis.truncate(30);
        out.push_str(&format!(
            "{:<4} {:<6} {:<24} {:<30} {:>3} {:>7} {:>6} | {:>3} {:>7} {:>7} {:>7}  {}\n",
            host,
            partner,
            metric,
            basis,
            s.n,
            num(s.male_model),
            pct(s.coverage),
            s.n_naive,
            num(s.male_model_naive),
            num(s.male_persistence),
            num(s.male_trend),
            verdict(&s)
        ));
    }
    let line = |label: &str, rows: &[&Row]| {
        let s = skill(rows);
        format!(
            "{label}: MALE {} over {} observations, coverage {}; on the {} with both naive forecasts: model {}, persistence {}, trend {}\n",
            num(s.male_model),
            s.n,
            pct(s.coverage),
            s.n_naive,
            num(s.male_model_naive),
            num(s.male_persistence),
            num(s.male_trend)
        )
    };
    let all: Vec<&Row> = rows.iter().collect();
    out.push('\n');
    out.push_str(&line("all years", &all));
    let judged: Vec<&Row> = match how.through {
        Some(t) => {
            let (fit, held): (Vec<&Row>, Vec<&Row>) = rows.iter().partition(|r| r.obs.year <= t);
            out.push_str(&line(&format!("calibration years (<= {t})"), &fit));
            if held.is_empty() {
                out.push_str(&format!("held-out years (> {t}): no observations\n"));
            } else {
                out.push_str(&line(&format!("held-out years (> {t})"), &held));
            }
            held
        }
        None => all,
    };
    let s = skill(&judged);
    let plain = match (how.through, s.male_model_naive, s.male_trend) {
        _ if rows.is_empty() => "no observation could be compared with the model (see backtest_skipped.csv)".to_string(),
        (Some(t), _, _) if judged.is_empty() => format!(
            "no observation after {t}: the file scores only the calibration years, where doing well shows fit, not forecasting skill"
        ),
        (_, Some(m), Some(t)) if m < t => "the model BEATS the log-linear trend line".to_string(),
        (_, Some(_), Some(_)) => "the model does NOT beat the log-linear trend line".to_string(),
        _ => "no observation has a trend forecast: the model cannot be compared with the trend line".to_string(),
    };
    let scope = if how.through.is_some() && !judged.is_empty() {
        " (on the held-out years)"
    } else {
        ""
    };
    out.push_str(&format!("verdict{scope}: {plain}\n"));
    out
}

fn write_rows(path: &Path, rows: &[Row]) -> io::Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record([
        "year",
        "host",
        "partner",
        "metric",
        "basis",
        "observed",
        "simulated_mean",
        "simulated_p05",
        "simulated_p95",
        "model_metric",
        "aggregation",
        "persistence",
        "trend",
        "note",
    ])?;
    for r in rows {
        w.write_record([
            r.obs.year.to_string(),
            r.obs.host.clone(),
            r.obs.partner.clone(),
            r.obs.metric.clone(),
            r.obs.basis.clone(),
            crate::format::number(r.obs.value),
            crate::format::number(r.mean),
            crate::format::number(r.p05),
            crate::format::number(r.p95),
            r.model_metric.clone(),
            r.aggregate.name().to_string(),
            optional(r.persistence),
            optional(r.trend),
            r.obs.note.clone(),
        ])?;
    }
    w.flush()
}

fn write_skipped(path: &Path, skipped: &[(Observation, String)]) -> io::Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    let mut header: Vec<&str> = OBSERVED_COLUMNS.to_vec();
    header.push("reason");
    w.write_record(&header)?;
    for (o, reason) in skipped {
        w.write_record([
            o.year.to_string(),
            o.host.clone(),
            o.partner.clone(),
            o.metric.clone(),
            crate::format::number(o.value),
            o.unit.clone(),
            o.basis.clone(),
            o.note.clone(),
            o.source.clone(),
            reason.clone(),
        ])?;
    }
    w.flush()
}

fn write_skill(path: &Path, by_series: &BTreeMap<SeriesKey, Vec<&Row>>, rows: &[Row]) -> io::Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record([
        "host",
        "partner",
        "metric",
        "basis",
        "n",
        "male_model",
        "coverage",
        "n_naive",
        "male_model_naive",
        "male_persistence",
        "male_trend",
        "verdict",
    ])?;
    let all: Vec<&Row> = rows.iter().collect();
    let total = ("ALL".to_string(), String::new(), String::new(), String::new());
    for (k, series) in by_series.iter().chain(std::iter::once((&total, &all))) {
        let s = skill(series);
        w.write_record([
            k.0.clone(),
            k.1.clone(),
            k.2.clone(),
            k.3.clone(),
            s.n.to_string(),
            optional(s.male_model),
            optional(s.coverage),
            s.n_naive.to_string(),
            optional(s.male_model_naive),
            optional(s.male_persistence),
            optional(s.male_trend),
            verdict(&s).to_string(),
        ])?;
    }
    w.flush()
}

/// The model's annual value of every compared series in every whole year of the run.
fn write_forecasts(path: &Path, forecasts: &BTreeMap<&SeriesKey, Vec<(i32, f64, f64, f64)>>) -> io::Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record([
        "year",
        "host",
        "partner",
        "metric",
        "basis",
        "simulated_mean",
        "simulated_p05",
        "simulated_p95",
    ])?;
    for (k, years) in forecasts {
        for &(year, mean, p05, p95) in years {
            w.write_record([
                year.to_string(),
                k.0.clone(),
                k.1.clone(),
                k.2.clone(),
                k.3.clone(),
                crate::format::number(mean),
                crate::format::number(p05),
                crate::format::number(p95),
            ])?;
        }
    }
    w.flush()
}

/// One series: the model's band over the whole run, the observations, and the naive
/// forecasts; a dotted line after the last calibration year.
fn draw_series(
    dir: &Path,
    k: &SeriesKey,
    rows: &[&Row],
    forecast: &[(i32, f64, f64, f64)],
    through: Option<i32>,
) -> Result<Vec<PathBuf>, ChartError> {
    let mut sorted: Vec<&Row> = rows.to_vec();
    sorted.sort_by_key(|r| r.obs.year);
    let x = |r: &Row| r.obs.year as f64 + 0.5;
    let point = |r: &Row, v: f64| (x(r), v, v, v);
    let model = Series {
        color: palette(0),
        dashed: false,
        band: true,
        points: forecast
            .iter()
            .map(|&(year, mean, p05, p95)| (year as f64 + 0.5, mean, p05, p95))
            .collect(),
    };
    let observed = Series {
        color: INK,
        dashed: false,
        band: false,
        points: sorted.iter().map(|r| point(r, r.obs.value)).collect(),
    };
    let persist = Series {
        color: palette(1),
        dashed: true,
        band: false,
        points: sorted
            .iter()
            .filter_map(|r| r.persistence.map(|v| point(r, v)))
            .collect(),
    };
    let trend = Series {
        color: palette(2),
        dashed: true,
        band: false,
        points: sorted.iter().filter_map(|r| r.trend.map(|v| point(r, v))).collect(),
    };
    let mut series = vec![model, observed, persist, trend];
    let mut legend = vec![
        LegendEntry {
            label: "model (mean, p05-p95)".into(),
            color: palette(0),
            dashed: false,
            band: true,
        },
        LegendEntry {
            label: "observed".into(),
            color: INK,
            dashed: false,
            band: false,
        },
        LegendEntry {
            label: "persistence".into(),
            color: palette(1),
            dashed: true,
            band: false,
        },
        LegendEntry {
            label: "log-linear trend".into(),
            color: palette(2),
            dashed: true,
            band: false,
        },
    ];
    let years = forecast.iter().map(|f| f.0).chain(sorted.iter().map(|r| r.obs.year));
    let (first, last) = years.fold((i32::MAX, i32::MIN), |(lo, hi), y| (lo.min(y), hi.max(y)));
    let (first, last) = (first as f64, last as f64 + 1.0);
    if let Some(t) = through.filter(|&t| (first..last).contains(&(t as f64 + 1.0))) {
        // The end of the calibration years, as a thin vertical line across the data.
        let (lo, hi) = y_range(&series);
        let edge = t as f64 + 1.0;
        series.push(Series {
            color: INK,
            dashed: true,
            band: false,
            points: vec![(edge, lo, lo, lo), (edge, hi, hi, hi)],
        });
        legend.push(LegendEntry {
            label: format!("end of calibration ({t})"),
            color: INK,
            dashed: true,
            band: false,
        });
    }
    let figure = Figure {
        title: format!("{} {} {}", k.2, k.0, k.1),
        subtitle: format!("basis: {}; model: {}", k.3, rows[0].model_metric),
        legend,
        legend_group: 1,
        panels: vec![Panel {
            title: None,
            y_desc: rows[0].obs.unit.clone(),
            y_range: y_range(&series),
            series,
        }],
        columns: 1,
        size: SINGLE_FIGURE_SIZE,
        x_range: (first - 0.5, last.max(first + 1.0) + 0.5),
        x_desc: None,
    };
    let stem = crate::format::slug(&format!("{}_{}_{}_{}", k.2, k.0, k.1, k.3));
    write_figure(dir, &stem, &figure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregation_rules() {
        let q = [1.0, 2.0, 3.0, 6.0];
        assert_eq!(Aggregate::Mean.apply(&q), 3.0);
        assert_eq!(Aggregate::YearEnd.apply(&q), 6.0);
        assert_eq!(Aggregate::Sum.apply(&q), 12.0);
    }

    #[test]
    fn naive_forecasts() {
        let h = [(2015, 10.0), (2016, 20.0), (2017, 40.0), (2019, 1.0)];
        assert_eq!(persistence(&h, 2018), Some(40.0));
        assert_eq!(persistence(&h, 2015), None);
        let t = log_linear_trend(&h, 2018).unwrap();
        assert!((t - 80.0).abs() < 1e-9, "{t}");
        assert_eq!(log_linear_trend(&h, 2016), None);
        assert_eq!(log_linear_trend(&[(2015, 1.0), (2015, 2.0)], 2017), None);
        assert_eq!(log_linear_trend(&[(2015, 0.0), (2016, 2.0)], 2017), None);
    }

    #[test]
    fn male_and_coverage() {
        assert!((abs_log_error(20.0, 10.0).unwrap() - 2f64.ln()).abs() < 1e-12);
        assert!((abs_log_error(5.0, 10.0).unwrap() - 2f64.ln()).abs() < 1e-12);
        assert_eq!(abs_log_error(0.0, 10.0), None);
        assert_eq!(mean_of([Some(1.0), None, Some(3.0)]), Some(2.0));
        assert_eq!(mean_of([None]), None);
        assert_eq!(
            coverage(&[(1.0, 0.0, 2.0), (3.0, 0.0, 2.0), (2.0, 2.0, 2.0), (-1.0, 0.0, 1.0)]),
            Some(0.5)
        );
        assert_eq!(coverage(&[]), None);
    }

    #[test]
    fn matching_rules() {
        let loaded = crate::scenario::load(Path::new("scenarios/backcast_2015.toml")).unwrap();
        let s = &loaded.scenario;
        let layout = MetricLayout::new(s);
        let obs = |year, host: &str, partner: &str, metric: &str| Observation {
            line: 2,
            year,
            host: host.into(),
            partner: partner.into(),
            metric: metric.into(),
            value: 1.0,
            unit: String::new(),
            basis: String::new(),
            note: String::new(),
            source: String::new(),
        };
        let m = match_observation(&obs(2019, "C5", "CHN", "trade_turnover_usd_bn"), s, &layout).unwrap();
        assert_eq!(m.target.first_step, 16);
        assert_eq!(m.target.aggregate, Aggregate::Mean);
        let m = match_observation(&obs(2016, "KAZ", "WORLD", "trade_turnover_usd_bn"), s, &layout).unwrap();
        assert_eq!(m.model_metric, "trade_total_usd_bn");
        let m = match_observation(&obs(2021, "UZB", "RUS", "trade_share_pct"), s, &layout).unwrap();
        assert_eq!(m.scale, 100.0);
        let m = match_observation(&obs(2021, "KAZ", "USA", "fdi_stock_usd_bn"), s, &layout).unwrap();
        assert_eq!(m.target.aggregate, Aggregate::YearEnd);
        for (o, why) in [
            (obs(2014, "KAZ", "WORLD", "remittances_pct_gdp"), "inside the run"),
            (obs(2026, "KAZ", "WORLD", "remittances_pct_gdp"), "inside the run"),
            (obs(2019, "C5", "EU", "trade_share_pct"), "not a patron"),
            (obs(2019, "KAZ", "WORLD", "exports_to_partner_usd_bn"), "exports"),
            (obs(2019, "XYZ", "CHN", "trade_turnover_usd_bn"), "not in the scenario"),
            (obs(2019, "C5", "EU", "trade_turnover_eur_bn"), "EUR"),
        ] {
            let err = match_observation(&o, s, &layout).unwrap_err();
            assert!(err.contains(why), "{err}");
        }
    }
}
