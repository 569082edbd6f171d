//! A run's `manifest.json`: the common header, then the resolved scenario, the metric
//! catalogue and the files.

use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::manifest::{self, Header};
use crate::metrics::MetricLayout;
use crate::model::Scenario;

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
