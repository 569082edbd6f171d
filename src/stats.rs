//! Ensemble statistics: mean, standard deviation and quantiles across replicates.
//!
//! [`describe`] computes them exactly from all the values; [`streaming`] computes them
//! in memory that does not grow with the number of values, from sums that [`exact`]
//! keeps independent of the order of the additions; [`sets`] splits the variance of an
//! ensemble over parameter sets into its parts between and within the sets.

pub mod exact;
pub mod sets;
pub mod streaming;

/// Quantiles reported for every cell.
pub const QUANTILES: [f64; 3] = [0.05, 0.50, 0.95];

/// Statistics of one quantity across replicates.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CellStats {
    pub mean: f64,
    /// Sample standard deviation (n - 1 in the denominator); 0 for one replicate.
    pub sd: f64,
    pub p05: f64,
    pub p50: f64,
    pub p95: f64,
}

/// Statistics of `values`, which this reorders in place. Sums run in the given order
/// before reordering, so the result depends only on the values and their order.
pub fn describe(values: &mut [f64]) -> CellStats {
    describe_keys(values, true).0
}

/// [`describe`], and the sample variance (n - 1 in the denominator) whose square root is
/// the standard deviation: the within-set variance of a single set, which the variance
/// split would otherwise compute again in the same order ([`sets::split_exact`]).
/// `values` is scratch: left holding neither the values nor an order of them (the
/// ensemble's statistics gather each cell's values into a buffer they reuse, and putting
/// back every value was a sixth of the time).
pub fn describe_with_variance(values: &mut [f64]) -> (CellStats, f64) {
    describe_keys(values, false)
}

/// [`describe_with_variance`]; with `restore`, `values` ends as a reordering of the values.
fn describe_keys(values: &mut [f64], restore: bool) -> (CellStats, f64) {
    let n = values.len();
    if n == 0 {
        return (CellStats::default(), 0.0);
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    // One pass: the squared deviations summed in order (as an iterator's `sum` adds
    // them), and the values replaced by their order keys for the selection.
    let mut squares = 0.0;
    let mut sorted = true;
    let mut previous = 0;
    for v in values.iter_mut() {
        let d = *v - mean;
        squares += d * d;
        let key = order_key(v.to_bits());
        sorted &= previous <= key;
        previous = key;
        *v = f64::from_bits(key);
    }
    let variance = if n > 1 { squares / (n - 1) as f64 } else { 0.0 };
    place_quantile_ranks(values, sorted);
    if restore {
        values
            .iter_mut()
            .for_each(|v| *v = f64::from_bits(from_order_key(v.to_bits())));
    }
    // The order statistics each quantile reads, as values.
    let quantile = |q: f64| {
        let (lower, upper, fraction) = quantile_position(n, q);
        let value = |k: usize| {
            let bits = values[k].to_bits();
            f64::from_bits(if restore { bits } else { from_order_key(bits) })
        };
        interpolate(value(lower), value(upper), fraction)
    };
    let stats = CellStats {
        mean,
        sd: variance.sqrt(),
        p05: quantile(QUANTILES[0]),
        p50: quantile(QUANTILES[1]),
        p95: quantile(QUANTILES[2]),
    };
    (stats, variance)
}

/// Puts in place the order statistics [`quantile_sorted`] reads for [`QUANTILES`]: after
/// this, `values[k]` is what a sort would put at `k` for each of them (bit for bit: values
/// that `f64::total_cmp` finds equal are identical). Selecting six order statistics
/// takes a few passes over the values where sorting them all took most of the exact
/// statistics' time.
///
/// `values` holds keys through [`order_key`], `sorted` says whether they are in order
/// already (a constant cell, say). The selection compares integer keys that order as
/// `total_cmp` orders the values (half the instructions of `total_cmp` per comparison).
/// The keys are kept in the values' own slots, as bit patterns: moves never change an
/// f64's bits; they still hold keys on return.
fn place_quantile_ranks(values: &mut [f64], sorted: bool) {
    let n = values.len();
    if !sorted {
        let mut ranks = [0; 2 * QUANTILES.len()];
        for (pair, &q) in ranks.chunks_exact_mut(2).zip(&QUANTILES) {
            let lower = (q * (n - 1) as f64).floor() as usize;
            pair[0] = lower;
            pair[1] = (lower + 1).min(n - 1);
        }
        ranks.sort_unstable();
        let mut distinct = 1;
        for read in 1..ranks.len() {
            if ranks[read] != ranks[distinct - 1] {
                ranks[distinct] = ranks[read];
                distinct += 1;
            }
        }
        select_ranks(values, 0, &ranks[..distinct]);
    }
}

/// The bits of an f64 as an unsigned integer that orders as `f64::total_cmp`: negative
/// values have every bit flipped (larger magnitudes come first), others the sign bit set.
fn order_key(bits: u64) -> u64 {
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    }
}

/// The inverse of [`order_key`].
fn from_order_key(key: u64) -> u64 {
    if key >> 63 == 1 {
        key & !(1 << 63)
    } else {
        !key
    }
}

/// Selects the order statistics `ranks` (ascending, distinct, of the whole data) in
/// `keys` (values through [`order_key`]), the part of the data that holds ranks
/// `offset..offset + keys.len()`: the middle rank first, then the ranks on either side
/// within their side. A rank just below a selected one (type 7 reads pairs of adjacent
/// order statistics) is the largest key of the selected one's left side: a scan, not a
/// second selection.
fn select_ranks(keys: &mut [f64], offset: usize, ranks: &[usize]) {
    if ranks.is_empty() {
        return;
    }
    let middle = ranks.len() / 2;
    let k = ranks[middle] - offset;
    let (left, _, right) = keys.select_nth_unstable_by_key(k, |key| key.to_bits());
    let mut below = &ranks[..middle];
    let mut left = left;
    if let Some((&last, rest)) = below.split_last() {
        if last == ranks[middle] - 1 {
            let largest = (0..left.len())
                .max_by_key(|&i| left[i].to_bits())
                .expect("a rank below k leaves k > 0 keys on the left");
            let end = left.len() - 1;
            left.swap(largest, end);
            left = &mut left[..end];
            below = rest;
        }
    }
    select_ranks(left, offset, below);
    select_ranks(right, offset + k + 1, &ranks[middle + 1..]);
}

/// Quantile of sorted data by linear interpolation between order statistics
/// (Hyndman and Fan's type 7, the default of R and NumPy).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    assert!(n > 0, "quantile of no data");
    let (lower, upper, fraction) = quantile_position(n, q);
    interpolate(sorted[lower], sorted[upper], fraction)
}

/// The order statistics (0-based) the type 7 quantile `q` of `n > 0` values reads, and
/// the fraction of the way from the lower to the upper.
fn quantile_position(n: usize, q: f64) -> (usize, usize, f64) {
    let position = q.clamp(0.0, 1.0) * (n - 1) as f64;
    let lower = position.floor() as usize;
    let upper = (lower + 1).min(n - 1);
    (lower, upper, position - lower as f64)
}

fn interpolate(lower: f64, upper: f64, fraction: f64) -> f64 {
    // Written so the result never leaves [lower, upper] through rounding.
    let value = lower + fraction * (upper - lower);
    value.clamp(lower, upper)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_hand_computed_values() {
        let mut values = vec![4.0, 1.0, 3.0, 2.0, 5.0];
        let stats = describe(&mut values);
        assert_eq!(stats.mean, 3.0);
        assert!((stats.sd - 2.5f64.sqrt()).abs() < 1e-12);
        assert_eq!(stats.p50, 3.0);
        // type 7: position 0.05 * 4 = 0.2 -> 1 + 0.2 * (2 - 1)
        assert!((stats.p05 - 1.2).abs() < 1e-12);
        assert!((stats.p95 - 4.8).abs() < 1e-12);
    }

    #[test]
    fn the_variance_is_the_one_set_split_and_the_sd_its_root_bit_for_bit() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        for n in [1, 2, 3, 17, 200, 1000] {
            let values: Vec<f64> = (0..n).map(|_| rng.random_range(-3.0..1e3)).collect();
            let split = sets::split_exact(&values, 1, 0.0);
            let mean = values.iter().sum::<f64>() / n as f64;
            let sd = if n > 1 {
                (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
            } else {
                0.0
            };
            let (stats, variance) = describe_with_variance(&mut values.clone());
            assert_eq!(variance.to_bits(), split.within.to_bits(), "n {n}");
            assert_eq!(stats.sd.to_bits(), sd.to_bits(), "n {n}");
            assert_eq!(stats.mean.to_bits(), mean.to_bits(), "n {n}");
            // The same quantiles as `describe`, which puts the values back.
            let mut reordered = values.clone();
            let restored = describe(&mut reordered);
            for (a, b) in [
                (stats.p05, restored.p05),
                (stats.p50, restored.p50),
                (stats.p95, restored.p95),
            ] {
                assert_eq!(a.to_bits(), b.to_bits(), "n {n}");
            }
            reordered.sort_unstable_by(f64::total_cmp);
            let mut sorted = values.clone();
            sorted.sort_unstable_by(f64::total_cmp);
            assert_eq!(reordered, sorted);
        }
    }

    #[test]
    fn quantiles_are_those_of_the_sorted_values_bit_for_bit() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for n in (1..=70).chain([127, 128, 200, 201, 1000]) {
            for pool in [2, 5, 1_000_000] {
                // Few distinct values (ties, both zeros) and almost all distinct ones.
                let values: Vec<f64> = (0..n)
                    .map(|_| match rng.random_range(0..pool) {
                        0 => -0.0,
                        1 => 0.0,
                        k => (k as f64 - pool as f64 / 2.0) * 0.37,
                    })
                    .collect();
                let mut sorted = values.clone();
                sorted.sort_unstable_by(f64::total_cmp);
                let mut reordered = values.clone();
                let stats = describe(&mut reordered);
                for (q, got) in QUANTILES.iter().zip([stats.p05, stats.p50, stats.p95]) {
                    let want = quantile_sorted(&sorted, *q);
                    assert_eq!(got.to_bits(), want.to_bits(), "n {n}, pool {pool}, q {q}");
                }
                let mut back = reordered;
                back.sort_unstable_by(f64::total_cmp);
                assert_eq!(
                    back.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    sorted.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
                );
            }
        }
    }

    #[test]
    fn order_keys_order_as_total_cmp_and_invert() {
        let values = [
            f64::NEG_INFINITY,
            -1e300,
            -1.5,
            -f64::MIN_POSITIVE,
            -0.0,
            0.0,
            f64::MIN_POSITIVE,
            2.5,
            f64::INFINITY,
            f64::NAN,
            -f64::NAN,
        ];
        for a in values {
            assert_eq!(from_order_key(order_key(a.to_bits())), a.to_bits());
            for b in values {
                assert_eq!(
                    order_key(a.to_bits()).cmp(&order_key(b.to_bits())),
                    a.total_cmp(&b),
                    "{a} {b}"
                );
            }
        }
    }

    #[test]
    fn one_value_has_zero_spread() {
        let stats = describe(&mut [7.5]);
        assert_eq!((stats.mean, stats.sd, stats.p05, stats.p95), (7.5, 0.0, 7.5, 7.5));
    }
}
