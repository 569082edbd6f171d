//! Reading results and writing scenarios: the run's `report.html` and `greatgame explain`
//! (an account checked against the numbers for a scenario built to have a known cause),
//! `greatgame new`, and metric names as a person types them.

use std::path::{Path, PathBuf};

use greatgame::chart::interactive::escape;
use greatgame::commands::explain::{account, ExplainOptions};
use greatgame::format::{short, signed};

mod common;

use common::*;

/// Two hosts and two patrons; Patron A offers its finance to Alpha only, and doubles it
/// for two years from 2026Q1.
const KNOWN_CAUSE: &str = r#"
name = "known_cause"
description = "If Patron A doubles its finance for Alpha from 2026Q1, how far does Alpha move toward it?"

[time]
start = "2024Q1"
horizon_quarters = 16

[run]
replicates = 24
seed = 11

[[patrons]]
id = "PA"
name = "Patron A"
investment_budget_usd_bn = 2.0
credibility = 0.8
allocation = { ALF = 1.0 }

[[patrons]]
id = "PB"
name = "Patron B"
investment_budget_usd_bn = 2.0
credibility = 0.6

[[hosts]]
id = "ALF"
name = "Alpha"
gdp_usd_bn = 50.0
ties.PA = { trade_usd_bn = 5.0, fdi_stock_usd_bn = 2.0, arms_share = 0.3 }
ties.PB = { trade_usd_bn = 5.0, fdi_stock_usd_bn = 2.0, arms_share = 0.3 }

[[hosts]]
id = "BET"
name = "Beta"
gdp_usd_bn = 20.0
ties.PA = { trade_usd_bn = 2.0 }
ties.PB = { trade_usd_bn = 2.0 }

[[events]]
name = "Patron A doubles its finance for Alpha"
at = "2026Q1"
duration_quarters = 8
effects = [{ actor = "PA", quantity = "investment_budget_usd_bn", op = "multiply", value = 2.0 }]
"#;

/// Runs the known-cause scenario into `dir/out/known_cause`.
fn known_cause_run(dir: &Path) -> PathBuf {
    let scenario = dir.join("known_cause.toml");
    std::fs::write(&scenario, KNOWN_CAUSE).expect("write the scenario");
    ok(
        dir,
        &["run", "known_cause.toml", "--out", "out", "--quiet", "--no-charts"],
    );
    dir.join("out").join("known_cause")
}

/// Mean of one decision term of (host, patron) over the steps `steps` (1-based), read
/// from decisions.csv by hand.
fn term_mean(folder: &Path, host: &str, patron: &str, term: &str, steps: std::ops::RangeInclusive<usize>) -> f64 {
    let table = Table::read(&folder.join("decisions.csv"));
    let (c_step, c_host, c_patron, c_term) = (
        table.column("step"),
        table.column("host"),
        table.column("patron"),
        table.column(term),
    );
    let values: Vec<f64> = table
        .rows
        .iter()
        .filter(|r| r[c_host] == host && r[c_patron] == patron)
        .filter(|r| steps.contains(&r[c_step].parse::<usize>().expect("a step")))
        .map(|r| number(&r[c_term], term))
        .collect();
    assert_eq!(values.len(), steps.count());
    values.iter().sum::<f64>() / values.len() as f64
}

/// The mean of one cell of summary.csv at a step (1-based).
fn summary_mean(folder: &Path, metric: &str, host: &str, partner: &str, step: usize) -> f64 {
    let table = Table::read(&folder.join("summary.csv"));
    let c = |n: &str| table.column(n);
    let row = table
        .rows
        .iter()
        .find(|r| {
            r[c("metric")] == metric
                && r[c("host")] == host
                && r[c("partner")] == partner
                && r[c("step")] == step.to_string()
        })
        .expect("the cell is in summary.csv");
    number(&row[c("mean")], metric)
}

#[test]
fn the_account_names_a_known_cause_with_its_numbers() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let folder = known_cause_run(dir.path());

    // The event starts at step 9 (2026Q1): four quarters before it, four in it.
    let before = term_mean(&folder, "ALF", "PA", "economic", 5..=8);
    let during = term_mean(&folder, "ALF", "PA", "economic", 9..=12);
    assert!(
        during > 1.5 * before && before > 0.0,
        "doubling the budget roughly doubles the economic term: {before} -> {during}"
    );
    let accepted_before = term_mean(&folder, "ALF", "PA", "acceptance", 5..=8);
    let accepted_during = term_mean(&folder, "ALF", "PA", "acceptance", 9..=12);
    let align_before = summary_mean(&folder, "alignment", "ALF", "PA", 8);
    let align_after = summary_mean(&folder, "alignment", "ALF", "PA", 16);

    let output = ok(dir.path(), &["explain", "out/known_cause", "--host", "ALF"]);
    let text = stdout(&output);
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let expected = [
        "Question: If Patron A doubles its finance for Alpha from 2026Q1".to_string(),
        "\"Patron A doubles its finance for Alpha\" (PA investment_budget_usd_bn \u{d7}2) was in force from 2026Q1 to the end of the run (8 quarters)"
            .to_string(),
        format!(
            "the economic term of Patron A's offers to Alpha averaged {} % of quarterly GDP against {} in the 4 quarters before ({}), the largest change of any term",
            signed(during),
            signed(before),
            signed(during - before)
        ),
        format!(
            "Alpha took {}% of the offers against {}%",
            short(100.0 * accepted_during),
            short(100.0 * accepted_before)
        ),
        format!(
            "Alpha's alignment with Patron A went from {} in 2025Q4 to {} in 2027Q4 ({})",
            short(align_before),
            short(align_after),
            signed(align_after - align_before)
        ),
        "The economic term rests on Patron A's investment_budget_usd_bn 2, the 100% of Patron A's budgets allocated to Alpha"
            .to_string(),
    ];
    for want in &expected {
        assert!(flat.contains(want.as_str()), "the account lacks {want:?}:\n{text}");
    }
    assert!(!flat.contains("Beta ("), "--host ALF shows only Alpha:\n{text}");

    // The report says the same, sentence by sentence, and opens with the question.
    let report = std::fs::read_to_string(folder.join("report.html")).expect("report.html is written");
    let account = account(&ExplainOptions {
        folder: folder.clone(),
        host: None,
    })
    .expect("the account reads");
    for host in &account.hosts {
        for section in &host.sections {
            for sentence in &section.sentences {
                assert!(report.contains(&escape(sentence)), "the report lacks {sentence:?}");
            }
        }
    }
    let question = report
        .find("If Patron A doubles its finance")
        .expect("the question is in the report");
    let first_chart = report.find("class=\"gg-figure\"").expect("charts are in the report");
    assert!(question < first_chart, "the question comes first");
    // Headline outcomes at the start, mid-run and end, with bands.
    for quarter in ["2024Q1", "2025Q4", "2027Q4"] {
        assert!(
            report.contains(&format!("<th>{quarter}</th>")),
            "headline table lacks {quarter}"
        );
    }
    // Self-contained: nothing is fetched.
    for outside in ["<script src", "<link ", "<img src=\"http", "url(http"] {
        assert!(!report.contains(outside), "the report loads {outside}");
    }
    // The manifest lists the report.
    let manifest = std::fs::read_to_string(folder.join("manifest.json")).expect("manifest");
    assert!(manifest.contains("\"report.html\""));
}

#[test]
fn explain_reads_a_folder_and_names_hosts_as_typed() {
    let dir = tempfile::tempdir().expect("temporary folder");
    known_cause_run(dir.path());
    let all = stdout(&ok(dir.path(), &["explain", "out/known_cause"]));
    assert!(all.contains("Alpha (ALF)") && all.contains("Beta (BET)"), "{all}");
    let by_name = stdout(&ok(dir.path(), &["explain", "out/known_cause", "--host", "beta"]));
    assert!(
        by_name.contains("Beta (BET)") && !by_name.contains("Alpha (ALF)"),
        "{by_name}"
    );
    fails_with(
        dir.path(),
        &["explain", "out/known_cause", "--host", "ALFA"],
        2,
        "did you mean \"ALF\"",
    );
    fails_with(dir.path(), &["explain", "out"], 3, "manifest.json");

    // A run recorded before a key was added to the format still reads: the key takes its
    // default. A damaged table is an error naming the file.
    let manifest_path = dir.path().join("out/known_cause/manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest_path).expect("manifest")).expect("JSON");
    manifest["resolved_scenario"]["model"]
        .as_object_mut()
        .expect("the model table")
        .remove("world_growth_pct");
    std::fs::write(&manifest_path, manifest.to_string()).expect("write");
    assert_eq!(stdout(&ok(dir.path(), &["explain", "out/known_cause"])), all);
    let decisions = dir.path().join("out/known_cause/decisions.csv");
    let text = std::fs::read_to_string(&decisions).expect("decisions.csv");
    std::fs::write(&decisions, text.replacen("ALF", "XYZ", 1)).expect("write");
    fails_with(dir.path(), &["explain", "out/known_cause"], 3, "decisions.csv");
}

#[test]
fn new_writes_a_commented_variant_that_validates_and_never_overwrites() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let scenarios = dir.path().join("scenarios");
    std::fs::create_dir_all(scenarios.join("schema")).expect("folders");
    std::fs::copy(shipped("baseline"), scenarios.join("baseline.toml")).expect("copy the baseline");
    std::fs::copy(
        repo().join("scenarios/schema/scenario.schema.json"),
        scenarios.join("schema/scenario.schema.json"),
    )
    .expect("copy the schema");

    ok(dir.path(), &["new", "my_question", "--extends", "baseline"]);
    let path = scenarios.join("my_question.toml");
    let text = std::fs::read_to_string(&path).expect("the variant is written");
    assert!(text.starts_with("#:schema ./schema/scenario.schema.json\n"), "{text}");
    assert!(text.contains("extends = \"./baseline.toml\""), "{text}");
    assert!(text.contains("# Question:"), "{text}");
    assert!(
        text.contains("# investment_budget_usd_bn = ") && text.contains("USD bn a year, 0 to 1e6; default 0."),
        "levers with unit, range and default:\n{text}"
    );

    // As written it loads, and changes nothing but its name and description.
    let parent = greatgame::scenario::load(&scenarios.join("baseline.toml")).expect("the parent loads");
    let child = greatgame::scenario::load(&path).expect("the variant loads");
    let strip = |mut v: serde_json::Value| {
        if let Some(m) = v.as_object_mut() {
            m.remove("name");
            m.remove("description");
        }
        v
    };
    assert_eq!(child.scenario.name, "my_question");
    assert_eq!(strip(child.resolved_json()), strip(parent.resolved_json()));

    // Every commented lever line, uncommented, is valid TOML at the right key with the
    // parent's value: the variant still loads and still equals its parent.
    let uncommented: String = text
        .lines()
        .map(|line| {
            let body = line.strip_prefix("# ").unwrap_or(line);
            let is_toml = body.starts_with('[') && body.ends_with(']')
                || body
                    .split_once(" = ")
                    .is_some_and(|(k, _)| !k.contains(' ') && !k.is_empty());
            if line.starts_with("# ") && is_toml && !line.starts_with("#:") {
                format!("{body}\n")
            } else {
                format!("{line}\n")
            }
        })
        .collect();
    assert!(uncommented.contains("\n[[events]]\n"), "{uncommented}");
    let full = scenarios.join("uncommented.toml");
    std::fs::write(
        &full,
        uncommented.replace("name = \"my_question\"", "name = \"uncommented\""),
    )
    .expect("write");
    let loaded = greatgame::scenario::load(&full).unwrap_or_else(|e| panic!("the uncommented variant loads: {e}"));
    assert_eq!(loaded.scenario.events.len(), parent.scenario.events.len() + 1);

    // Never overwrites; a missing parent or a bad name is a usage error.
    fails_with(
        dir.path(),
        &["new", "my_question", "--extends", "baseline"],
        2,
        "already exists",
    );
    assert_eq!(std::fs::read_to_string(&path).expect("still there"), text);
    fails_with(
        dir.path(),
        &["new", "other", "--extends", "nowhere"],
        2,
        "no such scenario",
    );
    fails_with(dir.path(), &["new", ".hidden"], 2, "a scenario name is");
}

#[test]
fn metric_families_select_every_route_and_unknown_names_suggest_the_nearest() {
    let dir = tempfile::tempdir().expect("temporary folder");
    for name in ["a", "b"] {
        let path = variant(dir.path(), "baseline", name, 4, Some(4), "");
        ok(
            dir.path(),
            &["run", path_str(&path), "--out", "out", "--quiet", "--no-charts"],
        );
    }
    ok(
        dir.path(),
        &[
            "compare",
            "out/a",
            "out/b",
            "--metrics",
            "route_share,supply_share",
            "--out",
            "cmp",
            "--quiet",
            "--no-charts",
        ],
    );
    let table = Table::read(&dir.path().join("cmp/compare-a-vs-b/comparison.csv"));
    let metrics = table.distinct("metric");
    let baseline = greatgame::scenario::load(&shipped("baseline"))
        .expect("the baseline loads")
        .scenario;
    for route in &baseline.routes {
        assert!(metrics.contains(&format!("route_share.{}", route.id)), "{metrics:?}");
    }
    for commodity in &baseline.commodities {
        assert!(
            metrics.contains(&format!("supply_share.{}", commodity.id)),
            "{metrics:?}"
        );
    }
    let stderr = fails_with(
        dir.path(),
        &["compare", "out/a", "out/b", "--metrics", "alignmnt", "--quiet"],
        2,
        "did you mean \"alignment\"",
    );
    assert!(stderr.len() < 400, "no list of every metric: {stderr}");
}
