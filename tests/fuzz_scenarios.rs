//! A mutation fuzzer for the scenario parser and validator, written with proptest.
//!
//! Each case takes the shipped baseline, applies random mutations (deleting, duplicating
//! or replacing lines, swapping values for extreme or ill-typed ones, inserting random
//! bytes) and loads the result. Loading must return a scenario or an error, never panic;
//! a scenario that loads must run a short replicate without panicking, and a run must
//! either finish with finite values or report the non-finite quantity.
//!
//! `cargo test` runs a quick 64 cases. For a long run (what was found is kept below as
//! regression cases):
//!
//! ```sh
//! PROPTEST_CASES=20000 cargo test --release --test fuzz_scenarios
//! ```

use std::path::Path;

use greatgame::ensemble::run_replicate;
use greatgame::metrics::MetricLayout;
use greatgame::scenario::{self, BUILTIN_BASELINE};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Mutation {
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapValue(usize, &'static str),
    InsertText(usize, String),
    Truncate(usize),
}

const NASTY_VALUES: [&str; 16] = [
    "-1",
    "0",
    "1e308",
    "-1e308",
    "nan",
    "inf",
    "-inf",
    "\"text\"",
    "[]",
    "{}",
    "true",
    "9223372036854775807",
    "-9223372036854775808",
    "1e-320",
    "\"2024Q9\"",
    "[1, 2, 3]",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (0usize..400).prop_map(Mutation::DeleteLine),
        (0usize..400).prop_map(Mutation::DuplicateLine),
        (0usize..400, prop::sample::select(NASTY_VALUES.to_vec())).prop_map(|(l, v)| Mutation::SwapValue(l, v)),
        (0usize..400, "[\\[\\]{}=.,\"a-z0-9 \n#]{0,12}").prop_map(|(l, t)| Mutation::InsertText(l, t)),
        (0usize..30_000).prop_map(Mutation::Truncate),
    ]
}

fn mutate(text: &str, mutations: &[Mutation]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for m in mutations {
        if lines.is_empty() {
            break;
        }
        let n = lines.len();
        match m {
            Mutation::DeleteLine(i) => {
                lines.remove(i % n);
            }
            Mutation::DuplicateLine(i) => {
                let line = lines[i % n].clone();
                lines.insert(i % n, line);
            }
            Mutation::SwapValue(i, value) => {
                let line = &mut lines[i % n];
                if let Some((key, _)) = line.split_once('=') {
                    *line = format!("{key}= {value}");
                }
            }
            Mutation::InsertText(i, t) => lines.insert(i % n, t.clone()),
            Mutation::Truncate(at) => {
                let joined = lines.join("\n");
                let mut cut = (*at).min(joined.len());
                while !joined.is_char_boundary(cut) {
                    cut -= 1;
                }
                lines = joined[..cut].lines().map(str::to_string).collect();
            }
        }
    }
    lines.join("\n")
}

/// Loads scenario text and, if it is valid, runs one short replicate. Panics only on a bug.
fn load_and_run(text: &str) {
    let Ok(mut loaded) = scenario::load_text(Path::new("fuzz.toml"), text, "fuzz") else {
        return;
    };
    loaded.scenario.horizon_quarters = loaded.scenario.horizon_quarters.min(6);
    let layout = MetricLayout::new(&loaded.scenario);
    if let Ok(record) = run_replicate(&loaded.scenario, &layout, 1, 0) {
        assert!(
            record.values.iter().all(|v| v.is_finite()),
            "a finished run holds only finite values"
        );
    }
}

/// 64 cases, or as many as `PROPTEST_CASES` asks for.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn mutated_scenarios_never_panic(mutations in prop::collection::vec(mutation(), 1..6)) {
        load_and_run(&mutate(BUILTIN_BASELINE, &mutations));
    }
}

/// Inputs the fuzzer found or that sit on edges; each once panicked or could have.
#[test]
fn regression_cases_load_or_fail_cleanly() {
    let cases = [
        // A host with every budget and share at its extreme.
        "[[patrons]]\nid = \"P\"\ninvestment_budget_usd_bn = 1000000\nsecurity_budget_usd_bn = 1000000\n\
         [[hosts]]\nid = \"H\"\ngdp_usd_bn = 0.001\ndefence_budget_usd_bn = 0.0\ngovt_debt_pct_gdp = 1000\n\
         ties.P = { trade_usd_bn = 1000000, debt_share = 1.0 }\n",
        // No hosts in the allocation at all.
        "[[patrons]]\nid = \"P\"\nallocation = {}\n[[hosts]]\nid = \"H\"\ngdp_usd_bn = 1\n",
        // Zero noise, zero inertia and zero decay everywhere.
        "[model]\ndecision_noise_sd = 0\nalignment_inertia = 0\nsecurity_decay = 0\ntrade_access_decay = 0\n\
         [[patrons]]\nid = \"P\"\n[[hosts]]\nid = \"H\"\ngdp_usd_bn = 1\n",
        // Maximum growth and shrinkage.
        "[[patrons]]\nid = \"P\"\neconomy_growth_pct = 50\n[[hosts]]\nid = \"H\"\ngdp_usd_bn = 1\ntrend_growth_pct = -50\n\
         ties.P = { trade_usd_bn = 1 }\n",
        // An event that sets a lever far outside its range (clamped).
        "[[patrons]]\nid = \"P\"\n[[hosts]]\nid = \"H\"\ngdp_usd_bn = 1\n[[events]]\nname = \"e\"\nat = \"2024Q1\"\n\
         effects = [{ actor = \"all_hosts\", quantity = \"absorptive_capacity\", op = \"set\", value = 1000000 }]\n",
        // Keys with odd characters.
        "\"\" = 1\n\"a.b\" = 2\n[[patrons]]\nid = \"P\"\n[[hosts]]\nid = \"H\"\ngdp_usd_bn = 1\n",
        // A dated event long before the start.
        "[[patrons]]\nid = \"P\"\n[[hosts]]\nid = \"H\"\ngdp_usd_bn = 1\n[[events]]\nname = \"old\"\nat = \"1990Q1\"\n\
         duration_quarters = 1\neffects = [{ actor = \"P\", quantity = \"goodwill\", op = \"add\", value = 1 }]\n",
    ];
    for text in cases {
        load_and_run(text);
    }
}
