// Prediction and reconciliation of the player's own character (client/src/predict.rs). Each input is
// stepped locally by the ported rules the moment it is sent; when a snapshot says which input the server
// applied last, prediction restarts from the server's state and replays the inputs it has not applied yet.
// A small correction is blended away over SMOOTHING_MS, a large one (a respawn) shown at once.

import { snapPlayer } from './quant.js';
import { stepPlayer } from './rules.js';

/** Inputs kept for replay (about 4 s at 60 Hz); older ones the server has long applied or never will. */
export const MAX_PENDING = 256;
/** Time over which a small correction is blended away (the visual offset falls to 1/e). */
export const SMOOTHING_MS = 100;
/** A correction longer than this (units) is shown at once. */
export const SNAP_DISTANCE = 2;

const distance = (a, b) => Math.hypot(a.x - b.x, a.y - b.y);

export class Predictor {
  constructor(arena, tickRate) {
    this.arena = arena;
    this.dt = Math.fround(1 / Math.max(tickRate, 1));
    this.state = null;
    /** Inputs sent and not yet applied, oldest first, each with the state predicted after it. */
    this.pending = [];
    /** What is drawn minus the predicted position; decays to zero. */
    this.offset = { x: 0, y: 0 };
  }

  /** Where to draw the player: the prediction plus what is left of the last correction. */
  displayPos() {
    return this.state && { x: this.state.pos.x + this.offset.x, y: this.state.pos.y + this.offset.y };
  }

  step(state, input) {
    return snapPlayer(stepPlayer(state, input, this.dt, this.arena).state);
  }

  /** Applies an input the moment it is sent; returns the shot it fires (`{pos, vel}`), if it does. */
  applyLocal(input) {
    if (!this.state) return null;
    const { state, shot } = stepPlayer(this.state, input, this.dt, this.arena);
    this.state = snapPlayer(state);
    if (this.pending.length === MAX_PENDING) this.pending.shift();
    this.pending.push({ input, predicted: this.state });
    return shot;
  }

  /**
   * Takes the server's state of this player after input `lastSeq`; returns the prediction error for that
   * input (units), when its prediction is still known.
   */
  reconcile(server, lastSeq) {
    const shown = this.displayPos();
    let error = null;
    while (this.pending.length && this.pending[0].input.seq <= lastSeq) {
      const { input, predicted } = this.pending.shift();
      if (input.seq === lastSeq) error = distance(predicted.pos, server.pos);
    }
    let state = server;
    for (const entry of this.pending) {
      state = this.step(state, entry.input);
      entry.predicted = state;
    }
    this.state = state;
    const near = shown && distance(shown, state.pos) <= SNAP_DISTANCE;
    this.offset = near ? { x: shown.x - state.pos.x, y: shown.y - state.pos.y } : { x: 0, y: 0 };
    return error;
  }

  /** Blends the visual correction away as frames pass. */
  advanceFrame(ms) {
    const k = Math.exp(-ms / SMOOTHING_MS);
    this.offset = { x: this.offset.x * k, y: this.offset.y * k };
  }
}
