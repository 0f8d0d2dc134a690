//! The input clock against a simulated server: a tick every period, inputs applied by the first tick after
//! they arrive, each snapshot reporting the margin of the newest input that arrived before its tick.

use super::*;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

const RATE: u16 = 60;

/// What a run saw: the margins (µs) of every input after the first second, and the clock at the end.
struct Run {
    margins: Vec<f64>,
    clock: InputClock,
}

/// Runs `secs` of a client whose inputs take `delay` ± `jitter` (uniform) each way, against a server whose
/// ticks start at `phase` past the client's start. The client's sender wakes up to `wake_late` after due.
fn run(secs: u32, delay: Duration, jitter: Duration, phase: Duration, wake_late: Duration, seed: u64) -> Run {
    let mut rng = StdRng::seed_from_u64(seed);
    let t0 = Instant::now();
    let period = Duration::from_secs(1) / u32::from(RATE);
    let mut clock = InputClock::new(RATE, t0);
    let one_way = |rng: &mut StdRng| {
        let j = jitter.as_secs_f64() * rng.random_range(-1.0..=1.0);
        Duration::from_secs_f64((delay.as_secs_f64() + j).max(0.0))
    };
    let mut arrivals: Vec<Instant> = Vec::new(); // inputs in flight, by arrival
    let mut snapshots: Vec<(Instant, u32, Option<i16>)> = Vec::new(); // in flight to the client
    let mut margins = Vec::new();
    let ticks = secs * u32::from(RATE);
    let mut newest_margin: Option<i16> = None;
    let mut now = t0;
    let step = Duration::from_micros(100);
    let mut tick = 1u32;
    let mut tick_at = t0 + phase;
    while tick <= ticks {
        // The client: its due inputs leave, its snapshots come in.
        if now >= clock.due() + wake_late {
            arrivals.push(now + one_way(&mut rng));
            clock.sent(now);
        }
        snapshots.retain(|(at, t, m)| {
            if *at <= now {
                clock.on_snapshot(*t, *at, delay * 2, *m);
                false
            } else {
                true
            }
        });
        // The server: at its tick, the inputs that arrived are taken in, and a snapshot leaves.
        if now >= tick_at {
            arrivals.sort();
            for a in arrivals.iter().filter(|a| **a <= tick_at) {
                let us = (tick_at - *a).as_micros() as i64;
                newest_margin = Some((us / MARGIN_UNIT.as_micros() as i64) as i16);
                if tick > u32::from(RATE) {
                    margins.push(us as f64);
                }
            }
            arrivals.retain(|a| *a > tick_at);
            snapshots.push((tick_at + one_way(&mut rng), tick, newest_margin.take()));
            tick += 1;
            tick_at += period;
        }
        now += step;
    }
    Run { margins, clock }
}

fn median_of(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[test]
fn on_a_steady_link_inputs_arrive_the_base_margin_before_their_tick() {
    for (phase_us, seed) in [(0, 1), (4_000, 2), (11_000, 3), (16_000, 4)] {
        let r = run(
            3,
            Duration::from_micros(300),
            Duration::ZERO,
            Duration::from_micros(phase_us),
            Duration::ZERO,
            seed,
        );
        let m = median_of(&r.margins);
        let target = r.clock.target().as_micros() as f64;
        assert!(
            (m - target).abs() < 500.0,
            "phase {phase_us} µs: median margin {m} µs, target {target} µs"
        );
        assert!(
            r.margins.iter().all(|m| *m >= 0.0 && *m < 16_667.0),
            "never late, never a tick early"
        );
        assert!((r.clock.stats().rate - 1.0).abs() <= MAX_SLEW);
    }
}

#[test]
fn a_sender_that_wakes_late_is_aimed_earlier() {
    // A timer that fires up to a millisecond late (tokio's resolution): the margin still holds.
    let r = run(
        3,
        Duration::from_micros(300),
        Duration::ZERO,
        Duration::from_micros(7_000),
        Duration::from_micros(900),
        5,
    );
    let m = median_of(&r.margins);
    let target = r.clock.target().as_micros() as f64;
    assert!((m - target).abs() < 500.0, "median margin {m} µs, target {target} µs");
}

#[test]
fn the_target_grows_with_jitter_and_few_inputs_come_late() {
    let steady = run(
        4,
        Duration::from_millis(20),
        Duration::ZERO,
        Duration::from_millis(3),
        Duration::ZERO,
        6,
    );
    let jittery = run(
        4,
        Duration::from_millis(20),
        Duration::from_millis(2),
        Duration::from_millis(3),
        Duration::ZERO,
        6,
    );
    let (t0, t1) = (steady.clock.target(), jittery.clock.target());
    assert!(
        t1 > t0 + Duration::from_millis(1),
        "target {t0:?} steady, {t1:?} with ±2 ms of jitter"
    );
    // Late here is an input that missed the tick it was aimed at: it arrives just after that tick, so the
    // server's first tick after it finds it almost a whole period early.
    let late = jittery.margins.iter().filter(|m| **m > 12_000.0).count();
    assert!(
        late * 20 < jittery.margins.len(),
        "{late} of {} late",
        jittery.margins.len()
    );
}

#[test]
fn the_server_tick_is_known_from_the_snapshots() {
    let r = run(
        2,
        Duration::from_millis(30),
        Duration::ZERO,
        Duration::from_millis(5),
        Duration::ZERO,
        7,
    );
    let (tick, started) = r.clock.server.expect("snapshots arrived");
    let at = r
        .clock
        .server_tick_at(started + Duration::from_secs(1) / u32::from(RATE) / 2)
        .unwrap();
    assert!((at - f64::from(tick) - 0.5).abs() < 1e-6, "{at} {tick}");
}

/// Feeds `clock` one snapshot a tick from `t` on, each reporting `margin_us`.
fn report(clock: &mut InputClock, t: &mut Instant, tick: &mut u32, margins_us: impl IntoIterator<Item = i64>) {
    for m in margins_us {
        *tick += 1;
        *t += Duration::from_secs(1) / u32::from(RATE);
        let units = (m / MARGIN_UNIT.as_micros() as i64) as i16;
        clock.on_snapshot(*tick, *t, Duration::from_micros(600), Some(units));
    }
}

#[test]
fn a_queue_that_stays_slows_the_clock_and_one_a_stall_left_does_not() {
    let (mut t, mut tick) = (Instant::now(), 1u32);
    let mut clock = InputClock::new(RATE, t);
    // Placed, on target (the base margin: no jitter).
    report(&mut clock, &mut t, &mut tick, std::iter::repeat_n(1_000, 40));
    assert!((clock.stats().rate - 1.0).abs() < 1e-3);
    // A stall's queue: eight reports of a tick and more, then on target again. Not this clock's to steer.
    let due = clock.due();
    report(&mut clock, &mut t, &mut tick, std::iter::repeat_n(40_000, 8));
    assert_eq!(clock.stats().rate, 1.0, "left to the server's drain");
    assert!(clock.due() == due, "no jump");
    report(&mut clock, &mut t, &mut tick, std::iter::repeat_n(1_000, 30));
    // A queue that stays: this clock runs fast; it slows (at most by MAX_SLEW) and never jumps.
    let due = clock.due();
    report(&mut clock, &mut t, &mut tick, std::iter::repeat_n(17_000, 30));
    let rate = clock.stats().rate;
    assert!(rate > 1.0 && rate <= 1.0 + MAX_SLEW, "slowed: {rate}");
    assert!(clock.due() == due, "no jump");
}
