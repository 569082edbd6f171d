//! `greatgame backtest`: a run set against observations (`observed.csv`), with skill
//! scores against two naive forecasts. Matching and aggregation rules: `docs/backtest.md`.
//!
//! The observations are matched to the model by [`crate::analysis::observations`]; each
//! calibrated parameter set (if the scenario names any) runs its share of the replicates,
//! so the band holds parameter uncertainty. [`report`] writes the tables and the text
//! report, [`charts`] a chart per series.

mod charts;
mod report;
mod scores;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::analysis::observations::{key, read_observed, Plan, SeriesKey};
use crate::analysis::parameters::{parameter_sets, Base, ParameterSets};
use crate::analysis::skill::{log_linear_trend, persistence};
use crate::job::staging::check_destination;
use crate::job::{Job, JobError, Settings, Written};
use crate::manifest::{self, Header};
use crate::model::Scenario;
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
    let (sets_file, sets) = parameter_sets(&options.parameter_sets, &base)?.unzip();
    let sets = sets.unwrap_or_default();
    // Each parameter set runs its share of the replicates, on its own seed (seed + set):
    // the band then holds parameter uncertainty as well as the model's own noise. Every
    // set is checked before anything runs, and resolved again when it runs.
    let file = sets_file.as_deref().unwrap_or(Path::new("?"));
    let resolve = |s: usize| -> Result<Cow<Scenario>, JobError> {
        if sets.is_empty() {
            return Ok(Cow::Borrowed(scenario));
        }
        let resolved = base.with(&sets[s], || {
            format!("parameter set {} of {} is not valid", s + 1, file.display())
        })?;
        if let Some(problem) = plan.incompatible(&resolved.scenario) {
            return Err(JobError::input(file, format!("parameter set {}: {problem}", s + 1)));
        }
        Ok(Cow::Owned(resolved.scenario))
    };
    let n_runs = sets.len().max(1);
    let share = |s: usize| -> (u64, u64) {
        if sets.is_empty() {
            (replicates, seed)
        } else {
            let n = sets.len() as u64;
            let share = replicates / n + u64::from((s as u64) < replicates % n);
            (share.max(1), seed.wrapping_add(s as u64))
        }
    };
    let mut largest = 0u64;
    for s in 0..n_runs {
        let run = resolve(s)?;
        largest = largest.max(options.settings.ensemble_bytes(&run, share(s).0));
    }
    let total: u64 = (0..n_runs).map(|s| share(s).0).sum();
    // Every replicate's annual value of every target is kept for the percentiles.
    options
        .settings
        .budget()
        .add("the largest ensemble", largest)
        .add(
            "every replicate's value of every compared quantity",
            total.saturating_mul(plan.targets.len() as u64).saturating_mul(8),
        )
        .check()?;
    job.progress.start(total, "replicates");
    let mut values = vec![Vec::with_capacity(total.min(1 << 20) as usize); plan.targets.len()];
    for s in 0..n_runs {
        let run = resolve(s)?;
        let (n, run_seed) = share(s);
        let config = options.settings.ensemble(n, run_seed);
        plan.collect(&run, &config, &mut values, job, || {
            if n_runs == 1 {
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
        inputs.extend(sets_file.as_ref().map(|p| p.display().to_string()));
        let mut header = Header::new("backtest", &options.settings.command_line, inputs, seed, total);
        header.parameter_sets = sets.len() as u64;
        let body = serde_json::json!({
            "scenario_name": scenario.name,
            "scenario_files": loaded.file_list(),
            "observed": options.observed.display().to_string(),
            "parameter_sets_file": sets_file.as_ref().map(|p| p.display().to_string()),
            "calibrated_through": how.through,
            "observations": plan.observations.len(),
            "compared": rows.len(),
            "skipped": plan.skipped.len(),
            "files": files,
        });
        manifest::write(&dir.join("manifest.json"), &header, &body).map_err(JobError::io("writing manifest.json"))?;
        Ok(files)
    })?;
    Ok(BacktestOutcome {
        summary,
        written,
        matched: rows.len(),
        skipped: plan.skipped.len(),
    })
}
