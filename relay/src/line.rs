//! One direction of the relay: each arriving packet gets the link's verdict and waits in a timer queue; one task
//! sleeps until the earliest deadline and sends whatever is due.

use crate::config::Limits;
use crate::link::{Link, Verdict};
use crate::queue::TimerQueue;
use crate::stats::{DirectionCounters, bump};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::net::UdpSocket;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Where a packet goes.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    /// To the server, through this client's upstream socket (connected to the server). The queued packet keeps
    /// the socket open until it is sent, even if the mapping expires meanwhile.
    Server(Arc<UdpSocket>),
    /// To this client, out of the listen socket.
    Client(SocketAddr),
}

#[derive(Debug)]
struct Packet {
    data: Vec<u8>,
    target: Target,
}

/// One direction: its link, its queue, its counters.
#[derive(Debug)]
pub(crate) struct Line {
    state: Mutex<State>,
    /// Told when a packet becomes the earliest in the queue.
    wake: Notify,
    counters: Arc<DirectionCounters>,
}

#[derive(Debug)]
struct State {
    link: Link,
    queue: TimerQueue<Packet>,
}

impl Line {
    pub(crate) fn new(link: Link, limits: &Limits, counters: Arc<DirectionCounters>) -> Self {
        Self {
            state: Mutex::new(State {
                link,
                queue: TimerQueue::new(limits.max_queued_packets, limits.max_queued_bytes),
            }),
            wake: Notify::new(),
            counters,
        }
    }

    /// A packet arrived at `now`: lose it or queue it (and maybe a copy), and count it.
    pub(crate) fn submit(&self, now: Instant, data: Vec<u8>, target: Target) {
        let mut wake = false;
        {
            let mut state = self.lock();
            match state.link.decide() {
                Verdict::Lost => bump(&self.counters.lost),
                Verdict::Deliver {
                    after,
                    reordered,
                    duplicate,
                } => {
                    if reordered {
                        bump(&self.counters.reordered);
                    }
                    let copy = duplicate.map(|after| {
                        let packet = Packet {
                            data: data.clone(),
                            target: target.clone(),
                        };
                        (after, packet)
                    });
                    wake |= self.queue(&mut state, now + after, Packet { data, target });
                    if let Some((after, packet)) = copy {
                        bump(&self.counters.duplicated);
                        wake |= self.queue(&mut state, now + after, packet);
                    }
                }
            }
        }
        if wake {
            self.wake.notify_one();
        }
        // Last, so that whoever sees the packet counted also sees its verdict counted.
        bump(&self.counters.received);
    }

    /// Queues a packet; true when it is now the earliest. A full queue drops it.
    fn queue(&self, state: &mut State, deadline: Instant, packet: Packet) -> bool {
        let size = packet.data.len();
        match state.queue.push(deadline, size, packet) {
            Ok(earliest) => earliest,
            Err(_) => {
                bump(&self.counters.queue_full);
                tracing::debug!(size, "queue full: packet dropped");
                false
            }
        }
    }

    /// Delivers packets when due, forever (the relay aborts this task when it stops). `listen` sends to clients.
    pub(crate) async fn run(self: Arc<Self>, listen: Arc<UdpSocket>) {
        loop {
            let next = loop {
                let due = {
                    let mut state = self.lock();
                    match state.queue.pop_due(Instant::now()) {
                        Some(packet) => packet,
                        None => break state.queue.next_deadline(),
                    }
                };
                self.deliver(&listen, due).await;
            };
            // A packet queued after the lock was released with an earlier deadline has left a permit in `wake`,
            // so this returns at once and the loop looks again.
            match next {
                Some(deadline) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(deadline) => {}
                        () = self.wake.notified() => {}
                    }
                }
                None => self.wake.notified().await,
            }
        }
    }

    async fn deliver(&self, listen: &UdpSocket, packet: Packet) {
        let sent = match &packet.target {
            Target::Server(upstream) => upstream.send(&packet.data).await,
            Target::Client(client) => listen.send_to(&packet.data, *client).await,
        };
        match sent {
            Ok(_) => bump(&self.counters.forwarded),
            Err(error) => {
                bump(&self.counters.send_failed);
                tracing::debug!(%error, target = ?packet.target, "send failed: packet dropped");
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; if something did, the queue is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LinkConfig;
    use std::time::Duration;

    async fn sink() -> (UdpSocket, SocketAddr) {
        let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        let addr = socket.local_addr().expect("addr");
        (socket, addr)
    }

    #[tokio::test]
    async fn packets_leave_on_time_and_in_deadline_order() {
        let (sink, to) = sink().await;
        let listen = Arc::new(UdpSocket::bind("127.0.0.1:0").await.expect("bind"));
        let counters = Arc::new(DirectionCounters::default());
        let link = Link::new(LinkConfig::default(), 1);
        let line = Arc::new(Line::new(link, &Limits::default(), counters.clone()));
        let task = tokio::spawn(line.clone().run(listen));
        let t0 = Instant::now();
        // Submitted with arrival times in the past and future: they leave by deadline, not by submission.
        line.submit(t0 + Duration::from_millis(40), vec![3], Target::Client(to));
        line.submit(t0 + Duration::from_millis(20), vec![2], Target::Client(to));
        line.submit(t0, vec![1], Target::Client(to));
        let mut buf = [0u8; 8];
        for expected in 1..=3u8 {
            let n = tokio::time::timeout(Duration::from_secs(2), sink.recv(&mut buf))
                .await
                .expect("in time")
                .expect("recv");
            assert_eq!(&buf[..n], [expected]);
            let not_before = t0 + Duration::from_millis(20 * u64::from(expected - 1));
            assert!(Instant::now() >= not_before);
        }
        assert_eq!(counters.forwarded.load(std::sync::atomic::Ordering::Relaxed), 3);
        task.abort();
    }
}
