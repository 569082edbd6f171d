//! The model: actors as plain data, the quantities events can change, and the step.
//!
//! Everything here is validated input or simulation state. Nothing in this module reads
//! files, the clock or the environment; randomness comes only from the generator the
//! caller passes in.

pub mod engine;
pub mod events;
pub mod minerals;
pub mod quantities;
pub mod routes;

use serde::Serialize;

use crate::time::Quarter;

pub use engine::{DecisionTerms, Simulation, StepReport};

/// A validated scenario: everything a run needs, in the model's own types.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub start: Quarter,
    pub horizon_quarters: u32,
    pub replicates: u64,
    pub seed: u64,
    pub params: ModelParams,
    pub hosts: Vec<Host>,
    pub patrons: Vec<Patron>,
    pub events: Vec<events::Event>,
    pub commodities: Vec<minerals::Commodity>,
    pub minerals: minerals::MineralsSpec,
    pub routes: Vec<routes::Route>,
    pub freight: routes::Freight,
}

impl Scenario {
    pub fn n_hosts(&self) -> usize {
        self.hosts.len()
    }

    pub fn n_patrons(&self) -> usize {
        self.patrons.len()
    }

    /// The quarter of step `step` (step 0 is the start state).
    pub fn quarter_of_step(&self, step: u32) -> Quarter {
        self.start.plus(i64::from(step))
    }
}

/// Behavioural parameters shared by all actors; see `docs/MODEL.md` for each.
///
/// Money-valued terms of a host's decision are in one unit, USD bn a quarter of
/// money-equivalent value, so every `*_weight` below is "USD of value per USD offered".
#[derive(Debug, Clone)]
pub struct ModelParams {
    pub alignment_inertia: f64,
    /// Standard deviation of the noise on a host's value per USD offered.
    pub decision_noise_sd: f64,
    /// Value per USD offered at which a host takes half an offer.
    pub acceptance_threshold: f64,
    /// Value per USD offered that moves acceptance by one logit unit.
    pub acceptance_scale: f64,
    pub economic_weight: f64,
    pub security_weight: f64,
    pub displeasure_weight: f64,
    pub leverage_weights: Channels,
    pub attraction_weights: Attraction,
    pub trade_access_gain: f64,
    pub trade_access_decay: f64,
    /// Weight of this quarter's accepted offers in their moving average.
    pub offers_decay: f64,
    pub trade_alignment_elasticity: f64,
    pub security_decay: f64,
    pub fdi_depreciation_per_quarter: f64,
    pub debt_amortization_per_quarter: f64,
    pub investment_growth_multiplier: f64,
    pub project_size_usd_bn: f64,
    /// `other_partners_growth_pct` / 400: growth of the economies of partners that are
    /// not patrons.
    pub other_partners_growth_per_quarter: f64,
    /// `world_growth_pct` / 400: the world economy, which trade is normalised by.
    pub world_growth_per_quarter: f64,
    pub sanctions_trade_elasticity: f64,
    /// Elasticity of trade to its freight cost as a share of the value traded.
    pub trade_cost_elasticity: f64,
    pub reexport_capture: f64,
    pub remittance_elasticity: f64,
    pub trade_gdp_elasticity: f64,
    /// `remittance_trend_pct` / 400.
    pub remittance_trend_per_quarter: f64,
    /// USD of GDP per USD of external income (remittances, exports) above or below the
    /// path the start implies.
    pub external_income_multiplier: f64,
    /// Absorptive capacity gained per unit of delivery experience (see `docs/MODEL.md`).
    pub absorptive_learning: f64,
    /// The most absorptive capacity experience can build.
    pub absorptive_max: f64,
    /// Share of delivery experience forgotten each quarter.
    pub experience_decay: f64,
}

/// Weights of the channels through which a patron holds leverage over a host.
#[derive(Debug, Clone, Copy)]
pub struct Channels {
    pub trade: f64,
    pub security: f64,
    pub remittances: f64,
    pub debt: f64,
    pub sanctions: f64,
}

/// Political weight per USD of each tie that draws a host's alignment toward a patron.
#[derive(Debug, Clone, Copy)]
pub struct Attraction {
    /// Per USD bn a year of trade turnover.
    pub trade: f64,
    /// Per USD bn of FDI stock.
    pub fdi: f64,
    /// Per USD bn of security stock (arms and aid), times the host's security openness.
    pub security: f64,
    /// Per USD bn a year of remittances.
    pub remittances: f64,
    /// Per USD bn a year of accepted offers.
    pub offers: f64,
}

/// Parameters of a host that events may change (see [`quantities`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HostLevers {
    pub trend_growth_pct: f64,
    pub absorptive_capacity: f64,
    pub threat_level: f64,
    pub security_openness: f64,
    pub concentration_aversion: f64,
    pub sovereignty_sensitivity: f64,
    pub remittances_pct_gdp: f64,
    pub debt_tolerance_pct_gdp: f64,
}

#[derive(Debug, Clone)]
pub struct Host {
    pub id: String,
    pub name: String,
    pub gdp_usd_bn: f64,
    /// Share of the host's trade with partners that are not patrons that is its exports.
    pub other_export_share: f64,
    /// Direct investment from investors outside the patrons, USD bn a year at the start.
    pub other_fdi_inflow_usd_bn: f64,
    pub population_m: f64,
    pub defence_budget_usd_bn: f64,
    pub govt_debt_pct_gdp: f64,
    pub other_trade_usd_bn: f64,
    pub other_security_share: f64,
    pub reexport_openness: f64,
    pub levers: HostLevers,
    /// One tie per patron, in patron order.
    pub ties: Vec<Tie>,
    /// Starting alignment per patron if the file set it (sums to one).
    pub initial_alignment: Option<Vec<f64>>,
    /// From the file's `gdp_usd_bn_path`: (y, quarterly growth from year y - 1 to year y),
    /// in year order; quarters the path does not cover grow at `trend_growth_pct`.
    pub gdp_path_growth: Vec<(i32, f64)>,
}

impl Host {
    /// The quarterly growth the GDP path sets in `quarter`, if any (a year's value is its
    /// mid-year level).
    pub fn path_growth(&self, quarter: crate::time::Quarter) -> Option<f64> {
        path_growth(&self.gdp_path_growth, quarter)
    }
}

/// A host's starting ties with one patron.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Tie {
    pub trade_usd_bn: f64,
    /// Share of the trade that is the host's exports to the patron.
    pub export_share: f64,
    pub fdi_stock_usd_bn: f64,
    pub arms_share: f64,
    pub remittance_share: f64,
    pub debt_share: f64,
}

/// Parameters of a patron that events may change (see [`quantities`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PatronLevers {
    pub investment_budget_usd_bn: f64,
    pub security_budget_usd_bn: f64,
    pub trade_offer: f64,
    pub conditionality: f64,
    pub assertiveness: f64,
    pub goodwill: f64,
    pub economy_growth_pct: f64,
    pub sanctions: f64,
    pub loan_share: f64,
    /// Share of due projects the patron's agencies carry out in a host whose absorptive
    /// capacity is 1.
    pub implementation_capacity: f64,
    pub secondary_sanctions: f64,
    pub minerals_budget_usd_bn: f64,
    pub mapping_budget_usd_bn: f64,
    pub private_mobilisation: f64,
    pub processing_investment_usd_bn: f64,
}

#[derive(Debug, Clone)]
pub struct Patron {
    pub id: String,
    pub name: String,
    pub credibility: f64,
    pub credibility_learning: f64,
    pub pledge_lag_quarters: u32,
    /// The file's `implementation_capacity`, if it gives one; otherwise the start derives
    /// the value that makes the starting credibility the patron's delivery rate.
    pub implementation_capacity: Option<f64>,
    pub levers: PatronLevers,
    pub strategy: Strategy,
    /// Starting share of budgets per host, in host order (sums to one).
    pub allocation: Vec<f64>,
    pub sanctioned_import_demand_usd_bn: f64,
    /// Processing capacity at the start per commodity, in commodity order, tonnes a year.
    pub processing_t: Vec<f64>,
    pub firms: minerals::FirmsSpec,
    /// From the file's `economy_usd_bn_path`, as [`Host::gdp_path_growth`].
    pub economy_path_growth: Vec<(i32, f64)>,
}

impl Patron {
    /// The quarterly growth the economy path sets in `quarter`, if any.
    pub fn path_growth(&self, quarter: crate::time::Quarter) -> Option<f64> {
        path_growth(&self.economy_path_growth, quarter)
    }
}

/// The quarterly growth a path of mid-year levels sets in `quarter`: the first half of
/// year y grows at the rate from y - 1 to y, the second half at the rate from y to y + 1,
/// so that the annual mean follows the path.
fn path_growth(path: &[(i32, f64)], quarter: crate::time::Quarter) -> Option<f64> {
    let year = quarter.year() + i32::from(quarter.quarter_of_year() >= 3);
    path.binary_search_by_key(&year, |(y, _)| *y).ok().map(|i| path[i].1)
}

/// How a patron adapts its allocation over hosts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Strategy {
    pub rule: StrategyRule,
    pub adaptation_rate: f64,
    pub objectives: Objectives,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StrategyRule {
    /// Keep the scenario's allocation.
    Fixed,
    /// Move toward hosts in proportion to last quarter's return per dollar.
    BestResponse,
    /// Roth–Erev reinforcement: propensities accumulate returns and slowly forget.
    Learning,
    /// Move toward hosts where rivals gained alignment last quarter.
    RivalResponse,
}

impl StrategyRule {
    pub const NAMES: [&'static str; 4] = ["fixed", "best_response", "learning", "rival_response"];

    pub fn parse(name: &str) -> Option<StrategyRule> {
        match name {
            "fixed" => Some(StrategyRule::Fixed),
            "best_response" => Some(StrategyRule::BestResponse),
            "learning" => Some(StrategyRule::Learning),
            "rival_response" => Some(StrategyRule::RivalResponse),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Objectives {
    pub influence: f64,
    pub security: f64,
    pub trade: f64,
    pub minerals: f64,
}
