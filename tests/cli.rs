//! Integration tests of the `greatgame` binary: each test runs the real executable in a
//! temporary folder and checks its exit code, messages and output files.
//!
//! Runs are kept small (few replicates, short horizons) so the whole file takes seconds.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use greatgame::metrics::METRICS;
use greatgame::model::DecisionTerms;

mod common;

use common::*;

const BASELINE_HOSTS: [&str; 5] = ["KAZ", "KGZ", "TJK", "TKM", "UZB"];
const BASELINE_PATRONS: [&str; 3] = ["CHN", "RUS", "USA"];
const SUMMARY_HEADER: [&str; 10] = [
    "step", "date", "host", "partner", "metric", "mean", "sd", "p05", "p50", "p95",
];
const REPLICATES_HEADER: [&str; 7] = ["replicate", "step", "date", "host", "partner", "metric", "value"];

// ------------------------------------------------------------------ helpers

fn baseline_path() -> PathBuf {
    shipped("baseline")
}

/// Writes `dir/<name>.toml`: the shipped baseline with a short horizon, a few replicates
/// and `extra` appended.
fn small_scenario(dir: &Path, name: &str, horizon: u32, replicates: u64, extra: &str) -> PathBuf {
    variant(dir, "baseline", name, horizon, Some(replicates), extra)
}

/// The quarter label of step `step` (1-based) of a run starting in 2024Q1.
fn quarter_label(step: u32) -> String {
    let index = step - 1;
    format!("{}Q{}", 2024 + index / 4, index % 4 + 1)
}

/// 1-based number of the only line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    let lines: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, line)| line.contains(needle))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(lines.len(), 1, "{needle:?} should be on exactly one line");
    lines[0]
}

/// The `error:` line of `messages` containing `needle`, split into location and text.
/// Checks the location reads `file:line:column`.
fn error_line<'a>(messages: &'a str, needle: &str) -> (&'a str, usize, usize, &'a str) {
    let line = messages
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no message containing {needle:?} in:\n{messages}"));
    let rest = line
        .strip_prefix("error: ")
        .unwrap_or_else(|| panic!("message does not start with `error: `: {line}"));
    // file:line:column: message
    let mut parts = rest.splitn(4, ':');
    let file = parts.next().expect("file");
    let line_no = parts.next().and_then(|s| s.parse().ok());
    let column = parts.next().and_then(|s| s.parse().ok());
    let message = parts.next().map(str::trim);
    match (line_no, column, message) {
        (Some(l), Some(c), Some(m)) => (file, l, c, m),
        _ => panic!("message is not `file:line:column: ...`: {line}"),
    }
}

// ------------------------------------------------------------------ runs and files

#[test]
fn run_writes_summary_decisions_and_manifest_with_expected_contents() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = small_scenario(tmp.path(), "small", 8, 50, "");
    let args = [
        "run",
        path_str(&scenario),
        "--replicates",
        "4",
        "--seed",
        "7",
        "--out",
        "out",
        "--quiet",
        "--no-charts",
    ];
    ok(tmp.path(), &args);
    let dir = tmp.path().join("out").join("small");
    for file in ["summary.csv", "decisions.csv", "manifest.json"] {
        assert!(dir.join(file).is_file(), "{file} missing");
    }
    assert!(
        !dir.join("replicates.csv").exists(),
        "replicates.csv written without --per-replicate"
    );

    // manifest
    let manifest = assert_header(&dir, "run");
    assert_eq!(manifest["scenario_name"], "small");
    assert_eq!(manifest["seed"], 7, "the seed given on the command line");
    assert_eq!(manifest["replicates"], 4, "the replicates given on the command line");
    assert_eq!(manifest["steps"], 8);
    assert_eq!(manifest["start"], "2024Q1");
    assert_eq!(manifest["end"], "2025Q4");
    let files = strings(&manifest["scenario_files"]);
    assert_eq!(files.len(), 2, "the scenario and the baseline it extends: {files:?}");
    assert_eq!(files[0], path_str(&scenario), "the scenario file comes first");
    assert_eq!(
        fs::canonicalize(&files[1]).unwrap(),
        fs::canonicalize(baseline_path()).unwrap(),
        "the extended baseline is recorded"
    );
    let command_line = strings(&manifest["command_line"]);
    assert!(
        Path::new(&command_line[0])
            .file_stem()
            .is_some_and(|s| s == "greatgame"),
        "command line starts with the program: {command_line:?}"
    );
    assert_eq!(command_line[1..], args, "command line recorded verbatim");
    let listed: BTreeSet<String> = strings(&manifest["files"]).into_iter().collect();
    assert_eq!(listed, file_list(&dir), "manifest lists exactly the files written");
    let manifest_metrics = manifest["metrics"].as_array().expect("metrics array");
    let metric_names: Vec<&str> = manifest_metrics
        .iter()
        .map(|m| m["name"].as_str().expect("metric name"))
        .collect();
    let loaded = greatgame::scenario::load(&scenario).expect("the small scenario is valid");
    let layout = greatgame::metrics::MetricLayout::new(&loaded.scenario);
    let catalogue: Vec<&str> = layout.metrics().iter().map(|m| m.name.as_str()).collect();
    assert_eq!(metric_names, catalogue, "manifest lists every metric in order");
    assert_eq!(
        metric_names[..METRICS.len()],
        METRICS.iter().map(|m| m.name).collect::<Vec<_>>(),
        "the base metrics come first, in catalogue order"
    );
    let per_partner: BTreeMap<&str, bool> = manifest_metrics
        .iter()
        .map(|m| {
            let unit = m["unit"].as_str().expect("metric unit");
            assert!(!unit.is_empty(), "metric {} has no unit", m["name"]);
            (
                m["name"].as_str().unwrap(),
                m["per_partner"].as_bool().expect("per_partner flag"),
            )
        })
        .collect();
    assert_eq!(manifest["resolved_scenario"]["name"], "small");
    assert_eq!(manifest["resolved_scenario"]["time"]["horizon_quarters"], 8);

    // summary.csv
    let summary = Table::read(&dir.join("summary.csv"));
    assert_eq!(summary.header, SUMMARY_HEADER);
    let mut hosts: BTreeSet<String> = BASELINE_HOSTS.iter().map(|s| s.to_string()).collect();
    hosts.insert("C5".to_string());
    assert_eq!(summary.distinct("host"), hosts, "a row for every host and C5");
    let metrics: BTreeSet<String> = metric_names.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        summary.distinct("metric"),
        metrics,
        "every metric of the manifest, no other"
    );
    let steps: BTreeSet<u32> = summary.rows.iter().map(|r| r[0].parse().expect("step")).collect();
    assert_eq!(steps, (1..=8).collect(), "steps 1..=8");
    let patrons: BTreeSet<&str> = BASELINE_PATRONS.into_iter().collect();
    let mut seen = BTreeSet::new();
    let mut previous_step = 0;
    for row in &summary.rows {
        let step: u32 = row[0].parse().unwrap();
        assert!(step >= previous_step, "rows are in step order");
        previous_step = step;
        assert_eq!(row[1], quarter_label(step), "date of step {step}");
        let metric = row[4].as_str();
        if per_partner[metric] {
            assert!(
                patrons.contains(row[3].as_str()),
                "{metric} row with partner {:?}",
                row[3]
            );
        } else {
            assert_eq!(row[3], "", "{metric} has no partner");
        }
        assert!(
            seen.insert((step, row[2].clone(), row[3].clone(), row[4].clone())),
            "duplicate row {row:?}"
        );
        let what = format!("{row:?}");
        let [mean, sd, p05, p50, p95] = [5, 6, 7, 8, 9].map(|c| number(&row[c], &what));
        assert!(sd >= 0.0 && p05 <= p50 && p50 <= p95, "statistics out of order: {what}");
        assert!(mean.is_finite());
    }
    let cells_per_step: usize = layout
        .metrics()
        .iter()
        .map(|m| {
            let rows = if m.regional { 1 } else { hosts.len() };
            rows * if m.per_partner { patrons.len() } else { 1 }
        })
        .sum();
    assert_eq!(summary.rows.len(), 8 * cells_per_step, "the full grid, every cell once");

    // decisions.csv
    let decisions = Table::read(&dir.join("decisions.csv"));
    let mut header = vec!["step", "date", "host", "patron"];
    header.extend(DecisionTerms::NAMES);
    assert_eq!(decisions.header, header);
    assert_eq!(decisions.rows.len(), 8 * BASELINE_HOSTS.len() * BASELINE_PATRONS.len());
    let mut seen = BTreeSet::new();
    for row in &decisions.rows {
        let step: u32 = row[0].parse().expect("step");
        assert!((1..=8).contains(&step));
        assert_eq!(row[1], quarter_label(step));
        assert!(BASELINE_HOSTS.contains(&row[2].as_str()), "decision host {:?}", row[2]);
        assert!(
            BASELINE_PATRONS.contains(&row[3].as_str()),
            "decision patron {:?}",
            row[3]
        );
        assert!(seen.insert((step, row[2].clone(), row[3].clone())), "duplicate {row:?}");
        for value in &row[4..] {
            number(value, &format!("{row:?}"));
        }
    }
}

#[test]
fn per_replicate_writes_replicates_csv_with_replicates_0_to_n_minus_1() {
    let tmp = tempfile::tempdir().unwrap();
    // Replicates and seed come from the scenario (5 and the baseline's seed).
    let scenario = small_scenario(tmp.path(), "raw", 4, 5, "");
    ok(
        tmp.path(),
        &[
            "run",
            path_str(&scenario),
            "--per-replicate",
            "--no-charts",
            "--quiet",
            "--out",
            "out",
        ],
    );
    let dir = tmp.path().join("out").join("raw");
    let manifest = read_json(&dir.join("manifest.json"));
    assert_eq!(
        manifest["replicates"], 5,
        "replicates default to the scenario's run.replicates"
    );
    assert_eq!(manifest["seed"], 20240101, "seed defaults to the scenario's run.seed");
    let listed: BTreeSet<String> = strings(&manifest["files"]).into_iter().collect();
    assert!(
        listed.contains("replicates.csv"),
        "manifest lists replicates.csv: {listed:?}"
    );
    assert_eq!(listed, file_list(&dir));

    let raw = Table::read(&dir.join("replicates.csv"));
    assert_eq!(raw.header, REPLICATES_HEADER);
    let replicates: BTreeSet<u64> = raw.rows.iter().map(|r| r[0].parse().expect("replicate")).collect();
    assert_eq!(replicates, (0..5).collect(), "replicates 0..n-1");
    let summary = Table::read(&dir.join("summary.csv"));
    assert_eq!(raw.rows.len(), 5 * summary.rows.len(), "every cell of every replicate");

    // The summary's mean and median are those of the replicates' values.
    let mut values: BTreeMap<(String, String, String, String), Vec<f64>> = BTreeMap::new();
    for row in &raw.rows {
        let key = (row[1].clone(), row[3].clone(), row[4].clone(), row[5].clone());
        values.entry(key).or_default().push(number(&row[6], "replicate value"));
    }
    assert_eq!(values.len(), summary.rows.len());
    for row in &summary.rows {
        let key = (row[0].clone(), row[2].clone(), row[3].clone(), row[4].clone());
        let cell = values
            .get_mut(&key)
            .unwrap_or_else(|| panic!("no replicate values for {key:?}"));
        let mean = cell.iter().sum::<f64>() / cell.len() as f64;
        cell.sort_by(f64::total_cmp);
        let median = cell[cell.len() / 2];
        let (reported_mean, reported_median) = (number(&row[5], "mean"), number(&row[8], "p50"));
        let tolerance = 1e-9 * mean.abs().max(1.0);
        assert!(
            (reported_mean - mean).abs() <= tolerance,
            "{key:?}: mean {reported_mean} vs {mean}"
        );
        assert!(
            (reported_median - median).abs() <= tolerance,
            "{key:?}: median {reported_median} vs {median}"
        );
    }
}

#[test]
fn check_accepts_every_shipped_scenario() {
    let tmp = tempfile::tempdir().unwrap();
    let files = shipped_scenarios();
    let mut args = vec!["check"];
    args.extend(files.iter().map(|p| path_str(p)));
    let output = ok(tmp.path(), &args);
    let out = stdout(&output);
    for file in &files {
        assert!(
            out.lines().any(|l| l.starts_with(path_str(file)) && l.contains(": ok")),
            "no ok line for {}: {}",
            file.display(),
            describe(&output)
        );
    }
}

#[test]
fn every_shipped_scenario_runs_with_a_few_replicates() {
    let tmp = tempfile::tempdir().unwrap();
    for file in shipped_scenarios() {
        let name = greatgame::scenario::load(&file)
            .unwrap_or_else(|e| panic!("{} does not load: {e}", file.display()))
            .scenario
            .name;
        ok(
            tmp.path(),
            &[
                "run",
                path_str(&file),
                "--replicates",
                "3",
                "--no-charts",
                "--quiet",
                "--out",
                "out",
            ],
        );
        let dir = tmp.path().join("out").join(&name);
        let manifest = read_json(&dir.join("manifest.json"));
        assert_eq!(manifest["scenario_name"], name.as_str());
        assert_eq!(manifest["replicates"], 3);
        let summary = Table::read(&dir.join("summary.csv"));
        assert_eq!(summary.header, SUMMARY_HEADER);
        let steps = manifest["steps"].as_u64().expect("steps") as usize;
        let last_step = summary.rows.last().expect("summary has rows")[0]
            .parse::<usize>()
            .unwrap();
        assert_eq!(last_step, steps, "{name}: summary runs to the horizon");
        for row in &summary.rows {
            for value in &row[5..] {
                number(value, &format!("{name} {row:?}"));
            }
        }
    }
    assert_eq!(hidden_entries(&tmp.path().join("out")), Vec::<String>::new());
}

#[test]
fn run_without_scenario_uses_builtin_baseline() {
    let tmp = tempfile::tempdir().unwrap();
    ok(
        tmp.path(),
        &["run", "--replicates", "2", "--no-charts", "--quiet", "--out", "out"],
    );
    let dir = tmp.path().join("out").join("baseline");
    let manifest = read_json(&dir.join("manifest.json"));
    assert_eq!(manifest["scenario_name"], "baseline");
    assert_eq!(strings(&manifest["scenario_files"]), ["<built-in baseline>"]);
    assert_eq!(manifest["seed"], 20240101);
    assert_eq!(manifest["steps"], 48);
    assert_eq!(manifest["end"], "2035Q4");
    assert!(dir.join("summary.csv").is_file());
}

// ------------------------------------------------------------------ determinism

#[test]
fn output_is_byte_identical_for_one_two_and_three_threads() {
    let tmp = tempfile::tempdir().unwrap();
    // 40 replicates: two chunks on one or two threads, one chunk on three.
    let scenario = small_scenario(tmp.path(), "threads", 6, 40, "");
    for threads in ["1", "2", "3"] {
        ok(
            tmp.path(),
            &[
                "run",
                path_str(&scenario),
                "--threads",
                threads,
                "--per-replicate",
                "--no-charts",
                "--quiet",
                "--out",
                &format!("out{threads}"),
            ],
        );
    }
    let dir = |threads: &str| tmp.path().join(format!("out{threads}")).join("threads");
    assert!(dir("1").join("replicates.csv").is_file());
    assert_same_output(&dir("1"), &dir("2"));
    assert_same_output(&dir("1"), &dir("3"));
}

#[test]
fn same_seed_twice_gives_identical_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = small_scenario(tmp.path(), "again", 6, 6, "");
    let args = [
        "run",
        path_str(&scenario),
        "--seed",
        "99",
        "--per-replicate",
        "--no-charts",
        "--quiet",
        "--out",
        "out",
    ];
    let dir = tmp.path().join("out").join("again");
    ok(tmp.path(), &args);
    let first = snapshot(&dir);
    ok(tmp.path(), &args);
    let second = snapshot(&dir);
    assert_eq!(first.keys().collect::<Vec<_>>(), second.keys().collect::<Vec<_>>());
    for (file, bytes) in &first {
        assert!(
            bytes == &second[file],
            "{} differs between two identical runs",
            file.display()
        );
    }
}

#[test]
fn different_seed_gives_different_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = small_scenario(tmp.path(), "seeds", 6, 6, "");
    for seed in ["1", "2"] {
        ok(
            tmp.path(),
            &[
                "run",
                path_str(&scenario),
                "--seed",
                seed,
                "--no-charts",
                "--quiet",
                "--out",
                &format!("out{seed}"),
            ],
        );
    }
    let read = |seed: &str| fs::read(tmp.path().join(format!("out{seed}")).join("seeds").join("summary.csv")).unwrap();
    assert!(read("1") != read("2"), "seeds 1 and 2 gave the same summary.csv");
    let manifest = read_json(&tmp.path().join("out2").join("seeds").join("manifest.json"));
    assert_eq!(manifest["seed"], 2);
}

// ------------------------------------------------------------------ scenario problems

#[test]
fn check_reports_negative_budget_with_file_line_column_and_key_path() {
    let tmp = tempfile::tempdir().unwrap();
    let text = format!(
        "extends = {}\nname = \"broken\"\n\n[[patrons]]\nid = \"CHN\"\n\n[[patrons]]\nid = \"RUS\"\nsecurity_budget_usd_bn = -3\n",
        toml_string(path_str(&baseline_path()))
    );
    fs::write(tmp.path().join("broken.toml"), &text).unwrap();
    let output = greatgame(tmp.path(), &["check", "broken.toml"]);
    assert_exit(&output, 3, "check of a broken scenario");
    let messages = stderr(&output);
    let (file, line, column, message) = error_line(&messages, "security_budget_usd_bn");
    assert_eq!(file, "broken.toml");
    assert_eq!(line, line_of(&text, "security_budget_usd_bn = -3"));
    let source_line = text.lines().nth(line - 1).unwrap();
    assert!(
        column == 1 || column == source_line.find("-3").unwrap() + 1,
        "column {column} points at neither the key nor the value of {source_line:?}"
    );
    assert_eq!(message, "patrons[1].security_budget_usd_bn must be >= 0, got -3");
    assert!(messages.contains("1 of 1 scenario files have problems"), "{messages}");
}

#[test]
fn check_reports_unknown_keys_with_their_paths_and_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let text = format!(
        "extends = {}\nname = \"typos\"\ncolour = \"red\"\n\n[time]\nhorizon = 8\n\n\
         [[patrons]]\nid = \"CHN\"\n\n[[patrons]]\nid = \"RUS\"\nbudget = 2.0\n\n\
         [[hosts]]\nid = \"KAZ\"\n\n[hosts.ties.CHN]\ntrade = 3.0\n",
        toml_string(path_str(&baseline_path()))
    );
    fs::write(tmp.path().join("typos.toml"), &text).unwrap();
    let output = greatgame(tmp.path(), &["check", "typos.toml"]);
    assert_exit(&output, 3, "check of a scenario with unknown keys");
    let messages = stderr(&output);
    for (path, source) in [
        ("colour", "colour = "),
        ("time.horizon", "horizon = 8"),
        ("patrons[1].budget", "budget = 2.0"),
        ("hosts[0].ties.CHN.trade", "trade = 3.0"),
    ] {
        let (file, line, _, message) = error_line(&messages, &format!(" {path} is not a known key"));
        assert_eq!(file, "typos.toml");
        assert_eq!(
            message,
            format!("{path} is not a known key (see docs/scenario-format.md)")
        );
        assert_eq!(line, line_of(&text, source), "line of {path}");
    }
}

#[test]
fn check_reports_several_problems_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let text = format!(
        "extends = {}\nname = \"many\"\n\n[time]\nhorizon_quarters = 0\n\n\
         [[patrons]]\nid = \"CHN\"\nstrategy = {{ rule = \"telepathy\" }}\n\n\
         [[patrons]]\nid = \"RUS\"\nsecurity_budget_usd_bn = -3\nflavour = 1\n\n\
         [[hosts]]\nid = \"KAZ\"\nabsorptive_capacity = 1.5\n",
        toml_string(path_str(&baseline_path()))
    );
    fs::write(tmp.path().join("many.toml"), &text).unwrap();
    // A good file alongside is still checked and reported ok.
    let good = small_scenario(tmp.path(), "good", 4, 2, "");
    let output = greatgame(tmp.path(), &["check", "many.toml", path_str(&good)]);
    assert_exit(&output, 3, "check of one broken and one good scenario");
    let messages = stderr(&output);
    let expected = [
        (
            "time.horizon_quarters must be between 1 and 400",
            "horizon_quarters = 0",
        ),
        ("patrons[0].strategy.rule unknown rule \"telepathy\"", "telepathy"),
        (
            "patrons[1].security_budget_usd_bn must be >= 0, got -3",
            "security_budget_usd_bn",
        ),
        ("patrons[1].flavour is not a known key", "flavour"),
        (
            "hosts[0].absorptive_capacity must be between 0 and 1, got 1.5",
            "absorptive_capacity",
        ),
    ];
    for (needle, source) in expected {
        let (file, line, _, _) = error_line(&messages, needle);
        assert_eq!(file, "many.toml");
        assert_eq!(line, line_of(&text, source), "line of {needle:?}");
    }
    let errors = messages.lines().filter(|l| l.starts_with("error: ")).count();
    assert_eq!(errors, expected.len(), "each problem once, nothing else:\n{messages}");
    assert!(messages.contains("1 of 2 scenario files have problems"), "{messages}");
    assert!(
        stdout(&output).contains(&format!("{}: ok", path_str(&good))),
        "{}",
        describe(&output)
    );
}

#[test]
fn check_locates_inherited_problems_in_the_parent_file() {
    let tmp = tempfile::tempdir().unwrap();
    let parent = format!(
        "extends = {}\nname = \"parent\"\n\n[[patrons]]\nid = \"USA\"\ncredibility = 2.0\n",
        toml_string(path_str(&baseline_path()))
    );
    fs::write(tmp.path().join("parent.toml"), &parent).unwrap();
    fs::write(
        tmp.path().join("child.toml"),
        "extends = \"parent.toml\"\nname = \"child\"\n",
    )
    .unwrap();
    let output = greatgame(tmp.path(), &["check", "child.toml"]);
    assert_exit(&output, 3, "check of a scenario whose parent is broken");
    let messages = stderr(&output);
    let (file, line, _, message) = error_line(&messages, "credibility");
    assert_eq!(
        file, "parent.toml",
        "problem located in the parent file, where the value is written"
    );
    assert_eq!(line, line_of(&parent, "credibility = 2.0"));
    assert_eq!(message, "patrons[2].credibility must be between 0 and 1, got 2");
}

#[test]
fn check_reports_toml_syntax_error_with_location() {
    let tmp = tempfile::tempdir().unwrap();
    let text = "name = \"syntax\"\n\n[time]\nhorizon_quarters = = 8\n";
    fs::write(tmp.path().join("syntax.toml"), text).unwrap();
    let output = greatgame(tmp.path(), &["check", "syntax.toml"]);
    assert_exit(&output, 3, "check of a file that is not TOML");
    let messages = stderr(&output);
    let (file, line, _, message) = error_line(&messages, "invalid TOML");
    assert_eq!(file, "syntax.toml");
    assert_eq!(line, 4);
    assert!(message.starts_with("invalid TOML"), "{message}");
}

#[test]
fn run_on_missing_file_exits_3_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let output = greatgame(tmp.path(), &["run", "missing.toml", "--out", "out", "--no-charts"]);
    assert_exit(&output, 3, "run of a missing file");
    let messages = stderr(&output);
    assert!(
        messages.contains("missing.toml") && messages.contains("cannot read the file"),
        "message should name the file and say it cannot be read: {messages}"
    );
    assert!(!tmp.path().join("out").exists(), "output root created for a failed run");
    assert_eq!(entries(tmp.path()), BTreeSet::new(), "nothing written anywhere");
}

#[test]
fn run_on_invalid_scenario_exits_3_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = small_scenario(tmp.path(), "invalid", 0, 3, "");
    let output = greatgame(tmp.path(), &["run", path_str(&scenario), "--out", "out", "--no-charts"]);
    assert_exit(&output, 3, "run of an invalid scenario");
    assert!(
        stderr(&output).contains("time.horizon_quarters"),
        "{}",
        describe(&output)
    );
    assert!(
        !tmp.path().join("out").exists(),
        "output root created for an invalid scenario"
    );
}

// ------------------------------------------------------------------ output folders

#[test]
fn out_dir_holds_scenario_folder_and_no_staging_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = small_scenario(tmp.path(), "placed", 4, 3, "");
    let root = tmp.path().join("results").join("nested");
    let run = |seed: &str| {
        ok(
            tmp.path(),
            &[
                "run",
                path_str(&scenario),
                "--seed",
                seed,
                "--no-charts",
                "--out",
                path_str(&root),
            ],
        )
    };
    let first = run("1");
    assert_eq!(
        entries(&root),
        BTreeSet::from(["placed".to_string()]),
        "only DIR/<scenario name>/"
    );
    assert!(root.join("placed").join("summary.csv").is_file());
    assert!(
        stderr(&first).contains("wrote "),
        "a run that is not quiet says what it wrote: {}",
        describe(&first)
    );
    // A second run of another seed replaces the folder and leaves nothing aside.
    let second = run("2");
    assert_eq!(
        entries(&root),
        BTreeSet::from(["placed".to_string()]),
        "leftovers after replacing"
    );
    assert_eq!(read_json(&root.join("placed").join("manifest.json"))["seed"], 2);
    assert!(
        stderr(&second).contains("was replaced"),
        "replacing another run's output is noted: {}",
        describe(&second)
    );
}

/// When `DIR/<scenario name>` is an ordinary file, the run either replaces it cleanly
/// (exit 0, the output folder in its place, nothing hidden left over) or fails and
/// leaves it untouched, as the error message says. It must not do half of each.
#[test]
fn destination_that_is_a_file_is_replaced_cleanly_or_left_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = small_scenario(tmp.path(), "clash", 2, 2, "");
    let root = tmp.path().join("out");
    fs::create_dir(&root).unwrap();
    fs::write(root.join("clash"), "a file in the way").unwrap();
    let output = greatgame(
        tmp.path(),
        &["run", path_str(&scenario), "--no-charts", "--quiet", "--out", "out"],
    );
    assert_eq!(
        hidden_entries(&root),
        Vec::<String>::new(),
        "hidden leftovers: {}",
        describe(&output)
    );
    if output.status.success() {
        assert!(root.join("clash").join("manifest.json").is_file());
    } else {
        assert_eq!(
            fs::read_to_string(root.join("clash")).ok().as_deref(),
            Some("a file in the way"),
            "the run failed but did not leave the file untouched: {}",
            describe(&output)
        );
    }
}

#[test]
fn default_out_dir_is_output_in_the_current_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = small_scenario(tmp.path(), "here", 2, 2, "");
    let output = ok(tmp.path(), &["run", path_str(&scenario), "--no-charts", "--quiet"]);
    assert!(
        output.stderr.is_empty(),
        "--quiet prints nothing: {}",
        describe(&output)
    );
    assert!(tmp.path().join("output").join("here").join("summary.csv").is_file());
    assert_eq!(hidden_entries(&tmp.path().join("output")), Vec::<String>::new());
}

#[test]
fn unusable_output_root_exits_4() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = small_scenario(tmp.path(), "blocked", 2, 2, "");
    fs::write(tmp.path().join("afile"), "not a folder").unwrap();
    let output = greatgame(
        tmp.path(),
        &["run", path_str(&scenario), "--no-charts", "--quiet", "--out", "afile"],
    );
    assert_exit(&output, 4, "run into an output root that is a file");
    assert!(stderr(&output).starts_with("error: "), "{}", describe(&output));
    assert_eq!(fs::read_to_string(tmp.path().join("afile")).unwrap(), "not a folder");
}

#[test]
fn fourth_patron_scenario_runs_with_eu_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let file = repo().join("scenarios").join("eu_global_gateway.toml");
    ok(
        tmp.path(),
        &[
            "run",
            path_str(&file),
            "--replicates",
            "3",
            "--no-charts",
            "--quiet",
            "--out",
            "out",
        ],
    );
    let dir = tmp.path().join("out").join("eu_global_gateway");
    let summary = Table::read(&dir.join("summary.csv"));
    let mut partners: BTreeSet<String> = BASELINE_PATRONS.iter().map(|s| s.to_string()).collect();
    partners.insert("EU".to_string());
    partners.insert(String::new());
    assert_eq!(summary.distinct("partner"), partners);
    // Alignment with the four patrons sums to one for every host and C5 at every step.
    let mut sums: BTreeMap<(String, String), (f64, usize)> = BTreeMap::new();
    for row in summary.rows.iter().filter(|r| r[4] == "alignment") {
        let entry = sums.entry((row[0].clone(), row[2].clone())).or_default();
        entry.0 += number(&row[5], "alignment mean");
        entry.1 += 1;
    }
    assert_eq!(sums.len(), 48 * (BASELINE_HOSTS.len() + 1));
    for ((step, host), (sum, count)) in sums {
        assert_eq!(count, 4, "step {step} {host}: one alignment row per patron");
        assert!((sum - 1.0).abs() < 1e-9, "step {step} {host}: alignment sums to {sum}");
    }
    let decisions = Table::read(&dir.join("decisions.csv"));
    assert!(decisions.distinct("patron").contains("EU"), "decisions.csv has EU rows");
}

#[test]
fn max_memory_limit_refuses_large_run_up_front_with_exit_5() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = small_scenario(tmp.path(), "huge", 8, 3, "");
    let output = greatgame(
        tmp.path(),
        &[
            "run",
            path_str(&scenario),
            "--replicates",
            "1000000",
            "--max-memory-mb",
            "1",
            "--no-charts",
            "--out",
            "out",
        ],
    );
    assert_exit(&output, 5, "run over the memory limit");
    assert!(stderr(&output).contains("--max-memory-mb"), "{}", describe(&output));
    assert!(!tmp.path().join("out").exists(), "a refused run touches no disk");
}

#[test]
fn usage_errors_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    for args in [
        &["run", "--threads", "0"][..],
        &["run", "--replicates", "0"],
        &["run", "--replicates", "many"],
        &["run", "--no-such-flag"],
        &["check"],
        &["frobnicate"],
    ] {
        let output = greatgame(tmp.path(), args);
        assert_exit(&output, 2, &format!("greatgame {args:?}"));
    }
    assert_eq!(entries(tmp.path()), BTreeSet::new(), "usage errors write nothing");
    ok(tmp.path(), &["--help"]);
    ok(tmp.path(), &["--version"]);
}

// ------------------------------------------------------------------ charts

/// `greatgame` alone runs the built-in baseline with its own replicates and seed, with
/// charts, into `output/baseline/` under the current directory.
#[test]
fn no_arguments_runs_builtin_baseline_into_output_baseline() {
    let tmp = tempfile::tempdir().unwrap();
    ok(tmp.path(), &[]);
    let root = tmp.path().join("output");
    assert_eq!(entries(&root), BTreeSet::from(["baseline".to_string()]));
    let dir = root.join("baseline");
    let manifest = read_json(&dir.join("manifest.json"));
    assert_eq!(strings(&manifest["scenario_files"]), ["<built-in baseline>"]);
    assert_eq!(manifest["replicates"], 200, "the baseline's run.replicates");
    assert_eq!(manifest["seed"], 20240101, "the baseline's run.seed");
    for file in [
        "summary.csv",
        "decisions.csv",
        "charts/alignment.png",
        "charts/alignment.svg",
    ] {
        assert!(dir.join(file).is_file(), "{file} missing");
    }
}

/// Runs with charts (on one and two threads): PNG and SVG files exist, are listed in the
/// manifest and do not depend on the thread count.
#[test]
fn run_with_charts_writes_png_and_svg_charts() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = small_scenario(tmp.path(), "charted", 8, 5, "");
    for threads in ["1", "2"] {
        ok(
            tmp.path(),
            &[
                "run",
                path_str(&scenario),
                "--threads",
                threads,
                "--quiet",
                "--out",
                &format!("out{threads}"),
            ],
        );
        assert_eq!(
            hidden_entries(&tmp.path().join(format!("out{threads}"))),
            Vec::<String>::new()
        );
    }
    let dir = tmp.path().join("out1").join("charted");
    let charts = dir.join("charts");
    for file in ["alignment.png", "alignment.svg"] {
        assert!(charts.join(file).is_file(), "charts/{file} missing");
    }
    let listed: BTreeSet<String> = strings(&read_json(&dir.join("manifest.json"))["files"])
        .into_iter()
        .collect();
    assert_eq!(listed, file_list(&dir), "manifest lists every chart");
    for (file, bytes) in snapshot(&charts) {
        let name = file.display().to_string();
        match file.extension().and_then(|e| e.to_str()) {
            Some("png") => {
                assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{name} is not a PNG");
                assert!(
                    charts.join(file.with_extension("svg")).is_file(),
                    "{name} has no SVG twin"
                );
            }
            Some("svg") => {
                let text = String::from_utf8(bytes).unwrap_or_else(|_| panic!("{name} is not text"));
                assert!(text.contains("<svg"), "{name} is not an SVG");
                assert!(
                    charts.join(file.with_extension("png")).is_file(),
                    "{name} has no PNG twin"
                );
            }
            _ => panic!("unexpected file charts/{name}"),
        }
    }
    assert_same_output(&dir, &tmp.path().join("out2").join("charted"));
}

/// A run over parameter sets: the same bytes on one or two threads, `variance.csv` beside
/// `summary.csv` with shares in 0..1 that are not all zero, the manifest and the charts'
/// titles naming the sets; with `--no-parameter-sets` every between-set share is 0.
#[test]
fn a_run_over_parameter_sets_splits_the_variance_and_says_what_the_band_holds() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let scenario = variant(dir.path(), "baseline", "short", 8, None, "");
    let sets = dir.path().join("sets.csv");
    fs::write(
        &sets,
        "model.alignment_inertia,model.trade_gdp_elasticity\n0.03,0.5\n0.2,1.4\n",
    )
    .expect("written");
    let run = |threads: &str, out: &str, extra: &[&str]| {
        let mut args = vec![
            "run",
            path_str(&scenario),
            "-n",
            "8",
            "--threads",
            threads,
            "--out",
            out,
            "-q",
        ];
        args.extend_from_slice(extra);
        ok(dir.path(), &args);
        dir.path().join(out).join("short")
    };
    let one = run("1", "one", &["--parameter-sets", path_str(&sets)]);
    let two = run("2", "two", &["--parameter-sets", path_str(&sets), "--no-charts"]);
    for file in ["summary.csv", "variance.csv"] {
        assert_eq!(
            fs::read(one.join(file)).expect("written"),
            fs::read(two.join(file)).expect("written"),
            "{file} differs between 1 and 2 threads"
        );
    }
    let variance = Table::read(&one.join("variance.csv"));
    assert_eq!(
        variance.header,
        [
            "step",
            "date",
            "host",
            "partner",
            "metric",
            "variance",
            "between_sets",
            "within_sets",
            "between_share"
        ]
    );
    let shares: Vec<f64> = variance
        .values("between_share")
        .iter()
        .filter(|v| !v.is_empty())
        .map(|v| number(v, "between_share"))
        .collect();
    assert!(shares.iter().all(|s| (0.0..=1.0 + 1e-9).contains(s)));
    assert!(shares.iter().any(|s| *s > 0.5), "the sets carry some outcomes' spread");
    let summary = Table::read(&one.join("summary.csv"));
    assert_eq!(summary.rows.len(), variance.rows.len());
    let manifest = read_json(&one.join("manifest.json"));
    assert_eq!(manifest["parameter_sets"], 2);
    let svg = fs::read_to_string(one.join("charts/alignment.svg")).expect("chart");
    assert!(
        svg.contains("on 2 parameter sets"),
        "the title says what the band holds"
    );

    let none = run("1", "none", &["--no-parameter-sets", "--no-charts"]);
    let variance = Table::read(&none.join("variance.csv"));
    assert!(variance
        .values("between_share")
        .iter()
        .all(|v| v.is_empty() || number(v, "between_share") == 0.0));
    assert_eq!(read_json(&none.join("manifest.json"))["parameter_sets"], 0);
}
