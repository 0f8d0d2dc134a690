//! Inputs at the speed of the wire, on a simulated clock: the real simulation (`Sim`) and the real client
//! input clock (`InputClock`), joined by a link of fixed delay that the test can hold shut. Sans-IO, so
//! the timings are exact and the test is the same on a busy machine.

use arena_client::timesync::InputClock;
use arena_server::game::{ClientId, Inbound, Outbound, Pool, Sim, SimConfig};
use arena_shared::arena::Arena;
use arena_shared::codec::decode_server_datagram;
use arena_shared::codec::delta::delta_header;
use arena_shared::protocol::{InputDatagram, MAX_INPUTS_PER_DATAGRAM, ServerDatagram};
use arena_shared::rules::Input;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

const RATE: u16 = 60;
const ONE_WAY: Duration = Duration::from_micros(300);

/// A client and a server joined by a link that can be held shut.
struct Link {
    sim: Sim,
    pool: Pool,
    clock: InputClock,
    client: ClientId,
    /// The newest inputs, repeated in each datagram.
    recent: VecDeque<Input>,
    seq: u32,
    /// Input datagrams on their way, with when they arrive.
    to_server: Vec<(Instant, InputDatagram)>,
    /// Snapshots on their way: arrival, tick, last applied input, margin.
    to_client: Vec<(Instant, u32, u32, Option<i16>)>,
    sent_at: HashMap<u32, Instant>,
    applied: u32,
    /// (send time, input → snapshot latency) of every input, as the client saw it.
    latencies: Vec<(Instant, Duration)>,
    drained: u64,
}

impl Link {
    fn new(t0: Instant) -> Self {
        let mut sim = Sim::new(SimConfig {
            tick_rate: RATE,
            seed: 5,
            arena: Arena::standard(),
        });
        let client = ClientId(1);
        sim.push(Inbound::Join {
            client,
            name: "ana".into(),
        });
        Self {
            sim,
            pool: Pool::new(1),
            clock: InputClock::new(RATE, t0),
            client,
            recent: VecDeque::new(),
            seq: 0,
            to_server: Vec::new(),
            to_client: Vec::new(),
            sent_at: HashMap::new(),
            applied: 0,
            latencies: Vec::new(),
            drained: 0,
        }
    }

    /// The client's side at `now`: an input when its clock says (arriving at `arrives`), snapshots in.
    fn client_step(&mut self, now: Instant, arrives: Instant) {
        if now >= self.clock.due() {
            self.seq += 1;
            if self.recent.len() == MAX_INPUTS_PER_DATAGRAM {
                self.recent.pop_front();
            }
            self.recent.push_back(Input {
                seq: self.seq,
                move_x: if (self.seq / 40).is_multiple_of(2) { 127 } else { -127 },
                ..Input::default()
            });
            let datagram = InputDatagram {
                ack_tick: 0,
                inputs: self.recent.iter().copied().collect(),
            };
            self.to_server.push((arrives, datagram));
            self.sent_at.insert(self.seq, now);
            self.clock.sent(now);
        }
        let (arrived, later): (Vec<_>, Vec<_>) = self.to_client.drain(..).partition(|s| s.0 <= now);
        self.to_client = later;
        for (at, tick, last_seq, margin) in arrived {
            self.clock.on_snapshot(tick, at, ONE_WAY * 2, margin);
            for seq in self.applied + 1..=last_seq {
                if let Some(sent) = self.sent_at.remove(&seq) {
                    self.latencies.push((sent, at - sent));
                }
            }
            self.applied = self.applied.max(last_seq);
        }
    }

    /// The server's tick starting at `now`: the inputs that arrived, the tick, the snapshot out.
    fn tick(&mut self, now: Instant) {
        let (arrived, later): (Vec<_>, Vec<_>) = self.to_server.drain(..).partition(|d| d.0 <= now);
        self.to_server = later;
        for (at, datagram) in arrived {
            self.sim.push(Inbound::Input {
                client: self.client,
                datagram,
                waited: now - at,
            });
        }
        self.sim.tick(&self.pool);
        self.drained += u64::from(self.sim.stats().inputs_drained);
        let mut out = Vec::new();
        self.sim.drain_outbox(&mut out);
        for o in out {
            let Outbound::Delta { datagram, .. } = o else { continue };
            let Ok(ServerDatagram::Delta(bytes)) = decode_server_datagram(&datagram) else {
                panic!("a delta datagram")
            };
            let h = delta_header(&bytes).expect("a delta header");
            self.to_client
                .push((now + ONE_WAY, h.tick, h.last_input_seq, h.input_margin));
        }
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[test]
fn inputs_held_back_200_ms_cost_latency_for_less_than_a_second() {
    let t0 = Instant::now();
    let at = |ms: u64| t0 + Duration::from_millis(ms);
    let (hold_from, release) = (at(2_000), at(2_200));
    let period = Duration::from_secs(1) / u32::from(RATE);
    let mut link = Link::new(t0);
    // The server's ticks start 7.3 ms into the client's first tick: the clock has to find them.
    let mut next_tick = t0 + Duration::from_micros(7_300);
    let mut now = t0;
    while now < at(4_000) {
        // Inputs sent while the link is held arrive together when it is released.
        let arrives = if (hold_from..release).contains(&now) {
            release
        } else {
            now + ONE_WAY
        };
        link.client_step(now, arrives);
        if now >= next_tick {
            link.tick(next_tick);
            next_tick += period;
        }
        now += Duration::from_micros(50);
    }
    let sent_in = |from: Instant, to: Instant| -> Vec<Duration> {
        link.latencies
            .iter()
            .filter(|(s, _)| (from..to).contains(s))
            .map(|(_, l)| *l)
            .collect()
    };
    let before = median(sent_in(at(1_000), hold_from));
    let held = sent_in(hold_from, release);
    let after_a_second = sent_in(release + Duration::from_secs(1), at(4_000));
    let worst_after = after_a_second.iter().max().copied().unwrap_or_default();
    eprintln!(
        "latency before {before:?}; held inputs up to {:?}; from 1 s after the release: worst {worst_after:?} of {}; drained {}; clock {:?}",
        held.iter().max(),
        after_a_second.len(),
        link.drained,
        link.clock.stats()
    );
    assert!(before < Duration::from_millis(4), "synced latency {before:?}");
    assert!(
        held.iter().any(|l| *l > Duration::from_millis(150)),
        "the hold was felt"
    );
    assert!(after_a_second.len() > 40, "inputs kept flowing");
    assert!(
        worst_after <= before + Duration::from_millis(1),
        "back within 1 ms of {before:?} a second after the release: worst {worst_after:?}"
    );
    assert!(link.drained > 0, "the stale inputs were drained, and counted");
}
