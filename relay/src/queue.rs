//! A bounded timer queue: items wait ordered by deadline, then by arrival, and come out once due.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use tokio::time::Instant;

/// Items with a deadline and a size in bytes, at most `max_len` of them and `max_bytes` in total.
#[derive(Debug)]
pub(crate) struct TimerQueue<T> {
    heap: BinaryHeap<Entry<T>>,
    next_seq: u64,
    bytes: usize,
    max_len: usize,
    max_bytes: usize,
}

#[derive(Debug)]
struct Entry<T> {
    deadline: Instant,
    /// Arrival order: equal deadlines come out first in, first out.
    seq: u64,
    size: usize,
    item: T,
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.deadline, self.seq) == (other.deadline, other.seq)
    }
}

impl<T> Eq for Entry<T> {}

impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> Ord for Entry<T> {
    /// Reversed, so that the max-heap's top is the earliest deadline (and the first to arrive among equals).
    fn cmp(&self, other: &Self) -> Ordering {
        (other.deadline, other.seq).cmp(&(self.deadline, self.seq))
    }
}

impl<T> TimerQueue<T> {
    pub(crate) fn new(max_len: usize, max_bytes: usize) -> Self {
        Self {
            heap: BinaryHeap::new(),
            next_seq: 0,
            bytes: 0,
            max_len,
            max_bytes,
        }
    }

    /// Queues `item` until `deadline`. `Ok(true)` when it is now the earliest item (whoever sleeps until the
    /// earliest deadline must wake up), `Ok(false)` otherwise, and `Err(item)` when the queue is full.
    pub(crate) fn push(&mut self, deadline: Instant, size: usize, item: T) -> Result<bool, T> {
        if self.heap.len() >= self.max_len || self.bytes.saturating_add(size) > self.max_bytes {
            return Err(item);
        }
        let earliest = self.next_deadline().is_none_or(|first| deadline < first);
        self.heap.push(Entry {
            deadline,
            seq: self.next_seq,
            size,
            item,
        });
        self.next_seq += 1;
        self.bytes += size;
        Ok(earliest)
    }

    /// The earliest deadline, if anything is queued.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.heap.peek().map(|e| e.deadline)
    }

    /// The earliest item if its deadline is at or before `now`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<T> {
        if self.heap.peek()?.deadline > now {
            return None;
        }
        let entry = self.heap.pop()?;
        self.bytes -= entry.size;
        Some(entry.item)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn items_come_out_by_deadline_then_by_arrival() {
        let t0 = Instant::now();
        let mut q = TimerQueue::new(100, 1_000);
        assert_eq!(q.push(t0 + ms(30), 1, "c"), Ok(true));
        assert_eq!(q.push(t0 + ms(10), 1, "a1"), Ok(true));
        assert_eq!(q.push(t0 + ms(20), 1, "b"), Ok(false));
        assert_eq!(q.push(t0 + ms(10), 1, "a2"), Ok(false));
        assert_eq!(q.next_deadline(), Some(t0 + ms(10)));
        assert_eq!(q.pop_due(t0 + ms(9)), None);
        let mut out = Vec::new();
        while let Some(item) = q.pop_due(t0 + ms(20)) {
            out.push(item);
        }
        assert_eq!(out, ["a1", "a2", "b"]);
        assert_eq!(q.next_deadline(), Some(t0 + ms(30)));
        assert_eq!(q.pop_due(t0 + ms(100)), Some("c"));
        assert_eq!((q.pop_due(t0 + ms(100)), q.next_deadline(), q.len()), (None, None, 0));
    }

    #[test]
    fn a_full_queue_refuses_until_items_leave() {
        let t0 = Instant::now();
        let mut q = TimerQueue::new(2, 1_000);
        assert!(q.push(t0, 10, 1).is_ok());
        assert!(q.push(t0, 10, 2).is_ok());
        assert_eq!(q.push(t0, 10, 3), Err(3));
        assert_eq!(q.pop_due(t0), Some(1));
        assert!(q.push(t0, 10, 4).is_ok());
        assert_eq!(q.len(), 2);
    }

    #[test]
    fn the_byte_limit_counts_what_is_queued() {
        let t0 = Instant::now();
        let mut q = TimerQueue::new(100, 100);
        assert!(q.push(t0, 60, 'a').is_ok());
        assert_eq!(q.push(t0, 41, 'b'), Err('b'));
        assert!(q.push(t0, 40, 'c').is_ok());
        assert_eq!(q.pop_due(t0), Some('a'));
        assert!(q.push(t0, 60, 'd').is_ok());
        assert_eq!(q.push(t0, 1, 'e'), Err('e'));
    }
}
