//! Phases 0 and 1b: the tick begins; inputs go to the sender's own input buffer (a client can only ever
//! steer its own player), chat becomes messages. Sessions (phase 1a) are in [`super::sessions`].

use crate::game::components::Player;
use crate::game::edge::{Inbound, Outbound};
use crate::game::input::{Accepted, CONDUCT_WINDOW_TICKS, Conduct, InputBuffer, MAX_VIOLATIONS_PER_WINDOW, Violation};
use crate::game::messages::ChatSent;
use crate::game::resources::{Inbox, Index, Outbox, Settings, TickCount, TickStats};
use arena_shared::protocol::clean_chat;
use bevy_ecs::prelude::*;

/// Phase 0: the tick counter and fresh statistics.
pub fn begin_tick(mut tick: ResMut<TickCount>, mut stats: ResMut<TickStats>) {
    tick.0 = tick.0.wrapping_add(1);
    *stats = TickStats {
        tick: tick.0,
        ..TickStats::default()
    };
}

/// Inputs into their sender's buffer, chat into messages; a client whose inputs keep failing validation
/// is kicked.
#[expect(
    clippy::too_many_arguments,
    reason = "a system's parameters declare the data it touches"
)]
pub fn route_inputs_and_chat(
    mut inbox: ResMut<Inbox>,
    mut outbox: ResMut<Outbox>,
    index: Res<Index>,
    tick: Res<TickCount>,
    settings: Res<Settings>,
    mut stats: ResMut<TickStats>,
    mut buffers: Query<(&Player, &mut InputBuffer, &mut Conduct)>,
    mut chat: MessageWriter<ChatSent>,
) {
    let tick_period = std::time::Duration::from_secs_f32(settings.dt);
    for event in inbox.0.drain(..) {
        match event {
            Inbound::Input {
                client,
                datagram,
                waited,
            } => {
                let Some((_, mut buffer, mut conduct)) =
                    index.clients.get(&client).and_then(|e| buffers.get_mut(*e).ok())
                else {
                    continue;
                };
                let accepted = buffer.accept(datagram.ack_tick, &datagram.inputs);
                if accepted.fresh > 0 {
                    buffer.arrived(waited, tick_period);
                }
                stats.add_inputs(&accepted);
                if let Some(reason) = judge(&mut conduct, &accepted, tick.0) {
                    outbox.0.push(Outbound::Kick { client, reason });
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
            Inbound::Join { .. } | Inbound::Resume { .. } | Inbound::Leave { .. } | Inbound::Lost { .. } => {}
        }
    }
}

/// Holds one datagram's violations against its client; the reason to kick it when it passed the limit.
fn judge(conduct: &mut Conduct, accepted: &Accepted, tick: u32) -> Option<String> {
    // Overflow (TooOften) is counted but not held against the client: an overloaded server that ticks late
    // fills honest buffers too. Floods are stopped by the edge's rate limit.
    conduct.totals[1] = conduct.totals[1].saturating_add(accepted.overflowed);
    let judged = [
        (Violation::TooFast, accepted.too_fast),
        (Violation::OutOfPhase, accepted.invalid),
    ];
    let mut kick = None;
    for (kind, n) in judged {
        if conduct.record(kind, n, tick) {
            kick = Some(format!(
                "kicked: more than {MAX_VIOLATIONS_PER_WINDOW} rule violations in {CONDUCT_WINDOW_TICKS} ticks (last: {kind:?})"
            ));
        }
    }
    kick
}
