//! Property tests of the model and the ensemble through the library API.
//!
//! Every case runs the shipped scenarios cut to a short horizon, so each proptest case
//! stays cheap in a debug build.

use std::sync::OnceLock;

use greatgame::ensemble::{run_replicate, EnsembleConfig};
use greatgame::metrics::{MetricId, MetricLayout, METRICS};
use greatgame::model::Scenario;
use greatgame::scenario;
use proptest::prelude::*;

mod common;

use common::*;

/// Quarters simulated in each case.
const HORIZON: u32 = 12;

/// The built-in baseline (three patrons) and the EU variant (four), cut to [`HORIZON`].
fn scenarios() -> &'static [Scenario] {
    static SCENARIOS: OnceLock<Vec<Scenario>> = OnceLock::new();
    SCENARIOS.get_or_init(|| {
        let mut baseline = scenario::load_builtin_baseline().expect("built-in baseline loads");
        baseline.scenario.horizon_quarters = HORIZON;
        let eu_path = shipped("eu_global_gateway");
        let mut eu = scenario::load(&eu_path).expect("EU scenario loads");
        eu.scenario.horizon_quarters = HORIZON;
        assert_eq!(eu.scenario.n_patrons(), 4);
        vec![baseline.scenario, eu.scenario]
    })
}

fn baseline() -> &'static Scenario {
    &scenarios()[0]
}

fn config(seed: u64, replicates: u64, threads: Option<usize>) -> EnsembleConfig {
    ensemble_config(replicates, seed, threads)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// (a) Each host's alignment shares over the patrons, and the C5 row's, sum to one at
    /// every step of a replicate.
    #[test]
    fn alignment_shares_sum_to_one_for_every_host_and_c5_at_every_step(
        which in 0..2usize,
        seed in any::<u64>(),
        index in 0u64..10_000,
    ) {
        let scenario = &scenarios()[which];
        let layout = MetricLayout::new(scenario);
        let alignment = layout.base(MetricId::Alignment);
        let record = run_replicate(scenario, &layout, seed, index).expect("replicate runs");
        let n_cells = layout.n_cells();
        prop_assert_eq!(record.values.len(), HORIZON as usize * n_cells);
        for step in 0..HORIZON as usize {
            let values = &record.values[step * n_cells..(step + 1) * n_cells];
            for (row, host) in layout.host_labels.iter().enumerate() {
                let shares: Vec<f64> = (0..layout.partner_labels.len())
                    .map(|p| values[layout.index(alignment, row, Some(p))])
                    .collect();
                let sum: f64 = shares.iter().sum();
                prop_assert!(
                    (sum - 1.0).abs() <= 1e-9,
                    "step {} host {}: alignment {:?} sums to {}", step + 1, host, shares, sum
                );
                prop_assert!(shares.iter().all(|a| (0.0..=1.0).contains(a)), "shares {:?}", shares);
            }
        }
    }

    /// (b) For every cell of an ensemble: p05 <= p50 <= p95 and sd >= 0; one replicate
    /// has no spread.
    #[test]
    fn quantiles_are_ordered_and_sd_non_negative_in_every_cell(
        seed in any::<u64>(),
        replicates in 1u64..=24,
    ) {
        let summary = run_ensemble(baseline(), &config(seed, replicates, None), None);
        prop_assert_eq!(summary.replicates, replicates);
        prop_assert_eq!(summary.cells.len(), HORIZON as usize * summary.layout.n_cells());
        for (i, cell) in summary.cells.iter().enumerate() {
            prop_assert!(cell.sd >= 0.0, "cell {}: sd {}", i, cell.sd);
            prop_assert!(
                cell.p05 <= cell.p50 && cell.p50 <= cell.p95,
                "cell {}: p05 {} p50 {} p95 {}", i, cell.p05, cell.p50, cell.p95
            );
            if replicates == 1 {
                prop_assert_eq!(cell.sd, 0.0);
                prop_assert!(cell.p05 == cell.mean && cell.p50 == cell.mean && cell.p95 == cell.mean);
            }
        }
    }

    /// (c) The ensemble's statistics do not depend on the number of threads (up to 48
    /// replicates, so some runs span two chunks).
    #[test]
    fn ensemble_summary_is_identical_on_one_and_two_threads(
        seed in any::<u64>(),
        replicates in 1u64..=48,
    ) {
        let one = run_ensemble(baseline(), &config(seed, replicates, Some(1)), None);
        let two = run_ensemble(baseline(), &config(seed, replicates, Some(2)), None);
        prop_assert_eq!(one.n_steps, two.n_steps);
        prop_assert_eq!(one.cells.len(), two.cells.len());
        for (i, (a, b)) in one.cells.iter().zip(&two.cells).enumerate() {
            prop_assert_eq!(
                bits(&[a.mean, a.sd, a.p05, a.p50, a.p95]),
                bits(&[b.mean, b.sd, b.p05, b.p50, b.p95]),
                "cell {} differs: {:?} vs {:?}", i, a, b
            );
        }
        prop_assert_eq!(bits(&one.decision_means), bits(&two.decision_means));
    }

    /// (d) Every statistic, decision mean and replicate value is finite.
    #[test]
    fn every_value_is_finite(
        which in 0..2usize,
        seed in any::<u64>(),
        replicates in 1u64..=8,
    ) {
        let scenario = &scenarios()[which];
        let mut collect = Collect::default();
        let summary = run_ensemble(scenario, &config(seed, replicates, None), Some(&mut collect));
        for (i, cell) in summary.cells.iter().enumerate() {
            prop_assert!(
                [cell.mean, cell.sd, cell.p05, cell.p50, cell.p95].iter().all(|v| v.is_finite()),
                "cell {}: {:?}", i, cell
            );
        }
        prop_assert!(summary.decision_means.iter().all(|v| v.is_finite()));
        for (index, record) in &collect.0 {
            prop_assert!(record.values.iter().all(|v| v.is_finite()), "replicate {} values", index);
            prop_assert!(record.decisions.iter().all(|v| v.is_finite()), "replicate {} decisions", index);
        }
    }

    /// Replicate `i` of an ensemble is the replicate `run_replicate` computes alone, and
    /// the ensemble hands replicates to its observer in order: a replicate does not depend
    /// on the thread count or the size of the ensemble.
    #[test]
    fn ensemble_replicates_match_standalone_replicates_in_order(
        seed in any::<u64>(),
        replicates in 1u64..=40,
    ) {
        let scenario = baseline();
        let layout = MetricLayout::new(scenario);
        let mut collect = Collect::default();
        run_ensemble(scenario, &config(seed, replicates, Some(2)), Some(&mut collect));
        let indices: Vec<u64> = collect.0.iter().map(|(i, _)| *i).collect();
        prop_assert_eq!(indices, (0..replicates).collect::<Vec<_>>());
        for (index, record) in &collect.0 {
            let alone = run_replicate(scenario, &layout, seed, *index).expect("replicate runs");
            prop_assert_eq!(bits(&record.values), bits(&alone.values), "replicate {} values", index);
            prop_assert_eq!(bits(&record.decisions), bits(&alone.decisions), "replicate {} decisions", index);
        }
    }
}

/// The layout has one cell per metric, row and (for per-partner metrics) partner, and
/// its index is a bijection onto `0..n_cells`.
#[test]
fn metric_layout_indexes_every_cell_once() {
    for scenario in scenarios() {
        let layout = MetricLayout::new(scenario);
        assert_eq!(layout.n_rows(), scenario.n_hosts() + 1);
        assert_eq!(layout.host_labels.last().map(String::as_str), Some("C5"));
        // The base metrics come first, then the per-commodity and per-route ones.
        for (m, base) in METRICS.iter().enumerate() {
            assert_eq!(layout.metric(m).name, base.name);
        }
        let expected: usize = layout
            .metrics()
            .iter()
            .map(|m| {
                let rows = if m.regional { 1 } else { layout.n_rows() };
                rows * if m.per_partner { scenario.n_patrons() } else { 1 }
            })
            .sum();
        assert_eq!(layout.n_cells(), expected);
        let mut seen = vec![false; layout.n_cells()];
        for cell in layout.cells() {
            assert_eq!(cell.partner.is_some(), layout.metric(cell.metric).per_partner);
            if layout.metric(cell.metric).regional {
                assert_eq!(
                    cell.host,
                    layout.all_hosts_row(),
                    "regional metrics have only the C5 row"
                );
            }
            let i = layout.index(cell.metric, cell.host, cell.partner);
            assert!(!seen[i], "cell {cell:?} shares index {i}");
            seen[i] = true;
        }
        assert!(seen.iter().all(|s| *s), "some index has no cell");
    }
}

/// A run of zero replicates is refused with an error, not a panic, and leaves nothing in
/// the output root. (The command line rejects `--replicates 0` and validation rejects
/// `run.replicates = 0`, but the library's `run_scenario` takes `Some(0)`.)
#[test]
fn run_scenario_with_zero_replicates_fails_cleanly_without_panic_or_staging_folder() {
    use greatgame::commands::run::{run, RunOptions};
    use greatgame::job::{Cancel, Job, NoProgress, Settings};

    let mut loaded = scenario::load_builtin_baseline().expect("built-in baseline loads");
    loaded.scenario.horizon_quarters = 4;
    let tmp = tempfile::tempdir().expect("temporary folder");
    let root = tmp.path().join("out");
    let options = RunOptions {
        scenario: None,
        settings: Settings {
            replicates: Some(0),
            threads: Some(1),
            out: Some(root.clone()),
            max_memory_bytes: greatgame::ensemble::DEFAULT_MAX_MEMORY_BYTES,
            ..Settings::default()
        },
        per_replicate: false,
        parameter_sets: Default::default(),
    };
    let cancel = Cancel::new();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run(&loaded, &options, Job::new(&NoProgress, &cancel))
    }));
    let left: Vec<String> = std::fs::read_dir(&root)
        .map(|entries| {
            entries
                .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    assert!(result.is_ok(), "run panicked on zero replicates");
    assert!(result.unwrap().is_err(), "zero replicates should be an error");
    assert_eq!(left, Vec::<String>::new(), "files left in the output root");
}
