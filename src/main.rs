//! The `greatgame` command line: argv to options, one library call, and back to messages
//! and an exit code. Every exit code comes from the library's error
//! ([`JobError::exit_code`]); this file has no table of its own.

#![forbid(unsafe_code)]

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use greatgame::analysis::outcomes::{parse_dates, parse_metrics, parse_outcome_list};
use greatgame::analysis::parameters::{Combine, ParameterSets};
use greatgame::commands::backtest::{backtest, BacktestOptions};
use greatgame::commands::calibrate::{calibrate, CalibrateOptions};
use greatgame::commands::check::check;
use greatgame::commands::compare::{compare, CompareOptions};
use greatgame::commands::levers::{levers, LeversOptions, DEFAULT_SHARE_STEP, DEFAULT_STEP};
use greatgame::commands::run::{merge, run, run_shard, MergeOptions, RunOptions};
use greatgame::commands::sensitivity::{sensitivity, Method, SensitivityOptions};
use greatgame::commands::sweep::{sweep, SweepOptions};
use greatgame::ensemble::DEFAULT_MAX_MEMORY_BYTES;
use greatgame::job::{exit, Cancel, Job, JobError, Progress, Replaced, Settings, Written};
use greatgame::shard::{Shard, ShardSource};

#[derive(Parser)]
#[command(
    name = "greatgame",
    version,
    about = "Agent-based simulation of great-power competition in Central Asia",
    long_about = "Agent-based simulation of great-power competition in Central Asia.\n\n\
                  With no command, runs the built-in baseline scenario and writes output/baseline/."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario's ensemble and write tables, charts and a manifest.
    Run(RunArgs),
    /// Merge the folders of the shards of a run (`run --shard K/N`) into its output.
    Merge(MergeArgs),
    /// Validate scenario files and print every problem; runs nothing.
    Check {
        /// Scenario files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Compare scenarios (or output folders of earlier runs): differences with confidence
    /// intervals, overlay charts and report.html.
    Compare(CompareArgs),
    /// Run a scenario at every point of a parameter sweep ([sweep] table or --set).
    Sweep(SweepArgs),
    /// Rank the parameters that drive outcomes: Morris screening and Sobol' indices.
    Sensitivity(SensitivityArgs),
    /// Move every numeric lever down and up, one at a time: which are inert (docs/analysis.md).
    Levers(LeversArgs),
    /// Set a scenario's run against observations: errors, coverage and skill against
    /// naive forecasts (docs/backtest.md).
    Backtest(BacktestArgs),
    /// Search a [calibration] table's parameter ranges for the values that best reproduce
    /// the observations up to a year (docs/backtest.md).
    Calibrate(CalibrateArgs),
}

// `greatgame run`; also parsed on its own for `greatgame` alone (`RunArgs::parse_from`),
// so that the bare command takes the flags' own defaults.
#[derive(Parser)]
struct RunArgs {
    /// Scenario file (TOML). Without it, the built-in baseline runs.
    scenario: Option<PathBuf>,
    /// Number of replicates [default: the scenario's run.replicates].
    #[arg(long, short = 'n', value_parser = clap::value_parser!(u64).range(1..))]
    replicates: Option<u64>,
    /// Master seed [default: the scenario's run.seed].
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads [default: all cores]; the output is the same for any count.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
    /// Output root: the run writes DIR/<scenario name>/.
    #[arg(long, value_name = "DIR", default_value = "output")]
    out: PathBuf,
    /// Also write every replicate's values (replicates.csv), streamed to disk.
    #[arg(long)]
    per_replicate: bool,
    /// Skip the charts.
    #[arg(long)]
    no_charts: bool,
    /// No progress bar or summary on stderr.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Largest memory the ensemble's statistics may hold, MB.
    #[arg(long, value_name = "MB", default_value_t = DEFAULT_MAX_MEMORY_BYTES / 1_000_000)]
    max_memory_mb: u64,
    /// Run only shard K of N (K from 0) and write a partial result for `merge`
    /// [default: from SLURM_ARRAY_TASK_ID/COUNT or JOB_COMPLETION_INDEX and
    /// GREATGAME_SHARD_COUNT, if set].
    #[arg(long, value_name = "K/N", value_parser = Shard::parse)]
    shard: Option<Shard>,
}

#[derive(Args)]
struct MergeArgs {
    /// Shard folders (each `DIR/<scenario name>/` of one `run --shard K/N`), in any order.
    #[arg(required = true)]
    folders: Vec<PathBuf>,
    /// Output root: the merged result goes to DIR/<scenario name>/.
    #[arg(long, value_name = "DIR", default_value = "output")]
    out: PathBuf,
    /// Worker threads for the statistics [default: all cores].
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
    /// No summary on stderr.
    #[arg(long, short = 'q')]
    quiet: bool,
}

/// Options the analyses share with `run`.
#[derive(Args)]
struct JobArgs {
    /// Replicates per ensemble [default: compare: the first input's; sweep and backtest:
    /// the scenario's run.replicates; sensitivity and calibrate: its sensitivity.replicates
    /// or calibration.replicates; levers: 40].
    #[arg(long, short = 'n', value_parser = clap::value_parser!(u64).range(1..))]
    replicates: Option<u64>,
    /// Master seed, the same for every ensemble [default: the (first) scenario's run.seed].
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads [default: all cores].
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
    /// Output: compare, sweep, sensitivity and levers write DIR/<command>-<names>/ [default DIR:
    /// output]; backtest and calibrate write into DIR itself [default:
    /// output/<command>-<scenario>].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Skip the charts.
    #[arg(long)]
    no_charts: bool,
    /// No progress bar or notes on stderr (the summary still goes to stdout).
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Largest memory one ensemble's statistics may hold, MB.
    #[arg(long, value_name = "MB", default_value_t = DEFAULT_MAX_MEMORY_BYTES / 1_000_000)]
    max_memory_mb: u64,
}

impl JobArgs {
    fn settings(&self) -> Settings {
        Settings {
            replicates: self.replicates,
            seed: self.seed,
            threads: self.threads.map(usize::from),
            max_memory_bytes: self.max_memory_mb.saturating_mul(1_000_000),
            out: self.out.clone(),
            charts: !self.no_charts,
            command_line: std::env::args().collect(),
        }
    }
}

#[derive(Args)]
struct CompareArgs {
    /// Scenario files or output folders of earlier runs; the first is the reference.
    #[arg(required = true, num_args = 2..)]
    inputs: Vec<PathBuf>,
    #[command(flatten)]
    job: JobArgs,
    /// Metrics to compare, comma-separated
    /// [default: alignment,trade_share,hedging_index,fdi_stock_usd_bn,security_dependence].
    #[arg(long, value_name = "LIST")]
    metrics: Option<String>,
    /// Quarters to compare, e.g. 2030Q4,2035Q4 [default: a mid-run quarter and the last].
    #[arg(long, value_name = "QUARTERS")]
    at: Option<String>,
    /// Bootstrap resamples per confidence interval.
    #[arg(long, value_name = "N", default_value_t = 2000, value_parser = clap::value_parser!(u64).range(100..=1_000_000))]
    bootstrap: u64,
    /// Differences listed in the summary per scenario.
    #[arg(long, value_name = "N", default_value_t = 10)]
    top: usize,
}

/// `--combine`.
#[derive(Clone, Copy, ValueEnum)]
enum CombineArg {
    Grid,
    Zip,
}

#[derive(Args)]
struct SweepArgs {
    /// Scenario file (TOML).
    scenario: PathBuf,
    #[command(flatten)]
    job: JobArgs,
    /// A swept parameter: KEY=V1,V2,... or KEY=FROM..TO:N (repeatable); replaces the
    /// scenario's [sweep] table.
    #[arg(long = "set", value_name = "KEY=VALUES")]
    set: Vec<String>,
    /// grid (every combination) or zip (i-th values together) [default: the [sweep] table's, else grid].
    #[arg(long, value_enum)]
    combine: Option<CombineArg>,
    /// CSV design: a header of key paths, one row per point; replaces the [sweep] table.
    #[arg(long, value_name = "FILE")]
    design: Option<PathBuf>,
    /// Metrics to record, comma-separated [default: as compare].
    #[arg(long, value_name = "LIST")]
    metrics: Option<String>,
    /// Quarters to record, e.g. 2030Q4,2035Q4 [default: a mid-run quarter and the last].
    #[arg(long, value_name = "QUARTERS")]
    at: Option<String>,
}

/// `--method`.
#[derive(Clone, Copy, ValueEnum)]
enum MethodArg {
    Morris,
    Sobol,
    Both,
}

#[derive(Args)]
struct SensitivityArgs {
    /// Scenario file (TOML) with a [sensitivity] table of parameter ranges.
    scenario: PathBuf,
    #[command(flatten)]
    job: JobArgs,
    /// Outcomes: metric, metric:HOST or metric:HOST:PARTNER, comma-separated
    /// [default: the table's outputs, else alignment,hedging_index].
    #[arg(long, value_name = "LIST")]
    outputs: Option<String>,
    /// morris, sobol or both [default: the table's method, else both].
    #[arg(long, value_enum)]
    method: Option<MethodArg>,
    /// Sobol' base sample N (the design has N (k + 2) points) [default: the table's].
    #[arg(long, value_name = "N")]
    samples: Option<u64>,
    /// Morris trajectories r (the design has r (k + 1) points) [default: the table's].
    #[arg(long, value_name = "R")]
    trajectories: Option<u64>,
    /// Morris grid levels (even) [default: the table's].
    #[arg(long, value_name = "P")]
    levels: Option<u32>,
    /// Bootstrap resamples per confidence interval.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(100..=1_000_000))]
    bootstrap: u64,
    /// Quarters of the outcomes, e.g. 2030Q4,2035Q4 [default: the last quarter].
    #[arg(long, value_name = "QUARTERS")]
    at: Option<String>,
}

#[derive(Args)]
struct LeversArgs {
    /// Scenario file (TOML).
    scenario: PathBuf,
    #[command(flatten)]
    job: JobArgs,
    /// Screen only keys matching this glob (`*` any text), e.g. 'patrons.USA.*' (repeatable) [default: all].
    #[arg(long = "keys", value_name = "GLOB")]
    keys: Vec<String>,
    /// Relative step: each value is moved to x(1 - F) and x(1 + F).
    #[arg(long, value_name = "F", default_value_t = DEFAULT_STEP)]
    step: f64,
    /// Absolute step of shares and probabilities kept in 0..1 (clipped to the range).
    #[arg(long, value_name = "D", default_value_t = DEFAULT_SHARE_STEP)]
    share_step: f64,
    /// Outcomes: metric, metric:HOST or metric:HOST:PARTNER, comma-separated [default: the headline ones].
    #[arg(long, value_name = "LIST")]
    outputs: Option<String>,
    /// Quarters of the outcomes, e.g. 2030Q4,2035Q4 [default: a mid-run quarter and the last].
    #[arg(long, value_name = "QUARTERS")]
    at: Option<String>,
}

#[derive(Args)]
struct BacktestArgs {
    /// Scenario file (TOML), e.g. scenarios/backcast_2015.toml.
    scenario: PathBuf,
    /// Observations: CSV with year,host,partner,metric,value,unit,basis,note,source.
    #[arg(long, value_name = "FILE")]
    observed: PathBuf,
    #[command(flatten)]
    job: JobArgs,
    /// Run every replicate with the file's values, ignoring the calibrated parameter sets
    /// the scenario names ([calibration] parameter_sets).
    #[arg(long, conflicts_with = "parameter_sets")]
    no_parameter_sets: bool,
    /// Calibrated parameter sets to spread the replicates over (a CSV as calibrate writes)
    /// [default: the scenario's [calibration] parameter_sets].
    #[arg(long, value_name = "FILE")]
    parameter_sets: Option<PathBuf>,
    /// Last calibration year: the report scores later years as held out
    /// [default: the scenario's [calibration] through].
    #[arg(long, value_name = "YEAR")]
    through: Option<i32>,
}

#[derive(Args)]
struct CalibrateArgs {
    /// Scenario file (TOML) with a [calibration] table of parameter ranges.
    scenario: PathBuf,
    /// Observations: CSV with year,host,partner,metric,value,unit,basis,note,source.
    #[arg(long, value_name = "FILE")]
    observed: PathBuf,
    #[command(flatten)]
    job: JobArgs,
    /// Last year the search may use; later observations are held out [default: the table's through].
    #[arg(long, value_name = "YEAR")]
    through: Option<i32>,
    /// Points of the global (Sobol') stage [default: the table's samples].
    #[arg(long, value_name = "N")]
    samples: Option<u64>,
    /// Evaluations of the local (compass) stage [default: the table's refine].
    #[arg(long, value_name = "N")]
    refine: Option<u64>,
    /// Best evaluations kept as calibrated parameter sets [default: the table's keep].
    #[arg(long, value_name = "N")]
    keep: Option<u64>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let cancel = Cancel::new();
    handle_signals(&cancel);
    let started = Instant::now();
    // `greatgame` alone is `greatgame run`: the built-in baseline into `output/`.
    let command = cli
        .command
        .unwrap_or_else(|| Command::Run(RunArgs::parse_from(["run"])));
    let quiet = match &command {
        Command::Run(args) => args.quiet,
        Command::Merge(args) => args.quiet,
        Command::Check { .. } => true,
        Command::Compare(args) => args.job.quiet,
        Command::Sweep(args) => args.job.quiet,
        Command::Sensitivity(args) => args.job.quiet,
        Command::Levers(args) => args.job.quiet,
        Command::Backtest(args) => args.job.quiet,
        Command::Calibrate(args) => args.job.quiet,
    };
    let bar = Bar::new(quiet);
    let job = Job::new(&bar, &cancel);
    let said = Said { quiet, started };
    let result = match command {
        Command::Run(args) => run_command(args, job, said),
        Command::Merge(args) => merge_command(args, job, said),
        Command::Check { files } => return check_command(&files),
        Command::Compare(args) => compare_command(args, job, said),
        Command::Sweep(args) => sweep_command(args, job, said),
        Command::Sensitivity(args) => sensitivity_command(args, job, said),
        Command::Levers(args) => levers_command(args, job, said),
        Command::Backtest(args) => backtest_command(args, job, said),
        Command::Calibrate(args) => calibrate_command(args, job, said),
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
        },
        per_replicate: args.per_replicate,
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
        "{}: {} replicates, seed {}, {} quarters ({} to {}) in {:.1} s",
        scenario.name,
        outcome.replicates,
        outcome.seed,
        scenario.horizon_quarters,
        scenario.start,
        scenario.quarter_of_step(scenario.horizon_quarters - 1),
        said.seconds()
    ));
    said.written(&outcome.written);
    Ok(())
}

fn merge_command(args: MergeArgs, job: Job, said: Said) -> Result<(), Failure> {
    let options = MergeOptions {
        folders: args.folders.clone(),
        settings: Settings {
            threads: args.threads.map(usize::from),
            out: Some(args.out.clone()),
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
        horizons: args.at.as_deref().map(parse_dates).transpose()?,
        resamples: args.bootstrap as usize,
        top: args.top,
    };
    let outcome = compare(&options, job)?;
    let notes: Vec<String> = outcome.notes.iter().map(|note| format!("note: {note}")).collect();
    finish(said, &outcome.summary, &notes, &outcome.written);
    Ok(())
}

fn sweep_command(args: SweepArgs, job: Job, said: Said) -> Result<(), Failure> {
    let options = SweepOptions {
        scenario: args.scenario.clone(),
        settings: args.job.settings(),
        set: args.set.clone(),
        combine: args.combine.map(|c| match c {
            CombineArg::Grid => Combine::Grid,
            CombineArg::Zip => Combine::Zip,
        }),
        design: args.design.clone(),
        metrics: parse_metrics(args.metrics.as_deref())?,
        horizons: args.at.as_deref().map(parse_dates).transpose()?,
    };
    let outcome = sweep(&options, job)?;
    finish(
        said,
        &outcome.summary,
        &[format!("{} sweep points", outcome.points)],
        &outcome.written,
    );
    Ok(())
}

fn sensitivity_command(args: SensitivityArgs, job: Job, said: Said) -> Result<(), Failure> {
    let options = SensitivityOptions {
        scenario: args.scenario.clone(),
        settings: args.job.settings(),
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
        horizons: args.at.as_deref().map(parse_dates).transpose()?,
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

fn levers_command(args: LeversArgs, job: Job, said: Said) -> Result<(), Failure> {
    let options = LeversOptions {
        scenario: args.scenario.clone(),
        settings: args.job.settings(),
        keys: args.keys.clone(),
        step: args.step,
        share_step: args.share_step,
        outputs: parse_outcome_list(args.outputs.as_deref()),
        horizons: args.at.as_deref().map(parse_dates).transpose()?,
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
        parameter_sets: if args.no_parameter_sets {
            ParameterSets::None
        } else if let Some(file) = &args.parameter_sets {
            ParameterSets::File(file.clone())
        } else {
            ParameterSets::Scenario
        },
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

fn calibrate_command(args: CalibrateArgs, job: Job, said: Said) -> Result<(), Failure> {
    let options = CalibrateOptions {
        scenario: args.scenario.clone(),
        observed: args.observed.clone(),
        settings: args.job.settings(),
        through: args.through,
        samples: args.samples,
        refine: args.refine,
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
