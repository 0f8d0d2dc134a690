//! The server tick without a network: one whole tick (inputs in, simulate, every client's snapshot built
//! and encoded) for 10, 100 and 1,000 bot players, each phase of the tick on its own (so a regression
//! points at its stage), and the tick thread's split of every snapshot into encoded datagrams.
//!
//! Each measured iteration is a real tick of a warmed-up world: the bots' inputs for it are chosen (untimed)
//! from the previous snapshot, and a phase bench runs the whole tick phase by phase, timing only its phase.

use arena_benches::world::BenchWorld;
use arena_server::game::{Outbound, Pool, ReplicationConfig, Sim, TickSet};
use arena_shared::codec::encode_datagram;
use arena_shared::fragment::split;
use arena_shared::protocol::{ServerDatagram, TARGET_DATAGRAM_LEN};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOCATOR: arena_server::Allocator = arena_server::Allocator;

const PLAYERS: [usize; 3] = [10, 100, 1_000];
/// Ticks played before measuring: 5 s of game, so players have spread out, fought and respawned.
const WARM_UP_TICKS: u32 = 300;

fn world(players: usize) -> BenchWorld {
    warmed(BenchWorld::new(players, 42))
}

/// A world sending the naive full snapshots (the baseline).
fn naive_world(players: usize) -> BenchWorld {
    let mut replication = ReplicationConfig::for_tick_rate(arena_benches::world::TICK_RATE);
    replication.full_snapshots = true;
    warmed(BenchWorld::with_replication(players, 42, replication))
}

/// The scale scenario: a map sized for the players (400 square units each), wandering bots, interest
/// management with a 70-unit view radius.
fn scale_world(players: usize) -> BenchWorld {
    let mut replication = ReplicationConfig::for_tick_rate(arena_benches::world::TICK_RATE);
    replication.view_radius = 70.0;
    let mut w = BenchWorld::scale(players, 42, replication).unwrap_or_else(|e| panic!("cannot build the world: {e:#}"));
    for _ in 0..WARM_UP_TICKS {
        w.push_wander_inputs();
        w.sim.tick(&w.pool);
        w.observe();
    }
    w
}

/// A world replicating as a server started without flags does.
fn server_world(players: usize) -> BenchWorld {
    warmed(BenchWorld::with_server_defaults(players, 42))
}

fn warmed(w: anyhow::Result<BenchWorld>) -> BenchWorld {
    let mut w = w.unwrap_or_else(|e| panic!("cannot build the world: {e:#}"));
    w.warm_up(WARM_UP_TICKS);
    w
}

/// Times one whole tick per iteration, the bots' inputs for it chosen beforehand.
fn time_whole_ticks(w: &mut BenchWorld, iters: u64) -> Duration {
    time_ticks_with(w, iters, BenchWorld::push_inputs)
}

/// Times one whole tick per iteration, queuing the bots' inputs with `inputs` beforehand (untimed).
fn time_ticks_with(w: &mut BenchWorld, iters: u64, inputs: fn(&mut BenchWorld)) -> Duration {
    let mut took = Duration::ZERO;
    for _ in 0..iters {
        inputs(w);
        let start = Instant::now();
        w.sim.tick(&w.pool);
        w.sim.drain_outbox(&mut w.outbox);
        took += start.elapsed();
        w.observe();
    }
    took
}

/// Prints what the world's ticks produced.
fn describe(name: &str, w: &BenchWorld) {
    report_snapshot_trouble(name, w);
    let stats = w.sim.stats();
    let kind = if w.full_snapshots > 0 {
        "full snapshots"
    } else {
        "no full snapshots (deltas)"
    };
    println!(
        "{name}: {} players, {} projectiles, {kind}, {} snapshot bytes in the last tick ({} per client)",
        stats.players,
        stats.projectiles,
        stats.snapshot_bytes,
        stats.snapshot_bytes / u64::from(stats.players.max(1))
    );
}

/// Says so when the world produced snapshots no client could use.
fn report_snapshot_trouble(name: &str, w: &BenchWorld) {
    if w.ticks_over_list_limits + w.ticks_without_snapshots > 0 {
        println!(
            "{name}: {} ticks listed more entities than a snapshot may carry, {} produced no snapshot bytes",
            w.ticks_over_list_limits, w.ticks_without_snapshots
        );
    }
}

fn whole_tick(c: &mut Criterion) {
    let mut group = c.benchmark_group("tick/whole");
    for players in PLAYERS {
        let mut w = world(players);
        group.throughput(Throughput::Elements(players as u64));
        group.bench_function(BenchmarkId::from_parameter(players), |b| {
            b.iter_custom(|iters| time_whole_ticks(&mut w, iters));
        });
        describe(&format!("tick/whole/{players}"), &w);
    }
    group.finish();
}

/// The whole tick and its snapshot phase with the replication of a server started without flags.
fn server_defaults(c: &mut Criterion) {
    let mut group = c.benchmark_group("tick/server_defaults");
    for players in PLAYERS {
        let mut w = server_world(players);
        group.throughput(Throughput::Elements(players as u64));
        group.bench_function(BenchmarkId::new("whole", players), |b| {
            b.iter_custom(|iters| time_whole_ticks(&mut w, iters));
        });
        let mut schedules: Vec<_> = TickSet::ALL
            .iter()
            .map(|set| w.sim.phase_schedule(set.clone()))
            .collect();
        let timed = TickSet::ALL.iter().position(|s| *s == TickSet::Snapshot).unwrap_or(0);
        group.bench_function(BenchmarkId::new("Snapshot", players), |b| {
            b.iter_custom(|iters| {
                time_phase(
                    &mut w,
                    &mut |sim, pool, i| sim.run_phase(&mut schedules[i], pool),
                    timed,
                    iters,
                )
            });
        });
        describe(&format!("tick/server_defaults/{players}"), &w);
    }
    group.finish();
}

/// Runs whole ticks phase by phase (`run(sim, pool, i)` runs phase `i`), timing only phase `timed`.
fn time_phase(w: &mut BenchWorld, run: &mut impl FnMut(&mut Sim, &Pool, usize), timed: usize, iters: u64) -> Duration {
    let mut took = Duration::ZERO;
    for _ in 0..iters {
        w.push_inputs();
        for i in 0..TickSet::ALL.len() {
            if i == timed {
                let start = Instant::now();
                run(&mut w.sim, &w.pool, i);
                took += start.elapsed();
            } else {
                run(&mut w.sim, &w.pool, i);
            }
        }
        w.observe();
    }
    took
}

fn phases(c: &mut Criterion) {
    let mut group = c.benchmark_group("tick/phase");
    for players in PLAYERS {
        let mut w = world(players);
        let mut schedules: Vec<_> = TickSet::ALL
            .iter()
            .map(|set| w.sim.phase_schedule(set.clone()))
            .collect();
        for (timed, set) in TickSet::ALL.iter().enumerate() {
            let id = BenchmarkId::new(format!("{set:?}"), players);
            group.bench_function(id, |b| {
                b.iter_custom(|iters| {
                    time_phase(
                        &mut w,
                        &mut |sim, pool, i| sim.run_phase(&mut schedules[i], pool),
                        timed,
                        iters,
                    )
                });
            });
        }
        report_snapshot_trouble(&format!("tick/phase/*/{players}"), &w);
    }
    group.finish();
}

/// What the tick thread does with the outbox before QUIC: split each snapshot and encode every part.
fn fragment(c: &mut Criterion) {
    let mut group = c.benchmark_group("tick/fragment");
    for players in PLAYERS {
        let mut w = naive_world(players);
        // A tick that produced full snapshots (a big world is over the snapshot size limit on most ticks;
        // a server sending deltas produces none).
        for _ in 0..600 {
            w.push_inputs();
            w.sim.tick(&w.pool);
            w.sim.drain_outbox(&mut w.outbox);
            if w.outbox.iter().any(|o| matches!(o, Outbound::Snapshot { .. })) {
                break;
            }
            w.outbox.clear();
        }
        let snapshots: Vec<(u32, bytes::Bytes)> = w
            .outbox
            .iter()
            .filter_map(|o| match o {
                Outbound::Snapshot { tick, bytes, .. } => Some((*tick, bytes.clone())),
                _ => None,
            })
            .collect();
        if snapshots.is_empty() {
            println!("tick/fragment/{players}: no full snapshots to split (deltas, or over the size limit)");
            continue;
        }
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
        let bytes: usize = snapshots.iter().map(|s| s.1.len()).sum();
        println!("tick/fragment/{players}: {datagrams} datagrams for {bytes} snapshot bytes per tick");
    }
    group.finish();
}

/// The whole tick in the scale scenario (deltas, interest management), and the naive full snapshots of the
/// standard map for comparison.
fn scale(c: &mut Criterion) {
    let mut group = c.benchmark_group("tick/scale");
    for players in [100, 500, 1_000] {
        let mut w = scale_world(players);
        group.throughput(Throughput::Elements(players as u64));
        group.bench_function(BenchmarkId::new("whole", players), |b| {
            b.iter_custom(|iters| time_ticks_with(&mut w, iters, BenchWorld::push_wander_inputs));
        });
        describe(&format!("tick/scale/whole/{players}"), &w);
        print_percentiles(&format!("tick/scale/whole/{players}"), &mut w);
    }
    for players in PLAYERS {
        let mut w = naive_world(players);
        group.bench_function(BenchmarkId::new("naive_whole", players), |b| {
            b.iter_custom(|iters| time_whole_ticks(&mut w, iters));
        });
        describe(&format!("tick/scale/naive_whole/{players}"), &w);
    }
    group.finish();
}

/// Criterion reports means and medians of batches; the tick budget is about single ticks, so this times
/// 600 ticks one by one and prints their median and 99th percentile.
fn print_percentiles(name: &str, w: &mut BenchWorld) {
    let mut took: Vec<Duration> = (0..600)
        .map(|_| time_ticks_with(w, 1, BenchWorld::push_wander_inputs))
        .collect();
    took.sort_unstable();
    let at = |q: f64| took[((took.len() - 1) as f64 * q).round() as usize];
    println!(
        "{name}: single ticks p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms (600 ticks)",
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        at(1.0).as_secs_f64() * 1e3,
    );
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
    targets = whole_tick, server_defaults, phases, fragment, scale
}
criterion_main!(benches);
