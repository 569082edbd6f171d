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
use std::io::{self, BufWriter, Write};
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
    let mut table = Table::create(
        path,
        &[
            "step", "date", "host", "partner", "metric", "mean", "sd", "p05", "p50", "p95",
        ],
    )?;
    let cells = CellLabels::new(layout)?;
    for step_index in 0..summary.n_steps {
        let step = step_fields(scenario, step_index)?;
        for (cell, labels) in &cells.cells {
            let stats = summary.cell(step_index, layout.index(cell.metric, cell.host, cell.partner));
            table.row(
                [&step, labels],
                [stats.mean, stats.sd, stats.p05, stats.p50, stats.p95].map(Some),
            )?;
        }
    }
    table.finish()
}

/// A table whose rows are text fields then numbers. The text fields go through the csv
/// writer (a label may need quoting), once per distinct prefix rather than once per row;
/// the numbers are appended as [`push_number`] writes them, which never needs quoting
/// (digits, a sign, a point). Passing each row's numbers through the csv writer checked
/// every byte of them for quoting, which took as long as formatting them. The bytes are
/// those the csv writer gives the whole row (`tests/same_outputs.sh`, and the tables
/// read back in `output::tables`' tests).
struct Table {
    out: BufWriter<fs::File>,
    line: String,
}

impl Table {
    fn create(path: &Path, header: &[&str]) -> io::Result<Table> {
        let mut out = BufWriter::new(fs::File::create(path)?);
        let mut header_line = csv_fields(header)?;
        header_line.pop();
        header_line.push('\n');
        out.write_all(header_line.as_bytes())?;
        Ok(Table {
            out,
            line: String::with_capacity(256),
        })
    }

    /// A row: the prefixes (each from [`csv_fields`], ending in a delimiter) in turn,
    /// then the numbers, `None` an empty cell.
    fn row<const N: usize>(&mut self, prefixes: [&str; 2], values: [Option<f64>; N]) -> io::Result<()> {
        let line = &mut self.line;
        line.clear();
        prefixes.iter().for_each(|p| line.push_str(p));
        for (k, value) in values.into_iter().enumerate() {
            if k > 0 {
                line.push(',');
            }
            if let Some(value) = value {
                push_number(line, value);
            }
        }
        line.push('\n');
        self.out.write_all(line.as_bytes())
    }

    fn finish(mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// The csv writer's text of `fields` followed by a delimiter: the start of a row.
fn csv_fields(fields: &[&str]) -> io::Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    // A last, empty field: written as nothing after the delimiter (a record of more than
    // one field never quotes an empty one), then the terminator, dropped here.
    writer.write_record(fields.iter().copied().chain([""]))?;
    let mut bytes = writer.into_inner().map_err(|e| e.into_error())?;
    let terminator = bytes.pop();
    debug_assert_eq!(terminator, Some(b'\n'));
    String::from_utf8(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// A step's first fields: its number and date.
fn step_fields(scenario: &Scenario, step_index: usize) -> io::Result<String> {
    let step = (step_index + 1).to_string();
    let date = scenario.quarter_of_step(step_index as u32).to_string();
    csv_fields(&[&step, &date])
}

/// Every cell of a layout in output order, with its host, partner and metric fields.
struct CellLabels {
    cells: Vec<(crate::metrics::Cell, String)>,
}

impl CellLabels {
    fn new(layout: &MetricLayout) -> io::Result<CellLabels> {
        let cells = layout
            .cells()
            .map(|cell| {
                let labels = csv_fields(&[
                    layout.host_labels[cell.host].as_str(),
                    layout.partner_label(cell.partner),
                    layout.metric(cell.metric).name.as_str(),
                ])?;
                Ok((cell, labels))
            })
            .collect::<io::Result<_>>()?;
        Ok(CellLabels { cells })
    }
}

/// Writes `variance.csv`: per step, host, partner and metric, the variance across
/// replicates (the square of `summary.csv`'s sd) and its split between the parameter sets
/// and within them ([`crate::stats::sets`]); the split is empty where the streaming sums
/// could not hold a value.
pub fn write_variance(path: &Path, scenario: &Scenario, summary: &EnsembleSummary) -> io::Result<()> {
    let layout = &summary.layout;
    let mut table = Table::create(
        path,
        &[
            "step",
            "date",
            "host",
            "partner",
            "metric",
            "variance",
            "between_sets",
            "within_sets",
            "between_share",
        ],
    )?;
    let cells = CellLabels::new(layout)?;
    for step_index in 0..summary.n_steps {
        let step = step_fields(scenario, step_index)?;
        for (cell, labels) in &cells.cells {
            let index = layout.index(cell.metric, cell.host, cell.partner);
            let sd = summary.cell(step_index, index).sd;
            let split = summary.variance_split(step_index, index);
            table.row(
                [&step, labels],
                [
                    Some(sd * sd),
                    split.map(|s| s.between),
                    split.map(|s| s.within),
                    split.map(|s| s.between_share()),
                ],
            )?;
        }
    }
    table.finish()
}

/// Writes `decisions.csv`: per step, host and patron, the mean of each decision term.
pub fn write_decisions(path: &Path, scenario: &Scenario, summary: &EnsembleSummary) -> io::Result<()> {
    let mut header = vec!["step", "date", "host", "patron"];
    header.extend(DecisionTerms::NAMES);
    let mut table = Table::create(path, &header)?;
    let pairs: Vec<String> = scenario
        .hosts
        .iter()
        .flat_map(|host| {
            scenario
                .patrons
                .iter()
                .map(move |patron| [host.id.as_str(), patron.id.as_str()])
        })
        .map(|fields| csv_fields(&fields))
        .collect::<io::Result<_>>()?;
    let np = scenario.patrons.len();
    for step_index in 0..summary.n_steps {
        let step = step_fields(scenario, step_index)?;
        for (pair, labels) in pairs.iter().enumerate() {
            let (h, p) = (pair / np, pair % np);
            let terms: [Option<f64>; DecisionTerms::NAMES.len()] =
                std::array::from_fn(|term| Some(summary.decision(step_index, h, p, term)));
            table.row([&step, labels], terms)?;
        }
    }
    table.finish()
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
