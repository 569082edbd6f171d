//! `greatgame compare`: scenarios (or output folders of earlier runs) side by side.
//!
//! The first input is the reference. For every chosen metric, host row, partner and
//! horizon shared by all inputs, `comparison.csv` gives each other input's mean, its
//! difference from the reference, a 95% confidence interval of the difference and an
//! effect size. Scenario files are run by the command with one seed and replicate count,
//! so replicate `i` of every scenario uses random stream `i` of the same seed (common
//! random numbers) and differences are paired; folders of earlier runs are paired with
//! them only when their seed and replicate count match and they hold `replicates.csv`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use serde_json::json;

use super::bootstrap::{self, CiMethod, Interval};
use super::{
    check_horizons, default_horizons, io_context, run_ensemble, write_folder, write_json, AnalysisError, Progress,
    RunSettings, Written,
};
use crate::chart::{panel_figure, write_figure, Line, PanelSpec};
use crate::ensemble::{EnsembleConfig, ReplicateObserver, ReplicateRecord};
use crate::format::{number, optional, short, signed, slug};
use crate::metrics::{CommodityMetric, MetricLayout, RouteMetric, ALL_HOSTS};
use crate::output;
use crate::scenario::file::ScenarioFile;
use crate::scenario::validate::validate;
use crate::scenario::{self, LoadedScenario};
use crate::stats::CellStats;
use crate::time::Quarter;

/// What to compare and how.
#[derive(Debug, Clone)]
pub struct CompareOptions {
    /// Scenario files or output folders; the first is the reference.
    pub inputs: Vec<PathBuf>,
    pub settings: RunSettings,
    /// Metric names ([`super::parse_metrics`]): base, per-commodity or per-route metrics,
    /// resolved in each input's own catalogue; one an input lacks is left out, with a note.
    pub metrics: Vec<String>,
    /// Quarters compared; `None`: a mid-run quarter and the last shared quarter.
    pub horizons: Option<Vec<Quarter>>,
    /// Bootstrap resamples per interval.
    pub resamples: usize,
    /// Largest differences listed in the text summary per compared input.
    pub top: usize,
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

/// Where an input came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// A scenario file, run by the command.
    Scenario,
    /// The output folder of an earlier `greatgame run`.
    Folder,
}

/// (metric name, host label, partner label or "").
type CellKey = (String, String, String);

/// One metric of an input's catalogue: what the comparison needs to know of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricInfo {
    pub name: String,
    pub unit: String,
    pub description: String,
    pub per_partner: bool,
    /// Only the all-hosts row exists.
    pub regional: bool,
}

impl MetricInfo {
    fn of_layout(layout: &MetricLayout) -> Vec<MetricInfo> {
        layout
            .metrics()
            .iter()
            .map(|m| MetricInfo {
                name: m.name.clone(),
                unit: m.unit.to_string(),
                description: m.description.clone(),
                per_partner: m.per_partner,
                regional: m.regional,
            })
            .collect()
    }
}

/// One input, loaded.
pub struct Input {
    pub label: String,
    pub kind: InputKind,
    pub path: PathBuf,
    pub scenario_name: String,
    pub start: Quarter,
    pub n_steps: usize,
    pub seed: u64,
    pub replicates: u64,
    /// (id, name) of the hosts (not C5) and partners.
    pub hosts: Vec<(String, String)>,
    pub partners: Vec<(String, String)>,
    /// The input's metrics (its scenario's layout).
    pub metrics: Vec<MetricInfo>,
    loaded: Option<LoadedScenario>,
    manifest: Option<output::Manifest>,
    /// Statistics per step of the compared cells.
    series: BTreeMap<CellKey, Vec<CellStats>>,
    /// Replicate values of the compared cells at the horizons, in replicate order; `None`
    /// when the input has none (a folder without replicates.csv).
    samples: Option<BTreeMap<(CellKey, Quarter), Vec<f64>>>,
}

impl Input {
    fn last(&self) -> Quarter {
        self.start.plus(self.n_steps as i64 - 1)
    }

    fn metric(&self, name: &str) -> Option<&MetricInfo> {
        self.metrics.iter().find(|m| m.name == name)
    }

    fn stats_at(&self, key: &CellKey, date: Quarter) -> Option<CellStats> {
        let step = usize::try_from(date.since(self.start)).ok()?;
        self.series.get(key).and_then(|s| s.get(step)).copied()
    }

    fn samples_at(&self, key: &CellKey, date: Quarter) -> Option<&[f64]> {
        self.samples
            .as_ref()
            .and_then(|s| s.get(&(key.clone(), date)))
            .map(Vec::as_slice)
    }
}

/// One line of `comparison.csv`.
#[derive(Debug, Clone)]
pub struct Row {
    /// The metric's name.
    pub metric: String,
    pub host: String,
    pub partner: String,
    pub date: Quarter,
    /// Index of the compared input (1..).
    pub input: usize,
    pub reference: (f64, f64, u64),
    pub other: (f64, f64, u64),
    pub difference: f64,
    pub ci: Option<Interval>,
    pub method: CiMethod,
    pub effect_size: Option<f64>,
}

impl Row {
    pub fn exceeds_noise(&self) -> Option<bool> {
        self.ci.map(|ci| ci.excludes_zero())
    }
}

pub const COMPARISON_HEADER: [&str; 18] = [
    "metric",
    "host",
    "partner",
    "date",
    "scenario",
    "reference",
    "reference_mean",
    "mean",
    "difference",
    "ci_low",
    "ci_high",
    "ci_method",
    "exceeds_noise",
    "effect_size",
    "reference_sd",
    "sd",
    "reference_replicates",
    "replicates",
];

/// Runs the comparison and writes `DIR/compare-<names>/`.
pub fn compare(
    options: &CompareOptions,
    progress: &dyn Progress,
    cancel: &AtomicBool,
) -> Result<CompareOutcome, AnalysisError> {
    if options.inputs.len() < 2 {
        return Err(AnalysisError::Usage(
            "compare needs at least two scenario files or output folders".to_string(),
        ));
    }
    let mut notes = Vec::new();
    let mut inputs: Vec<Input> = options.inputs.iter().map(|p| open_input(p)).collect::<Result<_, _>>()?;
    label_uniquely(&mut inputs);

    // One seed and replicate count for every scenario the command runs: the command
    // line's, else the first input's, so replicate i shares its random stream everywhere.
    let seed = options.settings.seed.unwrap_or(inputs[0].seed);
    let replicates = options.settings.replicates.unwrap_or(inputs[0].replicates);
    for input in inputs.iter_mut().filter(|i| i.kind == InputKind::Scenario) {
        input.seed = seed;
        input.replicates = replicates;
    }

    // The quarters every input covers, and the horizons in them.
    let first = inputs.iter().map(|i| i.start).max().expect("two inputs");
    let last = inputs.iter().map(Input::last).min().expect("two inputs");
    if first > last {
        return Err(AnalysisError::Usage(format!(
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
        return Err(AnalysisError::Usage(
            "the inputs share no host and no partner".to_string(),
        ));
    }

    // Metrics every input has, in the order asked for; the reference's description.
    let mut metrics: Vec<MetricInfo> = Vec::new();
    let mut left_out = Vec::new();
    for name in &options.metrics {
        let holders: Vec<&str> = inputs
            .iter()
            .filter(|i| i.metric(name).is_some())
            .map(|i| i.label.as_str())
            .collect();
        if holders.is_empty() {
            return Err(AnalysisError::Usage(format!(
                "no input has metric {name:?}; {}'s metrics are: {}",
                inputs[0].label,
                inputs[0]
                    .metrics
                    .iter()
                    .map(|m| m.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        match inputs[0].metric(name) {
            Some(metric) if holders.len() == inputs.len() => metrics.push(metric.clone()),
            _ => left_out.push(format!("metric {name} is only in {}", holders.join(", "))),
        }
    }
    if metrics.is_empty() {
        return Err(AnalysisError::Usage(format!(
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
            if metric.regional && host != ALL_HOSTS {
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

    // Data: run the scenarios, read the folders.
    let total: u64 = inputs
        .iter()
        .filter(|i| i.kind == InputKind::Scenario)
        .map(|i| i.replicates)
        .sum();
    progress.start(total, "replicates");
    for input in &mut inputs {
        match input.kind {
            InputKind::Scenario => run_input(input, &keys, &horizons, &options.settings, progress, cancel)?,
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

    let rows = difference_rows(&inputs, &keys, &horizons, seed, options.resamples);
    let summary = text_summary(&inputs, &rows, options.top);
    let names: Vec<&str> = inputs.iter().map(|i| i.label.as_str()).collect();
    let folder = super::folder_name("compare", &names);
    let context = Context {
        inputs: &inputs,
        hosts: &hosts,
        partners: &partners,
        horizons: &horizons,
        metrics: &metrics,
        seed,
        rows: &rows,
        notes: &notes,
        options,
    };
    let written = write_folder(options.settings.out_root(), &folder, |dir| context.write(dir))?;
    Ok(CompareOutcome {
        written,
        summary,
        notes,
        rows,
    })
}

/// Opens a scenario file or an output folder (metadata only; the data comes later).
fn open_input(path: &Path) -> Result<Input, AnalysisError> {
    if path.is_dir() {
        let manifest_path = path.join("manifest.json");
        let manifest = output::read_manifest(&manifest_path).ok_or_else(|| {
            let message = if manifest_path.exists() {
                "manifest.json is not the manifest of a `greatgame run` (compare takes run output folders, not compare, sweep or sensitivity folders)"
            } else {
                "is a folder without manifest.json: not the output folder of a `greatgame run`"
            };
            AnalysisError::input(path, message)
        })?;
        if !path.join("summary.csv").is_file() {
            return Err(AnalysisError::input(path, "has no summary.csv"));
        }
        let start: Quarter = manifest
            .start
            .parse()
            .map_err(|e| AnalysisError::input(&manifest_path, format!("start: {e}")))?;
        let actors = |key: &str| -> Vec<(String, String)> {
            manifest.resolved_scenario[key]
                .as_array()
                .map(|list| {
                    list.iter()
                        .filter_map(|a| {
                            let id = a["id"].as_str()?.to_string();
                            let name = a["name"].as_str().filter(|n| !n.is_empty()).unwrap_or(&id).to_string();
                            Some((id, name))
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        Ok(Input {
            label: manifest.scenario_name.clone(),
            kind: InputKind::Folder,
            path: path.to_path_buf(),
            scenario_name: manifest.scenario_name.clone(),
            start,
            n_steps: manifest.steps as usize,
            seed: manifest.seed,
            replicates: manifest.replicates,
            hosts: actors("hosts"),
            partners: actors("patrons"),
            metrics: folder_metrics(&manifest),
            loaded: None,
            manifest: Some(manifest),
            series: BTreeMap::new(),
            samples: None,
        })
    } else {
        let loaded = scenario::load(path).map_err(|error| AnalysisError::Scenario {
            context: format!("{} is not a valid scenario", path.display()),
            error,
        })?;
        let s = &loaded.scenario;
        Ok(Input {
            label: s.name.clone(),
            kind: InputKind::Scenario,
            path: path.to_path_buf(),
            scenario_name: s.name.clone(),
            start: s.start,
            n_steps: s.horizon_quarters as usize,
            seed: s.seed,
            replicates: s.replicates,
            hosts: s.hosts.iter().map(|h| (h.id.clone(), h.name.clone())).collect(),
            partners: s.patrons.iter().map(|p| (p.id.clone(), p.name.clone())).collect(),
            metrics: MetricInfo::of_layout(&MetricLayout::new(s)),
            loaded: Some(loaded),
            manifest: None,
            series: BTreeMap::new(),
            samples: None,
        })
    }
}

/// The metrics of an earlier run: its scenario's layout, rebuilt from the resolved scenario
/// in the manifest; failing that (another version's manifest), the manifest's list, where
/// the per-route metrics and supply shares are the regional ones.
fn folder_metrics(manifest: &output::Manifest) -> Vec<MetricInfo> {
    let listed: Vec<&str> = manifest.metrics.iter().map(|m| m.name.as_str()).collect();
    let rebuilt = serde_json::from_value::<ScenarioFile>(manifest.resolved_scenario.clone())
        .ok()
        .and_then(|file| validate(&file, &manifest.scenario_name).ok())
        .map(|scenario| MetricInfo::of_layout(&MetricLayout::new(&scenario)))
        .filter(|metrics| metrics.iter().map(|m| m.name.as_str()).eq(listed.iter().copied()));
    rebuilt.unwrap_or_else(|| {
        manifest
            .metrics
            .iter()
            .map(|m| {
                let prefix = m.name.split_once('.').map(|(prefix, _)| prefix);
                MetricInfo {
                    name: m.name.clone(),
                    unit: m.unit.clone(),
                    description: m.description.clone(),
                    per_partner: m.per_partner,
                    regional: prefix.is_some_and(|p| {
                        p == CommodityMetric::SupplyShare.name() || RouteMetric::from_name(p).is_some()
                    }),
                }
            })
            .collect()
    })
}

/// Scenario names label the inputs; repeats get `-2`, `-3`, …
fn label_uniquely(inputs: &mut [Input]) {
    for i in 1..inputs.len() {
        let base = inputs[i].label.clone();
        let mut n = 1;
        while inputs[..i].iter().any(|earlier| earlier.label == inputs[i].label) {
            n += 1;
            inputs[i].label = format!("{base}-{n}");
        }
    }
}

fn shared(inputs: &[Input], actors: impl Fn(&Input) -> &Vec<(String, String)>) -> Vec<(String, String)> {
    actors(&inputs[0])
        .iter()
        .filter(|(id, _)| {
            inputs[1..]
                .iter()
                .all(|i| actors(i).iter().any(|(other, _)| other == id))
        })
        .cloned()
        .collect()
}

/// Collects the replicate values of chosen cells at chosen steps, in replicate order.
struct Capture {
    /// (flat index into a record's values, slot in `values`).
    wanted: Vec<usize>,
    values: Vec<Vec<f64>>,
}

impl ReplicateObserver for Capture {
    fn on_replicate(&mut self, _index: u64, record: &ReplicateRecord) -> io::Result<()> {
        for (slot, &flat) in self.wanted.iter().enumerate() {
            self.values[slot].push(record.values[flat]);
        }
        Ok(())
    }
}

fn layout_cell(layout: &MetricLayout, key: &CellKey) -> Option<usize> {
    let host = layout.host_labels.iter().position(|h| *h == key.1)?;
    let partner = if key.2.is_empty() {
        None
    } else {
        Some(layout.partner_labels.iter().position(|p| *p == key.2)?)
    };
    Some(layout.index(layout.find(&key.0)?, host, partner))
}

fn run_input(
    input: &mut Input,
    keys: &[CellKey],
    horizons: &[Quarter],
    settings: &RunSettings,
    progress: &dyn Progress,
    cancel: &AtomicBool,
) -> Result<(), AnalysisError> {
    let scenario = &input.loaded.as_ref().expect("scenario inputs are loaded").scenario;
    let layout = MetricLayout::new(scenario);
    let n_cells = layout.n_cells();
    let mut slots = Vec::new();
    let mut wanted = Vec::new();
    for key in keys {
        let cell = layout_cell(&layout, key).expect("shared cells exist in every input");
        for &date in horizons {
            let step = date.since(input.start) as usize;
            wanted.push(step * n_cells + cell);
            slots.push((key.clone(), date));
        }
    }
    let mut capture = Capture {
        values: vec![Vec::with_capacity(input.replicates as usize); wanted.len()],
        wanted,
    };
    let config = EnsembleConfig {
        replicates: input.replicates,
        seed: input.seed,
        threads: settings.threads,
        max_memory_bytes: settings.max_memory_bytes,
    };
    let label = input.label.clone();
    let summary = run_ensemble(scenario, &config, progress, cancel, Some(&mut capture), || {
        format!("scenario {label}")
    })?;
    for key in keys {
        let cell = layout_cell(&layout, key).expect("shared cells exist in every input");
        let series = (0..summary.n_steps).map(|s| *summary.cell(s, cell)).collect();
        input.series.insert(key.clone(), series);
    }
    input.samples = Some(slots.into_iter().zip(capture.values).collect());
    Ok(())
}

/// Reads the compared cells from a run's `summary.csv` and, if present, `replicates.csv`.
fn read_folder(input: &mut Input, keys: &[CellKey], horizons: &[Quarter]) -> Result<(), AnalysisError> {
    let wanted: BTreeMap<(&str, &str, &str), &CellKey> = keys
        .iter()
        .map(|k| ((k.0.as_str(), k.1.as_str(), k.2.as_str()), k))
        .collect();
    let n_steps = input.n_steps;
    let summary_path = input.path.join("summary.csv");
    let bad = |path: &Path, line: u64, message: String| AnalysisError::input(path, format!("line {line}: {message}"));
    let mut reader = csv::Reader::from_path(&summary_path)
        .map_err(|e| AnalysisError::input(&summary_path, format!("cannot be read: {e}")))?;
    let headers = reader
        .headers()
        .map_err(|e| AnalysisError::input(&summary_path, e.to_string()))?
        .clone();
    let column = |name: &str, path: &Path, headers: &csv::StringRecord| -> Result<usize, AnalysisError> {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| AnalysisError::input(path, format!("has no column {name:?}")))
    };
    let [c_step, c_host, c_partner, c_metric, c_mean, c_sd, c_p05, c_p50, c_p95] =
        ["step", "host", "partner", "metric", "mean", "sd", "p05", "p50", "p95"]
            .map(|name| column(name, &summary_path, &headers));
    let (c_step, c_host, c_partner, c_metric) = (c_step?, c_host?, c_partner?, c_metric?);
    let (c_mean, c_sd, c_p05, c_p50, c_p95) = (c_mean?, c_sd?, c_p05?, c_p50?, c_p95?);
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(AnalysisError::input(&summary_path, e.to_string())),
        }
        let line = record.position().map_or(0, |p| p.line());
        let Some(key) = wanted.get(&(&record[c_metric], &record[c_host], &record[c_partner])) else {
            continue;
        };
        let number = |c: usize| -> Result<f64, AnalysisError> {
            record[c]
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| bad(&summary_path, line, format!("{:?} is not a number", &record[c])))
        };
        let step: usize = record[c_step]
            .parse()
            .ok()
            .filter(|s| (1..=n_steps).contains(s))
            .ok_or_else(|| {
                bad(
                    &summary_path,
                    line,
                    format!("step {:?} is not 1..{n_steps}", &record[c_step]),
                )
            })?;
        let stats = CellStats {
            mean: number(c_mean)?,
            sd: number(c_sd)?,
            p05: number(c_p05)?,
            p50: number(c_p50)?,
            p95: number(c_p95)?,
        };
        let series = input
            .series
            .entry((*key).clone())
            .or_insert_with(|| vec![CellStats::default(); n_steps]);
        series[step - 1] = stats;
    }
    for key in keys {
        if !input.series.contains_key(key) {
            return Err(AnalysisError::input(
                &summary_path,
                format!("has no rows for {} host {:?} partner {:?}", key.0, key.1, key.2),
            ));
        }
    }

    let replicates_path = input.path.join("replicates.csv");
    if !replicates_path.is_file() {
        input.samples = None;
        return Ok(());
    }
    let dates: Vec<String> = horizons.iter().map(|d| d.to_string()).collect();
    let mut reader = csv::Reader::from_path(&replicates_path)
        .map_err(|e| AnalysisError::input(&replicates_path, format!("cannot be read: {e}")))?;
    let headers = reader
        .headers()
        .map_err(|e| AnalysisError::input(&replicates_path, e.to_string()))?
        .clone();
    let [c_rep, c_date, c_host, c_partner, c_metric, c_value] =
        ["replicate", "date", "host", "partner", "metric", "value"]
            .map(|name| column(name, &replicates_path, &headers));
    let (c_rep, c_date, c_host, c_partner, c_metric, c_value) =
        (c_rep?, c_date?, c_host?, c_partner?, c_metric?, c_value?);
    let n = input.replicates as usize;
    let mut samples: BTreeMap<(CellKey, Quarter), Vec<f64>> = BTreeMap::new();
    let mut filled: BTreeMap<(CellKey, Quarter), usize> = BTreeMap::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(AnalysisError::input(&replicates_path, e.to_string())),
        }
        let Some(d) = dates.iter().position(|d| *d == record[c_date]) else {
            continue;
        };
        let Some(key) = wanted.get(&(&record[c_metric], &record[c_host], &record[c_partner])) else {
            continue;
        };
        let line = record.position().map_or(0, |p| p.line());
        let replicate: usize = record[c_rep].parse().ok().filter(|r| *r < n).ok_or_else(|| {
            bad(
                &replicates_path,
                line,
                format!("replicate {:?} is not 0..{n}", &record[c_rep]),
            )
        })?;
        let value: f64 = record[c_value]
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| {
                bad(
                    &replicates_path,
                    line,
                    format!("{:?} is not a number", &record[c_value]),
                )
            })?;
        let slot = ((*key).clone(), horizons[d]);
        samples.entry(slot.clone()).or_insert_with(|| vec![f64::NAN; n])[replicate] = value;
        *filled.entry(slot).or_default() += 1;
    }
    let complete = keys.iter().all(|k| {
        horizons
            .iter()
            .all(|&d| filled.get(&(k.clone(), d)).copied() == Some(n))
    });
    if !complete {
        return Err(AnalysisError::input(
            &replicates_path,
            format!("does not hold exactly one value per replicate (0..{n}) for every compared cell and horizon"),
        ));
    }
    input.samples = Some(samples);
    Ok(())
}

fn difference_rows(inputs: &[Input], keys: &[CellKey], horizons: &[Quarter], seed: u64, resamples: usize) -> Vec<Row> {
    let reference = &inputs[0];
    let mut rows = Vec::new();
    for key in keys {
        for &date in horizons {
            let r = reference.stats_at(key, date).expect("reference covers the horizons");
            for (j, other) in inputs.iter().enumerate().skip(1) {
                let o = other.stats_at(key, date).expect("inputs cover the horizons");
                let partner = &key.2;
                let stream = format!(
                    "{}|{}|{}|{}|{}|{}",
                    reference.label, other.label, key.0, key.1, partner, date
                );
                let mut rng = bootstrap::rng_for(seed, &stream);
                let (ci, method) = match (reference.samples_at(key, date), other.samples_at(key, date)) {
                    (Some(a), Some(b))
                        if reference.seed == other.seed
                            && reference.replicates == other.replicates
                            && a.len() == b.len() =>
                    {
                        (
                            bootstrap::paired_difference(a, b, resamples, &mut rng),
                            CiMethod::PairedBootstrap,
                        )
                    }
                    (Some(a), Some(b)) => (
                        bootstrap::unpaired_difference(a, b, resamples, &mut rng),
                        CiMethod::UnpairedBootstrap,
                    ),
                    _ => (
                        bootstrap::normal_difference(
                            (r.mean, r.sd, reference.replicates),
                            (o.mean, o.sd, other.replicates),
                        ),
                        CiMethod::NormalApprox,
                    ),
                };
                let method = if ci.is_none() { CiMethod::None } else { method };
                rows.push(Row {
                    metric: key.0.clone(),
                    host: key.1.clone(),
                    partner: key.2.clone(),
                    date,
                    input: j,
                    reference: (r.mean, r.sd, reference.replicates),
                    other: (o.mean, o.sd, other.replicates),
                    difference: o.mean - r.mean,
                    ci,
                    method,
                    effect_size: bootstrap::effect_size((r.mean, r.sd), (o.mean, o.sd)),
                });
            }
        }
    }
    rows
}

/// The rows of one compared input that exceed the noise, largest effect first (a
/// difference with no spread at all counts as the largest).
pub fn largest(rows: &[Row], input: usize, top: usize) -> Vec<&Row> {
    let mut beyond: Vec<&Row> = rows
        .iter()
        .filter(|r| r.input == input && r.exceeds_noise() == Some(true))
        .collect();
    beyond.sort_by(|a, b| {
        let size = |r: &Row| r.effect_size.map_or(f64::INFINITY, f64::abs);
        size(b).total_cmp(&size(a))
    });
    beyond.truncate(top);
    beyond
}

fn methods_of(rows: &[Row], input: usize) -> Vec<CiMethod> {
    let mut methods: Vec<CiMethod> = Vec::new();
    for row in rows.iter().filter(|r| r.input == input) {
        if !methods.contains(&row.method) {
            methods.push(row.method);
        }
    }
    methods
}

fn text_summary(inputs: &[Input], rows: &[Row], top: usize) -> String {
    let reference = &inputs[0];
    let mut text = String::new();
    for (j, input) in inputs.iter().enumerate().skip(1) {
        let methods: Vec<&str> = methods_of(rows, j).iter().map(|m| m.label()).collect();
        let _ = writeln!(
            text,
            "{} vs {} ({}; {} and {} replicates):",
            input.label,
            reference.label,
            methods.join(", "),
            reference.replicates,
            input.replicates
        );
        let all = rows.iter().filter(|r| r.input == j).count();
        let beyond = rows
            .iter()
            .filter(|r| r.input == j && r.exceeds_noise() == Some(true))
            .count();
        let shown = largest(rows, j, top);
        if shown.is_empty() {
            let _ = writeln!(
                text,
                "  no difference exceeds the noise (every 95% interval contains 0)"
            );
        } else {
            let mut table = vec![[
                "metric".to_string(),
                "host".to_string(),
                "partner".to_string(),
                "date".to_string(),
                reference.label.clone(),
                input.label.clone(),
                "difference".to_string(),
                "95% CI".to_string(),
                "effect".to_string(),
            ]];
            for r in &shown {
                let ci =
                    r.ci.map_or(String::new(), |ci| format!("[{}, {}]", signed(ci.low), signed(ci.high)));
                table.push([
                    r.metric.clone(),
                    r.host.clone(),
                    r.partner.clone(),
                    r.date.to_string(),
                    short(r.reference.0),
                    short(r.other.0),
                    signed(r.difference),
                    ci,
                    r.effect_size
                        .map_or("no spread".to_string(), |d| format!("d = {d:+.2}")),
                ]);
            }
            let widths: Vec<usize> = (0..9)
                .map(|c| table.iter().map(|row| row[c].chars().count()).max().unwrap_or(0))
                .collect();
            for row in &table {
                let mut line = String::from(" ");
                for (c, cell) in row.iter().enumerate() {
                    let pad = widths[c] - cell.chars().count();
                    if c >= 4 {
                        let _ = write!(line, " {}{}", " ".repeat(pad), cell);
                    } else {
                        let _ = write!(line, " {}{}", cell, " ".repeat(pad));
                    }
                }
                let _ = writeln!(text, "{}", line.trim_end());
            }
        }
        let _ = writeln!(
            text,
            "  {beyond} of {all} differences exceed the noise (95% interval excludes 0){}",
            if beyond > shown.len() {
                format!("; the {} with the largest effect size shown", shown.len())
            } else {
                String::new()
            }
        );
    }
    text
}

/// Everything the output files need.
struct Context<'a> {
    inputs: &'a [Input],
    hosts: &'a [(String, String)],
    partners: &'a [(String, String)],
    horizons: &'a [Quarter],
    metrics: &'a [MetricInfo],
    seed: u64,
    rows: &'a [Row],
    notes: &'a [String],
    options: &'a CompareOptions,
}

impl Context<'_> {
    fn write(&self, dir: &Path) -> Result<Vec<String>, AnalysisError> {
        let mut files = vec!["comparison.csv".to_string()];
        write_comparison(&dir.join("comparison.csv"), self.inputs, self.rows)
            .map_err(io_context("writing comparison.csv"))?;
        let mut charts = Vec::new();
        if self.options.settings.charts {
            let chart_dir = dir.join("charts");
            fs::create_dir_all(&chart_dir).map_err(io_context("creating charts/"))?;
            for path in self.draw_charts(&chart_dir)? {
                let relative = path.strip_prefix(dir).unwrap_or(&path).display().to_string();
                charts.push(relative.clone());
                files.push(relative);
            }
        }
        let html = super::report::compare_report(&super::report::CompareReport {
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
                .map(|i| super::report::InputInfo {
                    label: i.label.clone(),
                    source: i.path.display().to_string(),
                    kind: match i.kind {
                        InputKind::Scenario => "scenario file, run now".to_string(),
                        InputKind::Folder => "output folder of an earlier run".to_string(),
                    },
                    seed: i.seed,
                    replicates: i.replicates,
                    window: format!("{} to {}", i.start, i.last()),
                })
                .collect(),
            rows: self.rows,
            labels: self.inputs.iter().map(|i| i.label.clone()).collect(),
            notes: self.notes,
            charts: &charts,
            dir,
            top: self.options.top,
        })
        .map_err(io_context("reading the charts for report.html"))?;
        fs::write(dir.join("report.html"), html).map_err(io_context("writing report.html"))?;
        files.push("report.html".to_string());
        files.push("manifest.json".to_string());
        write_json(&dir.join("manifest.json"), &self.manifest(&files)).map_err(io_context("writing manifest.json"))?;
        Ok(files)
    }

    fn manifest(&self, files: &[String]) -> serde_json::Value {
        let mut methods: Vec<&str> = Vec::new();
        for row in self.rows {
            if !methods.contains(&row.method.label()) {
                methods.push(row.method.label());
            }
        }
        json!({
            "greatgame_version": env!("CARGO_PKG_VERSION"),
            "command": "compare",
            "command_line": self.options.settings.command_line,
            "reference": self.inputs[0].label,
            "inputs": self.inputs.iter().map(|i| json!({
                "label": i.label,
                "kind": match i.kind { InputKind::Scenario => "scenario", InputKind::Folder => "folder" },
                "path": i.path.display().to_string(),
                "scenario_name": i.scenario_name,
                "seed": i.seed,
                "replicates": i.replicates,
                "start": i.start.to_string(),
                "end": i.last().to_string(),
                "per_replicate_values": i.samples.is_some(),
                "scenario_files": match (&i.loaded, &i.manifest) {
                    (Some(l), _) => l.files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
                    (None, Some(m)) => m.scenario_files.clone(),
                    _ => Vec::new(),
                },
                "resolved_scenario": match (&i.loaded, &i.manifest) {
                    (Some(l), _) => serde_json::to_value(&l.resolved).unwrap_or(serde_json::Value::Null),
                    (None, Some(m)) => m.resolved_scenario.clone(),
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
            "notes": self.notes,
            "files": files,
        })
    }

    fn draw_charts(&self, dir: &Path) -> Result<Vec<PathBuf>, AnalysisError> {
        let mut written = Vec::new();
        let x_range = {
            let lo = self.inputs.iter().map(|i| i.start).min().expect("inputs");
            let hi = self.inputs.iter().map(Input::last).max().expect("inputs");
            (lo.decimal_year(), hi.decimal_year())
        };
        let names = self
            .inputs
            .iter()
            .map(|i| i.label.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let note = "Lines: mean across replicates; bands: 5th\u{2013}95th percentile.";
        let partner_name = |id: &str| {
            self.partners
                .iter()
                .find(|(p, _)| p == id)
                .map_or(id.to_string(), |(_, n)| n.clone())
        };
        let lines = |key: &CellKey| -> Vec<Line> {
            self.inputs
                .iter()
                .enumerate()
                .map(|(j, input)| Line {
                    label: input.label.clone(),
                    color_index: j,
                    points: input
                        .series
                        .get(key)
                        .map(|series| {
                            series
                                .iter()
                                .enumerate()
                                .map(|(s, st)| (input.start.plus(s as i64).decimal_year(), st.mean, st.p05, st.p95))
                                .collect()
                        })
                        .unwrap_or_default(),
                })
                .collect()
        };
        // One figure per metric: the hosts together.
        for m in self.metrics {
            let panels: Vec<PanelSpec> = if m.per_partner {
                self.partners
                    .iter()
                    .map(|(p, _)| PanelSpec {
                        title: Some(partner_name(p)),
                        y_desc: m.unit.clone(),
                        lines: lines(&(m.name.clone(), ALL_HOSTS.to_string(), p.clone())),
                    })
                    .collect()
            } else {
                vec![PanelSpec {
                    title: None,
                    y_desc: m.unit.clone(),
                    lines: lines(&(m.name.clone(), ALL_HOSTS.to_string(), String::new())),
                }]
            };
            let figure = panel_figure(
                format!("{}: all hosts ({ALL_HOSTS}), by scenario", m.name),
                format!("{}. {names}. {note}", m.description),
                panels,
                None,
                x_range,
            );
            written.extend(write_figure(dir, &m.name, &figure)?);
        }
        // Small multiples per host: every compared metric (regional ones have no host
        // rows) and partner.
        for (host, host_name) in self.hosts {
            let mut panels = Vec::new();
            for m in self.metrics.iter().filter(|m| !m.regional) {
                if m.per_partner {
                    for (p, _) in self.partners {
                        panels.push(PanelSpec {
                            title: Some(format!("{} \u{2013} {}", m.name, partner_name(p))),
                            y_desc: m.unit.clone(),
                            lines: lines(&(m.name.clone(), host.clone(), p.clone())),
                        });
                    }
                } else {
                    panels.push(PanelSpec {
                        title: Some(m.name.clone()),
                        y_desc: m.unit.clone(),
                        lines: lines(&(m.name.clone(), host.clone(), String::new())),
                    });
                }
            }
            if panels.is_empty() {
                continue;
            }
            let figure = panel_figure(
                format!("{host_name}: compared metrics by scenario"),
                format!("{names}. {note}"),
                panels,
                None,
                x_range,
            );
            written.extend(write_figure(dir, &format!("host_{}", slug(host)), &figure)?);
        }
        Ok(written)
    }
}

fn write_comparison(path: &Path, inputs: &[Input], rows: &[Row]) -> io::Result<()> {
    let mut writer = csv::Writer::from_writer(BufWriter::new(fs::File::create(path)?));
    writer.write_record(COMPARISON_HEADER)?;
    for r in rows {
        writer.write_record([
            r.metric.as_str(),
            &r.host,
            &r.partner,
            &r.date.to_string(),
            &inputs[r.input].label,
            &inputs[0].label,
            &number(r.reference.0),
            &number(r.other.0),
            &number(r.difference),
            &optional(r.ci.map(|c| c.low)),
            &optional(r.ci.map(|c| c.high)),
            r.method.label(),
            match r.exceeds_noise() {
                Some(true) => "yes",
                Some(false) => "no",
                None => "",
            },
            &optional(r.effect_size),
            &number(r.reference.1),
            &number(r.other.1),
            &r.reference.2.to_string(),
            &r.other.2.to_string(),
        ])?;
    }
    writer.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_earlier_runs_metrics_are_its_scenarios_layout() {
        let loaded = scenario::load_builtin_baseline().expect("the built-in baseline loads");
        let manifest = output::Manifest::new(
            &loaded.scenario,
            &loaded.resolved,
            &loaded.files,
            2,
            1,
            Vec::new(),
            Vec::new(),
        );
        let layout = MetricLayout::new(&loaded.scenario);
        let rebuilt = folder_metrics(&manifest);
        assert_eq!(rebuilt, MetricInfo::of_layout(&layout));
        assert!(rebuilt
            .iter()
            .any(|m| m.regional && m.name.starts_with("route_cargo_mt.")));

        // A manifest whose scenario cannot be rebuilt: the listed metrics, with the
        // per-route ones and supply shares regional.
        let mut other = manifest.clone();
        other.resolved_scenario = serde_json::Value::Null;
        assert_eq!(folder_metrics(&other), MetricInfo::of_layout(&layout));
    }
}
