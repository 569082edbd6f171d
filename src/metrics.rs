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

/// Every metric, in output order.
pub const METRICS: [Metric; 27] = [
    Metric {
        name: "alignment",
        unit: "share (0-1, sums to 1 over partners)",
        per_partner: true,
        combine: Combine::Mean,
        description: "Host's alignment with the patron",
    },
    Metric {
        name: "hedging_index",
        unit: "index (0-1)",
        per_partner: false,
        combine: Combine::Mean,
        description: "One minus the Herfindahl index of alignment: room to manoeuvre",
    },
    Metric {
        name: "trade_turnover_usd_bn",
        unit: "USD bn a year",
        per_partner: true,
        combine: Combine::Sum,
        description: "Exports plus imports with the patron, annual rate",
    },
    Metric {
        name: "trade_share",
        unit: "share of total trade (0-1)",
        per_partner: true,
        combine: Combine::Special,
        description: "Patron's share of the host's trade with all partners",
    },
    Metric {
        name: "trade_total_usd_bn",
        unit: "USD bn a year",
        per_partner: false,
        combine: Combine::Sum,
        description: "Trade with all partners, patrons and others",
    },
    Metric {
        name: "trade_concentration_hhi",
        unit: "index (0-1)",
        per_partner: false,
        combine: Combine::Special,
        description: "Herfindahl index of partner shares of trade (others counted as one partner)",
    },
    Metric {
        name: "fdi_stock_usd_bn",
        unit: "USD bn",
        per_partner: true,
        combine: Combine::Sum,
        description: "Direct investment stock from the patron",
    },
    Metric {
        name: "pledged_usd_bn",
        unit: "USD bn a quarter",
        per_partner: true,
        combine: Combine::Sum,
        description: "Investment pledged (accepted offers) this quarter",
    },
    Metric {
        name: "disbursed_usd_bn",
        unit: "USD bn a quarter",
        per_partner: true,
        combine: Combine::Sum,
        description: "Pledged investment disbursed as projects this quarter",
    },
    Metric {
        name: "pledged_cumulative_usd_bn",
        unit: "USD bn",
        per_partner: true,
        combine: Combine::Sum,
        description: "Investment pledged since the start",
    },
    Metric {
        name: "disbursed_cumulative_usd_bn",
        unit: "USD bn",
        per_partner: true,
        combine: Combine::Sum,
        description: "Investment disbursed since the start",
    },
    Metric {
        name: "security_dependence",
        unit: "share (0-1)",
        per_partner: true,
        combine: Combine::Mean,
        description: "Patron's share of the host's stock of arms and security assistance",
    },
    Metric {
        name: "leverage",
        unit: "index (0-1)",
        per_partner: true,
        combine: Combine::Mean,
        description: "Patron's leverage over the host: trade, security, remittance and debt dependence",
    },
    Metric {
        name: "acceptance",
        unit: "share of offer (0-1)",
        per_partner: true,
        combine: Combine::Mean,
        description: "Share of the patron's offer the host accepted this quarter",
    },
    Metric {
        name: "credibility",
        unit: "probability (0-1)",
        per_partner: true,
        combine: Combine::Special,
        description:
            "Patron's credibility: chance a pledged project is delivered at full capacity (same for every host)",
    },
    Metric {
        name: "debt_to_patron_pct_gdp",
        unit: "% of GDP",
        per_partner: true,
        combine: Combine::Special,
        description: "Public debt owed to the patron",
    },
    Metric {
        name: "gdp_usd_bn",
        unit: "USD bn a year",
        per_partner: false,
        combine: Combine::Sum,
        description: "Gross domestic product, current USD",
    },
    Metric {
        name: "govt_debt_pct_gdp",
        unit: "% of GDP",
        per_partner: false,
        combine: Combine::Special,
        description: "General government gross debt",
    },
    Metric {
        name: "conversion_ratio",
        unit: "share (0-1)",
        per_partner: true,
        combine: Combine::Special,
        description: "Investment disbursed since the start over pledges that have come due since the start",
    },
    Metric {
        name: "reexport_usd_bn",
        unit: "USD bn a year",
        per_partner: true,
        combine: Combine::Sum,
        description: "Re-export trade with the (sanctioned) patron carried through the host, each leg counted",
    },
    Metric {
        name: "secondary_sanction_risk",
        unit: "index (0-1)",
        per_partner: true,
        combine: Combine::Mean,
        description: "Risk of secondary sanctions from the (enforcing) patron on the host's re-export trade",
    },
    Metric {
        name: "remittances_usd_bn",
        unit: "USD bn a year",
        per_partner: false,
        combine: Combine::Sum,
        description: "Personal remittances received",
    },
    Metric {
        name: "remittances_pct_gdp",
        unit: "% of GDP",
        per_partner: false,
        combine: Combine::Special,
        description: "Personal remittances received, share of GDP",
    },
    Metric {
        name: "mining_investment_cumulative_usd_bn",
        unit: "USD bn",
        per_partner: true,
        combine: Combine::Sum,
        description: "Exploration and development spending by the patron's firms since the start",
    },
    Metric {
        name: "deposits_mapped",
        unit: "count",
        per_partner: false,
        combine: Combine::Sum,
        description: "Deposits mapped or further along (abandoned ones excluded)",
    },
    Metric {
        name: "deposits_producing",
        unit: "count",
        per_partner: false,
        combine: Combine::Sum,
        description: "Deposits in production",
    },
    Metric {
        name: "minerals_to_patron_share",
        unit: "share of output value (0-1)",
        per_partner: true,
        combine: Combine::Special,
        description: "Share of the host's mineral output (by value) that reaches the patron's supply chain",
    },
];

/// Metrics formed per commodity; the name is `<prefix>.<commodity id>`.
pub const COMMODITY_METRICS: [Metric; 3] = [
    Metric {
        name: "production_t",
        unit: "tonnes a year",
        per_partner: false,
        combine: Combine::Sum,
        description: "Mine production of the commodity",
    },
    Metric {
        name: "world_share",
        unit: "share of world production (0-1)",
        per_partner: false,
        combine: Combine::Sum,
        description: "Share of world mine production of the commodity",
    },
    Metric {
        name: "supply_share",
        unit: "share of output (0-1)",
        per_partner: true,
        combine: Combine::Special,
        description: "Share of the commodity's output that reaches the patron's supply chain (the rest: other patrons or the world market)",
    },
];

/// Regional metrics formed per route (C5 row only); the name is `<prefix>.<route id>`.
pub const ROUTE_METRICS: [Metric; 3] = [
    Metric {
        name: "route_cargo_mt",
        unit: "Mt a year",
        per_partner: false,
        combine: Combine::Special,
        description: "Freight carried on the route between Asia and Europe",
    },
    Metric {
        name: "route_share",
        unit: "share of overland freight (0-1)",
        per_partner: false,
        combine: Combine::Special,
        description: "Route's share of the Asia-Europe overland freight carried",
    },
    Metric {
        name: "route_cost_usd_per_t",
        unit: "USD per tonne",
        per_partner: false,
        combine: Combine::Special,
        description: "Generalised cost of the route: freight rate plus the cost of time and risk",
    },
];

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
            for m in &COMMODITY_METRICS {
                let mut spec = MetricSpec::from_base(m);
                spec.name = format!("{}.{}", m.name, commodity.id);
                spec.description = format!("{}: {}", m.description, commodity.name);
                // Supply shares are regional: where the five's output goes.
                spec.regional = m.name == "supply_share";
                specs.push(spec);
            }
        }
        for route in &scenario.routes {
            for m in &ROUTE_METRICS {
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
        }
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

    pub fn metric_index(name: &str) -> Option<usize> {
        METRICS.iter().position(|m| m.name == name)
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
    let idx = |name: &str| MetricLayout::metric_index(name).expect("metric is in the catalogue");
    let minerals = &sim.minerals;

    // Per-partner metrics read directly from host x patron state.
    let per_partner: [(&str, &PairReader<'_>); 17] = [
        ("alignment", &|h, p| sim.alignment[h * np + p]),
        ("trade_turnover_usd_bn", &|h, p| sim.trade_usd_bn[h * np + p]),
        ("trade_share", &|h, p| {
            ratio(sim.trade_usd_bn[h * np + p], sim.total_trade(h))
        }),
        ("fdi_stock_usd_bn", &|h, p| sim.fdi_stock_usd_bn[h * np + p]),
        ("pledged_usd_bn", &|h, p| sim.pledged_usd_bn[h * np + p]),
        ("disbursed_usd_bn", &|h, p| sim.disbursed_usd_bn[h * np + p]),
        ("pledged_cumulative_usd_bn", &|h, p| {
            sim.pledged_cumulative_usd_bn[h * np + p]
        }),
        ("disbursed_cumulative_usd_bn", &|h, p| {
            sim.disbursed_cumulative_usd_bn[h * np + p]
        }),
        ("security_dependence", &|h, p| {
            ratio(sim.security_stock[h * np + p], sim.total_security(h))
        }),
        ("leverage", &|h, p| sim.leverage[h * np + p]),
        ("acceptance", &|h, p| sim.decisions[h * np + p].acceptance),
        ("debt_to_patron_pct_gdp", &|h, p| {
            100.0 * sim.debt_to_patron_usd_bn[h * np + p] / sim.gdp_usd_bn[h]
        }),
        ("conversion_ratio", &|h, p| {
            ratio(
                sim.disbursed_cumulative_usd_bn[h * np + p],
                sim.pledged_due_cumulative_usd_bn[h * np + p],
            )
        }),
        ("reexport_usd_bn", &|h, p| sim.reexport_usd_bn[h * np + p]),
        ("secondary_sanction_risk", &|h, p| sim.sanction_risk[h * np + p]),
        ("mining_investment_cumulative_usd_bn", &|h, p| {
            sim.mining_investment_cumulative_usd_bn[h * np + p]
        }),
        ("minerals_to_patron_share", &|h, p| {
            let row = &minerals.host_supply_value[h * (np + 1)..(h + 1) * (np + 1)];
            ratio(row[p], row.iter().sum())
        }),
    ];
    for (name, read) in per_partner {
        let m = idx(name);
        for h in 0..nh {
            for p in 0..np {
                out[layout.index(m, h, Some(p))] = read(h, p);
            }
        }
    }
    let credibility = idx("credibility");
    for h in 0..=nh {
        for p in 0..np {
            out[layout.index(credibility, h, Some(p))] = sim.credibility[p];
        }
    }

    let per_host: [(&str, &HostReader<'_>); 9] = [
        ("hedging_index", &|h| {
            1.0 - sim.alignment[h * np..(h + 1) * np].iter().map(|a| a * a).sum::<f64>()
        }),
        ("trade_total_usd_bn", &|h| sim.total_trade(h)),
        ("trade_concentration_hhi", &|h| {
            let total = sim.total_trade(h);
            let patrons: f64 = (0..np)
                .map(|p| ratio(sim.trade_usd_bn[h * np + p], total).powi(2))
                .sum();
            patrons + ratio(sim.other_trade_usd_bn[h], total).powi(2)
        }),
        ("gdp_usd_bn", &|h| sim.gdp_usd_bn[h]),
        ("govt_debt_pct_gdp", &|h| sim.debt_pct_gdp(h)),
        ("remittances_usd_bn", &|h| sim.remittances_usd_bn[h]),
        ("remittances_pct_gdp", &|h| {
            100.0 * sim.remittances_usd_bn[h] / sim.gdp_usd_bn[h]
        }),
        ("deposits_mapped", &|h| {
            f64::from(minerals.count_at_least(h, Stage::Mapped))
        }),
        ("deposits_producing", &|h| {
            f64::from(minerals.count_at_least(h, Stage::Producing))
        }),
    ];
    for (name, read) in per_host {
        let m = idx(name);
        for h in 0..nh {
            out[layout.index(m, h, None)] = read(h);
        }
    }

    // Per commodity.
    let nc = layout.n_commodities;
    let commodity_base = METRICS.len();
    for (c, commodity) in scenario.commodities.iter().enumerate() {
        let production = commodity_base + c * COMMODITY_METRICS.len();
        let world_share = production + 1;
        let supply_share = production + 2;
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
    let route_base = commodity_base + nc * COMMODITY_METRICS.len();
    for r in 0..scenario.routes.len() {
        let cargo = route_base + r * ROUTE_METRICS.len();
        out[layout.index(cargo, all, None)] = sim.routes.flow_mt[r];
        out[layout.index(cargo + 1, all, None)] = sim.routes.share(&scenario.routes, r);
        out[layout.index(cargo + 2, all, None)] = sim.routes.generalised_cost[r];
    }

    // The all-hosts row of the per-host metrics.
    for (m, metric) in layout.specs.iter().enumerate() {
        if metric.regional {
            continue;
        }
        let partners: Vec<Option<usize>> = if metric.per_partner {
            (0..np).map(Some).collect()
        } else {
            vec![None]
        };
        for p in partners {
            let value = match metric.combine {
                Combine::Sum => (0..nh).map(|h| out[layout.index(m, h, p)]).sum(),
                Combine::Mean => (0..nh).map(|h| out[layout.index(m, h, p)]).sum::<f64>() / nh as f64,
                Combine::Special => continue,
            };
            out[layout.index(m, all, p)] = value;
        }
    }
    let region_trade: f64 = (0..nh).map(|h| sim.total_trade(h)).sum();
    let region_gdp: f64 = sim.gdp_usd_bn.iter().sum();
    let trade_share = idx("trade_share");
    let debt_to_patron = idx("debt_to_patron_pct_gdp");
    let conversion = idx("conversion_ratio");
    let minerals_share = idx("minerals_to_patron_share");
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
    out[layout.index(idx("trade_concentration_hhi"), all, None)] = hhi;
    let region_debt: f64 = (0..nh).map(|h| sim.total_debt(h)).sum();
    out[layout.index(idx("govt_debt_pct_gdp"), all, None)] = 100.0 * ratio(region_debt, region_gdp);
    let region_remittances: f64 = sim.remittances_usd_bn.iter().sum();
    out[layout.index(idx("remittances_pct_gdp"), all, None)] = 100.0 * ratio(region_remittances, region_gdp);
}

/// Reads one host-and-patron value off the state.
type PairReader<'a> = dyn Fn(usize, usize) -> f64 + 'a;
/// Reads one host value off the state.
type HostReader<'a> = dyn Fn(usize) -> f64 + 'a;
