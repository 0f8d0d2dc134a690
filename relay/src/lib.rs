//! A lossy UDP relay (link conditioner) to put between a QUIC client and server on one machine, so that the game
//! can be tried, and tested in process, under a bad network: delay, jitter, loss, duplication and reordering,
//! drawn from a seeded RNG so that a run can be reproduced.
//!
//! The relay listens on one address. Each client (distinct source address) gets its own upstream socket connected
//! to the server, so the server sees one peer per client; the server's replies go back out of the listen socket to
//! that client. Each direction has its own random stream derived from the seed and its own timer queue, and one
//! task per direction sleeps until the earliest delivery time, so packets leave within about a millisecond of it.
//!
//! ```no_run
//! # async fn example() -> Result<(), arena_relay::RelayError> {
//! use std::time::Duration;
//! let relay = arena_relay::start(arena_relay::RelayConfig {
//!     listen: ([127, 0, 0, 1], 0).into(),
//!     to: ([127, 0, 0, 1], 4433).into(),
//!     link: arena_relay::LinkConfig { delay: Duration::from_millis(50), loss: 0.05, ..Default::default() },
//!     seed: 1,
//! })
//! .await?;
//! println!("clients connect to {}", relay.local_addr());
//! // ... later
//! println!("{}", relay.stats());
//! relay.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! # Layout
//!
//! - `config`: [`LinkConfig`], [`RelayConfig`], their validation, and the limits (`MAX_*`, [`IDLE_TIMEOUT`]).
//! - `error`: [`RelayError`].
//! - `link`: the per-packet verdict (lose, delay, hold for reordering, duplicate) from a seeded RNG.
//! - `queue`: the bounded timer queue (a binary heap by deadline, then arrival).
//! - `line`: one direction: verdicts, queue, and the task delivering packets when due.
//! - `relay`: [`start`] and [`Relay`]: the listen socket, the client mappings with their upstream sockets, expiry.
//!   Its unit tests (`relay/tests.rs`) reach the limits by running with smaller ones.
//! - `stats`: [`RelayStats`] and [`DirectionStats`], and the live counters behind them.
//! - `main.rs`: the `arena-relay` command line.

mod config;
mod error;
mod line;
mod link;
mod queue;
mod relay;
mod stats;

pub use config::{
    IDLE_TIMEOUT, LinkConfig, MAX_CLIENTS, MAX_DATAGRAM_SIZE, MAX_DELAY, MAX_JITTER, MAX_QUEUED_BYTES,
    MAX_QUEUED_PACKETS, REORDER_EXTRA_HOLD, RelayConfig,
};
pub use error::RelayError;
pub use relay::{Relay, start};
pub use stats::{DirectionStats, RelayStats};
