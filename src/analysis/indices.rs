//! Sensitivity estimators: Morris elementary effects (μ, μ*, σ) and Sobol' first-order and
//! total indices (Saltelli 2010 and Jansen 1999 estimators), each with bootstrap
//! confidence intervals.
//!
//! They work on plain numbers: the outputs of a design's points, in the design's order
//! ([`super::design::Saltelli::points`], [`super::design::morris`]).

use rand_chacha::ChaCha8Rng;

use super::bootstrap::{percentile_interval, resample, Interval};
use super::design::Trajectory;

/// Morris statistics of one parameter. Elementary effects are in output units per unit of
/// the parameter's range scaled to [0, 1].
#[derive(Debug, Clone, PartialEq)]
pub struct MorrisIndex {
    pub mu: f64,
    pub mu_star: f64,
    /// Bootstrap interval of μ* over trajectories.
    pub mu_star_ci: Option<Interval>,
    pub sigma: f64,
}

/// Elementary effects of every parameter from `trajectories` and the outputs of their
/// points (`outputs[t][j]`: point `j` of trajectory `t`).
pub fn morris(
    k: usize,
    trajectories: &[Trajectory],
    outputs: &[Vec<f64>],
    resamples: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<MorrisIndex> {
    // effects[i][t]: the effect of parameter i in trajectory t.
    let mut effects = vec![Vec::with_capacity(trajectories.len()); k];
    for (t, y) in trajectories.iter().zip(outputs) {
        for (j, (&i, &step)) in t.moved.iter().zip(&t.steps).enumerate() {
            effects[i].push((y[j + 1] - y[j]) / step);
        }
    }
    effects
        .iter()
        .map(|ee| {
            let r = ee.len();
            let mu = ee.iter().sum::<f64>() / r as f64;
            let mu_star = ee.iter().map(|e| e.abs()).sum::<f64>() / r as f64;
            let sigma = if r > 1 {
                (ee.iter().map(|e| (e - mu).powi(2)).sum::<f64>() / (r - 1) as f64).sqrt()
            } else {
                0.0
            };
            let mu_star_ci = if r > 1 {
                let mut stats = resample(r, resamples, rng, |idx| {
                    idx.iter().map(|&t| ee[t].abs()).sum::<f64>() / r as f64
                });
                percentile_interval(&mut stats)
            } else {
                None
            };
            MorrisIndex {
                mu,
                mu_star,
                mu_star_ci,
                sigma,
            }
        })
        .collect()
}

/// Sobol' indices of one parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct SobolIndex {
    /// First-order index S1: the share of the output's variance due to the parameter alone.
    pub s1: f64,
    pub s1_ci: Option<Interval>,
    /// Total index ST: the share due to the parameter with all its interactions.
    pub st: f64,
    pub st_ci: Option<Interval>,
}

/// Sobol' indices from the outputs of a Saltelli design, in its point order: `y_a`
/// (n), `y_b` (n), then `y_ab[i]` (n each).
///
/// With outputs centred on the mean of A and B and V the variance of A and B together:
/// S1_i = mean(y_B (y_ABi − y_A)) / V (Saltelli et al. 2010, eq. b) and
/// ST_i = mean((y_A − y_ABi)²) / (2V) (Jansen 1999). Intervals: percentile bootstrap
/// over the n rows (the same resampled rows for V and the index).
pub fn sobol(y_a: &[f64], y_b: &[f64], y_ab: &[Vec<f64>], resamples: usize, rng: &mut ChaCha8Rng) -> Vec<SobolIndex> {
    let n = y_a.len();
    let centre = (y_a.iter().sum::<f64>() + y_b.iter().sum::<f64>()) / (2 * n) as f64;
    let a: Vec<f64> = y_a.iter().map(|y| y - centre).collect();
    let b: Vec<f64> = y_b.iter().map(|y| y - centre).collect();
    let estimate = |rows: &mut dyn Iterator<Item = usize>, ab: &[f64]| -> (f64, f64) {
        let (mut count, mut sum, mut sum_sq, mut first, mut total) = (0usize, 0.0, 0.0, 0.0, 0.0);
        for j in rows {
            let abj = ab[j] - centre;
            sum += a[j] + b[j];
            sum_sq += a[j] * a[j] + b[j] * b[j];
            first += b[j] * (abj - a[j]);
            total += (a[j] - abj).powi(2);
            count += 1;
        }
        let m = 2.0 * count as f64;
        let variance = sum_sq / m - (sum / m).powi(2);
        if variance > 0.0 {
            (first / count as f64 / variance, total / count as f64 / (2.0 * variance))
        } else {
            (0.0, 0.0)
        }
    };
    y_ab.iter()
        .map(|ab| {
            let (s1, st) = estimate(&mut (0..n), ab);
            let mut s1_stats = Vec::with_capacity(resamples);
            let st_stats = resample(n, resamples, rng, |idx| {
                let (s1, st) = estimate(&mut idx.iter().copied(), ab);
                s1_stats.push(s1);
                st
            });
            let mut st_stats = st_stats;
            SobolIndex {
                s1,
                s1_ci: if n > 1 {
                    percentile_interval(&mut s1_stats)
                } else {
                    None
                },
                st,
                st_ci: if n > 1 {
                    percentile_interval(&mut st_stats)
                } else {
                    None
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::super::design::{self, Saltelli};
    use super::*;

    /// The Ishigami function on [−π, π]³.
    fn ishigami(x: &[f64], a: f64, b: f64) -> f64 {
        let [x1, x2, x3] = [x[0], x[1], x[2]].map(|u| -std::f64::consts::PI + 2.0 * std::f64::consts::PI * u);
        x1.sin() + a * x2.sin().powi(2) + b * x3.powi(4) * x1.sin()
    }

    /// Analytic indices of the Ishigami function (Ishigami and Homma 1990; Sobol' and
    /// Levitan 1999): for a = 7, b = 0.1, S1 = (0.314, 0.442, 0), ST = (0.558, 0.442, 0.244).
    fn ishigami_indices(a: f64, b: f64) -> ([f64; 3], [f64; 3]) {
        let pi4 = std::f64::consts::PI.powi(4);
        let v1 = 0.5 * (1.0 + b * pi4 / 5.0).powi(2);
        let v2 = a * a / 8.0;
        let v13 = b * b * pi4 * pi4 * (1.0 / 18.0 - 1.0 / 50.0);
        let v = v1 + v2 + v13;
        ([v1 / v, v2 / v, 0.0], [(v1 + v13) / v, v2 / v, v13 / v])
    }

    #[test]
    fn the_analytic_ishigami_indices_are_the_published_ones() {
        let (s1, st) = ishigami_indices(7.0, 0.1);
        for (got, want) in s1.iter().zip([0.3139, 0.4424, 0.0]) {
            assert!((got - want).abs() < 5e-4, "{s1:?}");
        }
        for (got, want) in st.iter().zip([0.5576, 0.4424, 0.2437]) {
            assert!((got - want).abs() < 5e-4, "{st:?}");
        }
    }

    fn sobol_of(f: impl Fn(&[f64]) -> f64, k: usize, n: usize, seed: u64) -> Vec<SobolIndex> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let design = Saltelli::new(k, n, &mut rng).unwrap();
        let y: Vec<f64> = design.points().iter().map(|p| f(p)).collect();
        let y_ab: Vec<Vec<f64>> = (0..k).map(|i| y[(2 + i) * n..(3 + i) * n].to_vec()).collect();
        sobol(&y[..n], &y[n..2 * n], &y_ab, 200, &mut rng)
    }

    /// The estimators recover the analytic indices within 0.02 at N = 2048, and the
    /// bootstrap intervals hold the true values. A wrong estimator (swapped A and B,
    /// first-order for total, an uncentred output) misses by far more than that.
    #[test]
    fn ishigami_indices_are_recovered() {
        let (s1_true, st_true) = ishigami_indices(7.0, 0.1);
        for seed in [1, 2] {
            let found = sobol_of(|x| ishigami(x, 7.0, 0.1), 3, 2048, seed);
            for i in 0..3 {
                let SobolIndex { s1, s1_ci, st, st_ci } = found[i].clone();
                assert!(
                    (s1 - s1_true[i]).abs() < 0.02,
                    "seed {seed}: S1[{i}] = {s1}, want {}",
                    s1_true[i]
                );
                assert!(
                    (st - st_true[i]).abs() < 0.02,
                    "seed {seed}: ST[{i}] = {st}, want {}",
                    st_true[i]
                );
                let (s1_ci, st_ci) = (s1_ci.unwrap(), st_ci.unwrap());
                // Intervals hold the truth (a little slack for the QMC design) and are narrow.
                assert!(
                    s1_ci.low - 0.01 <= s1_true[i] && s1_true[i] <= s1_ci.high + 0.01,
                    "S1[{i}] {s1_ci:?}"
                );
                assert!(
                    st_ci.low - 0.01 <= st_true[i] && st_true[i] <= st_ci.high + 0.01,
                    "ST[{i}] {st_ci:?}"
                );
                assert!(s1_ci.high - s1_ci.low < 0.15 && st_ci.high - st_ci.low < 0.15);
            }
        }
    }

    /// An additive linear function: S1 = ST = a_i² / Σ a², and a parameter that does not
    /// enter has both indices zero (exactly, for ST).
    #[test]
    fn linear_function_indices_are_exact_shares() {
        let coefficients = [4.0, 2.0, 1.0, 0.0];
        let found = sobol_of(|x| coefficients.iter().zip(x).map(|(c, x)| c * x).sum(), 4, 1024, 5);
        let total: f64 = coefficients.iter().map(|c| c * c).sum();
        for (i, c) in coefficients.iter().enumerate() {
            let want = c * c / total;
            assert!((found[i].s1 - want).abs() < 0.01, "S1[{i}] = {}", found[i].s1);
            assert!((found[i].st - want).abs() < 0.01, "ST[{i}] = {}", found[i].st);
        }
        assert_eq!(found[3].st, 0.0);
    }

    fn morris_of(f: impl Fn(&[f64]) -> f64, k: usize, r: usize, seed: u64) -> Vec<MorrisIndex> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let trajectories = design::morris(k, r, 4, &mut rng);
        let outputs: Vec<Vec<f64>> = trajectories
            .iter()
            .map(|t| t.points().iter().map(|p| f(p)).collect())
            .collect();
        morris(k, &trajectories, &outputs, 500, &mut rng)
    }

    /// On a linear function every elementary effect is the coefficient: μ = μ* = |a_i|
    /// exactly and σ = 0.
    #[test]
    fn morris_effects_of_a_linear_function_are_its_coefficients() {
        let coefficients = [10.0, -5.0, 1.0, 0.0];
        let found = morris_of(|x| coefficients.iter().zip(x).map(|(c, x)| c * x).sum(), 4, 12, 1);
        for (i, c) in coefficients.iter().enumerate() {
            assert!((found[i].mu - c).abs() < 1e-9, "mu[{i}] = {}", found[i].mu);
            assert!((found[i].mu_star - c.abs()).abs() < 1e-9);
            assert!(found[i].sigma < 1e-9);
        }
    }

    /// A function with a strong linear factor, a non-linear one, an interaction and an
    /// inert one: μ* ranks them, σ flags the non-linear and interacting ones, and the
    /// inert factor's effects are exactly zero.
    #[test]
    fn morris_ranks_a_known_function() {
        // y = 8 x0 + 4 (x1 - 0.5)^2 * 12 + 6 x2 x3 + 0 x4
        let f = |x: &[f64]| 8.0 * x[0] + 48.0 * (x[1] - 0.5).powi(2) + 6.0 * x[2] * x[3];
        let found = morris_of(f, 5, 40, 9);
        let mu_star: Vec<f64> = found.iter().map(|m| m.mu_star).collect();
        assert!((found[0].mu_star - 8.0).abs() < 1e-9 && found[0].sigma < 1e-9);
        // x1 non-linear: symmetric around 0.5, so mu ~ 0 while mu* is large.
        assert!(found[1].mu_star > 5.0 && found[1].sigma > 5.0, "{:?}", found[1]);
        assert!(found[1].mu.abs() < found[1].mu_star / 2.0);
        // x2 and x3 interact: sigma > 0.
        assert!(found[2].sigma > 0.5 && found[3].sigma > 0.5);
        assert_eq!((found[4].mu_star, found[4].sigma), (0.0, 0.0));
        assert!(mu_star[0] > mu_star[2] && mu_star[1] > mu_star[2] && mu_star[2] > mu_star[4]);
        let ci = found[1].mu_star_ci.unwrap();
        assert!(ci.contains(found[1].mu_star) && ci.high - ci.low > 0.0);
    }
}
