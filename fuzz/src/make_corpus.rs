//! Writes the committed seed corpus of every fuzz target, `corpus/<target>/`, from real messages: the frames,
//! deltas and snapshots a real simulation (`arena_server::game::Sim`) sends while two players move and fire,
//! inputs and frames as the client encodes them, and for the record-based targets streams of those
//! messages in each target's input format. The same program writes the same bytes: run it again after a
//! protocol change (`cargo run --bin make_corpus` in fuzz/, or with a directory to write to instead).

use arena_server::game::{ClientId, Inbound, Outbound, Pool, ReplicationConfig, Sim, SimConfig};
use arena_shared::arena::Arena;
use arena_shared::codec::delta::{DeltaHeader, diff_mask, encode_delta};
use arena_shared::codec::{self, decode_server_datagram, encode_datagram, encode_frame};
use arena_shared::entity::Kind;
use arena_shared::fragment::{PART_OVERHEAD, split};
use arena_shared::protocol::{
    ClientDatagram, ClientFrame, Hello, RoomRequest, InputDatagram, PROTOCOL_VERSION, RejectReason, ServerDatagram, ServerFrame,
};
use arena_shared::quant::QEntity;
use arena_shared::rules::{Input, buttons};
use std::path::{Path, PathBuf};

// Linked for the coverage callbacks that instrumented builds (run-ci.sh builds every binary so) call.
use libfuzzer_sys as _;

/// The tick rate of the simulation, and so of the deltas in the corpus (the view_ring_apply target's).
const TICK_RATE: u16 = 60;

/// What client 1 of a simulation was sent, in order.
#[derive(Default)]
struct Received {
    /// Control frame payloads (without their length prefix).
    frames: Vec<Vec<u8>>,
    /// Whole encoded `ServerDatagram::Delta`s.
    deltas: Vec<Vec<u8>>,
    /// Deltas sent and lost on the way (never acknowledged).
    lost: Vec<Vec<u8>>,
    /// Whole encoded snapshots (full-snapshot mode), with their ticks.
    snapshots: Vec<(u32, Vec<u8>)>,
}

/// Runs a two-player game for `ticks` ticks: client 1 moves right, aims at client 2 and fires, loses every
/// `lose_every`-th delta sent to it (none when 0), and acknowledges every `ack_every`-th delta it gets (so
/// its deltas come against changing baselines); client 2 moves up and down and chats once.
fn play(full_snapshots: bool, ticks: u32, ack_every: u32, lose_every: u32) -> Received {
    let mut replication = ReplicationConfig::for_tick_rate(TICK_RATE);
    replication.full_snapshots = full_snapshots;
    replication.threads = 1;
    let config = SimConfig {
        tick_rate: TICK_RATE,
        seed: 1,
        arena: Arena::standard(),
    };
    let mut sim = Sim::with_replication(config, replication);
    let pool = Pool::new(usize::from(replication.threads));
    sim.set_token_source(Box::new(|| Some([7; 16])));
    let (one, two) = (ClientId(1), ClientId(2));
    for (client, name) in [(one, "ada"), (two, "bob")] {
        sim.push(Inbound::Join {
            client,
            name: name.into(),
        });
    }
    let mut received = Received::default();
    let mut ack_tick = 0;
    let mut outbox = Vec::new();
    for seq in 1..=ticks {
        let input = |move_x, move_y, aim, buttons| Input {
            seq,
            move_x,
            move_y,
            aim,
            buttons,
        };
        let datagram = |input| InputDatagram {
            ack_tick,
            inputs: std::iter::once(input).collect(),
        };
        sim.push(Inbound::Input {
            client: one,
            datagram: datagram(input(127, 0, 0.5, buttons::FIRE)),
            waited: std::time::Duration::from_micros(1_500),
        });
        let up_down = if seq % 20 < 10 { 127 } else { -127 };
        sim.push(Inbound::Input {
            client: two,
            datagram: datagram(input(0, up_down, 3.0, 0)),
            waited: std::time::Duration::from_micros(u64::from(seq % 7) * 2_000),
        });
        if seq == 3 {
            sim.push(Inbound::Chat {
                client: two,
                text: "gg".into(),
            });
        }
        sim.tick(&pool);
        sim.drain_outbox(&mut outbox);
        for out in outbox.drain(..) {
            match out {
                Outbound::Frame { client, frame } if client == one => received.frames.push(frame[2..].to_vec()),
                Outbound::Broadcast { frame } => received.frames.push(frame[2..].to_vec()),
                Outbound::Delta { client, tick, datagram } if client == one => {
                    let sent = (received.deltas.len() + received.lost.len()) as u32;
                    if lose_every != 0 && sent % lose_every == lose_every - 1 {
                        received.lost.push(datagram.to_vec());
                        continue;
                    }
                    if (received.deltas.len() as u32).is_multiple_of(ack_every) {
                        ack_tick = tick;
                    }
                    received.deltas.push(datagram.to_vec());
                }
                Outbound::Snapshot { client, tick, bytes } if client == one => {
                    received.snapshots.push((tick, bytes.to_vec()));
                }
                _ => {}
            }
        }
    }
    received
}

/// A delta's payload, out of its datagram.
fn payload(datagram: &[u8]) -> Vec<u8> {
    match decode_server_datagram(datagram) {
        Ok(ServerDatagram::Delta(delta)) => delta,
        other => panic!("the simulation sent {other:?} for a delta"),
    }
}

/// A record of the fragment_reassembly and view_ring_apply targets: a tag and a length-prefixed message.
fn record(tag: u8, bytes: &[u8]) -> Vec<u8> {
    let len = u16::try_from(bytes.len()).expect("a record's message fits a u16 length");
    let mut out = vec![tag];
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(bytes);
    out
}

/// The baseline view the decode_delta target decodes against (a copy of it).
fn decode_delta_baseline() -> Vec<QEntity> {
    (1..40u32)
        .map(|k| QEntity {
            key: k * 3,
            x: k as i32 * 100,
            vx: 64,
            health: 100,
            ..QEntity::default()
        })
        .collect()
}

/// A delta of `now` at `tick` against `base` at `baseline_tick` (both sorted by key), as the server encodes one.
fn delta(tick: u32, baseline_tick: u32, base: &[QEntity], now: &[QEntity]) -> Vec<u8> {
    let predicted: Vec<QEntity> = base
        .iter()
        .map(|e| e.predicted(tick - baseline_tick, TICK_RATE))
        .collect();
    let updates: Vec<_> = now
        .iter()
        .map(|cur| (predicted.iter().find(|e| e.key == cur.key), cur))
        .filter(|(b, cur)| diff_mask(*b, cur) != 0)
        .collect();
    let removed: Vec<u32> = base
        .iter()
        .map(|e| e.key)
        .filter(|k| !now.iter().any(|e| e.key == *k))
        .collect();
    let header = DeltaHeader {
        tick,
        baseline_tick,
        last_input_seq: 7,
        input_margin: Some(23),
    };
    let mut out = Vec::new();
    encode_delta(&header, &updates, &removed, &mut out);
    out
}

/// The corpus, as (target, file name, bytes).
fn corpus() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut add = |target, name: &str, bytes: Vec<u8>| files.push((target, name.to_owned(), bytes));
    let game = play(false, 40, 1, 0);
    let lagging = play(false, 40, 4, 0);
    let lossy = play(false, 40, 1, 5);
    let full = play(true, 6, 1, 0);

    // decode_messages: every kind of message, as its decoder gets it.
    let frame = |f: &ClientFrame| encode_frame(f).expect("a frame encodes")[2..].to_vec();
    let hello = |resume| {
        frame(&ClientFrame::Hello(Hello {
            protocol_version: PROTOCOL_VERSION,
            name: "ada".into(),
            resume,
            room: RoomRequest::default(),
        }))
    };
    let chat = frame(&ClientFrame::Chat {
        text: "good game".into(),
    });
    let inputs = |ack_tick, n: u32, buttons| {
        let inputs = (1..=n)
            .map(|seq| Input {
                seq,
                move_x: 127,
                move_y: -40,
                aim: 0.25 * seq as f32,
                buttons,
            })
            .collect();
        encode_datagram(&ClientDatagram::Input(InputDatagram { ack_tick, inputs })).expect("inputs encode")
    };
    add("decode_messages", "client-hello", hello(None));
    add("decode_messages", "client-hello-resume", hello(Some([7; 16])));
    add("decode_messages", "client-chat", chat.clone());
    add("decode_messages", "client-inputs", inputs(12, 8, buttons::FIRE));
    let mut frames = game.frames.clone();
    frames.dedup();
    for (i, f) in frames.iter().enumerate() {
        add("decode_messages", &format!("server-frame-{i}"), f.clone());
    }
    for (i, f) in [
        ServerFrame::Reject {
            reason: RejectReason::VersionMismatch { server: 1 },
        },
        ServerFrame::PlayerLeft { id: 2 },
        ServerFrame::Killed { killer: 1, victim: 2 },
        ServerFrame::Kick {
            reason: "too many bad datagrams".into(),
        },
    ]
    .iter()
    .enumerate()
    {
        let bytes = encode_frame(f).expect("a frame encodes")[2..].to_vec();
        add("decode_messages", &format!("server-frame-made-{i}"), bytes);
    }
    add("decode_messages", "server-delta-first", game.deltas[0].clone());
    add("decode_messages", "server-delta-later", game.deltas[20].clone());
    let (tick, snapshot) = full.snapshots.last().cloned().expect("a full snapshot was sent");
    let parts = split(tick, &snapshot, PART_OVERHEAD + 24).expect("the snapshot splits");
    let part_datagrams: Vec<Vec<u8>> = parts
        .iter()
        .map(|p| encode_datagram(&ServerDatagram::Snapshot(p.clone())).expect("a part encodes"))
        .collect();
    add("decode_messages", "server-snapshot-part", part_datagrams[0].clone());
    add("decode_messages", "snapshot", snapshot.clone());
    assert!(codec::decode_snapshot(&snapshot).is_ok());

    // decode_delta: deltas against its fixed baseline (ticks 10 -> 12), and the simulation's.
    let base = decode_delta_baseline();
    let mut moved = base.clone();
    for (i, e) in moved.iter_mut().enumerate().step_by(5) {
        e.x += 40 * i as i32;
        e.vy = -64;
        e.aim = 1_000;
        e.health = 70;
        e.cooldown = 12;
        e.kills = 1;
    }
    let mut changed = base.clone();
    changed.retain(|e| e.key % 2 == 0);
    changed.push(QEntity {
        key: 200,
        x: -500,
        y: 900,
        health: 100,
        ..QEntity::default()
    });
    changed.push(QEntity {
        key: Kind::Projectile.key(4),
        x: 300,
        vx: 1_280,
        owner: 3,
        ..QEntity::default()
    });
    add("decode_delta", "unchanged", delta(12, 10, &base, &base));
    add("decode_delta", "moved", delta(12, 10, &base, &moved));
    add("decode_delta", "removed-and-new", delta(12, 10, &base, &changed));
    add("decode_delta", "full", delta(12, 0, &[], &changed));
    add("decode_delta", "sim-first", payload(&game.deltas[0]));
    add("decode_delta", "sim-later", payload(&game.deltas[20]));

    // server_packet: what a client sends.
    add("server_packet", "inputs-one", inputs(0, 1, 0));
    add("server_packet", "inputs-firing", inputs(30, 8, buttons::FIRE));
    add("server_packet", "chat", chat);
    add("server_packet", "hello", hello(None));

    // fragment_reassembly: streams of real snapshot parts, and made-up parts.
    let stream = |order: &[usize]| -> Vec<u8> { order.iter().flat_map(|i| record(0, &part_datagrams[*i])).collect() };
    let n = part_datagrams.len();
    assert!(n >= 3, "the snapshot splits into {n} parts");
    let in_order: Vec<usize> = (0..n).collect();
    let backwards_twice: Vec<usize> = (0..n).rev().chain([0]).collect();
    add("fragment_reassembly", "parts-in-order", stream(&in_order));
    add("fragment_reassembly", "parts-backwards", stream(&backwards_twice));
    // Tick N loses a part; the next snapshot (split whole) arrives; the lost part comes late.
    let (next_tick, next) = full.snapshots[full.snapshots.len() - 2].clone();
    let mut late = stream(&in_order[1..]);
    for part in split(next_tick.max(tick) + 1, &next, PART_OVERHEAD + 40).expect("the snapshot splits") {
        late.extend(record(
            1,
            &encode_datagram(&ServerDatagram::Snapshot(part)).expect("a part encodes"),
        ));
    }
    late.extend(stream(&[0]));
    add("fragment_reassembly", "part-lost-then-newer", late);
    // Made-up parts: impossible ones, then 47 of 1,400 bytes (over MAX_SNAPSHOT_LEN together).
    let made_up = |tick: u8, index: u8, count: u8, len: u16| {
        let mut r = vec![2, tick, index, count];
        r.extend_from_slice(&len.to_le_bytes());
        r.push(index);
        r
    };
    let mut bad: Vec<u8> = [(0, 0), (3, 3), (0, 200)]
        .iter()
        .flat_map(|&(i, c)| made_up(5, i, c, 10))
        .collect();
    bad.extend(made_up(5, 0, 2, 10));
    bad.extend(made_up(5, 1, 3, 10));
    bad.extend(made_up(5, 1, 2, 10));
    add("fragment_reassembly", "made-up-bad-parts", bad);
    let too_large: Vec<u8> = (0..47).flat_map(|i| made_up(9, i, 47, 1_400)).collect();
    add("fragment_reassembly", "made-up-too-large", too_large);
    // Whole snapshots split and pushed: tick 3 rotated, tick 2 (late), tick 4 in 48 parts but part 1.
    let split_record = |tick: u8, len: u16, datagram_len: u16, rotate: u8, skip: u8| {
        let mut r = vec![3, tick];
        r.extend_from_slice(&len.to_le_bytes());
        r.extend_from_slice(&datagram_len.to_le_bytes());
        r.extend_from_slice(&[rotate, skip]);
        r
    };
    let mut splits = split_record(3, 3_000, 1_100, 1, 255);
    splits.extend(split_record(2, 500, 100, 0, 255));
    splits.extend(split_record(4, 4_000, 100, 0, 1));
    add("fragment_reassembly", "split-snapshots", splits);

    // view_ring_apply: the simulation's deltas as the client reads them, and model server deltas.
    let datagrams = |r: &Received| -> Vec<u8> { r.deltas.iter().flat_map(|d| record(1, d)).collect() };
    add("view_ring_apply", "sim-acked", datagrams(&game));
    add("view_ring_apply", "sim-lagging-acks", datagrams(&lagging));
    // Every fifth delta lost (the server then encodes against older views), and delivered late at the end,
    // as bare payloads.
    let late: Vec<u8> = lossy
        .deltas
        .iter()
        .chain(&lossy.lost)
        .flat_map(|d| record(0, &payload(d)))
        .collect();
    add("view_ring_apply", "sim-lost-and-late", late);
    let model = |advance: u8, ops: &[(u8, u8, u32)], baseline: u8, flip: Option<(u16, u8)>| {
        let mut r = vec![if flip.is_some() { 0x82 } else { 2 }, advance, ops.len() as u8];
        for (key, field, value) in ops {
            r.extend_from_slice(&[*key, *field]);
            r.extend_from_slice(&value.to_le_bytes());
        }
        r.extend_from_slice(&[baseline, 9]);
        if let Some((at, xor)) = flip {
            r.extend_from_slice(&at.to_le_bytes());
            r.push(xor);
        }
        r
    };
    let mut world = model(0, &[(1, 1, 640), (2, 3, 64 | (32 << 16)), (0x13, 3, 500)], 0, None);
    world.extend(model(1, &[(1, 4, 1_000), (2, 5, 0x0c_0c_50)], 0, None));
    world.extend(model(0, &[(0x13, 0, 0), (3, 6, 0x0001_0002)], 1, None));
    world.extend(model(2, &[(4, 7, 3), (1, 0x82, 0xffff_0000)], 0, Some((3, 0x40))));
    world.extend(model(0, &[], 2, None));
    add("view_ring_apply", "model-server", world);
    // More views than the ring keeps, each against the one before.
    let many: Vec<u8> = (0..70).flat_map(|i| model(0, &[(i as u8, 3, 64)], 0, None)).collect();
    add("view_ring_apply", "model-ring-wraps", many);
    files
}

fn main() -> std::io::Result<()> {
    let root: PathBuf = std::env::args_os()
        .nth(1)
        .map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus"), PathBuf::from);
    let files = corpus();
    let mut targets: Vec<&str> = files.iter().map(|(t, _, _)| *t).collect();
    targets.dedup();
    for target in targets {
        let dir = root.join(target);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        let mine: Vec<_> = files.iter().filter(|(t, _, _)| *t == target).collect();
        for (_, name, bytes) in &mine {
            std::fs::write(dir.join(name), bytes)?;
        }
        let total: usize = mine.iter().map(|(_, _, b)| b.len()).sum();
        println!("{}: {} seeds, {total} bytes", dir.display(), mine.len());
    }
    Ok(())
}
