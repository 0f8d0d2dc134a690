//! The control frames a decoder must refuse (`invalid` in `frames.json`): each made from a valid case's bytes
//! by one change (cut short, a byte too many, a bad tag, a bad string, a count over its limit), with the
//! codec's error.

use super::messages::{Case, Invalid, invalid};

/// The refused frames, made from `cases` (the valid ones, found by name).
pub fn frame_invalid(cases: &[Case]) -> Vec<Invalid> {
    let bytes = |name: &str| {
        let case = cases.iter().find(|c| c.name == name).expect("a case of that name");
        super::unhex(&case.hex).expect("hex")
    };
    let hello = bytes("hello_quick");
    let mut truncated = hello.clone();
    truncated.pop();
    let mut trailing = bytes("chat");
    trailing.push(0);
    // Hello: variant 0, version 6, name "ada", then the resume option's tag.
    let mut bad_option = hello.clone();
    bad_option[6] = 2;
    let mut bad_utf8 = hello.clone();
    bad_utf8[3] = 0xff;
    // The version as a u32 varint (252 + 4 bytes) where a u16 is expected.
    let mut wide_version = vec![0, 252, 6, 0, 0, 0];
    wide_version.extend_from_slice(&hello[2..]);
    let mut bad_code = bytes("hello_code");
    let at = bad_code.len() - 1;
    bad_code[at] = b'0';
    let mut bad_bool = bytes("rooms_two");
    let at = bad_bool
        .iter()
        .position(|b| *b == 251)
        .expect("the first room's secs_left")
        + 3;
    bad_bool[at] = 2;
    let mut bad_winner = bytes("results_winner");
    let at = bad_winner.len() - 2;
    bad_winner[at] = 2;
    vec![
        invalid("header_empty_frame", "FrameHeader", vec![0, 0], "EmptyFrame"),
        invalid("header_over_4096", "FrameHeader", vec![0x10, 0x01], "TooLarge"),
        invalid("client_unknown_variant", "ClientFrame", vec![3], "Malformed"),
        invalid("hello_truncated", "ClientFrame", truncated, "Truncated"),
        invalid("chat_trailing_byte", "ClientFrame", trailing, "TrailingBytes"),
        invalid("hello_option_tag_2", "ClientFrame", bad_option, "Malformed"),
        invalid("hello_name_not_utf8", "ClientFrame", bad_utf8, "Malformed"),
        invalid("hello_version_as_u32", "ClientFrame", wide_version, "Malformed"),
        invalid("hello_code_with_a_zero", "ClientFrame", bad_code, "Malformed"),
        // A length of 5,000 (251 + u16 LE) where at most 4,096 bytes follow: refused before allocating.
        invalid(
            "chat_length_over_the_limit",
            "ClientFrame",
            vec![1, 251, 0x88, 0x13],
            "LimitExceeded",
        ),
        invalid("server_unknown_variant", "ServerFrame", vec![12], "Malformed"),
        invalid("rooms_bool_2", "ServerFrame", bad_bool, "Malformed"),
        invalid("results_option_tag_2", "ServerFrame", bad_winner, "Malformed"),
        // 49 rooms announced: one more than MAX_LISTED_ROOMS, refused from the count alone.
        invalid("rooms_49", "ServerFrame", vec![7, 49], "Malformed"),
        // A Welcome whose map announces 65 walls (MAX_WALLS is 64).
        invalid(
            "welcome_65_walls",
            "ServerFrame",
            vec![0, 1, 60, 60, 0, 0, 0xa0, 0x41, 0, 0, 0x20, 0x41, 65],
            "Malformed",
        ),
    ]
}
