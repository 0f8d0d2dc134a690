// The page: boots the lobby, starts the network worker (net.js), keeps the Game from what it reports,
// turns keys and the mouse into controls, draws each animation frame, and exposes `window.arenaClient`
// for tests and tools. Query parameters `?name=NAME&join=quick|create|private|CODE` join without a click.

import { Controls } from './controls.js';
import { Game } from './game.js';
import * as hud from './hud.js';
import * as lobby from './lobby.js';
import { CloseCode, MAX_CHAT_CHARS } from './protocol.js';
import { cameraFor, draw } from './render.js';
import { variant } from './codec.js';

/** How long a lost session is tried again (the server's default grace window), and how often, ms. */
const RESUME_FOR_MS = 10000;
const RESUME_RETRY_MS = 300;
/** Close codes after which a session is not resumed: it ended on purpose. */
const FINAL_CODES = [CloseCode.LEFT, CloseCode.SHUTTING_DOWN, CloseCode.KICKED, CloseCode.REJECTED,
  CloseCode.PROTOCOL_VIOLATION, CloseCode.ROOM_FAILED];

const now = () => performance.timeOrigin + performance.now();
const el = (id) => document.getElementById(id);
const canvas = el('arena');
const chatInput = el('chat-input');
const worker = new Worker(new URL('./net.js', import.meta.url), { type: 'module' });
const controls = new Controls();

/** Everything the page holds between sessions. */
const page = {
  phase: 'lobby', // lobby, connecting, playing, resuming, closed
  game: null,
  welcome: null,
  name: '',
  closeReason: null,
  kicked: null,
  resumeUntil: 0,
  seen: [],
  snapshotsReceived: 0,
  lastChat: null,
  stats: { inputsSent: 0, datagramsReceived: 0, badDatagrams: 0, rttMs: null, inputToSnapshotMs: null, timeSync: null },
  ui: { name: '', scoreboard: false, fps: 0, rttMs: null, shownFeed: null, shownChat: null },
  sentControls: '',
  mouse: null,
};

/** Where the page's server is: its connect.json, read before every connection (a restart may change it). */
async function endpoint() {
  const response = await fetch('/connect.json', { cache: 'no-store' });
  if (!response.ok) throw new Error(`/connect.json: ${response.status}`);
  const c = await response.json();
  return { url: `https://${c.host ?? location.hostname}:${c.port}${c.path}`, hashes: c.certificate_hashes ?? [] };
}

async function join(name, request, resume = null) {
  page.phase = resume ? 'resuming' : 'connecting';
  page.name = name;
  el('name').value = name;
  page.kicked = null;
  if (!resume) lobby.show(true, 'connecting…');
  try {
    worker.postMessage({ type: 'join', ...(await endpoint()), name, room: request, resume });
  } catch (e) {
    ended(`cannot reach the server: ${e.message}`, null);
  }
}

async function refreshRooms() {
  try {
    worker.postMessage({ type: 'rooms', ...(await endpoint()) });
  } catch (e) {
    lobby.showRooms(null, e.message);
  }
}

function welcomed(welcome, at) {
  const old = page.game;
  page.game = new Game(welcome, at);
  if (page.phase === 'resuming') {
    // A resumed session keeps what was said.
    page.game.chat = old.chat;
    page.game.killFeed = old.killFeed;
  }
  page.welcome = welcome;
  page.phase = 'playing';
  page.closeReason = null;
  page.ui.name = page.name;
  page.ui.shownChat = page.ui.shownFeed = null;
  page.sentControls = ''; // the new session's worker has none yet
  syncControls();
  lobby.show(false);
  el('game').hidden = false;
  chatInput.blur();
  canvas.focus();
}

/**
 * A session, or an attempt, ended: resumed when it may be, else the lobby says why. A browser is not told
 * the close code when the server's connection goes at once, so a session the server said it was closing
 * (Closing) or kicked (Kick) ends there too.
 */
function ended(reason, code) {
  const closing = page.welcome !== null && page.game.closingAt !== null;
  const why = page.kicked ? `kicked: ${page.kicked}` : closing ? `the server shut down (${reason})` : reason;
  page.closeReason = why;
  const mayResume = page.welcome && !page.kicked && !closing && !FINAL_CODES.includes(code)
    && (page.phase === 'playing' || page.phase === 'resuming');
  if (mayResume) {
    if (page.phase === 'playing') {
      page.resumeUntil = now() + RESUME_FOR_MS;
      page.game.chatLine('*', `connection lost (${why}); reconnecting…`);
    }
    if (now() < page.resumeUntil) {
      page.phase = 'resuming';
      const request = { Code: page.welcome.room };
      setTimeout(() => join(page.name, request, page.welcome.session_token), RESUME_RETRY_MS);
      return;
    }
  }
  page.phase = 'closed';
  page.welcome = null;
  el('game').hidden = page.game === null;
  lobby.show(true, why);
  refreshRooms();
}

worker.onmessage = ({ data }) => {
  switch (data.type) {
    case 'welcome':
      welcomed(data.welcome, data.at);
      break;
    case 'rejected':
      ended(lobby.rejectText(data.reason), CloseCode.REJECTED);
      break;
    case 'frame': {
      const [kind, body] = variant(data.frame);
      if (kind === 'Kick') page.kicked = body.reason;
      if (kind === 'PlayerJoined' && !page.seen.includes(body.name)) page.seen.push(body.name);
      page.game?.onFrame(data.frame, data.at);
      if (kind === 'Chat' || kind === 'Notice') page.lastChat = page.game.chat[page.game.chat.length - 1];
      break;
    }
    case 'snapshot':
      page.snapshotsReceived += 1;
      page.stats = data.stats;
      page.game?.onSnapshot(data.snapshot, data.at);
      break;
    case 'input':
      page.game?.onInputSent(data.input, data.at);
      break;
    case 'rooms':
      lobby.showRooms(data.rooms, data.error);
      break;
    case 'closed':
      ended(data.reason, data.code);
      break;
    default:
      break;
  }
};

/** Hands the controls to the worker when they changed: at once on keys and mouse, and every frame (aim). */
function syncControls() {
  const input = controls.input();
  const key = JSON.stringify(input);
  if (key !== page.sentControls) {
    worker.postMessage({ type: 'controls', controls: input });
    page.sentControls = key;
  }
}

/** Sends a chat line; false when there is no session or nothing to say. */
function sendChat(text) {
  const line = String(text).trim().slice(0, MAX_CHAT_CHARS);
  if (page.phase !== 'playing' || !line) return false;
  worker.postMessage({ type: 'chat', text: line });
  return true;
}

function openChat() {
  controls.releaseAll();
  el('chat-entry').hidden = false;
  chatInput.focus();
}

function closeChat() {
  chatInput.value = '';
  el('chat-entry').hidden = true;
  chatInput.blur();
  canvas.focus();
}

addEventListener('keydown', (e) => {
  if (page.phase !== 'playing' && page.phase !== 'resuming') return;
  if (e.target === chatInput) {
    if (e.code === 'Enter') {
      sendChat(chatInput.value);
      closeChat();
    } else if (e.code === 'Escape') closeChat();
    return;
  }
  if (e.target instanceof HTMLInputElement || !Controls.steers(e.code)) return;
  e.preventDefault();
  if (e.repeat) return;
  const action = controls.keyDown(e.code);
  if (action === 'chat') openChat();
  if (action === 'scoreboard') page.ui.scoreboard = !page.ui.scoreboard;
  syncControls();
});
addEventListener('keyup', (e) => {
  controls.keyUp(e.code);
  syncControls();
});
chatInput.addEventListener('blur', () => { el('chat-entry').hidden = true; });
addEventListener('blur', () => {
  controls.releaseAll();
  syncControls();
});
canvas.addEventListener('mousemove', (e) => { page.mouse = { x: e.offsetX, y: e.offsetY }; });
canvas.addEventListener('mousedown', (e) => {
  if (e.button === 0) controls.mouseFire = true;
  syncControls();
  canvas.focus();
});
addEventListener('mouseup', (e) => {
  if (e.button === 0) controls.mouseFire = false;
  syncControls();
});
canvas.addEventListener('contextmenu', (e) => e.preventDefault());

let lastFrame = now();
let frames = { since: lastFrame, count: 0 };

/** One animation frame: aim at the mouse, hand the controls on, draw. */
function frame() {
  requestAnimationFrame(frame);
  const game = page.game;
  const t = now();
  if (!game || el('game').hidden) return;
  if (canvas.width !== canvas.clientWidth || canvas.height !== canvas.clientHeight) {
    [canvas.width, canvas.height] = [canvas.clientWidth, canvas.clientHeight];
  }
  const me = game.predictor.displayPos();
  if (page.mouse && me) controls.aimAt(me, cameraFor(canvas, game).toWorld(page.mouse.x, page.mouse.y));
  syncControls();
  game.predictor.advanceFrame(t - lastFrame);
  lastFrame = t;
  frames.count += 1;
  if (t - frames.since >= 1000) {
    page.ui.fps = (frames.count * 1000) / (t - frames.since);
    frames = { since: t, count: 0 };
  }
  page.ui.rttMs = page.stats.rttMs;
  draw(canvas, game, t);
  hud.update(game, page.ui, t);
}

window.arenaClient = {
  /** 'lobby', 'connecting', 'playing', 'resuming' or 'closed'. */
  get phase() { return page.phase; },
  get connected() { return page.phase === 'playing'; },
  get playerId() { return page.welcome?.player_id ?? null; },
  get room() { return page.welcome?.room ?? null; },
  get tickRate() { return page.welcome?.tick_rate ?? null; },
  get snapshotRate() { return page.welcome?.snapshot_rate ?? null; },
  /** Names of every player the roster has shown, this page's own included, kept after they leave. */
  get playersSeen() { return [...page.seen]; },
  get snapshotsReceived() { return page.snapshotsReceived; },
  get lastSnapshotTick() { return page.game?.serverTick ?? null; },
  get snapshotRateHz() { return page.game?.snapshotRateHz() ?? 0; },
  get snapshotLoss() { return page.game?.snapshotLoss() ?? 0; },
  /** The last chat line received (a Notice is from "server"): `{from, text}`. */
  get lastChat() { return page.lastChat && { ...page.lastChat }; },
  /** The own player's position in the newest snapshot (the server's word, not the prediction). */
  get position() { const p = page.game?.serverMe?.pos; return p ? { x: p.x, y: p.y } : null; },
  get predictedPosition() { return page.game?.predictor.displayPos() ?? null; },
  get health() { return page.game?.serverMe?.health ?? null; },
  get inputsSent() { return page.stats.inputsSent; },
  get datagramsReceived() { return page.stats.datagramsReceived; },
  get badDatagrams() { return page.stats.badDatagrams; },
  get rttMs() { return page.stats.rttMs; },
  /** Median time from sending an input to the first snapshot that reports it applied, ms. */
  get inputToSnapshotMs() { return page.stats.inputToSnapshotMs; },
  /** The input clock: median margin, target and jitter (ms) and the period's stretch. */
  get timeSync() { return page.stats.timeSync; },
  /** Server projectiles the own predicted shots have claimed (then drawn in their place). */
  get shotsClaimed() { return page.game?.shots.claims ?? 0; },
  /** Prediction errors (units) seen at reconciliation, the newest 1,000. */
  get predictionErrors() { return [...(page.game?.predictionErrors ?? [])]; },
  get closeReason() { return page.closeReason; },
  sendChat,
  /** Joins as `name`; `room` is 'quick', 'create', 'private' or a room code. */
  join(name, room = 'quick') {
    const request = lobby.roomRequest(room);
    if (!request) return false;
    join(name, request);
    return true;
  },
  leave() { worker.postMessage({ type: 'leave' }); },
};

lobby.wire({ join, refresh: refreshRooms });
requestAnimationFrame(frame);
const params = new URLSearchParams(location.search);
if (params.has('join')) {
  join(params.get('name') || 'player', lobby.roomRequest(params.get('join')) ?? lobby.roomRequest('quick'));
} else {
  refreshRooms();
}
