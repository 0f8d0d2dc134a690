//! A headless player: each tick it aims at the nearest living player, keeps a fighting distance while
//! strafing (or, when hurt, runs for the nearest health pack it sees), fires when in range, and now and
//! then says something in chat. At the end it reports what it
//! saw as a [`BotReport`] (one JSON line from the binary).

use crate::session::{ClientError, Event, Session};
use arena_shared::Vec2;
use arena_shared::protocol::{ServerFrame, Snapshot};
use arena_shared::rules::{Input, buttons};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::Serialize;
use std::time::{Duration, Instant};

/// Lines a bot may say.
const CHAT_LINES: [&str; 5] = ["gg", "nice shot", "over here!", "who's camping?", "glhf"];
/// Chat lines a bot's report keeps.
pub const CHAT_HEARD: usize = 16;
/// Seconds between a bot's chat lines, on average.
const CHAT_EVERY_S: f64 = 8.0;
/// The bot fires at targets nearer than this, in units.
const FIRE_RANGE: f32 = 18.0;
/// Below this health the bot runs for the nearest health pack it sees.
const HURT_BELOW: u8 = 50;

/// How a bot plays.
#[derive(Debug, Clone)]
pub struct BotOptions {
    pub duration: Duration,
    /// Seed of the bot's decisions (strafing, chat).
    pub seed: u64,
    /// Whether it chats.
    pub chat: bool,
}

/// How long a client keeps trying to resume a lost connection (the server's default grace window).
pub const RESUME_FOR: Duration = Duration::from_secs(10);
/// Pause between two resume attempts.
const RESUME_RETRY: Duration = Duration::from_millis(300);

/// After a lost connection, tries to take the same player back until [`RESUME_FOR`] has passed. Returns the
/// new session, or the error that ended the trying (also for connections that may not be resumed).
pub async fn resume(session: &Session, why: String) -> Result<Session, ClientError> {
    if !session.can_resume() {
        return Err(ClientError::Closed(why));
    }
    let deadline = tokio::time::Instant::now() + RESUME_FOR;
    loop {
        tokio::time::sleep(RESUME_RETRY).await;
        match session.resume().await {
            Ok(new) => return Ok(new),
            Err(e) if tokio::time::Instant::now() >= deadline => return Err(e),
            Err(e) => tracing::info!(error = %e, "resume failed; trying again"),
        }
    }
}

/// What a bot saw, as printed by `arena-client --bot`.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct BotReport {
    pub snapshots: u64,
    pub snapshot_rate_hz: f64,
    pub players_seen_max: usize,
    pub chat_received: u64,
    /// The last [`CHAT_HEARD`] chat lines from other players, oldest first.
    pub chat_heard: Vec<String>,
    pub kills: u32,
    pub deaths: u32,
    pub rtt_ms: f64,
    /// Lost connections it resumed.
    pub reconnects: u32,
}

/// The bot's choice for one tick, from the newest snapshot.
pub fn decide(snapshot: Option<&Snapshot>, me: u32, strafe: f32) -> Input {
    let mut input = Input::default();
    let Some(snap) = snapshot else { return input };
    let Some(mine) = snap.players.iter().find(|p| p.id == me) else {
        return input;
    };
    let pos = mine.state.pos;
    let nearest = |p: Vec2, q: Vec2| p.distance(pos).total_cmp(&q.distance(pos));
    let hurt = mine.state.is_alive() && mine.state.health < HURT_BELOW;
    let pack = snap
        .health_packs
        .iter()
        .map(|h| h.pos)
        .filter(|_| hurt)
        .min_by(|a, b| nearest(*a, *b));
    let target = snap
        .players
        .iter()
        .filter(|p| p.id != me && p.state.is_alive())
        .min_by(|a, b| nearest(a.state.pos, b.state.pos));
    let dir = match (pack, target) {
        (Some(pack), _) => (pack - pos).clamp_length(1.0), // straight for it
        (None, Some(target)) => {
            let to = target.state.pos - pos;
            let dist = to.length();
            let toward = if dist > 0.0 { to * (1.0 / dist) } else { Vec2::ZERO };
            let side = Vec2::new(-toward.y, toward.x) * strafe;
            let approach = if dist > 10.0 {
                1.0
            } else if dist < 5.0 {
                -1.0
            } else {
                0.0
            };
            (toward * approach + side).clamp_length(1.0)
        }
        (None, None) => return input,
    };
    input.move_x = (dir.x * 127.0) as i8;
    input.move_y = (dir.y * 127.0) as i8;
    if let Some(target) = target {
        let to = target.state.pos - pos;
        input.aim = to.angle();
        if to.length() < FIRE_RANGE && mine.state.is_alive() {
            input.buttons |= buttons::FIRE;
        }
    }
    input
}

/// Plays for `options.duration`, then returns what it saw. Ends early with an error if the connection ends.
pub async fn run(session: &mut Session, options: &BotOptions) -> Result<BotReport, ClientError> {
    let mut rng = StdRng::seed_from_u64(options.seed);
    let tick_rate = u32::from(session.welcome().tick_rate.max(1));
    let mut me = session.player_id();
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + options.duration;
    let mut report = BotReport::default();
    let mut latest: Option<Snapshot> = None;
    let mut strafe = 1.0f32;
    let chat_chance = 1.0 / (CHAT_EVERY_S * f64::from(tick_rate));
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => break,
            // Each input when the session's input clock says (just ahead of the server's tick).
            _ = tokio::time::sleep_until(session.next_input_at().into()) => {
                if rng.random_bool(1.0 / f64::from(tick_rate)) {
                    strafe = -strafe; // about once a second
                }
                let sent = match session.send_input(decide(latest.as_ref(), me, strafe)) {
                    Ok(_) if options.chat && rng.random_bool(chat_chance) => {
                        session.send_chat(CHAT_LINES[rng.random_range(0..CHAT_LINES.len())]).await
                    }
                    other => other.map(|_| ()),
                };
                if let Err(e) = sent {
                    *session = resume(session, e.to_string()).await?;
                    report.reconnects += 1;
                    me = session.player_id();
                }
            }
            event = session.next_event() => match event {
                Some(Event::Snapshot(snap)) => {
                    report.snapshots += 1;
                    report.players_seen_max = report.players_seen_max.max(snap.players.len());
                    if latest.as_ref().is_none_or(|l| snap.tick > l.tick) {
                        latest = Some(snap);
                    }
                }
                Some(Event::Frame(ServerFrame::Chat { from, text })) if from != me => {
                    report.chat_received += 1;
                    if report.chat_heard.len() == CHAT_HEARD {
                        report.chat_heard.remove(0);
                    }
                    report.chat_heard.push(text);
                }
                Some(Event::Frame(ServerFrame::Killed { killer, victim })) => {
                    report.kills += u32::from(killer == me);
                    report.deaths += u32::from(victim == me);
                }
                Some(Event::Frame(_)) => {}
                Some(Event::Closed(reason)) => {
                    *session = resume(session, reason).await?;
                    report.reconnects += 1;
                    me = session.player_id();
                }
                None => {
                    *session = resume(session, "connection ended".into()).await?;
                    report.reconnects += 1;
                    me = session.player_id();
                }
            },
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    report.snapshot_rate_hz = if elapsed > 0.0 {
        report.snapshots as f64 / elapsed
    } else {
        0.0
    };
    report.rtt_ms = session.rtt().as_secs_f64() * 1e3;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arena_shared::protocol::{HealthPackSnapshot, PlayerSnapshot};
    use arena_shared::rules::PlayerState;

    fn player(id: u32, x: f32, y: f32) -> PlayerSnapshot {
        PlayerSnapshot {
            id,
            state: PlayerState::spawned(Vec2::new(x, y)),
            kills: 0,
            deaths: 0,
        }
    }

    #[test]
    fn the_bot_aims_at_and_fires_on_the_nearest_living_player() {
        let mut far = player(3, 10.0, 30.0);
        far.state.health = 100;
        let mut dead = player(4, 11.0, 10.0);
        dead.state.health = 0;
        let snap = Snapshot {
            tick: 1,
            last_input_seq: 0,
            input_margin: None,
            players: vec![player(1, 10.0, 10.0), player(2, 24.0, 10.0), far, dead],
            projectiles: vec![],
            health_packs: vec![],
        };
        let input = decide(Some(&snap), 1, 1.0);
        assert!(input.aim.abs() < 1e-6, "aims along +x at player 2: {}", input.aim);
        assert!(input.fire());
        assert!(input.move_x > 0, "closes in from 14 units");
    }

    #[test]
    fn a_hurt_bot_runs_for_the_nearest_health_pack_and_fires_on_the_way() {
        let mut me = player(1, 10.0, 10.0);
        let pack = |id, x, y| HealthPackSnapshot {
            id,
            pos: Vec2::new(x, y),
        };
        let mut snap = Snapshot {
            tick: 1,
            last_input_seq: 0,
            input_margin: None,
            players: vec![me, player(2, 24.0, 10.0)],
            projectiles: vec![],
            health_packs: vec![pack(0, 10.0, 30.0), pack(1, 10.0, 2.0)],
        };
        let unhurt = decide(Some(&snap), 1, 1.0);
        assert!(unhurt.move_x > 0, "unhurt, it closes in on player 2");
        me.state.health = 30;
        snap.players[0] = me;
        let hurt = decide(Some(&snap), 1, 1.0);
        assert_eq!(
            (hurt.move_x, hurt.move_y),
            (0, -127),
            "hurt, it runs for the pack 8 units below"
        );
        assert!(hurt.fire() && hurt.aim.abs() < 1e-6, "still firing at player 2");
        snap.health_packs.clear();
        assert!(decide(Some(&snap), 1, 1.0).move_x > 0, "no pack in sight: it fights on");
    }

    #[test]
    fn with_nobody_around_the_bot_stands_still() {
        let snap = Snapshot {
            tick: 1,
            last_input_seq: 0,
            input_margin: None,
            players: vec![player(1, 5.0, 5.0)],
            projectiles: vec![],
            health_packs: vec![],
        };
        assert_eq!(decide(Some(&snap), 1, 1.0), Input::default());
        assert_eq!(decide(None, 1, 1.0), Input::default());
    }
}
