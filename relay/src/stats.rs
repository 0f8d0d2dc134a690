//! The counters a running relay keeps, and the [`RelayStats`] snapshot of them that [`Relay::stats`] returns.
//!
//! [`Relay::stats`]: crate::Relay::stats

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of one direction, at the moment of the snapshot. Once nothing is in flight,
/// `received + duplicated = lost + queue_full + forwarded + send_failed` (plus
/// [`RelayStats::clients_refused`] towards the server).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DirectionStats {
    /// Datagrams read from the sending side, counted once their verdict is counted.
    pub received: u64,
    /// Datagrams (copies included) handed to the receiving side's socket.
    pub forwarded: u64,
    /// Datagrams dropped by the simulated loss.
    pub lost: u64,
    /// Extra copies made by the simulated duplication.
    pub duplicated: u64,
    /// Datagrams held back so that later ones overtake them.
    pub reordered: u64,
    /// Datagrams (or copies) dropped because the direction's queue was full
    /// ([`MAX_QUEUED_PACKETS`](crate::MAX_QUEUED_PACKETS), [`MAX_QUEUED_BYTES`](crate::MAX_QUEUED_BYTES)).
    pub queue_full: u64,
    /// Datagrams the operating system refused to send.
    pub send_failed: u64,
}

/// A snapshot of everything the relay counted since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelayStats {
    /// Client to server.
    pub to_server: DirectionStats,
    /// Server to client.
    pub to_client: DirectionStats,
    /// Clients with a mapping now.
    pub clients: u64,
    /// Mappings created since the start.
    pub clients_total: u64,
    /// Mappings removed after [`IDLE_TIMEOUT`](crate::IDLE_TIMEOUT) without traffic.
    pub clients_expired: u64,
    /// Datagrams from new clients dropped because [`MAX_CLIENTS`](crate::MAX_CLIENTS) mappings existed or their
    /// upstream socket could not be opened.
    pub clients_refused: u64,
}

impl fmt::Display for DirectionStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "received {}, forwarded {}, lost {}, duplicated {}, reordered {}, queue full {}, send failed {}",
            self.received,
            self.forwarded,
            self.lost,
            self.duplicated,
            self.reordered,
            self.queue_full,
            self.send_failed
        )
    }
}

impl fmt::Display for RelayStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "to server: {}; to client: {}; clients: {} now, {} total, {} expired, {} packets refused",
            self.to_server,
            self.to_client,
            self.clients,
            self.clients_total,
            self.clients_expired,
            self.clients_refused
        )
    }
}

/// The live counters of one direction.
#[derive(Debug, Default)]
pub(crate) struct DirectionCounters {
    pub(crate) received: AtomicU64,
    pub(crate) forwarded: AtomicU64,
    pub(crate) lost: AtomicU64,
    pub(crate) duplicated: AtomicU64,
    pub(crate) reordered: AtomicU64,
    pub(crate) queue_full: AtomicU64,
    pub(crate) send_failed: AtomicU64,
}

impl DirectionCounters {
    fn snapshot(&self) -> DirectionStats {
        DirectionStats {
            received: get(&self.received),
            forwarded: get(&self.forwarded),
            lost: get(&self.lost),
            duplicated: get(&self.duplicated),
            reordered: get(&self.reordered),
            queue_full: get(&self.queue_full),
            send_failed: get(&self.send_failed),
        }
    }
}

/// The live counters of the relay.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) to_server: Arc<DirectionCounters>,
    pub(crate) to_client: Arc<DirectionCounters>,
    pub(crate) clients: AtomicU64,
    pub(crate) clients_total: AtomicU64,
    pub(crate) clients_expired: AtomicU64,
    pub(crate) clients_refused: AtomicU64,
}

impl Counters {
    pub(crate) fn snapshot(&self) -> RelayStats {
        RelayStats {
            to_server: self.to_server.snapshot(),
            to_client: self.to_client.snapshot(),
            clients: get(&self.clients),
            clients_total: get(&self.clients_total),
            clients_expired: get(&self.clients_expired),
            clients_refused: get(&self.clients_refused),
        }
    }
}

/// Adds one to a counter.
pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// Sets a gauge.
pub(crate) fn set(counter: &AtomicU64, value: usize) {
    counter.store(u64::try_from(value).unwrap_or(u64::MAX), Ordering::Relaxed);
}

fn get(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_snapshot_reads_every_counter() {
        let c = Counters::default();
        bump(&c.to_server.received);
        bump(&c.to_server.received);
        bump(&c.to_client.lost);
        set(&c.clients, 3);
        bump(&c.clients_refused);
        let s = c.snapshot();
        assert_eq!(s.to_server.received, 2);
        assert_eq!(s.to_client.lost, 1);
        assert_eq!((s.clients, s.clients_refused), (3, 1));
        let text = s.to_string();
        assert!(text.contains("to server: received 2,"), "{text}");
        assert!(text.contains("3 now"), "{text}");
    }
}
