// What the client keeps of the snapshots it received (client/src/views.rs, shared/src/fragment.rs): the
// rebuilt delta views, as baselines for the deltas to come, and the parts of a full snapshot in assembly.

import { CodecError } from './codec.js';
import { decodeDelta, deltaHeader, snapshotOf } from './delta.js';
import { MAX_SNAPSHOT_LEN, decodeSnapshot } from './protocol.js';

/** Views kept as possible baselines; the server keeps 32, so the one it names is here unless never received. */
export const VIEW_RING = 64;
/** Most parts one full snapshot may be split into. */
export const MAX_PARTS = 64;

/** Rebuilt delta views, newest last. */
export class ViewRing {
  constructor(tickRate) {
    this.tickRate = tickRate;
    this.views = [];
  }

  newestTick() {
    return this.views.length ? this.views[this.views.length - 1].tick : null;
  }

  /** Applies a delta payload: the new snapshot, or null for one no newer than the newest view (late). */
  apply(bytes) {
    const header = deltaHeader(bytes);
    const newest = this.newestTick();
    if (newest !== null && header.tick <= newest) return null;
    let base = [];
    if (header.baseline_tick !== 0) {
      const found = this.views.find((v) => v.tick === header.baseline_tick);
      if (!found) throw new CodecError('MissingBaseline', `baseline view ${header.baseline_tick} is not here`);
      base = found.view;
    }
    const { header: full, view } = decodeDelta(bytes, base, this.tickRate);
    if (this.views.length === VIEW_RING) this.views.shift();
    this.views.push({ tick: full.tick, view });
    return snapshotOf(full, view);
  }
}

/**
 * Puts full-snapshot parts back together, whole or not at all: one snapshot in assembly (the newest tick
 * seen), parts of older or delivered ticks dropped, so snapshots never arrive out of order.
 */
export class Reassembler {
  constructor() {
    this.pending = null;
    this.delivered = null;
  }

  /** Takes one part (`{tick, index, count, bytes}`); returns the decoded snapshot when it completes one. */
  push(part) {
    const { tick, index, count } = part;
    if (count === 0 || count > MAX_PARTS || index >= count) throw new CodecError('BadPart', 'malformed snapshot part');
    if (this.delivered !== null && tick <= this.delivered) return null;
    if (this.pending && tick < this.pending.tick) return null;
    if (this.pending && tick === this.pending.tick && this.pending.parts.length !== count) {
      throw new CodecError('BadPart', 'malformed snapshot part');
    }
    if (!this.pending || tick !== this.pending.tick) this.pending = { tick, parts: new Array(count).fill(null) };
    this.pending.parts[index] = part.bytes;
    if (this.pending.parts.includes(null)) return null;
    const parts = this.pending.parts;
    this.pending = null;
    const total = parts.reduce((n, p) => n + p.length, 0);
    if (total > MAX_SNAPSHOT_LEN) throw new CodecError('TooLarge', 'reassembled snapshot is over the size limit');
    const whole = new Uint8Array(total);
    parts.reduce((at, p) => (whole.set(p, at), at + p.length), 0);
    this.delivered = tick;
    return { ...decodeSnapshot(whole), input_margin: null, health_packs: [] };
  }
}
