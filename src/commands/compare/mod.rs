//! `greatgame compare`: scenarios (or output folders of earlier runs) side by side.
//!
//! The first input is the reference. For every chosen metric, host row, partner and
//! horizon shared by all inputs, `comparison.csv` gives each other input's mean, its
//! difference from the reference, a 95% confidence interval of the difference, the
//! probability of direction and whether the difference is large enough to matter
//! (`--min-effect`). Scenario files are run by the command with one seed and replicate
//! count over their parameter sets, so replicate `i` of every scenario runs set `i mod K`
//! on random stream `i` of the same seed (common random numbers) and differences are
//! paired by set and replicate; folders of earlier runs are paired with them only when
//! their seed, replicate count and sets match and they hold `replicates.csv`.

mod charts;
mod differences;
mod inputs;
mod report;

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::analysis::bootstrap;
use crate::analysis::outcomes::{check_horizons, default_horizons, did_you_mean, expand_metrics, nearest};
use crate::analysis::sets::ParameterSets;
use crate::job::staging::check_destination;
use crate::job::{folder_name, Job, JobError, Settings, Written};
use crate::manifest::{self, Header};
use crate::metrics::ALL_HOSTS;
use crate::output::MetricInfo;
use crate::time::Quarter;

pub use differences::{MinEffect, Row, COMPARISON_HEADER, LIKELY};
pub use inputs::{Input, InputKind};

use differences::{difference_rows, pairing, text_summary, write_comparison};
use inputs::{choose_sets, label_uniquely, open_input, read_folder, run_input, shared, CellKey};

/// What to compare and how.
#[derive(Debug, Clone)]
pub struct CompareOptions {
    /// Scenario files or output folders; the first is the reference.
    pub inputs: Vec<PathBuf>,
    pub settings: Settings,
    /// Metric names ([`crate::analysis::outcomes::parse_metrics`]): base, per-commodity or per-route metrics,
    /// resolved in each input's own catalogue; one an input lacks is left out, with a note.
    pub metrics: Vec<String>,
    /// Quarters compared; `None`: a mid-run quarter and the last shared quarter.
    pub horizons: Option<Vec<Quarter>>,
    /// Bootstrap resamples per interval.
    pub resamples: usize,
    /// Largest differences listed in the text summary per compared input.
    pub top: usize,
    /// The smallest difference that matters.
    pub min_effect: MinEffect,
    /// Which parameter sets the scenario inputs run over (default: each its own).
    pub parameter_sets: ParameterSets,
}

/// What a comparison produced.
#[derive(Debug)]
pub struct CompareOutcome {
    pub written: Written,
    /// The text summary for stdout.
    pub summary: String,
    /// Things the user should know (left-out actors, fallbacks), for stderr.
    pub notes: Vec<String>,
    pub rows: Vec<Row>,
}

/// Runs the comparison and writes `DIR/compare-<names>/`.
pub fn compare(options: &CompareOptions, job: Job) -> Result<CompareOutcome, JobError> {
    if options.inputs.len() < 2 {
        return Err(JobError::Usage(
            "compare needs at least two scenario files or output folders".to_string(),
        ));
    }
    let mut inputs: Vec<Input> = options.inputs.iter().map(|p| open_input(p)).collect::<Result<_, _>>()?;
    label_uniquely(&mut inputs);

    let names: Vec<&str> = inputs.iter().map(|i| i.label.as_str()).collect();
    let destination = options.settings.out_root().join(folder_name("compare", &names));
    check_destination(&destination)?;

    // One seed and replicate count for every scenario the command runs: the command
    // line's, else the first input's, so replicate i shares its random stream everywhere.
    let seed = options.settings.seed.unwrap_or(inputs[0].seed);
    let replicates = options.settings.replicates_or(inputs[0].replicates)?;
    for input in inputs.iter_mut().filter(|i| i.kind == InputKind::Scenario) {
        input.seed = seed;
        input.replicates = replicates;
    }
    // The sets after the replicate count: with fewer replicates than sets, the first run.
    let mut notes = choose_sets(&mut inputs, &options.parameter_sets)?;

    // The quarters every input covers, and the horizons in them.
    let first = inputs.iter().map(|i| i.start).max().expect("two inputs");
    let last = inputs.iter().map(Input::last).min().expect("two inputs");
    if first > last {
        return Err(JobError::Usage(format!(
            "the inputs share no quarter: {}",
            inputs
                .iter()
                .map(|i| format!("{} runs {} to {}", i.label, i.start, i.last()))
                .collect::<Vec<_>>()
                .join("; ")
        )));
    }
    let horizons = match &options.horizons {
        Some(h) => {
            check_horizons(h, first, last, "the quarters all inputs share")?;
            h.clone()
        }
        None => default_horizons(first, last),
    };

    // Actors every input has, in the reference's order.
    let hosts = shared(&inputs, |i| &i.hosts);
    let partners = shared(&inputs, |i| &i.partners);
    for (what, of_input, common) in [
        (
            "host",
            (|i: &Input| &i.hosts) as fn(&Input) -> &Vec<(String, String)>,
            &hosts,
        ),
        ("partner", |i: &Input| &i.partners, &partners),
    ] {
        let mut seen: Vec<&str> = Vec::new();
        for input in &inputs {
            for (id, _) in of_input(input) {
                if common.iter().any(|(c, _)| c == id) || seen.contains(&id.as_str()) {
                    continue;
                }
                seen.push(id);
                let holders: Vec<&str> = inputs
                    .iter()
                    .filter(|i| of_input(i).iter().any(|(other, _)| other == id))
                    .map(|i| i.label.as_str())
                    .collect();
                notes.push(format!(
                    "{what} {id} is only in {}: its rows are left out of the comparison",
                    holders.join(", ")
                ));
            }
        }
        if what == "host" && !seen.is_empty() {
            notes.push(format!(
                "the inputs have different hosts, so each input's {ALL_HOSTS} row (the hosts together) aggregates a different set of hosts"
            ));
        }
    }
    notes.dedup();
    if hosts.is_empty() && partners.is_empty() {
        return Err(JobError::Usage("the inputs share no host and no partner".to_string()));
    }

    // Metrics every input has, in the order asked for; the reference's description.
    let mut metrics: Vec<MetricInfo> = Vec::new();
    let mut left_out = Vec::new();
    // A family prefix (`route_share`) stands for that metric of every route (commodity).
    let mut available: Vec<&str> = Vec::new();
    for m in inputs.iter().flat_map(|i| &i.metrics) {
        if !available.contains(&m.name.as_str()) {
            available.push(&m.name);
        }
    }
    let requested = expand_metrics(&options.metrics, &available);
    for name in &requested {
        let holders: Vec<&str> = inputs
            .iter()
            .filter(|i| i.metric(name).is_some())
            .map(|i| i.label.as_str())
            .collect();
        if holders.is_empty() {
            return Err(JobError::Usage(format!(
                "no input has metric {name:?}{}",
                did_you_mean(&nearest(name, &available))
            )));
        }
        match inputs[0].metric(name) {
            Some(metric) if holders.len() == inputs.len() => metrics.push(metric.clone()),
            _ => left_out.push(format!("metric {name} is only in {}", holders.join(", "))),
        }
    }
    if metrics.is_empty() {
        return Err(JobError::Usage(format!(
            "the inputs share none of the metrics asked for: {}",
            left_out.join("; ")
        )));
    }
    notes.extend(
        left_out
            .into_iter()
            .map(|note| format!("{note}: its rows are left out of the comparison")),
    );

    let mut host_rows: Vec<String> = hosts.iter().map(|(id, _)| id.clone()).collect();
    host_rows.push(ALL_HOSTS.to_string());
    let mut keys: Vec<CellKey> = Vec::new();
    for metric in &metrics {
        for host in &host_rows {
            if metric.is_regional() && host != ALL_HOSTS {
                continue;
            }
            if metric.per_partner {
                for (partner, _) in &partners {
                    keys.push((metric.name.clone(), host.clone(), partner.clone()));
                }
            } else {
                keys.push((metric.name.clone(), host.clone(), String::new()));
            }
        }
    }

    // What the comparison will hold, counted before anything runs or is read.
    let mut budget = options.settings.budget();
    let mut ensemble = 0u64;
    for input in &inputs {
        let values = (input.replicates)
            .saturating_mul(keys.len() as u64)
            .saturating_mul(horizons.len() as u64);
        budget.add(
            format!("the statistics of {}", input.label),
            (keys.len() as u64)
                .saturating_mul(input.n_steps as u64)
                .saturating_mul(48),
        );
        match (&input.loaded, &input.folder) {
            (Some(loaded), _) => {
                budget.add(
                    format!("the replicate values of {}", input.label),
                    values.saturating_mul(8),
                );
                ensemble = ensemble.max(options.settings.ensemble_bytes_sets(
                    &loaded.scenario,
                    input.replicates,
                    input.n_sets(),
                ));
            }
            (None, Some(folder)) if folder.has_replicates() => {
                budget.add(
                    format!("the replicate values read from {}", input.path.display()),
                    folder.replicate_values(keys.len(), horizons.len()),
                );
            }
            _ => {}
        }
    }
    budget.add("one ensemble", ensemble).check()?;

    // Data: run the scenarios, read the folders.
    let total: u64 = inputs
        .iter()
        .filter(|i| i.kind == InputKind::Scenario)
        .map(|i| i.replicates)
        .sum();
    job.progress.start(total, "replicates");
    for input in &mut inputs {
        match input.kind {
            InputKind::Scenario => run_input(input, &keys, &horizons, &options.settings, job)?,
            InputKind::Folder => {
                read_folder(input, &keys, &horizons)?;
                if input.samples.is_none() {
                    notes.push(format!(
                        "{} has no replicates.csv (run it with --per-replicate): its intervals use the normal approximation from summary.csv",
                        input.path.display()
                    ));
                }
            }
        }
    }

    for input in &inputs[1..] {
        if !inputs[0].paired_with(input) && input.samples.is_some() && inputs[0].samples.is_some() {
            notes.push(format!(
                "{} and {} are not paired ({}): no probability of direction",
                inputs[0].label,
                input.label,
                if inputs[0].seed != input.seed || inputs[0].replicates != input.replicates {
                    "different seeds or replicate counts"
                } else {
                    "different parameter sets"
                }
            ));
        }
    }
    let rows = difference_rows(&inputs, &keys, &horizons, seed, options.resamples, options.min_effect);
    let summary = text_summary(&inputs, &rows, options.top, options.min_effect);
    let context = Context {
        inputs: &inputs,
        hosts: &hosts,
        partners: &partners,
        horizons: &horizons,
        metrics: &metrics,
        seed,
        replicates,
        rows: &rows,
        notes: &notes,
        options,
    };
    let written = job.write_folder(&destination, |dir| context.write(dir))?;
    Ok(CompareOutcome {
        written,
        summary,
        notes,
        rows,
    })
}

/// Opens a scenario file or an output folder (metadata only; the data comes later).
/// Everything the output files need.
struct Context<'a> {
    inputs: &'a [Input],
    hosts: &'a [(String, String)],
    partners: &'a [(String, String)],
    horizons: &'a [Quarter],
    metrics: &'a [MetricInfo],
    seed: u64,
    /// Replicates of the scenarios run now.
    replicates: u64,
    rows: &'a [Row],
    notes: &'a [String],
    options: &'a CompareOptions,
}

impl Context<'_> {
    fn write(&self, dir: &Path) -> Result<Vec<String>, JobError> {
        let mut files = vec!["comparison.csv".to_string()];
        write_comparison(&dir.join("comparison.csv"), self.inputs, self.rows)
            .map_err(JobError::io("writing comparison.csv"))?;
        let mut charts = Vec::new();
        let figures = charts::figures(self.inputs, self.hosts, self.partners, self.metrics);
        if self.options.settings.charts {
            let chart_dir = dir.join("charts");
            fs::create_dir_all(&chart_dir).map_err(JobError::io("creating charts/"))?;
            for path in charts::draw_charts(&chart_dir, &figures)? {
                let relative = path.strip_prefix(dir).unwrap_or(&path).display().to_string();
                charts.push(relative.clone());
                files.push(relative);
            }
        }
        let html = report::compare_report(&report::CompareReport {
            title: format!(
                "Comparison: {}",
                self.inputs
                    .iter()
                    .map(|i| i.label.as_str())
                    .collect::<Vec<_>>()
                    .join(" vs ")
            ),
            inputs: self
                .inputs
                .iter()
                .map(|i| report::InputInfo {
                    label: i.label.clone(),
                    source: i.path.display().to_string(),
                    kind: match i.kind {
                        InputKind::Scenario => "scenario file, run now".to_string(),
                        InputKind::Folder => "output folder of an earlier run".to_string(),
                    },
                    seed: i.seed,
                    replicates: i.replicates,
                    sets: i.n_sets(),
                    window: format!("{} to {}", i.start, i.last()),
                })
                .collect(),
            rows: self.rows,
            labels: self.inputs.iter().map(|i| i.label.clone()).collect(),
            notes: self.notes,
            charts: &charts,
            figures: &figures,
            top: self.options.top,
            min_effect: self.options.min_effect,
            pairings: self.inputs[1..].iter().map(|i| pairing(&self.inputs[0], i)).collect(),
        });
        fs::write(dir.join("report.html"), html).map_err(JobError::io("writing report.html"))?;
        files.push("report.html".to_string());
        files.push("manifest.json".to_string());
        manifest::write(&dir.join("manifest.json"), &self.header(), &self.manifest(&files))
            .map_err(JobError::io("writing manifest.json"))?;
        Ok(files)
    }

    fn header(&self) -> Header {
        Header::new(
            "compare",
            &self.options.settings.command_line,
            self.inputs.iter().map(|i| i.path.display().to_string()).collect(),
            self.seed,
            self.replicates,
        )
        .with_sets(self.inputs[0].sets_record.clone())
    }

    fn manifest(&self, files: &[String]) -> serde_json::Value {
        let mut methods: Vec<&str> = Vec::new();
        for row in self.rows {
            if !methods.contains(&row.method.label()) {
                methods.push(row.method.label());
            }
        }
        json!({
            "reference": self.inputs[0].label,
            "compared": self.inputs.iter().map(|i| json!({
                "label": i.label,
                "kind": match i.kind { InputKind::Scenario => "scenario", InputKind::Folder => "folder" },
                "path": i.path.display().to_string(),
                "scenario_name": i.scenario_name,
                "seed": i.seed,
                "replicates": i.replicates,
                "start": i.start.to_string(),
                "end": i.last().to_string(),
                "per_replicate_values": i.samples.is_some(),
                "parameter_sets": i.sets_record,
                "scenario_files": match (&i.loaded, &i.folder) {
                    (Some(l), _) => l.file_list(),
                    (None, Some(f)) => f.manifest.scenario_files.clone(),
                    _ => Vec::new(),
                },
                "resolved_scenario": match (&i.loaded, &i.folder) {
                    (Some(l), _) => l.resolved_json(),
                    (None, Some(f)) => f.manifest.resolved_scenario.clone(),
                    _ => serde_json::Value::Null,
                },
            })).collect::<Vec<_>>(),
            "metrics": self.metrics.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(),
            "horizons": self.horizons.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
            "hosts": self.hosts.iter().map(|(id, _)| id).collect::<Vec<_>>(),
            "partners": self.partners.iter().map(|(id, _)| id).collect::<Vec<_>>(),
            "confidence_level": bootstrap::LEVEL,
            "ci_methods": methods,
            "bootstrap": {
                "resamples": self.options.resamples,
                "interval": "percentile",
                "generator": "ChaCha8 (rand_chacha) seeded with the seed XOR 0x6f6f747374726170, stream = FNV-1a hash of 'reference|scenario|metric|host|partner|date'",
                "seed": self.seed,
            },
            "effect_size": "Cohen's d: difference / sqrt((sd_reference^2 + sd^2) / 2), sd across replicates",
            "probability_of_direction": {
                "definition": "share of paired differences (replicate i of both inputs: parameter set i mod K, random stream i) with the sign of the mean difference; pairs with no difference do not count for it",
                "interval": "95% percentile two-stage bootstrap: parameter sets resampled with replacement, then the replicates within each chosen set",
                "generator": "as the bootstrap, stream = FNV-1a hash of 'reference|scenario|metric|host|partner|date|direction'",
                "likely_at_least": LIKELY,
            },
            "min_effect": self.options.min_effect.to_string(),
            "min_effect_rule": self.options.min_effect.describe(),
            "notes": self.notes,
            "files": files,
        })
    }
}
