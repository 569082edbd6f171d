//! The JSON Schema of the scenario format, for editors (`greatgame schema`).
//!
//! The schema is generated from the structs that parse a scenario ([`super::file`], by
//! `schemars`), so keys, types, defaults and the documentation of every key (the doc
//! comments) cannot drift from the parser. What the structs do not say is added here:
//!
//! - every table refuses unknown keys (`additionalProperties: false`), as the loader does;
//! - TOML has no null, so optional keys are their plain type;
//! - the valid range and unit of every number ([`NUMBERS`]), the allowed words of
//!   `strategy.rule`, `effects.op`, `effects.quantity`, `sweep.combine` and
//!   `sensitivity.method` (from the constants validation uses), the form of ids, names
//!   and quarters, and the keys that every entry of an array must name (`id`, `name`).
//!
//! The ranges are written once here and enforced by [`super::validate`]; the test
//! `schema_ranges_are_what_validation_accepts` (tests/schema.rs) sets every number to
//! each end of its range and just beyond, and checks that validation accepts exactly the
//! range the schema states, and `lever_ranges_are_the_quantities_ranges` that the levers
//! events change have the ranges `model::quantities` clamps them to. Cross-references (a tie to a patron the file defines), sums
//! (shares of all ties) and uniqueness of ids cannot be written in a schema; `greatgame
//! check` reports them.

use schemars::generate::SchemaSettings;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde_json::{json, Map, Value};

use super::file::ScenarioFile;
use super::validate::RESERVED_IDS;
use crate::model::quantities::Quantity;
use crate::model::StrategyRule;

/// Where the schema of the shipped scenarios is kept, relative to the checkout.
pub const SCHEMA_PATH: &str = "scenarios/schema/scenario.schema.json";
/// The directive that points Taplo (Even Better TOML) and Tombi at the schema, as written at
/// the top of a scenario in `scenarios/`.
pub const DIRECTIVE: &str = "#:schema ./schema/scenario.schema.json";

/// One end of a valid range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    /// No limit on this side.
    Open,
    /// The value itself is allowed.
    Incl(f64),
    /// Values beyond it are allowed, not the value itself.
    Excl(f64),
}

/// The valid range and unit of one number in a scenario file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Number {
    /// Key path: `.` between keys, `[]` for every entry of an array, `*` for every key of
    /// a table whose keys are ids or years (e.g. `hosts[].ties.*.arms_share`).
    pub key: &'static str,
    pub min: Bound,
    pub max: Bound,
    /// Unit, for people ("USD bn a year", "share", ...).
    pub unit: &'static str,
}

use Bound::{Excl, Incl, Open};

const fn num(key: &'static str, min: Bound, max: Bound, unit: &'static str) -> Number {
    Number { key, min, max, unit }
}
const fn share(key: &'static str) -> Number {
    num(key, Incl(0.0), Incl(1.0), "share")
}
const fn weight(key: &'static str, max: f64) -> Number {
    num(key, Incl(0.0), Incl(max), "weight")
}
const fn usd_bn(key: &'static str, unit: &'static str) -> Number {
    num(key, Incl(0.0), Incl(1e6), unit)
}
const fn growth(key: &'static str) -> Number {
    num(key, Incl(-50.0), Incl(50.0), "% a year")
}

/// Largest number of quarters: the horizon and every lag.
const QUARTERS: f64 = super::validate::MAX_HORIZON_QUARTERS as f64;
/// Largest deposit or firm count.
const AGENTS: f64 = super::validate::MAX_AGENTS as f64;
/// Largest replicate count.
const REPLICATES: f64 = super::validate::MAX_REPLICATES as f64;

/// The valid range and unit of every number that `greatgame run` validates. Keys of the
/// analysis tables (`[sweep]`, `[sensitivity]`, `[calibration]`) are checked by the
/// commands that read them, and `run.seed` takes any whole number: they are listed in
/// [`UNCHECKED`].
pub const NUMBERS: &[Number] = &[
    num("time.horizon_quarters", Incl(1.0), Incl(QUARTERS), "quarters"),
    num("run.replicates", Incl(1.0), Incl(REPLICATES), "replicates"),
    // [model]
    share("model.alignment_inertia"),
    weight("model.decision_noise_sd", 1e3),
    num(
        "model.acceptance_threshold",
        Incl(-1e3),
        Incl(1e3),
        "value per USD offered",
    ),
    num("model.acceptance_scale", Incl(1e-3), Incl(1e3), "value per USD offered"),
    weight("model.economic_weight", 1e3),
    weight("model.security_weight", 1e3),
    weight("model.displeasure_weight", 1e3),
    weight("model.leverage_weights.trade", 1e3),
    weight("model.leverage_weights.security", 1e3),
    weight("model.leverage_weights.remittances", 1e3),
    weight("model.leverage_weights.debt", 1e3),
    weight("model.leverage_weights.sanctions", 1e3),
    weight("model.attraction_weights.trade", 1e3),
    weight("model.attraction_weights.fdi", 1e3),
    weight("model.attraction_weights.security", 1e3),
    weight("model.attraction_weights.remittances", 1e3),
    weight("model.attraction_weights.offers", 1e3),
    num(
        "model.trade_access_gain",
        Incl(0.0),
        Incl(1e3),
        "log points per unit of access",
    ),
    share("model.trade_access_decay"),
    num("model.offers_decay", Excl(0.0), Incl(1.0), "share"),
    num("model.trade_alignment_elasticity", Incl(0.0), Incl(1e3), "elasticity"),
    share("model.security_decay"),
    num(
        "model.fdi_depreciation_pct_per_year",
        Incl(0.0),
        Incl(100.0),
        "% a year",
    ),
    num(
        "model.debt_amortization_pct_per_year",
        Incl(0.0),
        Incl(100.0),
        "% a year",
    ),
    num(
        "model.investment_growth_multiplier",
        Incl(0.0),
        Incl(1e3),
        "pp of growth per % of GDP disbursed",
    ),
    num("model.project_size_usd_bn", Incl(1e-4), Incl(100.0), "USD bn"),
    growth("model.other_partners_growth_pct"),
    growth("model.world_growth_pct"),
    num("model.trade_gdp_elasticity", Incl(0.0), Incl(1e3), "elasticity"),
    num(
        "model.sanctions_trade_elasticity",
        Incl(0.0),
        Incl(1e3),
        "log points per unit of sanctions",
    ),
    num("model.trade_cost_elasticity", Incl(0.0), Incl(1e3), "elasticity"),
    share("model.reexport_capture"),
    num("model.remittance_elasticity", Incl(0.0), Incl(1e3), "elasticity"),
    growth("model.remittance_trend_pct"),
    num(
        "model.external_income_multiplier",
        Incl(0.0),
        Incl(10.0),
        "USD of GDP per USD of external income",
    ),
    num(
        "model.absorptive_learning",
        Incl(0.0),
        Incl(1e3),
        "capacity per point of experience",
    ),
    share("model.absorptive_max"),
    share("model.experience_decay"),
    // [[patrons]]
    usd_bn("patrons[].investment_budget_usd_bn", "USD bn a year"),
    usd_bn("patrons[].security_budget_usd_bn", "USD bn a year"),
    share("patrons[].trade_offer"),
    share("patrons[].credibility"),
    share("patrons[].credibility_learning"),
    num("patrons[].pledge_lag_quarters", Incl(0.0), Incl(QUARTERS), "quarters"),
    share("patrons[].loan_share"),
    share("patrons[].conditionality"),
    share("patrons[].assertiveness"),
    num("patrons[].goodwill", Incl(-100.0), Incl(100.0), "value per USD offered"),
    growth("patrons[].economy_growth_pct"),
    share("patrons[].sanctions"),
    share("patrons[].implementation_capacity"),
    usd_bn("patrons[].sanctioned_import_demand_usd_bn", "USD bn a year"),
    share("patrons[].secondary_sanctions"),
    usd_bn("patrons[].minerals_budget_usd_bn", "USD bn a year"),
    usd_bn("patrons[].mapping_budget_usd_bn", "USD bn a year"),
    num(
        "patrons[].private_mobilisation",
        Incl(0.0),
        Incl(100.0),
        "USD private per USD public",
    ),
    usd_bn("patrons[].processing_investment_usd_bn", "USD bn a year"),
    num("patrons[].processing.*", Incl(0.0), Incl(1e12), "tonnes a year"),
    weight("patrons[].firms.weight", 1e6),
    share("patrons[].firms.private_share"),
    share("patrons[].firms.risk_appetite"),
    share("patrons[].strategy.adaptation_rate"),
    weight("patrons[].strategy.objectives.influence", 1e3),
    weight("patrons[].strategy.objectives.security", 1e3),
    weight("patrons[].strategy.objectives.trade", 1e3),
    weight("patrons[].strategy.objectives.minerals", 1e3),
    num("patrons[].allocation.*", Incl(0.0), Incl(1e6), "relative share"),
    num("patrons[].economy_usd_bn_path.*", Excl(0.0), Incl(1e6), "USD bn"),
    // [[hosts]]
    num("hosts[].gdp_usd_bn", Excl(0.0), Incl(1e6), "USD bn a year"),
    growth("hosts[].trend_growth_pct"),
    num("hosts[].population_m", Incl(0.0), Incl(1e5), "millions"),
    usd_bn("hosts[].defence_budget_usd_bn", "USD bn a year"),
    num("hosts[].govt_debt_pct_gdp", Incl(0.0), Incl(1000.0), "% of GDP"),
    num("hosts[].debt_tolerance_pct_gdp", Incl(1.0), Incl(1000.0), "% of GDP"),
    num("hosts[].remittances_pct_gdp", Incl(0.0), Incl(100.0), "% of GDP"),
    share("hosts[].absorptive_capacity"),
    share("hosts[].threat_level"),
    share("hosts[].security_openness"),
    num(
        "hosts[].concentration_aversion",
        Incl(0.0),
        Incl(100.0),
        "share of GDP per unit of HHI",
    ),
    weight("hosts[].sovereignty_sensitivity", 100.0),
    usd_bn("hosts[].other_trade_usd_bn", "USD bn a year"),
    usd_bn("hosts[].other_fdi_inflow_usd_bn", "USD bn a year"),
    share("hosts[].export_share"),
    share("hosts[].other_security_share"),
    share("hosts[].reexport_openness"),
    usd_bn("hosts[].ties.*.trade_usd_bn", "USD bn a year"),
    share("hosts[].ties.*.export_share"),
    usd_bn("hosts[].ties.*.fdi_stock_usd_bn", "USD bn"),
    share("hosts[].ties.*.arms_share"),
    share("hosts[].ties.*.remittance_share"),
    share("hosts[].ties.*.debt_share"),
    share("hosts[].ties.*.alignment"),
    num("hosts[].gdp_usd_bn_path.*", Excl(0.0), Incl(1e6), "USD bn"),
    // [[events]]
    share("events[].hazard_per_quarter"),
    num("events[].duration_quarters", Incl(1.0), Open, "quarters"),
    num(
        "events[].effects[].value",
        Incl(-1e6),
        Incl(1e6),
        "the quantity's unit (a factor for multiply)",
    ),
    // [[commodities]], [minerals], [[deposits]]
    num(
        "commodities[].world_production_t",
        Incl(0.0),
        Incl(1e12),
        "tonnes a year",
    ),
    num("commodities[].price_usd_per_t", Incl(0.0), Incl(1e12), "USD per tonne"),
    num(
        "commodities[].capex_usd_per_annual_t",
        Incl(0.0),
        Incl(1e12),
        "USD per tonne a year",
    ),
    num(
        "commodities[].processing_capex_usd_per_annual_t",
        Incl(0.0),
        Incl(1e12),
        "USD per tonne a year",
    ),
    share("commodities[].default_processing_share"),
    share("commodities[].operating_margin"),
    num("minerals.n_deposits", Incl(0.0), Incl(AGENTS), "deposits"),
    num("minerals.n_firms", Incl(0.0), Incl(AGENTS), "firms"),
    num("minerals.natural_mapping_rate", Incl(0.0), Incl(1.0), "share a year"),
    num("minerals.exploration_quarters", Incl(1.0), Incl(QUARTERS), "quarters"),
    share("minerals.exploration_success"),
    num("minerals.development_quarters", Incl(1.0), Incl(QUARTERS), "quarters"),
    num(
        "minerals.mapping_cost_share",
        Incl(0.0),
        Incl(100.0),
        "share of a deposit's capex",
    ),
    num(
        "minerals.mapping_first_look_quarters",
        Incl(0.0),
        Incl(QUARTERS),
        "quarters",
    ),
    num(
        "minerals.exploration_cost_share",
        Incl(0.0),
        Incl(100.0),
        "share of a deposit's capex",
    ),
    num("minerals.discount_rate", Incl(0.0), Incl(1.0), "share a year"),
    num("minerals.mine_life_years", Incl(1.0), Incl(200.0), "years"),
    weight("minerals.offtake_alignment_weight", 100.0),
    weight("minerals.offtake_sanctions_weight", 100.0),
    weight("patrons[].minerals_priorities.*", 100.0),
    num("deposits[].producing_t", Incl(0.0), Incl(1e12), "tonnes a year"),
    num("deposits[].potential_t", Incl(0.0), Incl(1e12), "tonnes a year"),
    share("deposits[].mapped_share"),
    share("deposits[].owners.*"),
    // [[routes]], [freight]
    num("routes[].capacity_mt", Incl(0.0), Incl(1e6), "Mt a year"),
    num("routes[].cost_usd_per_t", Incl(0.0), Incl(1e6), "USD per tonne"),
    num("routes[].transit_days", Incl(0.0), Incl(1000.0), "days"),
    share("routes[].risk"),
    num(
        "routes[].sanctions_cost_markup",
        Incl(0.0),
        Incl(100.0),
        "fraction per unit of sanctions",
    ),
    num(
        "routes[].sanctions_risk_markup",
        Incl(0.0),
        Incl(1.0),
        "risk per unit of sanctions",
    ),
    usd_bn("routes[].investment_usd_bn", "USD bn a year"),
    num(
        "routes[].capacity_cost_usd_bn_per_mt",
        Incl(0.0),
        Incl(1e6),
        "USD bn per Mt a year",
    ),
    num("routes[].construction_quarters", Incl(0.0), Incl(QUARTERS), "quarters"),
    num("freight.transit_demand_mt", Incl(0.0), Incl(1e6), "Mt a year"),
    growth("freight.transit_growth_pct"),
    num(
        "freight.host_freight_mt_per_usd_bn",
        Incl(0.0),
        Incl(1e3),
        "Mt per USD bn of trade",
    ),
    num(
        "freight.value_of_time_usd_per_t_day",
        Incl(0.0),
        Incl(1e6),
        "USD per tonne and day",
    ),
    num(
        "freight.risk_cost_usd_per_t",
        Incl(0.0),
        Incl(1e6),
        "USD per tonne per unit of risk",
    ),
    num("freight.choice_scale_usd_per_t", Excl(0.0), Incl(1e6), "USD per tonne"),
    num(
        "freight.congestion_delay",
        Incl(0.0),
        Incl(100.0),
        "share of transit days",
    ),
    num("freight.congestion_exponent", Incl(0.0), Incl(20.0), "exponent"),
    num(
        "freight.capacity_depreciation_pct_per_year",
        Incl(0.0),
        Incl(100.0),
        "% a year",
    ),
];

/// Numbers whose range `run` does not check: the analysis tables, which the commands that
/// read them validate, and the seed. Key-path prefixes.
pub const UNCHECKED: &[&str] = &["run.seed", "sweep.", "sensitivity.", "calibration."];

/// Tables of the file whose keys are ids of actors, commodities or years, and the form of
/// those keys.
const MAP_KEYS: &[(&str, &str)] = &[
    ("patrons[].processing", ID_PATTERN),
    ("patrons[].allocation", ID_PATTERN),
    ("patrons[].economy_usd_bn_path", YEAR_PATTERN),
    ("hosts[].ties", ID_PATTERN),
    ("hosts[].gdp_usd_bn_path", YEAR_PATTERN),
    ("deposits[].owners", ID_PATTERN),
];

/// Arrays whose entries must name the key that `extends` matches them by.
const REQUIRED: &[(&str, &[&str])] = &[
    ("patrons[]", &["id"]),
    ("hosts[]", &["id"]),
    ("commodities[]", &["id"]),
    ("routes[]", &["id"]),
    ("events[]", &["name"]),
    ("events[].effects[]", &["actor", "quantity", "op", "value"]),
    ("deposits[]", &["host", "commodity"]),
];

/// Ids of hosts, patrons, commodities and routes (validate.rs: 1-32 letters, digits, `_`).
const ID_PATTERN: &str = "^[A-Za-z0-9_]{1,32}$";
/// Calendar years 1900 to 2200, the keys of GDP paths.
const YEAR_PATTERN: &str = "^(19[0-9]{2}|2[01][0-9]{2}|2200)$";
/// `name`: it names the output folder.
const NAME_PATTERN: &str = "^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$";
/// A quarter as `Quarter` parses it: `2024Q1` (or `2024-q1`), years 1900 to 2200.
pub const QUARTER_PATTERN: &str = "^\\s*(19[0-9]{2}|2[01][0-9]{2}|2200)-*[Qq][1-4]\\s*$";

impl JsonSchema for crate::time::Quarter {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Quarter".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": QUARTER_PATTERN,
            "description": "A calendar quarter such as \"2024Q1\" (years 1900 to 2200).",
        })
    }
}

/// The scenario format's JSON Schema (draft-07, which Taplo and Tombi read).
pub fn schema() -> Value {
    let mut settings = SchemaSettings::draft07();
    settings.inline_subschemas = true;
    let root = settings.into_generator().into_root_schema_for::<ScenarioFile>();
    let mut value = root.to_value();
    if let Value::Object(map) = &mut value {
        map.insert("title".into(), json!("greatgame scenario"));
        map.insert(
            "description".into(),
            json!(
                "A greatgame scenario file (TOML). Generated by `greatgame schema` from the types that parse \
                 scenarios; docs/scenario-format.md documents every key and the source of each value."
            ),
        );
        map.remove("definitions");
    }
    annotate(&mut value, "");
    value
}

/// The schema as the committed file holds it: pretty JSON and a final newline.
pub fn schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&schema()).expect("a JSON value serialises");
    text.push('\n');
    text
}

/// Every number key of the schema (as in [`Number::key`]), in schema order.
pub fn number_keys() -> Vec<String> {
    let mut keys = Vec::new();
    collect_numbers(&schema(), "", &mut keys);
    keys
}

/// The number keys of the schema that [`NUMBERS`] does not list and [`UNCHECKED`] does
/// not cover: each needs a range before the schema is complete.
pub fn unlisted_numbers() -> Vec<String> {
    number_keys()
        .into_iter()
        .filter(|k| !NUMBERS.iter().any(|n| n.key == k) && !UNCHECKED.iter().any(|u| k.starts_with(u)))
        .collect()
}

fn collect_numbers(schema: &Value, path: &str, out: &mut Vec<String>) {
    if is_number(schema) {
        out.push(path.to_string());
        return;
    }
    for_children(schema, path, |child, child_path| {
        collect_numbers(child, &child_path, out)
    });
}

/// Calls `f` on each sub-schema that describes a value inside `schema`, with its key path.
fn for_children(schema: &Value, path: &str, mut f: impl FnMut(&Value, String)) {
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (key, child) in properties {
            f(child, join(path, key));
        }
    }
    if let Some(items) = schema.get("items").filter(|v| v.is_object()) {
        f(items, format!("{path}[]"));
    }
    if let Some(values) = schema.get("additionalProperties").filter(|v| v.is_object()) {
        f(values, join(path, "*"));
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn types(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn is_number(schema: &Value) -> bool {
    let types = types(schema);
    !types.is_empty() && types.iter().all(|t| *t == "number" || *t == "integer")
}

/// Adds to `schema` (at key path `path`) what the structs do not say, then recurses.
fn annotate(schema: &mut Value, path: &str) {
    drop_null(schema);
    let Value::Object(map) = schema else {
        return;
    };
    if map.contains_key("properties") {
        map.insert("additionalProperties".into(), Value::Bool(false));
    }
    if let Some((_, pattern)) = MAP_KEYS.iter().find(|(key, _)| *key == path) {
        map.insert("propertyNames".into(), json!({ "pattern": pattern }));
    }
    if let Some((_, keys)) = REQUIRED.iter().find(|(key, _)| *key == path) {
        map.insert("required".into(), json!(keys));
    }
    annotate_strings(map, path);
    if let Some(number) = NUMBERS.iter().find(|n| n.key == path) {
        annotate_number(map, number);
    }
    if let Some(Value::Object(properties)) = map.get_mut("properties") {
        for (key, child) in properties.iter_mut() {
            annotate(child, &join(path, key));
        }
    }
    if let Some(items) = map.get_mut("items").filter(|v| v.is_object()) {
        annotate(items, &format!("{path}[]"));
    }
    if let Some(values) = map.get_mut("additionalProperties").filter(|v| v.is_object()) {
        annotate(values, &join(path, "*"));
    }
}

/// Optional keys are their plain type: a TOML file cannot hold null.
fn drop_null(schema: &mut Value) {
    let Value::Object(map) = schema else {
        return;
    };
    if let Some(Value::Array(list)) = map.get_mut("type") {
        list.retain(|t| t != "null");
        if list.len() == 1 {
            let only = list[0].clone();
            map.insert("type".into(), only);
        }
    }
    for key in ["anyOf", "oneOf"] {
        let Some(Value::Array(list)) = map.get(key) else {
            continue;
        };
        let kept: Vec<Value> = list
            .iter()
            .filter(|s| s.get("type") != Some(&json!("null")))
            .cloned()
            .collect();
        if kept.len() == 1 && kept.len() < list.len() {
            map.remove(key);
            if let Value::Object(inner) = &kept[0] {
                for (k, v) in inner {
                    map.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
        }
    }
    if map.get("default") == Some(&Value::Null) {
        map.remove("default");
    }
}

/// Words, ids, names and quarters.
fn annotate_strings(map: &mut Map<String, Value>, path: &str) {
    let words: Option<Vec<String>> = match path {
        "patrons[].strategy.rule" => Some(StrategyRule::NAMES.iter().map(|s| s.to_string()).collect()),
        "events[].effects[].op" => Some(["set", "add", "multiply"].map(String::from).to_vec()),
        "events[].effects[].quantity" => Some(Quantity::all_names().iter().map(|s| s.to_string()).collect()),
        "sweep.combine" => Some(["grid", "zip"].map(String::from).to_vec()),
        "sensitivity.method" => Some(["morris", "sobol", "both"].map(String::from).to_vec()),
        _ => None,
    };
    if let Some(words) = words {
        map.insert("enum".into(), json!(words));
    }
    match path {
        "patrons[].id" | "hosts[].id" | "commodities[].id" | "routes[].id" => {
            map.insert("pattern".into(), json!(ID_PATTERN));
            map.insert("not".into(), json!({ "enum": RESERVED_IDS }));
        }
        "name" => {
            map.insert("pattern".into(), json!(NAME_PATTERN));
        }
        _ => {}
    }
    // An empty default of a word or id ("") is no value an editor should offer.
    if (map.contains_key("enum") || map.contains_key("pattern")) && map.get("default") == Some(&json!("")) {
        map.remove("default");
    }
}

/// Range, unit and a description that says them, for hover documentation.
fn annotate_number(map: &mut Map<String, Value>, number: &Number) {
    let integer = map.get("type") == Some(&json!("integer"));
    match number.min {
        Open => {
            map.remove("minimum");
        }
        Incl(v) => {
            map.insert("minimum".into(), bound(v, integer));
        }
        Excl(v) => {
            map.remove("minimum");
            map.insert("exclusiveMinimum".into(), bound(v, integer));
        }
    }
    match number.max {
        // A whole number without a limit of its own is still limited by its type.
        Open if map.get("format") == Some(&json!("uint32")) => {
            map.insert("maximum".into(), json!(u32::MAX));
        }
        Open if map.get("format") == Some(&json!("uint64")) => {
            map.insert("maximum".into(), json!(u64::MAX));
        }
        Open => {
            map.remove("maximum");
        }
        Incl(v) => {
            map.insert("maximum".into(), bound(v, integer));
        }
        Excl(v) => {
            map.remove("maximum");
            map.insert("exclusiveMaximum".into(), bound(v, integer));
        }
    }
    // A default outside the range means "must be given" (GDP): say nothing of it.
    if let Some(default) = map.get("default").and_then(Value::as_f64) {
        if !within(default, number) {
            map.remove("default");
        }
    }
    let mut text = map.get("description").and_then(Value::as_str).unwrap_or("").to_string();
    if !text.is_empty() {
        text.push_str("\n\n");
    }
    text.push_str(&format!("Unit: {}. Range: {}.", number.unit, range_text(number)));
    if let Some(default) = map.get("default") {
        text.push_str(&format!(" Default: {default}."));
    }
    map.insert("description".into(), json!(text));
    map.insert("x-unit".into(), json!(number.unit));
}

fn bound(value: f64, integer: bool) -> Value {
    if integer || (value.fract() == 0.0 && value.abs() < 1e15) {
        json!(value as i64)
    } else {
        json!(value)
    }
}

/// Whether `value` lies in the range of `number`.
pub fn within(value: f64, number: &Number) -> bool {
    let above = match number.min {
        Open => true,
        Incl(m) => value >= m,
        Excl(m) => value > m,
    };
    let below = match number.max {
        Open => true,
        Incl(m) => value <= m,
        Excl(m) => value < m,
    };
    above && below
}

/// "0 to 1", "> 0 and <= 1000000", "at least 1".
pub fn range_text(number: &Number) -> String {
    let show = |v: f64| {
        if v.abs() >= 1e6 {
            format!("{v:e}")
        } else {
            format!("{v}")
        }
    };
    match (number.min, number.max) {
        (Incl(a), Incl(b)) => format!("{} to {}", show(a), show(b)),
        (Excl(a), Incl(b)) => format!("above {} up to {}", show(a), show(b)),
        (Incl(a), Open) => format!("at least {}", show(a)),
        (Excl(a), Open) => format!("above {}", show(a)),
        (Open, Incl(b)) => format!("at most {}", show(b)),
        (Open, Open) => "any".to_string(),
        (a, b) => format!("{a:?} to {b:?}"),
    }
}

/// The range and unit [`NUMBERS`] gives a key path, if any.
pub fn number(key: &str) -> Option<&'static Number> {
    NUMBERS.iter().find(|n| n.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_refuses_unknown_keys_and_every_number_has_a_range() {
        let schema = schema();
        assert_eq!(schema["additionalProperties"], json!(false));
        assert_eq!(schema["properties"]["model"]["additionalProperties"], json!(false));
        assert_eq!(
            schema["properties"]["hosts"]["items"]["properties"]["ties"]["additionalProperties"]
                ["additionalProperties"],
            json!(false)
        );
        assert_eq!(unlisted_numbers(), Vec::<String>::new());
        let keys = number_keys();
        for n in NUMBERS {
            assert!(
                keys.iter().any(|k| k == n.key),
                "{} is not a number of the format",
                n.key
            );
        }
    }

    /// The levers events change are clamped to the ranges of `model::quantities`; a value
    /// written in the file must lie in the same range.
    #[test]
    fn lever_ranges_are_the_quantities_ranges() {
        use crate::model::quantities::{HOST_QUANTITIES, PATRON_QUANTITIES, ROUTE_QUANTITIES};
        let levers = HOST_QUANTITIES
            .iter()
            .map(|(n, _, lo, hi)| (format!("hosts[].{n}"), *lo, *hi))
            .chain(
                PATRON_QUANTITIES
                    .iter()
                    .map(|(n, _, lo, hi)| (format!("patrons[].{n}"), *lo, *hi)),
            )
            .chain(
                ROUTE_QUANTITIES
                    .iter()
                    .map(|(n, _, lo, hi)| (format!("routes[].{n}"), *lo, *hi)),
            );
        for (key, lo, hi) in levers {
            let number = number(&key).unwrap_or_else(|| panic!("{key} has no range"));
            assert_eq!((number.min, number.max), (Incl(lo), Incl(hi)), "{key}");
        }
    }

    #[test]
    fn numbers_carry_range_unit_default_and_documentation() {
        let schema = schema();
        let inertia = &schema["properties"]["model"]["properties"]["alignment_inertia"];
        assert_eq!(inertia["minimum"], json!(0));
        assert_eq!(inertia["maximum"], json!(1));
        assert_eq!(inertia["default"], json!(0.08));
        let text = inertia["description"].as_str().unwrap_or("");
        assert!(text.starts_with("Share of the gap between alignment"), "{text}");
        assert!(text.contains("Unit: share. Range: 0 to 1. Default: 0.08."), "{text}");
        let gdp = &schema["properties"]["hosts"]["items"]["properties"]["gdp_usd_bn"];
        assert_eq!(gdp["exclusiveMinimum"], json!(0));
        assert!(gdp.get("default").is_none(), "GDP has no usable default");
        let rule = &schema["properties"]["patrons"]["items"]["properties"]["strategy"]["properties"]["rule"];
        assert_eq!(rule["enum"], json!(StrategyRule::NAMES));
    }
}
