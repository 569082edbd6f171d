//! The points of a sweep: the `[sweep]` table or the command line's `--set` and
//! `--design`, each point's values made when asked for.

use std::mem::size_of;
use std::path::Path;

use super::SweepOptions;
use crate::analysis::parameters::{
    parse_set, range_by, range_steps, read_design, same_key, table_problem, Combine, Combined, ValuesError, MAX_POINTS,
};
use crate::job::JobError;
use crate::scenario::file::{SweepFile, SweepParameterFile};
use crate::scenario::overrides::{parse_key, show_value, Override, ScenarioTree};
use crate::scenario::source::KeyPath;

/// The points to run: column keys and, per point, one value per column, made when asked
/// for from the swept parameters' lists (combined) crossed with the design file's rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Points {
    pub keys: Vec<String>,
    /// The swept parameters' values, combined; their columns come first.
    pub(super) grid: Combined,
    /// The design file's rows (one empty row without a file): every row is crossed with
    /// every point of `grid`, the rows varying slowest.
    pub(super) rows: Vec<Vec<toml::Value>>,
    /// Whether the points come from a design file (scattered) rather than lists and ranges.
    pub scattered: bool,
}

impl Points {
    /// How many points.
    pub fn len(&self) -> usize {
        self.grid.len() * self.rows.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Point `point`'s values, one per key.
    pub fn values(&self, point: usize) -> Vec<toml::Value> {
        let mut values = Vec::with_capacity(self.keys.len());
        self.grid.point_into(point % self.grid.len(), &mut values);
        values.extend(self.rows[point / self.grid.len()].iter().cloned());
        values
    }

    pub fn overrides(&self, point: usize) -> Vec<Override> {
        self.keys.iter().cloned().zip(self.values(point)).collect()
    }

    pub(super) fn describe(&self, point: usize) -> String {
        self.keys
            .iter()
            .zip(&self.values(point))
            .map(|(k, v)| format!("{k} = {}", show_value(v)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// About the bytes the points hold: the swept lists and the design file's rows (a
    /// value each, and a little text for a string), not the points themselves.
    pub(super) fn bytes(&self) -> u64 {
        let value = size_of::<toml::Value>() as u64 + 16;
        let held = self.grid.values_held() + self.rows.iter().map(Vec::len).sum::<usize>();
        (held as u64).saturating_mul(value)
            + (self.rows.len() as u64).saturating_mul(size_of::<Vec<toml::Value>>() as u64 + 16)
    }
}

/// The points of a sweep from the file's table and the command line.
pub(super) fn sweep_points(options: &SweepOptions, tree: &ScenarioTree, file: &SweepFile) -> Result<Points, JobError> {
    let from_command_line = !options.set.is_empty() || options.design.is_some();
    let (parameters, design, combine_mode) = if from_command_line {
        let parameters = options
            .set
            .iter()
            .map(|s| parse_set(s))
            .collect::<Result<Vec<_>, _>>()?;
        for (i, (key, _)) in parameters.iter().enumerate() {
            if let Some((earlier, _)) = parameters[..i].iter().find(|(k, _)| same_key(k, key)) {
                return Err(JobError::Usage(format!(
                    "--set {key} is given twice (also as {earlier}): give each parameter once"
                )));
            }
        }
        let mode = options.combine.unwrap_or(Combine::Grid);
        (parameters, options.design.clone(), mode)
    } else {
        if file.is_empty() {
            return Err(JobError::Usage(format!(
                "{} has no [sweep] table: add one (see docs/analysis.md) or give parameters with --set KEY=VALUES",
                options.scenario.display()
            )));
        }
        let parameters = file_parameters(tree, &file.parameters)?;
        let design = file.design.as_ref().map(|d| {
            let base = tree
                .defining_file(&["sweep", "design"])
                .and_then(|f| f.parent().map(Path::to_path_buf))
                .unwrap_or_default();
            base.join(d)
        });
        let mode = match options.combine {
            Some(mode) => mode,
            None => file
                .combine
                .parse()
                .map_err(|e: ValuesError| located(tree, KeyPath::root().key("sweep").key("combine"), e.to_string()))?,
        };
        (parameters, design, mode)
    };
    let mut keys: Vec<String> = parameters.iter().map(|(k, _)| k.clone()).collect();
    let grid = Combined::new(parameters, combine_mode)?;
    let (design_keys, rows) = match &design {
        Some(path) => read_design(path)?,
        None => (Vec::new(), vec![Vec::new()]),
    };
    // Counted before any point is made.
    if grid
        .len()
        .checked_mul(rows.len())
        .filter(|&n| n <= MAX_POINTS)
        .is_none()
    {
        return Err(JobError::Usage(format!(
            "the sweep has more than {MAX_POINTS} points ({} combinations of the parameters times {} rows of the design)",
            grid.len(),
            rows.len()
        )));
    }
    for key in &design_keys {
        if keys.iter().any(|k| same_key(k, key)) {
            return Err(JobError::Usage(format!(
                "{key} is both a swept parameter and a column of the design"
            )));
        }
    }
    keys.extend(design_keys);
    if keys.is_empty() {
        return Err(JobError::Usage("the sweep varies no parameter".to_string()));
    }
    Ok(Points {
        keys,
        grid,
        rows,
        scattered: design.is_some(),
    })
}

fn located(tree: &ScenarioTree, path: KeyPath, message: String) -> JobError {
    table_problem(tree, "sweep", path, message)
}

fn file_parameters(
    tree: &ScenarioTree,
    parameters: &[SweepParameterFile],
) -> Result<Vec<(String, Vec<toml::Value>)>, JobError> {
    let mut out = Vec::new();
    for (i, p) in parameters.iter().enumerate() {
        let at = KeyPath::root().key("sweep").key("parameters").index(i);
        let fail = |field: &str, message: String| located(tree, at.key(field), message);
        if let Err(e) = parse_key(&p.key) {
            return Err(fail("key", e.to_string()));
        }
        let values = match (&p.values, p.from, p.to, p.steps, p.step) {
            (Some(values), None, None, None, None) if !values.is_empty() => values.clone(),
            (Some(_), None, None, None, None) => return Err(fail("values", "is empty".to_string())),
            (None, Some(from), Some(to), Some(steps), None) => {
                if steps == 0 || steps as usize > MAX_POINTS {
                    return Err(fail("steps", format!("must be 1 to {MAX_POINTS}, got {steps}")));
                }
                range_steps(from, to, steps)
            }
            (None, Some(from), Some(to), None, Some(step)) => {
                range_by(from, to, step).map_err(|e| fail("step", e.to_string()))?
            }
            _ => {
                return Err(located(
                    tree,
                    at.clone(),
                    "needs `values = [...]`, or `from`, `to` and one of `steps` or `step`".to_string(),
                ))
            }
        };
        if out
            .iter()
            .any(|(k, _): &(String, Vec<toml::Value>)| same_key(k, &p.key))
        {
            return Err(fail("key", format!("{} is swept twice", p.key)));
        }
        out.push((p.key.clone(), values));
    }
    Ok(out)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::analysis::parameters::range_steps;

    pub(in crate::commands::sweep) fn grid(a: u32, b: &[i64]) -> Points {
        let b = b.iter().map(|&v| toml::Value::Integer(v)).collect();
        let parameters = [("a".to_string(), range_steps(0.0, 1.0, a)), ("b".to_string(), b)];
        Points {
            keys: vec!["a".into(), "b".into()],
            grid: Combined::new(parameters.to_vec(), Combine::Grid).unwrap(),
            rows: vec![Vec::new()],
            scattered: false,
        }
    }

    #[test]
    fn points_are_made_in_the_order_they_were_listed() {
        let points = Points {
            keys: vec!["a".into(), "b".into(), "c".into()],
            rows: vec![vec![toml::Value::Integer(7)], vec![toml::Value::Integer(8)]],
            ..grid(2, &[1, 2, 3])
        };
        assert_eq!(points.len(), 12);
        let number = |v: &toml::Value| v.as_float().or(v.as_integer().map(|i| i as f64)).unwrap();
        let all: Vec<Vec<f64>> = (0..12).map(|p| points.values(p).iter().map(number).collect()).collect();
        assert_eq!(all[0], [0.0, 1.0, 7.0]);
        assert_eq!(all[1], [0.0, 2.0, 7.0]);
        assert_eq!(all[3], [1.0, 1.0, 7.0]);
        assert_eq!(all[6], [0.0, 1.0, 8.0]);
        assert_eq!(all[11], [1.0, 3.0, 8.0]);
    }
}
