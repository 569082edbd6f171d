//! Where the time goes: one step, one replicate, ensembles of several sizes, and the
//! statistics. Figures and the machine they were taken on: docs/performance.md.
//!
//! ```sh
//! cargo bench --bench ensemble                 # everything (a few minutes)
//! cargo bench --bench ensemble -- replicate/   # one group
//! ```
//!
//! Every benchmark runs the shipped baseline with a chosen horizon and agent population
//! ([`Size`]). To add a size axis, add values to the arrays at the top.

use std::hint::black_box;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};

use greatgame::ensemble::{self, EnsembleConfig, EnsemblePart, DEFAULT_MAX_MEMORY_BYTES};
use greatgame::metrics::MetricLayout;
use greatgame::model::{Scenario, Simulation};
use greatgame::scenario;
use greatgame::stats::exact::ExactSum;
use greatgame::stats::streaming::StreamingStats;

/// Horizons (quarters) of the replicate benchmarks.
const HORIZONS: [u32; 3] = [4, 12, 48];
/// Deposits and firms of the population benchmarks (the baseline has 400 and 300).
const POPULATIONS: [(u32, u32); 4] = [(100, 75), (1_000, 750), (10_000, 7_500), (100_000, 75_000)];
/// Replicate counts of the ensemble benchmarks (up to 1,000: exact statistics; above:
/// streaming).
const REPLICATES: [u64; 4] = [100, 1_000, 1_001, 4_000];
/// Horizon of the ensemble benchmarks.
const ENSEMBLE_HORIZON: u32 = 12;

/// What a benchmark runs: the baseline with this horizon and, if given, this many
/// deposits and firms.
#[derive(Debug, Clone, Copy)]
struct Size {
    horizon: u32,
    population: Option<(u32, u32)>,
}

fn scenario(size: Size) -> Scenario {
    let baseline = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/baseline.toml");
    let mut text = format!(
        "extends = {:?}\nname = \"bench\"\n[time]\nhorizon_quarters = {}\n",
        baseline.display().to_string(),
        size.horizon
    );
    if let Some((deposits, firms)) = size.population {
        text.push_str(&format!("[minerals]\nn_deposits = {deposits}\nn_firms = {firms}\n"));
    }
    scenario::load_text(Path::new("bench.toml"), &text, "bench")
        .unwrap_or_else(|e| panic!("benchmark scenario {size:?} does not load: {e}"))
        .scenario
}

fn config(replicates: u64, threads: Option<usize>) -> EnsembleConfig {
    EnsembleConfig {
        replicates,
        seed: 20240101,
        threads,
        max_memory_bytes: DEFAULT_MAX_MEMORY_BYTES,
    }
}

/// One quarter of one replicate, from the start of the baseline.
fn step(c: &mut Criterion) {
    let mut group = c.benchmark_group("step");
    for population in [None, Some((10_000, 7_500))] {
        let s = scenario(Size {
            horizon: 48,
            population,
        });
        let label = population.map_or_else(|| "baseline".to_string(), |(d, f)| format!("{d}_deposits_{f}_firms"));
        group.bench_function(label, |b| {
            b.iter_batched(
                || (Simulation::new(&s), ensemble::replicate_rng(1, 0)),
                |(mut sim, mut rng)| {
                    sim.step(&mut rng).expect("finite");
                    sim
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

/// One replicate, by horizon and by population.
fn replicate(c: &mut Criterion) {
    let mut group = c.benchmark_group("replicate");
    group.sample_size(20);
    for horizon in HORIZONS {
        let s = scenario(Size {
            horizon,
            population: None,
        });
        let layout = MetricLayout::new(&s);
        group.throughput(Throughput::Elements(u64::from(horizon)));
        group.bench_with_input(BenchmarkId::new("horizon", horizon), &horizon, |b, _| {
            b.iter(|| ensemble::run_replicate(&s, &layout, 1, black_box(0)).expect("finite"))
        });
    }
    for population in POPULATIONS {
        let s = scenario(Size {
            horizon: 12,
            population: Some(population),
        });
        let layout = MetricLayout::new(&s);
        group.throughput(Throughput::Elements(u64::from(population.0 + population.1)));
        group.bench_with_input(
            BenchmarkId::new("deposits_and_firms", population.0 + population.1),
            &population,
            |b, _| b.iter(|| ensemble::run_replicate(&s, &layout, 1, black_box(0)).expect("finite")),
        );
    }
    group.finish();
}

/// Whole ensembles (statistics included, no files), by replicate count and by threads.
fn ensemble_runs(c: &mut Criterion) {
    let s = scenario(Size {
        horizon: ENSEMBLE_HORIZON,
        population: None,
    });
    let cancel = AtomicBool::new(false);
    let mut group = c.benchmark_group("ensemble");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    for replicates in REPLICATES {
        group.throughput(Throughput::Elements(replicates));
        group.bench_with_input(BenchmarkId::new("replicates", replicates), &replicates, |b, &r| {
            b.iter(|| ensemble::run(&s, &config(r, None), &|| {}, &cancel, None).expect("runs"))
        });
    }
    for threads in [1, 2] {
        group.throughput(Throughput::Elements(2_000));
        group.bench_with_input(
            BenchmarkId::new("threads_2000_replicates", threads),
            &threads,
            |b, &t| b.iter(|| ensemble::run(&s, &config(2_000, Some(t)), &|| {}, &cancel, None).expect("runs")),
        );
    }
    group.finish();
}

/// The statistics alone: streaming accumulators, exact sums, merging parts.
fn statistics(c: &mut Criterion) {
    let mut group = c.benchmark_group("statistics");
    let values: Vec<f64> = (0..4096).map(|i| 300.0 + ((i * 7919) % 1000) as f64 / 100.0).collect();
    let pilot = StreamingStats::from_pilot(&values[..128]);
    group.throughput(Throughput::Elements(32));
    group.bench_function("streaming_block_of_32", |b| {
        b.iter_batched(
            || pilot.clone(),
            |mut stats| {
                stats.add_block(black_box(&values[..32]).iter().copied());
                stats
            },
            BatchSize::SmallInput,
        )
    });
    group.throughput(Throughput::Elements(values.len() as u64));
    group.bench_function("exact_sum_4096", |b| {
        b.iter(|| {
            let mut sum = ExactSum::new();
            for &v in black_box(&values) {
                sum.add(v);
            }
            sum.value()
        })
    });
    group.bench_function("describe_exact_4096", |b| {
        b.iter_batched(
            || values.clone(),
            |mut v| greatgame::stats::describe(&mut v),
            BatchSize::SmallInput,
        )
    });

    // Merging and finishing the parts of a streaming ensemble, as `greatgame merge` does.
    let s = scenario(Size {
        horizon: ENSEMBLE_HORIZON,
        population: None,
    });
    let replicates = 1_280;
    let cancel = AtomicBool::new(false);
    let blocks = ensemble::n_blocks(replicates);
    let parts: Vec<EnsemblePart> = (0..4)
        .map(|k| {
            let range = blocks * k / 4..blocks * (k + 1) / 4;
            ensemble::run_part(&s, &config(replicates, None), range, &|| {}, &cancel, None).expect("part runs")
        })
        .collect();
    group.throughput(Throughput::Elements(4));
    group.sample_size(20);
    group.bench_function("merge_4_parts_1280_replicates", |b| {
        b.iter_batched(
            || parts.clone(),
            |parts| EnsemblePart::merge(parts).expect("merge"),
            BatchSize::LargeInput,
        )
    });
    let merged = EnsemblePart::merge(parts.clone()).expect("merge");
    group.throughput(Throughput::Elements(1));
    group.bench_function("finish_streaming_1280_replicates", |b| {
        b.iter_batched(
            || merged.clone(),
            |part| part.finish(&s, None).expect("finish"),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, step, replicate, ensemble_runs, statistics);
criterion_main!(benches);
