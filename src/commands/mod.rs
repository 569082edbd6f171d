//! The commands: each is its options, a function of them and a [`crate::job::Job`], and
//! its outcome. They stand on the job layer ([`crate::job`]: settings, progress,
//! staging, manifests, errors), on the shared services of [`crate::analysis`] and on
//! [`crate::output`] and [`crate::chart`]; none imports another command (`run`'s
//! preparation and tables are shared with the shard commands as the run's own code).
//!
//! - [`run`]: one scenario's ensemble; [`shard`]: one shard of it, and `merge`.
//! - [`check`]: validation only; [`new`]: a commented variant to start from.
//! - [`explain`]: a run's written account, from its folder.
//! - [`compare`], [`sweep`], [`sensitivity`], [`levers`]: analyses over ensembles
//!   (`docs/analysis.md`).
//! - [`backtest`], [`calibrate`]: against observations (`docs/backtest.md`).

pub mod backtest;
pub mod calibrate;
pub mod check;
pub mod compare;
pub mod explain;
pub mod levers;
pub mod new;
pub mod run;
pub mod sensitivity;

pub mod sweep;
