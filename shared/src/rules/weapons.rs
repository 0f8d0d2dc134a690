//! Weapons as a table of specs: what a shot of each weapon is (speed, damage, cooldown, lifetime, radius),
//! and the bounds every weapon keeps within, which the server's hit tests are built on. A new weapon is a
//! row here (and a variant of [`Weapon`]); the bounds follow from the table.

use serde::{Deserialize, Serialize};

/// What a weapon's shots are.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WeaponSpec {
    /// Projectile speed, in units per second (a projectile keeps it until it vanishes).
    pub speed: f32,
    /// Health a hit takes away.
    pub damage: u8,
    /// Seconds between two shots of one player.
    pub cooldown: f32,
    /// Seconds a projectile flies before it vanishes.
    pub lifetime: f32,
    /// A projectile's radius, in units.
    pub radius: f32,
}

/// The weapons there are. Every player carries the [`Weapon::Blaster`]; a projectile remembers the weapon
/// that fired it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Weapon {
    #[default]
    Blaster,
}

/// The blaster: a quick, light shot; four hits kill.
pub const BLASTER: WeaponSpec = WeaponSpec {
    speed: 24.0,
    damage: 25,
    cooldown: 0.25,
    lifetime: 1.5,
    radius: 0.15,
};

/// The table: every weapon's spec, in the order of [`Weapon`]'s variants.
pub const WEAPONS: [WeaponSpec; 1] = [BLASTER];

impl Weapon {
    /// This weapon's row of the table.
    #[inline]
    pub const fn spec(self) -> &'static WeaponSpec {
        &WEAPONS[self as usize]
    }
}

/// The fastest projectile of any weapon, in units per second.
pub const FASTEST_PROJECTILE: f32 = fastest(&WEAPONS);
/// The widest projectile of any weapon, in units.
pub const WIDEST_PROJECTILE: f32 = widest(&WEAPONS);

/// The greatest speed of `specs` (0 for none).
const fn fastest(specs: &[WeaponSpec]) -> f32 {
    let (mut most, mut i) = (0.0f32, 0);
    while i < specs.len() {
        most = most.max(specs[i].speed);
        i += 1;
    }
    most
}

/// The greatest radius of `specs` (0 for none).
const fn widest(specs: &[WeaponSpec]) -> f32 {
    let (mut most, mut i) = (0.0f32, 0);
    while i < specs.len() {
        most = most.max(specs[i].radius);
        i += 1;
    }
    most
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bounds_are_those_of_the_table() {
        assert_eq!(Weapon::Blaster.spec(), &BLASTER);
        assert_eq!((FASTEST_PROJECTILE, WIDEST_PROJECTILE), (BLASTER.speed, BLASTER.radius));
        // A table with a faster, wider weapon has its bounds, wherever it is in the table.
        let rail = WeaponSpec {
            speed: 60.0,
            radius: 0.3,
            ..BLASTER
        };
        assert_eq!((fastest(&[BLASTER, rail]), widest(&[rail, BLASTER])), (60.0, 0.3));
        assert_eq!((fastest(&[]), widest(&[])), (0.0, 0.0));
    }
}
