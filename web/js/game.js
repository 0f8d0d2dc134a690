// The page's picture of the game, built from what the server sends (client/src/game.rs): who is here,
// scores, the kill feed, chat, the match, the own character predicted and everyone else interpolated, and
// the figures the HUD and window.arenaClient show. No DOM and no network here.

import { Interpolator } from './interp.js';
import { Predictor } from './predict.js';
import { Shots } from './shots.js';
import { variant } from './codec.js';

export const KILL_FEED_LINES = 5;
export const CHAT_LINES = 200;
/** Snapshot arrivals the measured rate is taken over, ms. */
const RATE_WINDOW_MS = 2000;

export class Game {
  /** `now`: local ms; others are drawn two snapshot intervals back, so one lost snapshot leaves one to draw to. */
  constructor(welcome, now) {
    this.me = welcome.player_id;
    this.arena = welcome.arena;
    this.tickRate = welcome.tick_rate;
    this.snapshotRate = Math.min(Math.max(welcome.snapshot_rate, 1), Math.max(welcome.tick_rate, 1));
    this.room = welcome.room;
    this.names = new Map();
    this.scores = new Map();
    /** The server's newest word on this player (health, respawn timer). */
    this.serverMe = null;
    this.killFeed = [];
    this.chat = [];
    this.predictor = new Predictor(welcome.arena, welcome.tick_rate);
    this.interp = new Interpolator(welcome.tick_rate, 2000 / this.snapshotRate);
    this.serverTick = 0;
    this.firstTick = null;
    this.snapshots = 0;
    this.arrivals = [];
    this.predictionErrors = [];
    /** This player's shots, predicted from the moment they are fired. */
    this.shots = new Shots(welcome.arena);
    this.match = { phase: 'WarmUp', secs_left: 0 };
    this.matchTold = now;
    this.results = null;
    this.closingAt = null;
  }

  name(id) {
    return this.names.get(id) ?? `#${id}`;
  }

  /** Takes a snapshot received at `now`. */
  onSnapshot(snap, now) {
    if (snap.tick <= this.serverTick) return;
    this.serverTick = snap.tick;
    this.firstTick ??= snap.tick;
    this.snapshots += 1;
    this.arrivals.push(now);
    while (now - this.arrivals[0] > RATE_WINDOW_MS) this.arrivals.shift();
    // Players out of view keep their last known score (they leave the table only when they leave).
    for (const p of snap.players) this.scores.set(p.id, [p.kills, p.deaths]);
    const mine = snap.players.find((p) => p.id === this.me);
    if (mine) {
      this.serverMe = mine.state;
      const error = this.predictor.reconcile(mine.state, snap.last_input_seq);
      if (error !== null) {
        if (this.predictionErrors.length === 1000) this.predictionErrors.shift();
        this.predictionErrors.push(error);
      }
    }
    this.shots.onSnapshot(snap, this.me);
    this.interp.push(snap, now);
  }

  /** An input was just sent at `now`: predicted, and the shot it fires shown at once. */
  onInputSent(input, now) {
    const shot = this.predictor.applyLocal(input);
    if (shot) this.shots.fired(input.seq, shot, now);
  }

  /** Takes a control frame (after Welcome) received at `now`. */
  onFrame(frame, now) {
    const [kind, body] = variant(frame);
    switch (kind) {
      case 'PlayerJoined':
        this.names.set(body.id, body.name);
        break;
      case 'PlayerLeft':
        this.names.delete(body.id);
        this.scores.delete(body.id);
        break;
      case 'Killed':
        if (this.killFeed.length === KILL_FEED_LINES) this.killFeed.shift();
        this.killFeed.push({ killer: this.name(body.killer), victim: this.name(body.victim) });
        break;
      case 'Chat':
        this.chatLine(this.name(body.from), body.text);
        break;
      case 'Notice':
        this.chatLine('server', body.text);
        break;
      case 'Match':
        // A new warm-up or match: the server reset every score.
        if (body.phase !== 'Results') for (const id of this.scores.keys()) this.scores.set(id, [0, 0]);
        this.match = body;
        this.matchTold = now;
        break;
      case 'Results':
        this.results = body;
        break;
      case 'Closing':
        this.closingAt = now + body.secs * 1000;
        break;
      default:
        break;
    }
  }

  chatLine(from, text) {
    if (this.chat.length === CHAT_LINES) this.chat.shift();
    this.chat.push({ from, text });
  }

  /** Whole seconds left in the match's phase, counted down from what the server last said. */
  secsLeft(now) {
    return Math.max(this.match.secs_left - Math.floor((now - this.matchTold) / 1000), 0);
  }

  /** The last match's results while the room shows them. */
  resultsShown() {
    return this.match.phase === 'Results' ? this.results : null;
  }

  /** Snapshots per second over the last couple of seconds of arrivals. */
  snapshotRateHz() {
    const n = this.arrivals.length;
    return n < 2 ? 0 : ((n - 1) * 1000) / (this.arrivals[n - 1] - this.arrivals[0]);
  }

  /** Fraction of the snapshots sent since the first one received that never arrived. */
  snapshotLoss() {
    if (this.firstTick === null || this.serverTick <= this.firstTick) return 0;
    const expected = ((this.serverTick - this.firstTick) * this.snapshotRate) / this.tickRate + 1;
    return Math.max(1 - this.snapshots / expected, 0);
  }

  /** Scoreboard rows, best first: most kills, then fewest deaths, then the lowest id. */
  scoreboard() {
    return [...this.names]
      .map(([id, name]) => {
        const [kills, deaths] = this.scores.get(id) ?? [0, 0];
        return { id, name, kills, deaths };
      })
      .sort((a, b) => b.kills - a.kills || a.deaths - b.deaths || a.id - b.id);
  }

  myScore() {
    return this.scores.get(this.me) ?? [0, 0];
  }
}
