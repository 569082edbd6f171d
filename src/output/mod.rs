//! Output files: summary and decision tables, the manifest, raw replicates and charts.
//!
//! A run writes everything into a hidden staging folder beside the destination and
//! renames it into place only when every file is complete, so an interrupted or failed
//! run never leaves a half-written folder under the scenario's name.

pub mod figures;

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::ensemble::{EnsembleSummary, ReplicateObserver, ReplicateRecord};
use crate::format::number;
use crate::metrics::MetricLayout;
use crate::model::{DecisionTerms, Scenario};
use crate::scenario::file::ScenarioFile;

/// An output folder being written.
#[derive(Debug)]
pub struct Staging {
    /// Hidden folder the files are written into.
    pub dir: PathBuf,
    /// Where it will be renamed to.
    pub destination: PathBuf,
    /// Set once the folder has been moved into place; until then dropping removes it, so
    /// even a panic while writing leaves nothing behind.
    committed: bool,
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// What became of the previous contents of the destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replaced {
    Nothing,
    /// A run of the same scenario files and seed.
    SameRun,
    /// A run of something else, described by its manifest (or "unknown contents").
    OtherRun(String),
}

impl Staging {
    /// Creates `root/.<name>.partial-<pid>` for a run whose output goes to `root/<name>`.
    pub fn create(root: &Path, name: &str) -> io::Result<Staging> {
        fs::create_dir_all(root)?;
        let dir = root.join(format!(".{name}.partial-{}", std::process::id()));
        if dir.exists() {
            fs::remove_dir_all(&dir)?;
        }
        fs::create_dir_all(&dir)?;
        Ok(Staging {
            dir,
            destination: root.join(name),
            committed: false,
        })
    }

    /// Moves the finished folder into place, replacing what was there.
    pub fn commit(mut self, manifest: &Manifest) -> io::Result<Replaced> {
        let replaced = if self.destination.exists() {
            let previous = read_manifest(&self.destination.join("manifest.json"));
            let replaced = match previous {
                Some(old) if old.scenario_files == manifest.scenario_files && old.seed == manifest.seed => {
                    Replaced::SameRun
                }
                Some(old) => Replaced::OtherRun(format!(
                    "scenario {:?} from {} with seed {}",
                    old.scenario_name,
                    old.scenario_files.first().map_or("?", String::as_str),
                    old.seed
                )),
                None => Replaced::OtherRun("a folder without a greatgame manifest".to_string()),
            };
            let aside = self.destination.with_file_name(format!(
                ".{}.old-{}",
                file_name(&self.destination),
                std::process::id()
            ));
            fs::rename(&self.destination, &aside)?;
            if let Err(e) = fs::rename(&self.dir, &self.destination) {
                // Put the previous output back before reporting.
                let _ = fs::rename(&aside, &self.destination);
                return Err(e);
            }
            self.committed = true;
            fs::remove_dir_all(&aside)?;
            replaced
        } else {
            fs::rename(&self.dir, &self.destination)?;
            self.committed = true;
            Replaced::Nothing
        };
        Ok(replaced)
    }

    /// Removes the staging folder after a failure or interruption.
    pub fn abandon(self) {
        // Dropping an uncommitted staging folder removes it.
        drop(self);
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

/// What `manifest.json` records: enough to reproduce the run.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Manifest {
    pub greatgame_version: String,
    pub scenario_name: String,
    pub scenario_files: Vec<String>,
    pub seed: u64,
    pub replicates: u64,
    pub steps: u32,
    pub start: String,
    pub end: String,
    pub command_line: Vec<String>,
    pub random_generator: String,
    pub files: Vec<String>,
    pub metrics: Vec<MetricInfo>,
    pub resolved_scenario: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct MetricInfo {
    pub name: String,
    pub unit: String,
    pub per_partner: bool,
    pub description: String,
}

impl Manifest {
    pub fn new(
        scenario: &Scenario,
        resolved: &ScenarioFile,
        scenario_files: &[PathBuf],
        replicates: u64,
        seed: u64,
        command_line: Vec<String>,
        files: Vec<String>,
    ) -> Manifest {
        let mut resolved_value = serde_json::to_value(resolved).unwrap_or(serde_json::Value::Null);
        if let serde_json::Value::Object(map) = &mut resolved_value {
            map.insert("name".into(), serde_json::Value::String(scenario.name.clone()));
        }
        Manifest {
            greatgame_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario_name: scenario.name.clone(),
            scenario_files: scenario_files.iter().map(|p| p.display().to_string()).collect(),
            seed,
            replicates,
            steps: scenario.horizon_quarters,
            start: scenario.start.to_string(),
            end: scenario.quarter_of_step(scenario.horizon_quarters - 1).to_string(),
            command_line,
            random_generator: "ChaCha8 (rand_chacha), seeded with the seed, stream = replicate index".to_string(),
            files,
            metrics: MetricLayout::new(scenario)
                .metrics()
                .iter()
                .map(|m| MetricInfo {
                    name: m.name.clone(),
                    unit: m.unit.to_string(),
                    per_partner: m.per_partner,
                    description: m.description.clone(),
                })
                .collect(),
            resolved_scenario: resolved_value,
        }
    }

    pub fn write(&self, path: &Path) -> io::Result<()> {
        let mut writer = BufWriter::new(fs::File::create(path)?);
        serde_json::to_writer_pretty(&mut writer, self).map_err(io::Error::other)?;
        writer.write_all(b"\n")?;
        writer.flush()
    }
}

/// Reads a manifest, or `None` if there is none or it is not one of ours.
pub fn read_manifest(path: &Path) -> Option<Manifest> {
    let text = fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
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
