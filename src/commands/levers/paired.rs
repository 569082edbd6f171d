//! The paired ensembles and their statistics: the base and each perturbation run on one
//! seed (replicate `i` of each draws from random stream `i`: common random numbers), each
//! replicate read only at the outcome quarters; an effect is the mean of per-replicate
//! differences with a Student-t interval, and a key is live when one of its rows passes a
//! Bonferroni threshold over its rows.
//!
//! Over parameter sets, replicate `i` of the base and of every perturbation runs set
//! `i mod K` on stream `i`, so the pairs are paired by set and replicate; a key that is
//! also a column of the sets is moved by its step rule from each set's own value.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use super::keys::{Direction, KeyClass, Perturbation, ScreenKey, StepRule, DIRECTIONS};
use crate::analysis::bootstrap::LEVEL;
use crate::analysis::outcomes::Outcome;
use crate::analysis::parameters::{same_key, tidy_number};
use crate::analysis::sets::Sets;
use crate::ensemble::{self, EnsembleError};
use crate::metrics::{self, MetricLayout};
use crate::model::engine::NonFinite;
use crate::model::{Scenario, Simulation};
use crate::scenario::overrides::{Override, ScenarioTree};
use crate::scenario::ScenarioError;
use crate::time::Quarter;

/// Differences smaller than this share of the outcome's magnitude (plus
/// [`NEGLIGIBLE_ABSOLUTE`]) are floating-point rounding, not an effect.
pub const NEGLIGIBLE_RELATIVE: f64 = 1e-9;
pub const NEGLIGIBLE_ABSOLUTE: f64 = 1e-12;

/// The outcome cells wanted from each replicate: for every step that holds one, the
/// cells and their slots.
#[derive(Debug, Clone)]
pub struct Wanted {
    by_step: Vec<(usize, Vec<(usize, usize)>)>,
    pub slots: usize,
}

impl Wanted {
    /// From the flat indices (`step * n_cells + cell`) of the outcomes, in slot order.
    pub fn new(flat: &[usize], n_cells: usize) -> Wanted {
        let mut map: BTreeMap<usize, Vec<(usize, usize)>> = BTreeMap::new();
        for (slot, &f) in flat.iter().enumerate() {
            map.entry(f / n_cells).or_default().push((f % n_cells, slot));
        }
        Wanted {
            by_step: map.into_iter().collect(),
            slots: flat.len(),
        }
    }
}

/// One replicate's wanted outcomes: the generator and steps of
/// [`ensemble::run_replicate`] (replicate `index` draws from stream `index` of the seed,
/// from the start state set up once per ensemble), but the metrics are read only at the
/// steps asked for and the run stops after the last of them, which saves most of the
/// recording a whole record needs.
pub fn replicate_outcomes(
    start: &Simulation<'_>,
    layout: &MetricLayout,
    wanted: &Wanted,
    seed: u64,
    index: u64,
) -> Result<Vec<f64>, NonFinite> {
    let mut rng = ensemble::replicate_rng(seed, index);
    let mut sim = start.clone();
    let mut cells = vec![0.0; layout.n_cells()];
    let mut out = vec![0.0; wanted.slots];
    let mut step = 0;
    for (at, slots) in &wanted.by_step {
        while step <= *at {
            sim.step(&mut rng)?;
            step += 1;
        }
        metrics::record(&sim, layout, &mut cells);
        for &(cell, slot) in slots {
            out[slot] = cells[cell];
        }
    }
    Ok(out)
}

/// Bytes the screen holds, counted before it starts ([`crate::job::Budget`]).
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    /// The base's outcome values, every replicate.
    pub base: u64,
    /// What one worker holds while it runs a perturbation: the start state and its
    /// running copy (of a scenario whose counts may be a step larger), the cells of one
    /// step, and the ensemble's per-replicate differences.
    pub per_worker: u64,
    /// One summary per perturbation and outcome.
    pub statistics: u64,
}

impl Memory {
    /// `sets`: the parameter sets the replicates run over (1: none); a worker holds one
    /// start state per set.
    pub fn of(scenario: &Scenario, layout: &MetricLayout, replicates: u64, slots: u64, runs: u64, sets: u64) -> Memory {
        let capture = replicates.saturating_mul(slots).saturating_mul(8);
        let simulation = ensemble::simulation_bytes(scenario).saturating_mul(12) / 10;
        Memory {
            base: capture,
            per_worker: simulation
                .saturating_mul(1 + sets.max(1))
                .saturating_add(layout.n_cells() as u64 * 8)
                .saturating_add(capture.saturating_mul(2)),
            statistics: runs
                .saturating_mul(slots)
                .saturating_mul(std::mem::size_of::<DiffStats>() as u64),
        }
    }
}

/// Paired statistics of one outcome under one perturbation.
#[derive(Debug, Clone, Copy)]
pub struct DiffStats {
    pub perturbed_mean: f64,
    /// Mean of the per-replicate differences perturbed − base.
    pub difference: f64,
    /// Their sample standard deviation.
    pub sd: f64,
    /// No replicate's value moved from the base's by more than rounding.
    pub unchanged: bool,
}

/// A perturbation as it ran (or why it did not), with one [`DiffStats`] per outcome slot
/// (none when skipped).
#[derive(Debug, Clone)]
pub struct PerturbationResult {
    pub perturbation: Perturbation,
    pub stats: Vec<DiffStats>,
}

/// What every ensemble of the screen shares.
pub struct Runner<'a> {
    pub tree: &'a ScenarioTree,
    pub base: &'a Scenario,
    pub layout: &'a MetricLayout,
    pub wanted: &'a Wanted,
    pub seed: u64,
    pub replicates: u64,
    pub cancel: &'a AtomicBool,
    /// Called once per replicate done (or skipped).
    pub tick: &'a (dyn Fn() + Sync),
    /// The parameter sets (`None`: every replicate runs the file's values) and the base's
    /// scenario of each (one, `base`, without sets): replicate `r` runs set `r mod K`.
    pub sets: Option<&'a Sets>,
    pub base_sets: &'a [Scenario],
    /// The step rule of each key, to move a key that is a column of the sets from each
    /// set's own value.
    pub rules: &'a [StepRule],
}

/// The base's outcome values, by replicate then slot, and their means by slot.
pub struct BaseValues {
    pub values: Vec<Vec<f64>>,
    pub means: Vec<f64>,
}

impl Runner<'_> {
    /// The base ensemble: its replicates side by side (on the caller's pool), kept in
    /// replicate order.
    pub fn base(&self) -> Result<BaseValues, EnsembleError> {
        let starts: Vec<Simulation> = self.base_sets.iter().map(Simulation::new).collect();
        let values = (0..self.replicates)
            .into_par_iter()
            .map(|r| {
                if self.cancel.load(Ordering::Relaxed) {
                    return Err(cancelled());
                }
                let start = &starts[r as usize % starts.len()];
                let values = replicate_outcomes(start, self.layout, self.wanted, self.seed, r)
                    .map_err(|source| EnsembleError::NonFinite { replicate: r, source })?;
                (self.tick)();
                Ok(values)
            })
            .collect::<Result<Vec<_>, EnsembleError>>()?;
        let means = (0..self.wanted.slots)
            .map(|w| values.iter().map(|row| row[w]).sum::<f64>() / self.replicates as f64)
            .collect();
        Ok(BaseValues { values, means })
    }

    /// Runs one perturbation: resolves the scenario with the key moved (a value the
    /// validator refuses, or a run that fails, is recorded as skipped), then its
    /// replicates in order, paired with the base's.
    pub fn perturbed(
        &self,
        p: &Perturbation,
        key: &ScreenKey,
        base: &BaseValues,
    ) -> Result<PerturbationResult, EnsembleError> {
        let skip = |reason: String, from: u64| {
            // The rest of this ensemble's replicates count as done.
            for _ in from..self.replicates {
                (self.tick)();
            }
            Ok(PerturbationResult {
                perturbation: Perturbation {
                    skipped: Some(reason),
                    ..p.clone()
                },
                stats: Vec::new(),
            })
        };
        let Some(value) = p.value else {
            return skip(p.skipped.clone().unwrap_or_default(), 0);
        };
        let as_toml = |value: f64| {
            if key.integer {
                toml::Value::Integer(value as i64)
            } else {
                tidy_number(value)
            }
        };
        // One scenario per set: the set's values, with the key moved (from the set's own
        // value when the sets hold it).
        let n_sets = self.sets.map_or(1, Sets::len).max(1);
        let mut resolved = Vec::with_capacity(n_sets);
        for k in 0..n_sets {
            let mut overrides: Vec<Override> = match self.sets {
                Some(sets) => sets
                    .overrides(k)
                    .into_iter()
                    .filter(|(name, _)| !same_key(name, &key.key))
                    .collect(),
                None => Vec::new(),
            };
            let moved = self
                .sets
                .and_then(|sets| set_value(sets, k, &key.key))
                .map_or(value, |own| {
                    moved_value(&self.rules[p.key], own, p.direction, key.integer)
                });
            overrides.push((key.key.clone(), as_toml(moved)));
            match self.tree.resolve(&overrides) {
                Ok(loaded) => resolved.push(loaded),
                Err(ScenarioError { problems }) => {
                    let reasons: Vec<String> = problems.iter().map(|p| p.message.clone()).collect();
                    let set = if self.sets.is_some() {
                        format!(" (parameter set {})", k + 1)
                    } else {
                        String::new()
                    };
                    return skip(format!("not valid{set}: {}", reasons.join("; ")), 0);
                }
            }
        }
        let scenario = &resolved[0].scenario;
        let own = MetricLayout::new(scenario);
        if own.n_cells() != self.layout.n_cells()
            || own.host_labels != self.layout.host_labels
            || own.partner_labels != self.layout.partner_labels
            || scenario.start != self.base.start
            || scenario.horizon_quarters != self.base.horizon_quarters
        {
            return skip("changes the scenario's actors, metrics or run window".to_string(), 0);
        }
        let starts: Vec<Simulation> = resolved.iter().map(|l| Simulation::new(&l.scenario)).collect();
        let n = self.wanted.slots;
        let mut sums = vec![0.0; n];
        let mut differences: Vec<Vec<f64>> = vec![Vec::with_capacity(self.replicates as usize); n];
        for r in 0..self.replicates {
            if self.cancel.load(Ordering::Relaxed) {
                return Err(cancelled());
            }
            let start = &starts[r as usize % starts.len()];
            let values = match replicate_outcomes(start, &own, self.wanted, self.seed, r) {
                Ok(values) => values,
                Err(e) => return skip(format!("the run failed: replicate {r}: {e}"), r),
            };
            for (w, &v) in values.iter().enumerate() {
                sums[w] += v;
                differences[w].push(v - base.values[r as usize][w]);
            }
            (self.tick)();
        }
        let count = self.replicates as f64;
        let stats = (0..n)
            .map(|w| {
                let d = &differences[w];
                let mean = d.iter().sum::<f64>() / count;
                let sd = if self.replicates > 1 {
                    (d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (count - 1.0)).sqrt()
                } else {
                    0.0
                };
                let perturbed_mean = sums[w] / count;
                let rounding = negligible(base.means[w], perturbed_mean);
                DiffStats {
                    perturbed_mean,
                    difference: mean,
                    sd,
                    unchanged: d.iter().all(|x| x.abs() <= rounding),
                }
            })
            .collect();
        Ok(PerturbationResult {
            perturbation: p.clone(),
            stats,
        })
    }
}

/// The value set `k` gives `key`, when the sets hold it (and the scenario does not keep
/// its own).
fn set_value(sets: &Sets, k: usize, key: &str) -> Option<f64> {
    sets.overrides(k)
        .into_iter()
        .find(|(name, _)| same_key(name, key))
        .and_then(|(_, v)| v.as_float().or_else(|| v.as_integer().map(|i| i as f64)))
}

/// `own` moved one way by `rule`, rounded as the perturbations are.
fn moved_value(rule: &StepRule, own: f64, direction: Direction, integer: bool) -> f64 {
    let (down, up) = rule.values(own);
    let v = if direction == Direction::Down { down } else { up };
    if integer {
        v.round()
    } else {
        format!("{v:.11e}").parse().unwrap_or(v)
    }
}

/// Cancellation; the caller knows how many replicates were done.
fn cancelled() -> EnsembleError {
    EnsembleError::Cancelled {
        completed: 0,
        requested: 0,
    }
}

/// The largest difference between two means that is floating-point rounding, not an
/// effect.
pub fn negligible(base_mean: f64, perturbed_mean: f64) -> f64 {
    NEGLIGIBLE_RELATIVE * base_mean.abs().max(perturbed_mean.abs()) + NEGLIGIBLE_ABSOLUTE
}

/// `(Δy / y) / (Δx / x)`, when `y` and `x` are not 0.
pub fn elasticity(difference: f64, base_mean: f64, perturbed_value: f64, base_value: f64) -> Option<f64> {
    let dx = perturbed_value - base_value;
    (base_mean != 0.0 && base_value != 0.0 && dx != 0.0).then(|| (difference / base_mean) / (dx / base_value))
}

// ------------------------------------------------------------------ Student's t

/// `ln Γ(x)` for `x > 0` (Lanczos, g = 7, nine terms: about 15 significant digits).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection.
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + G + 0.5;
    let series = C[1..]
        .iter()
        .enumerate()
        .fold(C[0], |acc, (i, c)| acc + c / (x + i as f64 + 1.0));
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + series.ln()
}

/// The regularised incomplete beta function `I_x(a, b)` (continued fraction by the
/// modified Lentz method, as in Numerical Recipes' `betai`).
fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front = (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    // The fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry otherwise.
    if x > (a + 1.0) / (a + b + 2.0) {
        return 1.0 - incomplete_beta(b, a, 1.0 - x);
    }
    const TINY: f64 = 1e-300;
    let mut c = 1.0;
    let mut d = 1.0 - (a + b) * x / (a + 1.0);
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut f = d;
    for m in 1..=500 {
        let m = f64::from(m);
        let even = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
        for coefficient in [even, -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0))] {
            d = 1.0 + coefficient * d;
            if d.abs() < TINY {
                d = TINY;
            }
            c = 1.0 + coefficient / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            f *= d * c;
        }
        if (d * c - 1.0).abs() < 1e-15 {
            break;
        }
    }
    front * f / a
}

/// `P(T > t)` for Student's t with `df` degrees of freedom, `t >= 0`.
pub fn t_upper_tail(t: f64, df: f64) -> f64 {
    0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t))
}

/// The `t` with `P(T > t) = p` (0 < p < 0.5), by bisection: the quantile a two-sided
/// interval of level `1 - 2p` needs.
pub fn t_quantile_upper(p: f64, df: u64) -> f64 {
    if df == 0 {
        return f64::INFINITY;
    }
    let df = df as f64;
    let mut hi = 1.0;
    while t_upper_tail(hi, df) > p && hi < 1e12 {
        hi *= 2.0;
    }
    let mut lo = 0.0;
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if t_upper_tail(mid, df) > p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-13 * hi {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// The two-sided 95% quantile of Student's t with `df` degrees of freedom.
pub fn t_975(df: u64) -> f64 {
    t_quantile_upper((1.0 - LEVEL) / 2.0, df)
}

/// A row's interval and verdict, from its statistics.
#[derive(Debug, Clone, Copy)]
pub struct RowVerdict {
    /// The 95% interval; none from a single replicate.
    pub ci: Option<(f64, f64)>,
    /// The 95% interval excludes 0 (and the difference is more than rounding).
    pub exceeds_noise: bool,
    /// |difference| / standard error: 0 for a difference that is only rounding, infinite
    /// for one without spread.
    pub t: f64,
}

/// The critical values of t: for one row's 95% interval, and for a key's verdict over its
/// `m` rows (Bonferroni: each row at `0.05 / m`, so that a key with no effect is called
/// live by chance at most 5% of the time however many outcomes it is read against). One
/// replicate measures no noise: then any change beyond rounding counts.
#[derive(Debug, Clone)]
pub struct Thresholds {
    pub replicates: u64,
    row: f64,
    /// By number of rows.
    key: BTreeMap<usize, f64>,
}

impl Thresholds {
    pub fn new(replicates: u64, row_counts: impl IntoIterator<Item = usize>) -> Thresholds {
        let df = replicates.saturating_sub(1);
        let alpha = 1.0 - LEVEL;
        let critical = |p: f64| if df == 0 { 0.0 } else { t_quantile_upper(p, df) };
        Thresholds {
            replicates,
            row: critical(alpha / 2.0),
            key: row_counts
                .into_iter()
                .filter(|&m| m > 0)
                .map(|m| (m, critical(alpha / (2.0 * m as f64))))
                .collect(),
        }
    }

    /// The family-wise critical value for a key with `rows` rows.
    pub fn key(&self, rows: usize) -> f64 {
        self.key.get(&rows).copied().unwrap_or(f64::INFINITY)
    }

    pub fn row(&self, stats: &DiffStats, base_mean: f64) -> RowVerdict {
        let se = stats.sd / (self.replicates as f64).sqrt();
        let half = self.row * se;
        let t = if stats.difference.abs() <= negligible(base_mean, stats.perturbed_mean) {
            0.0
        } else if se > 0.0 {
            stats.difference.abs() / se
        } else {
            f64::INFINITY
        };
        RowVerdict {
            ci: (self.replicates > 1).then_some((stats.difference - half, stats.difference + half)),
            exceeds_noise: t > self.row,
            t,
        }
    }
}

// ------------------------------------------------------------------ verdicts

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// At least one outcome moved beyond the noise.
    Live,
    /// No outcome moved beyond the noise in either direction.
    Inert,
    /// Neither perturbation could be run (both invalid or failed).
    Untested,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Live => "live",
            Verdict::Inert => "inert",
            Verdict::Untested => "untested",
        }
    }
}

/// What the screen concluded about one key.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyVerdict {
    pub key: String,
    pub class: KeyClass,
    pub base_value: f64,
    pub verdict: Verdict,
    /// No replicate of any outcome moved by more than rounding, in either direction run.
    pub unchanged: bool,
}

/// The evidence on one key: its rows (both directions), how many exceed the noise at
/// the plain 95% level, its largest t and the family-wise critical value it had to pass.
#[derive(Debug, Clone, Copy)]
pub struct Evidence {
    pub rows: usize,
    pub beyond: usize,
    pub largest: f64,
    pub critical: f64,
}

/// Everything the screen found, for the verdicts, tables, charts and summary.
pub struct Screen<'a> {
    pub keys: &'a [ScreenKey],
    pub rules: &'a [StepRule],
    /// Two per key, down then up.
    pub results: &'a [PerturbationResult],
    /// Cell-major, horizons inner.
    pub outcomes: &'a [Outcome],
    /// The outcomes' cells (at the last horizon), in order.
    pub cells: &'a [Outcome],
    pub horizons: &'a [Quarter],
    pub layout: &'a MetricLayout,
    pub base_means: &'a [f64],
    pub thresholds: Thresholds,
}

impl Screen<'_> {
    pub fn side(&self, key: usize, direction: Direction) -> &PerturbationResult {
        let result = &self.results[2 * key + usize::from(direction == Direction::Up)];
        debug_assert!(result.perturbation.key == key && result.perturbation.direction == direction);
        result
    }

    pub fn evidence(&self, k: usize) -> Evidence {
        let mut rows = 0;
        let mut beyond = 0;
        let mut largest = 0.0f64;
        for d in DIRECTIONS {
            for (s, &m) in self.side(k, d).stats.iter().zip(self.base_means) {
                let row = self.thresholds.row(s, m);
                rows += 1;
                beyond += usize::from(row.exceeds_noise);
                largest = largest.max(row.t);
            }
        }
        Evidence {
            rows,
            beyond,
            largest,
            critical: self.thresholds.key(rows),
        }
    }

    /// Every key's verdict, in screening order.
    pub fn verdicts(&self) -> Vec<KeyVerdict> {
        (0..self.keys.len())
            .map(|k| {
                let evidence = self.evidence(k);
                let unchanged = DIRECTIONS
                    .iter()
                    .all(|&d| self.side(k, d).stats.iter().all(|s| s.unchanged));
                KeyVerdict {
                    unchanged: evidence.rows > 0 && unchanged,
                    key: self.keys[k].key.clone(),
                    class: self.keys[k].class,
                    base_value: self.keys[k].value,
                    verdict: if evidence.rows == 0 {
                        Verdict::Untested
                    } else if evidence.largest > evidence.critical {
                        Verdict::Live
                    } else {
                        Verdict::Inert
                    },
                }
            })
            .collect()
    }

    /// Index into `outcomes` of cell `c` at the last horizon.
    pub fn last_row(&self, c: usize) -> usize {
        c * self.horizons.len() + self.horizons.len() - 1
    }

    /// The keys that move cell `c` most at the last horizon, largest first: (key, largest
    /// |difference|); keys whose change there is only rounding are left out.
    pub fn ranking(&self, c: usize) -> Vec<(usize, f64)> {
        let row = self.last_row(c);
        let mut ranked: Vec<(usize, f64)> = (0..self.keys.len())
            .filter_map(|k| {
                let size = DIRECTIONS
                    .iter()
                    .filter_map(|&d| self.side(k, d).stats.get(row))
                    .filter(|s| self.thresholds.row(s, self.base_means[row]).t > 0.0)
                    .map(|s| s.difference.abs())
                    .fold(0.0, f64::max);
                (size > 0.0).then_some((k, size))
            })
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::bootstrap::Z_95;

    #[test]
    fn replicate_outcomes_are_those_of_a_whole_replicate() {
        let loaded = crate::scenario::load_builtin_baseline().expect("the built-in baseline loads");
        let scenario = &loaded.scenario;
        let layout = MetricLayout::new(scenario);
        let n = layout.n_cells();
        let last = scenario.horizon_quarters as usize - 1;
        // Out of order and on three steps, the last among them.
        let flat = vec![23 * n + 5, 3 * n, last * n + n - 1, 3 * n + 7];
        let wanted = Wanted::new(&flat, n);
        let start = Simulation::new(scenario);
        for r in 0..2 {
            let whole = ensemble::run_replicate(scenario, &layout, 7, r).expect("runs");
            let ours = replicate_outcomes(&start, &layout, &wanted, 7, r).expect("runs");
            assert_eq!(ours, flat.iter().map(|&f| whole.values[f]).collect::<Vec<_>>());
        }
    }

    #[test]
    fn t_quantiles_match_the_tables() {
        // Two-sided 95% (textbook tables), and the one-sided tails the family-wise
        // thresholds use.
        for (df, t) in [
            (1, 12.706_204_736),
            (2, 4.302_652_730),
            (3, 3.182_446_305),
            (9, 2.262_157_163),
            (30, 2.042_272_456),
            (39, 2.022_690_920),
            (100, 1.983_971_519),
        ] {
            assert!((t_975(df) - t).abs() < 1e-8, "df {df}: {} against {t}", t_975(df));
        }
        // One-sided tails, against printed tables (three decimals).
        for (p, df, t) in [
            (0.005, 9, 3.250),
            (0.001, 9, 4.297),
            (0.0005, 9, 4.781),
            (0.0005, 40, 3.551),
            (0.001, 40, 3.307),
        ] {
            let q = t_quantile_upper(p, df);
            assert!((q - t).abs() < 1e-3, "p {p} df {df}: {q}");
            // And the quantile inverts the tail probability.
            assert!((t_upper_tail(q, df as f64) / p - 1.0).abs() < 1e-9, "p {p} df {df}");
        }
        assert!((t_975(1_000_000) - Z_95).abs() < 1e-5);
    }

    #[test]
    fn rows_pass_the_interval_and_keys_the_family_wise_threshold() {
        let thresholds = Thresholds::new(40, [140]);
        let stats = |difference: f64, sd: f64| DiffStats {
            perturbed_mean: 1.0 + difference,
            difference,
            sd,
            unchanged: false,
        };
        // t = 0.1 / (0.2 / sqrt(40)) = 3.16: beyond the row's 2.02, within the key's 3.9.
        let row = thresholds.row(&stats(0.1, 0.2), 1.0);
        assert!(row.exceeds_noise && (row.t - 3.162).abs() < 1e-3);
        assert!(row.t < thresholds.key(140) && thresholds.key(140) > 3.8 && thresholds.key(140) < 4.0);
        let (low, high) = row.ci.expect("an interval");
        assert!(low > 0.0 && high > 0.1);
        // Rounding is no effect; a difference without spread is infinitely sure.
        assert_eq!(thresholds.row(&stats(1e-13, 0.0), 1.0).t, 0.0);
        assert_eq!(thresholds.row(&stats(0.01, 0.0), 1.0).t, f64::INFINITY);
        // One replicate: no interval, any change counts.
        let one = Thresholds::new(1, [10]);
        let row = one.row(&stats(0.001, 0.0), 1.0);
        assert!(row.ci.is_none() && row.exceeds_noise && row.t > one.key(10));
        assert_eq!(one.key(11), f64::INFINITY);
        assert!((elasticity(0.1, 1.0, 1.2, 1.0).expect("both non-zero") - 0.5).abs() < 1e-12);
        assert_eq!(elasticity(0.1, 0.0, 1.2, 1.0), None);
    }
}
