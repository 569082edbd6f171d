//! Analyses over ensembles: comparing scenarios, sweeping parameters, ranking
//! sensitivities. See `docs/analysis.md` for the statistics and every output.
//!
//! - [`compare`]: several scenarios (or earlier output folders) side by side, with
//!   confidence intervals of their differences ([`bootstrap`]), charts and an HTML report.
//! - [`sweep`]: a scenario run at every point of a grid or design of parameter values.
//! - [`sensitivity`]: Morris screening and Sobol' indices ([`design`], [`indices`]).
//!
//! Parameters are addressed by key paths into the scenario file and applied with
//! [`crate::scenario::overrides`], so each value is validated like one written in the file.
//! Everything is deterministic: the same inputs and seed give the same bytes on any thread
//! count. Outputs go into a staging folder renamed into place when complete.

pub mod backtest;
pub mod bootstrap;
pub mod calibrate;
pub mod compare;
pub mod design;
pub mod indices;
pub mod report;
pub mod sensitivity;
pub mod sweep;

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use crate::chart::ChartError;
use crate::ensemble::{self, EnsembleConfig, EnsembleError, EnsembleSummary, ReplicateObserver};
use crate::metrics::{
    CommodityMetric, MetricId, MetricLayout, RouteMetric, ALL_HOSTS, COMMODITY_METRICS, METRICS, ROUTE_METRICS,
};
use crate::model::Scenario;
use crate::output::Staging;
use crate::scenario::overrides::ScenarioTree;
use crate::scenario::{LoadedScenario, ScenarioError};
use crate::time::Quarter;

/// Metrics compared and swept when the command line does not say.
pub const DEFAULT_METRICS: [MetricId; 5] = [
    MetricId::Alignment,
    MetricId::TradeShare,
    MetricId::HedgingIndex,
    MetricId::FdiStockUsdBn,
    MetricId::SecurityDependence,
];

/// Options every analysis shares with `greatgame run`.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// Replicates per ensemble; `None`: the command's default.
    pub replicates: Option<u64>,
    /// Master seed; `None`: the scenario's (or first input's) seed.
    pub seed: Option<u64>,
    pub threads: Option<usize>,
    pub max_memory_bytes: u64,
    /// `--out`, if given: for compare, sweep and sensitivity the folder their output
    /// folder goes into ([`RunSettings::out_root`]); for backtest and calibrate the output
    /// folder itself ([`RunSettings::place`]).
    pub out: Option<PathBuf>,
    /// Draw charts (and, for compare, put them in the report).
    pub charts: bool,
    /// Recorded in the manifest.
    pub command_line: Vec<String>,
}

impl RunSettings {
    /// Where compare, sweep and sensitivity put their folder: `--out`, else `output`.
    pub fn out_root(&self) -> &Path {
        self.out.as_deref().unwrap_or(Path::new("output"))
    }

    /// Where a command that takes its folder from `--out` writes: (parent, folder name);
    /// without `--out`, `output/<command>-<scenario>`. Called before any work is done.
    ///
    /// The folder is replaced when the command finishes, so it must be new, empty, or the
    /// output of an earlier run of the same command (its `manifest.json` says so): `--out
    /// output` must not replace a whole folder of other results.
    pub fn place(&self, command: &str, scenario: &str) -> Result<(PathBuf, String), AnalysisError> {
        let (parent, name) = match &self.out {
            Some(dir) => {
                let name = match dir.components().next_back() {
                    Some(std::path::Component::Normal(name)) => name.to_string_lossy().into_owned(),
                    _ => {
                        return Err(AnalysisError::Usage(format!(
                            "--out {}: give a folder name (the {command} output is written into it)",
                            dir.display()
                        )))
                    }
                };
                let parent = dir
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                (parent.to_path_buf(), name)
            }
            None => (self.out_root().to_path_buf(), folder_name(command, &[scenario])),
        };
        let dir = parent.join(&name);
        let replaceable = match fs::read_dir(&dir) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => true,
            Err(_) => false,
            Ok(mut entries) => {
                entries.next().is_none()
                    || fs::read_to_string(dir.join("manifest.json"))
                        .ok()
                        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
                        .is_some_and(|m| m.get("command").and_then(|c| c.as_str()) == Some(command))
            }
        };
        if !replaceable {
            return Err(AnalysisError::Usage(format!(
                "{} exists and is not the output of an earlier `greatgame {command}`; it would be replaced: \
                 give a new folder with --out",
                dir.display()
            )));
        }
        Ok((parent, name))
    }
}

/// Receives progress: the total once known, then one tick per finished replicate.
pub trait Progress: Sync {
    fn start(&self, total: u64, what: &str);
    fn tick(&self);
}

/// Progress that goes nowhere.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: u64, _: &str) {}
    fn tick(&self) {}
}

#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    /// A bad option value (exit code 2).
    #[error("{0}")]
    Usage(String),
    /// An invalid scenario, or an override or sweep point that makes one invalid (exit 3).
    #[error("{context}:\n{error}")]
    Scenario { context: String, error: ScenarioError },
    /// An unreadable or unsuitable input: an output folder, a design file (exit 3).
    #[error("{path}: {message}")]
    Input { path: PathBuf, message: String },
    /// An ensemble failed or was interrupted.
    #[error("{context}: {source}")]
    Ensemble {
        context: String,
        #[source]
        source: EnsembleError,
    },
    /// Output could not be written (exit 4).
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Charts(#[from] ChartError),
}

impl AnalysisError {
    pub(crate) fn input(path: &Path, message: impl Into<String>) -> AnalysisError {
        AnalysisError::Input {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}

/// Reads a scenario once for an analysis that will lay many sets of overrides over it,
/// and resolves it without overrides: the tree and the base scenario.
pub(crate) fn read_base(path: &Path) -> Result<(ScenarioTree, LoadedScenario), AnalysisError> {
    let invalid = |error: ScenarioError| AnalysisError::Scenario {
        context: format!("{} is not a valid scenario", path.display()),
        error,
    };
    let tree = ScenarioTree::read(path).map_err(invalid)?;
    let base = tree.resolve(&[]).map_err(invalid)?;
    Ok((tree, base))
}

pub(crate) fn io_context(context: impl Into<String>) -> impl FnOnce(io::Error) -> AnalysisError {
    let context = context.into();
    move |source| AnalysisError::Io { context, source }
}

/// Metric names from a comma-separated list (`None`: [`DEFAULT_METRICS`]), in the order
/// given, without repeats.
///
/// A name is a base metric ([`METRICS`]) or a per-commodity or per-route one
/// (`<prefix>.<id>`, prefixes in [`COMMODITY_METRICS`] and [`ROUTE_METRICS`]). Whether a
/// scenario has that commodity or route is known only from its layout, so the commands
/// resolve these names per scenario ([`MetricLayout::find`]).
pub fn parse_metrics(list: Option<&str>) -> Result<Vec<String>, AnalysisError> {
    let names: Vec<&str> = match list {
        None => DEFAULT_METRICS.iter().map(|m| m.name()).collect(),
        Some(list) => list.split(',').map(str::trim).filter(|s| !s.is_empty()).collect(),
    };
    if names.is_empty() {
        return Err(AnalysisError::Usage("--metrics names no metric".to_string()));
    }
    let mut metrics: Vec<String> = Vec::new();
    for name in names {
        if !is_metric_name(name) {
            return Err(AnalysisError::Usage(format!(
                "unknown metric {name:?}; the metrics are: {}",
                metric_names_help()
            )));
        }
        if !metrics.iter().any(|m| m == name) {
            metrics.push(name.to_string());
        }
    }
    Ok(metrics)
}

/// Whether `name` can name a metric of some scenario: a base metric, or
/// `<commodity or route prefix>.<id>`.
pub fn is_metric_name(name: &str) -> bool {
    if MetricId::from_name(name).is_some() {
        return true;
    }
    match name.split_once('.') {
        Some((prefix, id)) => {
            !id.is_empty() && (CommodityMetric::from_name(prefix).is_some() || RouteMetric::from_name(prefix).is_some())
        }
        None => false,
    }
}

/// The metric names, for messages: the base metrics, then the per-commodity and per-route
/// patterns.
fn metric_names_help() -> String {
    let pattern = |metrics: &[crate::metrics::Metric], id: &str| {
        metrics
            .iter()
            .map(|m| format!("{}.<{id}>", m.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "{}; per commodity {}; per route {}",
        METRICS.iter().map(|m| m.name).collect::<Vec<_>>().join(", "),
        pattern(COMMODITY_METRICS, "commodity id"),
        pattern(ROUTE_METRICS, "route id")
    )
}

/// A scenario's metric names, for messages.
pub fn layout_metric_names(layout: &MetricLayout) -> String {
    layout
        .metrics()
        .iter()
        .map(|m| m.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Indices in `layout` of the metrics named, in order; an error names the first one the
/// scenario `what` does not have.
pub fn resolve_metrics(names: &[String], layout: &MetricLayout, what: &str) -> Result<Vec<usize>, AnalysisError> {
    names
        .iter()
        .map(|name| {
            layout.find(name).ok_or_else(|| {
                AnalysisError::Usage(format!(
                    "{what} has no metric {name:?}; its metrics are: {}",
                    layout_metric_names(layout)
                ))
            })
        })
        .collect()
}

/// Quarters from a comma-separated list such as `2030Q4,2035Q4`, sorted, without repeats.
pub fn parse_dates(list: &str) -> Result<Vec<Quarter>, AnalysisError> {
    let mut dates = Vec::new();
    for text in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let date: Quarter = text.parse().map_err(|e| AnalysisError::Usage(format!("--at: {e}")))?;
        dates.push(date);
    }
    if dates.is_empty() {
        return Err(AnalysisError::Usage("--at names no quarter".to_string()));
    }
    dates.sort();
    dates.dedup();
    Ok(dates)
}

/// The default horizons of a run window: a mid-run quarter and the last quarter.
pub fn default_horizons(first: Quarter, last: Quarter) -> Vec<Quarter> {
    let len = last.since(first) + 1;
    let mid = first.plus((len / 2 - 1).max(0));
    if mid < last {
        vec![mid, last]
    } else {
        vec![last]
    }
}

/// Checks that every horizon lies in `[first, last]` of `what`.
pub fn check_horizons(horizons: &[Quarter], first: Quarter, last: Quarter, what: &str) -> Result<(), AnalysisError> {
    for &date in horizons {
        if date < first || date > last {
            return Err(AnalysisError::Usage(format!(
                "--at {date} is outside {what}, which runs {first} to {last}"
            )));
        }
    }
    Ok(())
}

/// The last quarter a scenario simulates.
pub fn last_quarter(scenario: &Scenario) -> Quarter {
    scenario.quarter_of_step(scenario.horizon_quarters.saturating_sub(1))
}

/// One outcome: a metric in one cell (host row, partner) at one date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub metric: usize,
    /// Row in the layout (`host_labels`; the last is C5).
    pub host: usize,
    pub partner: Option<usize>,
    pub date: Quarter,
}

impl Outcome {
    /// `metric:HOST:PARTNER@DATE`, as named in outputs.
    pub fn label(&self, layout: &MetricLayout) -> String {
        let mut label = format!("{}:{}", layout.metric(self.metric).name, layout.host_labels[self.host]);
        if let Some(p) = self.partner {
            label.push(':');
            label.push_str(&layout.partner_labels[p]);
        }
        label.push('@');
        label.push_str(&self.date.to_string());
        label
    }

    /// `metric (HOST, PARTNER) at DATE`, for titles.
    pub fn title(&self, layout: &MetricLayout) -> String {
        let mut cell = layout.host_labels[self.host].clone();
        if let Some(p) = self.partner {
            cell.push_str(", ");
            cell.push_str(&layout.partner_labels[p]);
        }
        format!("{} ({cell}) at {}", layout.metric(self.metric).name, self.date)
    }

    /// The outcome's statistics in an ensemble summary of `scenario`. `layout` is the
    /// layout the outcome was parsed against; the metric, host and partner are found by
    /// name in the summary's own layout (`None` if it lacks one of them).
    pub fn stats<'a>(
        &self,
        layout: &MetricLayout,
        scenario: &Scenario,
        summary: &'a EnsembleSummary,
    ) -> Option<&'a crate::stats::CellStats> {
        let own = &summary.layout;
        let metric = own.find(&layout.metric(self.metric).name)?;
        let host = own
            .host_labels
            .iter()
            .position(|h| *h == layout.host_labels[self.host])?;
        let partner = match self.partner {
            Some(p) => Some(own.partner_labels.iter().position(|l| *l == layout.partner_labels[p])?),
            None => None,
        };
        let step = self.date.since(scenario.start) as usize;
        Some(summary.cell(step, own.index(metric, host, partner)))
    }

    /// Whether a scenario of layout `other` has this outcome's cell (see [`Outcome::stats`]).
    pub fn exists_in(&self, layout: &MetricLayout, other: &MetricLayout) -> bool {
        other.find(&layout.metric(self.metric).name).is_some()
            && other.host_labels.contains(&layout.host_labels[self.host])
            && match self.partner {
                Some(p) => other.partner_labels.contains(&layout.partner_labels[p]),
                None => true,
            }
    }
}

/// Parses outcome specifications `metric`, `metric:HOST` or `metric:HOST:PARTNER` (host
/// defaults to C5; a per-partner metric without a partner means every partner) at each of
/// `dates`.
pub fn parse_outcomes(specs: &[String], layout: &MetricLayout, dates: &[Quarter]) -> Result<Vec<Outcome>, String> {
    let mut outcomes = Vec::new();
    for spec in specs {
        let parts: Vec<&str> = spec.split(':').map(str::trim).collect();
        if parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
            return Err(format!(
                "outcome {spec:?} should be metric, metric:HOST or metric:HOST:PARTNER"
            ));
        }
        let metric = layout.find(parts[0]).ok_or_else(|| {
            format!(
                "outcome {spec:?}: unknown metric {:?}; the metrics are: {}",
                parts[0],
                layout_metric_names(layout)
            )
        })?;
        let spec_of = layout.metric(metric);
        let host_label = parts.get(1).copied().unwrap_or(ALL_HOSTS);
        let host = layout.host_labels.iter().position(|h| h == host_label).ok_or_else(|| {
            format!(
                "outcome {spec:?}: no host {host_label:?} (hosts: {})",
                layout.host_labels.join(", ")
            )
        })?;
        if spec_of.regional && host != layout.all_hosts_row() {
            return Err(format!(
                "outcome {spec:?}: {} is regional: it has only the {ALL_HOSTS} row",
                parts[0]
            ));
        }
        let partners: Vec<Option<usize>> = match (spec_of.per_partner, parts.get(2)) {
            (false, None) => vec![None],
            (false, Some(_)) => {
                return Err(format!("outcome {spec:?}: {} has no partner", parts[0]));
            }
            (true, None) => (0..layout.partner_labels.len()).map(Some).collect(),
            (true, Some(p)) => vec![Some(layout.partner_labels.iter().position(|l| l == p).ok_or_else(
                || {
                    format!(
                        "outcome {spec:?}: no partner {p:?} (partners: {})",
                        layout.partner_labels.join(", ")
                    )
                },
            )?)],
        };
        for &date in dates {
            for &partner in &partners {
                let outcome = Outcome {
                    metric,
                    host,
                    partner,
                    date,
                };
                if !outcomes.contains(&outcome) {
                    outcomes.push(outcome);
                }
            }
        }
    }
    if outcomes.is_empty() {
        return Err("no outcomes were named".to_string());
    }
    Ok(outcomes)
}

/// Runs one ensemble with progress and cancellation, naming it in errors.
pub(crate) fn run_ensemble(
    scenario: &Scenario,
    config: &EnsembleConfig,
    progress: &dyn Progress,
    cancel: &AtomicBool,
    observer: Option<&mut dyn ReplicateObserver>,
    context: impl Fn() -> String,
) -> Result<EnsembleSummary, AnalysisError> {
    let tick = || progress.tick();
    ensemble::run(scenario, config, &tick, cancel, observer).map_err(|source| AnalysisError::Ensemble {
        context: context(),
        source,
    })
}

/// A folder name from scenario names: only characters safe in file names, and short.
pub fn folder_name(prefix: &str, names: &[&str]) -> String {
    let mut joined = format!("{prefix}-{}", names.join("-vs-"));
    if joined.len() > 120 {
        let hash = crate::hash::fnv1a(joined.as_bytes());
        joined.truncate(100);
        joined = format!("{joined}-{:08x}", hash as u32);
    }
    joined
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_-.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Moves a finished staging folder into place, replacing an earlier folder of the same
/// name; returns whether there was one. (Like [`Staging::commit`], for folders whose
/// manifest is not a run's.)
pub(crate) fn commit(staging: Staging) -> io::Result<bool> {
    let destination = staging.destination.clone();
    if destination.exists() {
        let name = destination
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let aside = destination.with_file_name(format!(".{name}.old-{}", std::process::id()));
        fs::rename(&destination, &aside)?;
        fs::rename(&staging.dir, &destination)?;
        fs::remove_dir_all(&aside)?;
        Ok(true)
    } else {
        fs::rename(&staging.dir, &destination)?;
        Ok(false)
    }
}

/// Writes a JSON value, pretty-printed, with a final newline.
pub(crate) fn write_json(path: &Path, value: &serde_json::Value) -> io::Result<()> {
    let mut writer = BufWriter::new(fs::File::create(path)?);
    serde_json::to_writer_pretty(&mut writer, value).map_err(io::Error::other)?;
    writer.write_all(b"\n")?;
    writer.flush()
}

/// Where an analysis's output went and what it wrote.
#[derive(Debug, Clone)]
pub struct Written {
    pub dir: PathBuf,
    pub files: Vec<String>,
    /// Whether an earlier folder of the same name was replaced.
    pub replaced: bool,
}

/// Writes an analysis folder: `write` fills the staging folder and returns the files it
/// wrote; on success the folder is renamed into place, on failure removed.
pub(crate) fn write_folder(
    out_root: &Path,
    name: &str,
    write: impl FnOnce(&Path) -> Result<Vec<String>, AnalysisError>,
) -> Result<Written, AnalysisError> {
    let staging =
        Staging::create(out_root, name).map_err(io_context(format!("creating a folder in {}", out_root.display())))?;
    match write(&staging.dir) {
        Ok(files) => {
            let dir = staging.destination.clone();
            let replaced =
                commit(staging).map_err(io_context(format!("moving the finished output into {}", dir.display())))?;
            Ok(Written { dir, files, replaced })
        }
        Err(e) => {
            staging.abandon();
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_horizons_are_mid_run_and_last() {
        let q = |s: &str| s.parse::<Quarter>().unwrap();
        assert_eq!(default_horizons(q("2024Q1"), q("2035Q4")), [q("2029Q4"), q("2035Q4")]);
        assert_eq!(default_horizons(q("2024Q1"), q("2025Q4")), [q("2024Q4"), q("2025Q4")]);
        assert_eq!(default_horizons(q("2024Q1"), q("2024Q1")), [q("2024Q1")]);
    }

    #[test]
    fn metrics_and_dates_parse_with_clear_errors() {
        assert_eq!(parse_metrics(None).unwrap().len(), DEFAULT_METRICS.len());
        assert_eq!(
            parse_metrics(Some("hedging_index, alignment,hedging_index")).unwrap(),
            ["hedging_index", "alignment"]
        );
        assert_eq!(
            parse_metrics(Some("route_cargo_mt.MIDDLE,supply_share.rare_earths")).unwrap(),
            ["route_cargo_mt.MIDDLE", "supply_share.rare_earths"]
        );
        for bad in ["route_cargo_mt.", "cargo.MIDDLE", "alignment.USA"] {
            assert!(parse_metrics(Some(bad)).is_err(), "{bad}");
        }
        let err = parse_metrics(Some("alignmnt")).unwrap_err().to_string();
        assert!(
            err.contains("unknown metric \"alignmnt\"") && err.contains("trade_share"),
            "{err}"
        );
        let dates = parse_dates("2035Q4,2030Q4,2030Q4").unwrap();
        assert_eq!(dates.len(), 2);
        assert!(parse_dates("2030Q5").is_err());
    }

    #[test]
    fn outcomes_name_per_commodity_and_per_route_metrics() {
        let loaded = crate::scenario::load_builtin_baseline().expect("the built-in baseline loads");
        let layout = MetricLayout::new(&loaded.scenario);
        let dates = [loaded.scenario.start];
        let specs = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let outcomes =
            parse_outcomes(&specs(&["route_cargo_mt.MIDDLE", "alignment:KAZ:USA"]), &layout, &dates).unwrap();
        assert_eq!(outcomes.len(), 2);
        assert_eq!(outcomes[0].host, layout.all_hosts_row());
        assert_eq!(outcomes[0].label(&layout), "route_cargo_mt.MIDDLE:C5@2024Q1");
        assert_eq!(outcomes[1].label(&layout), "alignment:KAZ:USA@2024Q1");
        let err = parse_outcomes(&specs(&["route_cargo_mt.MIDDLE:KAZ"]), &layout, &dates).unwrap_err();
        assert!(err.contains("regional"), "{err}");
        let err = parse_outcomes(&specs(&["route_cargo_mt.NOPE"]), &layout, &dates).unwrap_err();
        assert!(
            err.contains("unknown metric") && err.contains("route_share.MIDDLE"),
            "{err}"
        );
        let metrics = resolve_metrics(&specs(&["route_share.MIDDLE", "alignment"]), &layout, "baseline").unwrap();
        assert_eq!(metrics[1], 0);
        assert_eq!(layout.metric(metrics[0]).name, "route_share.MIDDLE");
        assert!(resolve_metrics(&specs(&["route_share.NOPE"]), &layout, "baseline").is_err());
    }

    #[test]
    fn names_are_safe_for_folders() {
        assert_eq!(
            folder_name("compare", &["baseline", "us_minerals_push"]),
            "compare-baseline-vs-us_minerals_push"
        );
        let long: Vec<String> = (0..20).map(|i| format!("scenario_number_{i}")).collect();
        let names: Vec<&str> = long.iter().map(String::as_str).collect();
        assert!(folder_name("compare", &names).len() <= 110);
    }
}
