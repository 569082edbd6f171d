//! The inputs of a comparison: scenario files run now (over their parameter sets, if any),
//! or output folders of earlier runs read back ([`crate::output::read`]), with the cells
//! every input shares.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use crate::analysis::parameters::Base;
use crate::analysis::sets::{ensemble_scenarios, read_sets, ParameterSets, Sets};
use crate::ensemble::{ReplicateObserver, ReplicateRecord};
use crate::job::{Job, JobError, Settings};
use crate::manifest::SetsRecord;
use crate::metrics::MetricLayout;
use crate::output::read::{CellName, RunFolder};
use crate::output::MetricInfo;
use crate::scenario::validate::MAX_HORIZON_QUARTERS;
use crate::scenario::LoadedScenario;
use crate::stats::CellStats;
use crate::time::Quarter;

/// Where an input came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// A scenario file, run by the command.
    Scenario,
    /// The output folder of an earlier `greatgame run`.
    Folder,
}

/// (metric name, host label, partner label or "").
pub(super) type CellKey = CellName;

/// One input, loaded.
pub struct Input {
    pub label: String,
    pub kind: InputKind,
    pub path: PathBuf,
    pub scenario_name: String,
    pub start: Quarter,
    pub n_steps: usize,
    pub seed: u64,
    pub replicates: u64,
    /// (id, name) of the hosts (not C5) and partners.
    pub hosts: Vec<(String, String)>,
    pub partners: Vec<(String, String)>,
    /// The input's metrics (its scenario's layout).
    pub metrics: Vec<MetricInfo>,
    pub(super) loaded: Option<LoadedScenario>,
    /// A scenario input's file, read once, for its parameter sets.
    pub(super) base: Option<Base>,
    /// The parameter sets a scenario input runs over.
    pub(super) sets: Option<Sets>,
    /// The parameter sets of the input's replicates (a folder's from its manifest).
    pub sets_record: Option<SetsRecord>,
    pub(super) folder: Option<RunFolder>,
    /// Statistics per step of the compared cells.
    pub(super) series: BTreeMap<CellKey, Vec<CellStats>>,
    /// Replicate values of the compared cells at the horizons, in replicate order; `None`
    /// when the input has none (a folder without replicates.csv).
    pub(super) samples: Option<BTreeMap<(CellKey, Quarter), Vec<f64>>>,
}

impl Input {
    pub(super) fn last(&self) -> Quarter {
        self.start.plus(self.n_steps as i64 - 1)
    }

    pub(super) fn metric(&self, name: &str) -> Option<&MetricInfo> {
        self.metrics.iter().find(|m| m.name == name)
    }

    pub(super) fn stats_at(&self, key: &CellKey, date: Quarter) -> Option<CellStats> {
        let step = usize::try_from(date.since(self.start)).ok()?;
        self.series.get(key).and_then(|s| s.get(step)).copied()
    }

    /// Parameter sets the replicates ran over (1: the scenario's own values).
    pub fn n_sets(&self) -> usize {
        self.sets_record.as_ref().map_or(1, |r| r.sets.len().max(1))
    }

    /// Whether replicate `i` of both inputs ran the same parameter set on the same random
    /// stream: same seed, replicates and sets (the same keys and rows, or none).
    pub(super) fn paired_with(&self, other: &Input) -> bool {
        let same_sets = match (&self.sets_record, &other.sets_record) {
            (None, None) => true,
            (Some(a), Some(b)) => a.keys == b.keys && a.sets == b.sets,
            _ => false,
        };
        self.seed == other.seed && self.replicates == other.replicates && same_sets
    }

    pub(super) fn samples_at(&self, key: &CellKey, date: Quarter) -> Option<&[f64]> {
        self.samples
            .as_ref()
            .and_then(|s| s.get(&(key.clone(), date)))
            .map(Vec::as_slice)
    }
}

/// Opens a scenario file or an output folder (metadata only; the data comes later).
pub(super) fn open_input(path: &Path) -> Result<Input, JobError> {
    if path.is_dir() {
        let folder = RunFolder::open(path, MAX_HORIZON_QUARTERS)?;
        let manifest = &folder.manifest;
        Ok(Input {
            label: manifest.scenario_name.clone(),
            kind: InputKind::Folder,
            path: path.to_path_buf(),
            scenario_name: manifest.scenario_name.clone(),
            start: folder.start,
            n_steps: manifest.steps as usize,
            seed: manifest.seed(),
            replicates: manifest.replicates(),
            hosts: folder.actors("hosts"),
            partners: folder.actors("patrons"),
            metrics: folder.metrics(),
            loaded: None,
            base: None,
            sets: None,
            sets_record: manifest.header.parameter_set_values.clone(),
            folder: Some(folder),
            series: BTreeMap::new(),
            samples: None,
        })
    } else {
        let base = Base::read(path)?;
        let loaded = base.loaded.clone();
        let s = &loaded.scenario;
        Ok(Input {
            label: s.name.clone(),
            kind: InputKind::Scenario,
            path: path.to_path_buf(),
            scenario_name: s.name.clone(),
            start: s.start,
            n_steps: s.horizon_quarters as usize,
            seed: s.seed,
            replicates: s.replicates,
            hosts: s.hosts.iter().map(|h| (h.id.clone(), h.name.clone())).collect(),
            partners: s.patrons.iter().map(|p| (p.id.clone(), p.name.clone())).collect(),
            metrics: MetricInfo::of_layout(&MetricLayout::new(s)),
            loaded: Some(loaded),
            base: Some(base),
            sets: None,
            sets_record: None,
            folder: None,
            series: BTreeMap::new(),
            samples: None,
        })
    }
}

/// Reads the compared cells of a folder input: `summary.csv` and, if present,
/// `replicates.csv`.
pub(super) fn read_folder(input: &mut Input, keys: &[CellKey], horizons: &[Quarter]) -> Result<(), JobError> {
    let folder = input.folder.as_ref().expect("folder inputs are opened");
    input.series = folder.read_summary(keys)?;
    input.samples = folder.read_replicates(keys, horizons)?;
    Ok(())
}

/// Reads the parameter sets each scenario input runs over (`which`: the command line's
/// choice); a compared scenario keeps its own value of a set's key where it differs from
/// the reference (the first input). Returns notes for the user.
pub(super) fn choose_sets(inputs: &mut [Input], which: &ParameterSets) -> Result<Vec<String>, JobError> {
    let reference = inputs[0].loaded.clone();
    let mut notes = Vec::new();
    for (i, input) in inputs.iter_mut().enumerate() {
        let Some(base) = &input.base else { continue };
        let compared_with = if i == 0 { None } else { reference.as_ref() };
        let mut sets = read_sets(which, base, compared_with)?;
        if let Some(sets) = &mut sets {
            notes.extend(sets.fit_to(input.replicates));
        }
        notes.extend(sets.as_ref().and_then(|s| s.kept_note(&input.label)));
        input.sets_record = sets.as_ref().map(Sets::record);
        input.sets = sets;
    }
    Ok(notes)
}

/// Scenario names label the inputs; repeats get `-2`, `-3`, …
pub(super) fn label_uniquely(inputs: &mut [Input]) {
    for i in 1..inputs.len() {
        let base = inputs[i].label.clone();
        let mut n = 1;
        while inputs[..i].iter().any(|earlier| earlier.label == inputs[i].label) {
            n += 1;
            inputs[i].label = format!("{base}-{n}");
        }
    }
}

pub(super) fn shared(inputs: &[Input], actors: impl Fn(&Input) -> &Vec<(String, String)>) -> Vec<(String, String)> {
    actors(&inputs[0])
        .iter()
        .filter(|(id, _)| {
            inputs[1..]
                .iter()
                .all(|i| actors(i).iter().any(|(other, _)| other == id))
        })
        .cloned()
        .collect()
}

/// Collects the replicate values of chosen cells at chosen steps, in replicate order.
struct Capture {
    /// (flat index into a record's values, slot in `values`).
    wanted: Vec<usize>,
    values: Vec<Vec<f64>>,
}

impl ReplicateObserver for Capture {
    fn on_replicate(&mut self, _index: u64, record: &ReplicateRecord) -> io::Result<()> {
        for (slot, &flat) in self.wanted.iter().enumerate() {
            self.values[slot].push(record.values[flat]);
        }
        Ok(())
    }
}

fn layout_cell(layout: &MetricLayout, key: &CellKey) -> Option<usize> {
    let host = layout.host_labels.iter().position(|h| *h == key.1)?;
    let partner = if key.2.is_empty() {
        None
    } else {
        Some(layout.partner_labels.iter().position(|p| *p == key.2)?)
    };
    Some(layout.index(layout.find(&key.0)?, host, partner))
}

/// Runs a scenario input and keeps the compared cells: every step's statistics, and
/// every replicate's value at the horizons.
pub(super) fn run_input(
    input: &mut Input,
    keys: &[CellKey],
    horizons: &[Quarter],
    settings: &Settings,
    job: Job,
) -> Result<(), JobError> {
    let scenario = &input.loaded.as_ref().expect("scenario inputs are loaded").scenario;
    let layout = MetricLayout::new(scenario);
    let n_cells = layout.n_cells();
    let mut slots = Vec::new();
    let mut wanted = Vec::new();
    for key in keys {
        let cell = layout_cell(&layout, key).expect("shared cells exist in every input");
        for &date in horizons {
            let step = date.since(input.start) as usize;
            wanted.push(step * n_cells + cell);
            slots.push((key.clone(), date));
        }
    }
    let mut capture = Capture {
        values: vec![Vec::with_capacity(input.replicates as usize); wanted.len()],
        wanted,
    };
    let config = settings.ensemble(input.replicates, input.seed);
    let label = input.label.clone();
    let base = input.base.as_ref().expect("scenario inputs are read");
    let sets = ensemble_scenarios(input.sets.as_ref(), base, &[], input.replicates)?;
    let summary = job.ensemble_sets(&sets, &config, Some(&mut capture), || format!("scenario {label}"))?;
    for key in keys {
        let cell = layout_cell(&layout, key).expect("shared cells exist in every input");
        let series = (0..summary.n_steps).map(|s| *summary.cell(s, cell)).collect();
        input.series.insert(key.clone(), series);
    }
    input.samples = Some(slots.into_iter().zip(capture.values).collect());
    Ok(())
}
