//! The real-world patterns the model must reproduce (docs/MODEL.md §1), checked on the
//! baseline ensemble. A pattern that holds only because the starting values say so does
//! not count: each test also perturbs the start (or the shock) and checks that the
//! model's own dynamics restore or produce the pattern.

use greatgame::ensemble::EnsembleSummary;
use greatgame::model::events::{Effect, Event, Op, Target, Trigger};
use greatgame::model::quantities::{PatronQuantity, Quantity};
use greatgame::model::{DecisionTerms, Scenario};
use greatgame::scenario;

mod common;

use common::*;

const REPLICATES: u64 = 24;

fn baseline() -> Scenario {
    scenario::load_builtin_baseline()
        .expect("the baseline is valid")
        .scenario
}

fn run(scenario: &Scenario) -> EnsembleSummary {
    run_ensemble(scenario, &ensemble_config(REPLICATES, 11, None), None)
}

fn host(scenario: &Scenario, id: &str) -> usize {
    scenario.hosts.iter().position(|h| h.id == id).expect("host exists")
}

fn patron(scenario: &Scenario, id: &str) -> usize {
    scenario.patrons.iter().position(|p| p.id == id).expect("patron exists")
}

/// Ensemble mean of a metric at a step (0-based); `host` is a row (the last is C5).
fn mean(summary: &EnsembleSummary, metric: &str, step: usize, host: usize, partner: Option<usize>) -> f64 {
    let layout = &summary.layout;
    let m = layout.find(metric).unwrap_or_else(|| panic!("metric {metric}"));
    summary.cell(step, layout.index(m, host, partner)).mean
}

fn last(summary: &EnsembleSummary) -> usize {
    summary.n_steps - 1
}

/// Pattern 1: China is the largest or second-largest trade partner (among the powers) of
/// most of the five, with a rising share — also when China starts with 40% less trade.
#[test]
fn china_is_a_top_two_trade_partner_of_most_hosts_with_a_rising_share() {
    let mut perturbed = baseline();
    let chn = patron(&perturbed, "CHN");
    for h in &mut perturbed.hosts {
        let moved = 0.4 * h.ties[chn].trade_usd_bn;
        h.ties[chn].trade_usd_bn -= moved;
        h.other_trade_usd_bn += moved;
    }
    for scenario in [baseline(), perturbed] {
        let summary = run(&scenario);
        let end = last(&summary);
        let all = scenario.n_hosts();
        let top_two = (0..scenario.n_hosts())
            .filter(|&h| {
                let china = mean(&summary, "trade_share", end, h, Some(chn));
                let larger = (0..scenario.n_patrons())
                    .filter(|&p| p != chn && mean(&summary, "trade_share", end, h, Some(p)) > china)
                    .count();
                larger <= 1
            })
            .count();
        assert!(top_two >= 3, "China is a top-two partner of only {top_two} hosts");
        let start = mean(&summary, "trade_share", 0, all, Some(chn));
        let finish = mean(&summary, "trade_share", end, all, Some(chn));
        assert!(
            finish > start + 0.02,
            "China's share of the five's trade {start:.3} -> {finish:.3}"
        );
    }
}

/// Pattern 2: Russia is the dominant security partner of Kazakhstan, Kyrgyzstan and
/// Tajikistan; Turkmenistan stays out of every security alignment. A neutral Turkmenistan
/// values and takes no security aid, and its arms purchases do not draw its alignment:
/// even starting with half its arms from China, its alignment with China is what it is
/// without, and no patron's share of its arms moves (nothing in the model pushes it).
#[test]
fn russia_dominates_security_and_turkmenistan_stays_out() {
    let mut perturbed = baseline();
    let (tkm, chn) = (host(&perturbed, "TKM"), patron(&perturbed, "CHN"));
    perturbed.hosts[tkm].ties[chn].arms_share = 0.5;
    perturbed.hosts[tkm].other_security_share = 0.18;
    let runs: Vec<(Scenario, EnsembleSummary)> = [baseline(), perturbed]
        .into_iter()
        .map(|scenario| {
            let summary = run(&scenario);
            (scenario, summary)
        })
        .collect();
    for (scenario, summary) in &runs {
        let end = last(summary);
        let rus = patron(scenario, "RUS");
        for id in ["KAZ", "KGZ", "TJK"] {
            let h = host(scenario, id);
            let russia = mean(summary, "security_dependence", end, h, Some(rus));
            assert!(russia > 0.5, "{id}: Russia's security share {russia:.3}");
            for p in (0..scenario.n_patrons()).filter(|&p| p != rus) {
                assert!(russia > 2.0 * mean(summary, "security_dependence", end, h, Some(p)));
            }
        }
        let security_term = DecisionTerms::NAMES
            .iter()
            .position(|t| *t == "security")
            .expect("term");
        for p in 0..scenario.n_patrons() {
            for step in [0, end] {
                assert_eq!(
                    summary.decision(step, tkm, p, security_term),
                    0.0,
                    "TKM values aid from {p}"
                );
            }
            let start = mean(summary, "security_dependence", 0, tkm, Some(p));
            let share = mean(summary, "security_dependence", end, tkm, Some(p));
            assert!(
                (share - start).abs() < 0.01,
                "TKM's arms from {p}: {start:.3} -> {share:.3}"
            );
        }
    }
    let (base, half) = (&runs[0].1, &runs[1].1);
    let end = last(base);
    let a = mean(base, "alignment", end, tkm, Some(chn));
    let b = mean(half, "alignment", end, tkm, Some(chn));
    assert!(
        (a - b).abs() < 0.01,
        "TKM's alignment with China {a:.3} vs {b:.3} with half its arms from China"
    );
}

/// Pattern 3: heavy remittance dependence on Russia for Tajikistan, Kyrgyzstan and
/// Uzbekistan, which gives Russia leverage there.
#[test]
fn remittances_from_russia_keep_tajikistan_kyrgyzstan_uzbekistan_dependent() {
    let scenario = baseline();
    let summary = run(&scenario);
    let end = last(&summary);
    let (rus, usa) = (patron(&scenario, "RUS"), patron(&scenario, "USA"));
    for (id, floor) in [("TJK", 10.0), ("KGZ", 10.0), ("UZB", 5.0)] {
        let h = host(&scenario, id);
        let pct = mean(&summary, "remittances_pct_gdp", end, h, None);
        assert!(pct > floor, "{id}: remittances {pct:.1}% of GDP");
        let russia = mean(&summary, "leverage", end, h, Some(rus));
        assert!(
            russia > 2.0 * mean(&summary, "leverage", end, h, Some(usa)),
            "{id}: Russia's leverage {russia:.3}"
        );
    }
    let kaz = host(&scenario, "KAZ");
    assert!(mean(&summary, "remittances_pct_gdp", end, kaz, None) < 1.0);
}

/// Pattern 4: multi-vector balance — no host aligns fully with one patron and partner
/// concentration stays moderate; a host pushed to 90% alignment with Russia rebalances.
#[test]
fn hosts_stay_multi_vector_and_an_unbalanced_start_rebalances() {
    let scenario = baseline();
    let summary = run(&scenario);
    for step in 0..summary.n_steps {
        for h in 0..scenario.n_hosts() {
            for p in 0..scenario.n_patrons() {
                let a = mean(&summary, "alignment", step, h, Some(p));
                assert!(a < 0.8, "host {h} alignment with {p} is {a:.3} at step {step}");
            }
            assert!(mean(&summary, "trade_concentration_hhi", step, h, None) < 0.5);
        }
    }

    let mut unbalanced = baseline();
    let kaz = host(&unbalanced, "KAZ");
    unbalanced.hosts[kaz].initial_alignment = Some(vec![0.05, 0.9, 0.05]);
    let summary = run(&unbalanced);
    let start = mean(&summary, "hedging_index", 0, kaz, None);
    let end = mean(&summary, "hedging_index", last(&summary), kaz, None);
    assert!(end > start + 0.2, "Kazakhstan's hedging index {start:.3} -> {end:.3}");
}

/// Pattern 5: a small US share of trade beside a real US investment presence in
/// Kazakhstan.
#[test]
fn us_trade_share_is_small_but_us_investment_in_kazakhstan_is_real() {
    let scenario = baseline();
    let summary = run(&scenario);
    let end = last(&summary);
    let (usa, chn) = (patron(&scenario, "USA"), patron(&scenario, "CHN"));
    let all = scenario.n_hosts();
    let share = mean(&summary, "trade_share", end, all, Some(usa));
    assert!(share > 0.005 && share < 0.05, "US share of the five's trade {share:.3}");
    let kaz = host(&scenario, "KAZ");
    let us_fdi = mean(&summary, "fdi_stock_usd_bn", end, kaz, Some(usa));
    assert!(us_fdi > 20.0, "US FDI stock in Kazakhstan {us_fdi:.1} bn");
    assert!(us_fdi > mean(&summary, "fdi_stock_usd_bn", end, kaz, Some(chn)));
}

/// Pattern 6: Kazakhstan produces about 40% of the world's uranium, and stays near it as
/// deposits are developed.
#[test]
fn kazakhstan_produces_about_forty_percent_of_world_uranium() {
    let scenario = baseline();
    let summary = run(&scenario);
    let kaz = host(&scenario, "KAZ");
    for step in [0, last(&summary)] {
        let share = mean(&summary, "world_share.uranium", step, kaz, None);
        assert!((0.35..0.5).contains(&share), "share {share:.3} at step {step}");
    }
}

/// Pattern 7: after sanctions on Russia tighten, Middle Corridor volumes rise steeply
/// and trade flowing through the five rises.
#[test]
fn sanctions_on_russia_raise_corridor_volumes_and_trade_through_the_five() {
    let base = baseline();
    let mut shocked = baseline();
    let rus = patron(&shocked, "RUS");
    shocked.events.push(Event {
        name: "tighter sanctions".into(),
        trigger: Trigger::At("2026Q1".parse().expect("quarter")),
        duration_quarters: None,
        effects: vec![Effect {
            target: Target::Patron(rus),
            quantity: Quantity::Patron(PatronQuantity::Sanctions),
            op: Op::Add,
            value: 0.4,
        }],
    });
    let (a, b) = (run(&base), run(&shocked));
    let all = base.n_hosts();
    // 2026Q1 is step index 8; compare a year later.
    let after = 12;
    let corridor_base = mean(&a, "route_cargo_mt.MIDDLE", after, all, None);
    let corridor_shock = mean(&b, "route_cargo_mt.MIDDLE", after, all, None);
    assert!(
        corridor_shock > 1.5 * corridor_base,
        "corridor {corridor_base:.2} -> {corridor_shock:.2} Mt"
    );
    let before = mean(&b, "route_cargo_mt.MIDDLE", 7, all, None);
    assert!(
        corridor_shock > 1.5 * before,
        "corridor before the shock {before:.2} Mt"
    );
    let reexport_base = mean(&a, "reexport_usd_bn", after, all, Some(rus));
    let reexport_shock = mean(&b, "reexport_usd_bn", after, all, Some(rus));
    assert!(
        reexport_shock > 1.3 * reexport_base,
        "re-exports {reexport_base:.2} -> {reexport_shock:.2}"
    );
    let trade_base = mean(&a, "trade_total_usd_bn", after, all, None);
    let trade_shock = mean(&b, "trade_total_usd_bn", after, all, None);
    assert!(
        trade_shock > trade_base,
        "trade through the five {trade_base:.1} -> {trade_shock:.1}"
    );
}
