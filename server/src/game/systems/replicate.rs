//! Phase 7 with deltas: on snapshot ticks, the snapshot engine ([`crate::game::replication::snapshots`])
//! gives each client the entities within its view radius as a delta against its acknowledged view.

use crate::game::components::{Body, Client, Player, Score};
use crate::game::input::InputBuffer;
use crate::game::replication::Replicator;
use crate::game::replication::snapshots::{self, CLIENTS_PER_THREAD, Round, Snapshots};
use crate::game::resources::{ArenaMap, Items, LentPool, Outbox, Projectiles, Settings, TickCount, TickStats};
use arena_shared::protocol::PlayerSnapshot;
use arena_shared::quant::QEntity;
use bevy_ecs::prelude::*;

/// Whether `tick` is a snapshot tick at `snapshot_rate` out of `tick_rate` (evenly spread).
pub fn is_snapshot_tick(tick: u32, tick_rate: u16, snapshot_rate: u16) -> bool {
    let at = |t: u32| u64::from(t) * u64::from(snapshot_rate) / u64::from(tick_rate.max(1));
    snapshot_rate >= tick_rate || at(tick) != at(tick.wrapping_sub(1))
}

/// The player as every client sees it (timers only matter for a client's own player: zero here).
fn quantized(p: &Player, b: &Body, sc: &Score) -> QEntity {
    QEntity::from_player(&PlayerSnapshot {
        id: p.id,
        state: b.0,
        kills: sc.kills,
        deaths: sc.deaths,
    })
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
    projectiles: Res<Projectiles>,
    items: Res<Items>,
    mut clients: Query<(&Client, &Player, &Body, &Score, &mut InputBuffer, &mut Replicator)>,
    mut outbox: ResMut<Outbox>,
    mut stats: ResMut<TickStats>,
    mut pool: ResMut<LentPool>,
    mut engine: Local<Snapshots>,
) {
    let r = settings.replication;
    if !is_snapshot_tick(tick.0, settings.tick_rate, r.snapshot_rate) {
        return;
    }
    // The pool's threads wake while this thread quantizes the players (when there will be work for them:
    // with few clients, this thread builds every snapshot); this phase ends the tick's wake-up.
    let n_clients = clients.iter().len();
    let _awake = pool.renew_wake(n_clients > CLIENTS_PER_THREAD);
    let entities = engine.entities();
    entities.extend(players.iter().map(|(p, b, sc)| {
        let mut q = quantized(p, b, sc);
        (q.cooldown, q.respawn) = (0, 0);
        q
    }));
    entities.extend(items.0.values().copied());
    let round = Round {
        tick: tick.0,
        tick_rate: settings.tick_rate,
        width: arena.0.width,
        height: arena.0.height,
        view_radius: r.view_radius,
        refill: f64::from(r.client_bandwidth) / f64::from(r.snapshot_rate.max(1)),
        split: n_clients >= settings.handoffs.clients_to_split_preparation,
    };
    let rows = &mut clients;
    let list_clients = move || {
        let rows = rows; // moved in: the rows borrow the query, not the closure
        rows.iter_mut()
            .map(
                |(client, player, body, score, mut buffer, replicator)| snapshots::Client {
                    client: client.0,
                    own: quantized(player, body, score),
                    center: body.0.pos,
                    last_input_seq: buffer.last_applied,
                    input_margin: buffer.take_margin(),
                    ack_tick: buffer.ack_tick,
                    replicator: replicator.into_inner(),
                },
            )
            .collect()
    };
    let counts = engine.build(&pool, &round, &projectiles.0, list_clients, &mut outbox.0);
    stats.add_snapshots(&counts);
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
