// The test harness itself: what a missing binary, a dead runtime or a hanging test does to a
// run. Each must fail fast, saying what happened, and leave no process or server behind, so
// that `npm test` on a machine without some tool ends with a failure or a skip, never a hang.
import { test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { startRuntimeApi } from './helpers/runtime-api.mjs';
import { spawnRuntime, ROOT } from './helpers/spawn-runtime.mjs';
import { watch, within } from './helpers/child.mjs';
import { serve, failInit } from './fixtures/logging/harness.mjs';
import { RUNNER_FLAGS } from '../scripts/node-tests.mjs';

const MISSING_NODE = path.join(ROOT, '.cache', 'no-such-dir', 'node');

test('a runtime whose node binary is missing has exited at once, with the spawn error', { timeout: 10000 }, async () => {
  const api = await startRuntimeApi();
  try {
    const rt = spawnRuntime({ endpoint: api.endpoint, handler: 'x.handler', node: MISSING_NODE });
    const exit = await rt.exited;
    assert.equal(exit.code, null);
    assert.equal(exit.error.code, 'ENOENT');
    assert.match(rt.stderr, /cannot spawn .*no-such-dir\/node: spawn .* ENOENT/);
    await rt.closed;
    await rt.kill(); // nothing to kill: resolves all the same
  } finally {
    await api.close();
  }
});

test('serving invocations with a missing node binary fails in seconds and closes the Runtime API', { timeout: 10000 }, async () => {
  await assert.rejects(
    serve({ handler: 'records.levels', node: MISSING_NODE, events: [{}] }),
    /runtime exited early:[\s\S]*ENOENT/,
  );
  await assert.rejects(
    failInit({ handler: 'records.levels', node: MISSING_NODE }),
    /runtime ended without posting an init error:[\s\S]*ENOENT/,
  );
});

test('a wait on the Runtime API for a runtime that never comes rejects, naming what did not arrive', { timeout: 10000 }, async () => {
  const api = await startRuntimeApi({ waitMs: 200 });
  try {
    await assert.rejects(api.invoke({}, { requestId: 'never-served' }), /no response or error posted for request never-served within 200 ms/);
    await assert.rejects(api.initError(), /no init error posted within 200 ms/);
    await assert.rejects(api.waitForRequest((r) => r.method === 'GET'), /no request matching .* arrived within 200 ms/);
  } finally {
    await api.close();
  }
});

test('within() rejects on time and clears its timer when the promise wins', { timeout: 10000 }, async () => {
  await assert.rejects(within(new Promise(() => {}), 50, 'nothing'), /nothing: no answer within 50 ms/);
  assert.equal(await within(Promise.resolve(7), 50, 'seven'), 7);
});

test('a test that hangs fails by name under npm test\'s runner flags, and its file still ends', { timeout: 60000 }, async () => {
  const hangs = path.join('__test__', 'fixtures', 'harness', 'hangs.mjs');
  const child = spawn(process.execPath, [...RUNNER_FLAGS, '--test-reporter=tap', hangs], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    // Without the runner's marker the child runs as a top-level `node --test`, not as a subtest.
    env: { ...process.env, NODE_TEST_CONTEXT: undefined, LAMBDA_RAPID_TEST_TIMEOUT_MS: '1000' },
  });
  const watched = watch(child);
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  try {
    const { code } = await within(watched.closed, 30000, 'the hanging spec');
    assert.equal(code, 1, out);
    assert.match(out, /not ok \d+ - waits for an answer that never comes/);
    assert.match(out, /test timed out after 1000ms/);
    assert.match(out, /^ok \d+ - passes before the hang/m);
  } finally {
    await watched.kill();
  }
});
