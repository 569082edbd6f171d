//! The named quantities that events may set, add to or multiply.
//!
//! Each quantity is a lever of a host or a patron: a parameter the engine reads fresh
//! every quarter, so an effect that ends simply stops applying. After all effects are
//! applied, each lever is clamped to its valid range, so an event can never push the
//! model outside the domain its equations are written for.

use super::routes::RouteLevers;
use super::{HostLevers, PatronLevers};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostQuantity {
    TrendGrowthPct,
    AbsorptiveCapacity,
    ThreatLevel,
    SecurityOpenness,
    ConcentrationAversion,
    SovereigntySensitivity,
    RemittancesPctGdp,
    DebtTolerancePctGdp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatronQuantity {
    InvestmentBudgetUsdBn,
    SecurityBudgetUsdBn,
    TradeOffer,
    Conditionality,
    Assertiveness,
    Goodwill,
    EconomyGrowthPct,
    Sanctions,
    LoanShare,
    ImplementationCapacity,
    SecondarySanctions,
    MineralsBudgetUsdBn,
    MappingBudgetUsdBn,
    PrivateMobilisation,
    ProcessingInvestmentUsdBn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteQuantity {
    CostUsdPerT,
    TransitDays,
    Risk,
    InvestmentUsdBn,
}

/// A quantity of either kind of actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    Host(HostQuantity),
    Patron(PatronQuantity),
    Route(RouteQuantity),
}

/// Name, quantity and valid range, for every host quantity.
pub const HOST_QUANTITIES: [(&str, HostQuantity, f64, f64); 8] = [
    ("trend_growth_pct", HostQuantity::TrendGrowthPct, -50.0, 50.0),
    ("absorptive_capacity", HostQuantity::AbsorptiveCapacity, 0.0, 1.0),
    ("threat_level", HostQuantity::ThreatLevel, 0.0, 1.0),
    ("security_openness", HostQuantity::SecurityOpenness, 0.0, 1.0),
    (
        "concentration_aversion",
        HostQuantity::ConcentrationAversion,
        0.0,
        100.0,
    ),
    (
        "sovereignty_sensitivity",
        HostQuantity::SovereigntySensitivity,
        0.0,
        100.0,
    ),
    ("remittances_pct_gdp", HostQuantity::RemittancesPctGdp, 0.0, 100.0),
    ("debt_tolerance_pct_gdp", HostQuantity::DebtTolerancePctGdp, 1.0, 1000.0),
];

/// Name, quantity and valid range, for every patron quantity.
pub const PATRON_QUANTITIES: [(&str, PatronQuantity, f64, f64); 15] = [
    (
        "investment_budget_usd_bn",
        PatronQuantity::InvestmentBudgetUsdBn,
        0.0,
        1.0e6,
    ),
    (
        "security_budget_usd_bn",
        PatronQuantity::SecurityBudgetUsdBn,
        0.0,
        1.0e6,
    ),
    ("trade_offer", PatronQuantity::TradeOffer, 0.0, 1.0),
    ("conditionality", PatronQuantity::Conditionality, 0.0, 1.0),
    ("assertiveness", PatronQuantity::Assertiveness, 0.0, 1.0),
    ("goodwill", PatronQuantity::Goodwill, -100.0, 100.0),
    ("economy_growth_pct", PatronQuantity::EconomyGrowthPct, -50.0, 50.0),
    ("sanctions", PatronQuantity::Sanctions, 0.0, 1.0),
    ("loan_share", PatronQuantity::LoanShare, 0.0, 1.0),
    (
        "implementation_capacity",
        PatronQuantity::ImplementationCapacity,
        0.0,
        1.0,
    ),
    ("secondary_sanctions", PatronQuantity::SecondarySanctions, 0.0, 1.0),
    (
        "minerals_budget_usd_bn",
        PatronQuantity::MineralsBudgetUsdBn,
        0.0,
        1.0e6,
    ),
    ("mapping_budget_usd_bn", PatronQuantity::MappingBudgetUsdBn, 0.0, 1.0e6),
    ("private_mobilisation", PatronQuantity::PrivateMobilisation, 0.0, 100.0),
    (
        "processing_investment_usd_bn",
        PatronQuantity::ProcessingInvestmentUsdBn,
        0.0,
        1.0e6,
    ),
];

/// Name, quantity and valid range, for every route quantity.
pub const ROUTE_QUANTITIES: [(&str, RouteQuantity, f64, f64); 4] = [
    ("cost_usd_per_t", RouteQuantity::CostUsdPerT, 0.0, 1.0e6),
    ("transit_days", RouteQuantity::TransitDays, 0.0, 1000.0),
    ("risk", RouteQuantity::Risk, 0.0, 1.0),
    ("investment_usd_bn", RouteQuantity::InvestmentUsdBn, 0.0, 1.0e6),
];

impl Quantity {
    /// Looks a quantity up by its name in the scenario file.
    pub fn parse(name: &str) -> Option<Quantity> {
        HOST_QUANTITIES
            .iter()
            .find(|(n, ..)| *n == name)
            .map(|(_, q, ..)| Quantity::Host(*q))
            .or_else(|| {
                PATRON_QUANTITIES
                    .iter()
                    .find(|(n, ..)| *n == name)
                    .map(|(_, q, ..)| Quantity::Patron(*q))
            })
            .or_else(|| {
                ROUTE_QUANTITIES
                    .iter()
                    .find(|(n, ..)| *n == name)
                    .map(|(_, q, ..)| Quantity::Route(*q))
            })
    }

    /// `host`, `patron` or `route`.
    pub fn kind(self) -> &'static str {
        match self {
            Quantity::Host(_) => "host",
            Quantity::Patron(_) => "patron",
            Quantity::Route(_) => "route",
        }
    }

    /// Every name, for error messages.
    pub fn all_names() -> Vec<&'static str> {
        HOST_QUANTITIES
            .iter()
            .map(|(n, ..)| *n)
            .chain(PATRON_QUANTITIES.iter().map(|(n, ..)| *n))
            .chain(ROUTE_QUANTITIES.iter().map(|(n, ..)| *n))
            .collect()
    }
}

impl HostQuantity {
    pub fn slot(self, levers: &mut HostLevers) -> &mut f64 {
        match self {
            HostQuantity::TrendGrowthPct => &mut levers.trend_growth_pct,
            HostQuantity::AbsorptiveCapacity => &mut levers.absorptive_capacity,
            HostQuantity::ThreatLevel => &mut levers.threat_level,
            HostQuantity::SecurityOpenness => &mut levers.security_openness,
            HostQuantity::ConcentrationAversion => &mut levers.concentration_aversion,
            HostQuantity::SovereigntySensitivity => &mut levers.sovereignty_sensitivity,
            HostQuantity::RemittancesPctGdp => &mut levers.remittances_pct_gdp,
            HostQuantity::DebtTolerancePctGdp => &mut levers.debt_tolerance_pct_gdp,
        }
    }

    pub fn range(self) -> (f64, f64) {
        let (_, _, lo, hi) = HOST_QUANTITIES
            .iter()
            .find(|(_, q, ..)| *q == self)
            .expect("every host quantity is listed");
        (*lo, *hi)
    }
}

impl PatronQuantity {
    pub fn slot(self, levers: &mut PatronLevers) -> &mut f64 {
        match self {
            PatronQuantity::InvestmentBudgetUsdBn => &mut levers.investment_budget_usd_bn,
            PatronQuantity::SecurityBudgetUsdBn => &mut levers.security_budget_usd_bn,
            PatronQuantity::TradeOffer => &mut levers.trade_offer,
            PatronQuantity::Conditionality => &mut levers.conditionality,
            PatronQuantity::Assertiveness => &mut levers.assertiveness,
            PatronQuantity::Goodwill => &mut levers.goodwill,
            PatronQuantity::EconomyGrowthPct => &mut levers.economy_growth_pct,
            PatronQuantity::Sanctions => &mut levers.sanctions,
            PatronQuantity::LoanShare => &mut levers.loan_share,
            PatronQuantity::ImplementationCapacity => &mut levers.implementation_capacity,
            PatronQuantity::SecondarySanctions => &mut levers.secondary_sanctions,
            PatronQuantity::MineralsBudgetUsdBn => &mut levers.minerals_budget_usd_bn,
            PatronQuantity::MappingBudgetUsdBn => &mut levers.mapping_budget_usd_bn,
            PatronQuantity::PrivateMobilisation => &mut levers.private_mobilisation,
            PatronQuantity::ProcessingInvestmentUsdBn => &mut levers.processing_investment_usd_bn,
        }
    }

    pub fn range(self) -> (f64, f64) {
        let (_, _, lo, hi) = PATRON_QUANTITIES
            .iter()
            .find(|(_, q, ..)| *q == self)
            .expect("every patron quantity is listed");
        (*lo, *hi)
    }
}

impl RouteQuantity {
    pub fn slot(self, levers: &mut RouteLevers) -> &mut f64 {
        match self {
            RouteQuantity::CostUsdPerT => &mut levers.cost_usd_per_t,
            RouteQuantity::TransitDays => &mut levers.transit_days,
            RouteQuantity::Risk => &mut levers.risk,
            RouteQuantity::InvestmentUsdBn => &mut levers.investment_usd_bn,
        }
    }
}

/// Clamps every route lever into its valid range.
pub fn clamp_route(levers: &mut RouteLevers) {
    for (_, q, lo, hi) in ROUTE_QUANTITIES {
        let slot = q.slot(levers);
        *slot = slot.clamp(lo, hi);
    }
}

/// Clamps every host lever into its valid range.
pub fn clamp_host(levers: &mut HostLevers) {
    for (_, q, lo, hi) in HOST_QUANTITIES {
        let slot = q.slot(levers);
        *slot = slot.clamp(lo, hi);
    }
}

/// Clamps every patron lever into its valid range.
pub fn clamp_patron(levers: &mut PatronLevers) {
    for (_, q, lo, hi) in PATRON_QUANTITIES {
        let slot = q.slot(levers);
        *slot = slot.clamp(lo, hi);
    }
}
