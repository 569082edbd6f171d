//! Events: dated or random occurrences whose effects change actors' levers for a while.

use rand::Rng;

use super::quantities::{self, Quantity};
use super::routes::RouteLevers;
use super::{HostLevers, PatronLevers};
use crate::time::Quarter;

#[derive(Debug, Clone)]
pub struct Event {
    pub name: String,
    pub trigger: Trigger,
    /// Quarters the effects last; `None` lasts to the end of the run.
    pub duration_quarters: Option<u32>,
    pub effects: Vec<Effect>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Trigger {
    /// Starts in this quarter.
    At(Quarter),
    /// Starts with this chance each quarter of the window while not already running.
    Hazard {
        per_quarter: f64,
        from: Option<Quarter>,
        until: Option<Quarter>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// A host, by its index in the scenario.
    Host(usize),
    /// A patron, by its index in the scenario.
    Patron(usize),
    Route(usize),
    AllHosts,
    AllPatrons,
    AllRoutes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Set,
    Add,
    Multiply,
}

impl Op {
    pub fn parse(name: &str) -> Option<Op> {
        match name {
            "set" => Some(Op::Set),
            "add" => Some(Op::Add),
            "multiply" => Some(Op::Multiply),
            _ => None,
        }
    }

    fn apply(self, slot: &mut f64, value: f64) {
        match self {
            Op::Set => *slot = value,
            Op::Add => *slot += value,
            Op::Multiply => *slot *= value,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Effect {
    pub target: Target,
    pub quantity: Quantity,
    pub op: Op,
    pub value: f64,
}

/// Which events are running in one replicate.
#[derive(Debug, Clone)]
pub struct EventClock {
    /// Per event: the quarter it started and the first quarter it no longer applies.
    running: Vec<Option<(Quarter, Option<Quarter>)>>,
    /// Per event: whether a dated event has fired already.
    fired: Vec<bool>,
}

impl EventClock {
    pub fn new(n_events: usize) -> EventClock {
        EventClock {
            running: vec![None; n_events],
            fired: vec![false; n_events],
        }
    }

    /// Starts and ends events for `quarter`. Hazards draw from `rng` in event order, and
    /// only for events that could start, so adding a dated event never shifts the draws of
    /// another replicate's hazards.
    pub fn advance<R: Rng>(&mut self, events: &[Event], quarter: Quarter, rng: &mut R) {
        for (i, event) in events.iter().enumerate() {
            if let Some((_, Some(end))) = self.running[i] {
                if quarter >= end {
                    self.running[i] = None;
                }
            }
            if self.running[i].is_some() {
                continue;
            }
            let starts = match event.trigger {
                Trigger::At(at) => {
                    let due = !self.fired[i] && quarter >= at;
                    // A dated event whose effects would already be over is not started.
                    let still_relevant = match event.duration_quarters {
                        Some(d) => quarter < at.plus(i64::from(d)),
                        None => true,
                    };
                    if due {
                        self.fired[i] = true;
                    }
                    due && still_relevant
                }
                Trigger::Hazard {
                    per_quarter,
                    from,
                    until,
                } => {
                    let in_window = from.map_or(true, |f| quarter >= f) && until.map_or(true, |u| quarter <= u);
                    in_window && rng.random::<f64>() < per_quarter
                }
            };
            if starts {
                let start = match event.trigger {
                    Trigger::At(at) => at,
                    Trigger::Hazard { .. } => quarter,
                };
                let end = event.duration_quarters.map(|d| start.plus(i64::from(d)));
                self.running[i] = Some((start, end));
            }
        }
    }

    pub fn is_running(&self, event_idx: usize) -> bool {
        self.running[event_idx].is_some()
    }

    /// Writes the levers in force this quarter: the scenario's values with the effects of
    /// running events applied, then clamped. Effects compose in a fixed order whatever the
    /// order of events in the file: every `set` first, then every `add`, then every
    /// `multiply` (events are sorted by name at validation, which orders effects of one
    /// kind on one lever).
    pub fn apply(&self, events: &[Event], levers: &mut Levers<'_>) {
        for op in [Op::Set, Op::Add, Op::Multiply] {
            for (i, event) in events.iter().enumerate() {
                if !self.is_running(i) {
                    continue;
                }
                for effect in event.effects.iter().filter(|e| e.op == op) {
                    apply_effect(effect, levers);
                }
            }
        }
        levers.hosts.iter_mut().for_each(quantities::clamp_host);
        levers.patrons.iter_mut().for_each(quantities::clamp_patron);
        levers.routes.iter_mut().for_each(quantities::clamp_route);
    }
}

/// The levers in force this quarter, which events change. The caller fills them with the
/// scenario's values before [`EventClock::apply`].
pub struct Levers<'a> {
    pub hosts: &'a mut [HostLevers],
    pub patrons: &'a mut [PatronLevers],
    pub routes: &'a mut [RouteLevers],
}

fn apply_effect(effect: &Effect, levers: &mut Levers<'_>) {
    let (hosts, patrons, routes) = (&mut *levers.hosts, &mut *levers.patrons, &mut *levers.routes);
    match (effect.quantity, effect.target) {
        (Quantity::Host(q), Target::Host(h)) => effect.op.apply(q.slot(&mut hosts[h]), effect.value),
        (Quantity::Host(q), Target::AllHosts) => {
            for levers in hosts.iter_mut() {
                effect.op.apply(q.slot(levers), effect.value);
            }
        }
        (Quantity::Patron(q), Target::Patron(p)) => effect.op.apply(q.slot(&mut patrons[p]), effect.value),
        (Quantity::Patron(q), Target::AllPatrons) => {
            for levers in patrons.iter_mut() {
                effect.op.apply(q.slot(levers), effect.value);
            }
        }
        (Quantity::Route(q), Target::Route(r)) => effect.op.apply(q.slot(&mut routes[r]), effect.value),
        (Quantity::Route(q), Target::AllRoutes) => {
            for levers in routes.iter_mut() {
                effect.op.apply(q.slot(levers), effect.value);
            }
        }
        // Validation rejects a quantity on an actor of another kind.
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::quantities::PatronQuantity;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn levers() -> PatronLevers {
        PatronLevers {
            investment_budget_usd_bn: 4.0,
            security_budget_usd_bn: 1.0,
            trade_offer: 0.5,
            conditionality: 0.1,
            assertiveness: 0.3,
            goodwill: 0.0,
            economy_growth_pct: 3.0,
            sanctions: 0.0,
            loan_share: 0.5,
            implementation_capacity: 0.5,
            secondary_sanctions: 0.0,
            minerals_budget_usd_bn: 0.0,
            mapping_budget_usd_bn: 0.0,
            private_mobilisation: 0.0,
            processing_investment_usd_bn: 0.0,
        }
    }

    /// Applies the running events to one patron's levers.
    fn patron_levers(clock: &EventClock, events: &[Event]) -> PatronLevers {
        let mut patrons = [levers()];
        clock.apply(
            events,
            &mut Levers {
                hosts: &mut [],
                patrons: &mut patrons,
                routes: &mut [],
            },
        );
        patrons[0]
    }

    fn budget_cut(at: &str, duration: Option<u32>) -> Event {
        Event {
            name: "cut".into(),
            trigger: Trigger::At(at.parse().unwrap()),
            duration_quarters: duration,
            effects: vec![Effect {
                target: Target::Patron(0),
                quantity: Quantity::Patron(PatronQuantity::InvestmentBudgetUsdBn),
                op: Op::Multiply,
                value: 0.5,
            }],
        }
    }

    #[test]
    fn dated_event_applies_for_its_duration_then_reverts() {
        let events = vec![budget_cut("2025Q1", Some(2))];
        let mut clock = EventClock::new(1);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut budgets = Vec::new();
        let start: Quarter = "2024Q3".parse().unwrap();
        for k in 0..6 {
            let q = start.plus(k);
            clock.advance(&events, q, &mut rng);
            budgets.push(patron_levers(&clock, &events).investment_budget_usd_bn);
        }
        // 2024Q3, Q4 untouched; 2025Q1, Q2 halved; back from 2025Q3.
        assert_eq!(budgets, vec![4.0, 4.0, 2.0, 2.0, 4.0, 4.0]);
    }

    #[test]
    fn effects_are_clamped_to_the_valid_range() {
        let mut event = budget_cut("2024Q1", None);
        event.effects[0] = Effect {
            target: Target::AllPatrons,
            quantity: Quantity::Patron(PatronQuantity::Sanctions),
            op: Op::Add,
            value: 5.0,
        };
        let events = vec![event];
        let mut clock = EventClock::new(1);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        clock.advance(&events, "2024Q1".parse().unwrap(), &mut rng);
        assert_eq!(patron_levers(&clock, &events).sanctions, 1.0);
    }

    #[test]
    fn hazard_event_fires_at_about_its_rate() {
        let events = vec![Event {
            name: "shock".into(),
            trigger: Trigger::Hazard {
                per_quarter: 0.25,
                from: None,
                until: None,
            },
            duration_quarters: Some(1),
            effects: vec![],
        }];
        let mut clock = EventClock::new(1);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let start: Quarter = "2024Q1".parse().unwrap();
        let mut running = 0;
        let n = 4000;
        for k in 0..n {
            clock.advance(&events, start.plus(k), &mut rng);
            running += usize::from(clock.is_running(0));
        }
        // A one-quarter event ends before the next quarter's draw, so it may start again
        // at once: it runs in a share h = 0.25 of quarters.
        let share = running as f64 / n as f64;
        assert!((share - 0.25).abs() < 0.03, "share {share}");
    }
}
