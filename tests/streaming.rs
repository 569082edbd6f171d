//! Streaming statistics of whole ensembles (over 1,000 replicates): the same bits on any
//! thread count and any split into parts, within the documented tolerance of the exact
//! statistics, and memory that does not grow with the replicate count.

use std::sync::atomic::AtomicBool;

use greatgame::ensemble::{
    self, EnsembleConfig, EnsemblePart, EnsembleSummary, ReplicateRecord, StatisticsMethod,
    EXACT_QUANTILES_MAX_REPLICATES,
};
use greatgame::model::Scenario;
use greatgame::stats::exact::ExactSum;
use greatgame::stats::streaming::Bins;
use greatgame::stats::{describe, quantile_sorted, QUANTILES};

mod common;

use common::*;

const REPLICATES: u64 = 1_100;

fn baseline(horizon: u32) -> Scenario {
    baseline_scenario(horizon)
}

fn config(replicates: u64, threads: Option<usize>) -> EnsembleConfig {
    ensemble_config(replicates, 99, threads)
}

fn bits(summary: &EnsembleSummary) -> (Vec<[u64; 5]>, Vec<u64>) {
    summary_bits(summary)
}

#[test]
fn streaming_is_used_above_the_exact_limit_only() {
    assert_eq!(
        ensemble::statistics_method(EXACT_QUANTILES_MAX_REPLICATES),
        StatisticsMethod::Exact
    );
    assert_eq!(
        ensemble::statistics_method(EXACT_QUANTILES_MAX_REPLICATES + 1),
        StatisticsMethod::Streaming
    );
}

/// The memory estimate does not grow with the replicate count once statistics stream:
/// 100,000 replicates need no more than 1,001, and less than the 1,000 of exact
/// statistics.
#[test]
fn memory_estimate_is_flat_above_the_exact_limit() {
    let s = baseline(48);
    let exact = ensemble::memory_estimate(&s, 1_000, 2);
    let small = ensemble::memory_estimate(&s, 1_001, 2);
    let large = ensemble::memory_estimate(&s, 100_000, 2);
    let huge = ensemble::memory_estimate(&s, 100_000_000, 2);
    assert_eq!(small, large);
    assert_eq!(large, huge);
    assert!(
        large < exact,
        "streaming {large} bytes, exact at 1,000 replicates {exact} bytes"
    );
}

/// One and two threads, and the ensemble split into parts run separately and merged in
/// any order, give the same bits; the streamed statistics are within the documented
/// tolerance of the exact ones computed from every replicate's values.
#[test]
fn streamed_ensemble_is_thread_and_split_independent_and_within_tolerance() {
    let s = baseline(3);
    let cancel = AtomicBool::new(false);
    let mut collect = Collect::default();
    let one = ensemble::run(&s, &config(REPLICATES, Some(1)), &|| {}, &cancel, Some(&mut collect)).expect("runs");
    let two = ensemble::run(&s, &config(REPLICATES, Some(2)), &|| {}, &cancel, None).expect("runs");
    assert_eq!(bits(&one), bits(&two), "one and two threads differ");

    let blocks = ensemble::n_blocks(REPLICATES);
    let cuts = [0, 1, 5, 17, blocks];
    let mut parts: Vec<EnsemblePart> = cuts
        .windows(2)
        .map(|w| ensemble::run_part(&s, &config(REPLICATES, Some(2)), w[0]..w[1], &|| {}, &cancel, None).expect("part"))
        .collect();
    parts.swap(0, 3);
    let merged = EnsemblePart::merge(parts).expect("parts merge");
    let merged = merged.finish(&s, Some(1)).expect("complete");
    assert_eq!(bits(&one), bits(&merged), "merged parts differ from the single run");

    // Against the exact statistics.
    let records: Vec<ReplicateRecord> = collect
        .0
        .into_iter()
        .enumerate()
        .map(|(i, (index, record))| {
            assert_eq!(index, i as u64, "records arrive in replicate order");
            record
        })
        .collect();
    assert_eq!(records.len() as u64, REPLICATES);
    let n = records.len();
    let pilot = 128;
    let mut worst_quantile_error_in_bins: f64 = 0.0;
    for (series, cell) in one.cells.iter().enumerate() {
        let mut values: Vec<f64> = records.iter().map(|r| r.values[series]).collect();
        let bins = Bins::from_pilot(&values[..pilot]);
        // Exact mean and sd from exact sums (see stats::streaming's tests).
        let mut sum = ExactSum::new();
        values.iter().for_each(|&v| sum.add(v));
        let high = sum.value() / n as f64;
        let mut rest = sum.clone();
        (0..n).for_each(|_| rest.add(-high));
        let low = rest.value() / n as f64;
        let mut squares = ExactSum::new();
        values.iter().for_each(|&v| {
            let d = (v - high) - low;
            squares.add(d * d)
        });
        let mean = high + low;
        let sd = (squares.value() / (n - 1) as f64).sqrt();
        let scale = mean.abs().max(sd).max(f64::MIN_POSITIVE);
        assert!(
            (cell.mean - mean).abs() <= 1e-12 * scale,
            "series {series}: mean {} vs exact {mean}",
            cell.mean
        );
        assert!(
            (cell.sd - sd).abs() <= 1e-12 * sd.max(f64::MIN_POSITIVE) || cell.sd == sd,
            "series {series}: sd {} vs exact {sd}",
            cell.sd
        );
        let exact = describe(&mut values);
        values.sort_unstable_by(f64::total_cmp);
        let (min, max) = (values[0], values[n - 1]);
        for (q, got) in QUANTILES.iter().zip([cell.p05, cell.p50, cell.p95]) {
            let position = q * (n - 1) as f64;
            let lower = position.floor() as usize;
            let width = [lower, (lower + 1).min(n - 1)]
                .iter()
                .map(|&k| {
                    let (left, right) = bins.edges(bins.slot(values[k]));
                    right.clamp(min, max) - left.clamp(min, max)
                })
                .fold(0.0, f64::max);
            let want = quantile_sorted(&values, *q);
            let slack = 1e-9 * width + 1e-12 * want.abs().max(bins.start().abs());
            assert!(
                (got - want).abs() <= width + slack,
                "series {series}: q{q} {got} vs exact {want}, bin width {width}"
            );
            if width > 0.0 {
                worst_quantile_error_in_bins = worst_quantile_error_in_bins.max((got - want).abs() / width);
            }
        }
        assert!(exact.p05 <= exact.p95);
    }
    assert!(worst_quantile_error_in_bins <= 1.0 + 1e-6);
}
