//! The scenario file format: what a TOML scenario may contain, with every default.
//!
//! These structs mirror the file one to one. They are checked and turned into the
//! model's own types by [`super::validate`]; the model never sees them. Units are in
//! the field names where the world has units (`_usd_bn`, `_pct`, `_quarters`); the
//! rest are shares in 0..=1 or dimensionless weights, as each comment says.
//! `docs/scenario-format.md` documents every key and the source of each default.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::time::Quarter;

/// A whole scenario file, after `extends` has been resolved.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ScenarioFile {
    /// Names the output folder; defaults to the file name without `.toml`. Not inherited
    /// through `extends`, so a variant never writes into its parent's folder.
    pub name: Option<String>,
    /// One line saying what question the scenario asks. Not inherited through `extends`.
    pub description: String,
    /// Path of a scenario this one overrides, relative to this file.
    pub extends: Option<String>,
    pub time: TimeFile,
    pub run: RunFile,
    pub model: ModelFile,
    pub patrons: Vec<PatronFile>,
    pub hosts: Vec<HostFile>,
    pub events: Vec<EventFile>,
    /// Mineral commodities the deposits produce.
    pub commodities: Vec<CommodityFile>,
    /// Deposits and firms: how many, and what mapping, exploration and development cost.
    pub minerals: MineralsFile,
    /// Endowments per host and commodity, from which deposits are generated.
    pub deposits: Vec<DepositFile>,
    /// Freight routes between Asia and Europe.
    pub routes: Vec<RouteFile>,
    /// Freight demand and how it chooses routes.
    pub freight: FreightFile,
    /// Parameters `greatgame sweep` varies; `run` ignores it. See docs/analysis.md.
    #[serde(skip_serializing_if = "SweepFile::is_empty")]
    pub sweep: SweepFile,
    /// Parameter ranges and outcomes for `greatgame sensitivity`; `run` ignores it.
    #[serde(skip_serializing_if = "SensitivityFile::is_empty")]
    pub sensitivity: SensitivityFile,
    /// What `greatgame calibrate` searches, and the calibrated parameter sets `greatgame
    /// backtest` spreads its replicates over; `run` ignores it. See docs/backtest.md.
    #[serde(skip_serializing_if = "CalibrationFile::is_empty")]
    pub calibration: CalibrationFile,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct TimeFile {
    /// First simulated quarter.
    pub start: Quarter,
    /// Number of quarters simulated after the start state.
    pub horizon_quarters: u32,
}

impl Default for TimeFile {
    fn default() -> Self {
        TimeFile {
            start: Quarter::new(2024, 1).expect("valid quarter"),
            horizon_quarters: 48,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct RunFile {
    /// Replicates of the ensemble when the command line does not say.
    pub replicates: u64,
    /// Master seed; replicate `i` draws from stream `i` of a ChaCha8 generator seeded with it.
    pub seed: u64,
}

impl Default for RunFile {
    fn default() -> Self {
        RunFile {
            replicates: 200,
            seed: 42,
        }
    }
}

/// Behavioural parameters shared by all actors. Dimensionless unless the name says.
///
/// A host values an offer in money: every term of its valuation is USD of value, so the
/// decision weights are "USD of value per USD offered" (docs/MODEL.md §7.2).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ModelFile {
    /// Share of the gap between alignment and its target closed each quarter (0..=1).
    pub alignment_inertia: f64,
    /// Standard deviation of the noise on a host's value per USD offered.
    pub decision_noise_sd: f64,
    /// Value per USD offered at which a host takes half of an offer.
    pub acceptance_threshold: f64,
    /// Value per USD offered that moves acceptance by one logit unit (> 0).
    pub acceptance_scale: f64,
    /// USD of value per USD of credible investment (times absorptive capacity) or of
    /// extra trade.
    pub economic_weight: f64,
    /// USD of value per USD of security aid taken, times the host's threat level.
    pub security_weight: f64,
    /// USD of expected cost per USD taken, per unit of a rival's assertiveness times its
    /// leverage.
    pub displeasure_weight: f64,
    /// Weights of the channels of a patron's leverage over a host.
    pub leverage_weights: ChannelWeights,
    /// Political weight per USD of each tie that draws a host's alignment toward a patron.
    pub attraction_weights: AttractionWeights,
    /// Log points of extra trade with a patron per unit of market access.
    pub trade_access_gain: f64,
    /// Share of accumulated market access lost each quarter.
    pub trade_access_decay: f64,
    /// Weight of this quarter's accepted offers in the moving average that draws
    /// alignment (0..=1; 1 remembers one quarter only).
    pub offers_decay: f64,
    /// Elasticity of trade with a patron to the host's alignment with it.
    pub trade_alignment_elasticity: f64,
    /// Share of a host's security stock (arms and aid) that wears out each quarter.
    pub security_decay: f64,
    /// Book depreciation of FDI stocks, percent a year.
    pub fdi_depreciation_pct_per_year: f64,
    /// Repayment of patron loans, percent of the outstanding stock a year.
    pub debt_amortization_pct_per_year: f64,
    /// Extra growth, in percentage points a year, per percent of GDP disbursed as projects in a year.
    pub investment_growth_multiplier: f64,
    /// Size of one project, USD bn: pledges are disbursed in whole projects.
    pub project_size_usd_bn: f64,
    /// Growth of the economies of the hosts' partners that are not patrons, percent a year.
    pub other_partners_growth_pct: f64,
    /// Growth of the world economy, percent a year: trade with a partner grows with the
    /// partner's economy relative to the world's.
    pub world_growth_pct: f64,
    /// Elasticity of a host's trade (in USD) to its GDP (in USD): below 1, trade falls less
    /// than GDP when the currency devalues.
    pub trade_gdp_elasticity: f64,
    /// How strongly sanctions on a patron cut hosts' trade with it (log points per unit of sanctions).
    pub sanctions_trade_elasticity: f64,
    /// Elasticity of trade to its freight cost as a share of the value traded.
    pub trade_cost_elasticity: f64,
    /// Share of a sanctioned patron's blocked imports rerouted through the hosts (0..=1).
    pub reexport_capture: f64,
    /// Elasticity of remittances from a patron to that patron's economy.
    pub remittance_elasticity: f64,
    /// Growth of remittances from patrons beyond their economies' growth (more migrants,
    /// more of their earnings sent through official channels), percent a year.
    pub remittance_trend_pct: f64,
    /// USD of GDP per USD of external income (remittances and exports) above or below
    /// the ratio to GDP of the start.
    pub external_income_multiplier: f64,
    /// Absorptive capacity gained per point of delivery experience (percent of GDP
    /// delivered, accumulated).
    pub absorptive_learning: f64,
    /// The most absorptive capacity experience can build (0..=1).
    pub absorptive_max: f64,
    /// Share of delivery experience forgotten each quarter (0..=1).
    pub experience_decay: f64,
}

impl Default for ModelFile {
    fn default() -> Self {
        ModelFile {
            alignment_inertia: 0.08,
            decision_noise_sd: 0.2,
            acceptance_threshold: 0.0,
            acceptance_scale: 0.2,
            economic_weight: 1.0,
            security_weight: 1.0,
            displeasure_weight: 1.0,
            leverage_weights: ChannelWeights::default(),
            attraction_weights: AttractionWeights::default(),
            trade_access_gain: 0.01,
            trade_access_decay: 0.05,
            offers_decay: 0.25,
            trade_alignment_elasticity: 1.0,
            security_decay: 0.05,
            fdi_depreciation_pct_per_year: 2.0,
            debt_amortization_pct_per_year: 6.0,
            investment_growth_multiplier: 0.1,
            project_size_usd_bn: 0.05,
            other_partners_growth_pct: 3.0,
            world_growth_pct: 3.0,
            trade_gdp_elasticity: 1.0,
            sanctions_trade_elasticity: 0.1,
            trade_cost_elasticity: 5.0,
            reexport_capture: 0.0,
            remittance_elasticity: 1.0,
            remittance_trend_pct: 0.0,
            external_income_multiplier: 0.5,
            absorptive_learning: 0.5,
            absorptive_max: 0.95,
            experience_decay: 0.05,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ChannelWeights {
    pub trade: f64,
    pub security: f64,
    pub remittances: f64,
    pub debt: f64,
    /// Secondary-sanction risk an enforcing patron holds over hosts that carry re-exports.
    pub sanctions: f64,
}

impl Default for ChannelWeights {
    fn default() -> Self {
        ChannelWeights {
            trade: 1.0,
            security: 1.0,
            remittances: 1.0,
            debt: 1.0,
            sanctions: 1.0,
        }
    }
}

/// Political weight per USD of each tie (docs/MODEL.md §7.8).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct AttractionWeights {
    /// Per USD bn a year of trade turnover.
    pub trade: f64,
    /// Per USD bn of FDI stock.
    pub fdi: f64,
    /// Per USD bn of security stock, times the host's security openness.
    pub security: f64,
    /// Per USD bn a year of remittances.
    pub remittances: f64,
    /// Per USD bn a year of accepted offers.
    pub offers: f64,
}

impl Default for AttractionWeights {
    fn default() -> Self {
        AttractionWeights {
            trade: 1.0,
            fdi: 0.1,
            security: 5.0,
            remittances: 1.0,
            offers: 3.0,
        }
    }
}

/// A great power that makes offers: the US, China, Russia, or any other.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct PatronFile {
    /// Short unique id, used in outputs and to match actors across `extends`.
    pub id: String,
    pub name: String,
    /// State finance offered to all hosts together, USD bn a year.
    pub investment_budget_usd_bn: f64,
    /// Arms, training and security assistance offered, USD bn a year.
    pub security_budget_usd_bn: f64,
    /// Market access and offtake offered (0 = none, 1 = strong preferences).
    pub trade_offer: f64,
    /// Starting credibility: chance a pledged project is delivered, before absorptive capacity (0..=1).
    pub credibility: f64,
    /// Speed at which credibility follows the observed delivery rate (0..=1 per quarter).
    pub credibility_learning: f64,
    /// Quarters from pledge to disbursement.
    pub pledge_lag_quarters: u32,
    /// Share of disbursed investment that is lending and adds to host public debt (0..=1).
    pub loan_share: f64,
    /// Conditions attached to offers that cost hosts sovereignty (0..=1).
    pub conditionality: f64,
    /// How readily the patron punishes hosts that lean to rivals (0..=1).
    pub assertiveness: f64,
    /// Diplomatic goodwill added to the utility of this patron's offers (summits raise it).
    pub goodwill: f64,
    /// Growth of the patron's import demand and exports, percent a year: trade with a host
    /// grows at the host's GDP growth plus this.
    pub economy_growth_pct: f64,
    /// Intensity of international sanctions on the patron (0 = none, 1 = comprehensive).
    pub sanctions: f64,
    /// Share of pledged projects the patron actually delivers at full host capacity (0..=1);
    /// credibility learns it. Defaults to the starting credibility.
    pub implementation_capacity: Option<f64>,
    /// Imports the patron can no longer buy directly because of sanctions, USD bn a year:
    /// the pool that re-export trade through the hosts draws on.
    pub sanctioned_import_demand_usd_bn: f64,
    /// How hard the patron enforces secondary sanctions on hosts' re-export trade (0..=1).
    pub secondary_sanctions: f64,
    /// Public money for mining through the patron's firms, USD bn a year.
    pub minerals_budget_usd_bn: f64,
    /// Geological mapping funded in the hosts, USD bn a year (allocated like the budgets).
    pub mapping_budget_usd_bn: f64,
    /// Private capital mobilised per public dollar for the patron's private firms.
    pub private_mobilisation: f64,
    /// Investment in processing capacity at home or with partners, USD bn a year, spread
    /// over the commodities of `processing` with a starting capacity above 0.
    pub processing_investment_usd_bn: f64,
    /// Processing (refining) capacity per commodity id at the start, tonnes a year.
    pub processing: BTreeMap<String, f64>,
    /// Priority of each commodity to the patron, by commodity id (default 1: commercial
    /// value only): multiplies the value its firms see in a deposit, and steers its funded
    /// mapping and processing investment toward the commodity.
    pub minerals_priorities: BTreeMap<String, f64>,
    /// The patron's mining firms.
    pub firms: FirmsFile,
    pub strategy: StrategyFile,
    /// Share of the budgets offered to each host, by host id (normalised to sum to one).
    /// Hosts missing from a given table get nothing; an absent or empty table shares by GDP.
    pub allocation: BTreeMap<String, f64>,
    /// A driver: the patron's GDP by calendar year, current USD bn, read as mid-year levels
    /// like a host's `gdp_usd_bn_path`; where it applies it replaces `economy_growth_pct`
    /// (events that move `economy_growth_pct` still add their change).
    pub economy_usd_bn_path: BTreeMap<String, f64>,
}

impl Default for PatronFile {
    fn default() -> Self {
        PatronFile {
            id: String::new(),
            name: String::new(),
            investment_budget_usd_bn: 0.0,
            security_budget_usd_bn: 0.0,
            trade_offer: 0.0,
            credibility: 0.5,
            credibility_learning: 0.05,
            pledge_lag_quarters: 4,
            loan_share: 0.5,
            conditionality: 0.1,
            assertiveness: 0.3,
            goodwill: 0.0,
            economy_growth_pct: 3.0,
            sanctions: 0.0,
            implementation_capacity: None,
            sanctioned_import_demand_usd_bn: 0.0,
            secondary_sanctions: 0.0,
            minerals_budget_usd_bn: 0.0,
            mapping_budget_usd_bn: 0.0,
            private_mobilisation: 0.0,
            processing_investment_usd_bn: 0.0,
            processing: BTreeMap::new(),
            minerals_priorities: BTreeMap::new(),
            firms: FirmsFile::default(),
            strategy: StrategyFile::default(),
            allocation: BTreeMap::new(),
            economy_usd_bn_path: BTreeMap::new(),
        }
    }
}

/// How a patron changes its allocation over hosts.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct StrategyFile {
    /// `fixed`, `best_response`, `learning` or `rival_response`.
    pub rule: String,
    /// Share of the allocation moved toward the rule's target each quarter (0..=1).
    pub adaptation_rate: f64,
    /// Weights of what the patron values in a host's response.
    pub objectives: ObjectiveWeights,
}

impl Default for StrategyFile {
    fn default() -> Self {
        StrategyFile {
            rule: "fixed".to_string(),
            adaptation_rate: 0.1,
            objectives: ObjectiveWeights::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ObjectiveWeights {
    /// Gain in the host's alignment with the patron.
    pub influence: f64,
    /// The patron's share of the host's security assistance.
    pub security: f64,
    /// The patron's share of the host's trade.
    pub trade: f64,
    /// The share of the host's mineral output reaching the patron's supply chain.
    pub minerals: f64,
}

impl Default for ObjectiveWeights {
    fn default() -> Self {
        ObjectiveWeights {
            influence: 1.0,
            security: 0.0,
            trade: 0.0,
            minerals: 0.0,
        }
    }
}

/// A patron's mining firms.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct FirmsFile {
    /// Relative weight of this patron in `minerals.n_firms` (0 = no firms).
    pub weight: f64,
    /// Share of the patron's firms that are private rather than state-owned (0..=1).
    pub private_share: f64,
    /// Risk appetite of the patron's private firms (0 = avoids threatened hosts, 1 = ignores
    /// threat); state-owned firms go where sent, as if their appetite were 1.
    pub risk_appetite: f64,
}

impl Default for FirmsFile {
    fn default() -> Self {
        FirmsFile {
            weight: 0.0,
            private_share: 0.5,
            risk_appetite: 0.5,
        }
    }
}

/// A mineral commodity.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct CommodityFile {
    pub id: String,
    pub name: String,
    /// World mine production, tonnes a year (for shares of world output).
    pub world_production_t: f64,
    /// Price, USD per tonne (values output for trade).
    pub price_usd_per_t: f64,
    /// Capital cost of mine capacity, USD per tonne a year of capacity.
    pub capex_usd_per_annual_t: f64,
    /// Capital cost of processing capacity, USD per tonne a year of capacity.
    pub processing_capex_usd_per_annual_t: f64,
    /// Patron id whose chain refines most output sold on the market at the start; it needs
    /// processing capacity for the commodity.
    pub default_processor: Option<String>,
    /// The default processor's share, at the start, of output sold on the market (not taken
    /// by its owner's chain); sets the weight of the world market outside the patrons.
    pub default_processing_share: f64,
    /// Share of revenue a producing mine earns above its running costs (0..=1).
    pub operating_margin: f64,
}

impl Default for CommodityFile {
    fn default() -> Self {
        CommodityFile {
            id: String::new(),
            name: String::new(),
            world_production_t: 0.0,
            price_usd_per_t: 0.0,
            capex_usd_per_annual_t: 0.0,
            processing_capex_usd_per_annual_t: 0.0,
            default_processor: None,
            default_processing_share: 0.5,
            operating_margin: 0.4,
        }
    }
}

/// Scale and costs of the deposit-and-firm layer.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct MineralsFile {
    /// Deposits generated from the endowments: half shared equally among endowments, half
    /// in proportion to the value of their capacity (every endowment gets at least one
    /// when there are enough, so the total can slightly exceed this).
    pub n_deposits: u32,
    /// Firms generated, split over patrons by `firms.weight`.
    pub n_firms: u32,
    /// Cost of mapping a deposit with a patron's mapping budget, as a share of its
    /// development capex (capacity x `capex_usd_per_annual_t`).
    pub mapping_cost_share: f64,
    /// Quarters during which a deposit mapped with a patron's money is open to that
    /// patron's firms only (the funder's first look at the survey results).
    pub mapping_first_look_quarters: u32,
    /// Share of unmapped deposits that hosts' own surveys map each year (0..=1).
    pub natural_mapping_rate: f64,
    /// Cost of exploring a deposit, as a share of its development capex.
    pub exploration_cost_share: f64,
    /// Quarters exploration takes.
    pub exploration_quarters: u32,
    /// Chance an explored deposit proves economic (0..=1).
    pub exploration_success: f64,
    /// Quarters from the decision to develop to first production.
    pub development_quarters: u32,
    /// Firms' discount rate, per year, for the value of a deposit.
    pub discount_rate: f64,
    /// Years a mine produces, for the value of a deposit.
    pub mine_life_years: f64,
    /// How much a rise of the host's alignment with a processor's patron raises the
    /// processor's weight in the market for output (log points per unit of alignment).
    pub offtake_alignment_weight: f64,
    /// How much a rise of the sanctions on a processor's patron lowers its weight in the
    /// market for output (log points per unit of sanctions).
    pub offtake_sanctions_weight: f64,
}

impl Default for MineralsFile {
    fn default() -> Self {
        MineralsFile {
            n_deposits: 0,
            n_firms: 0,
            mapping_cost_share: 0.05,
            mapping_first_look_quarters: 4,
            natural_mapping_rate: 0.02,
            exploration_cost_share: 0.1,
            exploration_quarters: 4,
            exploration_success: 0.5,
            development_quarters: 12,
            discount_rate: 0.08,
            mine_life_years: 20.0,
            offtake_alignment_weight: 5.0,
            offtake_sanctions_weight: 2.0,
        }
    }
}

/// Mineral endowment of one host in one commodity.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct DepositFile {
    pub host: String,
    pub commodity: String,
    /// Capacity producing at the start, tonnes a year.
    pub producing_t: f64,
    /// Further capacity in deposits not yet developed, tonnes a year.
    pub potential_t: f64,
    /// Share of the undeveloped deposits already mapped at the start (0..=1).
    pub mapped_share: f64,
    /// Share of the producing capacity owned by firms of each patron, by patron id; the
    /// rest is domestic.
    pub owners: BTreeMap<String, f64>,
}

/// A freight route between Asia and Europe.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct RouteFile {
    pub id: String,
    pub name: String,
    /// Capacity at the start, Mt a year.
    pub capacity_mt: f64,
    /// Freight rate, USD per tonne.
    pub cost_usd_per_t: f64,
    /// Door-to-door transit time, days.
    pub transit_days: f64,
    /// Risk of delay, seizure or loss (0..=1).
    pub risk: f64,
    /// Patron whose sanctions raise this route's cost and risk (the Northern route: Russia).
    pub sanctions_exposure_to: Option<String>,
    /// Fractional rise in cost per unit of that patron's sanctions.
    pub sanctions_cost_markup: f64,
    /// Rise in risk per unit of that patron's sanctions.
    pub sanctions_risk_markup: f64,
    /// Investment in capacity, USD bn a year.
    pub investment_usd_bn: f64,
    /// Capital cost of capacity, USD bn per Mt a year.
    pub capacity_cost_usd_bn_per_mt: f64,
    /// Quarters between spending on capacity and the capacity being usable.
    pub construction_quarters: u32,
    /// The patron whose market the route serves; without it, the route carries the
    /// hosts' trade with other partners and the Asia-Europe transit.
    pub market: Option<String>,
}

impl Default for RouteFile {
    fn default() -> Self {
        RouteFile {
            id: String::new(),
            name: String::new(),
            capacity_mt: 0.0,
            cost_usd_per_t: 100.0,
            transit_days: 20.0,
            risk: 0.0,
            sanctions_exposure_to: None,
            sanctions_cost_markup: 0.0,
            sanctions_risk_markup: 0.0,
            investment_usd_bn: 0.0,
            capacity_cost_usd_bn_per_mt: 1.0,
            construction_quarters: 8,
            market: None,
        }
    }
}

/// Freight demand between Asia and Europe and how it chooses routes.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct FreightFile {
    /// Overland transit freight between Asia and Europe at the start, Mt a year.
    pub transit_demand_mt: f64,
    /// Growth of transit freight, percent a year.
    pub transit_growth_pct: f64,
    /// Freight of the hosts' trade with non-patron partners, Mt per USD bn of trade.
    pub host_freight_mt_per_usd_bn: f64,
    /// Value of transit time, USD per tonne and day.
    pub value_of_time_usd_per_t_day: f64,
    /// Cost of risk, USD per tonne per unit of risk.
    pub risk_cost_usd_per_t: f64,
    /// Spread of shippers' route preferences, USD per tonne (the logit scale).
    pub choice_scale_usd_per_t: f64,
    /// Extra transit time at full use of a route's capacity, as a share of its days.
    pub congestion_delay: f64,
    /// Exponent of utilisation in the congestion delay.
    pub congestion_exponent: f64,
    /// Wear of route capacity built during the run, percent a year.
    pub capacity_depreciation_pct_per_year: f64,
}

impl Default for FreightFile {
    fn default() -> Self {
        FreightFile {
            transit_demand_mt: 0.0,
            transit_growth_pct: 3.0,
            host_freight_mt_per_usd_bn: 0.0,
            value_of_time_usd_per_t_day: 5.0,
            risk_cost_usd_per_t: 500.0,
            choice_scale_usd_per_t: 50.0,
            congestion_delay: 0.15,
            congestion_exponent: 4.0,
            capacity_depreciation_pct_per_year: 2.0,
        }
    }
}

/// A Central Asian state (or any other host) that weighs offers.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct HostFile {
    pub id: String,
    pub name: String,
    /// GDP at the start, current USD bn a year.
    pub gdp_usd_bn: f64,
    /// Trend GDP growth, percent a year.
    pub trend_growth_pct: f64,
    /// Population, millions (recorded for reference; the first model does not use it).
    pub population_m: f64,
    /// Military spending, USD bn a year; 0 means unknown and is taken as 1% of GDP.
    pub defence_budget_usd_bn: f64,
    /// General government gross debt, percent of GDP.
    pub govt_debt_pct_gdp: f64,
    /// Debt level above which new loans cost sovereignty, percent of GDP.
    pub debt_tolerance_pct_gdp: f64,
    /// Personal remittances received, percent of GDP.
    pub remittances_pct_gdp: f64,
    /// Capacity to turn pledges into projects (0..=1).
    pub absorptive_capacity: f64,
    /// External and internal threat (0 = none, 1 = acute).
    pub threat_level: f64,
    /// Willingness to take security aid (0 = neutral, declines all; 1 = open).
    pub security_openness: f64,
    /// Cost of an unbalanced portfolio of partners: the multi-vector preference.
    pub concentration_aversion: f64,
    /// Weight of conditionality and debt distress in the host's costs.
    pub sovereignty_sensitivity: f64,
    /// Trade with partners that are not patrons in the scenario, USD bn a year.
    pub other_trade_usd_bn: f64,
    /// Share of the host's trade that is its exports, for every partner whose tie does
    /// not give its own (0..=1).
    pub export_share: f64,
    /// Direct investment from investors outside the patrons, USD bn a year at the start;
    /// it grows like trade with the other partners.
    pub other_fdi_inflow_usd_bn: f64,
    /// Share of arms and security assistance from suppliers that are not patrons (0..=1).
    pub other_security_share: f64,
    /// How open the host's borders and customs are to re-export trade with a sanctioned
    /// patron (1 = customs union with it, 0 = closed).
    pub reexport_openness: f64,
    /// Ties with each patron, by patron id.
    pub ties: BTreeMap<String, TieFile>,
    /// A driver: GDP by calendar year, current USD bn (keys are years, e.g. `2016 = 137.3`).
    /// Each year's value is its mid-year level: between the middles of two listed years GDP
    /// grows geometrically from one to the other instead of at `trend_growth_pct`; events
    /// that move `trend_growth_pct` still add their change. Years must follow one another.
    pub gdp_usd_bn_path: BTreeMap<String, f64>,
}

impl Default for HostFile {
    fn default() -> Self {
        HostFile {
            id: String::new(),
            name: String::new(),
            gdp_usd_bn: 0.0,
            trend_growth_pct: 4.0,
            population_m: 0.0,
            defence_budget_usd_bn: 0.0,
            govt_debt_pct_gdp: 30.0,
            debt_tolerance_pct_gdp: 50.0,
            remittances_pct_gdp: 0.0,
            absorptive_capacity: 0.6,
            threat_level: 0.3,
            security_openness: 1.0,
            concentration_aversion: 0.2,
            sovereignty_sensitivity: 1.0,
            other_trade_usd_bn: 0.0,
            export_share: 0.5,
            other_fdi_inflow_usd_bn: 0.0,
            other_security_share: 0.1,
            reexport_openness: 0.5,
            ties: BTreeMap::new(),
            gdp_usd_bn_path: BTreeMap::new(),
        }
    }
}

/// A host's starting ties with one patron.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct TieFile {
    /// Exports plus imports, USD bn a year.
    pub trade_usd_bn: f64,
    /// Share of the trade that is the host's exports to the patron (0..=1); default the
    /// host's `export_share`.
    pub export_share: Option<f64>,
    /// Direct investment stock from the patron, USD bn.
    pub fdi_stock_usd_bn: f64,
    /// Patron's share of the host's arms imports (0..=1).
    pub arms_share: f64,
    /// Patron's share of the host's remittance inflows (0..=1).
    pub remittance_share: f64,
    /// Patron's share of the host's public debt (0..=1).
    pub debt_share: f64,
    /// Starting alignment; when no tie of a host sets it, it starts at the target its ties imply.
    pub alignment: Option<f64>,
}

/// Something that happens: on a date or with a hazard, changing quantities for a while.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct EventFile {
    /// Required, unique within a file: `extends` matches events by name.
    pub name: String,
    /// Quarter the event starts. Give this or `hazard_per_quarter`.
    pub at: Option<Quarter>,
    /// Chance per quarter that the event starts (when it is not already running).
    pub hazard_per_quarter: Option<f64>,
    /// Window in which a hazard applies (inclusive); defaults to the whole run.
    pub from: Option<Quarter>,
    pub until: Option<Quarter>,
    /// How long the effects last; absent means to the end of the run.
    pub duration_quarters: Option<u32>,
    pub effects: Vec<EffectFile>,
}

/// One change an event makes.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct EffectFile {
    /// Host, patron or route id, or `all_hosts` / `all_patrons` / `all_routes`.
    pub actor: String,
    /// Name of the quantity, as listed in docs/scenario-format.md.
    pub quantity: String,
    /// `set`, `add` or `multiply`.
    pub op: String,
    pub value: f64,
}

/// `[sweep]`: the points `greatgame sweep` runs. Either `parameters` (combined by
/// `combine`) or a `design` file.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct SweepFile {
    /// `grid`: every combination of the parameters' values; `zip`: the first values of every
    /// parameter together, then the second, and so on (all lists the same length).
    pub combine: String,
    /// CSV file of points, relative to the file that names it: a header of key paths, then
    /// one row of values per point.
    pub design: Option<String>,
    pub parameters: Vec<SweepParameterFile>,
}

impl Default for SweepFile {
    fn default() -> Self {
        SweepFile {
            combine: "grid".to_string(),
            design: None,
            parameters: Vec::new(),
        }
    }
}

impl SweepFile {
    pub fn is_empty(&self) -> bool {
        self.design.is_none() && self.parameters.is_empty()
    }
}

/// One swept parameter: a list of `values`, or a range `from`..`to` in `steps` evenly
/// spaced points (ends included) or by `step`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct SweepParameterFile {
    /// Key path into the scenario, e.g. `patrons.USA.investment_budget_usd_bn`.
    pub key: String,
    #[schemars(with = "Option<Vec<serde_json::Value>>")]
    pub values: Option<Vec<toml::Value>>,
    pub from: Option<f64>,
    pub to: Option<f64>,
    pub steps: Option<u32>,
    pub step: Option<f64>,
}

/// `[sensitivity]`: what `greatgame sensitivity` varies and measures.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct SensitivityFile {
    /// `morris`, `sobol` or `both`.
    pub method: String,
    /// Outcomes, as `metric`, `metric:HOST` or `metric:HOST:PARTNER` (host defaults to C5).
    pub outputs: Vec<String>,
    /// Replicates per design point (the ensemble mean is the model's output).
    pub replicates: u64,
    /// Sobol base sample size N: the design has N (k + 2) points for k parameters.
    pub samples: u64,
    /// Morris trajectories r: the design has r (k + 1) points.
    pub trajectories: u64,
    /// Morris grid levels p (even, at least 2).
    pub levels: u32,
    pub parameters: Vec<SensitivityParameterFile>,
}

impl Default for SensitivityFile {
    fn default() -> Self {
        SensitivityFile {
            method: "both".to_string(),
            outputs: Vec::new(),
            replicates: 20,
            samples: 64,
            trajectories: 10,
            levels: 4,
            parameters: Vec::new(),
        }
    }
}

impl SensitivityFile {
    pub fn is_empty(&self) -> bool {
        self.parameters.is_empty() && self.outputs.is_empty()
    }
}

/// `[calibration]`: the free parameters, their ranges and the search's budget.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct CalibrationFile {
    /// Last year whose observations the search may use; later years are held out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub through: Option<i32>,
    /// Points of the global stage (a Sobol' sequence over the ranges).
    pub samples: u64,
    /// Evaluations of the local stage (a compass search from the best global point).
    pub refine: u64,
    /// Replicates per evaluation (the same seed for all: common random numbers).
    pub replicates: u64,
    /// How many calibrated parameter sets to write: the best evaluation, then the best
    /// points of the global stage.
    pub keep: u64,
    /// Weight of the pull toward the file's own values: the loss adds this times the sum
    /// of squared distances from them, in units of each range (a Gaussian prior), so that
    /// a parameter the observations do not inform stays where the file put it.
    pub prior_weight: f64,
    /// CSV of calibrated parameter sets (a header of keys, a row per set), relative to the
    /// scenario file; `backtest` spreads its replicates over them. Empty: none.
    pub parameter_sets: String,
    pub parameters: Vec<CalibrationParameterFile>,
}

/// A free parameter: a key path, its range, and the centre of the prior.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct CalibrationParameterFile {
    pub key: String,
    pub min: f64,
    pub max: f64,
    /// Round values to whole numbers.
    pub integer: bool,
    /// The value the prior pulls toward; without it, the file's own value. Give it when the
    /// file holds calibrated values, so that calibrating again starts from the same prior.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prior: Option<f64>,
}

impl CalibrationParameterFile {
    /// The key and range, as a sensitivity parameter.
    pub fn range(&self) -> SensitivityParameterFile {
        SensitivityParameterFile {
            key: self.key.clone(),
            min: self.min,
            max: self.max,
            integer: self.integer,
        }
    }
}

impl Default for CalibrationFile {
    fn default() -> Self {
        CalibrationFile {
            through: None,
            samples: 64,
            refine: 48,
            replicates: 8,
            keep: 8,
            prior_weight: 0.1,
            parameter_sets: String::new(),
            parameters: Vec::new(),
        }
    }
}

impl CalibrationFile {
    pub fn is_empty(&self) -> bool {
        self.parameters.is_empty() && self.through.is_none() && self.parameter_sets.is_empty()
    }
}

/// One uncertain parameter: a key path and the range it is sampled over (uniformly).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct SensitivityParameterFile {
    pub key: String,
    pub min: f64,
    pub max: f64,
    /// Round sampled values to whole numbers (for counts such as `pledge_lag_quarters`).
    pub integer: bool,
}
