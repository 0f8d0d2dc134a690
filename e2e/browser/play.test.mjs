// The web client in a real browser: a server and two bots, then headless chromium opens the page, joins,
// sees both bots, moves (the server's position of its player changes), types a chat line that a bot hears,
// and saves a screenshot (ARENA_SCREENSHOT, default /tmp/arena-browser.png). What it measures is printed.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, startBot, startServer, stopAll, until } from './harness.mjs';

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
