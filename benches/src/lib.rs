//! Benchmarks and the load-test tool for Arena: criterion benches of the tick and the codec on the sans-IO
//! core, and `arena-loadtest`, which loads a real server with real QUIC bots. See docs/BENCHMARKS.md.
//!
//! # Layout
//! - [`world`]: a simulation filled with bot players and their inputs, for the tick benches.
//! - [`stats`]: the report's arithmetic: percentiles, histogram quantiles and windows, rates.
//! - [`prom`]: the server's own metrics (Prometheus text over HTTP or in process) and scrape differences.
//! - [`procstat`]: a process's CPU time and resident memory from `/proc`.
//! - [`floor`]: the physical floor, a QUIC datagram echo with the game's quinn configuration.
//! - [`target`]: the server under test: a child `arena-server`, a remote one, or one in this process.
//! - [`bots`]: the load: QUIC bot clients driven in groups, timing each input until a snapshot applies it.
//! - [`loadtest`]: one run from start to [`report::Report`].
//! - [`figures`]: the report's figures from the readings around the measured window.
//! - [`report`]: the report, its JSON, its summary and the series behind the plots.
//! - [`plot`]: hand-written SVG plots of a run and of a sweep.
//! - [`sweep`]: runs over several player counts, one row each.
//!
//! `benches/` holds the criterion benches (`tick`, `codec`), `src/bin/arena-loadtest.rs` the command line.

pub mod bots;
pub mod figures;
pub mod floor;
pub mod loadtest;
pub mod plot;
pub mod procstat;
pub mod prom;
pub mod report;
pub mod stats;
pub mod sweep;
pub mod target;
pub mod world;

pub use loadtest::{Options, run};
pub use report::{Report, Run};
