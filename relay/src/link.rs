//! The simulated link's decision for each packet: lose it, or when to deliver it and whether to deliver a copy.

use crate::{LinkConfig, REORDER_EXTRA_HOLD};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::time::Duration;

/// A direction of the relay; each has its own random stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Client to server.
    ToServer,
    /// Server to client.
    ToClient,
}

impl Direction {
    /// The seed of this direction's stream, derived from the relay's seed (SplitMix64 of a salted seed, so that
    /// neighbouring seeds and the two directions give unrelated streams).
    pub(crate) fn seed(self, seed: u64) -> u64 {
        let salt: u64 = match self {
            Direction::ToServer => 0x5EED_C11E_4770_5E4F,
            Direction::ToClient => 0x5EED_5E4F_4770_C11E,
        };
        let mut z = (seed ^ salt).wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// What happens to one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Dropped.
    Lost,
    /// Delivered `after` its arrival, and a copy `duplicate` after its arrival when that is `Some`.
    Deliver {
        after: Duration,
        /// Held longer so that later packets overtake it (already included in `after`).
        reordered: bool,
        duplicate: Option<Duration>,
    },
}

/// The link conditions of one direction with that direction's random stream.
#[derive(Debug)]
pub(crate) struct Link {
    config: LinkConfig,
    rng: StdRng,
}

impl Link {
    /// A link drawing from a stream seeded with `seed` (see [`Direction::seed`]).
    pub(crate) fn new(config: LinkConfig, seed: u64) -> Self {
        Self {
            config,
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// Decides the fate of the next packet. The draws depend only on the configuration and on how many packets
    /// came before, so the same seed and the same packets give the same verdicts.
    pub(crate) fn decide(&mut self) -> Verdict {
        if self.chance(self.config.loss) {
            return Verdict::Lost;
        }
        let mut after = self.draw_delay();
        let reordered = self.chance(self.config.reorder);
        if reordered {
            after += self.reorder_hold();
        }
        let duplicate = if self.chance(self.config.duplicate) {
            Some(self.draw_delay())
        } else {
            None
        };
        Verdict::Deliver {
            after,
            reordered,
            duplicate,
        }
    }

    /// True with probability `p`; never panics (a probability outside 0..=1 acts as the nearest bound, NaN as 0).
    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.rng.random::<f64>() < p
    }

    /// `delay` plus a uniform draw in `-jitter..=jitter`, at least zero.
    fn draw_delay(&mut self) -> Duration {
        let delay = self.config.delay;
        let jitter = i64::try_from(self.config.jitter.as_nanos()).unwrap_or(i64::MAX);
        if jitter == 0 {
            return delay;
        }
        let offset = self.rng.random_range(-jitter..=jitter);
        let base = i64::try_from(delay.as_nanos()).unwrap_or(i64::MAX);
        Duration::from_nanos(u64::try_from(base.saturating_add(offset)).unwrap_or(0))
    }

    /// How much longer a packet picked for reordering is held.
    fn reorder_hold(&self) -> Duration {
        self.config.delay / 2 + self.config.jitter * 2 + REORDER_EXTRA_HOLD
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn verdicts(config: LinkConfig, seed: u64, n: usize) -> Vec<Verdict> {
        let mut link = Link::new(config, seed);
        (0..n).map(|_| link.decide()).collect()
    }

    #[test]
    fn a_perfect_link_delivers_everything_at_once() {
        let expected = Verdict::Deliver {
            after: Duration::ZERO,
            reordered: false,
            duplicate: None,
        };
        assert!(verdicts(LinkConfig::default(), 1, 1_000).iter().all(|v| *v == expected));
    }

    #[test]
    fn certain_loss_loses_everything() {
        let config = LinkConfig {
            loss: 1.0,
            ..LinkConfig::default()
        };
        assert!(verdicts(config, 1, 1_000).iter().all(|v| *v == Verdict::Lost));
    }

    #[test]
    fn loss_is_about_its_probability() {
        let config = LinkConfig {
            loss: 0.2,
            ..LinkConfig::default()
        };
        let lost = verdicts(config, 3, 10_000)
            .iter()
            .filter(|v| **v == Verdict::Lost)
            .count();
        assert!((1_700..2_300).contains(&lost), "{lost}");
    }

    #[test]
    fn jitter_spreads_both_ways_and_never_goes_below_zero() {
        let config = LinkConfig {
            delay: 20 * MS,
            jitter: 5 * MS,
            ..LinkConfig::default()
        };
        let delays: Vec<Duration> = verdicts(config, 5, 2_000)
            .into_iter()
            .filter_map(|v| match v {
                Verdict::Deliver { after, .. } => Some(after),
                Verdict::Lost => None,
            })
            .collect();
        assert_eq!(delays.len(), 2_000);
        assert!(delays.iter().all(|d| (15 * MS..=25 * MS).contains(d)));
        assert!(delays.iter().any(|d| *d < 16 * MS) && delays.iter().any(|d| *d > 24 * MS));

        let clamped = LinkConfig {
            delay: MS,
            jitter: 10 * MS,
            ..LinkConfig::default()
        };
        let zeros = verdicts(clamped, 5, 2_000)
            .into_iter()
            .filter(|v| matches!(v, Verdict::Deliver { after, .. } if after.is_zero()))
            .count();
        assert!(zeros > 500, "{zeros}");
    }

    #[test]
    fn reordered_packets_are_held_and_duplicates_get_their_own_draw() {
        let config = LinkConfig {
            delay: 10 * MS,
            reorder: 1.0,
            duplicate: 1.0,
            ..LinkConfig::default()
        };
        let expected = Verdict::Deliver {
            after: 20 * MS,
            reordered: true,
            duplicate: Some(10 * MS),
        };
        assert!(verdicts(config, 1, 100).iter().all(|v| *v == expected));
    }

    #[test]
    fn the_same_seed_gives_the_same_verdicts_and_directions_differ() {
        let config = LinkConfig {
            delay: 10 * MS,
            jitter: 3 * MS,
            loss: 0.3,
            duplicate: 0.2,
            reorder: 0.1,
        };
        let a = verdicts(config, Direction::ToServer.seed(9), 500);
        assert_eq!(a, verdicts(config, Direction::ToServer.seed(9), 500));
        assert_ne!(a, verdicts(config, Direction::ToClient.seed(9), 500));
        assert_ne!(a, verdicts(config, Direction::ToServer.seed(10), 500));
        assert_ne!(Direction::ToServer.seed(9), Direction::ToClient.seed(9));
    }
}
