//! Mapping, projects under way and the acquisition of deposits by firms
//! (docs/MODEL.md §7.11, steps 1, 3 to 5).

use rand::seq::SliceRandom;
use rand::Rng;

use super::*;

impl MineralsState {
    /// Mapping (the first pillar). The hosts' own surveys map the share ν of each
    /// (host, commodity)'s unmapped deposits a quarter. Each patron's mapping money in a
    /// host, `B_p/4 · w_ph`, is split over the host's commodities in proportion to the
    /// patron's priority times their unmapped capex, and maps in each as many deposits as
    /// its share pays for at `mapping_cost_share` of a deposit's capex (money beyond the
    /// unmapped deposits is not spent). Fractions of a deposit are mapped with that
    /// probability, so the capacity mapped does not depend on the deposits' size. A deposit
    /// the patron's money mapped is open to its firms only for
    /// `mapping_first_look_quarters`.
    pub(super) fn map_deposits<R: Rng>(
        &mut self,
        spec: &MineralsSpec,
        commodities: &[Commodity],
        inputs: &MineralsInputs<'_>,
        rng: &mut R,
    ) {
        let (nh, nc, np) = (self.n_hosts, self.n_commodities, self.n_patrons);
        for pair in 0..nh * nc {
            let expected = spec.natural_mapping_per_quarter * self.unmapped[pair].len() as f64;
            for _ in 0..stochastic_round(expected, rng) {
                match self.unmapped[pair].pop() {
                    Some(d) => self.make_available(pair, d),
                    None => break,
                }
            }
        }
        let mut weights = vec![0.0; nc];
        for p in 0..np {
            for h in 0..nh {
                let money = inputs.mapping_budget_usd_bn[p] / 4.0 * inputs.allocation[p * nh + h];
                if money <= 0.0 {
                    continue;
                }
                // Unmapped deposits of a (host, commodity) all have the same capacity.
                let mut total = 0.0;
                for (c, w) in weights.iter_mut().enumerate() {
                    let list = &self.unmapped[h * nc + c];
                    *w = match list.last() {
                        Some(&d) => {
                            spec.priority(p, c) * list.len() as f64 * self.capex_usd_bn(d as usize, commodities)
                        }
                        None => 0.0,
                    };
                    total += *w;
                }
                if total <= 0.0 {
                    continue;
                }
                for (c, w) in weights.iter().enumerate() {
                    if *w <= 0.0 {
                        continue;
                    }
                    let pair = h * nc + c;
                    let next = *self.unmapped[pair]
                        .last()
                        .expect("a weighted pair has unmapped deposits");
                    let cost = spec.mapping_cost_share * self.capex_usd_bn(next as usize, commodities);
                    let affordable = if cost > 0.0 {
                        money * w / total / cost
                    } else {
                        f64::INFINITY
                    };
                    let n = self.unmapped[pair].len() as f64;
                    for _ in 0..stochastic_round(affordable.min(n), rng) {
                        let Some(d) = self.unmapped[pair].pop() else { break };
                        if spec.mapping_first_look_quarters > 0 {
                            self.stage[d as usize] = Stage::Mapped;
                            let until = self.quarter + spec.mapping_first_look_quarters;
                            self.first_look[pair * np + p].push_back((until, d));
                        } else {
                            self.make_available(pair, d);
                        }
                    }
                }
            }
        }
    }

    /// Projects under way: exploration ends in success (development starts with the money
    /// set aside for it) or failure (the deposit is abandoned and the money returns);
    /// development ends in production.
    pub(super) fn advance_projects<R: Rng>(&mut self, spec: &MineralsSpec, rng: &mut R) {
        let np = self.n_patrons;
        let mut still_active = Vec::with_capacity(self.active.len());
        for d in std::mem::take(&mut self.active) {
            let i = d as usize;
            self.timer[i] = self.timer[i].saturating_sub(1);
            if self.timer[i] > 0 {
                still_active.push(d);
                continue;
            }
            let p = self.owner_patron[i] as usize;
            let f = self.owner_firm[i] as usize;
            let (from_fund, from_firm) = (self.reserved_fund_usd_bn[i], self.reserved_firm_usd_bn[i]);
            self.reserved_fund_usd_bn[i] = 0.0;
            self.reserved_firm_usd_bn[i] = 0.0;
            match self.stage[i] {
                Stage::Exploring => {
                    if rng.random::<f64>() < spec.exploration_success {
                        self.stage[i] = Stage::Developing;
                        self.timer[i] = spec.development_quarters.max(1);
                        let h = self.deposit_host[i] as usize;
                        self.mining_investment_usd_bn[h * np + p] += from_fund + from_firm;
                        still_active.push(d);
                    } else {
                        self.stage[i] = Stage::Abandoned;
                        self.fund_usd_bn[self.firm_class[f] as usize] += from_fund;
                        self.firm_capital[f] += from_firm;
                        self.own_capital_usd_bn[self.firm_class[f] as usize] += from_firm;
                    }
                }
                Stage::Developing => {
                    self.stage[i] = Stage::Producing;
                    self.producing.push(d);
                }
                _ => {}
            }
        }
        self.active = still_active;
    }

    /// Acquisitions. Each host approves or refuses each patron's firms for the quarter
    /// (approval with probability α_hp, as readily as it accepts the patron's offers).
    /// Each ownership class k of a patron (state-owned, private) values a (host, commodity)
    /// pair j by its expected net value per dollar, `v_kj = max(0, w_pc ρ_hk R_c − 1)`,
    /// where the host approves it and deposits are available to it (open to all, or in its
    /// patron's first look). Its interest in the pair is `I_kj = M_k v_kj / Σ_j' v_kj'`:
    /// its money `M_k` (its part of the patron's fund, times `1 + m_p` when private, plus
    /// its firms' own capital), spread over the pairs it values. Pairs are visited in a
    /// random order; each deposit of a pair, largest first (a patron's first-look deposits
    /// go to its own classes only), goes to a class drawn in proportion to `I_kj`, and to a
    /// random firm of it, which finances the whole project (exploration now, development
    /// set aside). A project beyond what the firm can spend is taken with probability
    /// spendable / cost, against the patron's future budget, so that expected spending does
    /// not depend on the deposits' size; otherwise the class is done for the quarter.
    /// Because each deposit is allocated in proportion to interest, the split of a pair
    /// among patrons does not depend on how many deposits it has.
    pub(super) fn acquire<R: Rng>(
        &mut self,
        spec: &MineralsSpec,
        commodities: &[Commodity],
        inputs: &MineralsInputs<'_>,
        rng: &mut R,
    ) {
        let (nh, nc, np) = (self.n_hosts, self.n_commodities, self.n_patrons);
        let (n_pairs, n_classes) = (nh * nc, 2 * np);
        let approved: Vec<bool> = inputs.acceptance.iter().map(|a| rng.random::<f64>() < *a).collect();
        // Net value per dollar of each pair to each class, and each class's total.
        let mut value = vec![0.0; n_classes * n_pairs];
        let mut value_total = vec![0.0; n_classes];
        for k in 0..n_classes {
            let ids = &self.firms_by_class[k];
            if ids.is_empty() {
                continue;
            }
            let p = k / 2;
            let appetite = self.firm_risk_appetite[ids[0] as usize];
            for h in (0..nh).filter(|&h| approved[h * np + p]) {
                let risk = 1.0 - (1.0 - appetite) * inputs.threat_level[h];
                for c in 0..nc {
                    let j = h * nc + c;
                    if self.available[j].is_empty() && self.first_look[j * np + p].is_empty() {
                        continue;
                    }
                    let v = (spec.priority(p, c) * risk * self.value_ratio[c] - 1.0).max(0.0);
                    value[k * n_pairs + j] = v;
                    value_total[k] += v;
                }
            }
        }
        let mut in_play: Vec<bool> = value_total.iter().map(|v| *v > 0.0).collect();
        let mut pairs: Vec<usize> = (0..n_pairs)
            .filter(|&j| (0..n_classes).any(|k| value[k * n_pairs + j] > 0.0))
            .collect();
        pairs.shuffle(rng);
        let mut interest = vec![0.0; n_classes];
        for j in pairs {
            for owner in (0..np).chain(std::iter::once(np)) {
                loop {
                    // The first-look deposits of patron `owner`, then (owner = np) the open ones.
                    let d = if owner < np {
                        match self.first_look[j * np + owner].front() {
                            Some(&(_, d)) => d,
                            None => break,
                        }
                    } else {
                        match self.available[j].peek() {
                            Some(&(_, Reverse(d))) => d,
                            None => break,
                        }
                    };
                    let mut total = 0.0;
                    for (k, slot) in interest.iter_mut().enumerate() {
                        let eligible = in_play[k] && (owner == np || k / 2 == owner);
                        *slot = if eligible {
                            self.class_money(k, inputs) * value[k * n_pairs + j] / value_total[k]
                        } else {
                            0.0
                        };
                        total += *slot;
                    }
                    if total <= 0.0 {
                        break;
                    }
                    let k = draw_index(&interest, total, rng);
                    if self.buy(k, d, spec, commodities, inputs, rng) {
                        if owner < np {
                            self.first_look[j * np + owner].pop_front();
                        } else {
                            self.available[j].pop();
                        }
                    } else {
                        in_play[k] = false;
                    }
                }
            }
        }
    }

    /// What ownership class `k` can spend: its part of the patron's fund (with the private
    /// capital it brings when private) and its firms' own capital.
    fn class_money(&self, k: usize, inputs: &MineralsInputs<'_>) -> f64 {
        let leverage = if k % 2 == 1 {
            1.0 + inputs.private_mobilisation[k / 2]
        } else {
            1.0
        };
        self.fund_usd_bn[k].max(0.0) * leverage + self.own_capital_usd_bn[k].max(0.0)
    }

    /// A random firm of class `k` takes deposit `d` if it can pay for the whole project
    /// (or, beyond that, with probability spendable / cost). Returns whether it did.
    fn buy<R: Rng>(
        &mut self,
        k: usize,
        d: u32,
        spec: &MineralsSpec,
        commodities: &[Commodity],
        inputs: &MineralsInputs<'_>,
        rng: &mut R,
    ) -> bool {
        let np = self.n_patrons;
        let p = k / 2;
        let ids = &self.firms_by_class[k];
        let f = ids[rng.random_range(0..ids.len())] as usize;
        let i = d as usize;
        let capex = self.capex_usd_bn(i, commodities);
        let cost = capex * (1.0 + spec.exploration_cost_share);
        let mobilisation = if k % 2 == 1 {
            inputs.private_mobilisation[p]
        } else {
            0.0
        };
        let spendable = self.spendable(f, mobilisation);
        if spendable < cost && rng.random::<f64>() * cost >= spendable {
            return false;
        }
        let (from_fund, from_firm) = self.pay(f, cost, mobilisation);
        // The development part of each source is set aside until exploration ends.
        let development = 1.0 / (1.0 + spec.exploration_cost_share);
        self.reserved_fund_usd_bn[i] = from_fund * development;
        self.reserved_firm_usd_bn[i] = from_firm * development;
        self.stage[i] = Stage::Exploring;
        self.timer[i] = spec.exploration_quarters.max(1);
        self.owner_firm[i] = f as u32;
        self.owner_patron[i] = p as u32;
        let h = self.deposit_host[i] as usize;
        self.mining_investment_usd_bn[h * np + p] += cost - capex;
        self.active.push(d);
        true
    }
}
