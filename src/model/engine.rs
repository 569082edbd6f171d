//! One replicate's state and its quarterly step.
//!
//! The step runs in a fixed order (docs/MODEL.md, "Process overview"): events, offers,
//! host decisions, pledges and disbursement, economy, trade, security, leverage,
//! alignment, patron adaptation. Every decision is computed from the state at the start
//! of the quarter and applied afterwards, so the order of hosts and patrons in the file
//! never changes the result.

use std::collections::VecDeque;

use rand::Rng;
use rand_distr::{Binomial, Distribution, Normal};

use super::events::{EventClock, Levers};
use super::minerals::{MineralsInputs, MineralsState};
use super::routes::{RouteLevers, RoutesState};
use super::{HostLevers, PatronLevers, Scenario, StrategyRule};
use crate::time::Quarter;

/// The contribution of each term to a host's utility for one patron's offer.
///
/// `utility` is the sum of the seven terms; `acceptance` is the logistic of
/// `utility - acceptance_threshold`, the share of the offer the host takes.
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

/// What one step produced beyond the state: flows of the quarter and the decisions.
#[derive(Debug, Clone)]
pub struct StepReport {
    pub step: u32,
    pub quarter: Quarter,
}

/// The full state of one replicate. Per host-and-patron arrays are row-major by host:
/// element `h * n_patrons + p`.
#[derive(Debug, Clone)]
pub struct Simulation<'s> {
    pub(crate) scenario: &'s Scenario,
    /// Steps completed; the next step simulates `start + step`.
    pub(crate) step: u32,
    pub(crate) clock: EventClock,
    pub(crate) host_levers: Vec<HostLevers>,
    pub(crate) patron_levers: Vec<PatronLevers>,
    pub(crate) route_levers: Vec<RouteLevers>,
    pub(crate) minerals: MineralsState,
    pub(crate) routes: RoutesState,

    // Hosts
    pub(crate) gdp_usd_bn: Vec<f64>,
    pub(crate) other_trade_usd_bn: Vec<f64>,
    pub(crate) other_security_stock: Vec<f64>,
    pub(crate) other_debt_usd_bn: Vec<f64>,
    pub(crate) remittances_usd_bn: Vec<f64>,
    /// Trade with non-patron partners including the re-export and new-mine legs.
    pub(crate) other_trade_with_flows_usd_bn: Vec<f64>,

    // Host x patron
    pub(crate) alignment: Vec<f64>,
    pub(crate) previous_alignment: Vec<f64>,
    initial_alignment: Vec<f64>,
    trade_base_usd_bn: Vec<f64>,
    initial_trade_factor: Vec<f64>,
    pub(crate) trade_usd_bn: Vec<f64>,
    pub(crate) trade_access: Vec<f64>,
    pub(crate) fdi_stock_usd_bn: Vec<f64>,
    pub(crate) security_stock: Vec<f64>,
    pub(crate) debt_to_patron_usd_bn: Vec<f64>,
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
    offered_value: Vec<f64>,
    acceptance: Vec<f64>,

    // Patrons
    /// Size of each patron's economy relative to the start.
    patron_economy: Vec<f64>,
    /// This quarter's growth of each patron's economy (a buffer reused every step).
    patron_growth: Vec<f64>,
    pub(crate) credibility: Vec<f64>,
    /// Patron x host, row-major by patron: share of the patron's budgets offered to the host.
    pub(crate) allocation: Vec<f64>,
    propensity: Vec<f64>,
    pipelines: Vec<VecDeque<Pledge>>,
}

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
            routes: RoutesState::new(&scenario.routes, &scenario.freight),
            gdp_usd_bn: scenario.hosts.iter().map(|h| h.gdp_usd_bn).collect(),
            other_trade_usd_bn: scenario.hosts.iter().map(|h| h.other_trade_usd_bn).collect(),
            other_trade_with_flows_usd_bn: scenario.hosts.iter().map(|h| h.other_trade_usd_bn).collect(),
            other_security_stock: vec![0.0; nh],
            other_debt_usd_bn: vec![0.0; nh],
            remittances_usd_bn: scenario
                .hosts
                .iter()
                .map(|h| h.levers.remittances_pct_gdp / 100.0 * h.gdp_usd_bn)
                .collect(),
            alignment: vec![0.0; hp],
            previous_alignment: vec![0.0; hp],
            initial_alignment: vec![0.0; hp],
            trade_base_usd_bn: vec![0.0; hp],
            initial_trade_factor: vec![1.0; hp],
            trade_usd_bn: vec![0.0; hp],
            trade_access: vec![0.0; hp],
            fdi_stock_usd_bn: vec![0.0; hp],
            security_stock: vec![0.0; hp],
            debt_to_patron_usd_bn: vec![0.0; hp],
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
            offered_value: vec![0.0; hp],
            acceptance: vec![0.0; hp],
            patron_economy: vec![1.0; np],
            patron_growth: vec![0.0; np],
            credibility: scenario.patrons.iter().map(|p| p.credibility).collect(),
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

        for (h, host) in scenario.hosts.iter().enumerate() {
            // Security stocks start as the arms shares of a stock worth two years of the
            // host's defence budget (docs/MODEL.md, initialisation).
            let reference_stock = 2.0 * host.defence_budget_usd_bn;
            sim.other_security_stock[h] = host.other_security_share * reference_stock;
            let debt_usd_bn = host.govt_debt_pct_gdp / 100.0 * host.gdp_usd_bn;
            let patron_debt_share: f64 = host.ties.iter().map(|t| t.debt_share).sum();
            sim.other_debt_usd_bn[h] = (1.0 - patron_debt_share).max(0.0) * debt_usd_bn;
            for (p, tie) in host.ties.iter().enumerate() {
                let i = h * np + p;
                sim.trade_base_usd_bn[i] = tie.trade_usd_bn;
                sim.trade_usd_bn[i] = tie.trade_usd_bn;
                sim.fdi_stock_usd_bn[i] = tie.fdi_stock_usd_bn;
                sim.security_stock[i] = tie.arms_share * reference_stock;
                sim.debt_to_patron_usd_bn[i] = tie.debt_share * debt_usd_bn;
            }
        }
        sim.update_leverage();
        // Without a given alignment, a host starts where its ties and the offers on the
        // table pull it (each offer valued as if taken in full), so the run does not open
        // with a jump toward whoever offers most.
        for h in 0..nh {
            for p in 0..np {
                let patron = &scenario.patrons[p].levers;
                let share = sim.allocation[p * nh + h];
                sim.offered_value[h * np + p] = patron.investment_budget_usd_bn / 4.0 * share
                    + patron.security_budget_usd_bn / 4.0 * share * scenario.hosts[h].levers.security_openness
                    + scenario.params.trade_access_gain * patron.trade_offer * sim.trade_usd_bn[h * np + p] / 4.0;
            }
        }
        for h in 0..nh {
            let target = match &scenario.hosts[h].initial_alignment {
                Some(given) => given.clone(),
                None => sim.alignment_target(h, scenario.params.attraction_weights.offers),
            };
            sim.alignment[h * np..(h + 1) * np].copy_from_slice(&target);
        }
        sim.previous_alignment.clone_from(&sim.alignment);
        sim.initial_alignment.clone_from(&sim.alignment);
        for i in 0..hp {
            sim.initial_trade_factor[i] = sim.trade_factor(i);
        }
        sim
    }

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
        for (levers, patron) in self.patron_levers.iter_mut().zip(&scenario.patrons) {
            *levers = patron.levers;
        }
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

        self.decide(rng);
        self.disburse(rng);
        self.develop_minerals(rng);
        self.grow_economy(quarter);
        self.update_trade();
        self.update_routes();
        self.update_remittances();
        self.update_leverage();
        self.update_alignment();
        self.adapt_patrons();
        self.check_finite(quarter)?;
        Ok(StepReport {
            step: self.step,
            quarter,
        })
    }

    /// Offers, host evaluations and acceptances; accepted pledges enter the pipelines and
    /// accepted security aid the security stocks.
    fn decide<R: Rng>(&mut self, rng: &mut R) {
        let scenario = self.scenario;
        let params = &scenario.params;
        let np = scenario.n_patrons();
        let noise = Normal::new(0.0, params.decision_noise_sd).expect("validated: sd is finite and >= 0");
        let step = self.step;

        for (h, host) in scenario.hosts.iter().enumerate() {
            let levers = self.host_levers[h];
            let quarterly_gdp = self.gdp_usd_bn[h] / 4.0;
            let quarterly_defence = (host.defence_budget_usd_bn / 4.0).max(1e-6);
            let row = &self.alignment[h * np..(h + 1) * np];
            let alignment_hhi: f64 = row.iter().map(|a| a * a).sum();
            let debt_pct = self.debt_pct_gdp(h);
            let debt_stress = (debt_pct / levers.debt_tolerance_pct_gdp).powi(2);

            for p in 0..np {
                let i = h * np + p;
                let patron = self.patron_levers[p];
                let share = self.allocation[p * scenario.n_hosts() + h];
                let investment_offer = patron.investment_budget_usd_bn / 4.0 * share;
                let security_offer = patron.security_budget_usd_bn / 4.0 * share;
                let trade_gain_usd_bn = params.trade_access_gain * patron.trade_offer * self.trade_usd_bn[i] / 4.0;

                let economic = params.economic_weight
                    * levers.absorptive_capacity
                    * (self.credibility[p] * investment_offer + trade_gain_usd_bn)
                    / quarterly_gdp
                    * 100.0;
                let security = params.security_weight * levers.threat_level * levers.security_openness * security_offer
                    / quarterly_defence;
                // Directional derivative of the Herfindahl index of alignment when the
                // host tilts toward p: 2 (a_p - HHI). Negative (a bonus) for an
                // under-weight partner.
                let concentration = -levers.concentration_aversion * 2.0 * (self.alignment[i] - alignment_hhi);
                let sovereignty = -levers.sovereignty_sensitivity
                    * (patron.conditionality + patron.loan_share * debt_stress)
                    * investment_offer
                    / quarterly_gdp
                    * 100.0;
                let rival_pressure: f64 = (0..np)
                    .filter(|&q| q != p)
                    .map(|q| self.patron_levers[q].assertiveness * self.leverage[h * np + q])
                    .sum();
                let displeasure = -params.displeasure_weight * rival_pressure;
                let goodwill = patron.goodwill;
                let noise_draw = noise.sample(rng);
                let utility = economic + security + concentration + sovereignty + displeasure + goodwill + noise_draw;
                let acceptance = logistic(utility - params.acceptance_threshold);
                self.acceptance[i] = acceptance;
                self.decisions[i] = DecisionTerms {
                    economic,
                    security,
                    concentration,
                    sovereignty,
                    displeasure,
                    goodwill,
                    noise: noise_draw,
                    utility,
                    acceptance,
                };

                let pledge = acceptance * investment_offer;
                self.pledged_usd_bn[i] = pledge;
                self.pledged_cumulative_usd_bn[i] += pledge;
                if pledge > 0.0 {
                    self.pipelines[p].push_back(Pledge {
                        host: h,
                        due_step: step + scenario.patrons[p].pledge_lag_quarters,
                        amount_usd_bn: pledge,
                    });
                }
                let security_taken = acceptance * levers.security_openness * security_offer;
                self.security_stock[i] = self.security_stock[i] * (1.0 - params.security_decay) + security_taken;
                self.trade_access[i] =
                    self.trade_access[i] * (1.0 - params.trade_access_decay) + acceptance * patron.trade_offer;
                self.offered_value[i] =
                    acceptance * (investment_offer + security_offer * levers.security_openness + trade_gain_usd_bn);
            }
            // Suppliers outside the scenario keep their stock steady.
        }
    }

    /// Pledges that come due become projects with probability credibility x absorptive
    /// capacity, project by project; credibility follows the delivery rate.
    fn disburse<R: Rng>(&mut self, rng: &mut R) {
        let scenario = self.scenario;
        let params = &scenario.params;
        let np = scenario.n_patrons();
        self.disbursed_usd_bn.iter_mut().for_each(|d| *d = 0.0);
        for p in 0..np {
            let mut due_capacity_weighted = 0.0;
            let mut delivered = 0.0;
            while let Some(pledge) = self.pipelines[p].front().copied() {
                if pledge.due_step > self.step {
                    break;
                }
                self.pipelines[p].pop_front();
                let h = pledge.host;
                let capacity = self.host_levers[h].absorptive_capacity;
                // Delivery depends on what the patron can really deliver; the host judged
                // the offer by its credibility, which learns the delivery rate.
                let chance = (self.patron_levers[p].delivery_rate * capacity).clamp(0.0, 1.0);
                let n_projects = (pledge.amount_usd_bn / params.project_size_usd_bn).ceil().max(1.0);
                let done = Binomial::new(n_projects as u64, chance)
                    .expect("validated: chance in [0,1]")
                    .sample(rng) as f64;
                let amount = pledge.amount_usd_bn * done / n_projects;
                let i = h * np + p;
                self.pledged_due_cumulative_usd_bn[i] += pledge.amount_usd_bn;
                self.disbursed_usd_bn[i] += amount;
                self.disbursed_cumulative_usd_bn[i] += amount;
                let loan_share = self.patron_levers[p].loan_share;
                self.fdi_stock_usd_bn[i] += (1.0 - loan_share) * amount;
                self.debt_to_patron_usd_bn[i] += loan_share * amount;
                due_capacity_weighted += pledge.amount_usd_bn * capacity;
                delivered += amount;
            }
            if due_capacity_weighted > 0.0 {
                let rate = (delivered / due_capacity_weighted).clamp(0.0, 1.0);
                let learning = scenario.patrons[p].credibility_learning;
                self.credibility[p] = (1.0 - learning) * self.credibility[p] + learning * rate;
            }
        }
    }

    /// GDP grows at trend plus the growth effect of disbursed projects; FDI depreciates
    /// and patron loans are repaid.
    fn grow_economy(&mut self, quarter: Quarter) {
        let scenario = self.scenario;
        let params = &scenario.params;
        let np = scenario.n_patrons();
        // A patron's quarterly growth: its economy path where it applies (plus any change
        // events make to the lever), else the lever.
        for ((growth, patron), levers) in self
            .patron_growth
            .iter_mut()
            .zip(&scenario.patrons)
            .zip(&self.patron_levers)
        {
            let lever = levers.economy_growth_pct / 400.0;
            *growth = match patron.path_growth(quarter) {
                Some(path) => path + lever - patron.levers.economy_growth_pct / 400.0,
                None => lever,
            };
        }
        for (economy, growth) in self.patron_economy.iter_mut().zip(&self.patron_growth) {
            *economy *= (1.0 + growth).max(0.01);
        }
        for (h, host) in scenario.hosts.iter().enumerate() {
            let disbursed: f64 = self.disbursed_usd_bn[h * np..(h + 1) * np].iter().sum();
            // A GDP path (observed or projected) replaces trend growth in the years it
            // covers; events that move the trend still add their change.
            let trend = self.host_levers[h].trend_growth_pct / 400.0;
            let underlying = match host.path_growth(quarter) {
                Some(path) => path + trend - host.levers.trend_growth_pct / 400.0,
                None => trend,
            };
            let growth = underlying + params.investment_growth_multiplier * disbursed / self.gdp_usd_bn[h];
            let factor = (1.0 + growth).max(0.01);
            self.gdp_usd_bn[h] *= factor;
            let trade_factor = factor.powf(params.trade_gdp_elasticity);
            self.other_trade_usd_bn[h] *= trade_factor * (1.0 + params.other_partners_growth_per_quarter);
            self.other_debt_usd_bn[h] *= factor;
            for (p, growth) in self.patron_growth.iter().enumerate() {
                let i = h * np + p;
                self.fdi_stock_usd_bn[i] *= 1.0 - params.fdi_depreciation_per_quarter;
                self.debt_to_patron_usd_bn[i] *= 1.0 - params.debt_amortization_per_quarter;
                self.trade_base_usd_bn[i] *= trade_factor * (1.0 + growth).max(0.01);
            }
        }
    }

    /// log of the relationship factor of trade: market access, alignment and sanctions.
    fn trade_factor(&self, i: usize) -> f64 {
        let params = &self.scenario.params;
        let p = i % self.scenario.n_patrons();
        params.trade_access_gain * self.trade_access[i]
            + params.trade_alignment_elasticity * (self.alignment[i] - self.initial_alignment[i])
            - params.sanctions_trade_elasticity * self.patron_levers[p].sanctions
    }

    /// Trade: the gravity-style flows, plus re-export trade around sanctions and exports
    /// from mines developed during the run.
    fn update_trade(&mut self) {
        let scenario = self.scenario;
        let np = scenario.n_patrons();
        let nh = scenario.n_hosts();
        for i in 0..self.trade_usd_bn.len() {
            self.trade_usd_bn[i] =
                self.trade_base_usd_bn[i] * (self.trade_factor(i) - self.initial_trade_factor[i]).exp();
        }

        // Re-exports: a share of a sanctioned patron's blocked imports flows through hosts
        // open to it, in proportion to their trade with it, less what enforcement deters.
        self.reexport_usd_bn.iter_mut().for_each(|v| *v = 0.0);
        for p in 0..np {
            let sanctions = self.patron_levers[p].sanctions;
            let demand = scenario.patrons[p].sanctioned_import_demand_usd_bn;
            if sanctions <= 0.0 || demand <= 0.0 {
                continue;
            }
            let enforcement: f64 = (0..np)
                .filter(|&q| q != p)
                .map(|q| self.patron_levers[q].secondary_sanctions)
                .sum::<f64>()
                .min(1.0);
            let pool = scenario.params.reexport_capture * sanctions * demand * (1.0 - enforcement);
            let weights: Vec<f64> = (0..nh)
                .map(|h| scenario.hosts[h].reexport_openness * self.trade_usd_bn[h * np + p])
                .collect();
            let total: f64 = weights.iter().sum();
            if total <= 0.0 {
                continue;
            }
            for (h, weight) in weights.iter().enumerate() {
                self.reexport_usd_bn[h * np + p] = pool * weight / total;
            }
        }
        let minerals_exports = &self.minerals.new_export_value;
        for h in 0..nh {
            let mut reexports_in = 0.0;
            for p in 0..np {
                let i = h * np + p;
                // The leg to the sanctioned patron is trade with it; the leg from the
                // suppliers is trade with other partners.
                self.trade_usd_bn[i] += self.reexport_usd_bn[i] + minerals_exports[h * (np + 1) + p];
                reexports_in += self.reexport_usd_bn[i];
            }
            self.other_trade_with_flows_usd_bn[h] =
                self.other_trade_usd_bn[h] + reexports_in + minerals_exports[h * (np + 1) + np];
        }

        // Secondary-sanction risk: an enforcing patron's pressure on a host grows with the
        // share of the host's trade that is re-export, saturating at a tenth.
        for h in 0..nh {
            let reexports: f64 = (0..np).map(|p| self.reexport_usd_bn[h * np + p]).sum();
            let exposure = (reexports / (0.1 * self.total_trade(h))).min(1.0);
            for q in 0..np {
                self.sanction_risk[h * np + q] = self.patron_levers[q].secondary_sanctions * exposure;
            }
        }
    }

    /// Deposits and firms: mapping, investment, development, production.
    fn develop_minerals<R: Rng>(&mut self, rng: &mut R) {
        let scenario = self.scenario;
        if self.minerals.n_deposits() == 0 {
            return;
        }
        let np = scenario.n_patrons();
        let pick = |f: fn(&PatronLevers) -> f64| self.patron_levers.iter().map(f).collect::<Vec<f64>>();
        let minerals_budget = pick(|l| l.minerals_budget_usd_bn);
        let mapping_budget = pick(|l| l.mapping_budget_usd_bn);
        let mobilisation = pick(|l| l.private_mobilisation);
        let processing = pick(|l| l.processing_investment_usd_bn);
        let sanctions = pick(|l| l.sanctions);
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
            self.fdi_stock_usd_bn[i] += spent;
            self.mining_investment_cumulative_usd_bn[i] += spent;
        }
    }

    /// Freight chooses among the Asia-Europe routes; the hosts' trade with non-patron
    /// partners travels on them too.
    fn update_routes(&mut self) {
        let scenario = self.scenario;
        let sanctions: Vec<f64> = self.patron_levers.iter().map(|l| l.sanctions).collect();
        let host_trade: f64 = self.other_trade_with_flows_usd_bn.iter().sum();
        self.routes.step(
            &scenario.routes,
            &self.route_levers,
            &scenario.freight,
            &sanctions,
            host_trade,
        );
    }

    /// Remittances follow the economies they come from: the share from each patron moves
    /// with that patron's economy, the rest with the host's own GDP.
    fn update_remittances(&mut self) {
        let scenario = self.scenario;
        let elasticity = scenario.params.remittance_elasticity;
        let trend = (1.0 + scenario.params.remittance_trend_per_quarter).powi(self.step as i32);
        for (h, host) in scenario.hosts.iter().enumerate() {
            let base_pct = host.levers.remittances_pct_gdp;
            let base = base_pct / 100.0 * host.gdp_usd_bn;
            // Events scale remittances through the lever (a crackdown on migrants, say).
            let shock = if base_pct > 0.0 {
                self.host_levers[h].remittances_pct_gdp / base_pct
            } else {
                0.0
            };
            let from_patrons: f64 = host
                .ties
                .iter()
                .zip(&self.patron_economy)
                .map(|(tie, economy)| tie.remittance_share * economy.powf(elasticity))
                .sum::<f64>()
                * trend;
            let from_patrons_share: f64 = host.ties.iter().map(|t| t.remittance_share).sum();
            let from_elsewhere = (1.0 - from_patrons_share).max(0.0) * self.gdp_usd_bn[h] / host.gdp_usd_bn;
            self.remittances_usd_bn[h] = base * shock * (from_patrons + from_elsewhere);
        }
    }

    /// Leverage of each patron over each host, in 0..=1: a weighted mean of its trade
    /// share, security dependence, remittance dependence and debt dependence.
    fn update_leverage(&mut self) {
        let scenario = self.scenario;
        let w = scenario.params.leverage_weights;
        let np = scenario.n_patrons();
        let weight_sum = (w.trade + w.security + w.remittances + w.debt + w.sanctions).max(1e-12);
        for (h, host) in scenario.hosts.iter().enumerate() {
            let total_trade = self.total_trade(h);
            let total_security = self.total_security(h);
            let total_debt = self.total_debt(h);
            let remittance_pct = 100.0 * self.remittances_usd_bn[h] / self.gdp_usd_bn[h];
            let remittance_weight = (remittance_pct / 20.0).min(1.0);
            let debt_weight = (self.debt_pct_gdp(h) / 60.0).min(1.0);
            for p in 0..np {
                let i = h * np + p;
                let trade_share = ratio(self.trade_usd_bn[i], total_trade);
                let security_share = ratio(self.security_stock[i], total_security);
                let debt_share = ratio(self.debt_to_patron_usd_bn[i], total_debt);
                let remittance_share = host.ties[p].remittance_share;
                self.leverage[i] = (w.trade * trade_share
                    + w.security * security_share
                    + w.remittances * remittance_share * remittance_weight
                    + w.debt * debt_share * debt_weight
                    + w.sanctions * self.sanction_risk[i])
                    / weight_sum;
            }
        }
    }

    /// The alignment a host's ties pull it toward: each channel's shares among patrons,
    /// weighted, plus the share of this quarter's accepted offers.
    fn alignment_target(&self, h: usize, offers_weight: f64) -> Vec<f64> {
        let scenario = self.scenario;
        let w = scenario.params.attraction_weights;
        let np = scenario.n_patrons();
        let range = h * np..(h + 1) * np;
        let host = &scenario.hosts[h];
        let openness = self.host_levers[h].security_openness;
        let remittance_shares: Vec<f64> = host.ties.iter().map(|t| t.remittance_share).collect();
        let channels: [(f64, &[f64]); 5] = [
            (w.trade, &self.trade_usd_bn[range.clone()]),
            (w.fdi, &self.fdi_stock_usd_bn[range.clone()]),
            (w.security * openness, &self.security_stock[range.clone()]),
            (w.remittances, &remittance_shares),
            (offers_weight, &self.offered_value[range.clone()]),
        ];
        let mut attraction = vec![0.0; np];
        let mut used_weight = 0.0;
        for (weight, values) in channels {
            let total: f64 = values.iter().sum();
            if weight <= 0.0 || total <= 0.0 {
                continue;
            }
            used_weight += weight;
            for p in 0..np {
                attraction[p] += weight * values[p] / total;
            }
        }
        if used_weight <= 0.0 {
            return vec![1.0 / np as f64; np];
        }
        attraction.iter().map(|a| a / used_weight).collect()
    }

    fn update_alignment(&mut self) {
        let scenario = self.scenario;
        let np = scenario.n_patrons();
        let inertia = scenario.params.alignment_inertia;
        self.previous_alignment.clone_from(&self.alignment);
        for h in 0..scenario.n_hosts() {
            let target = self.alignment_target(h, scenario.params.attraction_weights.offers);
            let row = &mut self.alignment[h * np..(h + 1) * np];
            for (a, t) in row.iter_mut().zip(&target) {
                *a = (1.0 - inertia) * *a + inertia * t;
            }
            // Renormalise away rounding drift so shares sum to one exactly enough.
            let sum: f64 = row.iter().sum();
            row.iter_mut().for_each(|a| *a /= sum);
        }
    }

    /// Each patron moves its allocation over hosts by the rule its scenario picks.
    fn adapt_patrons(&mut self) {
        let scenario = self.scenario;
        let nh = scenario.n_hosts();
        let np = scenario.n_patrons();
        for (p, patron) in scenario.patrons.iter().enumerate() {
            let strategy = patron.strategy;
            if strategy.rule == StrategyRule::Fixed || strategy.adaptation_rate == 0.0 {
                continue;
            }
            let objectives = strategy.objectives;
            // What the patron got from each host this quarter, per unit of allocation.
            let returns: Vec<f64> = (0..nh)
                .map(|h| {
                    let i = h * np + p;
                    let security_share = ratio(self.security_stock[i], self.total_security(h));
                    let trade_share = ratio(self.trade_usd_bn[i], self.total_trade(h));
                    let supply = &self.minerals.host_supply_value[h * (np + 1)..(h + 1) * (np + 1)];
                    let minerals_share = ratio(supply[p], supply.iter().sum());
                    self.decisions[i].acceptance
                        * (objectives.influence * self.alignment[i]
                            + objectives.security * security_share
                            + objectives.trade * trade_share
                            + objectives.minerals * minerals_share)
                })
                .collect();
            let rate = strategy.adaptation_rate;
            let row = &mut self.allocation[p * nh..(p + 1) * nh];
            let target: Vec<f64> = match strategy.rule {
                StrategyRule::Fixed => continue,
                StrategyRule::BestResponse => returns.clone(),
                StrategyRule::Learning => {
                    let propensity = &mut self.propensity[p * nh..(p + 1) * nh];
                    for h in 0..nh {
                        propensity[h] = (1.0 - rate) * propensity[h] + returns[h] * row[h];
                    }
                    propensity.to_vec()
                }
                StrategyRule::RivalResponse => (0..nh)
                    .map(|h| {
                        let rival_gain: f64 = (0..np)
                            .filter(|&q| q != p)
                            .map(|q| {
                                let i = h * np + q;
                                (self.alignment[i] - self.previous_alignment[i]).max(0.0)
                            })
                            .sum();
                        row[h] * (1.0 + 100.0 * rival_gain)
                    })
                    .collect(),
            };
            let total: f64 = target.iter().sum();
            if total <= 0.0 || !total.is_finite() {
                continue;
            }
            if strategy.rule == StrategyRule::Learning {
                for h in 0..nh {
                    row[h] = target[h] / total;
                }
            } else {
                for h in 0..nh {
                    row[h] = (1.0 - rate) * row[h] + rate * target[h] / total;
                }
            }
        }
    }

    pub(crate) fn total_trade(&self, h: usize) -> f64 {
        let np = self.scenario.n_patrons();
        self.trade_usd_bn[h * np..(h + 1) * np].iter().sum::<f64>() + self.other_trade_with_flows_usd_bn[h]
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
            ] {
                if !value.is_finite() {
                    return Err(fail(route.id.clone(), name, value));
                }
            }
        }
        for (h, host) in scenario.hosts.iter().enumerate() {
            for (name, value) in [
                ("gdp_usd_bn", self.gdp_usd_bn[h]),
                ("remittances_usd_bn", self.remittances_usd_bn[h]),
                ("other_trade_usd_bn", self.other_trade_usd_bn[h]),
                ("other_debt_usd_bn", self.other_debt_usd_bn[h]),
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
mod tests {
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
             [model]\ninvestment_growth_multiplier = 0.0\n\
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

    #[test]
    fn a_bigger_offer_is_worth_more_and_accepted_more() {
        // H1 starts balanced between the two, so the concentration term does not decide.
        let s = scenario("[[hosts]]\nid = \"H1\"\nties.P1 = { alignment = 0.5 }\nties.P2 = { alignment = 0.5 }\n");
        let mut sim = Simulation::new(&s);
        run(&mut sim, 1);
        let (p1, p2) = (sim.decisions[0], sim.decisions[1]);
        assert!(p1.economic > p2.economic, "P1 offers four times P2's investment");
        // Both patrons start balanced in H1, so the other terms are equal or favour P2 only slightly.
        assert!(p1.acceptance > p2.acceptance);
        let sum =
            p1.economic + p1.security + p1.concentration + p1.sovereignty + p1.displeasure + p1.goodwill + p1.noise;
        assert!((sum - p1.utility).abs() < 1e-12, "the terms add up to the utility");
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
    fn a_neutral_host_takes_no_security_aid() {
        let s = scenario("");
        let mut sim = Simulation::new(&s);
        let start = sim.security_stock.clone();
        run(&mut sim, 8);
        // H2 (openness 0): stocks only decay. H1: stocks grow with accepted aid.
        for p in 0..2 {
            assert!(sim.security_stock[2 + p] < start[2 + p]);
            assert_eq!(sim.decisions[2 + p].security, 0.0);
        }
        assert!(sim.security_stock[0] > start[0] * (1.0 - s.params.security_decay).powi(8));
    }

    #[test]
    fn pledges_disburse_after_the_lag_and_with_credibility_times_capacity() {
        let s = scenario(
            "[[patrons]]\nid = \"P1\"\ncredibility = 1.0\n[[hosts]]\nid = \"H1\"\nabsorptive_capacity = 1.0\n",
        );
        let mut sim = Simulation::new(&s);
        run(&mut sim, 2);
        assert_eq!(
            sim.disbursed_cumulative_usd_bn[0], 0.0,
            "nothing before the lag of two quarters"
        );
        let pledged_first = sim.pledged_cumulative_usd_bn[0] - sim.pledged_usd_bn[0];
        run(&mut sim, 1);
        // With credibility and capacity 1, the first quarter's pledge is delivered in full.
        assert!((sim.disbursed_cumulative_usd_bn[0] - pledged_first).abs() < 1e-12);
    }

    #[test]
    fn delivery_rate_averages_credibility_times_capacity() {
        let s = scenario(
            "[[hosts]]\nid = \"H1\"\nabsorptive_capacity = 0.6\n[[patrons]]\nid = \"P1\"\ncredibility_learning = 0.0\n",
        );
        let mut sim = Simulation::new(&s);
        run(&mut sim, 200);
        let due = sim.pledged_cumulative_usd_bn[0] - sim.pledged_usd_bn[0] - {
            // pledges of the last two quarters are not due yet
            let mut pending = 0.0;
            for pledge in &sim.pipelines[0] {
                if pledge.host == 0 {
                    pending += pledge.amount_usd_bn;
                }
            }
            pending - sim.pledged_usd_bn[0]
        };
        let rate = sim.disbursed_cumulative_usd_bn[0] / due;
        assert!((rate - 0.5 * 0.6).abs() < 0.03, "delivery rate {rate}");
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
        sim.gdp_usd_bn[1] = f64::NAN;
        let mut rng = replicate_rng(1, 0);
        let error = sim.step(&mut rng).expect_err("NaN GDP must be caught");
        assert_eq!(error.step, 1);
        assert_eq!(error.actor, "H2");
        assert_eq!(error.quantity, "gdp_usd_bn");
        assert_eq!(error.quarter.to_string(), "2024Q1");
    }
}
