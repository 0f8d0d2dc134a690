//! A simulation filled with bot players, for the tick benches: every client joins, and before each tick
//! every bot chooses its input with [`arena_client::bot::decide`] from the newest snapshot, and sends it the
//! way a `Session` does (a datagram repeating its newest inputs). No network, no clock.

use anyhow::Context;
use arena_client::bot::decide;
use arena_server::game::{ClientId, Inbound, Outbound, Sim, SimConfig};
use arena_shared::arena::Arena;
use arena_shared::codec::{decode_server_frame, decode_snapshot};
use arena_shared::protocol::{FRAME_HEADER_LEN, InputDatagram, MAX_INPUTS_PER_DATAGRAM, ServerFrame, Snapshot};
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

/// A simulation with `n` bot players on the standard map.
pub struct BenchWorld {
    pub sim: Sim,
    bots: Vec<BenchBot>,
    rng: StdRng,
    latest: Option<Snapshot>,
    /// What the last tick produced (snapshots, frames); [`BenchWorld::observe`] empties it.
    pub outbox: Vec<Outbound>,
}

impl BenchWorld {
    /// Joins `players` bots and runs the first tick (which welcomes them).
    pub fn new(players: usize, seed: u64) -> anyhow::Result<Self> {
        let mut sim = Sim::new(SimConfig {
            tick_rate: TICK_RATE,
            seed,
            arena: Arena::standard(),
        });
        for i in 0..players {
            sim.push(Inbound::Join {
                client: ClientId(i as u64 + 1),
                name: format!("bot{i}"),
            });
        }
        sim.tick();
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
            bots,
            rng: StdRng::seed_from_u64(seed ^ 0x5eed),
            latest: None,
            outbox,
        };
        world.observe()?;
        Ok(world)
    }

    /// Queues every bot's input for the next tick, chosen from the newest snapshot.
    pub fn push_inputs(&mut self) {
        let ack_tick = self.latest.as_ref().map_or(0, |s| s.tick);
        for bot in &mut self.bots {
            if self.rng.random_bool(1.0 / f64::from(TICK_RATE)) {
                bot.strafe = -bot.strafe;
            }
            let mut input = decide(self.latest.as_ref(), bot.me, bot.strafe);
            input.seq = bot.next_seq;
            bot.next_seq += 1;
            if bot.recent.len() == MAX_INPUTS_PER_DATAGRAM {
                bot.recent.pop_front();
            }
            bot.recent.push_back(input);
            self.sim.push(Inbound::Input {
                client: bot.client,
                datagram: InputDatagram {
                    ack_tick,
                    inputs: bot.recent.iter().copied().collect(),
                },
            });
        }
    }

    /// Takes what the tick produced: decodes one snapshot (every client's lists are the same) for the
    /// bots' next decisions, and empties the outbox.
    pub fn observe(&mut self) -> anyhow::Result<()> {
        self.sim.drain_outbox(&mut self.outbox);
        let snapshot = self.outbox.iter().rev().find_map(|o| match o {
            Outbound::Snapshot { bytes, .. } => Some(bytes),
            _ => None,
        });
        if let Some(bytes) = snapshot {
            self.latest = Some(decode_snapshot(bytes)?);
        }
        self.outbox.clear();
        Ok(())
    }

    /// One whole tick with fresh inputs, untimed (for warming up).
    pub fn step(&mut self) -> anyhow::Result<()> {
        self.push_inputs();
        self.sim.tick();
        self.observe()
    }

    /// `ticks` whole ticks, so players are spread out, fighting, dying and respawning.
    pub fn warm_up(&mut self, ticks: u32) -> anyhow::Result<()> {
        for _ in 0..ticks {
            self.step()?;
        }
        Ok(())
    }

    /// The newest snapshot the bots saw.
    pub fn latest(&self) -> Option<&Snapshot> {
        self.latest.as_ref()
    }

    pub fn players(&self) -> usize {
        self.bots.len()
    }
}
