//! The terminal game: a full-screen ratatui UI on crossterm that samples the controls every server tick,
//! predicts the player's move, draws at [`FRAME_RATE`] frames per second whatever the network does, and
//! restores the terminal however it ends (quit, lost connection, or panic).

pub mod controls;
pub mod lobby;
#[cfg(test)]
mod tests;
pub mod view;

use crate::game::ClientGame;
use crate::session::{ClientError, Session};
use arena_shared::Vec2;
use controls::{Action, Controls};
use ratatui::crossterm::event::{
    self, DisableMouseCapture, EnableMouseCapture, Event as TermEvent, KeyCode, KeyEventKind, KeyboardEnhancementFlags,
    MouseButton, MouseEventKind, PopKeyboardEnhancementFlags, PushKeyboardEnhancementFlags,
};
use ratatui::crossterm::{execute, terminal};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use view::UiState;

/// Frames drawn per second.
pub const FRAME_RATE: u32 = 30;
/// Terminal events queued between the reader thread and the UI; when full, the reader waits.
const TERM_QUEUE: usize = 256;

/// How the game ended.
#[derive(Debug)]
pub enum Outcome {
    /// The player quit.
    Quit,
    /// The connection ended, for this reason.
    Disconnected(String),
}

/// Terminal modes that must be undone on the way out, also when unwinding from a panic.
struct TerminalGuard {
    enhanced: bool,
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let mut out = std::io::stdout();
        if self.enhanced {
            let _ = execute!(out, PopKeyboardEnhancementFlags);
        }
        let _ = execute!(out, DisableMouseCapture);
        ratatui::restore();
    }
}

/// Plays until the player quits or the connection ends; the terminal is restored before this returns.
pub async fn play(mut session: Session, name: String, interp_delay: Option<Duration>) -> Result<Outcome, ClientError> {
    let start = Instant::now();
    let delay = |session: &Session| interp_delay.unwrap_or_else(|| ClientGame::default_interp_delay(session.welcome()));
    let mut game = ClientGame::new(session.welcome(), delay(&session), start);
    let mut terminal = ratatui::init(); // also installs a panic hook that restores the terminal
    let enhanced = terminal::supports_keyboard_enhancement().unwrap_or(false)
        && execute!(
            std::io::stdout(),
            PushKeyboardEnhancementFlags(KeyboardEnhancementFlags::REPORT_EVENT_TYPES)
        )
        .is_ok();
    let _guard = TerminalGuard { enhanced };
    let _ = execute!(std::io::stdout(), EnableMouseCapture);
    let mut controls = Controls::new(enhanced);
    let mut ui = UiState {
        my_name: name,
        ..UiState::default()
    };

    let (term_tx, mut term_rx) = mpsc::channel(TERM_QUEUE);
    std::thread::spawn(move || {
        // Blocking reads on their own thread; ends when the UI is gone.
        while let Ok(ev) = event::read() {
            if term_tx.blocking_send(ev).is_err() {
                break;
            }
        }
    });
    let mut frame = tokio::time::interval(Duration::from_secs(1) / FRAME_RATE);
    frame.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last_frame = Instant::now();
    let mut frames_this_second = (Instant::now(), 0u32);
    let mut last_area = ratatui::layout::Rect::default();

    let outcome = loop {
        tokio::select! {
            // Each input when the session's input clock says (just ahead of the server's tick).
            _ = tokio::time::sleep_until(session.next_input_at().into()) => {
                let input = controls.input(Instant::now());
                match session.send_input(input) {
                    Ok(sent) => game.on_input_sent(sent, Instant::now()),
                    Err(e) => break Outcome::Disconnected(e.to_string()),
                }
            }
            _ = frame.tick() => {
                let now = Instant::now();
                game.predictor.advance_frame(now - last_frame);
                last_frame = now;
                frames_this_second.1 += 1;
                if now - frames_this_second.0 >= Duration::from_secs(1) {
                    ui.fps = f64::from(frames_this_second.1) / (now - frames_this_second.0).as_secs_f64();
                    frames_this_second = (now, 0);
                }
                ui.rtt_ms = session.rtt().as_secs_f64() * 1e3;
                if let Err(e) = terminal.draw(|f| {
                    last_area = f.area();
                    view::draw(f, &game, &ui, now)
                }) {
                    break Outcome::Disconnected(format!("terminal error: {e}"));
                }
            }
            event = session.next_event() => {
                let lost = match event {
                    Some(event) => game.on_event(event, Instant::now()),
                    None => Some("connection ended".into()),
                };
                if let Some(reason) = lost {
                    // Try to take the same player back; the screen says so meanwhile.
                    game.chat.push_back(crate::game::ChatLine { from: "*".into(), text: format!("connection lost ({reason}); reconnecting…") });
                    let _ = terminal.draw(|f| view::draw(f, &game, &ui, Instant::now()));
                    match crate::bot::resume(&session, reason).await {
                        Ok(new) => {
                            session = new;
                            let mut fresh = ClientGame::new(session.welcome(), delay(&session), start);
                            fresh.chat = std::mem::take(&mut game.chat);
                            fresh.kill_feed = std::mem::take(&mut game.kill_feed);
                            game = fresh;
                        }
                        Err(e) => break Outcome::Disconnected(e.to_string()),
                    }
                }
            }
            Some(ev) = term_rx.recv() => {
                if let Some(outcome) = handle_terminal_event(ev, &mut controls, &mut ui, &mut session, &game, last_area).await {
                    break outcome;
                }
            }
        }
    };
    if matches!(outcome, Outcome::Quit) {
        session.close().await;
    }
    Ok(outcome)
}

/// Keys while typing chat go to the chat line; otherwise to the controls. Mouse aims and fires.
async fn handle_terminal_event(
    ev: TermEvent,
    controls: &mut Controls,
    ui: &mut UiState,
    session: &mut Session,
    game: &ClientGame,
    area: ratatui::layout::Rect,
) -> Option<Outcome> {
    let now = Instant::now();
    match ev {
        TermEvent::Key(key) if ui.typing.is_some() => {
            if key.kind == KeyEventKind::Release {
                return None;
            }
            let typing = ui.typing.get_or_insert_with(String::new);
            match key.code {
                KeyCode::Esc => ui.typing = None,
                KeyCode::Enter => {
                    let text = ui.typing.take().unwrap_or_default();
                    if !text.trim().is_empty()
                        && let Err(e) = session.send_chat(&text).await
                    {
                        return Some(Outcome::Disconnected(e.to_string()));
                    }
                }
                KeyCode::Backspace => {
                    typing.pop();
                }
                KeyCode::Char(c) if typing.chars().count() < arena_shared::protocol::MAX_CHAT_CHARS => typing.push(c),
                _ => {}
            }
        }
        TermEvent::Key(key) => match controls.key(key, now) {
            Action::Quit => return Some(Outcome::Quit),
            Action::ToggleScoreboard => ui.scoreboard = !ui.scoreboard,
            Action::StartChat => ui.typing = Some(String::new()),
            Action::None => {}
        },
        TermEvent::Mouse(mouse) => {
            if let (Some(me), Some(world)) = (
                game.predictor.display_pos(),
                mouse_to_world(game, area, mouse.column, mouse.row),
            ) {
                controls.aim_at(me, world);
            }
            match mouse.kind {
                MouseEventKind::Down(MouseButton::Left) | MouseEventKind::Drag(MouseButton::Left) => {
                    controls.mouse_fire(true, now)
                }
                MouseEventKind::Up(MouseButton::Left) => controls.mouse_fire(false, now),
                _ => {}
            }
        }
        _ => {}
    }
    None
}

/// The world point under a terminal cell, using the same camera as the arena view.
fn mouse_to_world(game: &ClientGame, full: ratatui::layout::Rect, col: u16, row: u16) -> Option<Vec2> {
    let area = view::arena_area(full);
    view::cell_to_world(game, area, col, row)
}
