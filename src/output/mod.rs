//! A run's output folder: what `greatgame run` (and `merge`) write, and the reading of
//! such a folder by later commands ([`read`]), next to each other so that the writer and
//! the reader cannot drift apart.
//!
//! - `summary.csv` ([`write_summary`]), `decisions.csv` ([`write_decisions`]),
//!   `replicates.csv` (streamed by [`ReplicateWriter`]);
//! - `manifest.json` ([`RunManifest`]: the common header, then the resolved scenario, the
//!   metric catalogue and the files);
//! - `charts/` ([`figures`]);
//! - `report.html` ([`report`]), from the tables read back whole ([`tables`]).

pub mod figures;
pub mod read;
pub mod report;
pub mod tables;

use std::fs;
use std::io::{self, BufWriter};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::ensemble::{EnsembleSummary, ReplicateObserver, ReplicateRecord};
use crate::format::number;
use crate::job::manifest::{self, Header};
use crate::metrics::MetricLayout;
use crate::model::{DecisionTerms, Scenario};

/// The generator, as the manifest names it.
pub const RANDOM_GENERATOR: &str = "ChaCha8 (rand_chacha), seeded with the seed, stream = replicate index";

/// A run's `manifest.json`: enough to reproduce the run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunManifest {
    #[serde(flatten)]
    pub header: Header,
    pub scenario_name: String,
    /// Every file read, the scenario's own first (as the header's `inputs`).
    pub scenario_files: Vec<String>,
    pub steps: u32,
    pub start: String,
    pub end: String,
    pub random_generator: String,
    pub files: Vec<String>,
    pub metrics: Vec<MetricInfo>,
    /// The scenario after `extends` and defaults, with its name.
    pub resolved_scenario: serde_json::Value,
}

/// One metric of a run's catalogue, as its manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricInfo {
    pub name: String,
    pub unit: String,
    pub per_partner: bool,
    /// Only the all-hosts row exists (per-route metrics, supply shares). Manifests of
    /// greatgame before 0.1 do not say; [`read`] then infers it from the name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regional: Option<bool>,
    pub description: String,
}

impl MetricInfo {
    /// Whether only the all-hosts row exists.
    pub fn is_regional(&self) -> bool {
        self.regional == Some(true)
    }

    /// The metrics of a scenario's layout.
    pub fn of_layout(layout: &MetricLayout) -> Vec<MetricInfo> {
        layout
            .metrics()
            .iter()
            .map(|m| MetricInfo {
                name: m.name.clone(),
                unit: m.unit.to_string(),
                per_partner: m.per_partner,
                regional: Some(m.regional),
                description: m.description.clone(),
            })
            .collect()
    }
}

impl RunManifest {
    /// The manifest of a run of `scenario` (`resolved`: the resolved scenario as
    /// [`crate::scenario::LoadedScenario::resolved_json`] gives it), read from
    /// `scenario_files`.
    pub fn new(
        scenario: &Scenario,
        resolved: serde_json::Value,
        scenario_files: Vec<String>,
        replicates: u64,
        seed: u64,
        command_line: &[String],
        files: Vec<String>,
    ) -> RunManifest {
        RunManifest {
            header: Header::new("run", command_line, scenario_files.clone(), seed, replicates),
            scenario_name: scenario.name.clone(),
            scenario_files,
            steps: scenario.horizon_quarters,
            start: scenario.start.to_string(),
            end: scenario.quarter_of_step(scenario.horizon_quarters - 1).to_string(),
            random_generator: RANDOM_GENERATOR.to_string(),
            files,
            metrics: MetricInfo::of_layout(&MetricLayout::new(scenario)),
            resolved_scenario: resolved,
        }
    }

    pub fn seed(&self) -> u64 {
        self.header.seed
    }

    pub fn replicates(&self) -> u64 {
        self.header.replicates
    }

    pub fn write(&self, path: &Path) -> io::Result<()> {
        manifest::write_json(path, self)
    }
}

/// Writes `summary.csv`: one row per step, host, partner and metric.
pub fn write_summary(path: &Path, scenario: &Scenario, summary: &EnsembleSummary) -> io::Result<()> {
    let layout = &summary.layout;
    let mut writer = csv::Writer::from_writer(BufWriter::new(fs::File::create(path)?));
    writer.write_record([
        "step", "date", "host", "partner", "metric", "mean", "sd", "p05", "p50", "p95",
    ])?;
    let cells: Vec<_> = layout.cells().collect();
    for step_index in 0..summary.n_steps {
        let step = (step_index + 1).to_string();
        let date = scenario.quarter_of_step(step_index as u32).to_string();
        for cell in &cells {
            let stats = summary.cell(step_index, layout.index(cell.metric, cell.host, cell.partner));
            writer.write_record([
                step.as_str(),
                date.as_str(),
                layout.host_labels[cell.host].as_str(),
                layout.partner_label(cell.partner),
                layout.metric(cell.metric).name.as_str(),
                &number(stats.mean),
                &number(stats.sd),
                &number(stats.p05),
                &number(stats.p50),
                &number(stats.p95),
            ])?;
        }
    }
    writer.flush()
}

/// Writes `decisions.csv`: per step, host and patron, the mean of each decision term.
pub fn write_decisions(path: &Path, scenario: &Scenario, summary: &EnsembleSummary) -> io::Result<()> {
    let mut writer = csv::Writer::from_writer(BufWriter::new(fs::File::create(path)?));
    let mut header = vec!["step", "date", "host", "patron"];
    header.extend(DecisionTerms::NAMES);
    writer.write_record(&header)?;
    for step_index in 0..summary.n_steps {
        let step = (step_index + 1).to_string();
        let date = scenario.quarter_of_step(step_index as u32).to_string();
        for (h, host) in scenario.hosts.iter().enumerate() {
            for (p, patron) in scenario.patrons.iter().enumerate() {
                let mut row = vec![step.clone(), date.clone(), host.id.clone(), patron.id.clone()];
                for term in 0..DecisionTerms::NAMES.len() {
                    row.push(number(summary.decision(step_index, h, p, term)));
                }
                writer.write_record(&row)?;
            }
        }
    }
    writer.flush()
}

/// Streams every replicate to `replicates.csv` as it is combined, holding none in memory.
pub struct ReplicateWriter<'a> {
    writer: csv::Writer<BufWriter<fs::File>>,
    scenario: &'a Scenario,
    layout: MetricLayout,
    dates: Vec<String>,
}

impl<'a> ReplicateWriter<'a> {
    pub fn create(path: &Path, scenario: &'a Scenario) -> io::Result<ReplicateWriter<'a>> {
        let mut writer = csv::Writer::from_writer(BufWriter::new(fs::File::create(path)?));
        writer.write_record(["replicate", "step", "date", "host", "partner", "metric", "value"])?;
        Ok(ReplicateWriter {
            writer,
            scenario,
            layout: MetricLayout::new(scenario),
            dates: (0..scenario.horizon_quarters)
                .map(|s| scenario.quarter_of_step(s).to_string())
                .collect(),
        })
    }

    pub fn finish(mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

impl ReplicateObserver for ReplicateWriter<'_> {
    fn on_replicate(&mut self, index: u64, record: &ReplicateRecord) -> io::Result<()> {
        let n_cells = self.layout.n_cells();
        let replicate = index.to_string();
        let cells: Vec<_> = self.layout.cells().collect();
        for step_index in 0..self.scenario.horizon_quarters as usize {
            let step = (step_index + 1).to_string();
            for cell in &cells {
                let value =
                    record.values[step_index * n_cells + self.layout.index(cell.metric, cell.host, cell.partner)];
                self.writer.write_record([
                    replicate.as_str(),
                    step.as_str(),
                    self.dates[step_index].as_str(),
                    self.layout.host_labels[cell.host].as_str(),
                    self.layout.partner_label(cell.partner),
                    self.layout.metric(cell.metric).name.as_str(),
                    &number(value),
                ])?;
            }
        }
        Ok(())
    }
}
