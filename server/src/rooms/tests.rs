//! The directory's placing of players (quick join, by code, new rooms, the limits) and the tick threads'
//! handling of a room that fails or empties.

use super::*;
use crate::game::{Sim, SimConfig};
use crate::health::Health;
use crate::metrics::Metrics;
use crate::tick::{Shared, TickLoop};
use arena_shared::arena::Arena;
use arena_shared::protocol::{Mode, RejectReason, RoomCode, RoomRequest};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn sim() -> Sim {
    Sim::new(SimConfig {
        tick_rate: 60,
        seed: 1,
        arena: Arena::standard(),
    })
}

fn make_room(code: RoomCode, _mode: Mode) -> Room {
    Room::new(code, 0, sim(), "standard".into(), 2)
}

/// A directory of rooms of 2 seats, on two tick threads whose new rooms are kept (not run).
fn directory(max_rooms: usize, max_players: usize) -> (Arc<Directory>, Vec<mpsc::Receiver<Room>>) {
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..2).map(|_| mpsc::channel()).unzip();
    let limits = RoomLimits {
        room_size: 2,
        max_rooms,
        max_players,
        max_rooms_per_ip: 100,
    };
    (
        Arc::new(Directory::new(limits, Box::new(make_room), senders, 9)),
        receivers,
    )
}

const QUICK: RoomRequest = RoomRequest::Quick { mode: Mode::Deathmatch };
const HOME: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

#[test]
fn quick_join_fills_the_fullest_public_room_then_opens_another_on_the_least_busy_thread() {
    let (rooms, _threads) = directory(8, 100);
    let a = rooms.place(&QUICK, false, HOME).unwrap();
    let b = rooms.place(&QUICK, false, HOME).unwrap();
    assert_eq!(a.code, b.code, "the second player joins the first's room");
    let c = rooms.place(&QUICK, false, HOME).unwrap();
    assert_ne!(c.code, a.code, "a full room: a new one");
    assert_eq!(rooms.loads(), vec![1, 1], "one room on each tick thread");
    let private = RoomRequest::Create {
        mode: Mode::Deathmatch,
        private: true,
    };
    let p = rooms.place(&private, false, HOME).unwrap();
    let d = rooms.place(&QUICK, false, HOME).unwrap();
    assert_eq!(
        d.code, c.code,
        "quick join skips the private room, though it has a seat"
    );
    let listed: Vec<RoomCode> = rooms.list().rooms.into_iter().map(|r| r.code).collect();
    assert!(!listed.contains(&p.code), "a private room is not listed");
    assert_eq!(listed.len(), 2);
    let by_code = rooms.place(&RoomRequest::Code(p.code.clone()), false, HOME).unwrap();
    assert_eq!(by_code.code, p.code, "a private room takes a player by its code");

    let (rooms, _threads) = directory(8, 100);
    let a = rooms.place(&QUICK, false, HOME).unwrap();
    let create = RoomRequest::Create {
        mode: Mode::Deathmatch,
        private: false,
    };
    drop(rooms.place(&create, false, HOME).unwrap());
    let b = rooms.place(&QUICK, false, HOME).unwrap();
    assert_eq!(b.code, a.code, "of two open rooms, the fuller (1 player against 0)");
}

#[test]
fn a_room_by_code_may_be_full_or_gone_and_a_resume_is_seated_in_a_full_room() {
    let (rooms, _threads) = directory(8, 100);
    let a = rooms.place(&QUICK, false, HOME).unwrap();
    let _b = rooms.place(&RoomRequest::Code(a.code.clone()), false, HOME).unwrap();
    let full = rooms.place(&RoomRequest::Code(a.code.clone()), false, HOME).err();
    assert_eq!(full, Some(RejectReason::RoomFull));
    assert!(
        rooms.place(&RoomRequest::Code(a.code.clone()), true, HOME).is_ok(),
        "a resume is seated"
    );
    let unknown = RoomCode::parse("ZZZZZ").unwrap();
    assert_eq!(
        rooms.place(&RoomRequest::Code(unknown), false, HOME).err(),
        Some(RejectReason::NoSuchRoom)
    );
}

#[test]
fn the_room_and_player_limits_hold() {
    let (rooms, _threads) = directory(1, 3);
    let create = RoomRequest::Create {
        mode: Mode::Deathmatch,
        private: false,
    };
    let a = rooms.place(&create, false, HOME).unwrap();
    assert_eq!(
        rooms.place(&create, false, HOME).err(),
        Some(RejectReason::TooManyRooms)
    );
    let _b = rooms.place(&QUICK, false, HOME).unwrap();
    assert_eq!(
        rooms.place(&QUICK, false, HOME).err(),
        Some(RejectReason::TooManyRooms),
        "the one room is full, and no other may open"
    );
    drop(a);
    let (rooms, _threads) = directory(8, 3);
    let _seats: Vec<Seat> = (0..3).map(|_| rooms.place(&QUICK, false, HOME).unwrap()).collect();
    assert_eq!(
        rooms.place(&QUICK, false, HOME).err(),
        Some(RejectReason::Full),
        "--max-players"
    );
}

#[test]
fn one_address_may_open_only_so_many_rooms_and_others_still_may() {
    let (senders, _threads): (Vec<_>, Vec<_>) = (0..2).map(|_| mpsc::channel()).unzip();
    let limits = RoomLimits {
        room_size: 2,
        max_rooms: 8,
        max_players: 100,
        max_rooms_per_ip: 2,
    };
    let rooms = Arc::new(Directory::new(limits, Box::new(make_room), senders, 9));
    let create = RoomRequest::Create {
        mode: Mode::Deathmatch,
        private: true,
    };
    let ipv6 = |last: u16| std::net::IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 0, 0, 0, last));
    // Opened and left empty (the seat dropped at once), as a peer reconnecting to take rooms would.
    assert!(rooms.place(&create, false, ipv6(1)).is_ok());
    assert!(rooms.place(&create, false, ipv6(2)).is_ok(), "the same /64");
    assert_eq!(
        rooms.place(&create, false, ipv6(3)).err(),
        Some(RejectReason::TooManyRooms)
    );
    assert_eq!(
        rooms.place(&QUICK, false, ipv6(3)).err(),
        Some(RejectReason::TooManyRooms),
        "quick join opens too"
    );
    assert!(
        rooms.place(&create, false, HOME).is_ok(),
        "another address opens its own"
    );
}

#[test]
fn an_empty_room_closes_only_when_no_seat_is_held() {
    let (rooms, _threads) = directory(8, 100);
    let a = rooms.place(&QUICK, false, HOME).unwrap();
    let code = a.code.clone();
    assert!(!rooms.close_if_empty(&code, 0), "a seat is held");
    drop(a);
    assert!(rooms.close_if_empty(&code, 0));
    assert_eq!(rooms.open_rooms(), 0);
    assert_eq!(
        rooms.place(&RoomRequest::Code(code), false, HOME).err(),
        Some(RejectReason::NoSuchRoom)
    );
}

/// Two rooms on one tick thread, one of which fails at its first tick: that room is closed and counted,
/// the other ticks on.
#[test]
fn a_failing_room_is_closed_alone_and_the_other_rooms_play_on() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = runtime.enter();
    let (to_thread, new_rooms) = mpsc::channel();
    let limits = RoomLimits {
        room_size: 2,
        max_rooms: 8,
        max_players: 100,
        max_rooms_per_ip: 100,
    };
    // The first room made fails at its first tick: a resource its systems need is gone, as a bug would
    // leave it.
    let made = std::sync::atomic::AtomicU64::new(0);
    let make = move |code: RoomCode, _mode: Mode| {
        let id = made.fetch_add(1, Ordering::Relaxed);
        let mut sim = sim();
        if id == 0 {
            sim.world_mut().remove_resource::<crate::game::resources::TickCount>();
        }
        Room::new(code, id, sim, "standard".into(), 2)
    };
    let directory = Arc::new(Directory::new(limits, Box::new(make), vec![to_thread], 3));
    let create = RoomRequest::Create {
        mode: Mode::Deathmatch,
        private: false,
    };
    let doomed = directory.place(&create, false, HOME).unwrap().code.clone();
    let healthy = directory.place(&create, false, HOME).unwrap().code.clone();
    let metrics = Arc::new(Metrics::default());
    let health = Arc::new(Health::new(100, 1));
    let stop = Arc::new(AtomicBool::new(false));
    let shared = Arc::new(Shared {
        pool: crate::game::Pool::new(1),
        to_dispatch: crate::dispatch::spawn(metrics.clone(), Arc::new(crate::fleet::Noop)),
        metrics: metrics.clone(),
        health: health.clone(),
        directory: directory.clone(),
        period: Duration::from_millis(10),
        room_idle: Duration::from_secs(60),
        stop: stop.clone(),
        drain: Arc::new(std::sync::OnceLock::new()),
    });
    let thread = std::thread::spawn(move || TickLoop::new(0, new_rooms, shared).run());
    // The other room's ticks, as its metrics count them (debug builds on a busy machine are slow: wait for
    // ten of them, at most 10 s).
    let count = format!("arena_room_tick_seconds_count{{room=\"{healthy}\"}} ");
    let healthy_ticks = || {
        let text = metrics.render_prometheus();
        let line = text.lines().find(|l| l.starts_with(&count)).unwrap_or_default();
        line.trim_start_matches(&count).parse::<u64>().unwrap_or(0)
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while healthy_ticks() < 10 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let alive = health.liveness(Instant::now());
    stop.store(true, Ordering::Relaxed);
    thread.join().unwrap();

    assert!(healthy_ticks() >= 10, "the other room ticked on: {}", healthy_ticks());
    assert_eq!(metrics.rooms.failed.load(Ordering::Relaxed), 1);
    let listed: Vec<RoomCode> = directory.list().rooms.into_iter().map(|r| r.code).collect();
    assert_eq!(
        listed,
        vec![healthy.clone()],
        "the failed room is gone from the directory"
    );
    let ticks = metrics.rooms.tick_quantile_us(0.5);
    assert!(
        !ticks.contains_key(doomed.as_str()),
        "the failed room's figures are gone: {ticks:?}"
    );
    assert!(alive.is_ok(), "the server is alive: {alive:?}");
}
