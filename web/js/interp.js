// Interpolation of everything the player does not control (client/src/interp.rs): other players and
// projectiles are drawn between two snapshots a short delay in the past, so they move smoothly although
// snapshots come in steps and with jitter; past the newest snapshot they are extrapolated, up to a bound.
// Times are local milliseconds (performance.now()).

/** Snapshots kept (half a second at 60 Hz). */
export const MAX_BUFFERED = 32;
/** Longest extrapolation past the newest snapshot, seconds. */
export const MAX_EXTRAPOLATION = 0.1;
/** A server clock estimate further than this (seconds) from the current one replaces it at once. */
const CLOCK_RESET = 0.25;

const lerp = (a, b, t) => ({ x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t });
const ahead = (p, v, s) => ({ x: p.x + v.x * s, y: p.y + v.y * s });

export class Interpolator {
  /** `delayMs`: how far behind the newest snapshot others are drawn (two snapshot intervals). */
  constructor(tickRate, delayMs) {
    this.tickSeconds = 1 / Math.max(tickRate, 1);
    this.delay = delayMs / 1000;
    this.snapshots = [];
    /** Estimated server time minus local time, seconds. */
    this.offset = null;
  }

  /** Takes a snapshot received at local time `atMs`; one no newer than the newest is ignored. */
  push(snapshot, atMs) {
    const newest = this.newest();
    if (newest && snapshot.tick <= newest.tick) return;
    const sample = snapshot.tick * this.tickSeconds - atMs / 1000;
    const keep = this.offset !== null && Math.abs(sample - this.offset) < CLOCK_RESET;
    this.offset = keep ? this.offset + (sample - this.offset) * 0.05 : sample;
    if (this.snapshots.length === MAX_BUFFERED) this.snapshots.shift();
    this.snapshots.push(snapshot);
  }

  newest() {
    return this.snapshots[this.snapshots.length - 1] ?? null;
  }

  /**
   * The two snapshots around the render time at `atMs`, how far between them it is (0 to 1), and the
   * seconds past the newest when it is beyond it; null before the first snapshot.
   */
  bracket(atMs) {
    const newest = this.newest();
    if (!newest) return null;
    const t = atMs / 1000 + this.offset - this.delay;
    const time = (s) => s.tick * this.tickSeconds;
    if (t >= time(newest)) return { a: newest, b: newest, f: 1, past: Math.min(t - time(newest), MAX_EXTRAPOLATION) };
    const after = this.snapshots.findIndex((s) => time(s) > t);
    if (after === 0) return { a: this.snapshots[0], b: this.snapshots[0], f: 0, past: 0 };
    const [a, b] = [this.snapshots[after - 1], this.snapshots[after]];
    return { a, b, f: (t - time(a)) / (time(b) - time(a)), past: 0 };
  }

  /** Other living players at `atMs`: `[{id, pos, aim, health}]` (the player `me` is predicted instead). */
  players(atMs, me) {
    const at = this.bracket(atMs);
    if (!at) return [];
    const { a, b, f, past } = at;
    return b.players
      .filter((p) => p.id !== me && p.state.health > 0)
      .map((pb) => {
        const pa = a.players.find((p) => p.id === pb.id);
        const pos = pa && f < 1 ? lerp(pa.state.pos, pb.state.pos, f) : ahead(pb.state.pos, pb.state.vel, past);
        return { id: pb.id, pos, aim: pb.state.aim, health: pb.state.health };
      });
  }

  /** Projectiles at `atMs`: `[{id, owner, pos}]`. */
  projectiles(atMs) {
    const at = this.bracket(atMs);
    if (!at) return [];
    const { a, b, f, past } = at;
    return b.projectiles.map((pb) => {
      const pa = a.projectiles.find((p) => p.id === pb.id);
      return { id: pb.id, owner: pb.owner, pos: pa && f < 1 ? lerp(pa.pos, pb.pos, f) : ahead(pb.pos, pb.vel, past) };
    });
  }
}
