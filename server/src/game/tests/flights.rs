//! Tests of the projectiles' phase: flights worked out on two threads, or ahead of the phase, give the game
//! of flying them one by one, kills included.

use super::*;
use crate::game::flights::Target;
use crate::game::resources::FlightsEngine;
use arena_shared::arena::Wall;
use arena_shared::protocol::ServerFrame;
use systems::combat::move_projectiles;

/// What phase 4 saw, for counting from the outside what it took from the head start: the projectiles and
/// the living players as the phase finds them, and the counts so far.
#[derive(Resource, Default)]
struct Seen {
    list: Vec<components::Projectile>,
    targets: Vec<Target>,
    /// Flights worked out ahead that matched a projectile of phase 4, and of those the ones taken as far
    /// from every player without a look.
    matched: usize,
    taken_far: usize,
}

/// Right before phase 4: the projectiles and the living players it will see, in its order.
fn look_before(
    mut seen: ResMut<Seen>,
    projectiles: Res<resources::Projectiles>,
    players: Query<(&components::Player, &components::Body)>,
) {
    let seen = &mut *seen;
    seen.list.clone_from(&projectiles.0);
    seen.targets.clear();
    for (player, body) in &players {
        if body.0.is_alive() {
            seen.targets.push((player.id, body.0.pos));
        }
    }
}

/// Right after phase 4: of the flights it took from the head start, which matched a projectile, and
/// which were taken as far without a look (the players were those the head start saw, moved little).
fn count_after(mut seen: ResMut<Seen>, flights: Res<FlightsEngine>) {
    let ahead = flights.0.last_head_start();
    let far_known = ahead.players_stayed(&seen.targets);
    let worked: Vec<_> = seen
        .list
        .iter()
        .enumerate()
        .filter_map(|(i, p)| ahead.get(i, p))
        .collect();
    seen.matched += worked.len();
    seen.taken_far += worked.iter().filter(|w| far_known && w.far).count();
}

/// What a firefight came to.
struct Fight {
    /// The state hash after every tick.
    hashes: Vec<u64>,
    /// The most projectiles in flight at once, and the deaths.
    most: usize,
    deaths: u32,
    /// Flights taken from head starts, and of those the ones taken as far from every player.
    matched: usize,
    taken_far: usize,
}

/// A crowded firefight of `players` on `threads` threads, among a few walls. With `whole_head_starts`, the
/// phase waits for its head start to work out every flight.
fn firefight(players: u64, threads: u16, whole_head_starts: bool) -> Fight {
    let config = SimConfig {
        tick_rate: 60,
        seed: 7,
        arena: Arena {
            width: 60.0,
            height: 60.0,
            walls: vec![Wall::new(18.0, 18.0, 22.0, 22.0), Wall::new(38.0, 39.0, 39.0, 42.0)],
            spawn_points: (0..9)
                .map(|i| Vec2::new(10.0 + 20.0 * (i % 3) as f32, 10.0 + 20.0 * (i / 3) as f32))
                .collect(),
            health_packs: vec![],
        },
    };
    let mut s = Sim::with_replication(
        config,
        ReplicationConfig {
            threads,
            ..ReplicationConfig::for_tick_rate(60)
        },
    );
    s.set_handoffs(Handoffs {
        whole_head_start: whole_head_starts,
        ..SMALL_WORLD
    });
    s.world.insert_resource(Seen::default());
    s.schedule.add_systems(
        (
            look_before.before(move_projectiles),
            count_after.after(move_projectiles),
        )
            .in_set(TickSet::Projectiles),
    );
    let pool = Pool::new(usize::from(threads));
    let (mut hashes, mut most) = (vec![], 0);
    for t in 0..400u32 {
        if t == 0 {
            (1..=players).for_each(|c| join(&mut s, c, &format!("p{c}")));
        }
        // A player leaves and comes back: those ticks the players are not those the head start saw.
        let away = (150..250).contains(&t);
        match t {
            150 => s.push(Inbound::Leave { client: ClientId(3) }),
            250 => join(&mut s, 3, "p3"),
            _ => {}
        }
        for c in (1..=players).filter(|c| !(away && *c == 3)) {
            let aim = (t as f32 * 0.03 + c as f32 * 0.7).sin() * 3.1;
            let mx = (((t / 20 + c as u32) % 3) as i8 - 1) * 127;
            s.push(input(c, t + 1, mx, aim, true));
        }
        s.tick(&pool);
        s.drain_outbox(&mut Vec::new());
        hashes.push(s.state_hash());
        most = most.max(s.stats().projectiles as usize);
    }
    let deaths = s
        .world_mut()
        .query::<&components::Score>()
        .iter(&s.world)
        .map(|sc| sc.deaths)
        .sum();
    let seen = s.world.resource::<Seen>();
    Fight {
        hashes,
        most,
        deaths,
        matched: seen.matched,
        taken_far: seen.taken_far,
    }
}

#[test]
fn flights_worked_out_on_two_threads_give_the_game_of_one_by_one() {
    // On one thread every flight is worked out and applied in id order; on two, the flights are split and
    // those after a kill flown again: the same world every tick, with many projectiles and many kills.
    let one = firefight(80, 1, false);
    let (most, deaths) = (one.most, one.deaths);
    let two = firefight(80, 2, false);
    assert!(
        most >= SMALL_WORLD.projectiles_to_split,
        "{most} projectiles at most: never split"
    );
    assert!(deaths > 20, "{deaths} deaths");
    assert_eq!(one.hashes, two.hashes);
}

#[test]
fn flights_worked_out_ahead_give_the_game_of_flying_them_in_the_phase() {
    // Each head start flies every projectile as if no player were near it (lifetime and walls); the phase
    // takes those flights for the projectiles with no living player near, and flies the others: the same
    // world every tick as flying them all in the phase on one thread.
    // Most of them far from every player, known without a look at the players (a grid of the cells near
    // them, worked out ahead too, used when the players are those the head start saw, moved little since).
    let one = firefight(80, 1, false);
    let ahead = firefight(80, 2, true);
    let (matched, most, far) = (ahead.matched, ahead.most, ahead.taken_far);
    assert!(matched > 10 * most, "{matched} flights taken from head starts");
    assert!(far > matched / 4, "{far} of {matched} taken as far from every player");
    assert_eq!(one.hashes, ahead.hashes);
}

#[test]
fn a_projectile_behind_the_killing_one_flies_on_through_the_dead() {
    use arena_shared::rules::{BLASTER, ProjectileState, Weapon};
    // Two projectiles reach a player with one hit left in the same tick: the first (lower id) kills it and
    // vanishes, the second flies on, on one thread as on two (with enough others in flight to split).
    for threads in [1, 2] {
        let pool = Pool::new(usize::from(threads));
        let mut s = Sim::with_replication(
            SimConfig {
                tick_rate: 60,
                seed: 1,
                arena: open_arena(),
            },
            ReplicationConfig {
                threads,
                ..ReplicationConfig::for_tick_rate(60)
            },
        );
        s.set_handoffs(SMALL_WORLD);
        join(&mut s, 1, "shooter");
        join(&mut s, 2, "victim");
        step_on(&pool, &mut s);
        let world = s.world_mut();
        for (player, mut body) in world
            .query::<(&components::Player, &mut components::Body)>()
            .iter_mut(world)
        {
            body.0.pos = if player.id == 2 {
                Vec2::new(20.0, 10.0)
            } else {
                Vec2::new(3.0, 3.0)
            };
            body.0.health = if player.id == 2 { BLASTER.damage } else { MAX_HEALTH };
        }
        let shot = |id, x: f32, y: f32, vy: f32| components::Projectile {
            id,
            owner: 1,
            state: ProjectileState {
                pos: Vec2::new(x, y),
                vel: Vec2::new(if vy == 0.0 { 24.0 } else { 0.0 }, vy),
                life: 1.0,
                weapon: Weapon::Blaster,
            },
        };
        let mut list = vec![shot(1_000, 19.0, 10.0, 0.0), shot(1_001, 18.98, 10.0, 0.0)];
        list.extend((0..100).map(|k| shot(1_002 + k, 30.0 + (k % 10) as f32, 3.0 + (k / 10) as f32, 1.0)));
        world.resource_mut::<resources::Projectiles>().0 = list;
        let out = step_on(&pool, &mut s);
        assert!(
            out.frames
                .contains(&(None, ServerFrame::Killed { killer: 1, victim: 2 })),
            "threads {threads}: the first one killed"
        );
        let flying: Vec<u32> = s
            .world_mut()
            .resource::<resources::Projectiles>()
            .0
            .iter()
            .map(|p| p.id)
            .collect();
        assert_eq!(flying.len(), 101, "threads {threads}: {flying:?}");
        assert_eq!(flying[0], 1_001, "threads {threads}: the second flies on");
    }
}
