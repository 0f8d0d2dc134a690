//! The sans-IO simulation: a bevy_ecs `World` and the tick schedule that advances it.
//!
//! [`Sim`] takes [`Inbound`] events (joins, leaves, inputs, chat) and, for each [`Sim::tick`], produces
//! [`Outbound`] messages (encoded frames and snapshots addressed to clients). It has no sockets, no clock
//! and no global RNG (a seeded RNG is a resource), so tests, benchmarks and replays drive it directly; the
//! tick thread ([`crate::tick`]) is the only thing that owns it in a running server.

pub mod components;
pub mod cover;
#[cfg(test)]
mod flight_tests;
pub mod input;
pub mod interest;
pub mod messages;
pub mod replication;
pub mod resources;
mod schedule;
pub mod systems;
#[cfg(test)]
pub(crate) mod test_rng;
#[cfg(test)]
mod tests;
pub mod workers;

use arena_shared::arena::Arena;
use arena_shared::protocol::{InputDatagram, PlayerId};
use bevy_ecs::prelude::*;
use bytes::Bytes;
use components::{Body, Player, Score};
use resources::{Inbox, Outbox, Projectiles, TickCount, TickStats};
pub use schedule::TickSet;
use std::hash::{DefaultHasher, Hash, Hasher};

/// A connection's id, given by the network edge; unique for the server's lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId(pub u64);

/// What the network edge hands to the simulation.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    /// A client finished its handshake (version and name already checked) and takes a player slot.
    Join { client: ClientId, name: String },
    /// A client finished its handshake asking to take back the player of `token`; when the token is not
    /// live, it joins as a new player.
    Resume {
        client: ClientId,
        name: String,
        token: arena_shared::protocol::SessionToken,
    },
    /// A client left for good (it quit, or was kicked); its player leaves the world.
    Leave { client: ClientId },
    /// A client's connection was lost; its player is held for the resume grace window.
    Lost { client: ClientId },
    /// A decoded input datagram.
    Input { client: ClientId, datagram: InputDatagram },
    /// A chat line, not yet cleaned.
    Chat { client: ClientId, text: String },
}

/// What the simulation hands back to the network edge after a tick.
#[derive(Debug, Clone, PartialEq)]
pub enum Outbound {
    /// An encoded control frame (length prefix included) for one client.
    Frame { client: ClientId, frame: Bytes },
    /// An encoded control frame for every joined client.
    Broadcast { frame: Bytes },
    /// One client's full snapshot of `tick` (the naive baseline encoding), to split into datagrams at the edge.
    Snapshot { client: ClientId, tick: u32, bytes: Bytes },
    /// One client's delta snapshot of `tick`: a whole encoded `ServerDatagram::Delta`, sent as it is.
    Delta {
        client: ClientId,
        tick: u32,
        datagram: Bytes,
    },
    /// Disconnect this client, telling it why.
    Kick { client: ClientId, reason: String },
    /// Refuse this client's `Hello` (it never joined the world): a `Reject` frame, then the connection closes.
    Reject {
        client: ClientId,
        reason: arena_shared::protocol::RejectReason,
    },
}

/// How a simulation is set up.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Ticks per second; each tick advances the world by `1 / tick_rate` seconds.
    pub tick_rate: u16,
    /// Seed of the game RNG (spawn points): the same seed and inputs give the same game.
    pub seed: u64,
    pub arena: Arena,
}

/// How snapshots are made.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReplicationConfig {
    /// Snapshots per second (at most the tick rate).
    pub snapshot_rate: u16,
    /// Radius around a player within which it is sent other entities, in units.
    pub view_radius: f32,
    /// Bytes per second each client may be sent in snapshots.
    pub client_bandwidth: u32,
    /// Send the naive full snapshot (split into parts) instead of deltas: the benchmark baseline.
    pub full_snapshots: bool,
    /// Threads that build snapshots (each takes a share of the clients; 1 builds them on the tick thread).
    pub threads: u16,
}

impl ReplicationConfig {
    /// Deltas every tick, a 75-unit view radius (the whole standard map), 100,000 bytes per second per client.
    pub fn for_tick_rate(tick_rate: u16) -> Self {
        Self {
            snapshot_rate: tick_rate,
            view_radius: 75.0,
            client_bandwidth: 100_000,
            full_snapshots: false,
            threads: default_threads(),
        }
    }
}

/// The machine's cores, at most 8: the default number of snapshot threads.
pub fn default_threads() -> u16 {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(8) as u16)
}

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
        messages::register_all(&mut world);
        Self {
            world,
            schedule: schedule::build(),
        }
    }

    /// Queues an event for the next tick.
    pub fn push(&mut self, event: Inbound) {
        self.world.resource_mut::<Inbox>().0.push(event);
    }

    /// Sets how long a player whose connection was lost is held for a resume (default 10 s).
    pub fn set_resume_grace(&mut self, grace: std::time::Duration) {
        let mut settings = self.world.resource_mut::<resources::Settings>();
        settings.resume_grace_ticks = (grace.as_secs_f64() * f64::from(settings.tick_rate)).round() as u32;
    }

    /// Sets the most players the world holds at once, connected or away (held for a resume); a join beyond
    /// is refused with [`Outbound::Reject`] `Full`, while a resume of a held player always succeeds. The
    /// default is no limit.
    pub fn set_max_players(&mut self, max_players: usize) {
        self.world.resource_mut::<resources::Settings>().max_players = max_players;
    }

    /// Uses `source` for session tokens instead of the OS RNG (tests).
    pub fn set_token_source(&mut self, source: systems::sessions::TokenSource) {
        self.world.insert_resource(systems::sessions::Sessions::new(source));
    }

    /// Runs one tick: every system of the schedule, in the order of [`TickSet`].
    pub fn tick(&mut self) {
        self.schedule.run(&mut self.world);
        self.end_tick();
    }

    /// What an `App` would do after each update, and a bare `World` does not: flush the record of removed
    /// components. Without it every despawn (a projectile's, a player's) is remembered forever, a leak of a
    /// few bytes each that the soak test caught.
    fn end_tick(&mut self) {
        self.world.clear_trackers();
    }

    /// A schedule running one phase of the tick on its own (for benchmarks that time each stage); run it
    /// with [`Sim::run_phase`].
    pub fn phase_schedule(set: TickSet) -> Schedule {
        schedule::build_phase(set)
    }

    /// Runs a schedule from [`Sim::phase_schedule`] on this simulation's world.
    /// The record of removed components is flushed after every phase here (nothing reads it).
    pub fn run_phase(&mut self, phase: &mut Schedule) {
        phase.run(&mut self.world);
        self.end_tick();
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
