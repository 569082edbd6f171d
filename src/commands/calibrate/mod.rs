//! `greatgame calibrate`: a search over the ranges of a scenario's `[calibration]` table
//! for the parameter values whose runs best reproduce the observations up to a year.
//!
//! The loss of a set of values is the backtest's error on the calibration years: for each
//! series (host, partner, metric, basis) the mean absolute log error of the ensemble mean,
//! then the mean over series, so that a series observed every year counts no more than
//! one observed once. Every evaluation runs the same replicates (one seed: common random
//! numbers), so differences between evaluations come from the parameters, not the noise.
//!
//! The search has two stages, both deterministic: a Sobol' sequence over the ranges
//! (global), then a compass search from the best point found (local: one coordinate at a
//! time, up and down by a step that halves when no move helps). The loss adds a pull
//! toward the file's own values (`prior_weight`), so parameters the observations do not
//! inform stay where the file put them.
//!
//! The parameter sets it writes are a *sample* of plausible values, not the best points:
//! the global stage's points are a uniform (Sobol') sample of the ranges, so weighting
//! each by `exp(−(loss − min loss) / T)` makes them an importance sample of a tempered
//! posterior (the prior's pull is in the loss; the fit acts as a Laplace log-likelihood).
//! The temperature is relative to the best fit, `T = τ · fit_best` (`--temperature τ`,
//! default [`DEFAULT_TEMPERATURE`]): a point whose error is τ (10%) larger than the best
//! point's weighs `e^−1` as much. The weighted points are resampled to `keep` sets by
//! systematic resampling (deterministic: no random draw), and the effective sample size
//! `(Σw)² / Σw²` says how many distinct points the sample is worth. `greatgame run`,
//! `backtest` and the other commands spread their replicates over these sets, so their
//! bands carry the parameters' uncertainty as well as the model's noise.

mod sample;
use sample::distinct;
pub use sample::Weights;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;

use rayon::prelude::*;

use crate::analysis::design::{Sobol, MAX_SOBOL_DIMENSIONS};
use crate::analysis::observations::{read_observed, Plan, SeriesKey};
use crate::analysis::parameters::{overrides, parameters, table_problem, tidy_number, Base, Parameter};
use crate::analysis::skill::{log_error, series_loss};
use crate::ensemble::EnsembleConfig;
use crate::format::short;
use crate::job::design::{DesignIdentity, Finished, Point};
use crate::job::staging::check_destination;
use crate::job::{Job, JobError, Settings, Written};
use crate::manifest::{self, Header};
use crate::scenario::source::KeyPath;

/// Largest number of evaluations in one stage.
const MAX_EVALUATIONS: u64 = 100_000;
/// The compass search starts with this step (in units of each range) and stops below the last.
const FIRST_STEP: f64 = 0.125;
const SMALLEST_STEP: f64 = 1.0 / 1024.0;
/// τ of the importance weights' temperature `T = τ · fit_best` (see the module's notes).
pub const DEFAULT_TEMPERATURE: f64 = 0.1;

#[derive(Debug, Clone)]
pub struct CalibrateOptions {
    pub scenario: PathBuf,
    pub observed: PathBuf,
    pub settings: Settings,
    pub through: Option<i32>,
    pub samples: Option<u64>,
    pub refine: Option<u64>,
    pub keep: Option<u64>,
    /// τ of the importance weights (`None`: [`DEFAULT_TEMPERATURE`]).
    pub temperature: Option<f64>,
}

#[derive(Debug)]
pub struct CalibrateOutcome {
    pub summary: String,
    pub written: Written,
    pub evaluations: usize,
    /// Effective sample size of the importance weights.
    pub effective_sample_size: f64,
}

/// Which part of the search an evaluation belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The prior's centres (where a parameter has none: the file's value).
    Start,
    /// A point of the Sobol' sequence over the ranges.
    Global,
    /// A step of the compass search.
    Local,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::Start => "start",
            Stage::Global => "global",
            Stage::Local => "local",
        }
    }
}

/// One evaluated set of values.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub stage: Stage,
    /// Unit coordinates in the ranges; `None` for a start at the file's own values when
    /// some parameter has no numeric value to centre a prior on: it is then no candidate.
    pub unit: Option<Vec<f64>>,
    /// The error on the calibration years (series-balanced MALE).
    pub fit: f64,
    /// The prior's pull: `prior_weight` times the squared distance from the file's values.
    pub penalty: f64,
    /// `fit + penalty`: what the search minimises.
    pub loss: f64,
    /// The same error on the held-out years, if there are any (reported, never used).
    pub held_out: Option<f64>,
    /// Per series: MALE on its calibration years.
    pub by_series: BTreeMap<SeriesKey, f64>,
}

impl Evaluation {
    /// The parameters' values at this point (`None` when it has no coordinates).
    pub fn values(&self, params: &[Parameter]) -> Option<Vec<f64>> {
        self.unit
            .as_ref()
            .map(|unit| params.iter().zip(unit).map(|(p, &u)| p.value(u)).collect())
    }

    /// The values of a ranked or kept point, which always has coordinates.
    fn candidate_values(&self, params: &[Parameter]) -> Vec<f64> {
        self.values(params).expect("ranked and kept points have coordinates")
    }
}

pub fn calibrate(options: &CalibrateOptions, job: Job) -> Result<CalibrateOutcome, JobError> {
    let Base { tree, loaded: base } = Base::read(&options.scenario)?;
    let destination = options.settings.own_folder("calibrate", &base.scenario.name)?;
    check_destination(&destination)?;
    let spec = &base.resolved.calibration;
    let ranges: Vec<_> = spec.parameters.iter().map(|p| p.range()).collect();
    let params = parameters(&tree, "calibration", &ranges, &options.scenario)?;
    let k = params.len();
    if k > MAX_SOBOL_DIMENSIONS {
        return Err(JobError::Usage(format!(
            "calibrate takes at most {MAX_SOBOL_DIMENSIONS} parameters, the scenario lists {k}"
        )));
    }
    let field = |name: &str| KeyPath::root().key("calibration").key(name);
    let bad = |from_cli: bool, name: &str, message: String| {
        if from_cli {
            JobError::Usage(format!("--{name}: {message}"))
        } else {
            table_problem(&tree, "calibration", field(name), message)
        }
    };
    let through = options.through.or(spec.through).ok_or_else(|| {
        JobError::Usage(format!(
            "{} gives no last calibration year: set [calibration] through or pass --through YEAR",
            options.scenario.display()
        ))
    })?;
    let samples = options.samples.unwrap_or(spec.samples);
    let refine = options.refine.unwrap_or(spec.refine);
    let keep = options.keep.unwrap_or(spec.keep);
    let replicates = options.settings.replicates_or(spec.replicates)?;
    if !(1..=MAX_EVALUATIONS).contains(&samples) {
        return Err(bad(
            options.samples.is_some(),
            "samples",
            format!("must be 1 to {MAX_EVALUATIONS}, got {samples}"),
        ));
    }
    if refine > MAX_EVALUATIONS {
        return Err(bad(
            options.refine.is_some(),
            "refine",
            format!("must be 0 to {MAX_EVALUATIONS}, got {refine}"),
        ));
    }
    if keep == 0 || keep > samples {
        return Err(bad(
            options.keep.is_some(),
            "keep",
            format!("must be 1 to samples ({samples}), got {keep}"),
        ));
    }
    let tau = options.temperature.unwrap_or(DEFAULT_TEMPERATURE);
    if !(tau.is_finite() && tau > 0.0) {
        return Err(JobError::Usage(format!(
            "--temperature must be a number above 0 (a share of the best fit), got {tau}"
        )));
    }
    if replicates == 0 {
        return Err(bad(
            options.settings.replicates.is_some(),
            "replicates",
            "must be at least 1".to_string(),
        ));
    }
    // The ranges' ends must make valid scenarios.
    for (end, u) in [("minimum", 0.0), ("maximum", 1.0)] {
        tree.resolve(&overrides(&params, &vec![u; k]))
            .map_err(|error| JobError::Scenario {
                context: format!("the scenario with every calibration parameter at its {end} is not valid"),
                error,
            })?;
    }

    let observations = read_observed(&options.observed)?;
    let plan = Plan::new(&observations, &base.scenario);
    let calibration_observations = plan.matched.iter().filter(|(o, _)| o.year <= through).count();
    let held_out_observations = plan.matched.len() - calibration_observations;
    // The fit needs at least one positive observation (a log error) in the calibration years.
    if !plan
        .matched
        .iter()
        .any(|(o, _)| o.year <= through && log_error(o.value, o.value).is_some())
    {
        return Err(JobError::input(
            &options.observed,
            format!("no observation up to {through} matches a quantity of the model: nothing to calibrate on"),
        ));
    }

    let prior_weight = spec.prior_weight;
    if !(prior_weight.is_finite() && prior_weight >= 0.0) {
        return Err(bad(
            false,
            "prior_weight",
            format!("must be a number >= 0, got {prior_weight}"),
        ));
    }
    // The prior's centre, in unit coordinates of the ranges: the value the table gives,
    // else the file's own.
    let mut prior: Vec<Option<f64>> = Vec::with_capacity(k);
    for (i, (p, given)) in params.iter().zip(&spec.parameters).enumerate() {
        let centre = match given.prior {
            Some(v) if !(p.min..=p.max).contains(&v) => {
                return Err(table_problem(
                    &tree,
                    "calibration",
                    KeyPath::root()
                        .key("calibration")
                        .key("parameters")
                        .index(i)
                        .key("prior"),
                    format!("must lie in the range {} .. {}, got {v}", p.min, p.max),
                ))
            }
            Some(v) => Some(v),
            None => base
                .number_at(&p.key)
                .map_err(|e| table_problem(&tree, "calibration", KeyPath::root().key("calibration"), e.to_string()))?,
        };
        prior.push(centre.map(|v| ((v - p.min) / (p.max - p.min)).clamp(0.0, 1.0)));
    }
    // The search starts from the prior's centres, scored like any point, so that the
    // result does not depend on the values the file holds now (after a calibration, say).
    let start_unit: Option<Vec<f64>> = prior.iter().copied().collect();
    let penalty = |unit: &[f64]| -> f64 {
        prior_weight
            * unit
                .iter()
                .zip(&prior)
                .filter_map(|(u, c)| c.map(|c| (u - c).powi(2)))
                .sum::<f64>()
    };

    let seed = options.settings.seed.unwrap_or(base.scenario.seed);
    let config = options.settings.ensemble(replicates, seed);
    // The global stage runs one ensemble on each worker at once, each holding every
    // replicate's value of every compared quantity; every evaluation is kept.
    let workers = options
        .settings
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let evaluations = 1 + samples + refine;
    let single = crate::ensemble::memory_estimate(&base.scenario, replicates, 1);
    options
        .settings
        .budget()
        .add(
            "the ensembles run side by side",
            single
                .saturating_mul(workers as u64)
                .max(options.settings.ensemble_bytes(&base.scenario, replicates)),
        )
        .add(
            "the replicate values of the ensembles run side by side",
            replicates
                .saturating_mul(plan.targets.len() as u64)
                .saturating_mul(8)
                .saturating_mul(workers as u64),
        )
        .add(
            "every evaluation",
            evaluations.saturating_mul(
                (k as u64)
                    .saturating_mul(8)
                    .saturating_add(64 * plan.matched.len() as u64 + 128),
            ),
        )
        .check()?;
    job.progress.start(evaluations.saturating_mul(replicates), "replicates");
    // The ensemble means of the compared quantities at one set of values, evaluation
    // `number` (1-based), its ensemble on `config` (any thread count gives the same
    // numbers); then the evaluation they make (cheap: a merge recomputes it).
    let means_at = |number: usize, unit: &Option<Vec<f64>>, config: &EnsembleConfig| {
        let loaded = match unit {
            Some(u) => tree
                .resolve(&overrides(&params, u))
                .map_err(|error| JobError::Scenario {
                    context: format!("calibration point {number} is not valid"),
                    error,
                })?,
            None => base.clone(),
        };
        let mut values = vec![Vec::with_capacity(replicates as usize); plan.targets.len()];
        plan.collect(&loaded.scenario, config, &mut values, job, || {
            format!("calibration point {number}")
        })?;
        Ok::<Vec<f64>, JobError>(values.iter().map(|v| v.iter().sum::<f64>() / v.len() as f64).collect())
    };
    let evaluate = |stage: Stage, unit: Option<Vec<f64>>, means: &[f64]| {
        let (fit, by_series) = series_loss(&plan, means, |y| y <= through).expect("checked: calibration rows exist");
        let held_out = series_loss(&plan, means, |y| y > through).map(|(l, _)| l);
        let pull = unit.as_deref().map_or(0.0, penalty);
        Evaluation {
            stage,
            unit,
            fit,
            penalty: pull,
            loss: fit + pull,
            held_out,
            by_series,
        }
    };
    let score = |number: usize, stage: Stage, unit: Option<Vec<f64>>, config: &EnsembleConfig| {
        let means = means_at(number, &unit, config)?;
        Ok::<_, JobError>(evaluate(stage, unit, &means))
    };

    // The prior's centres (the file's own values where no prior is given), then the
    // global stage: design point 0 and Sobol' points 1 to `samples` (the sequence's
    // first point, the corner of every minimum, is skipped). The points are independent,
    // so they run side by side, each ensemble on one thread, and are kept in order; with
    // `--shard` a process runs only its slice of them (the local stage runs after the
    // merge, from the whole global stage).
    let units: Vec<Option<Vec<f64>>> = std::iter::once(start_unit)
        .chain(
            Sobol::new(k)
                .expect("k checked")
                .points(samples as usize + 1)
                .into_iter()
                .skip(1)
                .map(Some),
        )
        .collect();
    let design = options.settings.design(
        identity(
            options,
            &base,
            &params,
            &units,
            (through, refine, keep),
            seed,
            replicates,
        )?,
        &destination,
    )?;
    let one_thread = EnsembleConfig {
        threads: Some(1),
        ..config.clone()
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .build()
        .map_err(|e| JobError::Usage(format!("cannot start {workers} worker threads: {e}")))?;
    let global: Vec<Result<Point, JobError>> = pool.install(|| {
        design
            .points()
            .into_par_iter()
            .map(|d| means_at(1 + d, &units[d], &one_thread).map(Point::from))
            .collect()
    });
    let global = global.into_iter().collect::<Result<Vec<Point>, JobError>>()?;
    let means = match design.finish(global, job, |_, point| point.values.len() == plan.targets.len())? {
        Finished::Shard(shard) => {
            return Ok(CalibrateOutcome {
                summary: shard.summary("calibrate"),
                written: shard.written,
                evaluations: shard.points.len(),
                // The weights are computed when the shards are merged.
                effective_sample_size: f64::NAN,
            });
        }
        Finished::All(means) => means,
    };
    let mut evaluations: Vec<Evaluation> = units
        .into_iter()
        .zip(&means)
        .enumerate()
        .map(|(d, (unit, point))| {
            let stage = if d == 0 { Stage::Start } else { Stage::Global };
            evaluate(stage, unit, &point.values)
        })
        .collect();
    // The local stage: compass search from the best point so far.
    let best_so_far = best_point(&evaluations);
    let mut centre = evaluations[best_so_far]
        .unit
        .clone()
        .expect("best_point has coordinates");
    let mut centre_loss = evaluations[best_so_far].loss;
    let mut step = FIRST_STEP;
    let mut used = 0;
    'search: while used < refine && step >= SMALLEST_STEP {
        let mut moved = false;
        for d in 0..k {
            for sign in [1.0, -1.0] {
                if used >= refine {
                    break 'search;
                }
                let mut trial = centre.clone();
                trial[d] = (trial[d] + sign * step).clamp(0.0, 1.0);
                if trial[d] == centre[d] {
                    continue;
                }
                used += 1;
                let evaluation = score(evaluations.len() + 1, Stage::Local, Some(trial.clone()), &config)?;
                let loss = evaluation.loss;
                evaluations.push(evaluation);
                if loss < centre_loss {
                    centre = trial;
                    centre_loss = loss;
                    moved = true;
                    break;
                }
            }
        }
        if !moved {
            step /= 2.0;
        }
    }

    // The calibrated sets: an importance sample of the global stage's points. Those are
    // a uniform sample of the ranges; the local stage's points are neighbours of the best
    // and would hide the spread, so they get no weight.
    let best = best_point(&evaluations);
    let weights = Weights::of(&evaluations, tau);
    let kept = weights.resample(keep as usize);

    let summary = report(&Report {
        name: &base.scenario.name,
        options,
        params: &params,
        evaluations: &evaluations,
        kept: &kept,
        best,
        weights: &weights,
        through,
        calibration_observations,
        held_out_observations,
        replicates,
        seed,
        prior: &prior,
        prior_weight,
    });
    let written = job.write_folder(&destination, |dir| {
        write_evaluations(&dir.join("calibration.csv"), &params, &evaluations, &weights.weights)
            .map_err(JobError::io("writing calibration.csv"))?;
        write_sets(&dir.join("parameter_sets.csv"), &params, &evaluations, &kept)
            .map_err(JobError::io("writing parameter_sets.csv"))?;
        fs::write(dir.join("report.txt"), &summary).map_err(JobError::io("writing report.txt"))?;
        let best_values: serde_json::Map<String, serde_json::Value> = params
            .iter()
            .zip(evaluations[best].candidate_values(&params))
            .map(|(p, v)| (p.key.clone(), serde_json::json!(v)))
            .collect();
        let header = Header::new(
            "calibrate",
            &options.settings.command_line,
            vec![
                options.scenario.display().to_string(),
                options.observed.display().to_string(),
            ],
            seed,
            replicates,
        );
        let body = serde_json::json!({
            "scenario_name": base.scenario.name,
            "scenario_files": base.file_list(),
            "observed": options.observed.display().to_string(),
            "through": through,
            "evaluations": evaluations.len(),
            "start_fit": evaluations[0].fit,
            "prior_weight": prior_weight,
            "samples": samples,
            "refine": refine,
            "keep": keep,
            "sample": {
                "method": "importance weighting of the global (Sobol') stage's points, weight = exp(-(loss - min loss) / T), T = temperature x best fit; systematic resampling to `keep` sets",
                "temperature": tau,
                "T": weights.t,
                "effective_sample_size": weights.ess,
                "distinct_sets": distinct(&kept),
            },
            "parameters": params
                .iter()
                .zip(&prior)
                .map(|(p, centre)| {
                    serde_json::json!({
                        "key": p.key,
                        "min": p.min,
                        "max": p.max,
                        "prior": centre.map(|u| p.value(u)),
                    })
                })
                .collect::<Vec<_>>(),
            "best_loss": evaluations[best].loss,
            "best": best_values,
            "files": ["calibration.csv", "parameter_sets.csv", "report.txt", "manifest.json"],
        });
        manifest::write(&dir.join("manifest.json"), &header, &body).map_err(JobError::io("writing manifest.json"))?;
        Ok(vec![
            "calibration.csv".into(),
            "parameter_sets.csv".into(),
            "report.txt".into(),
            "manifest.json".into(),
        ])
    })?;
    Ok(CalibrateOutcome {
        summary,
        written,
        evaluations: evaluations.len(),
        effective_sample_size: weights.ess,
    })
}

/// What identifies a calibration's global stage for its shards: inputs, ranges, points
/// and the options that shape the output.
fn identity(
    options: &CalibrateOptions,
    base: &crate::scenario::LoadedScenario,
    params: &[Parameter],
    units: &[Option<Vec<f64>>],
    (through, refine, keep): (i32, u64, u64),
    seed: u64,
    replicates: u64,
) -> Result<DesignIdentity, JobError> {
    let mut inputs = base.file_list();
    inputs.push(options.observed.display().to_string());
    let design = serde_json::json!({
        "scenario": options.scenario.display().to_string(),
        "observed": options.observed.display().to_string(),
        "parameters": params.iter().map(|p| (p.key.clone(), p.min.to_bits(), p.max.to_bits(), p.integer)).collect::<Vec<_>>(),
        "points": units.iter().map(|u| u.as_ref().map(|u| u.iter().map(|x| x.to_bits()).collect::<Vec<_>>())).collect::<Vec<_>>(),
        "through": through,
        "refine": refine,
        "keep": keep,
        "temperature": options.temperature.map(f64::to_bits),
    });
    DesignIdentity::new(
        "calibrate",
        &inputs,
        &options.settings,
        seed,
        replicates,
        units.len(),
        &design,
    )
}

/// The best evaluation with coordinates (the first of equals).
fn best_point(evaluations: &[Evaluation]) -> usize {
    (0..evaluations.len())
        .filter(|&i| evaluations[i].unit.is_some())
        .min_by(|&a, &b| evaluations[a].loss.total_cmp(&evaluations[b].loss).then(a.cmp(&b)))
        .expect("the global stage has at least one point")
}

struct Report<'a> {
    name: &'a str,
    options: &'a CalibrateOptions,
    params: &'a [Parameter],
    evaluations: &'a [Evaluation],
    kept: &'a [usize],
    best: usize,
    weights: &'a Weights,
    through: i32,
    calibration_observations: usize,
    held_out_observations: usize,
    replicates: u64,
    seed: u64,
    prior: &'a [Option<f64>],
    prior_weight: f64,
}

fn report(r: &Report) -> String {
    let mut out = String::new();
    let best = &r.evaluations[r.best];
    let start = &r.evaluations[0];
    let best_values = best.candidate_values(r.params);
    let kept_values: Vec<Vec<f64>> = r
        .kept
        .iter()
        .map(|&i| r.evaluations[i].candidate_values(r.params))
        .collect();
    let _ = writeln!(
        out,
        "calibration of {} against {}: {} observations up to {} ({} later ones held out); {} evaluations of {} replicates, seed {}",
        r.name,
        r.options.observed.display(),
        r.calibration_observations,
        r.through,
        r.held_out_observations,
        r.evaluations.len(),
        r.replicates,
        r.seed
    );
    let _ = writeln!(
        out,
        "loss = fit + prior: fit = mean over series of the series' mean absolute log error on the years up to {} (each\n\
         series counts once); prior = {} x squared distance from the prior's centres, in units of each range\n",
        r.through,
        short(r.prior_weight)
    );
    let held = |e: &Evaluation| e.held_out.map_or("-".to_string(), short);
    let _ = writeln!(
        out,
        "start (the prior's centres): fit {} (held-out MALE {})",
        short(start.fit),
        held(start)
    );
    let _ = writeln!(
        out,
        "best: evaluation {} ({} stage), loss {} = fit {} + prior {} (held-out MALE {})",
        r.best + 1,
        best.stage.name(),
        short(best.loss),
        short(best.fit),
        short(best.penalty),
        held(best)
    );
    let _ = writeln!(
        out,
        "sample: {} parameter sets ({} distinct points) resampled from the global stage's points weighted by\n\
         exp(-(loss - min loss) / T), T = {} x the best global point's fit = {}; effective sample size {:.1} of {} points\n",
        r.kept.len(),
        distinct(r.kept),
        short(r.weights.tau),
        short(r.weights.t),
        r.weights.ess,
        r.weights.weights.iter().filter(|&&w| w > 0.0).count()
    );
    let _ = writeln!(
        out,
        "{:<44} {:>10} {:>10} {:>10} {:>10}   sampled sets ({})",
        "parameter",
        "min",
        "max",
        "prior",
        "best",
        r.kept.len()
    );
    for (p, param) in r.params.iter().enumerate() {
        let lo = kept_values.iter().map(|v| v[p]).fold(f64::INFINITY, f64::min);
        let hi = kept_values.iter().map(|v| v[p]).fold(f64::NEG_INFINITY, f64::max);
        let at_edge = match best.unit.as_deref().map(|u| u[p]) {
            Some(u) if u <= 0.01 || u >= 0.99 => "  (at the edge of its range)",
            _ => "",
        };
        let centre = r.prior[p].map_or("-".to_string(), |u| short(param.value(u)));
        let _ = writeln!(
            out,
            "{:<44} {:>10} {:>10} {:>10} {:>10}   {} .. {}{at_edge}",
            param.key,
            short(param.min),
            short(param.max),
            centre,
            short(best_values[p]),
            short(lo),
            short(hi)
        );
    }
    let _ = writeln!(out, "\nper series, MALE on the calibration years: start -> best");
    for (k, after) in &best.by_series {
        let before = start.by_series.get(k).copied();
        let _ = writeln!(
            out,
            "  {:<4} {:<6} {:<26} {:<34} {:>7} -> {}",
            k.0,
            k.1,
            k.2,
            k.3.chars().take(34).collect::<String>(),
            before.map_or("-".to_string(), short),
            short(*after)
        );
    }
    let _ = writeln!(
        out,
        "\nTo adopt: copy parameter_sets.csv beside the scenario and name it in [calibration] parameter_sets; run, compare, sweep,\nlevers and backtest then spread their replicates over the sets (and the best values may go into the file itself)."
    );
    out
}

fn write_evaluations(
    path: &std::path::Path,
    params: &[Parameter],
    evaluations: &[Evaluation],
    weights: &[f64],
) -> std::io::Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    let mut header = vec!["evaluation".to_string(), "stage".to_string()];
    header.extend(params.iter().map(|p| p.key.clone()));
    header.extend(["fit", "prior", "loss", "held_out_male", "weight"].map(String::from));
    w.write_record(&header)?;
    for (i, e) in evaluations.iter().enumerate() {
        let mut row = vec![(i + 1).to_string(), e.stage.name().to_string()];
        match e.values(params) {
            Some(values) => row.extend(values.into_iter().map(crate::format::number)),
            None => row.extend(params.iter().map(|_| String::new())),
        }
        row.push(crate::format::number(e.fit));
        row.push(crate::format::number(e.penalty));
        row.push(crate::format::number(e.loss));
        row.push(crate::format::optional(e.held_out));
        row.push(crate::format::number(weights[i]));
        w.write_record(&row)?;
    }
    w.flush()
}

/// The sampled sets in the design format `backtest` and `sweep --design` read: a header
/// of keys, a row of values per set (a point drawn twice is written twice).
fn write_sets(
    path: &std::path::Path,
    params: &[Parameter],
    evaluations: &[Evaluation],
    kept: &[usize],
) -> std::io::Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record(params.iter().map(|p| p.key.as_str()))?;
    for &i in kept {
        let values = evaluations[i].candidate_values(params);
        w.write_record(values.into_iter().map(|v| tidy_number(v).to_string()))?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evaluation(stage: Stage, loss: f64) -> Evaluation {
        Evaluation {
            stage,
            unit: Some(vec![0.5]),
            fit: loss,
            penalty: 0.0,
            loss,
            held_out: None,
            by_series: BTreeMap::new(),
        }
    }

    #[test]
    fn weights_favour_low_loss_and_resample_in_proportion() {
        // The start and a local point get no weight; global points by exp(-(loss - 1) / 0.1).
        let evaluations = vec![
            evaluation(Stage::Start, 0.5),
            evaluation(Stage::Global, 1.0),
            evaluation(Stage::Global, 1.1),
            evaluation(Stage::Global, 3.0),
            evaluation(Stage::Local, 0.2),
        ];
        let w = Weights::of(&evaluations, 0.1);
        assert!((w.t - 0.1).abs() < 1e-12);
        assert_eq!((w.weights[0], w.weights[4]), (0.0, 0.0));
        let e = (-1.0f64).exp();
        assert!((w.weights[1] - 1.0 / (1.0 + e + (-20.0f64).exp())).abs() < 1e-9);
        assert!((w.weights[2] / w.weights[1] - e).abs() < 1e-9);
        assert!(w.weights[3] < 1e-8);
        let ess = 1.0 / w.weights.iter().map(|x| x * x).sum::<f64>();
        assert!((w.ess - ess).abs() < 1e-12 && w.ess > 1.0 && w.ess < 2.0);
        // 100 draws: about 73 of point 1, 27 of point 2, none of point 3.
        let drawn = w.resample(100);
        assert_eq!(drawn.len(), 100);
        let count = |i: usize| drawn.iter().filter(|&&d| d == i).count();
        assert_eq!((count(1), count(2), count(3)), (73, 27, 0));
        assert!(drawn.windows(2).all(|p| p[0] <= p[1]), "in evaluation order");
        // Equal losses: every point equally often, and the ESS is their number.
        let flat: Vec<Evaluation> = (0..4).map(|_| evaluation(Stage::Global, 0.7)).collect();
        let w = Weights::of(&flat, 0.1);
        assert!((w.ess - 4.0).abs() < 1e-9);
        assert_eq!(w.resample(8), vec![0, 0, 1, 1, 2, 2, 3, 3]);
    }
}
