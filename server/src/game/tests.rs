//! Simulation tests: the whole tick schedule driven directly, with no network and no clock.

use super::*;
use arena_shared::codec::delta::{decode_delta, snapshot_of};
use arena_shared::codec::{decode_server_datagram, decode_server_frame, decode_snapshot};
use arena_shared::protocol::{FRAME_HEADER_LEN, InputDatagram, Inputs, ServerDatagram, ServerFrame, Snapshot};
use arena_shared::rules::{Input, MAX_HEALTH, buttons};
use arena_shared::{Vec2, arena::Arena};

mod busy;
mod flights;
mod lag;
mod matches;
mod pickups;
mod sessions;
mod snapshot_threads;

pub(super) fn open_arena() -> Arena {
    Arena {
        width: 40.0,
        height: 20.0,
        walls: vec![],
        spawn_points: vec![Vec2::new(5.0, 10.0)],
        health_packs: vec![],
    }
}

/// Hand-overs to the pool's threads from small sizes, so that the small worlds of tests take the threaded
/// paths (split flights from 64 projectiles, head starts from 8 players, the snapshots' preparation split
/// from 8 clients).
pub(super) const SMALL_WORLD: Handoffs = Handoffs {
    projectiles_to_split: 64,
    players_to_hand_out_early: 8,
    clients_to_split_preparation: 8,
    whole_head_start: false,
};

fn sim(seed: u64, arena: Arena) -> Sim {
    let mut sim = Sim::new(SimConfig {
        tick_rate: 60,
        seed,
        arena,
    });
    sim.set_handoffs(SMALL_WORLD);
    sim
}

/// Everything one tick produced, decoded.
#[derive(Default)]
pub(super) struct Out {
    pub(super) frames: Vec<(Option<ClientId>, ServerFrame)>,
    snapshots: Vec<(ClientId, Snapshot)>,
    kicks: Vec<(ClientId, String)>,
    pub(super) rejects: Vec<(ClientId, arena_shared::protocol::RejectReason)>,
}

thread_local! {
    /// The threads a test's simulations are ticked with (one pool per test, as a server has one): as many
    /// as the default replication asks for.
    static POOL: Pool = Pool::new(usize::from(default_threads()));
}

/// One tick of `sim` on the test's pool.
pub(super) fn tick(sim: &mut Sim) {
    POOL.with(|pool| sim.tick(pool));
}

/// One tick of `sim` on the test's pool, and what it produced.
pub(super) fn step(sim: &mut Sim) -> Out {
    POOL.with(|pool| step_on(pool, sim))
}

/// One tick of `sim` on `pool`, and what it produced.
pub(super) fn step_on(pool: &Pool, sim: &mut Sim) -> Out {
    sim.tick(pool);
    let mut raw = Vec::new();
    sim.drain_outbox(&mut raw);
    let mut out = Out::default();
    for o in raw {
        match o {
            Outbound::Frame { client, frame } => out
                .frames
                .push((Some(client), decode_server_frame(&frame[FRAME_HEADER_LEN..]).unwrap())),
            Outbound::Broadcast { frame } => out
                .frames
                .push((None, decode_server_frame(&frame[FRAME_HEADER_LEN..]).unwrap())),
            Outbound::Snapshot { client, bytes, .. } => out.snapshots.push((client, decode_snapshot(&bytes).unwrap())),
            Outbound::Delta { client, datagram, .. } => {
                // These clients never acknowledge, so every delta is a full view.
                let ServerDatagram::Delta(bytes) = decode_server_datagram(&datagram).unwrap() else {
                    panic!("a delta datagram")
                };
                let (header, view) = decode_delta(&bytes, &[], 60).unwrap();
                assert_eq!(header.baseline_tick, 0);
                out.snapshots.push((client, snapshot_of(&header, &view)));
            }
            Outbound::Kick { client, reason } => out.kicks.push((client, reason)),
            Outbound::Reject { client, reason } => out.rejects.push((client, reason)),
        }
    }
    out
}

pub(super) fn input(client: u64, seq: u32, move_x: i8, aim: f32, fire: bool) -> Inbound {
    let buttons = if fire { buttons::FIRE } else { 0 };
    Inbound::Input {
        client: ClientId(client),
        datagram: InputDatagram {
            ack_tick: 0,
            inputs: [Input {
                seq,
                move_x,
                move_y: 0,
                aim,
                buttons,
            }]
            .into_iter()
            .collect(),
        },
        waited: std::time::Duration::ZERO,
    }
}

pub(super) fn join(sim: &mut Sim, client: u64, name: &str) {
    sim.push(Inbound::Join {
        client: ClientId(client),
        name: name.into(),
    });
}

#[test]
fn a_joining_player_is_welcomed_with_the_roster_and_announced() {
    let mut s = sim(1, Arena::standard());
    join(&mut s, 1, "ada");
    step(&mut s);
    join(&mut s, 2, "bob");
    let out = step(&mut s);
    let to_bob: Vec<&ServerFrame> = out
        .frames
        .iter()
        .filter(|(c, _)| *c == Some(ClientId(2)))
        .map(|(_, f)| f)
        .collect();
    assert!(matches!(to_bob[0], ServerFrame::Welcome(w) if w.player_id == 2 && w.tick_rate == 60));
    assert!(to_bob.contains(&&ServerFrame::PlayerJoined {
        id: 1,
        name: "ada".into()
    }));
    assert!(out.frames.contains(&(
        None,
        ServerFrame::PlayerJoined {
            id: 2,
            name: "bob".into()
        }
    )));
    assert_eq!(out.snapshots.len(), 2, "one snapshot per client");
    assert!(out.snapshots.iter().all(|(_, snap)| snap.players.len() == 2));
}

#[test]
fn inputs_only_ever_steer_the_senders_own_player() {
    let mut s = sim(1, open_arena());
    join(&mut s, 1, "ada");
    join(&mut s, 2, "bob");
    step(&mut s);
    for seq in 1..=30 {
        s.push(input(1, seq, 127, 0.0, false));
        step(&mut s);
    }
    let out = step(&mut s);
    let snap = &out.snapshots[0].1;
    let ada = snap.players.iter().find(|p| p.id == 1).unwrap();
    let bob = snap.players.iter().find(|p| p.id == 2).unwrap();
    assert!(ada.state.pos.x > 7.0, "ada moved: {:?}", ada.state.pos);
    assert_eq!(bob.state.pos, Vec2::new(5.0, 10.0), "bob did not move");
    let ada_view = out.snapshots.iter().find(|(c, _)| *c == ClientId(1)).unwrap();
    assert_eq!(ada_view.1.last_input_seq, 30);
}

#[test]
fn a_shooter_kills_a_target_scores_and_the_target_respawns() {
    let mut s = sim(1, open_arena());
    join(&mut s, 1, "shooter");
    join(&mut s, 2, "target");
    step(&mut s);
    // The target walks 1 s to the right, then stands; the shooter aims right and holds fire.
    for seq in 1..=60 {
        s.push(input(2, seq, 127, 0.0, false));
        step(&mut s);
    }
    let mut kill_seen = None;
    for seq in 1..=120u32 {
        s.push(input(1, seq, 0, 0.0, true));
        let out = step(&mut s);
        if out
            .frames
            .contains(&(None, ServerFrame::Killed { killer: 1, victim: 2 }))
        {
            kill_seen = Some(out);
            break;
        }
    }
    let out = kill_seen.expect("the target died within 2 s of fire");
    let snap = &out.snapshots[0].1;
    let shooter = snap.players.iter().find(|p| p.id == 1).unwrap();
    let target = snap.players.iter().find(|p| p.id == 2).unwrap();
    assert_eq!((shooter.kills, target.deaths), (1, 1));
    assert_eq!(target.state.health, 0);
    let mut respawned = false;
    for _ in 0..(2 * 60 + 2) {
        let out = step(&mut s);
        let t = out.snapshots[0].1.players.iter().find(|p| p.id == 2).copied().unwrap();
        if t.state.health == MAX_HEALTH {
            respawned = true;
            assert_eq!(t.state.pos, Vec2::new(5.0, 10.0), "at the only spawn point");
            break;
        }
    }
    assert!(respawned, "the target respawned after the delay");
}

#[test]
fn a_leaving_player_disappears_for_everyone() {
    let mut s = sim(1, Arena::standard());
    join(&mut s, 1, "ada");
    join(&mut s, 2, "bob");
    step(&mut s);
    s.push(Inbound::Leave { client: ClientId(2) });
    let out = step(&mut s);
    assert!(out.frames.contains(&(None, ServerFrame::PlayerLeft { id: 2 })));
    assert_eq!(out.snapshots.len(), 1);
    assert_eq!(
        out.snapshots[0].1.players.iter().map(|p| p.id).collect::<Vec<_>>(),
        vec![1]
    );
}

#[test]
fn chat_is_cleaned_and_broadcast_and_empty_lines_are_refused() {
    let mut s = sim(1, Arena::standard());
    join(&mut s, 1, "ada");
    step(&mut s);
    s.push(Inbound::Chat {
        client: ClientId(1),
        text: "hi\u{1b}[31m all".into(),
    });
    s.push(Inbound::Chat {
        client: ClientId(1),
        text: "\n".into(),
    });
    let out = step(&mut s);
    assert!(out.frames.contains(&(
        None,
        ServerFrame::Chat {
            from: 1,
            text: "hi[31m all".into()
        }
    )));
    assert_eq!(s.stats().chat_refused, 1);
}

#[test]
fn a_client_that_keeps_sending_invalid_inputs_is_kicked_once() {
    let mut s = sim(1, Arena::standard());
    join(&mut s, 1, "cheat");
    step(&mut s);
    let mut kicks = vec![];
    for i in 0..200 {
        s.push(input(1, 5_000 + i * 5_000, 0, 0.0, false)); // every one jumps too far
        kicks.extend(step(&mut s).kicks);
    }
    assert_eq!(kicks.len(), 1, "{kicks:?}");
    assert!(kicks[0].1.contains("OutOfPhase"), "{kicks:?}");
}

/// A recorded game: joins, moves, fire, a leave; the same log and seed must give the same world.
fn replay(seed: u64) -> Vec<u64> {
    let mut s = sim(seed, Arena::standard());
    let mut hashes = vec![];
    for t in 0..600u32 {
        if t < 4 {
            join(&mut s, u64::from(t) + 1, &format!("p{t}"));
        }
        if t == 400 {
            s.push(Inbound::Leave { client: ClientId(3) });
        }
        for c in 1..=4u64 {
            let mx = ((t / 37 + c as u32) % 3) as i8 - 1;
            let aim = (t as f32 * 0.05 + c as f32).sin() * 3.0;
            s.push(input(c, t + 1, mx * 127, aim, (t + c as u32).is_multiple_of(7)));
        }
        tick(&mut s);
        s.drain_outbox(&mut Vec::new());
        hashes.push(s.state_hash());
    }
    hashes
}

#[test]
fn the_same_seed_and_input_log_give_the_same_world() {
    assert_eq!(replay(42), replay(42));
}

#[test]
fn speed_and_rate_cheats_are_clamped_counted_and_move_nobody_else() {
    let mut s = sim(1, open_arena());
    join(&mut s, 1, "cheat");
    join(&mut s, 2, "honest");
    step(&mut s);
    let mut seq = 0;
    for _ in 0..60 {
        // Five inputs per tick, each asking for a 1.4x diagonal.
        let inputs: Inputs = (0..5)
            .map(|_| {
                seq += 1;
                Input {
                    seq,
                    move_x: 127,
                    move_y: 127,
                    aim: 0.0,
                    buttons: buttons::FIRE,
                }
            })
            .collect();
        s.push(Inbound::Input {
            client: ClientId(1),
            datagram: InputDatagram { ack_tick: 0, inputs },
            waited: std::time::Duration::ZERO,
        });
        step(&mut s);
    }
    let out = step(&mut s);
    let snap = &out.snapshots[0].1;
    let cheat = snap.players.iter().find(|p| p.id == 1).unwrap();
    let honest = snap.players.iter().find(|p| p.id == 2).unwrap();
    let travelled = (cheat.state.pos - Vec2::new(5.0, 10.0)).length();
    // At most 3 inputs a tick are applied, each at most MAX_SPEED: 61 ticks * 3 / 60 s * 8 units/s.
    assert!(
        travelled <= 61.0 * 3.0 / 60.0 * arena_shared::rules::MAX_SPEED + 0.1,
        "travelled {travelled}"
    );
    assert!(cheat.state.vel.length() <= arena_shared::rules::MAX_SPEED + 1e-3);
    assert_eq!(honest.state.pos, Vec2::new(5.0, 10.0), "the other player never moved");
    let shots = snap.projectiles.iter().filter(|p| p.owner == 1).count();
    assert!(
        shots <= 7,
        "fire rate held by the cooldown: {shots} projectiles in flight"
    );
}

#[test]
fn despawns_are_not_remembered_forever() {
    // Projectiles are spawned and despawned all the time, players come and go: a bare World keeps a record
    // of every removed component until `clear_trackers` flushes it.
    let mut sim = sim(5, open_arena());
    let removals = |sim: &Sim| -> usize { sim.world.removed_components().iter().map(|(_, m)| m.len()).sum() };
    let mut most = 0;
    for round in 0..20u64 {
        let client = 100 + round;
        join(&mut sim, client, "churn");
        for seq in 1..=30u32 {
            sim.push(input(client, seq, 1, 0.0, true));
            step(&mut sim);
            most = most.max(removals(&sim));
        }
        sim.push(Inbound::Leave {
            client: ClientId(client),
        });
        step(&mut sim);
    }
    assert!(sim.stats().projectiles > 0 || most > 0, "the test fired");
    assert!(most <= 64, "at most a tick or two of removals is kept, not {most}");
}
