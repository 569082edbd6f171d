//! Reading scenario files: text, `extends`, the file format, validation.
//!
//! [`load`] is the one entry point: it reads a file and its parents, merges them,
//! deserialises the result into [`file::ScenarioFile`] and validates that into a
//! [`crate::model::Scenario`]. Every problem found on the way is reported with the file,
//! line, column and key path where it sits, all of them at once where possible.

pub mod file;
pub mod overrides;
pub mod schema;
pub mod source;
pub mod validate;

use std::fmt;
use std::path::{Path, PathBuf};

use self::file::ScenarioFile;
use self::source::{KeyPath, Location, Node, Origin, Segment, Sources};
use crate::model::Scenario;

/// Largest scenario file read, in bytes.
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;
/// Longest chain of `extends`.
pub const MAX_EXTENDS_DEPTH: usize = 16;

/// The built-in default scenario: the shipped baseline, compiled into the binary.
pub const BUILTIN_BASELINE: &str = include_str!("../../scenarios/baseline.toml");
/// How the built-in baseline is named in messages and manifests.
pub const BUILTIN_BASELINE_PATH: &str = "<built-in baseline>";

/// One thing wrong with a scenario, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub location: Location,
    /// Key path such as `patrons[1].security_budget_usd_bn`; empty for whole-file problems.
    pub key: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.location, self.message)
        } else {
            write!(f, "{}: {} {}", self.location, self.key, self.message)
        }
    }
}

/// Everything wrong with a scenario.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ScenarioError {
    pub problems: Vec<Problem>,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        writeln!(f, "{n} problem{} in the scenario:", if n == 1 { "" } else { "s" })?;
        for (i, problem) in self.problems.iter().enumerate() {
            if i + 1 < n {
                writeln!(f, "  {problem}")?;
            } else {
                write!(f, "  {problem}")?;
            }
        }
        Ok(())
    }
}

impl ScenarioError {
    /// The problems in reading order: by file, then line and column.
    fn sorted(mut self) -> ScenarioError {
        self.problems
            .sort_by_key(|p| (p.location.path.clone(), p.location.line, p.location.column));
        self
    }

    /// The problems of a file reached through `extends` at `at`: each problem in another
    /// file than `at`'s says the chain that led to it, `mine.toml:1:11 -> base.toml:1:11`.
    fn through(mut self, at: &Location) -> ScenarioError {
        const MARK: &str = " (reached through `extends` at ";
        for problem in &mut self.problems {
            if problem.location.path == at.path {
                continue;
            }
            match problem.message.find(MARK) {
                Some(i) => problem.message.insert_str(i + MARK.len(), &format!("{at} -> ")),
                None => problem.message.push_str(&format!("{MARK}{at})")),
            }
        }
        self
    }

    fn whole_file(path: &Path, message: impl Into<String>) -> ScenarioError {
        ScenarioError {
            problems: vec![Problem {
                location: Location {
                    path: path.to_path_buf(),
                    line: None,
                    column: None,
                },
                key: String::new(),
                message: message.into(),
            }],
        }
    }
}

/// A validated scenario with what produced it.
#[derive(Debug, Clone)]
pub struct LoadedScenario {
    pub scenario: Scenario,
    /// The file after `extends` and defaults: what the manifest records.
    pub resolved: ScenarioFile,
    /// Files read, the scenario's own first.
    pub files: Vec<PathBuf>,
}

impl LoadedScenario {
    /// The files read, as manifests list them.
    pub fn file_list(&self) -> Vec<String> {
        self.files.iter().map(|p| p.display().to_string()).collect()
    }

    /// The resolved scenario as JSON, with its name: what manifests record.
    pub fn resolved_json(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(&self.resolved).unwrap_or(serde_json::Value::Null);
        if let serde_json::Value::Object(map) = &mut value {
            map.insert("name".into(), serde_json::Value::String(self.scenario.name.clone()));
        }
        value
    }

    /// The number a key path names in the resolved scenario (defaults included), found
    /// as an override finds it ([`overrides::value_at`]); `None` if it is not a number.
    pub fn number_at(&self, key: &str) -> Result<Option<f64>, overrides::KeyPathError> {
        let Ok(root) = toml::Value::try_from(&self.resolved) else {
            return Ok(None);
        };
        Ok(overrides::value_at(&root, key)?.and_then(|v| v.as_float().or_else(|| v.as_integer().map(|i| i as f64))))
    }
}

/// Rebuilds the scenario a manifest records (`resolved`, as [`LoadedScenario::resolved_json`]
/// wrote it) and checks that it records it again the same way. Problems are located in
/// `origin` (the manifest).
pub fn from_resolved(resolved: &serde_json::Value, name: &str, origin: &Path) -> Result<LoadedScenario, ScenarioError> {
    let fail = |message: String| ScenarioError::whole_file(origin, message);
    let file: ScenarioFile = serde_json::from_value(resolved.clone())
        .map_err(|e| fail(format!("the recorded scenario cannot be read: {e}")))?;
    let scenario = validate::validate(&file, name).map_err(|problems| {
        let list: Vec<String> = problems
            .0
            .iter()
            .map(|(path, message)| format!("{path} {message}"))
            .collect();
        fail(format!("the recorded scenario is not valid: {}", list.join("; ")))
    })?;
    let loaded = LoadedScenario {
        scenario,
        resolved: file,
        files: Vec::new(),
    };
    if loaded.resolved_json() != *resolved {
        return Err(fail("the recorded scenario does not read back the same".to_string()));
    }
    Ok(loaded)
}

/// Like [`load`], with `overrides` (key path, value) laid over the merged file before it
/// is deserialised and validated, so each is checked like a value written in the file.
/// See [`overrides`] for the key paths.
pub fn load_with_overrides(path: &Path, overrides: &[overrides::Override]) -> Result<LoadedScenario, ScenarioError> {
    overrides::ScenarioTree::read(path)?.resolve(overrides)
}

/// Reads, merges and validates the scenario at `path`.
pub fn load(path: &Path) -> Result<LoadedScenario, ScenarioError> {
    load_unsorted(path).map_err(ScenarioError::sorted)
}

fn load_unsorted(path: &Path) -> Result<LoadedScenario, ScenarioError> {
    let mut sources = Sources::default();
    let mut chain = Vec::new();
    let tree = read_chain(path, &mut sources, &mut chain)?;
    let default_name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scenario".to_string());
    finish(tree, &sources, &default_name)
}

/// Validates the built-in baseline (which has no `extends`).
pub fn load_builtin_baseline() -> Result<LoadedScenario, ScenarioError> {
    load_text(Path::new(BUILTIN_BASELINE_PATH), BUILTIN_BASELINE, "baseline")
}

/// Validates scenario text that is not read from disk; `extends` is resolved relative to
/// the current directory.
pub fn load_text(path: &Path, text: &str, default_name: &str) -> Result<LoadedScenario, ScenarioError> {
    load_text_unsorted(path, text, default_name).map_err(ScenarioError::sorted)
}

fn load_text_unsorted(path: &Path, text: &str, default_name: &str) -> Result<LoadedScenario, ScenarioError> {
    let mut sources = Sources::default();
    let file = sources.add(path, text.to_string());
    let mut tree = parse_file(&sources, file)?;
    let mut chain = vec![path.to_path_buf()];
    if let Some((parent, at)) = take_extends(&mut tree, &sources, Path::new("."))? {
        let base = read_chain(&parent, &mut sources, &mut chain).map_err(|e| e.through(&at))?;
        tree = inherit(base, tree);
    }
    finish(tree, &sources, default_name)
}

fn finish(tree: Node, sources: &Sources, default_name: &str) -> Result<LoadedScenario, ScenarioError> {
    let locate = |path: &KeyPath| sources.locate(&tree.origin_of(path));
    let problem = |path: &KeyPath, message: String| Problem {
        location: locate(path),
        key: path.to_string(),
        message,
    };

    let mut unknown = Vec::new();
    let value = tree.to_value();
    let mut on_ignored = |ignored: serde_ignored::Path<'_>| unknown.push(ignored_path(&ignored));
    let deserializer = serde_ignored::Deserializer::new(value, &mut on_ignored);
    let parsed: Result<ScenarioFile, _> = serde_path_to_error::deserialize(deserializer);
    let mut problems: Vec<Problem> = unknown
        .iter()
        .map(|path| Problem {
            location: sources.locate(&tree.key_origin_of(path)),
            key: path.to_string(),
            message: "is not a known key (see docs/scenario-format.md)".to_string(),
        })
        .collect();
    let file = match parsed {
        Ok(file) => file,
        Err(error) => {
            let path = tracked_path(error.path());
            let message = error.inner().to_string();
            problems.push(problem(&path, tidy_serde_message(&message)));
            return Err(ScenarioError { problems });
        }
    };
    match validate::validate(&file, default_name) {
        Ok(scenario) if problems.is_empty() => Ok(LoadedScenario {
            scenario,
            resolved: file,
            files: sources.files.iter().map(|f| f.path.clone()).collect(),
        }),
        Ok(_) => Err(ScenarioError { problems }),
        Err(found) => {
            problems.extend(found.0.into_iter().map(|(path, message)| problem(&path, message)));
            Err(ScenarioError { problems })
        }
    }
}

/// [`finish`] of a tree that has no problem, given as a plain value (its
/// [`Node::to_value`]): the same scenario, without tracking where each value came from.
/// `None` at the first problem (an unknown key, a wrong type, a value validation
/// refuses), for [`finish`] to find and locate every one.
fn finish_quietly(value: toml::Value, sources: &Sources, default_name: &str) -> Option<LoadedScenario> {
    use serde::Deserialize;
    let mut unknown = false;
    let file = ScenarioFile::deserialize(serde_ignored::Deserializer::new(
        value,
        &mut |_: serde_ignored::Path<'_>| unknown = true,
    ))
    .ok()?;
    if unknown {
        return None;
    }
    let scenario = validate::validate(&file, default_name).ok()?;
    Some(LoadedScenario {
        scenario,
        resolved: file,
        files: sources.files.iter().map(|f| f.path.clone()).collect(),
    })
}

/// Reads `path` and, recursively, the files it extends; returns the merged tree.
fn read_chain(path: &Path, sources: &mut Sources, chain: &mut Vec<PathBuf>) -> Result<Node, ScenarioError> {
    let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if chain.contains(&canonical) {
        let cycle: Vec<String> = chain
            .iter()
            .chain([&canonical])
            .map(|p| p.display().to_string())
            .collect();
        return Err(ScenarioError::whole_file(
            path,
            format!("`extends` forms a loop: {}", cycle.join(" -> ")),
        ));
    }
    if chain.len() >= MAX_EXTENDS_DEPTH {
        return Err(ScenarioError::whole_file(
            path,
            format!("`extends` chain is deeper than {MAX_EXTENDS_DEPTH} files"),
        ));
    }
    chain.push(canonical);
    let text = read_text(path)?;
    let file = sources.add(path, text);
    let mut tree = parse_file(sources, file)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    if let Some((parent, at)) = take_extends(&mut tree, sources, dir)? {
        let base = read_chain(&parent, sources, chain).map_err(|e| e.through(&at))?;
        tree = inherit(base, tree);
    }
    chain.pop();
    Ok(tree)
}

/// Lays a variant over its parent. The parent's `name` and `description` are dropped:
/// they describe the parent, and an inherited name would send the variant's output into
/// the parent's folder.
fn inherit(mut base: Node, variant: Node) -> Node {
    base.remove("name");
    base.remove("description");
    base.merge(variant);
    base
}

/// Removes `extends` from a tree and resolves it against `dir`: the parent's path, and
/// where `extends` names it.
fn take_extends(tree: &mut Node, sources: &Sources, dir: &Path) -> Result<Option<(PathBuf, Location)>, ScenarioError> {
    let Some(node) = tree.remove("extends") else {
        return Ok(None);
    };
    let fail = |message: String| ScenarioError {
        problems: vec![Problem {
            location: sources.locate(&node.origin),
            key: "extends".to_string(),
            message,
        }],
    };
    let Some(target) = node.as_str() else {
        return Err(fail(
            "must be a string: the path of the scenario this one extends".to_string(),
        ));
    };
    let parent = clean_path(&dir.join(target));
    if !parent.is_file() {
        return Err(fail(format!(
            "points to {}, which is not a readable file",
            parent.display()
        )));
    }
    Ok(Some((parent, sources.locate(&node.origin))))
}

/// Removes `.` and `dir/..` from a path without touching the file system, so messages
/// name `scenarios/baseline.toml` rather than `tests/../scenarios/baseline.toml`.
fn clean_path(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut cleaned = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                let last_is_normal = matches!(cleaned.components().next_back(), Some(Component::Normal(_)));
                if last_is_normal {
                    cleaned.pop();
                } else {
                    cleaned.push("..");
                }
            }
            other => cleaned.push(other.as_os_str()),
        }
    }
    if cleaned.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        cleaned
    }
}

fn read_text(path: &Path) -> Result<String, ScenarioError> {
    crate::input::read_text(path, MAX_FILE_BYTES, "scenario").map_err(|e| ScenarioError {
        problems: vec![Problem {
            location: Location {
                path: e.path,
                line: e.line,
                column: e.column,
            },
            key: String::new(),
            message: e.message,
        }],
    })
}

fn parse_file(sources: &Sources, file: usize) -> Result<Node, ScenarioError> {
    let tree = parse_toml(sources, file)?;
    let duplicates = source::duplicate_labels(&tree);
    if duplicates.is_empty() {
        Ok(tree)
    } else {
        Err(ScenarioError {
            problems: duplicates
                .into_iter()
                .map(|(path, message)| Problem {
                    location: sources.locate(&tree.origin_of(&path)),
                    key: path.to_string(),
                    message,
                })
                .collect(),
        })
    }
}

fn parse_toml(sources: &Sources, file: usize) -> Result<Node, ScenarioError> {
    let text = &sources.files[file].text;
    if text.trim().is_empty() {
        return Err(ScenarioError::whole_file(
            &sources.files[file].path,
            "is empty; a scenario needs at least [[hosts]] and [[patrons]] (or `extends`)",
        ));
    }
    source::parse(file, text).map_err(|e| ScenarioError {
        problems: vec![Problem {
            location: sources.locate(&Origin { file, span: e.span }),
            key: String::new(),
            message: format!("invalid TOML: {}", e.message.replace('\n', " ")),
        }],
    })
}

fn ignored_path(path: &serde_ignored::Path<'_>) -> KeyPath {
    let mut segments = Vec::new();
    let mut current = Some(path);
    while let Some(p) = current {
        current = match p {
            serde_ignored::Path::Root => None,
            serde_ignored::Path::Seq { parent, index } => {
                segments.push(Segment::Index(*index));
                Some(*parent)
            }
            serde_ignored::Path::Map { parent, key } => {
                segments.push(Segment::Key(key.clone()));
                Some(*parent)
            }
            serde_ignored::Path::Some { parent }
            | serde_ignored::Path::NewtypeStruct { parent }
            | serde_ignored::Path::NewtypeVariant { parent } => Some(*parent),
        };
    }
    segments.reverse();
    KeyPath(segments)
}

fn tracked_path(path: &serde_path_to_error::Path) -> KeyPath {
    KeyPath(
        path.iter()
            .filter_map(|segment| match segment {
                serde_path_to_error::Segment::Seq { index } => Some(Segment::Index(*index)),
                serde_path_to_error::Segment::Map { key } => Some(Segment::Key(key.clone())),
                serde_path_to_error::Segment::Enum { variant } => Some(Segment::Key(variant.clone())),
                serde_path_to_error::Segment::Unknown => None,
            })
            .collect(),
    )
}

/// serde's messages name Rust types and repeat the key; say it in the file's terms.
fn tidy_serde_message(message: &str) -> String {
    let message = message.lines().next().unwrap_or("").trim();
    let message = message.strip_prefix("invalid type: ").unwrap_or(message);
    let replaced = message
        .replace("expected f64", "expected a number")
        .replace("expected u64", "expected a whole number >= 0")
        .replace("expected u32", "expected a whole number >= 0")
        .replace("expected a sequence", "expected an array")
        .replace("expected struct", "expected a table for")
        .replace("expected a map", "expected a table");
    format!("has the wrong type: {replaced}")
}
