//! `manifest.json`: what every command writes beside its output, to say what made it and
//! how to make it again.
//!
//! Every manifest starts with the same typed [`Header`] (which program and version, which
//! command with which command line and inputs, the seed, replicates and parameter sets),
//! followed by the command's own body. The header's `format` marks a folder as greatgame
//! output: what a later command may replace (docs/analysis.md, "Manifests").

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The `format` field of every manifest.
pub const FORMAT: &str = "greatgame output";

/// The start of every `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    pub greatgame_version: String,
    /// The command that made the folder: `run`, `compare`, `sweep`, `sensitivity`,
    /// `levers`, `backtest`, `calibrate` (a merge writes the manifest of the run it
    /// completes).
    pub command: String,
    /// The command line that wrote the folder.
    pub command_line: Vec<String>,
    /// The files and folders the command read, as given (a run: its scenario files).
    pub inputs: Vec<String>,
    pub seed: u64,
    /// Replicates of each ensemble (a backtest: in all).
    pub replicates: u64,
    /// Calibrated parameter sets the replicates were spread over (0: none).
    pub parameter_sets: u64,
    /// The sets themselves, when there are any: replicate `i` ran set `i mod K`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter_set_values: Option<SetsRecord>,
}

/// The parameter sets a command ran, as its manifest records them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetsRecord {
    /// The file they were read from, as given or as the scenario names it.
    pub file: String,
    /// The key paths of the file's columns.
    pub keys: Vec<String>,
    /// One row of values per set, in the file's order (set `k` is row `k`).
    pub sets: Vec<Vec<serde_json::Value>>,
    /// Keys the scenario set itself, differently from the scenario the sets were made
    /// for: every set ran the scenario's own value of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scenario_values_kept: Vec<String>,
}

impl Header {
    /// The header with the parameter sets a command ran (none: 0 and no record).
    pub fn with_sets(mut self, sets: Option<SetsRecord>) -> Header {
        self.parameter_sets = sets.as_ref().map_or(0, |s| s.sets.len() as u64);
        self.parameter_set_values = sets;
        self
    }
}

impl Header {
    /// A header of this version of greatgame.
    pub fn new(command: &str, command_line: &[String], inputs: Vec<String>, seed: u64, replicates: u64) -> Header {
        Header {
            format: FORMAT.to_string(),
            greatgame_version: env!("CARGO_PKG_VERSION").to_string(),
            command: command.to_string(),
            command_line: command_line.to_vec(),
            inputs,
            seed,
            replicates,
            parameter_sets: 0,
            parameter_set_values: None,
        }
    }
}

/// Writes `header` and then the fields of `body` (a struct or JSON object) as one
/// pretty-printed object with a final newline.
pub fn write(path: &Path, header: &Header, body: &impl Serialize) -> io::Result<()> {
    #[derive(Serialize)]
    struct Manifest<'a, B: Serialize> {
        #[serde(flatten)]
        header: &'a Header,
        #[serde(flatten)]
        body: &'a B,
    }
    write_json(path, &Manifest { header, body })
}

/// Writes a JSON value, pretty-printed, with a final newline.
pub fn write_json(path: &Path, value: &impl Serialize) -> io::Result<()> {
    let mut writer = BufWriter::new(fs::File::create(path)?);
    serde_json::to_writer_pretty(&mut writer, value).map_err(io::Error::other)?;
    writer.write_all(b"\n")?;
    writer.flush()?;
    writer.into_inner().map_err(|e| e.into_error())?.sync_all()
}

/// A JSON array whose elements are made one at a time as it is written, so that a long
/// array (every point of a design) is never held whole. It writes exactly what the
/// `Vec` of its elements would.
pub struct LazyArray<F: Fn(usize) -> serde_json::Value> {
    pub len: usize,
    pub element: F,
}

impl<F: Fn(usize) -> serde_json::Value> Serialize for LazyArray<F> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq((0..self.len).map(&self.element))
    }
}

/// The header of `dir/manifest.json`, if the folder has a greatgame manifest.
pub fn read_header(dir: &Path) -> Option<Header> {
    let text = fs::read_to_string(dir.join("manifest.json")).ok()?;
    let header: Header = serde_json::from_str(&text).ok()?;
    (header.format == FORMAT).then_some(header)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_comes_first_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let header = Header::new("sweep", &["greatgame".to_string()], vec!["a.toml".into()], 7, 20);
        write(
            &dir.path().join("manifest.json"),
            &header,
            &serde_json::json!({"points": 3}),
        )
        .unwrap();
        let text = fs::read_to_string(dir.path().join("manifest.json")).unwrap();
        assert!(text.starts_with("{\n  \"format\": \"greatgame output\""), "{text}");
        assert!(text.ends_with("\"points\": 3\n}\n"), "{text}");
        assert_eq!(read_header(dir.path()), Some(header));
        fs::write(dir.path().join("manifest.json"), "{\"format\": \"other\"}").unwrap();
        assert_eq!(read_header(dir.path()), None);
    }

    #[test]
    fn lazy_arrays_write_what_their_vectors_would() {
        let element = |i: usize| serde_json::json!({"point": i + 1, "values": {"b": [i, 0.5], "a": "x"}});
        let whole = serde_json::json!({"points": (0..3).map(element).collect::<Vec<_>>(), "z": 1});
        #[derive(Serialize)]
        #[serde(bound = "")]
        struct Lazy<F: Fn(usize) -> serde_json::Value> {
            points: LazyArray<F>,
            z: u32,
        }
        let lazy = Lazy {
            points: LazyArray { len: 3, element },
            z: 1,
        };
        assert_eq!(
            serde_json::to_string_pretty(&lazy).unwrap(),
            serde_json::to_string_pretty(&whole).unwrap()
        );
        let empty = LazyArray { len: 0, element };
        assert_eq!(serde_json::to_string(&empty).unwrap(), "[]");
    }
}
