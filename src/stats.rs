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

/// Statistics of `values`, which this sorts in place. Sums run in the given order
/// before sorting, so the result depends only on the values and their order.
pub fn describe(values: &mut [f64]) -> CellStats {
    let n = values.len();
    if n == 0 {
        return CellStats::default();
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let sd = if n > 1 {
        (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    } else {
        0.0
    };
    values.sort_unstable_by(f64::total_cmp);
    CellStats {
        mean,
        sd,
        p05: quantile_sorted(values, QUANTILES[0]),
        p50: quantile_sorted(values, QUANTILES[1]),
        p95: quantile_sorted(values, QUANTILES[2]),
    }
}

/// Quantile of sorted data by linear interpolation between order statistics
/// (Hyndman and Fan's type 7, the default of R and NumPy).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    assert!(n > 0, "quantile of no data");
    let position = q.clamp(0.0, 1.0) * (n - 1) as f64;
    let lower = position.floor() as usize;
    let upper = (lower + 1).min(n - 1);
    let fraction = position - lower as f64;
    // Written so the result never leaves [sorted[lower], sorted[upper]] through rounding.
    let value = sorted[lower] + fraction * (sorted[upper] - sorted[lower]);
    value.clamp(sorted[lower], sorted[upper])
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
    fn one_value_has_zero_spread() {
        let stats = describe(&mut [7.5]);
        assert_eq!((stats.mean, stats.sd, stats.p05, stats.p95), (7.5, 0.0, 7.5, 7.5));
    }
}
