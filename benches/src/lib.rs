//! Benchmarks and the load-test tool for Arena. This crate is the home of the criterion benches of the tick
//! and the codec (`benches/`) and of `arena-loadtest` (`src/bin/`); see docs/BENCHMARKS.md.
