//! Fuzz target: every message decoder, on the same bytes. None may panic; anything that decodes must encode,
//! and encoding is stable: decode(encode(m)) encodes to the same bytes again (compared as bytes, since a
//! NaN aim is not equal to itself).
#![no_main]

use arena_shared::codec;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(frame) = codec::decode_client_frame(data) {
        let bytes = codec::encode_frame(&frame).expect("a decoded frame encodes");
        let again = codec::decode_client_frame(&bytes[2..]).expect("an encoded frame decodes");
        assert_eq!(codec::encode_frame(&again).ok(), Some(bytes));
    }
    let _ = codec::decode_server_frame(data);
    if let Ok(datagram) = codec::decode_client_datagram(data) {
        let bytes = codec::encode_datagram(&datagram).expect("a decoded datagram encodes");
        let again = codec::decode_client_datagram(&bytes).expect("an encoded datagram decodes");
        assert_eq!(codec::encode_datagram(&again).ok(), Some(bytes));
    }
    let _ = codec::decode_server_datagram(data);
    let _ = codec::decode_snapshot(data);
    if data.len() >= 2 {
        let _ = codec::frame_payload_len([data[0], data[1]]);
    }
});
