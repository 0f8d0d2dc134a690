//! Figures per room, with a `room` label: tick time, players and overruns; and the rooms opened, closed
//! and failed. The process totals (`arena_players`, `arena_tick_seconds`, ...) stay beside them.

use super::Histogram;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// One room's figures.
#[derive(Default)]
struct RoomFigures {
    tick_time: Histogram,
    overruns: u64,
    players: u64,
}

/// Every open room's figures, and the rooms' counters.
#[derive(Default)]
pub struct PerRoom {
    rooms: Mutex<BTreeMap<String, RoomFigures>>,
    /// Rooms opened since the start.
    pub opened: AtomicU64,
    /// Rooms closed because they stayed empty.
    pub closed: AtomicU64,
    /// Rooms closed because their tick failed (a panic).
    pub failed: AtomicU64,
}

impl PerRoom {
    /// Records one tick of `room`: how long it took against the period, and the players it holds after it.
    pub fn record(&self, room: &str, took: Duration, period: Duration, players: u32) {
        let Ok(mut rooms) = self.rooms.lock() else {
            return;
        };
        let figures = match rooms.get_mut(room) {
            Some(figures) => figures,
            None => rooms.entry(room.to_owned()).or_default(),
        };
        figures.tick_time.record_us(took.as_micros() as u64);
        figures.overruns += u64::from(took > period);
        figures.players = u64::from(players);
    }

    /// Drops a closed room's figures.
    pub fn forget(&self, room: &str) {
        if let Ok(mut rooms) = self.rooms.lock() {
            rooms.remove(room);
        }
    }

    /// Players in every room.
    pub fn players(&self) -> u64 {
        self.rooms
            .lock()
            .map(|rooms| rooms.values().map(|r| r.players).sum())
            .unwrap_or(0)
    }

    /// Each open room's tick time at quantile `q`, in microseconds, by room code.
    pub fn tick_quantile_us(&self, q: f64) -> BTreeMap<String, u64> {
        self.rooms
            .lock()
            .map(|rooms| {
                rooms
                    .iter()
                    .map(|(code, r)| (code.clone(), r.tick_time.quantile_us(q)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The rooms' lines in the Prometheus text format.
    pub fn render(&self, out: &mut String) {
        for (name, value) in [
            ("rooms_opened_total", &self.opened),
            ("rooms_closed_total", &self.closed),
            ("rooms_failed_total", &self.failed),
        ] {
            let _ = writeln!(
                out,
                "# TYPE arena_{name} counter\narena_{name} {}",
                value.load(Ordering::Relaxed)
            );
        }
        let Ok(rooms) = self.rooms.lock() else {
            return;
        };
        let _ = writeln!(out, "# TYPE arena_rooms gauge\narena_rooms {}", rooms.len());
        let _ = writeln!(out, "# TYPE arena_room_players gauge");
        for (code, r) in rooms.iter() {
            let _ = writeln!(out, "arena_room_players{{room=\"{code}\"}} {}", r.players);
        }
        let _ = writeln!(out, "# TYPE arena_room_tick_overruns_total counter");
        for (code, r) in rooms.iter() {
            let _ = writeln!(out, "arena_room_tick_overruns_total{{room=\"{code}\"}} {}", r.overruns);
        }
        let _ = writeln!(out, "# TYPE arena_room_tick_seconds summary");
        for (code, r) in rooms.iter() {
            for q in [0.5, 0.99] {
                let _ = writeln!(
                    out,
                    "arena_room_tick_seconds{{room=\"{code}\",quantile=\"{q}\"}} {}",
                    r.tick_time.quantile_us(q) as f64 / 1e6
                );
            }
            let _ = writeln!(
                out,
                "arena_room_tick_seconds_count{{room=\"{code}\"}} {}",
                r.tick_time.count()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_room_has_its_lines_until_it_is_forgotten() {
        let rooms = PerRoom::default();
        let period = Duration::from_millis(16);
        rooms.record("ABCDE", Duration::from_micros(700), period, 3);
        rooms.record("ABCDE", Duration::from_millis(20), period, 4);
        rooms.record("FGHJK", Duration::from_micros(300), period, 2);
        super::super::inc(&rooms.opened);
        let mut text = String::new();
        rooms.render(&mut text);
        for line in [
            "arena_rooms 2",
            "arena_rooms_opened_total 1",
            "arena_room_players{room=\"ABCDE\"} 4",
            "arena_room_players{room=\"FGHJK\"} 2",
            "arena_room_tick_overruns_total{room=\"ABCDE\"} 1",
            "arena_room_tick_overruns_total{room=\"FGHJK\"} 0",
            "arena_room_tick_seconds{room=\"FGHJK\",quantile=\"0.5\"} 0.0003",
            "arena_room_tick_seconds_count{room=\"ABCDE\"} 2",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
        assert_eq!(rooms.players(), 6);
        rooms.forget("ABCDE");
        let mut text = String::new();
        rooms.render(&mut text);
        assert!(!text.contains("ABCDE") && text.contains("arena_rooms 1"), "{text}");
    }
}
