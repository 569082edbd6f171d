//! The workers of an ensemble: blocks handed out in order, replicates run and folded
//! into the statistics (every value, or streaming accumulators set up from the pilot),
//! records handed to the observer in replicate order while the workers go on.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::{Condvar, Mutex};

use rayon::prelude::*;

use super::part::{EnsemblePart, PartCells};
use super::{
    block_replicates, check_sets, decisions_per_step, memory_estimate_sets, n_blocks, run_replicate_into,
    statistics_method, worker_threads, EnsembleConfig, EnsembleError, ReplicateObserver, ReplicateRecord,
    StatisticsMethod, BLOCK_REPLICATES, MAX_REPLICATES, PILOT_BLOCKS,
};
use crate::metrics::MetricLayout;
use crate::model::engine::NonFinite;
use crate::model::{Scenario, Simulation};
use crate::stats::exact::{compensated_add, ExactSum};
use crate::stats::sets::{set_of, SetSums};
use crate::stats::streaming::StreamingStats;

/// Runs the blocks `blocks` of the ensemble `config` describes and returns their
/// statistics, to be merged with the other blocks' ([`EnsemblePart::merge`]) and
/// finished ([`EnsemblePart::finish`]). `observer` sees the part's replicates in order.
pub fn run_part(
    scenario: &Scenario,
    config: &EnsembleConfig,
    blocks: Range<u64>,
    progress: &(dyn Fn() + Sync),
    cancel: &AtomicBool,
    observer: Option<&mut dyn ReplicateObserver>,
) -> Result<EnsemblePart, EnsembleError> {
    run_part_sets(
        std::slice::from_ref(scenario),
        config,
        blocks,
        progress,
        cancel,
        observer,
    )
}

/// [`run_part`] of an ensemble over parameter sets: replicate `i` runs `sets[i mod K]`.
pub fn run_part_sets(
    sets: &[Scenario],
    config: &EnsembleConfig,
    blocks: Range<u64>,
    progress: &(dyn Fn() + Sync),
    cancel: &AtomicBool,
    observer: Option<&mut dyn ReplicateObserver>,
) -> Result<EnsemblePart, EnsembleError> {
    let replicates = config.replicates;
    check_sets(sets, replicates)?;
    let scenario = &sets[0];
    let n_sets = sets.len();
    let n_steps = scenario.horizon_quarters as usize;
    if replicates > MAX_REPLICATES {
        return Err(EnsembleError::TooManyReplicates {
            replicates,
            max: MAX_REPLICATES,
        });
    }
    let total_blocks = n_blocks(replicates);
    if blocks.start > blocks.end || blocks.end > total_blocks {
        return Err(EnsembleError::BadBlockRange {
            range: blocks,
            blocks: total_blocks,
        });
    }
    let threads = worker_threads(config.threads);
    let needed = memory_estimate_sets(scenario, replicates, threads, n_sets);
    if needed > config.max_memory_bytes {
        return Err(EnsembleError::TooLarge {
            replicates,
            steps: n_steps,
            needed_mb: needed / 1_000_000,
            limit_mb: config.max_memory_bytes / 1_000_000,
        });
    }
    let layout = MetricLayout::new(scenario);
    let n_series = n_steps * layout.n_cells();
    let n_decisions = n_steps * decisions_per_step(scenario);

    let workers = threads.min((blocks.end - blocks.start).max(1) as usize);
    let batch = batch_blocks(blocks.end - blocks.start, workers);
    let method = statistics_method(replicates);
    // What runs before the workers start (the start states over several sets; the pilot
    // and the accumulators it sets up) runs on a pool of the ensemble's threads, so that
    // it takes no longer on many threads than a part of the work does. A small exact
    // ensemble of one set (each point of an analysis) has nothing to share out.
    let pool = if method == StatisticsMethod::Streaming || n_sets > 1 {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| EnsembleError::ThreadPool {
                threads,
                message: e.to_string(),
            })?;
        Some(pool)
    } else {
        None
    };
    // One start state per set (the steady state and the deposits depend on the values).
    let starts: Vec<Simulation> = match &pool {
        Some(pool) => pool.install(|| sets.par_iter().map(Simulation::new).collect()),
        None => sets.iter().map(Simulation::new).collect(),
    };
    // The accumulators are set up from the pilot series by series, side by side, and the
    // workers fold into stripes of this one vector, which becomes the part's: no copy
    // of tens of megabytes on one thread at either end.
    let (pilot, mut accumulators, sums) = match (&pool, method) {
        (Some(pool), StatisticsMethod::Streaming) => {
            let pilot = run_pilot(&starts, &layout, config, pool, cancel)?;
            let (accumulators, sums) = pool.install(|| pilot_accumulators(&pilot, n_series, n_sets));
            (Some(pilot), accumulators, sums)
        }
        _ => (None, Vec::new(), None),
    };
    drop(pool);
    let stripes = pilot.is_some().then(|| Stripes::new(&mut accumulators, sums, threads));

    let mut work = Work {
        starts,
        layout: &layout,
        seed: config.seed,
        replicates,
        blocks: blocks.clone(),
        pilot: pilot_records(pilot, &blocks, replicates),
        progress,
        cancel,
        keep_values: method == StatisticsMethod::Exact,
        next_block: AtomicU64::new(blocks.start),
        first_failure: AtomicU64::new(u64::MAX),
        failures: Mutex::new(Vec::new()),
        stop: AtomicBool::new(false),
        completed: AtomicU64::new(0),
        stripes,
        decisions: Mutex::new(vec![ExactSum::new(); n_decisions]),
        observed: Mutex::new(blocks.start),
        observed_changed: Condvar::new(),
        max_ahead: 2 * threads as u64 * batch,
        batch,
        workers: workers as u64,
    };
    let executed = work.execute(workers, observer);
    let sums = work.stripes.take().and_then(Stripes::into_sums);
    let (kept, observer_error) = executed?;

    let part_replicates = {
        let first = block_replicates(blocks.start, replicates).start;
        let end = if blocks.is_empty() {
            first
        } else {
            block_replicates(blocks.end - 1, replicates).end
        };
        end - first
    };
    if cancel.load(Ordering::Relaxed) || work.completed.load(Ordering::Relaxed) < part_replicates {
        if let Some((replicate, source)) = work.lowest_failure() {
            if !cancel.load(Ordering::Relaxed) {
                return Err(EnsembleError::NonFinite { replicate, source });
            }
        }
        if let Some(e) = observer_error {
            if !cancel.load(Ordering::Relaxed) {
                return Err(EnsembleError::Observer(e));
            }
        }
        return Err(EnsembleError::Cancelled {
            completed: work.completed.load(Ordering::Relaxed),
            requested: part_replicates,
        });
    }
    if let Some(e) = observer_error {
        return Err(EnsembleError::Observer(e));
    }

    let decisions = work.decisions.into_inner().unwrap_or_else(|e| e.into_inner());
    let cells = match method {
        StatisticsMethod::Streaming => PartCells::Streaming {
            stats: accumulators,
            sums,
        },
        StatisticsMethod::Exact => {
            let mut kept = kept;
            kept.sort_unstable_by_key(|(index, _)| *index);
            PartCells::Exact(kept.into_iter().map(|(_, values)| values).collect())
        }
    };
    Ok(EnsemblePart {
        replicates,
        seed: config.seed,
        sets: n_sets,
        identity: 0,
        blocks,
        n_series,
        cells,
        decisions,
    })
}

/// Largest number of blocks a worker takes at a time.
pub(super) const MAX_BATCH_BLOCKS: u64 = 4;

/// Blocks a worker takes at a time: up to [`MAX_BATCH_BLOCKS`] (folding several blocks
/// at once fetches each accumulator into the cache once for all of them), but few enough
/// that every worker gets several batches.
fn batch_blocks(blocks: u64, workers: usize) -> u64 {
    (blocks / (4 * workers as u64).max(1)).clamp(1, MAX_BATCH_BLOCKS)
}

/// The pilot records the part's workers will use; the others are dropped now.
fn pilot_records(
    pilot: Option<Vec<ReplicateRecord>>,
    blocks: &Range<u64>,
    replicates: u64,
) -> Vec<Mutex<Option<ReplicateRecord>>> {
    let first = block_replicates(blocks.start, replicates).start;
    pilot
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(index, record)| Mutex::new((index as u64 >= first).then_some(record)))
        .collect()
}

/// Runs the pilot replicates (the first [`PILOT_BLOCKS`] blocks) in parallel, each from
/// the start state of its parameter set.
fn run_pilot(
    starts: &[Simulation],
    layout: &MetricLayout,
    config: &EnsembleConfig,
    pool: &rayon::ThreadPool,
    cancel: &AtomicBool,
) -> Result<Vec<ReplicateRecord>, EnsembleError> {
    let pilot = (PILOT_BLOCKS * BLOCK_REPLICATES).min(config.replicates);
    let records: Vec<Option<Result<ReplicateRecord, NonFinite>>> = pool.install(|| {
        (0..pilot)
            .into_par_iter()
            .map(|index| {
                if cancel.load(Ordering::Relaxed) {
                    return None;
                }
                let mut record = ReplicateRecord {
                    values: Vec::new(),
                    decisions: Vec::new(),
                };
                let start = &starts[set_of(index, starts.len())];
                Some(run_replicate_into(start, layout, config.seed, index, &mut record).map(|()| record))
            })
            .collect()
    });
    let mut out = Vec::with_capacity(records.len());
    for (index, record) in records.into_iter().enumerate() {
        match record {
            None => {
                return Err(EnsembleError::Cancelled {
                    completed: 0,
                    requested: config.replicates,
                })
            }
            Some(Err(source)) => {
                return Err(EnsembleError::NonFinite {
                    replicate: index as u64,
                    source,
                })
            }
            Some(Ok(record)) => out.push(record),
        }
    }
    Ok(out)
}

/// The streaming accumulator of each series, from the pilot's values of it, and over
/// several parameter sets the per-set sums; run on a rayon pool, series by series (each
/// depends on its own values only, so the result is the same on any thread count).
/// Neighbouring series are read from the same cache lines of the pilot's records.
fn pilot_accumulators(
    pilot: &[ReplicateRecord],
    n_series: usize,
    n_sets: usize,
) -> (Vec<StreamingStats>, Option<SetSums>) {
    let column = |values: &mut Vec<f64>, series: usize| {
        values.clear();
        values.extend(pilot.iter().map(|r| r.values[series]));
    };
    let accumulators: Vec<StreamingStats> = (0..n_series)
        .into_par_iter()
        .map_init(Vec::new, |values, series| {
            column(values, series);
            StreamingStats::from_pilot(values)
        })
        .collect();
    let sums = (n_sets > 1).then(|| {
        let scales: Vec<f64> = (0..n_series)
            .into_par_iter()
            .map_init(Vec::new, |values, series| {
                column(values, series);
                SetSums::scale_of(values, accumulators[series].shift())
            })
            .collect();
        SetSums::with_scales(n_sets, scales)
    });
    (accumulators, sums)
}

/// One stripe: its series' accumulators and, over parameter sets, their per-set sums.
type Stripe<'a> = (&'a mut [StreamingStats], Option<SetSums>);

/// Streaming accumulators split into stripes, each behind its own lock, so workers fold
/// their blocks into different stripes at the same time.
struct Stripes<'a> {
    stripes: Vec<Mutex<Stripe<'a>>>,
    stripe_len: usize,
}

impl<'a> Stripes<'a> {
    fn new(accumulators: &'a mut [StreamingStats], sums: Option<SetSums>, threads: usize) -> Stripes<'a> {
        let n = accumulators.len();
        let n_stripes = (4 * threads).clamp(1, n.max(1));
        let stripe_len = n.div_ceil(n_stripes).max(1);
        let stripes: Vec<&'a mut [StreamingStats]> = accumulators.chunks_mut(stripe_len).collect();
        let lengths: Vec<usize> = stripes.iter().map(|s| s.len()).collect();
        let mut sums = match sums {
            Some(sums) => sums.split_at_series(&lengths).into_iter().map(Some).collect(),
            None => vec![None; lengths.len()],
        };
        let stripes = stripes
            .into_iter()
            .zip(sums.drain(..))
            .map(|(stats, sums)| Mutex::new((stats, sums)))
            .collect();
        Stripes { stripes, stripe_len }
    }

    /// Adds whole blocks of records, the first of them replicate `first_replicate`,
    /// starting at a stripe that depends on the worker so workers rarely wait for each
    /// other.
    fn add_records(&self, records: &[ReplicateRecord], first_replicate: u64, worker: usize) {
        let n = self.stripes.len();
        for k in 0..n {
            let s = (worker * n / 4 + k) % n;
            let mut stripe = self.stripes[s].lock().unwrap_or_else(|e| e.into_inner());
            let (stats, sums) = &mut *stripe;
            let stats: &mut [StreamingStats] = stats;
            add_records_to(stats, s * self.stripe_len, records);
            if let Some(sums) = sums {
                add_set_sums(sums, stats, s * self.stripe_len, records, first_replicate);
            }
        }
    }

    /// The per-set sums, if any, put back together (the accumulators are already in the
    /// vector the stripes borrowed).
    fn into_sums(self) -> Option<SetSums> {
        let mut all_sums = Vec::new();
        for stripe in self.stripes {
            let (_, sums) = stripe.into_inner().unwrap_or_else(|e| e.into_inner());
            all_sums.extend(sums);
        }
        (!all_sums.is_empty()).then(|| SetSums::concat(all_sums))
    }
}

/// Adds records (consecutive replicates from `first_replicate`) to the per-set sums of
/// the series `first..first + stats.len()`, each value to its replicate's set.
fn add_set_sums(
    sums: &mut SetSums,
    stats: &[StreamingStats],
    first: usize,
    records: &[ReplicateRecord],
    first_replicate: u64,
) {
    let n_sets = sums.sets();
    for (r, record) in records.iter().enumerate() {
        let set = set_of(first_replicate + r as u64, n_sets);
        let values = &record.values[first..first + stats.len()];
        for (j, (&x, s)) in values.iter().zip(stats).enumerate() {
            sums.add(j, set, x, s.shift());
        }
    }
}

/// Series handled together by [`add_records_to`]: their sums and bins stay in cache.
const SERIES_CHUNK: usize = 128;

/// Adds records, starting at a block boundary and made of whole blocks (the last may be
/// short), to the accumulators of the series `first..first + stats.len()`. Goes through
/// the records one by one over a hundred series at a time, so the reads are sequential
/// and the sums vectorise, then counts each series' bins and adds its block sums
/// together, so each accumulator is fetched into the cache once per call. The result is
/// the same as [`StreamingStats::add_block`] on each block of each series' values.
fn add_records_to(stats: &mut [StreamingStats], first: usize, records: &[ReplicateRecord]) {
    let block = BLOCK_REPLICATES as usize;
    let n_blocks = records.len().div_ceil(block);
    let mut shift = [0.0; SERIES_CHUNK];
    let mut bins = [crate::stats::streaming::Bins::from_pilot(&[0.0]); SERIES_CHUNK];
    let mut sum = vec![0.0; n_blocks * SERIES_CHUNK];
    let mut sum_squares = vec![0.0; n_blocks * SERIES_CHUNK];
    let mut min = vec![0.0; n_blocks * SERIES_CHUNK];
    let mut max = vec![0.0; n_blocks * SERIES_CHUNK];
    let mut slots = vec![0u16; records.len() * SERIES_CHUNK];
    for (c, chunk) in stats.chunks_mut(SERIES_CHUNK).enumerate() {
        let len = chunk.len();
        let offset = first + c * SERIES_CHUNK;
        for ((s, b), stats) in shift.iter_mut().zip(bins.iter_mut()).zip(chunk.iter()) {
            *s = stats.shift();
            *b = *stats.bins();
        }
        sum.fill(0.0);
        sum_squares.fill(0.0);
        min.fill(f64::INFINITY);
        max.fill(f64::NEG_INFINITY);
        for (r, record) in records.iter().enumerate() {
            let values = &record.values[offset..offset + len];
            let at = (r / block) * SERIES_CHUNK;
            let (sum, sum_squares) = (&mut sum[at..at + len], &mut sum_squares[at..at + len]);
            let (min, max) = (&mut min[at..at + len], &mut max[at..at + len]);
            for j in 0..len {
                let x = values[j];
                let d = x - shift[j];
                sum[j] += d;
                sum_squares[j] += d * d;
                min[j] = min[j].min(x);
                max[j] = max[j].max(x);
            }
            let row = &mut slots[r * SERIES_CHUNK..r * SERIES_CHUNK + len];
            for ((slot, b), &x) in row.iter_mut().zip(&bins).zip(values) {
                *slot = b.slot(x) as u16;
            }
        }
        for (j, stats) in chunk.iter_mut().enumerate() {
            for r in 0..records.len() {
                stats.count_slot(usize::from(slots[r * SERIES_CHUNK + j]));
            }
            for b in 0..n_blocks {
                let n = block.min(records.len() - b * block) as u64;
                let at = b * SERIES_CHUNK + j;
                stats.absorb_block(n, sum[at], sum_squares[at], min[at], max[at]);
            }
        }
    }
}

/// A range of blocks being run, shared by the workers.
struct Work<'a> {
    /// The state each parameter set's replicates start from: replicate `i` from
    /// `starts[i mod K]`.
    starts: Vec<Simulation<'a>>,
    layout: &'a MetricLayout,
    seed: u64,
    replicates: u64,
    blocks: Range<u64>,
    /// Records of the pilot replicates this part covers (streaming only), taken by the
    /// workers instead of running them again.
    pilot: Vec<Mutex<Option<ReplicateRecord>>>,
    progress: &'a (dyn Fn() + Sync),
    cancel: &'a AtomicBool,
    keep_values: bool,
    next_block: AtomicU64,
    /// Lowest replicate that failed, or `u64::MAX`.
    first_failure: AtomicU64,
    failures: Mutex<Vec<(u64, NonFinite)>>,
    /// Set when the observer failed: workers stop.
    stop: AtomicBool,
    completed: AtomicU64,
    stripes: Option<Stripes<'a>>,
    decisions: Mutex<Vec<ExactSum>>,
    /// Next block the observer is to see, and its change signal.
    observed: Mutex<u64>,
    observed_changed: Condvar,
    /// Blocks a worker may run ahead of the observer.
    max_ahead: u64,
    /// Blocks a worker takes at a time (does not change the results).
    batch: u64,
    /// Worker threads.
    workers: u64,
}

type Kept = Vec<(u64, Vec<f64>)>;
/// Consecutive blocks and their records.
type Batch = (Range<u64>, Vec<ReplicateRecord>);

impl Work<'_> {
    /// Runs the blocks on `workers` threads; with an observer, hands it the records in
    /// order on this thread. Returns the kept values (exact statistics) and the
    /// observer's error, if any.
    fn execute(
        &self,
        workers: usize,
        observer: Option<&mut dyn ReplicateObserver>,
    ) -> Result<(Kept, Option<std::io::Error>), EnsembleError> {
        std::thread::scope(|scope| {
            let (sender, receiver) = match observer {
                Some(_) => {
                    let (s, r) = sync_channel::<Batch>(workers * 2);
                    (Some(s), Some(r))
                }
                None => (None, None),
            };
            let mut handles = Vec::with_capacity(workers);
            let mut spawn_error = None;
            for worker in 0..workers {
                let sender = sender.clone();
                let spawned = std::thread::Builder::new()
                    .name(format!("greatgame-worker-{worker}"))
                    .spawn_scoped(scope, move || self.worker(worker, sender));
                match spawned {
                    Ok(handle) => handles.push(handle),
                    Err(e) => {
                        spawn_error = Some(e);
                        self.halt();
                        break;
                    }
                }
            }
            drop(sender);
            let observer_error = match (observer, receiver) {
                (Some(observer), Some(receiver)) => self.observe(observer, receiver),
                _ => None,
            };
            let mut kept = Vec::new();
            for handle in handles {
                match handle.join() {
                    Ok(values) => kept.extend(values),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
            if let Some(e) = spawn_error {
                return Err(EnsembleError::ThreadPool {
                    threads: workers,
                    message: e.to_string(),
                });
            }
            Ok((kept, observer_error))
        })
    }

    /// Stops the workers and wakes any waiting for the observer.
    fn halt(&self) {
        self.stop.store(true, Ordering::SeqCst);
        let _guard = self.observed.lock().unwrap_or_else(|e| e.into_inner());
        self.observed_changed.notify_all();
    }

    /// Receives blocks from the workers and hands their records to the observer in
    /// replicate order. Returns the observer's first error.
    fn observe(
        &self,
        observer: &mut dyn ReplicateObserver,
        receiver: std::sync::mpsc::Receiver<Batch>,
    ) -> Option<std::io::Error> {
        let mut waiting: BTreeMap<u64, Batch> = BTreeMap::new();
        let mut next = self.blocks.start;
        let mut error = None;
        for batch in receiver {
            if error.is_some() {
                continue;
            }
            waiting.insert(batch.0.start, batch);
            while let Some((blocks, records)) = waiting.remove(&next) {
                let first = block_replicates(next, self.replicates).start;
                for (offset, record) in records.iter().enumerate() {
                    if let Err(e) = observer.on_replicate(first + offset as u64, record) {
                        error = Some(e);
                        break;
                    }
                }
                if error.is_some() {
                    waiting.clear();
                    self.halt();
                    break;
                }
                next = blocks.end;
                let mut observed = self.observed.lock().unwrap_or_else(|e| e.into_inner());
                *observed = next;
                self.observed_changed.notify_all();
            }
        }
        error
    }

    fn should_stop(&self) -> bool {
        self.stop.load(Ordering::Relaxed) || self.cancel.load(Ordering::Relaxed)
    }

    /// One worker: takes batches of blocks in order until none are left, runs them, and
    /// folds them into the statistics.
    fn worker(&self, worker: usize, sender: Option<SyncSender<Batch>>) -> Kept {
        let mut kept = Vec::new();
        // Records of the last batch, whose buffers the next one reuses.
        let mut spare: Vec<ReplicateRecord> = Vec::new();
        loop {
            if self.should_stop() {
                break;
            }
            let Some(blocks) = self.take_blocks() else {
                break;
            };
            let first = blocks.start;
            let range =
                block_replicates(first, self.replicates).start..block_replicates(blocks.end - 1, self.replicates).end;
            if range.start > self.first_failure.load(Ordering::SeqCst) {
                break;
            }
            if sender.is_some() && !self.wait_for_observer(blocks.end - 1) {
                break;
            }
            let Some(records) = self.run_replicates(range.clone(), &mut spare) else {
                break;
            };
            if let Some(stripes) = &self.stripes {
                stripes.add_records(&records, range.start, worker);
            }
            self.add_decisions(&records);
            match &sender {
                Some(sender) => {
                    if self.keep_values {
                        kept.extend(range.clone().zip(records.iter().map(|r| r.values.clone())));
                    }
                    if sender.send((blocks, records)).is_err() {
                        break;
                    }
                }
                None => {
                    if self.keep_values {
                        kept.extend(range.clone().zip(records.into_iter().map(|r| r.values)));
                    } else {
                        spare = records;
                    }
                }
            }
        }
        kept
    }

    /// The next blocks to run: [`Work::batch`] of them while many are left, fewer towards
    /// the end (a share of what is left per worker), so that no worker is left running a
    /// whole batch while the others have nothing to do. Which blocks a worker takes does
    /// not change the results.
    fn take_blocks(&self) -> Option<Range<u64>> {
        let mut first = self.next_block.load(Ordering::SeqCst);
        loop {
            if first >= self.blocks.end {
                return None;
            }
            let left = self.blocks.end - first;
            let take = self.batch.min(left.div_ceil(2 * self.workers)).max(1);
            match self
                .next_block
                .compare_exchange(first, first + take, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => return Some(first..first + take),
                Err(now) => first = now,
            }
        }
    }

    /// Waits until the observer is close enough behind `block`; false if the run stops.
    fn wait_for_observer(&self, block: u64) -> bool {
        let mut observed = self.observed.lock().unwrap_or_else(|e| e.into_inner());
        while block >= *observed + self.max_ahead {
            if self.should_stop() {
                return false;
            }
            observed = self
                .observed_changed
                .wait_timeout(observed, std::time::Duration::from_millis(50))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }

    /// Runs replicates in order; `None` if the run stops or one fails.
    fn run_replicates(&self, range: Range<u64>, spare: &mut Vec<ReplicateRecord>) -> Option<Vec<ReplicateRecord>> {
        let mut records = Vec::with_capacity((range.end - range.start) as usize);
        for index in range {
            if self.should_stop() || index > self.first_failure.load(Ordering::SeqCst) {
                return None;
            }
            let kept = self
                .pilot
                .get(index as usize)
                .and_then(|slot| slot.lock().unwrap_or_else(|e| e.into_inner()).take());
            let record = match kept {
                Some(record) => Ok(record),
                None => {
                    let mut record = spare.pop().unwrap_or(ReplicateRecord {
                        values: Vec::new(),
                        decisions: Vec::new(),
                    });
                    let start = &self.starts[set_of(index, self.starts.len())];
                    run_replicate_into(start, self.layout, self.seed, index, &mut record).map(|()| record)
                }
            };
            match record {
                Ok(record) => {
                    records.push(record);
                    self.completed.fetch_add(1, Ordering::Relaxed);
                    (self.progress)();
                }
                Err(source) => {
                    self.first_failure.fetch_min(index, Ordering::SeqCst);
                    self.failures
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((index, source));
                    return None;
                }
            }
        }
        Some(records)
    }

    /// Adds whole blocks' decision terms: compensated sums over each block in replicate
    /// order, then exact sums across blocks.
    fn add_decisions(&self, records: &[ReplicateRecord]) {
        let n = records.first().map_or(0, |r| r.decisions.len());
        let mut sums = vec![(0.0, 0.0); n];
        let mut decisions = self.decisions.lock().unwrap_or_else(|e| e.into_inner());
        for block in records.chunks(BLOCK_REPLICATES as usize) {
            sums.fill((0.0, 0.0));
            for record in block {
                for ((s, c), &v) in sums.iter_mut().zip(&record.decisions) {
                    compensated_add(s, c, v);
                }
            }
            for (total, &(s, c)) in decisions.iter_mut().zip(&sums) {
                total.add(s);
                total.add(c);
            }
        }
    }

    fn lowest_failure(&self) -> Option<(u64, NonFinite)> {
        let failures = std::mem::take(&mut *self.failures.lock().unwrap_or_else(|e| e.into_inner()));
        failures.into_iter().min_by_key(|(index, _)| *index)
    }
}
