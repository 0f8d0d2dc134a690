//! How a simulation is set up: the world ([`SimConfig`]) and its snapshots ([`ReplicationConfig`]), with
//! the defaults the server's flags start from.

use arena_shared::arena::Arena;
use std::time::Duration;

/// Default radius around a player within which it is sent other entities, in units: the whole standard
/// map (`--view-radius`).
pub const DEFAULT_VIEW_RADIUS: f32 = 75.0;

/// Default bytes per second of snapshots each client may be sent (`--client-bandwidth`).
pub const DEFAULT_CLIENT_BANDWIDTH: u32 = 100_000;

/// Default seconds a player whose connection was lost is held for a resume (`--resume-grace-secs`).
pub const DEFAULT_RESUME_GRACE_SECS: u32 = 10;
/// How far back a shooter's view may be made up for, at most (Overwatch caps its rewind at 250 ms): a
/// shooter further behind leads its targets by the rest.
pub const DEFAULT_LAG_COMPENSATION: std::time::Duration = std::time::Duration::from_millis(250);

/// How a room's matches run: warm-up until enough players are in (or its time passes with someone in), then
/// a match until its time or score limit, then the results, then the next match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatchConfig {
    /// Players that end the warm-up at once (`--min-players`).
    pub min_players: u16,
    /// How long the warm-up waits for them once someone is in (`--warmup-secs`); then the match starts
    /// with whoever is there.
    pub warmup: Duration,
    /// A match's length (`--match-secs`); zero: no time limit.
    pub length: Duration,
    /// Kills that win a match at once (`--score-limit`); zero: no score limit.
    pub score_limit: u32,
    /// How long the results are shown before the next match.
    pub results: Duration,
}

impl MatchConfig {
    /// One match without end that starts as soon as someone is in: the game before rooms had matches, and
    /// what a bare simulation plays (tests, benchmarks).
    pub const ENDLESS: Self = Self {
        min_players: 1,
        warmup: Duration::ZERO,
        length: Duration::ZERO,
        score_limit: 0,
        results: Duration::ZERO,
    };
}

impl Default for MatchConfig {
    /// The server's defaults: 2 players or 20 s of warm-up, 5-minute matches to 25 kills, 10 s of results.
    fn default() -> Self {
        Self {
            min_players: 2,
            warmup: Duration::from_secs(20),
            length: Duration::from_secs(300),
            score_limit: 25,
            results: Duration::from_secs(10),
        }
    }
}

/// How a simulation is set up.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Ticks per second; each tick advances the world by `1 / tick_rate` seconds.
    pub tick_rate: u16,
    /// Seed of the game RNG (spawn points): the same seed and inputs give the same game.
    pub seed: u64,
    pub arena: Arena,
}

/// How snapshots are made.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReplicationConfig {
    /// Snapshots per second (at most the tick rate).
    pub snapshot_rate: u16,
    /// Radius around a player within which it is sent other entities, in units.
    pub view_radius: f32,
    /// Bytes per second each client may be sent in snapshots.
    pub client_bandwidth: u32,
    /// Send the naive full snapshot (split into parts) instead of deltas: the benchmark baseline.
    pub full_snapshots: bool,
    /// Threads that build snapshots and fly projectiles, the tick thread included (1: the tick thread
    /// alone): the size of the [`Pool`](super::threads::Pool) the driver starts and lends to each tick. The
    /// simulation works on whatever pool it is lent.
    pub threads: u16,
}

impl ReplicationConfig {
    /// Deltas every tick, [`DEFAULT_VIEW_RADIUS`], [`DEFAULT_CLIENT_BANDWIDTH`], [`default_threads`].
    pub fn for_tick_rate(tick_rate: u16) -> Self {
        Self {
            snapshot_rate: tick_rate,
            view_radius: DEFAULT_VIEW_RADIUS,
            client_bandwidth: DEFAULT_CLIENT_BANDWIDTH,
            full_snapshots: false,
            threads: default_threads(),
        }
    }
}

/// When the tick hands the projectiles' work and the snapshots' preparation to the pool's threads, and
/// whether it waits for all of the projectiles' head start. A simulation starts with [`Handoffs::default`],
/// the sizes from which a hand-over pays for itself; tests lower them so that a small world takes the
/// threaded paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handoffs {
    /// Projectiles from which their flights are split between threads ([`PROJECTILES_TO_SPLIT`]).
    pub projectiles_to_split: usize,
    /// Players from which the pool also gets the flights' head start before phase 4
    /// ([`PLAYERS_TO_HAND_OUT_EARLY`]).
    pub players_to_hand_out_early: usize,
    /// Clients from which the snapshots' preparation is split between threads too: the projectiles quantized
    /// beside the sort and the frame's slots, the interest grid beside the baselines
    /// ([`CLIENTS_TO_SPLIT_PREPARATION`]).
    pub clients_to_split_preparation: usize,
    /// Whether phase 4 waits for the head start to work out every flight, instead of stopping it and
    /// taking what it has: false in a server, where the tick would wait for it; tests compare whole head
    /// starts with none.
    pub whole_head_start: bool,
}

impl Default for Handoffs {
    fn default() -> Self {
        Self {
            projectiles_to_split: PROJECTILES_TO_SPLIT,
            players_to_hand_out_early: PLAYERS_TO_HAND_OUT_EARLY,
            clients_to_split_preparation: CLIENTS_TO_SPLIT_PREPARATION,
            whole_head_start: false,
        }
    }
}

/// Projectiles from which their flights are split between threads: fewer are not worth a hand-over.
pub const PROJECTILES_TO_SPLIT: usize = 512;

/// Players from which the simulation also hands work to the pool before phase 4 (the flights' head start).
/// On an oversubscribed machine each hand-over may wait for a core, which made the load test's ticks slower
/// with the bots and the server sharing the cores; a world this big wins the hand-overs back.
pub const PLAYERS_TO_HAND_OUT_EARLY: usize = 768;

/// Clients from which the snapshots' preparation is split between threads too. Each hand-over costs more
/// than a small world's preparation wins back, and on an oversubscribed machine it may wait for a core (the
/// load test with the server and the bots sharing the cores overran more ticks with the split).
pub const CLIENTS_TO_SPLIT_PREPARATION: usize = 768;

/// The machine's cores, at most 8: the default size of the pool (snapshots and flights), the tick thread
/// included.
pub fn default_threads() -> u16 {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(8) as u16)
}
