//! Phase 7 with deltas: the quantized entity list and the interest grid are built once per snapshot, then
//! each client gets the entities within its view radius as a delta against its acknowledged view
//! ([`crate::game::replication`]).

use crate::game::Outbound;
use crate::game::components::{Body, Client, Player, Projectile, Score};
use crate::game::input::InputBuffer;
use crate::game::interest::Grid;
use crate::game::replication::{Replicator, SnapshotParams};
use crate::game::resources::{ArenaMap, Outbox, Settings, TickCount, TickStats};
use arena_shared::Vec2;
use arena_shared::protocol::{PlayerSnapshot, ProjectileSnapshot, TARGET_DATAGRAM_LEN};
use arena_shared::quant::QEntity;
use bevy_ecs::prelude::*;

/// Bytes a [`arena_shared::protocol::ServerDatagram::Delta`] adds around its payload (tag and length).
const DELTA_DATAGRAM_OVERHEAD: usize = 3;

/// Whether `tick` is a snapshot tick at `snapshot_rate` out of `tick_rate` (evenly spread).
pub fn is_snapshot_tick(tick: u32, tick_rate: u16, snapshot_rate: u16) -> bool {
    let at = |t: u32| u64::from(t) * u64::from(snapshot_rate) / u64::from(tick_rate.max(1));
    snapshot_rate >= tick_rate || at(tick) != at(tick.wrapping_sub(1))
}

/// Reusable buffers.
#[derive(Default)]
pub struct Scratch {
    entities: Vec<QEntity>,
    positions: Vec<Vec2>,
    grid: Grid,
    found: Vec<u32>,
    visible: Vec<QEntity>,
    visible_positions: Vec<Vec2>,
}

#[expect(
    clippy::too_many_arguments,
    reason = "a system's parameters declare the data it touches"
)]
pub fn replicate(
    tick: Res<TickCount>,
    settings: Res<Settings>,
    arena: Res<ArenaMap>,
    players: Query<(&Player, &Body, &Score)>,
    projectiles: Query<&Projectile>,
    mut clients: Query<(&Client, &Player, &Body, &Score, &InputBuffer, &mut Replicator)>,
    mut outbox: ResMut<Outbox>,
    mut stats: ResMut<TickStats>,
    mut scratch: Local<Scratch>,
) {
    let r = settings.replication;
    if r.full_snapshots || !is_snapshot_tick(tick.0, settings.tick_rate, r.snapshot_rate) {
        return;
    }
    let s = &mut *scratch;
    // Every entity once, quantized, sorted by key (players by id, then projectiles by id). Timers only
    // matter for a client's own player, so they are zero here and filled in per client below.
    s.entities.clear();
    s.positions.clear();
    let mut ps: Vec<(u32, QEntity, Vec2)> = players
        .iter()
        .map(|(p, b, sc)| {
            let mut q = QEntity::from_player(&PlayerSnapshot {
                id: p.id,
                state: b.0,
                kills: sc.kills,
                deaths: sc.deaths,
            });
            (q.cooldown, q.respawn) = (0, 0);
            (q.key, q, b.0.pos)
        })
        .collect();
    ps.sort_unstable_by_key(|e| e.0);
    let mut js: Vec<(u32, QEntity, Vec2)> = projectiles
        .iter()
        .map(|p| {
            let q = QEntity::from_projectile(&ProjectileSnapshot {
                id: p.id,
                owner: p.owner,
                pos: p.state.pos,
                vel: p.state.vel,
            });
            (q.key, q, p.state.pos)
        })
        .collect();
    js.sort_unstable_by_key(|e| e.0);
    for (_, q, pos) in ps.into_iter().chain(js) {
        s.entities.push(q);
        s.positions.push(pos);
    }
    s.grid.rebuild(
        arena.0.width,
        arena.0.height,
        r.view_radius.max(1.0),
        s.positions.iter().copied(),
    );

    let refill = f64::from(r.client_bandwidth) / f64::from(r.snapshot_rate.max(1));
    let datagram_budget = TARGET_DATAGRAM_LEN - DELTA_DATAGRAM_OVERHEAD;
    for (client, player, body, score, buffer, mut replicator) in &mut clients {
        let center = body.0.pos;
        s.found.clear();
        s.grid.query(center, r.view_radius, &mut s.found);
        s.found.sort_unstable();
        s.visible.clear();
        s.visible_positions.clear();
        let own = QEntity::from_player(&PlayerSnapshot {
            id: player.id,
            state: body.0,
            kills: score.kills,
            deaths: score.deaths,
        });
        let mut own_listed = false;
        for &i in &s.found {
            let e = s.entities[i as usize];
            stats.moving_visible += u64::from(!e.is_projectile() && e.key != own.key && (e.vx, e.vy) != (0, 0));
            if e.key == own.key {
                own_listed = true;
                s.visible.push(own);
            } else {
                s.visible.push(e);
            }
            s.visible_positions.push(s.positions[i as usize]);
        }
        if !own_listed {
            let at = s.visible.partition_point(|e| e.key < own.key);
            s.visible.insert(at, own);
            s.visible_positions.insert(at, center);
        }
        let params = SnapshotParams {
            tick: tick.0,
            tick_rate: settings.tick_rate,
            last_input_seq: buffer.last_applied,
            ack_tick: buffer.ack_tick,
            own_key: own.key,
            center,
            datagram_budget,
            refill,
        };
        let mut bytes = Vec::with_capacity(256);
        let built = replicator.build(&s.visible, &params, &s.visible_positions, &mut bytes);
        stats.snapshots += 1;
        stats.snapshot_bytes += built.bytes as u64;
        stats.entities_visible += built.entities_visible as u64;
        stats.updates_sent += built.updates_sent as u64;
        stats.updates_left_out += built.updates_left_out as u64;
        outbox.0.push(Outbound::Delta {
            client: client.0,
            tick: tick.0,
            bytes: bytes.into(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_ticks_are_spread_evenly() {
        let count = |rate| (1..=60).filter(|t| is_snapshot_tick(*t, 60, rate)).count();
        assert_eq!(count(60), 60);
        assert_eq!(count(30), 30);
        assert_eq!(count(20), 20);
        assert_eq!(count(7), 7);
        assert!(
            is_snapshot_tick(2, 60, 30) != is_snapshot_tick(3, 60, 30),
            "every other tick"
        );
    }
}
