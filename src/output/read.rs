//! Reading a run's output folder back: its manifest, and the rows of `summary.csv` and
//! `replicates.csv` a later command (`compare`) asks for. The formats are the ones
//! [`super`] writes; they are read as untrusted input: through [`crate::input`]
//! (regular files, bounded by bytes read), every count checked before anything is
//! allocated for it, every number finite, every wanted row present exactly once.

use std::collections::BTreeMap;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use super::manifest::{MetricInfo, RunManifest};
use crate::ensemble::MAX_REPLICATES;
use crate::input::{self, InputError};
use crate::metrics::{CommodityMetric, RouteMetric};
use crate::stats::CellStats;
use crate::time::Quarter;

/// A cell by its names: (metric, host label, partner label or "").
pub type CellName = (String, String, String);

/// Replicate values by cell and date, in replicate order.
pub type Samples = BTreeMap<(CellName, Quarter), Vec<f64>>;

/// A run's output folder, opened.
#[derive(Debug, Clone)]
pub struct RunFolder {
    pub path: PathBuf,
    pub manifest: RunManifest,
    pub start: Quarter,
}

impl RunFolder {
    /// Opens `path`: it must hold a run's `manifest.json` and `summary.csv`, and the
    /// manifest's counts must be ones a run can have (at most `max_steps` steps).
    pub fn open(path: &Path, max_steps: u32) -> Result<RunFolder, InputError> {
        let manifest_path = path.join("manifest.json");
        if !manifest_path.exists() {
            return Err(InputError::new(
                path,
                "is a folder without manifest.json: not the output folder of a `greatgame run`",
            ));
        }
        let manifest = read_manifest(&manifest_path)?.ok_or_else(|| {
            InputError::new(
                &manifest_path,
                "is not the manifest of a `greatgame run` (compare takes run output folders, not compare, sweep or sensitivity folders)",
            )
        })?;
        let steps = manifest.steps;
        if !(1..=max_steps).contains(&steps) {
            return Err(InputError::new(
                &manifest_path,
                format!("steps {steps} is not a run's: 1 to {max_steps}"),
            ));
        }
        let replicates = manifest.replicates();
        if !(1..=MAX_REPLICATES).contains(&replicates) {
            return Err(InputError::new(
                &manifest_path,
                format!("replicates {replicates} is not a run's: 1 to {MAX_REPLICATES}"),
            ));
        }
        if !path.join("summary.csv").exists() {
            return Err(InputError::new(path, "has no summary.csv"));
        }
        let start: Quarter = manifest
            .start
            .parse()
            .map_err(|e| InputError::new(&manifest_path, format!("start: {e}")))?;
        Ok(RunFolder {
            path: path.to_path_buf(),
            manifest,
            start,
        })
    }

    /// (id, name) of the run's hosts (`"hosts"`) or patrons (`"patrons"`), from the
    /// resolved scenario it records.
    pub fn actors(&self, key: &str) -> Vec<(String, String)> {
        self.manifest.resolved_scenario[key]
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
    }

    /// The run's metrics, each knowing whether it is regional (manifests of older
    /// versions do not say: the per-route metrics and supply shares are).
    pub fn metrics(&self) -> Vec<MetricInfo> {
        self.manifest
            .metrics
            .iter()
            .map(|m| {
                let prefix = m.name.split_once('.').map(|(prefix, _)| prefix);
                let inferred = prefix
                    .is_some_and(|p| p == CommodityMetric::SupplyShare.name() || RouteMetric::from_name(p).is_some());
                MetricInfo {
                    regional: Some(m.regional.unwrap_or(inferred)),
                    ..m.clone()
                }
            })
            .collect()
    }

    /// Whether the run wrote every replicate (`--per-replicate`).
    pub fn has_replicates(&self) -> bool {
        self.path.join("replicates.csv").is_file()
    }

    /// Cells of one step of the run, at most (from its metrics and actors).
    fn cells_per_step(&self) -> u64 {
        let hosts = self.actors("hosts").len() as u64 + 1;
        let partners = (self.actors("patrons").len() as u64).max(1);
        self.manifest.metrics.len() as u64 * hosts * partners
    }

    /// A table of the folder, streamed with a bound on the bytes read: `rows` rows of at
    /// most 512 bytes each, and a header.
    fn open_table(&self, file: &str, rows: u64) -> Result<(PathBuf, csv::Reader<impl std::io::Read>), InputError> {
        let path = self.path.join(file);
        let bound = rows.saturating_mul(512).saturating_add(1 << 20);
        let reader = input::open(&path, bound, "run output")?;
        let reader = csv::ReaderBuilder::new().from_reader(BufReader::with_capacity(1 << 16, reader));
        Ok((path, reader))
    }

    /// The statistics of the cells `wanted` at every step, from `summary.csv`: each
    /// cell's row of every step must be there exactly once.
    pub fn read_summary(&self, wanted: &[CellName]) -> Result<BTreeMap<CellName, Vec<CellStats>>, InputError> {
        let index: BTreeMap<(&str, &str, &str), usize> = wanted
            .iter()
            .enumerate()
            .map(|(i, k)| ((k.0.as_str(), k.1.as_str(), k.2.as_str()), i))
            .collect();
        let n_steps = self.manifest.steps as usize;
        let rows = u64::from(self.manifest.steps).saturating_mul(self.cells_per_step());
        let (path, mut reader) = self.open_table("summary.csv", rows)?;
        let columns = header(
            &path,
            &mut reader,
            &["step", "host", "partner", "metric", "mean", "sd", "p05", "p50", "p95"],
        )?;
        let mut series: Vec<Vec<Option<CellStats>>> = vec![vec![None; n_steps]; wanted.len()];
        let mut record = csv::ByteRecord::new();
        while let Some(line) = next(&path, &mut reader, &mut record)? {
            let text = |c: usize| field(&path, &record, columns[c], line);
            let Some(&k) = index.get(&(text(3)?, text(1)?, text(2)?)) else {
                continue;
            };
            let number = |c: usize| -> Result<f64, InputError> {
                let cell = text(c)?;
                cell.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| InputError::at(&path, line, None, format!("{cell:?} is not a finite number")))
            };
            let step: usize = text(0)?
                .parse()
                .ok()
                .filter(|s| (1..=n_steps).contains(s))
                .ok_or_else(|| {
                    InputError::at(
                        &path,
                        line,
                        None,
                        format!("step {:?} is not 1 to {n_steps}", text(0).unwrap_or("")),
                    )
                })?;
            let slot = &mut series[k][step - 1];
            if slot.is_some() {
                return Err(InputError::at(
                    &path,
                    line,
                    None,
                    format!(
                        "a second row for step {step} of {} host {:?} partner {:?}",
                        wanted[k].0, wanted[k].1, wanted[k].2
                    ),
                ));
            }
            *slot = Some(CellStats {
                mean: number(4)?,
                sd: number(5)?,
                p05: number(6)?,
                p50: number(7)?,
                p95: number(8)?,
            });
        }
        let mut out = BTreeMap::new();
        for (k, steps) in series.into_iter().enumerate() {
            let key = &wanted[k];
            if let Some(missing) = steps.iter().position(Option::is_none) {
                return Err(InputError::new(
                    &path,
                    format!(
                        "has no row for step {} of {} host {:?} partner {:?}",
                        missing + 1,
                        key.0,
                        key.1,
                        key.2
                    ),
                ));
            }
            out.insert(key.clone(), steps.into_iter().flatten().collect());
        }
        Ok(out)
    }

    /// Every replicate's value of the cells `wanted` at `dates`, in replicate order, from
    /// `replicates.csv`; `None` without that file. Every value must be there exactly
    /// once. The caller checks first that the values fit in memory
    /// ([`RunFolder::replicate_values`]).
    pub fn read_replicates(&self, wanted: &[CellName], dates: &[Quarter]) -> Result<Option<Samples>, InputError> {
        let path = self.path.join("replicates.csv");
        if !path.exists() {
            return Ok(None);
        }
        let index: BTreeMap<(&str, &str, &str), usize> = wanted
            .iter()
            .enumerate()
            .map(|(i, k)| ((k.0.as_str(), k.1.as_str(), k.2.as_str()), i))
            .collect();
        let date_labels: Vec<String> = dates.iter().map(|d| d.to_string()).collect();
        let n = usize::try_from(self.manifest.replicates()).unwrap_or(usize::MAX);
        let rows = self
            .manifest
            .replicates()
            .saturating_mul(u64::from(self.manifest.steps))
            .saturating_mul(self.cells_per_step());
        let (path, mut reader) = self.open_table("replicates.csv", rows)?;
        let columns = header(
            &path,
            &mut reader,
            &["replicate", "date", "host", "partner", "metric", "value"],
        )?;
        let mut values: Vec<Vec<f64>> = vec![vec![f64::NAN; n]; wanted.len() * dates.len()];
        let mut filled: Vec<Vec<bool>> = vec![vec![false; n]; wanted.len() * dates.len()];
        let mut record = csv::ByteRecord::new();
        while let Some(line) = next(&path, &mut reader, &mut record)? {
            let text = |c: usize| field(&path, &record, columns[c], line);
            let date = text(1)?;
            let Some(d) = date_labels.iter().position(|d| d == date) else {
                continue;
            };
            let Some(&k) = index.get(&(text(4)?, text(2)?, text(3)?)) else {
                continue;
            };
            let replicate: usize = text(0)?.parse().ok().filter(|r| *r < n).ok_or_else(|| {
                InputError::at(
                    &path,
                    line,
                    None,
                    format!("replicate {:?} is not 0 to {}", text(0).unwrap_or(""), n - 1),
                )
            })?;
            let cell = text(5)?;
            let value: f64 = cell
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite())
                .ok_or_else(|| InputError::at(&path, line, None, format!("{cell:?} is not a finite number")))?;
            let slot = k * dates.len() + d;
            if std::mem::replace(&mut filled[slot][replicate], true) {
                return Err(InputError::at(
                    &path,
                    line,
                    None,
                    format!("a second value of replicate {replicate} for this cell and date"),
                ));
            }
            values[slot][replicate] = value;
        }
        let mut samples = Samples::new();
        for (k, key) in wanted.iter().enumerate() {
            for (d, &date) in dates.iter().enumerate() {
                let slot = k * dates.len() + d;
                if let Some(missing) = filled[slot].iter().position(|f| !f) {
                    return Err(InputError::new(
                        &path,
                        format!(
                            "has no value of replicate {missing} for {} host {:?} partner {:?} at {date}: it must hold every replicate (0 to {})",
                            key.0,
                            key.1,
                            key.2,
                            n - 1
                        ),
                    ));
                }
                samples.insert((key.clone(), date), std::mem::take(&mut values[slot]));
            }
        }
        Ok(Some(samples))
    }

    /// Bytes [`RunFolder::read_replicates`] holds for `cells` cells at `dates` dates.
    pub fn replicate_values(&self, cells: usize, dates: usize) -> u64 {
        // A value and a flag per replicate, cell and date.
        self.manifest
            .replicates()
            .saturating_mul(cells as u64)
            .saturating_mul(dates as u64)
            .saturating_mul(9)
    }
}

/// The columns `names` in the table's header, in that order.
fn header<R: std::io::Read>(
    path: &Path,
    reader: &mut csv::Reader<R>,
    names: &[&str],
) -> Result<Vec<usize>, InputError> {
    let headers = reader.byte_headers().map_err(|e| csv_error(path, e))?.clone();
    names
        .iter()
        .map(|name| {
            headers
                .iter()
                .position(|h| h == name.as_bytes())
                .ok_or_else(|| InputError::at(path, 1, None, format!("has no column {name:?}")))
        })
        .collect()
}

/// The next record and its line, or `None` at the end.
fn next<R: std::io::Read>(
    path: &Path,
    reader: &mut csv::Reader<R>,
    record: &mut csv::ByteRecord,
) -> Result<Option<usize>, InputError> {
    match reader.read_byte_record(record) {
        Ok(false) => Ok(None),
        Ok(true) => Ok(Some(record.position().map_or(0, |p| p.line() as usize))),
        Err(e) => Err(csv_error(path, e)),
    }
}

/// A field of a record as text, or an error at its line.
fn field<'a>(path: &Path, record: &'a csv::ByteRecord, column: usize, line: usize) -> Result<&'a str, InputError> {
    let bytes = record
        .get(column)
        .ok_or_else(|| InputError::at(path, line, None, format!("has no field {}", column + 1)))?;
    std::str::from_utf8(bytes).map_err(|_| InputError::at(path, line, Some(column + 1), "is not valid UTF-8"))
}

fn csv_error(path: &Path, e: csv::Error) -> InputError {
    if let csv::ErrorKind::Io(io) = e.kind() {
        if let Some(limit) = input::too_large(io) {
            return InputError::new(path, format!("{limit}: more than a run of this size writes"));
        }
    }
    let line = e.position().map_or(1, |p| p.line() as usize);
    InputError::at(path, line, None, format!("is not valid CSV: {e}"))
}

/// Reads a run's manifest (bounded): `None` if it is not a run's.
pub fn read_manifest(path: &Path) -> Result<Option<RunManifest>, InputError> {
    let text = input::read_text(path, MAX_MANIFEST_BYTES, "manifest")?;
    Ok(serde_json::from_str(&text).ok())
}

/// Largest manifest read (it holds the resolved scenario).
pub const MAX_MANIFEST_BYTES: u64 = 64 * 1024 * 1024;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricLayout;

    #[test]
    fn a_runs_metrics_know_which_are_regional_even_from_older_manifests() {
        let loaded = crate::scenario::load_builtin_baseline().expect("the built-in baseline loads");
        let manifest = RunManifest::new(
            &loaded.scenario,
            loaded.resolved_json(),
            Vec::new(),
            2,
            1,
            &[],
            Vec::new(),
        );
        let layout = MetricLayout::new(&loaded.scenario);
        let mut folder = RunFolder {
            path: PathBuf::new(),
            manifest,
            start: loaded.scenario.start,
        };
        assert_eq!(folder.metrics(), MetricInfo::of_layout(&layout));
        assert!(folder
            .metrics()
            .iter()
            .any(|m| m.regional == Some(true) && m.name.starts_with("route_cargo_mt.")));
        for m in &mut folder.manifest.metrics {
            m.regional = None;
        }
        assert_eq!(folder.metrics(), MetricInfo::of_layout(&layout));
    }
}
