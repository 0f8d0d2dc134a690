// Measures a browser player against native bots in the same run (not a test: figures for
// docs/BENCHMARKS.md): a server (ARENA_PROFILE=release binaries), the page playing in headless chromium, and
// arena-loadtest's bots (--server, so the same server) for 8 s; prints the page's snapshot rate and input →
// snapshot median beside the bots' from the load tool's JSON report.
//   ARENA_PROFILE=release node measure.mjs

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { bin, launchBrowser, startServer, stopAll, until } from './harness.mjs';

const server = await startServer(['--room-size', '16']);
const browser = await launchBrowser();
const page = await browser.newPage();
await page.goto(`http://${server.web}/?join=quick&name=chromium`);
await until(page, () => window.arenaClient.connected, (c) => c, 15_000, 'the page did not join');
const before = await page.evaluate(() => window.arenaClient.snapshotsReceived);
const started = Date.now();
const json = `/tmp/arena-measure-${process.pid}.json`;
const load = spawnSync(bin('loadtest'), ['--bots', '2', '--duration', '8', '--warmup', '2',
  '--server', server.game, '--cert-sha256', server.hash, '--json', json], { encoding: 'utf8' });
if (load.status !== 0) throw new Error(`arena-loadtest failed: ${load.stderr}`);
const seconds = (Date.now() - started) / 1000;
const page_ = await page.evaluate(() => ({
  snapshots: window.arenaClient.snapshotsReceived,
  tickRate: window.arenaClient.tickRate,
  inputToSnapshotMs: window.arenaClient.inputToSnapshotMs,
  timeSync: window.arenaClient.timeSync,
  rttMs: window.arenaClient.rttMs,
}));
const bots = JSON.parse(readFileSync(json, 'utf8'));
const pageRate = (page_.snapshots - before) / seconds;
console.log(JSON.stringify({
  page: { snapshot_rate_hz: +pageRate.toFixed(2), of_tick_rate: +(pageRate / page_.tickRate).toFixed(4),
    input_to_snapshot_p50_ms: page_.inputToSnapshotMs, time_sync: page_.timeSync,
    rtt_ms: page_.rttMs },
  bots: { snapshot_rate_hz: bots.snapshot_rate_hz, input_to_snapshot_p50_ms: bots.input_to_snapshot_us.p50 / 1000,
    input_to_snapshot_p99_ms: bots.input_to_snapshot_us.p99 / 1000 },
  page_minus_bots_p50_ms: +(page_.inputToSnapshotMs - bots.input_to_snapshot_us.p50 / 1000).toFixed(2),
}));
stopAll();
process.exit(0);
