//! Sharded design-based commands: `sweep`, `sensitivity`, `levers` and `calibrate` split
//! with `--shard K/N` (or a scheduler's array variables) into separate processes of the
//! real binary, then `greatgame merge`: the result must be the folder a single run
//! writes, byte for byte but the manifest's `command_line`; and the merge refuses sets
//! that are incomplete, duplicated, mismatched or damaged, or whose inputs changed.

use std::fs;
use std::path::{Path, PathBuf};

mod common;

use common::*;

/// A short baseline variant beside the tests' working folder.
fn short(dir: &Path, name: &str) -> PathBuf {
    variant(dir, "baseline", name, 8, Some(4), "")
}

/// `args` with `--shard K/N --out shards/K -q` for every K, run at once as separate
/// processes; the shard folders (found by their shard.json), in shard order.
fn shards(cwd: &Path, args: &[&str], n: u64) -> Vec<PathBuf> {
    run_shard_processes(cwd, args, n, &[]);
    shard_folders(cwd, n)
}

/// Merges `folders` into `out` in `cwd`.
fn merge_into(cwd: &Path, folders: &[PathBuf], out: &str) -> std::process::Output {
    let mut args: Vec<String> = vec!["merge".into()];
    args.extend(folders.iter().map(|f| f.display().to_string()));
    args.extend(["--out".into(), out.into(), "-q".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    greatgame(cwd, &args)
}

/// Runs `args` whole into `single`, sharded over `n` processes and merged into
/// `merged`, and checks the two outputs are the same; returns the shard folders.
fn sharded_equals_single(cwd: &Path, args: &[&str], n: u64, output: &str) -> Vec<PathBuf> {
    let mut whole = args.to_vec();
    whole.extend(["--out", "single", "-q"]);
    assert_ok(&greatgame(cwd, &whole), "the whole design on one machine");
    let folders = shards(cwd, args, n);
    assert_ok(&merge_into(cwd, &folders, "merged"), "merge");
    assert_same_output(&cwd.join("single").join(output), &cwd.join("merged").join(output));
    folders
}

#[test]
fn sharded_sweep_equals_a_single_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    short(cwd, "s");
    let args = [
        "sweep",
        "s.toml",
        "--set",
        "model.alignment_inertia=0.1..0.9:5",
        "--set",
        "patrons.USA.investment_budget_usd_bn=1,3",
    ];
    let folders = sharded_equals_single(cwd, &args, 3, "sweep-s");
    // Each shard describes itself: the command, its inputs' checksums, seed, design size
    // and slice, and holds no output table.
    let manifest = read_json(&folders[1].join("shard.json"));
    assert_eq!(manifest["kind"], "sweep");
    assert_eq!(manifest["identity"]["points"], 10);
    assert_eq!(manifest["work"]["first"], 3);
    assert_eq!(manifest["work"]["end"], 6);
    assert_eq!(manifest["identity"]["inputs"][0]["path"], "s.toml");
    assert!(manifest["identity"]["inputs"][0]["checksum"].is_string());
    assert_eq!(
        entries(&folders[1]),
        ["points.bin", "shard.json"].map(String::from).into()
    );
}

#[test]
fn sharded_sensitivity_equals_a_single_analysis() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    short(cwd, "s");
    let args = [
        "sensitivity",
        "s.toml",
        "--outputs",
        "alignment:C5:USA,hedging_index",
        "--samples",
        "4",
        "--trajectories",
        "2",
        "-n",
        "2",
        "--bootstrap",
        "100",
    ];
    sharded_equals_single(cwd, &args, 4, "sensitivity-s");
}

#[test]
fn sharded_lever_screen_equals_a_single_screen() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    short(cwd, "s");
    let args = ["levers", "s.toml", "--keys", "patrons.USA.*", "-n", "4"];
    sharded_equals_single(cwd, &args, 3, "levers-s");
}

#[test]
fn sharded_calibration_equals_a_single_calibration() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    let mut rows = String::new();
    for (year, value) in [(2016, 5.9), (2017, 9.9), (2018, 12.4), (2019, 12.2), (2022, 13.0)] {
        rows.push_str(&format!(
            "{year},UZB,WORLD,remittances_pct_gdp,{value},% of GDP,WDI,,x\n"
        ));
    }
    observed_file(cwd, &rows);
    let scenario = shipped("backcast_2015");
    let args = [
        "calibrate",
        path_str(&scenario),
        "--observed",
        "observed.csv",
        "--samples",
        "6",
        "--refine",
        "5",
        "--keep",
        "3",
        "-n",
        "2",
    ];
    // calibrate writes into --out itself: the shards are shards/K, the merge writes
    // `merged` (the local search runs there, from the merged global stage).
    let mut whole = args.to_vec();
    whole.extend(["--out", "single", "-q"]);
    assert_ok(&greatgame(cwd, &whole), "the whole calibration");
    let folders = shards(cwd, &args, 3);
    assert_ok(&merge_into(cwd, &folders, "merged"), "merge");
    assert_same_output(&cwd.join("single"), &cwd.join("merged"));
    let table = Table::read(&cwd.join("merged/calibration.csv"));
    assert!(
        table.values("stage").contains(&"local"),
        "the merge runs the local search"
    );
}

#[test]
fn design_shards_come_from_slurm_and_kubernetes_variables() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    short(cwd, "s");
    let args = ["sweep", "s.toml", "--set", "model.alignment_inertia=0.2,0.4,0.6"];
    let mut whole = args.to_vec();
    whole.extend(["--out", "single", "-q"]);
    assert_ok(&greatgame(cwd, &whole), "whole sweep");
    for (id, env) in [
        ("1", vec![("SLURM_ARRAY_TASK_ID", "1"), ("SLURM_ARRAY_TASK_COUNT", "2")]),
        ("0", vec![("JOB_COMPLETION_INDEX", "0"), ("GREATGAME_SHARD_COUNT", "2")]),
    ] {
        let out = format!("shards/{id}");
        let mut shard_args = args.to_vec();
        shard_args.extend(["--out", &out, "-q"]);
        assert_ok(&greatgame_env(cwd, &shard_args, &env), "shard from the scheduler");
        let manifest = read_json(&cwd.join(&out).join("sweep-s/shard.json"));
        assert_eq!(manifest["shard"]["index"].to_string(), id);
    }
    let folders = shard_folders(cwd, 2);
    assert_ok(&merge_into(cwd, &folders, "merged"), "merge");
    assert_same_output(&cwd.join("single/sweep-s"), &cwd.join("merged/sweep-s"));
}

#[test]
fn a_shard_run_again_replaces_its_folder_but_not_a_users() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    short(cwd, "s");
    let shard = [
        "sweep",
        "s.toml",
        "--set",
        "model.alignment_inertia=0.2,0.4,0.6",
        "--shard",
        "1/3",
        "--out",
        "shards/1",
        "-q",
    ];
    assert_ok(&greatgame(cwd, &shard), "the shard");
    let folder = cwd.join("shards/1/sweep-s");
    let first = snapshot(&folder);
    let again = greatgame(cwd, &shard);
    assert_ok(&again, "the same shard run again");
    assert_eq!(snapshot(&folder), first, "the same shard writes the same files");
    assert!(hidden_entries(&cwd.join("shards/1")).is_empty());
    // A run's shard too.
    let run = ["run", "s.toml", "--shard", "0/1", "--out", "runs", "-q"];
    assert_ok(&greatgame(cwd, &run), "a run's shard");
    assert_ok(&greatgame(cwd, &run), "the run's shard again");

    // A folder of the user's where the shard would go is refused and left as it was.
    let mine = cwd.join("mine/sweep-s");
    fs::create_dir_all(&mine).unwrap();
    fs::write(mine.join("notes.txt"), "mine").unwrap();
    let mut into_mine = shard.to_vec();
    into_mine[7] = "mine";
    fails_with(cwd, &into_mine, 2, "is not an output of greatgame");
    assert_eq!(entries(&mine), ["notes.txt"].map(String::from).into());
}

#[test]
fn merge_refuses_bad_sets_of_design_shards() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    short(cwd, "s");
    let args = ["sweep", "s.toml", "--set", "model.alignment_inertia=0.2,0.4,0.6,0.8"];
    let folders = shards(cwd, &args, 3);
    let refused = |folders: &[PathBuf], message: &str| {
        let output = merge_into(cwd, folders, "merged");
        assert_exit(&output, 6, message);
        assert!(stderr(&output).contains(message), "{}", describe(&output));
        assert!(!cwd.join("merged").exists(), "a refused merge writes nothing");
    };
    // Incomplete and duplicated sets.
    refused(&folders[..2], "1 of 3 shards missing: shard 2");
    let twice = [
        folders[0].clone(),
        folders[1].clone(),
        folders[1].clone(),
        folders[2].clone(),
    ];
    refused(&twice, "given twice");

    // A shard of another seed.
    let out = "other/2";
    let mut other = args.to_vec();
    other.extend(["--seed", "7", "--shard", "2/3", "--out", out, "-q"]);
    assert_ok(&greatgame(cwd, &other), "shard with another seed");
    let mixed = [folders[0].clone(), folders[1].clone(), cwd.join(out).join("sweep-s")];
    refused(&mixed, "seed 7 vs");

    // A shard of a run among the sweep's.
    assert_ok(
        &greatgame(cwd, &["run", "s.toml", "--shard", "0/1", "--out", "run", "-q"]),
        "run shard",
    );
    let with_run = [folders[0].clone(), folders[1].clone(), cwd.join("run/s")];
    refused(&with_run, "is a shard of a run");

    // A damaged points.bin, and an edited shard.json.
    let points = folders[1].join("points.bin");
    let original = fs::read(&points).unwrap();
    let mut damaged = original.clone();
    let last = damaged.len() - 12;
    damaged[last] ^= 0x40;
    fs::write(&points, &damaged).unwrap();
    refused(&folders, "points.bin does not match the checksum");
    fs::write(&points, &original).unwrap();
    let manifest_path = folders[1].join("shard.json");
    let manifest = fs::read_to_string(&manifest_path).unwrap();
    fs::write(&manifest_path, manifest.replace("\"first\": 1", "\"first\": 0")).unwrap();
    refused(&folders, "should cover points");
    fs::write(&manifest_path, &manifest).unwrap();

    // The scenario changed after the shards ran: the merge runs the command again and
    // finds other inputs.
    let scenario = cwd.join("s.toml");
    let text = fs::read_to_string(&scenario).unwrap();
    fs::write(&scenario, format!("{text}\n# edited\n")).unwrap();
    refused(&folders, "inputs");
    fs::write(&scenario, &text).unwrap();
    assert_ok(&merge_into(cwd, &folders, "merged"), "the restored set merges");

    // More shards than points is a usage error, and writes nothing.
    let mut too_many = args.to_vec();
    too_many.extend(["--shard", "4/5", "--out", "many", "-q"]);
    fails_with(cwd, &too_many, 2, "at most 4 shards");
    assert!(!cwd.join("many").exists());
}

/// Design points run side by side, one a thread: the output is the same bytes on 1, 2
/// or 3 threads (the third leaves a short last group of points), but the manifest's
/// command line.
#[test]
fn sweep_and_sensitivity_give_the_same_bytes_on_one_two_and_three_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    short(cwd, "s");
    let sweep = [
        "sweep",
        "s.toml",
        "--set",
        "model.alignment_inertia=0.1..0.9:5",
        "-n",
        "20",
    ];
    let sensitivity = [
        "sensitivity",
        "s.toml",
        "--method",
        "morris",
        "--trajectories",
        "2",
        "-n",
        "6",
    ];
    for (args, output) in [(&sweep[..], "sweep-s"), (&sensitivity[..], "sensitivity-s")] {
        for threads in ["1", "2", "3"] {
            let mut with = args.to_vec();
            let out = format!("t{threads}");
            with.extend(["--threads", threads, "--out", &out, "-q"]);
            assert_ok(&greatgame(cwd, &with), &format!("{} on {threads} threads", args[0]));
        }
        assert_same_output(&cwd.join("t1").join(output), &cwd.join("t2").join(output));
        assert_same_output(&cwd.join("t1").join(output), &cwd.join("t3").join(output));
    }
}
