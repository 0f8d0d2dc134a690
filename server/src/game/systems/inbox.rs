//! Phase 1: the inbox becomes world changes. Joins spawn players, leaves despawn them, inputs go to the
//! sender's own input buffer (a client can only ever steer its own player), chat becomes messages.

use super::encoded;
use crate::game::components::{Body, Client, Player, PlayerBundle, Score};
use crate::game::input::{CONDUCT_WINDOW_TICKS, Conduct, InputBuffer, MAX_VIOLATIONS_PER_WINDOW, Violation};
use crate::game::messages::{ChatSent, PlayerJoined, PlayerLeft};
use crate::game::resources::{ArenaMap, GameRng, Ids, Inbox, Index, Outbox, Settings, TickCount, TickStats};
use crate::game::{Inbound, Outbound};
use arena_shared::protocol::{ServerFrame, Welcome, clean_chat};
use arena_shared::rules::{PlayerState, pick_spawn};
use bevy_ecs::prelude::*;

/// Phase 0: the tick counter and fresh statistics.
pub fn begin_tick(mut tick: ResMut<TickCount>, mut stats: ResMut<TickStats>) {
    tick.0 = tick.0.wrapping_add(1);
    *stats = TickStats {
        tick: tick.0,
        ..TickStats::default()
    };
}

/// Joins and leaves, in arrival order.
#[expect(
    clippy::too_many_arguments,
    reason = "a system's parameters declare the data it touches"
)]
pub fn handle_connections(
    mut commands: Commands,
    mut inbox: ResMut<Inbox>,
    mut outbox: ResMut<Outbox>,
    mut index: ResMut<Index>,
    mut ids: ResMut<Ids>,
    mut rng: ResMut<GameRng>,
    arena: Res<ArenaMap>,
    settings: Res<Settings>,
    players: Query<&Player>,
    mut joined: MessageWriter<PlayerJoined>,
    mut left: MessageWriter<PlayerLeft>,
) {
    let events: Vec<Inbound> = inbox
        .0
        .extract_if(.., |e| matches!(e, Inbound::Join { .. } | Inbound::Leave { .. }))
        .collect();
    let mut joined_now: Vec<(u32, String)> = Vec::new();
    for event in events {
        match event {
            Inbound::Join { client, name } => {
                if index.clients.contains_key(&client) {
                    continue;
                }
                let id = ids.next_player();
                let body = Body(PlayerState::spawned(pick_spawn(&arena.0, &mut rng.0)));
                let player = Player { id, name: name.clone() };
                let entity = commands
                    .spawn(PlayerBundle {
                        client: Client(client),
                        player,
                        body,
                        score: Score::default(),
                        inputs: InputBuffer::default(),
                        replicator: Default::default(),
                        conduct: Conduct::default(),
                    })
                    .id();
                index.clients.insert(client, entity);
                index.players.insert(id, entity);
                let welcome = ServerFrame::Welcome(Welcome {
                    player_id: id,
                    tick_rate: settings.tick_rate,
                    arena: arena.0.clone(),
                });
                // The roster: everyone already here, then those who joined earlier this tick.
                let roster = players
                    .iter()
                    .map(|p| (p.id, p.name.clone()))
                    .chain(joined_now.iter().cloned());
                let frames = std::iter::once(welcome)
                    .chain(roster.map(|(id, name)| ServerFrame::PlayerJoined { id, name }))
                    .filter_map(|f| encoded(&f));
                outbox.0.extend(frames.map(|frame| Outbound::Frame { client, frame }));
                joined.write(PlayerJoined { id, name: name.clone() });
                joined_now.push((id, name));
            }
            Inbound::Leave { client } => {
                let Some(entity) = index.clients.remove(&client) else {
                    continue;
                };
                // Leaves are rare: a scan of the id index also finds players who joined earlier this tick.
                let id = index.players.iter().find(|(_, e)| **e == entity).map(|(id, _)| *id);
                if let Some(id) = id {
                    index.players.remove(&id);
                    joined_now.retain(|(j, _)| *j != id);
                    left.write(PlayerLeft { id });
                }
                commands.entity(entity).despawn();
            }
            _ => {}
        }
    }
}

/// Inputs into their sender's buffer, chat into messages; a client whose inputs keep failing validation
/// is kicked.
pub fn route_inputs_and_chat(
    mut inbox: ResMut<Inbox>,
    mut outbox: ResMut<Outbox>,
    index: Res<Index>,
    tick: Res<TickCount>,
    mut stats: ResMut<TickStats>,
    mut buffers: Query<(&Player, &mut InputBuffer, &mut Conduct)>,
    mut chat: MessageWriter<ChatSent>,
) {
    for event in inbox.0.drain(..) {
        match event {
            Inbound::Input { client, datagram } => {
                let Some((_, mut buffer, mut conduct)) =
                    index.clients.get(&client).and_then(|e| buffers.get_mut(*e).ok())
                else {
                    continue;
                };
                let accepted = buffer.accept(datagram.ack_tick, &datagram.inputs);
                stats.inputs_invalid += accepted.invalid;
                stats.inputs_overflowed += accepted.overflowed;
                stats.inputs_lost += accepted.lost;
                stats.inputs_too_fast += accepted.too_fast;
                // Overflow (TooOften) is counted but not held against the client: an overloaded server that
                // ticks late fills honest buffers too. Floods are stopped by the edge's rate limit.
                conduct.totals[1] = conduct.totals[1].saturating_add(accepted.overflowed);
                let judged = [
                    (Violation::TooFast, accepted.too_fast),
                    (Violation::OutOfPhase, accepted.invalid),
                ];
                for (kind, n) in judged {
                    if conduct.record(kind, n, tick.0) {
                        let reason = format!(
                            "kicked: more than {MAX_VIOLATIONS_PER_WINDOW} rule violations in {} ticks (last: {kind:?})",
                            CONDUCT_WINDOW_TICKS
                        );
                        outbox.0.push(Outbound::Kick { client, reason });
                    }
                }
            }
            Inbound::Chat { client, text } => {
                let Some((player, ..)) = index.clients.get(&client).and_then(|e| buffers.get(*e).ok()) else {
                    continue;
                };
                match clean_chat(&text) {
                    Ok(text) => {
                        chat.write(ChatSent { from: player.id, text });
                    }
                    Err(_) => stats.chat_refused += 1,
                }
            }
            Inbound::Join { .. } | Inbound::Leave { .. } => {}
        }
    }
}
