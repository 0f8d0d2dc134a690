//! Lag compensation, measured: through the relay at 100 ms RTT, a scripted shooter aims at a strafing target
//! where its screen draws it (interpolated, leading it by the projectile's flight as it sees it move) and
//! fires; the target's own snapshots count the hits. With compensation (the default) at least 90% hit;
//! without, the shooter would have to lead by its ping too, and most miss.

use arena_client::game::ClientGame;
use arena_client::{Event, Session};
use arena_e2e::{options, start_server};
use arena_relay::{LinkConfig, RelayConfig};
use arena_shared::Vec2;
use arena_shared::arena::Arena;
use arena_shared::rules::BLASTER;
use arena_shared::rules::{Input, MAX_SPEED, PLAYER_RADIUS, buttons};
use std::time::{Duration, Instant};

/// The target walks right to this x, then strafes up and down in legs of `LEG`.
const LANE_X: f32 = 12.0;
const LEG: Duration = Duration::from_millis(1_100);
/// The shooter fires early in a leg only, so its projectile arrives before the target turns.
const FIRE_WITHIN_LEG: Duration = Duration::from_millis(400);
const PLAY: Duration = Duration::from_secs(18);

/// Shots fired and hits taken, as the two players saw them.
#[derive(Debug, Default)]
struct Tally {
    shots: u32,
    hits: u32,
}

async fn session_via(
    relay: &arena_relay::Relay,
    server: &arena_server::RunningServer,
    name: &str,
) -> anyhow::Result<Session> {
    let mut o = options(server, name)?;
    o.server = relay.local_addr();
    Ok(Session::connect(&o).await?)
}

/// Plays the target: to the lane, then up and down; counts the hits it takes from its own health.
async fn target(mut s: Session) -> anyhow::Result<u32> {
    let me = s.player_id();
    let deadline = tokio::time::Instant::now() + PLAY;
    let (mut hits, mut health, mut pos) = (0u32, None::<u8>, Vec2::ZERO);
    // The legs start when the target reaches the lane (after each respawn too): every leg is a whole one.
    let mut in_lane_since = None::<Instant>;
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => break,
            _ = tokio::time::sleep_until(s.next_input_at().into()) => {
                in_lane_since = if pos.x < LANE_X { None } else { in_lane_since.or(Some(Instant::now())) };
                let input = match in_lane_since {
                    None => Input { move_x: 127, ..Input::default() },
                    Some(since) => {
                        let up = (since.elapsed().as_millis() / LEG.as_millis()).is_multiple_of(2);
                        Input { move_y: if up { 127 } else { -127 }, ..Input::default() }
                    }
                };
                s.send_input(input)?;
            }
            event = s.next_event() => match event {
                Some(Event::Snapshot(snap)) => {
                    if let Some(mine) = snap.players.iter().find(|p| p.id == me) {
                        let h = mine.state.health;
                        if let Some(before) = health && h < before {
                            hits += u32::from(before - h).div_ceil(u32::from(BLASTER.damage));
                        }
                        health = Some(h);
                        pos = mine.state.pos;
                    }
                }
                Some(Event::Closed(reason)) => anyhow::bail!("target closed: {reason}"),
                None => anyhow::bail!("target's connection ended"),
                _ => {}
            }
        }
    }
    s.close().await;
    Ok(hits)
}

/// Plays the shooter: stands still, and early in each leg of the target (as drawn) fires at where the target
/// is drawn plus its drawn velocity times the projectile's flight.
async fn shooter(mut s: Session) -> anyhow::Result<u32> {
    let mut game = ClientGame::new(
        s.welcome(),
        ClientGame::default_interp_delay(s.welcome()),
        Instant::now(),
    );
    let deadline = tokio::time::Instant::now() + PLAY;
    // The last shot lands (and is counted by the target) before the end.
    let last_call = Instant::now() + PLAY - Duration::from_secs(1);
    let (mut shots, mut last_shot, mut leg_since) = (0u32, None::<Instant>, None::<(bool, Instant)>);
    let mut recent: Vec<Instant> = Vec::new();
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => break,
            _ = tokio::time::sleep_until(s.next_input_at().into()) => {
                let now = Instant::now();
                let mut input = Input::default();
                let me = game.me;
                let drawn = |at: Instant| game.interp.players(at, me).first().map(|(_, p)| p.pos);
                let here = game.predictor.display_pos();
                if let (Some(p), Some(q), Some(here)) = (drawn(now), drawn(now - Duration::from_millis(20)), here) {
                    let v = (p - q) * 50.0;
                    let steady = v.length() > MAX_SPEED * 0.9 && v.x.abs() < 1.0 && p.x >= LANE_X - 0.5;
                    let up = v.y > 0.0;
                    leg_since = match leg_since {
                        Some((was_up, since)) if steady && was_up == up => Some((was_up, since)),
                        _ if steady => Some((up, now)),
                        _ => None,
                    };
                    let early = leg_since.is_some_and(|(_, since)| now - since < FIRE_WITHIN_LEG);
                    let ready = last_shot.is_none_or(|t| now - t > Duration::from_millis(300));
                    // No shot at a target that the shots on their way will already have killed.
                    let health = game.interp.newest().and_then(|n| n.players.iter().find(|t| t.id != me)).map_or(0, |t| t.state.health);
                    recent.retain(|t| now - *t < Duration::from_millis(800));
                    let alive_then = u32::from(health) > u32::from(BLASTER.damage) * recent.len() as u32;
                    let ready = ready && alive_then && now < last_call;
                    if early && ready {
                        // Where the drawn target will be when the shot, leaving the muzzle, gets there.
                        let muzzle = PLAYER_RADIUS + BLASTER.radius + 0.05;
                        let mut aim_at = p;
                        for _ in 0..3 {
                            let flight = ((aim_at - here).length() - muzzle).max(0.0) / BLASTER.speed;
                            aim_at = p + v * flight;
                        }
                        input.aim = (aim_at.y - here.y).atan2(aim_at.x - here.x);
                        input.buttons = buttons::FIRE;
                        shots += 1;
                        last_shot = Some(now);
                        recent.push(now);
                    }
                }
                game.on_input_sent(s.send_input(input)?, Instant::now());
            }
            event = s.next_event() => {
                let Some(event) = event else { anyhow::bail!("shooter's connection ended") };
                if let Some(reason) = game.on_event(event, Instant::now()) {
                    anyhow::bail!("shooter closed: {reason}");
                }
            }
        }
    }
    s.close().await;
    Ok(shots)
}

/// One server (with compensation up to `compensation`) behind a 100 ms RTT relay, a shooter and a target.
async fn play(compensation: Duration) -> anyhow::Result<Tally> {
    let open = Arena {
        width: 40.0,
        height: 30.0,
        walls: vec![],
        spawn_points: vec![Vec2::new(5.0, 15.0)],
        health_packs: vec![],
    };
    let server = start_server(|c| {
        c.arena = open;
        c.lag_compensation_ms = compensation.as_millis() as u64;
    })
    .await?;
    let relay = arena_relay::start(RelayConfig {
        listen: "127.0.0.1:0".parse()?,
        to: server.local_addr,
        link: LinkConfig {
            delay: Duration::from_millis(50),
            ..LinkConfig::default()
        },
        seed: 3,
    })
    .await?;
    let (a, b) = (
        session_via(&relay, &server, "shooter").await?,
        session_via(&relay, &server, "target").await?,
    );
    let (shots, hits) = tokio::join!(shooter(a), target(b));
    server.shutdown().await;
    Ok(Tally {
        shots: shots?,
        hits: hits?,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shooter_at_100_ms_rtt_hits_what_it_sees() -> anyhow::Result<()> {
    let (with, without) = tokio::join!(play(Duration::from_millis(250)), play(Duration::ZERO));
    let (with, without) = (with?, without?);
    let rate = |t: &Tally| f64::from(t.hits) / f64::from(t.shots.max(1));
    eprintln!(
        "at 100 ms RTT: with lag compensation {} of {} shots hit ({:.0}%), without {} of {} ({:.0}%)",
        with.hits,
        with.shots,
        100.0 * rate(&with),
        without.hits,
        without.shots,
        100.0 * rate(&without)
    );
    assert!(
        with.shots >= 10 && without.shots >= 10,
        "enough shots: {with:?} {without:?}"
    );
    assert!(rate(&with) >= 0.9, "with compensation: {with:?}");
    assert!(
        rate(&without) < rate(&with),
        "compensation made the difference: {without:?}"
    );
    Ok(())
}
