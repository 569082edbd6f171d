//! The scenario file format: what a TOML scenario may contain, with every default.
//!
//! These structs mirror the file one to one. They are checked and turned into the
//! model's own types by [`super::validate`]; the model never sees them. Units are in
//! the field names where the world has units (`_usd_bn`, `_pct`, `_quarters`); the
//! rest are shares in 0..=1 or dimensionless weights, as each comment says.
//! `docs/scenario-format.md` documents every key and the source of each default.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::time::Quarter;

/// A whole scenario file, after `extends` has been resolved.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
}

impl Default for ScenarioFile {
    fn default() -> Self {
        ScenarioFile {
            name: None,
            description: String::new(),
            extends: None,
            time: TimeFile::default(),
            run: RunFile::default(),
            model: ModelFile::default(),
            patrons: Vec::new(),
            hosts: Vec::new(),
            events: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
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

#[derive(Debug, Clone, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelFile {
    /// Share of the gap between alignment and its target closed each quarter (0..=1).
    pub alignment_inertia: f64,
    /// Standard deviation of the normal noise added to each offer's utility.
    pub decision_noise_sd: f64,
    /// Utility at which a host accepts half of an offer.
    pub acceptance_threshold: f64,
    /// Utility per percent of quarterly GDP of credible economic value.
    pub economic_weight: f64,
    /// Utility per unit of threat-weighted security aid relative to the host's defence budget.
    pub security_weight: f64,
    /// Utility per unit of rival leverage times assertiveness.
    pub displeasure_weight: f64,
    /// Weights of the four channels of a patron's leverage over a host.
    pub leverage_weights: ChannelWeights,
    /// Weights of what draws a host's alignment toward a patron.
    pub attraction_weights: AttractionWeights,
    /// Fractional rise in trade with a patron per unit of accepted trade offer and quarter.
    pub trade_access_gain: f64,
    /// Share of accumulated market access lost each quarter.
    pub trade_access_decay: f64,
    /// Elasticity of trade with a patron to the host's alignment with it.
    pub trade_alignment_elasticity: f64,
    /// Share of a host's security-aid stock that wears out each quarter.
    pub security_decay: f64,
    /// Book depreciation of FDI stocks, percent a year.
    pub fdi_depreciation_pct_per_year: f64,
    /// Repayment of patron loans, percent of the outstanding stock a year.
    pub debt_amortization_pct_per_year: f64,
    /// Extra growth, in percentage points a year, per percent of GDP disbursed as projects in a year.
    pub investment_growth_multiplier: f64,
    /// Size of one project, USD bn: pledges are disbursed in whole projects.
    pub project_size_usd_bn: f64,
    /// Growth of trade with partners that are not patrons, percent a year, on top of the
    /// host's own GDP growth.
    pub other_partners_growth_pct: f64,
    /// How strongly sanctions on a patron cut hosts' trade with it (log points per unit of sanctions).
    pub sanctions_trade_elasticity: f64,
}

impl Default for ModelFile {
    fn default() -> Self {
        ModelFile {
            alignment_inertia: 0.08,
            decision_noise_sd: 0.5,
            acceptance_threshold: 0.0,
            economic_weight: 1.0,
            security_weight: 1.0,
            displeasure_weight: 1.0,
            leverage_weights: ChannelWeights::default(),
            attraction_weights: AttractionWeights::default(),
            trade_access_gain: 0.01,
            trade_access_decay: 0.05,
            trade_alignment_elasticity: 1.0,
            security_decay: 0.05,
            fdi_depreciation_pct_per_year: 2.0,
            debt_amortization_pct_per_year: 6.0,
            investment_growth_multiplier: 0.1,
            project_size_usd_bn: 0.05,
            other_partners_growth_pct: 3.0,
            sanctions_trade_elasticity: 0.5,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ChannelWeights {
    pub trade: f64,
    pub security: f64,
    pub remittances: f64,
    pub debt: f64,
}

impl Default for ChannelWeights {
    fn default() -> Self {
        ChannelWeights {
            trade: 1.0,
            security: 1.0,
            remittances: 1.0,
            debt: 1.0,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AttractionWeights {
    pub trade: f64,
    pub fdi: f64,
    pub security: f64,
    pub remittances: f64,
    pub offers: f64,
}

impl Default for AttractionWeights {
    fn default() -> Self {
        AttractionWeights {
            trade: 1.0,
            fdi: 0.5,
            security: 1.0,
            remittances: 0.5,
            offers: 1.0,
        }
    }
}

/// A great power that makes offers: the US, China, Russia, or any other.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    pub strategy: StrategyFile,
    /// Share of the budgets offered to each host, by host id (normalised to sum to one).
    /// Hosts missing from a given table get nothing; an absent or empty table shares by GDP.
    pub allocation: BTreeMap<String, f64>,
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
            strategy: StrategyFile::default(),
            allocation: BTreeMap::new(),
        }
    }
}

/// How a patron changes its allocation over hosts.
#[derive(Debug, Clone, Serialize, Deserialize)]
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

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ObjectiveWeights {
    /// Gain in the host's alignment with the patron.
    pub influence: f64,
    /// The patron's share of the host's security assistance.
    pub security: f64,
    /// The patron's share of the host's trade.
    pub trade: f64,
}

impl Default for ObjectiveWeights {
    fn default() -> Self {
        ObjectiveWeights {
            influence: 1.0,
            security: 0.0,
            trade: 0.0,
        }
    }
}

/// A Central Asian state (or any other host) that weighs offers.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// Share of arms and security assistance from suppliers that are not patrons (0..=1).
    pub other_security_share: f64,
    /// Ties with each patron, by patron id.
    pub ties: BTreeMap<String, TieFile>,
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
            concentration_aversion: 1.0,
            sovereignty_sensitivity: 1.0,
            other_trade_usd_bn: 0.0,
            other_security_share: 0.1,
            ties: BTreeMap::new(),
        }
    }
}

/// A host's starting ties with one patron.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TieFile {
    /// Exports plus imports, USD bn a year.
    pub trade_usd_bn: f64,
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
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct EffectFile {
    /// Actor id, or `all_hosts` / `all_patrons`.
    pub actor: String,
    /// Name of the quantity, as listed in docs/scenario-format.md.
    pub quantity: String,
    /// `set`, `add` or `multiply`.
    pub op: String,
    pub value: f64,
}
