//! Integration tests of `greatgame compare`, `sweep` and `sensitivity`: the real binary on
//! the shipped scenarios, shortened to eight quarters and a few replicates, in temporary
//! folders.

use std::fs;
use std::path::{Path, PathBuf};

mod common;

use common::*;

const COMPARISON_HEADER: [&str; 26] = [
    "metric",
    "host",
    "partner",
    "date",
    "scenario",
    "reference",
    "reference_mean",
    "mean",
    "difference",
    "ci_low",
    "ci_high",
    "ci_method",
    "exceeds_noise",
    "effect_size",
    "reference_sd",
    "sd",
    "reference_replicates",
    "replicates",
    "parameter_sets",
    "probability_of_direction",
    "probability_ci_low",
    "probability_ci_high",
    "relative_difference",
    "size_vs_min_effect",
    "large_enough",
    "likely_and_large",
];

// ------------------------------------------------------------------ helpers

/// Writes `dir/<name>.toml`: a shipped scenario (by absolute path) cut to eight quarters,
/// with `extra` appended.
fn short(dir: &Path, parent: &str, name: &str, extra: &str) -> PathBuf {
    variant(dir, parent, name, 8, None, extra)
}

// ------------------------------------------------------------------ compare

#[test]
fn compare_writes_table_charts_report_and_summary() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let base = short(dir.path(), "baseline", "base", "");
    let push = short(dir.path(), "us_minerals_push", "push", "");
    let output = ok(
        dir.path(),
        &[
            "compare",
            path_str(&base),
            path_str(&push),
            "-n",
            "12",
            "--metrics",
            "alignment",
            "--bootstrap",
            "200",
        ],
    );
    let folder = dir.path().join("output/compare-base-vs-push");
    let table = Table::read(&folder.join("comparison.csv"));
    assert_eq!(table.header, COMPARISON_HEADER);
    // alignment: 6 host rows x 3 partners, at two horizons.
    assert_eq!(table.rows.len(), 18 * 2);
    let mut dates = table.values("date");
    dates.sort_unstable();
    dates.dedup();
    assert_eq!(dates, ["2024Q4", "2025Q4"], "default horizons: mid-run and last");
    // The shipped scenarios run over the calibrated parameter sets: 12 replicates, the
    // first 12 sets, paired by set and replicate.
    assert!(table.values("ci_method").iter().all(|m| *m == "paired-set-bootstrap"));
    assert!(table.values("parameter_sets").iter().all(|k| *k == "12"));
    for (low, high) in table.numbers("ci_low").iter().zip(table.numbers("ci_high")) {
        assert!(low <= &high);
    }
    // The US push raises the hosts' alignment with the US, beyond the noise.
    let row = table
        .rows
        .iter()
        .find(|r| r[0] == "alignment" && r[1] == "C5" && r[2] == "USA" && r[3] == "2025Q4")
        .expect("C5 US alignment row");
    assert!(row[8].parse::<f64>().unwrap() > 0.0 && row[12] == "yes", "{row:?}");

    for stem in ["alignment", "host_KAZ", "host_UZB"] {
        for ext in ["png", "svg"] {
            let path = folder.join("charts").join(format!("{stem}.{ext}"));
            assert!(
                fs::metadata(&path).map(|m| m.len() > 1000).unwrap_or(false),
                "{}",
                path.display()
            );
        }
    }
    let report = fs::read_to_string(folder.join("report.html")).expect("report.html");
    assert!(report.starts_with("<!DOCTYPE html>") && report.trim_end().ends_with("</html>"));
    assert!(report.contains("class=\"gg-figure\""), "charts are drawn in the page");
    assert!(
        report.contains("href=\"charts/alignment.png\""),
        "the PNG files are linked"
    );
    assert!(!report.contains("src=\"http") && !report.contains("href=\"http") && !report.contains("<script src"));
    assert!(report.contains("paired-set-bootstrap"));
    let manifest = assert_header(&folder, "compare");
    assert_eq!(manifest["compared"][1]["seed"], manifest["compared"][0]["seed"]);

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("push vs base (paired by parameter set and replicate; 12 replicates on 12 parameter sets; paired-set-bootstrap)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("mean differences have a 95% interval that excludes 0"),
        "{stdout}"
    );
    assert!(stdout.contains("are likely (P(direction) >= 0.9"), "{stdout}");
    assert!(!dir.path().join("output").read_dir().unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with('.')));
}

/// The same scenario twice with the same seed: every paired difference is exactly zero.
/// The same scenario with two seeds (output folders, so the bootstrap is unpaired): the
/// intervals contain zero about 95% of the time.
#[test]
fn identical_scenarios_show_no_difference_beyond_the_noise() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let a = short(dir.path(), "baseline", "same_a", "");
    let b = short(dir.path(), "baseline", "same_b", "");
    let args = |extra: &[&str]| {
        let mut v = vec![
            "compare",
            path_str(&a),
            path_str(&b),
            "-n",
            "20",
            "--no-charts",
            "--bootstrap",
            "300",
        ];
        v.extend_from_slice(extra);
        v.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let run = args(&[]);
    let output = ok(dir.path(), &run.iter().map(String::as_str).collect::<Vec<_>>());
    let table = Table::read(&dir.path().join("output/compare-same_a-vs-same_b/comparison.csv"));
    assert!(table.numbers("difference").iter().all(|d| *d == 0.0));
    assert!(table.values("exceeds_noise").iter().all(|e| *e == "no"));
    assert!(table.numbers("ci_low").iter().all(|v| *v <= 0.0));
    assert!(table.numbers("ci_high").iter().all(|v| *v >= 0.0));
    assert!(String::from_utf8_lossy(&output.stdout).contains("no difference is both likely"));

    // Independent seeds, compared as earlier output folders.
    for (file, seed) in [(&a, "1"), (&b, "2")] {
        ok(
            dir.path(),
            &[
                "run",
                path_str(file),
                "-n",
                "40",
                "--seed",
                seed,
                "--per-replicate",
                "--no-charts",
                "--out",
                "runs",
                "--quiet",
            ],
        );
    }
    ok(
        dir.path(),
        &[
            "compare",
            "runs/same_a",
            "runs/same_b",
            "--no-charts",
            "--bootstrap",
            "400",
            "--metrics",
            "alignment,hedging_index,trade_share",
        ],
    );
    let table = Table::read(&dir.path().join("output/compare-same_a-vs-same_b/comparison.csv"));
    assert!(table.values("ci_method").iter().all(|m| *m == "unpaired-bootstrap"));
    let contain = table.values("exceeds_noise").iter().filter(|e| **e == "no").count();
    let share = contain as f64 / table.rows.len() as f64;
    assert!(
        share >= 0.85,
        "only {contain} of {} intervals contain zero",
        table.rows.len()
    );
}

#[test]
fn compare_uses_the_metrics_scenarios_share() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let base = short(dir.path(), "baseline", "base", "");
    let eu = short(dir.path(), "eu_global_gateway", "eu", "");
    let output = ok(
        dir.path(),
        &[
            "compare",
            path_str(&base),
            path_str(&eu),
            "-n",
            "6",
            "--no-charts",
            "--metrics",
            "alignment",
            "--at",
            "2025Q2",
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("partner EU is only in eu"), "{stderr}");
    let table = Table::read(&dir.path().join("output/compare-base-vs-eu/comparison.csv"));
    assert_eq!(table.rows.len(), 6 * 3);
    assert!(table
        .values("partner")
        .iter()
        .all(|p| ["CHN", "RUS", "USA"].contains(p)));
    assert!(table.values("date").iter().all(|d| *d == "2025Q2"));
}

#[test]
fn compare_reads_earlier_output_folders() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let base = short(dir.path(), "baseline", "base", "");
    let push = short(dir.path(), "us_minerals_push", "push", "");
    ok(
        dir.path(),
        &[
            "run",
            path_str(&base),
            "-n",
            "10",
            "--per-replicate",
            "--no-charts",
            "--out",
            "runs",
            "-q",
        ],
    );
    ok(
        dir.path(),
        &["run", path_str(&push), "-n", "10", "--no-charts", "--out", "runs", "-q"],
    );

    // A folder with replicates.csv and a scenario run now with its seed and count: paired.
    ok(
        dir.path(),
        &[
            "compare",
            "runs/base",
            path_str(&push),
            "--no-charts",
            "--metrics",
            "hedging_index",
        ],
    );
    let paired = Table::read(&dir.path().join("output/compare-base-vs-push/comparison.csv"));
    assert!(paired.values("ci_method").iter().all(|m| *m == "paired-set-bootstrap"));

    // The same scenario run now gives the same numbers as its folder.
    ok(
        dir.path(),
        &[
            "compare",
            path_str(&base),
            path_str(&push),
            "-n",
            "10",
            "--no-charts",
            "--metrics",
            "hedging_index",
        ],
    );
    let fresh = Table::read(&dir.path().join("output/compare-base-vs-push/comparison.csv"));
    assert_eq!(paired.rows, fresh.rows);

    // Without replicates.csv: the normal approximation, said so.
    let output = ok(
        dir.path(),
        &[
            "compare",
            "runs/base",
            "runs/push",
            "--no-charts",
            "--metrics",
            "hedging_index",
        ],
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("has no replicates.csv"));
    let normal = Table::read(&dir.path().join("output/compare-base-vs-push/comparison.csv"));
    assert!(normal.values("ci_method").iter().all(|m| *m == "normal-approx"));

    fails_with(dir.path(), &["compare", "runs/base", "."], 3, "without manifest.json");
}

#[test]
fn compare_output_is_the_same_on_any_thread_count() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let base = short(dir.path(), "baseline", "base", "");
    let other = short(dir.path(), "russia_weakened", "weak", "");
    for threads in ["1", "2"] {
        ok(
            dir.path(),
            &[
                "compare",
                path_str(&base),
                path_str(&other),
                "-n",
                "8",
                "--threads",
                threads,
                "--out",
                &format!("t{threads}"),
                "--metrics",
                "trade_share",
                // Charts are drawn from the same statistics; their determinism is tested
                // in output::figures.
                "--no-charts",
            ],
        );
    }
    for file in ["comparison.csv", "report.html"] {
        let read = |t: &str| fs::read(dir.path().join(t).join("compare-base-vs-weak").join(file)).expect(file);
        assert!(read("t1") == read("t2"), "{file} differs between thread counts");
    }
}

#[test]
fn compare_rejects_bad_requests_clearly() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let base = short(dir.path(), "baseline", "base", "");
    fails_with(dir.path(), &["compare", path_str(&base)], 2, "");
    fails_with(
        dir.path(),
        &["compare", path_str(&base), path_str(&base), "--metrics", "alignmnt"],
        2,
        "unknown metric \"alignmnt\"",
    );
    fails_with(
        dir.path(),
        &["compare", path_str(&base), path_str(&base), "--at", "2030Q1", "-n", "2"],
        2,
        "--at 2030Q1 is outside",
    );
    assert!(
        !dir.path().join("output").exists(),
        "nothing is written on a bad request"
    );
}

// ------------------------------------------------------------------ sweep

#[test]
fn sweep_runs_command_line_grids_and_the_scenario_table() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let base = short(dir.path(), "baseline", "base", "");
    let output = ok(
        dir.path(),
        &[
            "sweep",
            path_str(&base),
            "-n",
            "4",
            "--set",
            "patrons.USA.investment_budget_usd_bn=0.5,2",
            "--set",
            "model.alignment_inertia=0.04..0.12:3",
            "--metrics",
            "hedging_index",
            "--at",
            "2025Q4",
        ],
    );
    let folder = dir.path().join("output/sweep-base");
    assert_header(&folder, "sweep");
    let table = Table::read(&folder.join("sweep.csv"));
    assert_eq!(
        table.header,
        [
            "point",
            "patrons.USA.investment_budget_usd_bn",
            "model.alignment_inertia",
            "metric",
            "host",
            "partner",
            "date",
            "mean",
            "sd",
            "p05",
            "p50",
            "p95",
            "se"
        ]
    );
    assert_eq!(table.rows.len(), 6 * 6, "6 points x 6 host rows");
    let inertia: Vec<&str> = table.values("model.alignment_inertia");
    assert_eq!(
        &inertia[..18].iter().step_by(6).copied().collect::<Vec<_>>(),
        &["0.04", "0.08", "0.12"]
    );
    for stem in [
        "hedging_index-vs-patrons_USA_investment_budget_usd_bn",
        "hedging_index-vs-model_alignment_inertia",
    ] {
        assert!(folder.join("charts").join(format!("{stem}.png")).is_file(), "{stem}");
    }
    assert!(String::from_utf8_lossy(&output.stdout).contains("hedging_index C5"));

    // Without --set: the [sweep] table the shipped baseline carries.
    ok(
        dir.path(),
        &[
            "sweep",
            path_str(&base),
            "-n",
            "2",
            "--no-charts",
            "--metrics",
            "alignment",
        ],
    );
    let table = Table::read(&folder.join("sweep.csv"));
    let mut points = table.values("point");
    points.dedup();
    assert_eq!(points.len(), 5);
    assert_eq!(table.header[1], "patrons.USA.investment_budget_usd_bn");
}

#[test]
fn sweep_reads_a_design_file() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let base = short(dir.path(), "baseline", "base", "");
    fs::write(
        dir.path().join("design.csv"),
        "model.alignment_inertia,patrons.CHN.strategy.rule\n0.05,fixed\n0.1,learning\n0.15,best_response\n",
    )
    .unwrap();
    ok(
        dir.path(),
        &[
            "sweep",
            path_str(&base),
            "--design",
            "design.csv",
            "-n",
            "2",
            "--metrics",
            "hedging_index",
            "--at",
            "2025Q4",
        ],
    );
    let table = Table::read(&dir.path().join("output/sweep-base/sweep.csv"));
    assert_eq!(table.rows.len(), 3 * 6);
    assert_eq!(table.values("patrons.CHN.strategy.rule")[6], "learning");
}

#[test]
fn bad_sweep_points_are_reported_like_bad_files() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let base = short(dir.path(), "baseline", "base", "");
    let stderr = fails_with(
        dir.path(),
        &[
            "sweep",
            path_str(&base),
            "--set",
            "patrons.USA.investment_budget_usd_bn=1,-1",
            "-n",
            "2",
        ],
        3,
        "sweep point 2",
    );
    assert!(
        stderr.contains(
            "override patrons.USA.investment_budget_usd_bn = -1: patrons[2].investment_budget_usd_bn must be >= 0"
        ),
        "{stderr}"
    );
    fails_with(
        dir.path(),
        &[
            "sweep",
            path_str(&base),
            "--set",
            "model.alignment_inertai=0.1",
            "-n",
            "2",
        ],
        3,
        "model.alignment_inertai is not a known key",
    );
    fails_with(
        dir.path(),
        &["sweep", path_str(&base), "--set", "model.x", "-n", "2"],
        2,
        "expected KEY=VALUES",
    );
    let bad = short(
        dir.path(),
        "baseline",
        "bad",
        "[[sweep.parameters]]\nkey = \"model.alignment_inertia\"\nfrom = 0.1\n",
    );
    fails_with(dir.path(), &["sweep", path_str(&bad), "-n", "2"], 3, "bad.toml:");
    assert!(
        !dir.path().join("output").exists(),
        "nothing is written for a bad sweep"
    );
}

// ------------------------------------------------------------------ sensitivity

#[test]
fn sensitivity_ranks_parameters_on_the_shipped_baseline() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let base = short(dir.path(), "baseline", "base", "");
    let output = ok(
        dir.path(),
        &[
            "sensitivity",
            path_str(&base),
            "--outputs",
            "alignment:C5:USA,hedging_index",
            "--samples",
            "8",
            "--trajectories",
            "3",
            "-n",
            "2",
            "--bootstrap",
            "100",
        ],
    );
    let folder = dir.path().join("output/sensitivity-base");
    assert_header(&folder, "sensitivity");
    let table = Table::read(&folder.join("sensitivity.csv"));
    let k = 6; // the shipped baseline's [[sensitivity.parameters]]
    assert_eq!(table.rows.len(), 2 * k);
    for column in [
        "mu_star",
        "sigma",
        "s1",
        "st",
        "st_ci_low",
        "st_ci_high",
        "mu_star_ci_low",
    ] {
        assert!(
            table.values(column).iter().all(|v| v.parse::<f64>().is_ok()),
            "{column}"
        );
    }
    assert!(table.numbers("mu_star").iter().all(|v| *v >= 0.0));
    let points = Table::read(&folder.join("points.csv"));
    assert_eq!(points.rows.len(), 3 * (k + 1) + 8 * (k + 2));
    assert!(folder.join("charts/alignment_C5_USA_2025Q4.png").is_file());
    assert!(folder.join("charts/hedging_index_C5_2025Q4.svg").is_file());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("alignment:C5:USA@2025Q4") && stdout.contains("mu*") && stdout.contains("ST"));

    // Morris alone, from the command line, writes no Sobol' columns.
    ok(
        dir.path(),
        &[
            "sensitivity",
            path_str(&base),
            "--method",
            "morris",
            "--trajectories",
            "2",
            "-n",
            "2",
            "--no-charts",
            "--outputs",
            "hedging_index",
        ],
    );
    let table = Table::read(&folder.join("sensitivity.csv"));
    assert!(table.values("s1").iter().all(|v| v.is_empty()));
    assert!(table.values("mu_star").iter().all(|v| !v.is_empty()));
}

#[test]
fn sensitivity_needs_valid_ranges() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let bad = short(
        dir.path(),
        "baseline",
        "bad",
        "[[sensitivity.parameters]]\nkey = \"patrons.USA.investment_budget_usd_bn\"\nmin = -1.0\nmax = 1.0\n",
    );
    fails_with(
        dir.path(),
        &["sensitivity", path_str(&bad), "-n", "2"],
        3,
        "patrons[2].investment_budget_usd_bn must be >= 0",
    );
    let base = short(dir.path(), "baseline", "base", "");
    fails_with(
        dir.path(),
        &["sensitivity", path_str(&base), "--outputs", "alignment:XYZ", "-n", "2"],
        2,
        "no host \"XYZ\"",
    );
}

/// The design of the Sobol' analysis of every lever (docs/analysis.md, "Which levers drive
/// alignment"): each key is a lever of the baseline, named once, over a range of positive
/// width, and the scenario with every parameter at its minimum, and with every parameter at
/// its maximum, is valid. The only constraints between keys are sums bounded above, so then
/// every combination of values in the ranges is valid too.
#[test]
fn the_all_levers_design_names_baseline_levers_over_valid_ranges() {
    use greatgame::analysis::parameters::{overrides, parameters, Base};
    use greatgame::commands::levers::keys::{screened_keys, KeyClass};

    let path = repo().join("docs/analysis/sobol-all-levers.toml");
    let design = Base::read(&path).expect("the design file is a valid scenario");
    let spec = &design.loaded.resolved.sensitivity;
    let params = parameters(&design.tree, "sensitivity", &spec.parameters, &path).expect("valid ranges");
    let baseline = Base::read(&shipped("baseline")).expect("the baseline is valid");
    let levers: std::collections::BTreeSet<String> = screened_keys(&baseline.loaded.resolved)
        .into_iter()
        .filter(|k| k.class == KeyClass::Lever)
        .map(|k| k.key)
        .collect();
    assert!(params.len() > 400, "{} parameters", params.len());
    let mut seen = std::collections::BTreeSet::new();
    for p in &params {
        assert!(levers.contains(&p.key), "{} is not a lever of the baseline", p.key);
        assert!(seen.insert(p.key.as_str()), "{} is listed twice", p.key);
        assert!(p.min < p.max, "{}: range {}..{}", p.key, p.min, p.max);
    }
    for end in [0.0, 1.0] {
        if let Err(e) = design.with(&overrides(&params, &vec![end; params.len()]), || {
            format!("every parameter at {end}")
        }) {
            panic!("{e}");
        }
    }
}

/// Per-route and per-commodity metrics are compared like the base ones: the regional ones
/// on the C5 row only.
#[test]
fn compare_takes_per_route_and_per_commodity_metrics() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let base = short(dir.path(), "baseline", "base", "");
    let corridor = short(dir.path(), "middle_corridor_buildout", "corridor", "");
    ok(
        dir.path(),
        &[
            "compare",
            path_str(&base),
            path_str(&corridor),
            "-n",
            "6",
            "--bootstrap",
            "100",
            "--metrics",
            "route_cargo_mt.MIDDLE,alignment",
        ],
    );
    let folder = dir.path().join("output/compare-base-vs-corridor");
    let table = Table::read(&folder.join("comparison.csv"));
    let route: Vec<&Vec<String>> = table.rows.iter().filter(|r| r[0] == "route_cargo_mt.MIDDLE").collect();
    // Regional: the C5 row only, no partner, at both default horizons.
    assert_eq!(route.len(), 2, "{route:?}");
    assert!(route.iter().all(|r| r[1] == "C5" && r[2].is_empty()), "{route:?}");
    let last = route
        .iter()
        .find(|r| r[3] == "2025Q4")
        .expect("a row at the last horizon");
    assert!(
        last[8].parse::<f64>().unwrap() > 0.0,
        "the buildout carries more: {last:?}"
    );
    // alignment as before: 6 host rows x 3 partners at two horizons.
    assert_eq!(table.rows.iter().filter(|r| r[0] == "alignment").count(), 18 * 2);
    assert!(folder.join("charts/route_cargo_mt.MIDDLE.png").is_file());
    let manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(folder.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(
        manifest["metrics"],
        serde_json::json!(["route_cargo_mt.MIDDLE", "alignment"])
    );

    // A route only one input has is left out, with a note; a route none has is an error.
    let extra = short(
        dir.path(),
        "baseline",
        "extra",
        "[[routes]]\nid = \"ARCTIC\"\nname = \"Test route\"\ncapacity_mt = 1.0\ncost_usd_per_t = 300.0\n\
         transit_days = 30.0\nrisk = 0.2\ninvestment_usd_bn = 0.0\ncapacity_cost_usd_bn_per_mt = 0.3\n",
    );
    let output = ok(
        dir.path(),
        &[
            "compare",
            path_str(&base),
            path_str(&extra),
            "-n",
            "2",
            "--no-charts",
            "--metrics",
            "route_cargo_mt.ARCTIC,supply_share.rare_earths",
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("metric route_cargo_mt.ARCTIC is only in extra"),
        "{stderr}"
    );
    let table = Table::read(&dir.path().join("output/compare-base-vs-extra/comparison.csv"));
    assert!(table.values("metric").iter().all(|m| *m == "supply_share.rare_earths"));
    assert!(table.values("host").iter().all(|h| *h == "C5"));
    fails_with(
        dir.path(),
        &[
            "compare",
            path_str(&base),
            path_str(&extra),
            "--metrics",
            "route_cargo_mt.NOWHERE",
        ],
        2,
        "no input has metric \"route_cargo_mt.NOWHERE\"",
    );
}
