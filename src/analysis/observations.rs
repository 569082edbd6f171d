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
//! Values in EUR are converted to USD at the ECB's annual average reference rate of their
//! year ([`eur_usd`]) before they are matched.

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
/// reason there is none. Flows and shares are annual rates or levels each quarter (the
/// year's value is their mean); stocks are read at the year's end.
pub fn model_metric(metric: &str, partner: &str) -> Result<(ModelMetric, f64, Aggregate), SkipReason> {
    use ModelMetric::Base;
    let world = partner == "WORLD";
    Ok(match metric {
        "trade_turnover_usd_bn" if world => (Base(MetricId::TradeTotalUsdBn), 1.0, Aggregate::Mean),
        "trade_turnover_usd_bn" => (Base(MetricId::TradeTurnoverUsdBn), 1.0, Aggregate::Mean),
        "exports_to_partner_usd_bn" if world => (Base(MetricId::ExportsTotalUsdBn), 1.0, Aggregate::Mean),
        "exports_to_partner_usd_bn" => (Base(MetricId::ExportsUsdBn), 1.0, Aggregate::Mean),
        "imports_from_partner_usd_bn" if world => (Base(MetricId::ImportsTotalUsdBn), 1.0, Aggregate::Mean),
        "imports_from_partner_usd_bn" => (Base(MetricId::ImportsUsdBn), 1.0, Aggregate::Mean),
        "trade_share_pct" if !world => (Base(MetricId::TradeShare), 100.0, Aggregate::Mean),
        "fdi_stock_usd_bn" if !world => (Base(MetricId::FdiStockUsdBn), 1.0, Aggregate::YearEnd),
        "fdi_stock_usd_bn" => {
            return Err("the model holds FDI stocks from its patrons only, not from all origins".into())
        }
        "fdi_inflow_usd_bn" if world => (Base(MetricId::FdiInflowTotalUsdBn), 1.0, Aggregate::Mean),
        "fdi_inflow_usd_bn" => (Base(MetricId::FdiInflowUsdBn), 1.0, Aggregate::Mean),
        "remittances_pct_gdp" => (Base(MetricId::RemittancesPctGdp), 1.0, Aggregate::Mean),
        "arms_import_share_pct" if !world => (Base(MetricId::SecurityDependence), 100.0, Aggregate::YearEnd),
        "middle_corridor_cargo_mt" => (ModelMetric::Route(RouteMetric::Cargo, "MIDDLE"), 1.0, Aggregate::Mean),
        "remittance_share_pct" => {
            return Err("remittance shares by partner are an input of the model (ties), not an outcome".into())
        }
        "middle_corridor_teu" => {
            return Err(
                "the model carries freight in tonnes, not containers (TEU), and no fixed tonnes per TEU holds \
                 across cargoes"
                    .into(),
            )
        }
        _ if world => return Err(format!("no model metric for {metric} with all partners (WORLD)").into()),
        _ => return Err(format!("no model metric for {metric}").into()),
    })
}

/// The ECB's euro foreign exchange reference rate for the US dollar, annual average of
/// the daily rates (USD per EUR), by year: ECB Statistical Data Warehouse, series
/// EXR.A.USD.EUR.SP00.A.
pub const EUR_USD: [(i32, f64); 6] = [
    (2016, 1.1069),
    (2017, 1.1297),
    (2018, 1.1810),
    (2019, 1.1195),
    (2020, 1.1422),
    (2021, 1.1827),
];

/// USD per EUR in `year` ([`EUR_USD`]), if the table has the year.
pub fn eur_usd(year: i32) -> Option<f64> {
    EUR_USD.iter().find(|(y, _)| *y == year).map(|&(_, rate)| rate)
}

/// An observation in EUR (a metric ending `_eur_bn`) as the same quantity in USD, at the
/// year's reference rate, its note saying so; others as they are.
pub fn in_usd(obs: &Observation) -> Result<Observation, SkipReason> {
    let Some(stem) = obs.metric.strip_suffix("_eur_bn") else {
        return Ok(obs.clone());
    };
    let rate = eur_usd(obs.year).ok_or_else(|| {
        SkipReason(format!(
            "value in EUR and no ECB reference rate for {} in the table ({} to {})",
            obs.year,
            EUR_USD[0].0,
            EUR_USD[EUR_USD.len() - 1].0
        ))
    })?;
    let note = format!(
        "{} EUR bn at {rate} USD per EUR (ECB annual average reference rate){}{}",
        crate::format::number(obs.value),
        if obs.note.is_empty() { "" } else { "; " },
        obs.note
    );
    Ok(Observation {
        metric: format!("{stem}_usd_bn"),
        value: obs.value * rate,
        unit: "USD bn".to_string(),
        note,
        ..obs.clone()
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

/// Observations set against a scenario: which are compared (and with which annual model
/// value), which are skipped and why, and the targets an ensemble must collect.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Every observation, values in EUR converted to USD (the naive forecasts' histories).
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
        let mut skipped = Vec::new();
        let mut matched = Vec::new();
        let mut converted = Vec::with_capacity(observations.len());
        // A skipped row is listed as the file has it; a compared one in USD.
        for original in observations {
            let obs = match in_usd(original) {
                Ok(obs) => obs,
                Err(reason) => {
                    skipped.push((original.clone(), reason));
                    continue;
                }
            };
            match match_observation(&obs, scenario, &layout) {
                Ok(_) if obs.value <= 0.0 => skipped.push((
                    original.clone(),
                    SkipReason("the value is not positive: errors are measured as ratios (logs)".to_string()),
                )),
                Ok(m) => matched.push((obs.clone(), m)),
                Err(reason) => skipped.push((original.clone(), reason)),
            }
            converted.push(obs);
        }
        let observations = converted;
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
        self.collect_sets(std::slice::from_ref(scenario), config, values, job, context)
    }

    /// [`Plan::collect`] of an ensemble over parameter sets (replicate `i` runs
    /// `sets[i mod K]`); values are appended in replicate order.
    pub fn collect_sets(
        &self,
        sets: &[Scenario],
        config: &EnsembleConfig,
        values: &mut [Vec<f64>],
        job: Job,
        context: impl Fn() -> String,
    ) -> Result<(), JobError> {
        if let Some(problem) = sets.iter().find_map(|s| self.incompatible(s)) {
            return Err(JobError::Usage(format!("{}: {problem}", context())));
        }
        let mut collector = AnnualCollector {
            targets: &self.targets,
            n_cells: self.n_cells,
            values,
        };
        job.ensemble_sets(sets, config, Some(&mut collector), context)?;
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
        // Exports and imports: WORLD rows to the host's totals, patron rows per partner;
        // FDI inflows: WORLD rows to the inflow from all origins. All annual means.
        let cell = |metric: MetricId, host: usize, partner: Option<usize>| {
            layout.index(layout.find(metric.name()).unwrap(), host, partner)
        };
        let kaz = layout.host_labels.iter().position(|h| h == "KAZ").unwrap();
        let chn = layout.partner_labels.iter().position(|p| p == "CHN").unwrap();
        for (o, metric, partner) in [
            (
                obs(2019, "KAZ", "WORLD", "exports_to_partner_usd_bn"),
                MetricId::ExportsTotalUsdBn,
                None,
            ),
            (
                obs(2019, "KAZ", "WORLD", "imports_from_partner_usd_bn"),
                MetricId::ImportsTotalUsdBn,
                None,
            ),
            (
                obs(2019, "KAZ", "CHN", "exports_to_partner_usd_bn"),
                MetricId::ExportsUsdBn,
                Some(chn),
            ),
            (
                obs(2019, "KAZ", "CHN", "imports_from_partner_usd_bn"),
                MetricId::ImportsUsdBn,
                Some(chn),
            ),
            (
                obs(2019, "KAZ", "WORLD", "fdi_inflow_usd_bn"),
                MetricId::FdiInflowTotalUsdBn,
                None,
            ),
            (
                obs(2019, "KAZ", "CHN", "fdi_inflow_usd_bn"),
                MetricId::FdiInflowUsdBn,
                Some(chn),
            ),
        ] {
            let m = match_observation(&o, s, &layout).unwrap();
            assert_eq!(m.target.cell, cell(metric, kaz, partner), "{}", o.metric);
            assert_eq!((m.target.aggregate, m.scale), (Aggregate::Mean, 1.0), "{}", o.metric);
        }
        let c5 = layout.all_hosts_row();
        let m = match_observation(&obs(2019, "C5", "WORLD", "exports_to_partner_usd_bn"), s, &layout).unwrap();
        assert_eq!(m.target.cell, cell(MetricId::ExportsTotalUsdBn, c5, None));
        for (o, why) in [
            (obs(2014, "KAZ", "WORLD", "remittances_pct_gdp"), "inside the run"),
            (obs(2026, "KAZ", "WORLD", "remittances_pct_gdp"), "inside the run"),
            (obs(2019, "C5", "EU", "trade_share_pct"), "not a patron"),
            (obs(2019, "C5", "EU", "trade_turnover_usd_bn"), "not a patron"),
            (obs(2019, "XYZ", "CHN", "trade_turnover_usd_bn"), "not in the scenario"),
            (obs(2019, "KAZ", "WORLD", "fdi_stock_usd_bn"), "patrons only"),
            (obs(2021, "C5", "WORLD", "middle_corridor_teu"), "TEU"),
            (obs(2021, "UZB", "RUS", "remittance_share_pct"), "input of the model"),
        ] {
            let err = match_observation(&o, s, &layout).unwrap_err().to_string();
            assert!(err.contains(why), "{err}");
        }
    }

    #[test]
    fn eur_rows_are_converted_at_the_ecb_rate_of_their_year() {
        let eur = Observation {
            line: 181,
            year: 2017,
            host: "C5".into(),
            partner: "EU".into(),
            metric: "trade_turnover_eur_bn".into(),
            value: 26.4,
            unit: "EUR bn".into(),
            basis: "Eurostat".into(),
            note: "EU imports 18.3".into(),
            source: String::new(),
        };
        let usd = in_usd(&eur).unwrap();
        assert_eq!(usd.metric, "trade_turnover_usd_bn");
        assert!((usd.value - 26.4 * 1.1297).abs() < 1e-12);
        assert_eq!((usd.unit.as_str(), usd.basis.as_str()), ("USD bn", "Eurostat"));
        assert!(usd.note.contains("26.4 EUR bn at 1.1297") && usd.note.ends_with("EU imports 18.3"));
        let too_early = Observation {
            year: 2015,
            ..eur.clone()
        };
        assert!(in_usd(&too_early)
            .unwrap_err()
            .0
            .contains("no ECB reference rate for 2015"));
        let same = Observation {
            metric: "trade_turnover_usd_bn".into(),
            ..eur
        };
        assert_eq!(in_usd(&same).unwrap(), same);
        // In a plan, the skipped row is the file's (in EUR), with the partner's reason.
        let loaded = crate::scenario::load(Path::new("scenarios/backcast_2015.toml")).unwrap();
        let plan = Plan::new(
            &[
                too_early.clone(),
                Observation {
                    year: 2017,
                    ..too_early
                },
            ],
            &loaded.scenario,
        );
        assert!(plan.matched.is_empty());
        assert_eq!(plan.skipped[1].0.metric, "trade_turnover_eur_bn");
        assert!(plan.skipped[1].1 .0.contains("partner EU is not a patron"));
        let with_eu = crate::scenario::load(Path::new("scenarios/eu_global_gateway.toml")).unwrap();
        let obs2017 = Observation {
            year: 2017,
            ..plan.skipped[1].0.clone()
        };
        let in_run = Observation {
            year: 2025,
            ..obs2017.clone()
        };
        // The EU scenario starts in 2024: 2017 is outside its run, but the row converts.
        let plan = Plan::new(&[obs2017, in_run], &with_eu.scenario);
        assert!(plan.skipped[0].1 .0.contains("inside the run"), "{:?}", plan.skipped);
        assert!(
            plan.skipped[1].1 .0.contains("no ECB reference rate"),
            "{:?}",
            plan.skipped
        );
    }
}
