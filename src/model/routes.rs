//! Freight routes between Asia and Europe: the Northern route through Russia, the Middle
//! Corridor across the Caspian, and any others a scenario defines.
//!
//! Freight chooses among routes by generalised cost (freight rate, time and risk) with a
//! logit: shippers differ in what they value, so a cheaper route wins a larger share, not
//! all of it. Flows above a route's capacity spill over to routes with room. Sanctions on
//! the patron a route depends on raise its cost and risk; investment raises capacity.

/// Route levers that events may change.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RouteLevers {
    pub cost_usd_per_t: f64,
    pub transit_days: f64,
    pub risk: f64,
    pub investment_usd_bn: f64,
}

#[derive(Debug, Clone)]
pub struct Route {
    pub id: String,
    pub name: String,
    pub capacity_mt: f64,
    pub sanctions_exposure: Option<usize>,
    pub sanctions_cost_markup: f64,
    pub sanctions_risk_markup: f64,
    pub capacity_cost_usd_bn_per_mt: f64,
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
}

#[derive(Debug, Clone)]
pub struct RoutesState {
    pub(crate) capacity_mt: Vec<f64>,
    /// Freight carried, Mt a year.
    pub(crate) flow_mt: Vec<f64>,
    /// Generalised cost, USD per tonne.
    pub(crate) generalised_cost: Vec<f64>,
    pub(crate) transit_demand_mt: f64,
    /// Demand that found no capacity, Mt a year.
    pub(crate) unserved_mt: f64,
}

impl RoutesState {
    pub fn new(routes: &[Route], freight: &Freight) -> RoutesState {
        RoutesState {
            capacity_mt: routes.iter().map(|r| r.capacity_mt).collect(),
            flow_mt: vec![0.0; routes.len()],
            generalised_cost: vec![0.0; routes.len()],
            transit_demand_mt: freight.transit_demand_mt,
            unserved_mt: 0.0,
        }
    }

    /// One quarter: capacity grows with investment, demand grows, freight chooses routes.
    /// `sanctions` is the sanctions level of each patron; `host_trade_usd_bn` the hosts'
    /// trade that travels overland to Europe.
    pub fn step(
        &mut self,
        routes: &[Route],
        levers: &[RouteLevers],
        freight: &Freight,
        sanctions: &[f64],
        host_trade_usd_bn: f64,
    ) {
        if routes.is_empty() {
            return;
        }
        for (r, route) in routes.iter().enumerate() {
            if route.capacity_cost_usd_bn_per_mt > 0.0 {
                self.capacity_mt[r] += levers[r].investment_usd_bn / 4.0 / route.capacity_cost_usd_bn_per_mt;
            }
        }
        self.transit_demand_mt *= 1.0 + freight.transit_growth_per_quarter;
        let demand = self.transit_demand_mt + freight.host_freight_mt_per_usd_bn * host_trade_usd_bn;

        for (r, route) in routes.iter().enumerate() {
            let exposure = route.sanctions_exposure.map_or(0.0, |p| sanctions[p]);
            let cost = levers[r].cost_usd_per_t * (1.0 + route.sanctions_cost_markup * exposure);
            let risk = (levers[r].risk + route.sanctions_risk_markup * exposure).clamp(0.0, 1.0);
            self.generalised_cost[r] = cost
                + freight.value_of_time_usd_per_t_day * levers[r].transit_days
                + freight.risk_cost_usd_per_t * risk;
        }
        let shares = logit_shares(
            &self.generalised_cost,
            freight.choice_scale_usd_per_t,
            &self.capacity_mt,
        );
        self.unserved_mt = assign_with_capacity(demand, &shares, &self.capacity_mt, &mut self.flow_mt);
    }

    /// Share of the served freight that route `r` carries.
    pub fn share(&self, r: usize) -> f64 {
        let total: f64 = self.flow_mt.iter().sum();
        if total > 0.0 {
            self.flow_mt[r] / total
        } else {
            0.0
        }
    }
}

/// Logit shares over routes with capacity, by generalised cost.
fn logit_shares(costs: &[f64], scale: f64, capacity: &[f64]) -> Vec<f64> {
    let usable: Vec<bool> = capacity.iter().map(|c| *c > 0.0).collect();
    let best = costs
        .iter()
        .zip(&usable)
        .filter(|(_, u)| **u)
        .map(|(c, _)| *c)
        .fold(f64::INFINITY, f64::min);
    let scale = scale.max(1e-9);
    let weights: Vec<f64> = costs
        .iter()
        .zip(&usable)
        .map(|(c, u)| if *u { (-(c - best) / scale).exp() } else { 0.0 })
        .collect();
    let total: f64 = weights.iter().sum();
    if total > 0.0 {
        weights.iter().map(|w| w / total).collect()
    } else {
        vec![0.0; costs.len()]
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
            capacity_mt: capacity,
            sanctions_exposure: exposure,
            sanctions_cost_markup: 1.0,
            sanctions_risk_markup: 0.5,
            capacity_cost_usd_bn_per_mt: 1.0,
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
        }
    }

    #[test]
    fn sanctions_on_the_northern_route_shift_freight_to_the_corridor() {
        let routes = vec![
            route("NORTH", 100.0, 100.0, 15.0, Some(0)),
            route("MIDDLE", 100.0, 150.0, 30.0, None),
        ];
        let levers: Vec<RouteLevers> = routes.iter().map(|r| r.levers).collect();
        let mut state = RoutesState::new(&routes, &freight());
        state.step(&routes, &levers, &freight(), &[0.0], 0.0);
        let before = state.share(1);
        state.step(&routes, &levers, &freight(), &[0.8], 0.0);
        let after = state.share(1);
        assert!(
            before < 0.2 && after > 2.0 * before,
            "corridor share {before} -> {after}"
        );
        assert!((state.flow_mt.iter().sum::<f64>() - 20.0).abs() < 1e-9);
    }

    #[test]
    fn flow_above_capacity_spills_to_routes_with_room() {
        let routes = vec![
            route("CHEAP", 5.0, 50.0, 10.0, None),
            route("DEAR", 100.0, 300.0, 30.0, None),
        ];
        let levers: Vec<RouteLevers> = routes.iter().map(|r| r.levers).collect();
        let mut state = RoutesState::new(&routes, &freight());
        state.step(&routes, &levers, &freight(), &[], 0.0);
        assert!((state.flow_mt[0] - 5.0).abs() < 1e-9, "cheap route full");
        assert!((state.flow_mt[1] - 15.0).abs() < 1e-9);
        assert_eq!(state.unserved_mt, 0.0);
    }

    #[test]
    fn investment_raises_capacity() {
        let mut routes = vec![route("MIDDLE", 6.0, 150.0, 30.0, None)];
        routes[0].levers.investment_usd_bn = 4.0;
        let levers: Vec<RouteLevers> = routes.iter().map(|r| r.levers).collect();
        let mut state = RoutesState::new(&routes, &freight());
        for _ in 0..4 {
            state.step(&routes, &levers, &freight(), &[], 0.0);
        }
        assert!((state.capacity_mt[0] - 10.0).abs() < 1e-9);
        assert!((state.flow_mt[0] - 10.0).abs() < 1e-9 && (state.unserved_mt - 10.0).abs() < 1e-9);
    }
}
