//! Health packs in the simulation: a hurt player who walks over one takes it and is healed, an unhurt one
//! leaves it; a taken pack is gone from every client's view until it comes back after the delay.

use super::*;
use arena_shared::protocol::HealthPackSnapshot;
use arena_shared::rules::{HEALTH_PACK_DELAY, HEALTH_PACK_HEAL};

/// The health packs `client` was sent this tick (ids), or none when it got no snapshot.
fn packs_seen(out: &Out, client: u64) -> Option<Vec<HealthPackSnapshot>> {
    let snapshot = out.snapshots.iter().find(|(c, _)| *c == ClientId(client));
    snapshot.map(|(_, s)| s.health_packs.clone())
}

/// Sets player `id`'s position and health.
fn place(s: &mut Sim, id: u32, pos: Vec2, health: u8) {
    let world = s.world_mut();
    let mut players = world.query::<(&components::Player, &mut components::Body)>();
    for (player, mut body) in players.iter_mut(world) {
        if player.id == id {
            (body.0.pos, body.0.health) = (pos, health);
        }
    }
}

fn health_of(s: &mut Sim, id: u32) -> u8 {
    let world = s.world_mut();
    let mut players = world.query::<(&components::Player, &components::Body)>();
    let found = players.iter(world).find(|(p, _)| p.id == id);
    found.map_or(0, |(_, b)| b.0.health)
}

#[test]
fn a_hurt_player_takes_the_pack_it_walks_over_and_the_pack_comes_back_after_the_delay() {
    let mut arena = open_arena();
    let (near, far) = (Vec2::new(8.0, 10.0), Vec2::new(30.0, 10.0));
    arena.health_packs = vec![near, far];
    let mut s = sim(3, arena);
    join(&mut s, 1, "hurt");
    join(&mut s, 2, "whole");
    step(&mut s);
    place(&mut s, 1, Vec2::new(5.0, 10.0), 30);
    place(&mut s, 2, far, MAX_HEALTH); // standing on the far pack, unhurt
    let out = step(&mut s);
    let both = vec![
        HealthPackSnapshot { id: 0, pos: near },
        HealthPackSnapshot { id: 1, pos: far },
    ];
    assert_eq!(
        packs_seen(&out, 1),
        Some(both.clone()),
        "every client sees the packs lying there"
    );
    assert_eq!(packs_seen(&out, 2), Some(both));

    // Player 1 walks right, onto the near pack.
    let mut taken_at = None;
    for seq in 1..=60 {
        s.push(input(1, seq, 127, 0.0, false));
        let out = step(&mut s);
        if health_of(&mut s, 1) > 30 {
            taken_at = Some(s.tick_count());
            assert_eq!(health_of(&mut s, 1), 30 + HEALTH_PACK_HEAL);
            let left = vec![HealthPackSnapshot { id: 1, pos: far }];
            assert_eq!(
                packs_seen(&out, 1),
                Some(left.clone()),
                "a taken pack is gone from the views"
            );
            assert_eq!(packs_seen(&out, 2), Some(left));
            break;
        }
    }
    let taken_at = taken_at.expect("the hurt player took the pack within a second");
    assert_eq!(health_of(&mut s, 2), MAX_HEALTH);

    // Away from it, player 1 waits for the pack to come back: not before the delay, then at once.
    place(&mut s, 1, Vec2::new(20.0, 15.0), 30);
    let back = taken_at + (HEALTH_PACK_DELAY * 60.0).round() as u32;
    while s.tick_count() + 1 < back {
        let out = step(&mut s);
        assert_eq!(packs_seen(&out, 1).map(|p| p.len()), Some(1), "tick {}", s.tick_count());
    }
    let out = step(&mut s);
    assert_eq!(s.tick_count(), back);
    assert_eq!(packs_seen(&out, 1).map(|p| p.len()), Some(2), "back after the delay");
    assert_eq!(health_of(&mut s, 1), 30, "nobody near it: it lies there");
}
