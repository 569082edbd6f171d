//! The `greatgame` command line: arguments in, library calls, messages and exit codes out.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use greatgame::ensemble::{EnsembleError, DEFAULT_MAX_MEMORY_BYTES};
use greatgame::output::Replaced;
use greatgame::run::{run_scenario, RunError, RunOptions};
use greatgame::scenario::{self, LoadedScenario, ScenarioError};

/// Exit codes, documented in the README.
mod exit {
    pub const RUN_FAILED: u8 = 1;
    pub const BAD_ARGUMENTS: u8 = 2;
    pub const INVALID_SCENARIO: u8 = 3;
    pub const OUTPUT_FAILED: u8 = 4;
    pub const TOO_LARGE: u8 = 5;
    pub const SHARDS_MISMATCH: u8 = 6;
    pub const INTERRUPTED: u8 = 130;
}

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
    Merge(shards::MergeArgs),
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
    /// Set a scenario's run against observations: errors, coverage and skill against
    /// naive forecasts (docs/backtest.md).
    Backtest(BacktestArgs),
    /// Search a [calibration] table's parameter ranges for the values that best reproduce
    /// the observations up to a year (docs/backtest.md).
    Calibrate(CalibrateArgs),
}

#[derive(Args, Default)]
struct RunArgs {
    /// Scenario file (TOML). Without it, the built-in baseline runs.
    scenario: Option<PathBuf>,
    /// Number of replicates [default: the scenario's run.replicates].
    #[arg(long, short = 'n', value_parser = clap::value_parser!(u64).range(1..))]
    replicates: Option<u64>,
    /// Master seed [default: the scenario's run.seed].
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads [default: all cores].
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
    /// Output root: results go to DIR/<scenario name>/.
    #[arg(long, value_name = "DIR", default_value = "output")]
    out: PathBuf,
    /// Also write replicates.csv with every replicate's values.
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
    /// Run only slice K of N (K from 0 to N-1) and write a partial result for `greatgame
    /// merge` [default: from a Slurm job array or Kubernetes indexed Job, if set].
    #[arg(long, value_name = "K/N", value_parser = shards::parse_shard)]
    shard: Option<greatgame::shard::Shard>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => run(RunArgs {
            out: PathBuf::from("output"),
            max_memory_mb: DEFAULT_MAX_MEMORY_BYTES / 1_000_000,
            ..RunArgs::default()
        }),
        Some(Command::Run(args)) => run(args),
        Some(Command::Merge(args)) => shards::merge(args),
        Some(Command::Check { files }) => check(&files),
        Some(Command::Compare(args)) => analysis::compare(args),
        Some(Command::Sweep(args)) => analysis::sweep(args),
        Some(Command::Sensitivity(args)) => analysis::sensitivity(args),
        Some(Command::Backtest(args)) => analysis::backtest(args),
        Some(Command::Calibrate(args)) => analysis::calibrate(args),
    }
}

fn check(files: &[PathBuf]) -> ExitCode {
    let mut failed = 0;
    for path in files {
        match scenario::load(path) {
            Ok(loaded) => {
                let s = &loaded.scenario;
                println!(
                    "{}: ok ({} hosts, {} patrons, {} events, {} to {})",
                    path.display(),
                    s.n_hosts(),
                    s.n_patrons(),
                    s.events.len(),
                    s.start,
                    s.quarter_of_step(s.horizon_quarters - 1)
                );
            }
            Err(error) => {
                failed += 1;
                print_scenario_error(&error);
            }
        }
    }
    if failed > 0 {
        eprintln!("{failed} of {} scenario files have problems", files.len());
        ExitCode::from(exit::INVALID_SCENARIO)
    } else {
        ExitCode::SUCCESS
    }
}

fn print_scenario_error(error: &ScenarioError) {
    for problem in &error.problems {
        eprintln!("error: {problem}");
    }
}

fn run(args: RunArgs) -> ExitCode {
    match run_loaded(args) {
        Ok(code) | Err(code) => code,
    }
}

fn run_loaded(args: RunArgs) -> Result<ExitCode, ExitCode> {
    let loaded: LoadedScenario = match &args.scenario {
        Some(path) => scenario::load(path),
        None => scenario::load_builtin_baseline(),
    }
    .map_err(|e| {
        print_scenario_error(&e);
        ExitCode::from(exit::INVALID_SCENARIO)
    })?;

    let cancel = Arc::new(AtomicBool::new(false));
    {
        let cancel = Arc::clone(&cancel);
        // If a handler cannot be installed, Ctrl-C still ends the process; the staging
        // folder is then left behind but the previous output stays intact.
        let _ = ctrlc::set_handler(move || cancel.store(true, Ordering::SeqCst));
    }

    if let Some(code) = shards::run_if_sharded(&args, &loaded, &cancel) {
        return Ok(code);
    }
    let replicates = args.replicates.unwrap_or(loaded.scenario.replicates);
    let bar = progress_bar(replicates, args.quiet);
    let options = RunOptions {
        replicates: args.replicates,
        seed: args.seed,
        threads: args.threads.map(usize::from),
        out_root: args.out.clone(),
        per_replicate: args.per_replicate,
        charts: !args.no_charts,
        max_memory_bytes: args.max_memory_mb.saturating_mul(1_000_000),
        command_line: std::env::args().collect(),
    };
    let started = Instant::now();
    let tick = || bar.inc(1);
    let result = run_scenario(&loaded, &options, &tick, &cancel);
    bar.finish_and_clear();

    let destination = args.out.join(&loaded.scenario.name);
    Ok(match result {
        Ok(outcome) => {
            if !args.quiet {
                eprintln!(
                    "{}: {} replicates, seed {}, {} quarters ({} to {}) in {:.1} s",
                    loaded.scenario.name,
                    outcome.replicates,
                    outcome.seed,
                    loaded.scenario.horizon_quarters,
                    loaded.scenario.start,
                    loaded.scenario.quarter_of_step(loaded.scenario.horizon_quarters - 1),
                    started.elapsed().as_secs_f64()
                );
                match &outcome.replaced {
                    Replaced::Nothing | Replaced::SameRun => {}
                    Replaced::OtherRun(what) => {
                        eprintln!(
                            "note: {} held the output of {what}; it was replaced",
                            outcome.dir.display()
                        )
                    }
                }
                eprintln!("wrote {}/ ({})", outcome.dir.display(), outcome.files.join(", "));
            }
            ExitCode::SUCCESS
        }
        Err(RunError::Ensemble(EnsembleError::Cancelled { completed, requested })) => {
            eprintln!(
                "interrupted after {completed} of {requested} replicates: nothing was written; {}",
                kept(&destination)
            );
            ExitCode::from(exit::INTERRUPTED)
        }
        Err(RunError::Ensemble(e @ EnsembleError::TooLarge { .. })) => {
            eprintln!("error: {e}");
            ExitCode::from(exit::TOO_LARGE)
        }
        Err(e @ (RunError::Io { .. } | RunError::Charts(_) | RunError::Ensemble(EnsembleError::Observer(_)))) => {
            eprintln!("error: {e}; {}", kept(&destination));
            ExitCode::from(exit::OUTPUT_FAILED)
        }
        Err(e) => {
            eprintln!("error: {e}; {}", kept(&destination));
            ExitCode::from(exit::RUN_FAILED)
        }
    })
}

/// Says what happened to the previous output of the scenario.
fn kept(destination: &std::path::Path) -> String {
    if destination.exists() {
        format!("the previous output in {} is untouched", destination.display())
    } else {
        "no output folder was created".to_string()
    }
}

fn progress_bar(replicates: u64, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(replicates), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} replicates {pos}/{len} [{bar:30}] {elapsed} (eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    // Short runs finish before the first draw, so the bar only shows on longer ones.
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

// ---------------------------------------------------------------- compare, sweep, sensitivity

/// Options the analyses share with `run`.
#[derive(Args)]
struct AnalysisRunArgs {
    /// Replicates per ensemble [default: compare: the first input's; sweep and backtest:
    /// the scenario's run.replicates; sensitivity and calibrate: its sensitivity.replicates
    /// or calibration.replicates].
    #[arg(long, short = 'n', value_parser = clap::value_parser!(u64).range(1..))]
    replicates: Option<u64>,
    /// Master seed, the same for every ensemble [default: the (first) scenario's run.seed].
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads [default: all cores].
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
    /// Output: compare, sweep and sensitivity write DIR/<command>-<names>/ [default DIR:
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

#[derive(Args)]
struct CompareArgs {
    /// Scenario files or output folders of earlier runs; the first is the reference.
    #[arg(required = true, num_args = 2..)]
    inputs: Vec<PathBuf>,
    #[command(flatten)]
    run: AnalysisRunArgs,
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

#[derive(Args)]
struct SweepArgs {
    /// Scenario file (TOML).
    scenario: PathBuf,
    #[command(flatten)]
    run: AnalysisRunArgs,
    /// A swept parameter: KEY=V1,V2,... or KEY=FROM..TO:N (repeatable); replaces the
    /// scenario's [sweep] table.
    #[arg(long = "set", value_name = "KEY=VALUES")]
    set: Vec<String>,
    /// grid (every combination) or zip (i-th values together) [default: the [sweep] table's, else grid].
    #[arg(long, value_parser = ["grid", "zip"])]
    combine: Option<String>,
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

#[derive(Args)]
struct SensitivityArgs {
    /// Scenario file (TOML) with a [sensitivity] table of parameter ranges.
    scenario: PathBuf,
    #[command(flatten)]
    run: AnalysisRunArgs,
    /// Outcomes: metric, metric:HOST or metric:HOST:PARTNER, comma-separated
    /// [default: the table's outputs, else alignment,hedging_index].
    #[arg(long, value_name = "LIST")]
    outputs: Option<String>,
    /// morris, sobol or both [default: the table's method, else both].
    #[arg(long, value_parser = ["morris", "sobol", "both"])]
    method: Option<String>,
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
struct BacktestArgs {
    /// Scenario file (TOML), e.g. scenarios/backcast_2015.toml.
    scenario: PathBuf,
    /// Observations: CSV with year,host,partner,metric,value,unit,basis,note,source.
    #[arg(long, value_name = "FILE")]
    observed: PathBuf,
    #[command(flatten)]
    run: AnalysisRunArgs,
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
    run: AnalysisRunArgs,
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

/// The `compare`, `sweep` and `sensitivity` commands: options in, library call, messages
/// and exit codes out.
mod analysis {
    use std::process::ExitCode;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Instant;

    use greatgame::analysis::compare::{compare as run_compare, CompareOptions};
    use greatgame::analysis::sensitivity::{sensitivity as run_sensitivity, SensitivityOptions};
    use greatgame::analysis::sweep::{sweep as run_sweep, SweepOptions};
    use greatgame::analysis::{self as lib, AnalysisError, Progress, RunSettings, Written};
    use greatgame::ensemble::EnsembleError;
    use indicatif::ProgressBar;

    use super::{
        exit, print_scenario_error, progress_bar, AnalysisRunArgs, BacktestArgs, CalibrateArgs, CompareArgs,
        SensitivityArgs, SweepArgs,
    };

    struct Bar(ProgressBar);

    impl Progress for Bar {
        fn start(&self, total: u64, _what: &str) {
            self.0.set_length(total);
            self.0.set_position(0);
        }
        fn tick(&self) {
            self.0.inc(1);
        }
    }

    fn settings(run: &AnalysisRunArgs) -> RunSettings {
        RunSettings {
            replicates: run.replicates,
            seed: run.seed,
            threads: run.threads.map(usize::from),
            max_memory_bytes: run.max_memory_mb.saturating_mul(1_000_000),
            out: run.out.clone(),
            charts: !run.no_charts,
            command_line: std::env::args().collect(),
        }
    }

    fn cancel_flag() -> Arc<AtomicBool> {
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&cancel);
        // Without a handler, Ctrl-C still ends the process; the staging folder is then
        // left behind but no output folder is half-written.
        let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
        cancel
    }

    /// Prints an analysis error and chooses the exit code.
    fn fail(error: AnalysisError) -> ExitCode {
        let code = match &error {
            AnalysisError::Usage(message) => {
                eprintln!("error: {message}");
                exit::BAD_ARGUMENTS
            }
            AnalysisError::Scenario { context, error } => {
                eprintln!("error: {context}:");
                print_scenario_error(error);
                exit::INVALID_SCENARIO
            }
            AnalysisError::Input { .. } => {
                eprintln!("error: {error}");
                exit::INVALID_SCENARIO
            }
            AnalysisError::Ensemble { source, .. } => {
                match source {
                    EnsembleError::Cancelled { .. } => {
                        eprintln!("{error}: nothing was written");
                        return ExitCode::from(exit::INTERRUPTED);
                    }
                    EnsembleError::TooLarge { .. } => {
                        eprintln!("error: {error}");
                        return ExitCode::from(exit::TOO_LARGE);
                    }
                    EnsembleError::Observer(_) => {
                        eprintln!("error: {error}");
                        return ExitCode::from(exit::OUTPUT_FAILED);
                    }
                    _ => {}
                }
                eprintln!("error: {error}; nothing was written");
                exit::RUN_FAILED
            }
            AnalysisError::Io { .. } | AnalysisError::Charts(_) => {
                eprintln!("error: {error}; nothing was written");
                exit::OUTPUT_FAILED
            }
        };
        ExitCode::from(code)
    }

    fn report_written(written: &Written, started: Instant, quiet: bool) {
        if quiet {
            return;
        }
        let charts = written.files.iter().filter(|f| f.starts_with("charts")).count();
        let mut files: Vec<&str> = written
            .files
            .iter()
            .filter(|f| !f.starts_with("charts"))
            .map(String::as_str)
            .collect();
        let chart_note = format!("{charts} chart files");
        if charts > 0 {
            files.push(&chart_note);
        }
        eprintln!(
            "wrote {}/ ({}) in {:.1} s{}",
            written.dir.display(),
            files.join(", "),
            started.elapsed().as_secs_f64(),
            if written.replaced {
                "; it replaced the earlier output of that name"
            } else {
                ""
            }
        );
    }

    /// Runs an analysis with a progress bar and the Ctrl-C flag, then prints its summary
    /// on stdout, its notes on stderr (unless quiet) and the files it wrote.
    fn run_analysis<T>(
        quiet: bool,
        analysis: impl FnOnce(&Bar, &AtomicBool) -> Result<T, AnalysisError>,
        report: impl FnOnce(&T) -> (&str, Vec<String>, &Written),
    ) -> ExitCode {
        let started = Instant::now();
        let cancel = cancel_flag();
        let bar = Bar(progress_bar(0, quiet));
        let result = analysis(&bar, &cancel);
        bar.0.finish_and_clear();
        match result {
            Ok(outcome) => {
                let (summary, notes, written) = report(&outcome);
                print!("{summary}");
                if !quiet {
                    for note in notes {
                        eprintln!("{note}");
                    }
                }
                report_written(written, started, quiet);
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        }
    }

    fn dates(at: &Option<String>) -> Result<Option<Vec<greatgame::time::Quarter>>, AnalysisError> {
        at.as_deref().map(lib::parse_dates).transpose()
    }

    pub fn compare(args: CompareArgs) -> ExitCode {
        let options = match (|| -> Result<CompareOptions, AnalysisError> {
            Ok(CompareOptions {
                inputs: args.inputs.clone(),
                settings: settings(&args.run),
                metrics: lib::parse_metrics(args.metrics.as_deref())?,
                horizons: dates(&args.at)?,
                resamples: args.bootstrap as usize,
                top: args.top,
            })
        })() {
            Ok(options) => options,
            Err(e) => return fail(e),
        };
        run_analysis(
            args.run.quiet,
            |bar, cancel| run_compare(&options, bar, cancel),
            |outcome| {
                let notes = outcome.notes.iter().map(|note| format!("note: {note}")).collect();
                (outcome.summary.as_str(), notes, &outcome.written)
            },
        )
    }

    pub fn sweep(args: SweepArgs) -> ExitCode {
        let options = match (|| -> Result<SweepOptions, AnalysisError> {
            Ok(SweepOptions {
                scenario: args.scenario.clone(),
                settings: settings(&args.run),
                set: args.set.clone(),
                combine: args.combine.clone(),
                design: args.design.clone(),
                metrics: lib::parse_metrics(args.metrics.as_deref())?,
                horizons: dates(&args.at)?,
            })
        })() {
            Ok(options) => options,
            Err(e) => return fail(e),
        };
        run_analysis(
            args.run.quiet,
            |bar, cancel| run_sweep(&options, bar, cancel),
            |outcome| {
                let notes = vec![format!("{} sweep points", outcome.points)];
                (outcome.summary.as_str(), notes, &outcome.written)
            },
        )
    }

    pub fn sensitivity(args: SensitivityArgs) -> ExitCode {
        let options = match (|| -> Result<SensitivityOptions, AnalysisError> {
            Ok(SensitivityOptions {
                scenario: args.scenario.clone(),
                settings: settings(&args.run),
                outputs: args.outputs.as_deref().map(|list| {
                    list.split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect()
                }),
                method: args.method.clone(),
                samples: args.samples,
                trajectories: args.trajectories,
                levels: args.levels,
                resamples: args.bootstrap as usize,
                horizons: dates(&args.at)?,
            })
        })() {
            Ok(options) => options,
            Err(e) => return fail(e),
        };
        run_analysis(
            args.run.quiet,
            |bar, cancel| run_sensitivity(&options, bar, cancel),
            |outcome| {
                let notes = vec![format!("{} design points evaluated", outcome.evaluations)];
                (outcome.summary.as_str(), notes, &outcome.written)
            },
        )
    }
    pub fn backtest(args: BacktestArgs) -> ExitCode {
        use greatgame::analysis::backtest::{backtest as run_backtest, BacktestOptions, ParameterSets};
        let options = BacktestOptions {
            scenario: args.scenario.clone(),
            observed: args.observed.clone(),
            settings: settings(&args.run),
            parameter_sets: if args.no_parameter_sets {
                ParameterSets::None
            } else if let Some(file) = &args.parameter_sets {
                ParameterSets::File(file.clone())
            } else {
                ParameterSets::Scenario
            },
            through: args.through,
        };
        run_analysis(
            args.run.quiet,
            |bar, cancel| run_backtest(&options, bar, cancel),
            |outcome| {
                let notes = vec![format!(
                    "{} observations compared, {} skipped (see backtest_skipped.csv)",
                    outcome.matched, outcome.skipped
                )];
                (outcome.summary.as_str(), notes, &outcome.written)
            },
        )
    }

    pub fn calibrate(args: CalibrateArgs) -> ExitCode {
        use greatgame::analysis::calibrate::{calibrate as run_calibrate, CalibrateOptions};
        let options = CalibrateOptions {
            scenario: args.scenario.clone(),
            observed: args.observed.clone(),
            settings: settings(&args.run),
            through: args.through,
            samples: args.samples,
            refine: args.refine,
            keep: args.keep,
        };
        run_analysis(
            args.run.quiet,
            |bar, cancel| run_calibrate(&options, bar, cancel),
            |outcome| {
                let notes = vec![format!("{} evaluations", outcome.evaluations)];
                (outcome.summary.as_str(), notes, &outcome.written)
            },
        )
    }
}

// ---------------------------------------------------------------- shards and merge

/// `run --shard K/N` (or a scheduler's array variables) and `merge`.
mod shards {
    use std::path::PathBuf;
    use std::process::ExitCode;
    use std::sync::atomic::AtomicBool;
    use std::time::Instant;

    use clap::Args;

    use super::{exit, kept, progress_bar, RunArgs};
    use greatgame::ensemble::{self, EnsembleError};
    use greatgame::output::Replaced;
    use greatgame::run::{merge_shards, run_shard, RunError, RunOptions};
    use greatgame::scenario::LoadedScenario;
    use greatgame::shard::{self, MergeError, Shard, ShardSource};

    #[derive(Args)]
    pub struct MergeArgs {
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

    pub fn parse_shard(text: &str) -> Result<Shard, String> {
        Shard::parse(text).map_err(|e| e.to_string())
    }

    /// Exit code of a failed shard run or merge.
    fn code(error: &RunError) -> u8 {
        match error {
            RunError::Ensemble(EnsembleError::Cancelled { .. }) => exit::INTERRUPTED,
            RunError::Ensemble(EnsembleError::TooLarge { .. } | EnsembleError::TooManyReplicates { .. }) => {
                exit::TOO_LARGE
            }
            RunError::Io { .. } | RunError::Charts(_) | RunError::Ensemble(EnsembleError::Observer(_)) => {
                exit::OUTPUT_FAILED
            }
            RunError::Shard(_) => exit::BAD_ARGUMENTS,
            RunError::Merge(_) => exit::SHARDS_MISMATCH,
            _ => exit::RUN_FAILED,
        }
    }

    /// Runs one shard if `--shard` or a scheduler's variables ask for one; `None` runs
    /// the whole ensemble as usual.
    pub fn run_if_sharded(args: &RunArgs, loaded: &LoadedScenario, cancel: &AtomicBool) -> Option<ExitCode> {
        let (shard, source) = match args.shard {
            Some(shard) => (shard, ShardSource::CommandLine),
            None => match Shard::from_env() {
                Ok(Some(found)) => found,
                Ok(None) => return None,
                Err(e) => {
                    eprintln!("error: {e}");
                    return Some(ExitCode::from(exit::BAD_ARGUMENTS));
                }
            },
        };
        let replicates = args.replicates.unwrap_or(loaded.scenario.replicates);
        let blocks = match shard::ensemble_blocks(shard, replicates) {
            Ok(blocks) => blocks,
            Err(e) => {
                eprintln!("error: shard {shard} (from {source}): {e}");
                return Some(ExitCode::from(exit::BAD_ARGUMENTS));
            }
        };
        let first = ensemble::block_replicates(blocks.start, replicates).start;
        let end = ensemble::block_replicates(blocks.end.saturating_sub(1), replicates).end;
        let bar = progress_bar(end - first, args.quiet);
        let options = RunOptions {
            replicates: args.replicates,
            seed: args.seed,
            threads: args.threads.map(usize::from),
            out_root: args.out.clone(),
            per_replicate: args.per_replicate,
            charts: !args.no_charts,
            max_memory_bytes: args.max_memory_mb.saturating_mul(1_000_000),
            command_line: std::env::args().collect(),
        };
        let started = Instant::now();
        let tick = || bar.inc(1);
        let result = run_shard(loaded, &options, shard, source, &tick, cancel);
        bar.finish_and_clear();
        let destination = args.out.join(&loaded.scenario.name);
        Some(match result {
            Ok(outcome) => {
                if !args.quiet {
                    eprintln!(
                        "{}: shard {} (from {source}): replicates {} to {} of {}, seed {}, in {:.1} s",
                        loaded.scenario.name,
                        outcome.shard,
                        outcome.replicate_range.start,
                        outcome.replicate_range.end - 1,
                        outcome.replicates,
                        outcome.seed,
                        started.elapsed().as_secs_f64()
                    );
                    if let Replaced::OtherRun(what) = &outcome.replaced {
                        eprintln!("note: {} held {what}; it was replaced", outcome.dir.display());
                    }
                    eprintln!(
                        "wrote {}/ ({}); merge all {} shards with `greatgame merge`",
                        outcome.dir.display(),
                        outcome.files.join(", "),
                        outcome.shard.count
                    );
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: shard {shard}: {e}; {}", kept(&destination));
                ExitCode::from(code(&e))
            }
        })
    }

    pub fn merge(args: MergeArgs) -> ExitCode {
        let started = Instant::now();
        let result = merge_shards(
            &args.folders,
            &args.out,
            args.threads.map(usize::from),
            std::env::args().collect(),
        );
        match result {
            Ok(outcome) => {
                if !args.quiet {
                    eprintln!(
                        "merged {} shards: {} replicates, seed {}, in {:.1} s",
                        args.folders.len(),
                        outcome.replicates,
                        outcome.seed,
                        started.elapsed().as_secs_f64()
                    );
                    if let Replaced::OtherRun(what) = &outcome.replaced {
                        eprintln!(
                            "note: {} held the output of {what}; it was replaced",
                            outcome.dir.display()
                        );
                    }
                    eprintln!("wrote {}/ ({})", outcome.dir.display(), outcome.files.join(", "));
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                match &e {
                    RunError::Merge(MergeError::Missing { .. }) => {
                        eprintln!("error: {e}; nothing was written (run the missing shards, then merge again)")
                    }
                    _ => eprintln!("error: {e}; nothing was written"),
                }
                ExitCode::from(code(&e))
            }
        }
    }
}
