//! What the relay is told: where to listen and relay to, the simulated link, the seed, and the limits it keeps.

use crate::RelayError;
use std::net::SocketAddr;
use std::time::Duration;

/// Size of the buffer each datagram is read into. A UDP payload cannot be larger (65_507 bytes over IPv4, 65_527
/// over IPv6 without jumbograms), so nothing is ever truncated: every datagram is forwarded byte for byte as it came.
pub const MAX_DATAGRAM_SIZE: usize = 65_535;

/// Most packets waiting for their delivery time in one direction. When a direction already holds this many, each
/// further packet (or duplicate copy) is dropped and counted in [`DirectionStats::queue_full`](crate::DirectionStats)
/// until deliveries make room again.
pub const MAX_QUEUED_PACKETS: usize = 16_384;

/// Most payload bytes waiting in one direction, so that large datagrams cannot make the queue hold gigabytes. At the
/// limit, packets are dropped and counted in [`DirectionStats::queue_full`](crate::DirectionStats), as for
/// [`MAX_QUEUED_PACKETS`].
pub const MAX_QUEUED_BYTES: usize = 64 * 1024 * 1024;

/// Most clients (distinct source addresses) with a mapping, each holding its own upstream socket. Once this many
/// exist, packets from any new source address are dropped and counted in
/// [`RelayStats::clients_refused`](crate::RelayStats) until an idle mapping expires; existing clients are unaffected.
pub const MAX_CLIENTS: usize = 1_024;

/// A mapping that has seen no packet in either direction for this long is removed and its upstream socket closed
/// (packets already queued towards the server are still delivered). Idle mappings are looked for every second, so
/// removal happens up to a second later. A later packet from the same address gets a new mapping with a new
/// upstream port, so the server sees a new peer.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Largest [`LinkConfig::delay`]; [`LinkConfig::validate`] refuses more.
pub const MAX_DELAY: Duration = Duration::from_secs(60);

/// Largest [`LinkConfig::jitter`]; [`LinkConfig::validate`] refuses more.
pub const MAX_JITTER: Duration = Duration::from_secs(10);

/// Extra time a packet picked for reordering is held on top of `delay / 2 + 2 * jitter`, so that packets sent up
/// to about this long after it still overtake it even on a link with no delay and no jitter.
pub const REORDER_EXTRA_HOLD: Duration = Duration::from_millis(5);

/// The simulated link, applied to each direction separately. [`Default`] is a perfect link: no delay, no loss.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LinkConfig {
    /// Base one-way delay of every packet (at most [`MAX_DELAY`]).
    pub delay: Duration,
    /// Each delivery is delayed by `delay` plus a uniform draw in `-jitter..=jitter`, never less than zero (at most
    /// [`MAX_JITTER`]). Jitter alone can reorder packets sent closer together than the spread.
    pub jitter: Duration,
    /// Probability (0..=1) that a packet is dropped.
    pub loss: f64,
    /// Probability (0..=1) that a delivered packet is delivered a second time, with its own delay draw.
    pub duplicate: f64,
    /// Probability (0..=1) that a delivered packet is held `delay / 2 + 2 * jitter + REORDER_EXTRA_HOLD` longer,
    /// so that packets sent after it overtake it.
    pub reorder: f64,
}

impl LinkConfig {
    /// Checks that the probabilities are finite and within 0..=1, the delay at most [`MAX_DELAY`] and the jitter
    /// at most [`MAX_JITTER`].
    pub fn validate(&self) -> Result<(), RelayError> {
        for (name, value) in [
            ("loss", self.loss),
            ("duplicate", self.duplicate),
            ("reorder", self.reorder),
        ] {
            if !(value.is_finite() && (0.0..=1.0).contains(&value)) {
                return Err(RelayError::InvalidProbability { name, value });
            }
        }
        if self.delay > MAX_DELAY {
            return Err(RelayError::DelayTooLong {
                delay: self.delay,
                max: MAX_DELAY,
            });
        }
        if self.jitter > MAX_JITTER {
            return Err(RelayError::JitterTooLarge {
                jitter: self.jitter,
                max: MAX_JITTER,
            });
        }
        Ok(())
    }
}

/// Everything [`start`](crate::start) needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RelayConfig {
    /// Where clients send their packets; port 0 picks a free port (see [`Relay::local_addr`](crate::Relay)).
    pub listen: SocketAddr,
    /// The server every client's packets are relayed to.
    pub to: SocketAddr,
    /// The link conditions, the same in both directions.
    pub link: LinkConfig,
    /// Seed of the random draws; each direction derives its own stream from it, so a run with the same seed and
    /// the same packets arriving in the same order makes the same decisions.
    pub seed: u64,
}

/// The limits a running relay keeps: the constants above, made smaller by unit tests.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) max_queued_packets: usize,
    pub(crate) max_queued_bytes: usize,
    pub(crate) max_clients: usize,
    pub(crate) idle_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_queued_packets: MAX_QUEUED_PACKETS,
            max_queued_bytes: MAX_QUEUED_BYTES,
            max_clients: MAX_CLIENTS,
            idle_timeout: IDLE_TIMEOUT,
        }
    }
}

impl Limits {
    /// How often idle mappings are looked for: a quarter of the timeout, between 10 ms and a second.
    pub(crate) fn sweep_period(&self) -> Duration {
        (self.idle_timeout / 4).clamp(Duration::from_millis(10), Duration::from_secs(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(loss: f64, duplicate: f64, reorder: f64) -> LinkConfig {
        LinkConfig {
            loss,
            duplicate,
            reorder,
            ..LinkConfig::default()
        }
    }

    #[test]
    fn the_default_is_a_perfect_link_and_valid() {
        let d = LinkConfig::default();
        assert_eq!((d.delay, d.jitter), (Duration::ZERO, Duration::ZERO));
        assert_eq!((d.loss, d.duplicate, d.reorder), (0.0, 0.0, 0.0));
        assert!(d.validate().is_ok());
    }

    #[test]
    fn the_bounds_themselves_are_accepted() {
        assert!(link(1.0, 1.0, 1.0).validate().is_ok());
        assert!(link(0.0, 0.5, 0.25).validate().is_ok());
        let edge = LinkConfig {
            delay: MAX_DELAY,
            jitter: MAX_JITTER,
            ..LinkConfig::default()
        };
        assert!(edge.validate().is_ok());
    }

    #[test]
    fn bad_probabilities_are_refused_with_their_name() {
        for bad in [1.5, -0.1, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1e-12] {
            for (which, config) in [
                ("loss", link(bad, 0.0, 0.0)),
                ("duplicate", link(0.0, bad, 0.0)),
                ("reorder", link(0.0, 0.0, bad)),
            ] {
                match config.validate() {
                    Err(RelayError::InvalidProbability { name, .. }) => assert_eq!(name, which),
                    other => panic!("{which} = {bad} gave {other:?}"),
                }
                let message = config.validate().map_err(|e| e.to_string()).err().unwrap_or_default();
                assert!(message.starts_with(which), "{message}");
                assert!(message.contains("between 0 and 1"), "{message}");
            }
        }
    }

    #[test]
    fn too_long_delays_and_jitters_are_refused() {
        let delay = LinkConfig {
            delay: MAX_DELAY + Duration::from_millis(1),
            ..LinkConfig::default()
        };
        assert!(matches!(delay.validate(), Err(RelayError::DelayTooLong { .. })));
        let jitter = LinkConfig {
            jitter: MAX_JITTER + Duration::from_millis(1),
            ..LinkConfig::default()
        };
        assert!(matches!(jitter.validate(), Err(RelayError::JitterTooLarge { .. })));
    }

    #[test]
    fn sweeps_are_frequent_enough_but_not_busy() {
        assert_eq!(Limits::default().sweep_period(), Duration::from_secs(1));
        let short = Limits {
            idle_timeout: Duration::from_millis(200),
            ..Limits::default()
        };
        assert_eq!(short.sweep_period(), Duration::from_millis(50));
        let tiny = Limits {
            idle_timeout: Duration::ZERO,
            ..Limits::default()
        };
        assert_eq!(tiny.sweep_period(), Duration::from_millis(10));
    }
}
