//! `deltas.json`: delta snapshots as one client receives them from the real server. A simulation
//! (`arena_server::game::Sim`) plays a short script (players move, one shoots another, the victim takes a
//! health pack, a player joins, one leaves, datagrams are lost and reordered, acks stall), and the client's
//! side decodes each delta twice: with the client library's `ViewRing` (what the game gets) and with
//! `decode_delta` against the baseline view (what the file shows), which must agree.

use super::{hex, json};
use arena_client::views::ViewRing;
use arena_server::game::{ClientId, Inbound, Outbound, Pool, Sim, SimConfig};
use arena_shared::Vec2;
use arena_shared::arena::{Arena, Wall};
use arena_shared::codec;
use arena_shared::codec::delta::{decode_delta, delta_header, snapshot_of};
use arena_shared::entity::Kind;
use arena_shared::protocol::{FRAME_HEADER_LEN, InputDatagram, MAX_INPUTS_PER_DATAGRAM, ServerDatagram, ServerFrame};
use arena_shared::quant::QEntity;
use arena_shared::rules::{Input, buttons};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// The server's tick rate in the script (every tick is a snapshot tick).
pub const TICK_RATE: u16 = 60;
/// The client whose deltas the file holds.
const ADA: ClientId = ClientId(1);
const BOB: ClientId = ClientId(2);
const CY: ClientId = ClientId(3);

use super::delta_json::{HeaderJson, SnapshotJson, ViewJson, header_json, snapshot_json, view_json};

/// One datagram the client received, in the order received.
#[derive(Serialize)]
pub struct Step {
    /// What the script did to come to this datagram.
    name: String,
    /// The whole datagram (a `ServerDatagram::Delta`).
    hex: String,
    /// The delta inside it.
    pub payload_hex: String,
    pub header: HeaderJson,
    /// `applied`, or `late` (no newer than the newest view held: ignored).
    result: &'static str,
    /// The view the delta is against (none for a full delta, or a late one).
    baseline: Option<ViewJson>,
    /// The view rebuilt (kept as a baseline for later deltas).
    view: Option<ViewJson>,
    /// What the game gets.
    snapshot: Option<SnapshotJson>,
    /// The tick the client acknowledges from now on (its newest view).
    ack: u32,
}

/// A delta a client must refuse, with the view it holds for the delta's baseline (none: it holds no such
/// view) and the error.
#[derive(Serialize)]
pub struct Invalid {
    pub name: &'static str,
    pub payload_hex: String,
    pub baseline: Option<ViewJson>,
    pub error: &'static str,
}

#[derive(Serialize)]
struct File {
    about: &'static str,
    tick_rate: u16,
    arena: Arena,
    /// The ticks whose deltas the script lost on the way (never received, so not among the steps).
    lost: Vec<u32>,
    steps: Vec<Step>,
    invalid: Vec<Invalid>,
}

/// The map of the script: two spawn points close together, a health pack between them, one wall.
pub fn arena() -> Arena {
    Arena {
        width: 24.0,
        height: 16.0,
        walls: vec![Wall::new(14.0, 2.0, 16.0, 6.0)],
        spawn_points: vec![Vec2::new(6.0, 8.0), Vec2::new(10.0, 8.0)],
        health_packs: vec![Vec2::new(8.0, 10.5)],
    }
}

/// The client's side: the library's ring of views, and the same views kept here to write them out.
pub struct Me {
    ring: ViewRing,
    pub views: BTreeMap<u32, Vec<QEntity>>,
    ack: u32,
    seq: u32,
    recent: Vec<Input>,
}

impl Me {
    fn newest(&self) -> Option<&Vec<QEntity>> {
        self.views.get(&self.ack)
    }

    fn entity(&self, key: u32) -> Option<QEntity> {
        self.newest()?.iter().find(|e| e.key == key).copied()
    }

    /// Receives one datagram: what the library makes of it, checked against a decode by hand.
    fn receive(&mut self, name: String, datagram: &[u8]) -> Step {
        let Ok(ServerDatagram::Delta(payload)) = codec::decode_server_datagram(datagram) else {
            panic!("{name}: a delta datagram");
        };
        let header = delta_header(&payload).expect("a header");
        let applied = self
            .ring
            .apply(&payload)
            .expect("the client applies every delta of the script");
        let mut step = Step {
            name,
            hex: hex(datagram),
            payload_hex: hex(&payload),
            header: header_json(&header),
            result: "late",
            baseline: None,
            view: None,
            snapshot: None,
            ack: self.ack,
        };
        let Some(snapshot) = applied else {
            assert!(header.tick <= self.ack, "{}: only a late delta is ignored", step.name);
            return step;
        };
        let baseline = match header.baseline_tick {
            0 => None,
            tick => Some(self.views.get(&tick).expect("the baseline is held").clone()),
        };
        let (decoded, view) = decode_delta(&payload, baseline.as_deref().unwrap_or(&[]), TICK_RATE).expect("decodes");
        assert_eq!(decoded, header);
        assert_eq!(
            snapshot_of(&header, &view),
            snapshot,
            "{}: the library and the decoder agree",
            step.name
        );
        step.result = "applied";
        step.baseline = baseline.map(|b| view_json(header.baseline_tick, &b));
        step.view = Some(view_json(header.tick, &view));
        step.snapshot = Some(snapshot_json(&snapshot));
        self.views.insert(header.tick, view);
        self.ack = header.tick;
        step.ack = self.ack;
        step
    }
}

/// What becomes of one tick's delta on its way to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Net {
    Deliver,
    Lose,
    /// Held back, to arrive after the next one.
    Hold,
}

/// What the client does in one tick: its input (none: no datagram reaches the server this tick), and how
/// long it waited at the server before the tick.
#[derive(Debug, Clone, Copy)]
struct Move {
    x: i8,
    y: i8,
    aim: f32,
    fire: bool,
}

const STILL: Move = Move {
    x: 0,
    y: 0,
    aim: 0.0,
    fire: false,
};

pub struct Script {
    sim: Sim,
    pool: Pool,
    pub me: Me,
    bob_seq: u32,
    pub steps: Vec<Step>,
    lost: Vec<u32>,
    held: Option<(String, Vec<u8>)>,
    /// Control frames ada got, by tick (for the assertions on ids).
    frames: Vec<(u32, ServerFrame)>,
}

impl Script {
    fn new() -> Self {
        let sim = Sim::new(SimConfig {
            tick_rate: TICK_RATE,
            seed: 3,
            arena: arena(),
        });
        // Seed 3 spawns ada and bob on different spawn points (the script's shot needs the distance).
        Self {
            sim,
            pool: Pool::new(1),
            me: Me {
                ring: ViewRing::new(TICK_RATE),
                views: BTreeMap::new(),
                ack: 0,
                seq: 0,
                recent: Vec::new(),
            },
            bob_seq: 0,
            steps: Vec::new(),
            lost: Vec::new(),
            held: None,
            frames: Vec::new(),
        }
    }

    /// Ada's input for the next tick, carrying her ack; `waited` is how long before the tick it arrived.
    fn ada(&mut self, m: Move, waited: Duration) {
        self.ada_lost(m);
        self.sim.push(Inbound::Input {
            client: ADA,
            datagram: InputDatagram {
                ack_tick: self.me.ack,
                inputs: self.me.recent.iter().copied().collect(),
            },
            waited,
        });
    }

    /// Ada's input sent, but its datagram lost: the sequence number is used, the server never hears of it
    /// (and the input rides along in her next datagrams, as the newest few always do).
    fn ada_lost(&mut self, m: Move) {
        self.me.seq += 1;
        let input = Input {
            seq: self.me.seq,
            move_x: m.x,
            move_y: m.y,
            aim: m.aim,
            buttons: if m.fire { buttons::FIRE } else { 0 },
        };
        self.me.recent.push(input);
        let from = self.me.recent.len().saturating_sub(MAX_INPUTS_PER_DATAGRAM);
        self.me.recent.drain(..from);
    }

    fn bob(&mut self, m: Move) {
        self.bob_seq += 1;
        let input = Input {
            seq: self.bob_seq,
            move_x: m.x,
            move_y: m.y,
            aim: m.aim,
            buttons: if m.fire { buttons::FIRE } else { 0 },
        };
        self.sim.push(Inbound::Input {
            client: BOB,
            datagram: InputDatagram {
                ack_tick: 0,
                inputs: [input].into_iter().collect(),
            },
            waited: Duration::from_millis(3),
        });
    }

    /// Runs one tick; ada's delta of it goes as `net` says.
    fn tick(&mut self, net: Net, name: &str) {
        self.sim.tick(&self.pool);
        let tick = self.sim.tick_count();
        let mut out = Vec::new();
        self.sim.drain_outbox(&mut out);
        let mut delta = None;
        for o in out {
            match o {
                Outbound::Delta { client, datagram, .. } if client == ADA => delta = Some(datagram.to_vec()),
                Outbound::Frame { client, frame } if client == ADA => self.frame(tick, &frame),
                Outbound::Broadcast { frame } => self.frame(tick, &frame),
                _ => {}
            }
        }
        let datagram = delta.expect("a delta for ada every tick");
        let name = format!("tick {tick}: {name}");
        match net {
            Net::Deliver => {
                let step = self.me.receive(name, &datagram);
                self.steps.push(step);
                if let Some((name, held)) = self.held.take() {
                    let step = self.me.receive(format!("{name} (arrived after the next one)"), &held);
                    self.steps.push(step);
                }
            }
            Net::Lose => self.lost.push(tick),
            Net::Hold => self.held = Some((name, datagram)),
        }
    }

    /// Names the step just received after the fact (the script learns what happened from the view).
    fn rename_last(&mut self, tick: u32, name: &str) {
        if let Some(step) = self.steps.last_mut().filter(|s| s.header.tick == tick) {
            step.name = format!("tick {tick}: {name}");
        }
    }

    fn frame(&mut self, tick: u32, frame: &[u8]) {
        let frame = codec::decode_server_frame(&frame[FRAME_HEADER_LEN..]).expect("a server frame");
        self.frames.push((tick, frame));
    }

    /// The aim from `from` to `to`, in radians.
    fn aim(&self, from: u32, to: u32) -> f32 {
        let (a, b) = (self.me.entity(from).expect("seen"), self.me.entity(to).expect("seen"));
        (b.pos() - a.pos()).angle()
    }

    /// A move of full length from entity `from` towards `to`.
    fn towards(&self, from: u32, to: Vec2) -> Move {
        let d = to - self.me.entity(from).expect("seen").pos();
        let dir = d * (1.0 / d.length().max(1e-6));
        Move {
            x: (dir.x * 127.0).round() as i8,
            y: (dir.y * 127.0).round() as i8,
            aim: d.angle(),
            fire: false,
        }
    }
}

fn run() -> Script {
    let mut s = Script::new();
    let ms = |m: u64| Duration::from_micros(m * 100);
    s.sim.push(Inbound::Join {
        client: ADA,
        name: "ada".into(),
    });
    s.sim.push(Inbound::Join {
        client: BOB,
        name: "bob".into(),
    });
    s.tick(Net::Deliver, "ada and bob join: a full view (no baseline)");
    let welcome = s.frames.iter().find_map(|(_, f)| match f {
        ServerFrame::Welcome(w) => Some(w.player_id),
        _ => None,
    });
    assert_eq!(welcome, Some(1), "ada is player 1, bob player 2");
    let (ada, bob) = (Kind::Player.key(1), Kind::Player.key(2));

    s.ada(STILL, ms(25));
    s.tick(Net::Deliver, "nothing moved: no updates, the header only");
    s.ada(STILL, ms(20));
    let aim = s.aim(bob, ada);
    s.bob(Move {
        aim,
        fire: true,
        ..STILL
    });
    s.tick(Net::Deliver, "bob fires at ada: a new projectile");
    let mut shot_hit = false;
    for i in 0..12 {
        s.ada(STILL, ms(22 + i));
        if i == 0 {
            // Bob lets go of the trigger (a tick without his input would repeat the last, firing again).
            s.bob(STILL);
        }
        let net = if i == 1 { Net::Lose } else { Net::Deliver };
        let before = s.me.entity(ada).map(|e| e.health);
        s.tick(net, "the projectile flies on, predicted: no update");
        if s.me.entity(ada).map(|e| e.health) != before {
            let tick = s.sim.tick_count();
            s.rename_last(tick, "the projectile hits ada: it is removed, her health falls to 75");
            shot_hit = true;
            break;
        }
    }
    assert!(shot_hit, "bob's shot hit ada");

    // Ada walks to the health pack; on the way one delta is held back (arrives late), one input datagram
    // (and its ack) is lost, and one tick gets no input at all.
    let pack = Kind::HealthPack.key(0);
    let pack_at = s.me.entity(pack).expect("the pack").pos();
    let mut taken = false;
    for i in 0..40 {
        let m = s.towards(ada, pack_at);
        match i {
            3 => s.ada_lost(m),
            6 => {}
            _ => s.ada(m, ms(18)),
        }
        let net = match i {
            1 => Net::Hold,
            4 => Net::Lose,
            _ => Net::Deliver,
        };
        let name = match i {
            1 => "ada walks to the health pack; this delta is held back",
            3 => "ada walks to the health pack; her input datagram (and its ack) is lost",
            4 => "ada walks to the health pack; this delta is lost",
            6 => "ada walks to the health pack; no input arrives for this tick",
            _ => "ada walks to the health pack",
        };
        s.tick(net, name);
        if s.me.entity(pack).is_some_and(|p| p.health == 0) {
            let tick = s.sim.tick_count();
            s.rename_last(
                tick,
                "ada takes the health pack: its health field goes to 0, hers back to 100",
            );
            taken = true;
            break;
        }
    }
    assert!(taken, "ada took the health pack");
    s.ada(STILL, ms(21));
    s.tick(Net::Deliver, "ada lets go of the keys and slows down");

    s.sim.push(Inbound::Join {
        client: CY,
        name: "cy".into(),
    });
    s.ada(STILL, ms(21));
    s.tick(Net::Deliver, "cy joins: a new player");
    s.sim.push(Inbound::Leave { client: BOB });
    s.ada(STILL, ms(21));
    s.tick(Net::Deliver, "bob leaves: a removal");
    s.ada(STILL, ms(21));
    s.tick(Net::Deliver, "ada slows down; cy stands");

    // Every delta is lost for longer than the server keeps views: the next one is full again.
    for _ in 0..33 {
        s.ada(STILL, ms(21));
        s.tick(Net::Lose, "lost");
    }
    s.ada(STILL, ms(21));
    s.tick(
        Net::Deliver,
        "the ack is older than the server's views: a full view again",
    );
    let last = s.steps.last().expect("a step");
    assert_eq!(last.header.baseline_tick, 0, "full after the long loss");
    s
}

pub fn deltas() -> String {
    let s = run();
    let invalid = super::refusals::invalid(&s);
    json(&File {
        about: "Delta snapshots as one client received them from the real server (a seeded simulation on the \
                map `arena`), in the order received. Each step: the datagram (`hex`), the delta in it \
                (`payload_hex`), its header, and, when applied, the baseline view it is against, the view \
                rebuilt and the snapshot the game gets. Views list entities in wire units, sorted by key. \
                `invalid`: deltas a client refuses. See vectors/README.md and docs/PROTOCOL.md.",
        tick_rate: TICK_RATE,
        arena: arena(),
        lost: s.lost.clone(),
        steps: s.steps,
        invalid,
    })
}
