// Delta snapshots (shared/src/codec/delta.rs): a view of the world rebuilt from a view the client
// acknowledged. Entities the delta leaves out move on by their velocity, named ones take the fields given
// (relative to that prediction), new ones come whole, removed ones are named by key.
//
// Wire form, varints LEB128 and signed values zigzag: tick, baseline_tick, last_input_seq, input_margin,
// n_updates, updates (key gap, mask, fields), n_removed, removed key gaps. Entities are QEntity objects in
// wire units (1/64 unit positions and velocities, 1/4096 turn aims, 1/240 s timers).

import { CodecError } from './codec.js';
import { MAX_DATAGRAM_LEN } from './protocol.js';
import { AIM_STEPS, POS_SCALE, VEL_SCALE, dq, dqAim, dqTime } from './quant.js';

export const MAX_DELTA_ENTRIES = MAX_DATAGRAM_LEN;
export const MAX_VIEW_ENTITIES = 4096;

// Mask bits: which fields of an update follow, in this order.
const NEW = 0x01, POS = 0x02, VEL = 0x04, AIM = 0x08, HEALTH = 0x10, TIMERS = 0x20, SCORE = 0x40, OWNER = 0x80;
const KNOWN = 0xff;

// Key ranges (shared/src/entity.rs): players below 2^30, health packs below 2^31, projectiles above.
export const Kind = { Player: 0, HealthPack: 1, Projectile: 2 };
const HEALTH_PACK_FIRST = 2 ** 30;
const PROJECTILE_FIRST = 2 ** 31;

export function kindOf(key) {
  return key >= PROJECTILE_FIRST ? Kind.Projectile : key >= HEALTH_PACK_FIRST ? Kind.HealthPack : Kind.Player;
}

export function idOf(key) {
  return kindOf(key) === Kind.Projectile ? key - PROJECTILE_FIRST : key % HEALTH_PACK_FIRST;
}

/** The fields a new entity of this kind always carries, left out of its wire mask. */
const sentWhenNew = (kind) => (kind === Kind.Projectile ? OWNER : 0);

const malformed = (detail) => new CodecError('Malformed', `malformed message: ${detail}`);
const overLimit = () => new CodecError('LimitExceeded', 'a length inside the message is over the limit');

const zeroEntity = (key) => ({
  key, x: 0, y: 0, vx: 0, vy: 0, aim: 0, health: 0, cooldown: 0, respawn: 0, kills: 0, deaths: 0, owner: 0,
});

/** A cursor over a delta's bytes. Varints past 2^53 lose precision, but every field refuses them anyway. */
class Reader {
  constructor(bytes) {
    this.bytes = bytes;
    this.at = 0;
  }

  byte() {
    if (this.at >= this.bytes.length) throw new CodecError('Truncated', 'truncated message');
    return this.bytes[this.at++];
  }

  varint() {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      v += (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) return v;
    }
    throw malformed('varint longer than 64 bits');
  }

  bounded(max, what) {
    const v = this.varint();
    if (v > max) throw malformed(`value over ${what}`);
    return v;
  }

  u32() { return this.bounded(0xffffffff, '32 bits'); }
  u16() { return this.bounded(0xffff, '16 bits'); }
  signed() { return unzigzag(this.varint()); }

  margin() {
    const v = this.varint();
    if (v === 0) return null;
    const m = unzigzag(v - 1);
    if (m < -32768 || m > 32767) throw malformed('input margin over 16 bits');
    return m;
  }

  count() {
    const n = this.varint();
    if (n > MAX_DELTA_ENTRIES) throw overLimit();
    return n;
  }

  mask(kind) {
    const wire = this.bounded(0xffffffff, '32 bits');
    if (wire & ~KNOWN) throw malformed("unknown bits in an update's mask");
    return wire & NEW ? wire | sentWhenNew(kind) : wire;
  }
}

function unzigzag(v) {
  return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
}

function addCoordinate(base, delta) {
  const v = base + delta;
  if (v < -(2 ** 31) || v > 2 ** 31 - 1) throw malformed('coordinate out of range');
  return v;
}

/** Position steps moved per velocity step over `ticks`: the factor both ends compute in f64. */
function perStep(ticks, tickRate) {
  return (ticks * POS_SCALE) / (Math.max(tickRate, 1) * VEL_SCALE);
}

/** `e` moved on by its velocity over a span (see perStep), rounded half away from zero as the Rust does. */
function predicted(e, per) {
  if (per === 0 || (e.vx === 0 && e.vy === 0)) return e;
  const step = (pos, vel) => {
    const exact = vel * per;
    const moved = Math.trunc(exact + (exact < 0 ? -0.5 : 0.5));
    return Math.min(Math.max(pos + moved, -(2 ** 31)), 2 ** 31 - 1);
  };
  return { ...e, x: step(e.x, e.vx), y: step(e.y, e.vy) };
}

/** A baseline entity `ticks` later if it kept its velocity (what a delta that leaves it out means). */
export function predictEntity(e, ticks, tickRate) {
  return predicted(e, perStep(ticks, tickRate));
}

function readUpdate(r, key, base) {
  const m = r.mask(kindOf(key));
  let b;
  if (m & NEW) b = zeroEntity(key);
  else if (base) b = base;
  else throw malformed('update of an entity the baseline lacks');
  const e = { ...b };
  if (m & POS) {
    e.x = addCoordinate(b.x, r.signed());
    e.y = addCoordinate(b.y, r.signed());
  }
  if (m & VEL) {
    e.vx = addCoordinate(b.vx, r.signed());
    e.vy = addCoordinate(b.vy, r.signed());
  }
  if (m & AIM) {
    const turn = ((r.signed() % AIM_STEPS) + AIM_STEPS) % AIM_STEPS;
    e.aim = (b.aim + turn) % AIM_STEPS;
  }
  if (m & HEALTH) e.health = r.byte();
  if (m & TIMERS) {
    e.cooldown = r.u16();
    e.respawn = r.u16();
  }
  if (m & SCORE) {
    e.kills = r.u32();
    e.deaths = r.u32();
  }
  if (m & OWNER) e.owner = r.u32();
  return e;
}

/** Reads `n` ascending keys written as gaps, calling `each(key)` for each. */
function readKeys(r, n, each) {
  let prev = -1;
  for (let i = 0; i < n; i++) {
    const key = prev + 1 + r.varint();
    if (key > 0xffffffff) throw malformed('key over 32 bits');
    prev = key;
    each(key);
  }
}

function readHeader(r) {
  return { tick: r.u32(), baseline_tick: r.u32(), last_input_seq: r.u32(), input_margin: r.margin() };
}

/** Just a delta's header (to find its baseline before decoding). */
export function deltaHeader(bytes) {
  return readHeader(new Reader(bytes));
}

/**
 * Rebuilds a view from a delta and its baseline view (sorted by key; empty when baseline_tick is 0), for a
 * server ticking at `tickRate`. Returns `{header, view}`, the view sorted by key.
 */
export function decodeDelta(bytes, baseline, tickRate) {
  if (bytes.length > MAX_DATAGRAM_LEN) {
    throw new CodecError('TooLarge', `${bytes.length} bytes is over the ${MAX_DATAGRAM_LEN}-byte limit`);
  }
  const r = new Reader(bytes);
  const header = readHeader(r);
  if (header.baseline_tick !== 0 && header.baseline_tick >= header.tick) {
    throw malformed('baseline is not older than the delta');
  }
  const per = perStep(header.tick - header.baseline_tick, tickRate);
  // Keys ascend, so the baseline is walked once.
  let cursor = 0;
  const baseAt = (key) => {
    while (cursor < baseline.length && baseline[cursor].key < key) cursor++;
    const b = baseline[cursor];
    return b && b.key === key ? predicted(b, per) : null;
  };
  const updates = [];
  readKeys(r, r.count(), (key) => updates.push(readUpdate(r, key, baseAt(key))));
  const removed = [];
  readKeys(r, r.count(), (key) => removed.push(key));
  if (r.at !== bytes.length) throw new CodecError('TrailingBytes', `${bytes.length - r.at} trailing bytes after the message`);
  // Merge: baseline entities move on unless updated or removed; new ones join.
  const view = [];
  let u = 0;
  let d = 0;
  for (const b of baseline) {
    while (u < updates.length && updates[u].key < b.key) view.push(updates[u++]);
    while (d < removed.length && removed[d] < b.key) d++;
    const update = u < updates.length && updates[u].key === b.key ? updates[u] : null;
    if (update) u++;
    if (d < removed.length && removed[d] === b.key) {
      d++;
      continue;
    }
    view.push(update ?? predicted(b, per));
    if (view.length > MAX_VIEW_ENTITIES) throw overLimit();
  }
  while (u < updates.length) view.push(updates[u++]);
  if (view.length > MAX_VIEW_ENTITIES) throw overLimit();
  return { header, view };
}

const vec = (x, y, scale) => ({ x: dq(x, scale), y: dq(y, scale) });

/**
 * A rebuilt view as a snapshot in serde's shape of shared/src/protocol.rs `Snapshot` (a taken health pack,
 * health 0, is not listed): numbers as f32 values, exactly as the Rust client holds them.
 */
export function snapshotOf(header, view) {
  const { tick, last_input_seq, input_margin } = header;
  const snapshot = { tick, last_input_seq, input_margin, players: [], projectiles: [], health_packs: [] };
  for (const e of view) {
    const id = idOf(e.key);
    const kind = kindOf(e.key);
    if (kind === Kind.Player) {
      snapshot.players.push({
        id,
        state: {
          pos: vec(e.x, e.y, POS_SCALE),
          vel: vec(e.vx, e.vy, VEL_SCALE),
          aim: dqAim(e.aim),
          health: e.health,
          fire_cooldown: dqTime(e.cooldown),
          respawn_in: dqTime(e.respawn),
        },
        kills: e.kills,
        deaths: e.deaths,
      });
    } else if (kind === Kind.Projectile) {
      snapshot.projectiles.push({ id, owner: e.owner, pos: vec(e.x, e.y, POS_SCALE), vel: vec(e.vx, e.vy, VEL_SCALE) });
    } else if (e.health > 0) {
      snapshot.health_packs.push({ id, pos: vec(e.x, e.y, POS_SCALE) });
    }
  }
  return snapshot;
}
