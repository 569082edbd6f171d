//! Output folders, written whole or not at all, and never in place of anything but an
//! earlier greatgame output.
//!
//! **The rule** ([`check_destination`]): a command writes its folder only where there is
//! nothing, an empty folder, or an earlier output of greatgame (its `manifest.json` says
//! so, or, for a shard's partial result, its `shard.json`); anything else (a user's
//! folder, a file, a link) is refused with exit 2 before any work, and left as it was.
//!
//! **Whole or not at all** ([`write_folder`]): the folder is written into a hidden
//! staging folder beside the destination, `.<name>.partial-<pid>`, and moved into place
//! only when every file is complete. An earlier output of that name is first set aside as
//! `.<name>.old-<pid>`; if the new folder cannot be moved into place, the old one is put
//! back (rollback), and the error says what really happened. A failure or interruption
//! before the move removes the staging folder.
//!
//! **Leftovers of killed processes** ([`remove_stale`]): a process killed outright
//! (SIGKILL, power loss) leaves its staging folder behind. The next command that writes
//! beside it removes staging folders whose process no longer runs on this machine (each
//! holds a marker naming its process and host), and puts back an earlier output a killed
//! process had set aside but not replaced.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::error::JobError;
use super::Cancel;
use crate::manifest::{read_header, Header};
use crate::shard::SHARD_MANIFEST;

/// The file in a staging folder that says whose it is: `<pid> <host>`.
const MARKER: &str = ".greatgame-staging";

/// Largest `manifest.json` read to decide whether a folder is greatgame output.
const MAX_MANIFEST_BYTES: u64 = 64 * 1024 * 1024;

/// An output folder being written.
#[derive(Debug)]
pub struct Staging {
    /// Hidden folder the files are written into.
    pub dir: PathBuf,
    /// Where it will be moved to.
    pub destination: PathBuf,
    /// What was cleaned up beside the destination (see [`remove_stale`]).
    pub notes: Vec<String>,
    /// The folders above the destination that were made for it, deepest first: removed
    /// again, if still empty, when the folder is not committed.
    made: Vec<PathBuf>,
    /// Set once the folder has been moved into place; until then dropping removes it (and
    /// the folders made for it), so even a panic while writing leaves nothing behind.
    committed: bool,
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.dir);
            for folder in &self.made {
                // Only an empty folder goes: another process may have written beside us.
                let _ = fs::remove_dir(folder);
            }
        }
    }
}

/// What the destination held before it was replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replaced {
    /// Nothing: the folder is new (or was an empty folder).
    Nothing,
    /// An earlier output of the same command, inputs and seed.
    Same,
    /// An earlier greatgame output of something else, described by its manifest's header.
    Output(Box<Header>),
    /// A greatgame output of an earlier version, whose manifest has no header.
    Other,
    /// Another shard's partial result, described (`shard 1/4 of a sweep`).
    Shard(String),
}

/// Where an output folder went and what it holds.
#[derive(Debug, Clone)]
pub struct Written {
    pub dir: PathBuf,
    /// The files written, relative to `dir`, in the manifest's order.
    pub files: Vec<String>,
    /// What the folder replaced.
    pub replaced: Replaced,
    /// The replaced folder, set aside, if it could not be removed afterwards.
    pub left_aside: Option<PathBuf>,
    /// What was cleaned up beside it: leftovers of killed processes.
    pub notes: Vec<String>,
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

/// A hidden sibling of `destination`: `.<name>.<what>-<pid>`.
fn sibling(destination: &Path, what: &str) -> PathBuf {
    destination.with_file_name(format!(".{}.{what}-{}", file_name(destination), std::process::id()))
}

/// The JSON object in `dir/name`, if that is a regular file of at most
/// [`MAX_MANIFEST_BYTES`] holding one.
fn json_object(dir: &Path, name: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    let path = dir.join(name);
    if !fs::symlink_metadata(&path).ok()?.is_file() {
        return None;
    }
    let mut text = String::new();
    let read = fs::File::open(&path).and_then(|f| f.take(MAX_MANIFEST_BYTES + 1).read_to_string(&mut text));
    if read.is_err() || text.len() as u64 > MAX_MANIFEST_BYTES {
        return None;
    }
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(serde_json::Value::Object(object)) => Some(object),
        _ => None,
    }
}

/// The `shard.json` of a shard's partial result in `dir` (a run's or a design's), if the
/// folder holds one: its `format` is greatgame's shard format.
fn shard_manifest(dir: &Path) -> Option<serde_json::Map<String, serde_json::Value>> {
    json_object(dir, SHARD_MANIFEST)
        .filter(|m| m.get("format").and_then(serde_json::Value::as_str) == Some(crate::shard::FORMAT))
}

/// Whether two shard manifests are of the same shard of the same job: kind, shard and
/// what the job is (a design's identity; a run's scenario, seed and replicates).
fn same_shard(a: &serde_json::Map<String, serde_json::Value>, b: &serde_json::Map<String, serde_json::Value>) -> bool {
    ["kind", "shard", "identity", "scenario_hash", "seed", "replicates"]
        .iter()
        .all(|key| a.get(*key) == b.get(*key))
}

/// `shard 1/4 of a sweep`, from a shard manifest.
fn describe_shard(m: &serde_json::Map<String, serde_json::Value>) -> String {
    let number = |key: &str| {
        m.get("shard")
            .and_then(|s| s.get(key))
            .and_then(serde_json::Value::as_u64)
            .map_or_else(|| "?".to_string(), |n| n.to_string())
    };
    let kind = match m.get("kind").and_then(serde_json::Value::as_str) {
        Some("ensemble") | None => "run",
        Some(kind) => kind,
    };
    format!("shard {}/{} of a {kind}", number("index"), number("count"))
}

/// Whether `dir` holds an output of greatgame: a `manifest.json` with the header's
/// `format`, or the fields every manifest of earlier versions had (the version that wrote
/// it and the command line); or a shard's partial result (its `shard.json` says so), so
/// that the same shard run again replaces it.
pub fn is_greatgame_output(dir: &Path) -> bool {
    if let Some(manifest) = json_object(dir, "manifest.json") {
        let field = |key: &str| manifest.get(key).and_then(serde_json::Value::as_str);
        if field("format") == Some(crate::manifest::FORMAT)
            || ((field("greatgame_version").is_some() || field("crate_version").is_some())
                && manifest.get("command_line").is_some_and(serde_json::Value::is_array))
        {
            return true;
        }
    }
    shard_manifest(dir).is_some()
}

/// The one rule for an output folder: `destination` may be written if nothing is there,
/// an empty folder, or an earlier output of greatgame; anything else is refused (exit 2)
/// and left as it was. Every command asks before it starts its work, and again just
/// before it moves its folder into place.
pub fn check_destination(destination: &Path) -> Result<(), JobError> {
    if file_name(destination).is_empty() {
        return Err(JobError::Usage(format!(
            "{} does not name a folder to write",
            destination.display()
        )));
    }
    let refuse = |what: &str| {
        JobError::Usage(format!(
            "{} {what}: greatgame replaces only an earlier output of its own (a folder whose \
             manifest.json it wrote); move it away or give another --out",
            destination.display()
        ))
    };
    match fs::symlink_metadata(destination) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(JobError::Io {
            context: format!("cannot inspect {}", destination.display()),
            source: e,
        }),
        Ok(meta) if meta.file_type().is_symlink() => Err(refuse("is a link")),
        Ok(meta) if !meta.is_dir() => Err(refuse("exists and is not a folder")),
        Ok(_) => {
            let empty = fs::read_dir(destination).is_ok_and(|mut entries| entries.next().is_none());
            if empty || is_greatgame_output(destination) {
                Ok(())
            } else {
                Err(refuse("exists and is not an output of greatgame"))
            }
        }
    }
}

/// This machine's name, as well as it can be known without a system call: staging
/// folders on shared file systems are cleaned only by their own machine.
fn host_name() -> Option<String> {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|path| fs::read_to_string(path).ok())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
}

/// Whether process `pid` runs on this machine; `true` when that cannot be told.
fn process_runs(pid: u32) -> bool {
    if Path::new("/proc/self").exists() {
        return Path::new("/proc").join(pid.to_string()).exists();
    }
    #[cfg(unix)]
    {
        std::process::Command::new("kill")
            .args(["-0", &pid.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .map_or(true, |status| status.success())
    }
    #[cfg(not(unix))]
    {
        true
    }
}

/// The process and host a staging folder's marker names, if it has one.
fn marker_of(dir: &Path) -> Option<(u32, String)> {
    let text = fs::read_to_string(dir.join(MARKER)).ok()?;
    let (pid, host) = text.trim().split_once(' ')?;
    Some((pid.parse().ok()?, host.to_string()))
}

/// Removes what killed processes left beside `destination`: their staging folders
/// (`.<name>.partial-<pid>` holding this machine's marker, its process gone) and the
/// earlier outputs they had set aside (`.<name>.old-<pid>`, put back if the destination
/// is missing, removed otherwise). Nothing else is touched. Returns what it did, for
/// messages.
pub fn remove_stale(destination: &Path) -> Vec<String> {
    let mut done = Vec::new();
    let name = file_name(destination);
    let Some(parent) = destination.parent() else {
        return done;
    };
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    let Ok(entries) = fs::read_dir(parent) else {
        return done;
    };
    let Some(host) = host_name() else {
        return done;
    };
    let ours = std::process::id();
    let mut entries: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let entry = file_name(&path);
        let Some(rest) = entry.strip_prefix(&format!(".{name}.")) else {
            continue;
        };
        let (kind, pid) = match rest.split_once('-') {
            Some((kind @ ("partial" | "old"), pid)) => match pid.parse::<u32>() {
                Ok(pid) => (kind, pid),
                Err(_) => continue,
            },
            _ => continue,
        };
        if pid == ours || process_runs(pid) || !fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
            continue;
        }
        if kind == "partial" {
            if marker_of(&path).is_some_and(|(p, h)| p == pid && h == host) && fs::remove_dir_all(&path).is_ok() {
                done.push(format!(
                    "removed {}, left by a process that no longer runs",
                    path.display()
                ));
            }
        } else if is_greatgame_output(&path) {
            if !destination.exists() {
                if fs::rename(&path, destination).is_ok() {
                    done.push(format!(
                        "put back {} as {}: a process that no longer runs had set it aside",
                        path.display(),
                        destination.display()
                    ));
                }
            } else if fs::remove_dir_all(&path).is_ok() {
                done.push(format!(
                    "removed {}, an earlier output a process that no longer runs had replaced",
                    path.display()
                ));
            }
        }
    }
    done
}

impl Staging {
    /// Creates the staging folder of `destination` (and the folders above it), after
    /// checking the rule and removing what killed processes left there.
    pub fn create(destination: &Path) -> Result<Staging, JobError> {
        check_destination(destination)?;
        let parent = destination.parent().filter(|p| !p.as_os_str().is_empty());
        let creating = |e| {
            JobError::io(format!(
                "creating a folder in {}",
                parent.unwrap_or(Path::new(".")).display()
            ))(e)
        };
        let mut made = Vec::new();
        if let Some(parent) = parent {
            let mut missing = Some(parent);
            while let Some(folder) = missing.filter(|f| !f.as_os_str().is_empty() && fs::symlink_metadata(f).is_err()) {
                made.push(folder.to_path_buf());
                missing = folder.parent();
            }
            fs::create_dir_all(parent).map_err(creating)?;
        }
        let notes = remove_stale(destination);
        let dir = sibling(destination, "partial");
        if fs::symlink_metadata(&dir).is_ok() {
            // Ours from an earlier process of the same number, or not ours at all.
            if !marker_of(&dir).is_some_and(|(pid, _)| pid == std::process::id()) {
                return Err(JobError::Usage(format!(
                    "{} is in the way of the staging folder and is not greatgame's; move it away",
                    dir.display()
                )));
            }
            fs::remove_dir_all(&dir).map_err(creating)?;
        }
        fs::create_dir(&dir).map_err(creating)?;
        let staging = Staging {
            dir,
            destination: destination.to_path_buf(),
            notes,
            made,
            committed: false,
        };
        let marker = format!("{} {}\n", std::process::id(), host_name().unwrap_or_default());
        fs::write(staging.dir.join(MARKER), marker).map_err(creating)?;
        Ok(staging)
    }

    /// Moves the finished folder into place, replacing what was there; on failure the
    /// earlier folder is put back and the error says so.
    pub fn commit(mut self) -> Result<(Replaced, Option<PathBuf>), JobError> {
        let destination = self.destination.clone();
        let moving = |e: io::Error, what: &str| JobError::Commit {
            context: format!("moving the finished output into {}{what}", destination.display()),
            source: e,
        };
        // The destination may have changed while the job ran.
        check_destination(&destination)?;
        fs::remove_file(self.dir.join(MARKER)).map_err(|e| moving(e, " (nothing was replaced)"))?;
        if !destination.exists() {
            fs::rename(&self.dir, &destination).map_err(|e| moving(e, ""))?;
            self.committed = true;
            return Ok((Replaced::Nothing, None));
        }
        let replaced = match (read_header(&destination), read_header(&self.dir)) {
            (Some(old), Some(new))
                if old.command == new.command && old.inputs == new.inputs && old.seed == new.seed =>
            {
                Replaced::Same
            }
            (Some(old), _) => Replaced::Output(Box::new(old)),
            (None, _) => match (shard_manifest(&destination), shard_manifest(&self.dir)) {
                (Some(old), Some(new)) if same_shard(&old, &new) => Replaced::Same,
                (Some(old), _) => Replaced::Shard(describe_shard(&old)),
                (None, _) if is_greatgame_output(&destination) => Replaced::Other,
                (None, _) => Replaced::Nothing,
            },
        };
        let aside = sibling(&destination, "old");
        fs::rename(&destination, &aside).map_err(|e| moving(e, " (the earlier folder there is untouched)"))?;
        if let Err(e) = fs::rename(&self.dir, &destination) {
            // Put the earlier folder back before reporting.
            return Err(match fs::rename(&aside, &destination) {
                Ok(()) => moving(e, " (the earlier folder there was put back)"),
                Err(back) => moving(
                    e,
                    &format!(
                        " (the earlier folder could not be put back ({back}): it is in {})",
                        aside.display()
                    ),
                ),
            });
        }
        self.committed = true;
        let left_aside = fs::remove_dir_all(&aside).err().map(|_| aside);
        Ok((replaced, left_aside))
    }
}

/// Writes an output folder: `write` fills the staging folder and returns the files it
/// wrote; on success (and if `cancel` was not set meanwhile) the folder is moved into
/// place, on failure or interruption it is removed.
pub fn write_folder(
    destination: &Path,
    cancel: &Cancel,
    write: impl FnOnce(&Path) -> Result<Vec<String>, JobError>,
) -> Result<Written, JobError> {
    let staging = Staging::create(destination)?;
    let files = write(&staging.dir)?;
    if cancel.is_cancelled() {
        return Err(JobError::Interrupted {
            context: String::new(),
            replicates: None,
            signal: cancel.signal(),
        });
    }
    let dir = staging.destination.clone();
    let notes = staging.notes.clone();
    let (replaced, left_aside) = staging.commit()?;
    Ok(Written {
        dir,
        files,
        replaced,
        left_aside,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// Writes a folder with a greatgame manifest holding `file`.
    fn write(destination: &Path, cancel: &Cancel, file: &str) -> Result<Written, JobError> {
        write_folder(destination, cancel, |dir| {
            fs::write(dir.join(file), file).unwrap();
            let header = Header::new("run", &[], vec!["x.toml".into()], 1, 2);
            crate::manifest::write(&dir.join("manifest.json"), &header, &serde_json::json!({})).unwrap();
            Ok(vec![file.to_string(), "manifest.json".into()])
        })
    }

    #[test]
    fn a_folder_is_written_whole_and_replaces_an_earlier_output() {
        let root = tempfile::tempdir().unwrap();
        let destination = root.path().join("out");
        let cancel = Cancel::new();
        let written = write(&destination, &cancel, "a.txt").unwrap();
        assert_eq!(written.replaced, Replaced::Nothing);
        let written = write(&destination, &cancel, "b.txt").unwrap();
        assert_eq!(written.replaced, Replaced::Same);
        assert!(written.left_aside.is_none());
        assert!(!destination.join("a.txt").exists() && destination.join("b.txt").is_file());
        assert!(!destination.join(MARKER).exists(), "the marker stays behind");
        assert_eq!(names(root.path()), ["out"], "nothing hidden is left beside the folder");
    }

    #[test]
    fn anything_but_an_earlier_output_is_refused_and_kept() {
        let root = tempfile::tempdir().unwrap();
        let cancel = Cancel::new();
        // A user's folder.
        let mine = root.path().join("mine");
        fs::create_dir(&mine).unwrap();
        fs::write(mine.join("thesis.txt"), "years of work").unwrap();
        let error = write(&mine, &cancel, "a.txt").unwrap_err();
        assert_eq!(error.exit_code(), 2, "{error}");
        assert_eq!(fs::read_to_string(mine.join("thesis.txt")).unwrap(), "years of work");
        // A manifest that is not greatgame's.
        fs::write(mine.join("manifest.json"), "{\"name\": \"mine\"}").unwrap();
        assert_eq!(write(&mine, &cancel, "a.txt").unwrap_err().exit_code(), 2);
        // A file.
        let file = root.path().join("file");
        fs::write(&file, "a file").unwrap();
        assert_eq!(write(&file, &cancel, "a.txt").unwrap_err().exit_code(), 2);
        assert_eq!(fs::read_to_string(&file).unwrap(), "a file");
        // A link to an earlier output.
        #[cfg(unix)]
        {
            let output = root.path().join("output");
            write(&output, &cancel, "a.txt").unwrap();
            let link = root.path().join("link");
            std::os::unix::fs::symlink(&output, &link).unwrap();
            assert_eq!(write(&link, &cancel, "b.txt").unwrap_err().exit_code(), 2);
            assert!(output.join("a.txt").is_file());
        }
        // An empty folder and an output of an earlier version are fine.
        let empty = root.path().join("empty");
        fs::create_dir(&empty).unwrap();
        assert_eq!(write(&empty, &cancel, "a.txt").unwrap().replaced, Replaced::Nothing);
        let old = root.path().join("old");
        fs::create_dir(&old).unwrap();
        fs::write(
            old.join("manifest.json"),
            "{\"crate_version\": \"0.0.1\", \"command_line\": [\"greatgame\"]}",
        )
        .unwrap();
        assert_eq!(write(&old, &cancel, "a.txt").unwrap().replaced, Replaced::Other);
        assert_eq!(names(root.path()), ["empty", "file", "link", "mine", "old", "output"]);
    }

    /// Writes a shard's folder: a `shard.json` of `kind`, shard `index`, and a data file.
    fn write_shard(destination: &Path, kind: &str, index: u64, data: &str) -> Result<Written, JobError> {
        write_folder(destination, &Cancel::new(), |dir| {
            let manifest = serde_json::json!({
                "format": crate::shard::FORMAT,
                "kind": kind,
                "shard": {"index": index, "count": 4},
                "identity": {"points": 10},
            });
            fs::write(dir.join(SHARD_MANIFEST), manifest.to_string()).unwrap();
            fs::write(dir.join("points.bin"), data).unwrap();
            Ok(vec![SHARD_MANIFEST.into(), "points.bin".into()])
        })
    }

    #[test]
    fn a_shard_run_again_replaces_its_folder_but_not_a_users() {
        let root = tempfile::tempdir().unwrap();
        let destination = root.path().join("shards/1/sweep-s");
        assert_eq!(
            write_shard(&destination, "sweep", 1, "first").unwrap().replaced,
            Replaced::Nothing
        );
        assert!(is_greatgame_output(&destination));
        let again = write_shard(&destination, "sweep", 1, "second").unwrap();
        assert_eq!(again.replaced, Replaced::Same);
        assert_eq!(fs::read_to_string(destination.join("points.bin")).unwrap(), "second");
        let other = write_shard(&destination, "sensitivity", 2, "third").unwrap();
        assert_eq!(other.replaced, Replaced::Shard("shard 1/4 of a sweep".into()));
        assert_eq!(names(destination.parent().unwrap()), ["sweep-s"]);

        // A folder of the user's, even with a shard.json of some other program's, stays.
        let mine = root.path().join("mine");
        fs::create_dir_all(&mine).unwrap();
        fs::write(mine.join(SHARD_MANIFEST), r#"{"format": "my shards", "kind": "sweep"}"#).unwrap();
        fs::write(mine.join("points.bin"), "mine").unwrap();
        let error = write_shard(&mine, "sweep", 1, "x").unwrap_err().to_string();
        assert!(error.contains("is not an output of greatgame"), "{error}");
        assert_eq!(fs::read_to_string(mine.join("points.bin")).unwrap(), "mine");
        assert_eq!(names(&mine), ["points.bin", "shard.json"]);
    }

    #[test]
    fn a_folder_never_committed_takes_the_folders_made_for_it_away() {
        let root = tempfile::tempdir().unwrap();
        fs::create_dir(root.path().join("kept")).unwrap();
        let destination = root.path().join("kept/made/deeper/out");
        let error = write_folder(&destination, &Cancel::new(), |_| Err(JobError::Usage("failed".into())));
        assert!(error.is_err());
        assert_eq!(names(root.path()), ["kept"]);
        assert!(
            names(&root.path().join("kept")).is_empty(),
            "the folders made are removed"
        );
        // One another process wrote into meanwhile stays.
        let staging = Staging::create(&destination).unwrap();
        fs::write(root.path().join("kept/made/theirs.txt"), "theirs").unwrap();
        drop(staging);
        assert_eq!(names(&root.path().join("kept/made")), ["theirs.txt"]);
    }

    #[test]
    fn a_failure_or_an_interruption_leaves_the_earlier_output_and_nothing_else() {
        let root = tempfile::tempdir().unwrap();
        let destination = root.path().join("out");
        let cancel = Cancel::new();
        write(&destination, &cancel, "keep.txt").unwrap();
        let result = write_folder(&destination, &cancel, |dir| {
            fs::write(dir.join("half.txt"), "half").unwrap();
            Err(JobError::Usage("stop".into()))
        });
        assert!(result.is_err());
        cancel.cancel(15);
        let error = write(&destination, &cancel, "whole.txt").unwrap_err();
        assert_eq!(error.exit_code(), 143, "{error}");
        assert!(destination.join("keep.txt").is_file() && !destination.join("whole.txt").exists());
        assert_eq!(names(root.path()), ["out"]);
    }

    #[test]
    fn leftovers_of_processes_that_no_longer_run_are_cleaned_and_nothing_else() {
        let root = tempfile::tempdir().unwrap();
        let Some(host) = host_name() else {
            // Without this machine's name nothing is cleaned: a folder could be another
            // machine's on a shared file system.
            let stale = root.path().join(".out.partial-4194310");
            fs::create_dir(&stale).unwrap();
            assert!(remove_stale(&root.path().join("out")).is_empty());
            assert!(stale.exists());
            return;
        };
        let destination = root.path().join("out");
        // No process has this number: pids stay below 2^22 on Linux.
        let dead = 4_194_303 + 7;
        assert!(!process_runs(dead));
        let stale = root.path().join(format!(".out.partial-{dead}"));
        fs::create_dir(&stale).unwrap();
        fs::write(stale.join(MARKER), format!("{dead} {host}\n")).unwrap();
        fs::write(stale.join("summary.csv"), "half").unwrap();
        // A folder of that shape without our marker, or from another machine: kept.
        let foreign = root.path().join(format!(".out.partial-{}", dead + 1));
        fs::create_dir(&foreign).unwrap();
        fs::write(foreign.join("notes.txt"), "mine").unwrap();
        let elsewhere = root.path().join(format!(".out.partial-{}", dead + 2));
        fs::create_dir(&elsewhere).unwrap();
        fs::write(elsewhere.join(MARKER), format!("{} another-host\n", dead + 2)).unwrap();
        // An earlier output set aside by a process killed before it moved its own in.
        let aside = root.path().join(format!(".out.old-{dead}"));
        write(&aside, &Cancel::new(), "earlier.txt").unwrap();
        let notes = remove_stale(&destination);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(!stale.exists());
        assert!(foreign.join("notes.txt").is_file() && elsewhere.exists());
        assert!(
            destination.join("earlier.txt").is_file(),
            "the earlier output is put back"
        );
        assert!(!aside.exists());
    }
}
