//! Unit tests of the relay's limits, run with limits small enough to reach: queue size, client count, idle expiry.

use super::*;
use crate::LinkConfig;
use std::collections::HashSet;

const WAIT: Duration = Duration::from_secs(5);

/// A UDP echo server on 127.0.0.1 recording the peers it saw.
async fn echo() -> (SocketAddr, Arc<Mutex<HashSet<SocketAddr>>>) {
    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind echo");
    let addr = socket.local_addr().expect("echo addr");
    let peers = Arc::new(Mutex::new(HashSet::new()));
    let seen = Arc::clone(&peers);
    tokio::spawn(async move {
        let mut buf = vec![0u8; 2048];
        while let Ok((n, from)) = socket.recv_from(&mut buf).await {
            seen.lock().expect("peers").insert(from);
            let _ = socket.send_to(&buf[..n], from).await;
        }
    });
    (addr, peers)
}

async fn client() -> UdpSocket {
    UdpSocket::bind("127.0.0.1:0").await.expect("bind client")
}

async fn relay(to: SocketAddr, link: LinkConfig, limits: Limits) -> Relay {
    let config = RelayConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        to,
        link,
        seed: 1,
    };
    start_with(config, limits).await.expect("start")
}

/// Waits (spinning, bounded) until `done` holds for the relay's stats.
async fn wait_for(relay: &Relay, what: &str, done: impl Fn(&RelayStats) -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done(&relay.stats()) {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {}",
            relay.stats()
        );
        tokio::task::yield_now().await;
    }
}

async fn ping(socket: &UdpSocket, relay: SocketAddr, payload: &[u8]) -> Vec<u8> {
    socket.send_to(payload, relay).await.expect("send");
    let mut buf = [0u8; 64];
    let (n, _) = tokio::time::timeout(WAIT, socket.recv_from(&mut buf))
        .await
        .expect("reply in time")
        .expect("recv");
    buf[..n].to_vec()
}

/// Sends `count` packets of `size` bytes through a relay holding them 10 s (far longer than the test), one at a
/// time, and returns the stats once the relay has read them all.
async fn fill_queue(limits: Limits, count: u64, size: usize) -> RelayStats {
    let (to, _) = echo().await;
    let link = LinkConfig {
        delay: Duration::from_secs(10),
        ..LinkConfig::default()
    };
    let relay = relay(to, link, limits).await;
    let socket = client().await;
    for i in 1..=count {
        socket
            .send_to(&vec![0u8; size], relay.local_addr())
            .await
            .expect("send");
        wait_for(&relay, "the packet", |s| s.to_server.received == i).await;
    }
    let stats = relay.stats();
    relay.shutdown().await;
    stats
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_full_of_packets_drops_and_counts() {
    let limits = Limits {
        max_queued_packets: 5,
        ..Limits::default()
    };
    let s = fill_queue(limits, 12, 1).await.to_server;
    assert_eq!((s.received, s.queue_full, s.forwarded), (12, 7, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_full_of_bytes_drops_and_counts() {
    let limits = Limits {
        max_queued_bytes: 100,
        ..Limits::default()
    };
    let s = fill_queue(limits, 5, 40).await.to_server;
    assert_eq!((s.received, s.queue_full, s.forwarded), (5, 3, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_beyond_the_limit_are_refused_and_counted() {
    let (to, peers) = echo().await;
    let limits = Limits {
        max_clients: 1,
        ..Limits::default()
    };
    let relay = relay(to, LinkConfig::default(), limits).await;
    let (a, b) = (client().await, client().await);
    assert_eq!(ping(&a, relay.local_addr(), b"a1").await, b"a1");
    b.send_to(b"b1", relay.local_addr()).await.expect("send");
    wait_for(&relay, "b's packet", |s| s.to_server.received == 2).await;
    assert_eq!(ping(&a, relay.local_addr(), b"a2").await, b"a2");
    let s = relay.stats();
    assert_eq!((s.clients, s.clients_total, s.clients_refused), (1, 1, 1));
    assert_eq!(s.to_server.forwarded, 2);
    assert_eq!(peers.lock().expect("peers").len(), 1);
    let mut buf = [0u8; 8];
    assert!(b.try_recv_from(&mut buf).is_err(), "the refused client got a reply");
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_mappings_expire_and_a_later_packet_gets_a_new_one() {
    let (to, _) = echo().await;
    let limits = Limits {
        idle_timeout: Duration::from_millis(100),
        ..Limits::default()
    };
    let relay = relay(to, LinkConfig::default(), limits).await;
    let socket = client().await;
    assert_eq!(ping(&socket, relay.local_addr(), b"one").await, b"one");
    assert_eq!(relay.stats().clients_total, 1);
    let deadline = Instant::now() + WAIT;
    while relay.stats().clients != 0 {
        assert!(Instant::now() < deadline, "the mapping never expired");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(relay.stats().clients_expired, 1);
    assert_eq!(ping(&socket, relay.local_addr(), b"two").await, b"two");
    // The new mapping may itself have expired since, if this thread was descheduled for long.
    let s = relay.stats();
    assert_eq!(s.clients_total, 2);
    assert!(s.clients_expired >= 1 && s.clients + s.clients_expired == 2, "{s}");
    relay.shutdown().await;
}

#[tokio::test]
async fn a_destination_with_port_zero_is_refused() {
    let config = RelayConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        to: "127.0.0.1:0".parse().expect("addr"),
        link: LinkConfig::default(),
        seed: 0,
    };
    assert!(matches!(start(config).await, Err(RelayError::InvalidTarget(_))));
}
