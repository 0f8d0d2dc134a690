//! Handshakes in progress: connections accepted but not yet past `Hello`, bounded apart from the players.
//!
//! A silent connection costs the server a task and a little memory until its handshake deadline; many of them
//! (from many addresses, so the per-IP cap does not help) must not keep players out. So pending handshakes
//! have their own bound, and when it is reached the oldest is evicted (its connection closed) to make room:
//! an honest client, whose handshake takes a round trip or two, is only evicted if `max` newer connections
//! arrive within those round trips. Player slots are taken only at `Hello`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::Notify;

/// The registry of pending handshakes.
#[derive(Debug)]
pub struct Pending {
    max: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    next: u64,
    /// Oldest first: the key is the order of arrival.
    waiting: BTreeMap<u64, Arc<Notify>>,
}

/// One pending handshake's place in the registry; dropping it (the handshake ended, either way) frees it.
#[derive(Debug)]
pub struct Ticket {
    id: u64,
    evicted: Arc<Notify>,
    pending: Arc<Pending>,
}

impl Pending {
    /// A registry holding at most `max` pending handshakes (at least one).
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            max: max.max(1),
            inner: Mutex::default(),
        })
    }

    /// Handshakes pending now.
    pub fn len(&self) -> usize {
        self.lock().waiting.len()
    }

    /// Whether none is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Registers a new handshake. When `max` are already pending, the oldest is told to go first; the
    /// second value says whether one was.
    pub fn enter(self: &Arc<Self>) -> (Ticket, bool) {
        let evicted = Arc::new(Notify::new());
        let mut inner = self.lock();
        let mut evicted_one = false;
        if inner.waiting.len() >= self.max
            && let Some((_, oldest)) = inner.waiting.pop_first()
        {
            // `notify_one` keeps a permit when nobody waits yet, so the eviction is never missed.
            oldest.notify_one();
            evicted_one = true;
        }
        let id = inner.next;
        inner.next += 1;
        inner.waiting.insert(id, evicted.clone());
        drop(inner);
        let ticket = Ticket {
            id,
            evicted,
            pending: self.clone(),
        };
        (ticket, evicted_one)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The map stays consistent whatever a panicking holder did: every change is one insert or remove.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Ticket {
    /// Completes when this handshake was evicted to make room for a newer one.
    pub async fn evicted(&self) {
        self.evicted.notified().await;
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.pending.lock().waiting.remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    async fn was_evicted(ticket: &Ticket) -> bool {
        tokio::time::timeout(Duration::from_millis(20), ticket.evicted())
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn the_oldest_is_evicted_when_full_and_a_finished_handshake_frees_its_place() {
        let pending = Pending::new(2);
        let (a, evicted) = pending.enter();
        assert!(!evicted);
        let (b, _) = pending.enter();
        assert_eq!(pending.len(), 2);
        let (c, evicted) = pending.enter();
        assert!(evicted, "the third pushed one out");
        assert!(was_evicted(&a).await, "the oldest went");
        assert!(!was_evicted(&b).await && !was_evicted(&c).await);
        assert_eq!(pending.len(), 2);
        drop(b);
        assert_eq!(pending.len(), 1);
        let (_d, evicted) = pending.enter();
        assert!(!evicted, "a finished handshake made room");
        assert!(!was_evicted(&c).await);
        drop(a);
        assert_eq!(pending.len(), 2, "dropping an evicted ticket frees nothing twice");
    }
}
