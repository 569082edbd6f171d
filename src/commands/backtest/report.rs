//! The backtest's text report and tables: `report.txt`, `backtest.csv`,
//! `backtest_skipped.csv`, `skill.csv`, `forecast.csv`.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use super::scores::{skill, verdict, Row, Runs};
use crate::analysis::observations::{Observation, SeriesKey, SkipReason, OBSERVED_COLUMNS};
use crate::format::{number, optional, short};

pub(super) fn report(
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
    out.push_str("naive forecasts use only observations of the same series from earlier years: persistence (the last value), trend\n(log-linear), gdp ratio (the last ratio to the host's GDP times the GDP the run is given, for USD flows and stocks;\npersistence for shares); 'vs naive' columns are on the observations that have all three; best = the best naive forecast.\n");
    match how.through {
        Some(t) => out.push_str(&format!(
            "the scenario was calibrated on the years up to {t}; later years are held out.\n\n"
        )),
        None => out.push_str("the scenario names no calibration years ([calibration] through).\n\n"),
    }
    out.push_str(&format!(
        "{:<4} {:<6} {:<27} {:<30} {:>3} {:>7} {:>6} | {:>3} {:>7} {:>7} {:>7} {:>7}  {}\n",
        "host", "partner", "metric", "basis", "n", "MALE", "cover", "n", "model", "persist", "trend", "gdp", "verdict"
    ));
    for ((host, partner, metric, basis), series) in by_series {
        let s = skill(series);
        let mut basis = basis.clone();
        basis.truncate(30);
        out.push_str(&format!(
            "{:<4} {:<6} {:<27} {:<30} {:>3} {:>7} {:>6} | {:>3} {:>7} {:>7} {:>7} {:>7}  {}\n",
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
            num(s.male_gdp_ratio),
            verdict(&s)
        ));
    }
    let line = |label: &str, rows: &[&Row]| {
        let s = skill(rows);
        format!(
            "{label}: MALE {} over {} observations, coverage {}; on the {} with every naive forecast: model {}, persistence {}, trend {}, gdp ratio {}\n",
            num(s.male_model),
            s.n,
            pct(s.coverage),
            s.n_naive,
            num(s.male_model_naive),
            num(s.male_persistence),
            num(s.male_trend),
            num(s.male_gdp_ratio)
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
    let plain = match (how.through, s.male_model_naive, s.best_naive()) {
        _ if rows.is_empty() => "no observation could be compared with the model (see backtest_skipped.csv)".to_string(),
        (Some(t), _, _) if judged.is_empty() => format!(
            "no observation after {t}: the file scores only the calibration years, where doing well shows fit, not forecasting skill"
        ),
        (_, Some(m), Some((name, e))) if m < e => format!(
            "the model BEATS the best naive forecast ({name}): MALE {} against {}",
            short(m),
            short(e)
        ),
        (_, Some(m), Some((name, e))) => format!(
            "the model does NOT beat the best naive forecast ({name}): MALE {} against {}",
            short(m),
            short(e)
        ),
        _ => "no observation has every naive forecast: the model cannot be compared with them".to_string(),
    };
    let scope = if how.through.is_some() && !judged.is_empty() {
        " (on the held-out years)"
    } else {
        ""
    };
    out.push_str(&format!("verdict{scope}: {plain}\n"));
    out
}

pub(super) fn write_rows(path: &Path, rows: &[Row]) -> io::Result<()> {
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
        "gdp_ratio",
    ])?;
    for r in rows {
        w.write_record([
            r.obs.year.to_string(),
            r.obs.host.clone(),
            r.obs.partner.clone(),
            r.obs.metric.clone(),
            r.obs.basis.clone(),
            number(r.obs.value),
            number(r.mean),
            number(r.p05),
            number(r.p95),
            r.model_metric.clone(),
            r.aggregate.name().to_string(),
            optional(r.persistence),
            optional(r.trend),
            r.obs.note.clone(),
            optional(r.gdp_ratio),
        ])?;
    }
    w.flush()
}

pub(super) fn write_skipped(path: &Path, skipped: &[(Observation, SkipReason)]) -> io::Result<()> {
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
            number(o.value),
            o.unit.clone(),
            o.basis.clone(),
            o.note.clone(),
            o.source.clone(),
            reason.to_string(),
        ])?;
    }
    w.flush()
}

pub(super) fn write_skill(path: &Path, by_series: &BTreeMap<SeriesKey, Vec<&Row>>, rows: &[Row]) -> io::Result<()> {
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
        "male_gdp_ratio",
        "best_naive",
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
            verdict(&s),
            optional(s.male_gdp_ratio),
            s.best_naive().map_or(String::new(), |(name, _)| name.to_string()),
        ])?;
    }
    w.flush()
}

/// The model's annual value of every compared series in every whole year of the run.
pub(super) fn write_forecasts(
    path: &Path,
    forecasts: &BTreeMap<&SeriesKey, Vec<(i32, f64, f64, f64)>>,
) -> io::Result<()> {
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
                number(mean),
                number(p05),
                number(p95),
            ])?;
        }
    }
    w.flush()
}
