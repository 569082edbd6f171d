//! The layout ARCHITECTURE.md promises, checked on the source: the top-level modules
//! import each other without a circle, no command imports another command, the model
//! does no I/O and never sees the scenario file format, no library function returns
//! `Result<_, String>`, both crate roots forbid `unsafe`, and no source file is over 800
//! lines unless ARCHITECTURE.md gives the reason.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

mod common;

use common::repo;

/// Every `.rs` file under `dir`, sorted.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("listing {}: {e}", dir.display())) {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(files.len() > 20, "expected the sources under {}", dir.display());
    files
}

/// A file's code without its unit tests and comments (what it imports when built). A
/// file named `tests.rs` is a unit-test module of its folder (declared `#[cfg(test)] mod
/// tests;`), built only for the tests.
fn code(path: &Path) -> String {
    if path.file_name().is_some_and(|n| n == "tests.rs") {
        return String::new();
    }
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => &text[..],
    };
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `src/<top>/...` or `src/<top>.rs` -> `top`; `None` for the crate roots.
fn top_module(src: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(src).expect("under src");
    let first = relative.components().next()?.as_os_str().to_string_lossy().into_owned();
    let name = first.trim_end_matches(".rs").to_string();
    (name != "lib" && name != "main").then_some(name)
}

/// The modules `text` names as `crate::<module>`.
fn crate_imports(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            found.insert(name);
        }
    }
    found
}

#[test]
fn top_level_modules_import_each_other_without_a_circle() {
    let src = repo().join("src");
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in sources(&src) {
        let Some(top) = top_module(&src, &path) else {
            continue;
        };
        let imports = crate_imports(&code(&path));
        let entry = edges.entry(top.clone()).or_default();
        entry.extend(imports.into_iter().filter(|m| *m != top));
    }
    assert!(edges.contains_key("commands") && edges.contains_key("job"), "{edges:?}");
    // Depth-first search for a back edge.
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_string(), 1);
        path.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            match state.get(next.as_str()) {
                Some(1) => {
                    let start = path.iter().position(|p| p == next).expect("on the path");
                    let mut circle = path[start..].to_vec();
                    circle.push(next.clone());
                    return Some(circle);
                }
                Some(_) => {}
                None => {
                    if let Some(circle) = visit(next, edges, state, path) {
                        return Some(circle);
                    }
                }
            }
        }
        path.pop();
        state.insert(node.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in edges.keys() {
        if !state.contains_key(node.as_str()) {
            let circle = visit(node, &edges, &mut state, &mut Vec::new());
            assert!(
                circle.is_none(),
                "import circle: {}",
                circle.unwrap_or_default().join(" -> ")
            );
        }
    }
    // The layers that must stay below others.
    for (module, forbidden) in [
        (
            "model",
            ["scenario", "output", "job", "commands", "analysis"].as_slice(),
        ),
        ("analysis", ["commands", "output"].as_slice()),
        (
            "chart",
            ["commands", "analysis", "output", "metrics", "model", "ensemble"].as_slice(),
        ),
        ("output", ["commands", "analysis", "job", "scenario"].as_slice()),
        ("job", ["commands", "analysis"].as_slice()),
        (
            "input",
            ["commands", "analysis", "job", "output", "scenario", "model", "ensemble"].as_slice(),
        ),
    ] {
        let imports = edges.get(module).cloned().unwrap_or_default();
        for other in forbidden {
            assert!(!imports.contains(*other), "{module} imports {other}");
        }
    }
}

#[test]
fn no_command_imports_another_command() {
    let commands = repo().join("src").join("commands");
    let names: Vec<String> = fs::read_dir(&commands)
        .expect("src/commands")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.file_name().is_some_and(|n| n != "mod.rs"))
        .map(|p| p.file_stem().expect("name").to_string_lossy().into_owned())
        .collect();
    assert!(names.len() >= 7, "{names:?}");
    for path in sources(&repo().join("src"))
        .into_iter()
        .filter(|p| p.starts_with(&commands))
    {
        let relative = path.strip_prefix(&commands).expect("under commands");
        let own = relative
            .components()
            .next()
            .expect("a name")
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        let text = code(&path);
        for other in names.iter().filter(|n| **n != own && own != "mod") {
            assert!(
                !text.contains(&format!("commands::{other}")),
                "{} imports the command {other}",
                path.display()
            );
        }
    }
}

#[test]
fn the_model_does_no_io_and_never_sees_the_file_format() {
    let model = repo().join("src").join("model");
    for path in sources(&repo().join("src"))
        .into_iter()
        .filter(|p| p.starts_with(&model))
    {
        let text = code(&path);
        for forbidden in [
            "std::fs",
            "std::env",
            "std::time",
            "SystemTime",
            "Instant",
            "thread_rng",
            "rand::rng(",
            "println!",
            "eprintln!",
            "crate::scenario",
            "toml::",
        ] {
            assert!(!text.contains(forbidden), "{} uses {forbidden}", path.display());
        }
    }
}

#[test]
fn no_library_function_returns_a_bare_string_error() {
    let src = repo().join("src");
    for path in sources(&src) {
        if path.ends_with("main.rs") || path.ends_with("cli.rs") || path.starts_with(src.join("model")) {
            continue;
        }
        for (n, line) in code(&path).lines().enumerate() {
            let public = line.trim_start().starts_with("pub fn") || line.trim_start().starts_with("pub(crate) fn");
            assert!(
                !(public && line.contains(", String>")),
                "{}:{}: a library function returns Result<_, String>: {line}",
                path.display(),
                n + 1
            );
        }
    }
}

#[test]
fn both_crate_roots_forbid_unsafe_code() {
    for root in ["lib.rs", "main.rs"] {
        let text = fs::read_to_string(repo().join("src").join(root)).expect("crate root");
        assert!(
            text.contains("#![forbid(unsafe_code)]"),
            "src/{root} does not forbid unsafe code"
        );
    }
}

#[test]
fn long_source_files_have_their_reason_in_architecture_md() {
    let architecture = fs::read_to_string(repo().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    // The reasons are in their own section; a file named elsewhere has given none.
    let section = architecture
        .split("### Files over 800 lines")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("ARCHITECTURE.md has a section \"Files over 800 lines\"");
    let src = repo().join("src");
    for path in sources(&src) {
        let lines = fs::read_to_string(&path).expect("source").lines().count();
        let relative = path
            .strip_prefix(repo())
            .expect("in the repository")
            .display()
            .to_string();
        if lines > 820 {
            assert!(
                section.contains(&format!("`{relative}`")),
                "{relative} has {lines} lines: split it or say why in ARCHITECTURE.md (naming it as `{relative}`)"
            );
        }
    }
}

#[test]
fn only_the_binary_prints_or_exits() {
    let src = repo().join("src");
    for path in sources(&src).into_iter().filter(|p| !p.ends_with("main.rs")) {
        let text = code(&path);
        for forbidden in ["println!", "eprintln!", "print!(", "process::exit"] {
            assert!(!text.contains(forbidden), "{} uses {forbidden}", path.display());
        }
    }
}

#[test]
fn no_hash_map_outside_tests() {
    for path in sources(&repo().join("src")) {
        let text = code(&path);
        for forbidden in ["HashMap", "HashSet"] {
            assert!(
                !text.contains(forbidden),
                "{} uses {forbidden}: its iteration order would reach an output",
                path.display()
            );
        }
    }
}
