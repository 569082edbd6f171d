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
