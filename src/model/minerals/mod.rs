//! Deposits and the firms that develop them: the level at which the Critical Minerals
//! Dialogue acts (mapping, finance for firms, processing outside China).
//!
//! Deposits move through stages: unmapped, mapped, exploring, explored, developing,
//! producing (or abandoned when exploration fails). Mapping (the hosts' own surveys and the
//! patrons' funded mapping) makes deposits available. Firms of a patron, private or
//! state-owned, choose among the (host, commodity) pairs with available deposits by the
//! expected value to their owner per dollar (price, margin, cost, risk, the patron's
//! priority for the commodity), take the best deposit of the pair, and finance the whole
//! project from their own capital and their patron's mining fund, with the private capital
//! that public money mobilises when it backs a private firm. Output goes first to the
//! owner's processing chain (its offtake, up to the chain's free capacity); the rest is
//! sold among every processor with free capacity and the world market, by a logit over
//! what each offers, weighted by its free capacity (docs/MODEL.md §7.11).
//!
//! Costs are per unit of capacity, and no rule counts deposits or firms, so the outcome
//! does not depend on how finely the endowments are split into deposits or the patrons'
//! capital into firms. State is kept as parallel vectors (structure of arrays) and every
//! quarter's work is linear in the number of deposits and firms: deposits wait in
//! per-(host, commodity) lists and heaps, and no loop over deposits runs inside a loop over
//! firms.

mod market;
mod projects;

use market::world_processing;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use rand::Rng;

/// Marks "none" in index vectors.
pub const NONE: u32 = u32::MAX;

/// Upper bound on a commodity's value per dollar of cost, so that a commodity with no
/// capital cost does not make the choice weights infinite.
const MAX_VALUE_RATIO: f64 = 1e3;

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
    /// The default processor's share, at the start, of output sold on the market.
    pub default_processing_share: f64,
    /// Operating margin: the share of revenue a producing mine earns above its running
    /// costs (0..=1).
    pub operating_margin: f64,
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

/// Scale, costs and behaviour of the deposit-and-firm layer.
#[derive(Debug, Clone, Default)]
pub struct MineralsSpec {
    pub n_deposits: u32,
    pub n_firms: u32,
    /// Cost of mapping a deposit, as a share of its development capex.
    pub mapping_cost_share: f64,
    /// Quarters during which a deposit a patron's money mapped is open to its firms only.
    pub mapping_first_look_quarters: u32,
    pub natural_mapping_per_quarter: f64,
    /// Cost of exploring a deposit, as a share of its development capex.
    pub exploration_cost_share: f64,
    pub exploration_quarters: u32,
    pub exploration_success: f64,
    pub development_quarters: u32,
    /// Firms' discount rate, per year.
    pub discount_rate: f64,
    /// Years a mine produces, for the value of a deposit.
    pub mine_life_years: f64,
    /// Log-weight of a processor per unit change of the host's alignment with its patron.
    pub offtake_alignment_weight: f64,
    /// Log-weight of a processor per unit change of the sanctions on its patron.
    pub offtake_sanctions_weight: f64,
    /// Per patron, per commodity: the patron's priority (1 = commercial value only).
    /// Missing rows or entries count as 1.
    pub priorities: Vec<Vec<f64>>,
    pub endowments: Vec<Endowment>,
}

impl MineralsSpec {
    fn priority(&self, patron: usize, commodity: usize) -> f64 {
        self.priorities
            .get(patron)
            .and_then(|row| row.get(commodity))
            .copied()
            .unwrap_or(1.0)
    }
}

/// A patron's firms.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FirmsSpec {
    pub weight: f64,
    pub private_share: f64,
    pub risk_appetite: f64,
}

/// A deposit's stage. `Explored` lasts no time: the money for development is set aside
/// when a firm takes a deposit, so development starts as soon as exploration succeeds.
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
    /// Per patron: the sanctions on it (0..=1).
    pub sanctions: &'a [f64],
    /// Patron x host, row-major by patron.
    pub allocation: &'a [f64],
    /// Host x patron, row-major by host.
    pub alignment: &'a [f64],
    pub acceptance: &'a [f64],
    /// Per host.
    pub threat_level: &'a [f64],
}

/// A deposit waiting in a (host, commodity) heap: largest capacity first, then the lowest
/// index. Capacities are non-negative, so their bit patterns order like their values.
type HeapKey = (u64, Reverse<u32>);

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
    /// Development money set aside when the project was taken, USD bn: from the patron's
    /// fund, and from the firm (its own capital and the private capital mobilised).
    reserved_fund_usd_bn: Vec<f64>,
    reserved_firm_usd_bn: Vec<f64>,
    // Firms.
    firm_home: Vec<u32>,
    firm_risk_appetite: Vec<f64>,
    /// Ownership class of each firm: `2 p` state-owned, `2 p + 1` private.
    firm_class: Vec<u32>,
    pub(crate) firm_capital: Vec<f64>,
    /// Firm ids per patron and ownership class (`2 p` state-owned, `2 p + 1` private).
    firms_by_class: Vec<Vec<u32>>,
    /// Per ownership class: its share of the patron's mining money (`private_share` for
    /// the private firms, the rest for the state-owned; all of it when the other class has
    /// no firms).
    class_share: Vec<f64>,
    /// Per ownership class: public money not yet committed, USD bn (the patron's fund,
    /// kept apart for its state-owned and its private firms).
    pub(crate) fund_usd_bn: Vec<f64>,
    /// Per ownership class: the sum of its firms' own capital, USD bn.
    own_capital_usd_bn: Vec<f64>,
    /// Per patron: private capital mobilised so far, USD bn.
    pub(crate) private_mobilised_usd_bn: Vec<f64>,
    // Deposits by (host, commodity), row-major by host.
    unmapped: Vec<Vec<u32>>,
    available: Vec<BinaryHeap<HeapKey>>,
    /// (Host, commodity) x patron: deposits the patron's money mapped, open to its firms
    /// only until the quarter given, in the order mapped.
    first_look: Vec<VecDeque<(u32, u32)>>,
    /// Quarters simulated so far.
    quarter: u32,
    active: Vec<u32>,
    producing: Vec<u32>,
    /// Patron x commodity processing capacity, tonnes a year.
    pub(crate) processing_t: Vec<f64>,
    processing_listed: Vec<bool>,
    /// Per commodity: refining capacity outside the patrons, tonnes a year, as a weight in
    /// the market for output; infinite when the world market takes all of it.
    world_processing_t: Vec<f64>,
    /// Per commodity: expected value of a deposit per dollar of expected cost.
    value_ratio: Vec<f64>,
    /// Alignment (host x patron) and sanctions (per patron) at the first quarter: the
    /// market weighs their changes, so the start reproduces the default shares.
    initial_alignment: Vec<f64>,
    initial_sanctions: Vec<f64>,
    started: bool,

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

/// Expected value of a deposit of the commodity to a commercial owner, per dollar of
/// expected cost (both per tonne a year of capacity, so independent of the deposit's size):
/// `R = p φ P a(r, L) (1 + r)^−(Tₑ + T_d)/4 / (ε D + p D (1 + r)^−Tₑ/4)`, where
/// `p` is the chance exploration succeeds, `φ P` the margin earned per tonne, `a` the
/// annuity factor of a mine life `L` at discount rate `r`, `Tₑ`, `T_d` the quarters of
/// exploration and development, `D` the capex per tonne a year and `ε` the exploration
/// cost as a share of it.
pub fn value_ratio(spec: &MineralsSpec, commodity: &Commodity) -> f64 {
    let r = spec.discount_rate;
    let life = spec.mine_life_years;
    let annuity = if r > 0.0 {
        (1.0 - (1.0 + r).powf(-life)) / r
    } else {
        life
    };
    let discount = |quarters: u32| (1.0 + r).powf(-f64::from(quarters) / 4.0);
    let p = spec.exploration_success;
    let benefit = p
        * commodity.operating_margin
        * commodity.price_usd_per_t
        * annuity
        * discount(spec.exploration_quarters + spec.development_quarters);
    let capex = commodity.capex_usd_per_annual_t;
    let cost = spec.exploration_cost_share * capex + p * capex * discount(spec.exploration_quarters);
    if cost > 0.0 {
        (benefit / cost).min(MAX_VALUE_RATIO)
    } else if benefit > 0.0 {
        MAX_VALUE_RATIO
    } else {
        0.0
    }
}

/// `x` rounded down, plus one with probability equal to its fractional part: an unbiased
/// whole number of deposits for an expected `x ≥ 0`.
fn stochastic_round<R: Rng>(x: f64, rng: &mut R) -> u64 {
    if x.is_nan() || x <= 0.0 {
        return 0;
    }
    let whole = x.floor();
    let extra = u64::from(rng.random::<f64>() < x - whole);
    whole as u64 + extra
}

/// Index drawn with probability proportional to non-negative `weights` summing to
/// `total > 0`.
fn draw_index<R: Rng>(weights: &[f64], total: f64, rng: &mut R) -> usize {
    let mut draw = rng.random::<f64>() * total;
    let mut last = 0;
    for (i, w) in weights.iter().enumerate() {
        if *w > 0.0 {
            if draw < *w {
                return i;
            }
            draw -= w;
            last = i;
        }
    }
    last
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
        let n_pairs = n_hosts * n_commodities;
        let processing_t: Vec<f64> = processing_t.iter().flatten().copied().collect();
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
            reserved_fund_usd_bn: Vec::new(),
            reserved_firm_usd_bn: Vec::new(),
            firm_home: Vec::new(),
            firm_risk_appetite: Vec::new(),
            firm_class: Vec::new(),
            firm_capital: Vec::new(),
            firms_by_class: vec![Vec::new(); 2 * n_patrons],
            class_share: vec![0.0; 2 * n_patrons],
            fund_usd_bn: vec![0.0; 2 * n_patrons],
            own_capital_usd_bn: vec![0.0; 2 * n_patrons],
            private_mobilised_usd_bn: vec![0.0; n_patrons],
            unmapped: vec![Vec::new(); n_pairs],
            available: vec![BinaryHeap::new(); n_pairs],
            first_look: vec![VecDeque::new(); n_pairs * n_patrons],
            quarter: 0,
            active: Vec::new(),
            producing: Vec::new(),
            world_processing_t: world_processing(commodities, &processing_t, n_patrons),
            processing_t,
            processing_listed: processing_listed.iter().flatten().copied().collect(),
            value_ratio: commodities.iter().map(|c| value_ratio(spec, c)).collect(),
            initial_alignment: Vec::new(),
            initial_sanctions: Vec::new(),
            started: false,
            production_t: vec![0.0; n_pairs],
            supply_t: vec![0.0; n_commodities * (n_patrons + 1)],
            host_supply_value: vec![0.0; n_hosts * (n_patrons + 1)],
            new_export_value: vec![0.0; n_hosts * (n_patrons + 1)],
            mining_investment_usd_bn: vec![0.0; n_hosts * n_patrons],
            stage_counts: vec![0; n_hosts * STAGES.len()],
        };

        // Firms, patron by patron: the first `private_share` of each patron's are private.
        let firm_counts = apportion(spec.n_firms, &firms.iter().map(|f| f.weight).collect::<Vec<_>>());
        for (p, (&count, f)) in firm_counts.iter().zip(firms).enumerate() {
            let n_private = ((f64::from(count) * f.private_share).round() as u32).min(count);
            for k in 0..count {
                let id = state.firm_home.len() as u32;
                state.firm_home.push(p as u32);
                let private = k < n_private;
                state.firms_by_class[2 * p + usize::from(private)].push(id);
                state.firm_class.push((2 * p + usize::from(private)) as u32);
                // State-owned firms go where their government sends them, threat or not.
                state
                    .firm_risk_appetite
                    .push(if private { f.risk_appetite } else { 1.0 });
                state.firm_capital.push(0.0);
            }
            // The money splits by the share written, not by the rounded count of firms, so
            // that the number of firms does not matter.
            let (state_owned, private) = (count - n_private, n_private);
            state.class_share[2 * p] = match (state_owned, private) {
                (0, _) => 0.0,
                (_, 0) => 1.0,
                _ => 1.0 - f.private_share,
            };
            state.class_share[2 * p + 1] = if private == 0 {
                0.0
            } else {
                1.0 - state.class_share[2 * p]
            };
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
        let firm_ids = firms_of(&state.firms_by_class);
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
            state.generate_producing(e, k_producing, &firm_ids, &mut next_firm);
            // Undeveloped deposits: the mapped share of the capacity in the mapped ones
            // (so the mapped capacity is exact at any resolution), the rest unmapped.
            let mut k_mapped = (f64::from(k_potential) * e.mapped_share).round() as u32;
            if e.mapped_share > 0.0 && k_potential > 0 {
                k_mapped = k_mapped.max(1);
            }
            if e.mapped_share < 1.0 && k_potential > 1 {
                k_mapped = k_mapped.min(k_potential - 1);
            }
            let k_unmapped = k_potential - k_mapped;
            let pair = e.host * n_commodities + e.commodity;
            for j in 0..k_potential {
                let (stage, capacity) = if j < k_mapped {
                    (Stage::Mapped, e.potential_t * e.mapped_share / f64::from(k_mapped))
                } else {
                    (
                        Stage::Unmapped,
                        e.potential_t * (1.0 - e.mapped_share) / f64::from(k_unmapped),
                    )
                };
                let d = state.push_deposit(e, capacity, stage);
                match stage {
                    Stage::Mapped => state.make_available(pair, d as u32),
                    _ => state.unmapped[pair].push(d as u32),
                }
            }
        }
        state.count_stages();
        state
    }

    /// Producing deposits of an endowment: each owner's share of the producing capacity
    /// exactly, over a whole number of deposits (largest remainder, at least one per owner,
    /// so the count can exceed `k` when there are few), the rest domestic.
    fn generate_producing(&mut self, e: &Endowment, k: u32, firm_ids: &[Vec<u32>], next_firm: &mut [usize]) {
        if k == 0 {
            return;
        }
        let np = self.n_patrons;
        let mut shares = e.owners.clone();
        shares.resize(np, 0.0);
        shares.push((1.0 - e.owners.iter().sum::<f64>()).max(0.0));
        let mut counts = apportion(k, &shares);
        for (count, share) in counts.iter_mut().zip(&shares) {
            if *share > 0.0 {
                *count = (*count).max(1);
            }
        }
        let placed: f64 = shares.iter().filter(|s| **s > 0.0).sum();
        for (owner, (&share, &count)) in shares.iter().zip(&counts).enumerate() {
            if count == 0 || share <= 0.0 {
                continue;
            }
            let capacity = e.producing_t * share / placed / f64::from(count);
            for _ in 0..count {
                let (patron, firm) = if owner < np && !firm_ids[owner].is_empty() {
                    let ids = &firm_ids[owner];
                    let firm = ids[next_firm[owner] % ids.len()];
                    next_firm[owner] += 1;
                    (owner as u32, firm)
                } else if owner < np {
                    (owner as u32, NONE)
                } else {
                    (NONE, NONE)
                };
                let d = self.push_deposit(e, capacity, Stage::Producing);
                self.owner_patron[d] = patron;
                self.owner_firm[d] = firm;
                self.producing_at_start[d] = true;
                self.producing.push(d as u32);
            }
        }
    }

    fn push_deposit(&mut self, e: &Endowment, capacity: f64, stage: Stage) -> usize {
        self.deposit_host.push(e.host as u32);
        self.deposit_commodity.push(e.commodity as u32);
        self.capacity_t.push(capacity.max(0.0));
        self.stage.push(stage);
        self.owner_patron.push(NONE);
        self.owner_firm.push(NONE);
        self.timer.push(0);
        self.producing_at_start.push(false);
        self.reserved_fund_usd_bn.push(0.0);
        self.reserved_firm_usd_bn.push(0.0);
        self.stage.len() - 1
    }

    fn make_available(&mut self, pair: usize, d: u32) {
        self.stage[d as usize] = Stage::Mapped;
        self.available[pair].push((self.capacity_t[d as usize].to_bits(), Reverse(d)));
    }

    /// Development capex of a deposit, USD bn.
    fn capex_usd_bn(&self, d: usize, commodities: &[Commodity]) -> f64 {
        self.capacity_t[d] * commodities[self.deposit_commodity[d] as usize].capex_usd_per_annual_t / 1e9
    }

    /// What firm `f` can spend: its own capital, then its patron's fund, which brings `m`
    /// private dollars per public dollar when the firm is private.
    fn spendable(&self, f: usize, mobilisation: f64) -> f64 {
        let k = self.firm_class[f] as usize;
        self.firm_capital[f] + self.fund_usd_bn[k].max(0.0) * (1.0 + mobilisation)
    }

    /// Pays `cost` for firm `f`: own capital first, then the patron's fund, with the
    /// private capital it mobilises (`mobilisation` per public dollar; 0 for state-owned
    /// firms) credited to the firm and spent with it. Returns the parts paid by the fund
    /// and by the firm.
    fn pay(&mut self, f: usize, cost: f64, mobilisation: f64) -> (f64, f64) {
        let p = self.firm_home[f] as usize;
        let own = self.firm_capital[f].min(cost);
        self.firm_capital[f] -= own;
        self.own_capital_usd_bn[self.firm_class[f] as usize] -= own;
        let rest = cost - own;
        let public = rest / (1.0 + mobilisation);
        let private = rest - public;
        // May go below zero: a project taken against the future budget (see `acquire`).
        self.fund_usd_bn[self.firm_class[f] as usize] -= public;
        self.private_mobilised_usd_bn[p] += private;
        (public, own + private)
    }

    pub fn n_deposits(&self) -> usize {
        self.stage.len()
    }

    pub fn n_firms(&self) -> usize {
        self.firm_home.len()
    }

    /// One quarter: mapping, finance, stage progress, acquisitions, processing capacity,
    /// production and the market for it.
    pub fn step<R: Rng>(
        &mut self,
        spec: &MineralsSpec,
        commodities: &[Commodity],
        inputs: &MineralsInputs<'_>,
        rng: &mut R,
    ) {
        self.mining_investment_usd_bn.iter_mut().for_each(|v| *v = 0.0);
        if !self.started {
            self.initial_alignment = inputs.alignment.to_vec();
            self.initial_sanctions = inputs.sanctions.to_vec();
            self.started = true;
        }
        self.quarter += 1;
        self.release_first_looks();
        self.map_deposits(spec, commodities, inputs, rng);
        // Finance (the second pillar): each patron's public money for mining joins its fund,
        // split between its state-owned and its private firms.
        for (k, fund) in self.fund_usd_bn.iter_mut().enumerate() {
            *fund += inputs.minerals_budget_usd_bn[k / 2] / 4.0 * self.class_share[k];
        }
        self.advance_projects(spec, rng);
        self.acquire(spec, commodities, inputs, rng);
        self.build_processing(spec, commodities, inputs);
        self.produce_and_sell(spec, commodities, inputs);
        self.count_stages();
    }

    /// Deposits whose first look has ended join the open heaps.
    fn release_first_looks(&mut self) {
        let np = self.n_patrons;
        for slot in 0..self.first_look.len() {
            while let Some(&(until, d)) = self.first_look[slot].front() {
                if until > self.quarter {
                    break;
                }
                self.first_look[slot].pop_front();
                self.make_available(slot / np, d);
            }
        }
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
        let lists: [(&'static str, &[f64]); 6] = [
            ("firm_capital", &self.firm_capital),
            ("fund_usd_bn", &self.fund_usd_bn),
            ("processing_t", &self.processing_t),
            ("production_t", &self.production_t),
            ("supply_t", &self.supply_t),
            ("mining_investment_usd_bn", &self.mining_investment_usd_bn),
        ];
        lists
            .into_iter()
            .find_map(|(name, values)| values.iter().find(|v| !v.is_finite()).map(|v| (name, *v)))
    }
}

/// Firm ids per patron (both classes), for assigning the deposits producing at the start.
fn firms_of(by_class: &[Vec<u32>]) -> Vec<Vec<u32>> {
    by_class
        .chunks(2)
        .map(|pair| {
            let mut ids: Vec<u32> = pair.iter().flatten().copied().collect();
            ids.sort_unstable();
            ids
        })
        .collect()
}

#[cfg(test)]
mod tests;
