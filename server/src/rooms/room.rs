//! One room: a simulation, its queue of events from the edge, and its players' connections. Its tick
//! thread calls [`Room::tick`] when it is due; nothing else touches it.

use crate::dispatch::{Dispatch, DispatchSender, Seated, close_conn};
use crate::game::resources::TickStats;
use crate::game::{ClientId, Inbound, Outbound, Pool, Sim};
use crate::net::{ClientHandle, ToTick};
use arena_shared::protocol::{MatchPhase, RoomCode, ServerFrame};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TryRecvError;

/// Events a room's queue holds per seat; when full, inputs and chat are dropped (and counted), joins and
/// leaves wait for room.
const QUEUE_PER_SEAT: usize = 16;
/// The least and most events a room's queue holds.
const QUEUE_BOUNDS: (usize, usize) = (256, 16_384);

/// A room: its simulation and what the tick thread needs to run it.
pub struct Room {
    pub code: RoomCode,
    /// A number unique to this room in the process (the dispatcher's key).
    pub id: u64,
    sim: Sim,
    map: String,
    from_edge: mpsc::Receiver<ToTick>,
    to_room: mpsc::Sender<ToTick>,
    /// Every joined client, to close when the room closes.
    clients: HashMap<ClientId, ClientHandle>,
    outbox: Vec<Outbound>,
    /// When the next tick is due.
    pub next: Instant,
    /// Since when nobody has been in the room (`None`: someone is).
    pub empty_since: Option<Instant>,
    /// While the server drains: whether this room waits for its match to end (it had one in progress, or
    /// its results, when it heard of the drain); `None` before it heard.
    pub finishing: Option<bool>,
    /// When an overrun of this room was last logged (at most one line a second; the metrics count them all).
    overrun_logged: Option<Instant>,
}

impl Room {
    /// A room of `sim` named `code`, on a map called `map`, with a queue sized for `seats`.
    pub fn new(code: RoomCode, id: u64, sim: Sim, map: String, seats: u16) -> Self {
        let queue = (usize::from(seats) * QUEUE_PER_SEAT).clamp(QUEUE_BOUNDS.0, QUEUE_BOUNDS.1);
        let (to_room, from_edge) = mpsc::channel(queue);
        let now = Instant::now();
        Self {
            code,
            id,
            sim,
            map,
            from_edge,
            to_room,
            clients: HashMap::new(),
            outbox: Vec::new(),
            next: now,
            empty_since: Some(now),
            finishing: None,
            overrun_logged: None,
        }
    }

    /// Where the edge queues this room's events.
    pub fn sender(&self) -> mpsc::Sender<ToTick> {
        self.to_room.clone()
    }

    pub fn map_name(&self) -> &str {
        &self.map
    }

    pub fn sim(&self) -> &Sim {
        &self.sim
    }

    /// One tick started at `started`: the queue drained into the simulation, the tick on `pool`, the outbox
    /// handed to the dispatcher. What the tick did, for the metrics.
    pub fn tick(&mut self, started: Instant, pool: &Pool, dispatch: &DispatchSender) -> TickStats {
        self.drain_edge(started, dispatch);
        self.sim.tick(pool);
        self.sim.drain_outbox(&mut self.outbox);
        let capacity = self.outbox.len();
        let outbox = std::mem::replace(&mut self.outbox, Vec::with_capacity(capacity));
        dispatch.send(Dispatch::Out(self.id, outbox));
        let stats = self.sim.stats();
        self.empty_since = match (stats.players, self.empty_since) {
            (0, None) => Some(started),
            (0, since) => since,
            _ => None,
        };
        stats
    }

    /// Logs a tick that took `took`, longer than its `period`, in a span naming the room (at most one line
    /// a second per room).
    pub fn log_overrun(&mut self, took: Duration, period: Duration, now: Instant) {
        if self
            .overrun_logged
            .is_some_and(|at| now.saturating_duration_since(at) < Duration::from_secs(1))
        {
            return;
        }
        self.overrun_logged = Some(now);
        let (took_us, period_us) = (took.as_micros() as u64, period.as_micros() as u64);
        let span = tracing::info_span!("overrun", room = %self.code, took_us, period_us);
        span.in_scope(|| tracing::warn!("a tick overran its period"));
    }

    /// Whether the room has been empty for `idle` at `now`.
    pub fn idle_for(&self, idle: Duration, now: Instant) -> bool {
        self.empty_since
            .is_some_and(|since| now.saturating_duration_since(since) >= idle)
    }

    /// Whether the room may close now that the server drains towards `deadline`: at once when it had no
    /// match in progress when it heard (it tells its players the server closes, then), else when its match
    /// and results are over (back to warm-up) or at the deadline.
    pub fn drained(&mut self, deadline: Instant, now: Instant, dispatch: &DispatchSender) -> bool {
        let phase = self.sim.match_state().phase;
        let finishing = *self.finishing.get_or_insert_with(|| {
            let secs = deadline.saturating_duration_since(now).as_secs_f64().ceil() as u16;
            let closing = ServerFrame::Closing { secs };
            if let Ok(frame) = arena_shared::codec::encode_frame(&closing) {
                let told = Outbound::Broadcast { frame: frame.into() };
                dispatch.send(Dispatch::Out(self.id, vec![told]));
            }
            phase != MatchPhase::WarmUp
        });
        !finishing || phase == MatchPhase::WarmUp || now >= deadline
    }

    /// Closes every connection of the room with `reason` and tells the dispatcher the room is gone.
    pub fn close_all(&mut self, code: u32, reason: &str, dispatch: &DispatchSender) {
        for handle in self.clients.values() {
            close_conn(handle, code, reason);
        }
        self.clients.clear();
        dispatch.send(Dispatch::Closed(self.id));
    }

    /// Moves everything the edge queued into the simulation, for the tick that starts at `started`.
    fn drain_edge(&mut self, started: Instant, dispatch: &DispatchSender) {
        loop {
            match self.from_edge.try_recv() {
                Ok(ToTick::Join {
                    client,
                    name,
                    resume,
                    handle,
                }) => {
                    self.clients.insert(client, handle.clone());
                    let seated = Seated {
                        name: name.clone(),
                        room: self.code.clone(),
                    };
                    dispatch.send(Dispatch::Joined(self.id, client, handle, seated));
                    self.sim.push(match resume {
                        Some(token) => Inbound::Resume { client, name, token },
                        None => Inbound::Join { client, name },
                    });
                }
                Ok(ToTick::Input {
                    client,
                    datagram,
                    received,
                }) => self.sim.push(Inbound::Input {
                    client,
                    datagram,
                    waited: started.saturating_duration_since(received),
                }),
                Ok(ToTick::Event(event)) => {
                    if let Inbound::Leave { client } | Inbound::Lost { client } = &event {
                        self.clients.remove(client);
                        dispatch.send(Dispatch::Left(self.id, *client));
                    }
                    self.sim.push(event);
                }
                // The room keeps a sender of its own, so its queue is never disconnected.
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return,
            }
        }
    }
}
