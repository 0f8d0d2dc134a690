// The web client in a real browser: a server and two bots, then headless chromium opens the page, joins,
// sees both bots, moves (the server's position of its player changes), types a chat line that a bot hears,
// fires (its predicted shot claims the server's projectile), and saves a screenshot (ARENA_SCREENSHOT, default /tmp/arena-browser.png). What it measures is printed.
// Then a page that reaches the server through arena-relay loses its connection (the relay killed) and takes
// its player back with the session token once the relay is back on the same port.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, startBot, startRelay, startServer, stopAll, until } from './harness.mjs';

after(stopAll);

const BOT_SECONDS = 20;
const LINE = 'hello from chromium';

test('a page joins, sees the bots, moves and chats', { timeout: 90_000 }, async () => {
  const server = await startServer();
  const reports = [startBot(server, 'ann', BOT_SECONDS, 1), startBot(server, 'bob', BOT_SECONDS, 2)];
  const browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));

  await page.goto(`http://${server.web}/?join=quick&name=chromium`);
  const me = await until(page, () => window.arenaClient.playerId, (id) => id !== null, 15_000, 'no Welcome');
  await until(page, () => window.arenaClient.playersSeen, (seen) => seen.includes('ann') && seen.includes('bob'),
    10_000, 'the bots were not seen');
  const first = await page.evaluate(() => window.arenaClient.snapshotsReceived);
  await page.waitForTimeout(1_000);
  const second = await page.evaluate(() => window.arenaClient.snapshotsReceived);
  assert.ok(second - first >= 30, `snapshots keep coming: ${second - first} in 1 s`);

  // Move: hold D, then A; the server's position of the page's player changes (a respawn would too, so
  // the check is that it moved the way the key says, once of three tries).
  await page.locator('#arena').focus();
  let moved = false;
  for (let attempt = 0; attempt < 3 && !moved; attempt++) {
    for (const [key, sign] of [['d', 1], ['a', -1]]) {
      const before = await page.evaluate(() => window.arenaClient.position);
      await page.keyboard.down(key);
      await page.waitForTimeout(700);
      await page.keyboard.up(key);
      await page.waitForTimeout(200);
      const later = await page.evaluate(() => window.arenaClient.position);
      if (before && later && sign * (later.x - before.x) > 1) moved = true;
    }
  }
  assert.ok(moved, 'the player moved with the keys');

  // Chat, typed as a player does: Enter, the line, Enter.
  await page.keyboard.press('Enter');
  await page.keyboard.type(LINE);
  await page.keyboard.press('Enter');
  await until(page, () => window.arenaClient.lastChat, (c) => c?.text === LINE, 3_000, 'the line did not come back');

  // Fire (Space, held a while in case the player is down): the shot is predicted, then claims the server's
  // projectile, which the page then draws as its prediction.
  await page.locator('#arena').focus();
  await page.keyboard.down(' ');
  await until(page, () => window.arenaClient.shotsClaimed, (n) => n >= 1, 5_000, 'no shot claimed its projectile');
  await page.keyboard.up(' ');

  const stats = await page.evaluate(() => ({
    snapshotRateHz: window.arenaClient.snapshotRateHz,
    inputToSnapshotMs: window.arenaClient.inputToSnapshotMs,
    timeSync: window.arenaClient.timeSync,
  }));
  console.log(`page ${me}: ${JSON.stringify(stats)}`);
  await page.screenshot({ path: process.env.ARENA_SCREENSHOT ?? '/tmp/arena-browser.png' });

  const heard = await Promise.all(reports);
  assert.ok(heard.some((r) => r.chat_heard.includes(LINE)), `a bot heard the page: ${JSON.stringify(heard)}`);
  assert.deepEqual(errors, [], 'no script errors');
});

test('a page that loses its connection resumes as the same player', { timeout: 90_000 }, async () => {
  // A grace window longer than the page's own (10 s): the server may hold the player until its idle timeout.
  const server = await startServer(['--resume-grace-secs', '30']);
  let relay = await startRelay(server);
  const browser = await launchBrowser();
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // The page asks /connect.json where the game is before every connection: it is told the relay's port.
  await page.route('**/connect.json', async (route) => {
    const response = await route.fetch();
    const json = { ...(await response.json()), port: Number(relay.addr.split(':').pop()) };
    await route.fulfill({ response, json });
  });

  await page.goto(`http://${server.web}/?join=quick&name=chromium`);
  const me = await until(page, () => window.arenaClient.playerId, (id) => id !== null, 15_000, 'no Welcome');
  const room = await page.evaluate(() => window.arenaClient.room);
  await until(page, () => window.arenaClient.snapshotsReceived, (n) => n >= 30, 5_000, 'no snapshots');

  // The link goes: the page notices, says so, and keeps trying.
  relay.process.kill('SIGKILL');
  await until(page, () => window.arenaClient.phase, (p) => p === 'resuming', 30_000, 'the page did not try to resume');
  const lost = await page.evaluate(() => window.arenaClient.closeReason);
  console.log(`page ${me}: lost its connection (${lost}), resuming`);

  // It comes back on the same port: the page resumes its player, not a new one, in the same room.
  relay = await startRelay(server, relay.addr);
  await until(page, () => window.arenaClient.connected, (c) => c, 15_000, 'the page did not resume');
  assert.equal(await page.evaluate(() => window.arenaClient.playerId), me, 'the same player');
  assert.equal(await page.evaluate(() => window.arenaClient.room), room, 'the same room');
  const first = await page.evaluate(() => window.arenaClient.snapshotsReceived);
  await page.waitForTimeout(1_000);
  const second = await page.evaluate(() => window.arenaClient.snapshotsReceived);
  assert.ok(second - first >= 30, `snapshots come again: ${second - first} in 1 s`);
  assert.deepEqual(errors, [], 'no script errors');
});
