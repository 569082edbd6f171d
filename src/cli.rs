//! The command line's arguments: one struct per subcommand, read by clap. `main.rs` turns
//! them into the library's options.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use greatgame::analysis::sets::ParameterSets;
use greatgame::commands::calibrate::DEFAULT_TEMPERATURE;
use greatgame::commands::compare::MinEffect;
use greatgame::commands::levers::{DEFAULT_SHARE_STEP, DEFAULT_STEP};
use greatgame::ensemble::DEFAULT_MAX_MEMORY_BYTES;
use greatgame::job::Settings;
use greatgame::shard::Shard;

#[derive(Parser)]
#[command(
    name = "greatgame",
    version,
    about = "Agent-based simulation of great-power competition in Central Asia",
    long_about = "Agent-based simulation of great-power competition in Central Asia.\n\n\
                  With no command, runs the built-in baseline scenario and writes output/baseline/."
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Run a scenario's ensemble and write tables, charts and a manifest.
    Run(RunArgs),
    /// Merge the folders of the shards of a run, sweep, sensitivity, levers or calibrate
    /// (`--shard K/N`) into its output.
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
    /// Print the written account of a run from its output folder: for each host the
    /// largest moves and the decision terms, levers and events behind them (as in its
    /// report.html).
    Explain {
        /// A run's output folder, e.g. output/baseline.
        folder: PathBuf,
        /// Only this host (id or name).
        #[arg(long, value_name = "HOST")]
        host: Option<String>,
    },
    /// Write a commented variant of a scenario to start from (scenarios/NAME.toml).
    New {
        /// Scenario name (written to scenarios/NAME.toml), or a path ending in .toml.
        name: String,
        /// The scenario it extends: a name (looked up beside the new file, then in
        /// scenarios/) or a path.
        #[arg(long, value_name = "SCENARIO", default_value = "baseline")]
        extends: String,
    },
    /// Print the JSON Schema of the scenario format, for editors (docs/scenario-format.md).
    Schema {
        /// Write it to FILE instead of stdout.
        #[arg(long, short = 'o', value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

#[derive(Args)]
pub(crate) struct RunArgs {
    /// Scenario file (TOML). Without it, the built-in baseline runs.
    pub(crate) scenario: Option<PathBuf>,
    /// Number of replicates [default: the scenario's run.replicates].
    #[arg(long, short = 'n', value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) replicates: Option<u64>,
    /// Master seed [default: the scenario's run.seed].
    #[arg(long)]
    pub(crate) seed: Option<u64>,
    /// Worker threads [default: all cores]; the output is the same for any count.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) threads: Option<u16>,
    /// Output root: the run writes DIR/<scenario name>/.
    #[arg(long, value_name = "DIR", default_value = "output")]
    pub(crate) out: PathBuf,
    /// Also write every replicate's values (replicates.csv), streamed to disk.
    #[arg(long)]
    pub(crate) per_replicate: bool,
    /// Skip the PNG and SVG charts (report.html still draws its interactive charts).
    #[arg(long)]
    pub(crate) no_charts: bool,
    /// No progress bar or summary on stderr.
    #[arg(long, short = 'q')]
    pub(crate) quiet: bool,
    /// Largest memory the ensemble's statistics may hold, MB.
    #[arg(long, value_name = "MB", default_value_t = DEFAULT_MAX_MEMORY_BYTES / 1_000_000)]
    pub(crate) max_memory_mb: u64,
    /// Run only shard K of N (K from 0) and write a partial result for `merge`
    /// [default: from SLURM_ARRAY_TASK_ID/COUNT or JOB_COMPLETION_INDEX and
    /// GREATGAME_SHARD_COUNT, if set].
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub(crate) shard: Option<Shard>,
    #[command(flatten)]
    pub(crate) sets: SetsArgs,
}

/// `--parameter-sets FILE` and `--no-parameter-sets` (run, compare, sweep, levers, backtest).
#[derive(Args, Default)]
pub(crate) struct SetsArgs {
    /// Parameter sets to spread the replicates over, replicate i on set i mod K (a CSV as
    /// calibrate writes) [default: the scenario's [calibration] parameter_sets, if any].
    #[arg(long, value_name = "FILE")]
    pub(crate) parameter_sets: Option<PathBuf>,
    /// Run every replicate with the scenario's own values, ignoring its parameter sets.
    #[arg(long, conflicts_with = "parameter_sets")]
    pub(crate) no_parameter_sets: bool,
}

impl SetsArgs {
    pub(crate) fn choice(&self) -> ParameterSets {
        ParameterSets::from_options(self.parameter_sets.clone(), self.no_parameter_sets)
    }
}

impl Default for RunArgs {
    /// `greatgame` with no command: the built-in baseline into `output/`.
    fn default() -> RunArgs {
        RunArgs {
            scenario: None,
            replicates: None,
            seed: None,
            threads: None,
            out: PathBuf::from("output"),
            per_replicate: false,
            no_charts: false,
            quiet: false,
            max_memory_mb: DEFAULT_MAX_MEMORY_BYTES / 1_000_000,
            shard: None,
            sets: SetsArgs::default(),
        }
    }
}

pub(crate) fn parse_shard(text: &str) -> Result<Shard, String> {
    Shard::parse(text).map_err(|e| e.to_string())
}

#[derive(Args)]
pub(crate) struct MergeArgs {
    /// Shard folders (each `DIR/<scenario name>/` of one `run --shard K/N`), in any order.
    #[arg(required = true)]
    pub(crate) folders: Vec<PathBuf>,
    /// Output root: the merged result goes to DIR/<scenario name>/ (sweep, sensitivity,
    /// levers: DIR/<command>-<scenario>/; calibrate: DIR itself) [default: output, or
    /// calibrate's own default].
    #[arg(long, value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,
    /// Worker threads for the statistics [default: all cores].
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) threads: Option<u16>,
    /// No summary on stderr.
    #[arg(long, short = 'q')]
    pub(crate) quiet: bool,
}

/// Options the analyses share with `run`.
#[derive(Args)]
pub(crate) struct JobArgs {
    /// Replicates per ensemble [default: compare: the first input's; sweep and backtest:
    /// the scenario's run.replicates; sensitivity and calibrate: its sensitivity.replicates
    /// or calibration.replicates; levers: 40].
    #[arg(long, short = 'n', value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) replicates: Option<u64>,
    /// Master seed, the same for every ensemble [default: the (first) scenario's run.seed].
    #[arg(long)]
    pub(crate) seed: Option<u64>,
    /// Worker threads [default: all cores].
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) threads: Option<u16>,
    /// Output: compare, sweep, sensitivity and levers write DIR/<command>-<names>/ [default DIR:
    /// output]; backtest and calibrate write into DIR itself [default:
    /// output/<command>-<scenario>].
    #[arg(long, value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,
    /// Skip the PNG and SVG charts (a report.html still draws its interactive charts).
    #[arg(long)]
    pub(crate) no_charts: bool,
    /// No progress bar or notes on stderr (the summary still goes to stdout).
    #[arg(long, short = 'q')]
    pub(crate) quiet: bool,
    /// Largest memory one ensemble's statistics may hold, MB.
    #[arg(long, value_name = "MB", default_value_t = DEFAULT_MAX_MEMORY_BYTES / 1_000_000)]
    pub(crate) max_memory_mb: u64,
}

impl JobArgs {
    pub(crate) fn settings(&self) -> Settings {
        Settings {
            replicates: self.replicates,
            seed: self.seed,
            threads: self.threads.map(usize::from),
            max_memory_bytes: self.max_memory_mb.saturating_mul(1_000_000),
            out: self.out.clone(),
            charts: !self.no_charts,
            command_line: std::env::args().collect(),
            ..Settings::default()
        }
    }
}

#[derive(Args)]
pub(crate) struct CompareArgs {
    /// Scenario files or output folders of earlier runs; the first is the reference.
    #[arg(required = true, num_args = 2..)]
    pub(crate) inputs: Vec<PathBuf>,
    #[command(flatten)]
    pub(crate) job: JobArgs,
    /// Metrics to compare, comma-separated
    /// [default: alignment,trade_share,hedging_index,fdi_stock_usd_bn,security_dependence].
    #[arg(long, value_name = "LIST")]
    pub(crate) metrics: Option<String>,
    /// Quarters to compare, e.g. 2030Q4,2035Q4 [default: a mid-run quarter and the last].
    #[arg(long, value_name = "QUARTERS")]
    pub(crate) at: Option<String>,
    /// Bootstrap resamples per confidence interval.
    #[arg(long, value_name = "N", default_value_t = 2000, value_parser = clap::value_parser!(u64).range(100..=1_000_000))]
    pub(crate) bootstrap: u64,
    /// Differences listed in the summary per scenario.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub(crate) top: usize,
    /// The smallest difference that matters: a share of the reference's mean (1%) or an
    /// amount in each metric's unit (0.005).
    #[arg(long, value_name = "X", default_value = "1%", value_parser = clap::value_parser!(MinEffect))]
    pub(crate) min_effect: MinEffect,
    #[command(flatten)]
    pub(crate) sets: SetsArgs,
}

/// `--combine`.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum CombineArg {
    Grid,
    Zip,
}

#[derive(Args)]
pub(crate) struct SweepArgs {
    /// Scenario file (TOML).
    pub(crate) scenario: PathBuf,
    #[command(flatten)]
    pub(crate) job: JobArgs,
    /// Compute only shard K of N of the design points (K from 0) and write a partial
    /// result for `merge` [default: from the Slurm or Kubernetes array's variables, if set].
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub(crate) shard: Option<Shard>,
    /// A swept parameter: KEY=V1,V2,... or KEY=FROM..TO:N (repeatable); replaces the
    /// scenario's [sweep] table.
    #[arg(long = "set", value_name = "KEY=VALUES")]
    pub(crate) set: Vec<String>,
    /// grid (every combination) or zip (i-th values together) [default: the [sweep] table's, else grid].
    #[arg(long, value_enum)]
    pub(crate) combine: Option<CombineArg>,
    /// CSV design: a header of key paths, one row per point; replaces the [sweep] table.
    #[arg(long, value_name = "FILE")]
    pub(crate) design: Option<PathBuf>,
    /// Metrics to record, comma-separated [default: as compare].
    #[arg(long, value_name = "LIST")]
    pub(crate) metrics: Option<String>,
    /// Quarters to record, e.g. 2030Q4,2035Q4 [default: a mid-run quarter and the last].
    #[arg(long, value_name = "QUARTERS")]
    pub(crate) at: Option<String>,
    #[command(flatten)]
    pub(crate) sets: SetsArgs,
}

/// `--method`.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum MethodArg {
    Morris,
    Sobol,
    Both,
}

#[derive(Args)]
pub(crate) struct SensitivityArgs {
    /// Scenario file (TOML) with a [sensitivity] table of parameter ranges.
    pub(crate) scenario: PathBuf,
    #[command(flatten)]
    pub(crate) job: JobArgs,
    /// Compute only shard K of N of the design points (K from 0) and write a partial
    /// result for `merge` [default: from the Slurm or Kubernetes array's variables, if set].
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub(crate) shard: Option<Shard>,
    /// Outcomes: metric, metric:HOST or metric:HOST:PARTNER, comma-separated
    /// [default: the table's outputs, else alignment,hedging_index].
    #[arg(long, value_name = "LIST")]
    pub(crate) outputs: Option<String>,
    /// morris, sobol or both [default: the table's method, else both].
    #[arg(long, value_enum)]
    pub(crate) method: Option<MethodArg>,
    /// Sobol' base sample N (the design has N (k + 2) points) [default: the table's].
    #[arg(long, value_name = "N")]
    pub(crate) samples: Option<u64>,
    /// Morris trajectories r (the design has r (k + 1) points) [default: the table's].
    #[arg(long, value_name = "R")]
    pub(crate) trajectories: Option<u64>,
    /// Morris grid levels (even) [default: the table's].
    #[arg(long, value_name = "P")]
    pub(crate) levels: Option<u32>,
    /// Bootstrap resamples per confidence interval.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(100..=1_000_000))]
    pub(crate) bootstrap: u64,
    /// Quarters of the outcomes, e.g. 2030Q4,2035Q4 [default: the last quarter].
    #[arg(long, value_name = "QUARTERS")]
    pub(crate) at: Option<String>,
}

#[derive(Args)]
pub(crate) struct LeversArgs {
    /// Scenario file (TOML).
    pub(crate) scenario: PathBuf,
    #[command(flatten)]
    pub(crate) job: JobArgs,
    /// Compute only shard K of N of the design points (K from 0) and write a partial
    /// result for `merge` [default: from the Slurm or Kubernetes array's variables, if set].
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub(crate) shard: Option<Shard>,
    /// Screen only keys matching this glob (`*` any text), e.g. 'patrons.USA.*' (repeatable) [default: all].
    #[arg(long = "keys", value_name = "GLOB")]
    pub(crate) keys: Vec<String>,
    /// Relative step: each value is moved to x(1 - F) and x(1 + F).
    #[arg(long, value_name = "F", default_value_t = DEFAULT_STEP)]
    pub(crate) step: f64,
    /// Absolute step of shares and probabilities kept in 0..1 (clipped to the range).
    #[arg(long, value_name = "D", default_value_t = DEFAULT_SHARE_STEP)]
    pub(crate) share_step: f64,
    /// Outcomes: metric, metric:HOST or metric:HOST:PARTNER, comma-separated [default: the headline ones].
    #[arg(long, value_name = "LIST")]
    pub(crate) outputs: Option<String>,
    /// Quarters of the outcomes, e.g. 2030Q4,2035Q4 [default: a mid-run quarter and the last].
    #[arg(long, value_name = "QUARTERS")]
    pub(crate) at: Option<String>,
    #[command(flatten)]
    pub(crate) sets: SetsArgs,
}

#[derive(Args)]
pub(crate) struct BacktestArgs {
    /// Scenario file (TOML), e.g. scenarios/backcast_2015.toml.
    pub(crate) scenario: PathBuf,
    /// Observations: CSV with year,host,partner,metric,value,unit,basis,note,source.
    #[arg(long, value_name = "FILE")]
    pub(crate) observed: PathBuf,
    #[command(flatten)]
    pub(crate) job: JobArgs,
    #[command(flatten)]
    pub(crate) sets: SetsArgs,
    /// Last calibration year: the report scores later years as held out
    /// [default: the scenario's [calibration] through].
    #[arg(long, value_name = "YEAR")]
    pub(crate) through: Option<i32>,
}

#[derive(Args)]
pub(crate) struct CalibrateArgs {
    /// Scenario file (TOML) with a [calibration] table of parameter ranges.
    pub(crate) scenario: PathBuf,
    /// Observations: CSV with year,host,partner,metric,value,unit,basis,note,source.
    #[arg(long, value_name = "FILE")]
    pub(crate) observed: PathBuf,
    #[command(flatten)]
    pub(crate) job: JobArgs,
    /// Compute only shard K of N of the design points (K from 0) and write a partial
    /// result for `merge` [default: from the Slurm or Kubernetes array's variables, if set].
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub(crate) shard: Option<Shard>,
    /// Last year the search may use; later observations are held out [default: the table's through].
    #[arg(long, value_name = "YEAR")]
    pub(crate) through: Option<i32>,
    /// Points of the global (Sobol') stage [default: the table's samples].
    #[arg(long, value_name = "N")]
    pub(crate) samples: Option<u64>,
    /// Evaluations of the local (compass) stage [default: the table's refine].
    #[arg(long, value_name = "N")]
    pub(crate) refine: Option<u64>,
    /// Parameter sets to draw from the importance-weighted global points [default: the
    /// table's keep].
    #[arg(long, value_name = "N")]
    pub(crate) keep: Option<u64>,
    /// τ of the importance weights exp(-(loss - min loss) / T), T = τ x best fit: a point
    /// whose error is τ larger than the best point's weighs 1/e as much.
    #[arg(long, value_name = "TAU", default_value_t = DEFAULT_TEMPERATURE)]
    pub(crate) temperature: f64,
}
