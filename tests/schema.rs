//! The JSON Schema of the scenario format (`greatgame schema`): the committed file is
//! current, every shipped scenario satisfies it, the bad-input corpus fails it where the
//! format is at fault, and the ranges it states are exactly what validation accepts. The
//! schema is checked with an independent validator (the `jsonschema` crate, draft 7).

use std::path::{Path, PathBuf};
use std::process::Command;

use greatgame::scenario::file::ScenarioFile;
use greatgame::scenario::schema::{self, Bound, Number, NUMBERS};
use greatgame::scenario::{self as loader, validate};
use serde_json::{json, Value};

mod common;

use common::*;

fn validator() -> jsonschema::Validator {
    jsonschema::draft7::new(&schema::schema()).expect("the schema is a valid draft-07 schema")
}

/// A TOML file as the JSON an editor's language server checks (NaN and infinity, which
/// JSON cannot hold, become null, which no number accepts).
fn toml_as_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let value: toml::Value = toml::from_str(&text).map_err(|e| e.to_string())?;
    serde_json::to_value(value).map_err(|e| e.to_string())
}

/// The schema's complaints about a file: (JSON pointer, message).
fn schema_errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<(String, String)> {
    validator
        .iter_errors(instance)
        .map(|e| (e.instance_path.to_string(), e.to_string()))
        .collect()
}

#[test]
fn the_committed_schema_is_the_generated_one() {
    let path = repo().join(schema::SCHEMA_PATH);
    let generated = schema::schema_text();
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("create the schema's folder");
        std::fs::write(&path, &generated).expect("write the schema");
        panic!(
            "{} was stale and has been regenerated from the scenario types: review and commit it",
            schema::SCHEMA_PATH
        );
    }
    // `greatgame schema` prints the same.
    let output = Command::new(BIN).arg("schema").output().expect("the binary runs");
    assert!(output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stdout), generated);
}

#[test]
fn every_shipped_scenario_names_and_satisfies_the_schema() {
    let validator = validator();
    for path in shipped_scenarios() {
        let text = std::fs::read_to_string(&path).expect("readable");
        assert_eq!(
            text.lines().next(),
            Some(schema::DIRECTIVE),
            "{} must start with the schema directive",
            path.display()
        );
        let instance = toml_as_json(&path).expect("shipped scenarios are TOML");
        let errors = schema_errors(&validator, &instance);
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
    }
}

/// The corpus, file by file: where the schema must flag the file (a JSON pointer it must
/// name), or why it cannot see what is wrong.
const CORPUS: &[(&str, Result<&str, &str>)] = &[
    ("absurd_sizes.toml", Ok("/run/replicates")),
    ("bad_event.toml", Ok("/events/0/effects/0/quantity")),
    ("bad_extends_type.toml", Ok("/extends")),
    ("bad_gdp_path.toml", Ok("/hosts/0/gdp_usd_bn_path")),
    ("bad_quarter.toml", Ok("/time/start")),
    ("bad_strategy.toml", Ok("/patrons/0/strategy/rule")),
    (
        "broken_toml.toml",
        Err("not TOML: the editor's TOML parser reports it before any schema applies"),
    ),
    (
        "duplicate_ids.toml",
        Err("a duplicate id across array entries: JSON Schema compares whole entries, not one key"),
    ),
    (
        "duplicate_ids_standalone.toml",
        Err("a duplicate id across array entries"),
    ),
    (
        "extends_broken.toml",
        Err("`extends` names a broken file: the schema sees one file"),
    ),
    (
        "extends_loop_a.toml",
        Err("a loop of `extends` between files: the schema sees one file"),
    ),
    ("extends_loop_b.toml", Err("a loop of `extends` between files")),
    (
        "extends_nowhere.toml",
        Err("`extends` names a missing file: the schema cannot see the file system"),
    ),
    (
        "missing_actor.toml",
        Err("references to hosts, patrons and actors the scenario does not define"),
    ),
    ("missing_gdp.toml", Ok("/hosts/0")),
    ("negative_budget.toml", Ok("/patrons/1/security_budget_usd_bn")),
    (
        "no_actors.toml",
        Err("a scenario without hosts or patrons: a variant may add none, so the schema requires none"),
    ),
    ("non_finite.toml", Ok("/model/alignment_inertia")),
    ("reserved_id.toml", Ok("/patrons/0/id")),
    ("shares_over_one.toml", Ok("/hosts/0/absorptive_capacity")),
    ("unknown_keys.toml", Ok("")),
    ("wrong_type.toml", Ok("/time/horizon_quarters")),
];

#[test]
fn the_bad_corpus_fails_the_schema_where_the_format_is_at_fault() {
    let validator = validator();
    let dir = repo().join("tests").join("bad_scenarios");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("the corpus")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    files.sort();
    let listed: Vec<String> = CORPUS.iter().map(|(f, _)| f.to_string()).collect();
    assert_eq!(files, listed, "every corpus file must be classified here");
    let mut failures = Vec::new();
    for (file, expected) in CORPUS {
        let parsed = toml_as_json(&dir.join(file));
        match (expected, parsed) {
            (Err(_), Err(_)) => {}
            (Ok(_), Err(e)) => failures.push(format!("{file}: expected TOML, got {e}")),
            (Err(why), Ok(instance)) => {
                let errors = schema_errors(&validator, &instance);
                if !errors.is_empty() {
                    failures.push(format!(
                        "{file}: listed as invisible to the schema ({why}) but it fails it: {errors:?}"
                    ));
                }
            }
            (Ok(pointer), Ok(instance)) => {
                let errors = schema_errors(&validator, &instance);
                if !errors.iter().any(|(at, _)| at == pointer) {
                    failures.push(format!("{file}: expected an error at {pointer:?}, got {errors:?}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_quarter_pattern_accepts_what_the_parser_accepts() {
    let pattern = schema::QUARTER_PATTERN;
    let check = jsonschema::draft7::new(&json!({ "type": "string", "pattern": pattern })).expect("valid");
    for text in [
        "2024Q1", "2015-q3", "1900Q4", "2200Q1", " 2030Q2 ", "2024Q5", "2024", "1899Q4", "2201Q1", "Q1", "abcQ1",
        "2024-Q3",
    ] {
        let parsed = text.parse::<greatgame::time::Quarter>().is_ok();
        assert_eq!(
            check.is_valid(&json!(text)),
            parsed,
            "{text:?}: the parser says {parsed}"
        );
    }
}

// ------------------------------------------------------------------------ ranges

/// The baseline, resolved (every key with its value or default), as JSON.
fn baseline_json() -> Value {
    loader::load(&shipped("baseline"))
        .expect("the baseline loads")
        .resolved_json()
}

/// The concrete key path of `key` in `root` (`[]`: the first entry that gives the last
/// key a value, else the first; `*`: the first key of the table, or a valid one added),
/// creating what is missing. Returns the path as validation prints it.
fn instantiate(root: &mut Value, key: &str) -> String {
    let ids = |root: &Value, list: &str| -> String {
        root[list][0]["id"].as_str().expect("the baseline has one").to_string()
    };
    let (patron, host, commodity) = (ids(root, "patrons"), ids(root, "hosts"), ids(root, "commodities"));
    let leaf = key.rsplit('.').next().unwrap_or(key).to_string();
    let mut printed = String::new();
    let mut node = root;
    let mut parent_key = String::new();
    for (i, part) in key.split('.').enumerate() {
        let (name, array) = match part.strip_suffix("[]") {
            Some(name) => (name, true),
            None => (part, false),
        };
        let name = if name == "*" {
            let map = node.as_object_mut().expect("a table");
            let first = map.keys().next().cloned();
            let chosen = first.unwrap_or_else(|| match parent_key.as_str() {
                "ties" | "owners" => patron.clone(),
                "allocation" => host.clone(),
                "processing" | "minerals_priorities" => commodity.clone(),
                _ => "2024".to_string(),
            });
            map.entry(chosen.clone()).or_insert(json!(null));
            chosen
        } else {
            name.to_string()
        };
        if i > 0 {
            printed.push('.');
        }
        printed.push_str(&name);
        if node.get(&name).is_none() || node[&name].is_null() {
            node[&name] = if array { json!([{}]) } else { json!({}) };
        }
        node = &mut node[&name];
        parent_key = name.clone();
        if array {
            let list = node.as_array_mut().expect("an array");
            let index = list
                .iter()
                .position(|e| e.get(&leaf).is_some_and(|v| !v.is_null()))
                .unwrap_or(0);
            printed.push_str(&format!("[{index}]"));
            node = &mut list[index];
        }
    }
    printed
}

/// Sets `key` to `value` in a copy of the baseline: whether the loader accepts that value
/// there (no problem reported at that key; values of the wrong type fail to deserialise).
fn accepts(base: &Value, key: &str, value: &Value) -> bool {
    let mut root = base.clone();
    let path = instantiate(&mut root, key);
    set(&mut root, key, value.clone());
    let file: ScenarioFile = match serde_json::from_value(root) {
        Ok(file) => file,
        Err(_) => return false,
    };
    match validate::validate(&file, "range_test") {
        Ok(_) => true,
        Err(problems) => !problems.0.iter().any(|(at, _)| at.to_string() == path),
    }
}

fn set(root: &mut Value, key: &str, value: Value) {
    let leaf = key.rsplit('.').next().unwrap_or(key).to_string();
    let mut node = root;
    for part in key.split('.') {
        let (name, array) = match part.strip_suffix("[]") {
            Some(name) => (name, true),
            None => (part, false),
        };
        node = if name == "*" {
            let first = node
                .as_object()
                .and_then(|m| m.keys().next().cloned())
                .expect("instantiated");
            &mut node[&first]
        } else {
            &mut node[name]
        };
        if array {
            let list = node.as_array_mut().expect("an array");
            let index = list
                .iter()
                .position(|e| e.get(&leaf).is_some_and(|v| !v.is_null()))
                .unwrap_or(0);
            node = &mut list[index];
        }
    }
    *node = value;
}

/// The schema node of a key path.
fn schema_node<'a>(schema: &'a Value, key: &str) -> &'a Value {
    let mut node = schema;
    for part in key.split('.') {
        let (name, array) = match part.strip_suffix("[]") {
            Some(name) => (name, true),
            None => (part, false),
        };
        node = if name == "*" {
            &node["additionalProperties"]
        } else {
            &node["properties"][name]
        };
        if array {
            node = &node["items"];
        }
    }
    node
}

#[test]
fn schema_ranges_are_what_validation_accepts() {
    let base = baseline_json();
    let schema = schema::schema();
    let mut failures = Vec::new();
    for number in NUMBERS {
        let node = schema_node(&schema, number.key);
        let integer = node["type"] == json!("integer");
        let step = |m: f64| if integer { 1.0 } else { (m.abs() * 1e-9).max(1e-9) };
        let value = |v: f64| if integer { json!(v as i64) } else { json!(v) };
        let mut expect = |v: f64, ok: bool, what: &str| {
            if accepts(&base, number.key, &value(v)) != ok {
                failures.push(format!(
                    "{}: validation {} {v} ({what}; the schema says {})",
                    number.key,
                    if ok { "refuses" } else { "accepts" },
                    schema::range_text(number)
                ));
            }
        };
        check_bound(number, &mut expect, step, node, integer);
        // The schema states the same bounds.
        for (keyword, bound) in [("minimum", number.min), ("maximum", number.max)] {
            let exclusive = format!("exclusive{}{}", &keyword[..1].to_uppercase(), &keyword[1..]);
            match bound {
                Bound::Incl(v) => assert_eq!(node[keyword].as_f64(), Some(v), "{} {keyword}", number.key),
                Bound::Excl(v) => assert_eq!(node[&exclusive].as_f64(), Some(v), "{} {exclusive}", number.key),
                Bound::Open => assert!(node[&exclusive].is_null(), "{} {exclusive}", number.key),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "schema and validation disagree:\n{}",
        failures.join("\n")
    );
}

fn check_bound(
    number: &Number,
    expect: &mut impl FnMut(f64, bool, &str),
    step: impl Fn(f64) -> f64,
    node: &Value,
    integer: bool,
) {
    match number.min {
        Bound::Incl(m) => {
            expect(m, true, "the minimum");
            expect(m - step(m), false, "just below the minimum");
        }
        Bound::Excl(m) => {
            expect(m, false, "the exclusive minimum");
            expect(m + step(m), true, "just above the exclusive minimum");
        }
        Bound::Open => {
            let low = if integer {
                node["minimum"].as_f64().unwrap_or(-1e15)
            } else {
                -1e300
            };
            expect(low, true, "far below: the schema sets no minimum");
        }
    }
    match number.max {
        Bound::Incl(m) => {
            expect(m, true, "the maximum");
            expect(m + step(m), false, "just above the maximum");
        }
        Bound::Excl(m) => {
            expect(m, false, "the exclusive maximum");
            expect(m - step(m), true, "just below the exclusive maximum");
        }
        Bound::Open => {
            let high = if integer {
                node["maximum"].as_f64().unwrap_or(1e15)
            } else {
                1e300
            };
            expect(high, true, "far above: the schema sets no maximum");
        }
    }
}

#[test]
fn the_schema_refuses_what_the_loader_refuses_in_small_files() {
    let validator = validator();
    let dir = tempfile::tempdir().expect("temporary folder");
    let cases: &[(&str, bool)] = &[
        ("[model]\nalignment_inertia = 0.5\n", true),
        ("[model]\nalignment_inertia = 1.5\n", false),
        ("[model]\nalignment_inertai = 0.5\n", false),
        ("[[patrons]]\nid = \"USA\"\nstrategy = { rule = \"greedy\" }\n", false),
        ("[[patrons]]\nid = \"USA\"\nallocation = { KAZ = 1.0 }\n", true),
        ("[[patrons]]\nid = \"C5\"\n", false),
        ("[[hosts]]\nid = \"KAZ\"\ngdp_usd_bn_path = { 2016 = 1.0, \"20x6\" = 2.0 }\n", false),
        ("[[events]]\nname = \"e\"\nat = \"2025Q1\"\neffects = [{ actor = \"USA\", quantity = \"goodwill\", op = \"add\", value = 1.0 }]\n", true),
        ("[[events]]\nname = \"e\"\nat = \"2025Q1\"\neffects = [{ actor = \"USA\", quantity = \"goodwil\", op = \"add\", value = 1.0 }]\n", false),
    ];
    for (text, valid) in cases {
        let path: PathBuf = dir.path().join("case.toml");
        std::fs::write(&path, text).expect("write");
        let instance = toml_as_json(&path).expect("TOML");
        assert_eq!(validator.is_valid(&instance), *valid, "{text}");
    }
}
