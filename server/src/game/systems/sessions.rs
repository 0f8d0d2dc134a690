//! Phase 1a: sessions. Joins spawn players, resumes hand a held player to a new connection, leaves
//! despawn, and lost connections leave their player in the world (standing still, not replicated) for the
//! resume grace window, after which it leaves for good.
//!
//! The world holds at most [`Settings::max_players`] players, connected or away: a join beyond is refused
//! with `Reject { Full }`, a resume of a held player never is. No two players hold the same name (compared
//! case-insensitively): a second "ada" plays as "ada 2".
//!
//! An exclusive system: each event sees the world as the previous one left it, so a join and a resume in
//! the same tick, or a join and a leave, are handled in arrival order.

use super::matches::Match;
use super::outgoing::encoded;
use crate::game::components::{Body, Client, Player, Score};
use crate::game::edge::{ClientId, Inbound, Outbound};
use crate::game::input::{Conduct, InputBuffer};
use crate::game::messages::{PlayerJoined, PlayerLeft};
use crate::game::replication::Replicator;
use crate::game::resources::{ArenaMap, GameRng, Ids, Inbox, Index, Outbox, RoomName, Settings, TickCount, TickStats};
use arena_shared::protocol::{MAX_NAME_CHARS, RejectReason, ServerFrame, SessionToken, Welcome};
use arena_shared::rules::{PlayerState, pick_spawn};
use bevy_ecs::prelude::*;
use std::collections::{HashMap, HashSet};

/// Everything a freshly joined player is made of.
#[derive(Bundle)]
pub struct PlayerBundle {
    pub client: Client,
    pub player: Player,
    pub body: Body,
    pub score: Score,
    pub inputs: InputBuffer,
    pub replicator: Replicator,
    pub conduct: Conduct,
}

/// A player whose connection was lost, held for a resume since this tick.
#[derive(Component, Debug, Clone, Copy)]
pub struct Away {
    pub since: u32,
}

/// The token that resumes this player.
#[derive(Component, Debug, Clone, Copy)]
pub struct Token(pub SessionToken);

/// Where session tokens come from: 128 bits from the OS RNG in a server; tests may supply their own.
pub type TokenSource = Box<dyn FnMut() -> Option<SessionToken> + Send + Sync>;

/// Live session tokens and their source.
#[derive(Resource)]
pub struct Sessions {
    tokens: HashMap<SessionToken, Entity>,
    source: TokenSource,
}

impl Sessions {
    pub fn new(source: TokenSource) -> Self {
        Self {
            tokens: HashMap::new(),
            source,
        }
    }

    /// Tokens from the operating system's RNG.
    pub fn from_os() -> Self {
        Self::new(Box::new(|| {
            let mut token = [0u8; 16];
            rand::TryRng::try_fill_bytes(&mut rand::rngs::SysRng, &mut token)
                .ok()
                .map(|()| token)
        }))
    }

    /// A fresh token for `entity` (none when the OS RNG failed: that player just cannot resume).
    fn issue(&mut self, entity: Entity) -> SessionToken {
        match (self.source)() {
            Some(token) => {
                self.tokens.insert(token, entity);
                token
            }
            None => {
                tracing::error!("the OS RNG failed: this player gets no resumable session");
                [0; 16]
            }
        }
    }
}

/// The names the players in the world hold (away ones included), lowercased.
#[derive(Resource, Debug, Default)]
pub struct Names(HashSet<String>);

impl Names {
    /// `wanted` (a cleaned name), or when another player holds it, the first free one of "wanted 2",
    /// "wanted 3"…, its base shortened so the whole fits in [`MAX_NAME_CHARS`]. Held until released.
    fn claim(&mut self, wanted: &str) -> String {
        let mut n = 1u64;
        loop {
            let candidate = if n == 1 { wanted.to_owned() } else { numbered(wanted, n) };
            if self.0.insert(candidate.to_lowercase()) {
                return candidate;
            }
            n += 1;
        }
    }

    fn release(&mut self, name: &str) {
        self.0.remove(&name.to_lowercase());
    }
}

/// "base n", within [`MAX_NAME_CHARS`] characters.
fn numbered(base: &str, n: u64) -> String {
    let suffix = format!(" {n}");
    let room = MAX_NAME_CHARS.saturating_sub(suffix.chars().count());
    let base: String = base.chars().take(room).collect();
    format!("{}{suffix}", base.trim_end())
}

pub fn handle_sessions(world: &mut World) {
    let events: Vec<Inbound> = world
        .resource_mut::<Inbox>()
        .0
        .extract_if(.., |e| {
            matches!(
                e,
                Inbound::Join { .. } | Inbound::Resume { .. } | Inbound::Leave { .. } | Inbound::Lost { .. }
            )
        })
        .collect();
    let tick = world.resource::<TickCount>().0;
    for event in events {
        match event {
            Inbound::Join { client, name } => join(world, client, name),
            Inbound::Resume { client, name, token } => {
                if !resume(world, client, token) {
                    join(world, client, name);
                }
            }
            Inbound::Leave { client } => {
                if let Some(entity) = world.resource_mut::<Index>().clients.remove(&client) {
                    remove_player(world, entity);
                }
            }
            Inbound::Lost { client } => {
                if let Some(entity) = world.resource_mut::<Index>().clients.remove(&client) {
                    // Held still: a fresh input buffer repeats "no input".
                    world
                        .entity_mut(entity)
                        .remove::<Client>()
                        .insert((Away { since: tick }, InputBuffer::default()));
                }
            }
            Inbound::Input { .. } | Inbound::Chat { .. } => {}
        }
    }
    expire(world, tick);
}

fn join(world: &mut World, client: ClientId, name: String) {
    if world.resource::<Index>().clients.contains_key(&client) {
        return;
    }
    if world.resource::<Index>().players.len() >= world.resource::<Settings>().max_players {
        let reason = RejectReason::Full;
        world
            .resource_mut::<Outbox>()
            .0
            .push(Outbound::Reject { client, reason });
        world.resource_mut::<TickStats>().rejected_full += 1;
        return;
    }
    let name = world.resource_mut::<Names>().claim(&name);
    let id = world.resource_mut::<Ids>().next_player();
    let spawn =
        world.resource_scope(|world, mut rng: Mut<GameRng>| pick_spawn(&world.resource::<ArenaMap>().0, &mut rng.0));
    let entity = world
        .spawn(PlayerBundle {
            client: Client(client),
            player: Player { id, name: name.clone() },
            body: Body(PlayerState::spawned(spawn)),
            score: Score::default(),
            inputs: InputBuffer::default(),
            replicator: Replicator::default(),
            conduct: Conduct::default(),
        })
        .id();
    let mut index = world.resource_mut::<Index>();
    index.clients.insert(client, entity);
    index.players.insert(id, entity);
    welcome(world, client, entity);
    world.resource_mut::<TickStats>().players_joined += 1;
    world.write_message(PlayerJoined { id, name });
}

/// Hands the player of `token` to `client`; false when the token is unknown (or used, or expired).
fn resume(world: &mut World, client: ClientId, token: SessionToken) -> bool {
    let Some(entity) = world.resource_mut::<Sessions>().tokens.remove(&token) else {
        return false;
    };
    if world.get::<Player>(entity).is_none() {
        return false;
    }
    if let Some(Client(old)) = world.get::<Client>(entity).copied() {
        // The player is still connected elsewhere (its loss not yet noticed): that connection goes.
        let reason = "this session was resumed from another connection".to_owned();
        world
            .resource_mut::<Outbox>()
            .0
            .push(Outbound::Kick { client: old, reason });
        world.resource_mut::<Index>().clients.remove(&old);
    }
    world
        .entity_mut(entity)
        .remove::<Away>()
        .insert((Client(client), InputBuffer::default(), Replicator::default()));
    world.resource_mut::<Index>().clients.insert(client, entity);
    welcome(world, client, entity);
    world.resource_mut::<TickStats>().players_resumed += 1;
    true
}

/// Sends `Welcome` (with a new token) and the roster to `client`.
fn welcome(world: &mut World, client: ClientId, entity: Entity) {
    let token = world.resource_mut::<Sessions>().issue(entity);
    world.entity_mut(entity).insert(Token(token));
    let Some(id) = world.get::<Player>(entity).map(|p| p.id) else {
        return;
    };
    let settings = *world.resource::<Settings>();
    let arena = world.resource::<ArenaMap>().0.clone();
    let room = world.resource::<RoomName>().clone();
    let state = world
        .resource::<Match>()
        .state(world.resource::<TickCount>().0, settings.tick_rate);
    let mut roster: Vec<(u32, String)> = world
        .query::<&Player>()
        .iter(world)
        .map(|p| (p.id, p.name.clone()))
        .collect();
    roster.sort_unstable_by_key(|(id, _)| *id);
    let welcome = ServerFrame::Welcome(Welcome {
        player_id: id,
        tick_rate: settings.tick_rate,
        snapshot_rate: settings.replication.snapshot_rate,
        arena,
        session_token: token,
        room: room.code,
        map: room.map,
        mode: room.mode,
    });
    // The roster follows `Welcome`, then the match's state.
    let frames: Vec<Outbound> = std::iter::once(welcome)
        .chain(
            roster
                .into_iter()
                .map(|(id, name)| ServerFrame::PlayerJoined { id, name }),
        )
        .chain(std::iter::once(ServerFrame::Match(state)))
        .filter_map(|f| encoded(&f))
        .map(|frame| Outbound::Frame { client, frame })
        .collect();
    world.resource_mut::<Outbox>().0.extend(frames);
}

fn remove_player(world: &mut World, entity: Entity) {
    let Some((id, name)) = world.get::<Player>(entity).map(|p| (p.id, p.name.clone())) else {
        return;
    };
    world.resource_mut::<Names>().release(&name);
    if let Some(Token(token)) = world.get::<Token>(entity).copied() {
        world.resource_mut::<Sessions>().tokens.remove(&token);
    }
    world.resource_mut::<Index>().players.remove(&id);
    world.despawn(entity);
    world.write_message(PlayerLeft { id });
}

/// Players away longer than the grace window leave for good.
fn expire(world: &mut World, tick: u32) {
    let grace = world.resource::<Settings>().resume_grace_ticks;
    let expired: Vec<Entity> = world
        .query::<(Entity, &Away)>()
        .iter(world)
        .filter(|(_, away)| tick.wrapping_sub(away.since) > grace)
        .map(|(e, _)| e)
        .collect();
    for entity in expired {
        remove_player(world, entity);
    }
}
