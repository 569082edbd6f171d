//! Integration tests of `greatgame levers`: the real binary in temporary folders.
//!
//! The screen of every shipped scenario is checked against the table "Inert parameters"
//! in `docs/MODEL.md`: a lever the screen finds inert must be listed there with its reason,
//! or the test fails naming it. The suite screens each scenario with one replicate over
//! the whole run: the test build is unoptimised and a screen moves each of some 400 keys
//! both ways, so 40 replicates would take the suite half an hour. One replicate still
//! answers the question for the dead levers, those that change no headline outcome at
//! all: on common random numbers a key that changes anything changes it in practically
//! every replicate, and with one replicate the screen calls a key inert only when nothing
//! changed. It cannot tell a weak effect from noise; the keys that are inert at the
//! default 40 replicates only because their effect is within the noise are checked by the
//! ignored test at the end, meant for an optimised build
//! (`cargo test --release --test levers -- --ignored`).

use std::fs;
use std::path::{Path, PathBuf};

mod common;

use common::*;

// ------------------------------------------------------------------ helpers

/// Writes `dir/<name>.toml`: the shipped baseline cut to eight quarters.
fn short_baseline(dir: &Path, name: &str) -> PathBuf {
    variant(dir, "baseline", name, 8, None, "")
}

/// The rows of `table` whose `column` is `value`.
fn rows_where<'a>(table: &'a Table, column: &str, value: &str) -> impl Iterator<Item = &'a Vec<String>> + 'a {
    let c = table.column(column);
    let value = value.to_string();
    table.rows.iter().filter(move |r| r[c] == value)
}

/// The first row of `table` whose `key` is `key`.
fn row_of<'a>(table: &'a Table, key: &str) -> &'a Vec<String> {
    rows_where(table, "key", key)
        .next()
        .unwrap_or_else(|| panic!("no row for {key}"))
}

fn get<'a>(table: &Table, row: &'a [String], column: &str) -> &'a str {
    &row[table.column(column)]
}

/// `*` any run of characters, `?` one character (the screen's `--keys` globs).
fn glob_match(pattern: &str, text: &str) -> bool {
    greatgame::commands::levers::glob_match(pattern, text)
}

/// Every shipped scenario's name (its file name without `.toml`, which the shipped
/// scenarios also take as their `name`).
fn shipped_names() -> Vec<String> {
    shipped_scenarios()
        .iter()
        .map(|p| p.file_stem().expect("a file name").to_string_lossy().into_owned())
        .collect()
}

/// One row of the table "Inert parameters" in docs/MODEL.md.
#[derive(Debug)]
struct Documented {
    scenario: String,
    key: String,
    reason: String,
}

impl Documented {
    fn covers(&self, scenario: &str, key: &str) -> bool {
        (self.scenario == "all" || self.scenario == scenario)
            && (glob_match(&self.key, key) || glob_match(&self.key, &key.replace('"', "")))
    }
}

/// The rows of the table under the heading "Inert parameters" in docs/MODEL.md.
fn documented() -> Vec<Documented> {
    let path = repo().join("docs/MODEL.md");
    let text = fs::read_to_string(&path).expect("docs/MODEL.md reads");
    let start = text
        .lines()
        .position(|l| l.starts_with('#') && l.contains("Inert parameters"))
        .expect("docs/MODEL.md has a section \"Inert parameters\"");
    let mut rows = Vec::new();
    let mut in_table = false;
    for line in text.lines().skip(start + 1) {
        if line.starts_with('#') {
            break;
        }
        let line = line.trim();
        if !line.starts_with('|') {
            if in_table {
                break;
            }
            continue;
        }
        in_table = true;
        let cells: Vec<String> = line
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().trim_matches('`').to_string())
            .collect();
        if cells.len() < 3 || cells[0] == "scenario" || cells[0].starts_with("---") {
            continue;
        }
        rows.push(Documented {
            scenario: cells[0].clone(),
            key: cells[1].clone(),
            reason: cells[2..].join("|"),
        });
    }
    assert!(
        rows.len() >= 5,
        "the table \"Inert parameters\" in docs/MODEL.md has only {} rows",
        rows.len()
    );
    let names = shipped_names();
    for row in &rows {
        assert!(
            row.scenario == "all" || names.contains(&row.scenario),
            "docs/MODEL.md, Inert parameters: {:?} is neither `all` nor a shipped scenario",
            row.scenario
        );
        assert!(
            !row.reason.is_empty(),
            "docs/MODEL.md, Inert parameters: {} has no reason",
            row.key
        );
    }
    rows
}

/// Runs the screen of each shipped scenario with `args` and checks that every lever it
/// finds inert (`only_unchanged`: only those that change no outcome at all) is
/// documented; also that every documented key names a key some screen saw.
fn check_shipped(args: &[&str], only_unchanged: bool) {
    let table = documented();
    let dir = tempfile::tempdir().expect("temporary folder");
    let out = path_str(dir.path()).to_string();
    let mut undocumented = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let mut inert_count = 0;
    for name in shipped_names() {
        let scenario = shipped(&name);
        let mut all_args = vec!["levers", path_str(&scenario), "--out", &out, "-q", "--no-charts"];
        all_args.extend_from_slice(args);
        ok(dir.path(), &all_args);
        let folder = dir.path().join(format!("levers-{name}"));
        let inert = Table::read(&folder.join("inert.csv"));
        let keys = Table::read(&folder.join("keys.csv"));
        assert!(keys.rows.len() > 100, "{name}: only {} keys screened", keys.rows.len());
        seen.extend(keys.values("key").into_iter().map(str::to_string));
        for row in rows_where(&inert, "class", "lever") {
            if only_unchanged && get(&inert, row, "unchanged") != "true" {
                continue;
            }
            inert_count += 1;
            let key = get(&inert, row, "key");
            if !table.iter().any(|d| d.covers(&name, key)) {
                undocumented.push(format!(
                    "{name}: {key} = {} (unchanged: {})",
                    get(&inert, row, "base_value"),
                    get(&inert, row, "unchanged")
                ));
            }
        }
    }
    assert!(
        inert_count > 0,
        "no screen found an inert lever: the check checked nothing"
    );
    assert!(
        undocumented.is_empty(),
        "inert levers not listed in docs/MODEL.md, \"Inert parameters\" (scenario or `all`, key or glob, reason):\n  {}",
        undocumented.join("\n  ")
    );
    let stale: Vec<&Documented> = table
        .iter()
        .filter(|d| {
            !seen
                .iter()
                .any(|k| glob_match(&d.key, k) || glob_match(&d.key, &k.replace('"', "")))
        })
        .collect();
    assert!(
        stale.is_empty(),
        "docs/MODEL.md, Inert parameters: these rows name no key of any shipped scenario: {stale:?}"
    );
}

// ------------------------------------------------------------------ the screen itself

#[test]
fn screen_writes_its_tables_and_the_same_bytes_on_one_or_two_threads() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let scenario = short_baseline(dir.path(), "short");
    let common = [
        "levers",
        path_str(&scenario),
        "--keys",
        "patrons.USA.*_budget_usd_bn",
        "--keys",
        "hosts.KAZ.population_m",
        "--keys",
        "model.alignment_inertia",
        "--outputs",
        "alignment:C5:USA,hedging_index",
        "-n",
        "6",
        "-q",
    ];
    let one = ok(dir.path(), &[&common[..], &["--threads", "1", "--out", "one"]].concat());
    ok(
        dir.path(),
        &[&common[..], &["--threads", "2", "--out", "two", "--no-charts"]].concat(),
    );
    for file in ["levers.csv", "inert.csv", "keys.csv"] {
        let a = fs::read(dir.path().join("one/levers-short").join(file)).expect("written");
        let b = fs::read(dir.path().join("two/levers-short").join(file)).expect("written");
        assert_eq!(a, b, "{file} differs between 1 and 2 threads");
    }
    let folder = dir.path().join("one/levers-short");
    for chart in ["tornado_alignment_C5_USA", "tornado_hedging_index_C5"] {
        for ext in ["png", "svg"] {
            let path = folder.join("charts").join(format!("{chart}.{ext}"));
            assert!(
                path.metadata().map(|m| m.len() > 1000).unwrap_or(false),
                "{} missing",
                path.display()
            );
        }
    }
    let manifest = assert_header(&folder, "levers");
    assert_eq!(manifest["replicates"], 6);
    assert_eq!(manifest["inputs"][0], path_str(&scenario));
    assert!(manifest["resolved_scenario"]["patrons"].is_array());
    let files = strings(&manifest["files"]);
    assert_eq!(
        files.iter().cloned().collect::<std::collections::BTreeSet<_>>(),
        file_list(&folder),
        "the manifest lists exactly the files written"
    );

    let levers = Table::read(&folder.join("levers.csv"));
    assert_eq!(
        levers.header,
        [
            "key",
            "class",
            "direction",
            "base_value",
            "perturbed_value",
            "metric",
            "host",
            "partner",
            "date",
            "base_mean",
            "perturbed_mean",
            "difference",
            "difference_sd",
            "ci_low",
            "ci_high",
            "exceeds_noise",
            "elasticity"
        ]
    );
    let keys = Table::read(&folder.join("keys.csv"));
    let screened = keys.values("key");
    // Defaults the file does not write are screened too.
    for key in [
        "patrons.USA.investment_budget_usd_bn",
        "patrons.USA.security_budget_usd_bn",
        "patrons.USA.minerals_budget_usd_bn",
        "patrons.USA.mapping_budget_usd_bn",
        "hosts.KAZ.population_m",
        "model.alignment_inertia",
    ] {
        assert!(screened.contains(&key), "{key} not screened: {screened:?}");
    }
    // Three outcomes (alignment with the USA, hedging) at two horizons, both ways.
    let budget = "patrons.USA.investment_budget_usd_bn";
    assert_eq!(rows_where(&levers, "key", budget).count(), 2 * 2 * 2);
    let budget_up = rows_where(&levers, "key", budget)
        .find(|r| get(&levers, r, "direction") == "up")
        .expect("an up row");
    assert_eq!(get(&levers, budget_up, "base_value"), "0.6");
    assert_eq!(get(&levers, budget_up, "perturbed_value"), "0.72");
    // The recorded difference is the perturbed mean less the base mean, inside its interval.
    for row in &levers.rows {
        let value = |c: &str| number(get(&levers, row, c), c);
        let d = value("difference");
        assert!((d - (value("perturbed_mean") - value("base_mean"))).abs() < 1e-9);
        assert!(value("ci_low") <= d && d <= value("ci_high"));
    }

    // The population is recorded, not read: inert, and nothing changes at all.
    let inert = Table::read(&folder.join("inert.csv"));
    let population = row_of(&inert, "hosts.KAZ.population_m");
    assert_eq!(get(&inert, population, "unchanged"), "true");
    // The US investment budget moves alignment with the US beyond the noise within two
    // years (on the steady start, alignment's inertia hardly does: nothing moves it).
    assert!(rows_where(&inert, "key", budget).next().is_none());
    let verdict = |key: &str| get(&keys, row_of(&keys, key), "verdict").to_string();
    assert_eq!(verdict(budget), "live");
    assert_eq!(verdict("hosts.KAZ.population_m"), "inert");

    let summary = stdout(&one);
    assert!(summary.contains("* hosts.KAZ.population_m = 20.33"), "{summary}");
    assert!(summary.contains("largest effects on alignment:C5:USA"), "{summary}");
}

/// Over parameter sets: replicate i of the base and of each perturbation runs set i mod K,
/// a key the sets hold is moved from each set's own value, the bytes are the same on one
/// or two threads, and the manifest records the sets.
#[test]
fn the_screen_over_parameter_sets_pairs_by_set_and_replicate() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let scenario = short_baseline(dir.path(), "short");
    let sets = dir.path().join("sets.csv");
    fs::write(
        &sets,
        "model.alignment_inertia,model.security_decay\n0.05,0.01\n0.2,0.05\n",
    )
    .expect("written");
    let common = [
        "levers",
        path_str(&scenario),
        "--keys",
        "model.alignment_inertia",
        "--keys",
        "patrons.USA.investment_budget_usd_bn",
        "--outputs",
        "alignment:C5:USA",
        "--parameter-sets",
        path_str(&sets),
        "-n",
        "4",
        "-q",
        "--no-charts",
    ];
    ok(dir.path(), &[&common[..], &["--threads", "1", "--out", "one"]].concat());
    ok(dir.path(), &[&common[..], &["--threads", "2", "--out", "two"]].concat());
    let a = fs::read(dir.path().join("one/levers-short/levers.csv")).expect("written");
    let b = fs::read(dir.path().join("two/levers-short/levers.csv")).expect("written");
    assert_eq!(a, b, "levers.csv differs between 1 and 2 threads");
    let folder = dir.path().join("one/levers-short");
    let manifest = assert_header(&folder, "levers");
    assert_eq!(manifest["parameter_sets"], 2);
    // Without the sets the screen of the same keys gives other numbers.
    let without: Vec<&str> = common
        .iter()
        .copied()
        .filter(|a| *a != "--parameter-sets" && *a != path_str(&sets))
        .chain(["--threads", "1", "--out", "none", "--no-parameter-sets"])
        .collect();
    ok(dir.path(), &without);
    let c = fs::read(dir.path().join("none/levers-short/levers.csv")).expect("written");
    assert_ne!(a, c, "the sets change the screen");
    let levers = Table::read(&folder.join("levers.csv"));
    let inertia = rows_where(&levers, "key", "model.alignment_inertia").count();
    assert!(inertia > 0, "the key the sets hold is screened");
}

#[test]
fn values_the_validator_refuses_and_values_at_a_bound_are_skipped_with_a_reason() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let scenario = short_baseline(dir.path(), "short");
    // Kazakhstan's arms shares and other suppliers add up to one: no share can rise.
    ok(
        dir.path(),
        &[
            "levers",
            path_str(&scenario),
            "--keys",
            "hosts.KAZ.ties.*.arms_share",
            "--keys",
            "hosts.KAZ.security_openness",
            "--keys",
            "patrons.CHN.processing_investment_usd_bn",
            "--outputs",
            "hedging_index",
            "-n",
            "3",
            "-q",
            "--no-charts",
            "--out",
            "out",
        ],
    );
    let keys = Table::read(&dir.path().join("out/levers-short/keys.csv"));
    let rus = row_of(&keys, "hosts.KAZ.ties.RUS.arms_share");
    assert_eq!(get(&keys, rus, "down_value"), "0.75");
    assert_eq!(get(&keys, rus, "down_status"), "ran");
    let up = get(&keys, rus, "up_status");
    assert!(up.contains("not valid") && up.contains("must not exceed 1"), "{rus:?}");
    let openness = row_of(&keys, "hosts.KAZ.security_openness");
    assert!(
        get(&keys, openness, "up_status").contains("top of its range"),
        "{openness:?}"
    );
    assert_eq!(get(&keys, openness, "step_rule"), "share ±0.1 clipped to 0..1");
    // A zero budget is moved by a step of the same budget elsewhere (the USA's 0.5).
    let processing = row_of(&keys, "patrons.CHN.processing_investment_usd_bn");
    assert_eq!(get(&keys, processing, "up_value"), "0.1");
    assert!(
        get(&keys, processing, "down_status").contains("must be >= 0"),
        "{processing:?}"
    );
}

#[test]
fn bad_options_are_refused_with_their_exit_codes_and_write_nothing() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let scenario = short_baseline(dir.path(), "short");
    let base = ["levers", path_str(&scenario), "-q", "--no-charts"];
    for (extra, code, message) in [
        (&["--keys", "nothing.*"][..], 2, "matches no numeric key"),
        (&["--step", "1.5"][..], 2, "--step must be above 0 and below 1"),
        (
            &["--share-step", "0.7"][..],
            2,
            "--share-step must be above 0 and at most 0.5",
        ),
        (&["--outputs", "alignmnt"][..], 2, "unknown metric"),
        (&["--at", "2040Q1"][..], 2, "outside"),
        (&["--max-memory-mb", "0"][..], 5, "over the limit"),
    ] {
        fails_with(dir.path(), &[&base[..], extra].concat(), code, message);
    }
    assert!(!dir.path().join("output").exists(), "a refused screen wrote output");
}

// ------------------------------------------------------------------ documented inert levers

/// Every shipped scenario: the levers that change no headline outcome at all are listed in
/// docs/MODEL.md with their reason.
#[test]
fn dead_levers_of_every_shipped_scenario_are_documented() {
    check_shipped(&["--replicates", "1", "--threads", "2"], true);
}

/// Every inert lever at the default settings (40 replicates), weak ones included. Slow in
/// the unoptimised test build: `cargo test --release --test levers -- --ignored`.
#[test]
#[ignore]
fn every_inert_lever_at_the_default_settings_is_documented() {
    check_shipped(&[], false);
}
