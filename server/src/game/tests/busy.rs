//! A busy world for the pool's tests, and worlds sharing one pool: two simulations ticked in turn on one
//! pool play exactly as each does on its own.

use super::*;

/// A busy world for the pool's tests: players who move, aim and fire, and acknowledge the newest delta they
/// got, but lose one in five.
pub(super) struct Busy {
    pub(super) sim: Sim,
    /// Clients 1 to `players` send inputs (a client not in the world is ignored).
    players: u64,
    /// Each client's newest delta tick (index: client - 1).
    pub(super) got: Vec<u32>,
}

/// What one tick of a [`Busy`] world came to.
#[derive(Debug, PartialEq)]
pub(super) struct Played {
    state: u64,
    /// A digest of every message, in outbox order.
    sent: u64,
    deltas: usize,
    projectiles: u32,
}

impl Busy {
    /// `players` joining at the first tick, in a simulation set up for a pool of `threads` (the driver's).
    pub(super) fn new(seed: u64, players: u64, threads: u16) -> Self {
        let mut sim = Sim::with_replication(
            SimConfig {
                tick_rate: 60,
                seed,
                arena: Arena::standard(),
            },
            ReplicationConfig {
                threads,
                ..ReplicationConfig::for_tick_rate(60)
            },
        );
        sim.set_handoffs(SMALL_WORLD);
        sim.set_token_source(Box::new(|| Some([7; 16])));
        (1..=players).for_each(|c| join(&mut sim, c, &format!("p{c}")));
        let got = vec![0; players as usize];
        Self { sim, players, got }
    }

    /// Client `client` joins (from the next tick it sends inputs too).
    pub(super) fn join(&mut self, client: u64) {
        join(&mut self.sim, client, &format!("p{client}"));
        self.players = self.players.max(client);
        self.got.resize(self.players as usize, 0);
    }

    /// One tick on `pool` after every client's input, and every message it sent (each delta received but
    /// one in five).
    pub(super) fn tick_raw(&mut self, pool: &Pool, t: u32) -> Vec<Outbound> {
        for c in 1..=self.players {
            let mx = (((t / 20 + c as u32) % 3) as i8 - 1) * 127;
            let Inbound::Input {
                client,
                mut datagram,
                waited,
            } = input(c, t + 1, mx, (t as f32 * 0.03 + c as f32).sin() * 3.1, true)
            else {
                unreachable!("an input")
            };
            datagram.ack_tick = self.got[c as usize - 1];
            self.sim.push(Inbound::Input {
                client,
                datagram,
                waited,
            });
        }
        self.sim.tick(pool);
        let mut out = Vec::new();
        self.sim.drain_outbox(&mut out);
        for o in &out {
            if let Outbound::Delta { client, tick, .. } = o
                && !(t + client.0 as u32).is_multiple_of(5)
            {
                self.got[client.0 as usize - 1] = *tick;
            }
        }
        out
    }

    pub(super) fn tick(&mut self, pool: &Pool, t: u32) -> Played {
        use std::hash::{DefaultHasher, Hash, Hasher};
        let out = self.tick_raw(pool, t);
        let (mut sent, mut deltas) = (DefaultHasher::new(), 0);
        for o in &out {
            match o {
                Outbound::Delta { client, tick, datagram } => {
                    deltas += 1;
                    (client, tick, &datagram[..]).hash(&mut sent);
                }
                Outbound::Frame { client, frame } => (client, &frame[..]).hash(&mut sent),
                Outbound::Broadcast { frame } => frame[..].hash(&mut sent),
                other => format!("{other:?}").hash(&mut sent),
            }
        }
        Played {
            state: self.sim.state_hash(),
            sent: sent.finish(),
            deltas,
            projectiles: self.sim.stats().projectiles,
        }
    }
}

#[test]
fn simulations_ticked_in_turn_on_one_pool_play_as_each_on_its_own() {
    // Two busy worlds share one pool, ticked one after the other (their flights split, head starts handed
    // out and snapshots built on both threads); each sends and becomes exactly what it does on its own pool.
    const TICKS: u32 = 120;
    let shared = Pool::new(2);
    let (mut a, mut b) = (Busy::new(3, 80, 2), Busy::new(4, 72, 2));
    let (mut shared_a, mut shared_b) = (vec![], vec![]);
    for t in 0..TICKS {
        shared_a.push(a.tick(&shared, t));
        shared_b.push(b.tick(&shared, t));
    }
    let alone = |seed, players| {
        let own = Pool::new(2);
        let mut world = Busy::new(seed, players, 2);
        (0..TICKS).map(|t| world.tick(&own, t)).collect::<Vec<_>>()
    };
    for (played, players) in [(&shared_a, 80), (&shared_b, 72)] {
        assert!(
            played.iter().all(|p| p.deltas == players),
            "a snapshot for every client every tick"
        );
        let most = played.iter().map(|p| p.projectiles as usize).max();
        assert!(
            most >= Some(SMALL_WORLD.projectiles_to_split),
            "{most:?} projectiles at most: never split"
        );
    }
    assert_ne!(shared_a, shared_b);
    assert_eq!(shared_a, alone(3, 80));
    assert_eq!(shared_b, alone(4, 72));
}
