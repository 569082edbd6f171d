//! Which keys the screen moves, and how far: every number of the resolved scenario named
//! by the key path `--set` takes, the `--keys` globs that narrow them, the step rule of
//! each key and the two perturbations (down and up) it gives.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::format::short;
use crate::scenario::file::ScenarioFile;
use crate::scenario::overrides::ScenarioTree;

/// Keys of the resolved scenario that are not levers: the run's own settings and the
/// analysis tables.
pub const EXCLUDED_TABLES: [&str; 5] = ["run", "time", "sweep", "sensitivity", "calibration"];
/// Resolution settings: how finely the model represents something, not what the world is
/// like. Screened, but reported apart: results should not depend on them.
pub const RESOLUTION_KEYS: [&str; 2] = ["minerals.n_deposits", "minerals.n_firms"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyClass {
    /// A lever or parameter of the world the scenario describes.
    Lever,
    /// A resolution setting ([`RESOLUTION_KEYS`]).
    Resolution,
}

impl KeyClass {
    pub fn label(self) -> &'static str {
        match self {
            KeyClass::Lever => "lever",
            KeyClass::Resolution => "resolution",
        }
    }
}

/// A number of the resolved scenario that the screen can move.
#[derive(Debug, Clone, PartialEq)]
pub struct ScreenKey {
    /// Its key path, as `--set` takes it.
    pub key: String,
    /// The key path with every element of an array of tables as `*`: the same key of the
    /// other actors (`patrons.*.minerals_budget_usd_bn`).
    pub pattern: String,
    pub value: f64,
    /// Written as a TOML integer (counts, quarters).
    pub integer: bool,
    pub class: KeyClass,
}

/// Every number of a resolved scenario that is a lever, parameter or resolution setting,
/// in a fixed order (tables' keys sorted, arrays in file order).
///
/// Left out: `[run]`, `[time]`, `[sweep]`, `[sensitivity]`, `[calibration]`, strings,
/// booleans, and optional keys the scenario leaves unset (they have no number to move).
pub fn screened_keys(resolved: &ScenarioFile) -> Vec<ScreenKey> {
    let tree = serde_json::to_value(resolved).unwrap_or(Value::Null);
    let mut keys = Vec::new();
    if let Value::Object(top) = &tree {
        for (name, value) in top {
            if EXCLUDED_TABLES.contains(&name.as_str()) {
                continue;
            }
            let Some(segment) = key_segment(name) else { continue };
            walk(value, &segment, name, &mut keys);
        }
    }
    keys
}

/// A key path segment: bare when it is made of letters, digits, `_` and `-`, else
/// double-quoted; `None` when it cannot be written (it holds a double quote).
fn key_segment(text: &str) -> Option<String> {
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        Some(text.to_string())
    } else if text.contains('"') {
        None
    } else {
        Some(format!("\"{text}\""))
    }
}

fn walk(value: &Value, key: &str, pattern: &str, out: &mut Vec<ScreenKey>) {
    match value {
        Value::Number(n) => {
            let integer = n.is_i64() || n.is_u64();
            if let Some(v) = n.as_f64().filter(|v| v.is_finite()) {
                let class = if RESOLUTION_KEYS.contains(&key) {
                    KeyClass::Resolution
                } else {
                    KeyClass::Lever
                };
                out.push(ScreenKey {
                    key: key.to_string(),
                    pattern: pattern.to_string(),
                    value: v,
                    integer,
                    class,
                });
            }
        }
        Value::Object(entries) => {
            for (name, child) in entries {
                if let Some(segment) = key_segment(name) {
                    walk(child, &format!("{key}.{segment}"), &format!("{pattern}.{segment}"), out);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if let Some(segment) = element_segment(items, i) {
                    walk(item, &format!("{key}.{segment}"), &format!("{pattern}.*"), out);
                }
            }
        }
        Value::Null | Value::Bool(_) | Value::String(_) => {}
    }
}

/// What names an element of an array of tables in a key path, as the overrides look it
/// up: `id`, else `name`, else `host/commodity`, else the 0-based index.
const LABEL_KEYS: [&[&str]; 3] = [&["id"], &["name"], &["host", "commodity"]];

fn label_of(item: &Value, keys: &[&str]) -> Option<String> {
    let parts: Option<Vec<&str>> = keys.iter().map(|k| item.get(k).and_then(Value::as_str)).collect();
    parts.map(|p| p.join("/"))
}

/// The segment that selects element `i`: its label if that label picks it (the override
/// lookup takes the first element with a matching label, trying `id` on every element
/// before `name`), else its index if that picks it.
fn element_segment(items: &[Value], i: usize) -> Option<String> {
    let lookup = |segment: &str| -> Option<usize> {
        for keys in LABEL_KEYS {
            if let Some(at) = items.iter().position(|n| label_of(n, keys).as_deref() == Some(segment)) {
                return Some(at);
            }
        }
        segment.parse::<usize>().ok().filter(|&j| j < items.len())
    };
    let label = LABEL_KEYS.iter().find_map(|keys| label_of(&items[i], keys));
    if let Some(label) = label.filter(|l| lookup(l) == Some(i)) {
        return key_segment(&label);
    }
    let index = i.to_string();
    (lookup(&index) == Some(i)).then_some(index)
}

/// Whether `text` matches the glob `pattern`: `*` any run of characters (dots included),
/// `?` any one character, everything else itself.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Whether a key is selected by the `--keys` globs (matched against the key as written and
/// with its quotes removed, so `deposits.KAZ/copper.*` works too).
pub fn selected(globs: &[String], key: &str) -> bool {
    if globs.is_empty() {
        return true;
    }
    let bare = key.replace('"', "");
    globs.iter().any(|g| glob_match(g, key) || glob_match(g, &bare))
}

/// How far the keys are moved: `--step` and `--share-step`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Steps {
    /// Relative step of a value (0.2: ±20%).
    pub relative: f64,
    /// Absolute step of a share in 0..1.
    pub share: f64,
}

/// How a key is moved.
#[derive(Debug, Clone, PartialEq)]
pub enum StepRule {
    /// `x (1 ∓ step)` (for negative `x`, `x ∓ step |x|`).
    Relative { step: f64 },
    /// A share or probability the validator keeps in 0..1: `x ∓ step`, clipped to 0..1.
    Share { step: f64 },
    /// A whole number: `x ∓ max(1, round(step |x|))`.
    Integer { step: f64 },
    /// A real number that is 0: `∓ step · reference`, where the reference is the median
    /// magnitude of the same key's non-zero values in the other actors (`from`), or 1 in
    /// the key's own unit if none has one.
    Zero {
        step: f64,
        reference: f64,
        from: Option<String>,
    },
}

impl StepRule {
    pub fn describe(&self) -> String {
        match self {
            StepRule::Relative { step } => format!("relative ±{}%", short(step * 100.0)),
            StepRule::Share { step } => format!("share ±{} clipped to 0..1", short(*step)),
            StepRule::Integer { step } => format!("integer ±{}% rounded, at least 1", short(step * 100.0)),
            StepRule::Zero {
                step,
                reference,
                from: Some(pattern),
            } => format!(
                "zero: ±{}% of {} (median of the non-zero {pattern})",
                short(step * 100.0),
                short(*reference)
            ),
            StepRule::Zero { step, .. } => format!("zero: ±{} (±{}% of 1 unit)", short(*step), short(step * 100.0)),
        }
    }

    /// The values tried below and above `x`.
    pub fn values(&self, x: f64) -> (f64, f64) {
        match *self {
            StepRule::Relative { step } => (x - step * x.abs(), x + step * x.abs()),
            StepRule::Share { step } => ((x - step).max(0.0), (x + step).min(1.0)),
            StepRule::Integer { step } => {
                let d = (step * x.abs()).round().max(1.0);
                (x - d, x + d)
            }
            StepRule::Zero { step, reference, .. } => (x - step * reference, x + step * reference),
        }
    }
}

/// The rule for each key. A real number in 0..1 is a share when the validator refuses
/// both 1.5 and -0.5 there (the valid range is found by asking the validator, not listed
/// here).
pub fn step_rule(
    tree: &ScenarioTree,
    key: &ScreenKey,
    siblings: &BTreeMap<String, Vec<f64>>,
    steps: Steps,
) -> StepRule {
    if key.integer {
        return StepRule::Integer { step: steps.relative };
    }
    if (0.0..=1.0).contains(&key.value) {
        let refused = |v: f64| tree.resolve(&[(key.key.clone(), toml::Value::Float(v))]).is_err();
        if refused(1.5) && refused(-0.5) {
            return StepRule::Share { step: steps.share };
        }
    }
    if key.value == 0.0 {
        let mut magnitudes: Vec<f64> = siblings.get(&key.pattern).cloned().unwrap_or_default();
        magnitudes.sort_by(f64::total_cmp);
        let n = magnitudes.len();
        if n == 0 {
            return StepRule::Zero {
                step: steps.relative,
                reference: 1.0,
                from: None,
            };
        }
        let median = if n % 2 == 1 {
            magnitudes[n / 2]
        } else {
            (magnitudes[n / 2 - 1] + magnitudes[n / 2]) / 2.0
        };
        return StepRule::Zero {
            step: steps.relative,
            reference: median,
            from: Some(key.pattern.clone()),
        };
    }
    StepRule::Relative { step: steps.relative }
}

/// Non-zero magnitudes of every key, by pattern.
pub fn sibling_magnitudes(keys: &[ScreenKey]) -> BTreeMap<String, Vec<f64>> {
    let mut map: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for k in keys {
        if k.value != 0.0 {
            map.entry(k.pattern.clone()).or_default().push(k.value.abs());
        }
    }
    map
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Down,
    Up,
}

impl Direction {
    pub fn label(self) -> &'static str {
        match self {
            Direction::Down => "down",
            Direction::Up => "up",
        }
    }
}

pub const DIRECTIONS: [Direction; 2] = [Direction::Down, Direction::Up];

/// One perturbation to run: a key moved one way.
#[derive(Debug, Clone)]
pub struct Perturbation {
    pub key: usize,
    pub direction: Direction,
    /// The value tried, if the step gives one different from the base value.
    pub value: Option<f64>,
    /// Why it is not run, if it is not.
    pub skipped: Option<String>,
}

/// The perturbations of `keys` by their `rules`: for each key, down then up.
pub fn perturbations(keys: &[ScreenKey], rules: &[StepRule]) -> Vec<Perturbation> {
    keys.iter()
        .zip(rules)
        .enumerate()
        .flat_map(|(i, (k, rule))| {
            let (down, up) = rule.values(k.value);
            DIRECTIONS.into_iter().zip([down, up]).map(move |(direction, v)| {
                // Twelve significant digits: 0.15, not 0.15000000000000002.
                let v = if k.integer {
                    v.round()
                } else {
                    format!("{v:.11e}").parse().unwrap_or(v)
                };
                let skipped = (v == k.value).then(|| match rule {
                    StepRule::Share { .. } => format!(
                        "{} is at the {} of its range 0..1",
                        short(k.value),
                        if direction == Direction::Down { "bottom" } else { "top" }
                    ),
                    _ => "the step rounds to the base value".to_string(),
                });
                Perturbation {
                    key: i,
                    direction,
                    value: Some(v).filter(|_| skipped.is_none()),
                    skipped,
                }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const STEPS: Steps = Steps {
        relative: 0.2,
        share: 0.1,
    };

    fn baseline_tree() -> ScenarioTree {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/baseline.toml");
        ScenarioTree::read(&path).expect("the shipped baseline reads")
    }

    #[test]
    fn globs_match_key_paths() {
        assert!(glob_match("patrons.USA.*", "patrons.USA.firms.weight"));
        assert!(glob_match("*.processing_*", "patrons.USA.processing_investment_usd_bn"));
        assert!(glob_match("*", "model.alignment_inertia"));
        assert!(glob_match("model.alignment_inerti?", "model.alignment_inertia"));
        assert!(!glob_match("patrons.USA.*", "patrons.CHN.goodwill"));
        assert!(!glob_match("model.*_weight", "model.economic_weights"));
        assert!(glob_match("a*b*c", "aXbYbZc"));
        assert!(selected(
            &["deposits.KAZ/copper.*".to_string()],
            "deposits.\"KAZ/copper\".potential_t"
        ));
        assert!(selected(&[], "anything"));
        assert!(!selected(&["model.*".to_string()], "patrons.USA.goodwill"));
    }

    #[test]
    fn every_key_found_is_one_the_overrides_accept_and_moves_only_itself() {
        let tree = baseline_tree();
        let base = tree.resolve(&[]).expect("the baseline resolves");
        let keys = screened_keys(&base.resolved);
        let names: Vec<&str> = keys.iter().map(|k| k.key.as_str()).collect();
        // Written keys, defaults the file does not write, map entries, events, deposits.
        for expected in [
            "patrons.USA.investment_budget_usd_bn",
            "patrons.RUS.processing_investment_usd_bn",
            "patrons.CHN.processing.rare_earths",
            "patrons.CHN.allocation.KAZ",
            "patrons.USA.strategy.objectives.minerals",
            "hosts.KAZ.ties.CHN.trade_usd_bn",
            "model.alignment_inertia",
            "minerals.n_deposits",
            "deposits.\"KAZ/copper\".potential_t",
            "routes.MIDDLE.investment_usd_bn",
            "commodities.rare_earths.price_usd_per_t",
            "events.\"Kyrgyz-Tajik border clash\".hazard_per_quarter",
            "events.\"C5+1 summit at the White House\".effects.0.value",
            "events.\"C5+1 summit at the White House\".duration_quarters",
        ] {
            assert!(names.contains(&expected), "{expected} is not among the keys: {names:?}");
        }
        for excluded in ["run.", "time.", "sweep.", "sensitivity.", "calibration."] {
            assert!(
                !names.iter().any(|n| n.starts_with(excluded)),
                "{excluded} keys are screened"
            );
        }
        assert_eq!(
            keys.iter().filter(|k| k.class == KeyClass::Resolution).count(),
            RESOLUTION_KEYS.len()
        );
        let plain = serde_json::to_value(&base.resolved).unwrap();
        for key in &keys {
            // Setting each key to its own value changes nothing; to another value, changes
            // only that number.
            let same = if key.integer {
                toml::Value::Integer(key.value as i64)
            } else {
                toml::Value::Float(key.value)
            };
            let again = tree
                .resolve(&[(key.key.clone(), same)])
                .expect("its own value is valid");
            assert_eq!(serde_json::to_value(&again.resolved).unwrap(), plain, "{}", key.key);
            let other = if key.integer {
                toml::Value::Integer(key.value as i64 + 1)
            } else {
                toml::Value::Float(key.value + 0.001)
            };
            if let Ok(moved) = tree.resolve(&[(key.key.clone(), other)]) {
                let moved_keys = screened_keys(&moved.resolved);
                let changed: Vec<&str> = moved_keys
                    .iter()
                    .zip(&keys)
                    .filter(|(a, b)| a.value != b.value)
                    .map(|(a, _)| a.key.as_str())
                    .collect();
                assert_eq!(changed, [key.key.as_str()], "moving {} moved {changed:?}", key.key);
            }
        }
    }

    #[test]
    fn steps_follow_the_documented_rules() {
        let tree = baseline_tree();
        let base = tree.resolve(&[]).unwrap();
        let keys = screened_keys(&base.resolved);
        let siblings = sibling_magnitudes(&keys);
        let rule = |name: &str| {
            let key = keys.iter().find(|k| k.key == name).unwrap_or_else(|| panic!("{name}"));
            (step_rule(&tree, key, &siblings, STEPS), key.value)
        };
        let (r, x) = rule("patrons.USA.investment_budget_usd_bn");
        assert_eq!(r, StepRule::Relative { step: 0.2 });
        let (down, up) = r.values(x);
        assert!((down - 0.8 * x).abs() < 1e-12 && (up - 1.2 * x).abs() < 1e-12);
        // A share near its bound is clipped.
        let (r, x) = rule("hosts.KAZ.security_openness");
        assert_eq!(r, StepRule::Share { step: 0.1 });
        assert_eq!(r.values(x), ((x - 0.1).max(0.0), (x + 0.1).min(1.0)));
        // Integers move by at least one.
        let (r, x) = rule("patrons.USA.pledge_lag_quarters");
        assert!(matches!(r, StepRule::Integer { .. }));
        let d = (0.2 * x).round().max(1.0);
        assert_eq!(r.values(x), (x - d, x + d));
        // A zero budget moves by a step of the same budget's median elsewhere.
        let (r, x) = rule("patrons.CHN.processing_investment_usd_bn");
        assert_eq!(x, 0.0);
        let StepRule::Zero {
            reference,
            from: Some(from),
            ..
        } = &r
        else {
            panic!("{r:?}")
        };
        assert_eq!(from, "patrons.*.processing_investment_usd_bn");
        assert!(*reference > 0.0);
        assert_eq!(r.values(x), (-0.2 * reference, 0.2 * reference));
        // A zero with no sibling value moves by the step in its own unit.
        let (r, x) = rule("model.acceptance_threshold");
        assert_eq!(x, 0.0);
        assert_eq!(
            r,
            StepRule::Zero {
                step: 0.2,
                reference: 1.0,
                from: None
            }
        );
        assert_eq!(r.values(x), (-0.2, 0.2));
    }

    #[test]
    fn perturbations_skip_values_at_a_bound_or_that_round_to_the_base() {
        let key = |value: f64, integer: bool| ScreenKey {
            key: "k".to_string(),
            pattern: "k".to_string(),
            value,
            integer,
            class: KeyClass::Lever,
        };
        let keys = [key(1.0, false), key(0.15, false)];
        let rules = [StepRule::Share { step: 0.1 }, StepRule::Relative { step: 0.2 }];
        let plan = perturbations(&keys, &rules);
        assert_eq!(plan.len(), 4);
        assert_eq!(plan[0].value, Some(0.9));
        assert!(plan[1].value.is_none());
        assert!(plan[1].skipped.as_deref().unwrap().contains("top of its range"));
        // Twelve significant digits.
        assert_eq!(plan[2].value, Some(0.12));
        assert_eq!(plan[3].value, Some(0.18));
        assert_eq!((plan[3].key, plan[3].direction), (1, Direction::Up));
    }
}
