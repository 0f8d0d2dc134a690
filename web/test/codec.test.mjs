// The bincode codec and the protocol's messages: unit tests of the wire format's edges, then every case of
// vectors/frames.json and vectors/datagrams.json both ways, and every refusal with the Rust codec's error.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Reader, Writer, decode, encode, str, u16, u32, vec, u8 } from '../js/codec.js';
import * as P from '../js/protocol.js';
import { assertSame, bytes, errorKind, hex, load, needs } from './vectors.mjs';

const TYPES = {
  ClientFrame: [P.ClientFrame, P.MAX_FRAME_LEN],
  ServerFrame: [P.ServerFrame, P.MAX_FRAME_LEN],
  ClientDatagram: [P.ClientDatagram, P.MAX_DATAGRAM_LEN],
  ServerDatagram: [P.ServerDatagram, P.MAX_DATAGRAM_LEN],
  Snapshot: [P.Snapshot, P.MAX_SNAPSHOT_LEN],
};

/** Decodes bytes as the vectors' `type` (FrameHeader: a frame's 2-byte header through the splitter). */
function decodeAs(type, b) {
  if (type === 'FrameHeader') return new P.FrameSplitter().push(b);
  const [t, limit] = TYPES[type];
  return decode(t, b, limit);
}

test('varints take one byte up to 250, then a tag and 2, 4 or 8 bytes', () => {
  const cases = [[0, '00'], [250, 'fa'], [251, 'fbfb00'], [65535, 'fbffff'], [65536, 'fc00000100'],
    [2 ** 32 - 1, 'fcffffffff'], [2 ** 32, 'fd0000000001000000']];
  for (const [v, h] of cases) {
    const w = new Writer();
    w.varint(v);
    assert.equal(hex(w.finish()), h, `${v}`);
    assert.equal(new Reader(bytes(h), 100).varint(64), v, h);
  }
  assert.equal(errorKind(() => new Reader(bytes('fc00000100'), 100).varint(16)), 'Malformed', 'a u32 where a u16 goes');
  assert.equal(errorKind(() => new Reader(bytes('fe'), 100).varint(64)), 'Malformed', 'the u128 tag');
  assert.equal(errorKind(() => new Reader(bytes('fb00'), 100).varint(16)), 'Truncated');
  assert.equal(decode(u16, bytes('fb0500'), 8), 5, 'a long form of a small value is read, as bincode does');
});

test('a length is claimed against the limit before its bytes are read', () => {
  // A 100-byte string in a 20-byte limit: refused from the length; the same in a big limit: truncated.
  assert.equal(errorKind(() => decode(str(), bytes('64616263'), 20)), 'LimitExceeded');
  assert.equal(errorKind(() => decode(str(), bytes('64616263'), 1000)), 'Truncated');
  assert.equal(errorKind(() => decode(vec(u8, 3), bytes('04'), 100)), 'Malformed', 'more items than the vec may hold');
  assert.equal(errorKind(() => decode(u32, bytes('0500'), 100)), 'TrailingBytes');
  assert.equal(errorKind(() => decode(u32, bytes('05'), 0)), 'TooLarge');
  assert.equal(errorKind(() => decode(str(), bytes('02c328'), 100)), 'Malformed', 'not UTF-8');
});

test('messages encode as the Rust declares them', () => {
  const hello = { Hello: { protocol_version: 6, name: 'ada', resume: null, room: { Quick: { mode: 'Deathmatch' } } } };
  assert.equal(hex(P.encodeFrame(hello)), '0009000603616461000000');
  assert.equal(hex(P.encodeFrame('ListRooms')), '000102');
  const input = { Input: { ack_tick: 300, inputs: [{ seq: 1, move_x: -127, move_y: 0, aim: 0.5, buttons: 1 }] } };
  const datagram = P.encodeDatagram(input);
  assert.equal(hex(datagram), '00fb2c01010181000000003f01');
  assertSame(decode(P.ClientDatagram, datagram, P.MAX_DATAGRAM_LEN), input);
  assert.equal(errorKind(() => P.encodeFrame({ Chat: { text: 'x'.repeat(5000) } })), 'TooLarge');
});

test('room codes are read in any case and refused otherwise', () => {
  assert.equal(P.parseRoomCode(' abc23 '), 'ABC23');
  for (const bad of ['', 'ABCD', 'ABCDEF', 'ABC0D', 'ABCIO', 'AB C2', 'ÄBC23']) assert.equal(P.parseRoomCode(bad), null, bad);
  const code = { Code: 'abc23' };
  const hello = { Hello: { protocol_version: 6, name: 'a', resume: null, room: code } };
  const payload = P.encodeFrame(hello).slice(2);
  assertSame(decode(P.ClientFrame, payload, P.MAX_FRAME_LEN).Hello.room, { Code: 'ABC23' });
});

test('the frame splitter cuts frames across chunks and refuses empty and oversized ones', () => {
  const a = P.encodeFrame({ Chat: { text: 'hello' } });
  const b = P.encodeFrame('ListRooms');
  const stream = new Uint8Array([...a, ...b]);
  const splitter = new P.FrameSplitter();
  const got = [];
  for (let i = 0; i < stream.length; i += 3) got.push(...splitter.push(stream.slice(i, i + 3)));
  assert.deepEqual(got.map(hex), [hex(a.slice(2)), hex(b.slice(2))]);
  assert.equal(errorKind(() => new P.FrameSplitter().push(bytes('0000'))), 'EmptyFrame');
  assert.equal(errorKind(() => new P.FrameSplitter().push(bytes('1001'))), 'TooLarge');
});

for (const file of ['frames.json', 'datagrams.json']) {
  test(`${file}: every case decodes to its value and encodes to its bytes`, needs(file), () => {
    const { cases } = load(file);
    assert.ok(cases.length > 0);
    for (const c of cases) {
      const [type, limit] = TYPES[c.type];
      assert.ok(type, `${c.name}: type ${c.type}`);
      const b = bytes(c.hex);
      assertSame(decode(type, b, limit), c.value, c.name);
      assert.equal(hex(encode(type, c.value, limit)), c.hex, `${c.name}: encoded`);
      if (c.framed_hex) {
        const splitter = new P.FrameSplitter();
        assert.deepEqual(splitter.push(bytes(c.framed_hex)).map(hex), [c.hex], `${c.name}: framed`);
        if (c.type === 'ClientFrame') assert.equal(hex(P.encodeFrame(c.value)), c.framed_hex, `${c.name}: frame`);
      }
    }
  });

  test(`${file}: every invalid case is refused with the Rust codec's error`, needs(file), () => {
    const { invalid } = load(file);
    assert.ok(invalid.length > 0);
    for (const c of invalid) assert.equal(errorKind(() => decodeAs(c.type, bytes(c.hex))), c.error, c.name);
  });
}
