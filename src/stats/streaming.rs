//! Streaming statistics of one quantity: memory that does not grow with the number of
//! values, and merges that give the same bits in any order or grouping.
//!
//! A [`StreamingStats`] is set up from a *pilot*: the first values of the stream (the
//! first replicates of an ensemble), which every process of a sharded run computes the
//! same way. The pilot fixes two things per quantity:
//!
//! - a **shift** `c` (the middle of the pilot's range), so the sums behind the mean and
//!   the variance are of `d = x - c`, values near zero, and the variance
//!   `(Σd² - (Σd)²/n) / (n - 1)` does not cancel catastrophically;
//! - **bins** ([`Bins`]): 256 equal bins whose middle 128 span the pilot's range, and 32
//!   bins of doubling width on either side for values beyond it. A quantile is read off
//!   the bin counts by interpolating within the bin that holds it.
//!
//! Values arrive in *blocks* (a fixed run of consecutive replicates). Within a block the
//! sums are plain `f64` sums in value order (a block is short, 32 values in an ensemble,
//! so they lose nothing that matters); each block's sums are then added to
//! [`ExactSum`]s, and the counts are integers, so the result does not depend on which
//! thread, process or machine handled which block, nor on the order blocks arrive.
//!
//! **Tolerance.** The mean is within 1e-12 of the exact mean relative to the larger of
//! its magnitude and the standard deviation, and the standard deviation within 1e-12
//! relative of the exact one (the only roundings are the shift and the square of each
//! value, the short block sums, and the final divisions; the tests check this bound). The 5th, 50th and
//! 95th percentiles are type 7 quantiles of *estimated* order statistics; each estimated
//! order statistic lies in the bin of the true one, so a quantile is off by at most the
//! width of that bin: 1/128 of the pilot's range inside the central bins (about 0.04
//! standard deviations for a normal quantity and a pilot of 128), more in the tail bins,
//! and never outside the observed minimum and maximum, which are exact.

use super::exact::ExactSum;
use super::{CellStats, QUANTILES};

/// Equal-width bins around the pilot's range.
pub const CORE_BINS: usize = 256;
/// Core bins the pilot's range spans; the rest are split evenly below and above it.
const PILOT_SPAN_BINS: f64 = 128.0;
/// Bins of doubling width below and above the core bins.
pub const TAIL_BINS: usize = 32;
/// Every bin: lower tail (outermost first), core, upper tail.
pub const SLOTS: usize = CORE_BINS + 2 * TAIL_BINS;

/// Where the bins of one quantity lie: the core starts at `start` and has bins of
/// `width`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bins {
    start: f64,
    width: f64,
    inverse_width: f64,
}

impl Bins {
    /// Bins for a quantity whose pilot values are `pilot` (not empty, finite).
    pub fn from_pilot(pilot: &[f64]) -> Bins {
        let (lo, hi) = pilot.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        });
        let (lo, hi) = if lo <= hi { (lo, hi) } else { (0.0, 0.0) };
        let mut width = hi / PILOT_SPAN_BINS - lo / PILOT_SPAN_BINS;
        if !(width.is_normal() && width > 0.0) {
            // A constant pilot: bins a tiny fraction of its value wide; values that
            // differ later land in the doubling tail bins.
            width = (lo.abs() * 2f64.powi(-30)).max(2f64.powi(-60));
        }
        let below = (CORE_BINS as f64 - PILOT_SPAN_BINS) / 2.0;
        Bins::from_parts(lo - below * width, width).expect("start finite, width positive")
    }

    /// Bins from their serialised parts; `None` unless `start` is finite and `width` a
    /// positive normal number.
    pub fn from_parts(start: f64, width: f64) -> Option<Bins> {
        (start.is_finite() && width.is_normal() && width > 0.0).then(|| Bins {
            start,
            width,
            inverse_width: 1.0 / width,
        })
    }

    pub fn start(&self) -> f64 {
        self.start
    }

    pub fn width(&self) -> f64 {
        self.width
    }

    /// The bin of `x`; non-decreasing in `x`.
    #[inline]
    pub fn slot(&self, x: f64) -> usize {
        let t = (x - self.start) * self.inverse_width;
        if t >= 0.0 {
            if t < CORE_BINS as f64 {
                TAIL_BINS + t as usize
            } else {
                TAIL_BINS + CORE_BINS + tail_index(t - CORE_BINS as f64)
            }
        } else {
            TAIL_BINS - 1 - tail_index(-t)
        }
    }

    /// The values bin `slot` covers, `[left, right)`; infinite at the outermost bins.
    pub fn edges(&self, slot: usize) -> (f64, f64) {
        let at = |bins: f64| self.start + bins * self.width;
        if slot < TAIL_BINS {
            let j = TAIL_BINS - 1 - slot;
            let left = if j == TAIL_BINS - 1 {
                f64::NEG_INFINITY
            } else {
                at(-tail_upper(j))
            };
            (left, at(-tail_lower(j)))
        } else if slot < TAIL_BINS + CORE_BINS {
            let i = (slot - TAIL_BINS) as f64;
            (at(i), at(i + 1.0))
        } else {
            let j = slot - TAIL_BINS - CORE_BINS;
            let right = if j == TAIL_BINS - 1 {
                f64::INFINITY
            } else {
                at(CORE_BINS as f64 + tail_upper(j))
            };
            (at(CORE_BINS as f64 + tail_lower(j)), right)
        }
    }
}

/// Tail bin of a distance `d >= 0` (in bin widths) beyond the core: 0 for `d < 2`, then
/// `floor(log2(d))`, read exactly off the exponent bits.
#[inline]
fn tail_index(d: f64) -> usize {
    if d < 2.0 {
        0
    } else {
        let exponent = ((d.to_bits() >> 52) & 0x7ff) as usize;
        (exponent - 1023).min(TAIL_BINS - 1)
    }
}

/// Distances (in bin widths) tail bin `j` spans: `[tail_lower(j), tail_upper(j))`.
fn tail_lower(j: usize) -> f64 {
    if j == 0 {
        0.0
    } else {
        2f64.powi(j as i32)
    }
}

fn tail_upper(j: usize) -> f64 {
    2f64.powi(j as i32 + 1)
}

/// The running statistics of one quantity. See the module documentation.
#[derive(Clone, PartialEq)]
pub struct StreamingStats {
    bins: Bins,
    shift: f64,
    count: u64,
    min: f64,
    max: f64,
    sum: ExactSum,
    sum_squares: ExactSum,
    counts: [u32; SLOTS],
}

impl std::fmt::Debug for StreamingStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamingStats")
            .field("bins", &self.bins)
            .field("shift", &self.shift)
            .field("count", &self.count)
            .field("min", &self.min)
            .field("max", &self.max)
            .finish_non_exhaustive()
    }
}

/// Why two [`StreamingStats`] cannot be merged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("statistics set up from different pilots cannot be merged")]
pub struct DifferentPilots;

/// The serialised form of a [`StreamingStats`].
#[derive(Debug, Clone, PartialEq)]
pub struct StreamingParts {
    pub bin_start: f64,
    pub bin_width: f64,
    pub shift: f64,
    pub count: u64,
    pub min: f64,
    pub max: f64,
    pub sum: ExactSum,
    pub sum_squares: ExactSum,
    pub counts: Vec<u32>,
}

impl StreamingStats {
    /// Empty statistics whose shift and bins come from `pilot` (not empty).
    pub fn from_pilot(pilot: &[f64]) -> StreamingStats {
        let bins = Bins::from_pilot(pilot);
        let (lo, hi) = pilot.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        });
        let shift = if lo <= hi { lo / 2.0 + hi / 2.0 } else { 0.0 };
        StreamingStats {
            bins,
            shift,
            count: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            sum: ExactSum::new(),
            sum_squares: ExactSum::new(),
            counts: [0; SLOTS],
        }
    }

    pub fn bins(&self) -> &Bins {
        &self.bins
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// Adds one block of values, in their order: [`StreamingStats::count_value`] for each,
    /// and [`StreamingStats::absorb_block`] with their plain sums taken in that order.
    pub fn add_block(&mut self, values: impl IntoIterator<Item = f64>) {
        let (mut s1, mut s2) = (0.0, 0.0);
        let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
        let mut n = 0u64;
        for x in values {
            let d = x - self.shift;
            s1 += d;
            s2 += d * d;
            min = min.min(x);
            max = max.max(x);
            self.count_value(x);
            n += 1;
        }
        self.absorb_block(n, s1, s2, min, max);
    }

    /// The shift the sums are taken about: a block's sums are of `x - shift` and of its
    /// square.
    pub fn shift(&self) -> f64 {
        self.shift
    }

    /// Counts `x` in its bin (its sums and extremes are added by
    /// [`StreamingStats::absorb_block`]).
    #[inline]
    pub fn count_value(&mut self, x: f64) {
        self.count_slot(self.bins.slot(x));
    }

    /// Counts one value in bin `slot` (`slot < SLOTS`, as [`Bins::slot`] gives).
    #[inline]
    pub fn count_slot(&mut self, slot: usize) {
        self.counts[slot] = self.counts[slot].saturating_add(1);
    }

    /// Adds a block of `n` values, already counted, whose sums of `x - shift` and of its
    /// square (plain `f64` sums in replicate order), minimum and maximum are given. The
    /// sums go into exact accumulators, so blocks may arrive in any order.
    pub fn absorb_block(&mut self, n: u64, sum: f64, sum_squares: f64, min: f64, max: f64) {
        self.count += n;
        self.min = self.min.min(min);
        self.max = self.max.max(max);
        self.sum.add(sum);
        self.sum_squares.add(sum_squares);
    }

    /// Adds the values `other` holds; both must come from the same pilot.
    pub fn merge(&mut self, other: &StreamingStats) -> Result<(), DifferentPilots> {
        if self.bins != other.bins || self.shift.to_bits() != other.shift.to_bits() {
            return Err(DifferentPilots);
        }
        self.count += other.count;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.sum.merge(&other.sum);
        self.sum_squares.merge(&other.sum_squares);
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a = a.saturating_add(*b);
        }
        Ok(())
    }

    /// Mean, standard deviation (n - 1) and the quantiles of [`QUANTILES`].
    pub fn describe(&self) -> CellStats {
        let n = self.count;
        if n == 0 {
            return CellStats::default();
        }
        if self.min == self.max {
            let v = self.min;
            return CellStats {
                mean: v,
                sd: 0.0,
                p05: v,
                p50: v,
                p95: v,
            };
        }
        let nf = n as f64;
        let s1 = self.sum.value();
        let s2 = self.sum_squares.value();
        let mean = (self.shift + s1 / nf).clamp(self.min, self.max);
        let sd = if n > 1 {
            ((s2 - s1 * (s1 / nf)) / (nf - 1.0)).max(0.0).sqrt()
        } else {
            0.0
        };
        CellStats {
            mean,
            sd,
            p05: self.quantile(QUANTILES[0]),
            p50: self.quantile(QUANTILES[1]),
            p95: self.quantile(QUANTILES[2]),
        }
    }

    /// Type 7 quantile from estimated order statistics.
    pub fn quantile(&self, q: f64) -> f64 {
        let n = self.count;
        assert!(n > 0, "quantile of no data");
        let position = q.clamp(0.0, 1.0) * (n - 1) as f64;
        let lower = position.floor() as u64;
        let upper = (lower + 1).min(n - 1);
        let fraction = position - lower as f64;
        let (a, b) = (self.order_statistic(lower), self.order_statistic(upper));
        (a + fraction * (b - a)).clamp(a, b)
    }

    /// Estimate of the `k`-th smallest value (0-based): the position of rank `k` within
    /// its bin, as if the bin's values were spread evenly over it.
    pub fn order_statistic(&self, k: u64) -> f64 {
        let n = self.count;
        if k == 0 {
            return self.min;
        }
        if k + 1 >= n {
            return self.max;
        }
        let mut below = 0u64;
        for (slot, &count) in self.counts.iter().enumerate() {
            let count = u64::from(count);
            if below + count > k {
                let (left, right) = self.bin_range(slot);
                let position = ((k - below) as f64 + 0.5) / count as f64;
                return (left + position * (right - left)).clamp(left, right);
            }
            below += count;
        }
        self.max
    }

    /// The values bin `slot` covers, within the observed minimum and maximum.
    pub fn bin_range(&self, slot: usize) -> (f64, f64) {
        let (left, right) = self.bins.edges(slot);
        (left.clamp(self.min, self.max), right.clamp(self.min, self.max))
    }

    pub fn to_parts(&self) -> StreamingParts {
        StreamingParts {
            bin_start: self.bins.start,
            bin_width: self.bins.width,
            shift: self.shift,
            count: self.count,
            min: self.min,
            max: self.max,
            sum: self.sum.clone(),
            sum_squares: self.sum_squares.clone(),
            counts: self.counts.to_vec(),
        }
    }

    /// Rebuilds statistics from [`StreamingStats::to_parts`]; `None` if they are
    /// inconsistent.
    pub fn from_parts(parts: StreamingParts) -> Option<StreamingStats> {
        let bins = Bins::from_parts(parts.bin_start, parts.bin_width)?;
        let counts: [u32; SLOTS] = parts.counts.try_into().ok()?;
        let total: u64 = counts.iter().map(|&c| u64::from(c)).sum();
        (total == parts.count && parts.shift.is_finite()).then_some(StreamingStats {
            bins,
            shift: parts.shift,
            count: parts.count,
            min: parts.min,
            max: parts.max,
            sum: parts.sum,
            sum_squares: parts.sum_squares,
            counts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{describe, quantile_sorted};

    /// A small deterministic generator for test data.
    struct XorShift(u64);

    impl XorShift {
        fn uniform(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        }

        fn normal(&mut self) -> f64 {
            let (u, v) = (self.uniform(), self.uniform());
            (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
        }
    }

    const PILOT: usize = 128;
    const BLOCK: usize = 32;

    /// Streams `values` as an ensemble does: pilot from the first 128, blocks of 32.
    fn stream(values: &[f64]) -> StreamingStats {
        let mut stats = StreamingStats::from_pilot(&values[..PILOT.min(values.len())]);
        for block in values.chunks(BLOCK) {
            stats.add_block(block.iter().copied());
        }
        stats
    }

    /// Exact statistics: `describe`'s quantiles, and a mean and standard deviation from
    /// exact sums (the naive sums of `describe` lose digits when the spread is small
    /// next to the mean).
    fn reference(values: &mut [f64]) -> CellStats {
        let n = values.len() as f64;
        let mut sum = ExactSum::new();
        values.iter().for_each(|&v| sum.add(v));
        // The mean as high + low parts: the rounding of `high` would otherwise bias the
        // sum of squares when the spread is tiny next to the mean.
        let high = sum.value() / n;
        let mut rest = sum.clone();
        (0..values.len()).for_each(|_| rest.add(-high));
        let low = rest.value() / n;
        let mean = high + low;
        let mut squares = ExactSum::new();
        values.iter().for_each(|&v| {
            let d = (v - high) - low;
            squares.add(d * d)
        });
        let sd = (squares.value() / (n - 1.0)).sqrt();
        CellStats {
            mean,
            sd,
            ..describe(values)
        }
    }

    /// Checks `values` against the exact statistics within the documented tolerance.
    fn check(name: &str, values: &[f64]) {
        let stats = stream(values);
        let streamed = stats.describe();
        let mut sorted = values.to_vec();
        let exact = reference(&mut sorted);
        sorted.sort_unstable_by(f64::total_cmp);
        let scale = exact.mean.abs().max(exact.sd).max(f64::MIN_POSITIVE);
        assert!(
            (streamed.mean - exact.mean).abs() <= 1e-12 * scale,
            "{name}: mean {} vs exact {}",
            streamed.mean,
            exact.mean
        );
        assert!(
            (streamed.sd - exact.sd).abs() <= 1e-12 * exact.sd.max(1e-300) || exact.sd == streamed.sd,
            "{name}: sd {} vs exact {}",
            streamed.sd,
            exact.sd
        );
        let n = sorted.len();
        for (q, got) in QUANTILES.iter().zip([streamed.p05, streamed.p50, streamed.p95]) {
            let position = q * (n - 1) as f64;
            let lower = position.floor() as usize;
            let upper = (lower + 1).min(n - 1);
            let tolerance = [lower, upper]
                .iter()
                .map(|&k| {
                    let (left, right) = stats.bin_range(stats.bins.slot(sorted[k]));
                    right - left
                })
                .fold(0.0, f64::max);
            let want = quantile_sorted(&sorted, *q);
            let slack = 1e-9 * tolerance + 1e-12 * want.abs().max(stats.bins.start.abs());
            assert!(
                (got - want).abs() <= tolerance + slack,
                "{name}: q{q} {got} vs exact {want}, tolerance {tolerance}"
            );
        }
        assert!(
            streamed.p05 <= streamed.p50 && streamed.p50 <= streamed.p95,
            "{name}: order"
        );
    }

    #[test]
    fn normal_values_match_exact_statistics() {
        let mut rng = XorShift(7);
        for n in [129, 1000, 20_000] {
            let values: Vec<f64> = (0..n).map(|_| 300.0 + 2.0 * rng.normal()).collect();
            check(&format!("normal n={n}"), &values);
        }
    }

    #[test]
    fn large_mean_and_tiny_spread_keeps_mean_and_sd() {
        let mut rng = XorShift(11);
        let values: Vec<f64> = (0..5000).map(|_| 1e9 + 1e-3 * rng.normal()).collect();
        check("tiny spread", &values);
    }

    #[test]
    fn constant_values_are_exact() {
        let values = vec![0.3; 3000];
        let stats = stream(&values).describe();
        assert_eq!(
            (stats.mean, stats.sd, stats.p05, stats.p50, stats.p95),
            (0.3, 0.0, 0.3, 0.3, 0.3)
        );
        let zeros = stream(&[0.0; 500]).describe();
        assert_eq!((zeros.mean, zeros.sd, zeros.p95), (0.0, 0.0, 0.0));
        check("constant", &values);
    }

    #[test]
    fn constant_pilot_then_different_values() {
        let mut values = vec![5.0; 200];
        values.extend((0..800).map(|i| 5.0 + i as f64 * 0.01));
        check("constant pilot", &values);
    }

    #[test]
    fn bimodal_values() {
        let mut rng = XorShift(3);
        let values: Vec<f64> = (0..10_000)
            .map(|i| if i % 3 == 0 { -50.0 } else { 80.0 } + rng.normal())
            .collect();
        check("bimodal", &values);
    }

    #[test]
    fn heavy_tailed_values() {
        let mut rng = XorShift(5);
        // Cauchy: quantiles beyond the pilot's range fall into the doubling tail bins.
        let cauchy: Vec<f64> = (0..10_000)
            .map(|_| (std::f64::consts::PI * (rng.uniform() - 0.5)).tan())
            .collect();
        check("cauchy", &cauchy);
        // Pareto with index 1.1, and its negative.
        let pareto: Vec<f64> = (0..10_000).map(|_| rng.uniform().powf(-1.0 / 1.1)).collect();
        check("pareto", &pareto);
        let negative: Vec<f64> = pareto.iter().map(|x| -x).collect();
        check("negative pareto", &negative);
    }

    #[test]
    fn discrete_values_with_many_ties() {
        let mut rng = XorShift(9);
        let values: Vec<f64> = (0..5000).map(|_| (rng.uniform() * 4.0).floor()).collect();
        check("ties", &values);
        let sparse: Vec<f64> = (0..5000).map(|i| if i % 50 == 7 { 1.0 } else { 0.0 }).collect();
        check("mostly zero", &sparse);
    }

    #[test]
    fn trending_values_leave_the_pilot_range() {
        // Later values drift far beyond the pilot's range, as a growing quantity would if
        // the pilot were unrepresentative.
        let values: Vec<f64> = (0..4000).map(|i| (i as f64).powf(1.5)).collect();
        check("trend", &values);
    }

    #[test]
    fn merging_in_any_grouping_gives_the_same_bits() {
        let mut rng = XorShift(13);
        let values: Vec<f64> = (0..6400).map(|_| rng.normal() * 3.0 + 1.0).collect();
        let whole = stream(&values);
        let pilot = &values[..PILOT];
        let mut parts: Vec<StreamingStats> = values
            .chunks(BLOCK * 10)
            .map(|range| {
                let mut part = StreamingStats::from_pilot(pilot);
                for block in range.chunks(BLOCK) {
                    part.add_block(block.iter().copied());
                }
                part
            })
            .collect();
        parts.reverse();
        let mut merged = StreamingStats::from_pilot(pilot);
        for part in &parts {
            merged.merge(part).expect("same pilot");
        }
        assert_eq!(merged.to_parts(), whole.to_parts());
        let doubled: Vec<f64> = pilot.iter().map(|v| 2.0 * v).collect();
        let other = StreamingStats::from_pilot(&doubled);
        assert_eq!(merged.merge(&other), Err(DifferentPilots));
        let back = StreamingStats::from_parts(whole.to_parts()).expect("parts are consistent");
        assert_eq!(back.describe(), whole.describe());
    }

    #[test]
    fn slots_are_monotone_and_edges_contain_their_values() {
        let bins = Bins::from_pilot(&[1.0, 2.0]);
        let mut previous = 0;
        let mut x = -1e12;
        while x < 1e12 {
            let slot = bins.slot(x);
            assert!(slot >= previous, "slot fell at {x}");
            let (left, right) = bins.edges(slot);
            assert!(left <= x * (1.0 + 1e-12) + 1e-12 && x <= right * (1.0 + 1e-12) + 1e-12);
            previous = slot;
            x = if x.abs() < 1e-3 { x + 1e-4 } else { x + x.abs() * 0.01 };
        }
        assert_eq!(bins.slot(f64::MAX), SLOTS - 1);
        assert_eq!(bins.slot(-f64::MAX), 0);
    }
}
