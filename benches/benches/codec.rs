//! The wire codec without a network: encoding and decoding snapshots of 10, 100 and 1,000 entities (three
//! quarters players, one quarter projectiles), and the input datagrams of 10, 100 and 1,000 clients (one
//! tick's worth, eight inputs each as a `Session` sends them), with the bytes each produces.

use arena_shared::Vec2;
use arena_shared::codec::{
    decode_client_datagram, decode_snapshot, encode_datagram, encode_snapshot, encode_snapshot_body,
    encode_snapshot_from_body,
};
use arena_shared::fragment::split;
use arena_shared::protocol::{
    ClientDatagram, InputDatagram, MAX_INPUTS_PER_DATAGRAM, PlayerSnapshot, ProjectileSnapshot, Snapshot,
    TARGET_DATAGRAM_LEN,
};
use arena_shared::rules::{Input, PlayerState};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::hint::black_box;
use std::time::Duration;

#[global_allocator]
static ALLOCATOR: arena_server::Allocator = arena_server::Allocator;

const ENTITIES: [usize; 3] = [10, 100, 1_000];

fn snapshot(entities: usize, rng: &mut StdRng) -> Snapshot {
    let players = entities - entities / 4;
    let mut v = || Vec2::new(rng.random_range(0.0..60.0), rng.random_range(0.0..40.0));
    let players = (1..=players as u32)
        .map(|id| {
            let mut state = PlayerState::spawned(v());
            state.vel = v();
            state.aim = 1.5;
            PlayerSnapshot {
                id,
                state,
                kills: id % 7,
                deaths: id % 5,
            }
        })
        .collect();
    let projectiles = (1..=(entities / 4) as u32)
        .map(|id| ProjectileSnapshot {
            id: 10_000 + id,
            owner: id,
            pos: v(),
            vel: v(),
        })
        .collect();
    Snapshot {
        tick: 123_456,
        last_input_seq: 98_765,
        input_margin: None,
        players,
        projectiles,
        health_packs: vec![],
    }
}

fn inputs(clients: usize, rng: &mut StdRng) -> Vec<Vec<u8>> {
    (0..clients)
        .map(|c| {
            let inputs = (0..MAX_INPUTS_PER_DATAGRAM as u32)
                .map(|i| Input {
                    seq: 5_000 + c as u32 + i,
                    move_x: rng.random_range(-127..=127),
                    move_y: rng.random_range(-127..=127),
                    aim: rng.random_range(0.0..std::f32::consts::TAU),
                    buttons: rng.random_range(0..=1),
                })
                .collect();
            let datagram = ClientDatagram::Input(InputDatagram {
                ack_tick: 123_456,
                inputs,
            });
            encode_datagram(&datagram).unwrap_or_else(|e| panic!("input datagram: {e}"))
        })
        .collect()
}

fn snapshots(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(7);
    let mut group = c.benchmark_group("codec/snapshot");
    for n in ENTITIES {
        let snap = snapshot(n, &mut rng);
        let bytes = encode_snapshot(&snap).unwrap_or_else(|e| panic!("snapshot: {e}"));
        let parts = split(snap.tick, &bytes, TARGET_DATAGRAM_LEN).map_or(0, |p| p.len());
        println!(
            "codec/snapshot/{n}: {} bytes encoded, {parts} datagram parts",
            bytes.len()
        );
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(BenchmarkId::new("encode", n), |b| {
            b.iter(|| encode_snapshot(black_box(&snap)))
        });
        let body = encode_snapshot_body(&snap.players, &snap.projectiles).unwrap_or_default();
        group.bench_function(BenchmarkId::new("encode_body", n), |b| {
            b.iter(|| encode_snapshot_body(black_box(&snap.players), black_box(&snap.projectiles)))
        });
        group.bench_function(BenchmarkId::new("add_header", n), |b| {
            b.iter(|| encode_snapshot_from_body(black_box(snap.tick), black_box(7), black_box(&body)))
        });
        group.bench_function(BenchmarkId::new("decode", n), |b| {
            b.iter(|| decode_snapshot(black_box(&bytes)))
        });
    }
    group.finish();
}

fn input_datagrams(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(8);
    let mut group = c.benchmark_group("codec/inputs");
    for n in ENTITIES {
        let encoded = inputs(n, &mut rng);
        let decoded: Vec<ClientDatagram> = encoded
            .iter()
            .map(|b| decode_client_datagram(b).unwrap_or_else(|e| panic!("input datagram: {e}")))
            .collect();
        let total: usize = encoded.iter().map(Vec::len).sum();
        println!("codec/inputs/{n}: {total} bytes for {n} datagrams ({} each)", total / n);
        group.throughput(Throughput::Bytes(total as u64));
        group.bench_function(BenchmarkId::new("encode", n), |b| {
            b.iter(|| {
                for d in &decoded {
                    black_box(encode_datagram(black_box(d)).is_ok());
                }
            })
        });
        group.bench_function(BenchmarkId::new("decode", n), |b| {
            b.iter(|| {
                for bytes in &encoded {
                    black_box(decode_client_datagram(black_box(bytes)).is_ok());
                }
            })
        });
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args()
}

criterion_group! {
    name = benches;
    config = config();
    targets = snapshots, input_datagrams
}
criterion_main!(benches);
