//! The directory of rooms: which rooms exist, who may join which, and the seats taken. The edge asks it to
//! place each `Hello` ([`Directory::place`]); the tick threads report each room's players and match state to
//! it, and close empty rooms through it. Everything here is short work under one lock.

use super::room::Room;
use crate::net::ToTick;
use crate::net::limits::ip_key;
use arena_shared::protocol::{
    MAX_LISTED_ROOMS, MatchState, Mode, ROOM_CODE_LEN, RejectReason, RoomCode, RoomInfo, RoomList, RoomRequest,
};
use rand::{RngExt, SeedableRng};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::mpsc;

/// Makes a new room's simulation: its code and mode given, the rest from the server's settings.
pub type MakeRoom = dyn Fn(RoomCode, Mode) -> Room + Send + Sync;

/// How many rooms, and how big.
#[derive(Debug, Clone, Copy)]
pub struct RoomLimits {
    /// Seats in a room (`--room-size`).
    pub room_size: u16,
    /// Rooms open at once (`--max-rooms`).
    pub max_rooms: usize,
    /// Players in all rooms, connected or held for a resume (`--max-players`); a resume is always seated.
    pub max_players: usize,
    /// Rooms one address (an IPv4 address or an IPv6 /64) may have opened and still open
    /// (`--max-rooms-per-ip`): a peer reconnecting to open rooms it leaves empty cannot take every room.
    pub max_rooms_per_ip: usize,
}

/// Where a placed connection plays: its room, and the seat it holds there until dropped.
pub struct Seat {
    pub code: RoomCode,
    /// The room's queue of events for its tick.
    pub to_room: mpsc::Sender<ToTick>,
    directory: Arc<Directory>,
}

impl Drop for Seat {
    fn drop(&mut self) {
        self.directory.free_seat(&self.code);
    }
}

/// One open room, as the directory knows it.
struct Entry {
    private: bool,
    mode: Mode,
    map: String,
    capacity: u16,
    /// Connections placed here and not gone.
    seated: u16,
    /// Players in the room's world (connected or held for a resume), as its tick thread last reported.
    reported: u16,
    state: MatchState,
    to_room: mpsc::Sender<ToTick>,
    /// When the room opened, in directory order: the older of two equally full rooms is filled first.
    opened: u64,
    /// The address (its [`ip_key`]) of the connection that opened the room.
    opener: IpAddr,
}

impl Entry {
    fn occupied(&self) -> u16 {
        self.seated.max(self.reported)
    }

    fn has_seat(&self) -> bool {
        self.occupied() < self.capacity
    }

    fn info(&self, code: &RoomCode) -> RoomInfo {
        RoomInfo {
            code: code.clone(),
            map: self.map.clone(),
            mode: self.mode,
            players: self.occupied(),
            capacity: self.capacity,
            state: self.state,
            join_in_progress: true,
        }
    }
}

struct Inner {
    rooms: HashMap<RoomCode, Entry>,
    opened: u64,
    rng: rand::rngs::StdRng,
}

/// The rooms of a server, and the tick threads new rooms go to.
pub struct Directory {
    inner: Mutex<Inner>,
    limits: RoomLimits,
    make: Box<MakeRoom>,
    /// Each tick thread's queue of new rooms, and the rooms it runs.
    threads: Vec<(std::sync::mpsc::Sender<Room>, std::sync::atomic::AtomicUsize)>,
}

impl Directory {
    /// A directory of no rooms yet, handing new rooms to `threads` (one sender per tick thread).
    pub fn new(
        limits: RoomLimits,
        make: Box<MakeRoom>,
        threads: Vec<std::sync::mpsc::Sender<Room>>,
        seed: u64,
    ) -> Self {
        Self {
            inner: Mutex::new(Inner {
                rooms: HashMap::new(),
                opened: 0,
                rng: rand::rngs::StdRng::seed_from_u64(seed),
            }),
            limits,
            make,
            threads: threads
                .into_iter()
                .map(|t| (t, std::sync::atomic::AtomicUsize::new(0)))
                .collect(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves the map consistent (every change is one insert or remove).
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Places a connection from `peer` that said `Hello` asking for `request` (`resume`: it takes back a
    /// player, which the room always seats): a seat in the chosen room, or why not.
    pub fn place(self: &Arc<Self>, request: &RoomRequest, resume: bool, peer: IpAddr) -> Result<Seat, RejectReason> {
        let mut inner = self.lock();
        let players: usize = inner.rooms.values().map(|e| usize::from(e.occupied())).sum();
        if !resume && players >= self.limits.max_players {
            return Err(RejectReason::Full);
        }
        let code = match request {
            RoomRequest::Quick { mode } => match Self::fullest_open(&inner, *mode) {
                Some(code) => code,
                None => self.open(&mut inner, *mode, false, peer)?,
            },
            RoomRequest::Code(code) => {
                let entry = inner.rooms.get(code).ok_or(RejectReason::NoSuchRoom)?;
                if !resume && !entry.has_seat() {
                    return Err(RejectReason::RoomFull);
                }
                code.clone()
            }
            RoomRequest::Create { mode, private } => self.open(&mut inner, *mode, *private, peer)?,
        };
        let entry = inner.rooms.get_mut(&code).ok_or(RejectReason::NoSuchRoom)?;
        entry.seated += 1;
        Ok(Seat {
            code,
            to_room: entry.to_room.clone(),
            directory: Arc::clone(self),
        })
    }

    /// The public room of `mode` with a free seat and the most players (the oldest of equals).
    fn fullest_open(inner: &Inner, mode: Mode) -> Option<RoomCode> {
        inner
            .rooms
            .iter()
            .filter(|(_, e)| !e.private && e.mode == mode && e.has_seat())
            .max_by_key(|(_, e)| (e.occupied(), std::cmp::Reverse(e.opened)))
            .map(|(code, _)| code.clone())
    }

    /// Opens a room for `peer` and hands it to the tick thread running the fewest.
    fn open(&self, inner: &mut Inner, mode: Mode, private: bool, peer: IpAddr) -> Result<RoomCode, RejectReason> {
        let opener = ip_key(peer);
        let by_opener = inner.rooms.values().filter(|e| e.opener == opener).count();
        if inner.rooms.len() >= self.limits.max_rooms
            || by_opener >= self.limits.max_rooms_per_ip
            || self.threads.is_empty()
        {
            return Err(RejectReason::TooManyRooms);
        }
        let code = loop {
            let code = RoomCode::from_indices(inner.rng.random::<[u8; ROOM_CODE_LEN]>());
            if !inner.rooms.contains_key(&code) {
                break code;
            }
        };
        let room = (self.make)(code.clone(), mode);
        let (thread, load) = self
            .threads
            .iter()
            .min_by_key(|(_, load)| load.load(std::sync::atomic::Ordering::Relaxed))
            .ok_or(RejectReason::TooManyRooms)?;
        let entry = Entry {
            private,
            mode,
            map: room.map_name().to_owned(),
            capacity: self.limits.room_size,
            seated: 0,
            reported: 0,
            state: MatchState::default(),
            to_room: room.sender(),
            opened: inner.opened,
            opener,
        };
        thread.send(room).map_err(|_| RejectReason::ShuttingDown)?;
        load.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        inner.opened += 1;
        inner.rooms.insert(code.clone(), entry);
        tracing::info!(room = %code, %mode, private, "room opened");
        Ok(code)
    }

    fn free_seat(&self, code: &RoomCode) {
        if let Some(entry) = self.lock().rooms.get_mut(code) {
            entry.seated = entry.seated.saturating_sub(1);
        }
    }

    /// A tick thread's report after one of its room's ticks.
    pub fn report(&self, code: &RoomCode, players: u32, state: MatchState) {
        if let Some(entry) = self.lock().rooms.get_mut(code) {
            entry.reported = players.min(u32::from(u16::MAX)) as u16;
            entry.state = state;
        }
    }

    /// Closes a room that nobody is in or on the way to (true), or keeps it (false: a connection was placed
    /// there meanwhile). Its tick thread drops it after a true.
    pub fn close_if_empty(&self, code: &RoomCode, thread: usize) -> bool {
        let mut inner = self.lock();
        match inner.rooms.get(code) {
            Some(entry) if entry.seated > 0 => false,
            _ => {
                inner.rooms.remove(code);
                self.unload(thread);
                true
            }
        }
    }

    /// Forgets a room that failed; its tick thread has closed its connections.
    pub fn remove(&self, code: &RoomCode, thread: usize) {
        if self.lock().rooms.remove(code).is_some() {
            self.unload(thread);
        }
    }

    fn unload(&self, thread: usize) {
        if let Some((_, load)) = self.threads.get(thread) {
            load.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// The public rooms, the fullest first (then the oldest), at most [`MAX_LISTED_ROOMS`].
    pub fn list(&self) -> RoomList {
        self.listing(false, MAX_LISTED_ROOMS)
    }

    /// Every room open, private ones included (for operators), the fullest first.
    pub fn list_all(&self) -> RoomList {
        self.listing(true, usize::MAX)
    }

    fn listing(&self, private: bool, at_most: usize) -> RoomList {
        let inner = self.lock();
        let mut rooms: Vec<(&RoomCode, &Entry)> = inner.rooms.iter().filter(|(_, e)| private || !e.private).collect();
        rooms.sort_unstable_by_key(|(_, e)| (std::cmp::Reverse(e.occupied()), e.opened));
        RoomList {
            rooms: rooms.into_iter().take(at_most).map(|(code, e)| e.info(code)).collect(),
        }
    }

    /// Rooms open now, private ones included.
    pub fn open_rooms(&self) -> usize {
        self.lock().rooms.len()
    }

    /// Rooms each tick thread runs.
    pub fn loads(&self) -> Vec<usize> {
        self.threads
            .iter()
            .map(|(_, load)| load.load(std::sync::atomic::Ordering::Relaxed))
            .collect()
    }
}
