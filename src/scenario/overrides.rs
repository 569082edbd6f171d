//! Overrides: values laid over a scenario's merged tree before it is deserialised.
//!
//! `greatgame sweep` and `greatgame sensitivity` vary parameters by key path, such as
//! `patrons.USA.investment_budget_usd_bn`, `hosts.KAZ.ties.CHN.trade_usd_bn`,
//! `model.alignment_inertia` or `events."BRI surge".effects.0.value`. An override edits the
//! merged TOML tree (after `extends`), so the value goes through exactly the checks a value
//! written in the file goes through, and a problem is reported in the usual
//! `where: key message` form, where "where" names the override.
//!
//! Key paths: segments separated by dots; a segment may be double-quoted to hold dots or
//! spaces. In an array of tables, a segment selects the element whose `id` (actors,
//! commodities, routes), `name` (events) or `host/commodity` (deposits) equals it, or
//! else, if it is a whole number, the element at that 0-based index. Missing tables on the way are created; a missing actor or event is an
//! error.

use std::path::{Path, PathBuf};

use super::source::{KeyPath, Location, Node, NodeKind, Origin, Sources};
use super::{LoadedScenario, Problem, ScenarioError};

/// One override: a key path and the value to set there.
pub type Override = (String, toml::Value);

/// A scenario read and merged (with its `extends` chain) but not yet deserialised or
/// validated: overrides can be laid over it any number of times.
#[derive(Debug, Clone)]
pub struct ScenarioTree {
    tree: Node,
    /// The tree as a plain value, what deserialisation reads: overrides are laid over a
    /// copy of it first ([`ScenarioTree::resolve`]).
    value: toml::Value,
    sources: Sources,
    default_name: String,
}

impl ScenarioTree {
    /// Reads `path` and the files it extends.
    pub fn read(path: &Path) -> Result<ScenarioTree, ScenarioError> {
        let mut sources = Sources::default();
        let mut chain = Vec::new();
        let tree = super::read_chain(path, &mut sources, &mut chain).map_err(ScenarioError::sorted)?;
        let default_name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "scenario".to_string());
        Ok(ScenarioTree {
            value: tree.to_value(),
            tree,
            sources,
            default_name,
        })
    }

    /// The built-in baseline as a tree (its `extends`, if any, relative to the current
    /// directory, as [`super::load_builtin_baseline`] reads it).
    pub fn builtin_baseline() -> Result<ScenarioTree, ScenarioError> {
        let path = Path::new(super::BUILTIN_BASELINE_PATH);
        let mut sources = Sources::default();
        let file = sources.add(path, super::BUILTIN_BASELINE.to_string());
        let mut tree = super::parse_file(&sources, file).map_err(ScenarioError::sorted)?;
        let mut chain = vec![path.to_path_buf()];
        if let Some((parent, at)) =
            super::take_extends(&mut tree, &sources, Path::new(".")).map_err(ScenarioError::sorted)?
        {
            let base = super::read_chain(&parent, &mut sources, &mut chain).map_err(|e| e.through(&at))?;
            tree = super::inherit(base, tree);
        }
        Ok(ScenarioTree {
            value: tree.to_value(),
            tree,
            sources,
            default_name: "baseline".to_string(),
        })
    }

    /// Lays `overrides` over the tree, in order, then deserialises and validates the
    /// result exactly as [`super::load`] does. Each override is named in messages as
    /// `override KEY = VALUE`.
    ///
    /// The overrides are laid over the tree's plain value and the result checked without
    /// tracking where each value came from (an analysis resolves every one of its points
    /// twice, and tracking was most of the cost); only when that finds a problem are they
    /// laid over the tree itself, whose every value knows its file and line, to report
    /// every problem where it is. Both give the same scenario (`tests::
    /// the_quiet_way_resolves_what_the_tracked_way_does`).
    pub fn resolve(&self, overrides: &[Override]) -> Result<LoadedScenario, ScenarioError> {
        match self.resolve_quietly(overrides) {
            Some(loaded) => Ok(loaded),
            None => self.resolve_tracked(overrides),
        }
    }

    /// [`ScenarioTree::resolve`] of overrides that make a valid scenario, on the tree's
    /// plain value; `None` at the first problem.
    fn resolve_quietly(&self, overrides: &[Override]) -> Option<LoadedScenario> {
        let mut value = self.value.clone();
        for (key, v) in overrides {
            apply_value(&mut value, key, v)?;
        }
        super::finish_quietly(value, &self.sources, &self.default_name)
    }

    /// [`ScenarioTree::resolve`] on the tree, every problem found and located.
    fn resolve_tracked(&self, overrides: &[Override]) -> Result<LoadedScenario, ScenarioError> {
        let n_files = self.sources.files.len();
        let mut sources = self.sources.clone();
        let mut tree = self.tree.clone();
        let mut problems = Vec::new();
        for (key, value) in overrides {
            let label = format!("override {key} = {}", show_value(value));
            let file = sources.add(Path::new(&label), String::new());
            let origin = Origin { file, span: None };
            if let Err(message) = apply(&mut tree, key, value, &origin) {
                problems.push(Problem {
                    location: Location {
                        path: PathBuf::from(label),
                        line: None,
                        column: None,
                    },
                    // The location already names the key.
                    key: String::new(),
                    message,
                });
            }
        }
        if !problems.is_empty() {
            return Err(ScenarioError { problems });
        }
        let mut loaded = super::finish(tree, &sources, &self.default_name).map_err(ScenarioError::sorted)?;
        // The overrides are not files.
        loaded.files.truncate(n_files);
        Ok(loaded)
    }

    /// The file that sets `key` (a key path of plain segments, no actor lookup), if any:
    /// paths written in a scenario are relative to the file that writes them.
    pub fn defining_file(&self, key: &[&str]) -> Option<PathBuf> {
        let mut path = KeyPath::root();
        let mut node = &self.tree;
        for segment in key {
            node = node.get(segment)?;
            path = path.key(segment);
        }
        let origin = self.tree.origin_of(&path);
        self.sources.files.get(origin.file).map(|f| f.path.clone())
    }

    /// The file, line and column of a key path (for problems found in the `sweep` and
    /// `sensitivity` tables, which the model's validation does not read).
    pub fn locate(&self, key: &KeyPath) -> Location {
        self.sources.locate(&self.tree.origin_of(key))
    }

    /// The scenario's own file (the one given on the command line).
    pub fn path(&self) -> &Path {
        self.sources.files.first().map_or(Path::new(""), |f| f.path.as_path())
    }
}

/// A value as it would be written in TOML, for messages and labels.
pub fn show_value(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => format!("{s:?}"),
        toml::Value::Float(x) => {
            let text = format!("{x}");
            if x.is_finite() && !text.contains(['.', 'e', 'E']) {
                format!("{text}.0")
            } else {
                text
            }
        }
        other => other.to_string(),
    }
}

/// A key path that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KeyPathError(String);

/// Splits a key path into segments: dots separate, double quotes protect.
pub fn parse_key(key: &str) -> Result<Vec<String>, KeyPathError> {
    split_key(key).map_err(KeyPathError)
}

fn split_key(key: &str) -> Result<Vec<String>, String> {
    let mut segments = Vec::new();
    let mut current = String::new();
    let mut chars = key.trim().chars().peekable();
    let mut quoted_segment = false;
    while let Some(c) = chars.next() {
        match c {
            '"' if current.is_empty() && !quoted_segment => {
                let mut closed = false;
                for q in chars.by_ref() {
                    if q == '"' {
                        closed = true;
                        break;
                    }
                    current.push(q);
                }
                if !closed {
                    return Err(format!("key path {key:?} has an unclosed quote"));
                }
                quoted_segment = true;
                if !matches!(chars.peek(), None | Some('.')) {
                    return Err(format!(
                        "key path {key:?}: a quoted segment must be followed by '.' or the end"
                    ));
                }
            }
            '.' => {
                if current.is_empty() && !quoted_segment {
                    return Err(format!("key path {key:?} has an empty segment"));
                }
                segments.push(std::mem::take(&mut current));
                quoted_segment = false;
            }
            c if c.is_whitespace() => return Err(format!("key path {key:?} has a space outside quotes")),
            c => current.push(c),
        }
    }
    if current.is_empty() && !quoted_segment {
        return Err(if key.trim().is_empty() {
            "the key path is empty".to_string()
        } else {
            format!("key path {key:?} ends with '.'")
        });
    }
    segments.push(current);
    Ok(segments)
}

/// Sets `key` to `value` in `tree`; every node created carries `origin`.
fn apply(tree: &mut Node, key: &str, value: &toml::Value, origin: &Origin) -> Result<(), String> {
    let segments = split_key(key)?;
    let mut node = tree;
    // Where the walk stands, for messages: `patrons[2].strategy`.
    let mut walked = KeyPath::root();
    let last = segments.len() - 1;
    for (i, segment) in segments.iter().enumerate() {
        let is_last = i == last;
        let here = walked.clone();
        node = match &mut node.kind {
            NodeKind::Table(entries) => {
                let at = match entries.iter().position(|(k, ..)| k == segment) {
                    Some(at) => at,
                    None => {
                        let empty = Node {
                            origin: origin.clone(),
                            kind: NodeKind::Table(Vec::new()),
                        };
                        entries.push((segment.clone(), origin.clone(), empty));
                        entries.len() - 1
                    }
                };
                let entry = &mut entries[at];
                if is_last {
                    // An unknown key is then reported at the override.
                    entry.1 = origin.clone();
                }
                walked = here.key(segment);
                &mut entry.2
            }
            NodeKind::Array(items) => {
                let at = element(items, segment).ok_or_else(|| {
                    let labels = labels(items);
                    if labels.is_empty() {
                        format!(
                            "{here} has {} elements; {segment:?} is not an index among them",
                            items.len()
                        )
                    } else {
                        format!("{here} has no element {segment:?} (there are: {})", labels.join(", "))
                    }
                })?;
                walked = here.index(at);
                &mut items[at]
            }
            NodeKind::Scalar(existing) => {
                return Err(format!(
                    "{here} is a single value ({}), not a table: {segment:?} cannot be set inside it",
                    show_value(existing)
                ));
            }
        };
        if is_last {
            *node = to_node(value, origin);
        }
    }
    Ok(())
}

/// [`apply`] on a tree's plain value ([`Node::to_value`]): what `apply` then `to_value`
/// give, or `None` where `apply` fails.
fn apply_value(root: &mut toml::Value, key: &str, value: &toml::Value) -> Option<()> {
    let mut node = root;
    for segment in split_key(key).ok()? {
        node = match node {
            toml::Value::Table(entries) => entries
                .entry(segment)
                .or_insert_with(|| toml::Value::Table(toml::map::Map::new())),
            toml::Value::Array(items) => {
                let at = element_by(items, &segment, value_label_of)?;
                &mut items[at]
            }
            _ => return None,
        };
    }
    *node = plain(value);
    Some(())
}

/// A value as [`to_node`] then [`Node::to_value`] give it back (dates become text).
fn plain(value: &toml::Value) -> toml::Value {
    match value {
        toml::Value::Table(table) => toml::Value::Table(table.iter().map(|(k, v)| (k.clone(), plain(v))).collect()),
        toml::Value::Array(items) => toml::Value::Array(items.iter().map(plain).collect()),
        toml::Value::Datetime(d) => toml::Value::String(d.to_string()),
        other => other.clone(),
    }
}

/// What labels an element of an array of tables: `id` (actors, commodities, routes),
/// `name` (events), or `host` and `commodity` joined by `/` (deposits, `KAZ/copper`).
const LABEL_KEYS: [&[&str]; 3] = [&["id"], &["name"], &["host", "commodity"]];

fn label_of(node: &Node, keys: &[&str]) -> Option<String> {
    let parts: Option<Vec<&str>> = keys.iter().map(|k| node.get(k).and_then(Node::as_str)).collect();
    parts.map(|p| p.join("/"))
}

fn value_label_of(value: &toml::Value, keys: &[&str]) -> Option<String> {
    let parts: Option<Vec<&str>> = keys
        .iter()
        .map(|k| value.get(k).and_then(toml::Value::as_str))
        .collect();
    parts.map(|p| p.join("/"))
}

/// The element of an array of tables a segment names: by its label, or by index.
fn element(items: &[Node], segment: &str) -> Option<usize> {
    element_by(items, segment, label_of)
}

/// [`element`] for any kind of item, labelled by `label`.
fn element_by<T>(items: &[T], segment: &str, label: impl Fn(&T, &[&str]) -> Option<String>) -> Option<usize> {
    for keys in LABEL_KEYS {
        if let Some(at) = items.iter().position(|n| label(n, keys).as_deref() == Some(segment)) {
            return Some(at);
        }
    }
    segment.parse::<usize>().ok().filter(|&i| i < items.len())
}

/// The value a key path names in `root` (a resolved scenario as TOML), found the way an
/// override finds the place it sets: arrays of tables entered by label or index. `None`
/// when nothing is there.
pub fn value_at(root: &toml::Value, key: &str) -> Result<Option<toml::Value>, KeyPathError> {
    let mut node = root;
    for segment in parse_key(key)? {
        let next = match node {
            toml::Value::Table(table) => table.get(&segment),
            toml::Value::Array(items) => element_by(items, &segment, value_label_of).map(|i| &items[i]),
            _ => None,
        };
        match next {
            Some(next) => node = next,
            None => return Ok(None),
        }
    }
    Ok(Some(node.clone()))
}

/// The labels of an array's elements, for messages.
fn labels(items: &[Node]) -> Vec<String> {
    items
        .iter()
        .filter_map(|n| LABEL_KEYS.iter().find_map(|keys| label_of(n, keys)))
        .map(|s| format!("{s:?}"))
        .collect()
}

fn to_node(value: &toml::Value, origin: &Origin) -> Node {
    let kind = match value {
        toml::Value::Table(table) => NodeKind::Table(
            table
                .iter()
                .map(|(k, v)| (k.clone(), origin.clone(), to_node(v, origin)))
                .collect(),
        ),
        toml::Value::Array(items) => NodeKind::Array(items.iter().map(|v| to_node(v, origin)).collect()),
        toml::Value::Datetime(d) => NodeKind::Scalar(toml::Value::String(d.to_string())),
        other => NodeKind::Scalar(other.clone()),
    };
    Node {
        origin: origin.clone(),
        kind,
    }
}

/// Parses a value written on the command line or in a design file: TOML syntax
/// (`0.5`, `3`, `true`, `"text"`, `[1, 2]`), or else the text as a string (so
/// `learning` and `2025Q1` need no quotes).
pub fn parse_value(text: &str) -> toml::Value {
    let text = text.trim();
    let document = format!("v = {text}");
    match document.parse::<toml::Table>() {
        Ok(mut table) => table
            .remove("v")
            .unwrap_or_else(|| toml::Value::String(text.to_string())),
        Err(_) => toml::Value::String(text.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn baseline() -> ScenarioTree {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/baseline.toml");
        ScenarioTree::read(&path).expect("the shipped baseline reads")
    }

    #[test]
    fn key_paths_split_on_dots_outside_quotes() {
        assert_eq!(
            parse_key("model.alignment_inertia").unwrap(),
            ["model", "alignment_inertia"]
        );
        assert_eq!(
            parse_key("events.\"BRI surge\".effects.0.value").unwrap(),
            ["events", "BRI surge", "effects", "0", "value"]
        );
        for bad in ["", "a..b", "a.", ".a", "a b", "\"open", "\"a\"b"] {
            assert!(parse_key(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn values_parse_as_toml_or_text() {
        assert_eq!(parse_value("0.5"), toml::Value::Float(0.5));
        assert_eq!(parse_value("3"), toml::Value::Integer(3));
        assert_eq!(parse_value("learning"), toml::Value::String("learning".into()));
        assert_eq!(parse_value("2025Q1"), toml::Value::String("2025Q1".into()));
        assert_eq!(parse_value("\"a,b\""), toml::Value::String("a,b".into()));
    }

    #[test]
    fn overrides_reach_actors_by_id_and_tables_by_key() {
        let tree = baseline();
        let plain = tree.resolve(&[]).expect("no overrides");
        let loaded = tree
            .resolve(&[
                ("patrons.USA.investment_budget_usd_bn".into(), toml::Value::Float(2.5)),
                ("model.alignment_inertia".into(), toml::Value::Float(0.2)),
                ("time.horizon_quarters".into(), toml::Value::Integer(8)),
                ("patrons.USA.goodwill".into(), toml::Value::Integer(1)),
            ])
            .expect("valid overrides");
        let usa = loaded.resolved.patrons.iter().find(|p| p.id == "USA").unwrap();
        assert_eq!(usa.investment_budget_usd_bn, 2.5);
        assert_eq!(usa.goodwill, 1.0);
        assert_eq!(loaded.resolved.model.alignment_inertia, 0.2);
        assert_eq!(loaded.scenario.horizon_quarters, 8);
        assert_eq!(loaded.files, plain.files, "overrides are not files");
        // The tree itself is untouched.
        assert_eq!(tree.resolve(&[]).unwrap().scenario.horizon_quarters, 48);
    }

    /// Every number of `value` as a key path and the number (arrays of tables entered by
    /// label, as an override names them, else by index).
    fn numbers(value: &toml::Value, path: &str, out: &mut Vec<(String, toml::Value)>) {
        let join = |segment: &str| {
            let segment = if segment.contains(['.', ' ', '"']) {
                format!("\"{segment}\"")
            } else {
                segment.to_string()
            };
            if path.is_empty() {
                segment
            } else {
                format!("{path}.{segment}")
            }
        };
        match value {
            toml::Value::Table(table) => {
                for (key, v) in table {
                    numbers(v, &join(key), out);
                }
            }
            toml::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let label = LABEL_KEYS.iter().find_map(|keys| value_label_of(item, keys));
                    numbers(item, &join(&label.unwrap_or_else(|| i.to_string())), out);
                }
            }
            toml::Value::Integer(_) | toml::Value::Float(_) => out.push((path.to_string(), value.clone())),
            _ => {}
        }
    }

    #[test]
    fn the_quiet_way_resolves_what_the_tracked_way_does() {
        let tree = baseline();
        let mut found = Vec::new();
        numbers(&tree.value, "", &mut found);
        assert!(found.len() > 200, "{} numbers", found.len());
        // Every number moved (some then out of their range), then other kinds of overrides,
        // valid and not.
        let mut cases: Vec<Vec<Override>> = found
            .iter()
            .map(|(key, value)| {
                let moved = match value {
                    toml::Value::Integer(i) => toml::Value::Integer(i + 1),
                    toml::Value::Float(x) => toml::Value::Float(x * 1.7 + 0.01),
                    other => other.clone(),
                };
                vec![(key.clone(), moved)]
            })
            .collect();
        let v = |text: &str| parse_value(text);
        for case in [
            vec![("model.alignment_inertia", v("0.2")), ("patrons.USA.goodwill", v("1"))],
            vec![("patrons.USA.strategy.rule", v("learning"))],
            vec![("patrons.USA.strategy.rule", v("nonsense"))],
            vec![("time.start", v("2025Q1")), ("time.horizon_quarters", v("8"))],
            vec![("time.start", v("2025-01-01"))],
            vec![("model.alignment_inertai", v("0.1"))],
            vec![("model.alignment_inertia", v("\"high\""))],
            vec![("model.alignment_inertia.x", v("1.0"))],
            vec![("patrons.XYZ.goodwill", v("0.1"))],
            vec![("patrons.2.goodwill", v("0.3"))],
            vec![("patrons.USA", v("{ id = \"USA\" }"))],
            vec![("model", v("{ alignment_inertia = 0.3 }"))],
            vec![("model", v("{ alignment_inertia = 0.3, nope = 1 }"))],
            vec![("run.replicates", v("[1, 2]"))],
            vec![
                ("model.alignment_inertia", v("0.3")),
                ("model.alignment_inertia", v("-1")),
            ],
        ] {
            cases.push(case.into_iter().map(|(k, v)| (k.to_string(), v)).collect());
        }
        let (mut valid, mut invalid) = (0, 0);
        for overrides in &cases {
            match (tree.resolve_quietly(overrides), tree.resolve_tracked(overrides)) {
                (Some(quiet), Ok(tracked)) => {
                    assert_eq!(quiet.resolved_json(), tracked.resolved_json(), "{overrides:?}");
                    assert_eq!(
                        format!("{:?}", quiet.scenario),
                        format!("{:?}", tracked.scenario),
                        "{overrides:?}"
                    );
                    assert_eq!(quiet.files, tracked.files);
                    valid += 1;
                }
                (None, Err(_)) => invalid += 1,
                (quiet, tracked) => panic!(
                    "{overrides:?}: quietly {}, tracked {}",
                    if quiet.is_some() { "valid" } else { "not valid" },
                    match tracked {
                        Ok(_) => "valid".to_string(),
                        Err(e) => e.to_string(),
                    }
                ),
            }
        }
        assert!(valid > 200 && invalid > 20, "{valid} valid, {invalid} not");
    }

    #[test]
    fn bad_overrides_are_reported_like_bad_files() {
        let tree = baseline();
        let messages = |key: &str, value: toml::Value| -> String {
            let error = tree.resolve(&[(key.to_string(), value)]).expect_err("must fail");
            error
                .problems
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        };
        let m = messages("patrons.USA.investment_budget_usd_bn", toml::Value::Float(-1.0));
        assert!(
            m.starts_with("override patrons.USA.investment_budget_usd_bn = -1.0: patrons[2].investment_budget_usd_bn must be >= 0"),
            "{m}"
        );
        let m = messages("model.alignment_inertai", toml::Value::Float(0.1));
        assert!(m.contains("model.alignment_inertai is not a known key"), "{m}");
        let m = messages("patrons.XYZ.goodwill", toml::Value::Float(0.1));
        assert!(m.contains("patrons has no element \"XYZ\""), "{m}");
        assert!(m.contains("\"USA\""), "{m}");
        let m = messages("model.alignment_inertia", toml::Value::String("high".into()));
        assert!(m.contains("wrong type"), "{m}");
        let m = messages("model.alignment_inertia.x", toml::Value::Float(1.0));
        assert!(m.contains("not a table"), "{m}");
    }

    #[test]
    fn defining_file_names_the_parent_for_inherited_keys() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/us_minerals_push.toml");
        let tree = ScenarioTree::read(&path).expect("reads");
        let time = tree
            .defining_file(&["time", "horizon_quarters"])
            .expect("set somewhere");
        assert!(time.ends_with("baseline.toml"), "{}", time.display());
        assert!(tree.defining_file(&["no_such_key"]).is_none());
    }
}
