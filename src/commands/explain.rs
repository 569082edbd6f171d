//! `greatgame explain OUTPUT_DIR [--host H]`: the written account of a run, read from its
//! folder (the same account `report.html` shows; [`crate::analysis::explain`]).

use std::path::PathBuf;

use crate::analysis::explain::{explain, Account};
use crate::analysis::outcomes::{did_you_mean, nearest};
use crate::job::JobError;
use crate::output::read::RunFolder;
use crate::output::tables::read_tables;
use crate::scenario::file::ScenarioFile;
use crate::scenario::validate::{validate, MAX_HORIZON_QUARTERS};

/// Which run, and which host.
#[derive(Debug, Clone)]
pub struct ExplainOptions {
    /// A run's output folder (`output/<scenario name>/`).
    pub folder: PathBuf,
    /// One host, by id or name; `None`: every host.
    pub host: Option<String>,
}

/// The account of the run in `options.folder`.
pub fn account(options: &ExplainOptions) -> Result<Account, JobError> {
    let folder = RunFolder::open(&options.folder, MAX_HORIZON_QUARTERS)?;
    let manifest = &folder.manifest;
    // The resolved scenario as recorded. Unlike a merge, which must reproduce the run, an
    // account only needs the scenario to read: keys added to the format since the run
    // was made take their defaults.
    let at = folder.path.join("manifest.json");
    let file: ScenarioFile = serde_json::from_value(manifest.resolved_scenario.clone())
        .map_err(|e| JobError::input(&at, format!("the recorded scenario cannot be read: {e}")))?;
    let scenario = validate(&file, &manifest.scenario_name).map_err(|problems| {
        let list: Vec<String> = problems
            .0
            .iter()
            .map(|(key, message)| format!("{key} {message}"))
            .collect();
        JobError::input(&at, format!("the recorded scenario is not valid: {}", list.join("; ")))
    })?;
    let summary = read_tables(
        &folder.path,
        &scenario,
        manifest.replicates(),
        usize::try_from(manifest.header.parameter_sets).unwrap_or(usize::MAX),
    )?;
    Ok(explain(&scenario, &summary))
}

/// The account as text, for one host or all.
pub fn explain_text(options: &ExplainOptions) -> Result<String, JobError> {
    let account = account(options)?;
    let hosts = match &options.host {
        None => account.hosts.iter().collect(),
        Some(wanted) => match account.host(wanted) {
            Some(host) => vec![host],
            None => {
                let names: Vec<&str> = account
                    .hosts
                    .iter()
                    .flat_map(|h| [h.id.as_str(), h.name.as_str()])
                    .collect();
                return Err(JobError::Usage(format!(
                    "--host {wanted}: the run has no such host{} (hosts: {})",
                    did_you_mean(&nearest(wanted, &names)),
                    account
                        .hosts
                        .iter()
                        .map(|h| h.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        },
    };
    Ok(account.text(&hosts))
}
