//! The deposit-and-firm layer (docs/MODEL.md §7.11): its results come from its mechanisms,
//! not from its bookkeeping, and each pillar of the Critical Minerals Dialogue moves supply
//! shares the way it should.
//!
//! Outcomes compared: at the last quarter, for the five together, production and every
//! patron's supply share of every commodity, and every patron's cumulative mining
//! investment, each keyed by id so that reordering the file does not reorder them.
//!
//! Tolerance: two ensembles agree on an outcome when their means differ by at most four
//! standard errors of the difference of two independent means, `4 √(s₁²/n + s₂²/n)`. The
//! variants change the order in which the replicates use their random numbers, so the
//! ensembles are unpaired. At four standard errors one honest outcome in about 16,000
//! fails by chance; the checks below compare six variants of 35 outcomes each (about one
//! chance in 80 of a false alarm somewhere), and a fixed seed makes each run repeatable.
//! Means equal to within 1e-9 (relative) agree, so outcomes without spread do not divide
//! by zero. A pillar "moves" an outcome when the difference exceeds the same four standard
//! errors, in the stated direction.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::OnceLock;

use greatgame::ensemble::{self, EnsembleConfig, EnsembleSummary};
use greatgame::model::{PatronLevers, Scenario};
use greatgame::scenario;

const REPLICATES: u64 = 100;
const SEED: u64 = 20240101;

fn shipped(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(format!("{name}.toml"))
}

fn run(scenario: &Scenario) -> EnsembleSummary {
    let config = EnsembleConfig {
        replicates: REPLICATES,
        seed: SEED,
        threads: None,
        max_memory_bytes: u64::MAX,
    };
    ensemble::run(scenario, &config, &|| {}, &AtomicBool::new(false), None).expect("the ensemble runs")
}

/// Mean and standard error of an outcome.
#[derive(Debug, Clone, Copy)]
struct Estimate {
    mean: f64,
    se: f64,
}

type Outcomes = BTreeMap<String, Estimate>;

fn estimate(summary: &EnsembleSummary, metric: &str, step: usize, partner: Option<usize>) -> Estimate {
    let layout = &summary.layout;
    let m = layout.find(metric).unwrap_or_else(|| panic!("metric {metric}"));
    let cell = summary.cell(step, layout.index(m, layout.all_hosts_row(), partner));
    Estimate {
        mean: cell.mean,
        se: cell.sd / (summary.replicates as f64).sqrt(),
    }
}

/// The compared outcomes at a step, named by ids.
fn outcomes_at(scenario: &Scenario, summary: &EnsembleSummary, step: usize) -> Outcomes {
    let mut out = Outcomes::new();
    for c in &scenario.commodities {
        let production = format!("production_t.{}", c.id);
        out.insert(production.clone(), estimate(summary, &production, step, None));
        for (p, patron) in scenario.patrons.iter().enumerate() {
            let share = format!("supply_share.{}", c.id);
            out.insert(
                format!("{share} {}", patron.id),
                estimate(summary, &share, step, Some(p)),
            );
        }
    }
    for (p, patron) in scenario.patrons.iter().enumerate() {
        let name = "mining_investment_cumulative_usd_bn";
        out.insert(format!("{name} {}", patron.id), estimate(summary, name, step, Some(p)));
    }
    out
}

fn outcomes(scenario: &Scenario) -> Outcomes {
    let summary = run(scenario);
    outcomes_at(scenario, &summary, summary.n_steps - 1)
}

fn differs(a: Estimate, b: Estimate) -> f64 {
    (b.mean - a.mean) / (a.se.powi(2) + b.se.powi(2)).sqrt().max(1e-12)
}

/// Every outcome of `variant` within four standard errors of `reference`.
fn assert_same(reference: &Outcomes, variant: &Outcomes, label: &str) {
    assert_eq!(reference.len(), variant.len(), "{label}: the same outcomes");
    let mut failures = Vec::new();
    for (name, a) in reference {
        let b = variant[name];
        let exact = (a.mean - b.mean).abs() <= 1e-9 * a.mean.abs().max(b.mean.abs()).max(1.0);
        if !exact && differs(*a, b).abs() > 4.0 {
            failures.push(format!(
                "{name}: {:.6} ± {:.6} vs {:.6} ± {:.6}",
                a.mean, a.se, b.mean, b.se
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{label} moved outcomes beyond the noise:\n{}",
        failures.join("\n")
    );
}

/// `variant` is above `reference` by more than four standard errors.
fn assert_rises(reference: Estimate, variant: Estimate, label: &str) {
    assert!(
        differs(reference, variant) > 4.0,
        "{label}: {:.4} ± {:.4} -> {:.4} ± {:.4}",
        reference.mean,
        reference.se,
        variant.mean,
        variant.se
    );
}

// ------------------------------------------------------------------ the baseline, reordered

fn baseline_text() -> String {
    std::fs::read_to_string(shipped("baseline")).expect("the baseline is readable")
}

fn load_text(text: &str) -> Scenario {
    scenario::load_text(&shipped("baseline"), text, "baseline")
        .expect("the reordered baseline is valid")
        .scenario
}

/// The baseline with the arrays of tables named in `keys` reversed.
fn reversed(keys: &[&str]) -> Scenario {
    let mut table: toml::Table = baseline_text().parse().expect("the baseline is TOML");
    for key in keys {
        match table.get_mut(*key) {
            Some(toml::Value::Array(items)) => items.reverse(),
            _ => panic!("the baseline has no array {key}"),
        }
    }
    load_text(&toml::to_string(&table).expect("TOML out"))
}

/// The baseline's ensemble, run once for all the tests that need it.
fn baseline_run() -> &'static (Scenario, EnsembleSummary) {
    static RUN: OnceLock<(Scenario, EnsembleSummary)> = OnceLock::new();
    RUN.get_or_init(|| {
        let scenario = load_text(&baseline_text());
        let summary = run(&scenario);
        (scenario, summary)
    })
}

fn baseline_outcomes() -> Outcomes {
    let (scenario, summary) = baseline_run();
    outcomes_at(scenario, summary, summary.n_steps - 1)
}

#[test]
fn reordering_deposits_and_commodities_leaves_the_outcomes() {
    let base = &baseline_outcomes();
    let deposits = reversed(&["deposits"]);
    let first: Vec<&str> = deposits
        .minerals
        .endowments
        .iter()
        .take(1)
        .map(|e| deposits.commodities[e.commodity].id.as_str())
        .collect();
    assert_eq!(first, ["lithium"], "the reversed file starts with other deposits");
    assert_same(base, &outcomes(&deposits), "reversed [[deposits]]");
    assert_same(
        base,
        &outcomes(&reversed(&["commodities", "deposits"])),
        "reversed [[commodities]] and [[deposits]]",
    );
}

#[test]
fn reordering_patrons_and_hosts_leaves_the_outcomes() {
    let base = &baseline_outcomes();
    assert_same(base, &outcomes(&reversed(&["patrons"])), "reversed [[patrons]]");
    assert_same(base, &outcomes(&reversed(&["hosts"])), "reversed [[hosts]]");
}

#[test]
fn finer_deposits_and_firms_leave_the_outcomes() {
    let base = &baseline_outcomes();
    // Four times the deposits, each a quarter of the capacity (the endowments are fixed).
    let mut deposits = load_text(&baseline_text());
    deposits.minerals.n_deposits *= 4;
    assert_same(base, &outcomes(&deposits), "n_deposits x 4");
    // Four times the firms, each with a quarter of the capital (the patrons' money is
    // shared among their firms).
    let mut firms = load_text(&baseline_text());
    firms.minerals.n_firms *= 4;
    assert_same(base, &outcomes(&firms), "n_firms x 4");
}

#[test]
fn the_default_processor_keeps_its_share_at_the_start() {
    // Kazakhstan's copper is domestic, so all of it is sold: China, the default processor,
    // buys its default share, 45% (USGS: 45% of refined copper).
    let (scenario, summary) = baseline_run();
    let chn = scenario.patrons.iter().position(|p| p.id == "CHN").expect("China");
    let copper = estimate(summary, "supply_share.copper", 0, Some(chn));
    assert!(
        (copper.mean - 0.45).abs() < 1e-9,
        "China's copper share at the start: {}",
        copper.mean
    );
}

// ------------------------------------------------------------------ the Dialogue's pillars

fn push() -> Scenario {
    scenario::load(&shipped("us_minerals_push"))
        .expect("us_minerals_push is valid")
        .scenario
}

/// The outcomes of `us_minerals_push` as shipped (from 2025: mapping USD 0.1 bn a year,
/// mining finance 1.5 with mobilisation 3, processing 2), run once.
fn push_outcomes() -> &'static Outcomes {
    static OUTCOMES: OnceLock<Outcomes> = OnceLock::new();
    OUTCOMES.get_or_init(|| outcomes(&push()))
}

/// Outcomes of `scenario` with one of the USA's levers set to `value`.
fn with_usa(scenario: Scenario, value: f64, set: fn(&mut PatronLevers, f64)) -> Outcomes {
    let mut scenario = scenario;
    let p = scenario.patrons.iter().position(|p| p.id == "USA").expect("the USA");
    set(&mut scenario.patrons[p].levers, value);
    outcomes(&scenario)
}

#[test]
fn processing_investment_moves_output_to_the_investor_with_diminishing_effect() {
    let none = with_usa(push(), 0.0, |l, v| l.processing_investment_usd_bn = v);
    let more = with_usa(push(), 8.0, |l, v| l.processing_investment_usd_bn = v);
    for commodity in ["uranium", "antimony"] {
        let key = format!("supply_share.{commodity} USA");
        let [none, funded, more] = [none[&key], push_outcomes()[&key], more[&key]];
        assert_rises(none, funded, &format!("{key}, 0 -> 2 bn"));
        assert_rises(funded, more, &format!("{key}, 2 -> 8 bn"));
        let (first, next) = ((funded.mean - none.mean) / 2.0, (more.mean - funded.mean) / 6.0);
        assert!(
            next < first,
            "{key}: diminishing effect per bn, {first:.4} then {next:.4}"
        );
    }
}

#[test]
fn mapping_moves_output_to_the_mapper() {
    let none = with_usa(push(), 0.0, |l, v| l.mapping_budget_usd_bn = v);
    for key in ["production_t.rare_earths", "supply_share.rare_earths USA"] {
        assert_rises(none[key], push_outcomes()[key], &format!("{key}, mapping 0 -> 0.1 bn"));
    }
}

#[test]
fn mining_finance_moves_output_to_the_financier() {
    let none = with_usa(push(), 0.0, |l, v| l.minerals_budget_usd_bn = v);
    for key in ["supply_share.rare_earths USA", "supply_share.tungsten USA"] {
        assert_rises(none[key], push_outcomes()[key], &format!("{key}, budget 0 -> 1.5 bn"));
    }
    // Mobilised private capital counts where public money is short: in the baseline (US
    // mining finance USD 0.2 bn a year, mobilisation 2).
    let none = with_usa(load_text(&baseline_text()), 0.0, |l, v| l.private_mobilisation = v);
    let key = "supply_share.tungsten USA";
    assert_rises(
        none[key],
        baseline_outcomes()[key],
        &format!("{key}, mobilisation 0 -> 2"),
    );
}
