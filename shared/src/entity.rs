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

use crate::codec::delta::mask;

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

/// Every kind's keys, one row per kind in the order `Kind` declares its variants, keys ascending. A key
/// between two rows belongs to no kind; [`Kind::of`] counts it as the kind below it.
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
// multiple of its size (so an id is placed and taken out with a bit mask), keys ascend, ranges do not overlap,
// and the last one ends at u32::MAX at the latest: checked when the crate compiles.
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
        if i > 0 {
            let p = RANGES[i - 1];
            assert!(
                p.first as u64 + (1u64 << p.id_bits) <= r.first as u64,
                "ranges overlap or descend"
            );
        }
        i += 1;
    }
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

    /// Whether `key` lies in some kind's range (not in a range left free between two kinds).
    #[inline]
    pub const fn is_assigned(key: u32) -> bool {
        let kind = Kind::of(key);
        key - kind.first_key() <= kind.id_mask()
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
                assert!(Kind::is_assigned(key));
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
        // Every key belongs to a kind now that the ranges meet.
        for key in [0, (1 << 30) - 1, 1 << 30, (1 << 31) - 1, 1 << 31, u32::MAX] {
            assert!(Kind::is_assigned(key), "{key:#x}");
        }
    }

    #[test]
    fn only_projectiles_send_fields_implied_when_new() {
        assert_eq!(Kind::Player.sent_when_new(), 0);
        assert_eq!(Kind::HealthPack.sent_when_new(), 0);
        assert_eq!(Kind::Projectile.sent_when_new(), mask::OWNER);
    }
}
