//! Prediction under a simulated network: a deterministic harness plays the server with the shared rules,
//! one input per tick, over a link with latency, jitter and loss.

use super::*;
use arena_shared::protocol::MAX_INPUTS_PER_DATAGRAM;
use arena_shared::quant::snap_player;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

const TICK_RATE: u16 = 60;

/// A fake authoritative server, as the real one: the same rules, exactly one input per tick (the oldest
/// buffered), repeating the last when none arrived.
struct FakeServer {
    state: PlayerState,
    arena: Arena,
    queue: VecDeque<Input>,
    newest_seq: u32,
    last: Input,
    applied: u32,
    applied_log: Vec<u32>,
}

impl FakeServer {
    fn receive(&mut self, inputs: &[Input]) {
        for i in inputs {
            if i.seq > self.newest_seq {
                self.newest_seq = i.seq;
                self.queue.push_back(*i);
            }
        }
    }

    fn tick(&mut self) {
        let n = 1;
        let mut applied_any = false;
        for _ in 0..n {
            let Some(input) = self.queue.pop_front() else { break };
            step_player(&mut self.state, &input, 1.0 / f32::from(TICK_RATE), &self.arena);
            self.state = snap_player(&self.state);
            self.last = input;
            self.applied = input.seq;
            self.applied_log.push(input.seq);
            applied_any = true;
        }
        if !applied_any {
            let last = self.last;
            step_player(&mut self.state, &last, 1.0 / f32::from(TICK_RATE), &self.arena);
            self.state = snap_player(&self.state);
        }
    }
}

/// Runs `ticks` ticks over a link of one-way `latency_ticks` ± `jitter_ticks` with `loss`; returns the
/// prediction errors seen and the inputs the server never applied.
fn simulate(latency_ticks: u32, jitter_ticks: u32, loss: f64, ticks: u32) -> (Vec<f32>, u32) {
    let arena = Arena::standard();
    let start = PlayerState::spawned(Vec2::new(4.0, 4.0));
    let mut server = FakeServer {
        state: start,
        arena: arena.clone(),
        queue: VecDeque::new(),
        newest_seq: 0,
        last: Input::default(),
        applied: 0,
        applied_log: vec![],
    };
    let mut client = Predictor::new(arena, TICK_RATE);
    client.reconcile(&start, 0);
    let mut rng = StdRng::seed_from_u64(9);
    let mut to_server: Vec<(u32, Vec<Input>)> = vec![];
    let mut to_client: Vec<(u32, PlayerState, u32)> = vec![];
    let mut recent: VecDeque<Input> = VecDeque::new();
    let mut errors = vec![];
    for t in 0..ticks {
        // The client samples an input (zig-zag with pauses), predicts it, sends the newest few.
        let phase = (t / 40) % 4;
        let input = Input {
            seq: t + 1,
            move_x: [127, 0, -127, 0][phase as usize],
            move_y: [0, 127, 0, -127][phase as usize],
            aim: 0.0,
            buttons: 0,
        };
        client.apply_local(input);
        recent.push_back(input);
        if recent.len() > MAX_INPUTS_PER_DATAGRAM {
            recent.pop_front();
        }
        if !rng.random_bool(loss) {
            let delay = latency_ticks + rng.random_range(0..=2 * jitter_ticks) - jitter_ticks;
            to_server.push((t + delay, recent.iter().copied().collect()));
        }
        // The server takes what arrived, ticks, and snapshots back.
        let (now, later): (Vec<_>, Vec<_>) = to_server.drain(..).partition(|(at, _)| *at <= t);
        to_server = later;
        for (_, inputs) in now {
            server.receive(&inputs);
        }
        server.tick();
        if !rng.random_bool(loss) {
            let delay = latency_ticks + rng.random_range(0..=2 * jitter_ticks) - jitter_ticks;
            to_client.push((t + delay, server.state, server.applied));
        }
        let (now, later): (Vec<_>, Vec<_>) = to_client.drain(..).partition(|(at, ..)| *at <= t);
        to_client = later;
        for (_, state, seq) in now {
            if let Some(e) = client.reconcile(&state, seq) {
                errors.push(e);
            }
        }
    }
    // Inputs sent early enough to have arrived, that the server never applied.
    let applied: std::collections::BTreeSet<u32> = server.applied_log.iter().copied().collect();
    let settled = ticks - 2 * (latency_ticks + jitter_ticks) - 4;
    let lost = (1..=settled).filter(|s| !applied.contains(s)).count() as u32;
    (errors, lost)
}

fn median_and_worst(mut v: Vec<f32>) -> (f32, f32) {
    v.sort_by(f32::total_cmp);
    (v[v.len() / 2], *v.last().unwrap_or(&0.0))
}

#[test]
fn on_a_perfect_link_the_prediction_is_exact() {
    let (errors, _) = simulate(3, 0, 0.0, 600);
    assert!(errors.len() > 500);
    assert!(
        errors.iter().all(|e| *e == 0.0),
        "max error {:?}",
        errors.iter().copied().fold(0.0, f32::max)
    );
}

#[test]
fn at_100ms_rtt_with_jitter_and_5_percent_loss_the_prediction_stays_close() {
    // 50 ms one way = 3 ticks at 60 Hz, ±10 ms jitter ≈ ±1 tick.
    let (errors, lost) = simulate(3, 1, 0.05, 3_000);
    let n = errors.len();
    let (median, worst) = median_and_worst(errors);
    eprintln!("prediction error over {n} reconciliations: median {median} units, worst {worst} units");
    assert_eq!(lost, 0, "no input lost: redundancy covers 5% loss");
    assert!(median < 0.01, "median error {median}");
    // A late input makes the server repeat the previous one for a tick: at most a direction change's worth
    // of drift, under a player's diameter, and blended away on screen.
    assert!(worst < 1.0, "worst error {worst}");
}

#[test]
fn small_corrections_are_smoothed_and_large_ones_snap() {
    let arena = Arena::standard();
    let mut p = Predictor::new(arena, 60);
    let at = |x: f32| PlayerState::spawned(Vec2::new(x, 4.0));
    p.reconcile(&at(10.0), 0);
    p.reconcile(&at(10.5), 0);
    assert_eq!(p.display_pos(), Some(Vec2::new(10.0, 4.0)), "shown where it was");
    p.advance_frame(Duration::from_millis(100));
    let shown = p.display_pos().unwrap().x;
    assert!(shown > 10.3 && shown < 10.5, "blending toward 10.5: {shown}");
    p.reconcile(&at(30.0), 0);
    assert_eq!(p.display_pos(), Some(Vec2::new(30.0, 4.0)), "a respawn snaps");
}

#[test]
fn replay_applies_only_unacknowledged_inputs() {
    let arena = Arena::standard();
    let mut p = Predictor::new(arena, 60);
    let start = PlayerState::spawned(Vec2::new(10.0, 10.0));
    p.reconcile(&start, 0);
    for seq in 1..=10 {
        p.apply_local(Input {
            seq,
            move_x: 127,
            ..Input::default()
        });
    }
    assert_eq!(p.pending_len(), 10);
    p.reconcile(&start, 4); // the server is behind: it says the player never moved through input 4
    assert_eq!(p.pending_len(), 6);
    let x = p.state().unwrap().pos.x;
    let mut expected = start;
    for seq in 5..=10 {
        step_player(
            &mut expected,
            &Input {
                seq,
                move_x: 127,
                ..Input::default()
            },
            1.0 / 60.0,
            &Arena::standard(),
        );
        expected = snap_player(&expected);
    }
    assert_eq!(x, expected.pos.x);
}
