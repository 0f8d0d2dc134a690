// Delta snapshots and the view ring: hand-made deltas for each rule of the format, then vectors/deltas.json,
// the deltas one client received from the real server, replayed through the ring in the order received.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeDelta, predictEntity, snapshotOf } from '../js/delta.js';
import { decodeServerDatagram } from '../js/protocol.js';
import { Reassembler, ViewRing } from '../js/views.js';
import { assertSame, bytes, errorKind, load, needs } from './vectors.mjs';

/** LEB128 of a non-negative integer, and zigzag: the delta format's varints. */
function leb(v) {
  const out = [];
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}
const zig = (v) => (v < 0 ? -2 * v - 1 : 2 * v);
const zz = (v) => leb(zig(v));
const PROJECTILE = 2 ** 31;

/** A delta: header, updates as `[key, mask, ...field bytes]` (keys ascending), removed keys. */
function delta({ tick, baseline = 0, seq = 0, margin = null }, updates, removed = []) {
  const out = [...leb(tick), ...leb(baseline), ...leb(seq), ...leb(margin === null ? 0 : zig(margin) + 1)];
  const keys = (list, each) => {
    out.push(...leb(list.length));
    let prev = -1;
    for (const item of list) {
      const key = Array.isArray(item) ? item[0] : item;
      out.push(...leb(key - prev - 1));
      prev = key;
      each(item);
    }
  };
  keys(updates, ([, ...body]) => out.push(...body));
  keys(removed, () => {});
  return Uint8Array.from(out);
}

const entity = (fields) => ({
  key: 0, x: 0, y: 0, vx: 0, vy: 0, aim: 0, health: 0, cooldown: 0, respawn: 0, kills: 0, deaths: 0, owner: 0, ...fields,
});

test('a full delta gives every entity whole, with a new projectile owner implied', () => {
  const bytesOf = delta({ tick: 10, seq: 9, margin: -3 }, [
    [3, 0x13, ...zz(640), ...zz(-64), 100],
    [PROJECTILE + 5, 0x05, ...zz(64), ...zz(0), ...leb(3)],
  ]);
  const { header, view } = decodeDelta(bytesOf, [], 60);
  assert.deepEqual(header, { tick: 10, baseline_tick: 0, last_input_seq: 9, input_margin: -3 });
  assert.deepEqual(view, [
    entity({ key: 3, x: 640, y: -64, health: 100 }),
    entity({ key: PROJECTILE + 5, vx: 64, owner: 3 }),
  ]);
  const snap = snapshotOf(header, view);
  assert.deepEqual(snap.players[0].state.pos, { x: 10, y: -1 });
  assert.deepEqual(snap.projectiles, [{ id: 5, owner: 3, pos: { x: 0, y: 0 }, vel: { x: 1, y: 0 } }]);
});

test('entities a delta leaves out move on by their velocity; named ones change, removed ones go', () => {
  const base = [entity({ key: 1, x: 640, vx: 512, vy: -512, health: 100 }), entity({ key: 2, health: 50 }),
    entity({ key: 2 ** 30, x: 64, health: 1 })];
  // 60 ticks at 60 Hz: one second; key 2 takes 10 health; the health pack goes.
  const { view } = decodeDelta(delta({ tick: 70, baseline: 10 }, [[2, 0x10, 40]], [2 ** 30]), base, 60);
  assert.deepEqual(view, [entity({ key: 1, x: 1152, y: -512, vx: 512, vy: -512, health: 100 }),
    entity({ key: 2, health: 40 })]);
  assert.equal(decodeDelta(delta({ tick: 11, baseline: 10 }, [[1, 0x08, ...zz(-1)]]), base, 60).view[0].aim, 4095,
    'an aim turns the short way round');
});

test('the integer prediction rounds halves away from zero', () => {
  const e = entity({ x: 0, y: 0, vx: 1, vy: -1 });
  assert.deepEqual([predictEntity(e, 1, 2).x, predictEntity(e, 1, 2).y], [1, -1]);
  assert.equal(predictEntity(entity({ vx: 29 }), 1, 60).x, 0);
  assert.equal(predictEntity(entity({ vx: 30 }), 1, 60).x, 1);
});

test('malformed deltas are refused with the reason the Rust gives', () => {
  assert.equal(errorKind(() => decodeDelta(delta({ tick: 9, baseline: 9 }, []), [], 60)), 'Malformed');
  assert.equal(errorKind(() => decodeDelta(delta({ tick: 9 }, [[1, 0x02, 0, 0]]), [], 60)), 'Malformed',
    'an update of an entity the baseline lacks');
  assert.equal(errorKind(() => decodeDelta(delta({ tick: 9 }, [[1, ...leb(0x101), 0, 0]]), [], 60)), 'Malformed');
  assert.equal(errorKind(() => decodeDelta(Uint8Array.from([9, 0, 0, 0, 0xf9, 0x0a]), [], 60)), 'LimitExceeded');
  assert.equal(errorKind(() => decodeDelta(new Uint8Array(11).fill(0xff), [], 60)), 'Malformed');
  assert.equal(errorKind(() => decodeDelta(Uint8Array.from([9, 0, 0]), [], 60)), 'Truncated');
  assert.equal(errorKind(() => decodeDelta(Uint8Array.from([9, 0, 0, 0, 0, 0, 0]), [], 60)), 'TrailingBytes');
});

test('the view ring ignores late deltas and names a baseline it lacks', () => {
  const ring = new ViewRing(60);
  assert.equal(ring.apply(delta({ tick: 10 }, [[1, 0x01]])).tick, 10);
  assert.equal(ring.apply(delta({ tick: 9 }, [])), null);
  assert.equal(errorKind(() => ring.apply(delta({ tick: 12, baseline: 11 }, []))), 'MissingBaseline');
  assert.equal(ring.apply(delta({ tick: 12, baseline: 10 }, [], [1])).players.length, 0);
});

test('full snapshot parts come together whole, in any order, and late parts are dropped', () => {
  // A naive snapshot: tick 5, seq 3, no players, no projectiles; cut in two.
  const whole = [5, 3, 0, 0];
  const parts = [{ tick: 5, index: 1, count: 2, bytes: whole.slice(2) }, { tick: 5, index: 0, count: 2, bytes: whole.slice(0, 2) }];
  const r = new Reassembler();
  assert.equal(r.push({ ...parts[0], bytes: Uint8Array.from(parts[0].bytes) }), null);
  const snap = r.push({ ...parts[1], bytes: Uint8Array.from(parts[1].bytes) });
  assert.deepEqual(snap, { tick: 5, last_input_seq: 3, players: [], projectiles: [], input_margin: null, health_packs: [] });
  assert.equal(r.push({ tick: 4, index: 0, count: 1, bytes: Uint8Array.from(whole) }), null, 'older than delivered');
  assert.equal(errorKind(() => r.push({ tick: 9, index: 2, count: 2, bytes: new Uint8Array() })), 'BadPart');
});

/** A view of the vectors (entities with their kind and id) as the decoder's entities. */
const entitiesOf = (view) => (view ? view.entities.map(({ kind, id, ...e }) => e) : []);

test('deltas.json: the ring rebuilds every view and snapshot the Rust client did', needs('deltas.json'), () => {
  const file = load('deltas.json');
  const ring = new ViewRing(file.tick_rate);
  let applied = 0;
  for (const step of file.steps) {
    const datagram = decodeServerDatagram(bytes(step.hex));
    assert.deepEqual(Object.keys(datagram), ['Delta'], step.name);
    const snapshot = ring.apply(datagram.Delta);
    if (step.result === 'late') {
      assert.equal(snapshot, null, `${step.name}: late`);
      continue;
    }
    applied += 1;
    assertSame(snapshot, step.snapshot, step.name);
    const { header, view } = decodeDelta(bytes(step.payload_hex), entitiesOf(step.baseline), file.tick_rate);
    assertSame(header, step.header, `${step.name}: header`);
    assertSame(view, entitiesOf(step.view), `${step.name}: view`);
    assert.equal(ring.newestTick(), step.ack, `${step.name}: ack`);
  }
  assert.ok(applied > 0);
});

test('deltas.json: every invalid delta is refused with the Rust error', needs('deltas.json'), () => {
  const file = load('deltas.json');
  for (const c of file.invalid) {
    const payload = bytes(c.payload_hex);
    const kind = c.baseline
      ? errorKind(() => decodeDelta(payload, entitiesOf(c.baseline), file.tick_rate))
      : errorKind(() => new ViewRing(file.tick_rate).apply(payload));
    assert.equal(kind, c.error, c.name);
  }
});
