//! One replicate's state and its quarterly step.
//!
//! The step runs in a fixed order (docs/MODEL.md §3): events, offers and host decisions,
//! pledges and disbursement, minerals, economy (stocks and the underlying economy),
//! trade, routes, remittances, GDP, leverage, alignment, patron adaptation. Every
//! decision is computed from the state at the start of the quarter and applied
//! afterwards, so the order of hosts and patrons in the file never changes the result.
//!
//! The start is a steady state (`start.rs`): every stock begins where its flows keep it
//! on the economies' common growth path, so nothing drifts without a cause.
//!
//! Each stage lives in a file of its own, as `impl Simulation` blocks over this state:
//! `decide.rs` (offers, host decisions), `pledges.rs` (delivery, credibility, absorptive
//! capacity), `economy.rs` (growth, stocks, remittances, GDP), `trade.rs` (flows,
//! re-exports, secondary-sanction risk), `influence.rs` (ties, leverage, alignment) and
//! `patrons.rs` (how patrons adapt their allocation).

mod decide;
mod economy;
mod influence;
mod patrons;
mod pledges;
mod start;
mod trade;

use std::collections::VecDeque;

use rand::Rng;

use super::events::{EventClock, Levers};
use super::minerals::{MineralsInputs, MineralsState};
use super::routes::{RouteLevers, RoutesState};
use super::{HostLevers, PatronLevers, Scenario};
use crate::time::Quarter;

/// The contribution of each term to a host's value of one patron's offer.
///
/// Every term is money-equivalent value in percent of the host's quarterly GDP (so the
/// terms of small and large offers are comparable); `utility` is their sum.
/// `acceptance` is the share of the offer the host takes: the logistic of the value per
/// USD offered (docs/MODEL.md §7.2).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DecisionTerms {
    pub economic: f64,
    pub security: f64,
    /// Minus the multi-vector (concentration) cost: positive when the offer diversifies.
    pub concentration: f64,
    /// Minus the sovereignty cost of conditions and debt.
    pub sovereignty: f64,
    /// Minus the expected displeasure of the other patrons.
    pub displeasure: f64,
    pub goodwill: f64,
    pub noise: f64,
    pub utility: f64,
    pub acceptance: f64,
}

impl DecisionTerms {
    pub const NAMES: [&'static str; 9] = [
        "economic",
        "security",
        "concentration",
        "sovereignty",
        "displeasure",
        "goodwill",
        "noise",
        "utility",
        "acceptance",
    ];

    pub fn values(&self) -> [f64; 9] {
        [
            self.economic,
            self.security,
            self.concentration,
            self.sovereignty,
            self.displeasure,
            self.goodwill,
            self.noise,
            self.utility,
            self.acceptance,
        ]
    }
}

/// A pledge waiting to be disbursed.
#[derive(Debug, Clone, Copy)]
struct Pledge {
    host: usize,
    due_step: u32,
    amount_usd_bn: f64,
}

/// A patron's record of delivery: exponentially weighted sums of what came due and what
/// was delivered (USD bn a quarter), whose ratio is its credibility.
#[derive(Debug, Clone, Copy, Default)]
struct DeliveryRecord {
    due: f64,
    delivered: f64,
}

/// A quantity that became NaN or infinite: the engine stops rather than write it out.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("non-finite value at step {step} ({quarter}): {actor} {quantity} = {value}")]
pub struct NonFinite {
    pub step: u32,
    pub quarter: Quarter,
    pub actor: String,
    pub quantity: &'static str,
    pub value: f64,
}

/// What one step produced beyond the state.
#[derive(Debug, Clone)]
pub struct StepReport {
    pub step: u32,
    pub quarter: Quarter,
}

/// The full state of one replicate. Per host-and-patron arrays are row-major by host:
/// element `h * n_patrons + p`. Money is in USD bn: flows "a year" are annual rates,
/// flows "a quarter" what happened in the quarter.
#[derive(Debug, Clone)]
pub struct Simulation<'s> {
    pub(crate) scenario: &'s Scenario,
    /// Steps completed; the next step simulates `start + step`.
    pub(crate) step: u32,
    pub(crate) clock: EventClock,
    /// The scenario's patron levers with the defaults the start derives filled in; each
    /// quarter's levers start from these before events apply.
    base_patron_levers: Vec<PatronLevers>,
    pub(crate) host_levers: Vec<HostLevers>,
    pub(crate) patron_levers: Vec<PatronLevers>,
    pub(crate) route_levers: Vec<RouteLevers>,
    pub(crate) minerals: MineralsState,
    pub(crate) routes: RoutesState,

    // Hosts
    /// GDP, USD bn a year: the underlying economy plus the effect of external income.
    pub(crate) gdp_usd_bn: Vec<f64>,
    /// The underlying economy: trend (or path) growth and the growth effect of projects.
    pub(crate) underlying_gdp_usd_bn: Vec<f64>,
    /// External income (remittances and exports) per USD of GDP at the start.
    initial_external_income_ratio: Vec<f64>,
    /// Projects delivered in a quarter per USD of the previous quarter's underlying GDP,
    /// expected at the start: the trend already holds their growth effect.
    initial_delivery_ratio: Vec<f64>,
    /// Trade with partners that are not patrons: its gravity base at the start (without
    /// re-exports), the growth of that base since, and this quarter's trade (after route
    /// costs, without the re-export and new-mine legs).
    initial_other_trade_base_usd_bn: Vec<f64>,
    other_gravity: Vec<f64>,
    pub(crate) other_trade_usd_bn: Vec<f64>,
    /// Trade with non-patron partners including the re-export and new-mine legs.
    pub(crate) other_trade_with_flows_usd_bn: Vec<f64>,
    /// Exports to non-patron partners (with the new-mine exports to the world market).
    pub(crate) other_exports_usd_bn: Vec<f64>,
    pub(crate) other_security_stock: Vec<f64>,
    /// The host's own arms purchases from other suppliers, USD bn a quarter at the start.
    other_procurement: Vec<f64>,
    pub(crate) other_debt_usd_bn: Vec<f64>,
    pub(crate) remittances_usd_bn: Vec<f64>,
    /// Delivery experience (docs/MODEL.md §7.3) and its value at the start.
    experience: Vec<f64>,
    initial_experience: Vec<f64>,
    /// Absorptive capacity in force this quarter (the lever, moved by experience).
    pub(crate) absorptive_capacity: Vec<f64>,

    // Host x patron
    pub(crate) alignment: Vec<f64>,
    pub(crate) previous_alignment: Vec<f64>,
    initial_alignment: Vec<f64>,
    /// Gravity base of trade at the start (the data without re-exports), and its growth
    /// since: both economies, relative to the world's.
    initial_trade_base_usd_bn: Vec<f64>,
    gravity: Vec<f64>,
    /// The relationship factor of trade at the start (`trade.rs`).
    initial_trade_factor: Vec<f64>,
    pub(crate) trade_usd_bn: Vec<f64>,
    /// Exports to the patron (the rest of `trade_usd_bn` is imports).
    pub(crate) exports_usd_bn: Vec<f64>,
    pub(crate) trade_access: Vec<f64>,
    pub(crate) fdi_stock_usd_bn: Vec<f64>,
    /// FDI inflows this quarter (projects, mining and, once the economy grows, other
    /// investors), USD bn a quarter; they join the stock in `grow_economy`.
    pub(crate) fdi_inflow_usd_bn: Vec<f64>,
    pub(crate) security_stock: Vec<f64>,
    /// The host's own arms purchases from the patron, USD bn a quarter at the start.
    procurement: Vec<f64>,
    /// Security aid the host took this quarter.
    aid_taken_usd_bn: Vec<f64>,
    pub(crate) debt_to_patron_usd_bn: Vec<f64>,
    /// Investment and lending from outside the patrons' budgets that keeps the start's
    /// stocks on their growth path, USD bn a quarter at the start (docs/MODEL.md §5).
    background_fdi_usd_bn: Vec<f64>,
    background_lending_usd_bn: Vec<f64>,
    pub(crate) remittances_from_usd_bn: Vec<f64>,
    pub(crate) leverage: Vec<f64>,
    pub(crate) decisions: Vec<DecisionTerms>,
    pub(crate) pledged_usd_bn: Vec<f64>,
    pub(crate) disbursed_usd_bn: Vec<f64>,
    pub(crate) pledged_cumulative_usd_bn: Vec<f64>,
    pub(crate) disbursed_cumulative_usd_bn: Vec<f64>,
    /// Pledges that have come due since the start (disbursed or not).
    pub(crate) pledged_due_cumulative_usd_bn: Vec<f64>,
    pub(crate) reexport_usd_bn: Vec<f64>,
    /// Host x enforcing patron.
    pub(crate) sanction_risk: Vec<f64>,
    pub(crate) mining_investment_cumulative_usd_bn: Vec<f64>,
    /// Moving average of the value of the offers the host accepted, USD bn a quarter.
    accepted_value_usd_bn: Vec<f64>,
    acceptance: Vec<f64>,

    // Patrons
    /// Size of each patron's economy relative to the start; budgets grow with it.
    pub(crate) patron_economy: Vec<f64>,
    /// This quarter's growth of each patron's economy (a buffer reused every step).
    patron_growth: Vec<f64>,
    /// The world economy relative to the start.
    world_economy: f64,
    pub(crate) credibility: Vec<f64>,
    delivery_record: Vec<DeliveryRecord>,
    /// Patron x host, row-major by patron: share of the patron's budgets offered to the host.
    pub(crate) allocation: Vec<f64>,
    propensity: Vec<f64>,
    pipelines: Vec<VecDeque<Pledge>>,
}

impl<'s> Simulation<'s> {
    pub fn scenario(&self) -> &Scenario {
        self.scenario
    }

    /// Steps completed so far.
    pub fn steps_done(&self) -> u32 {
        self.step
    }

    /// The decisions of the last step, row-major by host.
    pub fn decisions(&self) -> &[DecisionTerms] {
        &self.decisions
    }

    /// Simulates one quarter.
    pub fn step<R: Rng>(&mut self, rng: &mut R) -> Result<StepReport, NonFinite> {
        let scenario = self.scenario;
        let quarter = scenario.start.plus(i64::from(self.step));
        self.step += 1;

        self.clock.advance(&scenario.events, quarter, rng);
        for (levers, host) in self.host_levers.iter_mut().zip(&scenario.hosts) {
            *levers = host.levers;
        }
        self.patron_levers.clone_from(&self.base_patron_levers);
        for (levers, route) in self.route_levers.iter_mut().zip(&scenario.routes) {
            *levers = route.levers;
        }
        self.clock.apply(
            &scenario.events,
            &mut Levers {
                hosts: &mut self.host_levers,
                patrons: &mut self.patron_levers,
                routes: &mut self.route_levers,
            },
        );
        self.update_absorptive_capacity();

        self.decide(rng);
        self.disburse(rng);
        self.develop_minerals(rng);
        self.grow_economy(quarter);
        self.update_trade();
        self.update_routes();
        self.update_remittances();
        self.update_gdp();
        self.update_leverage();
        self.update_alignment();
        self.adapt_patrons();
        self.check_finite(quarter)?;
        Ok(StepReport {
            step: self.step,
            quarter,
        })
    }

    /// A patron's budget lever in USD bn a year of today: the scenario states budgets in
    /// USD of the start, and they grow with the patron's economy.
    fn budget(&self, p: usize, lever: f64) -> f64 {
        lever * self.patron_economy[p]
    }

    /// Deposits and firms: mapping, investment, development, production.
    fn develop_minerals<R: Rng>(&mut self, rng: &mut R) {
        let scenario = self.scenario;
        if self.minerals.n_deposits() == 0 {
            return;
        }
        let np = scenario.n_patrons();
        let scaled = |f: fn(&PatronLevers) -> f64| -> Vec<f64> {
            (0..np).map(|p| self.budget(p, f(&self.patron_levers[p]))).collect()
        };
        let minerals_budget = scaled(|l| l.minerals_budget_usd_bn);
        let mapping_budget = scaled(|l| l.mapping_budget_usd_bn);
        let processing = scaled(|l| l.processing_investment_usd_bn);
        let mobilisation: Vec<f64> = self.patron_levers.iter().map(|l| l.private_mobilisation).collect();
        let sanctions: Vec<f64> = self.patron_levers.iter().map(|l| l.sanctions).collect();
        let threat: Vec<f64> = self.host_levers.iter().map(|l| l.threat_level).collect();
        let inputs = MineralsInputs {
            n_patrons: np,
            minerals_budget_usd_bn: &minerals_budget,
            mapping_budget_usd_bn: &mapping_budget,
            private_mobilisation: &mobilisation,
            processing_investment_usd_bn: &processing,
            sanctions: &sanctions,
            allocation: &self.allocation,
            alignment: &self.alignment,
            acceptance: &self.acceptance,
            threat_level: &threat,
        };
        self.minerals
            .step(&scenario.minerals, &scenario.commodities, &inputs, rng);
        for (i, spent) in self.minerals.mining_investment_usd_bn.iter().enumerate() {
            self.fdi_inflow_usd_bn[i] += spent;
            self.mining_investment_cumulative_usd_bn[i] += spent;
        }
    }

    /// Freight chooses among the routes; the hosts' trade travels on them too.
    fn update_routes(&mut self) {
        let scenario = self.scenario;
        let sanctions: Vec<f64> = self.patron_levers.iter().map(|l| l.sanctions).collect();
        let demand = self.freight_demand();
        self.routes.step(
            &scenario.routes,
            &self.route_levers,
            &scenario.freight,
            &sanctions,
            &demand,
        );
    }

    /// The hosts' own freight per market (Mt a year): their trade with non-patron partners
    /// for the Other market, their trade with each patron for that patron's market.
    fn freight_demand(&self) -> Vec<f64> {
        let scenario = self.scenario;
        let np = scenario.n_patrons();
        let per_usd = scenario.freight.host_freight_mt_per_usd_bn;
        let mut demand = vec![0.0; 1 + np];
        demand[0] = per_usd * self.other_trade_with_flows_usd_bn.iter().sum::<f64>();
        for (p, slot) in demand.iter_mut().skip(1).enumerate() {
            *slot = per_usd
                * (0..scenario.n_hosts())
                    .map(|h| self.trade_usd_bn[h * np + p])
                    .sum::<f64>();
        }
        demand
    }

    pub(crate) fn total_trade(&self, h: usize) -> f64 {
        let np = self.scenario.n_patrons();
        self.trade_usd_bn[h * np..(h + 1) * np].iter().sum::<f64>() + self.other_trade_with_flows_usd_bn[h]
    }

    pub(crate) fn total_exports(&self, h: usize) -> f64 {
        let np = self.scenario.n_patrons();
        self.exports_usd_bn[h * np..(h + 1) * np].iter().sum::<f64>() + self.other_exports_usd_bn[h]
    }

    /// Direct investment from investors outside the patrons this quarter: the start's,
    /// growing like trade with the other partners.
    pub(crate) fn other_fdi_inflow_usd_bn(&self, h: usize) -> f64 {
        self.scenario.hosts[h].other_fdi_inflow_usd_bn / 4.0 * self.other_gravity[h]
    }

    pub(crate) fn total_security(&self, h: usize) -> f64 {
        let np = self.scenario.n_patrons();
        self.security_stock[h * np..(h + 1) * np].iter().sum::<f64>() + self.other_security_stock[h]
    }

    pub(crate) fn total_debt(&self, h: usize) -> f64 {
        let np = self.scenario.n_patrons();
        self.debt_to_patron_usd_bn[h * np..(h + 1) * np].iter().sum::<f64>() + self.other_debt_usd_bn[h]
    }

    pub(crate) fn debt_pct_gdp(&self, h: usize) -> f64 {
        100.0 * self.total_debt(h) / self.gdp_usd_bn[h]
    }

    fn check_finite(&self, quarter: Quarter) -> Result<(), NonFinite> {
        let scenario = self.scenario;
        let np = scenario.n_patrons();
        let fail = |actor: String, quantity: &'static str, value: f64| NonFinite {
            step: self.step,
            quarter,
            actor,
            quantity,
            value,
        };
        if let Some((name, value)) = self.minerals.first_non_finite() {
            return Err(fail("minerals".to_string(), name, value));
        }
        for (r, route) in scenario.routes.iter().enumerate() {
            for (name, value) in [
                ("capacity_mt", self.routes.capacity_mt[r]),
                ("flow_mt", self.routes.flow_mt[r]),
                ("generalised_cost", self.routes.generalised_cost[r]),
            ] {
                if !value.is_finite() {
                    return Err(fail(route.id.clone(), name, value));
                }
            }
        }
        for (p, patron) in scenario.patrons.iter().enumerate() {
            for (name, value) in [
                ("economy", self.patron_economy[p]),
                ("credibility", self.credibility[p]),
            ] {
                if !value.is_finite() {
                    return Err(fail(patron.id.clone(), name, value));
                }
            }
        }
        for (h, host) in scenario.hosts.iter().enumerate() {
            for (name, value) in [
                ("gdp_usd_bn", self.gdp_usd_bn[h]),
                ("underlying_gdp_usd_bn", self.underlying_gdp_usd_bn[h]),
                ("remittances_usd_bn", self.remittances_usd_bn[h]),
                ("other_trade_usd_bn", self.other_trade_usd_bn[h]),
                ("other_debt_usd_bn", self.other_debt_usd_bn[h]),
                ("other_security_stock", self.other_security_stock[h]),
                ("absorptive_capacity", self.absorptive_capacity[h]),
            ] {
                if !value.is_finite() {
                    return Err(fail(host.id.clone(), name, value));
                }
            }
            for (p, patron) in scenario.patrons.iter().enumerate() {
                let i = h * np + p;
                for (name, value) in [
                    ("alignment", self.alignment[i]),
                    ("trade_usd_bn", self.trade_usd_bn[i]),
                    ("fdi_stock_usd_bn", self.fdi_stock_usd_bn[i]),
                    ("security_stock", self.security_stock[i]),
                    ("debt_to_patron_usd_bn", self.debt_to_patron_usd_bn[i]),
                    ("utility", self.decisions[i].utility),
                ] {
                    if !value.is_finite() {
                        return Err(fail(format!("{}/{}", host.id, patron.id), name, value));
                    }
                }
            }
        }
        Ok(())
    }
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// `a / b`, or 0 when `b` is 0.
pub(crate) fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests;
