//! Phase 5c: the room's match loop. Warm-up (until enough players are in, or its time passes with someone
//! in) → a match (until its time or score limit) → the results (the final scoreboard and the winner to
//! everyone) → warm-up again, scores reset, players stay. Kills count in every phase; only a match's are
//! kept in its results, since scores are reset when a match starts.

use super::outgoing::broadcast;
use crate::game::components::{Player, Score};
use crate::game::config::MatchConfig;
use crate::game::resources::{Outbox, Settings, TickCount, ticks_in};
use arena_shared::protocol::{MAX_RESULT_LINES, MatchPhase, MatchState, ResultLine, Results, ServerFrame};
use bevy_ecs::prelude::*;

/// A [`MatchConfig`] in ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatchTicks {
    pub min_players: usize,
    pub warmup: u32,
    /// Zero: no time limit.
    pub length: u32,
    /// Zero: no score limit.
    pub score_limit: u32,
    pub results: u32,
}

impl MatchTicks {
    pub fn new(config: MatchConfig, tick_rate: u16) -> Self {
        Self {
            min_players: usize::from(config.min_players.max(1)),
            warmup: ticks_in(config.warmup, tick_rate),
            length: ticks_in(config.length, tick_rate),
            score_limit: config.score_limit,
            results: ticks_in(config.results, tick_rate),
        }
    }
}

/// Where the room's match is: its phase and the tick that ends it (0: no end of its own).
#[derive(Resource, Debug, Default, Clone, Copy)]
pub struct Match {
    pub phase: MatchPhase,
    pub ends_at: u32,
}

impl Match {
    /// The state as clients are told it at `tick` of a world ticking `tick_rate` times a second.
    pub fn state(&self, tick: u32, tick_rate: u16) -> MatchState {
        let ticks_left = if self.ends_at == 0 {
            0
        } else {
            self.ends_at.saturating_sub(tick)
        };
        MatchState {
            phase: self.phase,
            secs_left: ticks_left
                .div_ceil(u32::from(tick_rate.max(1)))
                .min(u32::from(u16::MAX)) as u16,
        }
    }
}

/// Moves the match on, telling every player of each change (and of the results when a match ends).
pub fn run_match(
    settings: Res<Settings>,
    tick: Res<TickCount>,
    mut current: ResMut<Match>,
    mut scores: Query<(&Player, &mut Score)>,
    mut outbox: ResMut<Outbox>,
) {
    let rules = settings.matches;
    let (now, players) = (tick.0, scores.iter().len());
    let next = match current.phase {
        MatchPhase::WarmUp if players == 0 => {
            // Nobody is in: the warm-up's clock waits for someone.
            current.ends_at = 0;
            None
        }
        MatchPhase::WarmUp if current.ends_at == 0 && players < rules.min_players => {
            // Someone is in: the warm-up's clock starts, and everyone is told how long it runs.
            current.ends_at = now + rules.warmup.max(1);
            let state = current.state(now, settings.tick_rate);
            broadcast(&mut outbox.0, &ServerFrame::Match(state));
            None
        }
        MatchPhase::WarmUp if players >= rules.min_players || now >= current.ends_at => Some(MatchPhase::Playing),
        MatchPhase::Playing if players == 0 => Some(MatchPhase::WarmUp),
        MatchPhase::Playing if reached(&rules, now, current.ends_at, &scores) => Some(MatchPhase::Results),
        MatchPhase::Results if now >= current.ends_at => Some(MatchPhase::WarmUp),
        _ => None,
    };
    let Some(phase) = next else {
        return;
    };
    if phase == MatchPhase::Results {
        broadcast(&mut outbox.0, &ServerFrame::Results(results(&scores)));
    } else {
        for (_, mut score) in &mut scores {
            *score = Score::default();
        }
    }
    let length = match phase {
        MatchPhase::WarmUp => 0,
        MatchPhase::Playing => rules.length,
        MatchPhase::Results => rules.results.max(1),
    };
    *current = Match {
        phase,
        ends_at: if length == 0 { 0 } else { now + length },
    };
    broadcast(
        &mut outbox.0,
        &ServerFrame::Match(current.state(now, settings.tick_rate)),
    );
}

/// Whether the match is over at `now`: its time is up, or someone reached the score limit.
fn reached(rules: &MatchTicks, now: u32, ends_at: u32, scores: &Query<(&Player, &mut Score)>) -> bool {
    (ends_at != 0 && now >= ends_at)
        || (rules.score_limit != 0 && scores.iter().any(|(_, s)| s.kills >= rules.score_limit))
}

/// The final scoreboard, the best first (most kills, then fewest deaths, then the lowest id), and the
/// winner: the best, when it scored and is ahead of the second on kills and deaths.
pub fn results(scores: &Query<(&Player, &mut Score)>) -> Results {
    let mut lines: Vec<ResultLine> = scores
        .iter()
        .map(|(p, s)| ResultLine {
            id: p.id,
            kills: s.kills,
            deaths: s.deaths,
        })
        .collect();
    lines.sort_unstable_by_key(|l| (std::cmp::Reverse(l.kills), l.deaths, l.id));
    lines.truncate(MAX_RESULT_LINES);
    let winner = match lines.as_slice() {
        [best, second, ..] if best.kills == second.kills && best.deaths == second.deaths => None,
        [best, ..] if best.kills > 0 => Some(best.id),
        _ => None,
    };
    Results { lines, winner }
}
