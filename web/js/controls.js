// Keys and mouse to intents (client/src/ui/controls.rs): which directions are held, where the player aims,
// whether it fires. Browsers report key releases, so a key is held exactly from press to release. Pure:
// the page feeds it events, the network worker samples `input()` at each input it sends.

const f = Math.fround;

/** What each key code holds: a direction or the fire button. */
const HOLDS = {
  KeyW: 'up', ArrowUp: 'up',
  KeyS: 'down', ArrowDown: 'down',
  KeyA: 'left', ArrowLeft: 'left',
  KeyD: 'right', ArrowRight: 'right',
  Space: 'fire',
};
const OPPOSITE = { up: 'down', down: 'up', left: 'right', right: 'left' };
/** What a key press asks the page to do besides steering. */
const ACTIONS = { Enter: 'chat', Tab: 'scoreboard' };

export const FIRE = 1;

export class Controls {
  constructor() {
    this.held = new Set();
    this.mouseFire = false;
    /** Aim angle in radians (0 = right, counter-clockwise; world y points up). */
    this.aim = 0;
  }

  /** A key went down; returns the page action it asks for ('chat', 'scoreboard'), if any. */
  keyDown(code) {
    const hold = HOLDS[code];
    if (hold) {
      this.held.add(hold);
      // Pressing one direction ends the opposite one at once.
      this.held.delete(OPPOSITE[hold]);
    }
    return ACTIONS[code] ?? null;
  }

  keyUp(code) {
    this.held.delete(HOLDS[code]);
  }

  /** Whether a key steers or fires (so the page keeps the browser from scrolling with it). */
  static steers(code) {
    return code in HOLDS || code in ACTIONS;
  }

  /** Lets go of everything (the page lost focus, or chat took the keyboard). */
  releaseAll() {
    this.held.clear();
    this.mouseFire = false;
  }

  /** Aims at a world point from the player's position. */
  aimAt(from, to) {
    const [dx, dy] = [to.x - from.x, to.y - from.y];
    if (dx * dx + dy * dy > 1e-6) this.aim = f(Math.atan2(dy, dx));
  }

  /** The input for the next tick (its sequence number is given when it is sent). */
  input() {
    const axis = (neg, pos) => Number(this.held.has(pos)) - Number(this.held.has(neg));
    const [mx, my] = [axis('left', 'right'), axis('down', 'up')];
    // A diagonal is scaled to unit length (89/127 per axis): the server counts longer requests as cheats.
    const full = mx !== 0 && my !== 0 ? 89 : 127;
    const fire = this.held.has('fire') || this.mouseFire;
    return { move_x: mx * full, move_y: my * full, aim: this.aim, buttons: fire ? FIRE : 0 };
  }
}
