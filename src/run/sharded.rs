//! Runs of one shard of an ensemble, and the merge of a complete set of shards into the
//! output a single run writes. See [`crate::shard`] for the format.

use std::fs;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use super::{io_context, write_results, RunError, RunOptions, RunOutcome};
use crate::ensemble::{self, EnsemblePart, BLOCK_REPLICATES};
use crate::model::Scenario;
use crate::output::{Manifest, Replaced, ReplicateWriter, Staging};
use crate::scenario::file::ScenarioFile;
use crate::scenario::{validate, LoadedScenario};
use crate::shard::{self, MergeError, Shard, ShardManifest, ShardSource, WorkItems, PART_FILE, SHARD_MANIFEST};

/// What a finished shard run produced.
#[derive(Debug)]
pub struct ShardOutcome {
    pub dir: PathBuf,
    pub shard: Shard,
    pub blocks: Range<u64>,
    pub replicate_range: Range<u64>,
    pub replicates: u64,
    pub seed: u64,
    pub replaced: Replaced,
    pub files: Vec<String>,
}

/// Runs shard `shard` of the scenario's ensemble and writes its partial result into
/// `out_root/<scenario name>/`: `shard.json`, `part.bin` and, with `per_replicate`,
/// its replicates' rows of `replicates.csv`. Charts are drawn by the merge.
pub fn run_shard(
    loaded: &LoadedScenario,
    options: &RunOptions,
    shard: Shard,
    source: ShardSource,
    progress: &(dyn Fn() + Sync),
    cancel: &AtomicBool,
) -> Result<ShardOutcome, RunError> {
    let scenario = &loaded.scenario;
    let (config, staging) = super::prepare(scenario, options)?;
    let (replicates, seed) = (config.replicates, config.seed);
    // An error here drops the staging folder, which removes it.
    let blocks = shard::ensemble_blocks(shard, replicates)?;

    let mut files = vec![SHARD_MANIFEST.to_string(), PART_FILE.to_string()];
    let part = if options.per_replicate {
        let path = staging.dir.join("replicates.csv");
        let mut writer = ReplicateWriter::create(&path, scenario).map_err(io_context("creating replicates.csv"))?;
        let part = ensemble::run_part(scenario, &config, blocks.clone(), progress, cancel, Some(&mut writer))?;
        writer.finish().map_err(io_context("writing replicates.csv"))?;
        files.push("replicates.csv".to_string());
        part
    } else {
        ensemble::run_part(scenario, &config, blocks.clone(), progress, cancel, None)?
    };
    let part_path = staging.dir.join(PART_FILE);
    let write_part = || -> std::io::Result<()> {
        let mut writer = BufWriter::new(fs::File::create(&part_path)?);
        part.write_to(&mut writer)?;
        writer.into_inner().map_err(|e| e.into_error())?.sync_all()
    };
    write_part().map_err(io_context(format!("writing {PART_FILE}")))?;

    let run_manifest = Manifest::new(
        scenario,
        &loaded.resolved,
        &loaded.files,
        replicates,
        seed,
        options.command_line.clone(),
        Vec::new(),
    );
    let replicate_range = part.replicate_range();
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
        charts: options.charts,
        files: files.clone(),
        run_manifest: run_manifest.clone(),
    };
    let write_manifest = || -> std::io::Result<()> {
        let mut writer = BufWriter::new(fs::File::create(staging.dir.join(SHARD_MANIFEST))?);
        serde_json::to_writer_pretty(&mut writer, &manifest).map_err(std::io::Error::other)?;
        writer.write_all(b"\n")?;
        writer.flush()
    };
    write_manifest().map_err(io_context(format!("writing {SHARD_MANIFEST}")))?;
    let dir = staging.destination.clone();
    let replaced = staging
        .commit(&run_manifest)
        .map_err(io_context(format!("moving the finished shard into {}", dir.display())))?;
    Ok(ShardOutcome {
        dir,
        shard,
        blocks,
        replicate_range,
        replicates,
        seed,
        replaced,
        files,
    })
}

/// Rebuilds the scenario a run manifest records (its resolved scenario), and checks
/// that it records it again the same way.
pub fn scenario_from_manifest(manifest: &Manifest) -> Result<(Scenario, ScenarioFile), String> {
    let file: ScenarioFile = serde_json::from_value(manifest.resolved_scenario.clone())
        .map_err(|e| format!("the recorded scenario cannot be read: {e}"))?;
    let scenario = validate::validate(&file, &manifest.scenario_name).map_err(|problems| {
        let list: Vec<String> = problems
            .0
            .iter()
            .map(|(path, message)| format!("{path} {message}"))
            .collect();
        format!("the recorded scenario is not valid: {}", list.join("; "))
    })?;
    let again = Manifest::new(
        &scenario,
        &file,
        &[],
        manifest.replicates,
        manifest.seed,
        Vec::new(),
        Vec::new(),
    );
    if again.resolved_scenario != manifest.resolved_scenario {
        return Err("the recorded scenario does not read back the same".to_string());
    }
    Ok((scenario, file))
}

/// Merges the shard folders `folders` (one complete set, in any order) and writes
/// `out_root/<scenario name>/` exactly as a single run of the whole ensemble would have,
/// except for the manifest's `command_line`, which is this merge's.
pub fn merge_shards(
    folders: &[PathBuf],
    out_root: &Path,
    threads: Option<usize>,
    command_line: Vec<String>,
) -> Result<RunOutcome, RunError> {
    let mut shards = Vec::with_capacity(folders.len());
    for folder in folders {
        shards.push((folder.clone(), shard::read_manifest(folder)?));
    }
    let shards = shard::check_set(shards)?;
    let first = &shards[0].1;
    let unreadable = |folder: &Path, message: String| MergeError::Unreadable {
        folder: folder.to_path_buf(),
        message,
    };
    let (scenario, _) = scenario_from_manifest(&first.run_manifest)
        .map_err(|message| unreadable(&shards[0].0, format!("{SHARD_MANIFEST}: {message}")))?;
    for (folder, m) in &shards {
        if shard::scenario_hash(&m.run_manifest.resolved_scenario) != m.scenario_hash {
            return Err(unreadable(
                folder,
                format!("{SHARD_MANIFEST}: the scenario does not match its hash"),
            )
            .into());
        }
    }

    let mut parts = Vec::with_capacity(shards.len());
    for (folder, m) in &shards {
        let part = shard::read_part(folder)?;
        if part.blocks() != (m.work.first..m.work.end) || part.replicates() != m.replicates {
            return Err(unreadable(
                folder,
                format!("{PART_FILE} does not hold the blocks {SHARD_MANIFEST} names"),
            )
            .into());
        }
        parts.push(part);
    }
    let merged = EnsemblePart::merge(parts).map_err(|e| MergeError::Mismatch(e.to_string()))?;
    let summary = merged
        .finish(&scenario, threads)
        .map_err(|e| MergeError::Mismatch(e.to_string()))?;

    let destination = out_root.join(&scenario.name);
    if destination.exists() && !destination.is_dir() {
        return Err(RunError::Io {
            context: format!(
                "{} exists and is not a folder; move it away or choose another --out",
                destination.display()
            ),
            source: std::io::Error::from(std::io::ErrorKind::AlreadyExists),
        });
    }
    let staging = Staging::create(out_root, &scenario.name)
        .map_err(io_context(format!("creating a folder in {}", out_root.display())))?;
    if first.per_replicate {
        concatenate_replicates(&shards, &staging.dir.join("replicates.csv"))?;
    }
    let files = write_results(&scenario, &summary, &staging.dir, first.per_replicate, first.charts)?;
    let mut manifest = first.run_manifest.clone();
    manifest.command_line = command_line;
    manifest.files = files.clone();
    manifest
        .write(&staging.dir.join("manifest.json"))
        .map_err(io_context("writing manifest.json"))?;
    let dir = staging.destination.clone();
    let replaced = staging
        .commit(&manifest)
        .map_err(io_context(format!("moving the merged output into {}", dir.display())))?;
    Ok(RunOutcome {
        dir,
        replicates: first.replicates,
        seed: first.seed,
        replaced,
        files,
        summary,
    })
}

/// Writes the shards' `replicates.csv` one after the other, with the header once.
fn concatenate_replicates(shards: &[(PathBuf, ShardManifest)], path: &Path) -> Result<(), RunError> {
    let mut out = BufWriter::new(fs::File::create(path).map_err(io_context("creating replicates.csv"))?);
    for (i, (folder, _)) in shards.iter().enumerate() {
        let source = folder.join("replicates.csv");
        let file = fs::File::open(&source).map_err(|e| MergeError::Unreadable {
            folder: folder.clone(),
            message: format!("cannot read replicates.csv: {e}"),
        })?;
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let mut header = Vec::new();
        reader
            .read_until(b'\n', &mut header)
            .map_err(io_context(format!("reading {}", source.display())))?;
        if i == 0 {
            out.write_all(&header).map_err(io_context("writing replicates.csv"))?;
        }
        std::io::copy(&mut reader, &mut out).map_err(io_context("writing replicates.csv"))?;
    }
    out.flush().map_err(io_context("writing replicates.csv"))
}
