//! Reading a run's output folder back: its manifest, and the rows of `summary.csv` and
//! `replicates.csv` a later command (`compare`) asks for. The formats are the ones
//! [`super`] writes.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::manifest::{MetricInfo, RunManifest};
use crate::metrics::{CommodityMetric, RouteMetric};
use crate::stats::CellStats;
use crate::time::Quarter;

/// An output folder, or a file in it, that cannot be read back: the file and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct ReadError {
    pub path: PathBuf,
    pub message: String,
}

impl ReadError {
    fn new(path: impl Into<PathBuf>, message: impl Into<String>) -> ReadError {
        ReadError {
            path: path.into(),
            message: message.into(),
        }
    }
}

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
    /// Opens `path`: it must hold a run's `manifest.json` and `summary.csv`.
    pub fn open(path: &Path) -> Result<RunFolder, ReadError> {
        let manifest_path = path.join("manifest.json");
        let manifest = read_manifest(&manifest_path).ok_or_else(|| {
            let message = if manifest_path.exists() {
                "manifest.json is not the manifest of a `greatgame run` (compare takes run output folders, not compare, sweep or sensitivity folders)"
            } else {
                "is a folder without manifest.json: not the output folder of a `greatgame run`"
            };
            ReadError::new(path, message)
        })?;
        if !path.join("summary.csv").is_file() {
            return Err(ReadError::new(path, "has no summary.csv"));
        }
        let start: Quarter = manifest
            .start
            .parse()
            .map_err(|e| ReadError::new(&manifest_path, format!("start: {e}")))?;
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

    /// The statistics of the cells `wanted` at every step, from `summary.csv`.
    pub fn read_summary(&self, wanted: &[CellName]) -> Result<BTreeMap<CellName, Vec<CellStats>>, ReadError> {
        let index: BTreeMap<(&str, &str, &str), &CellName> = wanted
            .iter()
            .map(|k| ((k.0.as_str(), k.1.as_str(), k.2.as_str()), k))
            .collect();
        let n_steps = self.manifest.steps as usize;
        let path = self.path.join("summary.csv");
        let bad = |line: u64, message: String| ReadError::new(&path, format!("line {line}: {message}"));
        let mut reader =
            csv::Reader::from_path(&path).map_err(|e| ReadError::new(&path, format!("cannot be read: {e}")))?;
        let headers = reader
            .headers()
            .map_err(|e| ReadError::new(&path, e.to_string()))?
            .clone();
        let [c_step, c_host, c_partner, c_metric, c_mean, c_sd, c_p05, c_p50, c_p95] =
            ["step", "host", "partner", "metric", "mean", "sd", "p05", "p50", "p95"]
                .map(|name| column(name, &path, &headers));
        let (c_step, c_host, c_partner, c_metric) = (c_step?, c_host?, c_partner?, c_metric?);
        let (c_mean, c_sd, c_p05, c_p50, c_p95) = (c_mean?, c_sd?, c_p05?, c_p50?, c_p95?);
        let mut series: BTreeMap<CellName, Vec<CellStats>> = BTreeMap::new();
        let mut record = csv::StringRecord::new();
        loop {
            match reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => return Err(ReadError::new(&path, e.to_string())),
            }
            let line = record.position().map_or(0, |p| p.line());
            let Some(key) = index.get(&(&record[c_metric], &record[c_host], &record[c_partner])) else {
                continue;
            };
            let number = |c: usize| -> Result<f64, ReadError> {
                record[c]
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| bad(line, format!("{:?} is not a number", &record[c])))
            };
            let step: usize = record[c_step]
                .parse()
                .ok()
                .filter(|s| (1..=n_steps).contains(s))
                .ok_or_else(|| bad(line, format!("step {:?} is not 1..{n_steps}", &record[c_step])))?;
            let stats = CellStats {
                mean: number(c_mean)?,
                sd: number(c_sd)?,
                p05: number(c_p05)?,
                p50: number(c_p50)?,
                p95: number(c_p95)?,
            };
            series
                .entry((*key).clone())
                .or_insert_with(|| vec![CellStats::default(); n_steps])[step - 1] = stats;
        }
        for key in wanted {
            if !series.contains_key(key) {
                return Err(ReadError::new(
                    &path,
                    format!("has no rows for {} host {:?} partner {:?}", key.0, key.1, key.2),
                ));
            }
        }
        Ok(series)
    }

    /// Every replicate's value of the cells `wanted` at `dates`, in replicate order, from
    /// `replicates.csv`; `None` without that file.
    pub fn read_replicates(&self, wanted: &[CellName], dates: &[Quarter]) -> Result<Option<Samples>, ReadError> {
        let path = self.path.join("replicates.csv");
        if !path.is_file() {
            return Ok(None);
        }
        let index: BTreeMap<(&str, &str, &str), &CellName> = wanted
            .iter()
            .map(|k| ((k.0.as_str(), k.1.as_str(), k.2.as_str()), k))
            .collect();
        let date_labels: Vec<String> = dates.iter().map(|d| d.to_string()).collect();
        let bad = |line: u64, message: String| ReadError::new(&path, format!("line {line}: {message}"));
        let mut reader =
            csv::Reader::from_path(&path).map_err(|e| ReadError::new(&path, format!("cannot be read: {e}")))?;
        let headers = reader
            .headers()
            .map_err(|e| ReadError::new(&path, e.to_string()))?
            .clone();
        let [c_rep, c_date, c_host, c_partner, c_metric, c_value] =
            ["replicate", "date", "host", "partner", "metric", "value"].map(|name| column(name, &path, &headers));
        let (c_rep, c_date, c_host, c_partner, c_metric, c_value) =
            (c_rep?, c_date?, c_host?, c_partner?, c_metric?, c_value?);
        let n = self.manifest.replicates() as usize;
        let mut samples: Samples = BTreeMap::new();
        let mut filled: BTreeMap<(CellName, Quarter), usize> = BTreeMap::new();
        let mut record = csv::StringRecord::new();
        loop {
            match reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => return Err(ReadError::new(&path, e.to_string())),
            }
            let Some(d) = date_labels.iter().position(|d| *d == record[c_date]) else {
                continue;
            };
            let Some(key) = index.get(&(&record[c_metric], &record[c_host], &record[c_partner])) else {
                continue;
            };
            let line = record.position().map_or(0, |p| p.line());
            let replicate: usize = record[c_rep]
                .parse()
                .ok()
                .filter(|r| *r < n)
                .ok_or_else(|| bad(line, format!("replicate {:?} is not 0..{n}", &record[c_rep])))?;
            let value: f64 = record[c_value]
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite())
                .ok_or_else(|| bad(line, format!("{:?} is not a number", &record[c_value])))?;
            let slot = ((*key).clone(), dates[d]);
            samples.entry(slot.clone()).or_insert_with(|| vec![f64::NAN; n])[replicate] = value;
            *filled.entry(slot).or_default() += 1;
        }
        let complete = wanted
            .iter()
            .all(|k| dates.iter().all(|&d| filled.get(&(k.clone(), d)).copied() == Some(n)));
        if !complete {
            return Err(ReadError::new(
                &path,
                format!("does not hold exactly one value per replicate (0..{n}) for every compared cell and horizon"),
            ));
        }
        Ok(Some(samples))
    }
}

fn column(name: &str, path: &Path, headers: &csv::StringRecord) -> Result<usize, ReadError> {
    headers
        .iter()
        .position(|h| h == name)
        .ok_or_else(|| ReadError::new(path, format!("has no column {name:?}")))
}

/// Reads a run's manifest, or `None` if there is none or it is not a run's.
pub fn read_manifest(path: &Path) -> Option<RunManifest> {
    let text = fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

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
