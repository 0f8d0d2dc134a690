// The input clock against a simulated server (client/src/timesync/tests.rs, ported): a tick every period,
// inputs taken by the first tick after they arrive, each snapshot reporting the margin of the newest input
// that arrived before its tick. Times in milliseconds, stepped by 0.1 ms.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputClock, MAX_SLEW } from '../js/timesync.js';

const RATE = 60;
const PERIOD = 1000 / RATE;

/** A seeded random number in [0, 1) (mulberry32). */
function random(seed) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** `secs` of a client whose inputs take `delay` ± `jitter` each way; the server's ticks start at `phase`. */
function run({ secs, delay, jitter = 0, phase, wakeLate = 0, seed }) {
  const rand = random(seed);
  const oneWay = () => Math.max(delay + jitter * (rand() * 2 - 1), 0);
  const clock = new InputClock(RATE, 0);
  let arrivals = [];
  let snapshots = [];
  const margins = [];
  let newestMargin = null;
  let tick = 1;
  let tickAt = phase;
  for (let i = 0; tick <= secs * RATE; i++) {
    const now = i / 10;
    if (now >= clock.due() + wakeLate) {
      arrivals.push(now + oneWay());
      clock.sent(now);
    }
    snapshots = snapshots.filter(([at, t, m]) => (at <= now ? (clock.onSnapshot(t, at, delay * 2, m), false) : true));
    if (now >= tickAt) {
      for (const a of arrivals.filter((x) => x <= tickAt).sort((x, y) => x - y)) {
        const us = (tickAt - a) * 1000;
        newestMargin = Math.trunc(us / 100);
        if (tick > RATE) margins.push(us);
      }
      arrivals = arrivals.filter((x) => x > tickAt);
      snapshots.push([tickAt + oneWay(), tick, newestMargin]);
      newestMargin = null;
      tick += 1;
      tickAt += PERIOD;
    }
  }
  return { margins, clock };
}

const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

test('on a steady link inputs arrive the base margin before their tick', () => {
  for (const [phase, seed] of [[0, 1], [4, 2], [11, 3], [16, 4]]) {
    const { margins, clock } = run({ secs: 3, delay: 0.3, phase, seed });
    const [m, target] = [median(margins), clock.targetUs()];
    assert.ok(Math.abs(m - target) < 500, `phase ${phase} ms: median margin ${m} µs, target ${target} µs`);
    assert.ok(margins.every((x) => x >= 0 && x < PERIOD * 1000), 'never late, never a tick early');
    assert.ok(Math.abs(clock.stats().rate - 1) <= MAX_SLEW);
  }
});

test('a sender that wakes late is aimed earlier', () => {
  const { margins, clock } = run({ secs: 3, delay: 0.3, phase: 7, wakeLate: 0.9, seed: 5 });
  assert.ok(Math.abs(median(margins) - clock.targetUs()) < 500);
});

test('the target grows with jitter and few inputs come late', () => {
  const steady = run({ secs: 4, delay: 20, phase: 3, seed: 6 });
  const jittery = run({ secs: 4, delay: 20, jitter: 2, phase: 3, seed: 6 });
  assert.ok(jittery.clock.targetUs() > steady.clock.targetUs() + 1000);
  const late = jittery.margins.filter((m) => m > 12000).length;
  assert.ok(late * 20 < jittery.margins.length, `${late} of ${jittery.margins.length} late`);
});

test('a queue that stays slows the clock, and one a stall left does not', () => {
  let [t, tick] = [0, 1];
  const clock = new InputClock(RATE, t);
  const report = (us, n) => {
    for (let i = 0; i < n; i++) {
      tick += 1;
      t += PERIOD;
      clock.onSnapshot(tick, t, 0.6, Math.trunc(us / 100));
    }
  };
  report(1000, 40);
  assert.ok(Math.abs(clock.stats().rate - 1) < 1e-3);
  let due = clock.due();
  report(40000, 8);
  assert.equal(clock.stats().rate, 1, "left to the server's drain");
  assert.equal(clock.due(), due, 'no jump');
  report(1000, 30);
  due = clock.due();
  report(17000, 30);
  const { rate } = clock.stats();
  assert.ok(rate > 1 && rate <= 1 + MAX_SLEW, `slowed: ${rate}`);
  assert.equal(clock.due(), due, 'no jump');
});
