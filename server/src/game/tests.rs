//! Simulation tests: the whole tick schedule driven directly, with no network and no clock.

use super::*;
use arena_shared::codec::delta::{decode_delta, snapshot_of};
use arena_shared::codec::{decode_server_datagram, decode_server_frame, decode_snapshot};
use arena_shared::protocol::{FRAME_HEADER_LEN, ServerDatagram, ServerFrame, Snapshot};
use arena_shared::rules::{Input, MAX_HEALTH, buttons};
use arena_shared::{Vec2, arena::Arena};

fn open_arena() -> Arena {
    Arena {
        width: 40.0,
        height: 20.0,
        walls: vec![],
        spawn_points: vec![Vec2::new(5.0, 10.0)],
    }
}

fn sim(seed: u64, arena: Arena) -> Sim {
    Sim::new(SimConfig {
        tick_rate: 60,
        seed,
        arena,
    })
}

/// Everything one tick produced, decoded.
#[derive(Default)]
struct Out {
    frames: Vec<(Option<ClientId>, ServerFrame)>,
    snapshots: Vec<(ClientId, Snapshot)>,
    kicks: Vec<(ClientId, String)>,
}

fn step(sim: &mut Sim) -> Out {
    sim.tick();
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
        }
    }
    out
}

fn input(client: u64, seq: u32, move_x: i8, aim: f32, fire: bool) -> Inbound {
    let buttons = if fire { buttons::FIRE } else { 0 };
    Inbound::Input {
        client: ClientId(client),
        datagram: InputDatagram {
            ack_tick: 0,
            inputs: vec![Input {
                seq,
                move_x,
                move_y: 0,
                aim,
                buttons,
            }],
        },
    }
}

fn join(sim: &mut Sim, client: u64, name: &str) {
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
        s.tick();
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
        let inputs: Vec<Input> = (0..5)
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

/// A crowded firefight of `players` on `threads` threads: the state hash after every tick, the most
/// projectiles in flight at once, and the deaths.
fn firefight(players: u64, threads: u16) -> (Vec<u64>, usize, u32) {
    let config = SimConfig {
        tick_rate: 60,
        seed: 7,
        arena: Arena {
            width: 60.0,
            height: 60.0,
            walls: vec![],
            spawn_points: (0..9)
                .map(|i| Vec2::new(10.0 + 20.0 * (i % 3) as f32, 10.0 + 20.0 * (i / 3) as f32))
                .collect(),
        },
    };
    let mut s = Sim::with_replication(
        config,
        ReplicationConfig {
            threads,
            ..ReplicationConfig::for_tick_rate(60)
        },
    );
    let (mut hashes, mut most) = (vec![], 0);
    for t in 0..400u32 {
        if t == 0 {
            (1..=players).for_each(|c| join(&mut s, c, &format!("p{c}")));
        }
        for c in 1..=players {
            let aim = (t as f32 * 0.03 + c as f32 * 0.7).sin() * 3.1;
            let mx = (((t / 20 + c as u32) % 3) as i8 - 1) * 127;
            s.push(input(c, t + 1, mx, aim, true));
        }
        s.tick();
        s.drain_outbox(&mut Vec::new());
        hashes.push(s.state_hash());
        most = most.max(s.stats().projectiles as usize);
    }
    let deaths = s
        .world_mut()
        .query::<&components::Score>()
        .iter(&s.world)
        .map(|sc| sc.deaths)
        .sum();
    (hashes, most, deaths)
}

#[test]
fn flights_worked_out_on_two_threads_give_the_game_of_one_by_one() {
    // On one thread every flight is worked out and applied in id order; on two, the flights are split and
    // those after a kill flown again: the same world every tick, with many projectiles and many kills.
    let (one, most, deaths) = firefight(80, 1);
    let (two, _, _) = firefight(80, 2);
    assert!(
        most >= systems::combat::PROJECTILES_TO_SPLIT,
        "{most} projectiles at most: never split"
    );
    assert!(deaths > 20, "{deaths} deaths");
    assert_eq!(one, two);
}

#[test]
fn a_projectile_behind_the_killing_one_flies_on_through_the_dead() {
    use arena_shared::rules::{PROJECTILE_DAMAGE, ProjectileState};
    // Two projectiles reach a player with one hit left in the same tick: the first (lower id) kills it and
    // vanishes, the second flies on, on one thread as on two (with enough others in flight to split).
    for threads in [1, 2] {
        let mut s = Sim::with_replication(
            SimConfig {
                tick_rate: 60,
                seed: 1,
                arena: open_arena(),
            },
            ReplicationConfig {
                threads,
                ..ReplicationConfig::for_tick_rate(60)
            },
        );
        join(&mut s, 1, "shooter");
        join(&mut s, 2, "victim");
        step(&mut s);
        let world = s.world_mut();
        for (player, mut body) in world
            .query::<(&components::Player, &mut components::Body)>()
            .iter_mut(world)
        {
            body.0.pos = if player.id == 2 {
                Vec2::new(20.0, 10.0)
            } else {
                Vec2::new(3.0, 3.0)
            };
            body.0.health = if player.id == 2 { PROJECTILE_DAMAGE } else { MAX_HEALTH };
        }
        let shot = |id, x: f32, y: f32, vy: f32| components::Projectile {
            id,
            owner: 1,
            state: ProjectileState {
                pos: Vec2::new(x, y),
                vel: Vec2::new(if vy == 0.0 { 24.0 } else { 0.0 }, vy),
                life: 1.0,
            },
        };
        let mut list = vec![shot(1_000, 19.0, 10.0, 0.0), shot(1_001, 18.98, 10.0, 0.0)];
        list.extend((0..100).map(|k| shot(1_002 + k, 30.0 + (k % 10) as f32, 3.0 + (k / 10) as f32, 1.0)));
        world.resource_mut::<resources::Projectiles>().0 = list;
        let out = step(&mut s);
        assert!(
            out.frames
                .contains(&(None, ServerFrame::Killed { killer: 1, victim: 2 })),
            "threads {threads}: the first one killed"
        );
        let flying: Vec<u32> = s
            .world_mut()
            .resource::<resources::Projectiles>()
            .0
            .iter()
            .map(|p| p.id)
            .collect();
        assert_eq!(flying.len(), 101, "threads {threads}: {flying:?}");
        assert_eq!(flying[0], 1_001, "threads {threads}: the second flies on");
    }
}
