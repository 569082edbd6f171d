//! A part of an ensemble: the statistics of a contiguous range of blocks, which merge
//! with the other parts into the statistics of the whole ensemble, bit for bit the same
//! as a run of the whole ensemble in one process.
//!
//! Up to [`EXACT_QUANTILES_MAX_REPLICATES`](super::EXACT_QUANTILES_MAX_REPLICATES)
//! replicates, a part holds its replicates' values (the exact statistics need them all);
//! beyond, it holds one [`StreamingStats`] per series, whose merge is exact, and, over
//! several parameter sets, each series' per-set sums ([`SetSums`]). Decision terms are
//! kept as exact sums in both cases.
//!
//! A part serialises to a small binary format (see [`EnsemblePart::write_to`]) that
//! round-trips every `f64` exactly and ends in a checksum.

use std::io::{self, Read, Write};
use std::ops::Range;

use rayon::prelude::*;

use super::{block_replicates, n_blocks, statistics_method, EnsembleSummary, StatisticsMethod};
use crate::hash::Fnv1a;
use crate::metrics::MetricLayout;
use crate::model::Scenario;
use crate::stats::exact::ExactSum;
use crate::stats::sets::{split_exact, SetSums, VarianceSplit};
use crate::stats::streaming::{StreamingParts, StreamingStats, SLOTS};
use crate::stats::{self, CellStats};

/// Columns of the exact statistics gathered in one pass over the records: 8 values
/// fill a 64-byte cache line.
const COLUMNS_AT_ONCE: usize = 8;

/// The statistics of the replicates in a range of blocks.
#[derive(Debug, Clone, PartialEq)]
pub struct EnsemblePart {
    /// Replicates in the whole ensemble.
    pub(super) replicates: u64,
    /// The seed of the ensemble: parts of different seeds do not merge.
    pub(super) seed: u64,
    /// Parameter sets the ensemble runs over (replicate `i` runs set `i mod sets`).
    pub(super) sets: usize,
    /// What else identifies the ensemble (a hash of its scenario), set by the caller:
    /// parts of different identities do not merge.
    pub(super) identity: u64,
    /// Blocks this part covers.
    pub(super) blocks: Range<u64>,
    pub(super) n_series: usize,
    pub(super) cells: PartCells,
    /// Exact sums over the part's replicates of each decision term.
    pub(super) decisions: Vec<ExactSum>,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum PartCells {
    /// Every replicate's values, in replicate order (`n_series` each).
    Exact(Vec<Vec<f64>>),
    /// One accumulator per series and, over several parameter sets, their per-set sums.
    Streaming {
        stats: Vec<StreamingStats>,
        sums: Option<SetSums>,
    },
}

/// Why parts cannot be merged or finished.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PartError {
    #[error("parts of different ensembles: {0}")]
    Mismatch(String),
    #[error("blocks {} to {} of {total} are missing", missing.start, missing.end - 1)]
    Missing { missing: Range<u64>, total: u64 },
    #[error("blocks {} to {} are given twice", overlap.start, overlap.end - 1)]
    Overlap { overlap: Range<u64> },
    #[error("not an ensemble part: {0}")]
    Corrupt(String),
}

/// The start of `part.bin`; the last byte is the format's version (2: with the seed and
/// identity; 3: with the parameter sets and their sums).
const MAGIC: &[u8; 8] = b"GGPART\x00\x03";

impl EnsemblePart {
    /// Replicates in the whole ensemble this part belongs to.
    pub fn replicates(&self) -> u64 {
        self.replicates
    }

    /// The seed of the ensemble the part belongs to.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The parameter sets of the ensemble the part belongs to.
    pub fn parameter_sets(&self) -> usize {
        self.sets
    }

    /// The identity the caller gave the ensemble ([`EnsemblePart::with_identity`]).
    pub fn identity(&self) -> u64 {
        self.identity
    }

    /// The part, marked as belonging to the ensemble `identity` (say, a hash of the
    /// scenario), which is written with it and checked when parts merge.
    pub fn with_identity(mut self, identity: u64) -> EnsemblePart {
        self.identity = identity;
        self
    }

    /// Series (steps times cells) and decision sums the part holds.
    pub fn sizes(&self) -> (usize, usize) {
        (self.n_series, self.decisions.len())
    }

    /// The blocks this part covers.
    pub fn blocks(&self) -> Range<u64> {
        self.blocks.clone()
    }

    /// The replicates this part covers.
    pub fn replicate_range(&self) -> Range<u64> {
        let start = block_replicates(self.blocks.start, self.replicates).start;
        let end = if self.blocks.is_empty() {
            start
        } else {
            block_replicates(self.blocks.end - 1, self.replicates).end
        };
        start..end
    }

    pub fn method(&self) -> StatisticsMethod {
        match self.cells {
            PartCells::Exact(_) => StatisticsMethod::Exact,
            PartCells::Streaming { .. } => StatisticsMethod::Streaming,
        }
    }

    /// Merges parts of one ensemble (in any order) into one part covering their blocks,
    /// which must be contiguous and must not overlap.
    pub fn merge(mut parts: Vec<EnsemblePart>) -> Result<EnsemblePart, PartError> {
        parts.sort_by_key(|p| p.blocks.start);
        let mut parts = parts.into_iter();
        let mut merged = parts
            .next()
            .ok_or_else(|| PartError::Mismatch("no parts to merge".to_string()))?;
        for part in parts {
            if part.replicates != merged.replicates {
                return Err(PartError::Mismatch(format!(
                    "{} and {} replicates",
                    merged.replicates, part.replicates
                )));
            }
            if part.seed != merged.seed {
                return Err(PartError::Mismatch(format!("seeds {} and {}", merged.seed, part.seed)));
            }
            if part.sets != merged.sets {
                return Err(PartError::Mismatch(format!(
                    "{} and {} parameter sets",
                    merged.sets, part.sets
                )));
            }
            if part.identity != merged.identity {
                return Err(PartError::Mismatch(format!(
                    "scenarios {:016x} and {:016x}",
                    merged.identity, part.identity
                )));
            }
            if part.n_series != merged.n_series || part.decisions.len() != merged.decisions.len() {
                return Err(PartError::Mismatch("different numbers of outcomes".to_string()));
            }
            if part.blocks.start < merged.blocks.end {
                return Err(PartError::Overlap {
                    overlap: part.blocks.start..merged.blocks.end.min(part.blocks.end),
                });
            }
            if part.blocks.start > merged.blocks.end {
                return Err(PartError::Missing {
                    missing: merged.blocks.end..part.blocks.start,
                    total: n_blocks(merged.replicates),
                });
            }
            match (&mut merged.cells, part.cells) {
                (PartCells::Exact(values), PartCells::Exact(more)) => values.extend(more),
                (
                    PartCells::Streaming { stats, sums },
                    PartCells::Streaming {
                        stats: more,
                        sums: more_sums,
                    },
                ) => {
                    for (a, b) in stats.iter_mut().zip(&more) {
                        a.merge(b)
                            .map_err(|_| PartError::Mismatch("different pilot replicates".to_string()))?;
                    }
                    let same = match (sums.as_mut(), &more_sums) {
                        (Some(a), Some(b)) => a.merge(b),
                        (None, None) => true,
                        _ => false,
                    };
                    if !same {
                        return Err(PartError::Mismatch("different per-set sums".to_string()));
                    }
                }
                _ => return Err(PartError::Mismatch("different statistics methods".to_string())),
            }
            for (a, b) in merged.decisions.iter_mut().zip(&part.decisions) {
                a.merge(b);
            }
            merged.blocks.end = part.blocks.end;
        }
        Ok(merged)
    }

    /// The statistics of the whole ensemble; the part must cover every block.
    /// `threads` sets the worker threads for the per-cell statistics (`None`: all
    /// cores); the result does not depend on it.
    pub fn finish(self, scenario: &Scenario, threads: Option<usize>) -> Result<EnsembleSummary, PartError> {
        let total = n_blocks(self.replicates);
        if self.blocks != (0..total) {
            let missing = if self.blocks.start > 0 {
                0..self.blocks.start
            } else {
                self.blocks.end..total
            };
            return Err(PartError::Missing { missing, total });
        }
        let layout = MetricLayout::new(scenario);
        let n_steps = scenario.horizon_quarters as usize;
        if self.n_series != n_steps * layout.n_cells() {
            return Err(PartError::Mismatch(format!(
                "{} outcomes per replicate, the scenario has {}",
                self.n_series,
                n_steps * layout.n_cells()
            )));
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.unwrap_or(0))
            .build()
            .map_err(|e| PartError::Mismatch(format!("could not start worker threads: {e}")))?;
        let n_series = self.n_series;
        let sets = self.sets;
        let replicates = self.replicates;
        // Each cell's statistics and its variance split between and within the sets (taken
        // before the exact statistics reorder the values). Exact columns are gathered a few
        // at a time: one pass over the records reads a cache line of each for all of them,
        // where a column at a time reads a line of every record per column.
        let described: Vec<(CellStats, Option<VarianceSplit>)> = pool.install(|| match &self.cells {
            PartCells::Exact(values) => (0..n_series.div_ceil(COLUMNS_AT_ONCE))
                .into_par_iter()
                .map_init(Vec::new, |columns, chunk| {
                    let series = chunk * COLUMNS_AT_ONCE..((chunk + 1) * COLUMNS_AT_ONCE).min(n_series);
                    let (width, n) = (series.len(), values.len());
                    if n == 0 {
                        let empty = split_exact(&[], sets, 0.0);
                        return vec![(CellStats::default(), Some(empty)); width];
                    }
                    // Every slot is written below: only a change of size needs a resize.
                    if columns.len() != width * n {
                        columns.clear();
                        columns.resize(width * n, 0.0);
                    }
                    for (r, record) in values.iter().enumerate() {
                        for (k, &value) in record[series.clone()].iter().enumerate() {
                            columns[k * n + r] = value;
                        }
                    }
                    columns
                        .chunks_exact_mut(n)
                        .map(|column| {
                            // One set: the split's within-set variance is the variance
                            // the sd comes from, summed in the same order.
                            let split = (sets > 1).then(|| split_exact(column, sets, 0.0));
                            let (stats, variance) = stats::describe_with_variance(column);
                            let split = split.unwrap_or(VarianceSplit {
                                total: 0.0,
                                between: 0.0,
                                within: variance,
                            });
                            (
                                stats,
                                Some(VarianceSplit {
                                    total: stats.sd * stats.sd,
                                    ..split
                                }),
                            )
                        })
                        .collect::<Vec<_>>()
                })
                .flatten_iter()
                .collect(),
            PartCells::Streaming {
                stats: accumulators,
                sums,
            } => accumulators
                .par_iter()
                .enumerate()
                .map(|(series, a)| {
                    let stats = a.describe();
                    let total = stats.sd * stats.sd;
                    let split = match sums {
                        Some(sums) => sums.split(series, replicates, &stats),
                        None => Some(VarianceSplit {
                            total,
                            between: 0.0,
                            within: total,
                        }),
                    };
                    (stats, split)
                })
                .collect(),
        });
        let (cells, variance) = described.into_iter().unzip();
        let n = self.replicates as f64;
        // Rounding an exact sum costs as much as a few thousand additions: side by side.
        let decision_means = pool.install(|| self.decisions.par_iter().map(|s| s.value() / n).collect());
        Ok(EnsembleSummary {
            layout,
            n_steps,
            replicates: self.replicates,
            cells,
            decision_means,
            parameter_sets: sets,
            variance,
        })
    }

    /// Writes the part: a magic number, the sizes, the values or accumulators, the
    /// decision sums, and an FNV-1a checksum of everything before it. All numbers are
    /// little-endian; `f64`s are written as their bits.
    pub fn write_to(&self, writer: &mut impl Write) -> io::Result<()> {
        let mut w = Checksummed::new(writer);
        w.bytes(MAGIC)?;
        w.u64(self.seed)?;
        w.u64(self.identity)?;
        w.u64(self.replicates)?;
        w.u64(self.blocks.start)?;
        w.u64(self.blocks.end)?;
        w.u64(self.n_series as u64)?;
        w.u64(self.decisions.len() as u64)?;
        w.u64(self.sets as u64)?;
        match &self.cells {
            PartCells::Exact(values) => {
                w.u64(0)?;
                for record in values {
                    for &v in record {
                        w.f64(v)?;
                    }
                }
            }
            PartCells::Streaming {
                stats: accumulators,
                sums,
            } => {
                w.u64(1)?;
                for stats in accumulators {
                    let parts = stats.to_parts();
                    for v in [parts.bin_start, parts.bin_width, parts.shift, parts.min, parts.max] {
                        w.f64(v)?;
                    }
                    w.u64(parts.count)?;
                    w.exact_sum(&parts.sum)?;
                    w.exact_sum(&parts.sum_squares)?;
                    // The bins between the first and last occupied one, as LEB128 varints:
                    // most counts are small and most bins empty.
                    let lo = parts.counts.iter().position(|&c| c != 0).unwrap_or(0);
                    let hi = parts.counts.iter().rposition(|&c| c != 0).map_or(lo, |h| h + 1);
                    w.u32(lo as u32)?;
                    w.u32(hi as u32)?;
                    for &c in &parts.counts[lo..hi] {
                        w.varint(c)?;
                    }
                }
                // Over several sets: each series' unit, overflow flag and per-set sums.
                if let Some(sums) = sums {
                    for (series, (&scale, &overflow)) in sums.scales().iter().zip(sums.overflow()).enumerate() {
                        w.f64(scale)?;
                        w.u32(u32::from(overflow))?;
                        for &sum in &sums.sums()[series * sums.sets()..(series + 1) * sums.sets()] {
                            w.bytes(&sum.to_le_bytes())?;
                        }
                    }
                }
            }
        }
        for sum in &self.decisions {
            w.exact_sum(sum)?;
        }
        let checksum = w.hash.finish();
        w.u64(checksum)?;
        w.inner.flush()
    }

    /// Reads a part written by [`EnsemblePart::write_to`] that holds `sizes` (series and
    /// decision sums, as [`EnsemblePart::sizes`]): sizes read from the file are checked
    /// against them before anything is allocated.
    pub fn read_from(reader: &mut impl Read, sizes: (usize, usize)) -> Result<EnsemblePart, PartError> {
        let corrupt = |what: &str| PartError::Corrupt(what.to_string());
        let mut r = Checksummed::new(reader);
        let mut magic = [0u8; 8];
        r.read_exact(&mut magic).map_err(|_| corrupt("file too short"))?;
        if &magic != MAGIC {
            return Err(corrupt("wrong magic number or format version"));
        }
        let read_u64 = |r: &mut Checksummed<_>| r.read_u64().map_err(|_| corrupt("file truncated"));
        let seed = read_u64(&mut r)?;
        let identity = read_u64(&mut r)?;
        let replicates = read_u64(&mut r)?;
        let blocks = read_u64(&mut r)?..read_u64(&mut r)?;
        let n_series = read_u64(&mut r)? as usize;
        let n_decisions = read_u64(&mut r)? as usize;
        let sets = read_u64(&mut r)?;
        let method = read_u64(&mut r)?;
        if (n_series, n_decisions) != sizes {
            return Err(corrupt(&format!(
                "it holds {n_series} series and {n_decisions} decision sums, the scenario has {} and {}",
                sizes.0, sizes.1
            )));
        }
        if replicates == 0 || replicates > super::MAX_REPLICATES {
            return Err(corrupt("replicate count outside an ensemble's"));
        }
        if blocks.start > blocks.end || blocks.end > n_blocks(replicates) {
            return Err(corrupt("block range outside the ensemble"));
        }
        if sets == 0 || sets > replicates || sets > super::MAX_PARAMETER_SETS as u64 {
            return Err(corrupt("parameter sets outside an ensemble's"));
        }
        let sets = sets as usize;
        let expected = match method {
            0 => StatisticsMethod::Exact,
            1 => StatisticsMethod::Streaming,
            _ => return Err(corrupt("unknown statistics method")),
        };
        if expected != statistics_method(replicates) {
            return Err(corrupt("statistics method does not match the replicate count"));
        }
        let truncated = |_| corrupt("file truncated");
        let mut part = EnsemblePart {
            replicates,
            seed,
            sets,
            identity,
            blocks,
            n_series,
            cells: PartCells::Exact(Vec::new()),
            decisions: Vec::new(),
        };
        let n_replicates = part.replicate_range().end - part.replicate_range().start;
        part.cells = match expected {
            StatisticsMethod::Exact => {
                let mut values = Vec::with_capacity(n_replicates as usize);
                for _ in 0..n_replicates {
                    let record = (0..n_series).map(|_| r.read_f64()).collect::<io::Result<Vec<f64>>>();
                    values.push(record.map_err(truncated)?);
                }
                PartCells::Exact(values)
            }
            StatisticsMethod::Streaming => {
                let mut accumulators = Vec::with_capacity(n_series.min(1 << 24));
                for _ in 0..n_series {
                    let mut f = [0.0; 5];
                    for v in f.iter_mut() {
                        *v = r.read_f64().map_err(truncated)?;
                    }
                    let count = r.read_u64().map_err(truncated)?;
                    let sum = r.read_exact_sum()?;
                    let sum_squares = r.read_exact_sum()?;
                    let lo = r.read_u32().map_err(truncated)? as usize;
                    let hi = r.read_u32().map_err(truncated)? as usize;
                    if lo > hi || hi > SLOTS {
                        return Err(corrupt("bin range outside the bins"));
                    }
                    let mut counts = Ok(vec![0u32; SLOTS]);
                    for slot in lo..hi {
                        match (r.read_varint(), counts.as_mut()) {
                            (Ok(c), Ok(counts)) => counts[slot] = c,
                            (Err(e), _) => counts = Err(e),
                            _ => {}
                        }
                    }
                    let parts = StreamingParts {
                        bin_start: f[0],
                        bin_width: f[1],
                        shift: f[2],
                        min: f[3],
                        max: f[4],
                        count,
                        sum,
                        sum_squares,
                        counts: counts.map_err(truncated)?,
                    };
                    if count != n_replicates {
                        return Err(corrupt("a series counts a different number of replicates"));
                    }
                    accumulators
                        .push(StreamingStats::from_parts(parts).ok_or_else(|| corrupt("inconsistent statistics"))?);
                }
                let sums = if sets > 1 {
                    let mut scales = Vec::with_capacity(n_series.min(1 << 24));
                    let mut overflow = Vec::with_capacity(n_series.min(1 << 24));
                    let mut sums = Vec::with_capacity(n_series.saturating_mul(sets).min(1 << 26));
                    for _ in 0..n_series {
                        scales.push(r.read_f64().map_err(truncated)?);
                        overflow.push(r.read_u32().map_err(truncated)? != 0);
                        for _ in 0..sets {
                            let mut b = [0u8; 16];
                            r.read_exact(&mut b).map_err(truncated)?;
                            sums.push(i128::from_le_bytes(b));
                        }
                    }
                    Some(
                        SetSums::from_parts(sets, scales, overflow, sums)
                            .ok_or_else(|| corrupt("inconsistent per-set sums"))?,
                    )
                } else {
                    None
                };
                PartCells::Streaming {
                    stats: accumulators,
                    sums,
                }
            }
        };
        part.decisions = (0..n_decisions)
            .map(|_| r.read_exact_sum())
            .collect::<Result<Vec<_>, _>>()?;
        let computed = r.hash.finish();
        let stored = r.read_u64().map_err(truncated)?;
        if computed != stored {
            return Err(corrupt("checksum mismatch: the file was changed or damaged"));
        }
        let mut rest = [0u8; 1];
        if r.inner.read(&mut rest).map_err(truncated)? != 0 {
            return Err(corrupt("data after the checksum"));
        }
        Ok(part)
    }
}

/// A reader or writer that hashes what passes through it.
struct Checksummed<T> {
    inner: T,
    hash: Fnv1a,
}

impl<T> Checksummed<T> {
    fn new(inner: T) -> Checksummed<T> {
        Checksummed {
            inner,
            hash: Fnv1a::new(),
        }
    }
}

impl<W: Write> Checksummed<W> {
    fn bytes(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.hash.update(bytes);
        self.inner.write_all(bytes)
    }

    fn u64(&mut self, v: u64) -> io::Result<()> {
        self.bytes(&v.to_le_bytes())
    }

    fn u32(&mut self, v: u32) -> io::Result<()> {
        self.bytes(&v.to_le_bytes())
    }

    fn f64(&mut self, v: f64) -> io::Result<()> {
        self.u64(v.to_bits())
    }

    fn varint(&mut self, mut v: u32) -> io::Result<()> {
        let mut buf = [0u8; 5];
        let mut n = 0;
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                buf[n] = byte;
                n += 1;
                break;
            }
            buf[n] = byte | 0x80;
            n += 1;
        }
        self.bytes(&buf[..n])
    }

    fn exact_sum(&mut self, sum: &ExactSum) -> io::Result<()> {
        let (non_finite, first, chunks) = sum.to_parts();
        self.u32(u32::from(non_finite))?;
        self.u32(first as u32)?;
        self.u32(chunks.len() as u32)?;
        for c in chunks {
            self.u64(c as u64)?;
        }
        Ok(())
    }
}

impl<R: Read> Checksummed<R> {
    fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        self.inner.read_exact(buf)?;
        self.hash.update(buf);
        Ok(())
    }

    fn read_u64(&mut self) -> io::Result<u64> {
        let mut b = [0u8; 8];
        self.read_exact(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn read_u32(&mut self) -> io::Result<u32> {
        let mut b = [0u8; 4];
        self.read_exact(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn read_varint(&mut self) -> io::Result<u32> {
        let mut value = 0u64;
        for shift in (0..35).step_by(7) {
            let mut b = [0u8; 1];
            self.read_exact(&mut b)?;
            value |= u64::from(b[0] & 0x7f) << shift;
            if b[0] & 0x80 == 0 {
                return u32::try_from(value).map_err(|_| io::Error::from(io::ErrorKind::InvalidData));
            }
        }
        Err(io::Error::from(io::ErrorKind::InvalidData))
    }

    fn read_f64(&mut self) -> io::Result<f64> {
        self.read_u64().map(f64::from_bits)
    }

    fn read_exact_sum(&mut self) -> Result<ExactSum, PartError> {
        let truncated = |_| PartError::Corrupt("file truncated".to_string());
        let non_finite = self.read_u32().map_err(truncated)? != 0;
        let first = self.read_u32().map_err(truncated)? as usize;
        let len = self.read_u32().map_err(truncated)? as usize;
        if len > crate::stats::exact::CHUNKS {
            return Err(PartError::Corrupt("exact sum too long".to_string()));
        }
        let chunks = (0..len)
            .map(|_| self.read_u64().map(|c| c as i64))
            .collect::<io::Result<Vec<i64>>>()
            .map_err(truncated)?;
        ExactSum::from_parts(non_finite, first, &chunks)
            .ok_or_else(|| PartError::Corrupt("inconsistent exact sum".to_string()))
    }
}
