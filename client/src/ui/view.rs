//! Drawing one frame: the HUD line (with the room's code and its match's state), the arena view that follows
//! the player and scales to the terminal, the kill feed and chat pane, the help or chat-entry line, and the
//! scoreboard and match results overlays.

use crate::game::ClientGame;
use arena_shared::Vec2;
use arena_shared::protocol::{MatchPhase, Results};
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Row, Table, Widget, Wrap};
use std::time::Instant;

/// What the UI shows besides the game itself.
#[derive(Debug, Default, Clone)]
pub struct UiState {
    pub my_name: String,
    pub scoreboard: bool,
    /// The chat line being typed, when typing.
    pub typing: Option<String>,
    pub fps: f64,
    pub rtt_ms: f64,
}

/// The controls, as shown on screen and in `--help`.
pub const HELP: &str =
    "WASD/arrows move · IJKL aim · Space fire · mouse aims, click fires · Tab scores · Enter chat · q quit";

const PALETTE: [Color; 6] = [
    Color::Cyan,
    Color::Magenta,
    Color::Yellow,
    Color::Blue,
    Color::LightRed,
    Color::White,
];

/// The screen's regions: HUD line, arena view, side pane (kills and chat), bottom line.
fn regions(full: Rect) -> [Rect; 4] {
    let [hud, body, bottom] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(3), Constraint::Length(1)]).areas(full);
    let side_width = (body.width / 3).clamp(20, 40);
    let [arena_area, side] = Layout::horizontal([Constraint::Min(10), Constraint::Length(side_width)]).areas(body);
    [hud, arena_area, side, bottom]
}

/// Where the arena view is drawn on a screen of this size.
pub fn arena_area(full: Rect) -> Rect {
    regions(full)[1]
}

/// The world point under a cell of the arena view, if the cell is in it.
pub fn cell_to_world(game: &ClientGame, area: Rect, col: u16, row: u16) -> Option<Vec2> {
    let inside = col >= area.x && row >= area.y && col < area.x + area.width && row < area.y + area.height;
    inside.then(|| Camera::new(game, area).world(col, row))
}

pub fn draw(frame: &mut Frame, game: &ClientGame, ui: &UiState, now: Instant) {
    let [hud, arena_area, side, bottom] = regions(frame.area());
    frame.render_widget(Paragraph::new(hud_line(game, ui, now)), hud);
    frame.render_widget(ArenaView { game, now }, arena_area);
    draw_side(frame, game, side);
    let bottom_line = match &ui.typing {
        Some(text) => Line::from(vec![
            Span::styled("say: ", Style::new().bold()),
            Span::raw(text.as_str()),
            Span::raw("▏"),
        ]),
        None => Line::from(Span::styled(HELP, Style::new().fg(Color::DarkGray))),
    };
    frame.render_widget(Paragraph::new(bottom_line), bottom);
    if let Some(results) = game.results_shown() {
        draw_results(frame, game, results, arena_area, now);
    } else if ui.scoreboard {
        draw_scoreboard(frame, game, arena_area);
    }
}

/// The room and its match, as the HUD shows them: `room ABC23 · playing 4:35`.
pub fn match_label(game: &ClientGame, now: Instant) -> String {
    let secs = game.secs_left(now);
    let clock = if secs == 0 && game.match_state.phase == MatchPhase::WarmUp {
        "waiting for players".to_owned()
    } else {
        format!("{}:{:02}", secs / 60, secs % 60)
    };
    let closing = game.closing_at.map_or(String::new(), |at| {
        let secs = at.saturating_duration_since(now).as_secs_f64().ceil();
        format!(" · server closing in {secs:.0} s")
    });
    format!("room {} · {} {clock}{closing}", game.room, game.match_state.phase)
}

fn hud_line(game: &ClientGame, ui: &UiState, now: Instant) -> Line<'static> {
    let (kills, deaths) = game.my_score();
    let health = match game.server_me {
        Some(me) if !me.is_alive() => Span::styled(
            format!("✝ respawn in {:.1} s", me.respawn_in),
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        ),
        Some(me) => Span::styled(format!("♥ {}", me.health), Style::new().fg(Color::Green).bold()),
        None => Span::raw("♥ -"),
    };
    Line::from(vec![
        Span::styled(format!("{} ", ui.my_name), Style::new().bold()),
        Span::styled(format!("{}  ", match_label(game, now)), Style::new().fg(Color::Yellow)),
        health,
        Span::raw(format!(
            "  K {kills} D {deaths}  ping {:.0} ms  tick {}  {:.0} fps  loss {:.1}%",
            ui.rtt_ms,
            game.server_tick,
            ui.fps,
            game.snapshot_loss() * 100.0
        )),
    ])
}

fn draw_side(frame: &mut Frame, game: &ClientGame, area: Rect) {
    let feed_height = (game.kill_feed.len() as u16 + 2).max(3);
    let [feed, chat] = Layout::vertical([Constraint::Length(feed_height), Constraint::Min(3)]).areas(area);
    let lines: Vec<Line> = game.kill_feed.iter().map(|l| Line::raw(l.clone())).collect();
    frame.render_widget(
        Paragraph::new(lines).block(Block::new().borders(Borders::ALL).title("kills")),
        feed,
    );
    let visible = chat.height.saturating_sub(2) as usize;
    let lines: Vec<Line> = game
        .chat
        .iter()
        .rev()
        .take(visible)
        .rev()
        .map(|c| {
            Line::from(vec![
                Span::styled(format!("{}: ", c.from), Style::new().bold()),
                Span::raw(c.text.clone()),
            ])
        })
        .collect();
    let chat_pane = Paragraph::new(lines)
        .wrap(Wrap { trim: true })
        .block(Block::new().borders(Borders::ALL).title("chat"));
    frame.render_widget(chat_pane, chat);
}

fn draw_scoreboard(frame: &mut Frame, game: &ClientGame, over: Rect) {
    let lines = game.scoreboard().into_iter().map(|r| (r.id, r.name, r.kills, r.deaths));
    draw_score_table(frame, game, over, lines, "scoreboard".into(), None);
}

/// The match's final scoreboard and winner, over the arena while the room shows its results.
fn draw_results(frame: &mut Frame, game: &ClientGame, results: &Results, over: Rect, now: Instant) {
    let lines = results.lines.iter().map(|l| (l.id, game.name(l.id), l.kills, l.deaths));
    let title = match results.winner {
        Some(id) if id == game.me => "you win!".to_owned(),
        Some(id) => format!("{} wins", game.name(id)),
        None => "no winner".to_owned(),
    };
    let footer = Row::new(vec![format!("next match in {} s", game.secs_left(now))]);
    draw_score_table(frame, game, over, lines, format!("match over: {title}"), Some(footer));
}

/// A table of players' kills and deaths (this player's row highlighted), centred over `over`.
fn draw_score_table(
    frame: &mut Frame,
    game: &ClientGame,
    over: Rect,
    lines: impl Iterator<Item = (u32, String, u32, u32)>,
    title: String,
    footer: Option<Row<'static>>,
) {
    let rows: Vec<Row> = lines
        .map(|(id, name, kills, deaths)| {
            let style = if id == game.me {
                Style::new().bold().fg(Color::Green)
            } else {
                Style::new()
            };
            Row::new(vec![name, kills.to_string(), deaths.to_string()]).style(style)
        })
        .collect();
    let extra = if footer.is_some() { 4 } else { 3 };
    let height = (rows.len() as u16 + extra).min(over.height);
    let width = 44.min(over.width);
    let area = Rect {
        x: over.x + (over.width - width) / 2,
        y: over.y + (over.height - height) / 2,
        width,
        height,
    };
    let mut table = Table::new(
        rows,
        [Constraint::Min(10), Constraint::Length(6), Constraint::Length(6)],
    )
    .header(Row::new(vec!["player", "kills", "deaths"]).style(Style::new().bold()))
    .block(Block::new().borders(Borders::ALL).title(title));
    if let Some(footer) = footer {
        table = table.footer(footer);
    }
    frame.render_widget(Clear, area);
    frame.render_widget(table, area);
}

/// How the arena maps onto the view: one column per unit and a row per two units at least, more when the
/// terminal is big enough to show the whole map larger; the view follows the player and stays inside the map.
struct Camera {
    area: Rect,
    /// Units per column and per row (terminal cells are about twice as tall as wide).
    unit_x: f32,
    unit_y: f32,
    /// The world coordinates of the view's top-left corner.
    left: f32,
    top: f32,
}

impl Camera {
    fn new(game: &ClientGame, area: Rect) -> Self {
        let arena = &game.arena;
        let zoom = (f32::from(area.width) / arena.width)
            .min(2.0 * f32::from(area.height) / arena.height)
            .max(1.0);
        let (unit_x, unit_y) = (1.0 / zoom, 2.0 / zoom);
        let (view_w, view_h) = (f32::from(area.width) * unit_x, f32::from(area.height) * unit_y);
        let me = game
            .predictor
            .display_pos()
            .unwrap_or(Vec2::new(arena.width / 2.0, arena.height / 2.0));
        let center = |pos: f32, view: f32, size: f32| {
            if view >= size {
                size / 2.0
            } else {
                pos.clamp(view / 2.0, size - view / 2.0)
            }
        };
        let (cx, cy) = (center(me.x, view_w, arena.width), center(me.y, view_h, arena.height));
        Self {
            area,
            unit_x,
            unit_y,
            left: cx - view_w / 2.0,
            top: cy + view_h / 2.0,
        }
    }

    /// The world point at the centre of a cell.
    fn world(&self, col: u16, row: u16) -> Vec2 {
        Vec2::new(
            self.left + (f32::from(col - self.area.x) + 0.5) * self.unit_x,
            self.top - (f32::from(row - self.area.y) + 0.5) * self.unit_y,
        )
    }

    /// The cell showing a world point, if it is in view.
    fn cell(&self, p: Vec2) -> Option<(u16, u16)> {
        let col = ((p.x - self.left) / self.unit_x).floor();
        let row = ((self.top - p.y) / self.unit_y).floor();
        (col >= 0.0 && row >= 0.0 && col < f32::from(self.area.width) && row < f32::from(self.area.height))
            .then(|| (self.area.x + col as u16, self.area.y + row as u16))
    }
}

/// The arena around the player, drawn through a [`Camera`].
struct ArenaView<'a> {
    game: &'a ClientGame,
    now: Instant,
}

impl Widget for ArenaView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.width == 0 || area.height == 0 {
            return;
        }
        let game = self.game;
        let arena = &game.arena;
        let camera = Camera::new(game, area);
        let to_cell = |p: Vec2| camera.cell(p);
        let wall_style = Style::new().fg(Color::DarkGray);
        for row in area.y..area.y + area.height {
            for col in area.x..area.x + area.width {
                let p = camera.world(col, row);
                let inside = p.x >= 0.0 && p.y >= 0.0 && p.x <= arena.width && p.y <= arena.height;
                let symbol = if !inside {
                    " "
                } else if arena.walls.iter().any(|w| w.contains(p)) {
                    "█"
                } else {
                    "·"
                };
                let style = if symbol == "·" {
                    Style::new().fg(Color::Rgb(60, 60, 60))
                } else {
                    wall_style
                };
                buf.set_string(col, row, symbol, style);
            }
        }
        // Health packs do not move: drawn as the newest snapshot has them (a taken one is not in it).
        for pack in game.interp.newest().map_or(&[][..], |s| &s.health_packs[..]) {
            if let Some((x, y)) = to_cell(pack.pos) {
                buf.set_string(x, y, "✚", Style::new().fg(Color::LightRed).bold());
            }
        }
        // Others' projectiles interpolated; this player's own from the moment it fired them (predicted).
        let others = game
            .interp
            .projectiles(self.now)
            .into_iter()
            .filter(|(id, _)| !game.shots.draws(*id));
        let own = game.shots.positions(self.now).into_iter().map(|(pos, _)| pos);
        for pos in others.map(|(_, placed)| placed.pos).chain(own) {
            if let Some((x, y)) = to_cell(pos) {
                buf.set_string(x, y, "•", Style::new().fg(Color::LightYellow).bold());
            }
        }
        for (id, placed) in game.interp.players(self.now, game.me) {
            let Some((x, y)) = to_cell(placed.pos) else { continue };
            let style = Style::new().fg(PALETTE[id as usize % PALETTE.len()]).bold();
            buf.set_string(x, y, "●", style);
            let name: String = game.name(id).chars().take(10).collect();
            if y > area.y {
                let start = x.saturating_sub(name.chars().count() as u16 / 2).max(area.x);
                let room = (area.x + area.width).saturating_sub(start) as usize;
                buf.set_stringn(start, y - 1, &name, room, style);
            }
        }
        let alive = game.server_me.is_none_or(|s| s.is_alive());
        if let (Some(pos), true) = (game.predictor.display_pos(), alive) {
            if let Some((x, y)) = to_cell(pos) {
                buf.set_string(
                    x,
                    y,
                    "@",
                    Style::new().fg(Color::LightGreen).add_modifier(Modifier::BOLD),
                );
            }
            let aim = game.predictor.state().map_or(0.0, |s| s.aim);
            if let Some((x, y)) = to_cell(pos + Vec2::from_angle(aim) * (1.5 * camera.unit_y)) {
                buf.set_string(x, y, "+", Style::new().fg(Color::LightGreen));
            }
        }
    }
}
