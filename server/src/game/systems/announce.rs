//! Phase 6: this tick's game messages become control frames for every client (joins, leaves, the kill
//! feed, chat).

use super::outgoing::broadcast;
use crate::game::messages::{ChatSent, PlayerJoined, PlayerKilled, PlayerLeft};
use crate::game::resources::Outbox;
use arena_shared::protocol::ServerFrame;
use bevy_ecs::prelude::*;

pub fn announce(
    mut outbox: ResMut<Outbox>,
    mut joined: MessageReader<PlayerJoined>,
    mut left: MessageReader<PlayerLeft>,
    mut killed: MessageReader<PlayerKilled>,
    mut chat: MessageReader<ChatSent>,
) {
    for m in joined.read() {
        broadcast(
            &mut outbox.0,
            &ServerFrame::PlayerJoined {
                id: m.id,
                name: m.name.clone(),
            },
        );
    }
    for m in left.read() {
        broadcast(&mut outbox.0, &ServerFrame::PlayerLeft { id: m.id });
    }
    for m in killed.read() {
        broadcast(
            &mut outbox.0,
            &ServerFrame::Killed {
                killer: m.killer,
                victim: m.victim,
            },
        );
    }
    for m in chat.read() {
        broadcast(
            &mut outbox.0,
            &ServerFrame::Chat {
                from: m.from,
                text: m.text.clone(),
            },
        );
    }
}
