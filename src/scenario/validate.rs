//! From the file format to the model's types, collecting every problem on the way.

use std::collections::{BTreeMap, BTreeSet};

use super::file::{
    CommodityFile, DepositFile, FreightFile, HostFile, MineralsFile, ModelFile, PatronFile, RouteFile, ScenarioFile,
};
use super::source::KeyPath;
use crate::model::events::{Effect, Event, Op, Target, Trigger};
use crate::model::minerals::{Commodity, Endowment, FirmsSpec, MineralsSpec};
use crate::model::quantities::Quantity;
use crate::model::routes::{Freight, Market, Route, RouteLevers};
use crate::model::{
    Attraction, Channels, Host, HostLevers, ModelParams, Objectives, Patron, PatronLevers, Scenario, Strategy,
    StrategyRule, Tie,
};

/// Hard limits on sizes, beyond which a request is refused whatever the flags.
pub const MAX_HORIZON_QUARTERS: u32 = 400;
pub const MAX_REPLICATES: u64 = 10_000_000;
pub const MAX_ACTORS: usize = 1_000;
pub const MAX_EVENTS: usize = 10_000;
/// Largest budget or GDP accepted, USD bn a year: far above any real economy.
const MAX_USD_BN: f64 = 1.0e6;

/// Ids that mean something else in outputs and events.
pub const RESERVED_IDS: [&str; 4] = ["C5", "all_hosts", "all_patrons", "all_routes"];
/// Largest number of deposits or firms: the engine is linear in both, but memory is not free.
pub const MAX_AGENTS: u32 = 10_000_000;

/// Collected problems: a key path and what is wrong there.
#[derive(Debug, Default)]
pub struct Problems(pub Vec<(KeyPath, String)>);

impl Problems {
    fn fail(&mut self, path: &KeyPath, message: impl Into<String>) {
        self.0.push((path.clone(), message.into()));
    }

    /// Checks a number is finite and in `lo..=hi`; returns it, or a safe value in range.
    fn number(&mut self, path: &KeyPath, value: f64, lo: f64, hi: f64) -> f64 {
        if !value.is_finite() {
            self.fail(path, format!("must be a finite number, got {}", show(value)));
            return lo.max(0.0).min(hi);
        }
        if value < lo || value > hi {
            // Bounds far beyond any real value are sanity limits: name the side crossed.
            let open_above = hi >= MAX_USD_BN;
            let message = match (value < lo, open_above) {
                (true, true) => format!("must be >= {lo}, got {}", show(value)),
                (false, true) => format!("must be <= {hi}, got {}", show(value)),
                _ => format!("must be between {lo} and {hi}, got {}", show(value)),
            };
            self.fail(path, message);
            return value.clamp(lo, hi);
        }
        value
    }

    fn share(&mut self, path: &KeyPath, value: f64) -> f64 {
        self.number(path, value, 0.0, 1.0)
    }

    fn non_negative(&mut self, path: &KeyPath, value: f64, max: f64) -> f64 {
        self.number(path, value, 0.0, max)
    }
}

/// Turns a deserialised file into a scenario, or lists every problem found.
pub fn validate(file: &ScenarioFile, default_name: &str) -> Result<Scenario, Problems> {
    let mut problems = Problems::default();
    let root = KeyPath::root();

    let name = file.name.clone().unwrap_or_else(|| default_name.to_string());
    if name.is_empty()
        || name.len() > 64
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        || name.starts_with('.')
    {
        problems.fail(
            &root.key("name"),
            format!("must be 1-64 letters, digits, '_', '-' or '.' (it names the output folder), got {name:?}"),
        );
    }

    let time = root.key("time");
    let horizon = file.time.horizon_quarters;
    if horizon == 0 || horizon > MAX_HORIZON_QUARTERS {
        problems.fail(
            &time.key("horizon_quarters"),
            format!("must be between 1 and {MAX_HORIZON_QUARTERS} (100 years), got {horizon}"),
        );
    }
    let run = root.key("run");
    if file.run.replicates == 0 || file.run.replicates > MAX_REPLICATES {
        problems.fail(
            &run.key("replicates"),
            format!("must be between 1 and {MAX_REPLICATES}, got {}", file.run.replicates),
        );
    }

    let params = model_params(&file.model, &root.key("model"), &mut problems);

    let host_ids = check_ids(
        file.hosts.iter().map(|h| h.id.as_str()),
        &root.key("hosts"),
        "host",
        &mut problems,
    );
    let patron_ids = check_ids(
        file.patrons.iter().map(|p| p.id.as_str()),
        &root.key("patrons"),
        "patron",
        &mut problems,
    );
    for (i, id) in file.hosts.iter().map(|h| &h.id).enumerate() {
        if !id.is_empty() && patron_ids.contains(id.as_str()) {
            problems.fail(
                &root.key("hosts").index(i).key("id"),
                format!("{id:?} is also a patron id; ids must be unique across hosts and patrons"),
            );
        }
    }

    let patron_order: Vec<&str> = file.patrons.iter().map(|p| p.id.as_str()).collect();
    let host_order: Vec<&str> = file.hosts.iter().map(|h| h.id.as_str()).collect();
    let commodity_order: Vec<&str> = file.commodities.iter().map(|c| c.id.as_str()).collect();
    let route_order: Vec<&str> = file.routes.iter().map(|r| r.id.as_str()).collect();
    check_optional_ids(&commodity_order, &root.key("commodities"), "commodity", &mut problems);
    check_optional_ids(&route_order, &root.key("routes"), "route", &mut problems);
    for (i, id) in route_order.iter().enumerate() {
        if host_ids.contains(id) || patron_ids.contains(id) {
            problems.fail(
                &root.key("routes").index(i).key("id"),
                format!("{id:?} is also a host or patron id; events address routes by id, so ids must differ"),
            );
        }
    }
    let hosts: Vec<Host> = file
        .hosts
        .iter()
        .enumerate()
        .map(|(i, h)| {
            host(
                h,
                &root.key("hosts").index(i),
                &patron_order,
                &patron_ids,
                &mut problems,
            )
        })
        .collect();
    let gdp: Vec<f64> = hosts.iter().map(|h| h.gdp_usd_bn).collect();
    let patrons: Vec<Patron> = file
        .patrons
        .iter()
        .enumerate()
        .map(|(i, p)| {
            patron(
                p,
                &root.key("patrons").index(i),
                &Ids {
                    hosts: &host_order,
                    commodities: &commodity_order,
                },
                &host_ids,
                &gdp,
                &mut problems,
            )
        })
        .collect();
    let commodities: Vec<Commodity> = file
        .commodities
        .iter()
        .enumerate()
        .map(|(i, c)| commodity(c, &root.key("commodities").index(i), &patron_order, &mut problems))
        .collect();
    let minerals = minerals(
        &file.minerals,
        &file.deposits,
        &root,
        &Ids {
            hosts: &host_order,
            commodities: &commodity_order,
        },
        &Actors {
            patron_order: &patron_order,
            patrons: &file.patrons,
            commodities: &commodities,
        },
        &mut problems,
    );
    let routes: Vec<Route> = file
        .routes
        .iter()
        .enumerate()
        .map(|(i, r)| route(r, &root.key("routes").index(i), &patron_order, &mut problems))
        .collect();
    let freight = freight(&file.freight, &root.key("freight"), &mut problems);

    let mut events: Vec<Event> = file
        .events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            event(
                e,
                i,
                &root.key("events").index(i),
                &ActorIds {
                    hosts: &host_order,
                    patrons: &patron_order,
                    routes: &route_order,
                },
                &mut problems,
            )
        })
        .collect();
    // In name order (names are unique), so that the order of events in the file changes
    // neither which hazard draws which random number nor how effects compose.
    events.sort_by(|a, b| a.name.cmp(&b.name));
    if file.events.len() > MAX_EVENTS {
        problems.fail(
            &root.key("events"),
            format!("at most {MAX_EVENTS} events, got {}", file.events.len()),
        );
    }

    if problems.0.is_empty() {
        Ok(Scenario {
            name,
            description: file.description.clone(),
            start: file.time.start,
            horizon_quarters: horizon,
            replicates: file.run.replicates,
            seed: file.run.seed,
            params,
            hosts,
            patrons,
            events,
            commodities,
            minerals,
            routes,
            freight,
        })
    } else {
        Err(problems)
    }
}

/// Ids of hosts and commodities, in file order, for resolving references.
struct Ids<'a> {
    hosts: &'a [&'a str],
    commodities: &'a [&'a str],
}

/// The patrons and commodities the minerals layer refers to.
struct Actors<'a> {
    patron_order: &'a [&'a str],
    patrons: &'a [PatronFile],
    commodities: &'a [Commodity],
}

/// Ids an event may target.
struct ActorIds<'a> {
    hosts: &'a [&'a str],
    patrons: &'a [&'a str],
    routes: &'a [&'a str],
}

/// Ids of optional arrays (commodities, routes): non-empty, plain and unique.
fn check_optional_ids(ids: &[&str], path: &KeyPath, kind: &str, problems: &mut Problems) {
    let mut seen = BTreeSet::new();
    for (i, id) in ids.iter().enumerate() {
        let id_path = path.index(i).key("id");
        if id.is_empty() {
            problems.fail(&id_path, format!("every {kind} needs an id"));
        } else if !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || id.len() > 32 {
            problems.fail(&id_path, format!("must be 1-32 letters, digits or '_', got {id:?}"));
        } else if RESERVED_IDS.contains(id) {
            problems.fail(&id_path, format!("{id:?} is reserved; choose another id"));
        } else if !seen.insert(*id) {
            problems.fail(&id_path, format!("duplicate {kind} id {id:?}"));
        }
    }
}

fn commodity(c: &CommodityFile, path: &KeyPath, patron_order: &[&str], problems: &mut Problems) -> Commodity {
    let default_processor = c.default_processor.as_ref().and_then(|id| {
        let found = patron_order.iter().position(|p| p == id);
        if found.is_none() {
            problems.fail(
                &path.key("default_processor"),
                format!(
                    "refers to patron {id:?}, which the scenario does not define (patrons: {})",
                    join(patron_order)
                ),
            );
        }
        found
    });
    Commodity {
        id: c.id.clone(),
        name: if c.name.is_empty() {
            c.id.clone()
        } else {
            c.name.clone()
        },
        world_production_t: problems.non_negative(&path.key("world_production_t"), c.world_production_t, 1e12),
        price_usd_per_t: problems.non_negative(&path.key("price_usd_per_t"), c.price_usd_per_t, 1e12),
        capex_usd_per_annual_t: problems.non_negative(
            &path.key("capex_usd_per_annual_t"),
            c.capex_usd_per_annual_t,
            1e12,
        ),
        processing_capex_usd_per_annual_t: problems.non_negative(
            &path.key("processing_capex_usd_per_annual_t"),
            c.processing_capex_usd_per_annual_t,
            1e12,
        ),
        default_processor,
        default_processing_share: problems.share(&path.key("default_processing_share"), c.default_processing_share),
        operating_margin: problems.share(&path.key("operating_margin"), c.operating_margin),
    }
}

fn minerals(
    m: &MineralsFile,
    deposits: &[DepositFile],
    root: &KeyPath,
    ids: &Ids<'_>,
    actors: &Actors<'_>,
    problems: &mut Problems,
) -> MineralsSpec {
    let patron_order = actors.patron_order;
    let path = root.key("minerals");
    for (key, value) in [("n_deposits", m.n_deposits), ("n_firms", m.n_firms)] {
        if value > MAX_AGENTS {
            problems.fail(&path.key(key), format!("must be at most {MAX_AGENTS}, got {value}"));
        }
    }
    if m.mapping_first_look_quarters > MAX_HORIZON_QUARTERS {
        problems.fail(
            &path.key("mapping_first_look_quarters"),
            format!(
                "must be at most {MAX_HORIZON_QUARTERS}, got {}",
                m.mapping_first_look_quarters
            ),
        );
    }
    for (key, value) in [
        ("exploration_quarters", m.exploration_quarters),
        ("development_quarters", m.development_quarters),
    ] {
        if value == 0 || value > MAX_HORIZON_QUARTERS {
            problems.fail(
                &path.key(key),
                format!("must be between 1 and {MAX_HORIZON_QUARTERS}, got {value}"),
            );
        }
    }
    if m.n_deposits > 0 && deposits.is_empty() {
        problems.fail(
            &path.key("n_deposits"),
            "deposits need endowments: add [[deposits]] tables",
        );
    }
    let annual_mapping = problems.share(&path.key("natural_mapping_rate"), m.natural_mapping_rate);
    let endowments = deposits
        .iter()
        .enumerate()
        .filter_map(|(i, d)| {
            let dpath = root.key("deposits").index(i);
            let host = ids.hosts.iter().position(|h| *h == d.host);
            if host.is_none() {
                problems.fail(
                    &dpath.key("host"),
                    format!(
                        "refers to host {:?}, which the scenario does not define (hosts: {})",
                        d.host,
                        join(ids.hosts)
                    ),
                );
            }
            let commodity = ids.commodities.iter().position(|c| *c == d.commodity);
            if commodity.is_none() {
                problems.fail(
                    &dpath.key("commodity"),
                    format!(
                        "refers to commodity {:?}, which the scenario does not define (commodities: {})",
                        d.commodity,
                        join(ids.commodities)
                    ),
                );
            }
            for key in d.owners.keys() {
                if !patron_order.contains(&key.as_str()) {
                    problems.fail(
                        &dpath.key("owners").key(key),
                        format!(
                            "refers to patron {key:?}, which the scenario does not define (patrons: {})",
                            join(patron_order)
                        ),
                    );
                }
            }
            let owners: Vec<f64> = patron_order
                .iter()
                .map(|p| match d.owners.get(*p) {
                    Some(v) => problems.share(&dpath.key("owners").key(p), *v),
                    None => 0.0,
                })
                .collect();
            let owned: f64 = owners.iter().sum();
            if owned > 1.0 + 1e-6 {
                problems.fail(
                    &dpath.key("owners"),
                    format!("owner shares must not exceed 1 in all, got {owned:.4}"),
                );
            }
            let endowment = Endowment {
                host: host?,
                commodity: commodity?,
                producing_t: problems.non_negative(&dpath.key("producing_t"), d.producing_t, 1e12),
                potential_t: problems.non_negative(&dpath.key("potential_t"), d.potential_t, 1e12),
                mapped_share: problems.share(&dpath.key("mapped_share"), d.mapped_share),
                owners,
            };
            Some(endowment)
        })
        .collect();
    // A default processor buys most of the output sold because of its capacity, so it
    // needs some (MODEL.md §7.11).
    for (i, c) in actors.commodities.iter().enumerate() {
        let Some(d) = c.default_processor else { continue };
        let Some(patron) = actors.patrons.get(d) else { continue };
        if patron.processing.get(&c.id).copied().unwrap_or(0.0) <= 0.0 {
            problems.fail(
                &root.key("commodities").index(i).key("default_processor"),
                format!(
                    "patron {:?} has no processing capacity for {:?}: give it some in its `processing` table, or name another default processor",
                    patron.id, c.id
                ),
            );
        }
    }
    let priorities = actors
        .patrons
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let ppath = root.key("patrons").index(i).key("minerals_priorities");
            for key in p.minerals_priorities.keys() {
                if !ids.commodities.contains(&key.as_str()) {
                    problems.fail(
                        &ppath.key(key),
                        format!(
                            "refers to commodity {key:?}, which the scenario does not define (commodities: {})",
                            join(ids.commodities)
                        ),
                    );
                }
            }
            ids.commodities
                .iter()
                .map(|c| match p.minerals_priorities.get(*c) {
                    Some(v) => problems.non_negative(&ppath.key(c), *v, 100.0),
                    None => 1.0,
                })
                .collect()
        })
        .collect();
    MineralsSpec {
        n_deposits: m.n_deposits.min(MAX_AGENTS),
        n_firms: m.n_firms.min(MAX_AGENTS),
        mapping_cost_share: problems.non_negative(&path.key("mapping_cost_share"), m.mapping_cost_share, 100.0),
        mapping_first_look_quarters: m.mapping_first_look_quarters.min(MAX_HORIZON_QUARTERS),
        natural_mapping_per_quarter: 1.0 - (1.0 - annual_mapping).powf(0.25),
        exploration_cost_share: problems.non_negative(
            &path.key("exploration_cost_share"),
            m.exploration_cost_share,
            100.0,
        ),
        exploration_quarters: m.exploration_quarters.clamp(1, MAX_HORIZON_QUARTERS),
        exploration_success: problems.share(&path.key("exploration_success"), m.exploration_success),
        development_quarters: m.development_quarters.clamp(1, MAX_HORIZON_QUARTERS),
        discount_rate: problems.number(&path.key("discount_rate"), m.discount_rate, 0.0, 1.0),
        mine_life_years: problems.number(&path.key("mine_life_years"), m.mine_life_years, 1.0, 200.0),
        offtake_alignment_weight: problems.number(
            &path.key("offtake_alignment_weight"),
            m.offtake_alignment_weight,
            0.0,
            100.0,
        ),
        offtake_sanctions_weight: problems.number(
            &path.key("offtake_sanctions_weight"),
            m.offtake_sanctions_weight,
            0.0,
            100.0,
        ),
        priorities,
        endowments,
    }
}

fn route(r: &RouteFile, path: &KeyPath, patron_order: &[&str], problems: &mut Problems) -> Route {
    let market = match &r.market {
        None => Market::Other,
        Some(id) => match patron_order.iter().position(|p| p == id) {
            Some(p) => Market::Patron(p),
            None => {
                problems.fail(
                    &path.key("market"),
                    format!(
                        "refers to patron {id:?}, which the scenario does not define (patrons: {}); leave it out for the market of the other partners",
                        join(patron_order)
                    ),
                );
                Market::Other
            }
        },
    };
    let construction_path = path.key("construction_quarters");
    if r.construction_quarters > MAX_HORIZON_QUARTERS {
        problems.fail(
            &construction_path,
            format!(
                "must be at most {MAX_HORIZON_QUARTERS}, got {}",
                r.construction_quarters
            ),
        );
    }
    let sanctions_exposure = r.sanctions_exposure_to.as_ref().and_then(|id| {
        let found = patron_order.iter().position(|p| p == id);
        if found.is_none() {
            problems.fail(
                &path.key("sanctions_exposure_to"),
                format!(
                    "refers to patron {id:?}, which the scenario does not define (patrons: {})",
                    join(patron_order)
                ),
            );
        }
        found
    });
    let capacity_cost = problems.number(
        &path.key("capacity_cost_usd_bn_per_mt"),
        r.capacity_cost_usd_bn_per_mt,
        0.0,
        1e6,
    );
    Route {
        id: r.id.clone(),
        name: if r.name.is_empty() {
            r.id.clone()
        } else {
            r.name.clone()
        },
        capacity_mt: problems.non_negative(&path.key("capacity_mt"), r.capacity_mt, 1e6),
        market,
        construction_quarters: r.construction_quarters.min(MAX_HORIZON_QUARTERS),
        sanctions_exposure,
        sanctions_cost_markup: problems.non_negative(
            &path.key("sanctions_cost_markup"),
            r.sanctions_cost_markup,
            100.0,
        ),
        sanctions_risk_markup: problems.non_negative(&path.key("sanctions_risk_markup"), r.sanctions_risk_markup, 1.0),
        capacity_cost_usd_bn_per_mt: capacity_cost,
        levers: RouteLevers {
            cost_usd_per_t: problems.non_negative(&path.key("cost_usd_per_t"), r.cost_usd_per_t, 1e6),
            transit_days: problems.non_negative(&path.key("transit_days"), r.transit_days, 1000.0),
            risk: problems.share(&path.key("risk"), r.risk),
            investment_usd_bn: problems.non_negative(&path.key("investment_usd_bn"), r.investment_usd_bn, MAX_USD_BN),
        },
    }
}

fn freight(f: &FreightFile, path: &KeyPath, problems: &mut Problems) -> Freight {
    let scale = problems.number(&path.key("choice_scale_usd_per_t"), f.choice_scale_usd_per_t, 0.0, 1e6);
    if scale <= 0.0 && f.choice_scale_usd_per_t.is_finite() {
        problems.fail(
            &path.key("choice_scale_usd_per_t"),
            "must be > 0 (the spread of route preferences)",
        );
    }
    Freight {
        transit_demand_mt: problems.non_negative(&path.key("transit_demand_mt"), f.transit_demand_mt, 1e6),
        transit_growth_per_quarter: problems.number(&path.key("transit_growth_pct"), f.transit_growth_pct, -50.0, 50.0)
            / 400.0,
        host_freight_mt_per_usd_bn: problems.non_negative(
            &path.key("host_freight_mt_per_usd_bn"),
            f.host_freight_mt_per_usd_bn,
            1e3,
        ),
        value_of_time_usd_per_t_day: problems.non_negative(
            &path.key("value_of_time_usd_per_t_day"),
            f.value_of_time_usd_per_t_day,
            1e6,
        ),
        risk_cost_usd_per_t: problems.non_negative(&path.key("risk_cost_usd_per_t"), f.risk_cost_usd_per_t, 1e6),
        choice_scale_usd_per_t: scale.max(1e-6),
        congestion_delay: problems.non_negative(&path.key("congestion_delay"), f.congestion_delay, 100.0),
        congestion_exponent: problems.number(&path.key("congestion_exponent"), f.congestion_exponent, 0.0, 20.0),
        capacity_depreciation_per_quarter: problems.number(
            &path.key("capacity_depreciation_pct_per_year"),
            f.capacity_depreciation_pct_per_year,
            0.0,
            100.0,
        ) / 400.0,
    }
}

fn check_ids<'a>(
    ids: impl Iterator<Item = &'a str>,
    path: &KeyPath,
    kind: &str,
    problems: &mut Problems,
) -> BTreeSet<&'a str> {
    let mut seen = BTreeSet::new();
    let mut count = 0;
    for (i, id) in ids.enumerate() {
        count += 1;
        let id_path = path.index(i).key("id");
        if id.is_empty() {
            problems.fail(&id_path, format!("every {kind} needs an id"));
        } else if !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || id.len() > 32 {
            problems.fail(&id_path, format!("must be 1-32 letters, digits or '_', got {id:?}"));
        } else if RESERVED_IDS.contains(&id) {
            problems.fail(&id_path, format!("{id:?} is reserved; choose another id"));
        } else if !seen.insert(id) {
            problems.fail(&id_path, format!("duplicate {kind} id {id:?}"));
        }
    }
    if count == 0 {
        problems.fail(path, format!("the scenario needs at least one {kind} ([[{}]])", path));
    }
    if count > MAX_ACTORS {
        problems.fail(path, format!("at most {MAX_ACTORS} {kind}s, got {count}"));
    }
    seen
}

fn model_params(m: &ModelFile, path: &KeyPath, problems: &mut Problems) -> ModelParams {
    let weight = |problems: &mut Problems, key: &str, value: f64| problems.non_negative(&path.key(key), value, 1e3);
    let lw = path.key("leverage_weights");
    let aw = path.key("attraction_weights");
    let leverage_weights = Channels {
        trade: problems.non_negative(&lw.key("trade"), m.leverage_weights.trade, 1e3),
        security: problems.non_negative(&lw.key("security"), m.leverage_weights.security, 1e3),
        remittances: problems.non_negative(&lw.key("remittances"), m.leverage_weights.remittances, 1e3),
        debt: problems.non_negative(&lw.key("debt"), m.leverage_weights.debt, 1e3),
        sanctions: problems.non_negative(&lw.key("sanctions"), m.leverage_weights.sanctions, 1e3),
    };
    if leverage_weights.trade
        + leverage_weights.security
        + leverage_weights.remittances
        + leverage_weights.debt
        + leverage_weights.sanctions
        <= 0.0
    {
        problems.fail(&lw, "at least one leverage weight must be positive");
    }
    let attraction_weights = Attraction {
        trade: problems.non_negative(&aw.key("trade"), m.attraction_weights.trade, 1e3),
        fdi: problems.non_negative(&aw.key("fdi"), m.attraction_weights.fdi, 1e3),
        security: problems.non_negative(&aw.key("security"), m.attraction_weights.security, 1e3),
        remittances: problems.non_negative(&aw.key("remittances"), m.attraction_weights.remittances, 1e3),
        offers: problems.non_negative(&aw.key("offers"), m.attraction_weights.offers, 1e3),
    };
    ModelParams {
        alignment_inertia: problems.share(&path.key("alignment_inertia"), m.alignment_inertia),
        decision_noise_sd: weight(problems, "decision_noise_sd", m.decision_noise_sd),
        acceptance_threshold: problems.number(&path.key("acceptance_threshold"), m.acceptance_threshold, -1e3, 1e3),
        acceptance_scale: {
            let p = path.key("acceptance_scale");
            let v = problems.number(&p, m.acceptance_scale, 0.0, 1e3);
            if v < 1e-3 && m.acceptance_scale.is_finite() {
                problems.fail(&p, format!("must be at least 0.001 (value per USD offered), got {v}"));
                1e-3
            } else {
                v.max(1e-3)
            }
        },
        economic_weight: weight(problems, "economic_weight", m.economic_weight),
        security_weight: weight(problems, "security_weight", m.security_weight),
        displeasure_weight: weight(problems, "displeasure_weight", m.displeasure_weight),
        leverage_weights,
        attraction_weights,
        trade_access_gain: weight(problems, "trade_access_gain", m.trade_access_gain),
        trade_access_decay: problems.share(&path.key("trade_access_decay"), m.trade_access_decay),
        offers_decay: {
            let p = path.key("offers_decay");
            let v = problems.share(&p, m.offers_decay);
            if v <= 0.0 && m.offers_decay.is_finite() && m.offers_decay >= 0.0 {
                problems.fail(&p, "must be > 0 (the weight of this quarter's accepted offers)");
            }
            v.max(1e-6)
        },
        trade_alignment_elasticity: weight(problems, "trade_alignment_elasticity", m.trade_alignment_elasticity),
        security_decay: problems.share(&path.key("security_decay"), m.security_decay),
        fdi_depreciation_per_quarter: problems.number(
            &path.key("fdi_depreciation_pct_per_year"),
            m.fdi_depreciation_pct_per_year,
            0.0,
            100.0,
        ) / 400.0,
        debt_amortization_per_quarter: problems.number(
            &path.key("debt_amortization_pct_per_year"),
            m.debt_amortization_pct_per_year,
            0.0,
            100.0,
        ) / 400.0,
        investment_growth_multiplier: weight(problems, "investment_growth_multiplier", m.investment_growth_multiplier),
        project_size_usd_bn: {
            let p = path.key("project_size_usd_bn");
            let v = problems.number(&p, m.project_size_usd_bn, 0.0, 100.0);
            if v < 1e-4 {
                problems.fail(&p, format!("must be at least 0.0001 (USD 100,000), got {v}"));
                1e-4
            } else {
                v
            }
        },
        other_partners_growth_per_quarter: problems.number(
            &path.key("other_partners_growth_pct"),
            m.other_partners_growth_pct,
            -50.0,
            50.0,
        ) / 400.0,
        world_growth_per_quarter: problems.number(&path.key("world_growth_pct"), m.world_growth_pct, -50.0, 50.0)
            / 400.0,
        sanctions_trade_elasticity: weight(problems, "sanctions_trade_elasticity", m.sanctions_trade_elasticity),
        trade_cost_elasticity: weight(problems, "trade_cost_elasticity", m.trade_cost_elasticity),
        external_income_multiplier: problems.number(
            &path.key("external_income_multiplier"),
            m.external_income_multiplier,
            0.0,
            10.0,
        ),
        absorptive_learning: weight(problems, "absorptive_learning", m.absorptive_learning),
        absorptive_max: problems.share(&path.key("absorptive_max"), m.absorptive_max),
        experience_decay: problems.share(&path.key("experience_decay"), m.experience_decay),
        trade_gdp_elasticity: weight(problems, "trade_gdp_elasticity", m.trade_gdp_elasticity),
        reexport_capture: problems.share(&path.key("reexport_capture"), m.reexport_capture),
        remittance_elasticity: weight(problems, "remittance_elasticity", m.remittance_elasticity),
        remittance_trend_per_quarter: problems.number(
            &path.key("remittance_trend_pct"),
            m.remittance_trend_pct,
            -50.0,
            50.0,
        ) / 400.0,
    }
}

fn host(
    h: &HostFile,
    path: &KeyPath,
    patron_order: &[&str],
    patron_ids: &BTreeSet<&str>,
    problems: &mut Problems,
) -> Host {
    let gdp_path = path.key("gdp_usd_bn");
    let gdp = problems.number(&gdp_path, h.gdp_usd_bn, 0.0, MAX_USD_BN);
    if gdp <= 0.0 && h.gdp_usd_bn.is_finite() && h.gdp_usd_bn >= 0.0 {
        problems.fail(
            &gdp_path,
            "is required and must be > 0 (GDP at the start, USD bn a year)",
        );
    }
    let defence_path = path.key("defence_budget_usd_bn");
    let defence = problems.number(&defence_path, h.defence_budget_usd_bn, 0.0, MAX_USD_BN);
    let levers = HostLevers {
        trend_growth_pct: problems.number(&path.key("trend_growth_pct"), h.trend_growth_pct, -50.0, 50.0),
        absorptive_capacity: problems.share(&path.key("absorptive_capacity"), h.absorptive_capacity),
        threat_level: problems.share(&path.key("threat_level"), h.threat_level),
        security_openness: problems.share(&path.key("security_openness"), h.security_openness),
        concentration_aversion: problems.non_negative(
            &path.key("concentration_aversion"),
            h.concentration_aversion,
            100.0,
        ),
        sovereignty_sensitivity: problems.non_negative(
            &path.key("sovereignty_sensitivity"),
            h.sovereignty_sensitivity,
            100.0,
        ),
        remittances_pct_gdp: problems.number(&path.key("remittances_pct_gdp"), h.remittances_pct_gdp, 0.0, 100.0),
        debt_tolerance_pct_gdp: problems.number(
            &path.key("debt_tolerance_pct_gdp"),
            h.debt_tolerance_pct_gdp,
            1.0,
            1000.0,
        ),
    };
    let export_share = problems.share(&path.key("export_share"), h.export_share);
    let ties_path = path.key("ties");
    for key in h.ties.keys() {
        if !patron_ids.contains(key.as_str()) {
            problems.fail(
                &ties_path.key(key),
                format!(
                    "refers to patron {key:?}, which the scenario does not define (patrons: {})",
                    join(patron_order)
                ),
            );
        }
    }
    let mut ties = Vec::with_capacity(patron_order.len());
    let mut given_alignment = Vec::with_capacity(patron_order.len());
    for id in patron_order {
        let tie_path = ties_path.key(id);
        let tie = h.ties.get(*id).cloned().unwrap_or_default();
        ties.push(Tie {
            trade_usd_bn: problems.non_negative(&tie_path.key("trade_usd_bn"), tie.trade_usd_bn, MAX_USD_BN),
            export_share: match tie.export_share {
                Some(share) => problems.share(&tie_path.key("export_share"), share),
                None => export_share,
            },
            fdi_stock_usd_bn: problems.non_negative(
                &tie_path.key("fdi_stock_usd_bn"),
                tie.fdi_stock_usd_bn,
                MAX_USD_BN,
            ),
            arms_share: problems.share(&tie_path.key("arms_share"), tie.arms_share),
            remittance_share: problems.share(&tie_path.key("remittance_share"), tie.remittance_share),
            debt_share: problems.share(&tie_path.key("debt_share"), tie.debt_share),
        });
        given_alignment.push(tie.alignment.map(|a| problems.share(&tie_path.key("alignment"), a)));
    }
    let other_security_share = problems.share(&path.key("other_security_share"), h.other_security_share);
    let sums = [
        (
            "arms_share",
            ties.iter().map(|t| t.arms_share).sum::<f64>() + other_security_share,
            " plus other_security_share",
        ),
        (
            "remittance_share",
            ties.iter().map(|t| t.remittance_share).sum::<f64>(),
            "",
        ),
        ("debt_share", ties.iter().map(|t| t.debt_share).sum::<f64>(), ""),
    ];
    for (key, sum, extra) in sums {
        if sum > 1.0 + 1e-6 {
            problems.fail(
                &ties_path,
                format!("the {key} of all ties{extra} must not exceed 1, got {sum:.4}"),
            );
        }
    }
    let initial_alignment = if given_alignment.iter().any(Option::is_some) {
        let values: Vec<f64> = given_alignment.iter().map(|a| a.unwrap_or(0.0)).collect();
        let sum: f64 = values.iter().sum();
        if (sum - 1.0).abs() > 0.01 {
            problems.fail(
                &ties_path,
                format!("the alignment of all ties must sum to 1, got {sum:.4}"),
            );
            None
        } else {
            Some(values.iter().map(|a| a / sum).collect())
        }
    } else {
        None
    };
    Host {
        id: h.id.clone(),
        name: if h.name.is_empty() {
            h.id.clone()
        } else {
            h.name.clone()
        },
        gdp_usd_bn: gdp.max(1e-3),
        population_m: problems.non_negative(&path.key("population_m"), h.population_m, 1e5),
        defence_budget_usd_bn: if defence > 0.0 { defence } else { 0.01 * gdp.max(1e-3) },
        govt_debt_pct_gdp: problems.number(&path.key("govt_debt_pct_gdp"), h.govt_debt_pct_gdp, 0.0, 1000.0),
        other_trade_usd_bn: problems.non_negative(&path.key("other_trade_usd_bn"), h.other_trade_usd_bn, MAX_USD_BN),
        other_export_share: export_share,
        other_fdi_inflow_usd_bn: problems.non_negative(
            &path.key("other_fdi_inflow_usd_bn"),
            h.other_fdi_inflow_usd_bn,
            MAX_USD_BN,
        ),
        other_security_share,
        reexport_openness: problems.share(&path.key("reexport_openness"), h.reexport_openness),
        levers,
        ties,
        initial_alignment,
        gdp_path_growth: path_growth(&h.gdp_usd_bn_path, &path.key("gdp_usd_bn_path"), problems),
    }
}

/// Quarterly growth rates from a GDP path (year -> USD bn): for each listed year whose
/// previous year is listed too, the fourth root of their ratio, less one.
fn path_growth(path_values: &BTreeMap<String, f64>, path: &KeyPath, problems: &mut Problems) -> Vec<(i32, f64)> {
    let mut years: Vec<(i32, f64)> = Vec::with_capacity(path_values.len());
    for (key, &value) in path_values {
        let at = path.key(key);
        let year = match key.parse::<i32>() {
            Ok(y) if (1900..=2200).contains(&y) => y,
            _ => {
                problems.fail(&at, "must be a calendar year (1900 to 2200), e.g. 2016 = 137.3");
                continue;
            }
        };
        let gdp = problems.number(&at, value, 0.0, MAX_USD_BN);
        if gdp <= 0.0 && value.is_finite() && value >= 0.0 {
            problems.fail(&at, "must be > 0 (GDP in that year, USD bn)");
            continue;
        }
        years.push((year, gdp));
    }
    years.sort_by_key(|(y, _)| *y);
    if let Some(gap) = years.windows(2).find(|w| w[1].0 != w[0].0 + 1) {
        problems.fail(
            &path.key(&gap[1].0.to_string()),
            format!("years must follow one another: {} comes after {}", gap[1].0, gap[0].0),
        );
    }
    years
        .windows(2)
        .filter(|w| w[0].1 > 0.0 && w[1].1 > 0.0)
        .map(|w| (w[1].0, (w[1].1 / w[0].1).powf(0.25) - 1.0))
        .collect()
}

fn patron(
    p: &PatronFile,
    path: &KeyPath,
    ids: &Ids<'_>,
    host_ids: &BTreeSet<&str>,
    gdp: &[f64],
    problems: &mut Problems,
) -> Patron {
    let host_order = ids.hosts;
    let credibility = problems.share(&path.key("credibility"), p.credibility);
    let implementation_capacity = p
        .implementation_capacity
        .map(|v| problems.share(&path.key("implementation_capacity"), v));
    let levers = PatronLevers {
        investment_budget_usd_bn: problems.non_negative(
            &path.key("investment_budget_usd_bn"),
            p.investment_budget_usd_bn,
            MAX_USD_BN,
        ),
        security_budget_usd_bn: problems.non_negative(
            &path.key("security_budget_usd_bn"),
            p.security_budget_usd_bn,
            MAX_USD_BN,
        ),
        trade_offer: problems.share(&path.key("trade_offer"), p.trade_offer),
        conditionality: problems.share(&path.key("conditionality"), p.conditionality),
        assertiveness: problems.share(&path.key("assertiveness"), p.assertiveness),
        goodwill: problems.number(&path.key("goodwill"), p.goodwill, -100.0, 100.0),
        economy_growth_pct: problems.number(&path.key("economy_growth_pct"), p.economy_growth_pct, -50.0, 50.0),
        sanctions: problems.share(&path.key("sanctions"), p.sanctions),
        loan_share: problems.share(&path.key("loan_share"), p.loan_share),
        // Until the start derives it (docs/MODEL.md §5), the credibility stands in.
        implementation_capacity: implementation_capacity.unwrap_or(credibility),
        secondary_sanctions: problems.share(&path.key("secondary_sanctions"), p.secondary_sanctions),
        minerals_budget_usd_bn: problems.non_negative(
            &path.key("minerals_budget_usd_bn"),
            p.minerals_budget_usd_bn,
            MAX_USD_BN,
        ),
        mapping_budget_usd_bn: problems.non_negative(
            &path.key("mapping_budget_usd_bn"),
            p.mapping_budget_usd_bn,
            MAX_USD_BN,
        ),
        private_mobilisation: problems.number(&path.key("private_mobilisation"), p.private_mobilisation, 0.0, 100.0),
        processing_investment_usd_bn: problems.non_negative(
            &path.key("processing_investment_usd_bn"),
            p.processing_investment_usd_bn,
            MAX_USD_BN,
        ),
    };
    let processing_path = path.key("processing");
    for key in p.processing.keys() {
        if !ids.commodities.contains(&key.as_str()) {
            problems.fail(
                &processing_path.key(key),
                format!(
                    "refers to commodity {key:?}, which the scenario does not define (commodities: {})",
                    join(ids.commodities)
                ),
            );
        }
    }
    let processing_t: Vec<f64> = ids
        .commodities
        .iter()
        .map(|c| match p.processing.get(*c) {
            Some(v) => problems.non_negative(&processing_path.key(c), *v, 1e12),
            None => 0.0,
        })
        .collect();
    let firms_path = path.key("firms");
    let firms = FirmsSpec {
        weight: problems.non_negative(&firms_path.key("weight"), p.firms.weight, 1e6),
        private_share: problems.share(&firms_path.key("private_share"), p.firms.private_share),
        risk_appetite: problems.share(&firms_path.key("risk_appetite"), p.firms.risk_appetite),
    };
    let strategy_path = path.key("strategy");
    let rule = StrategyRule::parse(&p.strategy.rule).unwrap_or_else(|| {
        problems.fail(
            &strategy_path.key("rule"),
            format!(
                "unknown rule {:?}; expected one of {}",
                p.strategy.rule,
                join(&StrategyRule::NAMES)
            ),
        );
        StrategyRule::Fixed
    });
    let objectives_path = strategy_path.key("objectives");
    let strategy = Strategy {
        rule,
        adaptation_rate: problems.share(&strategy_path.key("adaptation_rate"), p.strategy.adaptation_rate),
        objectives: Objectives {
            influence: problems.non_negative(&objectives_path.key("influence"), p.strategy.objectives.influence, 1e3),
            security: problems.non_negative(&objectives_path.key("security"), p.strategy.objectives.security, 1e3),
            trade: problems.non_negative(&objectives_path.key("trade"), p.strategy.objectives.trade, 1e3),
            minerals: problems.non_negative(&objectives_path.key("minerals"), p.strategy.objectives.minerals, 1e3),
        },
    };
    let objective_sum = strategy.objectives.influence
        + strategy.objectives.security
        + strategy.objectives.trade
        + strategy.objectives.minerals;
    if rule != StrategyRule::Fixed && objective_sum <= 0.0 {
        problems.fail(
            &objectives_path,
            "an adaptive rule needs at least one positive objective weight",
        );
    }

    let allocation_path = path.key("allocation");
    for key in p.allocation.keys() {
        if !host_ids.contains(key.as_str()) {
            problems.fail(
                &allocation_path.key(key),
                format!(
                    "refers to host {key:?}, which the scenario does not define (hosts: {})",
                    join(host_order)
                ),
            );
        }
    }
    let mut allocation: Vec<f64> = if p.allocation.is_empty() {
        gdp.to_vec()
    } else {
        host_order
            .iter()
            .map(|id| match p.allocation.get(*id) {
                Some(v) => problems.non_negative(&allocation_path.key(id), *v, 1e6),
                None => 0.0,
            })
            .collect()
    };
    let total: f64 = allocation.iter().sum();
    if total > 0.0 {
        allocation.iter_mut().for_each(|a| *a /= total);
    } else {
        if !p.allocation.is_empty() {
            problems.fail(&allocation_path, "at least one host must get a positive share");
        }
        let n = host_order.len().max(1) as f64;
        allocation = vec![1.0 / n; host_order.len()];
    }

    let lag = p.pledge_lag_quarters;
    if lag > MAX_HORIZON_QUARTERS {
        problems.fail(
            &path.key("pledge_lag_quarters"),
            format!("must be at most {MAX_HORIZON_QUARTERS}, got {lag}"),
        );
    }
    Patron {
        id: p.id.clone(),
        name: if p.name.is_empty() {
            p.id.clone()
        } else {
            p.name.clone()
        },
        credibility,
        credibility_learning: problems.share(&path.key("credibility_learning"), p.credibility_learning),
        pledge_lag_quarters: lag.min(MAX_HORIZON_QUARTERS),
        implementation_capacity,
        levers,
        strategy,
        allocation,
        sanctioned_import_demand_usd_bn: problems.non_negative(
            &path.key("sanctioned_import_demand_usd_bn"),
            p.sanctioned_import_demand_usd_bn,
            MAX_USD_BN,
        ),
        processing_t,
        firms,
        economy_path_growth: path_growth(&p.economy_usd_bn_path, &path.key("economy_usd_bn_path"), problems),
    }
}

fn event(
    e: &super::file::EventFile,
    index: usize,
    path: &KeyPath,
    actors: &ActorIds<'_>,
    problems: &mut Problems,
) -> Event {
    let (host_order, patron_order, route_order) = (actors.hosts, actors.patrons, actors.routes);
    let name = if e.name.trim().is_empty() {
        problems.fail(
            &path.key("name"),
            "every event needs a name: `extends` matches events by name, so an unnamed event would make a variant's events replace all inherited ones",
        );
        format!("event {}", index + 1)
    } else {
        e.name.clone()
    };
    let trigger = match (e.at, e.hazard_per_quarter) {
        (Some(at), None) => {
            if e.from.is_some() || e.until.is_some() {
                problems.fail(
                    path,
                    "`from` and `until` apply to hazard events only; a dated event uses `at`",
                );
            }
            Trigger::At(at)
        }
        (None, Some(h)) => {
            let per_quarter = problems.share(&path.key("hazard_per_quarter"), h);
            if let (Some(from), Some(until)) = (e.from, e.until) {
                if from > until {
                    problems.fail(
                        &path.key("until"),
                        format!("must not be before `from` ({from}), got {until}"),
                    );
                }
            }
            Trigger::Hazard {
                per_quarter,
                from: e.from,
                until: e.until,
            }
        }
        (Some(_), Some(_)) => {
            problems.fail(path, "give either `at` or `hazard_per_quarter`, not both");
            Trigger::At(crate::time::Quarter::new(2000, 1).expect("valid"))
        }
        (None, None) => {
            problems.fail(path, "needs `at = \"YYYYQn\"` or `hazard_per_quarter = p`");
            Trigger::At(crate::time::Quarter::new(2000, 1).expect("valid"))
        }
    };
    if let Some(0) = e.duration_quarters {
        problems.fail(
            &path.key("duration_quarters"),
            "must be at least 1 (omit it to last to the end of the run)",
        );
    }
    if e.effects.is_empty() {
        problems.fail(path, "has no effects ([[events.effects]])");
    }
    let effects = e
        .effects
        .iter()
        .enumerate()
        .filter_map(|(j, effect)| {
            let effect_path = path.key("effects").index(j);
            let quantity = Quantity::parse(&effect.quantity);
            if quantity.is_none() {
                problems.fail(
                    &effect_path.key("quantity"),
                    format!("unknown quantity {:?}; expected one of {}", effect.quantity, join(&Quantity::all_names())),
                );
            }
            let op = Op::parse(&effect.op);
            if op.is_none() {
                problems.fail(
                    &effect_path.key("op"),
                    format!("unknown op {:?}; expected set, add or multiply", effect.op),
                );
            }
            let value = problems.number(&effect_path.key("value"), effect.value, -1e6, 1e6);
            let target = match effect.actor.as_str() {
                "all_hosts" => Some(Target::AllHosts),
                "all_patrons" => Some(Target::AllPatrons),
                "all_routes" => Some(Target::AllRoutes),
                id => {
                    if let Some(h) = host_order.iter().position(|x| *x == id) {
                        Some(Target::Host(h))
                    } else if let Some(p) = patron_order.iter().position(|x| *x == id) {
                        Some(Target::Patron(p))
                    } else if let Some(r) = route_order.iter().position(|x| *x == id) {
                        Some(Target::Route(r))
                    } else {
                        problems.fail(
                            &effect_path.key("actor"),
                            format!(
                                "refers to actor {id:?}, which the scenario does not define (hosts: {}; patrons: {}; routes: {}; or all_hosts, all_patrons, all_routes)",
                                join(host_order),
                                join(patron_order),
                                join(route_order)
                            ),
                        );
                        None
                    }
                }
            };
            let (quantity, op, target) = (quantity?, op?, target?);
            let target_kind = match target {
                Target::Host(_) | Target::AllHosts => "host",
                Target::Patron(_) | Target::AllPatrons => "patron",
                Target::Route(_) | Target::AllRoutes => "route",
            };
            if quantity.kind() != target_kind {
                problems.fail(
                    &effect_path.key("quantity"),
                    format!(
                        "{:?} is a {} quantity but actor {:?} is a {}",
                        effect.quantity,
                        quantity.kind(),
                        effect.actor,
                        target_kind
                    ),
                );
                return None;
            }
            Some(Effect {
                target,
                quantity,
                op,
                value,
            })
        })
        .collect();
    Event {
        name,
        trigger,
        duration_quarters: e.duration_quarters,
        effects,
    }
}

/// A number as a person would write it in a message: plain, or in scientific notation
/// when very large or very small.
fn show(value: f64) -> String {
    let magnitude = value.abs();
    if value.is_finite() && value != 0.0 && !(1e-4..1e9).contains(&magnitude) {
        format!("{value:e}")
    } else {
        format!("{value}")
    }
}

fn join(items: &[&str]) -> String {
    items.join(", ")
}
