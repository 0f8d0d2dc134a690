//! The sans-IO simulation: a bevy_ecs `World` and the tick schedule that advances it.
//!
//! [`Sim`] takes [`Inbound`] events (joins, leaves, inputs, chat) and, for each [`Sim::tick`], produces
//! [`Outbound`] messages (encoded frames and snapshots addressed to clients). It has no sockets, no clock,
//! no global RNG (a seeded RNG is a resource) and no threads of its own (the driver lends it a [`Pool`] for
//! each tick), so tests, benchmarks and replays drive it directly; the tick thread ([`crate::tick`]) is the
//! only thing that owns it in a running server.

pub mod components;
mod config;
mod edge;
pub mod flights;
pub mod input;
pub mod interest;
pub mod lag;
pub mod messages;
pub mod replication;
pub mod resources;
mod schedule;
pub mod systems;
#[cfg(test)]
pub(crate) mod test_rng;
#[cfg(test)]
mod tests;
pub mod threads;

use arena_shared::protocol::{MatchState, Mode, PlayerId, RoomCode};
use bevy_ecs::prelude::*;
use components::{Body, Player, Score};
pub use config::{
    DEFAULT_CLIENT_BANDWIDTH, DEFAULT_LAG_COMPENSATION, DEFAULT_RESUME_GRACE_SECS, DEFAULT_VIEW_RADIUS, Handoffs,
    MatchConfig, ReplicationConfig, SimConfig, default_threads,
};
pub use edge::{ClientId, Inbound, Outbound};
use resources::{Inbox, LentPool, Outbox, Projectiles, TickCount, TickStats};
pub use schedule::TickSet;
use std::hash::{DefaultHasher, Hash, Hasher};
pub use threads::Pool;

/// The simulation: the World and its schedule.
pub struct Sim {
    world: World,
    schedule: Schedule,
}

impl Sim {
    /// A simulation with the default replication for its tick rate.
    pub fn new(config: SimConfig) -> Self {
        let replication = ReplicationConfig::for_tick_rate(config.tick_rate);
        Self::with_replication(config, replication)
    }

    pub fn with_replication(config: SimConfig, replication: ReplicationConfig) -> Self {
        let mut world = World::new();
        resources::insert_all(&mut world, &config, replication);
        systems::insert_resources(&mut world);
        messages::register_all(&mut world);
        Self {
            world,
            schedule: schedule::build(Self::snapshots(replication)),
        }
    }

    /// Queues an event for the next tick.
    pub fn push(&mut self, event: Inbound) {
        self.world.resource_mut::<Inbox>().0.push(event);
    }

    /// Sets how long a player whose connection was lost is held for a resume (default
    /// [`DEFAULT_RESUME_GRACE_SECS`]).
    pub fn set_resume_grace(&mut self, grace: std::time::Duration) {
        let mut settings = self.world.resource_mut::<resources::Settings>();
        settings.resume_grace_ticks = (grace.as_secs_f64() * f64::from(settings.tick_rate)).round() as u32;
    }

    /// Sets how far behind a shooter's view may be made up for (default [`DEFAULT_LAG_COMPENSATION`]);
    /// zero turns lag compensation off.
    pub fn set_lag_compensation(&mut self, at_most: std::time::Duration) {
        let mut settings = self.world.resource_mut::<resources::Settings>();
        settings.lag_compensation_ticks = resources::ticks_in(at_most, settings.tick_rate);
    }

    /// Sets the most players the world holds at once, connected or away (held for a resume); a join beyond
    /// is refused with [`Outbound::Reject`] `Full`, while a resume of a held player always succeeds. The
    /// default is no limit.
    pub fn set_max_players(&mut self, max_players: usize) {
        self.world.resource_mut::<resources::Settings>().max_players = max_players;
    }

    /// Sets how this room's matches run (default [`MatchConfig::ENDLESS`]: one match without end).
    pub fn set_matches(&mut self, config: MatchConfig) {
        let mut settings = self.world.resource_mut::<resources::Settings>();
        settings.matches = systems::matches::MatchTicks::new(config, settings.tick_rate);
    }

    /// Names this world's room, as its players are told in `Welcome`.
    pub fn set_room(&mut self, code: RoomCode, map: String, mode: Mode) {
        self.world.insert_resource(resources::RoomName { code, map, mode });
    }

    /// Where the room's match is, as its players were last told.
    pub fn match_state(&self) -> MatchState {
        let tick_rate = self.world.resource::<resources::Settings>().tick_rate;
        self.world
            .resource::<systems::matches::Match>()
            .state(self.tick_count(), tick_rate)
    }

    /// Sets when the tick hands the projectiles' work and the snapshots' preparation to the pool's threads
    /// (default [`Handoffs::default`]).
    pub fn set_handoffs(&mut self, handoffs: Handoffs) {
        self.world.resource_mut::<resources::Settings>().handoffs = handoffs;
    }

    /// Uses `source` for session tokens instead of the OS RNG (tests).
    pub fn set_token_source(&mut self, source: systems::sessions::TokenSource) {
        self.world.insert_resource(systems::sessions::Sessions::new(source));
    }

    /// How snapshots are made; its `threads` are the size of the [`Pool`] a driver lends this simulation.
    pub fn replication(&self) -> ReplicationConfig {
        self.world.resource::<resources::Settings>().replication
    }

    /// Runs one tick: every system of the schedule, in the order of [`TickSet`], on the calling thread and
    /// `pool`'s (lent for the tick: simulations ticked one after another can share one pool).
    pub fn tick(&mut self, pool: &Pool) {
        run(&mut self.world, &mut self.schedule, pool);
    }

    /// How this simulation's phase 7 makes snapshots: the naive full snapshots only when asked for.
    fn snapshots(replication: ReplicationConfig) -> schedule::Snapshots {
        if replication.full_snapshots {
            schedule::Snapshots::Full
        } else {
            schedule::Snapshots::Deltas
        }
    }

    /// A schedule running one phase of this simulation's tick on its own (for benchmarks that time each
    /// stage); run it with [`Sim::run_phase`].
    pub fn phase_schedule(&self, set: TickSet) -> Schedule {
        schedule::build_phase(set, Self::snapshots(self.replication()))
    }

    /// Runs a schedule from [`Sim::phase_schedule`] on this simulation's world, with `pool` lent to it as
    /// to a whole tick. The record of removed components is flushed after every phase here (nothing reads it).
    pub fn run_phase(&mut self, phase: &mut Schedule, pool: &Pool) {
        run(&mut self.world, phase, pool);
    }

    /// Moves everything the last ticks produced into `out`.
    pub fn drain_outbox(&mut self, out: &mut Vec<Outbound>) {
        out.append(&mut self.world.resource_mut::<Outbox>().0);
    }

    /// The number of the last tick run (0 before the first).
    pub fn tick_count(&self) -> u32 {
        self.world.resource::<TickCount>().0
    }

    /// What the last tick did, for metrics.
    pub fn stats(&self) -> TickStats {
        *self.world.resource::<TickStats>()
    }

    /// A hash of everything the game state is made of (players, scores, projectiles, tick), independent of
    /// storage order: equal hashes mean equal games.
    pub fn state_hash(&mut self) -> u64 {
        let mut players: Vec<(PlayerId, [u32; 9], u32, u32)> = self
            .world
            .query::<(&Player, &Body, &Score)>()
            .iter(&self.world)
            .map(|(p, b, s)| {
                let st = &b.0;
                let bits = [
                    st.pos.x.to_bits(),
                    st.pos.y.to_bits(),
                    st.vel.x.to_bits(),
                    st.vel.y.to_bits(),
                    st.aim.to_bits(),
                    u32::from(st.health),
                    st.fire_cooldown.to_bits(),
                    st.respawn_in.to_bits(),
                    0,
                ];
                (p.id, bits, s.kills, s.deaths)
            })
            .collect();
        players.sort_unstable_by_key(|p| p.0);
        let mut projectiles: Vec<(u32, [u32; 5])> = self
            .world
            .resource::<Projectiles>()
            .0
            .iter()
            .map(|p| {
                let s = &p.state;
                (
                    p.id,
                    [
                        s.pos.x.to_bits(),
                        s.pos.y.to_bits(),
                        s.vel.x.to_bits(),
                        s.vel.y.to_bits(),
                        s.life.to_bits(),
                    ],
                )
            })
            .collect();
        projectiles.sort_unstable_by_key(|p| p.0);
        let mut h = DefaultHasher::new();
        (self.tick_count(), players, projectiles).hash(&mut h);
        h.finish()
    }

    /// The World, for benchmarks and tests that look inside.
    pub fn world_mut(&mut self) -> &mut World {
        &mut self.world
    }
}

/// Runs `schedule` on `world` with `pool` lent to it, then does what an `App` would do after each update,
/// and a bare `World` does not: flush the record of removed components. Without that, every despawn (a
/// projectile's, a player's) is remembered forever, a leak of a few bytes each that the soak test caught.
fn run(world: &mut World, schedule: &mut Schedule, pool: &Pool) {
    world.resource_mut::<LentPool>().lend(pool);
    schedule.run(world);
    world.resource_mut::<LentPool>().give_back();
    world.clear_trackers();
}
