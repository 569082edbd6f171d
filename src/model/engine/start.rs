//! The state at the start: the scenario's data, set on a steady state (docs/MODEL.md §5).
//!
//! A run should move only when something moves it. So every stock starts where its
//! flows hold it on the economies' growth path: market access where the expected
//! acceptance of trade offers keeps it; security stocks where the host's arms purchases
//! and the aid it is expected to take keep each supplier's share; FDI and patron debt
//! where projects and a background flow from investors outside the patrons' budgets
//! renew them; delivery experience where the expected projects keep it; the pledge
//! pipelines full of the pledges of the quarters before the start. Expected acceptance,
//! leverage and alignment depend on one another, so they are found together by
//! iterating to a fixed point. Everything here is deterministic.

use std::collections::VecDeque;

use super::pledges::experience_gain;
use super::{DecisionTerms, DeliveryRecord, Pledge, Simulation};
use crate::model::events::EventClock;
use crate::model::minerals::MineralsState;
use crate::model::routes::RoutesState;
use crate::model::Scenario;

/// Rounds of the fixed point between acceptance, stocks, leverage and alignment; it
/// converges in far fewer (the tolerance below).
const MAX_ROUNDS: usize = 200;
const TOLERANCE: f64 = 1e-12;

impl<'s> Simulation<'s> {
    /// The state at the start of the scenario, before any quarter is simulated.
    pub fn new(scenario: &'s Scenario) -> Simulation<'s> {
        let nh = scenario.n_hosts();
        let np = scenario.n_patrons();
        let hp = nh * np;
        let mut sim = Simulation {
            scenario,
            step: 0,
            clock: EventClock::new(scenario.events.len()),
            base_patron_levers: scenario.patrons.iter().map(|p| p.levers).collect(),
            host_levers: scenario.hosts.iter().map(|h| h.levers).collect(),
            patron_levers: scenario.patrons.iter().map(|p| p.levers).collect(),
            route_levers: scenario.routes.iter().map(|r| r.levers).collect(),
            minerals: MineralsState::new(
                &scenario.minerals,
                &scenario.commodities,
                nh,
                &scenario.patrons.iter().map(|p| p.firms).collect::<Vec<_>>(),
                &scenario
                    .patrons
                    .iter()
                    .map(|p| p.processing_t.clone())
                    .collect::<Vec<_>>(),
                &scenario
                    .patrons
                    .iter()
                    .map(|p| p.processing_t.iter().map(|t| *t > 0.0).collect())
                    .collect::<Vec<Vec<bool>>>(),
            ),
            routes: RoutesState::new(&[], &scenario.freight, &vec![0.0; np], &[]),
            gdp_usd_bn: scenario.hosts.iter().map(|h| h.gdp_usd_bn).collect(),
            underlying_gdp_usd_bn: scenario.hosts.iter().map(|h| h.gdp_usd_bn).collect(),
            initial_external_income_ratio: vec![0.0; nh],
            initial_delivery_ratio: vec![0.0; nh],
            initial_other_trade_base_usd_bn: scenario.hosts.iter().map(|h| h.other_trade_usd_bn).collect(),
            other_gravity: vec![1.0; nh],
            other_trade_usd_bn: scenario.hosts.iter().map(|h| h.other_trade_usd_bn).collect(),
            other_trade_with_flows_usd_bn: scenario.hosts.iter().map(|h| h.other_trade_usd_bn).collect(),
            other_exports_usd_bn: vec![0.0; nh],
            other_security_stock: vec![0.0; nh],
            other_procurement: vec![0.0; nh],
            other_debt_usd_bn: vec![0.0; nh],
            remittances_usd_bn: vec![0.0; nh],
            experience: vec![0.0; nh],
            initial_experience: vec![0.0; nh],
            absorptive_capacity: scenario.hosts.iter().map(|h| h.levers.absorptive_capacity).collect(),
            alignment: vec![1.0 / np.max(1) as f64; hp],
            previous_alignment: vec![0.0; hp],
            initial_alignment: vec![0.0; hp],
            initial_trade_base_usd_bn: vec![0.0; hp],
            gravity: vec![1.0; hp],
            initial_trade_factor: vec![0.0; hp],
            trade_usd_bn: vec![0.0; hp],
            exports_usd_bn: vec![0.0; hp],
            trade_access: vec![0.0; hp],
            fdi_stock_usd_bn: vec![0.0; hp],
            fdi_inflow_usd_bn: vec![0.0; hp],
            security_stock: vec![0.0; hp],
            procurement: vec![0.0; hp],
            aid_taken_usd_bn: vec![0.0; hp],
            debt_to_patron_usd_bn: vec![0.0; hp],
            background_fdi_usd_bn: vec![0.0; hp],
            background_lending_usd_bn: vec![0.0; hp],
            remittances_from_usd_bn: vec![0.0; hp],
            leverage: vec![0.0; hp],
            decisions: vec![DecisionTerms::default(); hp],
            pledged_usd_bn: vec![0.0; hp],
            disbursed_usd_bn: vec![0.0; hp],
            pledged_cumulative_usd_bn: vec![0.0; hp],
            disbursed_cumulative_usd_bn: vec![0.0; hp],
            pledged_due_cumulative_usd_bn: vec![0.0; hp],
            reexport_usd_bn: vec![0.0; hp],
            sanction_risk: vec![0.0; hp],
            mining_investment_cumulative_usd_bn: vec![0.0; hp],
            accepted_value_usd_bn: vec![0.0; hp],
            acceptance: vec![0.5; hp],
            patron_economy: vec![1.0; np],
            patron_growth: vec![0.0; np],
            world_economy: 1.0,
            credibility: scenario.patrons.iter().map(|p| p.credibility).collect(),
            delivery_record: vec![DeliveryRecord::default(); np],
            allocation: scenario
                .patrons
                .iter()
                .flat_map(|p| p.allocation.iter().copied())
                .collect(),
            propensity: scenario
                .patrons
                .iter()
                .flat_map(|p| p.allocation.iter().copied())
                .collect(),
            pipelines: vec![VecDeque::new(); np],
        };
        sim.set_data();
        sim.settle();
        sim.set_flows();
        sim
    }

    /// The scenario's data: GDP, trade, FDI, debt, remittances, and trade before the
    /// re-exports that the sanctions in force at the start already put into it.
    fn set_data(&mut self) {
        let scenario = self.scenario;
        let np = scenario.n_patrons();
        for (h, host) in scenario.hosts.iter().enumerate() {
            let debt_usd_bn = host.govt_debt_pct_gdp / 100.0 * host.gdp_usd_bn;
            let patron_debt_share: f64 = host.ties.iter().map(|t| t.debt_share).sum();
            self.other_debt_usd_bn[h] = (1.0 - patron_debt_share).max(0.0) * debt_usd_bn;
            for (p, tie) in host.ties.iter().enumerate() {
                let i = h * np + p;
                self.trade_usd_bn[i] = tie.trade_usd_bn;
                self.fdi_stock_usd_bn[i] = tie.fdi_stock_usd_bn;
                self.debt_to_patron_usd_bn[i] = tie.debt_share * debt_usd_bn;
            }
        }
        self.update_remittances();
        // The data's trade already holds the re-exports of the start's sanctions: the
        // gravity base is what is left. Re-exports are shared by the base trade, so the
        // split is found by a few rounds of substitution.
        let data: Vec<f64> = self.trade_usd_bn.clone();
        for _ in 0..50 {
            self.update_reexports();
            for (i, total) in data.iter().enumerate() {
                self.trade_usd_bn[i] = (total - self.reexport_usd_bn[i]).max(0.0);
            }
        }
        self.initial_trade_base_usd_bn.clone_from(&self.trade_usd_bn);
        for h in 0..scenario.n_hosts() {
            let reexports_in: f64 = self.reexport_usd_bn[h * np..(h + 1) * np].iter().sum();
            let other = scenario.hosts[h].other_trade_usd_bn;
            self.initial_other_trade_base_usd_bn[h] = (other - reexports_in).max(0.0);
        }
        let demand = self.freight_demand();
        let sanctions: Vec<f64> = self.patron_levers.iter().map(|l| l.sanctions).collect();
        self.routes = RoutesState::new(&scenario.routes, &scenario.freight, &sanctions, &demand);
    }

    /// Finds the fixed point of expected acceptance, market access, security stocks,
    /// leverage and (unless the file gives it) alignment.
    fn settle(&mut self) {
        let scenario = self.scenario;
        let params = &scenario.params;
        let np = scenario.n_patrons();
        let nh = scenario.n_hosts();
        let given: Vec<Option<&Vec<f64>>> = scenario.hosts.iter().map(|h| h.initial_alignment.as_ref()).collect();
        for (h, alignment) in given.iter().enumerate() {
            if let Some(values) = alignment {
                self.alignment[h * np..(h + 1) * np].copy_from_slice(values);
            }
        }
        for _ in 0..MAX_ROUNDS {
            self.set_implementation_capacity();
            for i in 0..nh * np {
                let (h, p) = (i / np, i % np);
                let offer = self.value_offer(h, p);
                let accepted = self.acceptance[i];
                self.accepted_value_usd_bn[i] = accepted * offer.size();
                self.aid_taken_usd_bn[i] = accepted * offer.security_aid;
                self.trade_access[i] = if params.trade_access_decay > 0.0 {
                    accepted * self.patron_levers[p].trade_offer / params.trade_access_decay
                } else {
                    0.0
                };
            }
            self.set_security_stocks();
            self.update_trade_at_start();
            self.update_leverage();
            for (h, alignment) in given.iter().enumerate() {
                if alignment.is_none() {
                    let target = self.alignment_target(h);
                    self.alignment[h * np..(h + 1) * np].copy_from_slice(&target);
                }
            }
            // Damped, so that a host whose acceptance and ties push each other back and
            // forth settles rather than oscillates.
            let mut change: f64 = 0.0;
            for i in 0..nh * np {
                let expected = self.expected_acceptance(self.value_offer(i / np, i % np).value_per_usd);
                change = change.max((expected - self.acceptance[i]).abs());
                self.acceptance[i] = 0.5 * (self.acceptance[i] + expected);
            }
            if change < TOLERANCE {
                break;
            }
        }
        self.update_trade_at_start();
        self.previous_alignment.clone_from(&self.alignment);
    }

    /// Trade at the start is the data: the relationship factor of each pair is stored so
    /// that later changes move trade from there. Secondary-sanction risk and the export
    /// legs follow.
    fn update_trade_at_start(&mut self) {
        self.initial_alignment.clone_from(&self.alignment);
        for i in 0..self.trade_usd_bn.len() {
            self.initial_trade_factor[i] = self.trade_factor(i);
        }
        self.update_trade();
    }

    /// Security stocks on their steady state. The arms shares in the data are each
    /// supplier's share of what renews two years of the defence budget: the host's own
    /// purchases plus the aid it is expected to take. Where a patron's expected aid alone
    /// renews more than its share of that, the patron's stock is the one its aid renews,
    /// and its purchases are nil; the other suppliers' stocks stay as the data gives them.
    /// So each supplier's stock moves continuously with its own share and aid, and a small
    /// supplier's aid cannot rescale everyone else's stock.
    fn set_security_stocks(&mut self) {
        let scenario = self.scenario;
        let np = scenario.n_patrons();
        let decay = scenario.params.security_decay;
        for (h, host) in scenario.hosts.iter().enumerate() {
            // The share of the stock renewed each quarter on a path growing at g: (δ + g) / (1 + g).
            let growth = self.start_growth(h);
            let renewal = (decay + growth) / (1.0 + growth);
            let stock = 2.0 * host.defence_budget_usd_bn;
            let inflow = renewal * stock;
            for (p, tie) in host.ties.iter().enumerate() {
                let i = h * np + p;
                // Aid is decided on the budget of the quarter before the economy grows.
                let aid = self.aid_taken_usd_bn[i] / (1.0 + self.patron_start_growth(p));
                let sustained_by_aid = if renewal > 0.0 { aid / renewal } else { 0.0 };
                self.security_stock[i] = (tie.arms_share * stock).max(sustained_by_aid);
                self.procurement[i] = (tie.arms_share * inflow - aid).max(0.0);
            }
            self.other_security_stock[h] = host.other_security_share * stock;
            self.other_procurement[h] = host.other_security_share * inflow;
        }
    }

    /// Each patron's implementation capacity: the file's, or by default the value that
    /// makes its starting credibility the share of its expected pledges it delivers.
    fn set_implementation_capacity(&mut self) {
        let scenario = self.scenario;
        let np = scenario.n_patrons();
        for (p, patron) in scenario.patrons.iter().enumerate() {
            let implementation = patron.implementation_capacity.unwrap_or_else(|| {
                let mut pledged = 0.0;
                let mut weighted = 0.0;
                for h in 0..scenario.n_hosts() {
                    let pledge = self.acceptance[h * np + p] * self.value_offer(h, p).investment;
                    pledged += pledge;
                    weighted += pledge * self.absorptive_capacity[h];
                }
                if weighted > 0.0 {
                    (patron.credibility * pledged / weighted).min(1.0)
                } else {
                    patron.credibility
                }
            });
            self.base_patron_levers[p].implementation_capacity = implementation;
            self.patron_levers[p].implementation_capacity = implementation;
        }
    }

    /// Quarterly growth of patron `p`'s economy (and budgets) at the start.
    fn patron_start_growth(&self, p: usize) -> f64 {
        let scenario = self.scenario;
        let patron = &scenario.patrons[p];
        patron
            .path_growth(scenario.start)
            .unwrap_or(patron.levers.economy_growth_pct / 400.0)
    }

    /// The pledge host `h` is expected to accept from patron `p` each quarter at the start.
    fn expected_pledge(&self, h: usize, p: usize) -> f64 {
        self.acceptance[h * self.scenario.n_patrons() + p] * self.value_offer(h, p).investment
    }

    /// Expected disbursement from patron `p` to host `h` in a quarter, relative to the
    /// size of the economy that quarter: a pledge is made from the budget of the quarter
    /// before it and disbursed `pledge_lag_quarters` later, so on a growth path what is
    /// disbursed is the start's pledge less that many quarters (and one) of budget growth.
    fn expected_delivery(&self, h: usize, p: usize) -> f64 {
        let lag = self.scenario.patrons[p].pledge_lag_quarters;
        let chance = (self.patron_levers[p].implementation_capacity * self.absorptive_capacity[h]).min(1.0);
        self.expected_pledge(h, p) * chance / (1.0 + self.patron_start_growth(p)).powi(lag as i32 + 1)
    }

    /// Quarterly growth of host `h`'s underlying economy at the start: its trend (or
    /// path). Projects add growth only beyond what the start delivers (`economy.rs`).
    fn start_growth(&self, h: usize) -> f64 {
        let scenario = self.scenario;
        let host = &scenario.hosts[h];
        host.path_growth(scenario.start)
            .unwrap_or(host.levers.trend_growth_pct / 400.0)
    }

    /// Quarterly growth of the gravity of trade between host `h` and patron `p` in the
    /// first quarter.
    fn start_pair_growth(&self, h: usize, p: usize) -> f64 {
        let scenario = self.scenario;
        let params = &scenario.params;
        let patron = &scenario.patrons[p];
        let patron_growth = patron
            .path_growth(scenario.start)
            .unwrap_or(patron.levers.economy_growth_pct / 400.0);
        (1.0 + self.start_growth(h)).powf(params.trade_gdp_elasticity) * (1.0 + patron_growth)
            / (1.0 + params.world_growth_per_quarter)
            - 1.0
    }

    /// The flows that keep the start steady: each patron's implementation capacity (by
    /// default what makes its credibility its delivery rate), the background FDI and
    /// lending, delivery experience, the pledges of the quarters before the start, and the
    /// ratio of external income to GDP.
    fn set_flows(&mut self) {
        let scenario = self.scenario;
        let params = &scenario.params;
        let np = scenario.n_patrons();
        let nh = scenario.n_hosts();
        for h in 0..nh {
            let host_growth = self.start_growth(h);
            let mut delivered_total = 0.0;
            for p in 0..np {
                let i = h * np + p;
                let levers = self.patron_levers[p];
                let delivered = self.expected_delivery(h, p);
                delivered_total += delivered;
                // Each stock keeps its ratio to the economy it grows with: the background
                // flow makes up what the expected projects do not renew (or, negative,
                // offsets what they renew beyond the data's stock).
                let growth = self.start_pair_growth(h, p);
                self.background_fdi_usd_bn[i] = (params.fdi_depreciation_per_quarter + growth) / (1.0 + growth)
                    * self.fdi_stock_usd_bn[i]
                    - (1.0 - levers.loan_share) * delivered;
                self.background_lending_usd_bn[i] = (params.debt_amortization_per_quarter + host_growth)
                    / (1.0 + host_growth)
                    * self.debt_to_patron_usd_bn[i]
                    - levers.loan_share * delivered;
                let pledge = self.expected_pledge(h, p);
                if pledge > 0.0 {
                    let lag = scenario.patrons[p].pledge_lag_quarters;
                    let budget_growth = 1.0 + self.patron_start_growth(p);
                    for due_step in 1..=lag {
                        // Made `lag` quarters before it is due, from that quarter's budget.
                        let age = lag + 1 - due_step;
                        self.pipelines[p].push_back(Pledge {
                            host: h,
                            due_step,
                            amount_usd_bn: pledge / budget_growth.powi(age as i32),
                        });
                    }
                }
            }
            // Projects are weighed against last quarter's GDP, one quarter of growth smaller.
            let delivered_per_gdp = delivered_total * (1.0 + host_growth) / self.underlying_gdp_usd_bn[h];
            self.initial_delivery_ratio[h] = delivered_per_gdp;
            if params.experience_decay > 0.0 {
                self.experience[h] = experience_gain(delivered_per_gdp, 1.0) / params.experience_decay;
            }
            let income = self.remittances_usd_bn[h] + self.total_exports(h);
            self.initial_external_income_ratio[h] = income / self.gdp_usd_bn[h];
        }
        self.initial_experience.clone_from(&self.experience);
        // The record of delivery holds what the start's pledges bring due, delivered at
        // the starting credibility.
        for (p, patron) in scenario.patrons.iter().enumerate() {
            let lag = patron.pledge_lag_quarters;
            let due: f64 = (0..nh).map(|h| self.expected_pledge(h, p)).sum::<f64>()
                / (1.0 + self.patron_start_growth(p)).powi(lag as i32 + 1);
            self.delivery_record[p] = DeliveryRecord {
                due,
                delivered: patron.credibility * due,
            };
        }
        // Pipelines must be in due order: pledges of one due step from every host, then the next.
        for pipeline in &mut self.pipelines {
            pipeline
                .make_contiguous()
                .sort_by_key(|pledge| (pledge.due_step, pledge.host));
        }
    }
}
