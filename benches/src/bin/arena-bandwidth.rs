//! `arena-bandwidth`: the scale scenario, side by side in one run: the same bots on the same big map, one
//! world replicated with deltas and interest management, one with the naive full snapshot. Prints bytes per
//! client, bytes per visible moving entity, the ratio to the naive snapshot, and the tick time (p50 and p99
//! of every tick measured, no network). The bots wander (`BenchWorld::push_wander_inputs`), so most players
//! are in motion.

use anyhow::Context;
use arena_benches::world::{BenchWorld, TICK_RATE, scale_arena};
use arena_server::game::{ReplicationConfig, TickSet};
use arena_shared::codec;
use clap::Parser;
use std::time::Instant;

#[global_allocator]
static ALLOCATOR: arena_server::Allocator = arena_server::Allocator;

/// Bytes and tick time of delta replication against the naive full snapshot, on a big map.
#[derive(Parser, Debug)]
#[command(name = "arena-bandwidth", about)]
struct Args {
    /// Player counts to run, comma separated.
    #[arg(long, value_delimiter = ',', default_value = "100,500,1000")]
    players: Vec<usize>,
    /// Ticks measured per step.
    #[arg(long, default_value_t = 600)]
    ticks: u32,
    /// Ticks played first, unmeasured (players spread out and start fighting).
    #[arg(long, default_value_t = 300)]
    warmup: u32,
    /// View radius of the delta world, in units (64 sees about 32 players at this map's density).
    #[arg(long, default_value_t = 64.0)]
    view_radius: f32,
    /// Snapshot bytes per second per client for the delta world.
    #[arg(long, default_value_t = 100_000)]
    client_bandwidth: u32,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Snapshot threads (default: the machine's cores, at most 8).
    #[arg(long)]
    threads: Option<u16>,
    /// Also time each phase of the tick on its own and print their medians (the tick then runs phase by
    /// phase, as the `tick/phase` benches do).
    #[arg(long)]
    phases: bool,
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 - 1.0) * q).round() as usize)
        .copied()
        .unwrap_or(0.0)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    println!(
        "| players | visible entities / client | visible moving players / client | delta B / client / snapshot | naive B / client / snapshot | naive ÷ delta | B per visible moving entity | updates left out / snapshot | tick p50 µs | tick p99 µs |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for &n in &args.players {
        scale_arena(n).validate().context("the scale map")?;
        let delta_config = ReplicationConfig {
            snapshot_rate: TICK_RATE,
            view_radius: args.view_radius,
            client_bandwidth: args.client_bandwidth,
            full_snapshots: false,
            threads: args.threads.unwrap_or_else(arena_server::game::default_threads),
        };
        let mut delta = BenchWorld::scale(n, args.seed, delta_config)?;
        for _ in 0..args.warmup {
            delta.push_wander_inputs();
            delta.sim.tick(&delta.pool);
            delta.observe();
        }
        let (mut bytes, mut snapshots, mut visible, mut moving, mut left_out, mut naive) =
            (0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
        let mut ticks_us = Vec::with_capacity(args.ticks as usize);
        let mut schedules: Vec<_> = TickSet::ALL
            .iter()
            .map(|s| delta.sim.phase_schedule(s.clone()))
            .collect();
        let mut phase_us: Vec<Vec<f64>> = vec![Vec::new(); schedules.len()];
        for _ in 0..args.ticks {
            delta.push_wander_inputs();
            let started = Instant::now();
            if args.phases {
                for (schedule, took) in schedules.iter_mut().zip(&mut phase_us) {
                    let phase_started = Instant::now();
                    delta.sim.run_phase(schedule, &delta.pool);
                    took.push(phase_started.elapsed().as_secs_f64() * 1e6);
                }
            } else {
                delta.sim.tick(&delta.pool);
            }
            let mut out = std::mem::take(&mut delta.outbox);
            delta.sim.drain_outbox(&mut out);
            ticks_us.push(started.elapsed().as_secs_f64() * 1e6);
            delta.outbox = out;
            let s = delta.sim.stats();
            bytes += s.snapshot_bytes;
            snapshots += u64::from(s.snapshots);
            visible += s.entities_visible;
            moving += s.moving_visible;
            left_out += s.updates_left_out;
            delta.observe();
            // The naive full snapshot of the same world, for every client: encoded once, as the server did.
            let view = delta.view();
            let body = codec::encode::<_, { 1 << 24 }>(&(&view.players, &view.projectiles)).context("naive body")?;
            let header = codec::encode::<_, 16>(&(view.tick, 1u32)).context("naive header")?;
            naive += (body.len() + header.len()) as u64 * s.snapshots as u64;
        }
        ticks_us.sort_by(f64::total_cmp);
        let per = |x: u64| x as f64 / snapshots.max(1) as f64;
        println!(
            "| {n} | {:.1} | {:.1} | {:.0} | {:.0} | {:.1} | {:.2} | {:.1} | {:.0} | {:.0} |",
            per(visible),
            per(moving),
            per(bytes),
            per(naive),
            naive as f64 / bytes.max(1) as f64,
            bytes as f64 / moving.max(1) as f64,
            per(left_out),
            quantile(&ticks_us, 0.5),
            quantile(&ticks_us, 0.99),
        );
        if args.phases {
            let medians: Vec<String> = TickSet::ALL
                .iter()
                .zip(&mut phase_us)
                .map(|(set, took)| {
                    took.sort_by(f64::total_cmp);
                    format!("{set:?} {:.0}", quantile(took, 0.5))
                })
                .collect();
            println!("phase p50 µs at {n} players: {}", medians.join(", "));
        }
    }
    Ok(())
}
