//! Writes the design of the Sobol' analysis of every lever of a scenario (the scenario file
//! `docs/analysis/sobol-all-levers.toml`) from the `keys.csv` of a lever screen:
//!
//! ```sh
//! greatgame levers scenarios/baseline.toml --no-parameter-sets -n 8 --no-charts --out screen
//! cargo run --release --example sobol_design -- screen/levers-baseline/keys.csv \
//!     > docs/analysis/sobol-all-levers.toml
//! ```
//!
//! Options after the file: `--samples N` (Sobol' base sample, default 128), `--replicates R`
//! (default 8), `--name NAME` (default `sobol-all-levers`), `--extends PATH` (default
//! `../../scenarios/baseline.toml`, relative to the written file).
//!
//! Every lever gets the range the screen tried: from its down value to its up value, and
//! its base value for a direction the validator refused (a share at 0 varies from 0 up).
//! Resolution settings (`minerals.n_deposits`, `minerals.n_firms`) are not levers and are
//! left out. Shares the validator bounds by a sum (a host's `arms_share` of every tie plus
//! its `other_security_share`; its `remittance_share` of every tie; its `debt_share` of
//! every tie; a deposit's `owners`) keep their down ends, and where the group's up ends
//! add up to more than 1 each member's upward step is scaled by one factor so that they
//! add up to 1: every combination of values in the ranges is then a valid scenario, so the
//! parameters stay independent, as Sobol' indices require.

use std::collections::BTreeMap;
use std::error::Error;
use std::fmt::Write as _;
use std::path::PathBuf;

/// One lever's row of `keys.csv`, as far as the design needs it.
struct Lever {
    key: String,
    base: f64,
    down: Option<f64>,
    /// The up value the screen tried, and whether it ran.
    up: Option<(f64, bool)>,
    up_status: String,
    integer: bool,
    verdict: String,
    /// The sum group it belongs to, if any.
    group: Option<String>,
}

/// The sum group of a key: the validator's "must not exceed 1 in all" constraints.
fn sum_group(key: &str) -> Option<String> {
    let parts: Vec<&str> = key.split('.').collect();
    match parts.as_slice() {
        ["hosts", host, "ties", _, "arms_share"] | ["hosts", host, "other_security_share"] => {
            Some(format!("hosts.{host} arms_share of every tie + other_security_share"))
        }
        ["hosts", host, "ties", _, share @ ("remittance_share" | "debt_share")] => {
            Some(format!("hosts.{host} {share} of every tie"))
        }
        _ => {
            // deposits."HOST/commodity".owners.PATRON (the quoted name holds no dot).
            let (deposit, patron) = key.rsplit_once(".owners.")?;
            (deposit.starts_with("deposits.") && !patron.contains('.')).then(|| format!("{deposit}.owners"))
        }
    }
}

fn number(text: &str, key: &str, column: &str) -> Result<f64, Box<dyn Error>> {
    text.parse::<f64>()
        .map_err(|e| format!("{key}: {column} {text:?} is not a number: {e}").into())
}

/// A number as the design file writes it: 12 significant digits, whole numbers as TOML
/// integers (the library's own rounding).
fn tidy(value: f64) -> String {
    greatgame::analysis::parameters::tidy_number(value).to_string()
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let mut keys_csv: Option<PathBuf> = None;
    let (mut samples, mut replicates) = (128u64, 8u64);
    let mut name = "sobol-all-levers".to_string();
    let mut extends = "../../scenarios/baseline.toml".to_string();
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| args.next().ok_or_else(|| format!("{flag} needs a value"));
        match arg.as_str() {
            "--samples" => samples = value("--samples")?.parse()?,
            "--replicates" => replicates = value("--replicates")?.parse()?,
            "--name" => name = value("--name")?,
            "--extends" => extends = value("--extends")?,
            _ if keys_csv.is_none() && !arg.starts_with('-') => keys_csv = Some(PathBuf::from(arg)),
            _ => return Err(format!("unknown argument {arg:?}").into()),
        }
    }
    let keys_csv =
        keys_csv.ok_or("usage: sobol_design KEYS.csv [--samples N] [--replicates R] [--name NAME] [--extends PATH]")?;

    let mut reader = csv::Reader::from_path(&keys_csv).map_err(|e| format!("{}: {e}", keys_csv.display()))?;
    let headers = reader.headers()?.clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| format!("{}: no column {name:?}", keys_csv.display()))
    };
    let [key_c, class_c, rule_c, base_c, down_c, down_status_c, up_c, up_status_c, verdict_c] = [
        "key",
        "class",
        "step_rule",
        "base_value",
        "down_value",
        "down_status",
        "up_value",
        "up_status",
        "verdict",
    ]
    .map(column);
    let (key_c, class_c, rule_c, base_c) = (key_c?, class_c?, rule_c?, base_c?);
    let (down_c, down_status_c, up_c, up_status_c, verdict_c) =
        (down_c?, down_status_c?, up_c?, up_status_c?, verdict_c?);

    let mut levers = Vec::new();
    let mut left_out: Vec<(String, String)> = Vec::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("{}: row {}: {e}", keys_csv.display(), line + 2))?;
        let key = record[key_c].to_string();
        if &record[class_c] != "lever" {
            left_out.push((key, format!("a {} setting, not a lever", &record[class_c])));
            continue;
        }
        let base = number(&record[base_c], &key, "base_value")?;
        let down = match (&record[down_status_c], &record[down_c]) {
            ("ran", text) => Some(number(text, &key, "down_value")?),
            _ => None,
        };
        let up = match &record[up_c] {
            "" => None,
            text => Some((number(text, &key, "up_value")?, &record[up_status_c] == "ran")),
        };
        levers.push(Lever {
            group: sum_group(&key),
            integer: record[rule_c].starts_with("integer"),
            verdict: record[verdict_c].to_string(),
            up_status: record[up_status_c].to_string(),
            key,
            base,
            down,
            up,
        });
    }

    // The tops: the up value that ran; for a member of a sum group also one refused for
    // the sum alone; then each group's upward steps scaled to fit under 1.
    let refused_for_sum = |l: &Lever| l.up_status.contains("must not exceed 1");
    let mut top: Vec<f64> = levers
        .iter()
        .map(|l| match l.up {
            Some((up, true)) => up,
            Some((up, false)) if l.group.is_some() && refused_for_sum(l) => up,
            _ => l.base,
        })
        .collect();
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, l) in levers.iter().enumerate() {
        if let Some(g) = &l.group {
            groups.entry(g.as_str()).or_default().push(i);
        }
    }
    let mut narrowed: BTreeMap<usize, f64> = BTreeMap::new(); // lever -> factor
    for members in groups.values() {
        let base_sum: f64 = members.iter().map(|&i| levers[i].base).sum();
        let steps: f64 = members.iter().map(|&i| top[i] - levers[i].base).sum();
        if base_sum + steps > 1.0 + 1e-9 {
            let factor = ((1.0 - base_sum) / steps).max(0.0);
            for &i in members {
                // Rounded down, so the tops never add up to more than 1.
                let step = ((top[i] - levers[i].base) * factor * 1e9).floor() / 1e9;
                top[i] = levers[i].base + step;
                narrowed.insert(i, factor);
            }
        }
    }

    let mut out = String::new();
    let mut parameters = String::new();
    let mut one_sided = 0;
    for (i, l) in levers.iter().enumerate() {
        let bottom = l.down.unwrap_or(l.base);
        let (lo, hi) = (bottom.min(top[i]), bottom.max(top[i]));
        if lo == hi {
            left_out.push((l.key.clone(), "no direction of the screen ran: no range".to_string()));
            continue;
        }
        let mut notes = Vec::new();
        if let Some(&factor) = narrowed.get(&i) {
            notes.push(format!(
                "{} (base {}): up end narrowed to {:.0}% of the screen's step so the group's tops add up to 1",
                l.group.as_deref().unwrap_or(""),
                tidy(l.base),
                factor * 100.0
            ));
        } else if lo == l.base || hi == l.base {
            one_sided += 1;
            notes.push(format!("from the base value {} one way only", tidy(l.base)));
        }
        if l.verdict != "live" {
            notes.push(format!("the screen found it {}", l.verdict));
        }
        parameters.push('\n');
        for note in notes {
            writeln!(parameters, "# {note}")?;
        }
        writeln!(parameters, "[[sensitivity.parameters]]")?;
        writeln!(parameters, "key = {}", toml::Value::String(l.key.clone()))?;
        writeln!(parameters, "min = {}", tidy(lo))?;
        writeln!(parameters, "max = {}", tidy(hi))?;
        if l.integer {
            writeln!(parameters, "integer = true")?;
        }
    }
    let varied = levers.len()
        - left_out
            .iter()
            .filter(|(_, why)| why.starts_with("no direction"))
            .count();
    let narrowed_count = narrowed.len();
    let narrowed_groups: usize = groups
        .values()
        .filter(|members| members.iter().any(|i| narrowed.contains_key(i)))
        .count();

    writeln!(
        out,
        "# The Sobol' analysis of every lever of the baseline in docs/analysis.md (\"Which levers\n\
         # drive alignment\"): {varied} levers, each over the values the lever screen tried (down..up:\n\
         # ±20%, ±0.1 for shares, ±1 or ±20% for whole numbers), sampled uniformly; a direction the\n\
         # validator refused leaves that end at the base value ({one_sided} levers vary one way only).\n\
         # Shares bounded by a sum ({} groups) keep their down ends; where a group's up ends add\n\
         # up to more than 1, the members' upward steps are scaled by one factor so they add up\n\
         # to 1 ({narrowed_count} levers in {narrowed_groups} groups), so every combination is valid.\n\
         #\n\
         # Written by examples/sobol_design.rs from the screen's keys.csv; do not edit by hand:\n\
         #\n\
         #   greatgame levers scenarios/baseline.toml --no-parameter-sets -n 8 --no-charts --out screen\n\
         #   cargo run --release --example sobol_design -- screen/levers-baseline/keys.csv \\\n\
         #       --samples {samples} --replicates {replicates} > docs/analysis/{name}.toml\n\
         #\n\
         # Run through two shards and merged:\n\
         #\n\
         #   greatgame sensitivity docs/analysis/{name}.toml --shard 0/2 --threads 1 --out shards/0\n\
         #   greatgame sensitivity docs/analysis/{name}.toml --shard 1/2 --threads 1 --out shards/1\n\
         #   greatgame merge shards/*/sensitivity-{name} --out output",
        groups.len()
    )?;
    if !left_out.is_empty() {
        writeln!(out, "#\n# Left out:")?;
        for (key, why) in &left_out {
            writeln!(out, "#   {key}: {why}")?;
        }
    }
    writeln!(out, "extends = {}", toml::Value::String(extends))?;
    writeln!(out, "name = {}", toml::Value::String(name))?;
    writeln!(out, "[sensitivity]")?;
    writeln!(out, "method = \"sobol\"")?;
    writeln!(
        out,
        "outputs = [\"alignment:C5:USA\", \"alignment:C5:CHN\", \"alignment:C5:RUS\"]"
    )?;
    writeln!(out, "replicates = {replicates}")?;
    writeln!(out, "samples = {samples}")?;
    out.push_str(&parameters);
    print!("{out}");
    Ok(())
}
