//! A room's match loop in the simulation: warm-up until enough players (or its time), a match until its
//! score or time limit, the results to everyone, then the next match with scores reset.

use super::*;
use arena_shared::protocol::{MatchPhase, MatchState, ResultLine, Results};
use std::time::Duration;

/// 10 ticks a second: warm-up 1 s, matches of 3 s or 2 kills, results 1 s; two players start a match.
fn room() -> Sim {
    let mut s = Sim::new(SimConfig {
        tick_rate: 10,
        seed: 5,
        arena: open_arena(),
    });
    s.set_matches(MatchConfig {
        min_players: 2,
        warmup: Duration::from_secs(1),
        length: Duration::from_secs(3),
        score_limit: 2,
        results: Duration::from_secs(1),
    });
    s
}

/// The match states and results broadcast in `out`.
fn told(out: &Out) -> (Vec<MatchState>, Vec<Results>) {
    let mut states = Vec::new();
    let mut results = Vec::new();
    for (to, frame) in &out.frames {
        match (to, frame) {
            (None, ServerFrame::Match(state)) => states.push(*state),
            (None, ServerFrame::Results(r)) => results.push(r.clone()),
            _ => {}
        }
    }
    (states, results)
}

fn set_kills(s: &mut Sim, id: u32, kills: u32) {
    let world = s.world_mut();
    let mut scores = world.query::<(&components::Player, &mut components::Score)>();
    for (player, mut score) in scores.iter_mut(world) {
        if player.id == id {
            score.kills = kills;
        }
    }
}

fn kills_of(s: &mut Sim, id: u32) -> u32 {
    let world = s.world_mut();
    let mut scores = world.query::<(&components::Player, &components::Score)>();
    let found = scores.iter(world).find(|(p, _)| p.id == id);
    found.map_or(u32::MAX, |(_, score)| score.kills)
}

/// Ticks until a match state is broadcast (at most `ticks`), and returns it with the tick it came at.
fn next_state(s: &mut Sim, ticks: u32) -> Option<(u32, MatchState, Vec<Results>)> {
    for _ in 0..ticks {
        let out = step(s);
        let (states, results) = told(&out);
        if let Some(state) = states.last() {
            return Some((s.tick_count(), *state, results));
        }
    }
    None
}

#[test]
fn a_lone_player_warms_up_until_the_time_passes_and_a_second_starts_the_match_at_once() {
    let mut s = room();
    join(&mut s, 1, "ada");
    let out = step(&mut s);
    let to_ada: Vec<&ServerFrame> = out
        .frames
        .iter()
        .filter(|(c, _)| *c == Some(ClientId(1)))
        .map(|(_, f)| f)
        .collect();
    assert!(
        to_ada
            .iter()
            .any(|f| matches!(f, ServerFrame::Match(m) if m.phase == MatchPhase::WarmUp)),
        "a joiner is told the match's state: {to_ada:?}"
    );
    let (states, _) = told(&out);
    let warmup = MatchState {
        phase: MatchPhase::WarmUp,
        secs_left: 1,
    };
    assert_eq!(states, vec![warmup], "the warm-up's clock starts with someone in");
    let (tick, playing, _) = next_state(&mut s, 20).expect("the warm-up ends");
    assert_eq!((playing.phase, playing.secs_left), (MatchPhase::Playing, 3));
    assert_eq!(tick, 11, "1 s of warm-up from tick 1");

    let mut s = room();
    join(&mut s, 1, "ada");
    step(&mut s);
    step(&mut s);
    join(&mut s, 2, "bob");
    let (tick, playing, _) = next_state(&mut s, 3).expect("two players start the match");
    assert_eq!((tick, playing.phase), (3, MatchPhase::Playing));
    assert_eq!(s.match_state().phase, MatchPhase::Playing);
}

#[test]
fn the_score_limit_ends_the_match_with_results_then_the_next_match_starts_with_scores_reset() {
    let mut s = room();
    join(&mut s, 1, "ada");
    join(&mut s, 2, "bob");
    let (_, playing, _) = next_state(&mut s, 3).expect("the match starts");
    assert_eq!(playing.phase, MatchPhase::Playing);
    set_kills(&mut s, 2, 2);
    set_kills(&mut s, 1, 1);
    let (_, over, results) = next_state(&mut s, 2).expect("the score limit ends the match");
    assert_eq!((over.phase, over.secs_left), (MatchPhase::Results, 1));
    assert_eq!(
        results,
        vec![Results {
            lines: vec![
                ResultLine {
                    id: 2,
                    kills: 2,
                    deaths: 0
                },
                ResultLine {
                    id: 1,
                    kills: 1,
                    deaths: 0
                },
            ],
            winner: Some(2),
        }]
    );
    let (_, warmup, _) = next_state(&mut s, 20).expect("the results end");
    assert_eq!(warmup.phase, MatchPhase::WarmUp);
    assert_eq!((kills_of(&mut s, 1), kills_of(&mut s, 2)), (0, 0), "scores reset");
    let (_, again, _) = next_state(&mut s, 2).expect("the next match starts, the players stayed");
    assert_eq!(again.phase, MatchPhase::Playing);
}

#[test]
fn the_time_limit_ends_a_match_nobody_won_and_an_empty_room_warms_up_again() {
    let mut s = room();
    join(&mut s, 1, "ada");
    join(&mut s, 2, "bob");
    let (start, _, _) = next_state(&mut s, 3).expect("the match starts");
    let (end, over, results) = next_state(&mut s, 40).expect("the time limit ends the match");
    assert_eq!(over.phase, MatchPhase::Results);
    assert_eq!(end - start, 30, "3 s at 10 ticks a second");
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].winner, None, "nobody scored: {:?}", results[0]);

    let (_, warmup, _) = next_state(&mut s, 20).expect("the results end");
    assert_eq!(warmup.phase, MatchPhase::WarmUp);
    next_state(&mut s, 2).expect("the next match starts");
    s.push(Inbound::Leave { client: ClientId(1) });
    s.push(Inbound::Leave { client: ClientId(2) });
    let (_, empty, _) = next_state(&mut s, 2).expect("an empty room stops its match");
    assert_eq!((empty.phase, empty.secs_left), (MatchPhase::WarmUp, 0));
}

#[test]
fn a_tie_has_no_winner() {
    let mut s = room();
    join(&mut s, 1, "ada");
    join(&mut s, 2, "bob");
    next_state(&mut s, 3).expect("the match starts");
    set_kills(&mut s, 1, 2);
    set_kills(&mut s, 2, 2);
    let (_, _, results) = next_state(&mut s, 2).expect("the score limit ends the match");
    assert_eq!(results[0].winner, None);
}
