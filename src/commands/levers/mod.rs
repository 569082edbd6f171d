//! `greatgame levers`: a one-at-a-time screen of every numeric lever and parameter.
//!
//! The keys come from walking the resolved scenario (after `extends` and defaults, the
//! same tree `manifest.json` records), not from a list kept by hand: every number outside
//! `[run]`, `[time]` and the analysis tables, addressed by the key path `--set` accepts.
//! Each key is moved down and up by a documented step; every ensemble, the base and each
//! perturbation, runs on the same seed (common random numbers), and an effect is the
//! mean of per-replicate paired differences, with a Student-t interval. A key that moves
//! no headline outcome beyond the noise in either direction is *inert*.
//!
//! - [`keys`]: the keys, the `--keys` globs, the step rules and the perturbations.
//! - [`paired`]: the base and perturbed ensembles, their paired statistics and the
//!   verdicts.
//! - [`write`]: `levers.csv`, `inert.csv`, `keys.csv`, tornado charts, the summary and
//!   the manifest's body.
//!
//! Work runs side by side over perturbations on a rayon pool; each ensemble runs its
//! replicates in order on one worker and keeps only the outcome cells it needs, so memory
//! holds the base's outcome values and one small summary per perturbation and outcome,
//! never the replicates of every ensemble. The result is the same bytes on any thread
//! count. See `docs/analysis.md` for the steps, statistics and every column.

pub mod keys;
pub mod paired;
pub mod write;

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use crate::analysis::outcomes::{
    check_horizons, default_horizons, last_quarter, parse_outcomes, Outcome, OutcomeIdentity,
};
use crate::analysis::parameters::Base;
use crate::analysis::sets::{ensemble_scenarios, read_sets, ParameterSets, Sets};
use crate::chart::{write_bars, BarFigure};
use crate::ensemble::EnsembleError;
use crate::format::slug;
use crate::job::design::{DesignIdentity, Finished, Point};
use crate::job::staging::check_destination;
use crate::job::{folder_name, Job, JobError, Settings, Written};
use crate::manifest::{self, Header};
use crate::metrics::{CommodityMetric, MetricId, MetricLayout, RouteMetric};
use crate::scenario::LoadedScenario;
use crate::time::Quarter;

use keys::{
    perturbations, screened_keys, selected, sibling_magnitudes, step_rule, Perturbation, ScreenKey, StepRule, Steps,
};
use paired::{DiffStats, Memory, PerturbationResult, Runner, Screen, Thresholds, Wanted};
use write::{cell_label, ManifestFacts};

pub use keys::{glob_match, KeyClass, RESOLUTION_KEYS};
pub use paired::{KeyVerdict, Verdict};

/// Replicates per ensemble when `--replicates` is not given: enough for a paired interval
/// to be meaningful (t with 39 degrees of freedom is within 3% of the normal quantile)
/// while the baseline's screen stays around a minute on two cores.
pub const DEFAULT_REPLICATES: u64 = 40;
/// Relative step of a key's value, down and up (`--step`).
pub const DEFAULT_STEP: f64 = 0.2;
/// Absolute step of a share or probability bounded to 0..1 (`--share-step`).
pub const DEFAULT_SHARE_STEP: f64 = 0.1;

#[derive(Debug, Clone)]
pub struct LeversOptions {
    pub scenario: PathBuf,
    pub settings: Settings,
    /// `--keys` globs; empty: every key.
    pub keys: Vec<String>,
    /// Relative step (0.2 = ±20%).
    pub step: f64,
    /// Absolute step of shares in 0..1.
    pub share_step: f64,
    /// Outcome specifications (`metric[:HOST[:PARTNER]]`); `None`: the headline outcomes
    /// ([`headline_outputs`]).
    pub outputs: Option<Vec<String>>,
    /// Quarters; `None`: a mid-run quarter and the last.
    pub horizons: Option<Vec<Quarter>>,
    /// Which parameter sets the replicates run over (default: the scenario's, if any).
    pub parameter_sets: ParameterSets,
}

#[derive(Debug)]
pub struct LeversOutcome {
    pub written: Written,
    pub summary: String,
    /// Every screened key with its verdict, in screening order.
    pub keys: Vec<KeyVerdict>,
}

/// The headline outcomes of a scenario: alignment with each patron, the hedging index,
/// trade shares, each commodity's supply shares, each route's share and GDP, for the hosts
/// together.
pub fn headline_outputs(layout: &MetricLayout) -> Vec<String> {
    let name = |index: usize| layout.metric(index).name.clone();
    let mut specs: Vec<String> = [MetricId::Alignment, MetricId::HedgingIndex, MetricId::TradeShare]
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    specs.extend((0..layout.n_commodities()).map(|c| name(layout.commodity(CommodityMetric::SupplyShare, c))));
    specs.extend((0..layout.n_routes()).map(|r| name(layout.route(RouteMetric::Share, r))));
    specs.push(MetricId::GdpUsdBn.name().to_string());
    specs
}

/// The options' steps and replicates, checked before anything is read.
fn checked(options: &LeversOptions) -> Result<(Steps, u64), JobError> {
    let replicates = options.settings.replicates_or(DEFAULT_REPLICATES)?;
    if !(options.step > 0.0 && options.step < 1.0) {
        return Err(JobError::Usage(format!(
            "--step must be above 0 and below 1 (a share of each value), got {}",
            options.step
        )));
    }
    if !(options.share_step > 0.0 && options.share_step <= 0.5) {
        return Err(JobError::Usage(format!(
            "--share-step must be above 0 and at most 0.5, got {}",
            options.share_step
        )));
    }
    let steps = Steps {
        relative: options.step,
        share: options.share_step,
    };
    Ok((steps, replicates))
}

/// Runs the screen and writes `DIR/levers-<scenario>/`.
pub fn levers(options: &LeversOptions, job: Job) -> Result<LeversOutcome, JobError> {
    let (steps, replicates) = checked(options)?;
    let from = Base::read(&options.scenario)?;
    let (tree, base) = (&from.tree, &from.loaded);
    let scenario = &base.scenario;
    let destination = options
        .settings
        .out_root()
        .join(folder_name("levers", &[scenario.name.as_str()]));
    check_destination(&destination)?;
    let seed = options.settings.seed.unwrap_or(scenario.seed);
    let layout = MetricLayout::new(scenario);
    let last = last_quarter(scenario);
    let horizons = match &options.horizons {
        Some(h) => {
            check_horizons(h, scenario.start, last, "the scenario")?;
            h.clone()
        }
        None => default_horizons(scenario.start, last),
    };
    let specs = options.outputs.clone().unwrap_or_else(|| headline_outputs(&layout));
    // The cells (metric, host row, partner), then every horizon of each.
    let cells = parse_outcomes(&specs, &layout, &[last])?;
    let outcomes: Vec<Outcome> = cells
        .iter()
        .flat_map(|c| horizons.iter().map(move |&date| Outcome { date, ..c.clone() }))
        .collect();
    let n_cells = layout.n_cells();
    let flat: Vec<usize> = outcomes
        .iter()
        .map(|o| o.date.since(scenario.start) as usize * n_cells + layout.index(o.metric, o.host, o.partner))
        .collect();
    let wanted = Wanted::new(&flat, n_cells);

    let all_keys = screened_keys(&base.resolved);
    let siblings = sibling_magnitudes(&all_keys);
    let keys: Vec<ScreenKey> = all_keys
        .into_iter()
        .filter(|k| selected(&options.keys, &k.key))
        .collect();
    if keys.is_empty() {
        return Err(JobError::Usage(format!(
            "--keys {} matches no numeric key of {}",
            options.keys.join(" "),
            options.scenario.display()
        )));
    }

    // Replicate r of the base and of every perturbation runs set r mod K on stream r.
    let mut sets = read_sets(&options.parameter_sets, &from, None)?;
    let mut notes: Vec<String> = sets.as_mut().and_then(|s| s.fit_to(replicates)).into_iter().collect();
    notes.extend(sets.as_ref().and_then(|s| s.kept_note(&scenario.name)));
    let base_sets = ensemble_scenarios(sets.as_ref(), &from, &[], replicates)?;

    let workers = options
        .settings
        .threads
        .filter(|&t| t > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let memory = Memory::of(
        scenario,
        &layout,
        replicates,
        wanted.slots as u64,
        (keys.len() * 2) as u64,
        base_sets.len() as u64,
    );
    options
        .settings
        .budget()
        .add("the base's outcome values", memory.base)
        .add(
            format!("{workers} workers' replicates"),
            memory.per_worker.saturating_mul(workers as u64),
        )
        .add("the perturbations' statistics", memory.statistics)
        .check()?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .build()
        .map_err(|e| JobError::Usage(format!("cannot start {workers} worker threads: {e}")))?;

    // Rules (asking the validator for the ranges) and the values to try.
    let rules: Vec<StepRule> = pool.install(|| keys.par_iter().map(|k| step_rule(tree, k, &siblings, steps)).collect());
    let plan = perturbations(&keys, &rules);

    let design = options.settings.design(
        identity(options, base, sets.as_ref(), &keys, &plan, &outcomes, seed, replicates)?,
        &destination,
    )?;
    let total = (1 + design.points().len() as u64) * replicates;
    job.progress.start(total, "replicates");
    let completed = AtomicU64::new(0);
    let tick = || {
        completed.fetch_add(1, Ordering::Relaxed);
        job.progress.tick();
    };
    // An interruption reports how far the screen got.
    let failed = |source: EnsembleError, context: String| {
        let source = match source {
            EnsembleError::Cancelled { .. } => EnsembleError::Cancelled {
                completed: completed.load(Ordering::Relaxed),
                requested: total,
            },
            other => other,
        };
        job.failed(source, context)
    };
    let runner = Runner {
        tree,
        base: scenario,
        layout: &layout,
        wanted: &wanted,
        seed,
        replicates,
        cancel: job.cancel.flag(),
        tick: &tick,
        sets: sets.as_ref(),
        base_sets: &base_sets,
        rules: &rules,
    };
    let base_values = pool
        .install(|| runner.base())
        .map_err(|e| failed(e, format!("the base scenario {}", scenario.name)))?;
    // The perturbations side by side, each ensemble's replicates in order on one worker.
    let results: Vec<PerturbationResult> = pool
        .install(|| {
            plan[design.points()]
                .par_iter()
                .map(|p| runner.perturbed(p, &keys[p.key], &base_values))
                .collect::<Result<Vec<_>, EnsembleError>>()
        })
        .map_err(|e| failed(e, "the lever screen".to_string()))?;
    let slots = wanted.slots;
    let fits = |_: usize, point: &Point| point.values.len() == if point.note.is_some() { 0 } else { slots * 4 };
    let results = match design.finish(results.into_iter().map(to_point).collect(), job, fits)? {
        Finished::Shard(shard) => {
            return Ok(LeversOutcome {
                summary: shard.summary("levers"),
                written: shard.written,
                keys: Vec::new(),
            })
        }
        Finished::All(points) => from_points(&plan, points),
    };

    let screen = Screen {
        keys: &keys,
        rules: &rules,
        results: &results,
        outcomes: &outcomes,
        cells: &cells,
        horizons: &horizons,
        layout: &layout,
        base_means: &base_values.means,
        thresholds: Thresholds::new(replicates, [outcomes.len(), 2 * outcomes.len()]),
    };
    let verdicts = screen.verdicts();
    let mut summary = screen.summary(&scenario.name, &verdicts);
    if let Some(sets) = &sets {
        let _ = writeln!(
            summary,
            "over {} parameter sets of {}: replicate i of the base and of every perturbation ran set i mod {} on stream i",
            sets.len(),
            sets.file.display(),
            sets.len()
        );
    }
    for note in &notes {
        let _ = writeln!(summary, "note: {note}");
    }
    job.check()?;
    let written = job.write_folder(&destination, |dir| {
        let mut files: Vec<String> = ["levers.csv", "inert.csv", "keys.csv"].map(String::from).to_vec();
        screen
            .write_levers(&dir.join("levers.csv"))
            .map_err(JobError::io("writing levers.csv"))?;
        screen
            .write_inert(&dir.join("inert.csv"), &verdicts)
            .map_err(JobError::io("writing inert.csv"))?;
        screen
            .write_keys(&dir.join("keys.csv"), &verdicts)
            .map_err(JobError::io("writing keys.csv"))?;
        if options.settings.charts {
            let chart_dir = dir.join("charts");
            fs::create_dir_all(&chart_dir).map_err(JobError::io("creating charts/"))?;
            let figures: Vec<(String, BarFigure)> = (0..cells.len())
                .filter_map(|c| {
                    let stem = format!("tornado_{}", slug(&cell_label(&cells[c], &layout)));
                    screen.tornado(c).map(|f| (stem, f))
                })
                .collect();
            // Drawing stops when the job is asked to (each chart in turn checks).
            let drawn: Vec<Result<Vec<PathBuf>, JobError>> = pool.install(|| {
                figures
                    .par_iter()
                    .map(|(stem, figure)| {
                        job.check()?;
                        Ok(write_bars(&chart_dir, stem, figure)?)
                    })
                    .collect()
            });
            for paths in drawn {
                for path in paths? {
                    files.push(relative(&path, dir));
                }
            }
        }
        files.push("manifest.json".to_string());
        let header = Header::new(
            "levers",
            &options.settings.command_line,
            vec![options.scenario.display().to_string()],
            seed,
            replicates,
        )
        .with_sets(sets.as_ref().map(|s| s.record()));
        let facts = ManifestFacts {
            scenario_name: &scenario.name,
            scenario_files: base.file_list(),
            globs: &options.keys,
            steps,
            resolved: base.resolved_json(),
        };
        let body = screen.manifest_body(&facts, &verdicts, &files);
        manifest::write(&dir.join("manifest.json"), &header, &body).map_err(JobError::io("writing manifest.json"))?;
        Ok(files)
    })?;
    Ok(LeversOutcome {
        written,
        summary,
        keys: verdicts,
    })
}

fn relative(path: &Path, dir: &Path) -> String {
    path.strip_prefix(dir).unwrap_or(path).display().to_string()
}

/// What identifies a screen for its shards: inputs, keys, perturbations, outcomes, steps.
#[allow(clippy::too_many_arguments)]
fn identity(
    options: &LeversOptions,
    base: &LoadedScenario,
    sets: Option<&Sets>,
    keys: &[ScreenKey],
    plan: &[Perturbation],
    outcomes: &[Outcome],
    seed: u64,
    replicates: u64,
) -> Result<DesignIdentity, JobError> {
    let described: Vec<OutcomeIdentity> = outcomes.iter().map(Outcome::identity).collect();
    let design = serde_json::json!({
        "scenario": options.scenario.display().to_string(),
        "globs": options.keys,
        "steps": [options.step.to_bits(), options.share_step.to_bits()],
        "keys": keys.iter().map(|k| k.key.clone()).collect::<Vec<_>>(),
        "plan": plan.iter().map(|p| (p.key, p.value.map(f64::to_bits), p.skipped.clone())).collect::<Vec<_>>(),
        "outcomes": described,
    });
    // The parameter sets' file is an input too: shards over other sets must not merge.
    let mut inputs = base.file_list();
    inputs.extend(sets.map(|s| s.file.display().to_string()));
    DesignIdentity::new(
        "levers",
        &inputs,
        &options.settings,
        seed,
        replicates,
        plan.len(),
        &design,
    )
}

/// A perturbation's result as a design point: four numbers per outcome slot, and why it
/// was skipped.
fn to_point(result: PerturbationResult) -> Point {
    Point {
        values: result
            .stats
            .iter()
            .flat_map(|d| {
                [
                    d.perturbed_mean,
                    d.difference,
                    d.sd,
                    if d.unchanged { 1.0 } else { 0.0 },
                ]
            })
            .collect(),
        note: result.perturbation.skipped,
    }
}

/// The perturbations' results from their design points.
fn from_points(plan: &[Perturbation], points: Vec<Point>) -> Vec<PerturbationResult> {
    plan.iter()
        .zip(points)
        .map(|(p, point)| PerturbationResult {
            perturbation: Perturbation {
                skipped: point.note,
                ..p.clone()
            },
            stats: point
                .values
                .chunks_exact(4)
                .map(|c| DiffStats {
                    perturbed_mean: c[0],
                    difference: c[1],
                    sd: c[2],
                    unchanged: c[3] != 0.0,
                })
                .collect(),
        })
        .collect()
}
