//! Ensembles: many seeded replicates of a scenario, run in parallel, combined so that the
//! result does not depend on the thread count or on how the work was split.
//!
//! Replicate `i` draws from stream `i` of a ChaCha8 generator seeded with the scenario
//! seed, so it is the same replicate whatever the thread count or the size of the
//! ensemble. Replicates are grouped into *blocks* of [`BLOCK_REPLICATES`] consecutive
//! replicates, fixed by the replicate count alone. Worker threads take blocks in order;
//! a worker runs its block's replicates one after the other and folds them into the
//! statistics (see [`EnsemblePart`]):
//!
//! - up to [`EXACT_QUANTILES_MAX_REPLICATES`] replicates, every value is kept and the
//!   statistics are exact ([`crate::stats::describe`] on each cell's values in replicate order);
//! - beyond, each cell has a [`StreamingStats`] set up from the first [`PILOT_BLOCKS`]
//!   blocks (the pilot), so memory does not grow with the replicates. Its sums are exact
//!   across blocks and its bins count integers, so merging in any order gives the same
//!   bits.
//!
//! Decision terms are averaged from exact sums of per-block compensated sums.
//!
//! A range of blocks run on its own ([`run_part`]) gives an [`EnsemblePart`]; the parts of
//! all blocks, run in any processes on any machines, merge into exactly the statistics of
//! a single run. That is what `greatgame run --shard` and `greatgame merge` do.
//!
//! Raw per-replicate output goes to a [`ReplicateObserver`], called in replicate order on
//! the calling thread while workers continue; workers wait rather than run more than a
//! few blocks ahead of it, so memory stays bounded.
//!
//! **Parameter sets.** An ensemble may run over `K` parameter sets ([`run_sets`]): one
//! scenario per set, each with its own start state, and replicate `i` runs set `i mod K`
//! on stream `i`. Which set a replicate runs is a function of its index alone, so results
//! are the same on any thread count and under sharding, and two scenarios run with the
//! same sets and seed are paired by set and replicate. The summary splits each cell's
//! variance between and within the sets ([`crate::stats::sets`]).

mod part;
mod workers;

pub use part::{EnsemblePart, PartError};
pub use workers::{run_part, run_part_sets};

use std::ops::Range;
use std::sync::atomic::AtomicBool;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::metrics::{self, MetricLayout};
use crate::model::engine::NonFinite;
use crate::model::{DecisionTerms, Scenario, Simulation};
use crate::stats::exact::ExactSum;
use crate::stats::sets::VarianceSplit;
use crate::stats::streaming::StreamingStats;
use crate::stats::CellStats;

use workers::MAX_BATCH_BLOCKS;

/// How to run an ensemble.
#[derive(Debug, Clone)]
pub struct EnsembleConfig {
    pub replicates: u64,
    pub seed: u64,
    /// Worker threads; `None` uses every core.
    pub threads: Option<usize>,
    /// Largest memory the ensemble's statistics may take, bytes.
    pub max_memory_bytes: u64,
}

/// Default limit on the memory held for statistics: 4 GiB.
pub const DEFAULT_MAX_MEMORY_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// Replicates in a block: the unit of work of a thread and of a shard. Fixed, so that
/// results do not depend on threads or shards.
pub const BLOCK_REPLICATES: u64 = 32;

/// Largest ensemble whose quantiles are exact (all values held); larger ensembles stream.
pub const EXACT_QUANTILES_MAX_REPLICATES: u64 = 1000;

/// Blocks whose replicates form the pilot of a streaming ensemble.
pub const PILOT_BLOCKS: u64 = 4;

/// Largest ensemble: bin counts are 32-bit.
pub const MAX_REPLICATES: u64 = u32::MAX as u64;

/// How an ensemble's statistics are computed; depends only on the replicate count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatisticsMethod {
    /// Every value held; exact mean, sd and type 7 quantiles.
    Exact,
    /// Streaming accumulators; see [`crate::stats::streaming`] for the tolerance.
    Streaming,
}

/// The statistics method of an ensemble of `replicates`.
pub fn statistics_method(replicates: u64) -> StatisticsMethod {
    if replicates <= EXACT_QUANTILES_MAX_REPLICATES {
        StatisticsMethod::Exact
    } else {
        StatisticsMethod::Streaming
    }
}

/// Blocks in an ensemble of `replicates`.
pub fn n_blocks(replicates: u64) -> u64 {
    replicates.div_ceil(BLOCK_REPLICATES)
}

/// The replicates of block `block`.
pub fn block_replicates(block: u64, replicates: u64) -> Range<u64> {
    let start = block.saturating_mul(BLOCK_REPLICATES).min(replicates);
    start..(start.saturating_add(BLOCK_REPLICATES)).min(replicates)
}

/// One replicate's record: every cell at every step, and every decision.
#[derive(Debug, Clone)]
pub struct ReplicateRecord {
    /// `n_steps * layout.n_cells()`, step-major.
    pub values: Vec<f64>,
    /// `n_steps * n_hosts * n_patrons * DecisionTerms::NAMES.len()`, step, host, patron, term.
    pub decisions: Vec<f64>,
}

/// Receives each replicate's record, in replicate order (for raw output).
pub trait ReplicateObserver {
    fn on_replicate(&mut self, index: u64, record: &ReplicateRecord) -> std::io::Result<()>;
}

/// Statistics of a whole ensemble.
#[derive(Debug, Clone)]
pub struct EnsembleSummary {
    pub layout: MetricLayout,
    pub n_steps: usize,
    pub replicates: u64,
    /// `n_steps * layout.n_cells()`, step-major.
    pub cells: Vec<CellStats>,
    /// Mean over replicates of each decision term, laid out as in [`ReplicateRecord`].
    pub decision_means: Vec<f64>,
    /// Parameter sets the replicates ran over (1: the scenario's own values).
    pub parameter_sets: usize,
    /// Per cell as `cells`: its variance split between and within the parameter sets;
    /// `None` where the streaming sums could not hold a value ([`crate::stats::sets`]).
    pub variance: Vec<Option<VarianceSplit>>,
}

impl EnsembleSummary {
    pub fn cell(&self, step_index: usize, cell: usize) -> &CellStats {
        &self.cells[step_index * self.layout.n_cells() + cell]
    }

    /// What the 5th-95th percentile band holds, to follow "over N replicates": the sets
    /// and both kinds of uncertainty, or decision noise only.
    pub fn band_holds(&self) -> String {
        band_holds(self.parameter_sets)
    }

    /// The variance split of a cell at a step.
    pub fn variance_split(&self, step_index: usize, cell: usize) -> Option<VarianceSplit> {
        self.variance
            .get(step_index * self.layout.n_cells() + cell)
            .copied()
            .flatten()
    }

    /// Mean decision term `term` for a host and patron at a step.
    pub fn decision(&self, step_index: usize, host: usize, patron: usize, term: usize) -> f64 {
        let np = self.layout.partner_labels.len();
        let nh = self.layout.host_labels.len() - 1;
        let nt = DecisionTerms::NAMES.len();
        self.decision_means[((step_index * nh + host) * np + patron) * nt + term]
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EnsembleError {
    #[error("replicate {replicate}: {source}")]
    NonFinite { replicate: u64, source: NonFinite },
    #[error("interrupted after {completed} of {requested} replicates")]
    Cancelled { completed: u64, requested: u64 },
    #[error(
        "{replicates} replicates of {steps} steps would hold {needed_mb} MB (statistics, and the agents of each \
         worker's replicate), over the limit of {limit_mb} MB; run fewer replicates or raise the limit with --max-memory-mb"
    )]
    TooLarge {
        replicates: u64,
        steps: usize,
        needed_mb: u64,
        limit_mb: u64,
    },
    #[error("{replicates} replicates is more than the largest ensemble, {max}")]
    TooManyReplicates { replicates: u64, max: u64 },
    #[error("blocks {} to {} are not part of an ensemble of {blocks} blocks", range.start, range.end.saturating_sub(1))]
    BadBlockRange { range: Range<u64>, blocks: u64 },
    #[error("could not start {threads} worker threads: {message}")]
    ThreadPool { threads: usize, message: String },
    #[error("parameter set {set}: {message}")]
    Sets { set: usize, message: String },
    #[error("writing per-replicate output: {0}")]
    Observer(#[from] std::io::Error),
    #[error("combining the statistics: {0}")]
    Part(#[from] PartError),
}

/// The generator of replicate `index`.
pub fn replicate_rng(seed: u64, index: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index);
    rng
}

/// What the 5th-95th percentile band of an ensemble over `sets` parameter sets holds,
/// to follow "over N replicates" in a chart's title or subtitle.
pub fn band_holds(sets: usize) -> String {
    if sets > 1 {
        format!(" on {sets} parameter sets: parameter and decision uncertainty")
    } else {
        ": decision noise only".to_string()
    }
}

/// Largest number of parameter sets an ensemble runs over.
pub const MAX_PARAMETER_SETS: usize = 100_000;

/// Checks that parameter sets can share an ensemble: at least one, at most
/// [`MAX_PARAMETER_SETS`] and no more than the replicates, and every set with the same
/// quarters, actors and metrics as the first (so their records line up cell for cell).
pub fn check_sets(sets: &[Scenario], replicates: u64) -> Result<(), EnsembleError> {
    let bad = |set: usize, message: String| Err(EnsembleError::Sets { set, message });
    let Some(first) = sets.first() else {
        return bad(0, "an ensemble needs at least one scenario".to_string());
    };
    if sets.len() > MAX_PARAMETER_SETS {
        return bad(sets.len(), format!("more than {MAX_PARAMETER_SETS} parameter sets"));
    }
    if sets.len() as u64 > replicates {
        return bad(
            sets.len(),
            format!(
                "{} parameter sets but {replicates} replicates: every set needs at least one replicate (give --replicates a multiple of {})",
                sets.len(),
                sets.len()
            ),
        );
    }
    let layout = MetricLayout::new(first);
    for (k, s) in sets.iter().enumerate().skip(1) {
        if s.start != first.start || s.horizon_quarters != first.horizon_quarters {
            return bad(
                k + 1,
                "it changes the scenario's time.start or time.horizon_quarters".to_string(),
            );
        }
        let other = MetricLayout::new(s);
        if other.host_labels != layout.host_labels
            || other.partner_labels != layout.partner_labels
            || other.n_cells() != layout.n_cells()
        {
            return bad(
                k + 1,
                "it changes the scenario's actors, commodities or routes".to_string(),
            );
        }
    }
    Ok(())
}

/// Runs one replicate to the horizon and records it.
pub fn run_replicate(
    scenario: &Scenario,
    layout: &MetricLayout,
    seed: u64,
    index: u64,
) -> Result<ReplicateRecord, NonFinite> {
    let mut record = ReplicateRecord {
        values: Vec::new(),
        decisions: Vec::new(),
    };
    run_replicate_into(&Simulation::new(scenario), layout, seed, index, &mut record)?;
    Ok(record)
}

/// [`run_replicate`] from a start state set up once per ensemble (the steady state and
/// the deposits are the same for every replicate), into an existing record, reusing its
/// buffers: a worker that folds its records and runs more does not allocate (and fault
/// in) fresh memory for each.
fn run_replicate_into(
    start: &Simulation<'_>,
    layout: &MetricLayout,
    seed: u64,
    index: u64,
    record: &mut ReplicateRecord,
) -> Result<(), NonFinite> {
    let scenario = start.scenario();
    let mut rng = replicate_rng(seed, index);
    let mut sim = start.clone();
    let n_steps = scenario.horizon_quarters as usize;
    let n_cells = layout.n_cells();
    let values = &mut record.values;
    // `metrics::record` writes every cell of every step, so a reused buffer is not
    // cleared first, and a new one is allocated zeroed (pages the system zeroes as
    // they are first written, not a pass over 175 KB per replicate).
    if values.len() != n_steps * n_cells {
        *values = vec![0.0; n_steps * n_cells];
    }
    let decisions = &mut record.decisions;
    decisions.clear();
    decisions.reserve(n_steps * decisions_per_step(scenario));
    for step in 0..n_steps {
        sim.step(&mut rng)?;
        metrics::record(&sim, layout, &mut values[step * n_cells..(step + 1) * n_cells]);
        for terms in sim.decisions() {
            decisions.extend_from_slice(&terms.values());
        }
    }
    Ok(())
}

fn decisions_per_step(scenario: &Scenario) -> usize {
    scenario.n_hosts() * scenario.n_patrons() * DecisionTerms::NAMES.len()
}

fn worker_threads(threads: Option<usize>) -> usize {
    threads
        .filter(|&t| t > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Bytes an ensemble holds while it runs on every core; see [`memory_estimate`].
pub fn memory_needed(scenario: &Scenario, replicates: u64) -> u64 {
    memory_estimate(scenario, replicates, worker_threads(None))
}

/// Bytes one replicate's simulation holds: its deposits and firms (the agents that can
/// number millions) and the host-and-patron state.
pub fn simulation_bytes(scenario: &Scenario) -> u64 {
    // Per deposit: host, commodity, capacity, stage, owners, timer, and its place in the
    // per-host queues; per firm: home, kind, appetite, capital, project and order.
    const DEPOSIT_BYTES: u64 = 64;
    const FIRM_BYTES: u64 = 48;
    let pairs = (scenario.n_hosts() * scenario.n_patrons()) as u64;
    u64::from(scenario.minerals.n_deposits) * DEPOSIT_BYTES
        + u64::from(scenario.minerals.n_firms) * FIRM_BYTES
        + pairs * 40 * 8
}

/// Bytes an ensemble of `replicates` holds while it runs on `threads` threads: the
/// statistics (every value up to [`EXACT_QUANTILES_MAX_REPLICATES`] replicates; beyond,
/// a fixed-size accumulator per cell, whatever the replicate count), the blocks of
/// records in flight, and each worker's simulation ([`simulation_bytes`]).
pub fn memory_estimate(scenario: &Scenario, replicates: u64, threads: usize) -> u64 {
    memory_estimate_sets(scenario, replicates, threads, 1)
}

/// [`memory_estimate`] of an ensemble over `sets` parameter sets: also one start state
/// per set and, for streaming statistics, each cell's per-set sums.
pub fn memory_estimate_sets(scenario: &Scenario, replicates: u64, threads: usize, sets: usize) -> u64 {
    let sets = sets.max(1) as u64;
    let single = memory_estimate_one(scenario, replicates, threads);
    let starts = (sets - 1).saturating_mul(simulation_bytes(scenario));
    let sums = match statistics_method(replicates) {
        StatisticsMethod::Streaming if sets > 1 => {
            let n_series = scenario.horizon_quarters as u64 * MetricLayout::new(scenario).n_cells() as u64;
            n_series.saturating_mul(sets * 16 + 9)
        }
        _ => 0,
    };
    single.saturating_add(starts).saturating_add(sums)
}

fn memory_estimate_one(scenario: &Scenario, replicates: u64, threads: usize) -> u64 {
    let layout = MetricLayout::new(scenario);
    let n_series = scenario.horizon_quarters as u64 * layout.n_cells() as u64;
    let n_decisions = scenario.horizon_quarters as u64 * decisions_per_step(scenario) as u64;
    let record = (n_series + n_decisions) * 8 + 64;
    let threads = threads.max(1) as u64;
    // Each worker's batch of blocks, and up to two more per worker waiting for a
    // per-replicate observer.
    let in_flight = 3 * threads * MAX_BATCH_BLOCKS * BLOCK_REPLICATES * record;
    let decisions = n_decisions * std::mem::size_of::<ExactSum>() as u64;
    let statistics = match statistics_method(replicates) {
        StatisticsMethod::Exact => {
            // The values, and one column per thread while the statistics are computed.
            replicates.saturating_mul(n_series * 8 + 24) + threads * replicates * 8
        }
        StatisticsMethod::Streaming => {
            n_series * std::mem::size_of::<StreamingStats>() as u64 + PILOT_BLOCKS * BLOCK_REPLICATES * record
        }
    };
    let simulations = threads.saturating_mul(simulation_bytes(scenario));
    statistics
        .saturating_add(in_flight)
        .saturating_add(decisions)
        .saturating_add(simulations)
}

/// Runs the ensemble. `progress` is called once per finished replicate (from any
/// thread); `cancel` stops the run between replicates.
pub fn run(
    scenario: &Scenario,
    config: &EnsembleConfig,
    progress: &(dyn Fn() + Sync),
    cancel: &AtomicBool,
    observer: Option<&mut dyn ReplicateObserver>,
) -> Result<EnsembleSummary, EnsembleError> {
    run_sets(std::slice::from_ref(scenario), config, progress, cancel, observer)
}

/// Runs an ensemble over parameter sets: `sets[k]` is the scenario of set `k` (checked by
/// [`check_sets`]), and replicate `i` runs set `i mod K` on stream `i`.
pub fn run_sets(
    sets: &[Scenario],
    config: &EnsembleConfig,
    progress: &(dyn Fn() + Sync),
    cancel: &AtomicBool,
    observer: Option<&mut dyn ReplicateObserver>,
) -> Result<EnsembleSummary, EnsembleError> {
    let part = run_part_sets(sets, config, 0..n_blocks(config.replicates), progress, cancel, observer)?;
    Ok(part.finish(&sets[0], config.threads)?)
}
