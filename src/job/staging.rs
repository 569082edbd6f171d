//! Output folders, written whole or not at all.
//!
//! Every command writes its folder into a hidden staging folder beside the destination,
//! `.<name>.partial-<pid>`, and moves it into place only when every file is complete
//! ([`write_folder`]). An earlier folder of that name is first set aside as
//! `.<name>.old-<pid>`; if the new folder cannot be moved into place, the old one is put
//! back (rollback), and the error says what really happened. A failure or interruption
//! before the move removes the staging folder, so nothing half-written is left under the
//! destination's name.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::error::JobError;
use crate::manifest::{read_header, Header};

/// An output folder being written.
#[derive(Debug)]
pub struct Staging {
    /// Hidden folder the files are written into.
    pub dir: PathBuf,
    /// Where it will be moved to.
    pub destination: PathBuf,
    /// Set once the folder has been moved into place; until then dropping removes it, so
    /// even a panic while writing leaves nothing behind.
    committed: bool,
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// What the destination held before it was replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replaced {
    /// Nothing: the folder is new.
    Nothing,
    /// An earlier output of the same command, inputs and seed.
    Same,
    /// An earlier greatgame output of something else, described by its manifest's header.
    Output(Header),
    /// Something without a greatgame manifest.
    Other,
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
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

/// A hidden sibling of `destination`: `.<name>.<what>-<pid>`.
fn sibling(destination: &Path, what: &str) -> PathBuf {
    destination.with_file_name(format!(".{}.{what}-{}", file_name(destination), std::process::id()))
}

impl Staging {
    /// Creates the staging folder of `destination` (and the folders above it).
    pub fn create(destination: &Path) -> Result<Staging, JobError> {
        if destination.exists() && !destination.is_dir() {
            return Err(JobError::Io {
                context: format!(
                    "{} exists and is not a folder; move it away or choose another --out",
                    destination.display()
                ),
                source: io::Error::from(io::ErrorKind::AlreadyExists),
            });
        }
        if file_name(destination).is_empty() {
            return Err(JobError::Usage(format!(
                "{} does not name a folder to write",
                destination.display()
            )));
        }
        let parent = destination.parent().filter(|p| !p.as_os_str().is_empty());
        let creating = |e| {
            JobError::io(format!(
                "creating a folder in {}",
                parent.unwrap_or(Path::new(".")).display()
            ))(e)
        };
        if let Some(parent) = parent {
            fs::create_dir_all(parent).map_err(creating)?;
        }
        let dir = sibling(destination, "partial");
        if dir.exists() {
            fs::remove_dir_all(&dir).map_err(creating)?;
        }
        fs::create_dir(&dir).map_err(creating)?;
        Ok(Staging {
            dir,
            destination: destination.to_path_buf(),
            committed: false,
        })
    }

    /// Moves the finished folder into place, replacing what was there; on failure the
    /// earlier folder is put back and the error says so.
    pub fn commit(mut self) -> Result<(Replaced, Option<PathBuf>), JobError> {
        let destination = self.destination.clone();
        let moving = |e: io::Error, what: &str| JobError::Commit {
            context: format!("moving the finished output into {}{what}", destination.display()),
            source: e,
        };
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
            (Some(old), _) => Replaced::Output(old),
            (None, _) => Replaced::Other,
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
/// wrote; on success the folder is moved into place, on failure it is removed.
pub fn write_folder(
    destination: &Path,
    write: impl FnOnce(&Path) -> Result<Vec<String>, JobError>,
) -> Result<Written, JobError> {
    let staging = Staging::create(destination)?;
    let files = write(&staging.dir)?;
    let dir = staging.destination.clone();
    let (replaced, left_aside) = staging.commit()?;
    Ok(Written {
        dir,
        files,
        replaced,
        left_aside,
    })
}

/// Refuses a destination that is neither new, nor empty, nor the output of an earlier
/// `greatgame <command>`: a command whose `--out` names its folder itself must not
/// replace a whole folder of other results (`--out output`).
pub fn ensure_replaceable(destination: &Path, command: &str) -> Result<(), JobError> {
    let replaceable = match fs::read_dir(destination) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => true,
        Err(_) => false,
        Ok(mut entries) => {
            entries.next().is_none()
                || fs::read_to_string(destination.join("manifest.json"))
                    .ok()
                    .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
                    .is_some_and(|m| m.get("command").and_then(|c| c.as_str()) == Some(command))
        }
    };
    if replaceable {
        Ok(())
    } else {
        Err(JobError::Usage(format!(
            "{} exists and is not the output of an earlier `greatgame {command}`; it would be replaced: \
             give a new folder with --out",
            destination.display()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_is_written_whole_and_replaces_the_earlier_one() {
        let root = tempfile::tempdir().unwrap();
        let destination = root.path().join("out");
        let written = write_folder(&destination, |dir| {
            fs::write(dir.join("a.txt"), "one").unwrap();
            Ok(vec!["a.txt".into()])
        })
        .unwrap();
        assert_eq!(written.replaced, Replaced::Nothing);
        let written = write_folder(&destination, |dir| {
            fs::write(dir.join("b.txt"), "two").unwrap();
            Ok(vec!["b.txt".into()])
        })
        .unwrap();
        assert_eq!(written.replaced, Replaced::Other);
        assert!(written.left_aside.is_none());
        assert!(!destination.join("a.txt").exists() && destination.join("b.txt").is_file());
        let names: Vec<_> = fs::read_dir(root.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["out"], "nothing hidden is left beside the folder");
    }

    #[test]
    fn a_failure_leaves_the_earlier_folder_and_nothing_else() {
        let root = tempfile::tempdir().unwrap();
        let destination = root.path().join("out");
        fs::create_dir(&destination).unwrap();
        fs::write(destination.join("keep.txt"), "mine").unwrap();
        let result = write_folder(&destination, |dir| {
            fs::write(dir.join("half.txt"), "half").unwrap();
            Err(JobError::Usage("stop".into()))
        });
        assert!(result.is_err());
        assert_eq!(fs::read_to_string(destination.join("keep.txt")).unwrap(), "mine");
        let names: Vec<_> = fs::read_dir(root.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["out"]);
    }

    #[test]
    fn a_file_in_the_way_is_refused_and_kept() {
        let root = tempfile::tempdir().unwrap();
        let destination = root.path().join("out");
        fs::write(&destination, "a file").unwrap();
        assert!(Staging::create(&destination).is_err());
        assert_eq!(fs::read_to_string(&destination).unwrap(), "a file");
    }
}
