//! Ensembles: many seeded replicates of a scenario, run in parallel, combined in order.
//!
//! Replicate `i` draws from stream `i` of a ChaCha8 generator seeded with the scenario
//! seed, so it is the same replicate whatever the thread count or the size of the
//! ensemble. Replicates run in chunks on a rayon pool; each chunk's records come back in
//! replicate order and are folded into the statistics in that order, so the same
//! scenario and seed give the same bytes on one thread or many.

use std::sync::atomic::{AtomicBool, Ordering};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::metrics::{self, MetricLayout};
use crate::model::engine::NonFinite;
use crate::model::{DecisionTerms, Scenario, Simulation};
use crate::stats::{self, CellStats};

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
}

impl EnsembleSummary {
    pub fn cell(&self, step_index: usize, cell: usize) -> &CellStats {
        &self.cells[step_index * self.layout.n_cells() + cell]
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
        "{replicates} replicates of {steps} steps would hold {needed_mb} MB of statistics, over the limit of {limit_mb} MB; \
         run fewer replicates or raise the limit with --max-memory-mb"
    )]
    TooLarge {
        replicates: u64,
        steps: usize,
        needed_mb: u64,
        limit_mb: u64,
    },
    #[error("could not start {threads} worker threads: {message}")]
    ThreadPool { threads: usize, message: String },
    #[error("writing per-replicate output: {0}")]
    Observer(#[from] std::io::Error),
}

/// The generator of replicate `index`.
pub fn replicate_rng(seed: u64, index: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index);
    rng
}

/// Runs one replicate to the horizon and records it.
pub fn run_replicate(
    scenario: &Scenario,
    layout: &MetricLayout,
    seed: u64,
    index: u64,
) -> Result<ReplicateRecord, NonFinite> {
    let mut rng = replicate_rng(seed, index);
    let mut sim = Simulation::new(scenario);
    let n_steps = scenario.horizon_quarters as usize;
    let n_cells = layout.n_cells();
    let n_decisions = scenario.n_hosts() * scenario.n_patrons() * DecisionTerms::NAMES.len();
    let mut values = vec![0.0; n_steps * n_cells];
    let mut decisions = Vec::with_capacity(n_steps * n_decisions);
    for step in 0..n_steps {
        sim.step(&mut rng)?;
        metrics::record(&sim, layout, &mut values[step * n_cells..(step + 1) * n_cells]);
        for terms in sim.decisions() {
            decisions.extend_from_slice(&terms.values());
        }
    }
    Ok(ReplicateRecord { values, decisions })
}

/// Bytes the statistics of an ensemble hold while it runs.
pub fn memory_needed(scenario: &Scenario, replicates: u64) -> u64 {
    let layout = MetricLayout::new(scenario);
    let per_replicate = scenario.horizon_quarters as u64 * layout.n_cells() as u64 * 8;
    per_replicate.saturating_mul(replicates)
}

/// Runs the ensemble. `progress` is called once per finished replicate (from any
/// thread); `cancel` stops the run between chunks.
pub fn run(
    scenario: &Scenario,
    config: &EnsembleConfig,
    progress: &(dyn Fn() + Sync),
    cancel: &AtomicBool,
    mut observer: Option<&mut dyn ReplicateObserver>,
) -> Result<EnsembleSummary, EnsembleError> {
    let layout = MetricLayout::new(scenario);
    let n_steps = scenario.horizon_quarters as usize;
    let n_cells = layout.n_cells();
    let replicates = config.replicates;
    let needed = memory_needed(scenario, replicates);
    if needed > config.max_memory_bytes {
        return Err(EnsembleError::TooLarge {
            replicates,
            steps: n_steps,
            needed_mb: needed / 1_000_000,
            limit_mb: config.max_memory_bytes / 1_000_000,
        });
    }

    let threads = config.threads.unwrap_or(0);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| EnsembleError::ThreadPool {
            threads,
            message: e.to_string(),
        })?;
    let chunk = (pool.current_num_threads() as u64 * 16).max(32);

    // Samples are stored cell-major so each cell's replicates are contiguous for sorting.
    let n_series = n_steps * n_cells;
    let n_reps = replicates as usize;
    let mut samples = vec![0.0f64; n_series * n_reps];
    let n_decisions = n_steps * scenario.n_hosts() * scenario.n_patrons() * DecisionTerms::NAMES.len();
    let mut decision_sums = vec![0.0f64; n_decisions];

    let mut start = 0u64;
    while start < replicates {
        let end = (start + chunk).min(replicates);
        let records: Vec<Option<Result<ReplicateRecord, NonFinite>>> = pool.install(|| {
            (start..end)
                .into_par_iter()
                .map(|index| {
                    if cancel.load(Ordering::Relaxed) {
                        return None;
                    }
                    let record = run_replicate(scenario, &layout, config.seed, index);
                    progress();
                    Some(record)
                })
                .collect()
        });
        for (offset, record) in records.into_iter().enumerate() {
            let index = start + offset as u64;
            let record = match record {
                None => {
                    return Err(EnsembleError::Cancelled {
                        completed: index,
                        requested: replicates,
                    })
                }
                Some(Err(source)) => {
                    return Err(EnsembleError::NonFinite {
                        replicate: index,
                        source,
                    })
                }
                Some(Ok(record)) => record,
            };
            if let Some(observer) = observer.as_deref_mut() {
                observer.on_replicate(index, &record)?;
            }
            let r = index as usize;
            for (series, value) in record.values.iter().enumerate() {
                samples[series * n_reps + r] = *value;
            }
            for (sum, value) in decision_sums.iter_mut().zip(&record.decisions) {
                *sum += value;
            }
        }
        if cancel.load(Ordering::Relaxed) && end < replicates {
            return Err(EnsembleError::Cancelled {
                completed: end,
                requested: replicates,
            });
        }
        start = end;
    }

    let cells: Vec<CellStats> = pool.install(|| {
        samples
            .par_chunks_mut(n_reps.max(1))
            .take(n_series)
            .map(stats::describe)
            .collect()
    });
    let decision_means = decision_sums.iter().map(|s| s / replicates as f64).collect();
    Ok(EnsembleSummary {
        layout,
        n_steps,
        replicates,
        cells,
        decision_means,
    })
}
