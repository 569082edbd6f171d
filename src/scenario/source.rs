//! Scenario text as a tree that remembers where every value came from.
//!
//! Files are parsed with `toml_edit`, which keeps byte spans, into [`Node`]s tagged with
//! their [`Origin`]. `extends` merges trees (tables key by key, arrays of actors by
//! `id`), and every later error is located by looking its key path up in the merged tree,
//! so a problem in a value inherited from a parent file points into the parent file.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One loaded file: its path (as the user gave it) and text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
}

impl SourceFile {
    /// 1-based line and column of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        (line, column)
    }
}

/// Where a value was written: a file of the [`Sources`] and a byte range in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: usize,
    pub span: Option<Range<usize>>,
}

/// All files read for one scenario, parents after children.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub files: Vec<SourceFile>,
}

impl Sources {
    pub fn add(&mut self, path: &Path, text: String) -> usize {
        self.files.push(SourceFile {
            path: path.to_path_buf(),
            text,
        });
        self.files.len() - 1
    }

    /// The file and, where known, the line and column of an origin.
    pub fn locate(&self, origin: &Origin) -> Location {
        let file = &self.files[origin.file];
        let line_col = origin.span.as_ref().map(|s| file.line_col(s.start));
        Location {
            path: file.path.clone(),
            line: line_col.map(|(l, _)| l),
            column: line_col.map(|(_, c)| c),
        }
    }
}

/// A file, line and column, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        Ok(())
    }
}

/// One step of a key path: a table key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// A key path such as `patrons[1].investment_budget_usd_bn`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPath(pub Vec<Segment>);

impl KeyPath {
    pub fn root() -> KeyPath {
        KeyPath(Vec::new())
    }

    pub fn key(&self, key: &str) -> KeyPath {
        let mut segments = self.0.clone();
        segments.push(Segment::Key(key.to_string()));
        KeyPath(segments)
    }

    pub fn index(&self, index: usize) -> KeyPath {
        let mut segments = self.0.clone();
        segments.push(Segment::Index(index));
        KeyPath(segments)
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return write!(f, "(file)");
        }
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) => {
                    let plain =
                        !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                    match (i, plain) {
                        (0, true) => write!(f, "{key}")?,
                        (_, true) => write!(f, ".{key}")?,
                        (0, false) => write!(f, "{key:?}")?,
                        (_, false) => write!(f, ".{key:?}")?,
                    }
                }
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// A TOML value with its origin.
#[derive(Debug, Clone)]
pub struct Node {
    pub origin: Origin,
    pub kind: NodeKind,
}

#[derive(Debug, Clone)]
pub enum NodeKind {
    /// Keys in file order, each with the origin of the key itself.
    Table(Vec<(String, Origin, Node)>),
    Array(Vec<Node>),
    Scalar(toml::Value),
}

/// Why a file could not be parsed as TOML.
#[derive(Debug, Clone)]
pub struct SyntaxError {
    pub message: String,
    pub span: Option<Range<usize>>,
}

/// Parses one file's text into a tree.
pub fn parse(file: usize, text: &str) -> Result<Node, SyntaxError> {
    let document = toml_edit::ImDocument::parse(text).map_err(|e| SyntaxError {
        message: e.message().trim().to_string(),
        span: e.span(),
    })?;
    Ok(from_table(file, document.as_table()))
}

fn origin(file: usize, span: Option<Range<usize>>) -> Origin {
    Origin { file, span }
}

fn from_table(file: usize, table: &toml_edit::Table) -> Node {
    let entries = table
        .iter()
        .map(|(key, item)| {
            let key_span = table.key(key).and_then(|k| k.span());
            let node = from_item(file, item, key_span.clone());
            (key.to_string(), origin(file, key_span), node)
        })
        .collect();
    Node {
        origin: origin(file, table.span()),
        kind: NodeKind::Table(entries),
    }
}

fn from_inline_table(file: usize, table: &toml_edit::InlineTable) -> Node {
    let entries = table
        .iter()
        .map(|(key, value)| {
            let key_span = table.key(key).and_then(|k| k.span());
            (key.to_string(), origin(file, key_span), from_value(file, value))
        })
        .collect();
    Node {
        origin: origin(file, table.span()),
        kind: NodeKind::Table(entries),
    }
}

fn from_item(file: usize, item: &toml_edit::Item, fallback: Option<Range<usize>>) -> Node {
    match item {
        toml_edit::Item::Table(table) => {
            let mut node = from_table(file, table);
            if node.origin.span.is_none() {
                node.origin.span = fallback;
            }
            node
        }
        toml_edit::Item::ArrayOfTables(array) => Node {
            origin: origin(file, array.span().or(fallback)),
            kind: NodeKind::Array(array.iter().map(|t| from_table(file, t)).collect()),
        },
        toml_edit::Item::Value(value) => from_value(file, value),
        toml_edit::Item::None => Node {
            origin: origin(file, fallback),
            kind: NodeKind::Table(Vec::new()),
        },
    }
}

fn from_value(file: usize, value: &toml_edit::Value) -> Node {
    let span = value.span();
    let kind = match value {
        toml_edit::Value::String(s) => NodeKind::Scalar(toml::Value::String(s.value().clone())),
        toml_edit::Value::Integer(i) => NodeKind::Scalar(toml::Value::Integer(*i.value())),
        toml_edit::Value::Float(x) => NodeKind::Scalar(toml::Value::Float(*x.value())),
        toml_edit::Value::Boolean(b) => NodeKind::Scalar(toml::Value::Boolean(*b.value())),
        toml_edit::Value::Datetime(d) => NodeKind::Scalar(toml::Value::String(d.value().to_string())),
        toml_edit::Value::Array(array) => NodeKind::Array(array.iter().map(|v| from_value(file, v)).collect()),
        toml_edit::Value::InlineTable(table) => return from_inline_table(file, table),
    };
    Node {
        origin: origin(file, span),
        kind,
    }
}

impl Node {
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            NodeKind::Table(entries) => entries.iter().find(|(k, ..)| k == key).map(|(.., n)| n),
            _ => None,
        }
    }

    /// The element's label under `keys` (their string values joined by `/`), if it has
    /// every one of them.
    pub fn label(&self, keys: &[&str]) -> Option<String> {
        let parts: Option<Vec<&str>> = keys.iter().map(|k| self.get(k).and_then(Node::as_str)).collect();
        parts.map(|p| p.join("/"))
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar(toml::Value::String(s)) => Some(s),
            _ => None,
        }
    }

    /// Removes a top-level key (used for `extends`, which is not inherited).
    pub fn remove(&mut self, key: &str) -> Option<Node> {
        match &mut self.kind {
            NodeKind::Table(entries) => {
                let at = entries.iter().position(|(k, ..)| k == key)?;
                Some(entries.remove(at).2)
            }
            _ => None,
        }
    }

    /// Lays `overlay` over `self`: tables merge key by key; arrays of tables whose
    /// elements all carry an `id` (actors) or a `name` (events) merge element by element,
    /// new ones appended; anything else is replaced.
    pub fn merge(&mut self, overlay: Node) {
        match (&mut self.kind, overlay.kind) {
            (NodeKind::Table(base), NodeKind::Table(over)) => {
                // A table the overlay touches is reported where the overlay wrote it.
                if overlay.origin.span.is_some() {
                    self.origin = overlay.origin;
                }
                for (key, key_origin, value) in over {
                    match base.iter_mut().find(|(k, ..)| *k == key) {
                        Some((_, existing_origin, existing)) => {
                            *existing_origin = key_origin;
                            existing.merge(value);
                        }
                        None => base.push((key, key_origin, value)),
                    }
                }
            }
            (NodeKind::Array(base), NodeKind::Array(over)) if matching_key(base, &over).is_some() => {
                let keys = matching_key(base, &over).expect("checked by the guard");
                for element in over {
                    let label = element.label(keys);
                    match base.iter_mut().find(|b| b.label(keys) == label) {
                        Some(existing) => existing.merge(element),
                        None => base.push(element),
                    }
                }
            }
            (_, kind) => {
                self.kind = kind;
                self.origin = overlay.origin;
            }
        }
    }

    /// The origin of the deepest node along `path`: the value itself when it exists,
    /// otherwise the closest enclosing table (where a missing key belongs).
    pub fn origin_of(&self, path: &KeyPath) -> Origin {
        self.locate_path(path, false)
    }

    /// Like [`Node::origin_of`], but for a key that exists, the key itself rather than
    /// its value (where an unknown key is reported).
    pub fn key_origin_of(&self, path: &KeyPath) -> Origin {
        self.locate_path(path, true)
    }

    fn locate_path(&self, path: &KeyPath, prefer_key: bool) -> Origin {
        let mut node = self;
        let mut best = self.origin.clone();
        for segment in &path.0 {
            let next = match (segment, &node.kind) {
                (Segment::Key(key), NodeKind::Table(entries)) => {
                    entries.iter().find(|(k, ..)| k == key).map(|(_, key_origin, n)| {
                        // A value's own span is best; a table header's key span is next.
                        (n, key_origin)
                    })
                }
                (Segment::Index(i), NodeKind::Array(items)) => items.get(*i).map(|n| (n, &n.origin)),
                _ => None,
            };
            match next {
                Some((child, fallback)) => {
                    best = if prefer_key && fallback.span.is_some() {
                        fallback.clone()
                    } else if child.origin.span.is_some() {
                        child.origin.clone()
                    } else {
                        fallback.clone()
                    };
                    node = child;
                }
                None => break,
            }
        }
        best
    }

    /// The plain TOML value, for deserialisation.
    pub fn to_value(&self) -> toml::Value {
        match &self.kind {
            NodeKind::Table(entries) => {
                let mut table = toml::map::Map::new();
                for (key, _, value) in entries {
                    table.insert(key.clone(), value.to_value());
                }
                toml::Value::Table(table)
            }
            NodeKind::Array(items) => toml::Value::Array(items.iter().map(Node::to_value).collect()),
            NodeKind::Scalar(value) => value.clone(),
        }
    }
}

/// The keys that identify an element of an array of tables across `extends`.
const LABELS: [&[&str]; 3] = [&["id"], &["name"], &["host", "commodity"]];

/// Arrays of tables whose elements must carry unique labels within one file, because
/// `extends` matches elements by those labels: the array's key and the label keys.
pub const LABELLED_ARRAYS: [(&str, &[&str]); 6] = [
    ("hosts", &["id"]),
    ("patrons", &["id"]),
    ("events", &["name"]),
    ("commodities", &["id"]),
    ("routes", &["id"]),
    ("deposits", &["host", "commodity"]),
];

/// Labels used twice in one file's actor or event arrays, with the path of the second use.
pub fn duplicate_labels(tree: &Node) -> Vec<(KeyPath, String)> {
    let mut found = Vec::new();
    for (array_key, label_keys) in LABELLED_ARRAYS {
        let Some(NodeKind::Array(items)) = tree.get(array_key).map(|n| &n.kind) else {
            continue;
        };
        let what = label_keys.join("/");
        for (i, item) in items.iter().enumerate() {
            let Some(label) = item.label(label_keys) else {
                continue;
            };
            let first = items[..i]
                .iter()
                .position(|earlier| earlier.label(label_keys).as_ref() == Some(&label));
            if let Some(first) = first {
                found.push((
                    KeyPath::root().key(array_key).index(i).key(label_keys[0]),
                    format!(
                        "duplicate {what} {label:?} (also {array_key}[{first}] in this file); it must be unique because `extends` matches {array_key} by {what}"
                    ),
                ));
            }
        }
    }
    found
}

/// The keys that identify elements of two arrays of tables for merging: `id` (actors,
/// commodities, routes), `name` (events) or `host` and `commodity` (deposits), when every
/// element of both arrays has them as strings.
fn matching_key(base: &[Node], over: &[Node]) -> Option<&'static [&'static str]> {
    LABELS.into_iter().find(|keys| {
        let labelled = |items: &[Node]| items.iter().all(|n| n.label(keys).is_some());
        !base.is_empty() && !over.is_empty() && labelled(base) && labelled(over)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_paths_print_like_the_file() {
        let path = KeyPath::root().key("patrons").index(1).key("security_budget_usd_bn");
        assert_eq!(path.to_string(), "patrons[1].security_budget_usd_bn");
        assert_eq!(KeyPath::root().key("a b").to_string(), "\"a b\"");
    }

    #[test]
    fn merge_matches_actors_by_id_and_tables_by_key() {
        let base = "[[hosts]]\nid = \"KAZ\"\ngdp_usd_bn = 1.0\n[hosts.ties.CHN]\ntrade_usd_bn = 2.0\n\n[[hosts]]\nid = \"UZB\"\ngdp_usd_bn = 3.0\n";
        let over = "[[hosts]]\nid = \"UZB\"\ngdp_usd_bn = 9.0\n\n[[hosts]]\nid = \"AFG\"\ngdp_usd_bn = 4.0\n";
        let mut tree = parse(0, base).unwrap();
        tree.merge(parse(1, over).unwrap());
        let value = tree.to_value();
        let hosts = value["hosts"].as_array().unwrap();
        assert_eq!(hosts.len(), 3);
        assert_eq!(hosts[0]["ties"]["CHN"]["trade_usd_bn"].as_float(), Some(2.0));
        assert_eq!(hosts[1]["gdp_usd_bn"].as_float(), Some(9.0));
        assert_eq!(hosts[2]["id"].as_str(), Some("AFG"));
        // The overridden value points into the overlay file, the inherited one into the base.
        let uzb = tree.origin_of(&KeyPath::root().key("hosts").index(1).key("gdp_usd_bn"));
        assert_eq!(uzb.file, 1);
        let kaz = tree.origin_of(&KeyPath::root().key("hosts").index(0).key("gdp_usd_bn"));
        assert_eq!(kaz.file, 0);
    }

    #[test]
    fn line_and_column_are_one_based() {
        let file = SourceFile {
            path: "x.toml".into(),
            text: "a = 1\nbb = 2\n".into(),
        };
        assert_eq!(file.line_col(0), (1, 1));
        assert_eq!(file.line_col(11), (2, 6));
    }
}
