// Managed Instances (4.x with AWS_LAMBDA_MAX_CONCURRENCY) when the Runtime API misbehaves:
// a failed GET next is retried in the worker with backoff (100 ms doubling to 90 s, 20
// attempts, as the official 4.0.2 does), a worker that dies is restarted, a POST that fails
// fails only its own invocation, and the process ends (non-zero, with a record) only when the
// environment cannot go on. Against the raw-socket Runtime API (helpers/raw-runtime-api.mjs).
import { test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startRawRuntimeApi } from './helpers/raw-runtime-api.mjs';
import { spawnRuntime, FIXTURES } from './helpers/spawn-runtime.mjs';
import { NODE24 } from './helpers/faults.mjs';
import { backoffDelay, NEXT_RETRY } from '../lib/retry.mjs';
import { restartDelay } from '../lib/workers.mjs';

const MI_ROOT = path.join(FIXTURES, 'runtime', 'mi');
const T = { timeout: 30_000 };

async function start(t, { workers = 1, handler = 'index.handler', env = {} } = {}) {
  const api = await startRawRuntimeApi();
  const rt = spawnRuntime({
    node: NODE24, // the 4.x client runs Managed Instances: Node 24 when there is one
    endpoint: api.endpoint,
    handler,
    taskRoot: MI_ROOT,
    env: {
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
      AWS_LAMBDA_MAX_CONCURRENCY: '4',
      AWS_LAMBDA_NODEJS_WORKER_COUNT: String(workers),
      ...env,
    },
  });
  rt.child.on('error', () => {});
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapid-mi-rec-'));
  t.after(async () => {
    await rt.kill();
    await api.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  // Fails at once, with what the runtime printed, if the process ends while a test waits.
  const alive = (promise) => Promise.race([
    promise,
    rt.exited.then(({ code, signal }) => {
      throw new Error(`the runtime ended (code ${code}, signal ${signal}):\n${rt.stdout}\n${rt.stderr}`);
    }),
  ]);
  // An invocation of the probe handler (fixtures/runtime/mi) with this test's folder.
  const event = (id, extra = {}) => api.invocation({ id, body: JSON.stringify({ id, dir, ...extra }) });
  return { api, rt, dir, alive, event };
}

test('the backoff: 100 ms doubling to 90 s, 20 attempts in all (the official 4.0.2 schedule)', () => {
  const delays = [];
  for (let failures = 1; backoffDelay(failures) !== null; failures++) delays.push(backoffDelay(failures));
  assert.equal(NEXT_RETRY.attempts, 20);
  assert.equal(delays.length, 19, 'a retry after each of the first 19 failures');
  assert.deepEqual(delays.slice(0, 11), [100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 90000]);
  assert.ok(delays.slice(10).every((d) => d === 90_000));
  assert.equal(backoffDelay(20), null, 'the 20th failure gives up');
  assert.equal(backoffDelay(2, { attempts: 3, initialDelayMs: 10, maxDelayMs: 15 }), 15);
});

test('a worker that keeps dying within a second of its start is restarted after 100 ms doubling to 10 s', () => {
  assert.deepEqual(restartDelay(5_000, 3), { delay: 0, quickDeaths: 0 }, 'after a longer life: at once');
  const delays = [];
  let quickDeaths = 0;
  for (let i = 0; i < 9; i++) ({ delay: delays[i], quickDeaths } = restartDelay(50, quickDeaths));
  assert.deepEqual(delays, [100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000]);
});

test('GET next answered 500 twice: the worker retries with backoff and serves the next event', T, async (t) => {
  const { api, rt, alive, event } = await start(t);
  await alive(api.until(() => api.heldCount === 1, 'the held GET'));
  api.next(api.status(500));
  api.next(api.status(500));
  api.next(event('after-500'));
  await alive(api.waitForPosts(['after-500']));
  assert.deepEqual(api.outcomes(), { 'after-500': ['response'] });
  assert.match(rt.stdout, /Failed to get next invocation \(attempt 1\/20\)\. Retrying in 100ms/);
  assert.match(rt.stdout, /Failed to get next invocation \(attempt 2\/20\)\. Retrying in 200ms/);
  assert.match(rt.stdout, /HTTP 500/);
  assert.equal(rt.child.exitCode, null, 'still running');
});

test('a Runtime API down for 1.5 s and back: the worker reconnects and serves', T, async (t) => {
  const { api, rt, alive, event } = await start(t);
  await alive(api.until(() => api.heldCount === 1, 'the held GET'));
  await api.down();
  await sleep(1500);
  await api.up();
  api.next(event('after-outage'));
  await alive(api.waitForPosts(['after-outage']));
  assert.deepEqual(api.outcomes(), { 'after-outage': ['response'] });
  assert.match(rt.stdout, /Failed to get next invocation \(attempt 1\/20\)/);
  assert.equal(rt.child.exitCode, null, 'still running');
});

test('the Runtime API gone for good: after the last attempt the process exits 1 with a record', T, async (t) => {
  // LAMBDA_RAPID_NEXT_ATTEMPTS shortens the schedule (100 + 200 ms) for the test.
  const { api, rt } = await start(t, { workers: 2, env: { LAMBDA_RAPID_NEXT_ATTEMPTS: '3' } });
  await api.until(() => api.heldCount === 2, 'the held GETs');
  await api.down();
  const { code, signal } = await Promise.race([rt.exited, sleep(10_000).then(() => ({ code: 'still running' }))]);
  assert.equal(signal, null);
  assert.equal(code, 1, `exit code; stderr: ${rt.stderr}`);
  assert.match(rt.stdout, /Failed to get next invocation after 3 attempts\. Giving up\./);
  assert.match(rt.stderr, /Worker \d could not reach the Runtime API at 127\.0\.0\.1:\d+ after 3 attempts: the environment cannot go on/);
});

test('a worker that dies is restarted: with one worker, the invocation after a crash is served', T, async (t) => {
  const { api, rt, alive, event } = await start(t, { handler: 'index.crashes' });
  api.next(api.invocation({ id: 'c1', body: JSON.stringify({ id: 'c1', crash: true }) }));
  await alive(api.waitForPosts(['c1']));
  const before = api.connectionCount;
  await alive(api.until(() => /Worker 0 exit:/.test(rt.stderr), 'the worker\'s end'));
  // The restarted worker's GET, on a connection of its own; the dead worker's is closed.
  await alive(api.until(() => api.heldCount === 1 && api.requests.some((r) => r.method === 'GET' && r.connection >= before),
    'the restarted worker\'s GET'));
  api.next(event('c2'));
  await alive(api.waitForPosts(['c2']));
  assert.deepEqual(api.outcomes(), { c1: ['error'], c2: ['response'] });
  assert.match(rt.stderr, /^Worker 0 restarted \(it ended with code 1\)$/m);
  assert.equal(api.requests.filter((r) => r.post?.kind === 'init/error').length, 0, 'no init/error from the restart');
});

test('every worker failing its init: init/error posted, the process exits 1 with a record', T, async (t) => {
  const { api, rt } = await start(t, { workers: 2, handler: 'index.missing' });
  const { code } = await Promise.race([rt.exited, sleep(10_000).then(() => ({ code: 'still running' }))]);
  assert.equal(code, 1, `exit code; stderr: ${rt.stderr}`);
  assert.ok(api.requests.some((r) => r.post?.kind === 'init/error'), 'init/error posted');
  assert.match(rt.stderr, /No worker is left: every worker failed its initialization/);
});

test('a response POST that fails fails only that invocation; the others in flight in the worker are posted', T, async (t) => {
  const { api, rt, alive, event } = await start(t);
  api.onPost = (post) => (post.id === 'lost' ? 'reset' : undefined);
  // kept-1 and kept-2 run until `release` has started, so they are in flight when `lost` posts.
  api.next(event('kept-1', { waitFor: 'release' }));
  api.next(event('kept-2', { waitFor: 'release' }));
  api.next(event('lost'));
  await alive(api.until(() => api.postsFor('lost').length === 2, 'the POST for lost, sent twice'));
  api.next(event('release'));
  await alive(api.waitForPosts(['kept-1', 'kept-2', 'release']));
  api.next(event('later'));
  await alive(api.waitForPosts(['later']));
  assert.deepEqual(api.outcomes(), {
    'kept-1': ['response'], 'kept-2': ['response'], lost: [], release: ['response'], later: ['response'],
  });
  assert.ok(api.postsFor('lost').every((r) => r.reset), 'both reset');
  assert.match(rt.stdout, /Failed to post invocation response for lost/);
  assert.doesNotMatch(rt.stderr, /Worker \d exit/);
});
