//! `greatgame new NAME --extends PARENT`: a commented variant to start from.
//!
//! The file it writes is valid as it stands (it changes nothing but its name), and says
//! what to fill in: the question the variant asks, and the most used levers as commented
//! lines holding the parent's values, each with its unit, range and default from the
//! schema ([`crate::scenario::schema`]), so uncommenting a line and changing its value is
//! all a first variant needs.

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use serde_json::Value;

use crate::job::JobError;
use crate::scenario::{self, schema};

/// What to write.
#[derive(Debug, Clone)]
pub struct NewOptions {
    /// A scenario name (written to `scenarios/NAME.toml`) or a path ending in `.toml`.
    pub name: String,
    /// The parent: a scenario name (looked up beside the new file, then in `scenarios/`)
    /// or a path.
    pub extends: String,
}

/// What was written.
#[derive(Debug, Clone)]
pub struct NewOutcome {
    pub path: PathBuf,
    pub parent: PathBuf,
}

/// Levers shown as examples, per kind of actor, in this order: the ones the shipped
/// variants change most.
const PATRON_LEVERS: [&str; 7] = [
    "investment_budget_usd_bn",
    "security_budget_usd_bn",
    "trade_offer",
    "credibility",
    "conditionality",
    "assertiveness",
    "goodwill",
];
const HOST_LEVERS: [&str; 4] = [
    "threat_level",
    "absorptive_capacity",
    "security_openness",
    "concentration_aversion",
];
const MODEL_LEVERS: [&str; 2] = ["alignment_inertia", "decision_noise_sd"];

/// Writes the variant; refuses to overwrite a file (exit 2).
pub fn new_scenario(options: &NewOptions) -> Result<NewOutcome, JobError> {
    let path = target(&options.name);
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    if stem.is_empty()
        || stem.len() > 64
        || stem.starts_with('.')
        || !stem.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
    {
        return Err(JobError::Usage(format!(
            "{:?}: a scenario name is 1-64 letters, digits, '_', '-' or '.' (it names the output folder)",
            options.name
        )));
    }
    if path.exists() {
        return Err(JobError::Usage(format!(
            "{} already exists; choose another name or remove it first",
            path.display()
        )));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(JobError::Usage(format!(
            "{} is not a folder; create it first",
            dir.display()
        )));
    }
    let parent = find_parent(&options.extends, &dir)?;
    let loaded = scenario::load(&parent).map_err(JobError::scenario(format!("{} (the parent)", parent.display())))?;
    let extends = relative(&dir, &parent);
    let directive = [
        dir.join("schema"),
        parent.parent().unwrap_or(Path::new(".")).join("schema"),
    ]
    .into_iter()
    .map(|d| d.join("scenario.schema.json"))
    .find(|p| p.is_file())
    .map(|p| relative(&dir, &p));
    let text = variant_text(
        &stem,
        &path.display().to_string(),
        &extends,
        directive.as_deref(),
        &loaded.resolved_json(),
        &loaded.scenario.name,
    );
    write_new(&path, &text)?;
    Ok(NewOutcome { path, parent })
}

/// `scenarios/NAME.toml`, or the path given.
fn target(name: &str) -> PathBuf {
    if name.ends_with(".toml") || name.contains('/') || name.contains(std::path::MAIN_SEPARATOR) {
        let path = PathBuf::from(name);
        if path.extension().is_some() {
            path
        } else {
            path.with_extension("toml")
        }
    } else {
        Path::new("scenarios").join(format!("{name}.toml"))
    }
}

fn find_parent(extends: &str, dir: &Path) -> Result<PathBuf, JobError> {
    let given = PathBuf::from(extends);
    let mut tried = vec![given.clone()];
    if !extends.ends_with(".toml") && !extends.contains('/') {
        tried.push(dir.join(format!("{extends}.toml")));
        tried.push(Path::new("scenarios").join(format!("{extends}.toml")));
    }
    tried.iter().find(|p| p.is_file()).cloned().ok_or_else(|| {
        JobError::Usage(format!(
            "--extends {extends}: no such scenario (looked for {})",
            tried
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

/// `to` relative to the folder `from`, with `/` (TOML files are shared across systems).
fn relative(from: &Path, to: &Path) -> String {
    let absolute = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let from = absolute(from);
    let to = absolute(to);
    let a: Vec<Component> = from.components().collect();
    let b: Vec<Component> = to.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<String> = vec!["..".to_string(); a.len() - common];
    parts.extend(b[common..].iter().map(|c| c.as_os_str().to_string_lossy().into_owned()));
    let joined = parts.join("/");
    if joined.starts_with("..") {
        joined
    } else {
        format!("./{joined}")
    }
}

/// Creates `path` with `text`; fails if it exists (even if it appeared meanwhile).
fn write_new(path: &Path, text: &str) -> Result<(), JobError> {
    use std::io::Write as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                JobError::Usage(format!(
                    "{} already exists; choose another name or remove it first",
                    path.display()
                ))
            } else {
                JobError::io(format!("creating {}", path.display()))(e)
            }
        })?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(JobError::io(format!("writing {}", path.display())))
}

/// The file: directive, header, the keys that make it a variant, then commented levers.
pub fn variant_text(
    name: &str,
    path: &str,
    extends: &str,
    directive: Option<&str>,
    parent: &Value,
    parent_name: &str,
) -> String {
    let mut t = String::new();
    match directive {
        Some(schema_path) => {
            let _ = writeln!(t, "#:schema {schema_path}");
        }
        None => t.push_str(
            "# (No schema found beside this file or its parent: `greatgame schema > schema/scenario.schema.json`\n\
             # and a first line `#:schema ./schema/scenario.schema.json` give an editor completion and checks.)\n",
        ),
    }
    let _ = write!(
        t,
        "#\n\
         # {name}: a variant of {parent_name}.\n\
         #\n\
         # Question: what does this variant ask? Say it in one sentence here and in\n\
         # `description` below (report.html opens with it), e.g. \"if <patron> does <what> from\n\
         # <quarter>, how far do <outcomes> move by <quarter>?\".\n\
         #\n\
         # Only what differs from {parent_name} goes here; everything else is inherited.\n\
         # Patrons, hosts and routes are matched by `id`, events by `name`. Every key, its\n\
         # unit and default: docs/scenario-format.md. Check with `greatgame check {path}`.\n\
         \n\
         extends = {}\n\
         name = {}\n\
         description = {}\n",
        toml_str(extends),
        toml_str(name),
        toml_str("TODO: the question this variant asks")
    );

    t.push_str("\n# ---- Levers: uncomment a line and change its value (the values shown are the parent's).\n");
    let section = |t: &mut String, table: &str, keys: &[&str], values: &Value, prefix: &str| {
        let _ = writeln!(t, "\n# [{table}]");
        for key in keys {
            lever_line(t, &format!("{prefix}{key}"), key, &values[*key]);
        }
    };
    section(&mut t, "time", &["horizon_quarters"], &parent["time"], "time.");
    section(&mut t, "run", &["replicates"], &parent["run"], "run.");
    section(&mut t, "model", &MODEL_LEVERS, &parent["model"], "model.");
    for patron in parent["patrons"].as_array().into_iter().flatten() {
        let _ = write!(
            t,
            "\n# [[patrons]]\n# id = {}\n",
            toml_str(patron["id"].as_str().unwrap_or(""))
        );
        for key in PATRON_LEVERS {
            lever_line(&mut t, &format!("patrons[].{key}"), key, &patron[key]);
        }
    }
    for host in parent["hosts"].as_array().into_iter().flatten() {
        let _ = write!(
            t,
            "\n# [[hosts]]\n# id = {}\n",
            toml_str(host["id"].as_str().unwrap_or(""))
        );
        for key in HOST_LEVERS {
            lever_line(&mut t, &format!("hosts[].{key}"), key, &host[key]);
        }
    }

    if let Some(patron) = parent["patrons"].as_array().and_then(|p| p.first()) {
        let id = patron["id"].as_str().unwrap_or("");
        let at = parent["time"]["start"].as_str().unwrap_or("2025Q1");
        let _ = write!(
            t,
            "\n# ---- Events: something that happens on a date (`at`) or with a chance each quarter\n\
             # (`hazard_per_quarter`), changing levers for `duration_quarters` (or to the end).\n\
             # `op` is set, add or multiply; `quantity` one of: {}.\n\
             #\n\
             # [[events]]\n\
             # name = \"{id} doubles its finance\"\n\
             # at = {}\n\
             # duration_quarters = 8\n\
             # effects = [{{ actor = {}, quantity = \"investment_budget_usd_bn\", op = \"multiply\", value = 2.0 }}]\n",
            crate::model::quantities::Quantity::all_names().join(", "),
            toml_str(at),
            toml_str(id)
        );
    }
    t
}

/// `# key = value   # unit, range; default. First sentence of the key's documentation.`
fn lever_line(t: &mut String, schema_key: &str, key: &str, value: &Value) {
    let literal = match value {
        Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
        Value::Number(n) => toml::Value::Float(n.as_f64().unwrap_or(0.0)).to_string(),
        other => other.to_string(),
    };
    let mut note = String::new();
    if let Some(number) = schema::number(schema_key) {
        note = format!("{}, {}", number.unit, schema::range_text(number));
    }
    if let Some((default, doc)) = documentation(schema_key) {
        if let Some(default) = default {
            note.push_str(&format!("; default {default}"));
        }
        if !doc.is_empty() {
            note.push_str(". ");
            note.push_str(&doc);
        }
    }
    let assignment = format!("# {key} = {literal}");
    let _ = writeln!(t, "{assignment:<40} # {note}");
}

/// The default and the first sentence of the documentation of a key, from the schema.
fn documentation(schema_key: &str) -> Option<(Option<String>, String)> {
    let schema = schema_cache();
    let mut node = schema;
    for part in schema_key.split('.') {
        let (name, array) = match part.strip_suffix("[]") {
            Some(name) => (name, true),
            None => (part, false),
        };
        node = node.get("properties")?.get(name)?;
        if array {
            node = node.get("items")?;
        }
    }
    let default = node.get("default").map(Value::to_string);
    let text = node.get("description").and_then(Value::as_str).unwrap_or("");
    let first = text.split("\n\n").next().unwrap_or("").replace('\n', " ");
    let sentence = match first.find(". ") {
        Some(end) => first[..=end].to_string(),
        None => first,
    };
    Some((default, sentence.trim().to_string()))
}

fn schema_cache() -> &'static Value {
    static SCHEMA: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(schema::schema)
}

fn toml_str(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_and_relative_paths() {
        assert_eq!(target("mine"), Path::new("scenarios/mine.toml"));
        assert_eq!(target("elsewhere/mine"), Path::new("elsewhere/mine.toml"));
        assert_eq!(target("x.toml"), Path::new("x.toml"));
        let dir = tempfile::tempdir().expect("temporary folder");
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        std::fs::write(dir.path().join("a/p.toml"), "").unwrap();
        assert_eq!(
            relative(&dir.path().join("a/b"), &dir.path().join("a/p.toml")),
            "../p.toml"
        );
        assert_eq!(
            relative(&dir.path().join("a"), &dir.path().join("a/p.toml")),
            "./p.toml"
        );
    }
}
