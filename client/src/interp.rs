//! Interpolation of everything the player does not control: other players and projectiles are drawn between
//! two snapshots, a short time in the past, so they move smoothly although snapshots arrive in steps and
//! with jitter. When snapshots are late, positions are extrapolated along the last velocity, but only up to
//! a bound; then they hold still.

use arena_shared::Vec2;
use arena_shared::protocol::{PlayerId, Snapshot};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Snapshots kept for interpolation (half a second at 60 Hz); older ones are dropped.
pub const MAX_BUFFERED: usize = 32;
/// Longest extrapolation past the newest snapshot.
pub const MAX_EXTRAPOLATION: Duration = Duration::from_millis(100);
/// A new estimate of the server clock further than this from the current one replaces it at once (after a
/// stall or a clock jump) instead of being blended in.
const CLOCK_RESET: f64 = 0.25;

/// What to draw of one entity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placed {
    pub pos: Vec2,
    /// Aim angle for players; direction of flight for projectiles.
    pub heading: f32,
}

/// Places remote entities at a render time a little behind the server.
#[derive(Debug)]
pub struct Interpolator {
    tick_seconds: f64,
    delay: Duration,
    snapshots: VecDeque<Snapshot>,
    /// Estimated server time minus local time, in seconds.
    offset: Option<f64>,
    epoch: Instant,
}

impl Interpolator {
    /// `delay` is how far behind the newest snapshot entities are drawn (about two snapshot intervals).
    pub fn new(tick_rate: u16, delay: Duration, epoch: Instant) -> Self {
        Self {
            tick_seconds: 1.0 / f64::from(tick_rate.max(1)),
            delay,
            snapshots: VecDeque::new(),
            offset: None,
            epoch,
        }
    }

    fn local(&self, at: Instant) -> f64 {
        at.saturating_duration_since(self.epoch).as_secs_f64()
    }

    /// Takes a snapshot received at `at`; snapshots older than the newest one kept are ignored.
    pub fn push(&mut self, snapshot: Snapshot, at: Instant) {
        if self.snapshots.back().is_some_and(|s| snapshot.tick <= s.tick) {
            return;
        }
        let sample = f64::from(snapshot.tick) * self.tick_seconds - self.local(at);
        self.offset = Some(match self.offset {
            Some(o) if (sample - o).abs() < CLOCK_RESET => o + (sample - o) * 0.05,
            _ => sample,
        });
        if self.snapshots.len() == MAX_BUFFERED {
            self.snapshots.pop_front();
        }
        self.snapshots.push_back(snapshot);
    }

    /// The newest snapshot received.
    pub fn newest(&self) -> Option<&Snapshot> {
        self.snapshots.back()
    }

    /// The server time (in seconds) that is drawn at local time `at`.
    pub fn render_time(&self, at: Instant) -> Option<f64> {
        Some(self.local(at) + self.offset? - self.delay.as_secs_f64())
    }

    fn time_of(&self, s: &Snapshot) -> f64 {
        f64::from(s.tick) * self.tick_seconds
    }

    /// The two snapshots around server time `t` and how far between them `t` is (0 to 1); when `t` is past
    /// the newest snapshot, that one twice and the seconds past it.
    fn bracket(&self, t: f64) -> Option<(&Snapshot, &Snapshot, f32, f64)> {
        let newest = self.snapshots.back()?;
        if t >= self.time_of(newest) {
            return Some((newest, newest, 1.0, t - self.time_of(newest)));
        }
        let after = self.snapshots.iter().position(|s| self.time_of(s) > t)?;
        if after == 0 {
            let oldest = &self.snapshots[0];
            return Some((oldest, oldest, 0.0, 0.0));
        }
        let (a, b) = (&self.snapshots[after - 1], &self.snapshots[after]);
        let f = (t - self.time_of(a)) / (self.time_of(b) - self.time_of(a));
        Some((a, b, f as f32, 0.0))
    }

    /// Where other players are drawn at local time `at` (the player `me` is left out: it is predicted).
    pub fn players(&self, at: Instant, me: PlayerId) -> Vec<(PlayerId, Placed)> {
        let Some((a, b, f, past)) = self.render_time(at).and_then(|t| self.bracket(t)) else {
            return vec![];
        };
        let extra = past.min(MAX_EXTRAPOLATION.as_secs_f64()) as f32;
        b.players
            .iter()
            .filter(|p| p.id != me && p.state.is_alive())
            .map(|pb| {
                let pos = match a.players.iter().find(|pa| pa.id == pb.id) {
                    Some(pa) if f < 1.0 => pa.state.pos.lerp(pb.state.pos, f),
                    _ => pb.state.pos + pb.state.vel * extra,
                };
                (
                    pb.id,
                    Placed {
                        pos,
                        heading: pb.state.aim,
                    },
                )
            })
            .collect()
    }

    /// Where projectiles are drawn at local time `at`.
    pub fn projectiles(&self, at: Instant) -> Vec<(u32, Placed)> {
        let Some((a, b, f, past)) = self.render_time(at).and_then(|t| self.bracket(t)) else {
            return vec![];
        };
        let extra = past.min(MAX_EXTRAPOLATION.as_secs_f64()) as f32;
        b.projectiles
            .iter()
            .map(|pb| {
                let pos = match a.projectiles.iter().find(|pa| pa.id == pb.id) {
                    Some(pa) if f < 1.0 => pa.pos.lerp(pb.pos, f),
                    _ => pb.pos + pb.vel * extra,
                };
                (
                    pb.id,
                    Placed {
                        pos,
                        heading: pb.vel.angle(),
                    },
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arena_shared::protocol::PlayerSnapshot;
    use arena_shared::rules::PlayerState;

    fn snap(tick: u32, x: f32, vx: f32) -> Snapshot {
        let mut state = PlayerState::spawned(Vec2::new(x, 5.0));
        state.vel = Vec2::new(vx, 0.0);
        Snapshot {
            tick,
            last_input_seq: 0,
            input_margin: None,
            players: vec![PlayerSnapshot {
                id: 2,
                state,
                kills: 0,
                deaths: 0,
            }],
            projectiles: vec![],
            health_packs: vec![],
        }
    }

    /// An interpolator at 10 Hz (0.1 s per tick) with a 0.2 s delay, fed snapshots that arrive exactly on
    /// time: tick n at local second n / 10.
    fn fed(ticks: &[(u32, f32)]) -> (Interpolator, Instant) {
        let epoch = Instant::now();
        let mut i = Interpolator::new(10, Duration::from_millis(200), epoch);
        for (tick, x) in ticks {
            i.push(
                snap(*tick, *x, 10.0),
                epoch + Duration::from_millis(u64::from(*tick) * 100),
            );
        }
        (i, epoch)
    }

    fn x_at(i: &Interpolator, epoch: Instant, ms: u64) -> f32 {
        i.players(epoch + Duration::from_millis(ms), 1)[0].1.pos.x
    }

    #[test]
    fn positions_between_two_snapshots_are_interpolated() {
        let (i, epoch) = fed(&[(10, 0.0), (11, 1.0), (12, 2.0), (13, 3.0)]);
        // At local 1.35 s the render time is 1.15 s: halfway between tick 11 and tick 12.
        assert!((x_at(&i, epoch, 1_350) - 1.5).abs() < 1e-3);
        assert!((x_at(&i, epoch, 1_320) - 1.2).abs() < 1e-3);
    }

    #[test]
    fn late_snapshots_extrapolate_only_up_to_the_bound() {
        let (i, epoch) = fed(&[(10, 0.0), (11, 1.0)]);
        // Render time 1.15 s is 50 ms past the newest snapshot (1.1 s): extrapolated at 10 units/s.
        assert!((x_at(&i, epoch, 1_350) - 1.5).abs() < 1e-3);
        // 400 ms past it: held at the 100 ms bound.
        let bound = 1.0 + 10.0 * MAX_EXTRAPOLATION.as_secs_f32();
        assert!((x_at(&i, epoch, 1_700) - bound).abs() < 1e-3);
        assert!((x_at(&i, epoch, 5_000) - bound).abs() < 1e-3);
    }

    #[test]
    fn old_and_duplicate_snapshots_are_ignored() {
        let (mut i, epoch) = fed(&[(10, 0.0), (11, 1.0)]);
        i.push(snap(11, 50.0, 0.0), epoch + Duration::from_millis(1_100));
        i.push(snap(9, 50.0, 0.0), epoch + Duration::from_millis(1_100));
        assert_eq!(i.newest().map(|s| s.tick), Some(11));
        assert!(x_at(&i, epoch, 1_250) < 2.0);
    }

    #[test]
    fn the_own_player_and_the_dead_are_not_interpolated() {
        let (i, epoch) = fed(&[(10, 0.0), (11, 1.0)]);
        assert!(i.players(epoch + Duration::from_millis(1_300), 2).is_empty());
    }
}
