//! Results come from the model's mechanisms, not from its bookkeeping (docs/MODEL.md §1).
//!
//! - Reordering hosts, patrons, deposits, routes or events in the file, or renaming ids,
//!   leaves the outcomes' ensemble means within the noise.
//! - In a null variant of the baseline (no events, every economy growing at one rate,
//!   allocations fixed, no programme that builds new mines or route capacity) nothing
//!   drifts: trade-to-GDP, security shares, debt ratios and alignment stay where they
//!   started.
//!
//! "Within the noise" is four standard errors of the difference of two independent
//! ensemble means (a false alarm about once in 16,000 comparisons for normal means), plus
//! a floor of 1e-9 for outcomes without spread. Reordering changes which random number
//! each decision draws, so the ensembles are independent, not paired.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use greatgame::ensemble::{self, EnsembleConfig, EnsembleSummary};
use greatgame::metrics::ALL_HOSTS;
use greatgame::model::Scenario;
use greatgame::scenario;
use toml::{Table, Value};

const REPLICATES: u64 = 64;
const BASELINE: &str = include_str!("../scenarios/baseline.toml");

fn load(table: &Table) -> Scenario {
    let text = toml::to_string(table).expect("scenario serialises");
    scenario::load_text(Path::new("variant.toml"), &text, "variant")
        .unwrap_or_else(|e| panic!("variant is valid: {e}"))
        .scenario
}

fn baseline_table() -> Table {
    BASELINE.parse().expect("the baseline is TOML")
}

fn run(scenario: &Scenario) -> EnsembleSummary {
    let config = EnsembleConfig {
        replicates: REPLICATES,
        seed: 20240101,
        threads: None,
        max_memory_bytes: u64::MAX,
    };
    ensemble::run(scenario, &config, &|| {}, &AtomicBool::new(false), None).expect("the ensemble runs")
}

fn array<'a>(table: &'a mut Table, key: &str) -> &'a mut Vec<Value> {
    table
        .get_mut(key)
        .and_then(Value::as_array_mut)
        .unwrap_or_else(|| panic!("the baseline has [[{key}]]"))
}

/// The headline outcomes: every C5 cell of alignment, hedging index, trade shares,
/// supply shares, route shares and GDP, by label, at a mid-run quarter and the last.
fn headline(summary: &EnsembleSummary) -> Vec<(String, f64, f64)> {
    let layout = &summary.layout;
    let all = layout.host_labels.len() - 1;
    assert_eq!(layout.host_labels[all], ALL_HOSTS);
    let steps = [summary.n_steps / 2 - 1, summary.n_steps - 1];
    let mut out = Vec::new();
    for (m, spec) in layout.metrics().iter().enumerate() {
        let name = &spec.name;
        let wanted = ["alignment", "hedging_index", "trade_share", "gdp_usd_bn"].contains(&name.as_str())
            || name.starts_with("supply_share.")
            || name.starts_with("route_share.");
        if !wanted {
            continue;
        }
        let partners: Vec<Option<usize>> = if spec.per_partner {
            (0..layout.partner_labels.len()).map(Some).collect()
        } else {
            vec![None]
        };
        for partner in partners {
            for &step in &steps {
                let cell = summary.cell(step, layout.index(m, all, partner));
                let label = format!(
                    "{name} {} step {}",
                    partner.map_or("", |p| layout.partner_labels[p].as_str()),
                    step + 1
                );
                out.push((label, cell.mean, cell.sd));
            }
        }
    }
    out
}

/// Panics naming every headline outcome whose means differ beyond the noise.
fn assert_within_noise(what: &str, a: &EnsembleSummary, b: &EnsembleSummary) {
    // Matched by label: reordering patrons reorders the partner columns.
    let (mut x, mut y) = (headline(a), headline(b));
    x.sort_by(|p, q| p.0.cmp(&q.0));
    y.sort_by(|p, q| p.0.cmp(&q.0));
    let labels = |v: &[(String, f64, f64)]| v.iter().map(|c| c.0.clone()).collect::<Vec<_>>();
    assert_eq!(labels(&x), labels(&y), "{what}: same outcomes");
    let n = REPLICATES as f64;
    let beyond: Vec<String> = x
        .iter()
        .zip(&y)
        .filter(|((_, ma, sa), (_, mb, sb))| {
            let se = ((sa * sa + sb * sb) / n).sqrt();
            (ma - mb).abs() > 4.0 * se + 1e-9
        })
        .map(|((label, ma, sa), (_, mb, sb))| format!("{label}: {ma:.5} (sd {sa:.4}) vs {mb:.5} (sd {sb:.4})"))
        .collect();
    assert!(
        beyond.is_empty(),
        "{what} moved outcomes beyond the noise:\n{}",
        beyond.join("\n")
    );
}

#[test]
fn reordering_the_file_leaves_outcomes_within_the_noise() {
    let reference = run(&load(&baseline_table()));
    for key in ["hosts", "patrons", "routes", "events", "deposits"] {
        let mut table = baseline_table();
        array(&mut table, key).reverse();
        let variant = load(&table);
        assert_within_noise(&format!("reversing [[{key}]]"), &reference, &run(&variant));
    }
}

#[test]
fn reordering_events_changes_nothing_at_all() {
    // Events are applied in name order, whatever the file says.
    let reference = run(&load(&baseline_table()));
    let mut table = baseline_table();
    array(&mut table, "events").reverse();
    let variant = run(&load(&table));
    assert_eq!(headline(&reference), headline(&variant));
}

#[test]
fn renaming_ids_changes_nothing_but_the_labels() {
    let mut text = BASELINE.to_string();
    for (old, new) in [
        ("KAZ", "H_ONE"),
        ("UZB", "H_TWO"),
        ("CHN", "Z_PATRON"),
        ("USA", "A_PATRON"),
        ("MIDDLE", "A_ROUTE"),
        ("rare_earths", "aa_rare"),
    ] {
        text = text.replace(&format!("\"{old}\""), &format!("\"{new}\""));
        text = text.replace(&format!("{old} ="), &format!("{new} ="));
        text = text.replace(&format!("ties.{old}]"), &format!("ties.{new}]"));
    }
    let mut table: Table = text.parse().expect("renamed baseline is TOML");
    // The analyses' tables name keys by id in strings; a run does not read them.
    for analysis in ["sweep", "sensitivity"] {
        table.remove(analysis);
    }
    let renamed = run(&load(&table));
    let reference = run(&load(&baseline_table()));
    let values = |s: &EnsembleSummary| headline(s).into_iter().map(|(_, m, sd)| (m, sd)).collect::<Vec<_>>();
    assert_eq!(values(&reference), values(&renamed));
}

/// The baseline with nothing that should move it: no events, every economy (hosts,
/// patrons, other partners, the world) growing at 3% a year, allocations fixed, and no
/// programme that builds new mines, processing plants or route capacity.
fn null_variant() -> Table {
    let mut table = baseline_table();
    table.remove("events");
    let model = table.get_mut("model").and_then(Value::as_table_mut).expect("[model]");
    model.insert("world_growth_pct".into(), Value::Float(3.0));
    model.insert("other_partners_growth_pct".into(), Value::Float(3.0));
    for host in array(&mut table, "hosts") {
        let host = host.as_table_mut().expect("host table");
        host.insert("trend_growth_pct".into(), Value::Float(3.0));
    }
    for patron in array(&mut table, "patrons") {
        let patron = patron.as_table_mut().expect("patron table");
        patron.insert("economy_growth_pct".into(), Value::Float(3.0));
        for budget in [
            "minerals_budget_usd_bn",
            "mapping_budget_usd_bn",
            "processing_investment_usd_bn",
        ] {
            patron.insert(budget.into(), Value::Float(0.0));
        }
        if let Some(strategy) = patron.get_mut("strategy").and_then(Value::as_table_mut) {
            strategy.insert("rule".into(), Value::String("fixed".into()));
        }
    }
    for route in array(&mut table, "routes") {
        route
            .as_table_mut()
            .expect("route table")
            .insert("investment_usd_bn".into(), Value::Float(0.0));
    }
    table
}

#[test]
fn nothing_drifts_in_the_null_variant() {
    let scenario = load(&null_variant());
    let summary = run(&scenario);
    let layout = &summary.layout;
    let last = summary.n_steps - 1;
    let n = REPLICATES as f64;
    let mut drifted = Vec::new();
    // Ratios read off the summary: each host's cells of these metrics.
    let checks = [
        ("alignment", true, 0.0),
        ("security_dependence", true, 0.0),
        ("trade_share", true, 0.0),
        ("govt_debt_pct_gdp", false, 0.3),
        ("debt_to_patron_pct_gdp", true, 0.3),
        ("remittances_pct_gdp", false, 0.0),
    ];
    for (name, per_partner, floor) in checks {
        let m = layout.find(name).expect("metric");
        for h in 0..scenario.n_hosts() {
            let partners: Vec<Option<usize>> = if per_partner {
                (0..scenario.n_patrons()).map(Some).collect()
            } else {
                vec![None]
            };
            for partner in partners {
                let cell = layout.index(m, h, partner);
                let (start, end) = (summary.cell(0, cell), summary.cell(last, cell));
                // Four standard errors of each mean, plus 1% of the value: projects and
                // exploration are random, and a stock the data starts at zero cannot go
                // below it (so its noise adds a little); `floor` in the metric's unit for
                // the debt ratios, which such stocks hold.
                let allowed = 4.0 * (start.sd + end.sd) / n.sqrt() + 0.01 * start.mean.abs() + floor;
                if (end.mean - start.mean).abs() > allowed {
                    drifted.push(format!(
                        "{name} {} {}: {:.4} -> {:.4} (allowed {:.4})",
                        scenario.hosts[h].id,
                        partner.map_or("", |p| scenario.patrons[p].id.as_str()),
                        start.mean,
                        end.mean,
                        allowed
                    ));
                }
            }
        }
    }
    // Trade to GDP: the hosts' total trade over their GDP.
    let trade = layout.find("trade_total_usd_bn").expect("metric");
    let gdp = layout.find("gdp_usd_bn").expect("metric");
    for h in 0..scenario.n_hosts() {
        let ratio = |step: usize| {
            summary.cell(step, layout.index(trade, h, None)).mean / summary.cell(step, layout.index(gdp, h, None)).mean
        };
        let (start, end) = (ratio(0), ratio(last));
        if (end - start).abs() > 0.01 * start {
            drifted.push(format!("trade/GDP {}: {start:.4} -> {end:.4}", scenario.hosts[h].id));
        }
    }
    assert!(drifted.is_empty(), "drift without a cause:\n{}", drifted.join("\n"));
}
