//! Phase 7 of the naive benchmark baseline (`full_snapshots`, scheduled instead of `replicate` only then):
//! every client's full snapshot is built and encoded (the shared player and projectile lists once, then
//! each client's header).

use super::replicate::is_snapshot_tick;
use crate::game::components::{Body, Client, Player, Score};
use crate::game::edge::Outbound;
use crate::game::input::InputBuffer;
use crate::game::resources::{Outbox, Projectiles, Settings, TickCount, TickStats};
use arena_shared::codec::{encode_snapshot_body, encode_snapshot_from_body};
use arena_shared::protocol::{PlayerSnapshot, ProjectileSnapshot};
use bevy_ecs::prelude::*;

/// Reusable buffers, so a steady tick allocates only the encoded bytes.
#[derive(Default)]
pub struct Scratch {
    players: Vec<PlayerSnapshot>,
    projectiles: Vec<ProjectileSnapshot>,
}

/// Phase 7: a full snapshot of the world for each client, with the last input applied for that client.
#[expect(
    clippy::too_many_arguments,
    reason = "a system's parameters declare the data it touches"
)]
pub fn build_snapshots(
    tick: Res<TickCount>,
    settings: Res<Settings>,
    players: Query<(&Player, &Body, &Score)>,
    projectiles: Res<Projectiles>,
    clients: Query<(&Client, &InputBuffer)>,
    mut outbox: ResMut<Outbox>,
    mut stats: ResMut<TickStats>,
    mut scratch: Local<Scratch>,
) {
    let r = settings.replication;
    if !is_snapshot_tick(tick.0, settings.tick_rate, r.snapshot_rate) {
        return;
    }
    let Scratch {
        players: ps,
        projectiles: js,
    } = &mut *scratch;
    ps.clear();
    ps.extend(players.iter().map(|(p, b, s)| PlayerSnapshot {
        id: p.id,
        state: b.0,
        kills: s.kills,
        deaths: s.deaths,
    }));
    ps.sort_unstable_by_key(|p| p.id);
    js.clear();
    js.extend(projectiles.0.iter().map(|p| ProjectileSnapshot {
        id: p.id,
        owner: p.owner,
        pos: p.state.pos,
        vel: p.state.vel,
    }));
    js.sort_unstable_by_key(|p| p.id);
    let body = match encode_snapshot_body(ps, js) {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(error = %e, players = ps.len(), projectiles = js.len(), "snapshot too large; none sent");
            return;
        }
    };
    for (client, buffer) in &clients {
        match encode_snapshot_from_body(tick.0, buffer.last_applied, &body) {
            Ok(bytes) => {
                stats.snapshot_bytes += bytes.len() as u64;
                stats.snapshots += 1;
                stats.entities_visible += (ps.len() + js.len()) as u64;
                stats.updates_sent += (ps.len() + js.len()) as u64;
                outbox.0.push(Outbound::Snapshot {
                    client: client.0,
                    tick: tick.0,
                    bytes: bytes.into(),
                });
            }
            Err(e) => tracing::error!(error = %e, "snapshot too large; not sent"),
        }
    }
}
