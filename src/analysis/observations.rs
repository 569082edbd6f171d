//! Observations set against a scenario, in one place: the observations file, the
//! matching of each observation to a model cell and an annual aggregation rule, and the
//! collection of every replicate's annual value of the matched cells. `backtest` and
//! `calibrate` both stand on this. Matching and aggregation rules: `docs/backtest.md`.
//!
//! Each observation whose metric, host and partner the model produces is matched to one
//! cell of the layout and an annual aggregation rule ([`Aggregate`]); a
//! [`ReplicateObserver`] turns every replicate's quarterly values into that year's value,
//! so percentiles are of the annual value. Only the matched cells are kept (targets ×
//! replicates numbers). Observations the model cannot produce are skipped with the reason.

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::Path;

use crate::ensemble::{EnsembleConfig, ReplicateObserver, ReplicateRecord};
use crate::input::{self, InputError};
use crate::job::{Job, JobError};
use crate::metrics::{MetricId, MetricLayout, RouteMetric};
use crate::model::Scenario;

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

/// Why an observation cannot be compared with the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkipReason(pub String);

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for SkipReason {
    fn from(text: &str) -> SkipReason {
        SkipReason(text.to_string())
    }
}

impl From<String> for SkipReason {
    fn from(text: String) -> SkipReason {
        SkipReason(text)
    }
}

/// The model quantity an observed metric is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelMetric {
    Base(MetricId),
    /// A per-route metric of the route with this id.
    Route(RouteMetric, &'static str),
}

impl ModelMetric {
    /// Its full name in a scenario's catalogue.
    pub fn name(self) -> String {
        match self {
            ModelMetric::Base(metric) => metric.name().to_string(),
            ModelMetric::Route(metric, route) => format!("{}.{route}", metric.name()),
        }
    }
}

/// The model metric for an observed metric and partner: (metric, scale, rule), or the
/// reason there is none.
pub fn model_metric(metric: &str, partner: &str) -> Result<(ModelMetric, f64, Aggregate), SkipReason> {
    use ModelMetric::Base;
    let world = partner == "WORLD";
    Ok(match metric {
        "trade_turnover_usd_bn" if world => (Base(MetricId::TradeTotalUsdBn), 1.0, Aggregate::Mean),
        "trade_turnover_usd_bn" => (Base(MetricId::TradeTurnoverUsdBn), 1.0, Aggregate::Mean),
        "trade_share_pct" if !world => (Base(MetricId::TradeShare), 100.0, Aggregate::Mean),
        "fdi_stock_usd_bn" if !world => (Base(MetricId::FdiStockUsdBn), 1.0, Aggregate::YearEnd),
        "fdi_stock_usd_bn" => {
            return Err("the model holds FDI stocks from its patrons only, not from all origins".into())
        }
        "remittances_pct_gdp" => (Base(MetricId::RemittancesPctGdp), 1.0, Aggregate::Mean),
        "arms_import_share_pct" if !world => (Base(MetricId::SecurityDependence), 100.0, Aggregate::YearEnd),
        "middle_corridor_cargo_mt" => (ModelMetric::Route(RouteMetric::Cargo, "MIDDLE"), 1.0, Aggregate::Mean),
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
        _ if world => return Err(format!("no model metric for {metric} with all partners (WORLD)").into()),
        _ => return Err(format!("no model metric for {metric}").into()),
    })
}

/// Matches one observation to the scenario's run, or says why it cannot be.
pub fn match_observation(obs: &Observation, scenario: &Scenario, layout: &MetricLayout) -> Result<Matched, SkipReason> {
    let (metric, scale, aggregate) = model_metric(&obs.metric, &obs.partner)?;
    let name = metric.name();
    let metric = layout
        .find(&name)
        .ok_or_else(|| SkipReason(format!("the scenario has no metric {name}")))?;
    let spec = layout.metric(metric);
    let host = layout
        .host_labels
        .iter()
        .position(|h| *h == obs.host)
        .ok_or_else(|| SkipReason(format!("host {} is not in the scenario", obs.host)))?;
    if spec.regional && host != layout.all_hosts_row() {
        return Err(SkipReason(format!("{name} is regional: only the C5 row exists")));
    }
    let partner = if spec.per_partner {
        Some(
            layout
                .partner_labels
                .iter()
                .position(|p| *p == obs.partner)
                .ok_or_else(|| SkipReason(format!("partner {} is not a patron of the scenario", obs.partner)))?,
        )
    } else {
        None
    };
    let first = scenario.start;
    let steps = scenario.horizon_quarters as i64;
    let q1 =
        crate::time::Quarter::new(obs.year, 1).ok_or_else(|| SkipReason(format!("year {} is not valid", obs.year)))?;
    let first_step = q1.since(first);
    if first_step < 0 || first_step + 4 > steps {
        return Err(SkipReason(format!(
            "year {} is not wholly inside the run ({} to {})",
            obs.year,
            first,
            scenario.quarter_of_step(scenario.horizon_quarters - 1)
        )));
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

/// Largest observations file read.
pub const MAX_OBSERVED_BYTES: u64 = 64 * 1024 * 1024;
/// Most rows of an observations file.
pub const MAX_OBSERVATIONS: usize = 1_000_000;
/// Magnitudes an observed value may have (or 0): ratios and logarithms of them stay finite.
pub const OBSERVED_RANGE: (f64, f64) = (1e-9, 1e9);

/// Reads an observations file; errors name the file, line and column. Values are finite
/// and in [`OBSERVED_RANGE`], years whole and within the quarters a scenario can have,
/// and no observation is given twice (same year, host, partner, metric and basis).
pub fn read_observed(path: &Path) -> Result<Vec<Observation>, JobError> {
    Ok(read_observations(path)?)
}

fn read_observations(path: &Path) -> Result<Vec<Observation>, InputError> {
    let table = input::read_table(path, MAX_OBSERVED_BYTES, MAX_OBSERVATIONS, "observations")?;
    let expected = OBSERVED_COLUMNS.join(",");
    let mut columns = [0usize; 9];
    for (i, name) in OBSERVED_COLUMNS.iter().enumerate() {
        columns[i] = table.column(name, &expected)?;
    }
    let mut observations: Vec<Observation> = Vec::with_capacity(table.rows.len());
    let mut seen: BTreeMap<(i32, String, String, String, String), usize> = BTreeMap::new();
    for row in &table.rows {
        let field = |k: usize| row.fields[columns[k]].clone();
        let year = table.whole(row, columns[0], "year", 1900, 2200)? as i32;
        let value = table.number(row, columns[4], "value", OBSERVED_RANGE)?;
        for (k, what) in [(1, "host"), (2, "partner"), (3, "metric")] {
            if field(k).is_empty() {
                return Err(table.error(row, columns[k], format!("{what} is empty")));
            }
        }
        let key = (year, field(1), field(2), field(3), field(6));
        if let Some(first) = seen.insert(key, row.line) {
            return Err(table.error(
                row,
                columns[4],
                format!("the same observation (year, host, partner, metric and basis) as line {first}: give each once"),
            ));
        }
        observations.push(Observation {
            line: row.line,
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

/// A series: host, partner, metric and basis (rows on different bases are not mixed).
pub type SeriesKey = (String, String, String, String);

/// The series of an observation.
pub fn key(obs: &Observation) -> SeriesKey {
    (
        obs.host.clone(),
        obs.partner.clone(),
        obs.metric.clone(),
        obs.basis.clone(),
    )
}

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

/// Observations set against a scenario: which are compared (and with which annual model
/// value), which are skipped and why, and the targets an ensemble must collect.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Every observation, derived rows included (the naive forecasts' histories).
    pub observations: Vec<Observation>,
    pub matched: Vec<(Observation, Matched)>,
    pub skipped: Vec<(Observation, SkipReason)>,
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
        let results: Vec<Result<Matched, SkipReason>> = observations
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
                        let reason = SkipReason(format!(
                            "compared as a derived {TURNOVER} row: the sum with line {other}"
                        ));
                        skipped.push((obs.clone(), reason));
                        continue;
                    }
                }
            }
            match result {
                Ok(_) if obs.value <= 0.0 => skipped.push((
                    obs.clone(),
                    SkipReason("the value is not positive: errors are measured as ratios (logs)".to_string()),
                )),
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
    pub fn collect(
        &self,
        scenario: &Scenario,
        config: &EnsembleConfig,
        values: &mut [Vec<f64>],
        job: Job,
        context: impl Fn() -> String,
    ) -> Result<(), JobError> {
        if let Some(problem) = self.incompatible(scenario) {
            return Err(JobError::Usage(format!("{}: {problem}", context())));
        }
        let mut collector = AnnualCollector {
            targets: &self.targets,
            n_cells: self.n_cells,
            values,
        };
        job.ensemble(scenario, config, Some(&mut collector), context)?;
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
            let err = match_observation(&o, s, &layout).unwrap_err().to_string();
            assert!(err.contains(why), "{err}");
        }
    }
}
