//! Phase 7 with deltas: the quantized entity list and the interest grid are built once per snapshot, then
//! each client gets the entities within its view radius as a delta against its acknowledged view
//! ([`crate::game::replication`]).

use crate::game::Outbound;
use crate::game::components::{Body, Client, Player, Projectile, Score};
use crate::game::input::InputBuffer;
use crate::game::interest::Grid;
use crate::game::replication::{Bodies, Frame, Replicator, SnapshotParams};
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

/// Reusable buffers, and the frame kept from one snapshot to the next (its history holds the baselines).
#[derive(Default)]
pub struct Scratch {
    players: Vec<QEntity>,
    projectiles: Vec<QEntity>,
    positions: Vec<Vec2>,
    frame: Frame,
    bodies: Bodies,
    grid: Grid,
    /// Moving players among the frame's entities, one bit each.
    moving: Vec<u64>,
    /// One client's visible entities, one bit each, then as ascending indices.
    bits: Vec<u64>,
    visible: Vec<u32>,
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
    s.players.clear();
    s.players.extend(players.iter().map(|(p, b, sc)| {
        let mut q = QEntity::from_player(&PlayerSnapshot {
            id: p.id,
            state: b.0,
            kills: sc.kills,
            deaths: sc.deaths,
        });
        (q.cooldown, q.respawn) = (0, 0);
        q
    }));
    s.players.sort_unstable_by_key(|e| e.key);
    s.projectiles.clear();
    s.projectiles.extend(projectiles.iter().map(|p| {
        QEntity::from_projectile(&ProjectileSnapshot {
            id: p.id,
            owner: p.owner,
            pos: p.state.pos,
            vel: p.state.vel,
        })
    }));
    s.projectiles.sort_unstable_by_key(|e| e.key);
    s.frame.begin(
        tick.0,
        settings.tick_rate,
        s.players.iter().chain(&s.projectiles).copied(),
    );
    let entities = s.frame.entities();
    s.positions.clear();
    s.positions.extend(entities.iter().map(QEntity::pos));
    // Cells of half the view radius: a query then scans about twice the entities it finds.
    s.grid.rebuild(
        arena.0.width,
        arena.0.height,
        (r.view_radius / 2.0).max(1.0),
        s.positions.iter().copied(),
    );
    let words = entities.len().div_ceil(64);
    s.moving.clear();
    s.moving.resize(words, 0);
    for (i, e) in entities.iter().enumerate() {
        if !e.is_projectile() && (e.vx, e.vy) != (0, 0) {
            s.moving[i / 64] |= 1 << (i % 64);
        }
    }

    let refill = f64::from(r.client_bandwidth) / f64::from(r.snapshot_rate.max(1));
    let datagram_budget = TARGET_DATAGRAM_LEN - DELTA_DATAGRAM_OVERHEAD;
    for (client, player, body, score, buffer, mut replicator) in &mut clients {
        let own = QEntity::from_player(&PlayerSnapshot {
            id: player.id,
            state: body.0,
            kills: score.kills,
            deaths: score.deaths,
        });
        let Ok(own_at) = s.frame.keys().binary_search(&own.key) else {
            continue; // not in this frame (cannot happen: every client is a player)
        };
        s.bits.clear();
        s.bits.resize(words, 0);
        let bits = &mut s.bits;
        s.grid.for_each_within(body.0.pos, r.view_radius, |i| {
            bits[i as usize / 64] |= 1 << (i % 64);
        });
        bits[own_at / 64] |= 1 << (own_at % 64);
        let mut moving = 0;
        s.visible.clear();
        for (w, (&word, &m)) in bits.iter().zip(&s.moving).enumerate() {
            moving += (word & m).count_ones();
            let mut word = word;
            while word != 0 {
                s.visible.push((w * 64) as u32 + word.trailing_zeros());
                word &= word - 1;
            }
        }
        stats.moving_visible += u64::from(moving - u32::from((own.vx, own.vy) != (0, 0)));
        let params = SnapshotParams {
            last_input_seq: buffer.last_applied,
            ack_tick: buffer.ack_tick,
            own,
            center: body.0.pos,
            datagram_budget,
            refill,
        };
        let mut bytes = Vec::with_capacity(256);
        let built = replicator.build(&s.frame, &mut s.bodies, &s.visible, &params, &mut bytes);
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
