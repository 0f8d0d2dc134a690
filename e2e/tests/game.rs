//! End to end on 127.0.0.1 over real QUIC: joining, seeing each other, chat, combat, leaving.

use arena_client::Event;
use arena_client::bot::{self, BotOptions};
use arena_e2e::{hold_input, join, join_all, start_server, wait_for};
use arena_shared::Vec2;
use arena_shared::arena::Arena;
use arena_shared::protocol::ServerFrame;
use arena_shared::rules::{Input, buttons};
use std::time::Duration;

const SECOND: Duration = Duration::from_secs(1);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_clients_join_and_each_sees_all_others_within_two_seconds() -> anyhow::Result<()> {
    let server = start_server(|_| {}).await?;
    let mut sessions = Vec::new();
    for i in 0..8 {
        sessions.push(join(&server, &format!("p{i}")).await?);
    }
    let waits = sessions.iter_mut().map(|s| {
        wait_for(s, 2 * SECOND, |e| match e {
            Event::Snapshot(snap) if snap.players.len() == 8 => Some(()),
            _ => None,
        })
    });
    for result in join_all(waits).await {
        result?;
    }
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_is_sent_the_health_packs_of_the_map_it_was_welcomed_to() -> anyhow::Result<()> {
    let server = start_server(|_| {}).await?;
    let mut session = join(&server, "medic").await?;
    let map = session.welcome().arena.health_packs.clone();
    assert!(!map.is_empty(), "the default map has health packs");
    let seen = wait_for(&mut session, 2 * SECOND, |e| match e {
        Event::Snapshot(snap) if !snap.health_packs.is_empty() => Some(snap.health_packs.clone()),
        _ => None,
    })
    .await?;
    let mut at: Vec<Vec2> = seen.iter().map(|p| p.pos).collect();
    at.sort_by(|a, b| (a.x, a.y).partial_cmp(&(b.x, b.y)).unwrap_or(std::cmp::Ordering::Equal));
    let mut want = map;
    want.sort_by(|a, b| (a.x, a.y).partial_cmp(&(b.x, b.y)).unwrap_or(std::cmp::Ordering::Equal));
    assert_eq!(at, want, "every pack lies there, where the map says");
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_message_from_one_reaches_all_others() -> anyhow::Result<()> {
    let server = start_server(|_| {}).await?;
    let mut speaker = join(&server, "speaker").await?;
    let mut listeners = vec![
        join(&server, "l1").await?,
        join(&server, "l2").await?,
        join(&server, "l3").await?,
    ];
    speaker.send_chat("hello, arena").await?;
    let from = speaker.player_id();
    for l in &mut listeners {
        wait_for(l, 2 * SECOND, |e| match e {
            Event::Frame(ServerFrame::Chat { from: f, text }) if *f == from && text == "hello, arena" => Some(()),
            _ => None,
        })
        .await?;
    }
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scripted_shooter_kills_a_target_and_its_score_rises() -> anyhow::Result<()> {
    let open = Arena {
        width: 40.0,
        height: 20.0,
        walls: vec![],
        spawn_points: vec![Vec2::new(5.0, 10.0)],
        health_packs: vec![],
    };
    let server = start_server(|c| c.arena = open).await?;
    let mut shooter = join(&server, "shooter").await?;
    let mut target = join(&server, "target").await?;
    // The target walks right for half a second, then stops; the shooter stands at the spawn point.
    let right = Input {
        move_x: 127,
        ..Input::default()
    };
    hold_input(&mut target, right, 30, 60).await?;
    hold_input(&mut target, Input::default(), 5, 60).await?;
    let fire = Input {
        aim: 0.0,
        buttons: buttons::FIRE,
        ..Input::default()
    };
    let (me, victim) = (shooter.player_id(), target.player_id());
    let mut ticker = tokio::time::interval(SECOND / 60);
    let deadline = tokio::time::Instant::now() + 5 * SECOND;
    let mut killed = false;
    let mut kills_in_snapshot = 0;
    while tokio::time::Instant::now() < deadline && kills_in_snapshot == 0 {
        ticker.tick().await;
        if !killed {
            shooter.send_input(fire)?;
        }
        target.send_input(Input::default())?;
        while target.try_event().is_some() {}
        while let Some(event) = shooter.try_event() {
            match event {
                Event::Frame(ServerFrame::Killed { killer, victim: v }) if killer == me && v == victim => killed = true,
                Event::Snapshot(snap) if killed => {
                    kills_in_snapshot = snap.players.iter().find(|p| p.id == me).map_or(0, |p| p.kills);
                }
                _ => {}
            }
        }
    }
    assert!(killed, "the shooter's kill was announced");
    assert_eq!(kills_in_snapshot, 1, "the shooter's score rose in a later snapshot");
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_disconnects_disappears_for_the_others() -> anyhow::Result<()> {
    let server = start_server(|_| {}).await?;
    let mut stay = join(&server, "stay").await?;
    let leave = join(&server, "leave").await?;
    let gone = leave.player_id();
    wait_for(&mut stay, 2 * SECOND, |e| {
        matches!(e, Event::Snapshot(s) if s.players.len() == 2).then_some(())
    })
    .await?;
    leave.close().await;
    wait_for(&mut stay, 2 * SECOND, |e| {
        matches!(e, Event::Frame(ServerFrame::PlayerLeft { id }) if *id == gone).then_some(())
    })
    .await?;
    wait_for(&mut stay, 2 * SECOND, |e| match e {
        Event::Snapshot(s) if s.players.iter().all(|p| p.id != gone) => Some(()),
        _ => None,
    })
    .await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_bots_play_and_report_what_they_saw() -> anyhow::Result<()> {
    let server = start_server(|_| {}).await?;
    let mut sessions = Vec::new();
    for i in 0..8 {
        sessions.push(join(&server, &format!("bot{i}")).await?);
    }
    let options: Vec<BotOptions> = (0..8)
        .map(|i| BotOptions {
            duration: 2 * SECOND,
            seed: i,
            chat: true,
        })
        .collect();
    let runs = sessions.iter_mut().zip(&options).map(|(s, o)| bot::run(s, o));
    for report in join_all(runs).await {
        let report = report?;
        assert_eq!(report.players_seen_max, 8);
        // 2 s at 60 Hz on loopback: every snapshot should arrive; allow for a slow, shared CI machine.
        assert!(report.snapshots >= 60, "{report:?}");
        assert!(
            report.snapshot_rate_hz > 30.0 && report.snapshot_rate_hz < 66.0,
            "{report:?}"
        );
        assert!(report.rtt_ms > 0.0 && report.rtt_ms < 1_000.0, "{report:?}");
    }
    server.shutdown().await;
    Ok(())
}
