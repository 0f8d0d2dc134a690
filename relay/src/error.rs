//! The errors the relay reports: a link configuration it refuses, or a socket it cannot open.

use std::net::SocketAddr;
use std::time::Duration;

/// Why the relay refused a configuration or could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RelayError {
    /// `loss`, `duplicate` or `reorder` is not a finite number within 0..=1.
    #[error("{name} must be a probability between 0 and 1, got {value}")]
    InvalidProbability {
        /// Which field: `loss`, `duplicate` or `reorder`.
        name: &'static str,
        /// The value given.
        value: f64,
    },
    /// `delay` is above [`MAX_DELAY`](crate::MAX_DELAY).
    #[error("a delay of {delay:?} is above the maximum of {max:?}")]
    DelayTooLong {
        /// The delay given.
        delay: Duration,
        /// The largest delay accepted.
        max: Duration,
    },
    /// `jitter` is above [`MAX_JITTER`](crate::MAX_JITTER).
    #[error("a jitter of {jitter:?} is above the maximum of {max:?}")]
    JitterTooLarge {
        /// The jitter given.
        jitter: Duration,
        /// The largest jitter accepted.
        max: Duration,
    },
    /// The destination has port 0, which no server listens on.
    #[error("cannot relay to {0}: port 0 is not a destination")]
    InvalidTarget(SocketAddr),
    /// The listen socket could not be bound (address in use, not a local address, no permission, ...).
    #[error("cannot bind the listen socket on {addr}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
}
