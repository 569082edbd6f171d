//! A run's tables read back whole: `summary.csv` and `decisions.csv` into the
//! [`EnsembleSummary`] they were written from, so that the report and `greatgame explain`
//! work on exactly what a run wrote (the tables hold every number to the last bit:
//! [`crate::format::number`]). [`super::read`] opens a folder and reads selected cells;
//! this reads everything, for one scenario.

use std::collections::BTreeMap;
use std::path::Path;

use crate::ensemble::EnsembleSummary;
use crate::input::{self, Bounded, InputError};
use crate::metrics::MetricLayout;
use crate::model::{DecisionTerms, Scenario};
use crate::stats::CellStats;

/// The most a run table read back may hold: the largest a run writes is well below it.
const TABLE_LIMIT_BYTES: u64 = 4 << 30;

/// Reads `dir/summary.csv` and `dir/decisions.csv` of a run of `scenario` with
/// `replicates` replicates over `parameter_sets` parameter sets (1: none). Every cell of
/// every step must be there exactly once. The variance split (`variance.csv`) is not read
/// back: nothing that reads the tables uses it.
pub fn read_tables(
    dir: &Path,
    scenario: &Scenario,
    replicates: u64,
    parameter_sets: usize,
) -> Result<EnsembleSummary, InputError> {
    let layout = MetricLayout::new(scenario);
    let n_steps = scenario.horizon_quarters as usize;
    let n_cells = layout.n_cells();
    let cells = read_summary(&dir.join("summary.csv"), &layout, n_steps)?;
    let decision_means = read_decisions(&dir.join("decisions.csv"), scenario, n_steps)?;
    debug_assert_eq!(cells.len(), n_steps * n_cells);
    Ok(EnsembleSummary {
        layout,
        n_steps,
        replicates,
        cells,
        decision_means,
        parameter_sets: parameter_sets.max(1),
        variance: Vec::new(),
    })
}

fn columns<const N: usize>(
    path: &Path,
    reader: &mut csv::Reader<Bounded<std::fs::File>>,
    names: [&str; N],
) -> Result<[usize; N], InputError> {
    let headers = reader
        .headers()
        .map_err(|e| InputError::new(path, e.to_string()))?
        .clone();
    let mut found = [0; N];
    for (slot, name) in found.iter_mut().zip(names) {
        *slot = headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| InputError::new(path, format!("has no column {name:?}")))?;
    }
    Ok(found)
}

fn parse_number(path: &Path, line: u64, text: &str) -> Result<f64, InputError> {
    text.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| InputError::new(path, format!("line {line}: {text:?} is not a number")))
}

fn parse_step(path: &Path, line: u64, text: &str, n_steps: usize) -> Result<usize, InputError> {
    text.parse::<usize>()
        .ok()
        .filter(|s| (1..=n_steps).contains(s))
        .map(|s| s - 1)
        .ok_or_else(|| InputError::new(path, format!("line {line}: step {text:?} is not 1..{n_steps}")))
}

fn read_summary(path: &Path, layout: &MetricLayout, n_steps: usize) -> Result<Vec<CellStats>, InputError> {
    let n_cells = layout.n_cells();
    let index: BTreeMap<(&str, &str, &str), usize> = layout
        .cells()
        .map(|c| {
            (
                (
                    layout.metric(c.metric).name.as_str(),
                    layout.host_labels[c.host].as_str(),
                    layout.partner_label(c.partner),
                ),
                layout.index(c.metric, c.host, c.partner),
            )
        })
        .collect();
    let mut reader = csv::Reader::from_reader(input::open(path, TABLE_LIMIT_BYTES, "run table")?);
    let [c_step, c_host, c_partner, c_metric, c_mean, c_sd, c_p05, c_p50, c_p95] = columns(
        path,
        &mut reader,
        ["step", "host", "partner", "metric", "mean", "sd", "p05", "p50", "p95"],
    )?;
    let mut cells = vec![CellStats::default(); n_steps * n_cells];
    let mut seen = vec![false; n_steps * n_cells];
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(InputError::new(path, e.to_string())),
        }
        let line = record.position().map_or(0, |p| p.line());
        let step = parse_step(path, line, &record[c_step], n_steps)?;
        let key = (&record[c_metric], &record[c_host], &record[c_partner]);
        let cell = *index.get(&key).ok_or_else(|| {
            InputError::new(
                path,
                format!(
                    "line {line}: no cell {} / {} / {} in this scenario",
                    key.0, key.1, key.2
                ),
            )
        })?;
        let slot = step * n_cells + cell;
        if std::mem::replace(&mut seen[slot], true) {
            return Err(InputError::new(
                path,
                format!("line {line}: a second row for this cell and step"),
            ));
        }
        cells[slot] = CellStats {
            mean: parse_number(path, line, &record[c_mean])?,
            sd: parse_number(path, line, &record[c_sd])?,
            p05: parse_number(path, line, &record[c_p05])?,
            p50: parse_number(path, line, &record[c_p50])?,
            p95: parse_number(path, line, &record[c_p95])?,
        };
    }
    if let Some(missing) = seen.iter().position(|s| !s) {
        return Err(InputError::new(
            path,
            format!(
                "has no row for step {} of cell {}",
                missing / n_cells + 1,
                missing % n_cells
            ),
        ));
    }
    Ok(cells)
}

fn read_decisions(path: &Path, scenario: &Scenario, n_steps: usize) -> Result<Vec<f64>, InputError> {
    let (nh, np, nt) = (scenario.n_hosts(), scenario.n_patrons(), DecisionTerms::NAMES.len());
    let mut reader = csv::Reader::from_reader(input::open(path, TABLE_LIMIT_BYTES, "run table")?);
    let [c_step, c_host, c_patron] = columns(path, &mut reader, ["step", "host", "patron"])?;
    let c_terms = {
        let headers = reader
            .headers()
            .map_err(|e| InputError::new(path, e.to_string()))?
            .clone();
        DecisionTerms::NAMES
            .iter()
            .map(|name| {
                headers
                    .iter()
                    .position(|h| h == *name)
                    .ok_or_else(|| InputError::new(path, format!("has no column {name:?}")))
            })
            .collect::<Result<Vec<usize>, InputError>>()?
    };
    let mut means = vec![0.0; n_steps * nh * np * nt];
    let mut seen = vec![false; n_steps * nh * np];
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(InputError::new(path, e.to_string())),
        }
        let line = record.position().map_or(0, |p| p.line());
        let step = parse_step(path, line, &record[c_step], n_steps)?;
        let host = scenario.hosts.iter().position(|h| h.id == record[c_host]);
        let patron = scenario.patrons.iter().position(|p| p.id == record[c_patron]);
        let (Some(h), Some(p)) = (host, patron) else {
            return Err(InputError::new(
                path,
                format!(
                    "line {line}: no host {:?} or patron {:?} in this scenario",
                    &record[c_host], &record[c_patron]
                ),
            ));
        };
        let row = (step * nh + h) * np + p;
        if std::mem::replace(&mut seen[row], true) {
            return Err(InputError::new(
                path,
                format!("line {line}: a second row for this host, patron and step"),
            ));
        }
        for (t, &c) in c_terms.iter().enumerate() {
            means[row * nt + t] = parse_number(path, line, &record[c])?;
        }
    }
    if seen.iter().any(|s| !s) {
        return Err(InputError::new(
            path,
            "does not hold a row for every step, host and patron",
        ));
    }
    Ok(means)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use super::*;
    use crate::ensemble::EnsembleConfig;

    #[test]
    fn the_tables_read_back_to_the_same_bits() {
        let mut scenario = crate::scenario::load_builtin_baseline()
            .expect("the built-in baseline loads")
            .scenario;
        scenario.horizon_quarters = 6;
        let config = EnsembleConfig {
            replicates: 3,
            seed: 5,
            threads: Some(1),
            max_memory_bytes: u64::MAX,
        };
        let summary =
            crate::ensemble::run(&scenario, &config, &|| {}, &AtomicBool::new(false), None).expect("the ensemble runs");
        let dir = tempfile::tempdir().expect("temporary folder");
        crate::output::write_summary(&dir.path().join("summary.csv"), &scenario, &summary).expect("written");
        crate::output::write_decisions(&dir.path().join("decisions.csv"), &scenario, &summary).expect("written");
        let read = read_tables(dir.path(), &scenario, 3, 1).expect("read back");
        assert_eq!(read.cells.len(), summary.cells.len());
        for (a, b) in read.cells.iter().zip(&summary.cells) {
            assert_eq!(a.mean.to_bits(), (b.mean + 0.0).to_bits());
            assert_eq!(a.p95.to_bits(), (b.p95 + 0.0).to_bits());
        }
        assert_eq!(read.decision_means, summary.decision_means);

        // A missing row is an error naming the file.
        let text = std::fs::read_to_string(dir.path().join("decisions.csv")).unwrap();
        let cut: Vec<&str> = text.lines().take(5).collect();
        std::fs::write(dir.path().join("decisions.csv"), cut.join("\n")).unwrap();
        let err = read_tables(dir.path(), &scenario, 3, 1)
            .expect_err("rows are missing")
            .to_string();
        assert!(err.contains("decisions.csv"), "{err}");
    }
}
