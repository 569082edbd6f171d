//! `points.bin`, a design shard's points: written a point at a time as they are computed,
//! read back a point at a time by a merge, every byte checksummed.

use std::fs;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::ops::Range;
use std::path::Path;

use super::{Point, POINTS_FILE};
use crate::hash::Fnv1a;
use crate::input;
use crate::job::JobError;
use crate::shard::{self, MergeError, SHARD_MANIFEST};

/// The first bytes of `points.bin`.
const MAGIC: &[u8; 16] = b"greatgame points";
/// Largest count of numbers one point may carry (a sweep point's outcomes, say).
const MAX_VALUES_PER_POINT: u64 = 1 << 26;

/// `points.bin`, written a point at a time: the magic, the first and end point, then for
/// each point its count of numbers, the numbers (every `f64` as its little-endian bits),
/// its note's length plus one (0: no note) and the note's UTF-8 bytes; then the FNV-1a of
/// every byte before it. Every integer is a little-endian `u64`.
pub(super) struct PointsWriter {
    out: BufWriter<fs::File>,
    hash: Fnv1a,
}

impl PointsWriter {
    pub(super) fn create(path: &Path, range: Range<usize>) -> io::Result<PointsWriter> {
        let mut writer = PointsWriter {
            out: BufWriter::new(fs::File::create(path)?),
            hash: Fnv1a::new(),
        };
        writer.put(MAGIC)?;
        writer.put(&(range.start as u64).to_le_bytes())?;
        writer.put(&(range.end as u64).to_le_bytes())?;
        Ok(writer)
    }

    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.hash.update(bytes);
        self.out.write_all(bytes)
    }

    pub(super) fn push(&mut self, point: &Point) -> io::Result<()> {
        self.put(&(point.values.len() as u64).to_le_bytes())?;
        for v in &point.values {
            self.put(&v.to_bits().to_le_bytes())?;
        }
        match &point.note {
            None => self.put(&0u64.to_le_bytes()),
            Some(note) => {
                self.put(&(note.len() as u64 + 1).to_le_bytes())?;
                self.put(note.as_bytes())
            }
        }
    }

    pub(super) fn finish(mut self) -> io::Result<()> {
        let sum = self.hash.finish();
        self.out.write_all(&sum.to_le_bytes())?;
        self.out.into_inner().map_err(|e| e.into_error())?.sync_all()
    }
}

/// Writes `points.bin` of the points `range` at once.
#[cfg(test)]
fn write_points(path: &Path, range: Range<usize>, results: &[Point]) -> io::Result<()> {
    let mut out = PointsWriter::create(path, range)?;
    for point in results {
        out.push(point)?;
    }
    out.finish()
}

/// Checks `points.bin` of `folder` against the checksum `shard.json` records.
pub(super) fn check_points(folder: &Path, recorded: Option<&String>) -> Result<(), MergeError> {
    let unreadable = |message: String| MergeError::Unreadable {
        folder: folder.to_path_buf(),
        message,
    };
    let whole = shard::file_checksum(&folder.join(POINTS_FILE))
        .map_err(|e| unreadable(format!("cannot read {POINTS_FILE}: {e}")))?;
    match recorded {
        Some(sum) if *sum == whole => Ok(()),
        Some(_) => Err(unreadable(format!(
            "{POINTS_FILE} does not match the checksum {SHARD_MANIFEST} records: the file was changed, cut short or damaged"
        ))),
        None => Err(unreadable(format!("{SHARD_MANIFEST} records no checksum of {POINTS_FILE}"))),
    }
}

/// Reads `points.bin` of `folder`, which must hold the points `range` and match the
/// checksum `shard.json` records, handing each point to `each` as it is read (the whole
/// file's checksum is checked first, so no point of a changed file is handed over).
pub(super) fn read_points(
    folder: &Path,
    range: Range<u64>,
    recorded: Option<&String>,
    mut each: impl FnMut(usize, Point) -> Result<(), JobError>,
) -> Result<(), JobError> {
    let unreadable = |message: String| MergeError::Unreadable {
        folder: folder.to_path_buf(),
        message,
    };
    let path = folder.join(POINTS_FILE);
    check_points(folder, recorded)?;
    let size = fs::metadata(&path)
        .map_err(|e| unreadable(format!("cannot read {POINTS_FILE}: {e}")))?
        .len();
    let file = input::open(&path, size, "points")
        .map_err(|e| unreadable(format!("cannot read {POINTS_FILE}: {}", e.message)))?;
    let mut reader = Counted {
        inner: BufReader::with_capacity(1 << 20, file),
        hash: Fnv1a::new(),
        left: size,
    };
    let short = |e: io::Error| unreadable(format!("{POINTS_FILE} is cut short or unreadable: {e}"));
    let mut magic = [0u8; 16];
    reader.bytes(&mut magic).map_err(short)?;
    if &magic != MAGIC {
        return Err(unreadable(format!("{POINTS_FILE} is not a greatgame points file")).into());
    }
    let (first, end) = (reader.word().map_err(short)?, reader.word().map_err(short)?);
    if (first..end) != range {
        return Err(unreadable(format!(
            "{POINTS_FILE} holds points {first}..{end}, but {SHARD_MANIFEST} names {}..{}",
            range.start, range.end
        ))
        .into());
    }
    for p in first..end {
        let count = reader.word().map_err(short)?;
        if count > MAX_VALUES_PER_POINT || count.saturating_mul(8) > reader.left {
            return Err(unreadable(format!("{POINTS_FILE} is damaged (a point of {count} numbers)")).into());
        }
        let mut values = Vec::with_capacity(count as usize);
        for _ in 0..count {
            values.push(f64::from_bits(reader.word().map_err(short)?));
        }
        let note = match reader.word().map_err(short)? {
            0 => None,
            n if n - 1 > reader.left.min(MAX_VALUES_PER_POINT) => {
                return Err(unreadable(format!("{POINTS_FILE} is damaged (a note of {} bytes)", n - 1)).into())
            }
            n => {
                let mut bytes = vec![0u8; (n - 1) as usize];
                reader.bytes(&mut bytes).map_err(short)?;
                Some(
                    String::from_utf8(bytes)
                        .map_err(|_| unreadable(format!("{POINTS_FILE} is damaged (a note is not UTF-8)")))?,
                )
            }
        };
        each(p as usize, Point { values, note })?;
    }
    let expected = reader.hash.finish();
    let stored = reader.word().map_err(short)?;
    if stored != expected || reader.left != 0 {
        return Err(unreadable(format!(
            "{POINTS_FILE} is damaged (its checksum does not match its contents)"
        ))
        .into());
    }
    Ok(())
}

/// A reader of `points.bin` that hashes what it reads and counts what is left.
struct Counted<R> {
    inner: R,
    hash: Fnv1a,
    left: u64,
}

impl<R: Read> Counted<R> {
    fn bytes(&mut self, buf: &mut [u8]) -> io::Result<()> {
        if buf.len() as u64 > self.left {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "end of file"));
        }
        self.inner.read_exact(buf)?;
        self.hash.update(buf);
        self.left -= buf.len() as u64;
        Ok(())
    }

    fn word(&mut self) -> io::Result<u64> {
        let mut buf = [0u8; 8];
        self.bytes(&mut buf)?;
        Ok(u64::from_le_bytes(buf))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_files_read_back_exactly_and_refuse_damage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(POINTS_FILE);
        let results = vec![
            Point::from(vec![1.5, -0.0, f64::MIN_POSITIVE]),
            Point {
                values: vec![],
                note: Some("skipped: not valid".to_string()),
            },
            Point::from(vec![f64::NAN, 1e300]),
        ];
        write_points(&path, 3..6, &results).unwrap();
        let sum = shard::file_checksum(&path).unwrap();
        let read = |range: Range<u64>, sum: &String| -> Result<Vec<Point>, String> {
            let mut back = Vec::new();
            read_points(dir.path(), range, Some(sum), |p, point| {
                back.push((p, point));
                Ok(())
            })
            .map_err(|e| e.to_string())?;
            assert!(
                back.iter().enumerate().all(|(i, (p, _))| *p == i + 3),
                "point numbers in order"
            );
            Ok(back.into_iter().map(|(_, point)| point).collect())
        };
        let back = read(3..6, &sum).unwrap();
        let bits = |r: &[Point]| -> Vec<(Vec<u64>, Option<String>)> {
            r.iter()
                .map(|p| (p.values.iter().map(|x| x.to_bits()).collect(), p.note.clone()))
                .collect()
        };
        assert_eq!(bits(&back), bits(&results));
        assert!(read(3..7, &sum).is_err());
        let mut bytes = fs::read(&path).unwrap();
        bytes[40] ^= 1;
        fs::write(&path, &bytes).unwrap();
        assert!(read(3..6, &sum).is_err());
        let resummed = shard::file_checksum(&path).unwrap();
        let error = read(3..6, &resummed).unwrap_err();
        assert!(error.contains("damaged"), "{error}");
    }
}
