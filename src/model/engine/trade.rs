//! Trade (docs/MODEL.md §7.5, §7.6): gravity-style flows with each patron and with the
//! other partners, moved by market access, alignment, sanctions and the cost of the
//! routes the trade travels on; re-export trade around sanctions; exports of new mines;
//! secondary-sanction risk.

use super::{ratio, Simulation};

/// Tonnes of freight per USD of trade, from the freight setting in Mt per USD bn.
fn tonnes_per_usd(mt_per_usd_bn: f64) -> f64 {
    mt_per_usd_bn * 1e6 / 1e9
}

impl Simulation<'_> {
    /// Log of the relationship factor of trade with a patron: market access, alignment,
    /// sanctions and the change in the cost of reaching the patron's market (its freight
    /// cost as a share of the value traded, times the trade-cost elasticity).
    pub(super) fn trade_factor(&self, i: usize) -> f64 {
        let scenario = self.scenario;
        let params = &scenario.params;
        let p = i % scenario.n_patrons();
        params.trade_access_gain * self.trade_access[i]
            + params.trade_alignment_elasticity * (self.alignment[i] - self.initial_alignment[i])
            - params.sanctions_trade_elasticity * self.patron_levers[p].sanctions
            - self.route_cost_effect(1 + p)
    }

    /// The change in the log of trade that the change in the cost of reaching `market`
    /// since the start causes (0 for markets without routes).
    fn route_cost_effect(&self, market: usize) -> f64 {
        let freight = &self.scenario.freight;
        self.scenario.params.trade_cost_elasticity
            * tonnes_per_usd(freight.host_freight_mt_per_usd_bn)
            * self.routes.cost_change(market)
    }

    /// Re-export trade: a share of a sanctioned patron's blocked imports flows through the
    /// hosts open to it, in proportion to their trade with it, less what enforcement by
    /// the other patrons deters. Writes `reexport_usd_bn`.
    pub(super) fn update_reexports(&mut self) {
        let scenario = self.scenario;
        let np = scenario.n_patrons();
        let nh = scenario.n_hosts();
        self.reexport_usd_bn.iter_mut().for_each(|v| *v = 0.0);
        for p in 0..np {
            let sanctions = self.patron_levers[p].sanctions;
            let demand = self.budget(p, scenario.patrons[p].sanctioned_import_demand_usd_bn);
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
    }

    /// Trade flows of the quarter, their export legs, and secondary-sanction risk.
    pub(super) fn update_trade(&mut self) {
        let scenario = self.scenario;
        let np = scenario.n_patrons();
        let nh = scenario.n_hosts();
        for i in 0..self.trade_usd_bn.len() {
            let base = self.initial_trade_base_usd_bn[i] * self.gravity[i];
            self.trade_usd_bn[i] = base * (self.trade_factor(i) - self.initial_trade_factor[i]).exp();
            let h = i / np;
            self.exports_usd_bn[i] = scenario.hosts[h].ties[i % np].export_share * self.trade_usd_bn[i];
        }
        let other_route_effect = self.route_cost_effect(0);
        for h in 0..nh {
            self.other_trade_usd_bn[h] =
                self.initial_other_trade_base_usd_bn[h] * self.other_gravity[h] * (-other_route_effect).exp();
        }

        self.update_reexports();
        let minerals_exports = &self.minerals.new_export_value;
        for h in 0..nh {
            let mut reexports_in = 0.0;
            for p in 0..np {
                let i = h * np + p;
                // The leg to the sanctioned patron is an export to it; the leg from the
                // suppliers an import from other partners.
                let extra = self.reexport_usd_bn[i] + minerals_exports[h * (np + 1) + p];
                self.trade_usd_bn[i] += extra;
                self.exports_usd_bn[i] += extra;
                reexports_in += self.reexport_usd_bn[i];
            }
            let to_world = minerals_exports[h * (np + 1) + np];
            self.other_trade_with_flows_usd_bn[h] = self.other_trade_usd_bn[h] + reexports_in + to_world;
            self.other_exports_usd_bn[h] = scenario.hosts[h].other_export_share * self.other_trade_usd_bn[h] + to_world;
        }

        // Secondary-sanction risk: an enforcing patron's pressure on a host grows with the
        // share of the host's trade that is re-export, saturating at a tenth.
        for h in 0..nh {
            let reexports: f64 = (0..np).map(|p| self.reexport_usd_bn[h * np + p]).sum();
            let exposure = ratio(reexports, 0.1 * self.total_trade(h)).min(1.0);
            for q in 0..np {
                self.sanction_risk[h * np + q] = self.patron_levers[q].secondary_sanctions * exposure;
            }
        }
    }
}
