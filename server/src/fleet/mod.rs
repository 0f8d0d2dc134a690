//! What the server tells an orchestrator that runs it as one of a fleet: ready, still healthy, how many
//! seats and rooms it has, who plays, and that it has shut down.
//!
//! The orchestrator is behind [`Lifecycle`], a small trait whose calls only queue a message and never wait
//! for the orchestrator, so the game never blocks on it: [`Noop`] when nothing runs the server, [`Agones`]
//! for Agones' SDK sidecar (Hathora or Edgegap would be a third implementation). [`drive`] decides when to
//! call what, from the server's own signals ([`Health`], the [`Directory`] of rooms); the dispatcher reports
//! players joining and leaving.

mod agones;

pub use agones::{Agones, CALL_TIMEOUT, DEFAULT_SDK_HTTP_PORT, MAX_BACKOFF, QUEUED_CALLS};

use crate::game::ClientId;
use crate::health::Health;
use crate::rooms::Directory;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often [`drive`] looks for the first tick before the server is ready.
const READY_POLL: Duration = Duration::from_millis(20);

/// The labels the server keeps on itself, so allocators and operators can select on them.
pub mod label {
    /// Seats free in all rooms (0 while draining).
    pub const FREE_SEATS: &str = "arena-free-seats";
    /// Rooms open.
    pub const ROOMS: &str = "arena-rooms";
    /// "true" once the server drains: an allocator should pick another server.
    pub const DRAINING: &str = "arena-draining";
}

/// A future an orchestrator call completes with.
pub type Pending<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// The orchestrator's side of a server's life. Every call but [`Lifecycle::shutdown`] only queues a
/// message and returns at once; a message that cannot be delivered is retried or dropped by the
/// implementation, never waited for by the caller.
pub trait Lifecycle: Send + Sync {
    /// The server is bound and ticking: players may be sent to it.
    fn ready(&self);
    /// The tick loop is alive (called every health period while it is, and only then).
    fn health(&self);
    /// Sets one label (the keys of [`label`]) to `value`.
    fn label(&self, key: &'static str, value: String);
    /// A player connected.
    fn player_connected(&self, client: ClientId);
    /// A player's connection ended.
    fn player_disconnected(&self, client: ClientId);
    /// The server has drained and exits: completes once the orchestrator has been told, or after
    /// `within`, whichever is first.
    fn shutdown(&self, within: Duration) -> Pending<'_>;
}

/// No orchestrator: every call does nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct Noop;

impl Lifecycle for Noop {
    fn ready(&self) {}
    fn health(&self) {}
    fn label(&self, _key: &'static str, _value: String) {}
    fn player_connected(&self, _client: ClientId) {}
    fn player_disconnected(&self, _client: ClientId) {}
    fn shutdown(&self, _within: Duration) -> Pending<'_> {
        Box::pin(std::future::ready(()))
    }
}

/// Tells `lifecycle` about the server, until the task is dropped: ready once every tick thread has ticked;
/// then every `every`, a health ping while the tick loop is alive (a stuck or ended tick stops the pings,
/// so the orchestrator replaces the server) and the labels that changed (free seats, rooms, draining).
pub async fn drive(lifecycle: Arc<dyn Lifecycle>, health: Arc<Health>, directory: Arc<Directory>, every: Duration) {
    while !health.ticking() {
        tokio::time::sleep(READY_POLL).await;
    }
    lifecycle.ready();
    let mut shown = Labels::default();
    let mut period = tokio::time::interval(every);
    period.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        period.tick().await;
        if health.liveness(Instant::now()).is_ok() {
            lifecycle.health();
        }
        let now = Labels {
            free_seats: Some(if health.draining() { 0 } else { health.free_seats() }),
            rooms: Some(directory.open_rooms()),
            draining: Some(health.draining()),
        };
        shown.update(&now, lifecycle.as_ref());
    }
}

/// The labels last set.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Labels {
    free_seats: Option<usize>,
    rooms: Option<usize>,
    draining: Option<bool>,
}

impl Labels {
    /// Sets the labels of `now` that differ from these, and remembers them.
    fn update(&mut self, now: &Self, lifecycle: &dyn Lifecycle) {
        if self.free_seats != now.free_seats
            && let Some(free) = now.free_seats
        {
            lifecycle.label(label::FREE_SEATS, free.to_string());
        }
        if self.rooms != now.rooms
            && let Some(rooms) = now.rooms
        {
            lifecycle.label(label::ROOMS, rooms.to_string());
        }
        if self.draining != now.draining
            && let Some(draining) = now.draining
        {
            lifecycle.label(label::DRAINING, draining.to_string());
        }
        *self = *now;
    }
}
