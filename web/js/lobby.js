// The lobby (client/src/ui/lobby.rs and client/src/lobby.rs): a name, then a room: quick join, a room by
// its code, a new public or private room, or one of the server's public rooms from the list (asked for
// without joining). It also says why the last attempt or session ended.

import { variant } from './codec.js';
import { MAX_NAME_CHARS, PROTOCOL_VERSION, parseRoomCode } from './protocol.js';

const PHASES = { WarmUp: 'warm-up', Playing: 'playing', Results: 'results' };
const el = (id) => document.getElementById(id);

/** Why a Hello was refused, in words (shared/src/protocol.rs `RejectReason`'s Display). */
export function rejectText(reason) {
  const [kind, body] = variant(reason);
  return {
    VersionMismatch: () => `protocol version mismatch: server speaks ${body.server}, this client ${PROTOCOL_VERSION}`,
    Full: () => 'server is full',
    BadName: () => `name must be 1 to ${MAX_NAME_CHARS} printable characters`,
    ShuttingDown: () => 'server is shutting down',
    NoSuchRoom: () => 'no room has that code',
    RoomFull: () => 'that room is full',
    TooManyRooms: () => 'the server cannot open another room',
  }[kind]?.() ?? `refused: ${kind}`;
}

/** The RoomRequest a choice names: 'quick', 'create', 'private', or a room code; null for a bad code. */
export function roomRequest(choice) {
  if (choice === 'quick') return { Quick: { mode: 'Deathmatch' } };
  if (choice === 'create' || choice === 'private') {
    return { Create: { mode: 'Deathmatch', private: choice === 'private' } };
  }
  const code = parseRoomCode(choice);
  return code && { Code: code };
}

/** Wires the lobby's controls: `join(name, request)` starts a session, `refresh()` asks for the rooms. */
export function wire({ join, refresh }) {
  const name = el('name');
  name.value = localStorage.getItem('arena-name') ?? '';
  const go = (choice) => {
    const request = roomRequest(choice);
    if (!request) return status('a room code is 5 letters or digits (no 0, 1, I or O)');
    const who = name.value.trim() || 'player';
    localStorage.setItem('arena-name', who);
    join(who, request);
  };
  el('quick').onclick = () => go('quick');
  el('create').onclick = () => go('create');
  el('create-private').onclick = () => go('private');
  el('join-code').onclick = () => go(el('code').value);
  el('refresh').onclick = refresh;
  el('rooms-body').onclick = (e) => {
    const code = e.target.closest('tr')?.dataset.code;
    if (code) go(code);
  };
  el('lobby-form').onsubmit = (e) => {
    e.preventDefault();
    go(el('code').value.trim() ? el('code').value : 'quick');
  };
}

/** Shows the lobby (or hides it), with a line saying what happened. */
export function show(visible, line = '') {
  el('lobby').hidden = !visible;
  status(line);
}

export function status(line) {
  el('status').textContent = line;
}

/** Fills the public rooms' table; `rooms` null when the list could not be had (`error` says why). */
export function showRooms(rooms, error) {
  el('rooms-note').textContent = error
    ? `no room list: ${error}`
    : rooms.length ? `${rooms.length} public rooms: click one to join` : 'no public rooms yet: quick join opens one';
  el('rooms-body').replaceChildren(...(rooms ?? []).map((r) => {
    const tr = document.createElement('tr');
    tr.dataset.code = r.code;
    const left = `${Math.floor(r.state.secs_left / 60)}:${String(r.state.secs_left % 60).padStart(2, '0')}`;
    for (const text of [r.code, r.map, variant(r.mode)[0].toLowerCase(), `${r.players}/${r.capacity}`,
      PHASES[r.state.phase], left]) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
    return tr;
  }));
}
