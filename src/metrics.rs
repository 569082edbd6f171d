//! The outcomes recorded each step: names, units, and how they are read off the state.
//!
//! A replicate's record of one step is a flat vector of cells laid out by
//! [`MetricLayout`]: for every metric, one cell per host (then `C5`, the hosts together)
//! and, for metrics that have one, per partner. The layout depends only on the scenario,
//! so every replicate's vectors line up.

use crate::model::engine::ratio;
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
pub const METRICS: [Metric; 18] = [
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
];

/// Where each metric's cells sit in a step's vector.
#[derive(Debug, Clone)]
pub struct MetricLayout {
    pub host_labels: Vec<String>,
    pub partner_labels: Vec<String>,
    /// First cell of each metric, in [`METRICS`] order.
    offsets: Vec<usize>,
    n_cells: usize,
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
        let mut offsets = Vec::with_capacity(METRICS.len());
        let mut n = 0;
        for metric in &METRICS {
            offsets.push(n);
            n += host_labels.len() * if metric.per_partner { partner_labels.len() } else { 1 };
        }
        MetricLayout {
            host_labels,
            partner_labels,
            offsets,
            n_cells: n,
        }
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

    /// Index of a cell.
    pub fn index(&self, metric: usize, host: usize, partner: Option<usize>) -> usize {
        let np = self.partner_labels.len();
        match partner {
            Some(p) => self.offsets[metric] + host * np + p,
            None => self.offsets[metric] + host,
        }
    }

    /// Every cell in output order: metric, then host, then partner.
    pub fn cells(&self) -> impl Iterator<Item = Cell> + '_ {
        let np = self.partner_labels.len();
        let nrows = self.host_labels.len();
        METRICS.iter().enumerate().flat_map(move |(m, metric)| {
            (0..nrows).flat_map(move |h| {
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

    // Per-partner metrics read directly from host x patron state.
    let per_partner: [(&str, &dyn Fn(usize, usize) -> f64); 12] = [
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

    let per_host: [(&str, &dyn Fn(usize) -> f64); 5] = [
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
    ];
    for (name, read) in per_host {
        let m = idx(name);
        for h in 0..nh {
            out[layout.index(m, h, None)] = read(h);
        }
    }

    // The all-hosts row.
    for (m, metric) in METRICS.iter().enumerate() {
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
    let mut hhi = ratio((0..nh).map(|h| sim.other_trade_usd_bn[h]).sum(), region_trade).powi(2);
    for p in 0..np {
        let partner_trade: f64 = (0..nh).map(|h| sim.trade_usd_bn[h * np + p]).sum();
        let share = ratio(partner_trade, region_trade);
        out[layout.index(trade_share, all, Some(p))] = share;
        hhi += share * share;
        let debt: f64 = (0..nh).map(|h| sim.debt_to_patron_usd_bn[h * np + p]).sum();
        out[layout.index(debt_to_patron, all, Some(p))] = 100.0 * ratio(debt, region_gdp);
    }
    out[layout.index(idx("trade_concentration_hhi"), all, None)] = hhi;
    let region_debt: f64 = (0..nh).map(|h| sim.total_debt(h)).sum();
    out[layout.index(idx("govt_debt_pct_gdp"), all, None)] = 100.0 * ratio(region_debt, region_gdp);
}
