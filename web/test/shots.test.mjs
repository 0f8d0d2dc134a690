// The own predicted shots against the real rules (the shot stepPlayer fires): drawn from the moment they
// are fired, claiming the server's projectile on their line (not another player's, not one off the line),
// no jump at the claim, gone with the server's projectile, forgotten when never fired, stopped by a wall.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FIRE, stepPlayer } from '../js/rules.js';
import { CLAIM_WITHIN_TICKS, Shots } from '../js/shots.js';

const f = Math.fround;
const arena = {
  width: 60, height: 40,
  walls: [{ min: { x: 27, y: 17 }, max: { x: 33, y: 23 } }],
  spawn_points: [{ x: 4, y: 4 }], health_packs: [],
};
const ME = 7;
const player = (x, y) => ({ pos: { x, y }, vel: { x: 0, y: 0 }, aim: 0, health: 100, fire_cooldown: 0, respawn_in: 0 });

/** The shot the rules fire from (x, y), aiming at `aim` radians. */
function fire(x, y, aim) {
  const { shot } = stepPlayer(player(x, y), { seq: 1, move_x: 0, move_y: 0, aim, buttons: FIRE }, f(1 / 60), arena);
  assert.ok(shot, 'the rules fire');
  return shot;
}
const along = (shot, s) => ({ x: shot.pos.x + shot.vel.x * s, y: shot.pos.y + shot.vel.y * s });
const projectile = (id, owner, pos, vel) => ({ id, owner, pos, vel });
const snap = (last_input_seq, projectiles) => ({ last_input_seq, projectiles });
const near = (a, b) => Math.hypot(a.x - b.x, a.y - b.y) < 1e-6;

test('a shot flies from the muzzle at once and claims our projectile on its line, with no jump', () => {
  const shot = fire(5, 5, 0);
  const shots = new Shots(arena);
  shots.fired(10, shot, 1000);
  assert.ok(near(shots.positions(1000)[0], shot.pos), 'at the muzzle when fired');
  assert.ok(near(shots.positions(1100)[0], along(shot, 0.1)), 'flown a tenth of a second later');
  const on = along(shot, 0.05);
  const server = [
    projectile(2, ME + 1, on, shot.vel), // another player's, right on the line
    projectile(1, ME, { x: on.x, y: on.y + 0.1 }, shot.vel), // ours, within the claim distance
    projectile(3, ME, { x: on.x, y: 6 }, shot.vel), // ours, off the line
  ];
  shots.onSnapshot(snap(9, server), ME);
  assert.equal(shots.claims, 0, 'not before its input is applied');
  const before = shots.positions(1150)[0];
  shots.onSnapshot(snap(10, server), ME);
  assert.equal(shots.claims, 1);
  assert.deepEqual([1, 2, 3].map((id) => shots.draws(id)), [true, false, false]);
  assert.ok(near(shots.positions(1150)[0], before), 'drawn where it was before the claim');
  shots.onSnapshot(snap(11, server.filter((p) => p.id !== 1)), ME);
  assert.deepEqual(shots.positions(1200), [], 'gone with the server projectile');
});

test('a shot the server never fired is forgotten after CLAIM_WITHIN_TICKS inputs', () => {
  const shots = new Shots(arena);
  shots.fired(10, fire(5, 5, 0), 0);
  shots.onSnapshot(snap(10 + CLAIM_WITHIN_TICKS - 1, []), ME);
  assert.equal(shots.list.length, 1, 'still waiting');
  shots.onSnapshot(snap(10 + CLAIM_WITHIN_TICKS, []), ME);
  assert.equal(shots.list.length, 0);
});

test('a shot stops at a wall and at the edge of the map', () => {
  const shots = new Shots(arena);
  shots.fired(1, fire(20, 20, 0), 0); // towards the wall from x = 27
  shots.fired(2, fire(55, 5, 0), 0); // towards the edge at x = 60
  // 24 units a second: the first reaches x = 27 after about 0.27 s, the second x = 60 after about 0.19 s.
  assert.equal(shots.positions(150).length, 2);
  assert.equal(shots.positions(220).length, 1);
  assert.equal(shots.positions(300).length, 0);
  assert.equal(shots.positions(250).length, 0, 'a shot that ended stays ended');
});
