//! `greatgame run`: a scenario's ensemble, written as tables, charts and a manifest.

use std::path::{Path, PathBuf};

use crate::ensemble::{self, EnsembleConfig, EnsembleError, EnsembleSummary};
use crate::job::staging::write_folder;
use crate::job::{Job, JobError, Settings, Written};
use crate::model::Scenario;
use crate::output::{self, figures, report, ReplicateWriter, RunManifest};
use crate::scenario::{self, LoadedScenario};

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The scenario file; `None`: the built-in baseline.
    pub scenario: Option<PathBuf>,
    /// Replicates and seed override the scenario's `[run]`; output goes to
    /// `out_root/<scenario name>/`.
    pub settings: Settings,
    /// Also write every replicate (`replicates.csv`).
    pub per_replicate: bool,
}

impl RunOptions {
    /// Reads and validates the scenario.
    pub fn load(&self) -> Result<LoadedScenario, JobError> {
        match &self.scenario {
            Some(path) => scenario::load(path),
            None => scenario::load_builtin_baseline(),
        }
        .map_err(JobError::scenario(""))
    }

    /// Where the run's folder goes.
    pub fn destination(&self, scenario: &Scenario) -> PathBuf {
        self.settings.out_root().join(&scenario.name)
    }
}

/// What a finished run produced.
#[derive(Debug)]
pub struct RunOutcome {
    pub written: Written,
    pub replicates: u64,
    pub seed: u64,
    pub summary: EnsembleSummary,
}

/// What every run does before its ensemble, before touching the disk: resolve replicates
/// and seed, and refuse an empty or oversized ensemble.
pub(crate) fn prepare(scenario: &Scenario, settings: &Settings) -> Result<EnsembleConfig, JobError> {
    let replicates = settings.replicates.unwrap_or(scenario.replicates);
    if replicates == 0 {
        return Err(JobError::Usage("an ensemble needs at least one replicate".to_string()));
    }
    let config = settings.ensemble(replicates, settings.seed.unwrap_or(scenario.seed));
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
    Ok(config)
}

/// Runs the scenario's ensemble and writes its output folder.
pub fn run(loaded: &LoadedScenario, options: &RunOptions, job: Job) -> Result<RunOutcome, JobError> {
    let scenario = &loaded.scenario;
    let config = prepare(scenario, &options.settings)?;
    job.progress.start(config.replicates, "replicates");
    let mut summary = None;
    let written = write_folder(&options.destination(scenario), |dir| {
        let result = if options.per_replicate {
            let path = dir.join("replicates.csv");
            let mut writer =
                ReplicateWriter::create(&path, scenario).map_err(JobError::io("creating replicates.csv"))?;
            let result = job.ensemble(scenario, &config, Some(&mut writer), String::new)?;
            writer.finish().map_err(JobError::io("writing replicates.csv"))?;
            result
        } else {
            job.ensemble(scenario, &config, None, String::new)?
        };
        let files = write_results(scenario, &result, dir, options.per_replicate, options.settings.charts)?;
        let manifest = RunManifest::new(
            scenario,
            loaded.resolved_json(),
            files_of(loaded),
            config.replicates,
            config.seed,
            &options.settings.command_line,
            files.clone(),
        );
        manifest
            .write(&dir.join("manifest.json"))
            .map_err(JobError::io("writing manifest.json"))?;
        summary = Some(result);
        Ok(files)
    })?;
    Ok(RunOutcome {
        written,
        replicates: config.replicates,
        seed: config.seed,
        summary: summary.expect("a written folder holds a summary"),
    })
}

/// The scenario files as the manifest lists them.
pub(crate) fn files_of(loaded: &LoadedScenario) -> Vec<String> {
    loaded.files.iter().map(|p| p.display().to_string()).collect()
}

/// Writes the tables and charts of `summary` into `dir` and returns the names of the
/// files a run's folder holds, in the manifest's order (`replicates.csv`, if
/// `per_replicate`, is written by the caller).
pub(crate) fn write_results(
    scenario: &Scenario,
    summary: &EnsembleSummary,
    dir: &Path,
    per_replicate: bool,
    draw_charts: bool,
) -> Result<Vec<String>, JobError> {
    let mut files = vec!["summary.csv".to_string(), "decisions.csv".to_string()];
    if per_replicate {
        files.push("replicates.csv".to_string());
    }
    output::write_summary(&dir.join("summary.csv"), scenario, summary).map_err(JobError::io("writing summary.csv"))?;
    output::write_decisions(&dir.join("decisions.csv"), scenario, summary)
        .map_err(JobError::io("writing decisions.csv"))?;
    if draw_charts {
        let chart_dir = dir.join("charts");
        std::fs::create_dir_all(&chart_dir).map_err(JobError::io("creating charts/"))?;
        for path in figures::write_charts(scenario, summary, &chart_dir)? {
            let relative = path.strip_prefix(dir).unwrap_or(&path);
            files.push(relative.display().to_string());
        }
    }
    report::write_run_report(dir, scenario, summary.replicates, &files)?;
    files.push("report.html".to_string());
    files.push("manifest.json".to_string());
    Ok(files)
}
