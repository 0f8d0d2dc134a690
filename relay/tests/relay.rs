//! End-to-end tests of the relay on 127.0.0.1: a UDP echo server or a sink behind it, clients in front of it.
//!
//! Packets whose fate must be reproducible are sent one at a time, each once the relay has read the previous one,
//! so that the relay sees them in the same order whatever the kernel and the scheduler do. Every wait is bounded.

use arena_relay::{LinkConfig, Relay, RelayConfig, RelayError, RelayStats};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::SocketAddr;
use std::ops::Range;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(5);
const MS: Duration = Duration::from_millis(1);

fn localhost() -> SocketAddr {
    "127.0.0.1:0".parse().expect("an address")
}

async fn start(to: SocketAddr, link: LinkConfig, seed: u64) -> Relay {
    let config = RelayConfig {
        listen: localhost(),
        to,
        link,
        seed,
    };
    arena_relay::start(config).await.expect("the relay starts")
}

async fn bind() -> UdpSocket {
    UdpSocket::bind(localhost()).await.expect("bind")
}

/// A UDP echo server recording the peers it saw.
async fn echo() -> (SocketAddr, Arc<Mutex<HashSet<SocketAddr>>>) {
    let socket = bind().await;
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

/// A socket reading sequence numbers (u32, big endian) in a task of its own, so that it keeps up with the relay.
struct Sink {
    addr: SocketAddr,
    arrivals: mpsc::UnboundedReceiver<u32>,
    /// Every sequence number received so far, in arrival order.
    got: Vec<u32>,
}

impl Sink {
    async fn new() -> Self {
        let socket = bind().await;
        let addr = socket.local_addr().expect("sink addr");
        let (tx, arrivals) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut buf = [0u8; 64];
            while let Ok(n) = socket.recv(&mut buf).await {
                let seq = <[u8; 4]>::try_from(&buf[..n])
                    .map(u32::from_be_bytes)
                    .unwrap_or(u32::MAX);
                if tx.send(seq).is_err() {
                    break;
                }
            }
        });
        Self {
            addr,
            arrivals,
            got: Vec::new(),
        }
    }

    /// Waits (bounded) until `n` packets have arrived in all.
    async fn fill(&mut self, n: u64) {
        while (self.got.len() as u64) < n {
            let seq = tokio::time::timeout(WAIT, self.arrivals.recv()).await;
            self.got
                .push(seq.expect("a packet in time").expect("the sink is alive"));
        }
    }
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

/// Packets [`send_paced`] lets the relay deliver before it waits for the sink to have them all: few enough that
/// the sink's receive buffer cannot overflow (which would lose packets the relay counted as forwarded).
const WINDOW: u32 = 32;

/// Sends `seqs` to the relay one at a time, each once the relay has read the one before, and every [`WINDOW`]
/// packets (and at the end) waits until the relay has delivered or dropped them all and the sink has the delivered.
async fn send_paced(socket: &UdpSocket, relay: &Relay, sink: &mut Sink, seqs: Range<u32>) {
    let already = relay.stats().to_server.received;
    for (expected, seq) in (already + 1..).zip(seqs) {
        socket
            .send_to(&seq.to_be_bytes(), relay.local_addr())
            .await
            .expect("send");
        wait_for(relay, "the relay to read a packet", |s| {
            s.to_server.received == expected
        })
        .await;
        if expected % u64::from(WINDOW) == 0 {
            settle(relay, sink).await;
        }
    }
    settle(relay, sink).await;
}

/// Waits until every packet the relay read towards the server has left it one way or another, and the sink has
/// every packet it forwarded.
async fn settle(relay: &Relay, sink: &mut Sink) {
    wait_for(relay, "every packet delivered or dropped", |s| {
        let d = s.to_server;
        d.forwarded + d.lost + d.queue_full + d.send_failed == d.received + d.duplicated
    })
    .await;
    sink.fill(relay.stats().to_server.forwarded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_delay_is_honoured_both_ways() {
    let (to, _) = echo().await;
    let link = LinkConfig {
        delay: 30 * MS,
        ..LinkConfig::default()
    };
    let relay = start(to, link, 1).await;
    let client = bind().await;
    let mut buf = [0u8; 16];
    for i in 0..6u8 {
        let sent = Instant::now();
        client.send_to(&[i], relay.local_addr()).await.expect("send");
        let (n, from) = tokio::time::timeout(WAIT, client.recv_from(&mut buf))
            .await
            .expect("an echo in time")
            .expect("recv");
        let rtt = sent.elapsed();
        assert_eq!((&buf[..n], from), (&[i][..], relay.local_addr()));
        assert!(rtt >= 60 * MS && rtt < 500 * MS, "round trip {i} took {rtt:?}");
    }
    let s = relay.stats();
    assert_eq!((s.to_server.forwarded, s.to_client.forwarded), (6, 6));
    relay.shutdown().await;
}

/// Sends 2_000 packets through a relay losing 20% and returns the sequence numbers delivered.
async fn delivered_with_loss(seed: u64) -> BTreeSet<u32> {
    let mut sink = Sink::new().await;
    let link = LinkConfig {
        loss: 0.2,
        ..LinkConfig::default()
    };
    let relay = start(sink.addr, link, seed).await;
    let client = bind().await;
    send_paced(&client, &relay, &mut sink, 0..2_000).await;
    let s = relay.stats();
    assert_eq!(s.to_server.forwarded + s.to_server.lost, 2_000);
    let delivered: BTreeSet<u32> = sink.got.iter().copied().collect();
    assert_eq!(delivered.len() as u64, s.to_server.forwarded, "no duplicates");
    assert_eq!((s.to_server.duplicated, s.to_server.queue_full), (0, 0));
    relay.shutdown().await;
    delivered
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loss_is_about_its_probability_and_reproducible_from_the_seed() {
    let first = delivered_with_loss(42).await;
    let fraction = first.len() as f64 / 2_000.0;
    assert!((0.72..0.88).contains(&fraction), "delivered {fraction}");
    assert!(first.iter().all(|seq| *seq < 2_000));
    assert_eq!(
        first,
        delivered_with_loss(42).await,
        "the same seed drops the same packets"
    );
    assert_ne!(first, delivered_with_loss(43).await, "another seed drops others");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_appear() {
    let mut sink = Sink::new().await;
    let link = LinkConfig {
        duplicate: 0.5,
        ..LinkConfig::default()
    };
    let relay = start(sink.addr, link, 3).await;
    let client = bind().await;
    send_paced(&client, &relay, &mut sink, 0..300).await;
    let s = relay.stats();
    assert_eq!(s.to_server.forwarded, 300 + s.to_server.duplicated);
    let mut copies: HashMap<u32, usize> = HashMap::new();
    for seq in &sink.got {
        *copies.entry(*seq).or_default() += 1;
    }
    assert_eq!(copies.len(), 300, "every packet arrives");
    assert!(copies.values().all(|n| *n <= 2));
    let twice = copies.values().filter(|n| **n == 2).count() as u64;
    assert_eq!(twice, s.to_server.duplicated);
    assert!((90..210).contains(&twice), "{twice} duplicated");
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reordering_appears() {
    let mut sink = Sink::new().await;
    let link = LinkConfig {
        delay: 10 * MS,
        reorder: 0.3,
        ..LinkConfig::default()
    };
    let relay = start(sink.addr, link, 5).await;
    let client = bind().await;
    let mut every = tokio::time::interval(MS);
    for seq in 0..100u32 {
        every.tick().await;
        client
            .send_to(&seq.to_be_bytes(), relay.local_addr())
            .await
            .expect("send");
    }
    sink.fill(100).await;
    let got = &sink.got;
    assert_eq!(
        got.iter().copied().collect::<BTreeSet<u32>>(),
        (0..100).collect(),
        "each exactly once"
    );
    let mut highest = 0;
    let mut overtaken = 0;
    for seq in got {
        if *seq < highest {
            overtaken += 1;
        }
        highest = highest.max(*seq);
    }
    assert!(overtaken > 0, "nothing arrived out of order: {got:?}");
    let s = relay.stats();
    assert!(s.to_server.reordered >= overtaken, "{s}");
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_without_probabilities_loses_duplicates_and_reorders_nothing() {
    let mut sink = Sink::new().await;
    let link = LinkConfig {
        delay: 5 * MS,
        ..LinkConfig::default()
    };
    let relay = start(sink.addr, link, 7).await;
    let client = bind().await;
    send_paced(&client, &relay, &mut sink, 0..300).await;
    assert_eq!(sink.got, (0..300).collect::<Vec<u32>>());
    tokio::time::sleep(30 * MS).await;
    assert!(sink.arrivals.try_recv().is_err(), "nothing more arrives");
    let s = relay.stats().to_server;
    assert_eq!((s.received, s.forwarded), (300, 300));
    assert_eq!(
        (s.lost, s.duplicated, s.reordered, s.queue_full, s.send_failed),
        (0, 0, 0, 0, 0)
    );
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_client_gets_its_own_upstream_port_and_only_its_own_replies() {
    let (to, peers) = echo().await;
    let relay = start(to, LinkConfig::default(), 1).await;
    let (a, b) = (bind().await, bind().await);
    for i in 0..20 {
        a.send_to(format!("a{i}").as_bytes(), relay.local_addr())
            .await
            .expect("send a");
        b.send_to(format!("b{i}").as_bytes(), relay.local_addr())
            .await
            .expect("send b");
    }
    for (socket, name) in [(&a, "a"), (&b, "b")] {
        let mut replies = BTreeSet::new();
        let mut buf = [0u8; 16];
        for _ in 0..20 {
            let (n, from) = tokio::time::timeout(WAIT, socket.recv_from(&mut buf))
                .await
                .expect("a reply in time")
                .expect("recv");
            assert_eq!(from, relay.local_addr());
            replies.insert(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        let expected: BTreeSet<String> = (0..20).map(|i| format!("{name}{i}")).collect();
        assert_eq!(replies, expected, "client {name} got someone else's replies");
    }
    let peers = peers.lock().expect("peers").clone();
    assert_eq!(peers.len(), 2, "{peers:?}");
    for client in [&a, &b] {
        assert!(!peers.contains(&client.local_addr().expect("addr")));
    }
    let s = relay.stats();
    assert_eq!((s.clients, s.clients_total), (2, 2));
    wait_for(&relay, "the last replies", |s| s.to_client.forwarded == 40).await;
    let mut buf = [0u8; 16];
    assert!(a.try_recv_from(&mut buf).is_err() && b.try_recv_from(&mut buf).is_err());
    relay.shutdown().await;
}

#[tokio::test]
async fn invalid_configurations_are_refused() {
    for loss in [1.5, f64::NAN, -0.1] {
        let link = LinkConfig {
            loss,
            ..LinkConfig::default()
        };
        assert!(link.validate().is_err());
        let config = RelayConfig {
            listen: localhost(),
            to: "127.0.0.1:9".parse().expect("addr"),
            link,
            seed: 0,
        };
        let refused = arena_relay::start(config).await;
        assert!(
            matches!(refused, Err(RelayError::InvalidProbability { name: "loss", .. })),
            "{loss}"
        );
    }
}

#[tokio::test]
async fn a_listen_address_in_use_is_an_error() {
    let taken = bind().await;
    let config = RelayConfig {
        listen: taken.local_addr().expect("addr"),
        to: "127.0.0.1:9".parse().expect("addr"),
        link: LinkConfig::default(),
        seed: 0,
    };
    let error = arena_relay::start(config).await.expect_err("the address is taken");
    assert!(matches!(error, RelayError::Bind { .. }), "{error}");
    assert!(
        error
            .to_string()
            .starts_with("cannot bind the listen socket on 127.0.0.1:"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_and_drop_close_the_listen_socket() {
    let (to, _) = echo().await;
    let relay = start(to, LinkConfig::default(), 1).await;
    let addr = relay.local_addr();
    relay.shutdown().await;
    drop(UdpSocket::bind(addr).await.expect("the port is free after shutdown"));

    let relay = start(to, LinkConfig::default(), 1).await;
    let addr = relay.local_addr();
    drop(relay);
    let deadline = Instant::now() + WAIT;
    while UdpSocket::bind(addr).await.is_err() {
        assert!(Instant::now() < deadline, "the port stayed in use after drop");
        tokio::time::sleep(MS).await;
    }
}
