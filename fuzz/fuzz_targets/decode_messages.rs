//! Fuzz target: every message decoder, on the same bytes. None may panic; anything that decodes must encode
//! back to the same bytes' meaning.
#![no_main]

use arena_shared::codec;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(frame) = codec::decode_client_frame(data) {
        let bytes = codec::encode_frame(&frame).expect("a decoded frame encodes");
        assert_eq!(codec::decode_client_frame(&bytes[2..]).ok(), Some(frame));
    }
    let _ = codec::decode_server_frame(data);
    if let Ok(datagram) = codec::decode_client_datagram(data) {
        let bytes = codec::encode_datagram(&datagram).expect("a decoded datagram encodes");
        assert_eq!(codec::decode_client_datagram(&bytes).ok(), Some(datagram));
    }
    let _ = codec::decode_server_datagram(data);
    let _ = codec::decode_snapshot(data);
    if data.len() >= 2 {
        let _ = codec::frame_payload_len([data[0], data[1]]);
    }
});
