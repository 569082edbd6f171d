//! The calibration's sample of parameter sets: the global stage's points weighted by their
//! loss (importance weights with a temperature) and resampled systematically.

use super::{Evaluation, Stage};

/// The importance weights of the evaluations (0 outside the global stage), normalised to
/// sum to 1, with their temperature and effective sample size.
#[derive(Debug, Clone)]
pub struct Weights {
    pub weights: Vec<f64>,
    /// τ, and `T = τ · fit_best` (the fit of the global stage's best point).
    pub tau: f64,
    pub t: f64,
    /// `(Σw)² / Σw²`.
    pub ess: f64,
}

impl Weights {
    pub fn of(evaluations: &[Evaluation], tau: f64) -> Weights {
        let global = |e: &Evaluation| e.stage == Stage::Global && e.loss.is_finite();
        let min_loss = evaluations
            .iter()
            .filter(|e| global(e))
            .map(|e| e.loss)
            .fold(f64::INFINITY, f64::min);
        let best_fit = evaluations
            .iter()
            .filter(|e| global(e) && e.loss == min_loss)
            .map(|e| e.fit)
            .next()
            .unwrap_or(1.0);
        // A perfect fit would make every other point weightless: keep T above zero.
        let t = (tau * best_fit).max(1e-12);
        let raw: Vec<f64> = evaluations
            .iter()
            .map(|e| {
                if global(e) {
                    (-(e.loss - min_loss) / t).exp()
                } else {
                    0.0
                }
            })
            .collect();
        let sum: f64 = raw.iter().sum();
        let weights: Vec<f64> = raw.iter().map(|w| if sum > 0.0 { w / sum } else { 0.0 }).collect();
        let squares: f64 = weights.iter().map(|w| w * w).sum();
        Weights {
            weights,
            tau,
            t,
            ess: if squares > 0.0 { 1.0 / squares } else { 0.0 },
        }
    }

    /// `n` evaluation indices by systematic resampling (pointers at `(j + ½) / n` on the
    /// weights' cumulative sum), in evaluation order; a point of weight `w` appears about
    /// `n·w` times.
    pub fn resample(&self, n: usize) -> Vec<usize> {
        let mut out = Vec::with_capacity(n);
        let mut cumulative = 0.0;
        let mut j = 0;
        let last = self.weights.iter().rposition(|&w| w > 0.0);
        for (i, &w) in self.weights.iter().enumerate() {
            cumulative += w;
            while j < n && ((j as f64 + 0.5) / n as f64 <= cumulative || Some(i) == last) {
                out.push(i);
                j += 1;
            }
        }
        out
    }
}

pub(super) fn distinct(kept: &[usize]) -> usize {
    let mut d = kept.to_vec();
    d.sort_unstable();
    d.dedup();
    d.len()
}
