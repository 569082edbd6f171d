//! The job layer: what every command shares, so that a command is its own logic and
//! nothing else.
//!
//! - [`Settings`]: the options every command takes (replicates, seed, threads, memory
//!   limit, `--out`, charts, the command line for the manifest).
//! - [`Job`]: what a command is handed besides its options: a [`Progress`] to report to
//!   and the [`Cancel`] flag an interruption sets.
//! - [`staging`]: the output folder, written into a hidden staging folder and moved into
//!   place when complete, with rollback; [`Written`] says what was written.
//! - [`crate::manifest`]: the typed [`Header`] every `manifest.json` starts with.
//! - [`JobError`]: every failure, carrying its exit code ([`exit`]), so the binary has one
//!   table.

pub mod design;
pub mod error;
pub mod staging;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

pub use crate::manifest::Header;
pub use error::{exit, JobError};
pub use staging::{Replaced, Staging, Written};

use crate::ensemble::{self, EnsembleConfig, EnsembleError, EnsembleSummary, ReplicateObserver};
use crate::model::Scenario;
use crate::output::OutputError;

/// The output root when `--out` is not given.
pub const DEFAULT_OUT: &str = "output";

/// Options every command shares with `greatgame run`.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Replicates per ensemble; `None`: the command's default.
    pub replicates: Option<u64>,
    /// Master seed; `None`: the scenario's (or first input's) seed.
    pub seed: Option<u64>,
    /// Worker threads; `None`: every core.
    pub threads: Option<usize>,
    /// Largest memory a command may hold, bytes.
    pub max_memory_bytes: u64,
    /// `--out`, if given: for run, merge, compare, sweep, sensitivity and levers the
    /// folder their output folder goes into ([`Settings::out_root`]); for backtest and
    /// calibrate the output folder itself ([`Settings::own_folder`]).
    pub out: Option<PathBuf>,
    /// Draw charts.
    pub charts: bool,
    /// Recorded in the manifest, so the output can be reproduced.
    pub command_line: Vec<String>,
    /// Design-based commands: every point, one shard's, or a merge's ([`design`]).
    pub shard: design::ShardMode,
}

impl Settings {
    /// The folder output folders go into: `--out`, else [`DEFAULT_OUT`].
    pub fn out_root(&self) -> &Path {
        self.out.as_deref().unwrap_or(Path::new(DEFAULT_OUT))
    }

    /// The output folder of a command that writes into `--out` itself: `--out`, else
    /// `output/<command>-<scenario>`.
    pub fn own_folder(&self, command: &str, scenario: &str) -> Result<PathBuf, JobError> {
        match &self.out {
            Some(dir) => match dir.components().next_back() {
                Some(std::path::Component::Normal(_)) => Ok(dir.clone()),
                _ => Err(JobError::Usage(format!(
                    "--out {}: give a folder name (the {command} output is written into it)",
                    dir.display()
                ))),
            },
            None => Ok(self.out_root().join(folder_name(command, &[scenario]))),
        }
    }

    /// The ensemble of a run of `scenario`: replicates and seed from these settings, else
    /// the scenario's `[run]`. An empty or oversized ensemble is refused here, before any
    /// work or any file.
    pub fn run_config(&self, scenario: &Scenario) -> Result<EnsembleConfig, JobError> {
        self.run_config_sets(scenario, 1)
    }

    /// [`Settings::run_config`] of an ensemble over `sets` parameter sets.
    pub fn run_config_sets(&self, scenario: &Scenario, sets: usize) -> Result<EnsembleConfig, JobError> {
        let replicates = self.replicates_or(scenario.replicates)?;
        let config = self.ensemble(replicates, self.seed.unwrap_or(scenario.seed));
        let needed = self.ensemble_bytes_sets(scenario, replicates, sets);
        if needed > config.max_memory_bytes {
            return Err(EnsembleError::TooLarge {
                replicates,
                steps: scenario.horizon_quarters as usize,
                needed_mb: needed / 1_000_000,
                limit_mb: config.max_memory_bytes / 1_000_000,
            }
            .into());
        }
        Ok(config)
    }

    /// The replicates a command runs: `--replicates`, else `default`; more than an
    /// ensemble can hold is a bad argument (exit 2).
    pub fn replicates_or(&self, default: u64) -> Result<u64, JobError> {
        let replicates = self.replicates.unwrap_or(default);
        if replicates == 0 || replicates > ensemble::MAX_REPLICATES {
            return Err(JobError::Usage(format!(
                "--replicates {replicates}: an ensemble has 1 to {} replicates",
                ensemble::MAX_REPLICATES
            )));
        }
        Ok(replicates)
    }

    /// The memory a command may hold, to be counted in a [`Budget`].
    pub fn budget(&self) -> Budget {
        Budget::new(self.max_memory_bytes)
    }

    /// The bytes an ensemble of `replicates` of `scenario` holds on these settings'
    /// threads.
    pub fn ensemble_bytes(&self, scenario: &Scenario, replicates: u64) -> u64 {
        self.ensemble_bytes_sets(scenario, replicates, 1)
    }

    /// [`Settings::ensemble_bytes`] of an ensemble over `sets` parameter sets.
    pub fn ensemble_bytes_sets(&self, scenario: &Scenario, replicates: u64, sets: usize) -> u64 {
        ensemble::memory_estimate_sets(scenario, replicates, self.thread_count(), sets)
    }

    /// The worker threads: `--threads`, else every core.
    fn thread_count(&self) -> usize {
        self.threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
            .max(1)
    }

    /// How many points of a design run side by side: one a thread, each point's
    /// ensemble on one thread. Small ensembles (an analysis's few replicates a point)
    /// leave a thread idle inside one point, and what runs between its replicates
    /// (resolving the point, its start state, its statistics) would run on one; side by
    /// side, every thread is busy from one point to the next.
    pub fn points_side_by_side(&self) -> usize {
        self.thread_count()
    }

    /// The ensemble of one design point: [`Settings::ensemble`] on one thread when points
    /// run side by side (the same bytes on any number of threads).
    pub fn point_ensemble(&self, replicates: u64, seed: u64) -> EnsembleConfig {
        EnsembleConfig {
            threads: Some(1),
            ..self.ensemble(replicates, seed)
        }
    }

    /// The bytes the design points running side by side hold, each an ensemble of
    /// `replicates` of `scenario` over `sets` parameter sets on one thread.
    pub fn points_bytes_sets(&self, scenario: &Scenario, replicates: u64, sets: usize) -> u64 {
        ensemble::memory_estimate_sets(scenario, replicates, 1, sets).saturating_mul(self.points_side_by_side() as u64)
    }

    /// An ensemble of `replicates` with `seed` on these settings' threads and memory limit.
    pub fn ensemble(&self, replicates: u64, seed: u64) -> EnsembleConfig {
        EnsembleConfig {
            replicates,
            seed,
            threads: self.threads,
            max_memory_bytes: self.max_memory_bytes,
        }
    }
}

/// A folder name from a command and scenario names: only characters safe in file names,
/// and short (a long name keeps its start and a hash of the whole).
pub fn folder_name(prefix: &str, names: &[&str]) -> String {
    let mut joined = format!("{prefix}-{}", names.join("-vs-"));
    if joined.len() > 120 {
        let hash = crate::hash::fnv1a(joined.as_bytes());
        joined.truncate(100);
        joined = format!("{joined}-{:08x}", hash as u32);
    }
    joined
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_-.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// What a command will hold in memory, counted before it starts: each item its bytes.
/// Over the limit (`--max-memory-mb`), the command is refused with exit 5 before any work.
#[derive(Debug, Clone)]
pub struct Budget {
    limit: u64,
    items: Vec<(String, u64)>,
}

impl Budget {
    pub fn new(limit: u64) -> Budget {
        Budget {
            limit,
            items: Vec::new(),
        }
    }

    /// Counts `bytes` for `what`.
    pub fn add(&mut self, what: impl Into<String>, bytes: u64) -> &mut Budget {
        self.items.push((what.into(), bytes));
        self
    }

    /// The bytes counted so far.
    pub fn total(&self) -> u64 {
        self.items.iter().fold(0u64, |sum, (_, b)| sum.saturating_add(*b))
    }

    /// An error if the items do not fit the limit, naming the largest.
    pub fn check(&self) -> Result<(), JobError> {
        let total = self.total();
        if total <= self.limit {
            return Ok(());
        }
        let mut items: Vec<&(String, u64)> = self.items.iter().filter(|(_, b)| *b > 0).collect();
        items.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let what = items
            .iter()
            .take(3)
            .map(|(what, bytes)| format!("{what} ({} MB)", bytes / 1_000_000))
            .collect::<Vec<_>>()
            .join(", ");
        Err(JobError::TooLarge {
            what,
            needed_mb: total / 1_000_000,
            limit_mb: self.limit / 1_000_000,
        })
    }
}

/// Receives progress: the total once known, then one tick per finished unit (replicate).
pub trait Progress: Sync {
    fn start(&self, total: u64, what: &str);
    fn tick(&self);
}

/// Progress that goes nowhere.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: u64, _: &str) {}
    fn tick(&self) {}
}

/// Set when the job is to stop: by an interruption (the signal's number is kept, so the
/// exit code can say which) or by a caller. The binary's signal handlers set the shared
/// flags ([`Cancel::handles`]); the ensemble checks [`Cancel::flag`] between replicates
/// and the commands check [`Job::check`] between phases and before moving an output
/// into place.
#[derive(Debug, Default)]
pub struct Cancel {
    flag: Arc<AtomicBool>,
    signal: Arc<AtomicUsize>,
}

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Asks the job to stop because of `signal` (0: not a signal).
    pub fn cancel(&self, signal: i32) {
        self.signal
            .store(usize::try_from(signal).unwrap_or(0), Ordering::SeqCst);
        self.flag.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// The signal that stopped the job, if one did.
    pub fn signal(&self) -> Option<i32> {
        i32::try_from(self.signal.load(Ordering::SeqCst))
            .ok()
            .filter(|&s| s != 0)
    }

    /// The flag the ensemble checks between replicates.
    pub fn flag(&self) -> &AtomicBool {
        &self.flag
    }

    /// The flag and the signal number, shared, for signal handlers to set (the signal
    /// first, then the flag).
    pub fn handles(&self) -> (Arc<AtomicBool>, Arc<AtomicUsize>) {
        (Arc::clone(&self.flag), Arc::clone(&self.signal))
    }
}

/// What a command is handed besides its options.
#[derive(Clone, Copy)]
pub struct Job<'a> {
    pub progress: &'a dyn Progress,
    pub cancel: &'a Cancel,
}

impl<'a> Job<'a> {
    pub fn new(progress: &'a dyn Progress, cancel: &'a Cancel) -> Job<'a> {
        Job { progress, cancel }
    }

    /// Runs one ensemble with this job's progress and cancellation; an error names the
    /// ensemble by `context`.
    pub fn ensemble(
        &self,
        scenario: &Scenario,
        config: &EnsembleConfig,
        observer: Option<&mut dyn ReplicateObserver>,
        context: impl Fn() -> String,
    ) -> Result<EnsembleSummary, JobError> {
        let tick = || self.progress.tick();
        ensemble::run(scenario, config, &tick, self.cancel.flag(), observer)
            .map_err(|source| self.failed(source, context()))
    }

    /// [`Job::ensemble`] over parameter sets: replicate `i` runs `sets[i mod K]`
    /// ([`ensemble::run_sets`]).
    pub fn ensemble_sets(
        &self,
        sets: &[Scenario],
        config: &EnsembleConfig,
        observer: Option<&mut dyn ReplicateObserver>,
        context: impl Fn() -> String,
    ) -> Result<EnsembleSummary, JobError> {
        let tick = || self.progress.tick();
        ensemble::run_sets(sets, config, &tick, self.cancel.flag(), observer)
            .map_err(|source| self.failed(source, context()))
    }

    /// An ensemble's error as a job error: an interruption says which signal.
    pub fn failed(&self, source: EnsembleError, context: String) -> JobError {
        match source {
            EnsembleError::Cancelled { completed, requested } => JobError::Interrupted {
                context,
                replicates: Some((completed, requested)),
                signal: self.cancel.signal(),
            },
            source => JobError::Ensemble { context, source },
        }
    }

    /// An error if the job was asked to stop: called between phases that do not check
    /// the flag themselves.
    pub fn check(&self) -> Result<(), JobError> {
        self.interrupted(())
    }

    /// `value`, or the interruption if the job was asked to stop; an interruption an
    /// inner step reported (without its signal) gets the signal.
    pub fn interrupted<T>(&self, value: T) -> Result<T, JobError> {
        if self.cancel.is_cancelled() {
            Err(JobError::Interrupted {
                context: String::new(),
                replicates: None,
                signal: self.cancel.signal(),
            })
        } else {
            Ok(value)
        }
    }

    /// An output error as a job error: a stop is this job's interruption, with its signal.
    pub fn output_error(&self, e: OutputError) -> JobError {
        match e {
            OutputError::Stopped => JobError::Interrupted {
                context: String::new(),
                replicates: None,
                signal: self.cancel.signal(),
            },
            e => e.into(),
        }
    }

    /// Whether the job was asked to stop (for code that checks between its own steps).
    pub fn stopped(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Writes an output folder through [`staging::write_folder`], checking that the job
    /// was not interrupted before the folder is moved into place.
    pub fn write_folder(
        &self,
        destination: &Path,
        write: impl FnOnce(&Path) -> Result<Vec<String>, JobError>,
    ) -> Result<Written, JobError> {
        staging::write_folder(destination, self.cancel, write)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_safe_for_folders() {
        assert_eq!(
            folder_name("compare", &["baseline", "us_minerals_push"]),
            "compare-baseline-vs-us_minerals_push"
        );
        let long: Vec<String> = (0..20).map(|i| format!("scenario_number_{i}")).collect();
        let names: Vec<&str> = long.iter().map(String::as_str).collect();
        assert!(folder_name("compare", &names).len() <= 110);
        assert_eq!(folder_name("sweep", &["a b/c"]), "sweep-a_b_c");
    }

    #[test]
    fn own_folders_need_a_name() {
        let settings = Settings {
            out: Some(PathBuf::from("..")),
            ..Settings::default()
        };
        assert!(settings.own_folder("backtest", "x").is_err());
        let settings = Settings::default();
        assert_eq!(
            settings.own_folder("backtest", "x").unwrap(),
            Path::new("output/backtest-x")
        );
    }

    #[test]
    fn cancel_remembers_the_signal() {
        let cancel = Cancel::new();
        assert!(!cancel.is_cancelled() && cancel.signal().is_none());
        cancel.cancel(15);
        assert!(cancel.is_cancelled());
        assert_eq!(cancel.signal(), Some(15));
    }
}
