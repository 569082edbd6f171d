//! `greatgame backtest`: a run set against observations (`observed.csv`), with skill
//! scores against three naive forecasts (persistence, trend, and the last ratio to GDP
//! times the GDP the run is given). Matching and aggregation rules: `docs/backtest.md`.
//!
//! The observations are matched to the model by [`crate::analysis::observations`]; the
//! replicates run over the calibrated parameter sets (if the scenario names any), replicate
//! `i` on set `i mod K`, so the band holds parameter uncertainty. [`report`] writes the
//! tables and the text report, [`charts`] a chart per series.

mod charts;
mod report;
mod scores;

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use crate::analysis::observations::{key, read_observed, Plan, SeriesKey};
use crate::analysis::parameters::Base;
use crate::analysis::sets::{ensemble_scenarios, read_sets, ParameterSets};
use crate::analysis::skill::{gdp_ratio, given_gdp, log_linear_trend, persistence, scales_with_gdp};
use crate::job::staging::check_destination;
use crate::job::{Job, JobError, Settings, Written};
use crate::manifest::{self, Header};
use crate::stats::quantile_sorted;

use charts::draw_series;
use report::{report, write_forecasts, write_rows, write_skill, write_skipped};
use scores::Runs;

pub use scores::{skill, Row, Skill};

#[derive(Debug, Clone)]
pub struct BacktestOptions {
    pub scenario: PathBuf,
    pub observed: PathBuf,
    pub settings: Settings,
    /// Which calibrated parameter sets to spread the replicates over.
    pub parameter_sets: ParameterSets,
    /// Last calibration year, instead of the scenario's `[calibration] through`.
    pub through: Option<i32>,
}

#[derive(Debug)]
pub struct BacktestOutcome {
    pub summary: String,
    pub written: Written,
    pub matched: usize,
    pub skipped: usize,
}

pub fn backtest(options: &BacktestOptions, job: Job) -> Result<BacktestOutcome, JobError> {
    let base = Base::read(&options.scenario)?;
    let observations = read_observed(&options.observed)?;
    let loaded = &base.loaded;
    let scenario = &loaded.scenario;
    let destination = options.settings.own_folder("backtest", &scenario.name)?;
    check_destination(&destination)?;
    let plan = Plan::new(&observations, scenario);

    let replicates = options.settings.replicates_or(scenario.replicates)?;
    let seed = options.settings.seed.unwrap_or(scenario.seed);
    // Every set is checked before anything runs; replicate i runs set i mod K on stream i.
    let mut sets = read_sets(&options.parameter_sets, &base, None)?;
    let fit_note = sets.as_mut().and_then(|s| s.fit_to(replicates));
    let scenarios = ensemble_scenarios(sets.as_ref(), &base, &[], replicates)?;
    let n_sets = scenarios.len();
    // Every replicate's annual value of every target is kept for the percentiles.
    options
        .settings
        .budget()
        .add(
            "the ensemble",
            options.settings.ensemble_bytes_sets(scenario, replicates, n_sets),
        )
        .add(
            "every replicate's value of every compared quantity",
            replicates.saturating_mul(plan.targets.len() as u64).saturating_mul(8),
        )
        .check()?;
    job.progress.start(replicates, "replicates");
    let mut values = vec![Vec::with_capacity(replicates.min(1 << 20) as usize); plan.targets.len()];
    let config = options.settings.ensemble(replicates, seed);
    plan.collect_sets(&scenarios, &config, &mut values, job, || {
        format!("backtest of {}", scenario.name)
    })?;
    let total = replicates;
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
    let gdp = given_gdp(&loaded.resolved);
    let rows: Vec<Row> = plan
        .matched
        .iter()
        .map(|(obs, m)| {
            let (mean, p05, p95) = stats[plan.target_index(m)];
            let h = &history[&key(obs)];
            let gdp_ratio = if scales_with_gdp(&obs.metric) {
                gdp.get(&obs.host).and_then(|g| gdp_ratio(h, obs.year, g))
            } else {
                persistence(h, obs.year)
            };
            Row {
                gdp_ratio,
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
        parameter_sets: sets.as_ref().map_or(0, |s| s.len()),
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

    let written = job.write_folder(&destination, |dir| {
        let mut files = vec![
            "backtest.csv".to_string(),
            "backtest_skipped.csv".to_string(),
            "skill.csv".to_string(),
        ];
        write_rows(&dir.join("backtest.csv"), &rows).map_err(JobError::io("writing backtest.csv"))?;
        write_skipped(&dir.join("backtest_skipped.csv"), &plan.skipped)
            .map_err(JobError::io("writing backtest_skipped.csv"))?;
        write_skill(&dir.join("skill.csv"), &by_series, &rows).map_err(JobError::io("writing skill.csv"))?;
        write_forecasts(&dir.join("forecast.csv"), &forecasts).map_err(JobError::io("writing forecast.csv"))?;
        files.push("forecast.csv".into());
        fs::write(dir.join("report.txt"), &summary).map_err(JobError::io("writing report.txt"))?;
        files.push("report.txt".into());
        if options.settings.charts {
            let chart_dir = dir.join("charts");
            fs::create_dir_all(&chart_dir).map_err(JobError::io("creating charts/"))?;
            for (k, series) in &by_series {
                for path in draw_series(&chart_dir, k, series, &forecasts[k], how.through)? {
                    let relative = path.strip_prefix(dir).unwrap_or(&path);
                    files.push(relative.display().to_string());
                }
            }
        }
        files.push("manifest.json".into());
        let mut inputs = vec![
            options.scenario.display().to_string(),
            options.observed.display().to_string(),
        ];
        inputs.extend(sets.as_ref().map(|s| s.file.display().to_string()));
        let header = Header::new("backtest", &options.settings.command_line, inputs, seed, total)
            .with_sets(sets.as_ref().map(|s| s.record()));
        let body = serde_json::json!({
            "scenario_name": scenario.name,
            "scenario_files": loaded.file_list(),
            "observed": options.observed.display().to_string(),
            "parameter_sets_file": sets.as_ref().map(|s| s.file.display().to_string()),
            "calibrated_through": how.through,
            "observations": plan.observations.len(),
            "compared": rows.len(),
            "skipped": plan.skipped.len(),
            "files": files,
        });
        manifest::write(&dir.join("manifest.json"), &header, &body).map_err(JobError::io("writing manifest.json"))?;
        Ok(files)
    })?;
    let summary = match fit_note {
        Some(note) => format!("{summary}note: {note}\n"),
        None => summary,
    };
    Ok(BacktestOutcome {
        summary,
        written,
        matched: rows.len(),
        skipped: plan.skipped.len(),
    })
}
