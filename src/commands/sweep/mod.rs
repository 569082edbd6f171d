//! `greatgame sweep`: one ensemble at every point of a set of parameter values.
//!
//! Points come from the scenario's `[sweep]` table, or from `--set KEY=VALUES` and
//! `--design FILE` on the command line (which then replace the table): each parameter's
//! values are a list or a range; parameters are combined as a grid (every combination) or
//! zipped; a design file's rows are points of their own (and are crossed with any
//! parameters). Every point runs with the same seed, so replicate `i` uses the same random
//! stream at every point (common random numbers) and differences between points are not
//! blurred by different draws. When the scenario names parameter sets, every point runs
//! over them (replicate `i` on set `i mod K`), the point's own values laid over each set.
//!
//! **Memory does not grow with the points.** A point's values are made from the swept
//! lists (or the design file's row) when they are needed, `sweep.csv` is written into the
//! staging folder as each point is computed (or read back from the shards by a merge), and
//! only what the printed summary shows (its first [`SUMMARY_POINTS`] points) and what the
//! charts draw is kept. A chart draws every point up to [`MAX_CHART_POINTS`]; a larger
//! sweep's charts draw an evenly spaced subset of each line (or of the scattered points),
//! and say so, while `sweep.csv` holds every point.

mod charts;
mod points;
mod tables;

use std::fs;
use std::mem::size_of;
use std::path::PathBuf;

use serde_json::json;

use crate::analysis::outcomes::{
    check_horizons, default_horizons, last_quarter, resolve_metrics, Outcome, OutcomeIdentity,
};
use crate::analysis::parameters::{same_key, Base, Combine};
use crate::analysis::sets::{ensemble_scenarios, read_sets, ParameterSets, Sets};
use crate::format::number;
use crate::job::design::{DesignIdentity, Next, Point};
use crate::job::staging::check_destination;
use crate::job::{folder_name, Job, JobError, Settings, Written};
use crate::manifest::{self, Header, LazyArray};
use crate::metrics::MetricLayout;
use crate::scenario::LoadedScenario;
use crate::stats::CellStats;
use crate::time::Quarter;

use charts::Charts;
use points::sweep_points;
pub use points::Points;
use tables::{Summary, SweepTable};

#[derive(Debug, Clone)]
pub struct SweepOptions {
    pub scenario: PathBuf,
    pub settings: Settings,
    /// `--set KEY=VALUES` as written; with `design`, replaces the file's `[sweep]`.
    pub set: Vec<String>,
    /// How `set` combines; `None`: the file's, else grid.
    pub combine: Option<Combine>,
    pub design: Option<PathBuf>,
    /// Metric names ([`super::parse_metrics`]), resolved in the scenario's layout: base,
    /// per-commodity or per-route metrics.
    pub metrics: Vec<String>,
    pub horizons: Option<Vec<Quarter>>,
    /// Which parameter sets every point runs over (default: the scenario's, if any).
    pub parameter_sets: ParameterSets,
}

#[derive(Debug)]
pub struct SweepOutcome {
    pub written: Written,
    pub points: usize,
    pub summary: String,
    /// Things the user should know (a swept key the parameter sets also set).
    pub notes: Vec<String>,
}

/// Points the printed summary lists; the rest are counted.
pub const SUMMARY_POINTS: usize = 40;
/// Most points a chart draws: a larger sweep's charts draw every `s`-th point of each line
/// (or of the scattered points), `s` the smallest stride that keeps them within this.
pub const MAX_CHART_POINTS: usize = 10_000;

/// Runs the sweep and writes `DIR/sweep-<scenario>/`.
pub fn sweep(options: &SweepOptions, job: Job) -> Result<SweepOutcome, JobError> {
    let from = Base::read(&options.scenario)?;
    let base = &from.loaded;
    let destination = options
        .settings
        .out_root()
        .join(folder_name("sweep", &[base.scenario.name.as_str()]));
    check_destination(&destination)?;
    let points = sweep_points(options, &from.tree, &base.resolved.sweep)?;
    let n_points = points.len();

    // A point is resolved when it is checked and again when it runs, so that a large
    // sweep does not hold every point's scenario at once.
    let resolve = |p: usize| -> Result<LoadedScenario, JobError> {
        from.with(&points.overrides(p), || {
            format!("sweep point {} ({}) is not valid", p + 1, points.describe(p))
        })
    };
    let replicates = options.settings.replicates_or(base.scenario.replicates)?;
    let mut sets = read_sets(&options.parameter_sets, &from, None)?;
    let mut notes: Vec<String> = sets.as_mut().and_then(|s| s.fit_to(replicates)).into_iter().collect();
    let n_sets = sets.as_ref().map_or(1, |s| s.len());
    if let Some(sets) = &sets {
        let swept: Vec<&str> = points
            .keys
            .iter()
            .filter(|k| sets.keys.iter().any(|s| same_key(s, k)))
            .map(String::as_str)
            .collect();
        if !swept.is_empty() {
            notes.push(format!(
                "{} swept and also in the parameter sets of {}: each point's value is used in every set",
                swept.join(", "),
                sets.file.display()
            ));
        }
    }
    // The scenarios of point `p`, one per parameter set (the point's values win).
    let point_sets = |p: usize| ensemble_scenarios(sets.as_ref(), &from, &points.overrides(p), replicates);
    // The scenario of point `p` that is checked: the point alone, or over the first
    // parameter set (which has the same quarters and layout, `Sets::scenarios` checks).
    // Over sets, a point that is not valid by itself is reported as such, as when it is
    // resolved alone first; a valid point is resolved once per set, not once more.
    let checked = |p: usize| -> Result<crate::model::Scenario, JobError> {
        if sets.is_none() {
            return Ok(resolve(p)?.scenario);
        }
        match point_sets(p) {
            Ok(mut scenarios) => Ok(scenarios.swap_remove(0)),
            Err(error) => {
                resolve(p)?;
                Err(error)
            }
        }
    };
    let layout = MetricLayout::new(&base.scenario);
    let metrics = resolve_metrics(&options.metrics, &layout, &format!("scenario {}", base.scenario.name))?;
    let horizons = match &options.horizons {
        Some(h) => h.clone(),
        None => default_horizons(base.scenario.start, last_quarter(&base.scenario)),
    };
    let outcomes = all_outcomes(&layout, &metrics, &horizons);
    let seed = options.settings.seed.unwrap_or(base.scenario.seed);
    let design = options.settings.design(
        identity(options, base, sets.as_ref(), &points, &outcomes, seed, replicates)?,
        &destination,
    )?;
    // Every point this process computes is checked before anything runs (a shard its own,
    // a merge none: its shards did), side by side as they will run.
    let check = |p: usize| -> Result<u64, JobError> {
        job.check()?;
        let s = &checked(p)?;
        check_horizons(&horizons, s.start, last_quarter(s), &format!("sweep point {}", p + 1))?;
        let bytes = options.settings.points_bytes_sets(s, replicates, n_sets);
        if MetricLayout::same(&base.scenario, s) {
            return Ok(bytes);
        }
        let other = MetricLayout::new(s);
        if other.host_labels != layout.host_labels || other.partner_labels != layout.partner_labels {
            return Err(JobError::Usage(format!(
                "sweep point {} changes the scenario's actors",
                p + 1
            )));
        }
        for &m in &metrics {
            let name = &layout.metric(m).name;
            if other.find(name).is_none() {
                return Err(JobError::Usage(format!(
                    "sweep point {} ({}) has no metric {name:?}",
                    p + 1,
                    points.describe(p)
                )));
            }
        }
        Ok(bytes)
    };
    let mut largest = 0u64;
    design.check_points(check, |_, bytes| {
        largest = largest.max(bytes);
        Ok(())
    })?;
    let charts = options
        .settings
        .charts
        .then(|| Charts::new(&points, &outcomes, &layout, &metrics, &horizons));
    // What the sweep holds besides one point at a time: the largest ensemble, the swept
    // lists and design rows, what the charts draw and what the summary lists (both
    // bounded, whatever the number of points), and a point's numbers on their way to
    // sweep.csv.
    let point_bytes = (outcomes.len() as u64).saturating_mul(5 * 8 + size_of::<CellStats>() as u64);
    options
        .settings
        .budget()
        .add("the ensembles of the points running side by side", largest)
        .add("the swept values and design rows", points.bytes())
        .add("the charts' points", charts.as_ref().map_or(0, Charts::bytes))
        .add(
            "a point's outcomes and the summary's points",
            point_bytes.saturating_mul(2)
                + (SUMMARY_POINTS.min(n_points) as u64)
                    .saturating_mul(points.keys.len() as u64 * 32 + outcomes.len() as u64 * 8 + 64),
        )
        .check()?;

    job.progress
        .start(replicates.saturating_mul(design.points().len() as u64), "replicates");
    let config = options.settings.point_ensemble(replicates, seed);
    let compute = |p: usize| -> Result<Point, JobError> {
        let scenarios = point_sets(p)?;
        let summary = job.ensemble_sets(&scenarios, &config, None, || {
            format!("sweep point {} ({})", p + 1, points.describe(p))
        })?;
        // Every set has the point's quarters (`Sets::scenarios` checks), which is all
        // the statistics are read by.
        Ok(outcomes
            .iter()
            .flat_map(|o| {
                let s = o
                    .stats(&layout, &scenarios[0], &summary)
                    .expect("every point's layout was checked before running");
                [s.mean, s.sd, s.p05, s.p50, s.p95]
            })
            .collect::<Vec<f64>>()
            .into())
    };
    let design = match design.shard(job, compute)? {
        Next::Shard(shard) => {
            return Ok(SweepOutcome {
                summary: shard.summary("sweep"),
                written: shard.written,
                points: n_points,
                notes,
            })
        }
        Next::Output(design) => design,
    };

    let mut summary = Summary::new(&points, &outcomes, &layout, &metrics);
    let mut charts = charts;
    let written = job.write_folder(&destination, |dir| {
        let mut files = vec!["sweep.csv".to_string()];
        let mut table = SweepTable::create(&dir.join("sweep.csv"), &points, replicates)
            .map_err(JobError::io("writing sweep.csv"))?;
        design.stream(
            job,
            compute,
            |_, point| point.values.len() == outcomes.len() * 5,
            |p, point| {
                let values = points.values(p);
                let stats = cell_stats(&point.values);
                table
                    .write(p, &values, &outcomes, &stats, &layout)
                    .map_err(JobError::io("writing sweep.csv"))?;
                summary.add(p, &values, &stats);
                if let Some(charts) = &mut charts {
                    charts.add(&points.keys, p, &values, &stats);
                }
                Ok(())
            },
        )?;
        table.finish().map_err(JobError::io("writing sweep.csv"))?;
        if let Some(charts) = &charts {
            let chart_dir = dir.join("charts");
            fs::create_dir_all(&chart_dir).map_err(JobError::io("creating charts/"))?;
            let band = format!("over {replicates} replicates{}", crate::ensemble::band_holds(n_sets));
            for path in charts.draw(&chart_dir, &points, &layout, &metrics, &band)? {
                files.push(path.strip_prefix(dir).unwrap_or(&path).display().to_string());
            }
        }
        files.push("manifest.json".to_string());
        let mut inputs = vec![options.scenario.display().to_string()];
        inputs.extend(options.design.as_ref().map(|d| d.display().to_string()));
        inputs.extend(sets.as_ref().map(|s| s.file.display().to_string()));
        let header = Header::new("sweep", &options.settings.command_line, inputs, seed, replicates)
            .with_sets(sets.as_ref().map(|s| s.record()));
        // The fields in the order a JSON object of them is written (by name), the points
        // made one at a time as they are written.
        #[derive(serde::Serialize)]
        #[serde(bound = "")]
        struct Body<'a, F: Fn(usize) -> serde_json::Value> {
            files: Vec<String>,
            horizons: Vec<String>,
            metrics: Vec<&'a str>,
            parameters: &'a [String],
            points: LazyArray<F>,
            random_generator: &'a str,
            resolved_scenario: serde_json::Value,
            scenario_files: Vec<String>,
            scenario_name: &'a str,
        }
        let body = Body {
            files: files.clone(),
            horizons: horizons.iter().map(|d| d.to_string()).collect(),
            metrics: metrics.iter().map(|&m| layout.metric(m).name.as_str()).collect(),
            parameters: &points.keys,
            points: LazyArray {
                len: n_points,
                element: |p| {
                    json!({
                        "point": p + 1,
                        "values": points.keys.iter().zip(points.values(p)).map(|(k, v)| (k.clone(), serde_json::to_value(v).unwrap_or_default())).collect::<serde_json::Map<_, _>>(),
                    })
                },
            },
            random_generator: "ChaCha8 (rand_chacha), seeded with the seed, stream = replicate index; the same seed at every point",
            resolved_scenario: base.resolved_json(),
            scenario_files: base.file_list(),
            scenario_name: &base.scenario.name,
        };
        manifest::write(&dir.join("manifest.json"), &header, &body).map_err(JobError::io("writing manifest.json"))?;
        Ok(files)
    })?;
    Ok(SweepOutcome {
        written,
        points: n_points,
        summary: summary.text(),
        notes,
    })
}

/// What identifies the sweep for its shards: its inputs, points, outcomes and options.
fn identity(
    options: &SweepOptions,
    base: &LoadedScenario,
    sets: Option<&Sets>,
    points: &Points,
    outcomes: &[Outcome],
    seed: u64,
    replicates: u64,
) -> Result<DesignIdentity, JobError> {
    let mut inputs = base.file_list();
    inputs.extend(options.design.as_ref().map(|d| d.display().to_string()));
    // The parameter sets' file is an input too: shards over other sets must not merge.
    inputs.extend(sets.map(|s| s.file.display().to_string()));
    let described: Vec<OutcomeIdentity> = outcomes.iter().map(Outcome::identity).collect();
    // Hashed as the JSON object of these fields (written by name), every point's values
    // made as they are hashed.
    #[derive(serde::Serialize)]
    #[serde(bound = "")]
    struct Design<'a, F: Fn(usize) -> serde_json::Value> {
        inputs: serde_json::Value,
        keys: &'a [String],
        outcomes: Vec<OutcomeIdentity>,
        scattered: bool,
        values: LazyArray<F>,
    }
    let design = Design {
        inputs: json!([
            options.scenario.display().to_string(),
            options.design.as_ref().map(|d| d.display().to_string())
        ]),
        keys: &points.keys,
        outcomes: described,
        scattered: points.scattered,
        values: LazyArray {
            len: points.len(),
            element: |p| serde_json::to_value(points.values(p)).unwrap_or_default(),
        },
    };
    DesignIdentity::new(
        "sweep",
        &inputs,
        &options.settings,
        seed,
        replicates,
        points.len(),
        &design,
    )
}

/// A point's outcome statistics from the numbers a design keeps (five per outcome).
fn cell_stats(values: &[f64]) -> Vec<CellStats> {
    values
        .chunks_exact(5)
        .map(|c| CellStats {
            mean: c[0],
            sd: c[1],
            p05: c[2],
            p50: c[3],
            p95: c[4],
        })
        .collect()
}

/// Every host row and partner of the chosen metrics at every horizon, metric-major
/// (regional metrics: only the all-hosts row).
fn all_outcomes(layout: &MetricLayout, metrics: &[usize], horizons: &[Quarter]) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    for &metric in metrics {
        let rows = if layout.metric(metric).regional {
            layout.all_hosts_row()..layout.n_rows()
        } else {
            0..layout.n_rows()
        };
        for host in rows {
            let partners: Vec<Option<usize>> = if layout.metric(metric).per_partner {
                (0..layout.partner_labels.len()).map(Some).collect()
            } else {
                vec![None]
            };
            for partner in partners {
                for &date in horizons {
                    outcomes.push(Outcome {
                        metric,
                        host,
                        partner,
                        date,
                    });
                }
            }
        }
    }
    outcomes
}

/// A parameter value in a CSV cell: strings bare, numbers as numbers.
fn cell(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Float(x) => number(*x),
        other => other.to_string(),
    }
}

fn numeric(value: &toml::Value) -> Option<f64> {
    match value {
        toml::Value::Float(x) => Some(*x),
        toml::Value::Integer(i) => Some(*i as f64),
        _ => None,
    }
}
