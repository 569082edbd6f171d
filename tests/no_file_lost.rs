//! A property: no command ever deletes or changes a file it did not write.
//!
//! Each case lays a random tree of the user's files where a command will write (its
//! destination, hidden names like the staging folder's, files beside it), runs the
//! command, and checks that every file of the tree is still there with its bytes. The
//! only thing a command may replace is an earlier output of greatgame, and the cases
//! include one, which may be replaced whole.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use proptest::prelude::*;

mod common;

use common::*;

/// What the user may have put where the command writes (relative to the output root;
/// `{d}` is the destination folder's name).
const PLACES: [&str; 10] = [
    "{d}/thesis.txt",
    "{d}/chapters/one.md",
    "{d}/manifest.json",
    "{d}/summary.csv",
    ".{d}.partial-1/notes.txt",
    ".{d}.old-2/notes.txt",
    ".{d}.partial-4194310/draft.txt",
    "{d}.txt",
    "other/{d}/keep.txt",
    "keep.txt",
];

/// The commands, each with its destination's name under the root `out`.
fn command(which: usize, work: &Path) -> (Vec<String>, &'static str) {
    let scenario = work.join("base.toml");
    let scenario = path_str(&scenario).to_string();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    match which {
        0 => (
            s(&["run", &scenario, "-n", "2", "--no-charts", "-q", "--out", "out"]),
            "base",
        ),
        1 => (
            s(&[
                "sweep",
                &scenario,
                "--set",
                "model.alignment_inertia=0.1",
                "-n",
                "2",
                "--no-charts",
                "-q",
                "--out",
                "out",
            ]),
            "sweep-base",
        ),
        _ => (
            s(&[
                "compare",
                &scenario,
                &scenario,
                "-n",
                "2",
                "--no-charts",
                "-q",
                "--out",
                "out",
            ]),
            "compare-base-vs-base-2",
        ),
    }
}

/// Every file under `dir`, by relative path, with its bytes (none if it is missing).
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    if dir.is_dir() {
        snapshot(dir)
    } else {
        BTreeMap::new()
    }
}

fn case(which: usize, places: &[(usize, Vec<u8>)], earlier_output: bool) -> Result<(), TestCaseError> {
    let work = tempfile::tempdir().expect("temporary folder");
    variant(work.path(), "baseline", "base", 2, Some(2), "");
    let (args, destination) = command(which, work.path());
    let root = work.path().join("out");
    fs::create_dir_all(&root).unwrap();
    if earlier_output {
        // An earlier output of the same command: the one thing that may be replaced.
        let strs: Vec<&str> = args.iter().map(String::as_str).collect();
        ok(work.path(), &strs);
    }
    let mut written: BTreeMap<PathBuf, Vec<u8>> = BTreeMap::new();
    for (place, bytes) in places {
        let relative = PLACES[*place].replace("{d}", destination);
        let path = root.join(&relative);
        if earlier_output && path.starts_with(root.join(destination)) {
            continue; // inside the earlier output, which is replaced whole
        }
        if path.exists() || path.ancestors().skip(1).any(|a| a.is_file()) {
            continue;
        }
        if fs::create_dir_all(path.parent().unwrap()).is_err() {
            continue; // a file of the user's is in the way of a folder
        }
        fs::write(&path, bytes).unwrap();
        written.insert(PathBuf::from(relative), bytes.clone());
    }
    let before = files(&root);
    let strs: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = greatgame(work.path(), &strs);
    let after = files(&root);
    for (relative, bytes) in &written {
        prop_assert_eq!(
            after.get(relative),
            Some(bytes),
            "{} was removed or changed by {:?}: {}",
            relative.display(),
            args,
            describe(&output)
        );
    }
    let user_in_destination = written.keys().any(|p| p.starts_with(destination));
    if user_in_destination {
        prop_assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
        prop_assert_eq!(&after, &before, "a refused command changed the tree");
    } else {
        prop_assert!(output.status.success(), "{}", describe(&output));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn no_command_deletes_a_file_it_did_not_write(
        which in 0usize..3,
        places in proptest::collection::vec((0..PLACES.len(), proptest::collection::vec(any::<u8>(), 0..64)), 0..6),
        earlier_output in any::<bool>(),
    ) {
        case(which, &places, earlier_output)?;
    }
}
