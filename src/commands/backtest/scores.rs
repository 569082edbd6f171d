//! The backtest's scores: a compared observation with the model's band and the naive
//! forecasts ([`Row`]), and the skill of a series or of all ([`Skill`]).

use crate::analysis::observations::{Aggregate, Observation};
use crate::analysis::skill::{abs_log_error, coverage, log_error, mean_of};

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
    /// The last ratio to GDP times the GDP the run is given (money flows and stocks);
    /// persistence for shares and percentages of GDP.
    pub gdp_ratio: Option<f64>,
}

/// The naive forecasts, in the order the report lists them.
pub const NAIVE: [&str; 3] = ["persistence", "trend", "gdp ratio"];

/// Skill of one series (or of all together).
#[derive(Debug, Clone, Default)]
pub struct Skill {
    pub n: usize,
    pub male_model: Option<f64>,
    pub coverage: Option<f64>,
    /// Observations with every naive forecast, and the model's and the forecasts' errors
    /// on them.
    pub n_naive: usize,
    pub male_model_naive: Option<f64>,
    pub male_persistence: Option<f64>,
    pub male_trend: Option<f64>,
    pub male_gdp_ratio: Option<f64>,
}

impl Skill {
    /// The naive forecasts' errors, in the order of [`NAIVE`].
    pub fn naive(&self) -> [Option<f64>; 3] {
        [self.male_persistence, self.male_trend, self.male_gdp_ratio]
    }

    /// The best naive forecast (the first of equals) and its error.
    pub fn best_naive(&self) -> Option<(&'static str, f64)> {
        NAIVE
            .iter()
            .zip(self.naive())
            .filter_map(|(name, e)| e.map(|e| (*name, e)))
            .fold(None, |best: Option<(&str, f64)>, (name, e)| match best {
                Some((_, b)) if b <= e => best,
                _ => Some((name, e)),
            })
    }
}

/// The model's error on an observation: a mean at or below zero is scored as a thousandth
/// of the observation, as calibration scores it, so a sign error counts and is not left out.
fn model_error(r: &Row) -> Option<f64> {
    log_error(r.mean, r.obs.value)
}

pub fn skill(rows: &[&Row]) -> Skill {
    let comparable: Vec<&&Row> = rows
        .iter()
        .filter(|r| r.trend.is_some() && r.persistence.is_some() && r.gdp_ratio.is_some())
        .collect();
    let naive = |forecast: fn(&Row) -> Option<f64>| {
        mean_of(
            comparable
                .iter()
                .map(|r| forecast(r).and_then(|p| abs_log_error(p, r.obs.value))),
        )
    };
    Skill {
        n: rows.len(),
        male_model: mean_of(rows.iter().map(|r| model_error(r))),
        coverage: coverage(&rows.iter().map(|r| (r.obs.value, r.p05, r.p95)).collect::<Vec<_>>()),
        n_naive: comparable.len(),
        male_model_naive: mean_of(comparable.iter().map(|r| model_error(r))),
        male_persistence: naive(|r| r.persistence),
        male_trend: naive(|r| r.trend),
        male_gdp_ratio: naive(|r| r.gdp_ratio),
    }
}

/// Whether the model beats the best naive forecast, which it names.
pub(super) fn verdict(s: &Skill) -> String {
    match (s.male_model_naive, s.best_naive()) {
        (Some(m), Some((name, e))) if m < e => format!("beats the best naive ({name})"),
        (Some(_), Some((name, _))) => format!("loses to the best naive ({name})"),
        _ => "no naive forecast".to_string(),
    }
}

/// How the replicates were run: the file's values, or spread over parameter sets.
pub(super) struct Runs {
    pub(super) replicates: u64,
    pub(super) seed: u64,
    pub(super) parameter_sets: usize,
    pub(super) through: Option<i32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(observed: f64, mean: f64, naive: [f64; 3]) -> Row {
        Row {
            obs: Observation {
                line: 2,
                year: 2020,
                host: "KAZ".into(),
                partner: "WORLD".into(),
                metric: "exports_to_partner_usd_bn".into(),
                value: observed,
                unit: String::new(),
                basis: String::new(),
                note: String::new(),
                source: String::new(),
            },
            model_metric: String::new(),
            aggregate: Aggregate::Mean,
            mean,
            p05: mean * 0.9,
            p95: mean * 1.1,
            persistence: Some(naive[0]),
            trend: Some(naive[1]),
            gdp_ratio: Some(naive[2]),
        }
    }

    #[test]
    fn the_verdict_is_against_the_best_of_three() {
        // The model is 10% off; persistence 20%, trend 30%, the GDP ratio 5%.
        let rows = [row(100.0, 110.0, [120.0, 130.0, 105.0])];
        let refs: Vec<&Row> = rows.iter().collect();
        let s = skill(&refs);
        assert_eq!(s.best_naive().map(|b| b.0), Some("gdp ratio"));
        assert_eq!(verdict(&s), "loses to the best naive (gdp ratio)");
        let rows = [row(100.0, 104.0, [120.0, 130.0, 105.0])];
        let refs: Vec<&Row> = rows.iter().collect();
        assert_eq!(verdict(&skill(&refs)), "beats the best naive (gdp ratio)");
        // A negative model mean counts as a large error rather than being left out.
        let rows = [row(100.0, -1.0, [120.0, 130.0, 105.0])];
        let refs: Vec<&Row> = rows.iter().collect();
        assert!(skill(&refs).male_model.unwrap() > 6.0);
    }
}
