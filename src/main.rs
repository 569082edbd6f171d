//! The `greatgame` command line: argv to options, one library call, and back to messages
//! and an exit code. Every exit code comes from the library's error
//! ([`JobError::exit_code`]); this file has no table of its own.

#![forbid(unsafe_code)]

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use greatgame::analysis::outcomes::{parse_dates, parse_metrics, parse_outcome_list};
use greatgame::analysis::parameters::Combine;
use greatgame::commands::backtest::{backtest, BacktestOptions};
use greatgame::commands::calibrate::{calibrate, CalibrateOptions};
use greatgame::commands::check::check;
use greatgame::commands::compare::{compare, CompareOptions};
use greatgame::commands::explain::{explain_text, ExplainOptions};
use greatgame::commands::levers::{levers, LeversOptions};
use greatgame::commands::new::{new_scenario, NewOptions};
use greatgame::commands::run::{merge, run_shard, MergeOptions};
use greatgame::commands::run::{run, RunOptions};
use greatgame::commands::sensitivity::{sensitivity, Method, SensitivityOptions};
use greatgame::commands::sweep::{sweep, SweepOptions};
use greatgame::job::design::{DesignSet, ShardMode};
use greatgame::job::{exit, Cancel, Job, JobError, Progress, Replaced, Settings, Written};
use greatgame::scenario::schema::schema_text;
use greatgame::shard::{MergeError, Shard, ShardSource};
use greatgame::time::Quarter;

mod cli;
use cli::*;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let cancel = Cancel::new();
    handle_signals(&cancel);
    let started = Instant::now();
    let quiet = match &cli.command {
        None => false,
        Some(Command::Run(args)) => args.quiet,
        Some(Command::Merge(args)) => args.quiet,
        Some(Command::Check { .. } | Command::Explain { .. } | Command::New { .. } | Command::Schema { .. }) => true,
        Some(Command::Compare(args)) => args.job.quiet,
        Some(Command::Sweep(args)) => args.job.quiet,
        Some(Command::Sensitivity(args)) => args.job.quiet,
        Some(Command::Levers(args)) => args.job.quiet,
        Some(Command::Backtest(args)) => args.job.quiet,
        Some(Command::Calibrate(args)) => args.job.quiet,
    };
    let bar = Bar::new(quiet);
    let job = Job::new(&bar, &cancel);
    let said = Said { quiet, started };
    let result = match cli.command {
        None => run_command(RunArgs::default(), job, said),
        Some(Command::Run(args)) => run_command(args, job, said),
        Some(Command::Merge(args)) => merge_command(args, job, said),
        Some(Command::Check { files }) => return check_command(&files),
        Some(Command::Explain { folder, host }) => return explain_command(folder, host),
        Some(Command::New { name, extends }) => return new_command(name, extends),
        Some(Command::Schema { out }) => return schema_command(out),
        Some(Command::Compare(args)) => compare_command(args, job, said),
        Some(Command::Sweep(args)) => sweep_command(args, job, said, None),
        Some(Command::Sensitivity(args)) => sensitivity_command(args, job, said, None),
        Some(Command::Levers(args)) => levers_command(args, job, said, None),
        Some(Command::Backtest(args)) => backtest_command(args, job, said),
        Some(Command::Calibrate(args)) => calibrate_command(args, job, said, None),
    };
    bar.0.finish_and_clear();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

// ---------------------------------------------------------------- signals

/// SIGINT (Ctrl-C) and SIGTERM (what Slurm, Kubernetes and `kill` send) are handled alike
/// by every command: the first asks the job to stop (it removes its staging folder and
/// exits with 128 + the signal, 130 or 143); a second ends the process at once, with the
/// same code (a staging folder it leaves is removed by the next command that writes
/// there). If the handlers cannot be installed, a signal ends the process the same way.
fn handle_signals(cancel: &Cancel) {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let (flag, which) = cancel.handles();
    for signal in [SIGINT, SIGTERM] {
        // Handlers run in the order they are registered: a second signal finds the flag
        // already set and exits; the first records which signal, then sets the flag.
        let _ = signal_hook::flag::register_conditional_shutdown(signal, 128 + signal, Arc::clone(&flag));
        let _ = signal_hook::flag::register_usize(signal, Arc::clone(&which), signal as usize);
        let _ = signal_hook::flag::register(signal, Arc::clone(&flag));
    }
}

// ---------------------------------------------------------------- messages

/// How much to say on stderr, and since when the command runs.
#[derive(Clone, Copy)]
struct Said {
    quiet: bool,
    started: Instant,
}

impl Said {
    fn note(&self, text: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", text.as_ref());
        }
    }

    fn seconds(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// `wrote DIR/ (files) in T s`, and what the folder replaced.
    fn written(&self, written: &Written) {
        if self.quiet {
            return;
        }
        let charts = written.files.iter().filter(|f| f.starts_with("charts")).count();
        let mut files: Vec<String> = written
            .files
            .iter()
            .filter(|f| !f.starts_with("charts"))
            .cloned()
            .collect();
        if charts > 0 {
            files.push(format!("{charts} chart files"));
        }
        eprintln!(
            "wrote {}/ ({}) in {:.1} s",
            written.dir.display(),
            files.join(", "),
            self.seconds()
        );
        match &written.replaced {
            Replaced::Nothing | Replaced::Same => {}
            Replaced::Output(earlier) => eprintln!(
                "note: {} held the output of `greatgame {}` of {} with seed {}; it was replaced",
                written.dir.display(),
                earlier.command,
                earlier.inputs.first().map_or("?", String::as_str),
                earlier.seed
            ),
            Replaced::Other => eprintln!(
                "note: {} held the output of an earlier version of greatgame; it was replaced",
                written.dir.display()
            ),
            Replaced::Shard(shard) => eprintln!("note: {} held {shard}; it was replaced", written.dir.display()),
        }
        for note in &written.notes {
            eprintln!("note: {note}");
        }
        if let Some(aside) = &written.left_aside {
            eprintln!(
                "note: the earlier folder, set aside as {}, could not be removed; remove it by hand",
                aside.display()
            );
        }
    }
}

/// A failed command: its error and, where known, the folder it was to write.
struct Failure {
    error: Box<JobError>,
    destination: Option<PathBuf>,
    /// Said before the error (e.g. `shard 1/4: `).
    prefix: String,
}

impl From<JobError> for Failure {
    fn from(error: JobError) -> Failure {
        Failure {
            error: Box::new(error),
            destination: None,
            prefix: String::new(),
        }
    }
}

impl Failure {
    fn at(destination: &Path) -> impl FnOnce(JobError) -> Failure + '_ {
        move |error| Failure {
            error: Box::new(error),
            destination: Some(destination.to_path_buf()),
            prefix: String::new(),
        }
    }

    /// Prints the error and what became of the output, and returns the exit code.
    fn report(self) -> ExitCode {
        let Failure {
            error,
            destination,
            prefix,
        } = self;
        let kept = if error.during_work() {
            match &destination {
                Some(d) if d.exists() => format!("; the previous output in {} is untouched", d.display()),
                Some(_) => "; no output folder was created".to_string(),
                None => "; nothing was written".to_string(),
            }
        } else {
            String::new()
        };
        match error.as_ref() {
            JobError::Scenario {
                context,
                error: problems,
            } => {
                if !context.is_empty() {
                    eprintln!("error: {prefix}{context}:");
                }
                for problem in &problems.problems {
                    eprintln!("error: {problem}");
                }
            }
            JobError::Interrupted { .. } => eprintln!("{prefix}{error}: nothing was written{kept}"),
            _ => eprintln!("error: {prefix}{error}{kept}"),
        }
        if let JobError::Merge(greatgame::shard::MergeError::Missing { .. }) = error.as_ref() {
            eprintln!("run the missing shards, then merge again");
        }
        ExitCode::from(error.exit_code())
    }
}

/// The progress bar: shown on stderr for longer jobs when stderr is a terminal.
struct Bar(ProgressBar);

impl Bar {
    fn new(quiet: bool) -> Bar {
        if quiet || !std::io::stderr().is_terminal() {
            return Bar(ProgressBar::hidden());
        }
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} {pos}/{len} [{bar:30}] {elapsed} (eta {eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        // Short jobs finish before the first draw, so the bar only shows on longer ones.
        bar.enable_steady_tick(Duration::from_millis(200));
        Bar(bar)
    }
}

impl Progress for Bar {
    fn start(&self, total: u64, what: &str) {
        self.0.set_message(what.to_string());
        self.0.set_length(total);
        self.0.set_position(0);
    }

    fn tick(&self) {
        self.0.inc(1);
    }
}

// ---------------------------------------------------------------- commands

fn check_command(files: &[PathBuf]) -> ExitCode {
    let results = check(files);
    let mut failed = 0;
    for (path, result) in &results {
        match result {
            Ok(s) => println!(
                "{}: ok ({} hosts, {} patrons, {} events, {} to {})",
                path.display(),
                s.hosts,
                s.patrons,
                s.events,
                s.first,
                s.last
            ),
            Err(error) => {
                failed += 1;
                for problem in &error.problems {
                    eprintln!("error: {problem}");
                }
            }
        }
    }
    if failed > 0 {
        eprintln!("{failed} of {} scenario files have problems", files.len());
        ExitCode::from(exit::INVALID_INPUT)
    } else {
        ExitCode::SUCCESS
    }
}

fn explain_command(folder: PathBuf, host: Option<String>) -> ExitCode {
    match explain_text(&ExplainOptions { folder, host }) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(error) => Failure::from(error).report(),
    }
}

fn new_command(name: String, extends: String) -> ExitCode {
    match new_scenario(&NewOptions { name, extends }) {
        Ok(outcome) => {
            eprintln!(
                "wrote {} (extends {}); fill in its question, uncomment the levers to change, then `greatgame check {}`",
                outcome.path.display(),
                outcome.parent.display(),
                outcome.path.display()
            );
            ExitCode::SUCCESS
        }
        Err(error) => Failure::from(error).report(),
    }
}

fn schema_command(out: Option<PathBuf>) -> ExitCode {
    let text = schema_text();
    let written = match &out {
        None => {
            print!("{text}");
            Ok(())
        }
        Some(path) => std::fs::write(path, &text).map_err(JobError::io(format!("writing {}", path.display()))),
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => Failure::from(error).report(),
    }
}

fn run_command(args: RunArgs, job: Job, said: Said) -> Result<(), Failure> {
    let options = RunOptions {
        scenario: args.scenario.clone(),
        settings: Settings {
            replicates: args.replicates,
            seed: args.seed,
            threads: args.threads.map(usize::from),
            max_memory_bytes: args.max_memory_mb.saturating_mul(1_000_000),
            out: Some(args.out.clone()),
            charts: !args.no_charts,
            command_line: std::env::args().collect(),
            ..Settings::default()
        },
        per_replicate: args.per_replicate,
        parameter_sets: args.sets.choice(),
    };
    let loaded = options.load()?;
    let scenario = &loaded.scenario;
    let destination = options.destination(scenario);
    let shard = match args.shard {
        Some(shard) => Some((shard, ShardSource::CommandLine)),
        None => Shard::from_env().map_err(JobError::Shard)?,
    };
    if let Some((shard, source)) = shard {
        let outcome = run_shard(&loaded, &options, shard, source, job).map_err(|error| Failure {
            error: Box::new(error),
            destination: Some(destination.clone()),
            prefix: format!("shard {shard}: "),
        })?;
        said.note(format!(
            "{}: shard {} (from {source}): replicates {} to {} of {}, seed {}, in {:.1} s",
            scenario.name,
            outcome.shard,
            outcome.replicate_range.start,
            outcome.replicate_range.end - 1,
            outcome.replicates,
            outcome.seed,
            said.seconds()
        ));
        said.written(&outcome.written);
        said.note(format!(
            "merge all {} shards with `greatgame merge`",
            outcome.shard.count
        ));
        return Ok(());
    }
    let outcome = run(&loaded, &options, job).map_err(Failure::at(&destination))?;
    said.note(format!(
        "{}: {} replicates{}, seed {}, {} quarters ({} to {}) in {:.1} s",
        scenario.name,
        outcome.replicates,
        match outcome.summary.parameter_sets {
            k if k > 1 => format!(" on {k} parameter sets"),
            _ => String::new(),
        },
        outcome.seed,
        scenario.horizon_quarters,
        scenario.start,
        scenario.quarter_of_step(scenario.horizon_quarters - 1),
        said.seconds()
    ));
    said.written(&outcome.written);
    outcome.notes.iter().for_each(|note| said.note(format!("note: {note}")));
    Ok(())
}

fn merge_command(args: MergeArgs, job: Job, said: Said) -> Result<(), Failure> {
    if let Some(set) = DesignSet::find(&args.folders).map_err(JobError::Merge)? {
        return merge_design(set, &args, job, said);
    }
    let options = MergeOptions {
        folders: args.folders.clone(),
        settings: Settings {
            threads: args.threads.map(usize::from),
            out: Some(args.out.clone().unwrap_or_else(|| PathBuf::from("output"))),
            command_line: std::env::args().collect(),
            ..Settings::default()
        },
    };
    let outcome = merge(&options, job)?;
    said.note(format!(
        "merged {} shards: {} replicates, seed {}, in {:.1} s",
        args.folders.len(),
        outcome.replicates,
        outcome.seed,
        said.seconds()
    ));
    said.written(&outcome.written);
    Ok(())
}

/// Merges the shards of a design-based command: runs the command line the shards
/// recorded again, with this merge's output, threads and quietness, taking every point's
/// result from the shards.
fn merge_design(set: DesignSet, args: &MergeArgs, job: Job, said: Said) -> Result<(), Failure> {
    let unreadable = |message: String| {
        JobError::Merge(MergeError::Unreadable {
            folder: args.folders[0].clone(),
            message,
        })
    };
    let cli = Cli::try_parse_from(set.command_line())
        .map_err(|e| unreadable(format!("the command line the shards recorded cannot be read: {e}")))?;
    said.note(format!("merging {} shards of `greatgame {}`", set.len(), set.command()));
    let merging = Some(Arc::new(set));
    let redirect = |job_args: &mut JobArgs| {
        job_args.out = args.out.clone();
        job_args.threads = args.threads;
        job_args.quiet = args.quiet;
    };
    match cli.command {
        Some(Command::Sweep(mut a)) => {
            redirect(&mut a.job);
            sweep_command(a, job, said, merging)
        }
        Some(Command::Sensitivity(mut a)) => {
            redirect(&mut a.job);
            sensitivity_command(a, job, said, merging)
        }
        Some(Command::Levers(mut a)) => {
            redirect(&mut a.job);
            levers_command(a, job, said, merging)
        }
        Some(Command::Calibrate(mut a)) => {
            redirect(&mut a.job);
            calibrate_command(a, job, said, merging)
        }
        _ => Err(unreadable("the shards recorded a command that does not shard".to_string()).into()),
    }
}

/// The settings of a design-based command: a merge's set, else `--shard` or a
/// scheduler's array.
fn design_settings(
    job_args: &JobArgs,
    shard: Option<Shard>,
    merging: Option<Arc<DesignSet>>,
) -> Result<Settings, JobError> {
    let mut settings = job_args.settings();
    settings.shard = match merging {
        Some(set) => ShardMode::Merge(set),
        None => ShardMode::from_args(shard)?,
    };
    Ok(settings)
}

fn dates(at: &Option<String>) -> Result<Option<Vec<Quarter>>, JobError> {
    at.as_deref().map(parse_dates).transpose()
}

/// The summary on stdout, notes on stderr, and what was written.
fn finish(said: Said, summary: &str, notes: &[String], written: &Written) {
    print!("{summary}");
    for note in notes {
        said.note(note);
    }
    said.written(written);
}

fn compare_command(args: CompareArgs, job: Job, said: Said) -> Result<(), Failure> {
    let options = CompareOptions {
        inputs: args.inputs.clone(),
        settings: args.job.settings(),
        metrics: parse_metrics(args.metrics.as_deref())?,
        horizons: dates(&args.at)?,
        resamples: args.bootstrap as usize,
        top: args.top,
        min_effect: args.min_effect,
        parameter_sets: args.sets.choice(),
    };
    let outcome = compare(&options, job)?;
    let notes: Vec<String> = outcome.notes.iter().map(|note| format!("note: {note}")).collect();
    finish(said, &outcome.summary, &notes, &outcome.written);
    Ok(())
}

fn sweep_command(args: SweepArgs, job: Job, said: Said, merging: Option<Arc<DesignSet>>) -> Result<(), Failure> {
    let options = SweepOptions {
        scenario: args.scenario.clone(),
        settings: design_settings(&args.job, args.shard, merging)?,
        set: args.set.clone(),
        combine: args.combine.map(|c| match c {
            CombineArg::Grid => Combine::Grid,
            CombineArg::Zip => Combine::Zip,
        }),
        design: args.design.clone(),
        metrics: parse_metrics(args.metrics.as_deref())?,
        horizons: dates(&args.at)?,
        parameter_sets: args.sets.choice(),
    };
    let outcome = sweep(&options, job)?;
    let mut notes: Vec<String> = outcome.notes.iter().map(|n| format!("note: {n}")).collect();
    notes.push(format!("{} sweep points", outcome.points));
    finish(said, &outcome.summary, &notes, &outcome.written);
    Ok(())
}

fn sensitivity_command(
    args: SensitivityArgs,
    job: Job,
    said: Said,
    merging: Option<Arc<DesignSet>>,
) -> Result<(), Failure> {
    let options = SensitivityOptions {
        scenario: args.scenario.clone(),
        settings: design_settings(&args.job, args.shard, merging)?,
        outputs: parse_outcome_list(args.outputs.as_deref()),
        method: args.method.map(|m| match m {
            MethodArg::Morris => Method::Morris,
            MethodArg::Sobol => Method::Sobol,
            MethodArg::Both => Method::Both,
        }),
        samples: args.samples,
        trajectories: args.trajectories,
        levels: args.levels,
        resamples: args.bootstrap as usize,
        horizons: dates(&args.at)?,
    };
    let outcome = sensitivity(&options, job)?;
    finish(
        said,
        &outcome.summary,
        &[format!("{} design points evaluated", outcome.evaluations)],
        &outcome.written,
    );
    Ok(())
}

fn levers_command(args: LeversArgs, job: Job, said: Said, merging: Option<Arc<DesignSet>>) -> Result<(), Failure> {
    let options = LeversOptions {
        scenario: args.scenario.clone(),
        settings: design_settings(&args.job, args.shard, merging)?,
        keys: args.keys.clone(),
        step: args.step,
        share_step: args.share_step,
        outputs: parse_outcome_list(args.outputs.as_deref()),
        horizons: dates(&args.at)?,
        parameter_sets: args.sets.choice(),
    };
    let outcome = levers(&options, job)?;
    finish(said, &outcome.summary, &[], &outcome.written);
    Ok(())
}

fn backtest_command(args: BacktestArgs, job: Job, said: Said) -> Result<(), Failure> {
    let options = BacktestOptions {
        scenario: args.scenario.clone(),
        observed: args.observed.clone(),
        settings: args.job.settings(),
        parameter_sets: args.sets.choice(),
        through: args.through,
    };
    let outcome = backtest(&options, job)?;
    finish(
        said,
        &outcome.summary,
        &[format!(
            "{} observations compared, {} skipped (see backtest_skipped.csv)",
            outcome.matched, outcome.skipped
        )],
        &outcome.written,
    );
    Ok(())
}

fn calibrate_command(
    args: CalibrateArgs,
    job: Job,
    said: Said,
    merging: Option<Arc<DesignSet>>,
) -> Result<(), Failure> {
    let options = CalibrateOptions {
        scenario: args.scenario.clone(),
        observed: args.observed.clone(),
        settings: design_settings(&args.job, args.shard, merging)?,
        through: args.through,
        samples: args.samples,
        refine: args.refine,
        temperature: Some(args.temperature),
        keep: args.keep,
    };
    let outcome = calibrate(&options, job)?;
    finish(
        said,
        &outcome.summary,
        &[format!("{} evaluations", outcome.evaluations)],
        &outcome.written,
    );
    Ok(())
}
