//! An interrupted run (Ctrl-C, i.e. SIGINT) stops cleanly: it exits with code 130, says
//! what was kept, leaves no staging folder behind and does not touch the previous output.

#![cfg(unix)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::*;

fn scenario_file(dir: &Path, horizon: u32) -> std::path::PathBuf {
    variant(dir, "baseline", "long_run", horizon, None, "")
}

fn greatgame() -> Command {
    Command::new(BIN)
}

#[test]
fn ctrl_c_keeps_the_previous_output_and_leaves_no_partial_folder() {
    let work = tempfile::tempdir().expect("temporary folder");
    let out = work.path().join("out");

    // A complete earlier run of the same scenario.
    let scenario = scenario_file(work.path(), 400);
    let status = greatgame()
        .args(["run", "--replicates", "2", "--no-charts", "--quiet", "--out"])
        .arg(&out)
        .arg(&scenario)
        .status()
        .expect("run greatgame");
    assert!(status.success());
    let manifest_path = out.join("long_run/manifest.json");
    let before = std::fs::read(&manifest_path).expect("first run wrote a manifest");

    // A long run, interrupted once it is under way.
    let child = greatgame()
        .args(["run", "--replicates", "1500", "--no-charts", "--quiet", "--out"])
        .arg(&out)
        .arg(&scenario)
        .stderr(Stdio::piped())
        .spawn()
        .expect("start greatgame");
    let started = Instant::now();
    let staging_exists = || {
        std::fs::read_dir(&out)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .any(|e| e.file_name().to_string_lossy().starts_with(".long_run.partial-"))
            })
            .unwrap_or(false)
    };
    while !staging_exists() && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(staging_exists(), "the run never created its staging folder");
    std::thread::sleep(Duration::from_millis(200));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("send SIGINT");
    assert!(killed.success());
    let output = child.wait_with_output().expect("wait for greatgame");

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "stderr: {stderr}");
    assert!(stderr.contains("interrupted after"), "{stderr}");
    assert!(stderr.contains("is untouched"), "{stderr}");
    assert!(!staging_exists(), "a staging folder was left behind");
    let after = std::fs::read(&manifest_path).expect("previous manifest still there");
    assert_eq!(before, after, "the previous output changed");
    let names: Vec<String> = std::fs::read_dir(&out)
        .expect("readable")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["long_run".to_string()]);
}
