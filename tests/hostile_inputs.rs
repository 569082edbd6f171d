//! Inputs other than scenario files, as a hostile user would give them: every one is
//! refused with a clear error naming where the problem is and the right exit code, and
//! nothing is written.
//!
//! The cases that are text files are in `tests/bad_inputs/` with their expected errors
//! (`cases.toml`); the ones that need generated files are here: devices such as
//! `/dev/zero`, damaged run folders for `compare`, damaged shard folders for `merge`,
//! requests too large for memory, and output folders that are not greatgame's.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

mod common;

use common::*;

fn corpus() -> PathBuf {
    repo().join("tests").join("bad_inputs")
}

/// Runs the binary in `dir` with `args`; insists on `code` and every `expect` on
/// stderr; returns stderr.
fn refused(dir: &Path, args: &[String], code: i32, expect: &[&str]) -> String {
    let strs: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = greatgame(dir, &strs);
    let err = stderr(&output);
    assert_eq!(
        output.status.code(),
        Some(code),
        "greatgame {args:?}: {}",
        describe(&output)
    );
    for want in expect {
        assert!(err.contains(want), "greatgame {args:?}: expected {want:?} in:\n{err}");
    }
    assert!(!err.contains("panicked"), "{err}");
    err
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

#[derive(serde::Deserialize)]
struct Cases {
    case: Vec<Case>,
}

#[derive(serde::Deserialize)]
struct Case {
    name: String,
    args: Vec<String>,
    exit: i32,
    expect: Vec<String>,
}

#[test]
fn every_corpus_case_is_refused_with_its_error_and_writes_nothing() {
    let text = fs::read_to_string(corpus().join("cases.toml")).expect("cases.toml");
    let cases: Cases = toml::from_str(&text).expect("cases.toml is valid");
    assert!(cases.case.len() >= 30, "the corpus has {} cases", cases.case.len());
    let mut failures = Vec::new();
    for case in &cases.case {
        let work = tempfile::tempdir().expect("temporary folder");
        let out = work.path().join("out");
        let args: Vec<String> = case
            .args
            .iter()
            .map(|a| {
                a.replace("{scenarios}", path_str(&repo().join("scenarios")))
                    .replace("{corpus}", path_str(&corpus()))
                    .replace("{out}", path_str(&out))
            })
            .collect();
        let strs: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = greatgame(work.path(), &strs);
        let err = stderr(&output);
        if output.status.code() != Some(case.exit) {
            failures.push(format!(
                "{}: exit {:?}, expected {}:\n{err}",
                case.name,
                output.status.code(),
                case.exit
            ));
            continue;
        }
        for want in &case.expect {
            if !err.contains(want.as_str()) {
                failures.push(format!("{}: expected {want:?} in:\n{err}", case.name));
            }
        }
        if out.exists() || !entries(work.path()).is_empty() {
            failures.push(format!("{}: wrote {:?}", case.name, entries(work.path())));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// A non-positive observation is not compared (a log error needs a positive value): it
/// is listed with the reason.
#[test]
fn a_zero_observation_is_skipped_with_its_reason() {
    let work = tempfile::tempdir().expect("temporary folder");
    let observed = corpus().join("obs_ok.csv");
    ok(
        work.path(),
        &[
            "backtest",
            path_str(&shipped("backcast_2015")),
            "--observed",
            path_str(&observed),
            "--no-parameter-sets",
            "-n",
            "2",
            "--no-charts",
            "-q",
            "--out",
            "bt",
        ],
    );
    let skipped = Table::read(&work.path().join("bt/backtest_skipped.csv"));
    let reasons = skipped.values("reason");
    assert!(reasons.iter().any(|r| r.contains("not positive")), "{reasons:?}");
    let compared = Table::read(&work.path().join("bt/backtest.csv"));
    assert!(compared.numbers("observed").iter().all(|v| *v > 0.0));
}

#[cfg(unix)]
#[test]
fn devices_are_refused_at_once() {
    let work = tempfile::tempdir().expect("temporary folder");
    let zero = "/dev/zero";
    let backcast = shipped("backcast_2015");
    let baseline = shipped("baseline");
    let observed = corpus().join("obs_ok.csv");
    for args in [
        strings(&["check", zero]),
        strings(&["run", zero, "-q"]),
        strings(&["backtest", path_str(&backcast), "--observed", zero, "-q", "--out", "bt"]),
        strings(&[
            "backtest",
            path_str(&backcast),
            "--observed",
            path_str(&observed),
            "--parameter-sets",
            zero,
            "-q",
            "--out",
            "bt",
        ]),
        strings(&["sweep", path_str(&baseline), "--design", zero, "-q"]),
        strings(&[
            "calibrate",
            path_str(&backcast),
            "--observed",
            zero,
            "-q",
            "--out",
            "cal",
        ]),
    ] {
        let started = Instant::now();
        refused(work.path(), &args, 3, &["/dev/zero", "not a regular file"]);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{args:?} took {:?}",
            started.elapsed()
        );
    }
    assert!(entries(work.path()).is_empty(), "{:?}", entries(work.path()));
}

/// A small run with every replicate, to damage.
fn run_folder(work: &Path, name: &str) -> PathBuf {
    let scenario = variant(work, "baseline", name, 4, Some(3), "");
    ok(
        work,
        &[
            "run",
            path_str(&scenario),
            "--per-replicate",
            "--no-charts",
            "-q",
            "--out",
            "runs",
        ],
    );
    work.join("runs").join(name)
}

/// Edits a run folder's manifest.
fn edit_manifest(folder: &Path, edit: impl Fn(&mut serde_json::Value)) {
    let mut manifest = read_json(&folder.join("manifest.json"));
    edit(&mut manifest);
    fs::write(
        folder.join("manifest.json"),
        serde_json::to_string_pretty(&manifest).unwrap(),
    )
    .unwrap();
}

/// Replaces the `line`-th line (1-based) of a file.
fn edit_line(path: &Path, line: usize, edit: impl Fn(&str) -> Option<String>) {
    let text = fs::read_to_string(path).unwrap();
    let lines: Vec<String> = text
        .lines()
        .enumerate()
        .filter_map(|(i, l)| if i + 1 == line { edit(l) } else { Some(l.to_string()) })
        .collect();
    fs::write(path, lines.join("\n") + "\n").unwrap();
}

#[test]
fn damaged_run_folders_are_refused_by_compare() {
    let work = tempfile::tempdir().expect("temporary folder");
    let reference = run_folder(work.path(), "reference");
    let pristine = run_folder(work.path(), "damaged");
    let backup = work.path().join("pristine");
    fs::rename(&pristine, &backup).unwrap();
    let compare = |code: i32, expect: &[&str]| {
        let args = strings(&[
            "compare",
            path_str(&reference),
            path_str(&pristine),
            "--out",
            "cmp",
            "-q",
        ]);
        refused(work.path(), &args, code, expect);
        assert!(!work.path().join("cmp").exists());
    };
    let copy = || {
        let _ = fs::remove_dir_all(&pristine);
        fs::create_dir_all(&pristine).unwrap();
        for (file, bytes) in snapshot(&backup) {
            fs::write(pristine.join(file), bytes).unwrap();
        }
    };
    // Counts that would be allocated for: refused before any allocation.
    copy();
    edit_manifest(&pristine, |m| m["replicates"] = serde_json::json!(u64::MAX));
    compare(3, &["replicates 18446744073709551615 is not a run's"]);
    copy();
    edit_manifest(&pristine, |m| m["steps"] = serde_json::json!(4_000_000_000u64));
    compare(3, &["steps 4000000000 is not a run's"]);
    // A run of more replicates than memory allows: refused before reading.
    copy();
    edit_manifest(&pristine, |m| m["replicates"] = serde_json::json!(4_000_000_000u64));
    let args = strings(&[
        "compare",
        path_str(&reference),
        path_str(&pristine),
        "--out",
        "cmp",
        "-q",
        "--max-memory-mb",
        "100",
    ]);
    refused(
        work.path(),
        &args,
        5,
        &["replicate values read from", "over the limit of 100 MB"],
    );
    // A missing row was read as 0 and reported as a difference.
    copy();
    let summary = pristine.join("summary.csv");
    let row = fs::read_to_string(&summary)
        .unwrap()
        .lines()
        .position(|l| l.contains(",C5,USA,alignment,"))
        .unwrap();
    edit_line(&summary, row + 1, |_| None);
    compare(
        3,
        &[
            "summary.csv: has no row for step",
            "alignment host \"C5\" partner \"USA\"",
        ],
    );
    copy();
    edit_line(&summary, row + 1, |l| Some(format!("{l}\n{l}")));
    compare(3, &["summary.csv: line", "a second row for step"]);
    copy();
    edit_line(&summary, row + 1, |l| {
        let mut fields: Vec<&str> = l.split(',').collect();
        fields[5] = "NaN";
        Some(fields.join(","))
    });
    compare(3, &["summary.csv: line", "\"NaN\" is not a finite number"]);
    // replicates.csv: a missing value, a value twice.
    copy();
    let replicates = pristine.join("replicates.csv");
    let row = fs::read_to_string(&replicates)
        .unwrap()
        .lines()
        .position(|l| l.starts_with("1,4,") && l.contains(",C5,USA,alignment,"))
        .unwrap();
    edit_line(&replicates, row + 1, |_| None);
    compare(3, &["replicates.csv: has no value of replicate 1"]);
    copy();
    edit_line(&replicates, row + 1, |l| Some(format!("{l}\n{l}")));
    compare(3, &["replicates.csv: line", "a second value of replicate 1"]);
    // Not a run's manifest at all, and a device for a table.
    copy();
    fs::write(
        pristine.join("manifest.json"),
        "{\"format\": \"greatgame output\", \"command\": \"sweep\"}",
    )
    .unwrap();
    compare(3, &["is not the manifest of a `greatgame run`"]);
    #[cfg(unix)]
    {
        copy();
        fs::remove_file(&summary).unwrap();
        std::os::unix::fs::symlink("/dev/zero", &summary).unwrap();
        compare(3, &["summary.csv: is not a regular file"]);
    }
}

/// Two shards of a small run with every replicate.
fn shards(work: &Path) -> Vec<PathBuf> {
    let scenario = variant(work, "baseline", "sharded", 4, Some(40), "");
    (0..2)
        .map(|k| {
            let out = format!("shard{k}");
            ok(
                work,
                &[
                    "run",
                    path_str(&scenario),
                    "--shard",
                    &format!("{k}/2"),
                    "--per-replicate",
                    "--no-charts",
                    "-q",
                    "--out",
                    &out,
                ],
            );
            work.join(out).join("sharded")
        })
        .collect()
}

#[test]
fn merge_checks_everything_it_copies() {
    let work = tempfile::tempdir().expect("temporary folder");
    let folders = shards(work.path());
    let saved: Vec<_> = folders.iter().map(|f| snapshot(f)).collect();
    let restore = || {
        for (folder, files) in folders.iter().zip(&saved) {
            for (file, bytes) in files {
                fs::write(folder.join(file), bytes).unwrap();
            }
        }
    };
    let merge = |code: i32, expect: &[&str]| {
        let args = strings(&[
            "merge",
            path_str(&folders[0]),
            path_str(&folders[1]),
            "--out",
            "merged",
            "-q",
        ]);
        refused(work.path(), &args, code, expect);
        assert!(!work.path().join("merged").join("sharded").exists());
        assert!(
            entries(&work.path().join("merged")).is_empty(),
            "{:?}",
            entries(&work.path().join("merged"))
        );
    };
    fs::create_dir_all(work.path().join("merged")).unwrap();
    // A truncated replicates.csv merged with exit 0.
    let replicates = folders[1].join("replicates.csv");
    let text = fs::read_to_string(&replicates).unwrap();
    fs::write(&replicates, &text[..text.len() / 2]).unwrap();
    merge(6, &["replicates.csv does not match the checksum shard.json records"]);
    restore();
    // A NaN in it reached the output.
    fs::write(&replicates, text.replacen(",0.", ",NaN", 1)).unwrap();
    merge(6, &["replicates.csv does not match the checksum"]);
    restore();
    // A seed edited in every shard.json was accepted and claimed by the merged manifest.
    for folder in &folders {
        let mut manifest = read_json(&folder.join("shard.json"));
        manifest["seed"] = serde_json::json!(7);
        manifest["run_manifest"]["seed"] = serde_json::json!(7);
        fs::write(
            folder.join("shard.json"),
            serde_json::to_string_pretty(&manifest).unwrap(),
        )
        .unwrap();
    }
    merge(
        6,
        &["part.bin was computed with seed 20240101", "shard.json says seed 7"],
    );
    restore();
    // A changed byte in part.bin.
    let part = folders[0].join("part.bin");
    let mut bytes = fs::read(&part).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    fs::write(&part, bytes).unwrap();
    merge(6, &["part.bin: checksum mismatch"]);
    restore();
    // A shard.json that is not JSON, or a device.
    fs::write(folders[0].join("shard.json"), "{ not json").unwrap();
    merge(6, &["shard.json is not JSON"]);
    restore();
    // Whole again: the merge goes through.
    ok(
        work.path(),
        &[
            "merge",
            path_str(&folders[0]),
            path_str(&folders[1]),
            "--out",
            "merged",
            "-q",
        ],
    );
}

#[test]
fn too_many_agents_are_refused_before_the_run() {
    let work = tempfile::tempdir().expect("temporary folder");
    let scenario = variant(
        work.path(),
        "baseline",
        "crowded",
        4,
        Some(2),
        "[minerals]\nn_deposits = 10000000\nn_firms = 10000000\n",
    );
    let started = Instant::now();
    let args = strings(&[
        "run",
        path_str(&scenario),
        "--max-memory-mb",
        "200",
        "--threads",
        "2",
        "-q",
        "--out",
        "out",
    ]);
    refused(
        work.path(),
        &args,
        5,
        &["the agents of each worker's replicate", "over the limit of 200 MB"],
    );
    assert!(started.elapsed() < Duration::from_secs(20), "{:?}", started.elapsed());
    assert!(!work.path().join("out").exists());
}

/// Every command refuses to write where a folder of the user's is, with exit 2, and
/// leaves it as it was (run, sweep, compare and sensitivity used to delete it).
#[test]
fn no_command_replaces_a_folder_it_did_not_write() {
    let work = tempfile::tempdir().expect("temporary folder");
    let short = variant(work.path(), "baseline", "base", 4, Some(2), "");
    let backcast = shipped("backcast_2015");
    let observed = corpus().join("obs_ok.csv");
    let shard_folders = shards(work.path());
    let cases: Vec<(Vec<String>, &str)> = vec![
        (strings(&["run", path_str(&short), "--out", "A"]), "A/base"),
        (
            strings(&[
                "sweep",
                path_str(&short),
                "--set",
                "model.alignment_inertia=0.1",
                "--out",
                "A",
            ]),
            "A/sweep-base",
        ),
        (
            strings(&["compare", path_str(&short), path_str(&short), "--out", "A"]),
            "A/compare-base-vs-base-2",
        ),
        (
            strings(&[
                "sensitivity",
                path_str(&short),
                "--samples",
                "2",
                "--trajectories",
                "2",
                "--out",
                "A",
            ]),
            "A/sensitivity-base",
        ),
        (
            strings(&[
                "backtest",
                path_str(&backcast),
                "--observed",
                path_str(&observed),
                "--out",
                "A/bt",
            ]),
            "A/bt",
        ),
        (
            strings(&[
                "calibrate",
                path_str(&backcast),
                "--observed",
                path_str(&observed),
                "--samples",
                "2",
                "--keep",
                "1",
                "--out",
                "A/cal",
            ]),
            "A/cal",
        ),
        (
            strings(&[
                "merge",
                path_str(&shard_folders[0]),
                path_str(&shard_folders[1]),
                "--out",
                "A",
            ]),
            "A/sharded",
        ),
    ];
    for (mut args, destination) in cases {
        if args[0] == "merge" {
            args.push("-q".to_string());
        } else {
            args.extend(strings(&["-n", "2", "-q"]));
        }
        let mine = work.path().join(destination);
        let _ = fs::remove_dir_all(work.path().join("A"));
        fs::create_dir_all(&mine).unwrap();
        fs::write(mine.join("thesis.txt"), "years of work").unwrap();
        let before = snapshot(&work.path().join("A"));
        let err = refused(work.path(), &args, 2, &["is not an output of greatgame"]);
        assert_eq!(snapshot(&work.path().join("A")), before, "{args:?}: {err}");
        assert_eq!(
            entries(&work.path().join("A")).len(),
            1,
            "{args:?} left {:?}",
            entries(&work.path().join("A"))
        );
    }
}
