//! Services the analysis commands share ([`crate::commands`]): each in one place, none
//! of them a command, so that no command imports another.
//!
//! - [`outcomes`]: metric names, quarters, horizons and outcomes (`metric:HOST:PARTNER`).
//! - [`parameters`]: the scenario read once ([`parameters::Base`]), parameter ranges,
//!   swept values and design files; [`sets`]: parameter sets, read, checked and laid
//!   over a scenario for an ensemble over them.
//! - [`observations`]: observation files and their matching to model cells, annual
//!   values per replicate; [`skill`]: errors, coverage and naive forecasts.
//! - [`explain`]: the written account of a run (report.html, `greatgame explain`).
//! - [`design`] (Sobol' sequence, Saltelli, Morris), [`indices`] (Morris and Sobol'
//!   estimators), [`bootstrap`] (intervals of differences, effect sizes).
//!
//! Everything is deterministic: generators are ChaCha8 streams of the run seed.

pub mod bootstrap;
pub mod design;
pub mod explain;
pub mod indices;
pub mod observations;
pub mod outcomes;
pub mod parameters;
pub mod sets;
pub mod skill;
