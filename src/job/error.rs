//! Every way a command can fail, each with its exit code: the binary prints the error and
//! exits with [`JobError::exit_code`], and has no table of its own.

use std::io;
use std::path::PathBuf;

use crate::chart::ChartError;
use crate::ensemble::EnsembleError;
use crate::input::InputError;
use crate::output::OutputError;
use crate::scenario::ScenarioError;
use crate::shard::{MergeError, ShardError};

/// Exit codes, documented in the README.
pub mod exit {
    pub const SUCCESS: u8 = 0;
    /// The run failed (a quantity became non-finite, say).
    pub const RUN_FAILED: u8 = 1;
    /// Bad command-line arguments, or an output folder that may not be replaced.
    pub const BAD_ARGUMENTS: u8 = 2;
    /// An invalid scenario or other input file.
    pub const INVALID_INPUT: u8 = 3;
    /// Output could not be written.
    pub const OUTPUT_FAILED: u8 = 4;
    /// Refused as too large before any work.
    pub const TOO_LARGE: u8 = 5;
    /// `merge`: the shard folders are not one complete set, or one is damaged.
    pub const SHARDS_MISMATCH: u8 = 6;
    /// Interrupted by SIGINT (128 + 2).
    pub const INTERRUPTED: u8 = 130;

    /// The exit code of a process stopped by `signal`: 128 + its number, as shells report.
    pub fn signal(signal: i32) -> u8 {
        u8::try_from(128 + signal).unwrap_or(INTERRUPTED)
    }
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// A bad option value (exit 2).
    #[error("{0}")]
    Usage(String),
    /// An invalid scenario, or an override, sweep point or analysis table that makes one
    /// invalid (exit 3).
    #[error("{context}:\n{error}")]
    Scenario { context: String, error: ScenarioError },
    /// An unreadable or unsuitable input file or folder (exit 3).
    #[error("{}: {message}", path.display())]
    Input { path: PathBuf, message: String },
    /// The job would need more memory than allowed (exit 5).
    #[error(
        "{what} would hold {needed_mb} MB, over the limit of {limit_mb} MB; \
         run fewer replicates or raise the limit with --max-memory-mb"
    )]
    TooLarge {
        what: String,
        needed_mb: u64,
        limit_mb: u64,
    },
    /// An ensemble failed (exit 1, 4 or 5 by its cause).
    #[error("{}", with_context(context, source))]
    Ensemble { context: String, source: EnsembleError },
    /// Interrupted by a signal or the caller (exit 128 + the signal).
    #[error("{}{}", prefix(context), interrupted(replicates, signal))]
    Interrupted {
        context: String,
        /// (completed, requested) replicates, when an ensemble was stopped.
        replicates: Option<(u64, u64)>,
        signal: Option<i32>,
    },
    /// Output could not be written (exit 4).
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    /// The finished output could not be moved into place; the message says where the
    /// earlier output is (exit 4).
    #[error("{context}: {source}")]
    Commit {
        context: String,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Charts(#[from] ChartError),
    /// `--shard` cannot apply (exit 2).
    #[error(transparent)]
    Shard(#[from] ShardError),
    /// The shard folders given to a merge are not one complete set (exit 6).
    #[error(transparent)]
    Merge(#[from] MergeError),
}

fn with_context(context: &str, source: &EnsembleError) -> String {
    format!("{}{source}", prefix(context))
}

fn interrupted(replicates: &Option<(u64, u64)>, signal: &Option<i32>) -> String {
    let by = match signal {
        Some(2) => " (SIGINT)",
        Some(15) => " (SIGTERM)",
        _ => "",
    };
    match replicates {
        Some((completed, requested)) => format!("interrupted{by} after {completed} of {requested} replicates"),
        None => format!("interrupted{by}"),
    }
}

fn prefix(context: &str) -> String {
    if context.is_empty() {
        String::new()
    } else {
        format!("{context}: ")
    }
}

impl JobError {
    /// The process's exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            JobError::Usage(_) | JobError::Shard(_) => exit::BAD_ARGUMENTS,
            JobError::Scenario { .. } | JobError::Input { .. } => exit::INVALID_INPUT,
            JobError::TooLarge { .. } => exit::TOO_LARGE,
            JobError::Ensemble { source, .. } => match source {
                EnsembleError::TooLarge { .. } | EnsembleError::TooManyReplicates { .. } => exit::TOO_LARGE,
                EnsembleError::Observer(_) => exit::OUTPUT_FAILED,
                _ => exit::RUN_FAILED,
            },
            JobError::Interrupted { signal, .. } => signal.map_or(exit::INTERRUPTED, exit::signal),
            JobError::Io { .. } | JobError::Commit { .. } | JobError::Charts(_) => exit::OUTPUT_FAILED,
            JobError::Merge(_) => exit::SHARDS_MISMATCH,
        }
    }

    /// Whether the error happened while the job worked or wrote, before its output was
    /// moved into place (so nothing was written and the earlier output is untouched),
    /// rather than while its request was checked or its output moved.
    pub fn during_work(&self) -> bool {
        matches!(
            self,
            JobError::Ensemble { .. } | JobError::Interrupted { .. } | JobError::Io { .. } | JobError::Charts(_)
        ) && self.exit_code() != exit::TOO_LARGE
    }

    pub fn input(path: impl Into<PathBuf>, message: impl Into<String>) -> JobError {
        JobError::Input {
            path: path.into(),
            message: message.into(),
        }
    }

    /// An I/O error while writing `what`.
    pub fn io(context: impl Into<String>) -> impl FnOnce(io::Error) -> JobError {
        let context = context.into();
        move |source| JobError::Io { context, source }
    }

    /// An invalid scenario described by `context`.
    pub fn scenario(context: impl Into<String>) -> impl FnOnce(ScenarioError) -> JobError {
        let context = context.into();
        move |error| JobError::Scenario { context, error }
    }
}

impl From<OutputError> for JobError {
    fn from(e: OutputError) -> JobError {
        match e {
            OutputError::Io { context, source } => JobError::Io { context, source },
            OutputError::Charts(e) => JobError::Charts(e),
            OutputError::Stopped => JobError::Interrupted {
                context: String::new(),
                replicates: None,
                signal: None,
            },
        }
    }
}

impl From<InputError> for JobError {
    fn from(e: InputError) -> JobError {
        let path = e.path.clone();
        JobError::Input {
            path,
            message: match (e.line, e.column) {
                (Some(line), Some(column)) => format!("line {line}, column {column}: {}", e.message),
                (Some(line), None) => format!("line {line}: {}", e.message),
                _ => e.message,
            },
        }
    }
}

/// An ensemble error with no more context than itself (the run of one scenario).
impl From<EnsembleError> for JobError {
    fn from(source: EnsembleError) -> JobError {
        JobError::Ensemble {
            context: String::new(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_its_exit_code() {
        assert_eq!(JobError::Usage("x".into()).exit_code(), 2);
        assert_eq!(JobError::input("f", "bad").exit_code(), 3);
        let too_many = JobError::from(EnsembleError::TooManyReplicates { replicates: 1, max: 0 });
        assert_eq!(too_many.exit_code(), 5);
        let interrupted = |signal| JobError::Interrupted {
            context: String::new(),
            replicates: Some((1, 2)),
            signal,
        };
        assert_eq!(interrupted(Some(2)).exit_code(), 130);
        assert_eq!(interrupted(Some(15)).exit_code(), 143);
        assert_eq!(interrupted(None).exit_code(), 130);
        assert!(interrupted(None).during_work());
        assert!(!too_many.during_work());
        assert_eq!(interrupted(None).to_string(), "interrupted after 1 of 2 replicates");
        assert_eq!(
            interrupted(Some(15)).to_string(),
            "interrupted (SIGTERM) after 1 of 2 replicates"
        );
    }
}
