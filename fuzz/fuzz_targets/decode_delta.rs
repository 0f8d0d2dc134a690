//! Fuzz target: delta snapshots against a fixed baseline view. Decoding must never panic, and any view it
//! rebuilds stays sorted and bounded.
#![no_main]

use arena_shared::codec::delta::{MAX_VIEW_ENTITIES, decode_delta};
use arena_shared::quant::QEntity;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let baseline: Vec<QEntity> = (1..40u32)
        .map(|k| QEntity {
            key: k * 3,
            x: k as i32 * 100,
            vx: 64,
            health: 100,
            ..QEntity::default()
        })
        .collect();
    if let Ok((_, view)) = decode_delta(data, &baseline, 60) {
        assert!(view.len() <= MAX_VIEW_ENTITIES);
        assert!(
            view.windows(2).all(|w| w[0].key < w[1].key),
            "views stay sorted and unique"
        );
    }
});
