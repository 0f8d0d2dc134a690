// The input clock of client/src/timesync.rs: when to send the next input so that it reaches the server a
// small margin before the tick that applies it, neither late (the tick repeats the last input) nor early
// (it waits as latency). It learns the server's tick clock from the snapshots, starts there, then holds
// the margin each delta reports at a target that grows with the jitter seen: a jump once the first margins
// show where it stands, then a nudge of the period by a few percent. Times are milliseconds and every
// method takes the time it happens at, so tests drive it with a clock of their own.

import { MARGIN_UNIT_US } from './protocol.js';

/** The margin a perfectly steady link is given, µs. */
export const BASE_MARGIN_US = 1000;
/** How many times the jitter the target adds. */
export const JITTER_FACTOR = 2;
/** The most the period is stretched or shortened while nudging. */
export const MAX_SLEW = 0.05;
const JITTER_SAMPLES = 60;
const QUEUE_SAMPLES = 30;
const STEER_SAMPLES = 5;
const NUDGE_TICKS = 10;

function pushBounded(list, v, cap) {
  if (list.length === cap) list.shift();
  list.push(v);
}

function median(list) {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

export class InputClock {
  /** A clock for a server ticking at `tickRate`, its first input due at `now` (ms). */
  constructor(tickRate, now) {
    this.period = 1000 / Math.max(tickRate, 1);
    this.next = now;
    this.rate = 1;
    /** Recent margins (µs) for the jitter, newest last. */
    this.margins = [];
    /** Recent margins (µs) that steer; emptied after a jump. */
    this.steer = [];
    /** Whether each recent report said "queued" (a margin of a tick or more). */
    this.queued = [];
    this.placed = false;
    /** The newest snapshot's tick and when that tick started, by this clock. */
    this.server = null;
    /** After a jump, margins arriving before this were measured on inputs sent before it: left out. */
    this.settleUntil = null;
  }

  /** When the next input is due (ms). */
  due() {
    return this.next;
  }

  /** An input left at `now`: the next is due a nudged period later; missed ticks are skipped, not burst. */
  sent(now) {
    const step = this.period * this.rate;
    this.next += step;
    while (this.next + step / 2 < now) this.next += step;
  }

  /** A snapshot of `tick` arrived at `at`, with the round trip `rtt` (ms) and the margin it reports. */
  onSnapshot(tick, at, rtt, margin) {
    const first = this.server === null;
    this.trackServer(tick, at, rtt);
    if (first) {
      // Until the margins say better: arrive the target early, half a round trip after leaving.
      const lead = this.targetUs() / 1000 + rtt / 2;
      let next = this.tickStart(tick) + this.period;
      while (next < at + lead) next += this.period;
      this.next = next - lead;
      this.settleUntil = at + rtt + this.period * 2;
    }
    const settled = this.settleUntil === null || at >= this.settleUntil;
    if (margin !== null && settled && this.onMargin(margin * MARGIN_UNIT_US)) {
      this.settleUntil = at + rtt + this.period * 2;
    }
  }

  /** The server tick running at `now`, with its fraction; null before the first snapshot. */
  serverTickAt(now) {
    return this.server && this.server.tick + (now - this.server.start) / this.period;
  }

  /** What the clock holds: the median margin, the target and the jitter (ms), and the period's stretch. */
  stats() {
    return {
      marginMs: this.margins.length ? Math.max(median(this.margins), 0) / 1000 : null,
      targetMs: this.targetUs() / 1000,
      jitterMs: this.jitterUs() / 1000,
      rate: this.rate,
    };
  }

  /** The margin aimed at, µs: the base plus the jitter's allowance, at most half a tick. */
  targetUs() {
    return Math.min(BASE_MARGIN_US + JITTER_FACTOR * this.jitterUs(), (this.period * 1000) / 2);
  }

  jitterUs() {
    if (this.margins.length < STEER_SAMPLES) return 0;
    const mid = median(this.margins);
    return this.margins.reduce((sum, m) => sum + Math.abs(m - mid), 0) / this.margins.length;
  }

  /** Takes one margin (µs); true when it made the clock jump. */
  onMargin(us) {
    const periodUs = this.period * 1000;
    // A margin of a tick or more is a queue at the server: one a stall left is the server's to drain (left
    // out); one that stays says this clock runs fast and counts as "early by a tick", but never jumps.
    const queued = us >= periodUs;
    pushBounded(this.queued, queued, QUEUE_SAMPLES);
    if (queued && this.queued.filter((q) => q).length * 2 <= this.queued.length) return false;
    if (!queued) pushBounded(this.margins, us, JITTER_SAMPLES);
    pushBounded(this.steer, Math.min(us, periodUs), STEER_SAMPLES);
    const error = median(this.steer) - this.targetUs();
    const anyQueued = this.steer.some((m) => m >= periodUs);
    const far = this.steer.length === STEER_SAMPLES && Math.abs(error) > periodUs / 3;
    if (!anyQueued && ((!this.placed && this.steer.length >= 3) || far)) {
      // Far off, or never placed: jump there at once (early: later inputs).
      this.next += error / 1000;
      this.placed = true;
      this.steer = [];
      this.rate = 1;
      return true;
    }
    if (this.placed) this.rate = 1 + Math.min(Math.max(error / (periodUs * NUDGE_TICKS), -MAX_SLEW), MAX_SLEW);
    return false;
  }

  /** Follows the server's tick clock: the least delayed snapshot tells best; later ones are followed slowly. */
  trackServer(tick, at, rtt) {
    const seen = at - rtt / 2;
    const expected = this.tickStart(tick);
    let start = seen;
    if (expected !== null && seen >= expected) start = expected + (seen - expected) / 16;
    this.server = { tick, start };
  }

  /** When tick `tick` started, by this clock. */
  tickStart(tick) {
    if (!this.server) return null;
    const ticks = (tick - this.server.tick) | 0; // a wrapping u32 difference, read as i32
    return this.server.start + this.period * ticks;
  }
}
