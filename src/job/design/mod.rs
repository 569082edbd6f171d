//! Design-based commands (`sweep`, `sensitivity`, `levers`, `calibrate`) split over the
//! shards of a cluster job, and put back together: the one place that knows how.
//!
//! A design is a list of `n` *points* (sweep points, design points, perturbations, the
//! global stage's evaluations), each computed independently into a list of numbers. A
//! command describes its design once ([`DesignIdentity`]: the command, its inputs with
//! their checksums, seed, replicates, the number of points and a hash of everything else
//! that shapes the output) and asks [`Settings::design`] which points to compute:
//!
//! - **whole** (no shard): every point; [`Design::finish`] hands the results back and the
//!   command writes its output as always, or [`Design::stream`] hands each point over as it
//!   is computed, so a command can write its tables point by point;
//! - **shard `K/N`** (`--shard`, or a Slurm or Kubernetes array's variables): the
//!   contiguous points `[K·n/N, (K+1)·n/N)`; [`Design::finish`] (or [`Design::shard`],
//!   which writes each point as it is computed) writes the shard's partial result into the
//!   folder the command writes — `shard.json` (a [`DesignShardManifest`]) and `points.bin`
//!   (the points' numbers, every `f64` as its bits) — and the command stops there;
//! - **merge**: `greatgame merge` reads a complete set ([`DesignSet::read`]), runs the
//!   command again from the command line the shards recorded (with the merge's `--out`
//!   and threads), computes no point, and [`Design::finish`] hands back every point's
//!   numbers read from the shards ([`Design::stream`]: one point at a time, as they are
//!   read); the command then writes exactly what a single run writes. The inputs are read
//!   again and must have the checksums the shards recorded.
//!
//! [`Design::shard`] and [`Design::stream`] hold one point at a time: a design of any size
//! is written, read back and merged in the same memory.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Job, JobError, Settings, Written};
use crate::hash::Fnv1a;
use crate::input;
use crate::manifest::write_json;
use crate::shard::{self, MergeError, Shard, ShardSource, WorkItems, SHARD_MANIFEST};

mod points;

use points::{check_points, read_points, PointsWriter};

/// The points' numbers in a design shard's folder.
pub const POINTS_FILE: &str = "points.bin";

/// How a design-based command runs: every point, one shard's, or none (a merge).
#[derive(Debug, Clone, Default)]
pub enum ShardMode {
    #[default]
    Whole,
    /// Compute one shard's points and write its partial result.
    Shard(Shard, ShardSource),
    /// Compute nothing: take every point's numbers from a complete set of shards.
    Merge(Arc<DesignSet>),
}

impl ShardMode {
    /// The mode of a command given `--shard` (or not): `--shard`, else a scheduler's
    /// array variables, else the whole design.
    pub fn from_args(shard: Option<Shard>) -> Result<ShardMode, JobError> {
        let found = match shard {
            Some(shard) => Some((shard, ShardSource::CommandLine)),
            None => Shard::from_env()?,
        };
        Ok(found.map_or(ShardMode::Whole, |(shard, source)| ShardMode::Shard(shard, source)))
    }
}

/// An input file and its checksum (FNV-1a of its bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputFile {
    pub path: String,
    pub checksum: String,
}

/// What makes two shards slices of the same design, and a merge the same command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesignIdentity {
    /// `sweep`, `sensitivity`, `levers` or `calibrate`.
    pub command: String,
    /// Every file the command read (scenario files with their parents, design and
    /// observation files), as given, with checksums.
    pub inputs: Vec<InputFile>,
    pub seed: u64,
    pub replicates: u64,
    /// Points in the whole design.
    pub points: u64,
    /// Charts drawn by the merge.
    pub charts: bool,
    /// FNV-1a of the JSON of everything else that shapes the output (the points, the
    /// outcomes, the command's options), as the command describes it.
    pub design_hash: String,
}

impl DesignIdentity {
    /// The identity of `command`'s design of `points` points over `inputs`; `design` is
    /// hashed.
    pub fn new(
        command: &str,
        inputs: &[String],
        settings: &Settings,
        seed: u64,
        replicates: u64,
        points: usize,
        design: &impl Serialize,
    ) -> Result<DesignIdentity, JobError> {
        let mut files = Vec::with_capacity(inputs.len());
        for path in inputs {
            let checksum = shard::file_checksum(Path::new(path)).map_err(|e| {
                JobError::input(path, format!("cannot read the file again to record its checksum: {e}"))
            })?;
            files.push(InputFile {
                path: path.clone(),
                checksum,
            });
        }
        let mut hashing = HashingWriter(Fnv1a::new());
        serde_json::to_writer(&mut hashing, design)
            .map_err(io::Error::other)
            .map_err(JobError::io("describing the design"))?;
        Ok(DesignIdentity {
            command: command.to_string(),
            inputs: files,
            seed,
            replicates,
            points: points as u64,
            charts: settings.charts,
            design_hash: format!("{:016x}", hashing.0.finish()),
        })
    }

    /// How `self` differs from `other`, field by field.
    fn differences(&self, other: &DesignIdentity) -> Vec<String> {
        let mut out = Vec::new();
        let mut field = |what: &str, a: String, b: String| {
            if a != b {
                out.push(format!("{what} {a} vs {b}"));
            }
        };
        field("command", self.command.clone(), other.command.clone());
        field("seed", self.seed.to_string(), other.seed.to_string());
        field("replicates", self.replicates.to_string(), other.replicates.to_string());
        field("design points", self.points.to_string(), other.points.to_string());
        field("charts", self.charts.to_string(), other.charts.to_string());
        field("design (hash)", self.design_hash.clone(), other.design_hash.clone());
        let show = |files: &[InputFile]| {
            files
                .iter()
                .map(|f| format!("{} ({})", f.path, f.checksum))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if self.inputs != other.inputs {
            out.push(format!("inputs {} vs {}", show(&self.inputs), show(&other.inputs)));
        }
        out
    }
}

/// A writer that only hashes.
struct HashingWriter(Fnv1a);

impl Write for HashingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `shard.json` of a design shard.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DesignShardManifest {
    /// [`shard::FORMAT`].
    pub format: String,
    pub format_version: u32,
    pub greatgame_version: String,
    /// The command: `sweep`, `sensitivity`, `levers` or `calibrate` (never `ensemble`).
    pub kind: String,
    pub identity: DesignIdentity,
    pub shard: Shard,
    /// Where the shard came from (informational; not compared on merge).
    pub shard_source: ShardSource,
    /// The shard's points: unit `point`, `first..end` of `total`.
    pub work: WorkItems,
    /// The command line of this shard: the merge runs it again (with its own `--out`,
    /// threads and no shard), from the same working folder.
    pub command_line: Vec<String>,
    pub files: Vec<String>,
    /// FNV-1a of every file but this one.
    pub checksums: BTreeMap<String, String>,
}

impl shard::SetMember for DesignShardManifest {
    const ITEMS: &'static str = "points";
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
        let mut differences = self.identity.differences(&first.identity);
        if self.kind != first.kind {
            differences.insert(0, format!("kind {} vs {}", self.kind, first.kind));
        }
        if self.shard.count != first.shard.count {
            differences.push(format!("shard count {} vs {}", self.shard.count, first.shard.count));
        }
        differences
    }
    fn expected_items(&self) -> Result<Range<u64>, String> {
        let points = self.identity.points;
        if self.shard.count > points || self.shard.index >= self.shard.count {
            return Err(format!(
                "shard {} of a design of {points} points cannot exist",
                self.shard
            ));
        }
        Ok(self.shard.items(points))
    }
    fn total_items(&self) -> u64 {
        self.identity.points
    }
}

/// What one process does of a design: which points it computes and what becomes of them.
#[derive(Debug)]
pub struct Design {
    identity: DesignIdentity,
    mode: ShardMode,
    range: Range<usize>,
    /// How many points run side by side ([`Settings::points_side_by_side`]).
    side_by_side: usize,
    destination: PathBuf,
    command_line: Vec<String>,
}

/// What a point of a design gave: its numbers and, if the command has one to keep, a
/// note (why a lever's perturbation was skipped, say).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Point {
    pub values: Vec<f64>,
    pub note: Option<String>,
}

impl From<Vec<f64>> for Point {
    fn from(values: Vec<f64>) -> Point {
        Point { values, note: None }
    }
}

/// A design's points once computed (or read back).
#[derive(Debug)]
pub enum Finished {
    /// Every point's result, in point order: write the output.
    All(Vec<Point>),
    /// A shard's partial result was written: stop.
    Shard(Box<ShardWritten>),
}

/// A written design shard.
#[derive(Debug)]
pub struct ShardWritten {
    pub written: Written,
    pub shard: Shard,
    pub source: ShardSource,
    pub points: Range<usize>,
    pub total: usize,
}

impl ShardWritten {
    /// What the command prints for a shard.
    pub fn summary(&self, command: &str) -> String {
        format!(
            "{command}: shard {} (from {}): design points {} to {} of {}; merge all {} shards with `greatgame merge`\n",
            self.shard,
            self.source,
            self.points.start + 1,
            self.points.end,
            self.total,
            self.shard.count
        )
    }
}

impl Settings {
    /// This process's part of the design `identity` describes, whose output (or shard)
    /// goes to `destination`. A shard that cannot exist is a usage error; a merge whose
    /// shards were of another design (or whose inputs changed since) is refused.
    pub fn design(&self, identity: DesignIdentity, destination: &Path) -> Result<Design, JobError> {
        let n = identity.points as usize;
        let range = match &self.shard {
            ShardMode::Whole => 0..n,
            ShardMode::Shard(shard, source) => {
                if shard.count > identity.points {
                    return Err(JobError::Usage(format!(
                        "{} design points split into at most {} shards, not {} (the shard came from {source})",
                        n, n, shard.count
                    )));
                }
                let items = shard.items(identity.points);
                items.start as usize..items.end as usize
            }
            ShardMode::Merge(set) => {
                let recorded = &set.first().identity;
                let differences = identity.differences(recorded);
                if !differences.is_empty() {
                    return Err(MergeError::Mismatch(format!(
                        "the shards' {} does not match the command they recorded, run again here \
                         (from the folder the shards ran in, where their inputs must be unchanged): {}",
                        identity.command,
                        differences.join("; ")
                    ))
                    .into());
                }
                0..0
            }
        };
        Ok(Design {
            identity,
            mode: self.shard.clone(),
            range,
            side_by_side: self.points_side_by_side(),
            destination: destination.to_path_buf(),
            command_line: self.command_line.clone(),
        })
    }
}

/// A shard's part of a design once [`Design::shard`] has written it, or the design handed
/// back to be streamed into the command's output.
#[derive(Debug)]
pub enum Next {
    /// A shard's partial result was written: stop.
    Shard(Box<ShardWritten>),
    /// The whole design or a merge: write the output with [`Design::stream`].
    Output(Design),
}

impl Design {
    /// The points this process computes, in order.
    pub fn points(&self) -> Range<usize> {
        self.range.clone()
    }

    /// Hands the computed points' numbers (those of [`Design::points`], in order) over:
    /// the whole design's come back; a shard's are written as its partial result; a
    /// merge's come back read from the shards.
    ///
    /// `fits(p, point)` says whether a point read back has the shape point `p` must have
    /// (its count of numbers): a merge refuses shards whose points do not (which only a
    /// shard of another design, checksummed anew, could give).
    pub fn finish(
        self,
        results: Vec<Point>,
        job: Job,
        fits: impl Fn(usize, &Point) -> bool,
    ) -> Result<Finished, JobError> {
        assert_eq!(results.len(), self.range.len(), "one result per computed point");
        match &self.mode {
            ShardMode::Whole => Ok(Finished::All(results)),
            ShardMode::Merge(_) => {
                let mut all = Vec::with_capacity(self.identity.points as usize);
                self.stream(
                    job,
                    |_| unreachable!("a merge computes nothing"),
                    fits,
                    |_, point| {
                        all.push(point);
                        Ok(())
                    },
                )?;
                Ok(Finished::All(all))
            }
            ShardMode::Shard(..) => {
                // The points are computed already: written in order, on this thread.
                let start = self.range.start;
                let design = Design {
                    side_by_side: 1,
                    ..self
                };
                match design.shard(job, |p| Ok(results[p - start].clone()))? {
                    Next::Shard(written) => Ok(Finished::Shard(written)),
                    Next::Output(_) => unreachable!("a shard writes its partial result"),
                }
            }
        }
    }

    /// For a shard: computes its points in order with `compute`, writing each into
    /// `points.bin` as it comes (none is kept), then `shard.json`, and returns
    /// [`Next::Shard`]. The whole design is handed back for [`Design::stream`], and so is
    /// a merge once every shard's `points.bin` has been checked against its checksum
    /// (so that a damaged set is refused before the output is begun).
    pub fn shard(self, job: Job, compute: impl Fn(usize) -> Result<Point, JobError> + Sync) -> Result<Next, JobError> {
        let (shard, source) = match &self.mode {
            ShardMode::Whole => return Ok(Next::Output(self)),
            ShardMode::Merge(set) => {
                set.verify(job)?;
                return Ok(Next::Output(self));
            }
            ShardMode::Shard(shard, source) => (*shard, *source),
        };
        let written = job.write_folder(&self.destination, |dir| {
            let points = dir.join(POINTS_FILE);
            let writing = |e| JobError::io(format!("writing {POINTS_FILE}"))(e);
            let mut out = PointsWriter::create(&points, self.range.clone()).map_err(&writing)?;
            compute_in_order(self.range.clone(), self.side_by_side, &compute, |_, point| {
                out.push(&point).map_err(&writing)
            })?;
            out.finish().map_err(&writing)?;
            let checksum =
                shard::file_checksum(&points).map_err(JobError::io(format!("reading back {POINTS_FILE}")))?;
            let files = vec![SHARD_MANIFEST.to_string(), POINTS_FILE.to_string()];
            let manifest = DesignShardManifest {
                format: shard::FORMAT.to_string(),
                format_version: shard::FORMAT_VERSION,
                greatgame_version: env!("CARGO_PKG_VERSION").to_string(),
                kind: self.identity.command.clone(),
                identity: self.identity.clone(),
                shard,
                shard_source: source,
                work: WorkItems {
                    unit: "point".to_string(),
                    replicates_per_item: self.identity.replicates,
                    total: self.identity.points,
                    first: self.range.start as u64,
                    end: self.range.end as u64,
                },
                command_line: self.command_line.clone(),
                files: files.clone(),
                checksums: BTreeMap::from([(POINTS_FILE.to_string(), checksum)]),
            };
            write_json(&dir.join(SHARD_MANIFEST), &manifest)
                .map_err(JobError::io(format!("writing {SHARD_MANIFEST}")))?;
            Ok(files)
        })?;
        Ok(Next::Shard(Box::new(ShardWritten {
            written,
            shard,
            source,
            points: self.range.clone(),
            total: self.identity.points as usize,
        })))
    }

    /// Checks the points this process computes (a shard its own, a merge none: its
    /// shards did), side by side as they will run, and hands each check's answer to
    /// `consume` in point order; the first failure in point order is returned.
    pub fn check_points<T: Send>(
        &self,
        check: impl Fn(usize) -> Result<T, JobError> + Sync,
        consume: impl FnMut(usize, T) -> Result<(), JobError>,
    ) -> Result<(), JobError> {
        compute_in_order(self.range.clone(), self.side_by_side, &check, consume)
    }

    /// Hands every point of the design to `consume`, in point order, one at a time: the
    /// whole design's as `compute` gives them, a merge's as they are read from the shards
    /// (each checked with `fits`, as [`Design::finish`] does). Nothing is kept, so a
    /// command that writes each point as it comes holds one point of any design.
    ///
    /// A shard is written by [`Design::shard`], which must come first.
    pub fn stream(
        self,
        job: Job,
        compute: impl Fn(usize) -> Result<Point, JobError> + Sync,
        fits: impl Fn(usize, &Point) -> bool,
        mut consume: impl FnMut(usize, Point) -> Result<(), JobError>,
    ) -> Result<(), JobError> {
        match &self.mode {
            ShardMode::Whole => compute_in_order(self.range.clone(), self.side_by_side, &compute, consume),
            ShardMode::Merge(set) => set.each(job, |p, point| {
                if !fits(p, &point) {
                    return Err(MergeError::Mismatch(format!(
                        "design point {} of the shards holds {} numbers, which this design's points cannot",
                        p + 1,
                        point.values.len(),
                    ))
                    .into());
                }
                consume(p, point)
            }),
            ShardMode::Shard(..) => panic!("a shard's points are written by Design::shard"),
        }
    }
}

/// Computes the points of `range`, `side_by_side` at a time on as many threads, and hands
/// each to `consume` in point order. Each point's numbers do not depend on which thread
/// computed it or beside which others; a failure is the first in point order.
fn compute_in_order<T: Send>(
    range: Range<usize>,
    side_by_side: usize,
    compute: &(dyn Fn(usize) -> Result<T, JobError> + Sync),
    mut consume: impl FnMut(usize, T) -> Result<(), JobError>,
) -> Result<(), JobError> {
    let side_by_side = side_by_side.clamp(1, range.len().max(1));
    if side_by_side == 1 {
        for p in range {
            consume(p, compute(p)?)?;
        }
        return Ok(());
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(side_by_side)
        .build()
        .map_err(|e| JobError::Usage(format!("cannot start {side_by_side} worker threads: {e}")))?;
    let mut start = range.start;
    while start < range.end {
        let chunk = start..(start + side_by_side).min(range.end);
        let results: Vec<Result<T, JobError>> = pool.install(|| chunk.clone().into_par_iter().map(compute).collect());
        for (p, result) in chunk.clone().zip(results) {
            consume(p, result?)?;
        }
        start = chunk.end;
    }
    Ok(())
}

/// A complete set of design shards, checked.
#[derive(Debug)]
pub struct DesignSet {
    /// Ordered by shard index.
    shards: Vec<(PathBuf, DesignShardManifest)>,
}

/// The `kind` of the shard in `folder`, if its `shard.json` can be read as JSON.
fn kind_of(folder: &Path) -> Option<String> {
    let text = input::read_text(
        &folder.join(SHARD_MANIFEST),
        shard::MAX_SHARD_MANIFEST_BYTES,
        "shard manifest",
    )
    .ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value.get("kind")?.as_str().map(str::to_string)
}

impl DesignSet {
    /// The design set `folders` hold, or `None` when the first is a run's shard (or
    /// cannot be read: the run's merge says why).
    pub fn find(folders: &[PathBuf]) -> Result<Option<DesignSet>, MergeError> {
        match folders.first().and_then(|f| kind_of(f)) {
            None => Ok(None),
            Some(kind) if kind == "ensemble" => Ok(None),
            Some(_) => DesignSet::read(folders).map(Some),
        }
    }

    /// Reads and checks the shards of one design: same version, kind, identity and
    /// count; no shard twice; none missing; each covering the points its index gives.
    pub fn read(folders: &[PathBuf]) -> Result<DesignSet, MergeError> {
        let mut shards = Vec::with_capacity(folders.len());
        for folder in folders {
            shards.push((folder.clone(), read_manifest(folder)?));
        }
        let shards = shard::check_set(shards)?;
        Ok(DesignSet { shards })
    }

    fn first(&self) -> &DesignShardManifest {
        &self.shards[0].1
    }

    /// The command the shards ran (`sweep`, ...).
    pub fn command(&self) -> &str {
        &self.first().kind
    }

    /// The first shard's command line, to run again for the merge.
    pub fn command_line(&self) -> &[String] {
        &self.first().command_line
    }

    /// How many shards.
    pub fn len(&self) -> usize {
        self.shards.len()
    }

    /// Never: a set has at least one shard.
    pub fn is_empty(&self) -> bool {
        self.shards.is_empty()
    }

    /// Checks every shard's `points.bin` against its checksum.
    fn verify(&self, job: Job) -> Result<(), JobError> {
        for (folder, m) in &self.shards {
            job.check()?;
            check_points(folder, m.checksums.get(POINTS_FILE))?;
        }
        Ok(())
    }

    /// Hands every point's numbers to `each`, in point order, as each shard's file is
    /// read (each file checked whole before its first point).
    fn each(&self, job: Job, mut each: impl FnMut(usize, Point) -> Result<(), JobError>) -> Result<(), JobError> {
        for (folder, m) in &self.shards {
            job.check()?;
            read_points(
                folder,
                m.work.first..m.work.end,
                m.checksums.get(POINTS_FILE),
                &mut each,
            )?;
        }
        Ok(())
    }
}

/// Reads `folder/shard.json` as a design shard's manifest.
fn read_manifest(folder: &Path) -> Result<DesignShardManifest, MergeError> {
    let unreadable = |message: String| MergeError::Unreadable {
        folder: folder.to_path_buf(),
        message,
    };
    let path = folder.join(SHARD_MANIFEST);
    if !path.exists() {
        return Err(if folder.join("manifest.json").is_file() {
            unreadable("holds a finished output, not a shard (no shard.json)".to_string())
        } else {
            unreadable(format!("not a shard folder: it has no {SHARD_MANIFEST}"))
        });
    }
    let text = input::read_text(&path, shard::MAX_SHARD_MANIFEST_BYTES, "shard manifest")
        .map_err(|e| unreadable(format!("not a shard folder: {e}")))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| unreadable(format!("{SHARD_MANIFEST} is not JSON: {e}")))?;
    if value.get("format").and_then(|f| f.as_str()) != Some(shard::FORMAT) {
        return Err(unreadable(format!(
            "{SHARD_MANIFEST} is not a greatgame shard manifest"
        )));
    }
    let version = value.get("format_version").and_then(|v| v.as_u64());
    if version != Some(u64::from(shard::FORMAT_VERSION)) {
        return Err(unreadable(format!(
            "shard format version {} (this greatgame reads version {})",
            version.map_or_else(|| "unknown".to_string(), |v| v.to_string()),
            shard::FORMAT_VERSION
        )));
    }
    if value.get("kind").and_then(|k| k.as_str()) == Some("ensemble") {
        return Err(MergeError::Mismatch(format!(
            "{} is a shard of a run, the others of a design-based command",
            folder.display()
        )));
    }
    serde_json::from_value(value).map_err(|e| unreadable(format!("{SHARD_MANIFEST}: {e}")))
}
