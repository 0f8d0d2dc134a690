//! The lobby screen: the server's public rooms (code, map, mode, players, match state, time left), chosen
//! with the arrows and Enter; or a quick join, a new public room, a new private one. The list is asked for
//! without joining ([`crate::lobby::list_rooms`]) and refreshed on `r`.

use crate::lobby::list_rooms;
use crate::session::{ClientError, ConnectOptions};
use arena_shared::protocol::{Mode, RoomList, RoomRequest};
use ratatui::Frame;
use ratatui::crossterm::event::{self, Event as TermEvent, KeyCode, KeyEventKind};
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, TableState};
use std::time::Duration;

/// The lobby's keys, as shown on screen.
pub const LOBBY_HELP: &str =
    "↑↓ choose · Enter join · q quick join · c create · p create private · r refresh · Esc quit";

/// What the lobby shows: the rooms and which one is chosen.
#[derive(Debug, Default, Clone)]
pub struct Lobby {
    pub rooms: RoomList,
    pub selected: usize,
}

/// What a key in the lobby does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LobbyAction {
    Stay,
    Refresh,
    Join(RoomRequest),
    Quit,
}

impl Lobby {
    /// The lobby's answer to a key.
    pub fn on_key(&mut self, key: KeyCode) -> LobbyAction {
        let create = |private| {
            LobbyAction::Join(RoomRequest::Create {
                mode: Mode::Deathmatch,
                private,
            })
        };
        match key {
            KeyCode::Up => {
                self.selected = self.selected.saturating_sub(1);
                LobbyAction::Stay
            }
            KeyCode::Down => {
                self.selected = (self.selected + 1).min(self.rooms.rooms.len().saturating_sub(1));
                LobbyAction::Stay
            }
            KeyCode::Enter => match self.rooms.rooms.get(self.selected) {
                Some(room) => LobbyAction::Join(RoomRequest::Code(room.code.clone())),
                None => LobbyAction::Join(RoomRequest::default()),
            },
            KeyCode::Char('q') => LobbyAction::Join(RoomRequest::default()),
            KeyCode::Char('c') => create(false),
            KeyCode::Char('p') => create(true),
            KeyCode::Char('r') => LobbyAction::Refresh,
            KeyCode::Esc => LobbyAction::Quit,
            _ => LobbyAction::Stay,
        }
    }

    /// Takes a new list, keeping the choice within it.
    pub fn refreshed(&mut self, rooms: RoomList) {
        self.selected = self.selected.min(rooms.rooms.len().saturating_sub(1));
        self.rooms = rooms;
    }
}

/// Draws the lobby: the rooms as a table, the chosen one highlighted, the keys below.
pub fn draw(frame: &mut Frame, lobby: &Lobby) {
    let [list, help] = Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(frame.area());
    let rows: Vec<Row> = lobby
        .rooms
        .rooms
        .iter()
        .map(|r| {
            let left = format!("{}:{:02}", r.state.secs_left / 60, r.state.secs_left % 60);
            Row::new(vec![
                r.code.to_string(),
                r.map.clone(),
                r.mode.to_string(),
                format!("{}/{}", r.players, r.capacity),
                r.state.phase.to_string(),
                left,
            ])
        })
        .collect();
    let title = if rows.is_empty() {
        "no public rooms yet: q joins a new one".to_owned()
    } else {
        format!("{} public rooms", rows.len())
    };
    let widths = [
        Constraint::Length(7),
        Constraint::Min(10),
        Constraint::Length(11),
        Constraint::Length(9),
        Constraint::Length(9),
        Constraint::Length(6),
    ];
    let table = Table::new(rows, widths)
        .header(Row::new(vec!["code", "map", "mode", "players", "match", "left"]).style(Style::new().bold()))
        .row_highlight_style(Style::new().fg(Color::Black).bg(Color::Yellow))
        .block(Block::new().borders(Borders::ALL).title(title));
    let mut state = TableState::default().with_selected(Some(lobby.selected));
    frame.render_stateful_widget(table, list, &mut state);
    let keys = Line::styled(LOBBY_HELP, Style::new().fg(Color::DarkGray));
    frame.render_widget(Paragraph::new(keys), help);
}

/// Shows the lobby until the player picks a room (`Some`) or leaves (`None`); the terminal is restored
/// before this returns. Runs the screen on a blocking thread, which asks for the list on the runtime.
pub async fn choose(endpoint: quinn::Endpoint, options: ConnectOptions) -> Result<Option<RoomRequest>, ClientError> {
    let first = list_rooms(&endpoint, &options).await?;
    let runtime = tokio::runtime::Handle::current();
    let screen = tokio::task::spawn_blocking(move || {
        let mut terminal = ratatui::init();
        let mut lobby = Lobby::default();
        lobby.refreshed(first);
        let chosen = loop {
            if terminal.draw(|f| draw(f, &lobby)).is_err() {
                break None;
            }
            let key = match event::poll(Duration::from_millis(250)).map(|ready| ready.then(event::read)) {
                Ok(Some(Ok(TermEvent::Key(key)))) if key.kind != KeyEventKind::Release => key.code,
                Ok(_) => continue,
                Err(_) => break None,
            };
            match lobby.on_key(key) {
                LobbyAction::Stay => {}
                LobbyAction::Refresh => {
                    if let Ok(rooms) = runtime.block_on(list_rooms(&endpoint, &options)) {
                        lobby.refreshed(rooms);
                    }
                }
                LobbyAction::Join(request) => break Some(request),
                LobbyAction::Quit => break None,
            }
        };
        ratatui::restore();
        chosen
    });
    screen
        .await
        .map_err(|e| ClientError::Protocol(format!("the lobby screen failed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arena_shared::protocol::{MatchPhase, MatchState, RoomCode, RoomInfo};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    fn lobby() -> Lobby {
        let room = |code: &str, players, phase, secs_left| RoomInfo {
            code: RoomCode::parse(code).unwrap(),
            map: "standard".into(),
            mode: Mode::Deathmatch,
            players,
            capacity: 16,
            state: MatchState { phase, secs_left },
            join_in_progress: true,
        };
        let mut lobby = Lobby::default();
        lobby.refreshed(RoomList {
            rooms: vec![
                room("ABCDE", 12, MatchPhase::Playing, 125),
                room("FGHJK", 3, MatchPhase::WarmUp, 14),
            ],
        });
        lobby
    }

    #[test]
    fn the_lobby_lists_the_rooms_and_the_keys_choose_one() {
        let mut lobby = lobby();
        let mut terminal = Terminal::new(TestBackend::new(90, 8)).unwrap();
        terminal.draw(|f| draw(f, &lobby)).unwrap();
        let buffer = terminal.backend().buffer();
        let text: String = (0..buffer.area.height)
            .map(|y| {
                (0..buffer.area.width)
                    .map(|x| buffer[(x, y)].symbol())
                    .collect::<String>()
                    + "\n"
            })
            .collect();
        for want in [
            "2 public rooms",
            "ABCDE",
            "12/16",
            "playing",
            "2:05",
            "FGHJK",
            "warm-up",
            "0:14",
            "q quick join",
        ] {
            assert!(text.contains(want), "{want:?} missing:\n{text}");
        }
        assert_eq!(lobby.on_key(KeyCode::Down), LobbyAction::Stay);
        assert_eq!(lobby.on_key(KeyCode::Down), LobbyAction::Stay, "stays on the last room");
        let second = RoomRequest::Code(RoomCode::parse("FGHJK").unwrap());
        assert_eq!(lobby.on_key(KeyCode::Enter), LobbyAction::Join(second));
        lobby.on_key(KeyCode::Up);
        let first = RoomRequest::Code(RoomCode::parse("ABCDE").unwrap());
        assert_eq!(lobby.on_key(KeyCode::Enter), LobbyAction::Join(first));
        assert_eq!(
            lobby.on_key(KeyCode::Char('q')),
            LobbyAction::Join(RoomRequest::default())
        );
        assert!(matches!(
            lobby.on_key(KeyCode::Char('p')),
            LobbyAction::Join(RoomRequest::Create { private: true, .. })
        ));
        assert_eq!(lobby.on_key(KeyCode::Char('r')), LobbyAction::Refresh);
        assert_eq!(lobby.on_key(KeyCode::Esc), LobbyAction::Quit);
        lobby.refreshed(RoomList::default());
        assert_eq!(
            lobby.on_key(KeyCode::Enter),
            LobbyAction::Join(RoomRequest::default()),
            "no rooms: quick join"
        );
    }
}
