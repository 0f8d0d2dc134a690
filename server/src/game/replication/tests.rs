//! Replication tests: a client rebuilding views from the payloads, with loss, budgets and interest changes.

use super::*;
use arena_shared::Vec2;
use arena_shared::codec::delta::{decode_delta, delta_header};
use arena_shared::quant::QEntity;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::collections::BTreeMap;

const RATE: u16 = 60;

fn params(tick: u32, ack_tick: u32, datagram_budget: usize, refill: f64, own: QEntity) -> SnapshotParams {
    SnapshotParams {
        last_input_seq: tick,
        input_margin: None,
        ack_tick,
        own,
        own_slot: None,
        center: Vec2::new(0.0, 0.0),
        datagram_budget,
        refill,
    }
}

/// The server side of one client: the tick's frame and shared bodies, and the client's replicator.
#[derive(Default)]
struct Server {
    frame: Frame,
    scratch: Scratch,
    replicator: Replicator,
    /// The ack of the snapshot before (as the replication system passes the oldest one).
    last_ack: u32,
    /// Snapshots the short path built, and of those, the ones whose baseline view was translated from an
    /// earlier layout.
    short: u32,
    translated: u32,
    /// Always the general path, never the short one (a twin that checks the short path's bytes).
    general_only: bool,
}

impl Server {
    /// One snapshot of `current` (sorted by key, key 1 the client's own player, all visible).
    fn build(
        &mut self,
        tick: u32,
        current: &[QEntity],
        ack: u32,
        budget: usize,
        refill: f64,
        out: &mut Vec<u8>,
    ) -> Built {
        let all: Vec<u32> = (0..current.len() as u32).collect();
        self.build_seeing(tick, current, &all, ack, budget, refill, out)
    }

    /// One snapshot in which the client sees only `visible` (indices into `current`, ascending).
    #[expect(clippy::too_many_arguments, reason = "a test helper spelling out a snapshot")]
    fn build_seeing(
        &mut self,
        tick: u32,
        current: &[QEntity],
        visible: &[u32],
        ack: u32,
        budget: usize,
        refill: f64,
        out: &mut Vec<u8>,
    ) -> Built {
        self.frame.set_referenced_since(self.last_ack);
        self.last_ack = ack;
        self.frame.begin(tick, RATE, current.iter().copied());
        let mut baselines = self.frame.take_baselines([ack]);
        baselines.iter_mut().for_each(|b| self.frame.fill(b));
        self.frame.set_baselines(baselines);
        let mut bits = Bits::default();
        bits.clear(self.frame.keys().len());
        for i in visible {
            let slot = self
                .frame
                .slot(current[*i as usize].key)
                .expect("every current entity has a slot");
            bits.set(slot);
        }
        let own = current.iter().find(|e| e.key == 1).copied().unwrap_or_default();
        let p = params(tick, ack, budget, refill, own);
        let built = if self.general_only {
            let baseline = self.replicator.ready(&self.frame, &p);
            self.replicator
                .build_general(&mut self.scratch, &self.frame, &mut bits, &p, baseline, out)
        } else {
            self.replicator
                .build(&self.frame, &mut self.scratch, &mut bits, &p, out)
        };
        self.short += u32::from(built.path != SnapshotPath::General);
        self.translated += u32::from(built.path == SnapshotPath::ShortTranslated);
        built
    }

    fn newest_view(&self) -> Vec<QEntity> {
        self.replicator.newest_view(&self.frame).unwrap().1
    }
}

/// A client: the views it rebuilt, by tick.
#[derive(Default)]
struct Client {
    views: BTreeMap<u32, Vec<QEntity>>,
}

impl Client {
    /// Decodes a payload; returns the rebuilt view's tick.
    fn receive(&mut self, bytes: &[u8]) -> u32 {
        let h = delta_header(bytes).unwrap();
        let empty = vec![];
        let base = if h.baseline_tick == 0 {
            &empty
        } else {
            self.views.get(&h.baseline_tick).expect("baseline the client has")
        };
        let (h, view) = decode_delta(bytes, base, RATE).unwrap();
        self.views.insert(h.tick, view);
        h.tick
    }
}

/// Entities 1..=n moving, some turning every tick.
fn world(n: u32, tick: u32, rng: &mut StdRng) -> Vec<QEntity> {
    (1..=n)
        .map(|k| QEntity {
            key: k,
            x: (k * 100) as i32 + (tick as i32) * (k as i32 % 7),
            y: 500 + rng.random_range(0..3),
            vx: 64,
            aim: (tick * k % 4096) as u16,
            health: 100,
            ..QEntity::default()
        })
        .collect()
}

/// Entities living `ticks` ticks, `per_tick` new ones each tick, keys from `first` on and ever newer (as
/// projectiles are): the ones alive at `tick`.
fn short_lived(tick: u32, ticks: u32, per_tick: u32, first: u32) -> impl Iterator<Item = QEntity> {
    (tick.saturating_sub(ticks) * per_tick..tick * per_tick).map(move |k| QEntity {
        key: first + k,
        x: (k * 37 % 5_000) as i32,
        vx: 300,
        health: 1,
        ..QEntity::default()
    })
}

#[test]
fn the_client_always_rebuilds_the_view_the_server_stored_under_loss() {
    let mut rng = StdRng::seed_from_u64(3);
    let mut server = Server::default();
    let mut client = Client::default();
    let mut general = Server {
        general_only: true,
        ..Server::default()
    };
    let mut ack = 0;
    for tick in 1..400 {
        let current = world(40, tick, &mut rng);
        let mut out = vec![];
        server.build(tick, &current, ack, 1_100, 100_000.0, &mut out);
        assert!(out.len() <= 1_100);
        let mut out_general = vec![];
        general.build(tick, &current, ack, 1_100, 100_000.0, &mut out_general);
        assert_eq!(out, out_general, "tick {tick}: the short path wrote other bytes");
        if rng.random_bool(0.15) {
            continue; // lost
        }
        let t = client.receive(&out);
        assert_eq!(client.views[&t], server.newest_view(), "tick {tick}");
        assert_eq!(client.views[&t], current, "everything fits: the view is the world");
        if rng.random_bool(0.8) {
            ack = t;
        }
    }
    assert!(server.short > 250, "{} of 399 by the short path", server.short);
}

#[test]
fn over_budget_nothing_starves_and_the_datagram_is_never_exceeded() {
    let mut rng = StdRng::seed_from_u64(4);
    let mut server = Server::default();
    let mut client = Client::default();
    let mut last_sent: BTreeMap<u32, u32> = BTreeMap::new();
    let mut ack = 0;
    for tick in 1..=300 {
        let current = world(200, tick, &mut rng);
        let mut out = vec![];
        let built = server.build(tick, &current, ack, 300, 100_000.0, &mut out);
        assert!(out.len() <= 300, "tick {tick}: {} bytes", out.len());
        if tick > 1 {
            assert!(built.updates_left_out > 0, "the budget forces choices");
        }
        let t = client.receive(&out);
        ack = t;
        assert_eq!(
            client.views[&t],
            server.newest_view(),
            "tick {tick}: the view the server stored"
        );
        let view = &client.views[&t];
        for e in view {
            if current.iter().any(|c| c == e) {
                last_sent.insert(e.key, tick);
            }
        }
        if tick > 100 {
            let stale = (1..=200)
                .filter(|k| tick - last_sent.get(k).copied().unwrap_or(0) > 60)
                .count();
            assert_eq!(stale, 0, "tick {tick}: {stale} entities not refreshed for a second");
        }
        assert!(
            view.iter().any(|e| e.key == 1 && current[0] == *e),
            "the own player is always current"
        );
    }
}

#[test]
fn the_bandwidth_budget_is_held() {
    let mut rng = StdRng::seed_from_u64(5);
    let mut server = Server::default();
    let mut ack = 0;
    let mut total = 0;
    for tick in 1..=600 {
        let current = world(100, tick, &mut rng);
        let mut out = vec![];
        server.build(tick, &current, ack, 1_100, 250.0, &mut out);
        total += out.len();
        ack = tick;
    }
    // 250 bytes per snapshot refill, plus at most the bucket's start-up allowance and per-delta overhead.
    assert!(total <= 600 * 250 + 2 * 1_100 + 600 * 30, "{total} bytes");
    assert!(total >= 600 * 200, "the budget is used: {total}");
}

#[test]
fn entities_leave_and_reenter_the_view() {
    let mut server = Server::default();
    let mut client = Client::default();
    let a = QEntity {
        key: 1,
        health: 100,
        ..QEntity::default()
    };
    let b = QEntity {
        key: 7,
        x: 640,
        health: 100,
        ..QEntity::default()
    };
    let steps = [vec![a, b], vec![a], vec![a, b]];
    for (i, current) in steps.iter().enumerate() {
        let tick = i as u32 + 1;
        let mut out = vec![];
        server.build(tick, current, tick - 1, 1_100, 100_000.0, &mut out);
        let t = client.receive(&out);
        assert_eq!(&client.views[&t], current, "step {i}");
    }
}

#[test]
fn an_unknown_or_too_old_ack_gets_a_full_view() {
    let mut server = Server::default();
    let current = vec![QEntity {
        key: 1,
        health: 100,
        ..QEntity::default()
    }];
    let mut out = vec![];
    let built = server.build(50, &current, 12, 1_100, 100_000.0, &mut out);
    assert!(built.full);
    assert_eq!(delta_header(&out).unwrap().baseline_tick, 0);
}

#[test]
fn views_agree_under_loss_budgets_and_interest_changes() {
    // Random visibility (entities leave and re-enter), entities that vanish for good, loss of snapshots
    // and acks, and budgets from starved to ample: the client always rebuilds exactly the stored view.
    for seed in 0..8 {
        let mut rng = StdRng::seed_from_u64(100 + seed);
        let mut server = Server::default();
        let mut client = Client::default();
        let mut ack = 0;
        let mut left_out = 0;
        let mut layouts = std::collections::BTreeSet::new();
        // A twin server that always takes the general path: the short path must write the same bytes.
        let mut general = Server {
            general_only: true,
            ..Server::default()
        };
        for tick in 1..300 {
            let mut current = world(120, tick, &mut rng);
            // Some entities stop and some turn; a band of keys is gone for a while.
            for e in current.iter_mut() {
                if rng.random_bool(0.1) {
                    e.vx = rng.random_range(-200..200);
                    e.vy = rng.random_range(-200..200);
                }
            }
            current.retain(|e| !(50..60).contains(&e.key) || tick % 100 < 50);
            // Short-lived entities with ever newer keys (as projectiles are): new slots after the last, dead
            // slots piling up until the slots are laid out afresh; now and then a new key between the
            // existing ones (as a joining player's is), which lays them out afresh at once.
            current.extend(short_lived(tick, 15, 3, 1_000));
            if tick % 37 == 0 {
                current.push(QEntity {
                    key: 500 + tick,
                    health: 100,
                    ..QEntity::default()
                });
                current.sort_unstable_by_key(|e| e.key);
            }
            let visible: Vec<u32> = (0..current.len() as u32)
                .filter(|i| current[*i as usize].key == 1 || rng.random_bool(0.8))
                .collect();
            let budget = if rng.random_bool(0.5) {
                rng.random_range(120..400)
            } else {
                1_100
            };
            let mut out = vec![];
            let built = server.build_seeing(tick, &current, &visible, ack, budget, 100_000.0, &mut out);
            let mut out_general = vec![];
            let built_general =
                general.build_seeing(tick, &current, &visible, ack, budget, 100_000.0, &mut out_general);
            assert_eq!(
                out, out_general,
                "seed {seed} tick {tick}: the short path wrote other bytes"
            );
            // The same snapshot, each built its own way.
            assert_eq!(
                Built {
                    path: SnapshotPath::General,
                    ..built
                },
                built_general,
                "seed {seed} tick {tick}"
            );
            layouts.insert(server.frame.layout());
            left_out += built.updates_left_out;
            assert!(out.len() <= budget, "seed {seed} tick {tick}: {} > {budget}", out.len());
            if rng.random_bool(0.15) {
                continue; // lost
            }
            let t = client.receive(&out);
            assert_eq!(client.views[&t], server.newest_view(), "seed {seed} tick {tick}");
            let own = client.views[&t].iter().find(|e| e.key == 1);
            assert_eq!(
                own,
                current.iter().find(|e| e.key == 1),
                "the own player is always current"
            );
            if rng.random_bool(0.7) {
                ack = t;
            }
        }
        assert!(left_out > 100, "seed {seed}: the budgets left {left_out} updates out");
        let fast = server.short;
        assert!(fast >= 10, "seed {seed}: {fast} snapshots took the short path");
        assert_eq!(general.short, 0);
        // 8 new keys between slots, and dead slots over the limit about every 85 ticks.
        assert!(
            (10..40).contains(&layouts.len()),
            "seed {seed}: {} slot layouts in 300 ticks",
            layouts.len()
        );
    }
}

#[test]
fn a_new_layout_translates_views_slot_by_slot_with_the_same_bytes() {
    // Acked every tick (as on a good network): at every new layout (many dead slots, or a key between
    // slots) the view held is translated to the new slots, and the bytes are the general path's.
    for seed in 0..4 {
        let mut rng = StdRng::seed_from_u64(200 + seed);
        let general_only = true;
        let (mut server, mut general, mut client) = (
            Server::default(),
            Server {
                general_only,
                ..Server::default()
            },
            Client::default(),
        );
        let (mut ack, mut layouts) = (0, std::collections::BTreeSet::new());
        for tick in 1..400 {
            let mut current = world(40, tick, &mut rng);
            // Short-lived entities (dead slots pile up past the limit), and now and then a key between slots.
            current.extend(short_lived(tick, 20, 12, 10_000));
            if tick % 29 == 0 {
                current.push(QEntity {
                    key: 5_000 + tick,
                    ..QEntity::default()
                });
                current.sort_unstable_by_key(|e| e.key);
            }
            let visible: Vec<u32> = (0..current.len() as u32)
                .filter(|i| current[*i as usize].key == 1 || rng.random_bool(0.3))
                .collect();
            let (mut out, mut out_general) = (vec![], vec![]);
            server.build_seeing(tick, &current, &visible, ack, 1_100, 1e9, &mut out);
            general.build_seeing(tick, &current, &visible, ack, 1_100, 1e9, &mut out_general);
            assert_eq!(out, out_general, "seed {seed} tick {tick}");
            layouts.insert(server.frame.layout());
            ack = client.receive(&out);
            assert_eq!(client.views[&ack], server.newest_view(), "seed {seed} tick {tick}");
        }
        let (fast, translated) = (server.short, server.translated);
        assert!(layouts.len() > 20, "seed {seed}: {} layouts", layouts.len());
        assert!(fast > 300, "seed {seed}: {fast} of 399 by the short path");
        assert!(
            translated + 1 >= layouts.len() as u32,
            "seed {seed}: {translated} translated, {} layouts",
            layouts.len()
        );
    }
}
