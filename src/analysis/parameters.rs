//! Parameters and designs, in one place: the key paths an analysis varies, their values
//! and ranges, and where points come from.
//!
//! - [`Base`]: a scenario read once, to lay many sets of overrides over
//!   ([`crate::scenario::overrides`]): every value is validated like one in the file.
//! - [`Parameter`] ranges of the `[sensitivity]` and `[calibration]` tables
//!   ([`parameters`]), and the overrides of a point in unit coordinates ([`overrides`]).
//! - Values of swept parameters: lists and ranges ([`parse_set`], [`range_steps`],
//!   [`range_by`]) combined as a grid or zipped ([`Combine`], [`Combined`], each point made
//!   when asked for).
//! - Design files, CSV with a header of key paths ([`read_design`]); parameter-sets
//!   files have the same form and are read by [`crate::analysis::sets`].

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use crate::input::{self, InputError};
use crate::job::JobError;
use crate::scenario::file::SensitivityParameterFile;
use crate::scenario::overrides::{parse_key, parse_value, Override, ScenarioTree};
use crate::scenario::source::KeyPath;
use crate::scenario::{LoadedScenario, Problem, ScenarioError};

/// Most points a sweep or design holds.
pub const MAX_POINTS: usize = 100_000;
/// Largest design or parameter-sets file read.
pub const MAX_DESIGN_BYTES: u64 = 64 * 1024 * 1024;

/// A scenario read once for an analysis that lays many sets of overrides over it: the
/// merged tree, and the scenario resolved without overrides.
pub struct Base {
    pub tree: ScenarioTree,
    pub loaded: LoadedScenario,
}

impl Base {
    pub fn read(path: &Path) -> Result<Base, JobError> {
        let invalid = || JobError::scenario(format!("{} is not a valid scenario", path.display()));
        let tree = ScenarioTree::read(path).map_err(invalid())?;
        let loaded = tree.resolve(&[]).map_err(invalid())?;
        Ok(Base { tree, loaded })
    }

    /// The built-in baseline, read once.
    pub fn builtin() -> Result<Base, JobError> {
        let invalid = || JobError::scenario("the built-in baseline is not valid");
        let tree = ScenarioTree::builtin_baseline().map_err(invalid())?;
        let loaded = tree.resolve(&[]).map_err(invalid())?;
        Ok(Base { tree, loaded })
    }

    /// The scenario with `overrides` laid over it; an invalid one is described by `context`.
    pub fn with(&self, overrides: &[Override], context: impl FnOnce() -> String) -> Result<LoadedScenario, JobError> {
        self.tree.resolve(overrides).map_err(|error| JobError::Scenario {
            context: context(),
            error,
        })
    }
}

/// How swept parameters combine into points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Combine {
    /// Every combination, the last parameter varying fastest.
    Grid,
    /// The i-th values together.
    Zip,
}

impl FromStr for Combine {
    type Err = ValuesError;

    fn from_str(text: &str) -> Result<Combine, ValuesError> {
        match text {
            "grid" => Ok(Combine::Grid),
            "zip" => Ok(Combine::Zip),
            other => Err(ValuesError(format!(
                "combine must be \"grid\" or \"zip\", got {other:?}"
            ))),
        }
    }
}

impl fmt::Display for Combine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Combine::Grid => "grid",
            Combine::Zip => "zip",
        })
    }
}

/// Swept values that cannot be formed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValuesError(String);

impl From<ValuesError> for JobError {
    fn from(e: ValuesError) -> JobError {
        JobError::Usage(e.0)
    }
}

/// An uncertain parameter: a key path and its range.
#[derive(Debug, Clone)]
pub struct Parameter {
    pub key: String,
    pub min: f64,
    pub max: f64,
    pub integer: bool,
}

impl Parameter {
    /// The value at unit coordinate `u` in [0, 1].
    pub fn value(&self, u: f64) -> f64 {
        let v = self.min + u.clamp(0.0, 1.0) * (self.max - self.min);
        if self.integer {
            v.round()
        } else {
            v
        }
    }
}

/// A problem in the analysis table `table` of a scenario, located in its file.
pub fn table_problem(tree: &ScenarioTree, table: &str, path: KeyPath, message: String) -> JobError {
    JobError::Scenario {
        context: format!("the [{table}] table is not valid"),
        error: ScenarioError {
            problems: vec![Problem {
                location: tree.locate(&path),
                key: path.to_string(),
                message,
            }],
        },
    }
}

/// The parameters and ranges of the analysis table `table` (`sensitivity` or
/// `calibration`), checked: valid keys, real ranges, no repeats.
pub fn parameters(
    tree: &ScenarioTree,
    table: &str,
    specs: &[SensitivityParameterFile],
    path: &Path,
) -> Result<Vec<Parameter>, JobError> {
    let problem = |path: KeyPath, message: String| table_problem(tree, table, path, message);
    if specs.is_empty() {
        return Err(JobError::Usage(format!(
            "{} has no [[{table}.parameters]]: give each parameter's key and range (see docs/analysis.md)",
            path.display()
        )));
    }
    let mut out: Vec<Parameter> = Vec::new();
    for (i, p) in specs.iter().enumerate() {
        let at = KeyPath::root().key(table).key("parameters").index(i);
        parse_key(&p.key).map_err(|e| problem(at.key("key"), e.to_string()))?;
        if !(p.min.is_finite() && p.max.is_finite() && p.min < p.max) {
            return Err(problem(
                at.key("max"),
                format!("must be above min ({} .. {} is not a range)", p.min, p.max),
            ));
        }
        if p.integer && (p.min.fract() != 0.0 || p.max.fract() != 0.0) {
            return Err(problem(
                at.key("min"),
                "min and max of an integer parameter must be whole numbers".to_string(),
            ));
        }
        if out.iter().any(|q| q.key == p.key) {
            return Err(problem(at.key("key"), format!("{} is listed twice", p.key)));
        }
        out.push(Parameter {
            key: p.key.clone(),
            min: p.min,
            max: p.max,
            integer: p.integer,
        });
    }
    Ok(out)
}

/// The overrides of a point in unit coordinates of the parameters' ranges.
pub fn overrides(parameters: &[Parameter], unit: &[f64]) -> Vec<Override> {
    parameters
        .iter()
        .zip(unit)
        .map(|(p, &u)| (p.key.clone(), tidy_number(p.value(u))))
        .collect()
}

/// Rounds to 12 significant digits, so ranges give 0.08 rather than 0.07999999999999999,
/// and makes whole numbers TOML integers (which integer and real keys both accept).
pub fn tidy_number(value: f64) -> toml::Value {
    let rounded: f64 = format!("{value:.11e}").parse().unwrap_or(value);
    if rounded.fract() == 0.0 && rounded.abs() < 1e15 {
        toml::Value::Integer(rounded as i64)
    } else {
        toml::Value::Float(rounded)
    }
}

/// `steps` evenly spaced values from `from` to `to`, ends included.
pub fn range_steps(from: f64, to: f64, steps: u32) -> Vec<toml::Value> {
    if steps <= 1 {
        return vec![tidy_number(from)];
    }
    (0..steps)
        .map(|k| tidy_number(from + (to - from) * f64::from(k) / f64::from(steps - 1)))
        .collect()
}

/// Values from `from` by `step` up to `to` (with a little slack for rounding).
pub fn range_by(from: f64, to: f64, step: f64) -> Result<Vec<toml::Value>, ValuesError> {
    if !(step.is_finite() && from.is_finite() && to.is_finite()) || step == 0.0 || (to - from) / step < 0.0 {
        return Err(ValuesError(format!("a step of {step} never goes from {from} to {to}")));
    }
    let count = ((to - from) / step + 1e-9).floor() as usize + 1;
    if count > MAX_POINTS {
        return Err(ValuesError(format!("{count} values; at most {MAX_POINTS}")));
    }
    Ok((0..count).map(|k| tidy_number(from + step * k as f64)).collect())
}

/// Parses `KEY=VALUES`: `a,b,c` (a list) or `FROM..TO:N` (N evenly spaced values).
pub fn parse_set(text: &str) -> Result<(String, Vec<toml::Value>), ValuesError> {
    parse_set_text(text).map_err(ValuesError)
}

fn parse_set_text(text: &str) -> Result<(String, Vec<toml::Value>), String> {
    let (key, values) = text
        .split_once('=')
        .ok_or_else(|| format!("--set {text:?}: expected KEY=VALUES, e.g. model.alignment_inertia=0.04,0.08"))?;
    let key = key.trim();
    parse_key(key).map_err(|e| format!("--set {text:?}: {e}"))?;
    let values = values.trim();
    if let Some((range, n)) = values.rsplit_once(':').filter(|(r, _)| r.contains("..")) {
        let (from, to) = range.split_once("..").expect("checked");
        let parse = |s: &str| -> Result<f64, String> {
            s.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| format!("--set {text:?}: {s:?} is not a number"))
        };
        let n: u32 = n
            .trim()
            .parse()
            .ok()
            .filter(|n| (1..=MAX_POINTS as u32).contains(n))
            .ok_or_else(|| format!("--set {text:?}: {n:?} is not a number of points (1 to {MAX_POINTS})"))?;
        return Ok((key.to_string(), range_steps(parse(from)?, parse(to)?, n)));
    }
    if values.contains("..") {
        return Err(format!(
            "--set {text:?}: a range needs its number of points, e.g. {key}=0.5..2:4"
        ));
    }
    let list: Vec<toml::Value> = values
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(parse_value)
        .collect();
    if list.is_empty() {
        return Err(format!("--set {text:?}: no values"));
    }
    Ok((key.to_string(), list))
}

/// Swept parameters' values combined into points: every combination (`grid`, the last
/// parameter varying fastest) or the i-th values together (`zip`). A point is made when
/// asked for, so a grid of 100,000 points holds only its parameters' lists.
#[derive(Debug, Clone, PartialEq)]
pub struct Combined {
    values: Vec<Vec<toml::Value>>,
    zip: bool,
    len: usize,
}

impl Combined {
    /// The points of `parameters` combined `how`; a zip of lists of different lengths, or
    /// a grid of more than [`MAX_POINTS`] points, is refused.
    pub fn new(parameters: Vec<(String, Vec<toml::Value>)>, how: Combine) -> Result<Combined, ValuesError> {
        let zip = how == Combine::Zip;
        let len = if parameters.is_empty() {
            1
        } else if zip {
            let n = parameters[0].1.len();
            if let Some((key, values)) = parameters.iter().find(|(_, v)| v.len() != n) {
                return Err(ValuesError(format!(
                    "combine = \"zip\" needs lists of one length: {} has {n} values, {key} has {}",
                    parameters[0].0,
                    values.len()
                )));
            }
            n
        } else {
            parameters
                .iter()
                .try_fold(1usize, |acc, (_, v)| acc.checked_mul(v.len()))
                .filter(|&t| t <= MAX_POINTS)
                .ok_or_else(|| ValuesError(format!("the grid has more than {MAX_POINTS} points")))?
        };
        let values = parameters.into_iter().map(|(_, v)| v).collect();
        Ok(Combined { values, zip, len })
    }

    /// How many points.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none (a parameter without values).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many values the parameters' lists hold (what a `Combined` keeps).
    pub fn values_held(&self) -> usize {
        self.values.iter().map(Vec::len).sum()
    }

    /// Point `index`'s values, one per parameter, appended to `out`.
    pub fn point_into(&self, mut index: usize, out: &mut Vec<toml::Value>) {
        if self.zip {
            out.extend(self.values.iter().map(|v| v[index].clone()));
            return;
        }
        let start = out.len();
        out.extend(self.values.iter().map(|_| toml::Value::Boolean(false)));
        for (slot, values) in out[start..].iter_mut().zip(&self.values).rev() {
            *slot = values[index % values.len()].clone();
            index /= values.len();
        }
    }

    /// Point `index`'s values, one per parameter.
    pub fn point(&self, index: usize) -> Vec<toml::Value> {
        let mut out = Vec::with_capacity(self.values.len());
        self.point_into(index, &mut out);
        out
    }
}

/// Reads a design: a CSV header of key paths, then one row of values per point.
pub fn read_design(path: &Path) -> Result<(Vec<String>, Vec<Vec<toml::Value>>), JobError> {
    let table = input::read_table(path, MAX_DESIGN_BYTES, MAX_POINTS, "design")?;
    let mut parsed: Vec<Vec<String>> = Vec::with_capacity(table.header.len());
    for (c, key) in table.header.iter().enumerate() {
        let segments = parse_key(key).map_err(|e| InputError::at(path, 1, Some(c + 1), e.to_string()))?;
        if let Some(first) = parsed.iter().position(|p| *p == segments) {
            return Err(InputError::at(
                path,
                1,
                Some(c + 1),
                format!(
                    "{key} is the key of column {} again: give each parameter once",
                    first + 1
                ),
            )
            .into());
        }
        parsed.push(segments);
    }
    let mut rows = Vec::with_capacity(table.rows.len());
    for row in &table.rows {
        if let Some(c) = row.fields.iter().position(String::is_empty) {
            return Err(table.error(row, c, "every column needs a value").into());
        }
        rows.push(row.fields.iter().map(|v| parse_value(v)).collect());
    }
    if rows.is_empty() {
        return Err(JobError::input(path, "has a header but no points"));
    }
    Ok((table.header, rows))
}

/// Whether two key paths name the same place (`"model".x` is `model.x`).
pub fn same_key(a: &str, b: &str) -> bool {
    matches!((parse_key(a), parse_key(b)), (Ok(a), Ok(b)) if a == b)
}

/// Where a command's parameter sets come from (read by [`crate::analysis::sets`]).
pub use super::sets::ParameterSets;

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn floats(values: &[toml::Value]) -> Vec<f64> {
        values
            .iter()
            .map(|v| v.as_float().or_else(|| v.as_integer().map(|i| i as f64)).unwrap())
            .collect()
    }

    #[test]
    fn ranges_are_tidy_and_include_their_ends() {
        assert_eq!(floats(&range_steps(0.04, 0.16, 4)), [0.04, 0.08, 0.12, 0.16]);
        assert_eq!(
            range_steps(2.0, 8.0, 4),
            (1..=4).map(|k| toml::Value::Integer(2 * k)).collect::<Vec<_>>()
        );
        assert_eq!(floats(&range_by(0.0, 1.0, 0.25).unwrap()), [0.0, 0.25, 0.5, 0.75, 1.0]);
        assert!(range_by(0.0, 1.0, -0.1).is_err());
        assert_eq!(floats(&range_by(0.1, 0.3, 0.1).unwrap()), [0.1, 0.2, 0.3]);
    }

    #[test]
    fn set_parses_lists_and_ranges() {
        let (key, values) = parse_set("patrons.USA.investment_budget_usd_bn=0.6,1.5,3").unwrap();
        assert_eq!(key, "patrons.USA.investment_budget_usd_bn");
        assert_eq!(
            values,
            [
                toml::Value::Float(0.6),
                toml::Value::Float(1.5),
                toml::Value::Integer(3)
            ]
        );
        let (_, values) = parse_set("model.alignment_inertia=0.04..0.16:4").unwrap();
        assert_eq!(floats(&values), [0.04, 0.08, 0.12, 0.16]);
        let (_, values) = parse_set("patrons.USA.strategy.rule=fixed,learning").unwrap();
        assert_eq!(values[1], toml::Value::String("learning".into()));
        for bad in ["novalue", "a=0..1", "a=0..1:0", "a=x..1:3", "a b=1", "a="] {
            assert!(parse_set(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn grids_and_zips_combine_as_documented() {
        let p = |k: &str, v: &[i64]| {
            (
                k.to_string(),
                v.iter().map(|&x| toml::Value::Integer(x)).collect::<Vec<_>>(),
            )
        };
        let all = |c: Combined| (0..c.len()).map(|i| c.point(i)).collect::<Vec<_>>();
        let grid = all(Combined::new(vec![p("a", &[1, 2]), p("b", &[10, 20, 30])], Combine::Grid).unwrap());
        assert_eq!(grid.len(), 6);
        assert_eq!(grid[0], [toml::Value::Integer(1), toml::Value::Integer(10)]);
        assert_eq!(grid[1], [toml::Value::Integer(1), toml::Value::Integer(20)]);
        assert_eq!(grid[5], [toml::Value::Integer(2), toml::Value::Integer(30)]);
        let zip = all(Combined::new(vec![p("a", &[1, 2]), p("b", &[10, 20])], Combine::Zip).unwrap());
        assert_eq!(
            zip,
            [
                [toml::Value::Integer(1), toml::Value::Integer(10)],
                [toml::Value::Integer(2), toml::Value::Integer(20)]
            ]
        );
        assert!(Combined::new(vec![p("a", &[1, 2]), p("b", &[10])], Combine::Zip).is_err());
        assert_eq!(
            all(Combined::new(Vec::new(), Combine::Grid).unwrap()),
            [Vec::<toml::Value>::new()]
        );
        let big = Combined::new(vec![p("a", &[1; 1000]), p("b", &[2; 1000])], Combine::Grid);
        assert!(big.unwrap_err().to_string().contains("more than"));
    }

    #[test]
    fn designs_read_keys_and_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("design.csv");
        fs::write(
            &path,
            "model.alignment_inertia, patrons.USA.strategy.rule\n0.05, fixed\n0.1,learning\n",
        )
        .unwrap();
        let (keys, rows) = read_design(&path).unwrap();
        assert_eq!(keys, ["model.alignment_inertia", "patrons.USA.strategy.rule"]);
        assert_eq!(
            rows[1],
            [toml::Value::Float(0.1), toml::Value::String("learning".into())]
        );
        fs::write(&path, "a\n").unwrap();
        assert!(read_design(&path).is_err());
        fs::write(&path, "a,b\n1,\n").unwrap();
        assert!(read_design(&path).unwrap_err().to_string().contains("line 2"));
        // `"a".b`, quoted for CSV: the same key path as `a.b`.
        fs::write(&path, "a.b,\"\"\"a\"\".b\"\n1,2\n").unwrap();
        let err = read_design(&path).unwrap_err().to_string();
        assert!(err.contains("column 1 again"), "{err}");
    }
}
