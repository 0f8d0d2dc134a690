// The page's picture of the game without a DOM: the Game fed frames and snapshots, the interpolation of
// others, the reconciliation of the own prediction, and the controls.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Controls } from '../js/controls.js';
import { Game } from '../js/game.js';
import { Interpolator, MAX_EXTRAPOLATION } from '../js/interp.js';
import { Predictor } from '../js/predict.js';

const arena = { width: 60, height: 40, walls: [], spawn_points: [{ x: 4, y: 4 }], health_packs: [] };
const welcome = (snapshotRate = 60) => ({
  player_id: 1, tick_rate: 60, snapshot_rate: snapshotRate, arena, session_token: new Array(16).fill(0),
  room: 'ABCDE', map: 'standard', mode: 'Deathmatch',
});
const state = (x, y = 5, vx = 0) => ({ pos: { x, y }, vel: { x: vx, y: 0 }, aim: 0, health: 100, fire_cooldown: 0, respawn_in: 0 });
const snapshot = (tick, players = [], seq = 0) => ({
  tick, last_input_seq: seq, input_margin: null, projectiles: [], health_packs: [],
  players: players.map(([id, s, kills = 0, deaths = 0]) => ({ id, state: s, kills, deaths })),
});

test('the roster, chat, notices, the kill feed and the scoreboard come from the frames', () => {
  const game = new Game(welcome(), 0);
  game.onFrame({ PlayerJoined: { id: 1, name: 'ada' } }, 0);
  game.onFrame({ PlayerJoined: { id: 2, name: 'bob' } }, 0);
  game.onFrame({ Chat: { from: 2, text: 'gg' } }, 0);
  game.onFrame({ Notice: { text: 'restart soon' } }, 0);
  game.onFrame({ Killed: { killer: 2, victim: 1 } }, 0);
  game.onSnapshot(snapshot(10, [[1, state(3), 0, 1], [2, state(9), 1, 0]]), 0);
  game.onFrame({ PlayerLeft: { id: 2 } }, 0);
  assert.deepEqual(game.chat, [{ from: 'bob', text: 'gg' }, { from: 'server', text: 'restart soon' }]);
  assert.deepEqual(game.killFeed, [{ killer: 'bob', victim: 'ada' }]);
  assert.deepEqual(game.scoreboard(), [{ id: 1, name: 'ada', kills: 0, deaths: 1 }]);
  game.onFrame({ Match: { phase: 'Playing', secs_left: 120 } }, 1000);
  assert.deepEqual(game.myScore(), [0, 0], 'a new match resets the scores');
  assert.equal(game.secsLeft(31500), 90, "30.5 s passed: 30 whole seconds");
  game.onFrame({ Results: { lines: [], winner: null } }, 0);
  assert.equal(game.resultsShown(), null, 'results show in the results phase only');
  game.onFrame({ Match: { phase: 'Results', secs_left: 10 } }, 0);
  assert.deepEqual(game.resultsShown(), { lines: [], winner: null });
});

test('loss counts the snapshots sent, not the ticks, and the rate is measured from arrivals', () => {
  const game = new Game(welcome(20), 0);
  for (let tick = 3; tick <= 300; tick += 3) game.onSnapshot(snapshot(tick), tick * 16.667);
  assert.ok(game.snapshotLoss() < 1e-9);
  assert.ok(Math.abs(game.snapshotRateHz() - 20) < 0.1, `${game.snapshotRateHz()}`);
  for (let tick = 306; tick <= 600; tick += 6) game.onSnapshot(snapshot(tick), tick * 16.667);
  assert.ok(Math.abs(game.snapshotLoss() - 0.25) < 0.01, `${game.snapshotLoss()}`);
});

test('others are interpolated between snapshots, and extrapolated only up to the bound', () => {
  // 10 Hz, 200 ms behind; tick n arrives at n * 100 ms.
  const interp = new Interpolator(10, 200);
  for (const [tick, x] of [[10, 0], [11, 1], [12, 2], [13, 3]]) interp.push(snapshot(tick, [[2, state(x, 5, 10)]]), tick * 100);
  assert.ok(Math.abs(interp.players(1350, 1)[0].pos.x - 1.5) < 1e-3);
  const late = new Interpolator(10, 200);
  for (const [tick, x] of [[10, 0], [11, 1]]) late.push(snapshot(tick, [[2, state(x, 5, 10)]]), tick * 100);
  assert.ok(Math.abs(late.players(1350, 1)[0].pos.x - 1.5) < 1e-3);
  assert.ok(Math.abs(late.players(5000, 1)[0].pos.x - (1 + 10 * MAX_EXTRAPOLATION)) < 1e-3);
  assert.deepEqual(late.players(1300, 2), [], 'the own player is predicted, not interpolated');
});

test('reconciliation replays the inputs the server has not applied', () => {
  const p = new Predictor(arena, 60);
  p.reconcile(state(10), 0);
  const right = (seq) => ({ seq, move_x: 127, move_y: 0, aim: 0, buttons: 0 });
  for (let seq = 1; seq <= 5; seq++) p.applyLocal(right(seq));
  const predicted = p.state;
  const after2 = p.pending[1].predicted;
  // The server agrees on input 2: replaying 3 to 5 from its state gives the same prediction, error 0.
  assert.equal(p.reconcile(after2, 2), 0);
  assert.deepEqual(p.state, predicted);
  assert.equal(p.pending.length, 3);
  // A respawn far away is shown at once.
  p.reconcile(state(50), 5);
  assert.deepEqual(p.displayPos(), { x: 50, y: 5 });
});

test('keys hold directions until released; a diagonal is scaled to unit length', () => {
  const c = new Controls();
  assert.equal(c.keyDown('KeyD'), null);
  c.keyDown('KeyW');
  assert.deepEqual(c.input(), { move_x: 89, move_y: 89, aim: 0, buttons: 0 });
  c.keyDown('ArrowLeft');
  assert.equal(c.input().move_x, -89, 'pressing one direction ends the opposite one');
  c.keyUp('KeyW');
  c.keyUp('ArrowLeft');
  assert.deepEqual([c.input().move_x, c.input().move_y], [0, 0]);
  assert.equal(c.keyDown('Enter'), 'chat');
  c.keyDown('Space');
  c.aimAt({ x: 0, y: 0 }, { x: 0, y: 3 });
  assert.deepEqual(c.input(), { move_x: 0, move_y: 0, aim: Math.fround(Math.PI / 2), buttons: 1 });
});
