use super::*;
use crate::ensemble::replicate_rng;
use crate::model::StrategyRule;
use crate::scenario::load_text;
use std::path::Path;

/// Two patrons and two hosts; `overrides` is a variant laid over them with `extends`.
fn scenario(overrides: &str) -> Scenario {
    let base = r#"
[model]
decision_noise_sd = 0.0
[[patrons]]
id = "P1"
investment_budget_usd_bn = 4.0
security_budget_usd_bn = 1.0
credibility = 0.5
pledge_lag_quarters = 2
allocation = { H1 = 0.5, H2 = 0.5 }
[[patrons]]
id = "P2"
investment_budget_usd_bn = 1.0
security_budget_usd_bn = 1.0
credibility = 0.5
pledge_lag_quarters = 2
allocation = { H1 = 0.5, H2 = 0.5 }
[[hosts]]
id = "H1"
gdp_usd_bn = 20.0
defence_budget_usd_bn = 0.5
ties.P1 = { trade_usd_bn = 2.0, arms_share = 0.3 }
ties.P2 = { trade_usd_bn = 2.0, arms_share = 0.3 }
[[hosts]]
id = "H2"
gdp_usd_bn = 20.0
defence_budget_usd_bn = 0.5
security_openness = 0.0
ties.P1 = { trade_usd_bn = 2.0, arms_share = 0.3 }
ties.P2 = { trade_usd_bn = 2.0, arms_share = 0.3 }
"#;
    let dir = tempfile::tempdir().expect("temporary folder");
    let base_path = dir.path().join("base.toml");
    std::fs::write(&base_path, base).expect("write base scenario");
    let text = format!("extends = {:?}\n{overrides}", base_path.display().to_string());
    load_text(Path::new("test.toml"), &text, "test")
        .expect("test scenario is valid")
        .scenario
}

fn run(sim: &mut Simulation<'_>, steps: u32) {
    let mut rng = replicate_rng(7, 0);
    for _ in 0..steps {
        sim.step(&mut rng).expect("finite");
    }
}

/// A path's years are mid-year levels: GDP climbs from one to the next between the
/// middles of the two years, and quarters outside the path grow at the trend.
#[test]
fn gdp_and_economy_paths_drive_growth_between_mid_years() {
    let s = scenario(
        "[time]\nstart = \"2016Q1\"\nhorizon_quarters = 12\n\
         [model]\ninvestment_growth_multiplier = 0.0\nexternal_income_multiplier = 0.0\n\
         [[hosts]]\nid = \"H1\"\ntrend_growth_pct = 8.0\n\
         gdp_usd_bn_path = { 2015 = 20.0, 2016 = 20.0, 2017 = 30.0, 2018 = 30.0 }\n\
         [[patrons]]\nid = \"P1\"\neconomy_growth_pct = 4.0\neconomy_usd_bn_path = { 2016 = 100.0, 2017 = 200.0 }\n",
    );
    let mut sim = Simulation::new(&s);
    run(&mut sim, 2); // 2016Q1-Q2: the rate from 2015 to 2016 (flat)
    assert!((sim.gdp_usd_bn[0] - 20.0).abs() < 1e-9, "{}", sim.gdp_usd_bn[0]);
    run(&mut sim, 4); // 2016Q3-2017Q2: from 2016 to 2017
    assert!((sim.gdp_usd_bn[0] - 30.0).abs() < 1e-9, "{}", sim.gdp_usd_bn[0]);
    run(&mut sim, 4); // 2017Q3-2018Q2: from 2017 to 2018 (flat)
    assert!((sim.gdp_usd_bn[0] - 30.0).abs() < 1e-9);
    run(&mut sim, 2); // 2018Q3 on: past the path, the trend (8% a year)
    assert!(
        (sim.gdp_usd_bn[0] - 30.0 * 1.02f64.powi(2)).abs() < 1e-9,
        "{}",
        sim.gdp_usd_bn[0]
    );
    // H2 has no path: its trend (the default 4% a year) all along.
    assert!((sim.gdp_usd_bn[1] - 20.0 * 1.01f64.powi(12)).abs() < 1e-9);
    // P1: 2016Q1-Q2 before its path (4% a year), then doubling to mid-2017, then 4% again.
    let expected = 1.01f64.powi(2) * 2.0 * 1.01f64.powi(6);
    assert!(
        (sim.patron_economy[0] - expected).abs() < 1e-9,
        "{}",
        sim.patron_economy[0]
    );
}

#[test]
fn alignment_sums_to_one_and_moves_with_inertia() {
    let s = scenario("");
    let mut sim = Simulation::new(&s);
    let before = sim.alignment.clone();
    run(&mut sim, 1);
    for h in 0..2 {
        let row = &sim.alignment[h * 2..h * 2 + 2];
        assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        for p in 0..2 {
            // One step closes at most `inertia` of the gap to a target in [0, 1].
            assert!((row[p] - before[h * 2 + p]).abs() <= s.params.alignment_inertia + 1e-12);
        }
    }
}

/// Runs `steps` quarters of `s` from its start and returns the simulation.
fn simulate(s: &Scenario, steps: u32) -> Simulation<'_> {
    let mut sim = Simulation::new(s);
    run(&mut sim, steps);
    sim
}

#[test]
fn the_share_of_an_offer_taken_depends_on_its_value_per_usd_not_its_size() {
    // H1 is balanced between two patrons with equal ties; P1 offers four times P2's
    // investment. Every term is money, so P1's terms are four times P2's and the share
    // taken is the same.
    let s = scenario(
        "[[hosts]]\nid = \"H1\"\nties.P1 = { alignment = 0.5 }\nties.P2 = { alignment = 0.5 }\n\
         [[patrons]]\nid = \"P1\"\nsecurity_budget_usd_bn = 0.0\n[[patrons]]\nid = \"P2\"\nsecurity_budget_usd_bn = 0.0\n\
         [model]\nattraction_weights = { offers = 0.0 }\n",
    );
    let sim = simulate(&s, 1);
    let (p1, p2) = (sim.decisions[0], sim.decisions[1]);
    assert!((p1.economic - 4.0 * p2.economic).abs() < 1e-9 * p1.economic.abs());
    assert!((p1.sovereignty - 4.0 * p2.sovereignty).abs() < 1e-9 * p1.sovereignty.abs());
    assert!(
        (p1.acceptance - p2.acceptance).abs() < 1e-12,
        "{} vs {}",
        p1.acceptance,
        p2.acceptance
    );
    let sum = p1.economic + p1.security + p1.concentration + p1.sovereignty + p1.displeasure + p1.goodwill + p1.noise;
    assert!((sum - p1.utility).abs() < 1e-12, "the terms add up to the utility");

    // A more credible patron's dollar is worth more, so more of its offer is taken.
    let trusted = scenario(
        "[[hosts]]\nid = \"H1\"\nties.P1 = { alignment = 0.5 }\nties.P2 = { alignment = 0.5 }\n\
         [[patrons]]\nid = \"P1\"\ncredibility = 0.9\ninvestment_budget_usd_bn = 1.0\n\
         [model]\nattraction_weights = { offers = 0.0 }\n",
    );
    let sim = simulate(&trusted, 1);
    assert!(sim.decisions[0].acceptance > sim.decisions[1].acceptance);
}

#[test]
fn a_small_offer_cannot_outweigh_a_large_one_in_alignment() {
    // P2 offers a thousandth of P1's investment, on the best terms; the host's alignment
    // moves toward P1, whose accepted dollars are a thousand times more.
    let s = scenario(
        "[[hosts]]\nid = \"H1\"\nties.P1 = { alignment = 0.5 }\nties.P2 = { alignment = 0.5 }\n\
         [[patrons]]\nid = \"P1\"\ninvestment_budget_usd_bn = 8.0\nsecurity_budget_usd_bn = 0.0\nconditionality = 0.3\n\
         [[patrons]]\nid = \"P2\"\ninvestment_budget_usd_bn = 0.008\nsecurity_budget_usd_bn = 0.0\ncredibility = 1.0\nconditionality = 0.0\ngoodwill = 2.0\n",
    );
    let sim = simulate(&s, 20);
    assert!(
        sim.decisions[1].acceptance > sim.decisions[0].acceptance,
        "P2's terms are better per dollar"
    );
    assert!(sim.alignment[0] > 0.5, "alignment with P1 {}", sim.alignment[0]);
}

#[test]
fn concentration_cost_penalises_the_dominant_partner_and_rewards_the_other() {
    let s = scenario("[[hosts]]\nid = \"H1\"\nties.P1 = { alignment = 0.8 }\nties.P2 = { alignment = 0.2 }\n");
    let mut sim = Simulation::new(&s);
    run(&mut sim, 1);
    assert!(sim.decisions[0].concentration < 0.0, "over-weight P1 costs");
    assert!(sim.decisions[1].concentration > 0.0, "under-weight P2 is a bonus");
}

#[test]
fn rival_leverage_and_assertiveness_raise_expected_displeasure() {
    let calm = scenario("");
    let angry = scenario("[[patrons]]\nid = \"P2\"\nassertiveness = 1.0\n");
    let (mut a, mut b) = (Simulation::new(&calm), Simulation::new(&angry));
    run(&mut a, 1);
    run(&mut b, 1);
    // P2's assertiveness makes P1's offers to H1 costlier.
    assert!(b.decisions[0].displeasure < a.decisions[0].displeasure);
}

#[test]
fn a_neutral_host_takes_no_security_aid_and_its_arms_ties_stay_as_they_were() {
    // Without the growth effect of projects, H2's economy and so its own arms purchases
    // do not depend on the random delivery of projects.
    let base = scenario("[model]\ninvestment_growth_multiplier = 0.0\n");
    let generous = scenario(
        "[model]\ninvestment_growth_multiplier = 0.0\n[[patrons]]\nid = \"P1\"\nsecurity_budget_usd_bn = 10.0\n",
    );
    let (a, b) = (simulate(&base, 8), simulate(&generous, 8));
    for p in 0..2 {
        // H2 (openness 0) values no aid and takes none: its stocks are the same with a
        // tenfold budget.
        assert_eq!(b.decisions[2 + p].security, 0.0);
        assert!((a.security_stock[2 + p] - b.security_stock[2 + p]).abs() < 1e-12);
    }
    // H1 takes part of P1's larger offer, so its stock with P1 grows.
    assert!(b.security_stock[0] > 1.2 * a.security_stock[0]);
}

#[test]
fn pledges_come_due_after_the_lag_and_are_delivered_in_full_by_a_capable_patron() {
    let s = scenario(
        "[model]\nabsorptive_max = 1.0\n[[patrons]]\nid = \"P1\"\nimplementation_capacity = 1.0\n\
         [[hosts]]\nid = \"H1\"\nabsorptive_capacity = 1.0\n",
    );
    let mut sim = simulate(&s, 1);
    let pledged = sim.pledged_usd_bn[0];
    let queued = sim.pipelines[0]
        .iter()
        .find(|pledge| pledge.host == 0 && pledge.due_step == 3)
        .expect("the first quarter's pledge is due two quarters later");
    assert!((queued.amount_usd_bn - pledged).abs() < 1e-15);
    let disbursed_before = sim.disbursed_cumulative_usd_bn[0];
    run(&mut sim, 2);
    // Pledges of the quarters before the start came due in between; the first quarter's
    // pledge is delivered whole in the third.
    assert!((sim.disbursed_usd_bn[0] - pledged).abs() < 1e-12);
    assert!(sim.disbursed_cumulative_usd_bn[0] > disbursed_before + pledged);
}

#[test]
fn credibility_learns_the_share_delivered_and_experience_raises_absorptive_capacity() {
    // P1's agencies deliver 80% at full absorptive capacity; H1 and H2 absorb 60%: a
    // starting credibility of 0.9 falls toward 0.48.
    let s = scenario(
        "[model]\nabsorptive_learning = 0.0\n[[patrons]]\nid = \"P1\"\ncredibility = 0.9\nimplementation_capacity = 0.8\ncredibility_learning = 0.2\n\
         [[hosts]]\nid = \"H1\"\nabsorptive_capacity = 0.6\n[[hosts]]\nid = \"H2\"\nabsorptive_capacity = 0.6\n",
    );
    let sim = simulate(&s, 120);
    let conversion = sim.disbursed_cumulative_usd_bn[0] / sim.pledged_due_cumulative_usd_bn[0];
    assert!((conversion - 0.48).abs() < 0.02, "conversion {conversion}");
    // Credibility follows the recent record, which projects' random delivery moves.
    assert!(
        (sim.credibility[0] - 0.48).abs() < 0.1,
        "credibility {}",
        sim.credibility[0]
    );

    // Without a surge nothing changes; a tenfold budget from 2025 delivers more projects,
    // which build experience and absorptive capacity above the lever.
    // Every economy grows at one rate, so the projects delivered keep their share of GDP.
    let balanced = "[model]\nworld_growth_pct = 3.0\nproject_size_usd_bn = 0.0001\n[[hosts]]\nid = \"H1\"\ntrend_growth_pct = 3.0\n\
                    [[hosts]]\nid = \"H2\"\ntrend_growth_pct = 3.0\n";
    let steady = scenario(balanced);
    let surge = scenario(&format!(
        "{balanced}{}",
        "[[events]]\nname = \"surge\"\nat = \"2025Q1\"\neffects = [{ actor = \"P1\", quantity = \"investment_budget_usd_bn\", op = \"multiply\", value = 10.0 }]\n"
    ));
    let (a, b) = (simulate(&steady, 40), simulate(&surge, 40));
    let lever = steady.hosts[0].levers.absorptive_capacity;
    assert!(
        (a.absorptive_capacity[0] - lever).abs() < 0.01,
        "{}",
        a.absorptive_capacity[0]
    );
    assert!(b.absorptive_capacity[0] > lever + 0.02, "{}", b.absorptive_capacity[0]);
}

/// With no events, every economy growing at one rate and fixed allocations, the start is
/// a steady state: ratios and shares stay where they started (without decision noise,
/// and with projects so small that their delivery is all but certain, to within 0.5%).
#[test]
fn nothing_drifts_without_a_cause() {
    let s = scenario(
        "[model]\nworld_growth_pct = 3.0\nother_partners_growth_pct = 3.0\nproject_size_usd_bn = 0.0001\n\
         [[patrons]]\nid = \"P1\"\neconomy_growth_pct = 3.0\n[[patrons]]\nid = \"P2\"\neconomy_growth_pct = 3.0\n\
         [[hosts]]\nid = \"H1\"\ntrend_growth_pct = 3.0\nother_trade_usd_bn = 5.0\nremittances_pct_gdp = 10.0\nties.P1 = { fdi_stock_usd_bn = 3.0, debt_share = 0.2, remittance_share = 0.5 }\n\
         [[hosts]]\nid = \"H2\"\ntrend_growth_pct = 3.0\nties.P2 = { fdi_stock_usd_bn = 1.0, debt_share = 0.3 }\n",
    );
    let start = Simulation::new(&s);
    let sim = simulate(&s, 60);
    let trade_to_gdp = |sim: &Simulation<'_>, h: usize| sim.total_trade(h) / sim.gdp_usd_bn[h];
    for h in 0..2 {
        let close = |a: f64, b: f64, what: &str| {
            // Relative to the value, with an absolute floor for stocks that start at zero
            // (the patrons' projects add a little, rounding takes none away).
            assert!((a - b).abs() <= 5e-3 * b.abs() + 1e-3, "host {h} {what}: {b} -> {a}");
        };
        close(trade_to_gdp(&sim, h), trade_to_gdp(&start, h), "trade/GDP");
        close(sim.debt_pct_gdp(h), start.debt_pct_gdp(h), "debt/GDP");
        close(
            sim.remittances_usd_bn[h] / sim.gdp_usd_bn[h],
            start.remittances_usd_bn[h] / start.gdp_usd_bn[h],
            "remittances/GDP",
        );
        for p in 0..2 {
            let i = h * 2 + p;
            close(sim.alignment[i], start.alignment[i], "alignment");
            close(
                sim.security_stock[i] / sim.total_security(h),
                start.security_stock[i] / start.total_security(h),
                "security share",
            );
            close(
                sim.fdi_stock_usd_bn[i] / sim.gdp_usd_bn[h],
                start.fdi_stock_usd_bn[i] / start.gdp_usd_bn[h],
                "FDI/GDP",
            );
        }
    }
    for p in 0..2 {
        let (before, after) = (start.credibility[p], sim.credibility[p]);
        assert!(
            (after - before).abs() < 5e-3,
            "patron {p} credibility {before} -> {after}"
        );
    }
}

#[test]
fn a_fall_in_remittances_lowers_gdp() {
    let s = scenario("[[hosts]]\nid = \"H1\"\nremittances_pct_gdp = 20.0\nties.P1 = { remittance_share = 0.8 }\n");
    let cut = scenario(
        "[[hosts]]\nid = \"H1\"\nremittances_pct_gdp = 20.0\nties.P1 = { remittance_share = 0.8 }\n\
         [[events]]\nname = \"crackdown\"\nat = \"2024Q3\"\neffects = [{ actor = \"H1\", quantity = \"remittances_pct_gdp\", op = \"multiply\", value = 0.5 }]\n",
    );
    let (a, b) = (simulate(&s, 4), simulate(&cut, 4));
    let lost = a.remittances_usd_bn[0] - b.remittances_usd_bn[0];
    assert!(lost > 1.0, "remittances fall by {lost}");
    // GDP falls by the multiplier times the lost income (the underlying economy is the same).
    let fall = a.gdp_usd_bn[0] - b.gdp_usd_bn[0];
    let multiplier = s.params.external_income_multiplier;
    assert!(
        (fall - multiplier * lost).abs() < 0.02 * fall,
        "GDP falls by {fall}, remittances by {lost}"
    );
}

#[test]
fn sanctions_cut_trade_with_the_sanctioned_patron() {
    let s = scenario(
        "[[events]]\nname = \"sanctions\"\nat = \"2024Q3\"\neffects = [{ actor = \"P2\", quantity = \"sanctions\", op = \"set\", value = 1.0 }]\n",
    );
    let mut sim = Simulation::new(&s);
    run(&mut sim, 2);
    let before = sim.trade_usd_bn[1] / sim.trade_usd_bn[0];
    run(&mut sim, 1);
    let after = sim.trade_usd_bn[1] / sim.trade_usd_bn[0];
    // exp(-0.1 x 1): the default elasticity of trade to sanctions.
    assert!(
        after < before * 0.93,
        "P2's trade relative to P1's fell from {before} to {after}"
    );
}

#[test]
fn best_response_moves_allocation_toward_rewarding_hosts_and_fixed_does_not() {
    let s = scenario("[[patrons]]\nid = \"P1\"\nstrategy = { rule = \"best_response\", adaptation_rate = 0.5, objectives = { influence = 0.0, security = 1.0 } }\n");
    assert_eq!(s.patrons[0].strategy.rule, StrategyRule::BestResponse);
    let mut sim = Simulation::new(&s);
    run(&mut sim, 20);
    // H2 is neutral and takes no security aid, so a security-minded patron shifts to H1.
    assert!(sim.allocation[0] > 0.6, "P1 allocation to H1 {}", sim.allocation[0]);
    assert_eq!(&sim.allocation[2..4], &[0.5, 0.5], "P2 keeps its fixed allocation");
    assert!((sim.allocation[0] + sim.allocation[1] - 1.0).abs() < 1e-12);
}

#[test]
fn a_non_finite_state_is_reported_with_step_actor_and_quantity() {
    let s = scenario("");
    let mut sim = Simulation::new(&s);
    sim.underlying_gdp_usd_bn[1] = f64::NAN;
    let mut rng = replicate_rng(1, 0);
    let error = sim.step(&mut rng).expect_err("NaN GDP must be caught");
    assert_eq!(error.step, 1);
    assert_eq!(error.actor, "H2");
    assert_eq!(error.quantity, "gdp_usd_bn");
    assert_eq!(error.quarter.to_string(), "2024Q1");
}

/// The start's security stocks move continuously with each supplier's own arms share and
/// aid: a supplier whose aid renews more than its share of the stock holds what its aid
/// renews, and its share, however small, does not rescale the other suppliers' stocks.
/// (Before, one aided supplier's tiny share multiplied the whole host's stock.)
#[test]
fn a_small_arms_share_does_not_rescale_the_other_suppliers_stocks() {
    // P1 gives no aid; P2's aid to H1 renews far more than a small share of its stock.
    let start = |share: f64, defence: f64| {
        let s = scenario(&format!(
            "[[patrons]]\nid = \"P1\"\nsecurity_budget_usd_bn = 0.0\n\
             [[hosts]]\nid = \"H1\"\ndefence_budget_usd_bn = {defence}\n\
             ties.P2 = {{ trade_usd_bn = 2.0, arms_share = {share} }}\n"
        ));
        let sim = Simulation::new(&s);
        (
            sim.security_stock[0],
            sim.security_stock[1],
            sim.other_security_stock[0],
        )
    };
    let (p1, p2, _) = start(0.0, 0.5);
    assert!(
        p2 > 0.0,
        "P2's aid sustains a stock even where the data gives it no share"
    );
    assert!(
        (p1 - 0.3 * 2.0 * 0.5).abs() < 1e-12,
        "P1 holds its share of two years' budget"
    );
    for share in [1e-9, 1e-6, 0.01] {
        let (q1, q2, _) = start(share, 0.5);
        assert_eq!(q1, p1, "P2's share {share} rescaled P1's stock");
        assert!(
            (q2 - p2).abs() <= 1e-9 * p2,
            "P2's stock jumps at share {share}: {p2} -> {q2}"
        );
    }
    // The defence budget sets the stocks the data's shares describe.
    let (d1, d2, other) = start(1e-6, 1.0);
    assert!((d1 - 2.0 * p1).abs() < 1e-12);
    assert!((other - start(1e-6, 0.5).2 * 2.0).abs() < 1e-12);
    assert!(
        d2 < 1.5 * p2,
        "P2's aid-sustained stock doubled with the budget: {p2} -> {d2}"
    );
}
