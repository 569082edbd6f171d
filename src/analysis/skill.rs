//! How well a model's values match observations, in one place: log errors, their
//! series-balanced mean (what calibration minimises), coverage of bands, and the naive
//! forecasts a model must beat: persistence, a log-linear trend, and for money flows and
//! stocks the last ratio to GDP times the GDP the run is given.

use std::collections::BTreeMap;

use super::observations::{key, Plan, SeriesKey};
use crate::metrics::ALL_HOSTS;
use crate::scenario::file::ScenarioFile;

/// A simulated value at or below zero is scored as this fraction of the observation.
const FLOOR: f64 = 1e-3;

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

/// Whether an observed metric is a money flow or stock in USD (trade, exports, imports,
/// FDI, remittances), which grows with the economy: its GDP-ratio forecast scales the
/// last ratio to GDP. For shares and percentages of GDP the ratio forecast is persistence.
pub fn scales_with_gdp(metric: &str) -> bool {
    metric.ends_with("_usd_bn")
}

/// The GDP-ratio forecast of `year`: the latest value before it (`history`: (year,
/// value)) divided by GDP that year, times GDP in `year` (`gdp`: year -> USD bn). `None`
/// without an earlier value or without GDP in either year.
pub fn gdp_ratio(history: &[(i32, f64)], year: i32, gdp: &BTreeMap<i32, f64>) -> Option<f64> {
    let &(last_year, last) = history.iter().filter(|(y, _)| *y < year).max_by_key(|(y, _)| *y)?;
    let (from, to) = (*gdp.get(&last_year)?, *gdp.get(&year)?);
    (last > 0.0 && from > 0.0 && to > 0.0).then(|| last / from * to)
}

/// The GDP the run is given, by host and year: each host's `gdp_usd_bn_path` (the
/// drivers of a backcast), and for [`ALL_HOSTS`] their sum in the years every host has.
pub fn given_gdp(file: &ScenarioFile) -> BTreeMap<String, BTreeMap<i32, f64>> {
    let mut out: BTreeMap<String, BTreeMap<i32, f64>> = BTreeMap::new();
    for host in &file.hosts {
        let path: BTreeMap<i32, f64> = host
            .gdp_usd_bn_path
            .iter()
            .filter_map(|(year, v)| year.parse().ok().map(|y| (y, *v)))
            .collect();
        out.insert(host.id.clone(), path);
    }
    let mut all: BTreeMap<i32, f64> = BTreeMap::new();
    if let Some(first) = file.hosts.first().and_then(|h| out.get(&h.id)) {
        for &year in first.keys() {
            let values: Option<Vec<f64>> = file.hosts.iter().map(|h| out[&h.id].get(&year).copied()).collect();
            if let Some(values) = values {
                all.insert(year, values.iter().sum());
            }
        }
    }
    out.insert(ALL_HOSTS.to_string(), all);
    out
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

/// |ln(simulated / observed)|, with a simulated value at or below zero scored as a
/// thousandth of the observation; `None` when the observation is not positive.
pub fn log_error(simulated: f64, observed: f64) -> Option<f64> {
    (observed > 0.0 && observed.is_finite()).then(|| {
        let floored = if simulated.is_finite() {
            simulated.max(FLOOR * observed)
        } else {
            FLOOR * observed
        };
        (floored / observed).ln().abs()
    })
}

/// Series-balanced MALE of the plan's matched observations that `include` selects, from
/// the ensemble means of the targets: (loss, per-series MALE); `None` without any.
pub fn series_loss(
    plan: &Plan,
    means: &[f64],
    include: impl Fn(i32) -> bool,
) -> Option<(f64, BTreeMap<SeriesKey, f64>)> {
    let mut sums: BTreeMap<SeriesKey, (f64, usize)> = BTreeMap::new();
    for (obs, m) in &plan.matched {
        if !include(obs.year) {
            continue;
        }
        if let Some(e) = log_error(means[plan.target_index(m)] * m.scale, obs.value) {
            let entry = sums.entry(key(obs)).or_default();
            entry.0 += e;
            entry.1 += 1;
        }
    }
    if sums.is_empty() {
        return None;
    }
    let by_series: BTreeMap<SeriesKey, f64> = sums.into_iter().map(|(k, (s, n))| (k, s / n as f64)).collect();
    let loss = by_series.values().sum::<f64>() / by_series.len() as f64;
    Some((loss, by_series))
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn the_gdp_ratio_forecast_scales_the_last_ratio_with_gdp() {
        // The series is 10% of GDP until 2017, then the run is given GDP that doubles.
        let gdp: BTreeMap<i32, f64> = [(2015, 100.0), (2016, 110.0), (2017, 120.0), (2018, 240.0)].into();
        let history = [(2015, 10.0), (2016, 11.0), (2017, 12.0)];
        let f = gdp_ratio(&history, 2018, &gdp).unwrap();
        assert!((f - 24.0).abs() < 1e-12, "{f}");
        // Persistence would say 12; the trend about 13.2.
        assert_eq!(persistence(&history, 2018), Some(12.0));
        // From the latest earlier year only (2016 for 2017), and GDP in both years.
        assert!((gdp_ratio(&history, 2017, &gdp).unwrap() - 12.0).abs() < 1e-12);
        assert_eq!(gdp_ratio(&history, 2015, &gdp), None);
        assert_eq!(gdp_ratio(&history, 2019, &gdp), None);
        assert_eq!(gdp_ratio(&[(2014, 5.0)], 2016, &gdp), None);
        assert!(scales_with_gdp("exports_to_partner_usd_bn") && scales_with_gdp("fdi_inflow_usd_bn"));
        assert!(!scales_with_gdp("trade_share_pct") && !scales_with_gdp("remittances_pct_gdp"));
    }

    #[test]
    fn the_given_gdp_of_the_hosts_together_is_their_sum_where_all_have_it() {
        let loaded = crate::scenario::load(std::path::Path::new("scenarios/backcast_2015.toml")).unwrap();
        let gdp = given_gdp(&loaded.resolved);
        let kaz = &gdp["KAZ"];
        assert!((kaz[&2016] - 137.28).abs() < 1e-9);
        let c5: f64 = ["KAZ", "KGZ", "TJK", "TKM", "UZB"].iter().map(|h| gdp[*h][&2019]).sum();
        assert!((gdp[ALL_HOSTS][&2019] - c5).abs() < 1e-9);
        let baseline = crate::scenario::load(std::path::Path::new("scenarios/baseline.toml")).unwrap();
        assert!(given_gdp(&baseline.resolved)[ALL_HOSTS].is_empty());
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
    fn log_error_is_symmetric_in_ratio_and_floors_non_positive_values() {
        let e = log_error(2.0, 1.0).unwrap();
        assert!((e - 2f64.ln()).abs() < 1e-12);
        assert!((log_error(0.5, 1.0).unwrap() - e).abs() < 1e-12);
        assert_eq!(log_error(1.0, 0.0), None);
        let floored = log_error(0.0, 5.0).unwrap();
        assert!((floored - 1000f64.ln()).abs() < 1e-9);
        assert_eq!(log_error(-3.0, 5.0), Some(floored));
        assert_eq!(log_error(f64::NAN, 5.0), Some(floored));
    }
}
