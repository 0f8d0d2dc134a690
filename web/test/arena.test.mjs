// The map checks against the Rust client's (shared/src/arena.rs): the vectors' map passes, and each kind of
// bad map a hostile or broken server could send is refused with the Rust's words.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_ARENA_SIDE, MAX_HEALTH_PACKS, MAX_SPAWN_POINTS, MAX_WALLS, arenaProblem } from '../js/arena.js';
import { load } from './vectors.mjs';

const good = () => ({
  width: 60, height: 40,
  walls: [{ min: { x: 27, y: 17 }, max: { x: 33, y: 23 } }],
  spawn_points: [{ x: 4, y: 4 }], health_packs: [{ x: 50, y: 30 }],
});
const changed = (change) => {
  const a = good();
  change(a);
  return arenaProblem(a);
};

test('the standard map of the shared vectors and a small good one pass', () => {
  assert.equal(arenaProblem(load('rules.json').arena), null);
  assert.equal(arenaProblem(good()), null);
});

test('a size that is not finite, below 1 or over the largest side is refused', () => {
  for (const [w, h] of [[NaN, 40], [60, Infinity], [0.5, 40], [60, MAX_ARENA_SIDE * 2]]) {
    assert.match(changed((a) => { a.width = w; a.height = h; }), /^arena size .* is outside 1\.\.=10000$/);
  }
});

test('an empty, inverted or non-finite wall, or too many walls, is refused', () => {
  const bad = 'arena walls are too many or malformed';
  assert.equal(changed((a) => { a.walls[0].max.x = a.walls[0].min.x; }), bad);
  assert.equal(changed((a) => { a.walls[0].min.y = 30; }), bad);
  assert.equal(changed((a) => { a.walls[0].min.x = NaN; }), bad);
  const many = Array.from({ length: MAX_WALLS + 1 }, (_, i) => ({ min: { x: i, y: 0 }, max: { x: i + 0.5, y: 1 } }));
  assert.equal(changed((a) => { a.walls = many; a.spawn_points = [{ x: 30, y: 30 }]; }), bad);
});

test('spawn points missing, too many, outside or in a wall are refused', () => {
  const bad = 'arena spawn points are missing, too many or misplaced';
  assert.equal(changed((a) => { a.spawn_points = []; }), bad);
  assert.equal(changed((a) => { a.spawn_points = Array(MAX_SPAWN_POINTS + 1).fill({ x: 4, y: 4 }); }), bad);
  assert.equal(changed((a) => { a.spawn_points[0] = { x: 61, y: 4 }; }), bad);
  assert.equal(changed((a) => { a.spawn_points[0] = { x: 30, y: 20 }; }), bad);
  assert.equal(changed((a) => { a.spawn_points[0] = { x: 4, y: NaN }; }), bad);
});

test('health packs too many, outside or in a wall are refused', () => {
  const bad = 'arena health packs are too many or misplaced';
  assert.equal(changed((a) => { a.health_packs = Array(MAX_HEALTH_PACKS + 1).fill({ x: 4, y: 4 }); }), bad);
  assert.equal(changed((a) => { a.health_packs[0] = { x: -1, y: 4 }; }), bad);
  assert.equal(changed((a) => { a.health_packs[0] = { x: 33, y: 23 }; }), bad);
});
