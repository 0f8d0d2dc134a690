// The browser tests' harness: a real arena-server (web client on a free port), bots from arena-client, and
// Debian's chromium driven by playwright-core. Every process started here is stopped by stopAll().

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const root = new URL('../../', import.meta.url).pathname;
const profile = process.env.ARENA_PROFILE ?? 'debug';
/** The path of a workspace binary (`ARENA_SERVER_BIN` / `ARENA_CLIENT_BIN` override). */
export const bin = (name) => process.env[`ARENA_${name.toUpperCase()}_BIN`] ?? `${root}target/${profile}/arena-${name}`;

const started = [];

/** Starts a process; its stdout lines go to `onLine`. */
function start(path, args, onLine = () => {}) {
  const child = spawn(path, args, { stdio: ['ignore', 'pipe', 'ignore'] });
  started.push(child);
  createInterface({ input: child.stdout }).on('line', onLine);
  return child;
}

/** Starts a server on loopback with the web client on a free port; its game address, hash and web address. */
export function startServer(extra = []) {
  return new Promise((resolve, reject) => {
    const found = {};
    const timer = setTimeout(() => reject(new Error(`the server did not start: ${JSON.stringify(found)}`)), 20_000);
    const args = ['--bind', '127.0.0.1:0', '--ephemeral-cert', '--web-bind', '127.0.0.1:0',
      '--min-players', '1', '--match-secs', '0', '--score-limit', '0', ...extra];
    const child = start(bin('server'), args, (line) => {
      const words = line.split(' ');
      if (line.startsWith('listening on ')) Object.assign(found, { game: words[2], hash: words[4] });
      if (line.startsWith('web client on ')) found.web = words[3];
      if (found.game && found.web) {
        clearTimeout(timer);
        resolve({ ...found, process: child });
      }
    });
    child.on('exit', (code) => reject(new Error(`the server exited (${code}) before it listened`)));
  });
}

/** Starts a bot playing `seconds`; a promise of its JSON report. */
export function startBot(server, name, seconds, seed) {
  let report = '';
  const child = start(bin('client'), ['--server', server.game, '--cert-sha256', server.hash, '--bot',
    '--duration', String(seconds), '--name', name, '--seed', String(seed)], (line) => { report += line; });
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => {
      try {
        if (code !== 0) throw new Error(`bot ${name} exited ${code}`);
        resolve(JSON.parse(report));
      } catch (e) {
        reject(e);
      }
    });
  });
}

/** Starts arena-relay in front of the server's game port (`listen`: 127.0.0.1:0 for a free port); its address. */
export function startRelay(server, listen = '127.0.0.1:0') {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the relay did not start')), 10_000);
    const child = start(bin('relay'), ['--listen', listen, '--to', server.game], (line) => {
      if (!line.startsWith('relaying ')) return;
      clearTimeout(timer);
      resolve({ addr: line.split(' ')[1], process: child });
    });
    child.on('exit', (code) => reject(new Error(`the relay exited (${code}) before it relayed`)));
  });
}

/** Launches headless chromium (WebTransport needs QUIC: no --disable-quic). */
export async function launchBrowser() {
  const browser = await chromium.launch({
    executablePath: process.env.ARENA_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  started.push({ kill: () => browser.close().catch(() => {}) });
  return browser;
}

/** Polls `read` in the page until `ok` holds of its value, for at most `ms`; the value. */
export async function until(page, read, ok, ms, what) {
  const deadline = Date.now() + ms;
  let value;
  while (Date.now() < deadline) {
    value = await page.evaluate(read);
    if (ok(value)) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} within ${ms} ms; last: ${JSON.stringify(value)}`);
}

/** Stops everything started here. */
export function stopAll() {
  for (const child of started.splice(0)) child.kill();
}
