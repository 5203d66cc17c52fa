// Managed Instances (4.x with AWS_LAMBDA_MAX_CONCURRENCY): the main thread starts worker threads
// (AWS_LAMBDA_NODEJS_WORKER_COUNT, else one per CPU, at least two), each a runtime whose invocations overlap,
// as in the official 4.x client (lib/workers.mjs, index.mjs). End to end against the test
// Runtime API, with the fixtures in fixtures/runtime/mi.
import { test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startFunction, HERE } from './fixtures/runtime/harness.mjs';
import { until } from './helpers/ports.mjs';
import { workerCount } from '../lib/workers.mjs';
import { workerResourceLimits } from '../lib/worker-sizing.mjs';

const MI_ROOT = path.join(HERE, 'mi');
const T = { timeout: 30_000 };

async function start(t, { workers, concurrency = 4, handler = 'index.handler' }) {
  const fn = await startFunction({
    handler,
    taskRoot: MI_ROOT,
    mode: 4,
    env: { AWS_LAMBDA_MAX_CONCURRENCY: String(concurrency), AWS_LAMBDA_NODEJS_WORKER_COUNT: String(workers) },
  });
  t.after(() => fn.close());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapid-mi-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return { fn, dir };
}

const heldGets = (api) => api.requests.filter((r) => r.method === 'GET').length;

test('one worker serves overlapping invocations, each with its own request id in the logs', T, async (t) => {
  const { fn, dir } = await start(t, { workers: 1 });
  const [a, b] = await Promise.all([
    fn.invoke({ id: 'a', waitFor: 'b', dir }, { requestId: 'mi-a' }),
    fn.invoke({ id: 'b', waitFor: 'a', dir }, { requestId: 'mi-b' }),
  ]);
  assert.deepEqual([a.kind, b.kind], ['response', 'response']);
  assert.equal(a.body.overlapped, true, 'a ran while b was running');
  assert.equal(b.body.overlapped, true, 'b ran while a was running');
  assert.equal(a.body.threadId, b.body.threadId, 'in the one worker');
  assert.notEqual(a.body.threadId, 0, 'in a worker thread, not the main thread');
  // JSON records (Managed Instances always log JSON), each tagged with its own invocation.
  await until(() => fn.rt.stdout.includes('"done a"') && fn.rt.stdout.includes('"done b"'), 'the records');
  const records = fn.rt.stdout.trim().split('\n').map((l) => JSON.parse(l));
  for (const [id, requestId] of [['a', 'mi-a'], ['b', 'mi-b']]) {
    for (const what of ['started', 'done']) {
      const rec = records.find((r) => r.message === `${what} ${id}`);
      assert.ok(rec, `a record for "${what} ${id}"`);
      assert.equal(rec.requestId, requestId);
    }
  }
});

test('the main thread starts AWS_LAMBDA_NODEJS_WORKER_COUNT workers; together they run more invocations than workers', T, async (t) => {
  const { fn, dir } = await start(t, { workers: 2, concurrency: 4 });
  await until(() => heldGets(fn.api) === 2, 'two held GETs, one per worker');
  const ids = ['w', 'x', 'y', 'z'];
  // Each waits until all four have started: they answer only if all four ran at once.
  const results = await Promise.all(ids.map((id) =>
    fn.invoke({ id, waitFor: ids.filter((other) => other !== id), dir }, { requestId: `mi-${id}` })));
  for (const r of results) assert.equal(r.body.overlapped, true, `${r.body.id} overlapped`);
  assert.ok(results.every((r) => r.body.threadId !== 0), 'all in worker threads');
});

test('a failing invocation posts its error and the others go on', T, async (t) => {
  const { fn } = await start(t, { workers: 1, handler: 'index.fails' });
  const [e1, e2] = await Promise.all([
    fn.invoke({ id: 'e1' }, { requestId: 'mi-e1' }),
    fn.invoke({ id: 'e2' }, { requestId: 'mi-e2' }),
  ]);
  assert.deepEqual([e1.kind, e2.kind], ['error', 'error']);
  assert.equal(e1.body.errorMessage, 'failed e1');
  assert.equal(e2.body.errorMessage, 'failed e2');
});

test('an uncaught exception ends its worker after its invocation\'s error is posted; the other workers go on', T, async (t) => {
  const { fn } = await start(t, { workers: 2, handler: 'index.crashes' });
  await until(() => heldGets(fn.api) === 2, 'two held GETs, one per worker');
  const crashed = await fn.invoke({ id: 'c1', crash: true }, { requestId: 'mi-c1' });
  assert.equal(crashed.kind, 'error');
  assert.equal(crashed.body.errorMessage, 'crashed in c1');
  await until(() => /Worker \d exit:/.test(fn.rt.stderr), 'the worker\'s end on stderr');
  // As the official main thread reports it: the title, a tab, the error as JSON.
  const [, id, json] = /^Worker (\d) error: \t(\{.*\})$/m.exec(fn.rt.stderr) ?? [];
  assert.ok(json, `a "Worker N error:" line in ${JSON.stringify(fn.rt.stderr)}`);
  assert.deepEqual(
    (({ errorType, errorMessage }) => ({ errorType, errorMessage }))(JSON.parse(json)),
    { errorType: 'Error', errorMessage: 'crashed in c1' },
  );
  assert.match(fn.rt.stderr, new RegExp(`^Worker ${id} exit: \\t\\{"errorType":"Error","errorMessage":"Worker ${id} exited with code 1"`, 'm'));
  const after = await fn.invoke({ id: 'c2' }, { requestId: 'mi-c2' });
  assert.equal(after.kind, 'response', 'the other worker answers');
  assert.equal(after.body.id, 'c2');
});

test('the worker count: AWS_LAMBDA_NODEJS_WORKER_COUNT, else one per CPU of the cgroup quota, at least two', () => {
  assert.equal(workerCount({ AWS_LAMBDA_NODEJS_WORKER_COUNT: '5' }), 5);
  assert.equal(workerCount({ AWS_LAMBDA_NODEJS_WORKER_COUNT: '1' }), 1);
  assert.equal(workerCount({}, () => '400000 100000\n'), 4);
  assert.equal(workerCount({}, () => '250000 100000'), 3, 'a part of a CPU counts as one');
  assert.equal(workerCount({}, () => '100000 100000'), 2, 'never fewer than two');
  assert.equal(workerCount({}, () => { throw new Error('no cgroup'); }), Math.max(2, os.availableParallelism()));
  assert.equal(workerCount({}, () => 'max 100000'), Math.max(2, os.availableParallelism()));
});

test("the workers' young generation: 1 MiB semi-spaces, or what --max-semi-space-size asks for", () => {
  assert.deepEqual(workerResourceLimits([], ''), { maxYoungGenerationSizeMb: 3 });
  assert.deepEqual(workerResourceLimits(['--max-semi-space-size=8'], ''), { maxYoungGenerationSizeMb: 24 });
  assert.deepEqual(workerResourceLimits([], '--max-old-space-size=512 --max-semi-space-size=4'), { maxYoungGenerationSizeMb: 12 });
});


test('V8 flags the runtime was started with that Node refuses in a worker do not stop the workers', T, async (t) => {
  // --optimize-for-size and --max-lazy are V8's: the whole process has them, workers included.
  // Given to a Worker's execArgv, Node throws ERR_WORKER_INVALID_EXEC_ARGV (the official 4.x
  // client's main thread dies of it).
  const fn = await startFunction({
    handler: 'index.handler',
    taskRoot: MI_ROOT,
    mode: 4,
    nodeArgs: ['--optimize-for-size', '--max-lazy'],
    env: { AWS_LAMBDA_MAX_CONCURRENCY: '2', AWS_LAMBDA_NODEJS_WORKER_COUNT: '2', AWS_LAMBDA_RUNTIME_VERBOSE: '1' },
  });
  t.after(() => fn.close());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapid-mi-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const died = fn.rt.exited.then(({ code, stderr }) => { throw new Error(`the runtime ended (${code}):\n${stderr}`); });
  died.catch(() => {}); // after the test, the runtime's end is fn.close()'s
  const r = await Promise.race([fn.invoke({ id: 'flags', dir }, { requestId: 'mi-flags' }), died]);
  assert.equal(r.kind, 'response', fn.rt.stderr);
  assert.notEqual(r.body.threadId, 0, 'served by a worker');
  assert.match(fn.rt.stdout + fn.rt.stderr, /Node refuses --optimize-for-size --max-lazy in a worker/);
});
