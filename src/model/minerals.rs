//! Deposits and the firms that develop them: the level at which the Critical Minerals
//! Dialogue acts (mapping, private investment, processing outside China).
//!
//! Deposits move through stages: unmapped, mapped, exploring, explored, developing,
//! producing (or abandoned when exploration fails). Firms of a patron, private or
//! state-owned, receive public money (and, for private firms, the private capital it
//! mobilises), buy into mapped deposits in hosts that approve them, explore and develop
//! them. Output goes to the owner's processing chain while it has capacity, otherwise to
//! the commodity's default processor (China for most) or the world market.
//!
//! State is kept as parallel vectors (structure of arrays) and every quarter's work is
//! linear in the number of deposits and firms: firms pick a host (a loop over hosts) and
//! take the next available deposit there from a queue, never scanning all deposits.

use std::collections::VecDeque;

use rand::seq::SliceRandom;
use rand::Rng;

/// Marks "none" in index vectors.
pub const NONE: u32 = u32::MAX;

/// A mineral commodity.
#[derive(Debug, Clone)]
pub struct Commodity {
    pub id: String,
    pub name: String,
    pub world_production_t: f64,
    pub price_usd_per_t: f64,
    pub capex_usd_per_annual_t: f64,
    pub processing_capex_usd_per_annual_t: f64,
    /// Patron index of the default processing chain.
    pub default_processor: Option<usize>,
    pub default_processing_share: f64,
}

/// Endowment of a host in a commodity, in patron order for `owners`.
#[derive(Debug, Clone)]
pub struct Endowment {
    pub host: usize,
    pub commodity: usize,
    pub producing_t: f64,
    pub potential_t: f64,
    pub mapped_share: f64,
    pub owners: Vec<f64>,
}

/// Scale and costs of the deposit-and-firm layer.
#[derive(Debug, Clone, Default)]
pub struct MineralsSpec {
    pub n_deposits: u32,
    pub n_firms: u32,
    pub mapping_cost_usd_bn: f64,
    pub natural_mapping_per_quarter: f64,
    pub exploration_cost_usd_bn: f64,
    pub exploration_quarters: u32,
    pub exploration_success: f64,
    pub development_quarters: u32,
    pub endowments: Vec<Endowment>,
}

/// A patron's firms.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FirmsSpec {
    pub weight: f64,
    pub private_share: f64,
    pub risk_appetite: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Unmapped,
    Mapped,
    Exploring,
    Explored,
    Developing,
    Producing,
    Abandoned,
}

/// What the minerals layer needs from the rest of the state each quarter.
pub struct MineralsInputs<'a> {
    pub n_patrons: usize,
    /// Per patron: minerals budget, mapping budget, mobilisation, processing investment.
    pub minerals_budget_usd_bn: &'a [f64],
    pub mapping_budget_usd_bn: &'a [f64],
    pub private_mobilisation: &'a [f64],
    pub processing_investment_usd_bn: &'a [f64],
    /// Patron x host, row-major by patron.
    pub allocation: &'a [f64],
    /// Host x patron, row-major by host.
    pub alignment: &'a [f64],
    pub acceptance: &'a [f64],
    /// Per host.
    pub threat_level: &'a [f64],
}

/// All deposits and firms of one replicate, and what they produced this quarter.
#[derive(Debug, Clone)]
pub struct MineralsState {
    n_hosts: usize,
    n_commodities: usize,
    n_patrons: usize,
    // Deposits.
    deposit_host: Vec<u32>,
    deposit_commodity: Vec<u32>,
    capacity_t: Vec<f64>,
    pub(crate) stage: Vec<Stage>,
    owner_patron: Vec<u32>,
    owner_firm: Vec<u32>,
    timer: Vec<u32>,
    producing_at_start: Vec<bool>,
    // Firms.
    firm_home: Vec<u32>,
    firm_private: Vec<bool>,
    firm_risk_appetite: Vec<f64>,
    pub(crate) firm_capital: Vec<f64>,
    firm_project: Vec<u32>,
    firms_of_patron: Vec<u32>,
    private_firms_of_patron: Vec<u32>,
    /// Per patron: public money and mobilised private capital not yet committed, USD bn.
    pub(crate) fund_usd_bn: Vec<f64>,
    /// Scratch buffer for the order in which firms look for deposits.
    firm_order: Vec<u32>,
    // Queues and lists.
    unmapped: Vec<Vec<u32>>,
    available: Vec<VecDeque<u32>>,
    active: Vec<u32>,
    producing: Vec<u32>,
    mapping_carry: Vec<f64>,
    /// Patron x commodity processing capacity, tonnes a year.
    pub(crate) processing_t: Vec<f64>,
    processing_listed: Vec<bool>,

    // Outputs of the last quarter.
    /// Host x commodity, tonnes a year.
    pub(crate) production_t: Vec<f64>,
    /// Commodity x destination (patrons, then the world market), tonnes a year.
    pub(crate) supply_t: Vec<f64>,
    /// Host x destination (patrons, then world), USD bn a year of output value.
    pub(crate) host_supply_value: Vec<f64>,
    /// Host x destination (patrons, then world), USD bn a year of output from capacity
    /// developed during the run: new exports.
    pub(crate) new_export_value: Vec<f64>,
    /// Host x patron, USD bn spent this quarter by the patron's firms (direct investment).
    pub(crate) mining_investment_usd_bn: Vec<f64>,
    /// Host x stage counts.
    pub(crate) stage_counts: Vec<u32>,
}

pub const STAGES: [Stage; 7] = [
    Stage::Unmapped,
    Stage::Mapped,
    Stage::Exploring,
    Stage::Explored,
    Stage::Developing,
    Stage::Producing,
    Stage::Abandoned,
];

fn stage_index(stage: Stage) -> usize {
    STAGES.iter().position(|s| *s == stage).expect("every stage is listed")
}

/// Splits `total` whole items in proportion to `weights` (largest remainder, ties to the
/// earlier entry), so generation is deterministic.
pub fn apportion(total: u32, weights: &[f64]) -> Vec<u32> {
    let sum: f64 = weights.iter().filter(|w| **w > 0.0).sum();
    if sum <= 0.0 || total == 0 {
        return vec![0; weights.len()];
    }
    let quotas: Vec<f64> = weights
        .iter()
        .map(|w| if *w > 0.0 { f64::from(total) * w / sum } else { 0.0 })
        .collect();
    let mut counts: Vec<u32> = quotas.iter().map(|q| q.floor() as u32).collect();
    let assigned: u32 = counts.iter().sum();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        let ra = quotas[a] - quotas[a].floor();
        let rb = quotas[b] - quotas[b].floor();
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    for &i in order.iter().take((total - assigned) as usize) {
        counts[i] += 1;
    }
    counts
}

impl MineralsState {
    /// Generates deposits and firms from the endowments. Deterministic: no randomness.
    pub fn new(
        spec: &MineralsSpec,
        commodities: &[Commodity],
        n_hosts: usize,
        firms: &[FirmsSpec],
        processing_t: &[Vec<f64>],
        processing_listed: &[Vec<bool>],
    ) -> MineralsState {
        let n_patrons = firms.len();
        let n_commodities = commodities.len();
        let mut state = MineralsState {
            n_hosts,
            n_commodities,
            n_patrons,
            deposit_host: Vec::new(),
            deposit_commodity: Vec::new(),
            capacity_t: Vec::new(),
            stage: Vec::new(),
            owner_patron: Vec::new(),
            owner_firm: Vec::new(),
            timer: Vec::new(),
            producing_at_start: Vec::new(),
            firm_home: Vec::new(),
            firm_private: Vec::new(),
            firm_risk_appetite: Vec::new(),
            firm_capital: Vec::new(),
            firm_project: Vec::new(),
            firms_of_patron: vec![0; n_patrons],
            private_firms_of_patron: vec![0; n_patrons],
            fund_usd_bn: vec![0.0; n_patrons],
            firm_order: Vec::new(),
            unmapped: vec![Vec::new(); n_hosts],
            available: vec![VecDeque::new(); n_hosts],
            active: Vec::new(),
            producing: Vec::new(),
            mapping_carry: vec![0.0; n_hosts],
            processing_t: processing_t.iter().flatten().copied().collect(),
            processing_listed: processing_listed.iter().flatten().copied().collect(),
            production_t: vec![0.0; n_hosts * n_commodities],
            supply_t: vec![0.0; n_commodities * (n_patrons + 1)],
            host_supply_value: vec![0.0; n_hosts * (n_patrons + 1)],
            new_export_value: vec![0.0; n_hosts * (n_patrons + 1)],
            mining_investment_usd_bn: vec![0.0; n_hosts * n_patrons],
            stage_counts: vec![0; n_hosts * STAGES.len()],
        };

        // Firms, patron by patron.
        let firm_counts = apportion(spec.n_firms, &firms.iter().map(|f| f.weight).collect::<Vec<_>>());
        let mut firm_ids_of: Vec<Vec<u32>> = vec![Vec::new(); n_patrons];
        for (p, (&count, f)) in firm_counts.iter().zip(firms).enumerate() {
            let n_private = (f64::from(count) * f.private_share).round() as u32;
            for k in 0..count {
                let id = state.firm_home.len() as u32;
                firm_ids_of[p].push(id);
                state.firm_home.push(p as u32);
                let private = k < n_private;
                state.firm_private.push(private);
                // State-owned firms go where their government sends them, threat or not.
                state
                    .firm_risk_appetite
                    .push(if private { f.risk_appetite } else { 1.0 });
                state.firm_capital.push(0.0);
                state.firm_project.push(NONE);
            }
            state.firms_of_patron[p] = count;
            state.private_firms_of_patron[p] = n_private.min(count);
        }

        // Deposits, endowment by endowment, in proportion to capacity value.
        // Half the deposits are shared equally among endowments and half by the value of
        // their capacity, so small but strategic endowments (rare earths) get deposits too.
        let values: Vec<f64> = spec
            .endowments
            .iter()
            .map(|e| (e.producing_t + e.potential_t) * commodities[e.commodity].price_usd_per_t.max(1e-9))
            .collect();
        let total_value: f64 = values.iter().sum();
        let n_endowed = values.iter().filter(|v| **v > 0.0).count().max(1) as f64;
        let weights: Vec<f64> = values
            .iter()
            .map(|v| {
                if *v > 0.0 {
                    0.5 / n_endowed + 0.5 * v / total_value
                } else {
                    0.0
                }
            })
            .collect();
        let mut counts = apportion(spec.n_deposits, &weights);
        // Every endowment with capacity gets at least one deposit when there are enough.
        if spec.n_deposits as usize >= spec.endowments.len() {
            for (i, e) in spec.endowments.iter().enumerate() {
                if counts[i] == 0 && e.producing_t + e.potential_t > 0.0 {
                    counts[i] = 1;
                }
            }
        }
        let mut next_firm = vec![0usize; n_patrons];
        for (e, &k) in spec.endowments.iter().zip(&counts) {
            if k == 0 {
                continue;
            }
            let total = e.producing_t + e.potential_t;
            let mut k_producing = if total > 0.0 {
                (f64::from(k) * e.producing_t / total).round() as u32
            } else {
                0
            };
            if e.producing_t > 0.0 {
                k_producing = k_producing.max(1);
            }
            // Undeveloped capacity is spread over at least half the deposits: that is
            // where mapping and investment act.
            if e.potential_t > 0.0 && k >= 2 {
                k_producing = k_producing.min(k / 2);
            }
            let k_potential = k - k_producing.min(k);
            let k_producing = k - k_potential;
            // Producing deposits, owners by share (largest remainder), the rest domestic.
            let mut owner_weights = e.owners.clone();
            owner_weights.push((1.0 - e.owners.iter().sum::<f64>()).max(0.0));
            let owner_counts = apportion(k_producing, &owner_weights);
            let mut owners = Vec::with_capacity(k_producing as usize);
            for (p, &c) in owner_counts.iter().enumerate() {
                owners.extend(std::iter::repeat(p).take(c as usize));
            }
            for owner in owners {
                let (patron, firm) = if owner < n_patrons && !firm_ids_of[owner].is_empty() {
                    let ids = &firm_ids_of[owner];
                    let firm = ids[next_firm[owner] % ids.len()];
                    next_firm[owner] += 1;
                    (owner as u32, firm)
                } else if owner < n_patrons {
                    (owner as u32, NONE)
                } else {
                    (NONE, NONE)
                };
                let d = state.push_deposit(e, e.producing_t / f64::from(k_producing), Stage::Producing);
                state.owner_patron[d] = patron;
                state.owner_firm[d] = firm;
                state.producing_at_start[d] = true;
                state.producing.push(d as u32);
            }
            let k_mapped = (f64::from(k_potential) * e.mapped_share).round() as u32;
            for j in 0..k_potential {
                let stage = if j < k_mapped { Stage::Mapped } else { Stage::Unmapped };
                let d = state.push_deposit(e, e.potential_t / f64::from(k_potential), stage);
                match stage {
                    Stage::Mapped => state.available[e.host].push_back(d as u32),
                    _ => state.unmapped[e.host].push(d as u32),
                }
            }
        }
        // Pop from the end maps the lowest-numbered deposit first.
        for list in &mut state.unmapped {
            list.reverse();
        }
        state.count_stages();
        state
    }

    fn push_deposit(&mut self, e: &Endowment, capacity: f64, stage: Stage) -> usize {
        self.deposit_host.push(e.host as u32);
        self.deposit_commodity.push(e.commodity as u32);
        self.capacity_t.push(capacity);
        self.stage.push(stage);
        self.owner_patron.push(NONE);
        self.owner_firm.push(NONE);
        self.timer.push(0);
        self.producing_at_start.push(false);
        self.stage.len() - 1
    }

    /// Whether firm `f` (its own capital and its patron's fund) can pay `cost`.
    fn can_pay(&self, f: usize, cost: f64) -> bool {
        let p = self.firm_home[f] as usize;
        self.firm_capital[f] + self.fund_usd_bn[p] >= cost
    }

    /// Pays `cost` from the firm's own capital first, then its patron's fund.
    fn pay(&mut self, f: usize, cost: f64) -> bool {
        if !self.can_pay(f, cost) {
            return false;
        }
        let p = self.firm_home[f] as usize;
        let own = self.firm_capital[f].min(cost);
        self.firm_capital[f] -= own;
        self.fund_usd_bn[p] -= cost - own;
        true
    }

    pub fn n_deposits(&self) -> usize {
        self.stage.len()
    }

    pub fn n_firms(&self) -> usize {
        self.firm_home.len()
    }

    /// One quarter: mapping, capital, stage progress, acquisitions, processing capacity,
    /// production and its routing.
    pub fn step<R: Rng>(
        &mut self,
        spec: &MineralsSpec,
        commodities: &[Commodity],
        inputs: &MineralsInputs<'_>,
        rng: &mut R,
    ) {
        let np = self.n_patrons;
        let nh = self.n_hosts;
        self.mining_investment_usd_bn.iter_mut().for_each(|v| *v = 0.0);

        // 1. Mapping: funded surveys plus the hosts' own.
        for h in 0..nh {
            let funded_usd_bn: f64 = (0..np)
                .map(|p| inputs.mapping_budget_usd_bn[p] / 4.0 * inputs.allocation[p * nh + h])
                .sum();
            let funded = if spec.mapping_cost_usd_bn > 0.0 {
                funded_usd_bn / spec.mapping_cost_usd_bn
            } else {
                0.0
            };
            self.mapping_carry[h] += funded + spec.natural_mapping_per_quarter * self.unmapped[h].len() as f64;
            while self.mapping_carry[h] >= 1.0 {
                self.mapping_carry[h] -= 1.0;
                match self.unmapped[h].pop() {
                    Some(d) => {
                        self.stage[d as usize] = Stage::Mapped;
                        self.available[h].push_back(d);
                    }
                    None => {
                        self.mapping_carry[h] = 0.0;
                        break;
                    }
                }
            }
        }

        // 2. Capital: each patron's public money for mining, and the private capital it
        //    mobilises in proportion to the share of its firms that are private, go into a
        //    fund that finances its firms' projects.
        for p in 0..np {
            let n = self.firms_of_patron[p];
            if n == 0 {
                continue;
            }
            let private_share = f64::from(self.private_firms_of_patron[p]) / f64::from(n);
            let public = inputs.minerals_budget_usd_bn[p] / 4.0;
            self.fund_usd_bn[p] += public * (1.0 + inputs.private_mobilisation[p] * private_share);
        }

        // 3. Projects under way.
        let mut still_active = Vec::with_capacity(self.active.len());
        let active = std::mem::take(&mut self.active);
        for d in active {
            let i = d as usize;
            let firm = self.owner_firm[i] as usize;
            match self.stage[i] {
                Stage::Exploring => {
                    self.timer[i] = self.timer[i].saturating_sub(1);
                    if self.timer[i] == 0 {
                        if rng.random::<f64>() < spec.exploration_success {
                            self.stage[i] = Stage::Explored;
                            still_active.push(d);
                        } else {
                            self.stage[i] = Stage::Abandoned;
                            self.firm_project[firm] = NONE;
                        }
                    } else {
                        still_active.push(d);
                    }
                }
                Stage::Explored => still_active.push(d),
                Stage::Developing => {
                    self.timer[i] = self.timer[i].saturating_sub(1);
                    if self.timer[i] == 0 {
                        self.stage[i] = Stage::Producing;
                        self.producing.push(d);
                        self.firm_project[firm] = NONE;
                    } else {
                        still_active.push(d);
                    }
                }
                _ => {}
            }
        }
        // Explored deposits whose firm can pay start development.
        for &d in &still_active {
            let i = d as usize;
            if self.stage[i] != Stage::Explored {
                continue;
            }
            let firm = self.owner_firm[i] as usize;
            let c = self.deposit_commodity[i] as usize;
            let cost = self.capacity_t[i] * commodities[c].capex_usd_per_annual_t / 1e9;
            if self.pay(firm, cost) {
                self.stage[i] = Stage::Developing;
                self.timer[i] = spec.development_quarters.max(1);
                let h = self.deposit_host[i] as usize;
                let p = self.firm_home[firm] as usize;
                self.mining_investment_usd_bn[h * np + p] += cost;
            }
        }
        self.active = still_active;

        // 4. Firms without a project look for a deposit, in a random order each quarter so
        //    that no patron's firms are always first in line.
        let mut weights = vec![0.0; nh];
        let mut order = std::mem::take(&mut self.firm_order);
        order.clear();
        order.extend(0..self.n_firms() as u32);
        order.shuffle(rng);
        for &f in &order {
            let f = f as usize;
            if self.firm_project[f] != NONE || !self.can_pay(f, spec.exploration_cost_usd_bn) {
                continue;
            }
            let p = self.firm_home[f] as usize;
            let appetite = self.firm_risk_appetite[f];
            let mut total = 0.0;
            for (h, weight) in weights.iter_mut().enumerate() {
                *weight = if self.available[h].is_empty() {
                    0.0
                } else {
                    inputs.alignment[h * np + p] * (1.0 - (1.0 - appetite) * inputs.threat_level[h])
                };
                total += *weight;
            }
            if total <= 0.0 {
                continue;
            }
            let mut draw = rng.random::<f64>() * total;
            let mut host = nh - 1;
            for (h, w) in weights.iter().enumerate() {
                if draw < *w {
                    host = h;
                    break;
                }
                draw -= w;
            }
            if weights[host] <= 0.0 {
                continue;
            }
            // The host approves the deal as readily as it accepts the patron's offers.
            if rng.random::<f64>() >= inputs.acceptance[host * np + p] {
                continue;
            }
            let Some(d) = self.available[host].pop_front() else {
                continue;
            };
            let i = d as usize;
            self.stage[i] = Stage::Exploring;
            self.timer[i] = spec.exploration_quarters.max(1);
            self.owner_firm[i] = f as u32;
            self.owner_patron[i] = p as u32;
            self.firm_project[f] = d;
            self.pay(f, spec.exploration_cost_usd_bn);
            self.mining_investment_usd_bn[host * np + p] += spec.exploration_cost_usd_bn;
            self.active.push(d);
        }
        self.firm_order = order;

        // 5. Processing capacity grows with investment, spread over listed commodities.
        let nc = self.n_commodities;
        for p in 0..np {
            let listed: Vec<usize> = (0..nc).filter(|&c| self.processing_listed[p * nc + c]).collect();
            if listed.is_empty() {
                continue;
            }
            let per_commodity = inputs.processing_investment_usd_bn[p] / 4.0 / listed.len() as f64;
            for c in listed {
                let capex = commodities[c].processing_capex_usd_per_annual_t;
                if capex > 0.0 {
                    self.processing_t[p * nc + c] += per_commodity * 1e9 / capex;
                }
            }
        }

        // 6. Production and where it goes.
        self.production_t.iter_mut().for_each(|v| *v = 0.0);
        self.supply_t.iter_mut().for_each(|v| *v = 0.0);
        self.host_supply_value.iter_mut().for_each(|v| *v = 0.0);
        self.new_export_value.iter_mut().for_each(|v| *v = 0.0);
        let mut headroom: Vec<f64> = self.processing_t.clone();
        let world = np;
        for &d in &self.producing {
            let i = d as usize;
            let h = self.deposit_host[i] as usize;
            let c = self.deposit_commodity[i] as usize;
            let output = self.capacity_t[i];
            self.production_t[h * nc + c] += output;
            let commodity = &commodities[c];
            let price_bn = commodity.price_usd_per_t / 1e9;
            // The owner's chain takes what its processing capacity can.
            let mut rest = output;
            let owner = self.owner_patron[i];
            let mut routed: Vec<(usize, f64)> = Vec::with_capacity(3);
            if owner != NONE {
                let slot = owner as usize * nc + c;
                let taken = rest.min(headroom[slot].max(0.0));
                if taken > 0.0 {
                    headroom[slot] -= taken;
                    routed.push((owner as usize, taken));
                    rest -= taken;
                }
            }
            if rest > 0.0 {
                match commodity.default_processor {
                    Some(q) => {
                        routed.push((q, rest * commodity.default_processing_share));
                        routed.push((world, rest * (1.0 - commodity.default_processing_share)));
                    }
                    None => routed.push((world, rest)),
                }
            }
            for (dest, tonnes) in routed {
                self.supply_t[c * (np + 1) + dest] += tonnes;
                self.host_supply_value[h * (np + 1) + dest] += tonnes * price_bn;
                if !self.producing_at_start[i] {
                    self.new_export_value[h * (np + 1) + dest] += tonnes * price_bn;
                }
            }
        }
        self.count_stages();
    }

    fn count_stages(&mut self) {
        self.stage_counts.iter_mut().for_each(|c| *c = 0);
        for (i, stage) in self.stage.iter().enumerate() {
            let h = self.deposit_host[i] as usize;
            self.stage_counts[h * STAGES.len() + stage_index(*stage)] += 1;
        }
    }

    /// Deposits of a host at a stage or beyond it (abandoned ones excluded).
    pub fn count_at_least(&self, host: usize, stage: Stage) -> u32 {
        let from = stage_index(stage);
        (from..stage_index(Stage::Abandoned))
            .map(|s| self.stage_counts[host * STAGES.len() + s])
            .sum()
    }

    pub fn n_commodities(&self) -> usize {
        self.n_commodities
    }

    /// Every quantity must stay finite; returns the name of the first one that is not.
    pub fn first_non_finite(&self) -> Option<(&'static str, f64)> {
        let lists: [(&'static str, &[f64]); 5] = [
            ("firm_capital", &self.firm_capital),
            ("fund_usd_bn", &self.fund_usd_bn),
            ("processing_t", &self.processing_t),
            ("production_t", &self.production_t),
            ("mining_investment_usd_bn", &self.mining_investment_usd_bn),
        ];
        lists
            .into_iter()
            .find_map(|(name, values)| values.iter().find(|v| !v.is_finite()).map(|v| (name, *v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ensemble::replicate_rng;

    #[test]
    fn apportion_is_exact_and_deterministic() {
        assert_eq!(apportion(10, &[1.0, 1.0, 1.0]), vec![4, 3, 3]);
        assert_eq!(apportion(7, &[0.0, 2.0, 5.0]), vec![0, 2, 5]);
        assert_eq!(apportion(5, &[0.0, 0.0]), vec![0, 0]);
        let counts = apportion(1000, &[0.3, 0.2, 0.5]);
        assert_eq!(counts.iter().sum::<u32>(), 1000);
    }

    fn commodity(default_processor: Option<usize>) -> Commodity {
        Commodity {
            id: "re".into(),
            name: "rare earths".into(),
            world_production_t: 1000.0,
            price_usd_per_t: 10_000.0,
            capex_usd_per_annual_t: 20_000.0,
            processing_capex_usd_per_annual_t: 10_000.0,
            default_processor,
            default_processing_share: 0.9,
        }
    }

    fn spec(n_deposits: u32, n_firms: u32) -> MineralsSpec {
        MineralsSpec {
            n_deposits,
            n_firms,
            mapping_cost_usd_bn: 0.001,
            natural_mapping_per_quarter: 0.0,
            exploration_cost_usd_bn: 0.001,
            exploration_quarters: 1,
            exploration_success: 1.0,
            development_quarters: 1,
            endowments: vec![Endowment {
                host: 0,
                commodity: 0,
                producing_t: 100.0,
                potential_t: 900.0,
                mapped_share: 0.0,
                owners: vec![0.0, 0.0],
            }],
        }
    }

    fn inputs<'a>(budget: &'a [f64], mapping: &'a [f64], zeros: &'a [f64], ones: &'a [f64]) -> MineralsInputs<'a> {
        MineralsInputs {
            n_patrons: 2,
            minerals_budget_usd_bn: budget,
            mapping_budget_usd_bn: mapping,
            private_mobilisation: zeros,
            processing_investment_usd_bn: zeros,
            allocation: ones,
            alignment: ones,
            acceptance: ones,
            threat_level: zeros,
        }
    }

    #[test]
    fn generation_splits_producing_and_potential_capacity() {
        let firms = [FirmsSpec::default(); 2];
        let state = MineralsState::new(
            &spec(10, 0),
            &[commodity(Some(1))],
            1,
            &firms,
            &[vec![0.0], vec![0.0]],
            &[vec![false], vec![false]],
        );
        assert_eq!(state.n_deposits(), 10);
        assert_eq!(state.count_at_least(0, Stage::Producing), 1);
        assert_eq!(state.unmapped[0].len(), 9);
        let total: f64 = state.capacity_t.iter().sum();
        assert!((total - 1000.0).abs() < 1e-9);
    }

    #[test]
    fn only_mapped_deposits_can_be_developed_and_output_follows_processing_capacity() {
        // Patron 0 funds mapping and mining and has processing capacity for 100 t a year;
        // patron 1 is the default processor of 90% of the rest.
        let firms = [
            FirmsSpec {
                weight: 1.0,
                private_share: 1.0,
                risk_appetite: 1.0,
            },
            FirmsSpec::default(),
        ];
        let spec = spec(10, 5);
        let commodities = [commodity(Some(1))];
        let mut state = MineralsState::new(
            &spec,
            &commodities,
            1,
            &firms,
            &[vec![100.0], vec![0.0]],
            &[vec![true], vec![false]],
        );
        let (zeros, ones) = ([0.0, 0.0], [1.0, 1.0]);
        let budget = [1.0, 0.0];
        let no_mapping = [0.0, 0.0];
        let mut rng = replicate_rng(3, 0);
        for _ in 0..4 {
            state.step(
                &spec,
                &commodities,
                &inputs(&budget, &no_mapping, &zeros, &ones),
                &mut rng,
            );
        }
        // Without mapping nothing new is explored.
        assert_eq!(
            state.count_at_least(0, Stage::Exploring),
            1,
            "only the producing deposit"
        );
        let mapping = [0.1, 0.0];
        for _ in 0..12 {
            state.step(&spec, &commodities, &inputs(&budget, &mapping, &zeros, &ones), &mut rng);
        }
        assert!(
            state.count_at_least(0, Stage::Producing) > 1,
            "mapped deposits were developed"
        );
        let production: f64 = state.production_t.iter().sum();
        let to_owner = state.supply_t[0];
        let to_default = state.supply_t[1];
        let to_world = state.supply_t[2];
        assert!(
            (to_owner - 100.0).abs() < 1e-9,
            "the owner's chain takes its capacity: {to_owner}"
        );
        assert!((to_owner + to_default + to_world - production).abs() < 1e-9);
        assert!((to_default - 0.9 * (production - 100.0)).abs() < 1e-6);
    }
}
