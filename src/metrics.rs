//! The outcomes recorded each step: names, units, and how they are read off the state.
//!
//! A replicate's record of one step is a flat vector of cells laid out by
//! [`MetricLayout`]: for every metric, one cell per host (then `C5`, the hosts together)
//! and, for metrics that have one, per partner. The layout depends only on the scenario,
//! so every replicate's vectors line up.

use crate::model::engine::ratio;
use crate::model::minerals::Stage;
use crate::model::{Scenario, Simulation};

/// Label used for all hosts together.
pub const ALL_HOSTS: &str = "C5";

/// How the all-hosts row of a metric is formed from the hosts' rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Combine {
    /// Added up (stocks and flows).
    Sum,
    /// Unweighted mean over hosts (indices and shares of a host's own portfolio).
    Mean,
    /// Computed from the summed parts (partner shares of the region's totals).
    Special,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metric {
    pub name: &'static str,
    pub unit: &'static str,
    /// Whether the metric has one value per partner (patron).
    pub per_partner: bool,
    pub combine: Combine,
    pub description: &'static str,
}

/// Declares a family of metrics, one line each: the enum that names them in the code
/// (the recorder, the charts and the commands use these, checked by the compiler) and
/// the table of their names, units and rules, in output order. Adding a metric is one
/// line here and its reader in [`record`].
///
/// Each line: `Variant: "name", "unit", per_partner | per_host, Combine, "description";`.
macro_rules! catalogue {
    ($(#[$doc:meta])* $family:ident, $table:ident {
        $($id:ident: $name:literal, $unit:literal, $partners:ident, $combine:ident, $description:literal;)*
    }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $family {
            $($id,)*
        }

        /// The metrics of the family, in output order (indexed by the enum).
        pub const $table: &[Metric] = &[$(Metric {
            name: $name,
            unit: $unit,
            per_partner: Partners::$partners.per_partner(),
            combine: Combine::$combine,
            description: $description,
        },)*];

        impl $family {
            /// Every metric of the family, in output order.
            pub const ALL: &'static [$family] = &[$($family::$id,)*];

            /// The metric's entry in the table.
            pub fn spec(self) -> &'static Metric {
                &$table[self as usize]
            }

            /// The metric's name (for a per-commodity or per-route metric, its prefix).
            pub fn name(self) -> &'static str {
                self.spec().name
            }

            /// The metric of this family with `name`, if there is one.
            pub fn from_name(name: &str) -> Option<$family> {
                $family::ALL.iter().copied().find(|m| m.name() == name)
            }
        }
    };
}

/// Whether a metric has one value per partner (patron) or one per host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Partners {
    PerPartner,
    PerHost,
}

impl Partners {
    const fn per_partner(self) -> bool {
        matches!(self, Partners::PerPartner)
    }
}

catalogue! {
    /// A metric recorded for every host (and the hosts together).
    MetricId, METRICS {
        Alignment: "alignment", "share (0-1, sums to 1 over partners)", PerPartner, Mean, "Host's alignment with the patron";
        HedgingIndex: "hedging_index", "index (0-1)", PerHost, Mean, "One minus the Herfindahl index of alignment: room to manoeuvre";
        TradeTurnoverUsdBn: "trade_turnover_usd_bn", "USD bn a year", PerPartner, Sum, "Exports plus imports with the patron, annual rate";
        TradeShare: "trade_share", "share of total trade (0-1)", PerPartner, Special, "Patron's share of the host's trade with all partners";
        TradeTotalUsdBn: "trade_total_usd_bn", "USD bn a year", PerHost, Sum, "Trade with all partners, patrons and others";
        ExportsUsdBn: "exports_usd_bn", "USD bn a year", PerPartner, Sum, "Host's exports to the patron, annual rate (re-exports and new mines' output included)";
        ImportsUsdBn: "imports_usd_bn", "USD bn a year", PerPartner, Sum, "Host's imports from the patron, annual rate";
        ExportsTotalUsdBn: "exports_total_usd_bn", "USD bn a year", PerHost, Sum, "Host's exports to all partners, annual rate";
        ImportsTotalUsdBn: "imports_total_usd_bn", "USD bn a year", PerHost, Sum, "Host's imports from all partners, annual rate";
        TradeConcentrationHhi: "trade_concentration_hhi", "index (0-1)", PerHost, Special, "Herfindahl index of partner shares of trade (others counted as one partner)";
        FdiStockUsdBn: "fdi_stock_usd_bn", "USD bn", PerPartner, Sum, "Direct investment stock from the patron";
        FdiInflowUsdBn: "fdi_inflow_usd_bn", "USD bn a year", PerPartner, Sum, "Direct investment from the patron this quarter, annual rate: projects' equity, mining and other investors from the patron (net of what the start's stock implies, so it can be negative)";
        FdiInflowTotalUsdBn: "fdi_inflow_total_usd_bn", "USD bn a year", PerHost, Sum, "Direct investment from all origins this quarter, annual rate: the patrons' and other investors'";
        PledgedUsdBn: "pledged_usd_bn", "USD bn a quarter", PerPartner, Sum, "Investment pledged (accepted offers) this quarter";
        DisbursedUsdBn: "disbursed_usd_bn", "USD bn a quarter", PerPartner, Sum, "Pledged investment disbursed as projects this quarter";
        PledgedCumulativeUsdBn: "pledged_cumulative_usd_bn", "USD bn", PerPartner, Sum, "Investment pledged since the start";
        DisbursedCumulativeUsdBn: "disbursed_cumulative_usd_bn", "USD bn", PerPartner, Sum, "Investment disbursed since the start";
        SecurityDependence: "security_dependence", "share (0-1)", PerPartner, Mean, "Patron's share of the host's stock of arms and security assistance";
        Leverage: "leverage", "index (0-1)", PerPartner, Mean, "Patron's leverage over the host: trade, security, remittance and debt dependence";
        Acceptance: "acceptance", "share of offer (0-1)", PerPartner, Mean, "Share of the patron's offer the host accepted this quarter";
        Credibility: "credibility", "share (0-1)", PerPartner, Special, "Patron's credibility: the share of its recent pledges it delivered (same for every host)";
        AbsorptiveCapacity: "absorptive_capacity", "share (0-1)", PerHost, Mean, "Host's capacity to turn pledges into projects, moved by the projects delivered to it";
        DebtToPatronPctGdp: "debt_to_patron_pct_gdp", "% of GDP", PerPartner, Special, "Public debt owed to the patron";
        GdpUsdBn: "gdp_usd_bn", "USD bn a year", PerHost, Sum, "Gross domestic product, current USD";
        GovtDebtPctGdp: "govt_debt_pct_gdp", "% of GDP", PerHost, Special, "General government gross debt";
        ConversionRatio: "conversion_ratio", "share (0-1)", PerPartner, Special, "Investment disbursed since the start over pledges that have come due since the start";
        ReexportUsdBn: "reexport_usd_bn", "USD bn a year", PerPartner, Sum, "Re-export trade with the (sanctioned) patron carried through the host, each leg counted";
        SecondarySanctionRisk: "secondary_sanction_risk", "index (0-1)", PerPartner, Mean, "Risk of secondary sanctions from the (enforcing) patron on the host's re-export trade";
        RemittancesUsdBn: "remittances_usd_bn", "USD bn a year", PerHost, Sum, "Personal remittances received";
        RemittancesPctGdp: "remittances_pct_gdp", "% of GDP", PerHost, Special, "Personal remittances received, share of GDP";
        MiningInvestmentCumulativeUsdBn: "mining_investment_cumulative_usd_bn", "USD bn", PerPartner, Sum, "Exploration and development spending by the patron's firms since the start";
        DepositsMapped: "deposits_mapped", "count", PerHost, Sum, "Deposits mapped or further along (abandoned ones excluded)";
        DepositsProducing: "deposits_producing", "count", PerHost, Sum, "Deposits in production";
        MineralsToPatronShare: "minerals_to_patron_share", "share of output value (0-1)", PerPartner, Special, "Share of the host's mineral output (by value) that reaches the patron's supply chain";
    }
}

catalogue! {
    /// A metric formed per commodity; its name is `<prefix>.<commodity id>`.
    CommodityMetric, COMMODITY_METRICS {
        Production: "production_t", "tonnes a year", PerHost, Sum, "Mine production of the commodity";
        WorldShare: "world_share", "share of world production (0-1)", PerHost, Sum, "Share of world mine production of the commodity";
        SupplyShare: "supply_share", "share of output (0-1)", PerPartner, Special, "Share of the commodity's output that reaches the patron's supply chain (the rest: other patrons or the world market)";
    }
}

catalogue! {
    /// A regional metric formed per route (C5 row only); its name is `<prefix>.<route id>`.
    RouteMetric, ROUTE_METRICS {
        Cargo: "route_cargo_mt", "Mt a year", PerHost, Special, "Freight carried on the route between Asia and Europe";
        Share: "route_share", "share of overland freight (0-1)", PerHost, Special, "Route's share of the Asia-Europe overland freight carried";
        Cost: "route_cost_usd_per_t", "USD per tonne", PerHost, Special, "Generalised cost of the route: freight rate plus the cost of time and risk";
    }
}

/// One metric of a scenario's catalogue: a base metric, or one formed per commodity or route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricSpec {
    pub name: String,
    pub unit: &'static str,
    pub per_partner: bool,
    pub combine: Combine,
    pub description: String,
    /// Only the all-hosts row exists (routes are regional).
    pub regional: bool,
}

impl MetricSpec {
    fn from_base(m: &Metric) -> MetricSpec {
        MetricSpec {
            name: m.name.to_string(),
            unit: m.unit,
            per_partner: m.per_partner,
            combine: m.combine,
            description: m.description.to_string(),
            regional: false,
        }
    }
}

/// Where each metric's cells sit in a step's vector.
#[derive(Debug, Clone)]
pub struct MetricLayout {
    pub host_labels: Vec<String>,
    pub partner_labels: Vec<String>,
    /// The scenario's metrics: [`METRICS`] in order, then per commodity, then per route.
    specs: Vec<MetricSpec>,
    /// First cell of each metric.
    offsets: Vec<usize>,
    n_cells: usize,
    n_commodities: usize,
    n_routes: usize,
}

/// One cell's coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    pub metric: usize,
    /// Index into `host_labels`; the last one is the all-hosts row.
    pub host: usize,
    pub partner: Option<usize>,
}

impl MetricLayout {
    pub fn new(scenario: &Scenario) -> MetricLayout {
        let mut host_labels: Vec<String> = scenario.hosts.iter().map(|h| h.id.clone()).collect();
        host_labels.push(ALL_HOSTS.to_string());
        let partner_labels: Vec<String> = scenario.patrons.iter().map(|p| p.id.clone()).collect();
        let mut specs: Vec<MetricSpec> = METRICS.iter().map(MetricSpec::from_base).collect();
        for commodity in &scenario.commodities {
            for m in COMMODITY_METRICS {
                let mut spec = MetricSpec::from_base(m);
                spec.name = format!("{}.{}", m.name, commodity.id);
                spec.description = format!("{}: {}", m.description, commodity.name);
                // Supply shares are regional: where the five's output goes.
                spec.regional = m.name == CommodityMetric::SupplyShare.name();
                specs.push(spec);
            }
        }
        for route in &scenario.routes {
            for m in ROUTE_METRICS {
                let mut spec = MetricSpec::from_base(m);
                spec.name = format!("{}.{}", m.name, route.id);
                spec.description = format!("{}: {}", m.description, route.name);
                spec.regional = true;
                specs.push(spec);
            }
        }
        let mut offsets = Vec::with_capacity(specs.len());
        let mut n = 0;
        for spec in &specs {
            offsets.push(n);
            let rows = if spec.regional { 1 } else { host_labels.len() };
            n += rows * if spec.per_partner { partner_labels.len() } else { 1 };
        }
        MetricLayout {
            host_labels,
            partner_labels,
            specs,
            offsets,
            n_cells: n,
            n_commodities: scenario.commodities.len(),
            n_routes: scenario.routes.len(),
        }
    }

    /// Whether scenarios `a` and `b` have one layout, without building either: the same
    /// hosts and patrons (by id), commodities and routes (by id and name), which is all
    /// [`MetricLayout::new`] reads. An analysis asks this of each of its points, where
    /// building the layout (a name and a description formatted per metric) would cost
    /// more than the rest of the check.
    pub fn same(a: &Scenario, b: &Scenario) -> bool {
        fn alike<T>(x: &[T], y: &[T], key: impl Fn(&T) -> (&str, &str)) -> bool {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| key(p) == key(q))
        }
        alike(&a.hosts, &b.hosts, |h| (&h.id, ""))
            && alike(&a.patrons, &b.patrons, |p| (&p.id, ""))
            && alike(&a.commodities, &b.commodities, |c| (&c.id, &c.name))
            && alike(&a.routes, &b.routes, |r| (&r.id, &r.name))
    }

    /// Every metric of the scenario, in output order.
    pub fn metrics(&self) -> &[MetricSpec] {
        &self.specs
    }

    pub fn metric(&self, index: usize) -> &MetricSpec {
        &self.specs[index]
    }

    /// Index of a metric by its full name (e.g. `alignment`, `production_t.uranium`).
    pub fn find(&self, name: &str) -> Option<usize> {
        self.specs.iter().position(|m| m.name == name)
    }

    /// Index of the all-hosts row.
    pub fn all_hosts_row(&self) -> usize {
        self.host_labels.len() - 1
    }

    pub fn n_cells(&self) -> usize {
        self.n_cells
    }

    pub fn n_rows(&self) -> usize {
        self.host_labels.len()
    }

    /// Index of a base metric: they come first, in catalogue order.
    pub fn base(&self, metric: MetricId) -> usize {
        metric as usize
    }

    /// Index of a per-commodity metric of the scenario's commodity `commodity`.
    pub fn commodity(&self, metric: CommodityMetric, commodity: usize) -> usize {
        debug_assert!(commodity < self.n_commodities);
        METRICS.len() + commodity * COMMODITY_METRICS.len() + metric as usize
    }

    /// Index of a per-route metric of the scenario's route `route`.
    pub fn route(&self, metric: RouteMetric, route: usize) -> usize {
        debug_assert!(route < self.n_routes);
        METRICS.len() + self.n_commodities * COMMODITY_METRICS.len() + route * ROUTE_METRICS.len() + metric as usize
    }

    /// Commodities and routes the layout has metrics for.
    pub fn n_commodities(&self) -> usize {
        self.n_commodities
    }

    pub fn n_routes(&self) -> usize {
        self.n_routes
    }

    /// Index of a cell. A regional metric has only the all-hosts row.
    pub fn index(&self, metric: usize, host: usize, partner: Option<usize>) -> usize {
        let np = self.partner_labels.len();
        let host = if self.specs[metric].regional { 0 } else { host };
        match partner {
            Some(p) => self.offsets[metric] + host * np + p,
            None => self.offsets[metric] + host,
        }
    }

    /// Every cell in output order: metric, then host, then partner.
    pub fn cells(&self) -> impl Iterator<Item = Cell> + '_ {
        let np = self.partner_labels.len();
        let nrows = self.host_labels.len();
        self.specs.iter().enumerate().flat_map(move |(m, metric)| {
            let rows = if metric.regional { nrows - 1..nrows } else { 0..nrows };
            rows.flat_map(move |h| {
                let partners: Vec<Option<usize>> = if metric.per_partner {
                    (0..np).map(Some).collect()
                } else {
                    vec![None]
                };
                partners.into_iter().map(move |p| Cell {
                    metric: m,
                    host: h,
                    partner: p,
                })
            })
        })
    }

    pub fn partner_label(&self, partner: Option<usize>) -> &str {
        partner.map_or("", |p| self.partner_labels[p].as_str())
    }
}

/// Writes one step's outcomes of `sim` into `out` (length `layout.n_cells()`).
pub fn record(sim: &Simulation<'_>, layout: &MetricLayout, out: &mut [f64]) {
    let scenario = sim.scenario();
    let nh = scenario.n_hosts();
    let np = scenario.n_patrons();
    let all = nh;
    let idx = |metric: MetricId| layout.base(metric);
    let minerals = &sim.minerals;

    // Per-partner metrics read directly from host x patron state.
    let mut rows = Rows { out, layout, nh, np };
    rows.copy(MetricId::Alignment, &sim.alignment);
    rows.copy(MetricId::TradeTurnoverUsdBn, &sim.trade_usd_bn);
    rows.pairs(MetricId::TradeShare, |h, p| {
        ratio(sim.trade_usd_bn[h * np + p], sim.total_trade(h))
    });
    rows.copy(MetricId::FdiStockUsdBn, &sim.fdi_stock_usd_bn);
    rows.pairs(MetricId::FdiInflowUsdBn, |h, p| 4.0 * sim.fdi_inflow_usd_bn[h * np + p]);
    rows.copy(MetricId::ExportsUsdBn, &sim.exports_usd_bn);
    rows.pairs(MetricId::ImportsUsdBn, |h, p| {
        sim.trade_usd_bn[h * np + p] - sim.exports_usd_bn[h * np + p]
    });
    rows.copy(MetricId::PledgedUsdBn, &sim.pledged_usd_bn);
    rows.copy(MetricId::DisbursedUsdBn, &sim.disbursed_usd_bn);
    rows.copy(MetricId::PledgedCumulativeUsdBn, &sim.pledged_cumulative_usd_bn);
    rows.copy(MetricId::DisbursedCumulativeUsdBn, &sim.disbursed_cumulative_usd_bn);
    rows.pairs(MetricId::SecurityDependence, |h, p| {
        ratio(sim.security_stock[h * np + p], sim.total_security(h))
    });
    rows.copy(MetricId::Leverage, &sim.leverage);
    rows.pairs(MetricId::Acceptance, |h, p| sim.decisions[h * np + p].acceptance);
    rows.pairs(MetricId::DebtToPatronPctGdp, |h, p| {
        100.0 * sim.debt_to_patron_usd_bn[h * np + p] / sim.gdp_usd_bn[h]
    });
    rows.pairs(MetricId::ConversionRatio, |h, p| {
        ratio(
            sim.disbursed_cumulative_usd_bn[h * np + p],
            sim.pledged_due_cumulative_usd_bn[h * np + p],
        )
    });
    rows.copy(MetricId::ReexportUsdBn, &sim.reexport_usd_bn);
    rows.copy(MetricId::SecondarySanctionRisk, &sim.sanction_risk);
    rows.copy(
        MetricId::MiningInvestmentCumulativeUsdBn,
        &sim.mining_investment_cumulative_usd_bn,
    );
    rows.pairs(MetricId::MineralsToPatronShare, |h, p| {
        let row = &minerals.host_supply_value[h * (np + 1)..(h + 1) * (np + 1)];
        ratio(row[p], row.iter().sum())
    });
    let credibility = layout.offsets[idx(MetricId::Credibility)];
    for row in rows.out[credibility..credibility + (nh + 1) * np].chunks_exact_mut(np) {
        row.copy_from_slice(&sim.credibility[..np]);
    }

    rows.hosts(MetricId::HedgingIndex, |h| {
        1.0 - sim.alignment[h * np..(h + 1) * np].iter().map(|a| a * a).sum::<f64>()
    });
    rows.hosts(MetricId::TradeTotalUsdBn, |h| sim.total_trade(h));
    rows.hosts(MetricId::ExportsTotalUsdBn, |h| sim.total_exports(h));
    rows.hosts(MetricId::ImportsTotalUsdBn, |h| {
        sim.total_trade(h) - sim.total_exports(h)
    });
    rows.hosts(MetricId::FdiInflowTotalUsdBn, |h| {
        4.0 * (sim.fdi_inflow_usd_bn[h * np..(h + 1) * np].iter().sum::<f64>() + sim.other_fdi_inflow_usd_bn(h))
    });
    rows.hosts(MetricId::AbsorptiveCapacity, |h| sim.absorptive_capacity[h]);
    rows.hosts(MetricId::TradeConcentrationHhi, |h| {
        let total = sim.total_trade(h);
        let patrons: f64 = (0..np)
            .map(|p| ratio(sim.trade_usd_bn[h * np + p], total).powi(2))
            .sum();
        patrons + ratio(sim.other_trade_usd_bn[h], total).powi(2)
    });
    rows.hosts(MetricId::GdpUsdBn, |h| sim.gdp_usd_bn[h]);
    rows.hosts(MetricId::GovtDebtPctGdp, |h| sim.debt_pct_gdp(h));
    rows.hosts(MetricId::RemittancesUsdBn, |h| sim.remittances_usd_bn[h]);
    rows.hosts(MetricId::RemittancesPctGdp, |h| {
        100.0 * sim.remittances_usd_bn[h] / sim.gdp_usd_bn[h]
    });
    rows.hosts(MetricId::DepositsMapped, |h| {
        f64::from(minerals.count_at_least(h, Stage::Mapped))
    });
    rows.hosts(MetricId::DepositsProducing, |h| {
        f64::from(minerals.count_at_least(h, Stage::Producing))
    });
    let out = rows.out;

    // Per commodity.
    let nc = layout.n_commodities;
    for (c, commodity) in scenario.commodities.iter().enumerate() {
        let production = layout.commodity(CommodityMetric::Production, c);
        let world_share = layout.commodity(CommodityMetric::WorldShare, c);
        let supply_share = layout.commodity(CommodityMetric::SupplyShare, c);
        for h in 0..nh {
            let tonnes = minerals.production_t[h * nc + c];
            out[layout.index(production, h, None)] = tonnes;
            out[layout.index(world_share, h, None)] = ratio(tonnes, commodity.world_production_t);
        }
        let supply = &minerals.supply_t[c * (np + 1)..(c + 1) * (np + 1)];
        let total: f64 = supply.iter().sum();
        for p in 0..np {
            out[layout.index(supply_share, all, Some(p))] = ratio(supply[p], total);
        }
    }

    // Per route (regional).
    for r in 0..scenario.routes.len() {
        let cell = |metric: RouteMetric| layout.index(layout.route(metric, r), all, None);
        out[cell(RouteMetric::Cargo)] = sim.routes.flow_mt[r];
        out[cell(RouteMetric::Share)] = sim.routes.share(&scenario.routes, r);
        out[cell(RouteMetric::Cost)] = sim.routes.generalised_cost[r];
    }

    // The all-hosts row of the per-host metrics.
    for (m, metric) in layout.specs.iter().enumerate() {
        if metric.regional || metric.combine == Combine::Special {
            continue;
        }
        // Not regional: the hosts' rows, then the all-hosts row, `width` cells each.
        let width = if metric.per_partner { np } else { 1 };
        let (hosts, all_row) = out[layout.offsets[m]..].split_at_mut(nh * width);
        for (k, total) in all_row[..width].iter_mut().enumerate() {
            let sum: f64 = (0..nh).map(|h| hosts[h * width + k]).sum();
            *total = match metric.combine {
                Combine::Mean => sum / nh as f64,
                _ => sum,
            };
        }
    }
    let region_trade: f64 = (0..nh).map(|h| sim.total_trade(h)).sum();
    let region_gdp: f64 = sim.gdp_usd_bn.iter().sum();
    let trade_share = idx(MetricId::TradeShare);
    let debt_to_patron = idx(MetricId::DebtToPatronPctGdp);
    let conversion = idx(MetricId::ConversionRatio);
    let minerals_share = idx(MetricId::MineralsToPatronShare);
    let region_minerals: f64 = minerals.host_supply_value.iter().sum();
    let mut hhi = ratio((0..nh).map(|h| sim.other_trade_usd_bn[h]).sum(), region_trade).powi(2);
    for p in 0..np {
        let partner_trade: f64 = (0..nh).map(|h| sim.trade_usd_bn[h * np + p]).sum();
        let share = ratio(partner_trade, region_trade);
        out[layout.index(trade_share, all, Some(p))] = share;
        hhi += share * share;
        let debt: f64 = (0..nh).map(|h| sim.debt_to_patron_usd_bn[h * np + p]).sum();
        out[layout.index(debt_to_patron, all, Some(p))] = 100.0 * ratio(debt, region_gdp);
        let disbursed: f64 = (0..nh).map(|h| sim.disbursed_cumulative_usd_bn[h * np + p]).sum();
        let due: f64 = (0..nh).map(|h| sim.pledged_due_cumulative_usd_bn[h * np + p]).sum();
        out[layout.index(conversion, all, Some(p))] = ratio(disbursed, due);
        let to_patron: f64 = (0..nh).map(|h| minerals.host_supply_value[h * (np + 1) + p]).sum();
        out[layout.index(minerals_share, all, Some(p))] = ratio(to_patron, region_minerals);
    }
    out[layout.index(idx(MetricId::TradeConcentrationHhi), all, None)] = hhi;
    let region_debt: f64 = (0..nh).map(|h| sim.total_debt(h)).sum();
    out[layout.index(idx(MetricId::GovtDebtPctGdp), all, None)] = 100.0 * ratio(region_debt, region_gdp);
    let region_remittances: f64 = sim.remittances_usd_bn.iter().sum();
    out[layout.index(idx(MetricId::RemittancesPctGdp), all, None)] = 100.0 * ratio(region_remittances, region_gdp);
}

/// Writes the hosts' rows of one metric at a time. The readers are generic, so each
/// metric's loop is compiled with its reader inlined (no call through a pointer per cell).
struct Rows<'a> {
    out: &'a mut [f64],
    layout: &'a MetricLayout,
    nh: usize,
    np: usize,
}

impl Rows<'_> {
    /// The hosts' cells of a base metric: a base metric is never regional, so its
    /// hosts' rows are the first `nh` rows from its offset, host-major (a step writes
    /// hundreds of cells, and each one's index looked up was most of its cost).
    fn cells(&mut self, metric: MetricId, per_host: usize) -> &mut [f64] {
        let start = self.layout.offsets[self.layout.base(metric)];
        &mut self.out[start..start + self.nh * per_host]
    }

    /// A per-partner metric, from a reader of host `h` and patron `p`.
    fn pairs(&mut self, metric: MetricId, read: impl Fn(usize, usize) -> f64) {
        let np = self.np;
        for (h, row) in self.cells(metric, np).chunks_exact_mut(np).enumerate() {
            for (p, cell) in row.iter_mut().enumerate() {
                *cell = read(h, p);
            }
        }
    }

    /// A per-partner metric that is a host-major host-and-patron vector of the state.
    fn copy(&mut self, metric: MetricId, values: &[f64]) {
        let n = self.nh * self.np;
        self.cells(metric, self.np).copy_from_slice(&values[..n]);
    }

    /// A per-host metric, from a reader of host `h`.
    fn hosts(&mut self, metric: MetricId, read: impl Fn(usize) -> f64) {
        for (h, cell) in self.cells(metric, 1).iter_mut().enumerate() {
            *cell = read(h);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenarios_of_one_layout_are_told_without_building_it() {
        let loaded = crate::scenario::load_builtin_baseline().expect("the built-in baseline loads");
        let a = &loaded.scenario;
        let layout = |s: &Scenario| {
            let l = MetricLayout::new(s);
            (l.host_labels, l.partner_labels, l.specs, l.offsets, l.n_cells)
        };
        let mut b = a.clone();
        b.horizon_quarters += 4;
        assert!(MetricLayout::same(a, &b) && layout(a) == layout(&b));
        let changes: [fn(&mut Scenario); 5] = [
            |s| s.hosts[1].id = "XYZ".into(),
            |s| s.patrons.truncate(2),
            |s| s.commodities[0].id = "tin".into(),
            |s| s.commodities[0].name = "Tin".into(),
            |s| s.routes[0].name = "Another road".into(),
        ];
        for change in changes {
            let mut b = a.clone();
            change(&mut b);
            assert!(!MetricLayout::same(a, &b));
            assert!(layout(a) != layout(&b), "the layout does differ");
        }
    }

    #[test]
    fn a_step_writes_every_cell() {
        // The ensemble reuses a replicate's buffer without clearing it: every cell must
        // be written, on a scenario with every kind of metric.
        let loaded = crate::scenario::load_builtin_baseline().expect("the built-in baseline loads");
        let scenario = &loaded.scenario;
        assert!(!scenario.commodities.is_empty() && !scenario.routes.is_empty());
        let layout = MetricLayout::new(scenario);
        let mut sim = Simulation::new(scenario);
        let mut rng = crate::ensemble::replicate_rng(1, 0);
        let mut out = vec![f64::NAN; layout.n_cells()];
        for _ in 0..2 {
            sim.step(&mut rng).expect("the baseline steps");
            out.fill(f64::NAN);
            record(&sim, &layout, &mut out);
            let unwritten: Vec<Cell> = layout
                .cells()
                .filter(|c| out[layout.index(c.metric, c.host, c.partner)].is_nan())
                .collect();
            assert!(unwritten.is_empty(), "cells not written: {unwritten:?}");
            assert!(out.iter().all(|v| v.is_finite()));
        }
    }

    #[test]
    fn every_metric_has_one_name_and_the_layout_puts_it_where_its_identity_says() {
        let loaded = crate::scenario::load_builtin_baseline().expect("the built-in baseline loads");
        let layout = MetricLayout::new(&loaded.scenario);
        for &metric in MetricId::ALL {
            assert_eq!(MetricId::from_name(metric.name()), Some(metric));
            assert_eq!(layout.metric(layout.base(metric)).name, metric.name());
        }
        for (c, commodity) in loaded.scenario.commodities.iter().enumerate() {
            for &metric in CommodityMetric::ALL {
                let name = format!("{}.{}", metric.name(), commodity.id);
                assert_eq!(layout.find(&name), Some(layout.commodity(metric, c)));
            }
        }
        for (r, route) in loaded.scenario.routes.iter().enumerate() {
            for &metric in RouteMetric::ALL {
                let name = format!("{}.{}", metric.name(), route.id);
                assert_eq!(layout.find(&name), Some(layout.route(metric, r)));
            }
        }
        let mut names: Vec<&str> = METRICS
            .iter()
            .chain(COMMODITY_METRICS)
            .chain(ROUTE_METRICS)
            .map(|m| m.name)
            .collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(
            names.len(),
            METRICS.len() + COMMODITY_METRICS.len() + ROUTE_METRICS.len()
        );
    }
}
