//! Freight routes: the Northern route through Russia, the Middle Corridor across the
//! Caspian, and any others a scenario defines, grouped into markets by where they go.
//!
//! Freight chooses among the routes of its market by generalised cost (freight rate, time
//! and risk) with a logit: shippers differ in what they value, so a cheaper route wins a
//! larger share, not all of it. Flows above a route's capacity spill over to routes with
//! room. Capacity is a stock: investment becomes capacity after a construction lag and
//! then stays built, wearing out slowly; a route used near its capacity is slower
//! (congestion). The expected cost of reaching a market (the logsum of its routes) is
//! what the hosts' trade with that market pays, so a cheaper corridor moves trade.

use std::collections::VecDeque;

/// Route levers that events may change.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RouteLevers {
    pub cost_usd_per_t: f64,
    pub transit_days: f64,
    pub risk: f64,
    pub investment_usd_bn: f64,
}

/// Where a route's freight goes: the market of the hosts' trade with partners that are
/// not patrons (Europe, Turkey and the rest, with the Asia-Europe transit), or the market
/// of one patron.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Market {
    Other,
    Patron(usize),
}

impl Market {
    /// Index among [`RoutesState`]'s markets: 0 for `Other`, 1 + p for patron p.
    pub fn index(self) -> usize {
        match self {
            Market::Other => 0,
            Market::Patron(p) => 1 + p,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Route {
    pub id: String,
    pub name: String,
    pub market: Market,
    pub capacity_mt: f64,
    /// The patron whose territory the route crosses: its sanctions raise the route's cost
    /// and risk, and the share of freight the route carries is leverage for it.
    pub sanctions_exposure: Option<usize>,
    pub sanctions_cost_markup: f64,
    pub sanctions_risk_markup: f64,
    pub capacity_cost_usd_bn_per_mt: f64,
    /// Quarters between spending on capacity and the capacity being usable.
    pub construction_quarters: u32,
    pub levers: RouteLevers,
}

/// Freight demand and choice.
#[derive(Debug, Clone, Default)]
pub struct Freight {
    pub transit_demand_mt: f64,
    pub transit_growth_per_quarter: f64,
    pub host_freight_mt_per_usd_bn: f64,
    pub value_of_time_usd_per_t_day: f64,
    pub risk_cost_usd_per_t: f64,
    pub choice_scale_usd_per_t: f64,
    /// Extra transit time at full use of capacity, as a share of the route's days
    /// (the BPR congestion function's alpha).
    pub congestion_delay: f64,
    /// Exponent of utilisation in the congestion function (BPR's beta).
    pub congestion_exponent: f64,
    /// Share of capacity built during the run that wears out each quarter; what a route
    /// had at the start is maintained.
    pub capacity_depreciation_per_quarter: f64,
}

#[derive(Debug, Clone)]
pub struct RoutesState {
    pub(crate) capacity_mt: Vec<f64>,
    initial_capacity_mt: Vec<f64>,
    /// Per route: capacity completing in each coming quarter, Mt a year.
    under_construction: Vec<VecDeque<f64>>,
    /// Freight carried, Mt a year.
    pub(crate) flow_mt: Vec<f64>,
    /// Generalised cost, USD per tonne.
    pub(crate) generalised_cost: Vec<f64>,
    pub(crate) transit_demand_mt: f64,
    /// Per market: demand that found no capacity, Mt a year.
    pub(crate) unserved_mt: Vec<f64>,
    /// Per market: expected cost of reaching it (logsum of its routes), USD per tonne,
    /// now and at the start. Markets without routes keep 0.
    pub(crate) cost_index: Vec<f64>,
    initial_cost_index: Vec<f64>,
    /// Per patron: share of the Other market's freight on routes through its territory.
    pub(crate) transit_share: Vec<f64>,
}

impl RoutesState {
    /// The routes at the start, under the sanctions in force (per patron), carrying
    /// `demand_mt` (per market, see [`Market::index`]):
    /// flows and congestion settled, and capacity already under construction from the
    /// investment in force at the start (as if it had been going on), so that a steady
    /// investment adds capacity from the first quarter.
    pub fn new(routes: &[Route], freight: &Freight, sanctions: &[f64], demand_mt: &[f64]) -> RoutesState {
        let n_patrons = sanctions.len();
        let n = routes.len();
        let mut state = RoutesState {
            capacity_mt: routes.iter().map(|r| r.capacity_mt).collect(),
            initial_capacity_mt: routes.iter().map(|r| r.capacity_mt).collect(),
            under_construction: routes
                .iter()
                .map(|r| {
                    let per_quarter = added_capacity(r, &r.levers);
                    std::iter::repeat(per_quarter)
                        .take(r.construction_quarters as usize)
                        .collect()
                })
                .collect(),
            flow_mt: vec![0.0; n],
            generalised_cost: vec![0.0; n],
            transit_demand_mt: freight.transit_demand_mt,
            unserved_mt: vec![0.0; 1 + n_patrons],
            cost_index: vec![0.0; 1 + n_patrons],
            initial_cost_index: vec![0.0; 1 + n_patrons],
            transit_share: vec![0.0; n_patrons],
        };
        let levers: Vec<RouteLevers> = routes.iter().map(|r| r.levers).collect();
        // Congestion depends on the flows it shapes: a few rounds settle them.
        for _ in 0..8 {
            state.choose(routes, &levers, freight, sanctions, demand_mt);
        }
        state.initial_cost_index.clone_from(&state.cost_index);
        state
    }

    /// One quarter: capacity under construction is completed and new investment started,
    /// built capacity wears out, demand grows, freight chooses routes.
    /// `demand_mt` is the hosts' own freight per market (Mt a year); the Other market also
    /// carries the Asia-Europe transit demand.
    pub fn step(
        &mut self,
        routes: &[Route],
        levers: &[RouteLevers],
        freight: &Freight,
        sanctions: &[f64],
        demand_mt: &[f64],
    ) {
        if routes.is_empty() {
            return;
        }
        let wear = freight.capacity_depreciation_per_quarter;
        for (r, route) in routes.iter().enumerate() {
            let new = added_capacity(route, &levers[r]);
            let pipeline = &mut self.under_construction[r];
            let completed = if route.construction_quarters == 0 {
                new
            } else {
                pipeline.push_back(new);
                pipeline.pop_front().unwrap_or(0.0)
            };
            // What the route had at the start is maintained; what was built since wears out.
            self.capacity_mt[r] = self.capacity_mt[r] * (1.0 - wear) + wear * self.initial_capacity_mt[r] + completed;
        }
        self.transit_demand_mt *= 1.0 + freight.transit_growth_per_quarter;
        self.choose(routes, levers, freight, sanctions, demand_mt);
    }

    /// Generalised costs (with the congestion of last quarter's flows), logit shares and
    /// flows per market, the markets' cost index and the transit shares.
    fn choose(
        &mut self,
        routes: &[Route],
        levers: &[RouteLevers],
        freight: &Freight,
        sanctions: &[f64],
        demand_mt: &[f64],
    ) {
        for (r, route) in routes.iter().enumerate() {
            let exposure = route.sanctions_exposure.map_or(0.0, |p| sanctions[p]);
            let cost = levers[r].cost_usd_per_t * (1.0 + route.sanctions_cost_markup * exposure);
            let risk = (levers[r].risk + route.sanctions_risk_markup * exposure).clamp(0.0, 1.0);
            let utilisation = if self.capacity_mt[r] > 0.0 {
                (self.flow_mt[r] / self.capacity_mt[r]).min(2.0)
            } else {
                0.0
            };
            let days = levers[r].transit_days
                * (1.0 + freight.congestion_delay * utilisation.powf(freight.congestion_exponent));
            self.generalised_cost[r] =
                cost + freight.value_of_time_usd_per_t_day * days + freight.risk_cost_usd_per_t * risk;
        }
        let scale = freight.choice_scale_usd_per_t.max(1e-9);
        for market in 0..self.cost_index.len() {
            let members: Vec<usize> = (0..routes.len())
                .filter(|&r| routes[r].market.index() == market)
                .collect();
            if members.is_empty() {
                continue;
            }
            let demand =
                demand_mt.get(market).copied().unwrap_or(0.0) + if market == 0 { self.transit_demand_mt } else { 0.0 };
            let costs: Vec<f64> = members.iter().map(|&r| self.generalised_cost[r]).collect();
            let capacity: Vec<f64> = members.iter().map(|&r| self.capacity_mt[r]).collect();
            let (shares, index) = logit_shares(&costs, scale, &capacity);
            if let Some(index) = index {
                self.cost_index[market] = index;
            }
            let mut flow = vec![0.0; members.len()];
            self.unserved_mt[market] = assign_with_capacity(demand, &shares, &capacity, &mut flow);
            for (&r, f) in members.iter().zip(flow) {
                self.flow_mt[r] = f;
            }
        }
        let other_total: f64 = (0..routes.len())
            .filter(|&r| routes[r].market == Market::Other)
            .map(|r| self.flow_mt[r])
            .sum();
        self.transit_share.iter_mut().for_each(|s| *s = 0.0);
        if other_total > 0.0 {
            for (r, route) in routes.iter().enumerate() {
                if let (Market::Other, Some(p)) = (route.market, route.sanctions_exposure) {
                    self.transit_share[p] += self.flow_mt[r] / other_total;
                }
            }
        }
    }

    /// Share of its market's carried freight that route `r` carries.
    pub fn share(&self, routes: &[Route], r: usize) -> f64 {
        let market = routes[r].market;
        let total: f64 = (0..routes.len())
            .filter(|&q| routes[q].market == market)
            .map(|q| self.flow_mt[q])
            .sum();
        if total > 0.0 {
            self.flow_mt[r] / total
        } else {
            0.0
        }
    }

    /// How much the cost of reaching a market has changed since the start, USD per tonne.
    pub fn cost_change(&self, market: usize) -> f64 {
        self.cost_index[market] - self.initial_cost_index[market]
    }
}

/// Capacity that a quarter of the route's investment adds, Mt a year.
fn added_capacity(route: &Route, levers: &RouteLevers) -> f64 {
    if route.capacity_cost_usd_bn_per_mt > 0.0 {
        levers.investment_usd_bn / 4.0 / route.capacity_cost_usd_bn_per_mt
    } else {
        0.0
    }
}

/// Logit shares over routes with capacity, by generalised cost, and the expected minimum
/// cost over them (the logsum), or `None` when no route has capacity.
fn logit_shares(costs: &[f64], scale: f64, capacity: &[f64]) -> (Vec<f64>, Option<f64>) {
    let usable: Vec<bool> = capacity.iter().map(|c| *c > 0.0).collect();
    let best = costs
        .iter()
        .zip(&usable)
        .filter(|(_, u)| **u)
        .map(|(c, _)| *c)
        .fold(f64::INFINITY, f64::min);
    let weights: Vec<f64> = costs
        .iter()
        .zip(&usable)
        .map(|(c, u)| if *u { (-(c - best) / scale).exp() } else { 0.0 })
        .collect();
    let total: f64 = weights.iter().sum();
    if total > 0.0 {
        let index = best - scale * total.ln();
        (weights.iter().map(|w| w / total).collect(), Some(index))
    } else {
        (vec![0.0; costs.len()], None)
    }
}

/// Assigns `demand` by `shares`, spilling flow above capacity to routes with room in
/// proportion to their shares; returns the demand no route could carry.
fn assign_with_capacity(demand: f64, shares: &[f64], capacity: &[f64], flow: &mut [f64]) -> f64 {
    for (f, s) in flow.iter_mut().zip(shares) {
        *f = demand * s;
    }
    for _ in 0..shares.len() {
        let mut spill = 0.0;
        for (f, c) in flow.iter_mut().zip(capacity) {
            if *f > *c {
                spill += *f - *c;
                *f = *c;
            }
        }
        if spill <= 1e-12 {
            return 0.0;
        }
        let room_share: f64 = flow
            .iter()
            .zip(capacity)
            .zip(shares)
            .filter(|((f, c), _)| *f < *c)
            .map(|(_, s)| *s)
            .sum();
        if room_share <= 0.0 {
            return spill;
        }
        for ((f, c), s) in flow.iter_mut().zip(capacity).zip(shares) {
            if *f < *c {
                *f += spill * s / room_share;
            }
        }
    }
    let mut spill = 0.0;
    for (f, c) in flow.iter_mut().zip(capacity) {
        if *f > *c {
            spill += *f - *c;
            *f = *c;
        }
    }
    spill
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(id: &str, capacity: f64, cost: f64, days: f64, exposure: Option<usize>) -> Route {
        Route {
            id: id.into(),
            name: id.into(),
            market: Market::Other,
            capacity_mt: capacity,
            sanctions_exposure: exposure,
            sanctions_cost_markup: 1.0,
            sanctions_risk_markup: 0.5,
            capacity_cost_usd_bn_per_mt: 1.0,
            construction_quarters: 0,
            levers: RouteLevers {
                cost_usd_per_t: cost,
                transit_days: days,
                risk: 0.0,
                investment_usd_bn: 0.0,
            },
        }
    }

    fn freight() -> Freight {
        Freight {
            transit_demand_mt: 20.0,
            transit_growth_per_quarter: 0.0,
            host_freight_mt_per_usd_bn: 0.0,
            value_of_time_usd_per_t_day: 5.0,
            risk_cost_usd_per_t: 500.0,
            choice_scale_usd_per_t: 50.0,
            congestion_delay: 0.0,
            congestion_exponent: 4.0,
            capacity_depreciation_per_quarter: 0.0,
        }
    }

    fn levers(routes: &[Route]) -> Vec<RouteLevers> {
        routes.iter().map(|r| r.levers).collect()
    }

    #[test]
    fn sanctions_on_the_northern_route_shift_freight_to_the_corridor() {
        let routes = vec![
            route("NORTH", 100.0, 100.0, 15.0, Some(0)),
            route("MIDDLE", 100.0, 150.0, 30.0, None),
        ];
        let mut state = RoutesState::new(&routes, &freight(), &[0.0], &[0.0, 0.0]);
        let before = state.share(&routes, 1);
        assert!((state.transit_share[0] - (1.0 - before)).abs() < 1e-12);
        state.step(&routes, &levers(&routes), &freight(), &[0.8], &[0.0, 0.0]);
        let after = state.share(&routes, 1);
        assert!(
            before < 0.2 && after > 2.0 * before,
            "corridor share {before} -> {after}"
        );
        assert!((state.flow_mt.iter().sum::<f64>() - 20.0).abs() < 1e-9);
        assert!(state.cost_change(0) > 0.0, "sanctions make reaching Europe dearer");
    }

    #[test]
    fn flow_above_capacity_spills_to_routes_with_room() {
        let routes = vec![
            route("CHEAP", 5.0, 50.0, 10.0, None),
            route("DEAR", 100.0, 300.0, 30.0, None),
        ];
        let state = RoutesState::new(&routes, &freight(), &[], &[0.0]);
        assert!((state.flow_mt[0] - 5.0).abs() < 1e-9, "cheap route full");
        assert!((state.flow_mt[1] - 15.0).abs() < 1e-9);
        assert_eq!(state.unserved_mt[0], 0.0);
    }

    #[test]
    fn capacity_comes_after_construction_and_stays_built() {
        let mut routes = vec![route("MIDDLE", 6.0, 150.0, 30.0, None)];
        routes[0].construction_quarters = 2;
        let mut state = RoutesState::new(&routes, &freight(), &[], &[0.0]);
        let mut spending = levers(&routes);
        spending[0].investment_usd_bn = 4.0; // 1 Mt a quarter at USD 1 bn per Mt
        for _ in 0..2 {
            state.step(&routes, &spending, &freight(), &[], &[0.0]);
        }
        assert!((state.capacity_mt[0] - 6.0).abs() < 1e-9, "still under construction");
        for _ in 0..4 {
            state.step(&routes, &spending, &freight(), &[], &[0.0]);
        }
        assert!((state.capacity_mt[0] - 10.0).abs() < 1e-9);
        // The programme ends: what was built stays (no wear here) and the pipeline empties.
        for _ in 0..8 {
            state.step(&routes, &levers(&routes), &freight(), &[], &[0.0]);
        }
        assert!((state.capacity_mt[0] - 12.0).abs() < 1e-9);
        assert!((state.flow_mt[0] - 12.0).abs() < 1e-9 && (state.unserved_mt[0] - 8.0).abs() < 1e-9);
    }

    #[test]
    fn built_capacity_wears_out_but_the_start_is_maintained() {
        let routes = vec![route("MIDDLE", 6.0, 150.0, 30.0, None)];
        let mut f = freight();
        f.capacity_depreciation_per_quarter = 0.1;
        let mut state = RoutesState::new(&routes, &f, &[], &[0.0]);
        for _ in 0..20 {
            state.step(&routes, &levers(&routes), &f, &[], &[0.0]);
        }
        assert!((state.capacity_mt[0] - 6.0).abs() < 1e-9);
        state.capacity_mt[0] = 10.0;
        state.step(&routes, &levers(&routes), &f, &[], &[0.0]);
        assert!((state.capacity_mt[0] - 9.6).abs() < 1e-9);
    }

    #[test]
    fn congestion_slows_a_crowded_route_and_capacity_relieves_it() {
        let routes = vec![
            route("NORTH", 100.0, 100.0, 15.0, None),
            route("MIDDLE", 6.0, 100.0, 15.0, None),
        ];
        let mut f = freight();
        f.congestion_delay = 0.15;
        let crowded = RoutesState::new(&routes, &f, &[], &[0.0]);
        assert!(crowded.generalised_cost[1] > crowded.generalised_cost[0]);
        let mut wider = routes.clone();
        wider[1].capacity_mt = 60.0;
        let relieved = RoutesState::new(&wider, &f, &[], &[0.0]);
        assert!(relieved.generalised_cost[1] < crowded.generalised_cost[1]);
        assert!(relieved.share(&wider, 1) > crowded.share(&routes, 1));
    }

    #[test]
    fn each_market_chooses_among_its_own_routes() {
        let mut routes = vec![
            route("NORTH", 100.0, 100.0, 15.0, None),
            route("EAST", 100.0, 80.0, 5.0, None),
        ];
        routes[1].market = Market::Patron(0);
        let state = RoutesState::new(&routes, &freight(), &[0.0], &[0.0, 7.0]);
        assert!(
            (state.flow_mt[0] - 20.0).abs() < 1e-9,
            "transit stays on the westbound route"
        );
        assert!((state.flow_mt[1] - 7.0).abs() < 1e-9);
        assert_eq!(state.share(&routes, 1), 1.0);
        // One route's logsum is its own cost.
        assert!((state.cost_index[1] - state.generalised_cost[1]).abs() < 1e-9);
    }
}
