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
mod manifest;
pub mod read;

pub mod tables;

pub use manifest::{MetricInfo, RunManifest, RANDOM_GENERATOR};

use std::fs;
use std::io::{self, BufWriter};
use std::path::Path;

use crate::chart::ChartError;
use crate::ensemble::{EnsembleSummary, ReplicateObserver, ReplicateRecord};
use crate::format::{number, push_number};
use crate::metrics::MetricLayout;
use crate::model::{DecisionTerms, Scenario};

/// Why a run's folder could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Charts(#[from] ChartError),
    /// Asked to stop (the caller's `stop` said so) between two files.
    #[error("stopped before every file was written")]
    Stopped,
}

fn io_error(context: &str) -> impl FnOnce(io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        context: context.to_string(),
        source,
    }
}

/// Writes the tables and charts of `summary` into `dir` and returns the names of the
/// files a run's folder holds, in the manifest's order (`replicates.csv`, if
/// `per_replicate`, is written by the caller).
pub fn write_results(
    scenario: &Scenario,
    summary: &EnsembleSummary,
    dir: &Path,
    per_replicate: bool,
    draw_charts: bool,
    stop: &dyn Fn() -> bool,
) -> Result<Vec<String>, OutputError> {
    let mut files = vec![
        "summary.csv".to_string(),
        "variance.csv".to_string(),
        "decisions.csv".to_string(),
    ];
    if per_replicate {
        files.push("replicates.csv".to_string());
    }
    write_summary(&dir.join("summary.csv"), scenario, summary).map_err(io_error("writing summary.csv"))?;
    write_variance(&dir.join("variance.csv"), scenario, summary).map_err(io_error("writing variance.csv"))?;
    write_decisions(&dir.join("decisions.csv"), scenario, summary).map_err(io_error("writing decisions.csv"))?;
    if stop() {
        return Err(OutputError::Stopped);
    }
    if draw_charts {
        let chart_dir = dir.join("charts");
        fs::create_dir_all(&chart_dir).map_err(io_error("creating charts/"))?;
        for path in figures::write_charts(scenario, summary, &chart_dir, stop)? {
            let relative = path.strip_prefix(dir).unwrap_or(&path);
            files.push(relative.display().to_string());
        }
    }
    if stop() {
        return Err(OutputError::Stopped);
    }
    files.push("manifest.json".to_string());
    Ok(files)
}

/// Writes `summary.csv`: one row per step, host, partner and metric.
pub fn write_summary(path: &Path, scenario: &Scenario, summary: &EnsembleSummary) -> io::Result<()> {
    let layout = &summary.layout;
    let mut writer = csv::Writer::from_writer(BufWriter::new(fs::File::create(path)?));
    writer.write_record([
        "step", "date", "host", "partner", "metric", "mean", "sd", "p05", "p50", "p95",
    ])?;
    let cells: Vec<_> = layout.cells().collect();
    let mut numbers: [String; 5] = Default::default();
    for step_index in 0..summary.n_steps {
        let step = (step_index + 1).to_string();
        let date = scenario.quarter_of_step(step_index as u32).to_string();
        for cell in &cells {
            let stats = summary.cell(step_index, layout.index(cell.metric, cell.host, cell.partner));
            fill_numbers(
                &mut numbers,
                [stats.mean, stats.sd, stats.p05, stats.p50, stats.p95].map(Some),
            );
            writer.write_record([
                step.as_str(),
                date.as_str(),
                layout.host_labels[cell.host].as_str(),
                layout.partner_label(cell.partner),
                layout.metric(cell.metric).name.as_str(),
                numbers[0].as_str(),
                numbers[1].as_str(),
                numbers[2].as_str(),
                numbers[3].as_str(),
                numbers[4].as_str(),
            ])?;
        }
    }
    writer.flush()
}

/// Writes each value's table text into the buffer beside it, reusing the buffers from
/// row to row (a table of a long ensemble has hundreds of thousands of numbers); `None`
/// leaves an empty cell, as [`optional`] does.
fn fill_numbers<const N: usize>(buffers: &mut [String; N], values: [Option<f64>; N]) {
    for (text, value) in buffers.iter_mut().zip(values) {
        text.clear();
        if let Some(value) = value {
            push_number(text, value);
        }
    }
}

/// Writes `variance.csv`: per step, host, partner and metric, the variance across
/// replicates (the square of `summary.csv`'s sd) and its split between the parameter sets
/// and within them ([`crate::stats::sets`]); the split is empty where the streaming sums
/// could not hold a value.
pub fn write_variance(path: &Path, scenario: &Scenario, summary: &EnsembleSummary) -> io::Result<()> {
    let layout = &summary.layout;
    let mut writer = csv::Writer::from_writer(BufWriter::new(fs::File::create(path)?));
    writer.write_record([
        "step",
        "date",
        "host",
        "partner",
        "metric",
        "variance",
        "between_sets",
        "within_sets",
        "between_share",
    ])?;
    let cells: Vec<_> = layout.cells().collect();
    let mut numbers: [String; 4] = Default::default();
    for step_index in 0..summary.n_steps {
        let step = (step_index + 1).to_string();
        let date = scenario.quarter_of_step(step_index as u32).to_string();
        for cell in &cells {
            let index = layout.index(cell.metric, cell.host, cell.partner);
            let sd = summary.cell(step_index, index).sd;
            let split = summary.variance_split(step_index, index);
            fill_numbers(
                &mut numbers,
                [
                    Some(sd * sd),
                    split.map(|s| s.between),
                    split.map(|s| s.within),
                    split.map(|s| s.between_share()),
                ],
            );
            writer.write_record([
                step.as_str(),
                date.as_str(),
                layout.host_labels[cell.host].as_str(),
                layout.partner_label(cell.partner),
                layout.metric(cell.metric).name.as_str(),
                numbers[0].as_str(),
                numbers[1].as_str(),
                numbers[2].as_str(),
                numbers[3].as_str(),
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
