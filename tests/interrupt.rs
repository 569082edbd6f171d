//! Interruptions: SIGINT (Ctrl-C) and SIGTERM (what Slurm, Kubernetes and `kill` send)
//! stop every command cleanly: exit 130 or 143, a message saying what was kept, no
//! staging folder left behind and the previous output untouched. `run` and `merge` are
//! interrupted here while they work; a killed process's leftovers are removed by the
//! next command that writes there.

#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::*;

fn scenario_file(dir: &Path, horizon: u32) -> PathBuf {
    variant(dir, "baseline", "long_run", horizon, None, "")
}

fn greatgame() -> Command {
    let mut command = Command::new(BIN);
    for var in SCHEDULER_VARS {
        command.env_remove(var);
    }
    command
}

/// Whether `dir` holds a staging folder of `name`.
fn staging_in(dir: &Path, name: &str) -> bool {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries.filter_map(Result::ok).any(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(&format!(".{name}.partial-"))
            })
        })
        .unwrap_or(false)
}

/// Waits until `child` has created its staging folder in `dir`, lets it work a little,
/// sends `signal` and returns what it said.
fn interrupt(child: Child, dir: &Path, name: &str, signal: &str) -> Output {
    let started = Instant::now();
    while !staging_in(dir, name) && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(staging_in(dir, name), "the command never created its staging folder");
    std::thread::sleep(Duration::from_millis(200));
    let sent = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("send the signal");
    assert!(sent.success());
    child.wait_with_output().expect("wait for greatgame")
}

/// A complete earlier run of `scenario` into `out`; returns its manifest's bytes.
fn earlier_run(scenario: &Path, out: &Path) -> Vec<u8> {
    let status = greatgame()
        .args(["run", "--replicates", "2", "--no-charts", "--quiet", "--out"])
        .arg(out)
        .arg(scenario)
        .status()
        .expect("run greatgame");
    assert!(status.success());
    std::fs::read(out.join("long_run/manifest.json")).expect("the first run wrote a manifest")
}

fn interrupted_run_keeps_the_previous_output(signal: &str, code: i32, said: &str) {
    let work = tempfile::tempdir().expect("temporary folder");
    let out = work.path().join("out");
    let scenario = scenario_file(work.path(), 400);
    let before = earlier_run(&scenario, &out);

    // A long run, interrupted once it is under way.
    let child = greatgame()
        .args(["run", "--replicates", "1500", "--no-charts", "--quiet", "--out"])
        .arg(&out)
        .arg(&scenario)
        .stderr(Stdio::piped())
        .spawn()
        .expect("start greatgame");
    let output = interrupt(child, &out, "long_run", signal);

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(code), "stderr: {stderr}");
    assert!(stderr.contains(said), "{stderr}");
    assert!(stderr.contains("is untouched"), "{stderr}");
    assert!(!staging_in(&out, "long_run"), "a staging folder was left behind");
    let after = std::fs::read(out.join("long_run/manifest.json")).expect("previous manifest still there");
    assert_eq!(before, after, "the previous output changed");
    assert_eq!(entries(&out).into_iter().collect::<Vec<_>>(), ["long_run"]);
}

#[test]
fn ctrl_c_keeps_the_previous_output_and_leaves_no_partial_folder() {
    interrupted_run_keeps_the_previous_output("INT", 130, "interrupted (SIGINT) after");
}

#[test]
fn sigterm_is_handled_like_ctrl_c_with_exit_143() {
    interrupted_run_keeps_the_previous_output("TERM", 143, "interrupted (SIGTERM) after");
}

#[test]
fn an_interrupted_merge_writes_nothing_and_leaves_no_partial_folder() {
    let work = tempfile::tempdir().expect("temporary folder");
    let scenario = scenario_file(work.path(), 400);
    // Two shards of a long run (33 replicates: two blocks); the merge draws its charts.
    for k in 0..2 {
        let status = greatgame()
            .args([
                "run",
                "--replicates",
                "33",
                "--quiet",
                "--shard",
                &format!("{k}/2"),
                "--out",
            ])
            .arg(work.path().join(format!("shard{k}")))
            .arg(&scenario)
            .status()
            .expect("run a shard");
        assert!(status.success());
    }
    let merged = work.path().join("merged");
    let child = greatgame()
        .arg("merge")
        .arg(work.path().join("shard0/long_run"))
        .arg(work.path().join("shard1/long_run"))
        .args(["--quiet", "--out"])
        .arg(&merged)
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the merge");
    let output = interrupt(child, &merged, "long_run", "TERM");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(143), "stderr: {stderr}");
    assert!(stderr.contains("interrupted (SIGTERM)"), "{stderr}");
    assert!(stderr.contains("nothing was written"), "{stderr}");
    // Not even the folder made for its output.
    assert!(!merged.exists(), "the merge left {:?}", entries(&merged));
    // The shards are as they were: the merge can be run again.
    for k in 0..2 {
        assert!(work.path().join(format!("shard{k}/long_run/part.bin")).is_file());
    }
}

#[test]
fn a_killed_runs_staging_folder_is_removed_by_the_next_run() {
    let work = tempfile::tempdir().expect("temporary folder");
    let out = work.path().join("out");
    let scenario = scenario_file(work.path(), 400);
    let child = greatgame()
        .args(["run", "--replicates", "1500", "--no-charts", "--quiet", "--out"])
        .arg(&out)
        .arg(&scenario)
        .spawn()
        .expect("start greatgame");
    let output = interrupt(child, &out, "long_run", "KILL");
    assert_eq!(output.status.code(), None, "killed by SIGKILL");
    assert!(staging_in(&out, "long_run"), "SIGKILL leaves the staging folder");

    let short = variant(work.path(), "baseline", "long_run", 4, None, "");
    let next = greatgame()
        .args(["run", "--replicates", "2", "--no-charts", "--out"])
        .arg(&out)
        .arg(&short)
        .output()
        .expect("run greatgame");
    assert!(next.status.success(), "{}", describe(&next));
    assert!(
        !staging_in(&out, "long_run"),
        "the killed run's staging folder is still there"
    );
    assert!(
        stderr(&next).contains("left by a process that no longer runs"),
        "{}",
        describe(&next)
    );
    assert_eq!(entries(&out).into_iter().collect::<Vec<_>>(), ["long_run"]);
}
