//! The world's resources: settings, the tick counter, the map, the seeded RNG, the inbox and outbox that
//! connect the simulation to the network edge, the id indexes and the per-tick statistics.

use super::components::Projectile;
use super::config::{DEFAULT_LAG_COMPENSATION, DEFAULT_RESUME_GRACE_SECS, Handoffs, ReplicationConfig, SimConfig};
use super::edge::{ClientId, Inbound, Outbound};
use super::flights::Flights;
use super::replication::snapshots::Counts;
use super::threads::{Awake, Pool, Workers};
use arena_shared::arena::{Arena, WallIndex};
use arena_shared::protocol::PlayerId;
use bevy_ecs::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::collections::HashMap;
use std::ops::Deref;
use std::sync::Arc;

/// Fixed settings of this simulation.
#[derive(Resource, Debug, Clone, Copy)]
pub struct Settings {
    pub tick_rate: u16,
    /// Seconds per tick.
    pub dt: f32,
    pub replication: ReplicationConfig,
    /// Ticks a player whose connection was lost is held for a resume.
    pub resume_grace_ticks: u32,
    /// Most players the world holds at once, connected or away (held for a resume); joins beyond are
    /// refused with `Reject { Full }`. Unlimited ([`usize::MAX`]) unless set with `Sim::set_max_players`.
    pub max_players: usize,
    /// When the tick hands the projectiles' work and the snapshots' preparation to the pool's threads
    /// (`Sim::set_handoffs`).
    pub handoffs: Handoffs,
    /// The most ticks a new projectile is flown ahead to make up for what its shooter saw late (lag
    /// compensation, see `systems::movement`); 0 turns it off (`Sim::set_lag_compensation`).
    pub lag_compensation_ticks: u32,
    /// How the room's matches run, in ticks (`Sim::set_matches`).
    pub matches: crate::game::systems::matches::MatchTicks,
}

/// Which room this world is, as its players are told in `Welcome` (`Sim::set_room`).
#[derive(Resource, Debug, Clone)]
pub struct RoomName {
    pub code: arena_shared::protocol::RoomCode,
    pub map: String,
    pub mode: arena_shared::protocol::Mode,
}

impl Default for RoomName {
    fn default() -> Self {
        Self {
            code: arena_shared::protocol::RoomCode::from_indices([0; arena_shared::protocol::ROOM_CODE_LEN]),
            map: "standard".into(),
            mode: arena_shared::protocol::Mode::Deathmatch,
        }
    }
}

/// The entities of every kind that is neither a player nor a projectile (health packs, and the kinds to
/// come), by key, as snapshots show them: each kind's system keeps its own up to date, and the replicate
/// system sends them all like the rest without knowing their kinds.
#[derive(Resource, Debug, Default)]
pub struct Items(pub std::collections::BTreeMap<u32, arena_shared::quant::QEntity>);

/// The number of the tick being run (the first tick is 1).
#[derive(Resource, Debug, Default, Clone, Copy)]
pub struct TickCount(pub u32);

/// The map, and which walls are near each part of it.
#[derive(Resource, Debug, Clone)]
pub struct ArenaMap(pub Arena, pub WallIndex);

/// The game's only source of randomness, seeded from [`SimConfig::seed`].
#[derive(Resource, Debug)]
pub struct GameRng(pub StdRng);

/// Events from the network edge waiting for the next tick.
#[derive(Resource, Debug, Default)]
pub struct Inbox(pub Vec<Inbound>);

/// Messages for the network edge, drained after each tick.
#[derive(Resource, Debug, Default)]
pub struct Outbox(pub Vec<Outbound>);

/// Who is where: connection and player ids to entities.
#[derive(Resource, Debug, Default)]
pub struct Index {
    pub clients: HashMap<ClientId, Entity, IdHash>,
    pub players: HashMap<PlayerId, Entity, IdHash>,
}

/// Hashing for ids the server hands out itself (connections, players): a multiply and a rotate, not the
/// standard library's SipHash, which resists keys chosen by an attacker, which these are not. Every input
/// is looked up by its connection id each tick.
pub type IdHash = std::hash::BuildHasherDefault<IdHasher>;

/// See [`IdHash`].
#[derive(Debug, Default, Clone, Copy)]
pub struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        bytes.iter().for_each(|b| self.write_u64(u64::from(*b)));
    }

    fn write_u64(&mut self, v: u64) {
        // Fibonacci hashing; the rotation brings the well-mixed high bits down to where the table looks.
        self.0 = (self.0 ^ v).wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(26);
    }

    fn write_u32(&mut self, v: u32) {
        self.write_u64(u64::from(v));
    }
}

/// Every projectile in flight, oldest first: ids only grow (until they wrap after 2^32 shots), so a new
/// one goes last and the list stays in id order.
#[derive(Resource, Debug, Default)]
pub struct Projectiles(pub Vec<Projectile>);

/// Id counters; ids are never reused within a run.
#[derive(Resource, Debug, Default)]
pub struct Ids {
    last_player: PlayerId,
    last_projectile: u32,
}

impl Ids {
    pub fn next_player(&mut self) -> PlayerId {
        self.last_player += 1;
        self.last_player
    }

    pub fn next_projectile(&mut self) -> u32 {
        self.last_projectile = self.last_projectile.wrapping_add(1);
        self.last_projectile
    }
}

/// What the last tick did, for metrics and benchmarks.
#[derive(Resource, Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TickStats {
    pub tick: u32,
    pub players: u32,
    pub projectiles: u32,
    /// Snapshot bytes produced for all clients this tick.
    pub snapshot_bytes: u64,
    /// Snapshots produced this tick (one per client on snapshot ticks).
    pub snapshots: u32,
    /// Entities visible to clients, summed over the clients that got a snapshot.
    pub entities_visible: u64,
    /// Of those, other players in motion (the entities a delta must keep moving).
    pub moving_visible: u64,
    /// Entity updates sent, and left out for lack of room, summed over clients.
    pub updates_sent: u64,
    pub updates_left_out: u64,
    /// Inputs refused this tick (bad sequence jumps, non-finite aims).
    pub inputs_invalid: u32,
    /// Inputs dropped this tick because a player's buffer was full.
    pub inputs_overflowed: u32,
    /// Inputs this tick that asked to move faster than allowed (clamped).
    pub inputs_too_fast: u32,
    /// Inputs found missing this tick (skipped over by newer ones: lost beyond the redundancy window).
    pub inputs_lost: u32,
    /// Inputs dropped this tick because a player's buffer stayed deeper than its target (see `game::input`).
    pub inputs_drained: u32,
    /// Chat lines refused this tick (empty or too long).
    pub chat_refused: u32,
    /// New players spawned this tick.
    pub players_joined: u32,
    /// Resumes this tick that took back a held (or still connected) player.
    pub players_resumed: u32,
    /// Joins refused this tick because the world held `max_players` already.
    pub rejected_full: u32,
}

impl TickStats {
    /// Adds what became of one datagram's inputs.
    pub fn add_inputs(&mut self, accepted: &crate::game::input::Accepted) {
        self.inputs_invalid += accepted.invalid;
        self.inputs_overflowed += accepted.overflowed;
        self.inputs_lost += accepted.lost;
        self.inputs_too_fast += accepted.too_fast;
    }

    /// Adds what a snapshot tick's work came to ([`Counts`]).
    pub fn add_snapshots(&mut self, c: &Counts) {
        self.snapshots += c.snapshots;
        self.snapshot_bytes += c.snapshot_bytes;
        self.entities_visible += c.entities_visible;
        self.moving_visible += c.moving_visible;
        self.updates_sent += c.updates_sent;
        self.updates_left_out += c.updates_left_out;
    }
}

/// The driver's [`Pool`], lent to the simulation for the length of a tick (`Sim::tick`); the tick's systems
/// reach its [`Workers`] through this. When none is lent, the calling thread alone.
///
/// A tick whose projectiles will be flown on several threads wakes the pool at its start
/// ([`LentPool::wake_for_tick`]: waking a thread on a virtual machine takes about as long as the phases
/// before the flights), and the snapshot phase takes that wake-up over ([`LentPool::renew_wake`]); the
/// wake-up ends when the pool is given back, at the end of the tick, if not before.
#[derive(Resource)]
pub struct LentPool {
    lent: Option<Arc<Workers>>,
    alone: Workers,
    awake: Option<Awake>,
}

impl Default for LentPool {
    fn default() -> Self {
        Self {
            lent: None,
            alone: Workers::new(1),
            awake: None,
        }
    }
}

impl LentPool {
    /// Holds `pool`'s workers until [`LentPool::give_back`].
    pub(crate) fn lend(&mut self, pool: &Pool) {
        self.lent = Some(pool.lend());
    }

    pub(crate) fn give_back(&mut self) {
        self.awake = None;
        self.lent = None;
    }

    /// Keeps the pool's threads awake from now until the tick's end (or [`LentPool::renew_wake`]).
    pub fn wake_for_tick(&mut self) {
        self.awake = Some(self.stay_awake());
    }

    /// The wake-up for a phase about to hand work out ([`Workers::renew`]): the tick's, while it lasts, or a
    /// new one when `wanted`. The tick's wake-up is taken either way: it ends with the returned guard.
    pub fn renew_wake(&mut self, wanted: bool) -> Option<Awake> {
        let held = self.awake.take();
        self.renew(held, wanted)
    }
}

impl Deref for LentPool {
    type Target = Workers;

    fn deref(&self) -> &Workers {
        self.lent.as_deref().unwrap_or(&self.alone)
    }
}

/// The flights engine ([`Flights`]): prepared at the start of a tick, flown in the projectiles' phase.
#[derive(Resource, Debug, Default)]
pub struct FlightsEngine(pub Flights);

/// Inserts the world's shared resources (the systems' own are inserted by `systems::insert_resources`).
pub(super) fn insert_all(world: &mut World, config: &SimConfig, replication: ReplicationConfig) {
    let tick_rate = config.tick_rate.max(1);
    let mut replication = replication;
    replication.snapshot_rate = replication.snapshot_rate.clamp(1, tick_rate);
    let resume_grace_ticks = u32::from(tick_rate) * DEFAULT_RESUME_GRACE_SECS;
    world.insert_resource(Settings {
        tick_rate,
        dt: 1.0 / f32::from(tick_rate),
        replication,
        resume_grace_ticks,
        max_players: usize::MAX,
        lag_compensation_ticks: ticks_in(DEFAULT_LAG_COMPENSATION, tick_rate),
        handoffs: Handoffs::default(),
        matches: crate::game::systems::matches::MatchTicks::new(crate::game::MatchConfig::ENDLESS, tick_rate),
    });
    world.insert_resource(RoomName::default());
    world.insert_resource(TickCount::default());
    world.insert_resource(ArenaMap(config.arena.clone(), WallIndex::new(&config.arena)));
    world.insert_resource(GameRng(StdRng::seed_from_u64(config.seed)));
    world.insert_resource(Inbox::default());
    world.insert_resource(Outbox::default());
    world.insert_resource(Index::default());
    world.insert_resource(Ids::default());
    world.insert_resource(Projectiles::default());
    world.insert_resource(Items::default());
    world.insert_resource(TickStats::default());
    world.insert_resource(LentPool::default());
    world.insert_resource(FlightsEngine::default());
}

/// Whole ticks in `span` at `tick_rate`, rounded.
pub fn ticks_in(span: std::time::Duration, tick_rate: u16) -> u32 {
    (span.as_secs_f64() * f64::from(tick_rate)).round() as u32
}
