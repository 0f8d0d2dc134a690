//! The server tick without a network: one whole tick (inputs in, simulate, every client's snapshot built
//! and encoded) for 10, 100 and 1,000 bot players, each phase of the tick on its own (so a regression
//! points at its stage), and the tick thread's split of every snapshot into encoded datagrams.
//!
//! Each measured iteration is a real tick of a warmed-up world: the bots' inputs for it are chosen (untimed)
//! from the previous snapshot, and a phase bench runs the whole tick phase by phase, timing only its phase.

use arena_benches::world::BenchWorld;
use arena_server::game::{Outbound, Sim, TickSet};
use arena_shared::codec::encode_datagram;
use arena_shared::fragment::split;
use arena_shared::protocol::{ServerDatagram, TARGET_DATAGRAM_LEN};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::{Duration, Instant};

const PLAYERS: [usize; 3] = [10, 100, 1_000];
/// Ticks played before measuring: 5 s of game, so players have spread out, fought and respawned.
const WARM_UP_TICKS: u32 = 300;

fn world(players: usize) -> BenchWorld {
    let mut w = BenchWorld::new(players, 42).unwrap_or_else(|e| panic!("cannot build the world: {e:#}"));
    w.warm_up(WARM_UP_TICKS)
        .unwrap_or_else(|e| panic!("cannot warm up: {e:#}"));
    w
}

fn observe(w: &mut BenchWorld) {
    w.observe().unwrap_or_else(|e| panic!("bad snapshot: {e:#}"));
}

fn whole_tick(c: &mut Criterion) {
    let mut group = c.benchmark_group("tick/whole");
    for players in PLAYERS {
        let mut w = world(players);
        group.throughput(Throughput::Elements(players as u64));
        group.bench_function(BenchmarkId::from_parameter(players), |b| {
            b.iter_custom(|iters| {
                let mut took = Duration::ZERO;
                for _ in 0..iters {
                    w.push_inputs();
                    let start = Instant::now();
                    w.sim.tick();
                    w.sim.drain_outbox(&mut w.outbox);
                    took += start.elapsed();
                    observe(&mut w);
                }
                took
            });
        });
        let stats = w.sim.stats();
        println!(
            "tick/whole/{players}: {} players, {} projectiles, {} snapshot bytes per tick ({} per client)",
            stats.players,
            stats.projectiles,
            stats.snapshot_bytes,
            stats.snapshot_bytes / players as u64
        );
    }
    group.finish();
}

fn phases(c: &mut Criterion) {
    let mut group = c.benchmark_group("tick/phase");
    for players in PLAYERS {
        let mut w = world(players);
        let mut schedules: Vec<_> = TickSet::ALL
            .iter()
            .map(|set| Sim::phase_schedule(set.clone()))
            .collect();
        for (timed, set) in TickSet::ALL.iter().enumerate() {
            let id = BenchmarkId::new(format!("{set:?}"), players);
            group.bench_function(id, |b| {
                b.iter_custom(|iters| {
                    let mut took = Duration::ZERO;
                    for _ in 0..iters {
                        w.push_inputs();
                        for (i, schedule) in schedules.iter_mut().enumerate() {
                            if i == timed {
                                let start = Instant::now();
                                w.sim.run_phase(schedule);
                                took += start.elapsed();
                            } else {
                                w.sim.run_phase(schedule);
                            }
                        }
                        observe(&mut w);
                    }
                    took
                });
            });
        }
    }
    group.finish();
}

/// What the tick thread does with the outbox before QUIC: split each snapshot and encode every part.
fn fragment(c: &mut Criterion) {
    let mut group = c.benchmark_group("tick/fragment");
    for players in PLAYERS {
        let mut w = world(players);
        w.push_inputs();
        w.sim.tick();
        w.sim.drain_outbox(&mut w.outbox);
        let snapshots: Vec<(u32, bytes::Bytes)> = w
            .outbox
            .iter()
            .filter_map(|o| match o {
                Outbound::Snapshot { tick, bytes, .. } => Some((*tick, bytes.clone())),
                _ => None,
            })
            .collect();
        let mut datagrams = 0;
        group.throughput(Throughput::Elements(players as u64));
        group.bench_function(BenchmarkId::from_parameter(players), |b| {
            b.iter(|| {
                datagrams = 0;
                for (tick, bytes) in &snapshots {
                    let parts = split(*tick, bytes, TARGET_DATAGRAM_LEN).unwrap_or_default();
                    for part in parts {
                        if let Ok(d) = encode_datagram(&ServerDatagram::Snapshot(part)) {
                            datagrams += 1;
                            black_box(d);
                        }
                    }
                }
            });
        });
        println!("tick/fragment/{players}: {datagrams} datagrams per tick");
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args()
}

criterion_group! {
    name = benches;
    config = config();
    targets = whole_tick, phases, fragment
}
criterion_main!(benches);
