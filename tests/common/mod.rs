//! Helpers shared by the integration tests: running the real binary, writing small
//! scenarios, reading CSV and JSON outputs, comparing folders byte for byte.
//!
//! Each test file takes what it needs (`mod common;`), so some helpers go unused in some
//! test binaries.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_greatgame");

/// Scheduler variables a test must not inherit from the machine it runs on: they would
/// turn a plain run into a shard.
pub const SCHEDULER_VARS: [&str; 6] = [
    "SLURM_ARRAY_TASK_ID",
    "SLURM_ARRAY_TASK_COUNT",
    "SLURM_ARRAY_TASK_MIN",
    "SLURM_ARRAY_TASK_STEP",
    "JOB_COMPLETION_INDEX",
    "GREATGAME_SHARD_COUNT",
];

/// The checkout.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `scenarios/<name>.toml`, by absolute path.
pub fn shipped(name: &str) -> PathBuf {
    repo().join("scenarios").join(format!("{name}.toml"))
}

/// Every shipped scenario file, sorted.
pub fn shipped_scenarios() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(repo().join("scenarios"))
        .expect("scenarios/ is readable")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 2,
        "expected the shipped scenarios in scenarios/, found {files:?}"
    );
    files
}

pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("test paths are UTF-8")
}

/// A TOML basic string holding `text`, escaped as needed.
pub fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// Writes `dir/<name>.toml`: a shipped scenario (by absolute path) with `name`, a
/// horizon of `horizon` quarters, `replicates` if given, and `extra` appended.
pub fn variant(dir: &Path, parent: &str, name: &str, horizon: u32, replicates: Option<u64>, extra: &str) -> PathBuf {
    let run = replicates.map_or(String::new(), |n| format!("[run]\nreplicates = {n}\n\n"));
    let text = format!(
        "extends = {}\nname = \"{name}\"\n\n[time]\nhorizon_quarters = {horizon}\n\n{run}{extra}\n",
        toml_string(path_str(&shipped(parent)))
    );
    let path = dir.join(format!("{name}.toml"));
    fs::write(&path, text).expect("scenario written");
    path
}

/// The binary with `args`, run in `cwd`, with no scheduler variables.
pub fn command(cwd: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command.args(args).current_dir(cwd);
    for var in SCHEDULER_VARS {
        command.env_remove(var);
    }
    command
}

/// Runs the binary with `args` in `cwd`.
pub fn greatgame(cwd: &Path, args: &[&str]) -> Output {
    command(cwd, args).output().expect("the greatgame binary starts")
}

/// Runs the binary with `args` in `cwd` and the environment variables `env`.
pub fn greatgame_env(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = command(cwd, args);
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("the greatgame binary starts")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn describe(output: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        stdout(output),
        stderr(output)
    )
}

/// Runs the binary and insists it succeeds.
pub fn ok(cwd: &Path, args: &[&str]) -> Output {
    let output = greatgame(cwd, args);
    assert!(
        output.status.success(),
        "greatgame {args:?} failed: {}",
        describe(&output)
    );
    output
}

pub fn assert_ok(output: &Output, what: &str) {
    assert!(output.status.success(), "{what} failed: {}", describe(output));
}

pub fn assert_exit(output: &Output, code: i32, what: &str) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "{what}: expected exit code {code}; {}",
        describe(output)
    );
}

/// Runs the binary, insists it exits with `code` and says `message` on stderr; returns
/// stderr.
pub fn fails_with(cwd: &Path, args: &[&str], code: i32, message: &str) -> String {
    let output = greatgame(cwd, args);
    assert_exit(&output, code, &format!("greatgame {args:?}"));
    let stderr = stderr(&output);
    assert!(
        stderr.contains(message),
        "expected {message:?} in {}",
        describe(&output)
    );
    stderr
}

/// A CSV file read as text.
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn read(path: &Path) -> Table {
        let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let header = reader
            .headers()
            .expect("CSV header")
            .iter()
            .map(str::to_string)
            .collect();
        let rows = reader
            .records()
            .map(|r| r.expect("CSV record").iter().map(str::to_string).collect())
            .collect();
        Table { header, rows }
    }

    pub fn column(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name} in {:?}", self.header))
    }

    pub fn values(&self, name: &str) -> Vec<&str> {
        let c = self.column(name);
        self.rows.iter().map(|r| r[c].as_str()).collect()
    }

    pub fn numbers(&self, name: &str) -> Vec<f64> {
        self.values(name).iter().map(|v| number(v, name)).collect()
    }

    pub fn distinct(&self, name: &str) -> BTreeSet<String> {
        self.values(name).into_iter().map(str::to_string).collect()
    }
}

/// A finite number, or a panic naming `what`.
pub fn number(text: &str, what: &str) -> f64 {
    let value: f64 = text
        .parse()
        .unwrap_or_else(|e| panic!("{what}: {text:?} is not a number: {e}"));
    assert!(value.is_finite(), "{what}: {text} is not finite");
    value
}

pub fn read_json(path: &Path) -> serde_json::Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

pub fn strings(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("expected an array, got {value}"))
        .iter()
        .map(|v| {
            v.as_str()
                .unwrap_or_else(|| panic!("expected a string, got {v}"))
                .to_string()
        })
        .collect()
}

/// Every file under `dir`, by path relative to it, with its bytes.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("listing {}: {e}", dir.display())) {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let relative = path.strip_prefix(root).expect("under root").to_path_buf();
                out.insert(relative, fs::read(&path).expect("file readable"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Relative paths of the files under `dir`, as the manifest writes them.
pub fn file_list(dir: &Path) -> BTreeSet<String> {
    snapshot(dir).keys().map(|p| p.display().to_string()).collect()
}

/// `dir/manifest.json` without its `command_line` (which must be there).
pub fn manifest_without_command_line(dir: &Path) -> serde_json::Value {
    let mut manifest = read_json(&dir.join("manifest.json"));
    let removed = manifest
        .as_object_mut()
        .expect("manifest is an object")
        .remove("command_line");
    assert!(removed.is_some(), "manifest in {} has no command_line", dir.display());
    manifest
}

/// Asserts two output folders hold the same files with the same bytes, except that the
/// manifests may differ in their `command_line` (and only there, in their text too).
pub fn assert_same_output(a: &Path, b: &Path) {
    let left = snapshot(a);
    let right = snapshot(b);
    assert_eq!(
        left.keys().collect::<Vec<_>>(),
        right.keys().collect::<Vec<_>>(),
        "{} and {} hold different files",
        a.display(),
        b.display()
    );
    for (file, bytes) in &left {
        if file == Path::new("manifest.json") {
            continue;
        }
        assert!(
            bytes == &right[file],
            "{} differs between {} and {}",
            file.display(),
            a.display(),
            b.display()
        );
    }
    assert_eq!(
        manifest_without_command_line(a),
        manifest_without_command_line(b),
        "manifests differ beyond command_line"
    );
    let text = |dir: &Path| {
        let manifest = fs::read_to_string(dir.join("manifest.json")).expect("manifest.json");
        let start = manifest.find("\"command_line\"").expect("command_line field");
        let end = start + manifest[start..].find(']').expect("end of command_line");
        format!("{}{}", &manifest[..start], &manifest[end..])
    };
    assert_eq!(text(a), text(b), "manifest text differs beyond command_line");
}

/// Names in `dir` that start with a dot (staging or set-aside folders).
pub fn hidden_entries(dir: &Path) -> Vec<String> {
    entries(dir).into_iter().filter(|name| name.starts_with('.')).collect()
}

/// Every name in `dir`.
pub fn entries(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").file_name().to_string_lossy().into_owned())
        .collect()
}

/// Writes an observations file with the standard header and `rows` below it.
pub fn observed_file(dir: &Path, rows: &str) -> PathBuf {
    let path = dir.join("observed.csv");
    fs::write(
        &path,
        format!("year,host,partner,metric,value,unit,basis,note,source\n{rows}"),
    )
    .expect("observations written");
    path
}

// ------------------------------------------------------------------ the library

/// The built-in baseline, cut to `horizon` quarters.
pub fn baseline_scenario(horizon: u32) -> greatgame::model::Scenario {
    let mut loaded = greatgame::scenario::load_builtin_baseline().expect("built-in baseline loads");
    loaded.scenario.horizon_quarters = horizon;
    loaded.scenario
}

/// An ensemble of `replicates` with `seed` on `threads`, under the default memory limit.
pub fn ensemble_config(replicates: u64, seed: u64, threads: Option<usize>) -> greatgame::ensemble::EnsembleConfig {
    greatgame::ensemble::EnsembleConfig {
        replicates,
        seed,
        threads,
        max_memory_bytes: greatgame::ensemble::DEFAULT_MAX_MEMORY_BYTES,
    }
}

/// Runs an ensemble without progress or cancellation.
pub fn run_ensemble(
    scenario: &greatgame::model::Scenario,
    config: &greatgame::ensemble::EnsembleConfig,
    observer: Option<&mut dyn greatgame::ensemble::ReplicateObserver>,
) -> greatgame::ensemble::EnsembleSummary {
    greatgame::ensemble::run(
        scenario,
        config,
        &|| {},
        &std::sync::atomic::AtomicBool::new(false),
        observer,
    )
    .expect("the ensemble runs")
}

/// Keeps every record an ensemble hands out, with its index.
#[derive(Default)]
pub struct Collect(pub Vec<(u64, greatgame::ensemble::ReplicateRecord)>);

impl greatgame::ensemble::ReplicateObserver for Collect {
    fn on_replicate(&mut self, index: u64, record: &greatgame::ensemble::ReplicateRecord) -> std::io::Result<()> {
        self.0.push((index, record.clone()));
        Ok(())
    }
}

/// The bits of some numbers, to compare them exactly.
pub fn bits(values: &[f64]) -> Vec<u64> {
    values.iter().map(|v| v.to_bits()).collect()
}

/// The bits of every statistic of an ensemble summary.
pub fn summary_bits(summary: &greatgame::ensemble::EnsembleSummary) -> (Vec<[u64; 5]>, Vec<u64>) {
    (
        summary
            .cells
            .iter()
            .map(|c| [c.mean, c.sd, c.p05, c.p50, c.p95].map(f64::to_bits))
            .collect(),
        bits(&summary.decision_means),
    )
}

/// Asserts `dir/manifest.json` starts with the header every command writes, for
/// `command`, and returns the manifest.
pub fn assert_header(dir: &Path, command: &str) -> serde_json::Value {
    let text = fs::read_to_string(dir.join("manifest.json")).expect("manifest.json");
    assert!(
        text.starts_with("{\n  \"format\": \"greatgame output\",\n  \"greatgame_version\": "),
        "{} does not start with the header: {}",
        dir.display(),
        &text[..text.len().min(200)]
    );
    let manifest = read_json(&dir.join("manifest.json"));
    assert_eq!(manifest["command"], command, "{}", dir.display());
    assert_eq!(manifest["greatgame_version"], env!("CARGO_PKG_VERSION"));
    assert!(!strings(&manifest["command_line"]).is_empty());
    assert!(!strings(&manifest["inputs"]).is_empty());
    for field in ["seed", "replicates", "parameter_sets"] {
        assert!(manifest[field].is_u64(), "{field} in {}", dir.display());
    }
    manifest
}

// ------------------------------------------------------------------ shards

/// Runs `args` with `--shard K/N --out shards/K -q` (and `env`) for every K of `n` at
/// once, as separate processes in `cwd`, and checks each succeeds.
pub fn run_shard_processes(cwd: &Path, args: &[&str], n: u64, env: &[(&str, &str)]) {
    let children: Vec<_> = (0..n)
        .map(|k| {
            let (shard, out) = (format!("{k}/{n}"), format!("shards/{k}"));
            let mut all = args.to_vec();
            all.extend(["--shard", &shard, "--out", &out, "-q"]);
            let mut command = command(cwd, &all);
            for (key, value) in env {
                command.env(key, value);
            }
            command
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("the greatgame binary starts")
        })
        .collect();
    for (k, child) in children.into_iter().enumerate() {
        let output = child.wait_with_output().expect("shard process finishes");
        assert_ok(&output, &format!("shard {k}/{n}"));
    }
}

/// The shard folders under `cwd/shards/K/` for K of `n` (the folder holding
/// `shard.json`: `shards/K` itself or the one folder inside it), in shard order.
pub fn shard_folders(cwd: &Path, n: u64) -> Vec<PathBuf> {
    (0..n)
        .map(|k| {
            let root = cwd.join(format!("shards/{k}"));
            if root.join("shard.json").is_file() {
                return root;
            }
            let inner: Vec<PathBuf> = fs::read_dir(&root)
                .unwrap_or_else(|e| panic!("listing {}: {e}", root.display()))
                .map(|e| e.expect("entry").path())
                .filter(|p| p.join("shard.json").is_file())
                .collect();
            assert_eq!(inner.len(), 1, "one shard folder in {}", root.display());
            inner[0].clone()
        })
        .collect()
}
