//! The order of a tick, written as chained system sets so the schedule reads like the tick's story.

use super::systems::{announce, combat, full_snapshots, inbox, matches, movement, record, replicate, sessions};
use bevy_ecs::message::message_update_system;
use bevy_ecs::prelude::*;
use bevy_ecs::schedule::SingleThreadedExecutor;

/// The phases of one tick, run in this order (each one sees everything the previous ones did).
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub enum TickSet {
    /// 0. Advance the tick counter and the message buffers; prepare the flights (for many projectiles:
    ///    wake the pool for the tick, and let it start on their flights, the flights engine's head start).
    Begin,
    /// 1. Drain the inbox: joins and leaves, then inputs and chat into messages and input buffers.
    Drain,
    /// 2. Choose each player's validated inputs for this tick.
    ApplyInputs,
    /// 3. Move players by the shared rules; fire; take the health packs walked over.
    Move,
    /// 4. Move projectiles (the flights engine); hits and kills.
    Projectiles,
    /// 5. Scores and the match (its end, the next one), deaths and respawns; then every state snaps to the
    ///    wire grid.
    Deaths,
    /// 6. Turn this tick's game messages into frames for the clients.
    Announce,
    /// 7. Build, encode and address every client's snapshot (on snapshot ticks).
    Snapshot,
    /// 8. Record what the tick did.
    Record,
}

impl TickSet {
    /// Every phase, in tick order.
    pub const ALL: [TickSet; 9] = [
        TickSet::Begin,
        TickSet::Drain,
        TickSet::ApplyInputs,
        TickSet::Move,
        TickSet::Projectiles,
        TickSet::Deaths,
        TickSet::Announce,
        TickSet::Snapshot,
        TickSet::Record,
    ];
}

fn new_schedule() -> Schedule {
    let mut schedule = Schedule::default();
    // The tick thread is the only thread that touches the World; systems run one after another.
    schedule.set_executor(SingleThreadedExecutor::new());
    schedule
}

/// How phase 7 makes snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Snapshots {
    /// Deltas with interest and a budget per client: the server's way.
    Deltas,
    /// Every client's full snapshot: the naive baseline the benchmarks compare with.
    Full,
}

/// Adds the systems of one phase, in their order within it.
fn add_phase(schedule: &mut Schedule, set: TickSet, snapshots: Snapshots) {
    match set {
        TickSet::Begin => schedule.add_systems(
            (message_update_system, inbox::begin_tick, combat::prepare_flights)
                .chain()
                .in_set(set),
        ),
        TickSet::Drain => schedule.add_systems(
            (sessions::handle_sessions, inbox::route_inputs_and_chat)
                .chain()
                .in_set(set),
        ),
        TickSet::ApplyInputs => schedule.add_systems(movement::select_inputs.in_set(set)),
        TickSet::Move => schedule.add_systems(
            (movement::move_players, movement::pick_up_health_packs)
                .chain()
                .in_set(set),
        ),
        TickSet::Projectiles => schedule.add_systems(combat::move_projectiles.in_set(set)),
        TickSet::Deaths => schedule.add_systems(
            (combat::score_kills, matches::run_match, combat::respawn_players)
                .chain()
                .in_set(set),
        ),
        TickSet::Announce => schedule.add_systems(announce::announce.in_set(set)),
        TickSet::Snapshot => match snapshots {
            Snapshots::Deltas => schedule.add_systems(replicate::replicate.in_set(set)),
            Snapshots::Full => schedule.add_systems(full_snapshots::build_snapshots.in_set(set)),
        },
        TickSet::Record => schedule.add_systems(record::record_stats.in_set(set)),
    };
}

/// The whole tick: every phase, chained in the order of [`TickSet::ALL`].
pub(super) fn build(snapshots: Snapshots) -> Schedule {
    let mut schedule = new_schedule();
    // Each phase runs after the one before it: the order is written once, in `TickSet::ALL`.
    for pair in TickSet::ALL.windows(2) {
        schedule.configure_sets(pair[0].clone().before(pair[1].clone()));
    }
    for set in TickSet::ALL {
        add_phase(&mut schedule, set, snapshots);
    }
    schedule
}

/// One phase on its own, so benchmarks can time each stage of the tick.
pub(super) fn build_phase(set: TickSet, snapshots: Snapshots) -> Schedule {
    let mut schedule = new_schedule();
    add_phase(&mut schedule, set, snapshots);
    schedule
}
