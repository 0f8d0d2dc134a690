//! Lag compensation in the simulation: a shot from a player who acknowledged an older snapshot leaves
//! flown ahead by how far behind it saw (the round trip plus the clients' interpolation), capped; with the
//! compensation off it leaves from the muzzle.

use super::*;
use crate::game::resources::Projectiles;

/// Where the one projectile in flight is after `client`'s shot, fired in a tick whose datagram acknowledged
/// the snapshot `ticks_behind` ticks back; `compensation` as the server is set.
fn shot_x(ticks_behind: u32, compensation: std::time::Duration) -> f32 {
    let mut s = sim(4, open_arena());
    s.set_lag_compensation(compensation);
    join(&mut s, 1, "ana");
    for _ in 0..40 {
        step(&mut s);
    }
    let Inbound::Input {
        client,
        mut datagram,
        waited,
    } = input(1, 1, 0, 0.0, true)
    else {
        unreachable!("an input")
    };
    datagram.ack_tick = s.tick_count() + 1 - ticks_behind; // the tick that applies it is the next
    s.push(Inbound::Input {
        client,
        datagram,
        waited,
    });
    // Ticked without decoding: the acknowledgement is made up, and the test's views do not hold it.
    POOL.with(|pool| s.tick(pool));
    s.drain_outbox(&mut Vec::new());
    let flying = &s.world_mut().resource::<Projectiles>().0;
    assert_eq!(flying.len(), 1, "one shot");
    flying[0].state.pos.x
}

#[test]
fn a_shot_is_flown_ahead_by_how_far_behind_its_shooter_saw() {
    let step = arena_shared::rules::BLASTER.speed / 60.0;
    let off = shot_x(4, std::time::Duration::ZERO);
    // 4 ticks of round trip and 2 of interpolation (snapshots every tick at 60 Hz).
    let on = shot_x(4, std::time::Duration::from_millis(250));
    assert!((on - off - 6.0 * step).abs() < 0.05, "{off} then {on}");
    // Far behind: capped at 250 ms, 15 ticks.
    let far = shot_x(40, std::time::Duration::from_millis(250));
    assert!((far - off - 15.0 * step).abs() < 0.05, "{off} then {far}");
    // Nothing acknowledged yet: no compensation.
    assert_eq!(shot_x(41, std::time::Duration::from_millis(250)), off);
}
