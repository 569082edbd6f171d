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

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use rand::seq::SliceRandom;
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

    /// Mapping (the first pillar). The hosts' own surveys map the share ν of each
    /// (host, commodity)'s unmapped deposits a quarter. Each patron's mapping money in a
    /// host, `B_p/4 · w_ph`, is split over the host's commodities in proportion to the
    /// patron's priority times their unmapped capex, and maps in each as many deposits as
    /// its share pays for at `mapping_cost_share` of a deposit's capex (money beyond the
    /// unmapped deposits is not spent). Fractions of a deposit are mapped with that
    /// probability, so the capacity mapped does not depend on the deposits' size. A deposit
    /// the patron's money mapped is open to its firms only for
    /// `mapping_first_look_quarters`.
    fn map_deposits<R: Rng>(
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
    fn advance_projects<R: Rng>(&mut self, spec: &MineralsSpec, rng: &mut R) {
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
    fn acquire<R: Rng>(
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

    /// Processing capacity (the third pillar) grows with investment, spread over the
    /// commodities the patron processes so that each one's capacity grows in proportion to
    /// the patron's priority for it times its world production: commodity c gets the share
    /// `w_pc Q_c k_c / Σ_k w_pk Q_k k_k` of the investment (k: processing capex per tonne),
    /// or `w_pc / Σ_k w_pk` when no listed commodity has a world production.
    fn build_processing(&mut self, spec: &MineralsSpec, commodities: &[Commodity], inputs: &MineralsInputs<'_>) {
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
    fn produce_and_sell(&mut self, spec: &MineralsSpec, commodities: &[Commodity], inputs: &MineralsInputs<'_>) {
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

/// Per commodity, the weight of the world market outside the patrons in the market for
/// output: refining capacity such that, at the start and with no change of alignment or
/// sanctions, the default processor buys `default_processing_share` of the output sold
/// (`W = K_d (1 − s) / s − Σ_{q≠d} K_q`, at least 0). Infinite (the world market buys
/// everything) when that share is 0; the commodity's world production when it has no
/// default processor with capacity.
fn world_processing(commodities: &[Commodity], processing_t: &[f64], n_patrons: usize) -> Vec<f64> {
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

    /// A commodity worth `price` a tonne, with capex 10,000 a tonne a year; patron 1 is
    /// its default processor with 90% of the market.
    fn commodity(id: &str, price: f64) -> Commodity {
        Commodity {
            id: id.into(),
            name: id.into(),
            world_production_t: 1000.0,
            price_usd_per_t: price,
            capex_usd_per_annual_t: 10_000.0,
            processing_capex_usd_per_annual_t: 10_000.0,
            default_processor: Some(1),
            default_processing_share: 0.9,
            operating_margin: 0.4,
        }
    }

    fn endowment(commodity: usize, producing_t: f64, potential_t: f64, mapped_share: f64) -> Endowment {
        Endowment {
            host: 0,
            commodity,
            producing_t,
            potential_t,
            mapped_share,
            owners: vec![0.0, 0.0],
        }
    }

    fn spec(n_deposits: u32, n_firms: u32, endowments: Vec<Endowment>) -> MineralsSpec {
        MineralsSpec {
            n_deposits,
            n_firms,
            mapping_cost_share: 0.05,
            mapping_first_look_quarters: 0,
            natural_mapping_per_quarter: 0.0,
            exploration_cost_share: 0.1,
            exploration_quarters: 1,
            exploration_success: 1.0,
            development_quarters: 1,
            discount_rate: 0.08,
            mine_life_years: 20.0,
            offtake_alignment_weight: 5.0,
            offtake_sanctions_weight: 2.0,
            priorities: Vec::new(),
            endowments,
        }
    }

    /// Patron 0 has private firms (risk appetite 1); patron 1 none.
    fn firms() -> [FirmsSpec; 2] {
        [
            FirmsSpec {
                weight: 1.0,
                private_share: 1.0,
                risk_appetite: 1.0,
            },
            FirmsSpec::default(),
        ]
    }

    /// Per-patron levers of a quarter, for two patrons and one host.
    struct Levers {
        minerals: [f64; 2],
        mapping: [f64; 2],
        mobilisation: [f64; 2],
        processing: [f64; 2],
    }

    impl Default for Levers {
        fn default() -> Self {
            Levers {
                minerals: [0.0; 2],
                mapping: [0.0; 2],
                mobilisation: [0.0; 2],
                processing: [0.0; 2],
            }
        }
    }

    const ZEROS: [f64; 2] = [0.0; 2];
    const ONES: [f64; 2] = [1.0; 2];
    const HALVES: [f64; 2] = [0.5; 2];

    fn inputs(levers: &Levers) -> MineralsInputs<'_> {
        MineralsInputs {
            n_patrons: 2,
            minerals_budget_usd_bn: &levers.minerals,
            mapping_budget_usd_bn: &levers.mapping,
            private_mobilisation: &levers.mobilisation,
            processing_investment_usd_bn: &levers.processing,
            sanctions: &ZEROS,
            allocation: &ONES,
            alignment: &HALVES,
            acceptance: &ONES,
            threat_level: &ZEROS[..1],
        }
    }

    fn new_state(spec: &MineralsSpec, commodities: &[Commodity], processing: [f64; 2]) -> MineralsState {
        let nc = commodities.len();
        let capacity: Vec<Vec<f64>> = processing.iter().map(|t| vec![*t; nc]).collect();
        let listed: Vec<Vec<bool>> = processing.iter().map(|t| vec![*t > 0.0; nc]).collect();
        MineralsState::new(spec, commodities, 1, &firms(), &capacity, &listed)
    }

    /// Capacity (tonnes a year) of the deposits of commodity `c` at `stage` or beyond.
    fn capacity_at_least(state: &MineralsState, c: usize, stage: Stage) -> f64 {
        (0..state.n_deposits())
            .filter(|&i| state.deposit_commodity[i] as usize == c && state.stage[i] != Stage::Abandoned)
            .filter(|&i| stage_index(state.stage[i]) >= stage_index(stage))
            .map(|i| state.capacity_t[i])
            .sum()
    }

    #[test]
    fn generation_keeps_capacities_exact_at_any_resolution() {
        for n in [10, 37, 400] {
            let mut e = endowment(0, 100.0, 900.0, 0.3);
            e.owners = vec![0.15, 0.2];
            let spec = spec(n, 4, vec![e]);
            let state = new_state(&spec, &[commodity("re", 10_000.0)], [0.0, 0.0]);
            let producing = capacity_at_least(&state, 0, Stage::Producing);
            let mapped = capacity_at_least(&state, 0, Stage::Mapped) - producing;
            let total: f64 = state.capacity_t.iter().sum();
            assert!((producing - 100.0).abs() < 1e-9, "{n}: producing {producing}");
            assert!((mapped - 270.0).abs() < 1e-9, "{n}: mapped {mapped}");
            assert!((total - 1000.0).abs() < 1e-9, "{n}: total {total}");
            let owned = |p: u32| -> f64 {
                (0..state.n_deposits())
                    .filter(|&i| state.owner_patron[i] == p)
                    .map(|i| state.capacity_t[i])
                    .sum()
            };
            assert!((owned(0) - 15.0).abs() < 1e-9 && (owned(1) - 20.0).abs() < 1e-9);
        }
    }

    #[test]
    fn value_per_dollar_follows_price_margin_and_cost_not_deposit_size() {
        let spec = spec(10, 1, Vec::new());
        let cheap = commodity("a", 5_000.0);
        let dear = commodity("b", 20_000.0);
        let (r_cheap, r_dear) = (value_ratio(&spec, &cheap), value_ratio(&spec, &dear));
        assert!((r_dear / r_cheap - 4.0).abs() < 1e-9, "value is proportional to price");
        let mut costly = dear.clone();
        costly.capex_usd_per_annual_t *= 2.0;
        assert!((value_ratio(&spec, &costly) * 2.0 - r_dear).abs() < 1e-9);
        let mut thin = dear.clone();
        thin.operating_margin = 0.2;
        assert!((value_ratio(&spec, &thin) * 2.0 - r_dear).abs() < 1e-9);
    }

    /// Two commodities in one host, both fully mapped: one worth developing (price 20,000
    /// a tonne against capex 10,000), one not (2,000).
    fn two_commodities() -> (MineralsSpec, Vec<Commodity>) {
        let spec = spec(
            40,
            8,
            vec![endowment(0, 0.0, 1000.0, 1.0), endowment(1, 0.0, 1000.0, 1.0)],
        );
        (spec, vec![commodity("poor", 2_000.0), commodity("rich", 20_000.0)])
    }

    #[test]
    fn firms_choose_deposits_by_value_to_their_owner() {
        let (mut spec, commodities) = two_commodities();
        assert!(value_ratio(&spec, &commodities[0]) < 1.0 && value_ratio(&spec, &commodities[1]) > 1.0);
        let levers = Levers {
            minerals: [1.0, 0.0],
            ..Levers::default()
        };
        // Listing "poor" first does not make it first in line: value decides.
        let mut state = new_state(&spec, &commodities, [0.0, 0.0]);
        let mut rng = replicate_rng(1, 0);
        for _ in 0..8 {
            state.step(&spec, &commodities, &inputs(&levers), &mut rng);
        }
        assert_eq!(capacity_at_least(&state, 0, Stage::Exploring), 0.0, "below break-even");
        assert!((capacity_at_least(&state, 1, Stage::Producing) - 1000.0).abs() < 1e-9);

        // A patron's priority makes the poor commodity worth its while.
        spec.priorities = vec![vec![20.0, 1.0], vec![1.0, 1.0]];
        let mut state = new_state(&spec, &commodities, [0.0, 0.0]);
        for _ in 0..8 {
            state.step(&spec, &commodities, &inputs(&levers), &mut rng);
        }
        assert!((capacity_at_least(&state, 0, Stage::Producing) - 1000.0).abs() < 1e-9);
    }

    #[test]
    fn project_costs_are_per_unit_of_capacity() {
        // The same endowment in 10 or 40 deposits: the same money develops the same
        // capacity, and mining investment is capacity x capex x (1 + exploration share).
        let mut developed = Vec::new();
        for n in [10, 40] {
            let spec = spec(n, 5, vec![endowment(0, 0.0, 1000.0, 1.0)]);
            let commodities = [commodity("rich", 20_000.0)];
            let mut state = new_state(&spec, &commodities, [0.0, 0.0]);
            let levers = Levers {
                minerals: [0.0044 * 4.0, 0.0],
                ..Levers::default()
            };
            let mut rng = replicate_rng(2, u64::from(n));
            let mut invested = 0.0;
            for _ in 0..1 {
                state.step(&spec, &commodities, &inputs(&levers), &mut rng);
                invested += state.mining_investment_usd_bn.iter().sum::<f64>();
            }
            // 0.0044 bn pays for the whole project of 400 t a year: 0.004 of capex and
            // 0.0004 of exploration, spent now.
            let taken = capacity_at_least(&state, 0, Stage::Exploring);
            assert!((taken - 400.0).abs() < 1e-6, "{n} deposits: {taken} t taken");
            assert!((invested - 0.0004).abs() < 1e-12, "{n} deposits: {invested}");
            state.step(&spec, &commodities, &inputs(&Levers::default()), &mut rng);
            let development: f64 = state.mining_investment_usd_bn.iter().sum();
            assert!((development - 0.004).abs() < 1e-12, "{n} deposits: {development}");
            developed.push(taken);
        }
        assert_eq!(developed[0], developed[1]);
    }

    #[test]
    fn funded_mapping_maps_the_same_capacity_at_any_resolution() {
        // 0.001 bn maps capex worth 0.02 bn at 5% of capex: 2,000 t a year of capacity,
        // whether in deposits of 100 t (coarse) or 25 t (fine), on average.
        let levers = Levers {
            mapping: [0.004, 0.0],
            ..Levers::default()
        };
        let commodities = [commodity("rich", 20_000.0)];
        let mut means = Vec::new();
        for n in [100, 400] {
            let spec = spec(n, 0, vec![endowment(0, 0.0, 10_000.0, 0.0)]);
            let reps = 400;
            let mut total = 0.0;
            for r in 0..reps {
                let mut state = new_state(&spec, &commodities, [0.0, 0.0]);
                let mut rng = replicate_rng(3, r);
                state.step(&spec, &commodities, &inputs(&levers), &mut rng);
                total += capacity_at_least(&state, 0, Stage::Mapped);
            }
            means.push(total / reps as f64);
        }
        for mean in &means {
            assert!((mean - 2000.0).abs() < 60.0, "mapped {means:?}");
        }
    }

    #[test]
    fn a_patrons_mapping_gives_its_firms_a_first_look() {
        let mut spec = spec(20, 8, vec![endowment(0, 0.0, 1000.0, 0.0)]);
        spec.mapping_first_look_quarters = 4;
        let commodities = [commodity("rich", 20_000.0)];
        // Patron 1 maps, but has no firms: patron 0 waits four quarters.
        let levers = Levers {
            minerals: [1.0, 0.0],
            mapping: [0.0, 1.0],
            ..Levers::default()
        };
        let mut state = new_state(&spec, &commodities, [0.0, 0.0]);
        let mut rng = replicate_rng(4, 0);
        state.step(&spec, &commodities, &inputs(&levers), &mut rng);
        assert!((capacity_at_least(&state, 0, Stage::Mapped) - 1000.0).abs() < 1e-9);
        for _ in 0..3 {
            state.step(&spec, &commodities, &inputs(&levers), &mut rng);
            assert_eq!(capacity_at_least(&state, 0, Stage::Exploring), 0.0);
        }
        state.step(&spec, &commodities, &inputs(&levers), &mut rng);
        assert!((capacity_at_least(&state, 0, Stage::Exploring) - 1000.0).abs() < 1e-9);
    }

    #[test]
    fn private_capital_mobilised_is_credited_to_private_firms() {
        // A USD 0.001 bn fund and 3 private dollars per public dollar pay for 0.004 bn of
        // projects; without mobilisation, for 0.001 bn.
        let commodities = [commodity("rich", 20_000.0)];
        for (mobilisation, expected) in [(3.0, 0.004), (0.0, 0.001)] {
            let spec = spec(400, 4, vec![endowment(0, 0.0, 10_000.0, 1.0)]);
            let state = new_state(&spec, &commodities, [0.0, 0.0]);
            let levers = Levers {
                minerals: [0.004, 0.0],
                mobilisation: [mobilisation, 0.0],
                ..Levers::default()
            };
            let reps = 200;
            let mut committed = 0.0;
            let mut mobilised = 0.0;
            for r in 0..reps {
                let mut state = state.clone();
                let mut rng = replicate_rng(5, r);
                state.step(&spec, &commodities, &inputs(&levers), &mut rng);
                committed += capacity_at_least(&state, 0, Stage::Exploring) * 10_000.0 * 1.1 / 1e9;
                mobilised += state.private_mobilised_usd_bn[0];
            }
            let (committed, mobilised) = (committed / reps as f64, mobilised / reps as f64);
            assert!(
                (committed / expected - 1.0).abs() < 0.05,
                "m = {mobilisation}: {committed}"
            );
            let share = mobilisation / (1.0 + mobilisation);
            assert!(
                (mobilised - committed * share).abs() < 1e-4,
                "m = {mobilisation}: {mobilised}"
            );
        }
    }

    /// One host producing 1,000 t a year, all domestic: everything is sold on the market.
    fn market(processing: [f64; 2]) -> (MineralsSpec, Vec<Commodity>, MineralsState) {
        let spec = spec(10, 0, vec![endowment(0, 1000.0, 0.0, 0.0)]);
        let commodities = vec![commodity("re", 10_000.0)];
        let state = new_state(&spec, &commodities, processing);
        (spec, commodities, state)
    }

    fn shares_after(processing: [f64; 2], levers: &Levers, quarters: usize) -> [f64; 3] {
        let (spec, commodities, mut state) = market(processing);
        let mut rng = replicate_rng(6, 0);
        for _ in 0..quarters {
            state.step(&spec, &commodities, &inputs(levers), &mut rng);
        }
        let total: f64 = state.supply_t.iter().sum();
        assert!((total - 1000.0).abs() < 1e-6, "all output is sold: {total}");
        [
            state.supply_t[0] / total,
            state.supply_t[1] / total,
            state.supply_t[2] / total,
        ]
    }

    #[test]
    fn the_default_processor_keeps_its_share_and_capacity_competes_for_the_rest() {
        let none = Levers::default();
        // Only the default processor: 90%, the world market the rest.
        let [p0, p1, world] = shares_after([0.0, 90_000.0], &none, 1);
        assert!(p0 == 0.0 && (p1 - 0.9).abs() < 1e-12 && (world - 0.1).abs() < 1e-12);
        // Patron 0's capacity of 5,000 t: it buys in proportion to its capacity, within the
        // default processor's 10%.
        let [p0, p1, world] = shares_after([5_000.0, 90_000.0], &none, 1);
        assert!((p0 - 0.05).abs() < 1e-12 && (p1 - 0.9).abs() < 1e-12 && (world - 0.05).abs() < 1e-12);
        // Investment in patron 0's processing moves output toward it, with diminishing
        // effect; capacity bounds what it buys.
        let gains: Vec<f64> = [0.5, 1.0, 2.0]
            .iter()
            .map(|bn| {
                let levers = Levers {
                    processing: [*bn, 0.0],
                    ..Levers::default()
                };
                shares_after([5_000.0, 90_000.0], &levers, 8)[0]
            })
            .collect();
        assert!(
            gains[0] > 0.05 && gains[1] > gains[0] && gains[2] > gains[1],
            "{gains:?}"
        );
        assert!(gains[2] - gains[1] < gains[1] - gains[0], "diminishing: {gains:?}");
        // Capacity binds: patron 0 would buy 100 / 550 of the 1,000 t but can take 100 t;
        // the default processor takes its 450 t, and the world market the rest.
        let [p0, p1, world] = shares_after([100.0, 450.0], &none, 1);
        assert!((p0 - 0.1).abs() < 1e-12 && (p1 - 0.45).abs() < 1e-12 && (world - 0.45).abs() < 1e-12);
    }

    #[test]
    fn alignment_and_sanctions_move_output_between_processors() {
        let (spec, commodities, mut state) = market([45_000.0, 45_000.0]);
        let mut rng = replicate_rng(7, 0);
        state.step(&spec, &commodities, &inputs(&Levers::default()), &mut rng);
        let start = state.supply_t[0];
        // The host leans toward patron 0 and patron 1 comes under sanctions.
        let (alignment, sanctions) = ([0.6, 0.4], [0.0, 0.5]);
        let levers = Levers::default();
        let mut moved = inputs(&levers);
        moved.alignment = &alignment;
        moved.sanctions = &sanctions;
        state.step(&spec, &commodities, &moved, &mut rng);
        assert!(state.supply_t[0] > start && state.supply_t[1] < state.supply_t[0]);
    }

    #[test]
    fn owners_keep_first_call_on_their_output() {
        let mut e = endowment(0, 1000.0, 0.0, 0.0);
        e.owners = vec![0.4, 0.0];
        let spec = spec(10, 4, vec![e]);
        let commodities = [commodity("re", 10_000.0)];
        let mut state = new_state(&spec, &commodities, [300.0, 90_000.0]);
        state.step(
            &spec,
            &commodities,
            &inputs(&Levers::default()),
            &mut replicate_rng(8, 0),
        );
        // Patron 0 owns 400 t and processes 300 t of it; the rest of its output and the
        // domestic 600 t are sold, patron 0 having no free capacity left, between the
        // default processor (90,000 t) and the world market (90,000 x 0.1 / 0.9 - 300).
        assert!((state.supply_t[0] - 300.0).abs() < 1e-9);
        assert!((state.supply_t[1] - 700.0 * 90_000.0 / 99_700.0).abs() < 1e-9);
    }
}
