//! How `deltas.json` writes views, delta headers and snapshots: entities in wire units with their kind and
//! id spelled out, and every field of a snapshot (its serde form leaves out what only deltas carry).

use arena_shared::Vec2;
use arena_shared::codec::delta::DeltaHeader;
use arena_shared::entity::Kind;
use arena_shared::protocol::{PlayerSnapshot, ProjectileSnapshot, Snapshot};
use arena_shared::quant::QEntity;
use serde::Serialize;

/// An entity of a view, in wire units; `kind` and `id` are what its key says.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntityJson {
    key: u32,
    kind: &'static str,
    id: u32,
    x: i32,
    y: i32,
    vx: i32,
    vy: i32,
    aim: u16,
    health: u8,
    cooldown: u16,
    respawn: u16,
    kills: u32,
    deaths: u32,
    owner: u32,
}

pub fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Player => "Player",
        Kind::HealthPack => "HealthPack",
        Kind::Projectile => "Projectile",
    }
}

impl EntityJson {
    pub fn of(e: &QEntity) -> Self {
        Self {
            key: e.key,
            kind: kind_name(e.kind()),
            id: Kind::id_of(e.key),
            x: e.x,
            y: e.y,
            vx: e.vx,
            vy: e.vy,
            aim: e.aim,
            health: e.health,
            cooldown: e.cooldown,
            respawn: e.respawn,
            kills: e.kills,
            deaths: e.deaths,
            owner: e.owner,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ViewJson {
    tick: u32,
    entities: Vec<EntityJson>,
}

pub fn view_json(tick: u32, view: &[QEntity]) -> ViewJson {
    ViewJson {
        tick,
        entities: view.iter().map(EntityJson::of).collect(),
    }
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct HeaderJson {
    pub tick: u32,
    pub baseline_tick: u32,
    last_input_seq: u32,
    input_margin: Option<i16>,
}

pub fn header_json(h: &DeltaHeader) -> HeaderJson {
    HeaderJson {
        tick: h.tick,
        baseline_tick: h.baseline_tick,
        last_input_seq: h.last_input_seq,
        input_margin: h.input_margin,
    }
}

#[derive(Debug, Clone, Serialize)]
struct PackJson {
    id: u32,
    pos: Vec2,
}

/// A `Snapshot` with every field (its serde form leaves out what only deltas carry).
#[derive(Debug, Clone, Serialize)]
pub struct SnapshotJson {
    tick: u32,
    last_input_seq: u32,
    input_margin: Option<i16>,
    players: Vec<PlayerSnapshot>,
    projectiles: Vec<ProjectileSnapshot>,
    health_packs: Vec<PackJson>,
}

pub fn snapshot_json(s: &Snapshot) -> SnapshotJson {
    SnapshotJson {
        tick: s.tick,
        last_input_seq: s.last_input_seq,
        input_margin: s.input_margin,
        players: s.players.clone(),
        projectiles: s.projectiles.clone(),
        health_packs: s
            .health_packs
            .iter()
            .map(|p| PackJson { id: p.id, pos: p.pos })
            .collect(),
    }
}
