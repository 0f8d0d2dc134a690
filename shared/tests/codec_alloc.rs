//! Decoding hostile bytes never allocates past the codec's limit: a counting global allocator records the
//! largest single allocation made while decoding inputs whose length prefixes claim gigabytes.

use arena_shared::codec::{decode_client_datagram, decode_client_frame, decode_snapshot};
use arena_shared::protocol::{MAX_FRAME_LEN, MAX_SNAPSHOT_LEN};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: forwards the caller's layout unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        // SAFETY: same contract as GlobalAlloc::realloc, forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn varint_u64(tag_prefix: &[u8], len: u64) -> Vec<u8> {
    let mut b = tag_prefix.to_vec();
    b.push(0xfd); // bincode varint: u64 follows
    b.extend_from_slice(&len.to_le_bytes());
    b
}

#[test]
fn length_prefixes_never_decide_an_allocation() {
    let hostile = [
        varint_u64(&[1], u64::MAX),            // ClientFrame::Chat { text: <huge> }
        varint_u64(&[1], 4_000_000_000),       // ClientFrame::Chat, 4 GB
        varint_u64(&[0, 0, 0], 4_000_000_000), // ClientDatagram::Input { ack 0, inputs: <4G> }
        varint_u64(&[0, 0], 4_000_000_000),    // Snapshot { tick 0, seq 0, players: <4G> }
    ];
    LARGEST.store(0, Ordering::Relaxed);
    assert!(decode_client_frame(&hostile[0]).is_err());
    assert!(decode_client_frame(&hostile[1]).is_err());
    assert!(decode_client_datagram(&hostile[2]).is_err());
    assert!(decode_snapshot(&hostile[3]).is_err());
    let largest = LARGEST.load(Ordering::Relaxed);
    assert!(
        largest <= MAX_SNAPSHOT_LEN.max(MAX_FRAME_LEN),
        "largest allocation while decoding: {largest} bytes"
    );
}

/// Property: arbitrary bytes, of any length up to twice the largest limit, never panic any decoder and never
/// make one allocate past the codec's limit.
#[test]
fn arbitrary_bytes_never_panic_or_allocate_past_the_limit() {
    use arena_shared::codec::delta::decode_delta;
    use arena_shared::codec::{decode_server_datagram, decode_server_frame};
    use arena_shared::quant::QEntity;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    let mut rng = StdRng::seed_from_u64(0xA11CE);
    let baseline: Vec<QEntity> = (1..50)
        .map(|k| QEntity {
            key: k,
            ..QEntity::default()
        })
        .collect();
    let mut largest_seen = 0;
    for round in 0..20_000 {
        let len = if round % 100 == 0 {
            rng.random_range(0..2 * MAX_FRAME_LEN)
        } else {
            rng.random_range(0..64)
        };
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        // Half the time, start like a real message so decoding gets past the first byte.
        if round % 2 == 0 && !bytes.is_empty() {
            bytes[0] = rng.random_range(0..3);
        }
        LARGEST.store(0, Ordering::Relaxed);
        let _ = decode_client_frame(&bytes);
        let _ = decode_server_frame(&bytes);
        let _ = decode_client_datagram(&bytes);
        let _ = decode_server_datagram(&bytes);
        let _ = decode_snapshot(&bytes);
        let _ = decode_delta(&bytes, &baseline, 60);
        largest_seen = largest_seen.max(LARGEST.load(Ordering::Relaxed));
    }
    assert!(
        largest_seen <= MAX_SNAPSHOT_LEN,
        "largest allocation while decoding: {largest_seen} bytes"
    );
}
