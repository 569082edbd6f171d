//! Processing capacity and the market for output (docs/MODEL.md §7.11, steps 6 and 7).

use super::*;

impl MineralsState {
    /// Processing capacity (the third pillar) grows with investment, spread over the
    /// commodities the patron processes so that each one's capacity grows in proportion to
    /// the patron's priority for it times its world production: commodity c gets the share
    /// `w_pc Q_c k_c / Σ_k w_pk Q_k k_k` of the investment (k: processing capex per tonne),
    /// or `w_pc / Σ_k w_pk` when no listed commodity has a world production.
    pub(super) fn build_processing(
        &mut self,
        spec: &MineralsSpec,
        commodities: &[Commodity],
        inputs: &MineralsInputs<'_>,
    ) {
        let nc = self.n_commodities;
        for p in 0..self.n_patrons {
            let investment = inputs.processing_investment_usd_bn[p] / 4.0;
            if investment <= 0.0 {
                continue;
            }
            let listed =
                |c: usize| self.processing_listed[p * nc + c] && commodities[c].processing_capex_usd_per_annual_t > 0.0;
            let by_market = |c: usize| {
                let commodity = &commodities[c];
                spec.priority(p, c) * commodity.world_production_t * commodity.processing_capex_usd_per_annual_t
            };
            let mut weights: Vec<f64> = (0..nc).map(|c| if listed(c) { by_market(c) } else { 0.0 }).collect();
            let mut total: f64 = weights.iter().sum();
            if total <= 0.0 {
                weights = (0..nc)
                    .map(|c| if listed(c) { spec.priority(p, c) } else { 0.0 })
                    .collect();
                total = weights.iter().sum();
            }
            if total <= 0.0 {
                continue;
            }
            for (c, weight) in weights.iter().enumerate() {
                if *weight > 0.0 {
                    let capex = commodities[c].processing_capex_usd_per_annual_t;
                    self.processing_t[p * nc + c] += investment * weight / total * 1e9 / capex;
                }
            }
        }
    }

    /// Production and the market for it. Owners take their deposits' output into their own
    /// processing up to its capacity (pro rata over their deposits). The rest is sold: from
    /// host h, processor j (a patron with free capacity F_j, or the world market with
    /// weight W_c) buys the share `F_j exp(u_hj) / Σ_k F_k exp(u_hk)`, with
    /// `u_hj = β_A (A_hj − A⁰_hj) − β_Z (z_j − z⁰_j)` and `u_h,world = 0`; a processor whose
    /// purchases would exceed its free capacity buys its capacity and the rest is shared
    /// among the others in the same way.
    pub(super) fn produce_and_sell(
        &mut self,
        spec: &MineralsSpec,
        commodities: &[Commodity],
        inputs: &MineralsInputs<'_>,
    ) {
        let (nh, nc, np) = (self.n_hosts, self.n_commodities, self.n_patrons);
        let owners = np + 1;
        let world = np;
        // Output by host, commodity and owner (patrons, then domestic): all, and from
        // capacity developed during the run.
        let mut output = vec![0.0; nh * nc * owners];
        let mut output_new = vec![0.0; nh * nc * owners];
        for &d in &self.producing {
            let i = d as usize;
            let h = self.deposit_host[i] as usize;
            let c = self.deposit_commodity[i] as usize;
            let owner = match self.owner_patron[i] {
                NONE => np,
                p => p as usize,
            };
            let slot = (h * nc + c) * owners + owner;
            output[slot] += self.capacity_t[i];
            if !self.producing_at_start[i] {
                output_new[slot] += self.capacity_t[i];
            }
        }
        self.supply_t.iter_mut().for_each(|v| *v = 0.0);
        self.host_supply_value.iter_mut().for_each(|v| *v = 0.0);
        self.new_export_value.iter_mut().for_each(|v| *v = 0.0);

        let mut free = vec![0.0; owners];
        let mut free_all = vec![0.0; nh];
        let mut free_new = vec![0.0; nh];
        let mut weights = vec![0.0; nh * owners];
        let mut remaining = vec![0.0; nh];
        let mut bought = vec![0.0; nh * owners];
        let mut open = vec![false; owners];
        let mut demand = vec![0.0; owners];
        for (c, commodity) in commodities.iter().enumerate() {
            let price_bn = commodity.price_usd_per_t / 1e9;
            let record = |state: &mut MineralsState, h: usize, dest: usize, all: f64, new: f64| {
                state.supply_t[c * owners + dest] += all;
                state.host_supply_value[h * owners + dest] += all * price_bn;
                state.new_export_value[h * owners + dest] += new * price_bn;
            };
            for h in 0..nh {
                let pair = h * nc + c;
                self.production_t[pair] = output[pair * owners..(pair + 1) * owners].iter().sum();
            }
            // The owners' offtake.
            free_all.iter_mut().for_each(|v| *v = 0.0);
            free_new.iter_mut().for_each(|v| *v = 0.0);
            for p in 0..owners {
                let capacity = if p < np { self.processing_t[p * nc + c] } else { 0.0 };
                let owned: f64 = (0..nh).map(|h| output[(h * nc + c) * owners + p]).sum();
                let taken = owned.min(capacity.max(0.0));
                let kept = if owned > 0.0 { taken / owned } else { 0.0 };
                free[p] = if p < np { capacity.max(0.0) - taken } else { 0.0 };
                for h in 0..nh {
                    let slot = (h * nc + c) * owners + p;
                    if kept > 0.0 {
                        record(self, h, p, output[slot] * kept, output_new[slot] * kept);
                    }
                    free_all[h] += output[slot] * (1.0 - kept);
                    free_new[h] += output_new[slot] * (1.0 - kept);
                }
            }
            // The market for the rest.
            let world_weight = self.world_processing_t[c];
            bought.iter_mut().for_each(|v| *v = 0.0);
            remaining.copy_from_slice(&free_all);
            if world_weight.is_infinite() {
                for h in 0..nh {
                    bought[h * owners + world] = remaining[h];
                }
            } else {
                for (j, is_open) in open.iter_mut().enumerate() {
                    *is_open = j == world || free[j] > 0.0;
                }
                for h in 0..nh {
                    for j in 0..np {
                        let slot = h * np + j;
                        let gain = spec.offtake_alignment_weight
                            * (inputs.alignment[slot] - self.initial_alignment.get(slot).copied().unwrap_or(0.0))
                            - spec.offtake_sanctions_weight
                                * (inputs.sanctions[j] - self.initial_sanctions.get(j).copied().unwrap_or(0.0));
                        weights[h * owners + j] = free[j] * gain.exp();
                    }
                    weights[h * owners + world] = world_weight;
                }
                // At most one round per processor: each round fills at least one, or ends.
                for _ in 0..owners {
                    demand.iter_mut().for_each(|v| *v = 0.0);
                    let totals: Vec<f64> = (0..nh)
                        .map(|h| (0..owners).filter(|&j| open[j]).map(|j| weights[h * owners + j]).sum())
                        .collect();
                    for h in 0..nh {
                        if remaining[h] <= 0.0 || totals[h] <= 0.0 {
                            continue;
                        }
                        for j in (0..owners).filter(|&j| open[j]) {
                            demand[j] += remaining[h] * weights[h * owners + j] / totals[h];
                        }
                    }
                    let full: Vec<usize> = (0..np).filter(|&j| open[j] && demand[j] > free[j]).collect();
                    if full.is_empty() {
                        for h in 0..nh {
                            if remaining[h] <= 0.0 {
                                continue;
                            }
                            if totals[h] <= 0.0 {
                                bought[h * owners + world] += remaining[h];
                                continue;
                            }
                            for j in (0..owners).filter(|&j| open[j]) {
                                bought[h * owners + j] += remaining[h] * weights[h * owners + j] / totals[h];
                            }
                        }
                        break;
                    }
                    // Full processors buy their capacity, pro rata over the hosts' offers.
                    for &j in &full {
                        let scale = free[j] / demand[j];
                        for h in 0..nh {
                            if remaining[h] > 0.0 && totals[h] > 0.0 {
                                let take = remaining[h] * weights[h * owners + j] / totals[h] * scale;
                                bought[h * owners + j] += take;
                            }
                        }
                    }
                    for h in 0..nh {
                        if remaining[h] > 0.0 && totals[h] > 0.0 {
                            let taken: f64 = full
                                .iter()
                                .map(|&j| remaining[h] * weights[h * owners + j] / totals[h] * free[j] / demand[j])
                                .sum();
                            remaining[h] = (remaining[h] - taken).max(0.0);
                        }
                    }
                    for &j in &full {
                        free[j] = 0.0;
                        open[j] = false;
                    }
                }
            }
            for h in 0..nh {
                if free_all[h] <= 0.0 {
                    continue;
                }
                let new_share = free_new[h] / free_all[h];
                for j in 0..owners {
                    let tonnes = bought[h * owners + j];
                    if tonnes > 0.0 {
                        record(self, h, j, tonnes, tonnes * new_share);
                    }
                }
            }
        }
    }
}

/// Per commodity, the weight of the world market outside the patrons in the market for
/// output: refining capacity such that, at the start and with no change of alignment or
/// sanctions, the default processor buys `default_processing_share` of the output sold
/// (`W = K_d (1 − s) / s − Σ_{q≠d} K_q`, at least 0). Infinite (the world market buys
/// everything) when that share is 0; the commodity's world production when it has no
/// default processor with capacity.
pub(super) fn world_processing(commodities: &[Commodity], processing_t: &[f64], n_patrons: usize) -> Vec<f64> {
    let nc = commodities.len();
    commodities
        .iter()
        .enumerate()
        .map(|(c, commodity)| {
            let capacity = |p: usize| processing_t.get(p * nc + c).copied().unwrap_or(0.0);
            let share = commodity.default_processing_share;
            match commodity.default_processor {
                Some(d) if capacity(d) > 0.0 => {
                    if share <= 0.0 {
                        f64::INFINITY
                    } else {
                        let others: f64 = (0..n_patrons).filter(|&q| q != d).map(capacity).sum();
                        (capacity(d) * (1.0 - share) / share - others).max(0.0)
                    }
                }
                _ => commodity.world_production_t.max(0.0),
            }
        })
        .collect()
}
