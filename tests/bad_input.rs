//! Bad scenario input gets a clear error naming the file, line, column and key, never a
//! panic. The corpus in `tests/bad_scenarios/` is table-driven: each file states the
//! problems it must produce in `# expect:` lines. Inputs that cannot be written as text
//! files (binary, non-UTF-8, huge, deeply nested) are generated here.

use std::path::PathBuf;
use std::process::Command;

use greatgame::scenario::{self, ScenarioError};

mod common;

use common::*;

fn corpus_dir() -> PathBuf {
    repo().join("tests").join("bad_scenarios")
}

fn rendered(error: &ScenarioError) -> String {
    error.problems.iter().map(|p| format!("{p}\n")).collect()
}

fn expectations(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.strip_prefix("# expect: "))
        .map(|s| s.trim().to_string())
        .collect()
}

#[test]
fn every_corpus_file_fails_with_its_expected_messages() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("corpus folder exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 15, "the corpus has {} files", files.len());
    let mut failures = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("corpus files are UTF-8");
        let expected = expectations(&text);
        assert!(!expected.is_empty(), "{} has no `# expect:` line", path.display());
        match scenario::load(path) {
            Ok(_) => failures.push(format!("{}: loaded without error", path.display())),
            Err(error) => {
                let messages = rendered(&error);
                for want in &expected {
                    if !messages.contains(want.as_str()) {
                        failures.push(format!("{}: expected {want:?} among:\n{messages}", path.display()));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Writes `bytes` to a fresh file and loads it, returning the rendered problems.
fn load_bytes(name: &str, bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write test input");
    match scenario::load(&path) {
        Ok(_) => panic!("{name} loaded without error"),
        Err(error) => rendered(&error),
    }
}

#[test]
fn empty_and_blank_files_are_rejected() {
    assert!(load_bytes("empty.toml", b"").contains("empty.toml: is empty"));
    assert!(load_bytes("blank.toml", b"  \n\n\t\n").contains("is empty"));
}

#[test]
fn binary_file_is_rejected() {
    let message = load_bytes("binary.toml", &[0x7f, b'E', b'L', b'F', 0, 1, 2, 3, 0, 0]);
    assert!(message.contains("binary.toml:1:5: contains NUL bytes"), "{message}");
}

#[test]
fn non_utf8_file_names_the_line_and_column() {
    let message = load_bytes("latin1.toml", b"# ok\nname = \"caf\xe9\"\n");
    assert!(message.contains("latin1.toml:2:12: is not valid UTF-8"), "{message}");
}

#[test]
fn absurdly_deep_nesting_is_an_error_not_a_stack_overflow() {
    let arrays = format!("a = {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    assert!(load_bytes("arrays.toml", arrays.as_bytes()).contains("invalid TOML"));
    let tables = format!("a = {}1{}\n", "{ b = ".repeat(50_000), " }".repeat(50_000));
    assert!(load_bytes("tables.toml", tables.as_bytes()).contains("invalid TOML"));
    let dotted = format!("{} = 1\n", vec!["k"; 50_000].join("."));
    assert!(load_bytes("dotted.toml", dotted.as_bytes()).contains("invalid TOML"));
}

#[test]
fn a_file_of_many_megabytes_is_refused_before_parsing() {
    let mut text = String::from("# padding\n");
    while text.len() <= 11 * 1024 * 1024 {
        text.push_str("# ........................................................................\n");
    }
    let message = load_bytes("huge.toml", text.as_bytes());
    assert!(message.contains("scenario files are limited to 10 MiB"), "{message}");
}

#[test]
fn a_directory_or_missing_file_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let error = scenario::load(dir.path()).expect_err("a directory is not a scenario");
    assert!(rendered(&error).contains("is a directory"));
    let error = scenario::load(&dir.path().join("nope.toml")).expect_err("missing file");
    assert!(rendered(&error).contains("cannot read the file"));
}

#[test]
fn check_exits_3_and_reports_every_file() {
    let dir = corpus_dir();
    let output = Command::new(BIN)
        .arg("check")
        .arg(dir.join("negative_budget.toml"))
        .arg(dir.join("unknown_keys.toml"))
        .arg(shipped("baseline"))
        .output()
        .expect("run greatgame");
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stderr.contains("patrons[1].security_budget_usd_bn must be >= 0, got -3"),
        "{stderr}"
    );
    assert!(
        stderr.contains("model.alignment_inertai is not a known key"),
        "{stderr}"
    );
    assert!(stderr.contains("2 of 3 scenario files have problems"), "{stderr}");
    assert!(stdout.contains("baseline.toml: ok"), "{stdout}");
}

#[test]
fn run_of_a_bad_scenario_exits_3_and_writes_nothing() {
    let out = tempfile::tempdir().expect("temporary folder");
    let output = Command::new(BIN)
        .arg("run")
        .arg(corpus_dir().join("non_finite.toml"))
        .arg("--out")
        .arg(out.path())
        .arg("--quiet")
        .output()
        .expect("run greatgame");
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("must be a finite number, got NaN"), "{stderr}");
    assert_eq!(std::fs::read_dir(out.path()).expect("readable").count(), 0);
}
