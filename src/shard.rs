//! Splitting a job across the processes of a cluster scheduler, and putting it back
//! together.
//!
//! A job is a sequence of *work items* that can be computed independently and merged
//! exactly; for an ensemble the items are its blocks of
//! [`BLOCK_REPLICATES`](crate::ensemble::BLOCK_REPLICATES) replicates. Shard `K` of `N`
//! (`K` from 0 to `N - 1`) takes the contiguous items `[K·W/N, (K+1)·W/N)` of the `W`
//! items, so the shards are disjoint, cover every item, and differ in size by at most
//! one item.
//!
//! A shard writes its *partial result* into the folder a run writes,
//! `DIR/<scenario name>/`: `shard.json` (a [`ShardManifest`]: what job this is a slice
//! of, which slice, and the manifest the whole run will carry), `part.bin` (the
//! statistics of its items, [`EnsemblePart`]) and, with `--per-replicate`, its slice of
//! `replicates.csv`. [`check_set`] decides whether a collection of shard folders is one
//! complete set; `greatgame merge` then merges their parts and writes exactly what a
//! single run would have written.
//!
//! The shard is chosen by `--shard K/N`, or else by the scheduler's environment
//! ([`Shard::from_env`]): a Slurm job array (`SLURM_ARRAY_TASK_ID`,
//! `SLURM_ARRAY_TASK_COUNT`, and `SLURM_ARRAY_TASK_MIN`/`_STEP` when present) or a
//! Kubernetes indexed Job (`JOB_COMPLETION_INDEX`, which Kubernetes sets, and
//! [`SHARD_COUNT_VAR`], which the Job spec must set to its `completions`: Kubernetes does
//! not expose the completion count to the pod).

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::ensemble::{self, EnsemblePart, StatisticsMethod, BLOCK_REPLICATES};
use crate::input;
use crate::output::RunManifest;

/// The environment variable that gives the shard count in a Kubernetes indexed Job.
pub const SHARD_COUNT_VAR: &str = "GREATGAME_SHARD_COUNT";

/// Name of a shard's manifest in its folder.
pub const SHARD_MANIFEST: &str = "shard.json";
/// Name of a shard's statistics in its folder.
pub const PART_FILE: &str = "part.bin";
/// The `format` field of every shard manifest.
pub const FORMAT: &str = "greatgame shard";
/// Version of the shard folder format; merges need every shard at this version (2: with
/// the files' checksums, and `part.bin` carrying the run's seed and scenario hash).
pub const FORMAT_VERSION: u32 = 2;
/// Largest `shard.json` read (it holds the resolved scenario).
pub const MAX_SHARD_MANIFEST_BYTES: u64 = 64 * 1024 * 1024;

/// One of `count` slices of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// From 0 to `count - 1`.
    pub index: u64,
    pub count: u64,
}

/// Where a shard's index and count came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShardSource {
    /// `--shard K/N`.
    CommandLine,
    /// A Slurm job array.
    Slurm,
    /// A Kubernetes indexed Job.
    Kubernetes,
}

impl fmt::Display for ShardSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ShardSource::CommandLine => "--shard",
            ShardSource::Slurm => "the Slurm job array",
            ShardSource::Kubernetes => "the Kubernetes indexed Job",
        })
    }
}

/// A shard that cannot be read from its text or environment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ShardError(pub String);

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// A shard, if `index < count`.
    pub fn new(index: u64, count: u64) -> Result<Shard, ShardError> {
        if count == 0 {
            return Err(ShardError("the shard count must be at least 1".to_string()));
        }
        if index >= count {
            return Err(ShardError(format!(
                "shard {index} of {count} does not exist: shards are numbered 0 to {}",
                count - 1
            )));
        }
        Ok(Shard { index, count })
    }

    /// Reads `K/N`.
    pub fn parse(text: &str) -> Result<Shard, ShardError> {
        let (k, n) = text
            .split_once('/')
            .ok_or_else(|| ShardError(format!("expected K/N (for example 0/4), got {text:?}")))?;
        let number = |s: &str, what: &str| {
            s.trim()
                .parse::<u64>()
                .map_err(|_| ShardError(format!("{what} in {text:?} is not a whole number")))
        };
        Shard::new(number(k, "the shard index")?, number(n, "the shard count")?)
    }

    /// The shard the scheduler's environment describes, if any: a Slurm job array, then
    /// a Kubernetes indexed Job.
    pub fn from_env() -> Result<Option<(Shard, ShardSource)>, ShardError> {
        Shard::from_vars(|name| std::env::var(name).ok())
    }

    /// Like [`Shard::from_env`], reading variables through `var`.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Option<(Shard, ShardSource)>, ShardError> {
        let number = |name: &str| -> Result<Option<u64>, ShardError> {
            match var(name) {
                None => Ok(None),
                Some(text) if text.trim().is_empty() => Ok(None),
                Some(text) => text
                    .trim()
                    .parse::<u64>()
                    .map(Some)
                    .map_err(|_| ShardError(format!("{name}={text:?} is not a whole number"))),
            }
        };
        if let Some(id) = number("SLURM_ARRAY_TASK_ID")? {
            let count = number("SLURM_ARRAY_TASK_COUNT")?.ok_or_else(|| {
                ShardError("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not".to_string())
            })?;
            let min = number("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let step = number("SLURM_ARRAY_TASK_STEP")?.unwrap_or(1).max(1);
            let offset = id.checked_sub(min).filter(|o| o % step == 0).ok_or_else(|| {
                ShardError(format!(
                    "SLURM_ARRAY_TASK_ID={id} is not in the array's range from {min} in steps of {step}"
                ))
            })?;
            let shard = Shard::new(offset / step, count).map_err(|e| {
                ShardError(format!(
                    "Slurm array task {id} (minimum {min}, step {step}, {count} tasks): {e}; \
                     submit the array as --array=0-{}",
                    count.saturating_sub(1)
                ))
            })?;
            return Ok(Some((shard, ShardSource::Slurm)));
        }
        if let Some(index) = number("JOB_COMPLETION_INDEX")? {
            let count = number(SHARD_COUNT_VAR)?.ok_or_else(|| {
                ShardError(format!(
                    "JOB_COMPLETION_INDEX is set but {SHARD_COUNT_VAR} is not: set it in the Job's pod \
                     template to the Job's spec.completions (Kubernetes does not pass the count to the pod)"
                ))
            })?;
            let shard = Shard::new(index, count)
                .map_err(|e| ShardError(format!("Kubernetes completion index {index} of {count}: {e}")))?;
            return Ok(Some((shard, ShardSource::Kubernetes)));
        }
        Ok(None)
    }

    /// This shard's items of `total` work items: a contiguous range; the shards of one
    /// count partition `0..total`.
    pub fn items(&self, total: u64) -> Range<u64> {
        let at = |k: u64| (u128::from(k) * u128::from(total) / u128::from(self.count)) as u64;
        at(self.index)..at(self.index + 1)
    }
}

/// The items of a job a shard covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkItems {
    /// What an item is: `"block"` for an ensemble.
    pub unit: String,
    /// Replicates in a full item.
    pub replicates_per_item: u64,
    /// Items in the whole job.
    pub total: u64,
    /// The shard's items, `first..end`.
    pub first: u64,
    pub end: u64,
}

/// `shard.json`: a self-describing slice of a job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShardManifest {
    /// Always [`FORMAT`].
    pub format: String,
    pub format_version: u32,
    pub greatgame_version: String,
    /// What was split: `"ensemble"` (sweeps and sensitivity designs will add kinds).
    pub kind: String,
    pub scenario_name: String,
    /// FNV-1a (64 bits, hexadecimal) of the resolved scenario as JSON.
    pub scenario_hash: String,
    pub seed: u64,
    pub replicates: u64,
    pub shard: Shard,
    /// Where the shard came from (informational; not compared on merge).
    pub shard_source: ShardSource,
    pub work: WorkItems,
    /// The replicates of this shard, `[first, end)`.
    pub replicate_range: [u64; 2],
    pub statistics: StatisticsMethod,
    /// Options of the run the merge will reproduce.
    pub per_replicate: bool,
    pub charts: bool,
    /// Files of this shard folder.
    pub files: Vec<String>,
    /// FNV-1a (64 bits, hexadecimal) of every file but this one: a merge checks each file
    /// it reads or copies.
    pub checksums: BTreeMap<String, String>,
    /// The manifest of the whole run, as `greatgame run` would write it (its
    /// `command_line` is this shard's, its `files` are filled in by the merge).
    pub run_manifest: RunManifest,
}

/// The hash recorded as `scenario_hash`: FNV-1a of the resolved scenario's JSON text.
pub fn scenario_hash(resolved: &serde_json::Value) -> String {
    format!("{:016x}", scenario_identity(resolved))
}

/// [`scenario_hash`] as a number: the identity `part.bin` carries.
pub fn scenario_identity(resolved: &serde_json::Value) -> u64 {
    let text = serde_json::to_string(resolved).unwrap_or_default();
    crate::hash::fnv1a(text.as_bytes())
}

/// The checksum of a whole file, as `shard.json` records it.
pub fn file_checksum(path: &Path) -> std::io::Result<String> {
    let mut reader = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(path)?);
    let mut hash = crate::hash::Fnv1a::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
    }
    Ok(format!("{:016x}", hash.finish()))
}

/// The blocks of an ensemble of `replicates` that `shard` covers, or why it cannot.
pub fn ensemble_blocks(shard: Shard, replicates: u64) -> Result<Range<u64>, ShardError> {
    let total = ensemble::n_blocks(replicates);
    if shard.count > total {
        return Err(ShardError(format!(
            "{replicates} replicates make {total} blocks of {BLOCK_REPLICATES}, so they split into at most {total} \
             shards, not {}",
            shard.count
        )));
    }
    Ok(shard.items(total))
}

/// Why shard folders cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{}: {message}", folder.display())]
    Unreadable { folder: PathBuf, message: String },
    #[error("shards of different runs: {0}")]
    Mismatch(String),
    #[error("shard {shard} is given twice: {} and {}", first.display(), second.display())]
    Duplicate {
        shard: Shard,
        first: PathBuf,
        second: PathBuf,
    },
    #[error("incomplete set: {} of {count} shards missing: {}", missing.len(), list(missing))]
    Missing { missing: Vec<u64>, count: u64 },
    #[error("no shard folders given")]
    Empty,
}

fn list(indices: &[u64]) -> String {
    let shown: Vec<String> = indices.iter().take(20).map(u64::to_string).collect();
    let more = if indices.len() > 20 {
        format!(" and {} more", indices.len() - 20)
    } else {
        String::new()
    };
    format!("shard {}{more}", shown.join(", "))
}

/// Reads `folder/shard.json`.
pub fn read_manifest(folder: &Path) -> Result<ShardManifest, MergeError> {
    let unreadable = |message: String| MergeError::Unreadable {
        folder: folder.to_path_buf(),
        message,
    };
    let path = folder.join(SHARD_MANIFEST);
    if !path.exists() {
        return Err(if folder.join("summary.csv").is_file() {
            unreadable("holds a finished run, not a shard (no shard.json)".to_string())
        } else {
            unreadable(format!("not a shard folder: it has no {SHARD_MANIFEST}"))
        });
    }
    let text = input::read_text(&path, MAX_SHARD_MANIFEST_BYTES, "shard manifest")
        .map_err(|e| unreadable(format!("not a shard folder: {e}")))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| unreadable(format!("{SHARD_MANIFEST} is not JSON: {e}")))?;
    if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
        return Err(unreadable(format!(
            "{SHARD_MANIFEST} is not a greatgame shard manifest"
        )));
    }
    let version = value.get("format_version").and_then(|v| v.as_u64());
    if version != Some(u64::from(FORMAT_VERSION)) {
        return Err(unreadable(format!(
            "shard format version {} (this greatgame reads version {FORMAT_VERSION})",
            version.map_or_else(|| "unknown".to_string(), |v| v.to_string())
        )));
    }
    serde_json::from_value(value).map_err(|e| unreadable(format!("{SHARD_MANIFEST}: {e}")))
}

/// Reads `folder/part.bin`, which must hold `sizes` (series and decision sums, from the
/// scenario) and match `checksum` (from `shard.json`): the whole file is checked before
/// anything is read from it.
pub fn read_part(folder: &Path, sizes: (usize, usize), checksum: Option<&String>) -> Result<EnsemblePart, MergeError> {
    let unreadable = |message: String| MergeError::Unreadable {
        folder: folder.to_path_buf(),
        message,
    };
    let path = folder.join(PART_FILE);
    // A series takes at most a few KiB (streaming accumulators) or 8 bytes a replicate
    // of at most 1,000 (exact); a decision sum at most a few hundred bytes.
    let bound = (sizes.0 as u64)
        .saturating_mul(8 * 1024)
        .saturating_add((sizes.1 as u64).saturating_mul(1024))
        .saturating_add(1 << 20);
    let open = || {
        input::open(&path, bound, "part")
            .map(|f| std::io::BufReader::with_capacity(1 << 20, f))
            .map_err(|e| unreadable(format!("cannot read {PART_FILE}: {}", e.message)))
    };
    let whole = verify_checksum(open()?).map_err(|message| unreadable(format!("{PART_FILE}: {message}")))?;
    match checksum {
        Some(recorded) if *recorded == format!("{whole:016x}") => {}
        Some(_) => {
            return Err(unreadable(format!(
                "{PART_FILE} does not match the checksum {SHARD_MANIFEST} records: the file was changed or replaced"
            )))
        }
        None => {
            return Err(unreadable(format!(
                "{SHARD_MANIFEST} records no checksum of {PART_FILE}"
            )))
        }
    }
    EnsemblePart::read_from(&mut open()?, sizes).map_err(|e| unreadable(format!("{PART_FILE}: {e}")))
}

/// Checks that the last 8 bytes of a part are the FNV-1a hash of the bytes before them;
/// returns the hash of the whole file.
fn verify_checksum(mut reader: impl Read) -> Result<u64, String> {
    let mut hash = crate::hash::Fnv1a::new();
    let mut whole = crate::hash::Fnv1a::new();
    let mut tail: Vec<u8> = Vec::with_capacity(8);
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = reader.read(&mut buf).map_err(|e| match input::too_large(&e) {
            Some(limit) => format!("{limit}: more than a part of this run holds"),
            None => e.to_string(),
        })?;
        if n == 0 {
            break;
        }
        whole.update(&buf[..n]);
        // Everything but the last 8 bytes seen so far goes into the hash.
        tail.extend_from_slice(&buf[..n]);
        if tail.len() > 8 {
            let cut = tail.len() - 8;
            hash.update(&tail[..cut]);
            tail.drain(..cut);
        }
    }
    let stored = <[u8; 8]>::try_from(tail.as_slice()).map_err(|_| "file too short".to_string())?;
    if u64::from_le_bytes(stored) == hash.finish() {
        Ok(whole.finish())
    } else {
        Err("checksum mismatch: the file was changed or damaged".to_string())
    }
}

/// Sorts a set of shard folders by shard index and checks that it holds every shard of
/// its count exactly once (runs' shards and designs' shards alike).
pub fn check_complete<M>(shards: &mut [(PathBuf, M)], shard_of: impl Fn(&M) -> Shard) -> Result<(), MergeError> {
    shards.sort_by_key(|(_, m)| shard_of(m).index);
    for pair in shards.windows(2) {
        let (a, b) = (shard_of(&pair[0].1), shard_of(&pair[1].1));
        if a.index == b.index {
            return Err(MergeError::Duplicate {
                shard: a,
                first: pair[0].0.clone(),
                second: pair[1].0.clone(),
            });
        }
    }
    let Some(count) = shards.first().map(|(_, m)| shard_of(m).count) else {
        return Ok(());
    };
    let present: Vec<u64> = shards.iter().map(|(_, m)| shard_of(m).index).collect();
    let missing: Vec<u64> = (0..count).filter(|k| present.binary_search(k).is_err()).collect();
    if !missing.is_empty() {
        return Err(MergeError::Missing { missing, count });
    }
    Ok(())
}

/// What checking a set of shards needs of one shard's manifest. Runs' and designs'
/// manifests differ in what makes two shards parts of one job and in how they count
/// their work (blocks of replicates, design points); the rest of the check is shared.
pub trait SetMember {
    /// What one item of work is, plural: `blocks`, `points`.
    const ITEMS: &'static str;
    fn greatgame_version(&self) -> &str;
    fn shard(&self) -> Shard;
    fn work(&self) -> &WorkItems;
    /// The ways this shard's job differs from `first`'s; empty when they are one job.
    fn differences(&self, first: &Self) -> Vec<String>;
    /// The items this shard must cover, or why no such shard can exist.
    fn expected_items(&self) -> Result<Range<u64>, String>;
    /// Items in the whole job.
    fn total_items(&self) -> u64;
}

impl SetMember for ShardManifest {
    const ITEMS: &'static str = "blocks";
    fn greatgame_version(&self) -> &str {
        &self.greatgame_version
    }
    fn shard(&self) -> Shard {
        self.shard
    }
    fn work(&self) -> &WorkItems {
        &self.work
    }
    fn differences(&self, first: &Self) -> Vec<String> {
        fn differ<T: PartialEq + std::fmt::Display>(what: &str, a: T, b: T) -> Option<String> {
            (a != b).then(|| format!("{what} {a} vs {b}"))
        }
        [
            differ("kind", &self.kind, &first.kind),
            differ("scenario", &self.scenario_name, &first.scenario_name),
            differ("scenario contents (hash)", &self.scenario_hash, &first.scenario_hash),
            differ("seed", self.seed, first.seed),
            differ("replicates", self.replicates, first.replicates),
            differ("shard count", self.shard.count, first.shard.count),
            differ("--per-replicate", self.per_replicate, first.per_replicate),
            differ("charts", self.charts, first.charts),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
    fn expected_items(&self) -> Result<Range<u64>, String> {
        ensemble_blocks(self.shard, self.replicates).map_err(|e| e.to_string())
    }
    fn total_items(&self) -> u64 {
        ensemble::n_blocks(self.replicates)
    }
}

/// Checks that `shards` (folder, manifest) are one complete set of one job, made by this
/// version of greatgame, each covering the work its index says, and returns them ordered
/// by shard index.
pub fn check_set<M: SetMember + Clone>(mut shards: Vec<(PathBuf, M)>) -> Result<Vec<(PathBuf, M)>, MergeError> {
    let Some((first_folder, first)) = shards.first().cloned() else {
        return Err(MergeError::Empty);
    };
    let this_version = env!("CARGO_PKG_VERSION");
    for (folder, m) in &shards {
        if m.greatgame_version() != this_version {
            return Err(MergeError::Mismatch(format!(
                "{} was made by greatgame {}, this is {this_version}; merge with the version that ran the shards",
                folder.display(),
                m.greatgame_version()
            )));
        }
        let differences = m.differences(&first);
        if !differences.is_empty() {
            return Err(MergeError::Mismatch(format!(
                "{} and {} differ in {}",
                folder.display(),
                first_folder.display(),
                differences.join(", ")
            )));
        }
        let unreadable = |message: String| MergeError::Unreadable {
            folder: folder.clone(),
            message,
        };
        let expected = m.expected_items().map_err(unreadable)?;
        let work = m.work();
        if (work.first..work.end) != expected || work.total != m.total_items() {
            return Err(unreadable(format!(
                "shard {} should cover {} {}..{} but its manifest says {}..{}",
                m.shard(),
                M::ITEMS,
                expected.start,
                expected.end,
                work.first,
                work.end
            )));
        }
    }
    check_complete(&mut shards, |m| m.shard())?;
    Ok(shards)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn parses_k_of_n() {
        assert_eq!(Shard::parse("0/4"), Ok(Shard { index: 0, count: 4 }));
        assert_eq!(Shard::parse(" 3 / 4 "), Ok(Shard { index: 3, count: 4 }));
        for bad in ["4/4", "1/0", "a/2", "3", "-1/2", "1/2/3"] {
            assert!(Shard::parse(bad).is_err(), "{bad} should be refused");
        }
        assert!(Shard::parse("4/4").unwrap_err().0.contains("numbered 0 to 3"));
    }

    #[test]
    fn shards_partition_the_items_contiguously_and_evenly() {
        for total in [1u64, 7, 32, 100, 1001] {
            for count in 1..=total.min(13) {
                let mut next = 0;
                for index in 0..count {
                    let items = Shard { index, count }.items(total);
                    assert_eq!(items.start, next);
                    let len = items.end - items.start;
                    assert!(len == total / count || len == total / count + 1);
                    next = items.end;
                }
                assert_eq!(next, total);
            }
        }
    }

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn reads_slurm_and_kubernetes_variables() {
        assert_eq!(Shard::from_vars(vars(&[])), Ok(None));
        let slurm = Shard::from_vars(vars(&[("SLURM_ARRAY_TASK_ID", "2"), ("SLURM_ARRAY_TASK_COUNT", "5")]));
        assert_eq!(slurm, Ok(Some((Shard { index: 2, count: 5 }, ShardSource::Slurm))));
        // --array=1-5: task ids 1..=5 are shards 0..=4.
        let from_one = Shard::from_vars(vars(&[
            ("SLURM_ARRAY_TASK_ID", "5"),
            ("SLURM_ARRAY_TASK_COUNT", "5"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
        ]));
        assert_eq!(from_one, Ok(Some((Shard { index: 4, count: 5 }, ShardSource::Slurm))));
        // --array=0-6:2: ids 0, 2, 4, 6.
        let stepped = Shard::from_vars(vars(&[
            ("SLURM_ARRAY_TASK_ID", "4"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_STEP", "2"),
        ]));
        assert_eq!(stepped, Ok(Some((Shard { index: 2, count: 4 }, ShardSource::Slurm))));
        assert!(Shard::from_vars(vars(&[("SLURM_ARRAY_TASK_ID", "2")])).is_err());
        assert!(Shard::from_vars(vars(&[("SLURM_ARRAY_TASK_ID", "9"), ("SLURM_ARRAY_TASK_COUNT", "5")])).is_err());

        let k8s = Shard::from_vars(vars(&[("JOB_COMPLETION_INDEX", "3"), (SHARD_COUNT_VAR, "4")]));
        assert_eq!(k8s, Ok(Some((Shard { index: 3, count: 4 }, ShardSource::Kubernetes))));
        let no_count = Shard::from_vars(vars(&[("JOB_COMPLETION_INDEX", "3")])).unwrap_err();
        assert!(no_count.0.contains(SHARD_COUNT_VAR), "{no_count}");
        assert!(Shard::from_vars(vars(&[("JOB_COMPLETION_INDEX", "x"), (SHARD_COUNT_VAR, "4")])).is_err());
        // Slurm wins when both are set.
        let both = Shard::from_vars(vars(&[
            ("SLURM_ARRAY_TASK_ID", "0"),
            ("SLURM_ARRAY_TASK_COUNT", "2"),
            ("JOB_COMPLETION_INDEX", "1"),
            (SHARD_COUNT_VAR, "2"),
        ]));
        assert_eq!(both.map(|s| s.map(|(_, source)| source)), Ok(Some(ShardSource::Slurm)));
    }

    #[test]
    fn ensemble_shards_are_limited_to_the_blocks() {
        assert_eq!(ensemble_blocks(Shard { index: 1, count: 2 }, 100), Ok(2..4));
        assert!(ensemble_blocks(Shard { index: 0, count: 5 }, 100).is_err());
    }
}
