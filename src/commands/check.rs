//! `greatgame check`: validates scenario files and runs nothing.

use std::path::{Path, PathBuf};

use crate::scenario::{self, ScenarioError};

/// What a valid scenario holds, for the one-line report.
#[derive(Debug, Clone)]
pub struct Checked {
    pub hosts: usize,
    pub patrons: usize,
    pub events: usize,
    pub first: String,
    pub last: String,
}

/// Checks each file; every problem of every file is reported.
pub fn check(files: &[PathBuf]) -> Vec<(PathBuf, Result<Checked, ScenarioError>)> {
    files.iter().map(|path| (path.clone(), check_one(path))).collect()
}

fn check_one(path: &Path) -> Result<Checked, ScenarioError> {
    let loaded = scenario::load(path)?;
    let s = &loaded.scenario;
    Ok(Checked {
        hosts: s.n_hosts(),
        patrons: s.n_patrons(),
        events: s.events.len(),
        first: s.start.to_string(),
        last: s.quarter_of_step(s.horizon_quarters - 1).to_string(),
    })
}
