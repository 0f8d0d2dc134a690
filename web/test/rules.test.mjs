// The movement rules' port and the wire grid: behaviour tests, then vectors/rules.json, the Rust client's
// own prediction, which the port must match bit for bit (every f32 the same).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { predictEntity } from '../js/delta.js';
import { Predictor } from '../js/predict.js';
import * as Q from '../js/quant.js';
import { BLASTER, MAX_SPEED, MAX_SUBSTEP, MAX_SUBSTEPS, PLAYER_RADIUS, ACCELERATION, MAX_HEALTH, stepPlayer } from '../js/rules.js';
import { load, needs } from './vectors.mjs';

const f = Math.fround;
const arena = {
  width: 60, height: 40,
  walls: [{ min: { x: 27, y: 17 }, max: { x: 33, y: 23 } }],
  spawn_points: [{ x: 4, y: 4 }], health_packs: [],
};
const spawned = (x, y) => ({ pos: { x, y }, vel: { x: 0, y: 0 }, aim: 0, health: 100, fire_cooldown: 0, respawn_in: 0 });
const input = (move_x, move_y, extra = {}) => ({ seq: 1, move_x, move_y, aim: 0, buttons: 0, ...extra });
const dt = f(1 / 60);

function run(state, inp, ticks) {
  let s = state;
  for (let i = 0; i < ticks; i++) s = Q.snapPlayer(stepPlayer(s, inp, dt, arena).state);
  return s;
}

test('a player accelerates to the speed cap and no faster, even asking for more', () => {
  const s = run(spawned(5, 20), input(127, 127), 60);
  assert.ok(Math.hypot(s.vel.x, s.vel.y) <= MAX_SPEED + 1e-3, `${JSON.stringify(s.vel)}`);
  assert.ok(Math.hypot(s.vel.x, s.vel.y) > MAX_SPEED - 0.05);
});

test('walls and bounds stop a player at their face', () => {
  const s = run(spawned(20, 20), input(127, 0), 120);
  assert.equal(s.pos.x, 27 - PLAYER_RADIUS, 'at the central block');
  assert.equal(s.vel.x, 0);
  const t = run(spawned(2, 2), input(-127, -127), 60);
  assert.deepEqual(t.pos, { x: PLAYER_RADIUS, y: PLAYER_RADIUS });
});

test('fire fires once per cooldown, from the muzzle along the aim; the dead do nothing', () => {
  const firing = input(0, 0, { buttons: 1, aim: f(Math.PI / 2) });
  const first = stepPlayer(spawned(10, 10), firing, dt, arena);
  assert.ok(first.shot);
  assert.ok(Math.abs(first.shot.vel.y - BLASTER.speed) < 1e-5 && Math.abs(first.shot.pos.y - 10.7) < 1e-5);
  assert.equal(stepPlayer(first.state, firing, dt, arena).shot, null, 'cooling down');
  const dead = { ...spawned(10, 10), health: 0 };
  assert.equal(stepPlayer(dead, input(127, 0), dt, arena).state, dead);
});

test('the wire grid rounds halves away from zero and wraps the aim', () => {
  assert.equal(Q.q(f(-0.0078125), Q.POS_SCALE), -1);
  assert.equal(Q.q(f(0.0078125), Q.POS_SCALE), 1);
  assert.equal(Q.qAim(f(-0.001)), 4095);
  assert.equal(Q.qAim(Q.TAU), 0);
  assert.equal(Q.qTime(-1), 0);
  assert.equal(Q.qTime(1e6), 65535);
});

test('rules.json: the constants are the port\'s', needs('rules.json'), () => {
  const c = load('rules.json').constants;
  const mine = {
    player_radius: PLAYER_RADIUS, max_speed: MAX_SPEED, acceleration: ACCELERATION, max_health: MAX_HEALTH,
    max_substep: MAX_SUBSTEP, max_substeps: MAX_SUBSTEPS, blaster_speed: BLASTER.speed,
    blaster_damage: BLASTER.damage, blaster_cooldown: BLASTER.cooldown, blaster_lifetime: BLASTER.lifetime,
    blaster_radius: BLASTER.radius, pos_scale: Q.POS_SCALE, vel_scale: Q.VEL_SCALE, aim_steps: Q.AIM_STEPS,
    time_scale: Q.TIME_SCALE, tau: Q.TAU,
  };
  for (const [name, value] of Object.entries(c)) assert.equal(f(mine[name]), f(value), name);
});

/** A state or vector from the JSON, its floats read as the f32 they are. */
const f32s = (v) => (typeof v === 'number' ? f(v) : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, f32s(x)])));

test('rules.json: the prediction matches the Rust client\'s bit for bit', needs('rules.json'), () => {
  const file = load('rules.json');
  assert.ok(file.sequences.length > 0);
  for (const seq of file.sequences) {
    assert.equal(f(1 / seq.tick_rate), f(seq.dt), `${seq.name}: dt`);
    const predictor = new Predictor(file.arena, seq.tick_rate);
    predictor.reconcile(f32s(seq.start), 0);
    seq.steps.forEach((step, i) => {
      const shot = predictor.applyLocal({ ...step.input, aim: f(step.input.aim) });
      assert.deepEqual(predictor.state, f32s(step.state), `${seq.name} step ${i}`);
      assert.deepEqual(shot, step.shot && f32s(step.shot), `${seq.name} step ${i}: shot`);
    });
  }
});

test('rules.json: values through the wire grid', needs('rules.json'), () => {
  const through = {
    pos: (v) => [Q.q(v, Q.POS_SCALE), (w) => Q.dq(w, Q.POS_SCALE)],
    vel: (v) => [Q.q(v, Q.VEL_SCALE), (w) => Q.dq(w, Q.VEL_SCALE)],
    aim: (v) => [Q.qAim(v), Q.dqAim],
    time: (v) => [Q.qTime(v), Q.dqTime],
  };
  for (const c of load('rules.json').quantization) {
    const [wire, back] = through[c.field](f(c.value));
    assert.equal(wire, c.wire, `${c.field} ${c.value}`);
    assert.equal(back(wire), f(c.back), `${c.field} ${c.value} back`);
  }
});

test('rules.json: baseline entities move on by the integer prediction', needs('rules.json'), () => {
  for (const c of load('rules.json').entity_prediction) {
    const out = predictEntity({ key: 1, x: c.x, y: c.y, vx: c.vx, vy: c.vy }, c.ticks, c.tick_rate);
    assert.deepEqual([out.x, out.y], [c.out_x, c.out_y], JSON.stringify(c));
  }
});
