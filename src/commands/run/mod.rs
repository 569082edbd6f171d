//! `greatgame run`: a scenario's ensemble, written as tables, charts and a manifest; with
//! `--shard K/N`, one shard of it ([`run_shard`]); and `greatgame merge`, which completes
//! a run from its shards ([`merge`]). See [`crate::shard`] for the shard format.
//!
//! When the scenario names parameter sets (`[calibration] parameter_sets`, or
//! `--parameter-sets FILE`), the ensemble runs over them: replicate `i` runs set `i mod K`
//! ([`crate::analysis::sets`]), the bands hold parameter and decision uncertainty, and
//! `variance.csv` says how much of each outcome's variance is between the sets.

use std::path::PathBuf;

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::ops::Range;
use std::path::Path;

mod report;
use crate::analysis::parameters::Base;
use crate::analysis::sets::{ensemble_scenarios, named_file, read_sets, ParameterSets};
use crate::ensemble::{self, EnsembleConfig, EnsemblePart, EnsembleSummary, BLOCK_REPLICATES};
use crate::input;
use crate::job::{Job, JobError, Settings, Written};
use crate::manifest::{write_json, SetsRecord};
use crate::model::Scenario;
use crate::output::{self, ReplicateWriter, RunManifest};
use crate::scenario::{self, LoadedScenario};
use crate::shard::{self, MergeError, Shard, ShardManifest, ShardSource, WorkItems, PART_FILE, SHARD_MANIFEST};

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
    /// Which parameter sets the replicates run over (default: the scenario's, if any).
    pub parameter_sets: ParameterSets,
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

    /// The ensemble to run: its configuration, one scenario per parameter set (the
    /// scenario alone without sets), how the manifest records the sets, and notes for the
    /// user. The built-in baseline runs without the sets its file names when they are not
    /// beside it (in `scenarios/`), and says so.
    fn ensemble(&self, loaded: &LoadedScenario) -> Result<Prepared, JobError> {
        let mut notes = Vec::new();
        let none_named = loaded.resolved.calibration.parameter_sets.is_empty();
        let sets = match &self.parameter_sets {
            ParameterSets::None => None,
            ParameterSets::Scenario if none_named => None,
            which => {
                let base = match &self.scenario {
                    Some(path) => Base::read(path)?,
                    None => Base::builtin()?,
                };
                match named_file(which, &base) {
                    Some(file) if self.scenario.is_none() && *which == ParameterSets::Scenario && !file.is_file() => {
                        notes.push(format!(
                            "the built-in baseline names parameter sets in {}, which is not here: every replicate ran the file's values",
                            file.display()
                        ));
                        None
                    }
                    _ => read_sets(which, &base, None)?.map(|sets| (base, sets)),
                }
            }
        };
        let replicates = self.settings.replicates_or(loaded.scenario.replicates)?;
        let mut sets = sets;
        if let Some((_, sets)) = &mut sets {
            notes.extend(sets.fit_to(replicates));
        }
        let scenarios = match &sets {
            Some((base, sets)) => ensemble_scenarios(Some(sets), base, &[], replicates)?,
            None => vec![loaded.scenario.clone()],
        };
        let sets = sets.map(|(_, sets)| sets);
        notes.extend(sets.as_ref().and_then(|s| s.kept_note(&loaded.scenario.name)));
        let config = self.settings.run_config_sets(&loaded.scenario, scenarios.len())?;
        Ok(Prepared {
            config,
            scenarios,
            record: sets.map(|s| s.record()),
            notes,
        })
    }
}

/// An ensemble ready to run.
struct Prepared {
    config: EnsembleConfig,
    /// One per parameter set.
    scenarios: Vec<Scenario>,
    record: Option<SetsRecord>,
    notes: Vec<String>,
}

/// What identifies a run's ensemble in `part.bin`: its resolved scenario and, when it
/// runs over parameter sets, the sets.
fn run_identity(resolved: &serde_json::Value, sets: Option<&SetsRecord>) -> u64 {
    let scenario = shard::scenario_identity(resolved);
    match sets {
        None => scenario,
        Some(sets) => {
            let mut hash = crate::hash::Fnv1a::new();
            hash.update(&scenario.to_le_bytes());
            hash.update(serde_json::to_string(sets).unwrap_or_default().as_bytes());
            hash.finish()
        }
    }
}

/// What a finished run produced.
#[derive(Debug)]
pub struct RunOutcome {
    pub written: Written,
    pub replicates: u64,
    pub seed: u64,
    pub summary: EnsembleSummary,
    /// Things the user should know (a scenario keeping its own value of a set's key).
    pub notes: Vec<String>,
}

/// Runs the scenario's ensemble and writes its output folder.
pub fn run(loaded: &LoadedScenario, options: &RunOptions, job: Job) -> Result<RunOutcome, JobError> {
    let scenario = &loaded.scenario;
    let prepared = options.ensemble(loaded)?;
    let config = &prepared.config;
    let sets = &prepared.scenarios;
    job.progress.start(config.replicates, "replicates");
    let mut summary = None;
    let written = job.write_folder(&options.destination(scenario), |dir| {
        let result = if options.per_replicate {
            let path = dir.join("replicates.csv");
            let mut writer =
                ReplicateWriter::create(&path, scenario).map_err(JobError::io("creating replicates.csv"))?;
            let result = job.ensemble_sets(sets, config, Some(&mut writer), String::new)?;
            writer.finish().map_err(JobError::io("writing replicates.csv"))?;
            result
        } else {
            job.ensemble_sets(sets, config, None, String::new)?
        };
        let files = write_run_folder(
            scenario,
            &result,
            dir,
            options.per_replicate,
            options.settings.charts,
            &job,
        )?;
        let mut manifest = RunManifest::new(
            scenario,
            loaded.resolved_json(),
            loaded.file_list(),
            config.replicates,
            config.seed,
            &options.settings.command_line,
            files.clone(),
        );
        manifest.header = manifest.header.with_sets(prepared.record.clone());
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
        notes: prepared.notes,
    })
}

/// Writes a run's tables, charts and `report.html` into `dir` and returns the files the
/// manifest lists (`manifest.json` last, written by the caller).
fn write_run_folder(
    scenario: &Scenario,
    summary: &EnsembleSummary,
    dir: &Path,
    per_replicate: bool,
    charts: bool,
    job: &Job,
) -> Result<Vec<String>, JobError> {
    let mut files = output::write_results(scenario, summary, dir, per_replicate, charts, &|| job.stopped())
        .map_err(|e| job.output_error(e))?;
    report::write_run_report(dir, scenario, summary, &files)?;
    files.insert(files.len().saturating_sub(1), "report.html".to_string());
    Ok(files)
}

/// What a finished shard run produced.
#[derive(Debug)]
pub struct ShardOutcome {
    pub written: Written,
    pub shard: Shard,
    pub blocks: Range<u64>,
    pub replicate_range: Range<u64>,
    pub replicates: u64,
    pub seed: u64,
}

/// Runs shard `shard` of the scenario's ensemble and writes its partial result into
/// `out_root/<scenario name>/`: `shard.json`, `part.bin` and, with `per_replicate`,
/// its replicates' rows of `replicates.csv`. Charts are drawn by the merge.
pub fn run_shard(
    loaded: &LoadedScenario,
    options: &RunOptions,
    shard: Shard,
    source: ShardSource,
    job: Job,
) -> Result<ShardOutcome, JobError> {
    let scenario = &loaded.scenario;
    let prepared = options.ensemble(loaded)?;
    let config = prepared.config.clone();
    let (replicates, seed) = (config.replicates, config.seed);
    let blocks = shard::ensemble_blocks(shard, replicates)
        .map_err(|e| JobError::Usage(format!("{e} (the shard came from {source})")))?;
    let first = ensemble::block_replicates(blocks.start, replicates).start;
    let end = ensemble::block_replicates(blocks.end.saturating_sub(1), replicates).end;
    job.progress.start(end - first, "replicates");
    let tick = || job.progress.tick();
    let mut replicate_range = 0..0;
    let written = job.write_folder(&options.destination(scenario), |dir| {
        let mut files = vec![SHARD_MANIFEST.to_string(), PART_FILE.to_string()];
        let run = |observer: Option<&mut dyn ensemble::ReplicateObserver>| {
            ensemble::run_part_sets(
                &prepared.scenarios,
                &config,
                blocks.clone(),
                &tick,
                job.cancel.flag(),
                observer,
            )
            .map_err(|e| job.failed(e, String::new()))
        };
        let part = if options.per_replicate {
            let path = dir.join("replicates.csv");
            let mut writer =
                ReplicateWriter::create(&path, scenario).map_err(JobError::io("creating replicates.csv"))?;
            let part = run(Some(&mut writer))?;
            writer.finish().map_err(JobError::io("writing replicates.csv"))?;
            files.push("replicates.csv".to_string());
            part
        } else {
            run(None)?
        };
        let identity = run_identity(&loaded.resolved_json(), prepared.record.as_ref());
        let part = part.with_identity(identity);
        let part_path = dir.join(PART_FILE);
        let write_part = || -> std::io::Result<()> {
            let mut writer = BufWriter::new(fs::File::create(&part_path)?);
            part.write_to(&mut writer)?;
            writer.into_inner().map_err(|e| e.into_error())?.sync_all()
        };
        write_part().map_err(JobError::io(format!("writing {PART_FILE}")))?;

        let mut run_manifest = RunManifest::new(
            scenario,
            loaded.resolved_json(),
            loaded.file_list(),
            replicates,
            seed,
            &options.settings.command_line,
            Vec::new(),
        );
        run_manifest.header = run_manifest.header.with_sets(prepared.record.clone());
        replicate_range = part.replicate_range();
        let mut checksums = BTreeMap::new();
        for file in files.iter().filter(|f| *f != SHARD_MANIFEST) {
            let sum = shard::file_checksum(&dir.join(file)).map_err(JobError::io(format!("reading back {file}")))?;
            checksums.insert(file.clone(), sum);
        }
        let manifest = ShardManifest {
            format: shard::FORMAT.to_string(),
            format_version: shard::FORMAT_VERSION,
            greatgame_version: env!("CARGO_PKG_VERSION").to_string(),
            kind: "ensemble".to_string(),
            scenario_name: scenario.name.clone(),
            scenario_hash: shard::scenario_hash(&run_manifest.resolved_scenario),
            seed,
            replicates,
            shard,
            shard_source: source,
            work: WorkItems {
                unit: "block".to_string(),
                replicates_per_item: BLOCK_REPLICATES,
                total: ensemble::n_blocks(replicates),
                first: blocks.start,
                end: blocks.end,
            },
            replicate_range: [replicate_range.start, replicate_range.end],
            statistics: part.method(),
            per_replicate: options.per_replicate,
            charts: options.settings.charts,
            files: files.clone(),
            checksums,
            run_manifest,
        };
        write_json(&dir.join(SHARD_MANIFEST), &manifest).map_err(JobError::io(format!("writing {SHARD_MANIFEST}")))?;
        Ok(files)
    })?;
    Ok(ShardOutcome {
        written,
        shard,
        blocks,
        replicate_range,
        replicates,
        seed,
    })
}

/// What to merge.
#[derive(Debug, Clone)]
pub struct MergeOptions {
    /// The shard folders (one complete set, in any order).
    pub folders: Vec<PathBuf>,
    /// The merged result goes to `out_root/<scenario name>/`; threads compute the
    /// statistics; the command line is recorded.
    pub settings: Settings,
}

/// Merges the shard folders and writes `out_root/<scenario name>/` exactly as a single
/// run of the whole ensemble would have, except for the manifest's `command_line`, which
/// is this merge's.
pub fn merge(options: &MergeOptions, job: Job) -> Result<RunOutcome, JobError> {
    let mut shards = Vec::with_capacity(options.folders.len());
    for folder in &options.folders {
        shards.push((folder.clone(), shard::read_manifest(folder)?));
    }
    let shards = shard::check_set(shards)?;
    let first = &shards[0].1;
    let unreadable = |folder: &Path, message: String| MergeError::Unreadable {
        folder: folder.to_path_buf(),
        message,
    };
    let recorded = &first.run_manifest;
    let loaded: LoadedScenario = scenario::from_resolved(
        &recorded.resolved_scenario,
        &recorded.scenario_name,
        Path::new(SHARD_MANIFEST),
    )
    .map_err(|e| {
        let problems: Vec<String> = e.problems.iter().map(|p| p.message.clone()).collect();
        unreadable(&shards[0].0, format!("{SHARD_MANIFEST}: {}", problems.join("; ")))
    })?;
    let scenario = &loaded.scenario;
    let destination = options.settings.out_root().join(&scenario.name);
    crate::job::staging::check_destination(&destination)?;
    for (folder, m) in &shards {
        if shard::scenario_hash(&m.run_manifest.resolved_scenario) != m.scenario_hash {
            return Err(unreadable(
                folder,
                format!("{SHARD_MANIFEST}: the scenario does not match its hash"),
            )
            .into());
        }
        if m.run_manifest.header.parameter_set_values != recorded.header.parameter_set_values {
            return Err(MergeError::Mismatch(format!(
                "{} ran other parameter sets than {}",
                folder.display(),
                shards[0].0.display()
            ))
            .into());
        }
    }

    // The run's identity comes from the parts: each part.bin carries its seed, replicate
    // count and scenario hash under its own checksum, and must agree with shard.json.
    let sizes = (
        scenario.horizon_quarters as usize * crate::metrics::MetricLayout::new(scenario).n_cells(),
        scenario.horizon_quarters as usize
            * scenario.n_hosts()
            * scenario.n_patrons()
            * crate::model::DecisionTerms::NAMES.len(),
    );
    let identity = run_identity(&loaded.resolved_json(), recorded.header.parameter_set_values.as_ref());
    let mut parts = Vec::with_capacity(shards.len());
    for (folder, m) in &shards {
        job.check()?;
        let part = shard::read_part(folder, sizes, m.checksums.get(PART_FILE))?;
        if part.blocks() != (m.work.first..m.work.end) || part.replicates() != m.replicates {
            return Err(unreadable(
                folder,
                format!("{PART_FILE} does not hold the blocks {SHARD_MANIFEST} names"),
            )
            .into());
        }
        if part.seed() != m.seed || part.identity() != identity {
            return Err(unreadable(
                folder,
                format!(
                    "{PART_FILE} was computed with seed {} for scenario {:016x}, but {SHARD_MANIFEST} says seed {} and scenario {}",
                    part.seed(),
                    part.identity(),
                    m.seed,
                    m.scenario_hash
                ),
            )
            .into());
        }
        parts.push(part);
    }
    job.check()?;
    let merged = EnsemblePart::merge(parts).map_err(|e| MergeError::Mismatch(e.to_string()))?;
    let (seed, replicates) = (merged.seed(), merged.replicates());
    let summary = merged
        .finish(scenario, options.settings.threads)
        .map_err(|e| MergeError::Mismatch(e.to_string()))?;

    let written = job.write_folder(&destination, |dir| {
        if first.per_replicate {
            concatenate_replicates(&shards, &dir.join("replicates.csv"), job)?;
        }
        let files = write_run_folder(scenario, &summary, dir, first.per_replicate, first.charts, &job)?;
        let mut manifest = first.run_manifest.clone();
        manifest.header.command_line = options.settings.command_line.clone();
        manifest.header.seed = seed;
        manifest.header.replicates = replicates;
        manifest.files = files.clone();
        manifest
            .write(&dir.join("manifest.json"))
            .map_err(JobError::io("writing manifest.json"))?;
        Ok(files)
    })?;
    Ok(RunOutcome {
        written,
        replicates,
        seed,
        summary,
        notes: Vec::new(),
    })
}

/// A reader that hashes what passes through it.
struct Hashing<R> {
    inner: R,
    hash: crate::hash::Fnv1a,
}

impl<R: Read> Hashing<R> {
    fn new(inner: R) -> Hashing<R> {
        Hashing {
            inner,
            hash: crate::hash::Fnv1a::new(),
        }
    }

    fn finish(self) -> u64 {
        self.hash.finish()
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

/// Writes the shards' `replicates.csv` one after the other, with the header once, each
/// checked against the checksum its `shard.json` records.
fn concatenate_replicates(shards: &[(PathBuf, ShardManifest)], path: &Path, job: Job) -> Result<(), JobError> {
    let mut out = BufWriter::new(fs::File::create(path).map_err(JobError::io("creating replicates.csv"))?);
    for (i, (folder, m)) in shards.iter().enumerate() {
        let unreadable = |message: String| MergeError::Unreadable {
            folder: folder.clone(),
            message,
        };
        let source = folder.join("replicates.csv");
        let recorded = m
            .checksums
            .get("replicates.csv")
            .ok_or_else(|| unreadable(format!("{SHARD_MANIFEST} records no checksum of replicates.csv")))?;
        // Bounded only by being a regular file: the checksum says whether it is whole.
        let file = input::open(&source, u64::MAX, "replicates")
            .map_err(|e| unreadable(format!("cannot read replicates.csv: {}", e.message)))?;
        let mut reader = BufReader::with_capacity(1 << 20, Hashing::new(file));
        let mut header = Vec::new();
        reader
            .read_until(b'\n', &mut header)
            .map_err(JobError::io(format!("reading {}", source.display())))?;
        if i == 0 {
            out.write_all(&header).map_err(JobError::io("writing replicates.csv"))?;
        }
        // In chunks, so that an interruption is noticed while large files are copied.
        let mut chunk = vec![0u8; 1 << 20];
        loop {
            job.check()?;
            let n = reader
                .read(&mut chunk)
                .map_err(JobError::io(format!("reading {}", source.display())))?;
            if n == 0 {
                break;
            }
            out.write_all(&chunk[..n])
                .map_err(JobError::io("writing replicates.csv"))?;
        }
        if format!("{:016x}", reader.into_inner().finish()) != *recorded {
            return Err(unreadable(format!(
                "replicates.csv does not match the checksum {SHARD_MANIFEST} records: the file was changed, cut short or damaged"
            ))
            .into());
        }
    }
    out.flush().map_err(JobError::io("writing replicates.csv"))
}
