//! Confidence intervals of differences of means: paired and unpaired percentile bootstrap,
//! and a normal approximation for when only means and standard deviations are known; for
//! ensembles over parameter sets, a two-stage bootstrap (sets, then replicates within
//! each), and the probability of direction: the share of paired differences with the sign
//! of their mean ([`direction`]).
//!
//! Every resampling draws from a [`ChaCha8Rng`] the caller derives from the run seed
//! ([`rng_for`]), so intervals are the same bytes on every machine and thread count.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::stats::quantile_sorted;

/// Default number of bootstrap resamples.
pub const DEFAULT_RESAMPLES: usize = 2000;
/// Two-sided confidence level of every interval.
pub const LEVEL: f64 = 0.95;
/// The standard normal quantile for [`LEVEL`].
pub const Z_95: f64 = 1.959_963_984_540_054;

/// A confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

impl Interval {
    /// Whether the interval lies wholly on one side of zero.
    pub fn excludes_zero(&self) -> bool {
        self.low > 0.0 || self.high < 0.0
    }

    pub fn contains(&self, value: f64) -> bool {
        self.low <= value && value <= self.high
    }
}

/// How a difference's interval was computed; written in `comparison.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CiMethod {
    /// Replicate `i` of both scenarios used the same random stream: the bootstrap resamples
    /// replicate indices and differences the pairs (common random numbers).
    PairedBootstrap,
    /// Replicate `i` of both ran parameter set `i mod K` on random stream `i`: the
    /// bootstrap resamples the sets, then the replicates within each chosen set.
    PairedSetBootstrap,
    /// The two samples are resampled independently.
    UnpairedBootstrap,
    /// Only means and standard deviations were available: mean difference ± 1.96 standard
    /// errors.
    NormalApprox,
    /// Fewer than two replicates on a side: no interval.
    None,
}

impl CiMethod {
    pub fn label(self) -> &'static str {
        match self {
            CiMethod::PairedBootstrap => "paired-bootstrap",
            CiMethod::PairedSetBootstrap => "paired-set-bootstrap",
            CiMethod::UnpairedBootstrap => "unpaired-bootstrap",
            CiMethod::NormalApprox => "normal-approx",
            CiMethod::None => "none",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            CiMethod::PairedBootstrap => {
                "paired percentile bootstrap over replicates (common random numbers: replicate i of every scenario uses random stream i of the same seed)"
            }
            CiMethod::PairedSetBootstrap => {
                "paired two-stage percentile bootstrap: the parameter sets resampled, then the replicates within each \
                 (replicate i of every scenario ran parameter set i mod K on random stream i of the same seed)"
            }
            CiMethod::UnpairedBootstrap => {
                "unpaired percentile bootstrap (the scenarios' replicates were drawn independently)"
            }
            CiMethod::NormalApprox => {
                "normal approximation from summary.csv means and standard deviations (no replicates.csv)"
            }
            CiMethod::None => "no interval (fewer than two replicates)",
        }
    }
}

/// The generator for one named bootstrap: ChaCha8 seeded from the run seed (mixed with a
/// constant so it never replays a replicate's stream), on a stream named by `key`.
pub fn rng_for(seed: u64, key: &str) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6f6f_7473_7472_6170); // "bootstrap"-ish
    rng.set_stream(crate::hash::fnv1a(key.as_bytes()));
    rng
}

pub fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.iter().sum::<f64>() / values.len() as f64
}

/// Sample standard deviation (n − 1); 0 for fewer than two values.
pub fn sd(values: &[f64]) -> f64 {
    let n = values.len();
    if n < 2 {
        return 0.0;
    }
    let m = mean(values);
    (values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
}

/// The central [`LEVEL`] interval of bootstrap statistics (sorted in place).
pub fn percentile_interval(statistics: &mut [f64]) -> Option<Interval> {
    if statistics.is_empty() || statistics.iter().any(|v| !v.is_finite()) {
        return None;
    }
    statistics.sort_unstable_by(f64::total_cmp);
    let tail = (1.0 - LEVEL) / 2.0;
    Some(Interval {
        low: quantile_sorted(statistics, tail),
        high: quantile_sorted(statistics, 1.0 - tail),
    })
}

/// Draws `resamples` bootstrap statistics: each resample picks `n` indices with
/// replacement and hands them to `statistic`.
pub fn resample(
    n: usize,
    resamples: usize,
    rng: &mut ChaCha8Rng,
    mut statistic: impl FnMut(&[usize]) -> f64,
) -> Vec<f64> {
    let mut indices = vec![0usize; n];
    (0..resamples)
        .map(|_| {
            for index in indices.iter_mut() {
                *index = rng.random_range(0..n as u64) as usize;
            }
            statistic(&indices)
        })
        .collect()
}

/// Draws `resamples` two-stage bootstrap statistics of `n` values where value `i` belongs
/// to group (parameter set) `i mod sets`: each resample picks `sets` groups with
/// replacement and, within each, as many of its values as it has, with replacement; the
/// indices go to `statistic`. With one set it is the ordinary bootstrap of the values.
pub fn resample_sets(
    n: usize,
    sets: usize,
    resamples: usize,
    rng: &mut ChaCha8Rng,
    mut statistic: impl FnMut(&[usize]) -> f64,
) -> Vec<f64> {
    let sets = sets.clamp(1, n.max(1));
    let members: Vec<Vec<usize>> = (0..sets).map(|k| (k..n).step_by(sets).collect()).collect();
    let mut indices = Vec::with_capacity(n + sets);
    (0..resamples)
        .map(|_| {
            indices.clear();
            for _ in 0..sets {
                let group = &members[rng.random_range(0..sets as u64) as usize];
                for _ in 0..group.len() {
                    indices.push(group[rng.random_range(0..group.len() as u64) as usize]);
                }
            }
            statistic(&indices)
        })
        .collect()
}

/// Interval of `mean(other − reference)` for pairs over parameter sets (pair `i` ran set
/// `i mod sets`): the two-stage bootstrap of [`resample_sets`], which counts the finite
/// number of sets as well as the replicates.
pub fn paired_set_difference(
    reference: &[f64],
    other: &[f64],
    sets: usize,
    resamples: usize,
    rng: &mut ChaCha8Rng,
) -> Option<Interval> {
    if reference.len() != other.len() || reference.len() < 2 {
        return None;
    }
    let differences: Vec<f64> = other.iter().zip(reference).map(|(o, r)| o - r).collect();
    let mut statistics = resample_sets(differences.len(), sets, resamples, rng, |idx| {
        idx.iter().map(|&i| differences[i]).sum::<f64>() / idx.len() as f64
    });
    percentile_interval(&mut statistics)
}

/// The direction a scenario moves an outcome, and how likely: of paired differences
/// `other[i] − reference[i]` (pair `i` on parameter set `i mod sets`), the sign of their
/// mean and the share of pairs with that sign (pairs with no difference do not count for
/// it), with a two-stage bootstrap interval of the share. `None` without pairs or when the
/// mean difference is zero (no direction).
pub fn direction(
    reference: &[f64],
    other: &[f64],
    sets: usize,
    resamples: usize,
    rng: &mut ChaCha8Rng,
) -> Option<Direction> {
    if reference.len() != other.len() || reference.is_empty() {
        return None;
    }
    let differences: Vec<f64> = other.iter().zip(reference).map(|(o, r)| o - r).collect();
    let mean = mean(&differences);
    if !(mean != 0.0 && mean.is_finite()) {
        return None;
    }
    let sign = mean.signum();
    let share = |idx: &mut dyn Iterator<Item = usize>| -> f64 {
        let (hits, n) = idx.fold((0usize, 0usize), |(h, n), i| {
            (h + usize::from(differences[i] * sign > 0.0), n + 1)
        });
        hits as f64 / n.max(1) as f64
    };
    let probability = share(&mut (0..differences.len()));
    let mut statistics = resample_sets(differences.len(), sets, resamples, rng, |idx| {
        share(&mut idx.iter().copied())
    });
    Some(Direction {
        sign,
        probability,
        interval: (differences.len() >= 2)
            .then(|| percentile_interval(&mut statistics))
            .flatten(),
    })
}

/// See [`direction`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Direction {
    /// +1 (the scenario raises the outcome on average) or −1.
    pub sign: f64,
    /// Share of paired differences with that sign.
    pub probability: f64,
    /// 95% two-stage bootstrap interval of the share.
    pub interval: Option<Interval>,
}

/// Interval of `mean(other − reference)` when `other[i]` and `reference[i]` are a pair
/// (same replicate index and seed).
pub fn paired_difference(reference: &[f64], other: &[f64], resamples: usize, rng: &mut ChaCha8Rng) -> Option<Interval> {
    if reference.len() != other.len() || reference.len() < 2 {
        return None;
    }
    let differences: Vec<f64> = other.iter().zip(reference).map(|(o, r)| o - r).collect();
    let mut statistics = resample(differences.len(), resamples, rng, |idx| {
        idx.iter().map(|&i| differences[i]).sum::<f64>() / idx.len() as f64
    });
    percentile_interval(&mut statistics)
}

/// Interval of `mean(other) − mean(reference)` for independent samples.
pub fn unpaired_difference(
    reference: &[f64],
    other: &[f64],
    resamples: usize,
    rng: &mut ChaCha8Rng,
) -> Option<Interval> {
    if reference.len() < 2 || other.len() < 2 {
        return None;
    }
    let mut statistics = Vec::with_capacity(resamples);
    let mut a = vec![0usize; reference.len()];
    let mut b = vec![0usize; other.len()];
    for _ in 0..resamples {
        for i in a.iter_mut() {
            *i = rng.random_range(0..reference.len() as u64) as usize;
        }
        for i in b.iter_mut() {
            *i = rng.random_range(0..other.len() as u64) as usize;
        }
        let ma = a.iter().map(|&i| reference[i]).sum::<f64>() / a.len() as f64;
        let mb = b.iter().map(|&i| other[i]).sum::<f64>() / b.len() as f64;
        statistics.push(mb - ma);
    }
    percentile_interval(&mut statistics)
}

/// Normal-approximation interval of a difference of two means from their standard
/// deviations and sample sizes (Welch's standard error).
pub fn normal_difference(reference: (f64, f64, u64), other: (f64, f64, u64)) -> Option<Interval> {
    let (m1, s1, n1) = reference;
    let (m2, s2, n2) = other;
    if n1 < 2 || n2 < 2 {
        return None;
    }
    let se = (s1 * s1 / n1 as f64 + s2 * s2 / n2 as f64).sqrt();
    let d = m2 - m1;
    let interval = Interval {
        low: d - Z_95 * se,
        high: d + Z_95 * se,
    };
    (interval.low.is_finite() && interval.high.is_finite()).then_some(interval)
}

/// Standardised mean difference (Cohen's d): the difference over the pooled standard
/// deviation across replicates, `sqrt((sd_ref² + sd²) / 2)`. `None` when the spread is
/// nil or no more than rounding noise (below 1e-9 of the means' magnitude): a quantity
/// that does not vary across replicates has no meaningful standardised difference.
pub fn effect_size(reference: (f64, f64), other: (f64, f64)) -> Option<f64> {
    let pooled = ((reference.1.powi(2) + other.1.powi(2)) / 2.0).sqrt();
    let scale = reference.0.abs().max(other.0.abs());
    if !(pooled > 1e-9 * scale && pooled > 0.0) {
        return None;
    }
    let d = (other.0 - reference.0) / pooled;
    d.is_finite().then_some(d)
}

#[cfg(test)]
mod tests {
    use rand_distr::{Distribution, Normal};

    use super::*;
    use crate::ensemble::replicate_rng;

    fn normal_sample(rng: &mut ChaCha8Rng, n: usize, mean: f64, sd: f64) -> Vec<f64> {
        let normal = Normal::new(mean, sd).unwrap();
        (0..n).map(|_| normal.sample(rng)).collect()
    }

    #[test]
    fn identical_samples_have_a_zero_interval_of_difference() {
        let mut data_rng = replicate_rng(1, 0);
        let a = normal_sample(&mut data_rng, 30, 5.0, 2.0);
        let ci = paired_difference(&a, &a, 500, &mut rng_for(1, "x")).unwrap();
        assert_eq!((ci.low, ci.high), (0.0, 0.0));
        assert!(!ci.excludes_zero());
        let ci = unpaired_difference(&a, &a, 500, &mut rng_for(1, "x")).unwrap();
        assert!(ci.contains(0.0) && ci.low < 0.0 && ci.high > 0.0, "{ci:?}");
    }

    /// Coverage sanity: over many data sets with a known difference, the 95% intervals
    /// should contain it about 95% of the time (percentile bootstrap runs a little narrow
    /// for small samples, hence the lower bound of 0.88).
    #[test]
    fn bootstrap_intervals_cover_the_true_difference() {
        let trials = 200;
        let (mut paired_hits, mut unpaired_hits, mut normal_hits) = (0, 0, 0);
        for t in 0..trials {
            let mut data = replicate_rng(7, t);
            let shared = normal_sample(&mut data, 40, 0.0, 1.0);
            let own_a = normal_sample(&mut data, 40, 0.0, 0.5);
            let own_b = normal_sample(&mut data, 40, 0.0, 0.5);
            // Pairs share a component (as replicates under common random numbers do).
            let reference: Vec<f64> = shared.iter().zip(&own_a).map(|(s, o)| 10.0 + s + o).collect();
            let other: Vec<f64> = shared.iter().zip(&own_b).map(|(s, o)| 10.3 + s + o).collect();
            let key = format!("trial {t}");
            if paired_difference(&reference, &other, 250, &mut rng_for(3, &key))
                .unwrap()
                .contains(0.3)
            {
                paired_hits += 1;
            }
            let independent = normal_sample(&mut data, 40, 10.3, 1.1);
            if unpaired_difference(&reference, &independent, 250, &mut rng_for(3, &key))
                .unwrap()
                .contains(0.3)
            {
                unpaired_hits += 1;
            }
            let (m1, s1) = (mean(&reference), sd(&reference));
            let (m2, s2) = (mean(&independent), sd(&independent));
            if normal_difference((m1, s1, 40), (m2, s2, 40)).unwrap().contains(0.3) {
                normal_hits += 1;
            }
        }
        for (name, hits) in [
            ("paired", paired_hits),
            ("unpaired", unpaired_hits),
            ("normal", normal_hits),
        ] {
            let coverage = hits as f64 / trials as f64;
            assert!((0.88..=0.99).contains(&coverage), "{name} coverage {coverage}");
        }
    }

    #[test]
    fn pairing_narrows_the_interval_under_common_random_numbers() {
        let mut data = replicate_rng(11, 0);
        let shared = normal_sample(&mut data, 50, 0.0, 1.0);
        let a: Vec<f64> = shared.iter().map(|s| s + 0.01).collect();
        let b: Vec<f64> = shared.iter().map(|s| s + 0.11).collect();
        let paired = paired_difference(&a, &b, 500, &mut rng_for(1, "p")).unwrap();
        let unpaired = unpaired_difference(&a, &b, 500, &mut rng_for(1, "p")).unwrap();
        assert!(paired.excludes_zero(), "{paired:?}");
        assert!(!unpaired.excludes_zero(), "{unpaired:?}");
    }

    /// A constructed pair: two parameter sets, in one of which the scenario raises the
    /// outcome in every replicate and in the other lowers it in one replicate of four.
    #[test]
    fn probability_of_direction_on_a_constructed_pair() {
        let reference = vec![0.0; 8];
        // Pairs alternate between set 0 and set 1: set 0 differences +1, +1, +1, +1;
        // set 1 differences +2, −1, +2, +2.
        let other = [1.0, 2.0, 1.0, -1.0, 1.0, 2.0, 1.0, 2.0];
        let d = direction(&reference, &other, 2, 2000, &mut rng_for(3, "d")).unwrap();
        assert_eq!(d.sign, 1.0);
        assert_eq!(d.probability, 7.0 / 8.0);
        let ci = d.interval.unwrap();
        assert!(ci.low <= 7.0 / 8.0 && 7.0 / 8.0 <= ci.high && ci.high <= 1.0, "{ci:?}");
        assert!(
            ci.low < 0.8,
            "the interval holds the chance of drawing set 1 twice: {ci:?}"
        );
        // A mean below zero: the share is of negative differences.
        let lower: Vec<f64> = other.iter().map(|x| -x).collect();
        let d = direction(&reference, &lower, 2, 200, &mut rng_for(3, "d")).unwrap();
        assert_eq!((d.sign, d.probability), (-1.0, 7.0 / 8.0));
        // No difference: no direction; ties do not count for the direction.
        assert!(direction(&reference, &reference, 2, 200, &mut rng_for(3, "d")).is_none());
        let ties = [1.0, 0.0, 0.0, 0.0];
        let d = direction(&[0.0; 4], &ties, 1, 200, &mut rng_for(3, "d")).unwrap();
        assert_eq!(d.probability, 0.25);
        // Reproducible from the seed.
        assert_eq!(
            direction(&reference, &other, 2, 500, &mut rng_for(9, "k")),
            direction(&reference, &other, 2, 500, &mut rng_for(9, "k"))
        );
    }

    /// With parameter sets that differ, the two-stage interval of the mean difference is
    /// wider than the one that treats every pair as independent.
    #[test]
    fn the_set_bootstrap_counts_the_finite_number_of_sets() {
        let mut data = replicate_rng(13, 0);
        let noise = normal_sample(&mut data, 400, 0.0, 0.1);
        // Four sets with effects 0, 1, 2, 3 and a little noise.
        let other: Vec<f64> = noise.iter().enumerate().map(|(i, e)| (i % 4) as f64 + e).collect();
        let reference = vec![0.0; 400];
        let iid = paired_difference(&reference, &other, 1000, &mut rng_for(1, "a")).unwrap();
        let sets = paired_set_difference(&reference, &other, 4, 1000, &mut rng_for(1, "a")).unwrap();
        assert!(sets.high - sets.low > 5.0 * (iid.high - iid.low), "{sets:?} {iid:?}");
        assert!(sets.contains(1.5) && iid.contains(1.5));
    }

    #[test]
    fn intervals_are_reproducible_from_the_seed() {
        let mut data = replicate_rng(5, 0);
        let a = normal_sample(&mut data, 20, 0.0, 1.0);
        let b = normal_sample(&mut data, 20, 0.5, 1.0);
        let first = unpaired_difference(&a, &b, 300, &mut rng_for(9, "k"));
        assert_eq!(first, unpaired_difference(&a, &b, 300, &mut rng_for(9, "k")));
        assert_ne!(first, unpaired_difference(&a, &b, 300, &mut rng_for(9, "other")));
    }

    #[test]
    fn small_or_degenerate_samples_give_no_interval_not_nonsense() {
        let mut rng = rng_for(1, "x");
        assert!(paired_difference(&[1.0], &[2.0], 100, &mut rng).is_none());
        assert!(unpaired_difference(&[1.0, 2.0], &[2.0], 100, &mut rng).is_none());
        assert!(normal_difference((1.0, 0.0, 1), (2.0, 0.0, 5)).is_none());
        assert_eq!(effect_size((1.0, 0.0), (2.0, 0.0)), None);
        let d = effect_size((1.0, 1.0), (2.0, 1.0)).unwrap();
        assert!((d - 1.0).abs() < 1e-12);
    }
}
