//! The input buffer and the conduct record: order, bounds, the drain, the rules a client must keep.

use super::*;

fn inp(seq: u32) -> Input {
    Input {
        seq,
        ..Input::default()
    }
}

#[test]
fn too_fast_without_a_square_root_is_too_fast_with_one() {
    for x in i8::MIN..=i8::MAX {
        for y in i8::MIN..=i8::MAX {
            let with_root = f32::hypot(f32::from(x.max(-127)), f32::from(y.max(-127))) > 127.0 * 1.01;
            assert_eq!(too_fast(x, y), with_root, "{x} {y}");
        }
    }
}

#[test]
fn redundant_inputs_are_applied_once_and_in_order() {
    let mut b = InputBuffer::default();
    let mut applied = vec![];
    assert_eq!(b.accept(0, &[inp(1), inp(2)]).fresh, 2);
    b.select_for_tick();
    applied.extend(b.this_tick().iter().map(|i| i.seq));
    let a = b.accept(0, &[inp(1), inp(2), inp(3)]);
    assert_eq!((a.fresh, a.duplicate), (1, 2));
    for _ in 0..2 {
        b.select_for_tick();
        applied.extend(b.this_tick().iter().map(|i| i.seq));
    }
    assert_eq!(applied, vec![1, 2, 3]);
    assert_eq!(b.last_applied, 3);
}

#[test]
fn a_missing_input_repeats_the_last_one_without_counting_it_applied() {
    let mut b = InputBuffer::default();
    b.accept(
        0,
        &[Input {
            seq: 1,
            move_x: 127,
            ..Input::default()
        }],
    );
    b.select_for_tick();
    b.select_for_tick();
    assert_eq!(
        b.this_tick(),
        &[Input {
            seq: 1,
            move_x: 127,
            ..Input::default()
        }]
    );
    assert_eq!(b.last_applied, 1);
}

#[test]
fn a_backlog_is_applied_one_input_per_tick_each_exactly_once() {
    let mut b = InputBuffer::default();
    b.accept(0, &(1..=8).map(inp).collect::<Vec<_>>());
    let mut applied = vec![];
    for _ in 0..10 {
        b.select_for_tick();
        assert_eq!(b.this_tick().len(), MAX_INPUTS_PER_TICK);
        applied.push(b.last_applied);
    }
    assert_eq!(applied, vec![1, 2, 3, 4, 5, 6, 7, 8, 8, 8]);
}

#[test]
fn wild_sequence_jumps_and_nan_aims_are_refused() {
    let mut b = InputBuffer::default();
    let a = b.accept(
        0,
        &[
            inp(MAX_SEQ_JUMP + 5),
            Input {
                seq: 1,
                aim: f32::NAN,
                ..Input::default()
            },
        ],
    );
    assert_eq!((a.fresh, a.invalid), (0, 2));
    assert_eq!(b.invalid_total, 2);
}

#[test]
fn inputs_skipped_over_count_as_lost() {
    let mut b = InputBuffer::default();
    b.accept(0, &[inp(1), inp(2)]);
    assert_eq!(b.accept(0, &[inp(6), inp(7)]).lost, 3);
    assert_eq!(b.accept(0, &[inp(7), inp(8)]).lost, 0);
}

#[test]
fn a_buffer_that_stays_deep_drains_to_its_target_one_input_per_tick() {
    let mut b = InputBuffer::default();
    // A stall: twelve inputs arrive at once, then one per tick as before.
    b.accept(0, &(1..=12).map(inp).collect::<Vec<_>>());
    let mut drained = 0;
    let mut next = 13;
    for _ in 0..DRAIN_WINDOW_TICKS {
        b.accept(0, &[inp(next)]);
        next += 1;
        let before = b.last_applied;
        drained += b.select_for_tick();
        assert_eq!(b.this_tick().len(), 1);
        assert!(b.last_applied > before, "one new input a tick");
    }
    // Twelve waited after every pick of the window (one picked and one arriving each tick): all drained.
    assert_eq!(drained, 12);
    assert_eq!(b.pending_len(), TARGET_DEPTH);
    b.accept(0, &[inp(next)]);
    b.select_for_tick();
    assert_eq!(
        b.last_applied, next,
        "the newest input is applied on the tick it arrives for"
    );
}

#[test]
fn a_jittery_buffer_that_runs_dry_now_and_then_keeps_every_input() {
    let mut b = InputBuffer::default();
    let mut next = 1;
    let mut applied = vec![];
    // Inputs arrive 2, 0, 1, 1, 2, 0, … a tick: as many as ticks pass, some early, bunched by jitter.
    for t in 0..(DRAIN_WINDOW_TICKS * 8) {
        let arriving = [2, 0, 1, 1, 2, 0][t as usize % 6];
        for _ in 0..arriving {
            b.accept(0, &[inp(next)]);
            next += 1;
        }
        assert_eq!(b.select_for_tick(), 0, "tick {t}");
        applied.push(b.last_applied);
    }
    applied.dedup();
    assert_eq!(
        applied,
        (1..=b.last_applied).collect::<Vec<_>>(),
        "each applied once, in order"
    );
    assert_eq!(
        b.last_applied as usize + b.pending_len(),
        next as usize - 1,
        "the rest still waiting"
    );
}

#[test]
fn an_input_late_for_its_tick_goes_when_the_next_is_there() {
    let mut b = InputBuffer::default();
    b.accept(0, &[inp(1)]);
    assert_eq!(b.select_for_tick(), 0);
    assert_eq!(b.select_for_tick(), 0, "none came: 1 again");
    assert_eq!(b.last_applied, 1);
    b.accept(0, &[inp(2), inp(3)]);
    assert_eq!(b.select_for_tick(), 1, "2 came late, 3 on time: 2 dropped");
    assert_eq!(b.this_tick()[0].seq, 3);
    assert_eq!(b.pending_len(), 0);
    // Late alone, it is applied: the tick after it has the next one on time.
    assert_eq!(b.select_for_tick(), 0);
    b.accept(0, &[inp(4)]);
    assert_eq!(b.select_for_tick(), 0);
    assert_eq!(b.this_tick()[0].seq, 4);
}

#[test]
fn the_margin_is_the_wait_until_the_tick_that_applies_the_newest_input() {
    let tick = Duration::from_micros(16_667);
    let mut b = InputBuffer::default();
    assert_eq!(b.take_margin(), None);
    b.accept(0, &[inp(1)]);
    b.arrived(Duration::from_micros(2_340), tick);
    assert_eq!(b.take_margin(), Some(23), "applied by this tick: 2.3 ms");
    assert_eq!(b.take_margin(), None, "reported once");
    b.select_for_tick();
    b.accept(0, &[inp(2)]);
    b.arrived(Duration::from_micros(500), tick);
    b.accept(0, &[inp(3)]);
    b.arrived(Duration::from_micros(300), tick);
    assert_eq!(
        b.take_margin(),
        Some(5),
        "the least of the two (0.5 ms, and 0.3 ms plus a tick)"
    );
    b.select_for_tick();
    b.select_for_tick();
    b.accept(0, &[inp(4), inp(5), inp(6)]);
    b.arrived(Duration::from_micros(1_000), tick);
    assert_eq!(b.take_margin(), Some(343), "two inputs ahead of it: 1 ms and two ticks");
    b.arrived(Duration::from_secs(60), tick);
    assert_eq!(b.take_margin(), Some(i16::MAX), "saturated");
    b.take_margin();
    for _ in 0..4 {
        b.select_for_tick(); // 4, 5, 6, then none
    }
    b.accept(0, &[inp(7)]);
    b.arrived(Duration::from_micros(4_000), tick);
    assert_eq!(
        b.take_margin(),
        Some(-126),
        "late for the tick that found none, by 12.7 ms"
    );
}

#[test]
fn the_buffer_is_bounded() {
    let mut b = InputBuffer::default();
    let a = b.accept(0, &(1..=(MAX_PENDING_INPUTS as u32 + 4)).map(inp).collect::<Vec<_>>());
    assert_eq!(a.overflowed, 4);
    assert_eq!(b.pending_len(), MAX_PENDING_INPUTS);
}
