//! Entity kinds and the key ranges that tell them apart: a delta names every entity by one `u32` key, and
//! the range a key falls in is its kind.
//!
//! | kind | keys | key of id |
//! | --- | --- | --- |
//! | [`Kind::Player`] | `0 .. 1 << 30` | the id |
//! | [`Kind::HealthPack`] | `1 << 30 .. 1 << 31` | the id (its index in the map) with bit 30 set |
//! | [`Kind::Projectile`] | `1 << 31 ..= u32::MAX` | the id with bit 31 set |
//!
//! Keys sort by kind (a view sorted by key holds its players first), and an id keeps the bits its range
//! has room for. The code reads the ranges from one table, `RANGES`; the table above only describes it.

use crate::Vec2;
use crate::codec::delta::mask;
use crate::protocol::{HealthPackSnapshot, PlayerId, PlayerSnapshot, ProjectileSnapshot, Snapshot};
use crate::quant::{POS_SCALE, QEntity, VEL_SCALE, dq, dq_aim, dq_time, q, q_aim, q_time};
use crate::rules::PlayerState;

/// What an entity is, as its key tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Player,
    HealthPack,
    Projectile,
}

/// One kind's keys: `first .. first + (1 << id_bits)`.
#[derive(Debug, Clone, Copy)]
struct KeyRange {
    kind: Kind,
    first: u32,
    id_bits: u32,
}

/// Every kind's keys, one row per kind in the order `Kind` declares its variants, keys ascending, together
/// every key (a new kind takes a share of a range: half of the projectiles', say).
const RANGES: [KeyRange; 3] = [
    KeyRange {
        kind: Kind::Player,
        first: 0,
        id_bits: 30,
    },
    KeyRange {
        kind: Kind::HealthPack,
        first: 1 << 30,
        id_bits: 30,
    },
    KeyRange {
        kind: Kind::Projectile,
        // The bit projectile keys always had, so their keys keep their bytes on the wire.
        first: 1 << 31,
        id_bits: 31,
    },
];

// The table's order is the enum's (so a kind finds its row by its discriminant), each range starts at a
// multiple of its size (so an id is placed and taken out with a bit mask), and the ranges tile the keys: the
// first starts at 0, each starts where the one before ends, the last ends at u32::MAX (so every key a peer
// sends is some kind's, and a decoder need not check). Checked when the crate compiles.
const _: () = {
    let mut i = 0;
    while i < RANGES.len() {
        let r = RANGES[i];
        assert!(
            r.kind as usize == i,
            "RANGES must list the kinds in the order Kind declares them"
        );
        assert!(r.id_bits <= 32 && r.first as u64 + (1u64 << r.id_bits) <= 1u64 << 32);
        assert!(
            r.first as u64 & ((1u64 << r.id_bits) - 1) == 0,
            "a range must start at a multiple of its size"
        );
        let end = if i + 1 < RANGES.len() {
            RANGES[i + 1].first as u64
        } else {
            1u64 << 32
        };
        assert!(
            r.first as u64 + (1u64 << r.id_bits) == end,
            "the ranges must tile the keys, in ascending order"
        );
        i += 1;
    }
    assert!(RANGES[0].first == 0, "the first range starts at key 0");
};

impl Kind {
    /// Every kind, in key order.
    pub const ALL: [Kind; RANGES.len()] = {
        let mut all = [Kind::Player; RANGES.len()];
        let mut i = 0;
        while i < RANGES.len() {
            all[i] = RANGES[i].kind;
            i += 1;
        }
        all
    };

    #[inline]
    const fn range(self) -> KeyRange {
        RANGES[self as usize]
    }

    /// The low bits of a key that hold the id.
    #[inline]
    const fn id_mask(self) -> u32 {
        // A 64-bit shift, so a range of 32 id bits does not overflow.
        ((1u64 << self.range().id_bits) - 1) as u32
    }

    /// The kind of the entity with key `key`: the last kind whose first key is at most `key`.
    #[inline]
    pub const fn of(key: u32) -> Kind {
        // One comparison per kind after the first, added up rather than branched on.
        let mut at = 0;
        let mut i = 1;
        while i < RANGES.len() {
            at += (key >= RANGES[i].first) as usize;
            i += 1;
        }
        Kind::ALL[at]
    }

    /// The first key of this kind's range.
    #[inline]
    pub const fn first_key(self) -> u32 {
        self.range().first
    }

    /// The key of this kind's entity `id`: the id's low bits (as many as the range has room for) placed in
    /// the range.
    #[inline]
    pub const fn key(self, id: u32) -> u32 {
        self.first_key() | (id & self.id_mask())
    }

    /// The id of the entity with key `key` (the inverse of [`Kind::key`] for keys in a kind's range).
    #[inline]
    pub const fn id_of(key: u32) -> u32 {
        key & Kind::of(key).id_mask()
    }

    /// The fields (bits of [`mask`]) a new entity of this kind always carries. They are left out of the mask
    /// written for a new entity (so a new projectile's mask, with its owner, stays one byte) and the decoder
    /// puts them back.
    #[inline]
    pub const fn sent_when_new(self) -> u32 {
        match self {
            Kind::Player | Kind::HealthPack => 0,
            Kind::Projectile => mask::OWNER,
        }
    }
}

/// Each kind's fields, and the conversions from and to its snapshot type. A kind uses some of
/// [`QEntity`]'s fields and leaves the others at zero:
///
/// | kind | fields used | snapshot type |
/// | --- | --- | --- |
/// | [`Kind::Player`] | all but `owner` | [`PlayerSnapshot`] |
/// | [`Kind::HealthPack`] | `x`, `y`, `health` (1 while it lies there, 0 while taken) | [`HealthPackSnapshot`] |
/// | [`Kind::Projectile`] | `x`, `y`, `vx`, `vy`, `owner` | [`ProjectileSnapshot`] |
impl QEntity {
    /// What this entity is, by its key.
    #[inline]
    pub fn kind(&self) -> Kind {
        Kind::of(self.key)
    }

    #[inline]
    pub fn is_projectile(&self) -> bool {
        self.kind() == Kind::Projectile
    }

    pub fn from_player(p: &PlayerSnapshot) -> Self {
        let s = &p.state;
        Self {
            key: Kind::Player.key(p.id),
            x: q(s.pos.x, POS_SCALE),
            y: q(s.pos.y, POS_SCALE),
            vx: q(s.vel.x, VEL_SCALE),
            vy: q(s.vel.y, VEL_SCALE),
            aim: q_aim(s.aim),
            health: s.health,
            cooldown: q_time(s.fire_cooldown),
            respawn: q_time(s.respawn_in),
            kills: p.kills,
            deaths: p.deaths,
            owner: 0,
        }
    }

    /// The key of projectile `id`: [`Kind::key`] of [`Kind::Projectile`].
    #[inline]
    pub fn projectile_key(id: u32) -> u32 {
        Kind::Projectile.key(id)
    }

    pub fn from_projectile(p: &ProjectileSnapshot) -> Self {
        Self {
            key: Self::projectile_key(p.id),
            x: q(p.pos.x, POS_SCALE),
            y: q(p.pos.y, POS_SCALE),
            vx: q(p.vel.x, VEL_SCALE),
            vy: q(p.vel.y, VEL_SCALE),
            owner: p.owner,
            ..Self::default()
        }
    }

    /// A health pack, lying there or taken: it stays in the world either way, so taking one and its return
    /// cost a field each, not a removal and a new entity (and its slot stays where it is).
    pub fn from_health_pack(p: &HealthPackSnapshot, lying: bool) -> Self {
        Self {
            key: Kind::HealthPack.key(p.id),
            x: q(p.pos.x, POS_SCALE),
            y: q(p.pos.y, POS_SCALE),
            health: u8::from(lying),
            ..Self::default()
        }
    }

    pub fn to_health_pack(&self) -> HealthPackSnapshot {
        HealthPackSnapshot {
            id: Kind::id_of(self.key),
            pos: self.pos(),
        }
    }

    pub fn to_player(&self) -> PlayerSnapshot {
        PlayerSnapshot {
            id: Kind::id_of(self.key) as PlayerId,
            state: PlayerState {
                pos: self.pos(),
                vel: Vec2::new(dq(self.vx, VEL_SCALE), dq(self.vy, VEL_SCALE)),
                aim: dq_aim(self.aim),
                health: self.health,
                fire_cooldown: dq_time(self.cooldown),
                respawn_in: dq_time(self.respawn),
            },
            kills: self.kills,
            deaths: self.deaths,
        }
    }

    pub fn to_projectile(&self) -> ProjectileSnapshot {
        ProjectileSnapshot {
            id: Kind::id_of(self.key),
            owner: self.owner,
            pos: self.pos(),
            vel: Vec2::new(dq(self.vx, VEL_SCALE), dq(self.vy, VEL_SCALE)),
        }
    }

    /// Puts this entity, as its kind's snapshot type, where its kind goes in `snapshot` (a taken health pack
    /// goes nowhere: a snapshot lists the packs lying there).
    pub fn place_in(&self, snapshot: &mut Snapshot) {
        // Every kind routed here by name: a new kind does not compile until it has a place.
        match self.kind() {
            Kind::Player => snapshot.players.push(self.to_player()),
            Kind::HealthPack if self.health > 0 => snapshot.health_packs.push(self.to_health_pack()),
            Kind::HealthPack => {}
            Kind::Projectile => snapshot.projectiles.push(self.to_projectile()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The last key of `kind`'s range.
    fn last_key(kind: Kind) -> u32 {
        kind.first_key() + kind.id_mask()
    }

    #[test]
    fn every_kinds_keys_round_trip() {
        for kind in Kind::ALL {
            for id in [0, 1, 2, 5, 1_000, (1 << 29) + 7, kind.id_mask()] {
                let key = kind.key(id);
                assert_eq!(Kind::of(key), kind, "{kind:?} {id}");
                assert_eq!(Kind::id_of(key), id, "{kind:?} {id}");
            }
        }
        // Keys on the wire before kinds had a table: players by id, projectiles by id with bit 31 set.
        assert_eq!(Kind::Player.key(42), 42);
        assert_eq!(Kind::Projectile.key(5), 5 | 1 << 31);
        assert_eq!(Kind::HealthPack.key(3), 3 | 1 << 30);
    }

    #[test]
    fn ranges_ascend_in_table_order_and_do_not_overlap() {
        assert_eq!(Kind::ALL, [Kind::Player, Kind::HealthPack, Kind::Projectile]);
        assert_eq!(Kind::ALL[0].first_key(), 0);
        for pair in Kind::ALL.windows(2) {
            assert!(last_key(pair[0]) < pair[1].first_key(), "{pair:?}");
        }
        assert_eq!(last_key(Kind::Player), (1 << 30) - 1);
        assert_eq!(last_key(Kind::HealthPack), (1 << 31) - 1);
        assert_eq!(last_key(Kind::Projectile), u32::MAX);
    }

    #[test]
    fn of_at_each_boundary() {
        for pair in Kind::ALL.windows(2) {
            assert_eq!(Kind::of(pair[1].first_key() - 1), pair[0]);
            assert_eq!(Kind::of(pair[1].first_key()), pair[1]);
        }
        assert_eq!(Kind::of(0), Kind::Player);
        assert_eq!(Kind::of(u32::MAX), Kind::Projectile);
        assert_eq!(Kind::of((1 << 30) - 1), Kind::Player);
        assert_eq!(Kind::of(1 << 30), Kind::HealthPack);
        assert_eq!(Kind::of((1 << 31) - 1), Kind::HealthPack);
    }

    #[test]
    fn each_kind_goes_to_its_place_in_a_snapshot_and_a_taken_pack_to_none() {
        let pack = HealthPackSnapshot {
            id: 3,
            pos: Vec2::new(8.0, 10.0),
        };
        let player = PlayerSnapshot {
            id: 7,
            state: PlayerState::spawned(Vec2::new(1.0, 2.0)),
            kills: 1,
            deaths: 2,
        };
        let mut snapshot = Snapshot::default();
        QEntity::from_player(&player).place_in(&mut snapshot);
        QEntity::from_health_pack(&pack, true).place_in(&mut snapshot);
        QEntity::from_health_pack(&HealthPackSnapshot { id: 4, ..pack }, false).place_in(&mut snapshot);
        assert_eq!(snapshot.players, vec![player]);
        assert_eq!(snapshot.health_packs, vec![pack], "the taken pack 4 is not listed");
        assert!(snapshot.projectiles.is_empty());
    }

    #[test]
    fn only_projectiles_send_fields_implied_when_new() {
        assert_eq!(Kind::Player.sent_when_new(), 0);
        assert_eq!(Kind::HealthPack.sent_when_new(), 0);
        assert_eq!(Kind::Projectile.sent_when_new(), mask::OWNER);
    }
}
