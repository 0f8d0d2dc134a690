//! The UI as a person sees it: frames rendered into ratatui's test backend and read back as text.

use super::view::{self, UiState};
use crate::game::ClientGame;
use crate::session::Event;
use arena_shared::Vec2;
use arena_shared::arena::Arena;
use arena_shared::protocol::{
    HealthPackSnapshot, MatchPhase, MatchState, PlayerSnapshot, ResultLine, Results, ServerFrame, Snapshot, Welcome,
};
use arena_shared::rules::PlayerState;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::{Duration, Instant};

fn player(id: u32, x: f32, kills: u32) -> PlayerSnapshot {
    PlayerSnapshot {
        id,
        state: PlayerState::spawned(Vec2::new(x, 20.0)),
        kills,
        deaths: 0,
    }
}

/// A game where "ada" (us, id 1) and "bob" (id 2) stand in the open, bob said "gg" and killed someone.
fn game() -> (ClientGame, Instant) {
    let epoch = Instant::now();
    let welcome = Welcome {
        player_id: 1,
        tick_rate: 60,
        snapshot_rate: 60,
        arena: Arena::standard(),
        session_token: [0; 16],
        room: arena_shared::protocol::RoomCode::from_indices([0; 5]),
        map: "standard".into(),
        mode: arena_shared::protocol::Mode::Deathmatch,
    };
    let mut g = ClientGame::new(&welcome, Duration::from_millis(33), epoch);
    let frames = [
        ServerFrame::PlayerJoined {
            id: 1,
            name: "ada".into(),
        },
        ServerFrame::PlayerJoined {
            id: 2,
            name: "bob".into(),
        },
        ServerFrame::PlayerJoined {
            id: 3,
            name: "cyd".into(),
        },
        ServerFrame::Chat {
            from: 2,
            text: "gg everyone".into(),
        },
        ServerFrame::Killed { killer: 2, victim: 3 },
    ];
    for f in frames {
        g.on_event(Event::Frame(f), epoch);
    }
    for tick in 1..=6u32 {
        let snap = Snapshot {
            tick,
            last_input_seq: 0,
            input_margin: None,
            players: vec![player(1, 20.0, 0), player(2, 24.0, 3), player(3, 40.0, 0)],
            projectiles: vec![],
            health_packs: vec![],
        };
        g.on_event(
            Event::Snapshot(snap),
            epoch + Duration::from_millis(u64::from(tick) * 1000 / 60),
        );
    }
    (g, epoch)
}

fn render(game: &ClientGame, ui: &UiState, now: Instant) -> String {
    let mut terminal = Terminal::new(TestBackend::new(110, 30)).unwrap();
    terminal.draw(|f| view::draw(f, game, ui, now)).unwrap();
    let buffer = terminal.backend().buffer();
    let mut text = String::new();
    for y in 0..buffer.area.height {
        for x in 0..buffer.area.width {
            text.push_str(buffer[(x, y)].symbol());
        }
        text.push('\n');
    }
    text
}

fn ui() -> UiState {
    UiState {
        my_name: "ada".into(),
        scoreboard: false,
        typing: None,
        fps: 30.0,
        rtt_ms: 42.0,
    }
}

#[test]
fn the_hud_shows_name_health_score_ping_tick_fps_and_loss() {
    let (g, epoch) = game();
    let screen = render(&g, &ui(), epoch + Duration::from_millis(100));
    let hud = screen.lines().next().unwrap();
    for want in ["ada", "♥ 100", "K 0 D 0", "ping 42 ms", "tick 6", "30 fps", "loss 0.0%"] {
        assert!(hud.contains(want), "{want:?} missing from HUD: {hud}");
    }
}

#[test]
fn the_arena_shows_me_and_other_players_with_their_names() {
    let (g, epoch) = game();
    let screen = render(&g, &ui(), epoch + Duration::from_millis(100));
    let arena: String = screen
        .lines()
        .skip(1)
        .map(|l| l.chars().take(70).collect::<String>() + "\n")
        .collect();
    assert!(arena.contains('@'), "the player is drawn:\n{arena}");
    assert!(arena.contains("bob"), "bob's name is drawn:\n{arena}");
    assert!(arena.contains('●'), "others are drawn:\n{arena}");
    assert!(arena.contains('█'), "walls are drawn");
}

#[test]
fn a_health_pack_lying_there_is_drawn_and_a_taken_one_is_not() {
    let (mut g, epoch) = game();
    let arena_of = |screen: String| -> String {
        let lines = screen.lines().skip(1);
        lines.map(|l| l.chars().take(70).collect::<String>() + "\n").collect()
    };
    let pack = HealthPackSnapshot {
        id: 0,
        pos: Vec2::new(22.0, 24.0),
    };
    for (tick, packs) in [(7u32, vec![pack]), (8, vec![])] {
        let snap = Snapshot {
            tick,
            last_input_seq: 0,
            input_margin: None,
            players: vec![player(1, 20.0, 0), player(2, 24.0, 3), player(3, 40.0, 0)],
            projectiles: vec![],
            health_packs: packs.clone(),
        };
        let at = epoch + Duration::from_millis(u64::from(tick) * 1000 / 60);
        g.on_event(Event::Snapshot(snap), at);
        let arena = arena_of(render(&g, &ui(), at));
        assert_eq!(arena.contains('✚'), !packs.is_empty(), "tick {tick}:\n{arena}");
    }
}

#[test]
fn a_notice_from_the_operators_is_shown_in_the_chat_as_the_server() {
    let (mut g, now) = game();
    g.on_event(
        Event::Frame(ServerFrame::Notice {
            text: "restart in 5 minutes".into(),
        }),
        now,
    );
    let screen = render(&g, &ui(), now);
    assert!(screen.contains("server: restart in 5 minutes"), "{screen}");
}

#[test]
fn chat_from_another_player_and_the_kill_feed_are_shown() {
    let (g, epoch) = game();
    let screen = render(&g, &ui(), epoch + Duration::from_millis(100));
    assert!(screen.contains("bob: gg everyone"), "{screen}");
    assert!(screen.contains("bob ✖ cyd"), "{screen}");
    assert!(screen.contains("WASD/arrows move"), "the controls are on screen");
}

#[test]
fn tab_shows_the_scoreboard_best_first() {
    let (g, epoch) = game();
    let mut state = ui();
    state.scoreboard = true;
    let screen = render(&g, &state, epoch + Duration::from_millis(100));
    assert!(screen.contains("scoreboard"), "{screen}");
    let bob = screen.find("bob  ").or_else(|| screen.find("bob ")).unwrap();
    let bob_row = screen[bob..].lines().next().unwrap();
    assert!(bob_row.contains('3'), "bob's 3 kills: {bob_row}");
    let rows: Vec<&str> = screen
        .lines()
        .filter(|l| l.contains("│bob") || l.contains("│ada") || l.contains("│cyd"))
        .collect();
    assert!(rows.first().is_some_and(|r| r.contains("bob")), "bob leads: {rows:?}");
}

#[test]
fn typing_chat_shows_the_line_being_typed() {
    let (g, epoch) = game();
    let mut state = ui();
    state.typing = Some("hello th".into());
    let screen = render(&g, &state, epoch);
    assert!(screen.lines().last().unwrap().contains("say: hello th"), "{screen}");
}

#[test]
fn a_dead_player_sees_the_respawn_timer() {
    let (mut g, epoch) = game();
    let mut dead = player(1, 20.0, 0);
    dead.state.health = 0;
    dead.state.respawn_in = 1.5;
    let snap = Snapshot {
        tick: 7,
        last_input_seq: 0,
        input_margin: None,
        players: vec![dead, player(2, 24.0, 3)],
        projectiles: vec![],
        health_packs: vec![],
    };
    g.on_event(Event::Snapshot(snap), epoch + Duration::from_millis(117));
    let screen = render(&g, &ui(), epoch + Duration::from_millis(120));
    assert!(screen.lines().next().unwrap().contains("respawn in 1.5 s"), "{screen}");
}

#[test]
fn the_hud_shows_the_room_and_its_match_counting_down() {
    let (mut g, epoch) = game();
    let hud = |g: &ClientGame, at: Duration| {
        render(g, &ui(), epoch + at)
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        hud(&g, Duration::ZERO).contains("room AAAAA · warm-up waiting for players"),
        "{}",
        hud(&g, Duration::ZERO)
    );
    let playing = MatchState {
        phase: MatchPhase::Playing,
        secs_left: 125,
    };
    g.on_event(Event::Frame(ServerFrame::Match(playing)), epoch);
    assert!(
        hud(&g, Duration::from_secs(1)).contains("room AAAAA · playing 2:04"),
        "{}",
        hud(&g, Duration::from_secs(1))
    );
    assert!(
        hud(&g, Duration::from_secs(6)).contains("playing 1:59"),
        "{}",
        hud(&g, Duration::from_secs(6))
    );
}

#[test]
fn the_results_are_shown_while_the_room_shows_them_and_scores_reset_for_the_next_match() {
    let (mut g, epoch) = game();
    let results = Results {
        lines: vec![
            ResultLine {
                id: 2,
                kills: 3,
                deaths: 0,
            },
            ResultLine {
                id: 1,
                kills: 0,
                deaths: 1,
            },
        ],
        winner: Some(2),
    };
    g.on_event(Event::Frame(ServerFrame::Results(results)), epoch);
    let over = MatchState {
        phase: MatchPhase::Results,
        secs_left: 10,
    };
    g.on_event(Event::Frame(ServerFrame::Match(over)), epoch);
    let screen = render(&g, &ui(), epoch + Duration::from_secs(2));
    assert!(screen.contains("match over: bob wins"), "{screen}");
    assert!(screen.contains("next match in 8 s"), "{screen}");
    let warmup = MatchState {
        phase: MatchPhase::WarmUp,
        secs_left: 0,
    };
    g.on_event(
        Event::Frame(ServerFrame::Match(warmup)),
        epoch + Duration::from_secs(10),
    );
    let screen = render(&g, &ui(), epoch + Duration::from_secs(10));
    assert!(!screen.contains("match over"), "the results are gone:\n{screen}");
    assert_eq!(g.scoreboard().iter().map(|r| r.kills).sum::<u32>(), 0, "scores reset");
}

#[test]
fn the_hud_counts_down_to_the_servers_closing() {
    let (mut g, epoch) = game();
    g.on_event(Event::Frame(ServerFrame::Closing { secs: 30 }), epoch);
    let screen = render(&g, &ui(), epoch + Duration::from_secs(10));
    let hud = screen.lines().next().unwrap_or_default();
    assert!(hud.contains("server closing in 20 s"), "{hud}");
}
