//! Fuzz target: the server's per-packet path. The bytes go through the same checks a connection task makes
//! (datagram decode, then control-frame decode), and whatever decodes is fed to a live simulation with a
//! joined player, which then ticks. Nothing a peer sends may panic the server.
#![no_main]

use arena_server::game::{ClientId, Inbound, Pool, Sim, SimConfig};
use arena_shared::arena::Arena;
use arena_shared::codec;
use arena_shared::protocol::{ClientDatagram, ClientFrame};
use libfuzzer_sys::fuzz_target;
use std::sync::Mutex;

/// The simulation, and the threads it is lent each tick.
static SIM: Mutex<Option<(Sim, Pool)>> = Mutex::new(None);

fuzz_target!(|data: &[u8]| {
    let mut guard = SIM.lock().unwrap_or_else(|e| e.into_inner());
    let (sim, pool) = guard.get_or_insert_with(|| {
        let mut sim = Sim::new(SimConfig {
            tick_rate: 60,
            seed: 1,
            arena: Arena::standard(),
        });
        sim.set_token_source(Box::new(|| Some([7; 16])));
        sim.push(Inbound::Join {
            client: ClientId(1),
            name: "fuzz".into(),
        });
        let pool = Pool::new(usize::from(sim.replication().threads));
        sim.tick(&pool);
        (sim, pool)
    });
    let client = ClientId(1);
    if let Ok(ClientDatagram::Input(datagram)) = codec::decode_client_datagram(data) {
        // How long it waited for the tick is the tick thread's measure, but a peer can stretch it: any.
        let waited = std::time::Duration::from_micros(u64::from(data.first().copied().unwrap_or(0)) * 300);
        sim.push(Inbound::Input {
            client,
            datagram,
            waited,
        });
    }
    if let Ok(ClientFrame::Chat { text }) = codec::decode_client_frame(data) {
        sim.push(Inbound::Chat { client, text });
    }
    sim.tick(pool);
    let mut out = Vec::new();
    sim.drain_outbox(&mut out);
});
