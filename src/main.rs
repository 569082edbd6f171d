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
    pub const INVALID_SCENARIO: u8 = 3;
    pub const OUTPUT_FAILED: u8 = 4;
    pub const TOO_LARGE: u8 = 5;
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
    /// Validate scenario files and print every problem; runs nothing.
    Check {
        /// Scenario files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
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
        Some(Command::Check { files }) => check(&files),
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
