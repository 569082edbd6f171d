//! Where an ensemble's spread comes from: the variance of an ensemble over parameter sets
//! split into the part between sets (parameter uncertainty) and the part within them
//! (decision noise and the model's other randomness), by the law of total variance.
//!
//! Replicate `i` runs parameter set `i mod K`. With `N` replicates, `n_k` of them in set
//! `k`, set means `m_k` and the overall mean `m`, the sums of squares add up exactly:
//!
//! ```text
//! Σ_i (x_i - m)²  =  Σ_k n_k (m_k - m)²  +  Σ_k Σ_{i in k} (x_i - m_k)²
//!      total             between sets              within sets
//! ```
//!
//! Each is divided by `N - 1`, so `total` is the square of the standard deviation in
//! `summary.csv` and `between + within = total` (up to rounding). With one set `between`
//! is zero. The between part is the variance of the set means, so it also holds a share of
//! the within-set noise (about `within / n_k` per set): with few replicates per set it
//! overstates the parameters' share a little.
//!
//! Up to the exact limit the split is computed from every value ([`split_exact`]). Beyond,
//! an ensemble keeps per set and series a fixed-point sum of `x - shift` ([`SetSums`]):
//! integers, so the sums are the same whatever order blocks, threads or shards add them
//! in, and merge exactly. Each series' unit is a power of two set from the pilot, `2^-40`
//! of the pilot's largest distance from the shift (so a set's mean is within
//! `2^-41` of that distance of its exact value); a value more than `2^54` times farther
//! out marks the series as overflowed, and its split is left empty rather than wrong.

use super::CellStats;

/// The split of one quantity's variance across replicates.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct VarianceSplit {
    /// Variance across all replicates (`N - 1`): the square of `summary.csv`'s sd.
    pub total: f64,
    /// Between parameter sets: `Σ n_k (m_k - m)² / (N - 1)`.
    pub between: f64,
    /// Within parameter sets: `Σ_k Σ_{i in k} (x_i - m_k)² / (N - 1)`.
    pub within: f64,
}

impl VarianceSplit {
    /// The share of the total between sets (0 when there is no spread).
    pub fn between_share(&self) -> f64 {
        if self.total > 0.0 {
            (self.between / self.total).clamp(0.0, 1.0)
        } else {
            0.0
        }
    }
}

/// The parameter set replicate `index` runs, of `sets`.
pub fn set_of(index: u64, sets: usize) -> usize {
    (index % sets.max(1) as u64) as usize
}

/// Replicates of set `k` in an ensemble of `replicates` over `sets` sets.
pub fn set_count(replicates: u64, sets: usize, k: usize) -> u64 {
    let sets = sets.max(1) as u64;
    replicates / sets + u64::from((k as u64) < replicates % sets)
}

/// The split of `values` (every replicate's value, in replicate order) over `sets` sets;
/// `total` is the square of their sample standard deviation as [`crate::stats::describe`]
/// computes it. Set means and the within-set sum are taken in replicate order, so the
/// result depends only on the values.
pub fn split_exact(values: &[f64], sets: usize, total: f64) -> VarianceSplit {
    let n = values.len();
    if n < 2 {
        return VarianceSplit::default();
    }
    let sets = sets.clamp(1, n);
    let scale = (n - 1) as f64;
    let mean = values.iter().sum::<f64>() / n as f64;
    if sets == 1 {
        // The one set's mean is the overall mean (the same sum, in the same order).
        let within: f64 = values.iter().map(|&x| (x - mean) * (x - mean)).sum();
        return VarianceSplit {
            total,
            between: 0.0,
            within: within / scale,
        };
    }
    // Replicate i is in set i mod sets: a chunk of `sets` consecutive replicates holds
    // one of each set, in set order, so walking chunks adds in replicate order without a
    // division per value.
    let mut sums = vec![0.0; sets];
    for chunk in values.chunks(sets) {
        for (sum, &x) in sums.iter_mut().zip(chunk) {
            *sum += x;
        }
    }
    let means: Vec<f64> = (0..sets)
        .map(|k| sums[k] / set_count(n as u64, sets, k) as f64)
        .collect();
    let mut within = 0.0;
    for chunk in values.chunks(sets) {
        for (&m, &x) in means.iter().zip(chunk) {
            within += (x - m) * (x - m);
        }
    }
    let between: f64 = (0..sets)
        .map(|k| set_count(n as u64, sets, k) as f64 * (means[k] - mean) * (means[k] - mean))
        .sum();
    VarianceSplit {
        total,
        between: between / scale,
        within: within / scale,
    }
}

/// Bits of precision below the pilot's largest distance from the shift.
const UNIT_BITS: i32 = 40;
/// Largest magnitude, in units, one value may add: beyond, the series overflows. With at
/// most 2^32 replicates a sum stays below 2^126.
const LIMIT: f64 = 18_889_465_931_478_580_854_784.0; // 2^94

/// Per-set fixed-point sums of every series of an ensemble, for the split of streaming
/// statistics. See the module documentation.
#[derive(Debug, Clone, PartialEq)]
pub struct SetSums {
    sets: usize,
    /// Per series: `1 / unit`, a power of two.
    scales: Vec<f64>,
    /// Per series: a value was too far out to add.
    overflow: Vec<bool>,
    /// `series * sets + set`: the sum of `round((x - shift) / unit)`.
    sums: Vec<i128>,
}

impl SetSums {
    /// Empty sums for `sets` sets; each series' unit from its pilot values and shift.
    pub fn from_pilot<'a>(sets: usize, pilots: impl IntoIterator<Item = (&'a [f64], f64)>) -> SetSums {
        let scales: Vec<f64> = pilots
            .into_iter()
            .map(|(pilot, shift)| SetSums::scale_of(pilot, shift))
            .collect();
        SetSums::with_scales(sets, scales)
    }

    /// `1 / unit` of a series, from its pilot values and shift (see [`SetSums::from_pilot`]).
    pub fn scale_of(pilot: &[f64], shift: f64) -> f64 {
        let spread = pilot.iter().fold(0.0f64, |m, &x| m.max((x - shift).abs()));
        let reference = spread.max(shift.abs() * 2f64.powi(-20)).max(2f64.powi(-30));
        // The exponent of the reference (a normal number here), read off its bits.
        let exponent = ((reference.to_bits() >> 52) & 0x7ff) as i32 - 1023;
        2f64.powi(UNIT_BITS - exponent)
    }

    /// Empty sums for `sets` sets, each series' scale given ([`SetSums::scale_of`]).
    pub fn with_scales(sets: usize, scales: Vec<f64>) -> SetSums {
        let n = scales.len();
        SetSums::from_parts(sets, scales, vec![false; n], vec![0; n * sets.max(1)]).expect("consistent sizes")
    }

    /// Sums from their parts; `None` if the sizes do not agree or a scale is not a
    /// positive power of two.
    pub fn from_parts(sets: usize, scales: Vec<f64>, overflow: Vec<bool>, sums: Vec<i128>) -> Option<SetSums> {
        let powers = scales
            .iter()
            .all(|s| s.is_normal() && *s > 0.0 && s.to_bits() & ((1u64 << 52) - 1) == 0);
        (sets >= 1 && powers && overflow.len() == scales.len() && sums.len() == scales.len() * sets).then_some(
            SetSums {
                sets,
                scales,
                overflow,
                sums,
            },
        )
    }

    pub fn sets(&self) -> usize {
        self.sets
    }

    pub fn n_series(&self) -> usize {
        self.scales.len()
    }

    pub fn scales(&self) -> &[f64] {
        &self.scales
    }

    pub fn overflow(&self) -> &[bool] {
        &self.overflow
    }

    pub fn sums(&self) -> &[i128] {
        &self.sums
    }

    /// The sums of the series `first..first + len`, for a worker folding them.
    pub fn split_at_series(self, lengths: &[usize]) -> Vec<SetSums> {
        let mut out = Vec::with_capacity(lengths.len());
        let mut scales = self.scales.into_iter();
        let mut overflow = self.overflow.into_iter();
        let mut sums = self.sums.into_iter();
        for &len in lengths {
            out.push(SetSums {
                sets: self.sets,
                scales: scales.by_ref().take(len).collect(),
                overflow: overflow.by_ref().take(len).collect(),
                sums: sums.by_ref().take(len * self.sets).collect(),
            });
        }
        out
    }

    /// The series of `parts` one after the other (as [`SetSums::split_at_series`] split them).
    pub fn concat(parts: Vec<SetSums>) -> SetSums {
        let sets = parts.first().map_or(1, |p| p.sets);
        let mut all = SetSums {
            sets,
            scales: Vec::new(),
            overflow: Vec::new(),
            sums: Vec::new(),
        };
        for part in parts {
            all.scales.extend(part.scales);
            all.overflow.extend(part.overflow);
            all.sums.extend(part.sums);
        }
        all
    }

    /// Adds value `x` of series `series` (local to these sums), whose shift is `shift`,
    /// to set `set`.
    #[inline]
    pub fn add(&mut self, series: usize, set: usize, x: f64, shift: f64) {
        let q = (x - shift) * self.scales[series];
        if q.abs() <= LIMIT {
            self.sums[series * self.sets + set] += q.round() as i128;
        } else {
            self.overflow[series] = true;
        }
    }

    /// Adds the sums of the same series over other replicates; `false` if they were set up
    /// differently (other sets or units).
    pub fn merge(&mut self, other: &SetSums) -> bool {
        if self.sets != other.sets || self.scales != other.scales {
            return false;
        }
        for (a, b) in self.overflow.iter_mut().zip(&other.overflow) {
            *a |= *b;
        }
        for (a, b) in self.sums.iter_mut().zip(&other.sums) {
            *a += *b;
        }
        true
    }

    /// The split of series `series` of an ensemble of `replicates`, given its statistics;
    /// `None` if the series overflowed.
    pub fn split(&self, series: usize, replicates: u64, stats: &CellStats) -> Option<VarianceSplit> {
        if self.overflow[series] {
            return None;
        }
        let total = stats.sd * stats.sd;
        if replicates < 2 {
            return Some(VarianceSplit::default());
        }
        let sums = &self.sums[series * self.sets..(series + 1) * self.sets];
        let unit = 1.0 / self.scales[series];
        let all: i128 = sums.iter().sum();
        let mean = all as f64 / replicates as f64;
        let mut between = 0.0;
        for (k, &s) in sums.iter().enumerate() {
            let n = set_count(replicates, self.sets, k);
            if n > 0 {
                between += n as f64 * ((s as f64 / n as f64 - mean) * unit).powi(2);
            }
        }
        let between = if self.sets == 1 {
            0.0
        } else {
            (between / (replicates - 1) as f64).min(total)
        };
        Some(VarianceSplit {
            total,
            between,
            within: total - between,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::describe;

    fn values(n: usize, sets: usize) -> Vec<f64> {
        // Set k has mean k, and noise that differs by replicate.
        (0..n)
            .map(|i| (i % sets) as f64 + 0.1 * ((i * 7919 % 13) as f64 - 6.0))
            .collect()
    }

    #[test]
    fn the_split_adds_up_and_is_zero_between_sets_for_one_set() {
        for (n, sets) in [(200, 8), (203, 8), (50, 1), (7, 3), (2, 2)] {
            let v = values(n, sets);
            let sd = describe(&mut v.clone()).sd;
            let split = split_exact(&v, sets, sd * sd);
            let relative = (split.between + split.within - split.total).abs() / split.total.max(1e-300);
            assert!(relative < 1e-12, "n {n} sets {sets}: {split:?}");
            if sets == 1 {
                assert_eq!(split.between, 0.0);
                assert!((split.within - split.total).abs() <= 1e-12 * split.total);
            } else if n > sets {
                assert!(split.between > 0.0 && split.within > 0.0, "{split:?}");
            }
        }
    }

    #[test]
    fn the_split_matches_a_hand_computation() {
        // Sets 0 and 1, replicates alternating: set 0 = {1, 3}, set 1 = {10, 12}.
        let v = [1.0, 10.0, 3.0, 12.0];
        let sd = describe(&mut v.clone()).sd;
        let split = split_exact(&v, 2, sd * sd);
        // Means 2 and 11, overall 6.5: between = 2 (4.5² + 4.5²) / 3 = 27; within = 4 / 3.
        assert!((split.between - 27.0).abs() < 1e-12, "{split:?}");
        assert!((split.within - 4.0 / 3.0).abs() < 1e-12, "{split:?}");
        assert!((split.between_share() - 27.0 / (27.0 + 4.0 / 3.0)).abs() < 1e-12);
    }

    #[test]
    fn fixed_point_sums_give_the_exact_split_and_merge_in_any_order() {
        let sets = 5;
        let v: Vec<f64> = (0..3000).map(|i| 100.0 + values(3000, sets)[i] * 1e-3).collect();
        let shift = 100.0;
        let pilot = &v[..128];
        let mut whole = SetSums::from_pilot(sets, [(pilot, shift)]);
        let mut first = whole.clone();
        let mut second = whole.clone();
        for (i, &x) in v.iter().enumerate() {
            whole.add(0, set_of(i as u64, sets), x, shift);
            let half = if i < 1500 { &mut first } else { &mut second };
            half.add(0, set_of(i as u64, sets), x, shift);
        }
        let mut merged = second.clone();
        assert!(merged.merge(&first));
        assert_eq!(merged, whole);
        let stats = describe(&mut v.clone());
        let streamed = whole.split(0, v.len() as u64, &stats).unwrap();
        let exact = split_exact(&v, sets, stats.sd * stats.sd);
        assert!(
            (streamed.between - exact.between).abs() <= 1e-9 * exact.total,
            "{streamed:?} {exact:?}"
        );
        assert!((streamed.between + streamed.within - streamed.total).abs() <= 1e-15 * streamed.total);
        let other = SetSums::from_pilot(sets + 1, [(pilot, shift)]);
        assert!(!merged.merge(&other));
    }

    #[test]
    fn a_value_far_beyond_the_pilot_leaves_the_split_empty() {
        let mut sums = SetSums::from_pilot(2, [(&[1.0, 1.5][..], 1.25)]);
        sums.add(0, 0, 1.2, 1.25);
        assert!(sums.split(0, 3, &CellStats::default()).is_some());
        sums.add(0, 1, 1e30, 1.25);
        assert!(sums.split(0, 3, &CellStats::default()).is_none());
    }
}
