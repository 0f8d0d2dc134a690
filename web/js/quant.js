// Quantization (shared/src/quant.rs): the precision each field crosses the network with, and the grid the
// server snaps its state to every tick, so the prediction replays from exactly the server's numbers. All in
// f32 as the Rust computes it (Math.fround after every operation).
//
// position and velocity: 1/64 unit; aim: 1/4096 turn; timers (cooldown, respawn): 1/240 s.

const f = Math.fround;

export const POS_SCALE = 64;
export const VEL_SCALE = 64;
export const AIM_STEPS = 4096;
export const TIME_SCALE = 240;
export const TAU = f(2 * Math.PI);

/** f32::rem_euclid. */
export function remEuclid(a, b) {
  const r = f(a % b);
  return r < 0 ? f(r + Math.abs(b)) : r;
}

/** f32::round: half away from zero (adding a half is exact for every f32). */
function round(v) {
  return v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5);
}

/** An `as` cast from f32 to an integer type: truncated and saturating; NaN and -0 become 0, as in Rust. */
function cast(v, min, max) {
  return Math.min(Math.max(Math.trunc(v) || 0, min), max);
}

export const q = (v, scale) => cast(round(f(v * scale)), -(2 ** 31), 2 ** 31 - 1);
export const dq = (v, scale) => f(f(v) / scale);
export const qAim = (a) => cast(round(f(f(remEuclid(a, TAU) / TAU) * AIM_STEPS)), 0, 2 ** 32 - 1) % AIM_STEPS;
export const dqAim = (a) => f(a * f(TAU / AIM_STEPS));
export const qTime = (t) => cast(Math.min(round(f(Math.max(t, 0) * TIME_SCALE)), 65535), 0, 65535);
export const dqTime = (t) => f(t / TIME_SCALE);

/** A player's state moved onto the wire grid (what a client decodes, exactly), as the server does every tick. */
export function snapPlayer(s) {
  const snap = (v, scale) => dq(q(v, scale), scale);
  return {
    pos: { x: snap(s.pos.x, POS_SCALE), y: snap(s.pos.y, POS_SCALE) },
    vel: { x: snap(s.vel.x, VEL_SCALE), y: snap(s.vel.y, VEL_SCALE) },
    aim: dqAim(qAim(s.aim)),
    health: s.health,
    fire_cooldown: dqTime(qTime(s.fire_cooldown)),
    respawn_in: dqTime(qTime(s.respawn_in)),
  };
}
