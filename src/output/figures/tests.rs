//! Figures drawn from a small run: every chart renders, for many actors and degenerate data.
use std::sync::atomic::AtomicBool;

use super::*;
use crate::ensemble::EnsembleConfig;
use crate::metrics::MetricLayout;

fn small_run() -> (Scenario, EnsembleSummary) {
    let scenario = crate::scenario::load_builtin_baseline()
        .expect("the built-in baseline loads")
        .scenario;
    let config = EnsembleConfig {
        replicates: 4,
        seed: 1,
        threads: Some(1),
        max_memory_bytes: u64::MAX,
    };
    let summary =
        crate::ensemble::run(&scenario, &config, &|| {}, &AtomicBool::new(false), None).expect("the ensemble runs");
    (scenario, summary)
}

#[test]
fn charts_are_written_as_png_and_svg_with_text() {
    let (scenario, summary) = small_run();
    let dir = tempfile::tempdir().expect("temporary folder");
    let written = write_charts(&scenario, &summary, dir.path(), &|| false).expect("charts are drawn");

    let mut stems: Vec<String> = [
        "alignment",
        "trade_shares",
        "hedging_index",
        "investment",
        "minerals",
        "routes",
    ]
    .map(String::from)
    .to_vec();
    stems.extend(scenario.hosts.iter().map(|h| format!("decisions_{}", h.id)));
    let expected: Vec<PathBuf> = stems
        .iter()
        .flat_map(|stem| ["png", "svg"].map(|ext| dir.path().join(format!("{stem}.{ext}"))))
        .collect();
    assert_eq!(written, expected);

    for path in &written {
        let bytes = std::fs::read(path).expect("chart file exists");
        if path.extension().is_some_and(|e| e == "png") {
            assert!(
                bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
                "{} is not a PNG",
                path.display()
            );
            assert!(bytes.len() > 20_000, "{} is only {} bytes", path.display(), bytes.len());
        } else {
            let text = String::from_utf8(bytes).expect("SVG is text");
            assert!(text.contains("<svg"), "{} is not an SVG", path.display());
            assert!(text.contains("<text"), "{} has no text", path.display());
        }
    }
    let svg = |stem: &str| std::fs::read_to_string(dir.path().join(format!("{stem}.svg"))).unwrap_or_default();
    assert!(svg("alignment").contains("Alignment with each patron"));
    assert!(svg("alignment").contains(&scenario.hosts[0].name));
    assert!(svg("alignment").contains(&scenario.patrons[0].name));
    assert!(svg("trade_shares").contains("share of the five host states"));
    assert!(svg("hedging_index").contains("Hedging index of each host"));
    assert!(svg("investment").contains(&format!("{} disbursed", scenario.patrons[0].name)));
}

#[test]
fn charts_are_deterministic() {
    let (scenario, summary) = small_run();
    let a = tempfile::tempdir().expect("temporary folder");
    let b = tempfile::tempdir().expect("temporary folder");
    let first = write_charts(&scenario, &summary, a.path(), &|| false).expect("charts are drawn");
    let second = write_charts(&scenario, &summary, b.path(), &|| false).expect("charts are drawn");
    for (x, y) in first.iter().zip(&second) {
        let x_bytes = std::fs::read(x).expect("chart file exists");
        let y_bytes = std::fs::read(y).expect("chart file exists");
        assert!(x_bytes == y_bytes, "{} differs between runs", x.display());
    }
}

#[test]
fn missing_folder_is_an_error_not_a_panic() {
    let (scenario, summary) = small_run();
    let dir = tempfile::tempdir().expect("temporary folder");
    let missing = dir.path().join("does-not-exist");
    let err = write_charts(&scenario, &summary, &missing, &|| false).expect_err("cannot write into a missing folder");
    assert!(err.path.starts_with(&missing));
}

/// A summary with made-up statistics for a scenario with more actors than the
/// baseline: the charts must cope with any number of hosts and patrons.
fn synthetic(
    n_hosts: usize,
    n_patrons: usize,
    n_steps: u32,
    value: impl Fn(usize, usize) -> f64,
) -> (Scenario, EnsembleSummary) {
    let mut scenario = crate::scenario::load_builtin_baseline()
        .expect("the built-in baseline loads")
        .scenario;
    let host = scenario.hosts[0].clone();
    let patron = scenario.patrons[0].clone();
    scenario.hosts = (0..n_hosts)
        .map(|h| {
            let mut host = host.clone();
            host.id = format!("H{h}");
            host.name = format!("Host number {h}");
            host
        })
        .collect();
    scenario.patrons = (0..n_patrons)
        .map(|p| {
            let mut patron = patron.clone();
            patron.id = format!("P{p}");
            patron.name = format!("Patron {p}");
            patron
        })
        .collect();
    scenario.horizon_quarters = n_steps;
    let layout = MetricLayout::new(&scenario);
    let n_cells = layout.n_cells();
    let cells = (0..n_steps as usize * n_cells)
        .map(|i| {
            let v = value(i / n_cells, i % n_cells);
            crate::stats::CellStats {
                mean: v,
                sd: 0.0,
                p05: 0.8 * v,
                p50: v,
                p95: 1.2 * v,
            }
        })
        .collect();
    let summary = EnsembleSummary {
        layout,
        n_steps: n_steps as usize,
        replicates: 1,
        cells,
        decision_means: Vec::new(),
        parameter_sets: 1,
        variance: Vec::new(),
    };
    (scenario, summary)
}

#[test]
fn many_actors_and_degenerate_data_are_drawn() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let (scenario, summary) = synthetic(6, 8, 16, |step, cell| ((step + 1) * (cell % 13 + 1)) as f64 / 500.0);
    let written = write_charts(&scenario, &summary, dir.path(), &|| false).expect("charts are drawn");
    // Four charts, minerals and routes where the scenario has them, one per host of
    // decision terms; each as PNG and SVG.
    let optional = usize::from(!scenario.commodities.is_empty()) + usize::from(!scenario.routes.is_empty());
    assert_eq!(written.len(), 2 * (4 + optional + scenario.n_hosts()));
    let svg = std::fs::read_to_string(dir.path().join("investment.svg")).unwrap_or_default();
    assert!(svg.contains("Patron 7 disbursed"));

    // One step, all zero; and no steps at all.
    for steps in [1, 0] {
        let (scenario, summary) = synthetic(1, 1, steps, |_, _| 0.0);
        let written = write_charts(&scenario, &summary, dir.path(), &|| false).expect("charts are drawn");
        let optional = usize::from(!scenario.commodities.is_empty()) + usize::from(!scenario.routes.is_empty());
        assert_eq!(written.len(), 2 * (4 + optional + scenario.n_hosts()));
    }
}

#[test]
fn mismatched_summary_is_an_error_not_a_panic() {
    let (scenario, _) = synthetic(2, 2, 4, |_, _| 0.5);
    let (_, other) = synthetic(3, 2, 4, |_, _| 0.5);
    let dir = tempfile::tempdir().expect("temporary folder");
    assert!(write_charts(&scenario, &other, dir.path(), &|| false).is_err());
}
