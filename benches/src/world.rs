//! A simulation filled with bot players, for the tick benches: every client joins, and before each tick
//! every bot chooses its input with [`arena_client::bot::decide`] from the world as the last tick left it
//! (what a full snapshot shows, read from the components, so the bots do not depend on the snapshot wire
//! format), and sends it the way a `Session` does (a datagram repeating its newest inputs). No network, no
//! clock.

use anyhow::Context;
use arena_client::bot::decide;
use arena_server::game::components::{Body, Player, Score};
use arena_server::game::resources::Projectiles;
use arena_server::game::{ClientId, Inbound, Outbound, Pool, ReplicationConfig, Sim, SimConfig};
use arena_shared::arena::Arena;
use arena_shared::codec::decode_server_frame;
use arena_shared::protocol::{
    FRAME_HEADER_LEN, InputDatagram, MAX_INPUTS_PER_DATAGRAM, MAX_LISTED_PLAYERS, MAX_LISTED_PROJECTILES,
    PlayerSnapshot, ProjectileSnapshot, ServerFrame, Snapshot,
};
use arena_shared::rules::Input;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::collections::{HashMap, VecDeque};

/// The tick rate the benches simulate.
pub const TICK_RATE: u16 = 60;

struct BenchBot {
    client: ClientId,
    me: u32,
    next_seq: u32,
    recent: VecDeque<Input>,
    strafe: f32,
}

impl BenchBot {
    /// Numbers `input` and wraps it, with the newest before it, in a datagram as a `Session` sends it.
    fn send(&mut self, mut input: Input, ack_tick: u32) -> Inbound {
        input.seq = self.next_seq;
        self.next_seq += 1;
        if self.recent.len() == MAX_INPUTS_PER_DATAGRAM {
            self.recent.pop_front();
        }
        self.recent.push_back(input);
        Inbound::Input {
            client: self.client,
            datagram: InputDatagram {
                ack_tick,
                inputs: self.recent.iter().copied().collect(),
            },
            waited: std::time::Duration::from_millis(2), // a synced client's inputs arrive just before the tick
        }
    }
}

/// A simulation with `n` bot players on the standard map.
pub struct BenchWorld {
    pub sim: Sim,
    /// The threads lent to each tick: as many as the simulation's replication asks for.
    pub pool: Pool,
    bots: Vec<BenchBot>,
    rng: StdRng,
    latest: Option<Snapshot>,
    /// What the last tick produced (snapshots, frames); [`BenchWorld::observe`] empties it.
    pub outbox: Vec<Outbound>,
    /// Ticks whose world listed more players or projectiles than a snapshot may carry.
    pub ticks_over_list_limits: u64,
    /// Ticks that produced no snapshot bytes at all (for example over the snapshot size limit).
    pub ticks_without_snapshots: u64,
    /// Full (not delta) snapshots produced, over all ticks and clients.
    pub full_snapshots: u64,
}

/// The map of the scale scenario: [`Arena::sized_for`] the players.
pub fn scale_arena(players: usize) -> Arena {
    Arena::sized_for(players)
}

fn sim_config(seed: u64) -> SimConfig {
    SimConfig {
        tick_rate: TICK_RATE,
        seed,
        arena: Arena::standard(),
    }
}

impl BenchWorld {
    /// Joins `players` bots to a simulation with the library's default replication ([`Sim::new`]) and runs
    /// the first tick (which welcomes them).
    pub fn new(players: usize, seed: u64) -> anyhow::Result<Self> {
        Self::with_sim(Sim::new(sim_config(seed)), players, seed)
    }

    /// Like [`BenchWorld::new`], with the replication settings an `arena-server` started without flags uses.
    pub fn with_server_defaults(players: usize, seed: u64) -> anyhow::Result<Self> {
        let replication = arena_server::Config::local_ephemeral().replication();
        Self::with_sim(Sim::with_replication(sim_config(seed), replication), players, seed)
    }

    /// The standard map with the given replication (for example the naive full snapshots).
    pub fn with_replication(players: usize, seed: u64, replication: ReplicationConfig) -> anyhow::Result<Self> {
        Self::with_sim(Sim::with_replication(sim_config(seed), replication), players, seed)
    }

    /// The scale scenario: `players` bots on [`scale_arena`] with `replication` (deltas with a view radius, or
    /// the naive full snapshots).
    pub fn scale(players: usize, seed: u64, replication: ReplicationConfig) -> anyhow::Result<Self> {
        let config = SimConfig {
            tick_rate: TICK_RATE,
            seed,
            arena: scale_arena(players),
        };
        Self::with_sim(Sim::with_replication(config, replication), players, seed)
    }

    fn with_sim(mut sim: Sim, players: usize, seed: u64) -> anyhow::Result<Self> {
        let pool = Pool::new(usize::from(sim.replication().threads));
        for i in 0..players {
            sim.push(Inbound::Join {
                client: ClientId(i as u64 + 1),
                name: format!("bot{i}"),
            });
        }
        sim.tick(&pool);
        let mut outbox = Vec::new();
        sim.drain_outbox(&mut outbox);
        let mut ids = HashMap::new();
        for out in &outbox {
            if let Outbound::Frame { client, frame } = out
                && let Ok(ServerFrame::Welcome(w)) = decode_server_frame(&frame[FRAME_HEADER_LEN..])
            {
                ids.insert(*client, w.player_id);
            }
        }
        let bots = (0..players)
            .map(|i| {
                let client = ClientId(i as u64 + 1);
                let me = ids.get(&client).copied().context("a bot was not welcomed")?;
                Ok(BenchBot {
                    client,
                    me,
                    next_seq: 1,
                    recent: VecDeque::with_capacity(MAX_INPUTS_PER_DATAGRAM),
                    strafe: if i % 2 == 0 { 1.0 } else { -1.0 },
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut world = Self {
            sim,
            pool,
            bots,
            rng: StdRng::seed_from_u64(seed ^ 0x5eed),
            full_snapshots: 0,
            latest: None,
            outbox,
            ticks_over_list_limits: 0,
            ticks_without_snapshots: 0,
        };
        world.observe();
        Ok(world)
    }

    /// Queues every bot's input for the next tick, chosen from the newest snapshot.
    pub fn push_inputs(&mut self) {
        let ack_tick = self.latest.as_ref().map_or(0, |s| s.tick);
        for bot in &mut self.bots {
            if self.rng.random_bool(1.0 / f64::from(TICK_RATE)) {
                bot.strafe = -bot.strafe;
            }
            let input = decide(self.latest.as_ref(), bot.me, bot.strafe);
            self.sim.push(bot.send(input, ack_tick));
        }
    }

    /// Queues wandering inputs for the next tick: every bot walks in a direction it changes about every two
    /// seconds, turns its aim slowly, and fires a tenth of the time. The scale scenario's load: many players
    /// in motion, as in a busy match, without every bot crowding the nearest one.
    pub fn push_wander_inputs(&mut self) {
        let ack_tick = self.latest.as_ref().map_or(0, |s| s.tick);
        for bot in &mut self.bots {
            if self.rng.random_bool(0.5 / f64::from(TICK_RATE)) || bot.next_seq == 1 {
                bot.strafe = self.rng.random_range(0.0..std::f32::consts::TAU);
            }
            let dir = arena_shared::Vec2::from_angle(bot.strafe);
            let input = Input {
                seq: 0,
                move_x: (dir.x * 126.0) as i8,
                move_y: (dir.y * 126.0) as i8,
                aim: bot.strafe + (bot.next_seq as f32 * 0.01).sin(),
                buttons: if self.rng.random_bool(0.1) {
                    arena_shared::rules::buttons::FIRE
                } else {
                    0
                },
            };
            self.sim.push(bot.send(input, ack_tick));
        }
    }

    /// Takes what the tick produced: empties the outbox, counts a tick without snapshot bytes, and reads
    /// the world for the bots' next decisions.
    pub fn observe(&mut self) {
        self.sim.drain_outbox(&mut self.outbox);
        self.full_snapshots += self
            .outbox
            .iter()
            .filter(|o| matches!(o, Outbound::Snapshot { .. }))
            .count() as u64;
        self.outbox.clear();
        let stats = self.sim.stats();
        self.ticks_without_snapshots += u64::from(stats.snapshot_bytes == 0 && !self.bots.is_empty());
        let view = self.view();
        self.ticks_over_list_limits +=
            u64::from(view.players.len() > MAX_LISTED_PLAYERS || view.projectiles.len() > MAX_LISTED_PROJECTILES);
        self.latest = Some(view);
    }

    /// The whole world as a full snapshot would list it.
    pub fn view(&mut self) -> Snapshot {
        let tick = self.sim.tick_count();
        let world = self.sim.world_mut();
        let mut players: Vec<PlayerSnapshot> = world
            .query::<(&Player, &Body, &Score)>()
            .iter(world)
            .map(|(p, b, s)| PlayerSnapshot {
                id: p.id,
                state: b.0,
                kills: s.kills,
                deaths: s.deaths,
            })
            .collect();
        players.sort_unstable_by_key(|p| p.id);
        let projectiles: Vec<ProjectileSnapshot> = world
            .resource::<Projectiles>()
            .0
            .iter()
            .map(|p| ProjectileSnapshot {
                id: p.id,
                owner: p.owner,
                pos: p.state.pos,
                vel: p.state.vel,
            })
            .collect();
        Snapshot {
            tick,
            last_input_seq: 0,
            input_margin: None,
            players,
            projectiles,
            health_packs: vec![],
        }
    }

    /// One whole tick with fresh inputs, untimed (for warming up).
    pub fn step(&mut self) {
        self.push_inputs();
        self.sim.tick(&self.pool);
        self.observe();
    }

    /// `ticks` whole ticks, so players are spread out, fighting, dying and respawning.
    pub fn warm_up(&mut self, ticks: u32) {
        for _ in 0..ticks {
            self.step();
        }
    }

    /// The newest snapshot the bots saw.
    pub fn latest(&self) -> Option<&Snapshot> {
        self.latest.as_ref()
    }

    pub fn players(&self) -> usize {
        self.bots.len()
    }
}
