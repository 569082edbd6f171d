//! A whole run: ensemble, tables, charts and manifest, written atomically.
//!
//! This is what `greatgame run` does once the command line has become plain options.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use crate::chart::ChartError;
use crate::ensemble::{self, EnsembleConfig, EnsembleError, EnsembleSummary};
use crate::model::Scenario;
use crate::output::{self, figures, Manifest, Replaced, ReplicateWriter, Staging};
use crate::scenario::LoadedScenario;

mod sharded;

pub use sharded::{merge_shards, run_shard, scenario_from_manifest, ShardOutcome};

/// Options of a run, already validated by the caller.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Overrides the scenario's `run.replicates`.
    pub replicates: Option<u64>,
    /// Overrides the scenario's `run.seed`.
    pub seed: Option<u64>,
    pub threads: Option<usize>,
    /// Output goes to `out_root/<scenario name>/`.
    pub out_root: PathBuf,
    pub per_replicate: bool,
    pub charts: bool,
    pub max_memory_bytes: u64,
    /// Recorded in the manifest so the run can be repeated.
    pub command_line: Vec<String>,
}

/// What a finished run produced.
#[derive(Debug)]
pub struct RunOutcome {
    pub dir: PathBuf,
    pub replicates: u64,
    pub seed: u64,
    pub replaced: Replaced,
    pub files: Vec<String>,
    pub summary: EnsembleSummary,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Ensemble(#[from] EnsembleError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Charts(#[from] ChartError),
    /// `--shard` cannot apply to this run.
    #[error(transparent)]
    Shard(#[from] crate::shard::ShardError),
    /// The shard folders given to a merge are not one complete set.
    #[error(transparent)]
    Merge(#[from] crate::shard::MergeError),
    #[error("an ensemble needs at least one replicate")]
    NoReplicates,
}

fn io_context(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> RunError {
    let context = context.into();
    move |source| RunError::Io { context, source }
}

/// What every run does before its ensemble: resolve replicates and seed, refuse an empty
/// or oversized ensemble and a destination that is not a folder, all before touching the
/// disk; then create the staging folder.
pub(crate) fn prepare(scenario: &Scenario, options: &RunOptions) -> Result<(EnsembleConfig, Staging), RunError> {
    let replicates = options.replicates.unwrap_or(scenario.replicates);
    if replicates == 0 {
        return Err(RunError::NoReplicates);
    }
    let config = EnsembleConfig {
        replicates,
        seed: options.seed.unwrap_or(scenario.seed),
        threads: options.threads,
        max_memory_bytes: options.max_memory_bytes,
    };
    let needed = ensemble::memory_needed(scenario, replicates);
    if needed > config.max_memory_bytes {
        return Err(EnsembleError::TooLarge {
            replicates,
            steps: scenario.horizon_quarters as usize,
            needed_mb: needed / 1_000_000,
            limit_mb: config.max_memory_bytes / 1_000_000,
        }
        .into());
    }
    let destination = options.out_root.join(&scenario.name);
    if destination.exists() && !destination.is_dir() {
        return Err(RunError::Io {
            context: format!(
                "{} exists and is not a folder; move it away or choose another --out",
                destination.display()
            ),
            source: std::io::Error::from(std::io::ErrorKind::AlreadyExists),
        });
    }
    let staging = Staging::create(&options.out_root, &scenario.name).map_err(io_context(format!(
        "creating a folder in {}",
        options.out_root.display()
    )))?;
    Ok((config, staging))
}

/// Runs the scenario's ensemble and writes its output folder.
pub fn run_scenario(
    loaded: &LoadedScenario,
    options: &RunOptions,
    progress: &(dyn Fn() + Sync),
    cancel: &AtomicBool,
) -> Result<RunOutcome, RunError> {
    let scenario = &loaded.scenario;
    let (config, staging) = prepare(scenario, options)?;
    let (replicates, seed) = (config.replicates, config.seed);
    match write_into(loaded, options, &config, &staging.dir, progress, cancel) {
        Ok((summary, files)) => {
            let manifest = Manifest::new(
                scenario,
                &loaded.resolved,
                &loaded.files,
                replicates,
                seed,
                options.command_line.clone(),
                files.clone(),
            );
            let manifest_path = staging.dir.join("manifest.json");
            if let Err(e) = manifest.write(&manifest_path) {
                staging.abandon();
                return Err(io_context("writing manifest.json")(e));
            }
            let dir = staging.destination.clone();
            let replaced = staging
                .commit(&manifest)
                .map_err(io_context(format!("moving the finished output into {}", dir.display())))?;
            Ok(RunOutcome {
                dir,
                replicates,
                seed,
                replaced,
                files,
                summary,
            })
        }
        Err(e) => {
            staging.abandon();
            Err(e)
        }
    }
}

fn write_into(
    loaded: &LoadedScenario,
    options: &RunOptions,
    config: &EnsembleConfig,
    dir: &Path,
    progress: &(dyn Fn() + Sync),
    cancel: &AtomicBool,
) -> Result<(EnsembleSummary, Vec<String>), RunError> {
    let scenario = &loaded.scenario;
    let summary = if options.per_replicate {
        let path = dir.join("replicates.csv");
        let mut writer = ReplicateWriter::create(&path, scenario).map_err(io_context("creating replicates.csv"))?;
        let summary = ensemble::run(scenario, config, progress, cancel, Some(&mut writer))?;
        writer.finish().map_err(io_context("writing replicates.csv"))?;
        summary
    } else {
        ensemble::run(scenario, config, progress, cancel, None)?
    };
    let files = write_results(scenario, &summary, dir, options.per_replicate, options.charts)?;
    Ok((summary, files))
}

/// Writes the tables and charts of `summary` into `dir` and returns the names of the
/// files a run's folder holds, in the manifest's order (`replicates.csv`, if
/// `per_replicate`, is written by the caller).
fn write_results(
    scenario: &crate::model::Scenario,
    summary: &EnsembleSummary,
    dir: &Path,
    per_replicate: bool,
    draw_charts: bool,
) -> Result<Vec<String>, RunError> {
    let mut files = vec!["summary.csv".to_string(), "decisions.csv".to_string()];
    if per_replicate {
        files.push("replicates.csv".to_string());
    }
    output::write_summary(&dir.join("summary.csv"), scenario, summary).map_err(io_context("writing summary.csv"))?;
    output::write_decisions(&dir.join("decisions.csv"), scenario, summary)
        .map_err(io_context("writing decisions.csv"))?;
    if draw_charts {
        let chart_dir = dir.join("charts");
        std::fs::create_dir_all(&chart_dir).map_err(io_context("creating charts/"))?;
        for path in figures::write_charts(scenario, summary, &chart_dir)? {
            let relative = path.strip_prefix(dir).unwrap_or(&path);
            files.push(relative.display().to_string());
        }
    }
    files.push("manifest.json".to_string());
    Ok(files)
}
