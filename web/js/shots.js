// The own shots, predicted (client/src/shots.rs): a shot leaves the muzzle when its input is sent. Once a
// snapshot reports that input applied, it claims our projectile on its line and is drawn in its place (no
// jump back to the interpolated past) until the server's is gone.

import { isOpen } from './arena.js';
import { BLASTER } from './rules.js';

/** Inputs past a shot's after which, still unclaimed, it is taken for one the server never fired. */
export const CLAIM_WITHIN_TICKS = 30;
/** How far (units) a server projectile may lie off a shot's line and still be claimed by it. */
export const CLAIM_DISTANCE = 0.25;

/** How far `p` lies off the line of `shot`; infinity when it flies otherwise or lies behind the muzzle. */
function offLine(shot, p) {
  const speed = Math.hypot(shot.vel.x, shot.vel.y);
  if (!speed || Math.hypot(p.vel.x - shot.vel.x, p.vel.y - shot.vel.y) > 0.5) return Infinity;
  const [dx, dy] = [shot.vel.x / speed, shot.vel.y / speed];
  const along = (p.pos.x - shot.pos.x) * dx + (p.pos.y - shot.pos.y) * dy;
  return along < -CLAIM_DISTANCE ? Infinity : Math.hypot(p.pos.x - shot.pos.x - dx * along, p.pos.y - shot.pos.y - dy * along);
}

export class Shots {
  constructor(arena) {
    this.arena = arena;
    /** `{seq, pos, vel, at, id, over}`: fired by input `seq` at `at` (ms); `id`: the claimed projectile. */
    this.list = [];
    /** Server projectiles claimed so far. */
    this.claims = 0;
  }

  /** Input `seq`, sent at `now` (ms), fired `shot` (`{pos, vel}` at the muzzle, from the prediction). */
  fired(seq, shot, now) {
    this.list.push({ ...shot, seq, at: now, id: null, over: false });
  }

  /** Claims the server's projectiles for the shots `snap` reports applied; forgets the shots that are over. */
  onSnapshot(snap, me) {
    const ours = snap.projectiles.filter((p) => p.owner === me);
    const claimed = new Set(this.list.map((s) => s.id));
    for (const s of this.list.filter((s) => s.id === null && s.seq <= snap.last_input_seq)) {
      const near = ours.filter((p) => !claimed.has(p.id) && offLine(s, p) <= CLAIM_DISTANCE);
      near.sort((a, b) => offLine(s, a) - offLine(s, b));
      if (!near.length) continue;
      claimed.add((s.id = near[0].id));
      this.claims += 1;
    }
    this.list = this.list.filter((s) => (s.id === null
      ? snap.last_input_seq < s.seq + CLAIM_WITHIN_TICKS : ours.some((p) => p.id === s.id)));
  }

  /** Whether the server's projectile `id` is drawn by the prediction instead. */
  draws(id) {
    return this.list.some((s) => s.id === id);
  }

  /** Where the shots in flight are at `now` (ms); one that reached a wall, the edge or its lifetime is over. */
  positions(now) {
    const at = [];
    for (const s of this.list) {
      const t = Math.max(now - s.at, 0) / 1000;
      const p = { x: s.pos.x + s.vel.x * t, y: s.pos.y + s.vel.y * t };
      s.over ||= t >= BLASTER.lifetime || !isOpen(this.arena, p);
      if (!s.over) at.push(p);
    }
    return at;
  }
}
