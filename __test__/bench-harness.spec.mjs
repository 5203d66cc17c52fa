// The benchmark's own harness: the Rust bench server times real runtimes and refuses wrong
// answers, the events are canonical JSON, and paired ratios pair by round. (The figures
// themselves are `npm run bench`'s business, never a test's.)
import assert from 'node:assert/strict';
import { test } from './helpers/node-test.mjs';
import { candidates } from '../benchmark/lib/candidates.mjs';
import { releaseAddon } from '../benchmark/lib/setup.mjs';
import { closedLoopTrial, coldStart, trial } from '../benchmark/lib/measure.mjs';
import { jsonEvent, SCENARIOS, COLD_START, MANAGED_INSTANCES } from '../benchmark/lib/scenarios.mjs';
import { median, pairedRatio } from '../benchmark/lib/stats.mjs';

const byId = (list, id) => list.find((x) => x.id === id);
// The bench server and the raw loop are in the benchmark's own addon only (benchmark/native).
const addon = releaseAddon({ log: () => {} });
const native = { BenchServer: loadAddon(addon.bench).BenchServer };
const list = candidates({ official: { skip: 'not needed here' }, addon: addon.product, benchAddon: addon.bench });

function loadAddon(file) {
  const module = { exports: {} };
  process.dlopen(module, file);
  return module.exports;
}

test('bench events are canonical JSON of the exact size, so an echo must be byte-identical', () => {
  for (const size of [100, 10 * 1024, 1024 * 1024]) {
    const e = jsonEvent(size);
    assert.equal(e.length, size);
    assert.equal(JSON.stringify(JSON.parse(e.toString())), e.toString());
  }
});

test('paired ratios divide within a round, then take the median', () => {
  assert.equal(median([3, 1, 2]), 2);
  const r = pairedRatio([10, 20, 30, NaN], [20, 20, 60, 5]);
  assert.equal(r.n, 3);
  assert.equal(r.ratio, 0.5);
});

test('a trial of the raw Rust loop measures every invocation, a cold start its first GET', async () => {
  const server = new native.BenchServer();
  try {
    const raw = byId(list, 'raw-rust');
    const m = await trial(server, process.execPath, raw, byId(SCENARIOS, 'echo-100B'), { warm: 5, n: 50 });
    assert.ok(m.rtUs > 0 && m.rtP99Us >= m.rtUs, JSON.stringify(m));
    assert.ok(m.ips > 0 && m.cpuUs > 0 && m.rssMiB > 1, JSON.stringify(m));
    const c = await coldStart(server, process.execPath, raw, COLD_START);
    assert.ok(c.firstGetMs > 0 && c.firstResponseMs >= c.firstGetMs, JSON.stringify(c));
  } finally {
    server.stop();
  }
});

test('a runtime that answers with other bytes than expected fails the trial', async () => {
  const server = new native.BenchServer();
  try {
    // The echo loop answers with the event, not with the object this scenario expects.
    const wrong = { ...byId(SCENARIOS, 'object'), handler: 'echo.handler' };
    await assert.rejects(
      trial(server, process.execPath, byId(list, 'raw-rust'), wrong, { warm: 2, n: 5 }),
      /responses were wrong: response for .*: 100 bytes, expected \d+ bytes/,
    );
  } finally {
    server.stop();
  }
});

test('a runtime that exits fails the trial with its exit status instead of hanging', async () => {
  const server = new native.BenchServer();
  try {
    const dies = { id: 'dies', args: ['-e', 'process.exit(3)'] };
    await assert.rejects(trial(server, process.execPath, dies, byId(SCENARIOS, 'echo-100B'), { warm: 1, n: 1 }),
      /dies: dies exited \(code 3/);
  } finally {
    server.stop();
  }
});

test('a closed-loop trial keeps C invocations outstanding and measures the whole process', async () => {
  const server = new native.BenchServer();
  try {
    const m = await closedLoopTrial(server, process.execPath, byId(list, 'lambda-rapid'), byId(MANAGED_INSTANCES, 'mc-io'),
      { concurrency: 4, warm: 8, n: 20 });
    // Each invocation waits 10 ms: with 4 outstanding, at most ~400 per second.
    assert.ok(m.ips > 0 && m.ips < 500, JSON.stringify(m));
    assert.ok(m.rtUs >= 10_000 && m.rtP99Us >= m.rtUs, JSON.stringify(m));
    assert.ok(m.cpuUs > 0 && m.rssMiB > 1, JSON.stringify(m));
  } finally {
    server.stop();
  }
});

test('a closed-loop answer that is not its own invocation\'s fails the trial', async () => {
  const server = new native.BenchServer();
  try {
    // The raw loop echoes the event ({"id":"ev-n"}) instead of naming its request id.
    await assert.rejects(
      closedLoopTrial(server, process.execPath, byId(list, 'raw-rust'), byId(MANAGED_INSTANCES, 'mc-io'), { concurrency: 2, warm: 4, n: 4 }),
      /answers were not their own invocation's: response for bench-/,
    );
  } finally {
    server.stop();
  }
});
