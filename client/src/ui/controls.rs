//! Keys and mouse to intents: which directions are held, where the player aims, whether it fires.
//!
//! Where the terminal reports key releases (the kitty keyboard protocol), a key is held exactly from press
//! to release. Where it does not, a press holds for [`HOLD_WITHOUT_RELEASE`] and the terminal's key repeat
//! keeps renewing it, so movement works in any terminal.

use arena_shared::Vec2;
use arena_shared::rules::{Input, buttons};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use std::time::{Duration, Instant};

/// How long a press counts as held when the terminal does not report releases; key repeat (typically
/// every 30 ms after a 250 to 500 ms delay) renews it.
pub const HOLD_WITHOUT_RELEASE: Duration = Duration::from_millis(550);

/// The eight things a key can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hold {
    Up,
    Down,
    Left,
    Right,
    AimUp,
    AimDown,
    AimLeft,
    AimRight,
    Fire,
}

const HOLDS: usize = 9;

/// What a key press asks the UI to do besides steering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    None,
    Quit,
    ToggleScoreboard,
    StartChat,
}

/// Held keys and the aim.
#[derive(Debug)]
pub struct Controls {
    /// When each hold ends (`None`: not held).
    until: [Option<Instant>; HOLDS],
    /// Whether key releases are reported, so holds last until release.
    pub releases_reported: bool,
    /// Aim angle in radians (0 = right, counter-clockwise).
    pub aim: f32,
}

impl Controls {
    pub fn new(releases_reported: bool) -> Self {
        Self {
            until: [None; HOLDS],
            releases_reported,
            aim: 0.0,
        }
    }

    fn hold_for(key: KeyCode) -> Option<Hold> {
        Some(match key {
            KeyCode::Char('w' | 'W') | KeyCode::Up => Hold::Up,
            KeyCode::Char('s' | 'S') | KeyCode::Down => Hold::Down,
            KeyCode::Char('a' | 'A') | KeyCode::Left => Hold::Left,
            KeyCode::Char('d' | 'D') | KeyCode::Right => Hold::Right,
            KeyCode::Char('i' | 'I') => Hold::AimUp,
            KeyCode::Char('k' | 'K') => Hold::AimDown,
            KeyCode::Char('j' | 'J') => Hold::AimLeft,
            KeyCode::Char('l' | 'L') => Hold::AimRight,
            KeyCode::Char(' ') => Hold::Fire,
            _ => return None,
        })
    }

    /// Takes a key event (outside chat typing).
    pub fn key(&mut self, key: KeyEvent, now: Instant) -> Action {
        if key.kind == KeyEventKind::Press {
            match key.code {
                KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => return Action::Quit,
                KeyCode::Char('q') | KeyCode::Char('Q') => return Action::Quit,
                KeyCode::Tab => return Action::ToggleScoreboard,
                KeyCode::Enter => return Action::StartChat,
                _ => {}
            }
        }
        let Some(hold) = Self::hold_for(key.code) else {
            return Action::None;
        };
        let slot = hold as usize;
        match key.kind {
            KeyEventKind::Release => self.until[slot] = None,
            KeyEventKind::Press | KeyEventKind::Repeat => {
                let end = if self.releases_reported {
                    now + Duration::from_secs(3600)
                } else {
                    now + HOLD_WITHOUT_RELEASE
                };
                self.until[slot] = Some(end);
                // Pressing one direction ends the opposite one at once.
                let opposite = match hold {
                    Hold::Up => Some(Hold::Down),
                    Hold::Down => Some(Hold::Up),
                    Hold::Left => Some(Hold::Right),
                    Hold::Right => Some(Hold::Left),
                    Hold::AimUp => Some(Hold::AimDown),
                    Hold::AimDown => Some(Hold::AimUp),
                    Hold::AimLeft => Some(Hold::AimRight),
                    Hold::AimRight => Some(Hold::AimLeft),
                    Hold::Fire => None,
                };
                if let Some(o) = opposite {
                    self.until[o as usize] = None;
                }
            }
        }
        Action::None
    }

    fn held(&self, hold: Hold, now: Instant) -> bool {
        self.until[hold as usize].is_some_and(|end| now < end)
    }

    /// Aims at a point (the mouse), from the player's position.
    pub fn aim_at(&mut self, from: Vec2, to: Vec2) {
        let d = to - from;
        if d.length_squared() > 1e-6 {
            self.aim = d.angle();
        }
    }

    /// Holds fire for a mouse click (released by the mouse-up event, or by the hold timeout).
    pub fn mouse_fire(&mut self, down: bool, now: Instant) {
        self.until[Hold::Fire as usize] = down.then_some(now + HOLD_WITHOUT_RELEASE);
    }

    /// The input for this tick (its sequence number is set when it is sent).
    pub fn input(&mut self, now: Instant) -> Input {
        let axis = |neg: Hold, pos: Hold| i8::from(self.held(pos, now)) - i8::from(self.held(neg, now));
        let (mx, my) = (axis(Hold::Left, Hold::Right), axis(Hold::Down, Hold::Up));
        let (ax, ay) = (axis(Hold::AimLeft, Hold::AimRight), axis(Hold::AimDown, Hold::AimUp));
        if ax != 0 || ay != 0 {
            self.aim = Vec2::new(f32::from(ax), f32::from(ay)).angle();
        }
        // A diagonal is scaled to unit length (90/127 per axis): the server counts longer requests as cheats.
        let full = if mx != 0 && my != 0 { 89 } else { 127 };
        Input {
            seq: 0,
            move_x: mx * full,
            move_y: my * full,
            aim: self.aim,
            buttons: if self.held(Hold::Fire, now) { buttons::FIRE } else { 0 },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::KeyEventState;

    fn ev(code: KeyCode, kind: KeyEventKind) -> KeyEvent {
        KeyEvent {
            code,
            modifiers: KeyModifiers::NONE,
            kind,
            state: KeyEventState::NONE,
        }
    }

    #[test]
    fn without_release_events_a_press_holds_for_a_while_then_lets_go() {
        let mut c = Controls::new(false);
        let t = Instant::now();
        c.key(ev(KeyCode::Char('d'), KeyEventKind::Press), t);
        assert_eq!(c.input(t + Duration::from_millis(100)).move_x, 127);
        assert_eq!(c.input(t + HOLD_WITHOUT_RELEASE + Duration::from_millis(1)).move_x, 0);
    }

    #[test]
    fn with_release_events_a_key_holds_until_released() {
        let mut c = Controls::new(true);
        let t = Instant::now();
        c.key(ev(KeyCode::Up, KeyEventKind::Press), t);
        assert_eq!(c.input(t + Duration::from_secs(5)).move_y, 127);
        c.key(ev(KeyCode::Up, KeyEventKind::Release), t);
        assert_eq!(c.input(t).move_y, 0);
    }

    #[test]
    fn aim_keys_and_fire_make_the_input() {
        let mut c = Controls::new(true);
        let t = Instant::now();
        c.key(ev(KeyCode::Char('i'), KeyEventKind::Press), t);
        c.key(ev(KeyCode::Char('j'), KeyEventKind::Press), t);
        c.key(ev(KeyCode::Char(' '), KeyEventKind::Press), t);
        let input = c.input(t);
        assert!((input.aim - 3.0 * std::f32::consts::FRAC_PI_4).abs() < 1e-6);
        assert!(input.fire());
    }

    #[test]
    fn q_tab_and_enter_are_actions() {
        let mut c = Controls::new(false);
        let t = Instant::now();
        assert_eq!(c.key(ev(KeyCode::Char('q'), KeyEventKind::Press), t), Action::Quit);
        assert_eq!(
            c.key(ev(KeyCode::Tab, KeyEventKind::Press), t),
            Action::ToggleScoreboard
        );
        assert_eq!(c.key(ev(KeyCode::Enter, KeyEventKind::Press), t), Action::StartChat);
    }
}
