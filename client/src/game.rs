//! The client's picture of the game, built from what the server sends: who is here, scores, the kill feed,
//! chat, the player's own predicted character and everyone else interpolated, and the figures the HUD shows.
//! No terminal and no network here, so it is tested directly.

use crate::interp::Interpolator;
use crate::predict::Predictor;
use crate::session::Event;
use arena_shared::arena::Arena;
use arena_shared::protocol::{PlayerId, ServerFrame, Welcome};
use arena_shared::rules::{Input, PlayerState};
use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

/// Kill-feed lines kept.
pub const KILL_FEED_LINES: usize = 5;
/// Chat lines kept.
pub const CHAT_LINES: usize = 200;

/// One chat line as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatLine {
    pub from: String,
    pub text: String,
}

/// A scoreboard row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreRow {
    pub id: PlayerId,
    pub name: String,
    pub kills: u32,
    pub deaths: u32,
}

/// Everything the client knows about the game.
#[derive(Debug)]
pub struct ClientGame {
    pub me: PlayerId,
    pub arena: Arena,
    pub tick_rate: u16,
    pub names: BTreeMap<PlayerId, String>,
    scores: BTreeMap<PlayerId, (u32, u32)>,
    /// The server's newest word on this player (health, respawn timer).
    pub server_me: Option<PlayerState>,
    pub kill_feed: VecDeque<String>,
    pub chat: VecDeque<ChatLine>,
    pub predictor: Predictor,
    pub interp: Interpolator,
    /// The newest server tick received.
    pub server_tick: u32,
    first_tick: Option<u32>,
    snapshots: u64,
    /// Prediction errors (units) seen at reconciliation, newest last, bounded.
    pub prediction_errors: VecDeque<f32>,
}

impl ClientGame {
    pub fn new(welcome: &Welcome, interp_delay: Duration, epoch: Instant) -> Self {
        Self {
            me: welcome.player_id,
            arena: welcome.arena.clone(),
            tick_rate: welcome.tick_rate,
            names: BTreeMap::new(),
            scores: BTreeMap::new(),
            server_me: None,
            kill_feed: VecDeque::new(),
            chat: VecDeque::new(),
            predictor: Predictor::new(welcome.arena.clone(), welcome.tick_rate),
            interp: Interpolator::new(welcome.tick_rate, interp_delay, epoch),
            server_tick: 0,
            first_tick: None,
            snapshots: 0,
            prediction_errors: VecDeque::new(),
        }
    }

    /// The default interpolation delay: about two snapshot intervals.
    pub fn default_interp_delay(tick_rate: u16) -> Duration {
        Duration::from_secs_f64(2.0 / f64::from(tick_rate.max(1)))
    }

    pub fn name(&self, id: PlayerId) -> String {
        self.names.get(&id).cloned().unwrap_or_else(|| format!("#{id}"))
    }

    /// Takes one event; returns the reason when it says the connection is over.
    pub fn on_event(&mut self, event: Event, now: Instant) -> Option<String> {
        match event {
            Event::Snapshot(snap) => {
                if snap.tick <= self.server_tick {
                    return None;
                }
                self.server_tick = snap.tick;
                self.first_tick.get_or_insert(snap.tick);
                self.snapshots += 1;
                // Players out of view keep their last known score (they leave the table only when they leave).
                self.scores
                    .extend(snap.players.iter().map(|p| (p.id, (p.kills, p.deaths))));
                if let Some(mine) = snap.players.iter().find(|p| p.id == self.me) {
                    self.server_me = Some(mine.state);
                    if let Some(e) = self.predictor.reconcile(&mine.state, snap.last_input_seq) {
                        if self.prediction_errors.len() == 1_000 {
                            self.prediction_errors.pop_front();
                        }
                        self.prediction_errors.push_back(e);
                    }
                }
                self.interp.push(snap, now);
            }
            Event::Frame(frame) => self.on_frame(frame),
            Event::Closed(reason) => return Some(reason),
        }
        None
    }

    fn on_frame(&mut self, frame: ServerFrame) {
        match frame {
            ServerFrame::PlayerJoined { id, name } => {
                self.names.insert(id, name);
            }
            ServerFrame::PlayerLeft { id } => {
                self.names.remove(&id);
                self.scores.remove(&id);
            }
            ServerFrame::Killed { killer, victim } => {
                if self.kill_feed.len() == KILL_FEED_LINES {
                    self.kill_feed.pop_front();
                }
                let line = format!("{} ✖ {}", self.name(killer), self.name(victim));
                self.kill_feed.push_back(line);
            }
            ServerFrame::Chat { from, text } => {
                if self.chat.len() == CHAT_LINES {
                    self.chat.pop_front();
                }
                self.chat.push_back(ChatLine {
                    from: self.name(from),
                    text,
                });
            }
            ServerFrame::Welcome(_) | ServerFrame::Reject { .. } | ServerFrame::Kick { .. } => {}
        }
    }

    /// An input was just sent: predict it.
    pub fn on_input_sent(&mut self, input: Input) {
        self.predictor.apply_local(input);
    }

    /// Fraction of server ticks since the first snapshot whose snapshot never arrived.
    pub fn snapshot_loss(&self) -> f64 {
        match self.first_tick {
            Some(first) if self.server_tick > first => {
                let expected = f64::from(self.server_tick - first + 1);
                (1.0 - self.snapshots as f64 / expected).max(0.0)
            }
            _ => 0.0,
        }
    }

    /// Scoreboard rows, best first.
    pub fn scoreboard(&self) -> Vec<ScoreRow> {
        let mut rows: Vec<ScoreRow> = self
            .names
            .iter()
            .map(|(id, name)| {
                let (kills, deaths) = self.scores.get(id).copied().unwrap_or((0, 0));
                ScoreRow {
                    id: *id,
                    name: name.clone(),
                    kills,
                    deaths,
                }
            })
            .collect();
        rows.sort_by(|a, b| {
            b.kills
                .cmp(&a.kills)
                .then(a.deaths.cmp(&b.deaths))
                .then(a.id.cmp(&b.id))
        });
        rows
    }

    /// This player's kills and deaths.
    pub fn my_score(&self) -> (u32, u32) {
        self.scores.get(&self.me).copied().unwrap_or((0, 0))
    }
}
