// The movement rules of shared/src/rules.rs, ported for prediction: a player's step under an input (aim,
// accelerate, move with wall and bound collisions, cool the weapon, fire). The Rust computes in f32, so
// every operation here is rounded to f32 (Math.fround) in the Rust's order: both ends then agree bit for
// bit, which the shared test vectors check. The muzzle's direction is cos and sin in f64 rounded to f32,
// which the vectors' shots are chosen to agree with; the server flies the projectiles.

import { TAU, remEuclid } from './quant.js';

const f = Math.fround;

export const PLAYER_RADIUS = 0.5;
export const MAX_SPEED = 8;
export const ACCELERATION = 60;
export const MAX_HEALTH = 100;
export const MAX_SUBSTEP = 0.25;
export const MAX_SUBSTEPS = 64;
/** The blaster, the weapon every player carries (shared/src/rules/weapons.rs). */
export const BLASTER = { speed: 24, damage: 25, cooldown: f(0.25), lifetime: 1.5, radius: f(0.15) };
export const FIRE = 1;
/** How far from the player's centre a shot leaves. */
const MUZZLE = f(f(PLAYER_RADIUS + BLASTER.radius) + f(0.05));
const TINY = f(1e-12);

const lengthSquared = (x, y) => f(f(x * x) + f(y * y));

/** `[x, y]` scaled down to `max` length if longer (Vec2::clamp_length). */
function clampLength(x, y, max) {
  const len = f(Math.sqrt(lengthSquared(x, y)));
  if (len > max && len > 0) {
    const s = f(max / len);
    return [f(x * s), f(y * s)];
  }
  return [x, y];
}

/** Input::move_dir: the movement direction, at most one unit long whatever was sent. */
export function moveDir(input) {
  const axis = (v) => f(Math.max(v, -127) / 127);
  return clampLength(axis(input.move_x), axis(input.move_y), 1);
}

function substeps(distance) {
  // `as u32` saturates (NaN gives 0); the clamp then keeps 1 to MAX_SUBSTEPS.
  return Math.min(Math.max(Math.ceil(f(distance / MAX_SUBSTEP)) || 0, 1), MAX_SUBSTEPS);
}

function clampToBounds(p, radius, arena) {
  if (p.x < radius) {
    p.x = radius;
    p.vx = Math.max(p.vx, 0);
  } else if (p.x > f(arena.width - radius)) {
    p.x = f(arena.width - radius);
    p.vx = Math.min(p.vx, 0);
  }
  if (p.y < radius) {
    p.y = radius;
    p.vy = Math.max(p.vy, 0);
  } else if (p.y > f(arena.height - radius)) {
    p.y = f(arena.height - radius);
    p.vy = Math.min(p.vy, 0);
  }
}

/** Pushes the circle at `p` out of one wall, taking away the velocity into it (one pass of move_circle). */
function pushOut(p, wall, radius) {
  const cx = Math.min(Math.max(p.x, wall.min.x), wall.max.x);
  const cy = Math.min(Math.max(p.y, wall.min.y), wall.max.y);
  const ax = f(p.x - cx);
  const ay = f(p.y - cy);
  const d2 = lengthSquared(ax, ay);
  if (d2 >= f(radius * radius)) return;
  let nx;
  let ny;
  if (d2 > TINY) {
    const inv = f(1 / f(Math.sqrt(d2)));
    [nx, ny] = [f(ax * inv), f(ay * inv)];
    p.x = f(cx + f(nx * radius));
    p.y = f(cy + f(ny * radius));
  } else {
    // The centre is inside the wall: leave by the nearest side (the first of equals).
    const sides = [
      [f(p.x - wall.min.x), -1, 0],
      [f(wall.max.x - p.x), 1, 0],
      [f(p.y - wall.min.y), 0, -1],
      [f(wall.max.y - p.y), 0, 1],
    ];
    const [depth, sx, sy] = sides.reduce((a, b) => (b[0] < a[0] ? b : a));
    [nx, ny] = [sx, sy];
    const by = f(depth + radius);
    p.x = f(p.x + f(nx * by));
    p.y = f(p.y + f(ny * by));
  }
  const into = f(f(p.vx * nx) + f(p.vy * ny));
  if (into < 0) {
    p.vx = f(p.vx - f(nx * into));
    p.vy = f(p.vy - f(ny * into));
  }
}

/** Moves the circle at `p` by `(dx, dy)` in substeps, against every wall in order, then the bounds. */
function moveCircle(p, dx, dy, radius, arena) {
  const n = substeps(f(Math.sqrt(lengthSquared(dx, dy))));
  const k = f(1 / f(n));
  const [sx, sy] = [f(dx * k), f(dy * k)];
  for (let i = 0; i < n; i++) {
    p.x = f(p.x + sx);
    p.y = f(p.y + sy);
    for (const wall of arena.walls) pushOut(p, wall, radius);
    clampToBounds(p, radius, arena);
  }
}

/**
 * Advances a living player by `dt` seconds (an f32) under `input`; returns the new state (the old one is
 * untouched) and the shot it fired (`{pos, vel}`, or null). States are serde's PlayerState shape: `{pos,
 * vel, aim, health, fire_cooldown, respawn_in}`. Dead players do not move.
 */
export function stepPlayer(state, input, dt, arena) {
  if (state.health === 0) return { state, shot: null };
  let aim = state.aim;
  if (Number.isFinite(input.aim)) aim = remEuclid(f(input.aim), TAU);
  const [mx, my] = moveDir(input);
  const [wx, wy] = [f(mx * MAX_SPEED), f(my * MAX_SPEED)];
  const [dvx, dvy] = clampLength(f(wx - state.vel.x), f(wy - state.vel.y), f(ACCELERATION * dt));
  const [vx, vy] = clampLength(f(state.vel.x + dvx), f(state.vel.y + dvy), MAX_SPEED);
  const p = { x: state.pos.x, y: state.pos.y, vx, vy };
  moveCircle(p, f(vx * dt), f(vy * dt), PLAYER_RADIUS, arena);
  let cooldown = Math.max(f(state.fire_cooldown - dt), 0);
  let shot = null;
  if ((input.buttons & FIRE) !== 0 && cooldown <= 0) {
    cooldown = BLASTER.cooldown;
    const [dx, dy] = [f(Math.cos(aim)), f(Math.sin(aim))];
    shot = {
      pos: { x: f(p.x + f(dx * MUZZLE)), y: f(p.y + f(dy * MUZZLE)) },
      vel: { x: f(dx * BLASTER.speed), y: f(dy * BLASTER.speed) },
    };
  }
  const next = { ...state, pos: { x: p.x, y: p.y }, vel: { x: p.vx, y: p.vy }, aim, fire_cooldown: cooldown };
  return { state: next, shot };
}
