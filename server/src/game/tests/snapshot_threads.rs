//! The snapshots' preparation and building on one thread against two: the same datagrams, byte for byte,
//! and the same game.

use super::SMALL_WORLD;
use super::busy::Busy;
use crate::game::replication::snapshots::CLIENTS_PER_THREAD;
use crate::game::{ClientId, Inbound, Outbound, Pool};
use arena_shared::codec::decode_server_datagram;
use arena_shared::codec::delta::delta_header;
use arena_shared::protocol::{InputDatagram, ServerDatagram};
use arena_shared::rules::Input;
use std::collections::BTreeSet;

/// Ticks each run lasts.
const TICKS: u32 = 150;
/// Clients at the start: more than one snapshot thread takes alone, and past every hand-over of
/// [`SMALL_WORLD`].
const PLAYERS: u64 = 80;
/// From this tick the last client sends inputs that jump too far until it is kicked (then it leaves, as the
/// edge makes it).
const CHEAT_FROM: u32 = 20;
/// A client leaves, and later a new one joins: a player's key is below every projectile's, so with
/// projectiles in flight the new player's key falls between slots and the slots are laid out afresh.
const LEAVE_AT: u32 = 60;
const JOIN_AT: u32 = 90;

/// What one tick sent, and the state hash after it.
type Tick = (Vec<Outbound>, u64);

/// What a run came to, beside its ticks: the acks the clients in the world sent with each tick's inputs
/// (distinct, nonzero), the most projectiles in flight, and the deltas against a baseline.
struct Run {
    ticks: Vec<Tick>,
    acks: Vec<BTreeSet<u32>>,
    most_projectiles: usize,
    against_baselines: usize,
}

/// The scripted busy world on a pool of `threads`.
fn run(threads: u16) -> Run {
    let pool = Pool::new(usize::from(threads));
    let mut world = Busy::new(11, PLAYERS, threads);
    let cheat = ClientId(PLAYERS);
    let (mut ticks, mut acks, mut gone) = (Vec::new(), Vec::new(), BTreeSet::new());
    let (mut most_projectiles, mut against_baselines, mut kicked) = (0, 0, false);
    for t in 0..TICKS {
        if t >= CHEAT_FROM && !kicked {
            let inputs = (0..8)
                .map(|k| Input {
                    seq: 1_000_000 + 10 * t + k,
                    move_x: 0,
                    move_y: 0,
                    aim: 0.0,
                    buttons: 0,
                })
                .collect();
            world.sim.push(Inbound::Input {
                client: cheat,
                datagram: InputDatagram { ack_tick: 0, inputs },
                waited: std::time::Duration::ZERO,
            });
        }
        match t {
            LEAVE_AT => {
                world.sim.push(Inbound::Leave { client: ClientId(5) });
                gone.insert(5);
            }
            JOIN_AT => world.join(PLAYERS + 1),
            _ => {}
        }
        let in_world = world.got.iter().zip(1..).filter(|(_, c)| !gone.contains(c));
        acks.push(in_world.map(|(a, _)| *a).filter(|a| *a != 0).collect());
        let out = world.tick_raw(&pool, t);
        for o in &out {
            match o {
                Outbound::Kick { client, .. } if *client == cheat => {
                    kicked = true;
                    world.sim.push(Inbound::Leave { client: cheat });
                    gone.insert(cheat.0);
                }
                Outbound::Delta { datagram, .. } => {
                    let Ok(ServerDatagram::Delta(bytes)) = decode_server_datagram(datagram) else {
                        panic!("tick {t}: a delta datagram")
                    };
                    against_baselines += usize::from(delta_header(&bytes).is_ok_and(|h| h.baseline_tick != 0));
                }
                _ => {}
            }
        }
        most_projectiles = most_projectiles.max(world.sim.stats().projectiles as usize);
        ticks.push((out, world.sim.state_hash()));
    }
    Run {
        ticks,
        acks,
        most_projectiles,
        against_baselines,
    }
}

/// The first message that differs between two ticks' (or their lengths), for the failure message.
fn first_difference(one: &[Outbound], two: &[Outbound]) -> String {
    match one.iter().zip(two).position(|(a, b)| a != b) {
        Some(i) => format!("message {i}: {:?}\nagainst {:?}", one[i], two[i]),
        None => format!("{} messages against {}", one.len(), two.len()),
    }
}

#[test]
fn snapshots_prepared_and_built_on_two_threads_are_those_of_one() {
    // A busy world (every hand-over of SMALL_WORLD taken: the projectiles quantized beside the frame's
    // layout, the grid beside the baselines, the clients dealt to two snapshot threads, the flights split and
    // handed out early), its clients acknowledging their newest delta but losing one in five (baselines of
    // several ticks each tick), a client kicked, one leaving, one joining (a new layout): every message and
    // the game after every tick on one thread and on two.
    let one = run(1);
    let two = run(2);
    for (t, ((sent_one, state_one), (sent_two, state_two))) in one.ticks.iter().zip(&two.ticks).enumerate() {
        assert!(
            sent_one == sent_two,
            "tick {t}: {}",
            first_difference(sent_one, sent_two)
        );
        assert_eq!(state_one, state_two, "tick {t}: the state hashes");
    }
    assert_eq!(one.ticks.len(), TICKS as usize);
    assert_eq!(two.ticks.len(), TICKS as usize);

    // The split paths were taken: enough clients and projectiles every way, baselines of several ticks.
    let deltas = |sent: &Vec<Outbound>| sent.iter().filter(|o| matches!(o, Outbound::Delta { .. })).count();
    let fewest = one.ticks.iter().map(|(sent, _)| deltas(sent)).min().unwrap_or(0);
    for (needed, what) in [
        (SMALL_WORLD.clients_to_split_preparation, "the preparation split"),
        (CLIENTS_PER_THREAD + 1, "snapshots built on two threads"),
        (SMALL_WORLD.players_to_hand_out_early, "head starts handed out"),
    ] {
        assert!(fewest >= needed, "{fewest} snapshots in a tick: not always {what}");
    }
    assert!(
        one.most_projectiles >= SMALL_WORLD.projectiles_to_split,
        "{} projectiles at most",
        one.most_projectiles
    );
    let several = one.acks.iter().filter(|a| a.len() >= 2).count();
    assert!(
        several > TICKS as usize / 2,
        "baselines of several ticks in {several} ticks"
    );
    let all: usize = one.ticks.iter().map(|(sent, _)| deltas(sent)).sum();
    assert!(
        one.against_baselines > all * 3 / 4,
        "{} of {all} deltas against a baseline",
        one.against_baselines
    );
    // And the script played: the cheat kicked once, the new client welcomed.
    let kicks = |run: &Run| {
        run.ticks
            .iter()
            .flat_map(|(sent, _)| sent)
            .filter(|o| matches!(o, Outbound::Kick { client, .. } if *client == ClientId(PLAYERS)))
            .count()
    };
    assert_eq!(kicks(&one), 1);
    let joined = &one.ticks[JOIN_AT as usize].0;
    assert!(
        joined
            .iter()
            .any(|o| matches!(o, Outbound::Frame { client, .. } if *client == ClientId(PLAYERS + 1))),
        "the new client got its welcome"
    );
}
