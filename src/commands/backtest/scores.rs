//! The backtest's scores: a compared observation with the model's band and the naive
//! forecasts ([`Row`]), and the skill of a series or of all ([`Skill`]).

use crate::analysis::observations::{Aggregate, Observation};
use crate::analysis::skill::{abs_log_error, coverage, mean_of};

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

pub(super) fn verdict(s: &Skill) -> &'static str {
    match (s.male_model_naive, s.male_trend) {
        (Some(m), Some(t)) if m < t => "beats the trend",
        (Some(_), Some(_)) => "loses to the trend",
        _ => "no trend forecast",
    }
}

/// How the replicates were run: the file's values, or spread over parameter sets.
pub(super) struct Runs {
    pub(super) replicates: u64,
    pub(super) seed: u64,
    pub(super) parameter_sets: usize,
    pub(super) through: Option<i32>,
}
