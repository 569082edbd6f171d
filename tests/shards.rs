//! Sharded runs: shards of an ensemble run as separate processes of the real binary,
//! `greatgame merge` combines their folders, and the result must be the output of a
//! single run of the whole ensemble, byte for byte.
//!
//! "Byte for byte" covers every file of the output folder (summary.csv, decisions.csv,
//! replicates.csv, every chart) and every field of manifest.json except `command_line`,
//! which records the command that wrote the folder (`greatgame merge ...` rather than
//! `greatgame run ...`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

mod common;

use common::*;

/// `dir/<name>.toml`: the shipped baseline with a short horizon and `replicates`.
fn scenario(dir: &Path, name: &str, horizon: u32, replicates: u64) -> PathBuf {
    variant(dir, "baseline", name, horizon, Some(replicates), "")
}

/// Runs shard K of `n` for every K at once, as separate processes, each into
/// `root/shard-K/`, and returns the shard folders.
fn run_shards(cwd: &Path, scenario: &Path, name: &str, n: u64, extra: &[&str]) -> Vec<PathBuf> {
    let children: Vec<_> = (0..n)
        .map(|k| {
            let shard = format!("{k}/{n}");
            let out = format!("shards/shard-{k}");
            let mut args = vec![
                "run",
                scenario.to_str().expect("UTF-8 path"),
                "--shard",
                &shard,
                "--out",
                &out,
                "--quiet",
            ];
            args.extend_from_slice(extra);
            command(cwd, &args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("the greatgame binary starts")
        })
        .collect();
    for (k, child) in children.into_iter().enumerate() {
        let output = child.wait_with_output().expect("shard process finishes");
        assert_ok(&output, &format!("shard {k}/{n}"));
    }
    (0..n)
        .map(|k| cwd.join(format!("shards/shard-{k}")).join(name))
        .collect()
}

fn merge(cwd: &Path, folders: &[PathBuf], out: &str) -> Output {
    let mut args: Vec<String> = vec!["merge".to_string()];
    args.extend(folders.iter().map(|f| f.display().to_string()));
    args.extend(["--out".to_string(), out.to_string(), "--quiet".to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    greatgame(cwd, &args)
}

fn shard_manifest(folder: &Path) -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(folder.join("shard.json")).expect("shard.json")).expect("JSON")
}

/// Exact statistics (up to 1,000 replicates), per-replicate output and charts: three
/// shards merged in a shuffled order equal a single run.
#[test]
fn merged_shards_equal_a_single_run_with_exact_statistics_replicates_and_charts() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    let scenario = scenario(cwd, "small", 3, 100);
    let path = scenario.to_str().unwrap();
    assert_ok(
        &greatgame(cwd, &["run", path, "--per-replicate", "--out", "single", "--quiet"]),
        "single run",
    );
    let mut folders = run_shards(cwd, &scenario, "small", 3, &["--per-replicate"]);
    let manifest = shard_manifest(&folders[1]);
    assert_eq!(manifest["shard"]["index"], 1);
    assert_eq!(manifest["shard"]["count"], 3);
    assert_eq!(manifest["statistics"], "exact");
    assert_eq!(manifest["work"]["total"], 4, "100 replicates make 4 blocks of 32");
    assert_eq!(manifest["replicate_range"], serde_json::json!([32, 64]));
    assert_eq!(manifest["shard_source"], "command_line");
    assert!(manifest["scenario_hash"].as_str().is_some_and(|h| h.len() == 16));
    folders.reverse();
    assert_ok(&merge(cwd, &folders, "merged"), "merge");
    assert_same_output(&cwd.join("single/small"), &cwd.join("merged/small"));
    assert_header(&cwd.join("merged/small"), "run");
    let merged = fs::read_to_string(cwd.join("merged/small/manifest.json")).unwrap();
    assert!(
        merged.contains("\"merge\""),
        "the merged manifest records the merge command"
    );
}

/// Streaming statistics (over 1,000 replicates): four shards equal a single run, and the
/// single run is the same on one and two threads.
#[test]
fn merged_shards_equal_a_single_run_with_streaming_statistics() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    let scenario = scenario(cwd, "large", 2, 1100);
    let path = scenario.to_str().unwrap();
    for threads in ["1", "2"] {
        let out = format!("single{threads}");
        assert_ok(
            &greatgame(
                cwd,
                &[
                    "run",
                    path,
                    "--no-charts",
                    "--threads",
                    threads,
                    "--out",
                    &out,
                    "--quiet",
                ],
            ),
            "single run",
        );
    }
    assert_eq!(
        snapshot(&cwd.join("single1/large")).remove(Path::new("summary.csv")),
        snapshot(&cwd.join("single2/large")).remove(Path::new("summary.csv")),
        "one and two threads give the same summary"
    );
    let folders = run_shards(cwd, &scenario, "large", 4, &["--no-charts", "--threads", "1"]);
    assert_eq!(shard_manifest(&folders[0])["statistics"], "streaming");
    assert_ok(&merge(cwd, &folders, "merged"), "merge");
    assert_same_output(&cwd.join("single2/large"), &cwd.join("merged/large"));
}

/// A merge refuses an incomplete set (naming the missing shards), a shard given twice,
/// shards of another seed, scenario or replicate count, another version's shards, a
/// damaged part, and a finished run; and writes nothing.
#[test]
fn merge_refuses_incomplete_duplicate_and_mismatched_shards() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    let scenario = scenario(cwd, "small", 2, 160);
    let path = scenario.to_str().unwrap();
    let folders = run_shards(cwd, &scenario, "small", 4, &["--no-charts"]);

    let missing = merge(cwd, &[folders[0].clone(), folders[2].clone()], "out");
    assert_exit(&missing, 6, "incomplete set");
    assert!(
        stderr(&missing).contains("2 of 4 shards missing: shard 1, 3"),
        "names the missing shards: {}",
        stderr(&missing)
    );

    let twice = merge(
        cwd,
        &[folders[0].clone(), folders[1].clone(), folders[1].clone()],
        "out",
    );
    assert_exit(&twice, 6, "duplicate shard");
    assert!(
        stderr(&twice).contains("shard 1/4 is given twice"),
        "{}",
        stderr(&twice)
    );

    let other_seed = |seed: &str, out: &str| {
        assert_ok(
            &greatgame(
                cwd,
                &[
                    "run",
                    path,
                    "--shard",
                    "3/4",
                    "--seed",
                    seed,
                    "--no-charts",
                    "--out",
                    out,
                    "-q",
                ],
            ),
            "shard with another seed",
        );
        cwd.join(out).join("small")
    };
    let mut mixed = folders[..3].to_vec();
    mixed.push(other_seed("7", "seed7"));
    let seed = merge(cwd, &mixed, "out");
    assert_exit(&seed, 6, "different seed");
    assert!(stderr(&seed).contains("seed 7 vs 20240101"), "{}", stderr(&seed));

    assert_ok(
        &greatgame(
            cwd,
            &[
                "run",
                path,
                "--shard",
                "3/4",
                "--replicates",
                "200",
                "--no-charts",
                "--out",
                "r200",
                "-q",
            ],
        ),
        "shard with other replicates",
    );
    let mut mixed = folders[..3].to_vec();
    mixed.push(cwd.join("r200/small"));
    let replicates = merge(cwd, &mixed, "out");
    assert_exit(&replicates, 6, "different replicates");
    assert!(
        stderr(&replicates).contains("replicates 200 vs 160"),
        "{}",
        stderr(&replicates)
    );

    // The same name, different contents.
    let changed = cwd.join("changed");
    fs::create_dir_all(&changed).unwrap();
    let text = fs::read_to_string(&scenario).unwrap() + "\n[model]\nalignment_inertia = 0.2\n";
    let changed_path = changed.join("small.toml");
    fs::write(&changed_path, text).unwrap();
    assert_ok(
        &greatgame(
            cwd,
            &[
                "run",
                changed_path.to_str().unwrap(),
                "--shard",
                "3/4",
                "--no-charts",
                "--out",
                "changed-out",
                "-q",
            ],
        ),
        "shard of a changed scenario",
    );
    let mut mixed = folders[..3].to_vec();
    mixed.push(cwd.join("changed-out/small"));
    let contents = merge(cwd, &mixed, "out");
    assert_exit(&contents, 6, "different scenario contents");
    assert!(stderr(&contents).contains("scenario contents"), "{}", stderr(&contents));

    // Another version of greatgame.
    let old = cwd.join("old/small");
    fs::create_dir_all(&old).unwrap();
    for file in ["shard.json", "part.bin"] {
        fs::copy(folders[3].join(file), old.join(file)).unwrap();
    }
    let manifest = fs::read_to_string(old.join("shard.json")).unwrap();
    let version = format!("\"greatgame_version\": \"{}\"", env!("CARGO_PKG_VERSION"));
    assert!(manifest.contains(&version));
    fs::write(
        old.join("shard.json"),
        manifest.replacen(&version, "\"greatgame_version\": \"0.0.1\"", 1),
    )
    .unwrap();
    let mut mixed = folders[..3].to_vec();
    mixed.push(old.clone());
    let versions = merge(cwd, &mixed, "out");
    assert_exit(&versions, 6, "another version");
    assert!(stderr(&versions).contains("greatgame 0.0.1"), "{}", stderr(&versions));

    // A damaged part.
    let damaged = cwd.join("damaged/small");
    fs::create_dir_all(&damaged).unwrap();
    fs::copy(folders[3].join("shard.json"), damaged.join("shard.json")).unwrap();
    let mut bytes = fs::read(folders[3].join("part.bin")).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x10;
    fs::write(damaged.join("part.bin"), bytes).unwrap();
    let mut mixed = folders[..3].to_vec();
    mixed.push(damaged);
    let corrupt = merge(cwd, &mixed, "out");
    assert_exit(&corrupt, 6, "damaged part");
    assert!(stderr(&corrupt).contains("checksum"), "{}", stderr(&corrupt));

    // A finished run is not a shard.
    assert_ok(
        &greatgame(cwd, &["run", path, "--no-charts", "--out", "full", "-q"]),
        "full run",
    );
    let full = merge(cwd, &[cwd.join("full/small")], "out");
    assert_exit(&full, 6, "a finished run");
    assert!(stderr(&full).contains("not a shard"), "{}", stderr(&full));

    assert!(
        !cwd.join("out").join("small").exists(),
        "a refused merge writes nothing"
    );
    // The complete set still merges.
    assert_ok(&merge(cwd, &folders, "out"), "complete set");
}

/// Without --shard, the shard comes from a Slurm job array or a Kubernetes indexed Job;
/// --shard wins over both; a shard that cannot exist is a usage error.
#[test]
fn shard_is_read_from_slurm_and_kubernetes_variables() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    let scenario = scenario(cwd, "small", 2, 100);
    let path = scenario.to_str().unwrap();
    let run = |out: &str, env: &[(&str, &str)], extra: &[&str]| {
        let mut args = vec!["run", path, "--no-charts", "--quiet", "--out", out];
        args.extend_from_slice(extra);
        greatgame_env(cwd, &args, env)
    };

    // Slurm: --array=1-3 gives task ids 1, 2, 3 and SLURM_ARRAY_TASK_MIN=1.
    for id in ["1", "2", "3"] {
        let out = format!("slurm-{id}");
        let env = [
            ("SLURM_ARRAY_TASK_ID", id),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
        ];
        assert_ok(&run(&out, &env, &[]), "Slurm array task");
    }
    let manifest = shard_manifest(&cwd.join("slurm-3/small"));
    assert_eq!(manifest["shard"], serde_json::json!({"index": 2, "count": 3}));
    assert_eq!(manifest["shard_source"], "slurm");

    // Kubernetes: JOB_COMPLETION_INDEX from the Job controller, the count from the spec.
    for index in ["0", "1", "2"] {
        let out = format!("k8s-{index}");
        let env = [("JOB_COMPLETION_INDEX", index), ("GREATGAME_SHARD_COUNT", "3")];
        assert_ok(&run(&out, &env, &[]), "Kubernetes indexed Job pod");
    }
    let manifest = shard_manifest(&cwd.join("k8s-1/small"));
    assert_eq!(manifest["shard"], serde_json::json!({"index": 1, "count": 3}));
    assert_eq!(manifest["shard_source"], "kubernetes");

    // Shards found through either scheduler merge into the single run's output.
    assert_ok(&run("single", &[], &[]), "single run");
    let slurm: Vec<PathBuf> = ["1", "2", "3"]
        .iter()
        .map(|id| cwd.join(format!("slurm-{id}/small")))
        .collect();
    assert_ok(&merge(cwd, &slurm, "merged-slurm"), "merge of Slurm shards");
    assert_same_output(&cwd.join("single/small"), &cwd.join("merged-slurm/small"));
    let k8s: Vec<PathBuf> = ["0", "1", "2"]
        .iter()
        .map(|i| cwd.join(format!("k8s-{i}/small")))
        .collect();
    assert_ok(&merge(cwd, &k8s, "merged-k8s"), "merge of Kubernetes shards");
    assert_same_output(&cwd.join("single/small"), &cwd.join("merged-k8s/small"));

    // --shard wins over the environment.
    let env = [("SLURM_ARRAY_TASK_ID", "0"), ("SLURM_ARRAY_TASK_COUNT", "3")];
    assert_ok(&run("flag", &env, &["--shard", "1/2"]), "--shard with Slurm variables");
    let manifest = shard_manifest(&cwd.join("flag/small"));
    assert_eq!(manifest["shard"], serde_json::json!({"index": 1, "count": 2}));
    assert_eq!(manifest["shard_source"], "command_line");

    // Usage errors: no count for Kubernetes, a task outside the array, more shards than
    // blocks, K >= N.
    let no_count = run("bad", &[("JOB_COMPLETION_INDEX", "1")], &[]);
    assert_exit(&no_count, 2, "JOB_COMPLETION_INDEX without a count");
    assert!(
        stderr(&no_count).contains("GREATGAME_SHARD_COUNT"),
        "{}",
        stderr(&no_count)
    );
    let outside = run(
        "bad",
        &[("SLURM_ARRAY_TASK_ID", "5"), ("SLURM_ARRAY_TASK_COUNT", "3")],
        &[],
    );
    assert_exit(&outside, 2, "Slurm task outside the array");
    let too_many = run("bad", &[], &["--shard", "0/5"]);
    assert_exit(&too_many, 2, "more shards than blocks");
    assert!(stderr(&too_many).contains("at most 4 shards"), "{}", stderr(&too_many));
    assert_exit(&run("bad", &[], &["--shard", "2/2"]), 2, "K >= N");
    assert!(!cwd.join("bad").exists(), "usage errors write nothing");
}
