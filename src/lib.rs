//! greatgame: an agent-based simulation of great-power competition in Central Asia.
//!
//! The library holds everything but the command line: scenario loading
//! ([`scenario`]), the model ([`model`]), ensembles of seeded replicates
//! ([`ensemble`]), statistics ([`stats`]) and output files and charts ([`output`]).
//! See `ARCHITECTURE.md` for the map and `docs/MODEL.md` for the equations.

#![forbid(unsafe_code)]

pub mod analysis;
pub mod chart;
pub mod commands;
pub mod ensemble;
pub mod format;
pub mod hash;
pub mod input;
pub mod job;
pub mod manifest;
pub mod metrics;
pub mod model;
pub mod output;
pub mod scenario;
pub mod shard;
pub mod stats;
pub mod time;
