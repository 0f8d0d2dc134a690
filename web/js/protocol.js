// Every message that crosses the network, as shared/src/protocol.rs declares it (protocol version 6): the
// control frames (2-byte big-endian length + bincode payload) and the datagrams, with the Rust side's limits.

import {
  CodecError, array, bool, bytes, decode, encode, enumOf, f32, i8, option, str, struct, u16, u32, u8, vec,
} from './codec.js';

export const PROTOCOL_VERSION = 6;
export const MAX_FRAME_LEN = 4 * 1024;
export const FRAME_HEADER_LEN = 2;
export const MAX_DATAGRAM_LEN = 1400;
export const MAX_SNAPSHOT_LEN = 64 * 1024;
export const MAX_INPUTS_PER_DATAGRAM = 8;
export const MAX_NAME_CHARS = 24;
export const MAX_CHAT_CHARS = 200;
/** A snapshot's input margin is in tenths of a millisecond. */
export const MARGIN_UNIT_US = 100;
export const ROOM_CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
export const ROOM_CODE_LEN = 5;

/** Close codes the server ends a session with (shared/src/protocol.rs `close_code`). */
export const CloseCode = {
  LEFT: 0, SHUTTING_DOWN: 1, KICKED: 2, REJECTED: 3, PROTOCOL_VIOLATION: 4, TOO_SLOW: 5, ROOM_FAILED: 6,
};

/** The code spelled by `text` (any case, surrounding spaces ignored), or null when it is not one. */
export function parseRoomCode(text) {
  const code = text.trim().toUpperCase();
  const valid = code.length === ROOM_CODE_LEN && [...code].every((c) => ROOM_CODE_ALPHABET.includes(c));
  return valid ? code : null;
}

const roomCode = str((s) => {
  const code = parseRoomCode(s);
  if (code === null) throw new CodecError('Malformed', `malformed message: bad room code ${JSON.stringify(s)}`);
  return code;
});
const string = str();
const vec2 = struct([['x', f32], ['y', f32]]);
const mode = enumOf([['Deathmatch']]);
const matchState = struct([['phase', enumOf([['WarmUp'], ['Playing'], ['Results']])], ['secs_left', u16]]);
const sessionToken = array(u8, 16);

const arena = struct([
  ['width', f32],
  ['height', f32],
  ['walls', vec(struct([['min', vec2], ['max', vec2]]), 64)],
  ['spawn_points', vec(vec2, 32)],
  ['health_packs', vec(vec2, 64)],
]);

const roomRequest = enumOf([
  ['Quick', struct([['mode', mode]])],
  ['Code', roomCode],
  ['Create', struct([['mode', mode], ['private', bool]])],
]);

export const ClientFrame = enumOf([
  ['Hello', struct([
    ['protocol_version', u16], ['name', string], ['resume', option(sessionToken)], ['room', roomRequest],
  ])],
  ['Chat', struct([['text', string]])],
  ['ListRooms'],
]);

const rejectReason = enumOf([
  ['VersionMismatch', struct([['server', u16]])],
  ['Full'], ['BadName'], ['ShuttingDown'], ['NoSuchRoom'], ['RoomFull'], ['TooManyRooms'],
]);

const roomInfo = struct([
  ['code', roomCode], ['map', string], ['mode', mode], ['players', u16], ['capacity', u16],
  ['state', matchState], ['join_in_progress', bool],
]);

export const ServerFrame = enumOf([
  ['Welcome', struct([
    ['player_id', u32], ['tick_rate', u16], ['snapshot_rate', u16], ['arena', arena],
    ['session_token', sessionToken], ['room', roomCode], ['map', string], ['mode', mode],
  ])],
  ['Reject', struct([['reason', rejectReason]])],
  ['Chat', struct([['from', u32], ['text', string]])],
  ['PlayerJoined', struct([['id', u32], ['name', string]])],
  ['PlayerLeft', struct([['id', u32]])],
  ['Killed', struct([['killer', u32], ['victim', u32]])],
  ['Kick', struct([['reason', string]])],
  ['Rooms', struct([['rooms', vec(roomInfo, 48)]])],
  ['Match', matchState],
  ['Results', struct([['lines', vec(struct([['id', u32], ['kills', u32], ['deaths', u32]]), 64)], ['winner', option(u32)]])],
  ['Closing', struct([['secs', u16]])],
  ['Notice', struct([['text', string]])],
]);

const input = struct([['seq', u32], ['move_x', i8], ['move_y', i8], ['aim', f32], ['buttons', u8]]);

export const ClientDatagram = enumOf([
  ['Input', struct([['ack_tick', u32], ['inputs', vec(input, MAX_INPUTS_PER_DATAGRAM)]])],
]);

export const ServerDatagram = enumOf([
  ['Snapshot', struct([['tick', u32], ['index', u8], ['count', u8], ['bytes', bytes]])],
  ['Delta', bytes],
]);

const playerState = struct([
  ['pos', vec2], ['vel', vec2], ['aim', f32], ['health', u8], ['fire_cooldown', f32], ['respawn_in', f32],
]);

/** A whole (reassembled) full snapshot, the benchmarks' baseline encoding: no margin, no health packs. */
export const Snapshot = struct([
  ['tick', u32],
  ['last_input_seq', u32],
  ['players', vec(struct([['id', u32], ['state', playerState], ['kills', u32], ['deaths', u32]]), 1024)],
  ['projectiles', vec(struct([['id', u32], ['owner', u32], ['pos', vec2], ['vel', vec2]]), 2048)],
]);

/** A control frame ready for the stream: the big-endian length, then the payload. */
export function encodeFrame(frame) {
  const payload = encode(ClientFrame, frame, MAX_FRAME_LEN);
  const out = new Uint8Array(FRAME_HEADER_LEN + payload.length);
  out[0] = payload.length >> 8;
  out[1] = payload.length & 0xff;
  out.set(payload, FRAME_HEADER_LEN);
  return out;
}

export const decodeServerFrame = (payload) => decode(ServerFrame, payload, MAX_FRAME_LEN);
export const encodeDatagram = (datagram) => encode(ClientDatagram, datagram, MAX_DATAGRAM_LEN);
export const decodeServerDatagram = (bytes) => decode(ServerDatagram, bytes, MAX_DATAGRAM_LEN);
export const decodeSnapshot = (bytes) => decode(Snapshot, bytes, MAX_SNAPSHOT_LEN);

/**
 * Cuts a byte stream into frame payloads. The announced length is checked before anything waits for it:
 * an empty frame or one over MAX_FRAME_LEN is an error (the stream is then unusable).
 */
export class FrameSplitter {
  constructor() {
    this.buffer = new Uint8Array(0);
  }

  /** Takes a chunk from the stream; returns the whole payloads it completed. */
  push(chunk) {
    const joined = new Uint8Array(this.buffer.length + chunk.length);
    joined.set(this.buffer);
    joined.set(chunk, this.buffer.length);
    const payloads = [];
    let at = 0;
    while (joined.length - at >= FRAME_HEADER_LEN) {
      const len = (joined[at] << 8) | joined[at + 1];
      if (len === 0) throw new CodecError('EmptyFrame', 'empty frame');
      if (len > MAX_FRAME_LEN) throw new CodecError('TooLarge', `${len} bytes is over the ${MAX_FRAME_LEN}-byte limit`);
      if (joined.length - at - FRAME_HEADER_LEN < len) break;
      payloads.push(joined.slice(at + FRAME_HEADER_LEN, at + FRAME_HEADER_LEN + len));
      at += FRAME_HEADER_LEN + len;
    }
    this.buffer = joined.slice(at);
    return payloads;
  }
}
