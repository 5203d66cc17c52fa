// SnapStart (docs/snapstart.md): with AWS_LAMBDA_INITIALIZATION_TYPE=snap-start the runtime runs
// the before-snapshot hooks (reverse order), GETs /runtime/restore/next, runs the after-restore
// hooks (registration order) and then serves invocations on connections opened after the
// restore. The test Runtime API answers restore/next and at that moment destroys, or black-holes,
// every other connection it holds, as a restore into another microVM leaves them.
import { test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startRuntimeApi } from './helpers/runtime-api.mjs';
import { spawnRuntime, FIXTURES } from './helpers/spawn-runtime.mjs';
import { NODE24 } from './helpers/faults.mjs';

const TASK_ROOT = path.join(FIXTURES, 'snapstart');
const MODES = {
  '3.x': { node: process.execPath, env: { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' }, initExit: 129 },
  '4.x': { node: NODE24, env: { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x' }, initExit: 1 },
};
const SNAP = { AWS_LAMBDA_INITIALIZATION_TYPE: 'snap-start' };
const BEFORE = ['before 2 (global)', 'before 1 (module, async)'];
const AFTER = ['after 1 (module, async)', 'after 2 (global)'];
const restorePath = (what) => `/2018-06-01/runtime/restore/${what}`;

async function start(t, modeName, { env = {}, restore = { pauseMs: 50, drop: 'destroy' } } = {}) {
  const api = await startRuntimeApi({ restore, waitMs: 10_000 });
  const rt = spawnRuntime({
    endpoint: api.endpoint, handler: 'index.handler', taskRoot: TASK_ROOT, node: MODES[modeName].node,
    env: { ...MODES[modeName].env, ...env },
  });
  t.after(async () => {
    await rt.kill();
    await api.close();
  });
  return { api, rt };
}

for (const modeName of Object.keys(MODES)) {
  for (const drop of ['destroy', 'blackhole']) {
    test(`${modeName} mode, snap-start: hooks in order, restore/next, then the first invocation on a new connection (old ones ${drop === 'destroy' ? 'destroyed' : 'black-holed'})`, async (t) => {
      const { api, rt } = await start(t, modeName, { env: SNAP, restore: { pauseMs: 200, drop } });
      await api.waitForRequest((q) => q.path === restorePath('next'));
      const result = await api.invoke({});
      assert.equal(result.kind, 'response', rt.stderr);
      assert.deepEqual(JSON.parse(result.entry.body), { order: [...BEFORE, ...AFTER] });
      assert.ok(api.restoredAtConnection !== null, 'restore/next was answered before the invocation');
      const afterRestore = api.requests.filter((q) => q.path !== restorePath('next'));
      assert.deepEqual(afterRestore.filter((q) => q.stale), [], 'nothing sent on a connection from before the restore');
      for (const q of afterRestore) {
        assert.ok(q.connection >= api.restoredAtConnection, `${q.method} ${q.path} on connection ${q.connection}, opened before the restore`);
      }
      // Exactly one GET next before the answer: it did not fail on a dead socket and come back.
      assert.deepEqual(afterRestore.map((q) => `${q.method} ${q.path.split('/').at(-1)}`).slice(0, 2), ['GET next', 'POST response']);
      // The connection the runtime uses from then on serves the next invocation too.
      assert.equal((await api.invoke({})).kind, 'response');
    });
  }

  // (Whether they were loaded is read from process.moduleLoadList; snapstart-uniqueness.spec.mjs
  // shows what the refill does.)
  test(`${modeName} mode, snap-start: the restore refills node:crypto's caches when the function used them`, async (t) => {
    const { api, rt } = await start(t, modeName, { env: { ...SNAP, SNAP_UUID: '1', AWS_LAMBDA_RUNTIME_VERBOSE: '1' } });
    assert.equal((await api.invoke({})).kind, 'response');
    const renewed = /restored; renewed: ([^\n]*)/.exec(rt.stdout)?.[1];
    assert.equal(renewed, 'crypto.randomUUID cache, crypto.randomInt cache', rt.stdout);
  });

  test(`${modeName} mode, snap-start against a Runtime API without restore endpoints (404): logged, then served as restored at once`, async (t) => {
    const { api, rt } = await start(t, modeName, { env: SNAP, restore: null });
    const result = await api.invoke({});
    assert.equal(result.kind, 'response');
    assert.deepEqual(JSON.parse(result.entry.body), { order: [...BEFORE, ...AFTER] });
    assert.match(`${rt.stdout}${rt.stderr}`, /has no \/runtime\/restore\/next \(404\)/);
  });

  test(`${modeName} mode, snap-start: a restore/next answered 500 ends the process as a failed GET next does`, async (t) => {
    const { api, rt } = await start(t, modeName, { env: SNAP, restore: { status: 500 } });
    const { code } = await rt.exited;
    assert.equal(code, modeName === '3.x' ? 129 : 1);
    assert.match(`${rt.stdout}${rt.stderr}`, /restore\/next answered 500/);
    assert.deepEqual(api.requests.filter((q) => q.path.endsWith('/invocation/next')), []);
  });

  test(`${modeName} mode, on-demand: hooks registered, never called, no restore call`, async (t) => {
    const { api } = await start(t, modeName);
    const result = await api.invoke({});
    assert.deepEqual(JSON.parse(result.entry.body), { order: [] });
    assert.deepEqual(api.requests.filter((q) => q.path.includes('/restore/')), []);
  });

  test(`${modeName} mode, snap-start: a failing before-snapshot hook is an init error (Runtime.BeforeSnapshotError), no restore call`, async (t) => {
    const { api, rt } = await start(t, modeName, { env: { ...SNAP, SNAP_FAIL: 'before' } });
    const posted = await api.initError();
    assert.equal(posted.headers['lambda-runtime-function-error-type'], 'Runtime.BeforeSnapshotError');
    const body = JSON.parse(posted.body);
    assert.equal(body.errorType, 'TypeError');
    assert.equal(body.errorMessage, 'cannot flush the cache');
    const { code } = await rt.exited;
    assert.equal(code, MODES[modeName].initExit);
    assert.deepEqual(api.requests.filter((q) => q.path.includes('/restore/')), []);
  });

  test(`${modeName} mode, snap-start: a failing after-restore hook is posted to /runtime/restore/error (Runtime.AfterRestoreError) and the process exits`, async (t) => {
    const { api, rt } = await start(t, modeName, { env: { ...SNAP, SNAP_FAIL: 'after' } });
    const posted = await api.restoreError();
    assert.equal(posted.method, 'POST');
    assert.equal(posted.headers['lambda-runtime-function-error-type'], 'Runtime.AfterRestoreError');
    const body = JSON.parse(posted.body);
    assert.equal(body.errorType, 'RangeError');
    assert.equal(body.errorMessage, 'cannot reconnect');
    const { code, signal } = await rt.exited;
    assert.equal(signal, null);
    assert.equal(code, MODES[modeName].initExit);
    assert.ok(posted.connection >= api.restoredAtConnection, 'restore/error on a connection opened after the restore');
    assert.deepEqual(api.requests.filter((q) => q.path.endsWith('/invocation/next')), [], 'no GET next');
    assert.doesNotMatch(rt.stderr, /UnhandledPromiseRejection|node:internal/, 'no crash report');
  });
}
