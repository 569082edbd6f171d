//! Reading input files, in one place and always bounded: scenarios, observations, design
//! files, parameter sets, and the output folders `compare` and `merge` read back.
//!
//! - Only regular files are read (a device such as `/dev/zero`, a pipe or a socket is
//!   refused at once), and never more bytes than the caller's limit: the limit counts
//!   the bytes read, not the size the file system reports.
//! - Text must be UTF-8 without NUL bytes; an error names the line and column of the
//!   first bad byte.
//! - CSV tables ([`read_table`]) are read from that text, so every error carries the line
//!   (and, for a bad cell, the column) where it is; header names must be distinct; rows
//!   must have the header's number of fields.
//! - Numbers ([`Table::number`]) must be finite and within the range the caller gives.
//!
//! Errors are [`InputError`]s: the file, where in it, and what is wrong.

use std::fmt;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Where a bad input is, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InputError {
    pub path: PathBuf,
    /// 1-based line, if the problem is on one.
    pub line: Option<usize>,
    /// 1-based column (in characters), if known.
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

impl InputError {
    pub fn new(path: &Path, message: impl Into<String>) -> InputError {
        InputError {
            path: path.to_path_buf(),
            line: None,
            column: None,
            message: message.into(),
        }
    }

    pub fn at(path: &Path, line: usize, column: Option<usize>, message: impl Into<String>) -> InputError {
        InputError {
            path: path.to_path_buf(),
            line: Some(line),
            column,
            message: message.into(),
        }
    }
}

/// A size for messages: `10 MiB`, `512 KiB`.
fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes % (1 << 20) == 0 {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes % (1 << 10) == 0 {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

/// The error a [`Bounded`] reader gives past its limit.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("is larger than {}", size(*.0))]
pub struct TooLarge(pub u64);

/// A reader that fails once more than its limit has been read from it.
pub struct Bounded<R> {
    inner: R,
    left: u64,
    limit: u64,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            // Only an error if there is more to read.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::other(TooLarge(self.limit))),
            };
        }
        let cap = buf.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..cap])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// Opens a regular file for reading at most `limit` bytes; `what` names the kind of file
/// in messages (`scenario`, `observations`).
pub fn open(path: &Path, limit: u64, what: &str) -> Result<Bounded<fs::File>, InputError> {
    let fail = |message: String| InputError::new(path, message);
    let meta = fs::metadata(path).map_err(|e| fail(format!("cannot read the file: {e}")))?;
    if meta.is_dir() {
        return Err(fail("is a directory, not a file".to_string()));
    }
    if !meta.is_file() {
        return Err(fail(format!(
            "is not a regular file (a device, pipe or socket); {what} input must be a file"
        )));
    }
    let file = fs::File::open(path).map_err(|e| fail(format!("cannot read the file: {e}")))?;
    Ok(Bounded {
        inner: file,
        left: limit,
        limit,
    })
}

/// Reads a whole regular file, at most `limit` bytes.
pub fn read_bytes(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>, InputError> {
    let mut reader = open(path, limit, what)?;
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).map_err(|e| match too_large(&e) {
        Some(limit) => InputError::new(path, format!("{limit}; {what} files are limited to {}", size(limit.0))),
        None => InputError::new(path, format!("cannot read the file: {e}")),
    })?;
    Ok(bytes)
}

/// The limit a [`Bounded`] reader reached, if that is what `e` is.
pub fn too_large(e: &io::Error) -> Option<TooLarge> {
    e.get_ref().and_then(|inner| inner.downcast_ref::<TooLarge>()).copied()
}

/// 1-based line and column (in characters) of byte `offset` of `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[start..].chars().count() + 1)
}

/// Reads a whole regular file as UTF-8 text without NUL bytes, at most `limit` bytes.
pub fn read_text(path: &Path, limit: u64, what: &str) -> Result<String, InputError> {
    let bytes = read_bytes(path, limit, what)?;
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        let valid = String::from_utf8_lossy(&bytes[..at]);
        let (line, column) = line_column(&valid, valid.len());
        return Err(InputError::at(
            path,
            line,
            Some(column),
            format!("contains NUL bytes: it looks like a binary file, not {what} text"),
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let valid = String::from_utf8_lossy(&e.as_bytes()[..offset]).into_owned();
        let (line, column) = line_column(&valid, valid.len());
        InputError::at(
            path,
            line,
            Some(column),
            format!("is not valid UTF-8 (bad byte at offset {offset}); save the file as UTF-8"),
        )
    })
}

/// One row of a table: its line in the file and its fields, trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub line: usize,
    pub fields: Vec<String>,
}

/// A CSV table read whole: the header and the rows, each with its line.
#[derive(Debug, Clone)]
pub struct Table {
    pub path: PathBuf,
    pub header: Vec<String>,
    pub rows: Vec<Row>,
}

/// Reads a CSV table of at most `limit` bytes and `max_rows` rows. Fields are trimmed;
/// the header's names must be distinct and non-empty; every row must have as many fields
/// as the header.
pub fn read_table(path: &Path, limit: u64, max_rows: usize, what: &str) -> Result<Table, InputError> {
    let text = read_text(path, limit, what)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let line_of = |byte: u64| line_column(&text, usize::try_from(byte).unwrap_or(usize::MAX)).0;
    let csv_error = |e: csv::Error| {
        let line = e.position().map_or(1, |p| line_of(p.byte()));
        let message = match e.kind() {
            csv::ErrorKind::Io(e) => format!("cannot be read: {e}"),
            _ => format!("is not valid CSV: {e}"),
        };
        InputError::at(path, line, None, message)
    };
    let mut records = reader.records();
    let header: Vec<String> = match records.next() {
        Some(record) => record.map_err(csv_error)?.iter().map(str::to_string).collect(),
        None => {
            return Err(InputError::new(
                path,
                format!("is empty: {what} files start with a header row"),
            ))
        }
    };
    for (i, name) in header.iter().enumerate() {
        if name.is_empty() {
            return Err(InputError::at(path, 1, Some(i + 1), "a column has no name".to_string()));
        }
        if let Some(j) = header[..i].iter().position(|other| other == name) {
            return Err(InputError::at(
                path,
                1,
                Some(i + 1),
                format!("column {name:?} is given twice (columns {} and {})", j + 1, i + 1),
            ));
        }
    }
    let mut rows = Vec::new();
    for record in records {
        let record = record.map_err(csv_error)?;
        let line = record.position().map_or(1, |p| line_of(p.byte()));
        if record.len() == 1 && record[0].is_empty() {
            continue; // A blank line.
        }
        if record.len() != header.len() {
            return Err(InputError::at(
                path,
                line,
                None,
                format!("has {} fields, the header has {}", record.len(), header.len()),
            ));
        }
        if rows.len() == max_rows {
            return Err(InputError::at(
                path,
                line,
                None,
                format!("more than {max_rows} rows: {what} files are limited to {max_rows}"),
            ));
        }
        rows.push(Row {
            line,
            fields: record.iter().map(str::to_string).collect(),
        });
    }
    Ok(Table {
        path: path.to_path_buf(),
        header,
        rows,
    })
}

impl Table {
    /// The index of column `name`, or an error naming the columns expected.
    pub fn column(&self, name: &str, expected: &str) -> Result<usize, InputError> {
        self.header.iter().position(|h| h == name).ok_or_else(|| {
            InputError::at(
                &self.path,
                1,
                None,
                format!("no column \"{name}\" (expected {expected})"),
            )
        })
    }

    /// An error at a cell of `row` (column `column`, 0-based).
    pub fn error(&self, row: &Row, column: usize, message: impl Into<String>) -> InputError {
        InputError::at(&self.path, row.line, Some(column + 1), message)
    }

    /// The cell as a number: finite, and zero or of a magnitude in `range` (so that ratios
    /// and logarithms of it stay finite).
    pub fn number(&self, row: &Row, column: usize, what: &str, range: (f64, f64)) -> Result<f64, InputError> {
        let text = &row.fields[column];
        let value: f64 = text
            .parse()
            .map_err(|_| self.error(row, column, format!("{what} {text:?} is not a number")))?;
        let (lo, hi) = range;
        if !value.is_finite() {
            return Err(self.error(row, column, format!("{what} {text} is not a finite number")));
        }
        if value != 0.0 && !(lo..=hi).contains(&value.abs()) {
            return Err(self.error(
                row,
                column,
                format!("{what} {text} is out of range: a number is 0 or of magnitude {lo:e} to {hi:e}"),
            ));
        }
        Ok(value)
    }

    /// The cell as a whole number in `lo..=hi`.
    pub fn whole(&self, row: &Row, column: usize, what: &str, lo: i64, hi: i64) -> Result<i64, InputError> {
        let text = &row.fields[column];
        text.parse::<i64>()
            .ok()
            .filter(|v| (lo..=hi).contains(v))
            .ok_or_else(|| {
                self.error(
                    row,
                    column,
                    format!("{what} {text:?} is not a whole number from {lo} to {hi}"),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn reading_is_bounded_by_bytes_read_and_only_of_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = file(dir.path(), "a.txt", &[b'a'; 100]);
        assert_eq!(read_bytes(&path, 100, "text").unwrap().len(), 100);
        let err = read_bytes(&path, 99, "text").unwrap_err();
        assert!(err.message.contains("larger than 99 bytes"), "{err}");
        let err = read_bytes(dir.path(), 100, "text").unwrap_err();
        assert!(err.message.contains("is a directory"), "{err}");
        #[cfg(unix)]
        {
            let started = std::time::Instant::now();
            let err = read_bytes(Path::new("/dev/zero"), 10 << 20, "observations").unwrap_err();
            assert!(err.message.contains("not a regular file"), "{err}");
            assert!(started.elapsed() < std::time::Duration::from_secs(1));
        }
    }

    #[test]
    fn text_errors_name_the_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = file(dir.path(), "latin1.csv", b"a,b\r\n1,2\r\n3,\xe9t\xe9\r\n");
        let err = read_text(&path, 1000, "observations").unwrap_err();
        assert_eq!((err.line, err.column), (Some(3), Some(3)), "{err}");
        let path = file(dir.path(), "nul.csv", b"a,b\n1,\x002\n");
        let err = read_text(&path, 1000, "observations").unwrap_err();
        assert_eq!((err.line, err.column), (Some(2), Some(3)), "{err}");
        assert!(err.message.contains("NUL"), "{err}");
    }

    #[test]
    fn tables_name_the_line_of_every_problem() {
        let dir = tempfile::tempdir().unwrap();
        let path = file(dir.path(), "t.csv", b"a,b\n1,2\n\n\"x\ny\",3\n4\n");
        let err = read_table(&path, 1000, 10, "design").unwrap_err();
        assert_eq!(err.line, Some(6), "{err}");
        assert!(err.message.contains("has 1 fields, the header has 2"), "{err}");
        let path = file(dir.path(), "t.csv", b"a,b\n1,2\n\"x\ny\",3\n");
        let table = read_table(&path, 1000, 10, "design").unwrap();
        assert_eq!(table.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 3]);
        let err = read_table(&path, 1000, 1, "design").unwrap_err();
        assert_eq!(err.line, Some(3), "{err}");
        let path = file(dir.path(), "t.csv", b"a, b ,a\n1,2,3\n");
        let err = read_table(&path, 1000, 10, "design").unwrap_err();
        assert_eq!((err.line, err.column), (Some(1), Some(3)), "{err}");
        let path = file(dir.path(), "t.csv", b"");
        assert!(read_table(&path, 1000, 10, "design")
            .unwrap_err()
            .message
            .contains("is empty"));
    }

    #[test]
    fn numbers_are_finite_and_in_range() {
        let dir = tempfile::tempdir().unwrap();
        let path = file(dir.path(), "t.csv", b"v\n1.5\n0\n-2\n1e-320\ninf\nNaN\nlots\n1e300\n");
        let table = read_table(&path, 1000, 10, "observations").unwrap();
        let range = (1e-12, 1e12);
        let values: Vec<Result<f64, InputError>> =
            table.rows.iter().map(|r| table.number(r, 0, "value", range)).collect();
        assert_eq!(values[0], Ok(1.5));
        assert_eq!(values[1], Ok(0.0));
        assert_eq!(values[2], Ok(-2.0));
        for (i, bad) in values.iter().enumerate().skip(3) {
            let err = bad.as_ref().unwrap_err();
            assert_eq!(err.line, Some(i + 2), "{err}");
            assert_eq!(err.column, Some(1));
        }
    }
}
