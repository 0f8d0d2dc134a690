//! Game events as bevy_ecs messages: systems write them when something happens, and any system can read
//! them (the announcer turns them into frames, the scorer into scores), so new game logic hooks in
//! without touching the network code.

use arena_shared::protocol::PlayerId;
use bevy_ecs::message::MessageRegistry;
use bevy_ecs::prelude::*;

/// A player entered the world.
#[derive(Message, Debug, Clone)]
pub struct PlayerJoined {
    pub id: PlayerId,
    pub name: String,
}

/// A player left the world (disconnected or kicked).
#[derive(Message, Debug, Clone)]
pub struct PlayerLeft {
    pub id: PlayerId,
}

/// `killer` killed `victim` this tick.
#[derive(Message, Debug, Clone)]
pub struct PlayerKilled {
    pub killer: PlayerId,
    pub victim: PlayerId,
}

/// A player said something (already cleaned).
#[derive(Message, Debug, Clone)]
pub struct ChatSent {
    pub from: PlayerId,
    pub text: String,
}

/// Registers every message type with the world, so `message_update_system` advances them each tick.
pub fn register_all(world: &mut World) {
    MessageRegistry::register_message::<PlayerJoined>(world);
    MessageRegistry::register_message::<PlayerLeft>(world);
    MessageRegistry::register_message::<PlayerKilled>(world);
    MessageRegistry::register_message::<ChatSent>(world);
}
