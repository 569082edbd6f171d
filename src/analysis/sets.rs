//! Parameter sets, in one place: which file a command's sets come from, reading and
//! checking them, and each set's scenario for an ensemble over the sets
//! ([`crate::ensemble::run_sets`]: replicate `i` runs set `i mod K` on stream `i`).
//!
//! A parameter-sets file is a CSV as `greatgame calibrate` writes it: a header of key
//! paths, one row of values per set. Each set is laid over the scenario as overrides, so
//! every value is validated like one written in the file, and a set that changes the
//! scenario's actors, commodities, routes or time is refused, as are keys of the tables
//! that say how to run (`run`, `time`, `calibration`, `sweep`, `sensitivity`).
//!
//! A scenario that extends the one the sets were made for (a variant of the baseline)
//! may set one of their keys itself: that is the scenario's point, so its own value is
//! kept in every set ([`Sets::kept`]) and the manifest says so.

use std::path::{Path, PathBuf};

use super::parameters::{read_design, Base};
use crate::job::JobError;
use crate::manifest::SetsRecord;
use crate::metrics::MetricLayout;
use crate::model::Scenario;
use crate::scenario::overrides::{parse_key, value_at, Override};
use crate::scenario::{LoadedScenario, BUILTIN_BASELINE_PATH};

/// Where a command's parameter sets come from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ParameterSets {
    /// The file the scenario names in `[calibration] parameter_sets`, if any.
    #[default]
    Scenario,
    /// This file (a CSV as `calibrate` writes).
    File(PathBuf),
    /// None: every replicate runs the scenario's own values.
    None,
}

impl ParameterSets {
    /// From `--parameter-sets FILE` and `--no-parameter-sets` (which wins).
    pub fn from_options(file: Option<PathBuf>, none: bool) -> ParameterSets {
        match (file, none) {
            (_, true) => ParameterSets::None,
            (Some(file), false) => ParameterSets::File(file),
            (None, false) => ParameterSets::Scenario,
        }
    }
}

/// Top-level tables a parameter set may not change: they say how and when to run.
const NOT_PARAMETERS: [&str; 7] = ["name", "extends", "run", "time", "calibration", "sweep", "sensitivity"];

/// Parameter sets, read and checked against a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Sets {
    /// The file they came from.
    pub file: PathBuf,
    /// Its columns' key paths.
    pub keys: Vec<String>,
    /// One row of values per set.
    pub rows: Vec<Vec<toml::Value>>,
    /// Keys the scenario keeps its own value of in every set.
    pub kept: Vec<String>,
}

impl Sets {
    /// Number of sets.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The overrides of set `k` (0-based), without the kept keys.
    pub fn overrides(&self, k: usize) -> Vec<Override> {
        self.keys
            .iter()
            .zip(&self.rows[k])
            .filter(|(key, _)| !self.kept.contains(key))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect()
    }

    /// How a manifest records them.
    pub fn record(&self) -> SetsRecord {
        SetsRecord {
            file: self.file.display().to_string(),
            keys: self.keys.clone(),
            sets: self
                .rows
                .iter()
                .map(|row| {
                    row.iter()
                        .map(|v| serde_json::to_value(v).unwrap_or_default())
                        .collect()
                })
                .collect(),
            scenario_values_kept: self.kept.clone(),
        }
    }

    /// Keeps the first `replicates` sets when there are more sets than replicates (replicate
    /// `i` runs set `i`), so that a quick run with a few replicates still runs, and says so;
    /// the bands then hold only those sets.
    pub fn fit_to(&mut self, replicates: u64) -> Option<String> {
        let n = usize::try_from(replicates).unwrap_or(usize::MAX).max(1);
        (self.rows.len() > n).then(|| {
            let note = format!(
                "{replicates} replicates cover only the first {n} of the {} parameter sets of {}: give --replicates at \
                 least {} (a multiple of it gives every set the same share) for the bands to hold them all",
                self.rows.len(),
                self.file.display(),
                self.rows.len()
            );
            self.rows.truncate(n);
            note
        })
    }

    /// A note for the user when the scenario keeps its own values of some keys.
    pub fn kept_note(&self, scenario: &str) -> Option<String> {
        (!self.kept.is_empty()).then(|| {
            format!(
                "{scenario} sets {} itself: its own value is used in every one of the {} parameter sets of {}",
                self.kept.join(", "),
                self.len(),
                self.file.display()
            )
        })
    }

    /// Where set `k` is in its file, for messages.
    fn describe(&self, k: usize) -> String {
        format!("parameter set {} (line {} of {})", k + 1, k + 2, self.file.display())
    }

    /// The scenario of every set: `base` with the set's overrides, then `extra` (a sweep
    /// point, which wins over a set) laid over it, each validated like a file; a set that
    /// changes the actors, commodities, routes or time is refused.
    pub fn scenarios(&self, base: &Base, extra: &[Override]) -> Result<Vec<Scenario>, JobError> {
        let first = &base.loaded.scenario;
        let mut out = Vec::with_capacity(self.len());
        for k in 0..self.len() {
            let mut overrides = self.overrides(k);
            overrides.extend(extra.iter().cloned());
            let loaded = base.with(&overrides, || format!("{} is not valid", self.describe(k)))?;
            let s = loaded.scenario;
            // The layouts are built only when they may differ.
            let other_layout = || {
                let (layout, reference) = (MetricLayout::new(&s), MetricLayout::new(first));
                layout.host_labels != reference.host_labels
                    || layout.partner_labels != reference.partner_labels
                    || layout.n_cells() != reference.n_cells()
            };
            let problem = if s.start != first.start || s.horizon_quarters != first.horizon_quarters {
                Some("it changes the scenario's time.start or time.horizon_quarters")
            } else if !MetricLayout::same(first, &s) && other_layout() {
                Some("it changes the scenario's actors, commodities or routes")
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(JobError::input(
                    &self.file,
                    format!("line {}: parameter set {}: {problem}", k + 2, k + 1),
                ));
            }
            out.push(s);
        }
        Ok(out)
    }
}

/// The file `which` names for the scenario `base`, if any. A file the scenario names is
/// relative to the file that names it (which may be a parent, through `extends`); the
/// built-in baseline's is relative to `scenarios/`.
fn sets_file(which: &ParameterSets, base: &Base) -> Option<(PathBuf, Option<PathBuf>)> {
    match which {
        ParameterSets::None => None,
        ParameterSets::File(path) => Some((path.clone(), None)),
        ParameterSets::Scenario => {
            let file = &base.loaded.resolved.calibration.parameter_sets;
            if file.is_empty() {
                return None;
            }
            let tree = &base.tree;
            let naming = tree
                .defining_file(&["calibration", "parameter_sets"])
                .unwrap_or_else(|| tree.path().to_path_buf());
            let dir = if naming == Path::new(BUILTIN_BASELINE_PATH) {
                PathBuf::from("scenarios")
            } else {
                naming.parent().unwrap_or(Path::new("")).to_path_buf()
            };
            Some((dir.join(file), Some(naming)))
        }
    }
}

/// The file `which` names for `base`, if any (it may not exist).
pub fn named_file(which: &ParameterSets, base: &Base) -> Option<PathBuf> {
    sets_file(which, base).map(|(file, _)| file)
}

/// Reads the parameter sets `which` names for `base` (none: `Ok(None)`), checking each
/// key and refusing keys of the tables that say how to run. The scenario keeps its own
/// value of a key where it differs from the scenario the sets were made for: the file
/// that names them, or `reference` when the sets come from the command line (the first
/// scenario of a comparison).
pub fn read_sets(
    which: &ParameterSets,
    base: &Base,
    reference: Option<&LoadedScenario>,
) -> Result<Option<Sets>, JobError> {
    let Some((file, naming)) = sets_file(which, base) else {
        return Ok(None);
    };
    let (keys, rows) = read_design(&file)?;
    for (c, key) in keys.iter().enumerate() {
        let segments = parse_key(key).map_err(|e| JobError::input(&file, format!("line 1, column {}: {e}", c + 1)))?;
        if segments.first().is_some_and(|s| NOT_PARAMETERS.contains(&s.as_str())) {
            return Err(JobError::input(
                &file,
                format!(
                    "line 1, column {}: {key} is not a parameter: a parameter set may not change the tables {}",
                    c + 1,
                    NOT_PARAMETERS.join(", ")
                ),
            ));
        }
    }
    // The scenario the sets were made for, when it is another file than this scenario's.
    let made_for = match naming {
        Some(naming) if naming != base.tree.path() && naming != Path::new(BUILTIN_BASELINE_PATH) => {
            Some(Base::read(&naming)?.loaded)
        }
        _ => None,
    };
    let kept = match made_for.as_ref().or(reference) {
        Some(other) => differing_keys(&keys, &base.loaded, other),
        None => Vec::new(),
    };
    Ok(Some(Sets { file, keys, rows, kept }))
}

/// The keys whose values differ between two resolved scenarios.
fn differing_keys(keys: &[String], a: &LoadedScenario, b: &LoadedScenario) -> Vec<String> {
    let (Ok(a_root), Ok(b_root)) = (toml::Value::try_from(&a.resolved), toml::Value::try_from(&b.resolved)) else {
        return Vec::new();
    };
    keys.iter()
        .filter(|key| {
            let a = value_at(&a_root, key).ok().flatten();
            let b = value_at(&b_root, key).ok().flatten();
            a != b
        })
        .cloned()
        .collect()
}

/// The scenarios of an ensemble: one per set, or the scenario alone; `extra` overrides
/// (a sweep point) are laid over each set. Refuses more sets than replicates (exit 2).
pub fn ensemble_scenarios(
    sets: Option<&Sets>,
    base: &Base,
    extra: &[Override],
    replicates: u64,
) -> Result<Vec<Scenario>, JobError> {
    match sets {
        Some(sets) => {
            if sets.len() as u64 > replicates {
                return Err(JobError::Usage(format!(
                    "{} replicates cannot cover the {} parameter sets of {}: give --replicates at least {} (a multiple of it \
                     gives every set the same share), or --no-parameter-sets",
                    replicates,
                    sets.len(),
                    sets.file.display(),
                    sets.len()
                )));
            }
            sets.scenarios(base, extra)
        }
        None if extra.is_empty() => Ok(vec![base.loaded.scenario.clone()]),
        None => Ok(vec![
            base.with(extra, || "the scenario is not valid".to_string())?.scenario,
        ]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn base_with_sets(dir: &Path, sets: &str) -> (PathBuf, Base) {
        let path = dir.join("sets.csv");
        fs::write(&path, sets).unwrap();
        (path, Base::read(Path::new("scenarios/baseline.toml")).unwrap())
    }

    #[test]
    fn sets_are_read_validated_and_laid_over_the_scenario() {
        let dir = tempfile::tempdir().unwrap();
        let (path, base) = base_with_sets(
            dir.path(),
            "model.alignment_inertia,patrons.USA.investment_budget_usd_bn\n0.05,1\n0.1,2\n",
        );
        let sets = read_sets(&ParameterSets::File(path.clone()), &base, None)
            .unwrap()
            .unwrap();
        assert_eq!(sets.len(), 2);
        let scenarios = ensemble_scenarios(Some(&sets), &base, &[], 10).unwrap();
        assert_eq!(scenarios.len(), 2);
        assert_eq!(scenarios[0].params.alignment_inertia, 0.05);
        assert_eq!(scenarios[1].params.alignment_inertia, 0.1);
        let record = sets.record();
        assert_eq!(record.sets[1][0], serde_json::json!(0.1));
        // More sets than replicates is a usage error.
        assert!(matches!(
            ensemble_scenarios(Some(&sets), &base, &[], 1),
            Err(JobError::Usage(_))
        ));
        // No sets: the scenario itself.
        assert!(read_sets(&ParameterSets::None, &base, None).unwrap().is_none());
        // The baseline names the calibrated sets (scenarios/calibration/).
        let shipped = read_sets(&ParameterSets::Scenario, &base, None).unwrap().unwrap();
        assert_eq!((shipped.len(), shipped.keys.len()), (20, 8));
    }

    #[test]
    fn bad_sets_are_refused_with_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        for (text, expected) in [
            ("model.alignment_inertia\n0.05\n-3\n", "parameter set 2 (line 3"),
            ("time.horizon_quarters\n8\n", "is not a parameter"),
            ("run.seed\n8\n", "is not a parameter"),
            ("model.no_such_key\n1\n", "parameter set 1 (line 2"),
        ] {
            let (path, base) = base_with_sets(dir.path(), text);
            let result = read_sets(&ParameterSets::File(path), &base, None)
                .and_then(|sets| ensemble_scenarios(sets.as_ref(), &base, &[], 10));
            let err = result.unwrap_err();
            let message = match &err {
                JobError::Scenario { context, error } => format!("{context}: {error}"),
                other => other.to_string(),
            };
            assert!(message.contains(expected), "{text:?}: {message}");
            assert_eq!(err.exit_code(), crate::job::exit::INVALID_INPUT, "{message}");
        }
    }

    #[test]
    fn a_variant_keeps_the_values_it_sets_itself() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = base_with_sets(
            dir.path(),
            "model.alignment_inertia,patrons.USA.credibility\n0.05,0.4\n0.1,0.7\n",
        );
        let reference = Base::read(Path::new("scenarios/baseline.toml")).unwrap();
        let variant = Base::read(Path::new("scenarios/us_minerals_push.toml")).unwrap();
        let sets = read_sets(&ParameterSets::File(path), &variant, Some(&reference.loaded))
            .unwrap()
            .unwrap();
        assert_eq!(sets.kept, ["patrons.USA.credibility"]);
        assert_eq!(sets.overrides(1).len(), 1);
        assert!(sets.kept_note("us_minerals_push").is_some());
    }
}
