// The page's network side, run in a dedicated worker so that drawing never delays an input: the
// WebTransport session, its one control stream (length-prefixed frames), the datagrams (inputs out, delta
// snapshots in, rebuilt against the view ring) and the input clock, exactly as the native client
// (client/src/session.rs) does them.
//
// The page asks with messages `{type: 'join', url, hashes, name, room, resume}`, `{type: 'rooms', url,
// hashes}`, `{type: 'controls', controls}` (the held move, the aim, the buttons), `{type: 'chat', text}` and
// `{type: 'leave'}`. The worker answers `welcome`, `rejected`, `frame`, `snapshot`, `input` (each input
// as it leaves, for prediction), `rooms` and `closed`. Times are epoch milliseconds (timeOrigin + now),
// the same clock in the page and here.

import {
  CloseCode, FrameSplitter, MARGIN_UNIT_US, MAX_INPUTS_PER_DATAGRAM, PROTOCOL_VERSION, decodeServerDatagram,
  decodeServerFrame,
  encodeDatagram, encodeFrame,
} from './protocol.js';
import { arenaProblem } from './arena.js';
import { CodecError, variant } from './codec.js';
import { InputClock } from './timesync.js';
import { Reassembler, ViewRing } from './views.js';

/** Time allowed for the WebTransport handshake plus the server's first frame, ms. */
export const CONNECT_TIMEOUT_MS = 5000;
/** Inputs whose send time is kept to measure input-to-snapshot latency. */
const SENT_TIMES = 256;
/** Latency and round-trip samples the reported medians are taken over. */
const LATENCY_SAMPLES = 60;

const now = () => performance.timeOrigin + performance.now();
const post = (message) => postMessage(message);

function push(samples, v) {
  if (samples.length === LATENCY_SAMPLES) samples.shift();
  samples.push(v);
}

function median(samples) {
  return samples.length ? [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)] : null;
}

function hexToBytes(hex) {
  return Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
}

/** Opens the session and its control stream, says `first`, and reads the server's first frame. */
async function exchange({ url, hashes }, first) {
  if (typeof WebTransport !== 'function') throw new Error('this browser has no WebTransport');
  // Without hashes the server has a certificate the browser trusts by itself.
  const options = hashes.length
    ? { serverCertificateHashes: hashes.map((h) => ({ algorithm: 'sha-256', value: hexToBytes(h) })) }
    : {};
  const transport = new WebTransport(url, options);
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS);
  });
  try {
    const opened = (async () => {
      await transport.ready;
      const stream = await transport.createBidirectionalStream();
      const writer = stream.writable.getWriter();
      const frames = readFrames(stream.readable.getReader());
      await writer.write(encodeFrame(first));
      const answer = await frames.next();
      if (answer.done) throw new Error('the server closed the stream before answering');
      return { transport, writer, frames, answer: answer.value };
    })();
    opened.catch(() => {}); // after a timeout it fails unheard
    return await Promise.race([opened, timeout]);
  } catch (e) {
    transport.close({ closeCode: CloseCode.LEFT, reason: 'gave up connecting' });
    throw new Error(`cannot connect to ${url}: ${await closeReason(transport, e)}`);
  } finally {
    clearTimeout(timer);
  }
}

/** The server's frames from the control stream; a malformed one throws. */
async function* readFrames(reader) {
  const splitter = new FrameSplitter();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    for (const payload of splitter.push(value)) yield decodeServerFrame(payload);
  }
}

/** Why the transport closed, as readably as it says: the server's reason when it gave one. */
async function closeReason(transport, error) {
  const info = await Promise.race([transport.closed.catch((e) => e), new Promise((r) => setTimeout(r, 200))]);
  if (info && typeof info.reason === 'string' && info.reason) return info.reason;
  return (error && error.message) || (info && info.message) || 'connection failed';
}

/** A welcomed session. */
class Session {
  constructor({ transport, writer, frames }, welcome) {
    this.transport = transport;
    this.writer = writer;
    this.frames = frames;
    this.welcome = welcome;
    this.datagrams = transport.datagrams.writable.getWriter();
    this.clock = new InputClock(welcome.tick_rate, now());
    this.views = new ViewRing(welcome.tick_rate);
    this.reassembler = new Reassembler();
    this.controls = { move_x: 0, move_y: 0, aim: 0, buttons: 0 };
    this.recent = [];
    this.nextSeq = 1;
    this.newestTick = 0;
    this.rtt = 0;
    this.sentAt = new Map();
    this.measuredSeq = 0;
    this.latencies = [];
    this.rtts = [];
    this.stats = { inputsSent: 0, datagramsReceived: 0, badDatagrams: 0 };
    this.over = false;
    /** Re-arms the input timer from a message task (see scheduleInput). */
    this.rearm = new MessageChannel();
    this.rearm.port1.onmessage = () => this.scheduleInput();
  }

  start() {
    this.readControl();
    this.readDatagrams();
    this.scheduleInput();
    this.transport.closed.then(
      (info) => this.end(info.reason || 'connection closed', info.closeCode ?? null),
      (e) => this.end(e.message || 'connection lost', null),
    );
  }

  async readControl() {
    try {
      for await (const frame of this.frames) post({ type: 'frame', frame, at: now() });
    } catch (e) {
      if (this.over) return;
      if (e instanceof CodecError) {
        this.transport.close({ closeCode: CloseCode.PROTOCOL_VIOLATION, reason: 'malformed frame from server' });
        this.end(`malformed frame from the server: ${e.message}`, CloseCode.PROTOCOL_VIOLATION);
      }
    }
  }

  async readDatagrams() {
    const reader = this.transport.datagrams.readable.getReader();
    for (;;) {
      let chunk;
      try {
        chunk = await reader.read();
      } catch {
        return;
      }
      if (chunk.done) return;
      this.stats.datagramsReceived += 1;
      try {
        this.onDatagram(chunk.value);
      } catch {
        this.stats.badDatagrams += 1;
      }
    }
  }

  /** A delta is applied to the view ring, a part to the reassembler; a whole snapshot sets the clock. */
  onDatagram(bytes) {
    const at = now();
    const [kind, body] = variant(decodeServerDatagram(bytes));
    const snapshot = kind === 'Delta' ? this.views.apply(body) : this.reassembler.push(body);
    if (!snapshot) return;
    this.newestTick = Math.max(this.newestTick, snapshot.tick);
    this.clock.onSnapshot(snapshot.tick, at, this.rtt, snapshot.input_margin);
    this.measure(snapshot, at);
    post({ type: 'snapshot', snapshot, at, stats: this.report() });
  }

  /**
   * The first snapshot that reports an input applied gives its input-to-snapshot latency, and that less
   * the time the input waited at the server (its margin) a round trip, as WebTransport's own statistics
   * (getStats) are not in every browser. A low one of the recent ones (the tenth percentile): with fewer
   * snapshots than ticks an input may wait for its snapshot too, but some are applied on a snapshot's own
   * tick; the lowest few are left out, as a margin now and then belongs to another input.
   */
  measure(snapshot, at) {
    const seq = snapshot.last_input_seq;
    if (seq <= this.measuredSeq || !this.sentAt.has(seq)) return;
    this.measuredSeq = seq;
    const latency = at - this.sentAt.get(seq);
    push(this.latencies, latency);
    if (snapshot.input_margin !== null) {
      push(this.rtts, Math.max(latency - (snapshot.input_margin * MARGIN_UNIT_US) / 1000, 0));
      this.rtt = [...this.rtts].sort((a, b) => a - b)[Math.floor(this.rtts.length / 10)];
    }
  }

  report() {
    const rttMs = this.rtts.length ? this.rtt : null;
    return { ...this.stats, rttMs, inputToSnapshotMs: median(this.latencies), timeSync: this.clock.stats() };
  }

  /**
   * Each input leaves when the input clock says, so it reaches the server just ahead of its tick. The timer
   * is set again from a message task, not from its own callback: a timeout set inside a timer's callback
   * nests, and from the fifth level on browsers hold it to at least 4 ms (the HTML timer clamp), so the
   * re-arm for the last fraction of a millisecond fired 3-4 ms late, one input in ten.
   */
  scheduleInput() {
    if (this.over) return;
    setTimeout(() => {
      if (now() >= this.clock.due() - 0.5) this.sendInput();
      this.rearm.port2.postMessage(null);
    }, Math.max(this.clock.due() - now(), 0));
  }

  /** Sends the next input in a datagram that repeats the newest ones and acks the newest snapshot. */
  sendInput() {
    const input = { seq: this.nextSeq++, ...this.controls };
    if (this.recent.length === MAX_INPUTS_PER_DATAGRAM) this.recent.shift();
    this.recent.push(input);
    const bytes = encodeDatagram({ Input: { ack_tick: this.newestTick, inputs: this.recent } });
    const at = now();
    this.clock.sent(at);
    this.datagrams.write(bytes).catch(() => {});
    this.stats.inputsSent += 1;
    this.sentAt.set(input.seq, at);
    this.sentAt.delete(input.seq - SENT_TIMES);
    post({ type: 'input', input, at });
  }

  chat(text) {
    this.writer.write(encodeFrame({ Chat: { text } })).catch(() => {});
  }

  leave() {
    this.transport.close({ closeCode: CloseCode.LEFT, reason: 'client left' });
  }

  /** The session is over: says why once, with the close code when the server gave one. */
  end(reason, code) {
    if (this.over) return;
    this.over = true;
    this.rearm.port1.close();
    post({ type: 'closed', reason, code });
  }
}

let session = null;

async function join(request) {
  // A session replaced says nothing more: the page has moved on.
  if (session) {
    session.over = true;
    session.leave();
  }
  const hello = {
    Hello: { protocol_version: PROTOCOL_VERSION, name: request.name, resume: request.resume, room: request.room },
  };
  let opened;
  try {
    opened = await exchange(request, hello);
  } catch (e) {
    post({ type: 'closed', reason: e.message, code: null });
    return;
  }
  const [kind, body] = variant(opened.answer);
  if (kind !== 'Welcome') {
    opened.transport.close({ closeCode: CloseCode.LEFT, reason: 'refused' });
    if (kind === 'Reject') post({ type: 'rejected', reason: body.reason });
    else post({ type: 'closed', reason: `the server broke the protocol: expected Welcome, got ${kind}`, code: null });
    return;
  }
  const problem = arenaProblem(body.arena);
  if (problem) {
    opened.transport.close({ closeCode: CloseCode.PROTOCOL_VIOLATION, reason: 'bad map from server' });
    post({ type: 'closed', reason: `the server sent a bad map: ${problem}`, code: CloseCode.PROTOCOL_VIOLATION });
    return;
  }
  session = new Session(opened, body);
  post({ type: 'welcome', welcome: body, at: now() });
  session.start();
}

/** Asks for the public rooms without joining: a short session that says ListRooms and leaves. */
async function listRooms(request) {
  try {
    const { transport, answer } = await exchange(request, 'ListRooms');
    transport.close({ closeCode: CloseCode.LEFT, reason: 'looked at the rooms' });
    const [kind, body] = variant(answer);
    if (kind !== 'Rooms') throw new Error(`expected Rooms, got ${kind}`);
    post({ type: 'rooms', rooms: body.rooms });
  } catch (e) {
    post({ type: 'rooms', rooms: null, error: e.message });
  }
}

onmessage = ({ data }) => {
  switch (data.type) {
    case 'join':
      join(data);
      break;
    case 'rooms':
      listRooms(data);
      break;
    case 'controls':
      if (session) session.controls = data.controls;
      break;
    case 'chat':
      session?.chat(data.text);
      break;
    case 'leave':
      session?.leave();
      break;
    default:
      break;
  }
};
