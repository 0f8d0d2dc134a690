//! The client's picture of the game, built from what the server sends: who is here, scores, the kill feed,
//! chat, the player's own predicted character and everyone else interpolated, and the figures the HUD shows.
//! No terminal and no network here, so it is tested directly.

use crate::interp::Interpolator;
use crate::predict::Predictor;
use crate::session::Event;
use crate::shots::Shots;
use arena_shared::arena::Arena;
use arena_shared::protocol::{MatchPhase, MatchState, PlayerId, Results, RoomCode, RoomList, ServerFrame, Welcome};
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
    /// Snapshots per second the server sends this client (from `Welcome`, at least 1, at most `tick_rate`).
    pub snapshot_rate: u16,
    pub names: BTreeMap<PlayerId, String>,
    scores: BTreeMap<PlayerId, (u32, u32)>,
    /// The server's newest word on this player (health, respawn timer).
    pub server_me: Option<PlayerState>,
    pub kill_feed: VecDeque<String>,
    pub chat: VecDeque<ChatLine>,
    pub predictor: Predictor,
    /// This player's shots, drawn from the moment they are fired.
    pub shots: Shots,
    pub interp: Interpolator,
    /// The newest server tick received.
    pub server_tick: u32,
    first_tick: Option<u32>,
    snapshots: u64,
    /// Prediction errors (units) seen at reconciliation, newest last, bounded.
    pub prediction_errors: VecDeque<f32>,
    /// The room this player is in (its code is what friends join by).
    pub room: RoomCode,
    /// The room's match, as last told, and when.
    pub match_state: MatchState,
    match_told: Instant,
    /// The last match's results (shown while the room is in its results phase).
    pub results: Option<Results>,
    /// The public rooms, when asked for.
    pub rooms: Option<RoomList>,
    /// When the server said it closes this room at the latest (it drains).
    pub closing_at: Option<Instant>,
}

impl ClientGame {
    pub fn new(welcome: &Welcome, interp_delay: Duration, epoch: Instant) -> Self {
        Self {
            me: welcome.player_id,
            arena: welcome.arena.clone(),
            tick_rate: welcome.tick_rate,
            snapshot_rate: snapshot_rate(welcome),
            names: BTreeMap::new(),
            scores: BTreeMap::new(),
            server_me: None,
            kill_feed: VecDeque::new(),
            chat: VecDeque::new(),
            predictor: Predictor::new(welcome.arena.clone(), welcome.tick_rate),
            shots: Shots::new(welcome.arena.clone(), welcome.tick_rate),
            interp: Interpolator::new(welcome.tick_rate, interp_delay, epoch),
            server_tick: 0,
            first_tick: None,
            snapshots: 0,
            prediction_errors: VecDeque::new(),
            room: welcome.room.clone(),
            match_state: MatchState::default(),
            match_told: epoch,
            results: None,
            rooms: None,
            closing_at: None,
        }
    }

    /// Whole seconds left in the match's phase at `now`, counted down from what the server last said (0 when
    /// the phase has no end of its own).
    pub fn secs_left(&self, now: Instant) -> u16 {
        let passed = now.saturating_duration_since(self.match_told).as_secs();
        u64::from(self.match_state.secs_left).saturating_sub(passed) as u16
    }

    /// The results to show now: the last match's, while the room shows its results.
    pub fn results_shown(&self) -> Option<&Results> {
        self.results
            .as_ref()
            .filter(|_| self.match_state.phase == MatchPhase::Results)
    }

    /// The default interpolation delay: two intervals between the snapshots the server sends (the rate in
    /// its `Welcome`), so one late or lost snapshot still leaves one to draw towards.
    pub fn default_interp_delay(welcome: &Welcome) -> Duration {
        Duration::from_secs_f64(2.0 / f64::from(snapshot_rate(welcome)))
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
                self.shots.on_snapshot(&snap, self.me);
                self.interp.push(snap, now);
            }
            Event::Frame(frame) => self.on_frame(frame, now),
            Event::Closed(reason) => return Some(reason),
        }
        None
    }

    fn on_frame(&mut self, frame: ServerFrame, now: Instant) {
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
                let from = self.name(from);
                self.chat_line(from, text);
            }
            ServerFrame::Notice { text } => self.chat_line("server".into(), text),
            ServerFrame::Match(state) => {
                if state.phase != MatchPhase::Results {
                    // A new warm-up or match: the server reset every score.
                    for score in self.scores.values_mut() {
                        *score = (0, 0);
                    }
                }
                self.match_state = state;
                self.match_told = now;
            }
            ServerFrame::Results(results) => self.results = Some(results),
            ServerFrame::Rooms(list) => self.rooms = Some(list),
            ServerFrame::Closing { secs } => {
                self.closing_at = Some(now + Duration::from_secs(u64::from(secs)));
            }
            ServerFrame::Welcome(_) | ServerFrame::Reject { .. } | ServerFrame::Kick { .. } => {}
        }
    }

    /// Adds a line to the chat, forgetting the oldest beyond [`CHAT_LINES`].
    fn chat_line(&mut self, from: String, text: String) {
        if self.chat.len() == CHAT_LINES {
            self.chat.pop_front();
        }
        self.chat.push_back(ChatLine { from, text });
    }

    /// An input was just sent at `now`: predict it, and the shot it fires.
    pub fn on_input_sent(&mut self, input: Input, now: Instant) {
        if let Some(shot) = self.predictor.apply_local(input) {
            self.shots.fired(input.seq, shot, now);
        }
    }

    /// Fraction of the snapshots sent since the first one received that never arrived.
    pub fn snapshot_loss(&self) -> f64 {
        match self.first_tick {
            Some(first) if self.server_tick > first => {
                let per_tick = f64::from(self.snapshot_rate) / f64::from(self.tick_rate.max(1));
                let expected = f64::from(self.server_tick - first) * per_tick + 1.0;
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

/// The snapshot rate `welcome` announces, kept between 1 and the tick rate whatever the server said.
fn snapshot_rate(welcome: &Welcome) -> u16 {
    welcome.snapshot_rate.clamp(1, welcome.tick_rate.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arena_shared::protocol::Snapshot;

    fn welcome(tick_rate: u16, snapshot_rate: u16) -> Welcome {
        Welcome {
            player_id: 1,
            tick_rate,
            snapshot_rate,
            arena: Arena::standard(),
            session_token: [0; 16],
            room: arena_shared::protocol::RoomCode::from_indices([0; 5]),
            map: "standard".into(),
            mode: arena_shared::protocol::Mode::Deathmatch,
        }
    }

    #[test]
    fn others_are_drawn_two_snapshot_intervals_back() {
        let ms =
            |tick_rate, snapshot_rate| ClientGame::default_interp_delay(&welcome(tick_rate, snapshot_rate)).as_millis();
        assert_eq!(ms(60, 20), 100, "20 Hz snapshots: 2 × 50 ms");
        assert_eq!(ms(60, 60), 33);
        assert_eq!(ms(120, 30), 66);
        // A nonsense rate from the server is kept within 1 and the tick rate.
        assert_eq!(ms(60, 0), 2_000);
        assert_eq!(ms(60, 600), 33);
    }

    #[test]
    fn loss_counts_the_snapshots_sent_not_the_ticks() {
        let epoch = Instant::now();
        let mut game = ClientGame::new(&welcome(60, 20), Duration::from_millis(100), epoch);
        let snapshot = |tick| Snapshot {
            tick,
            last_input_seq: 0,
            input_margin: None,
            players: vec![],
            projectiles: vec![],
            health_packs: vec![],
        };
        // Every third tick, all of them: nothing lost.
        for tick in (3..=300).step_by(3) {
            game.on_event(Event::Snapshot(snapshot(tick)), epoch);
        }
        assert!(game.snapshot_loss() < 1e-9, "{}", game.snapshot_loss());
        // Then only every other one of the next 100.
        for tick in (306..=600).step_by(6) {
            game.on_event(Event::Snapshot(snapshot(tick)), epoch);
        }
        assert!((game.snapshot_loss() - 0.25).abs() < 0.01, "{}", game.snapshot_loss());
    }
}
