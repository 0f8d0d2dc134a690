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
