// Managed Instances (4.x with AWS_LAMBDA_MAX_CONCURRENCY): invocations overlap in a worker, so
// nothing of one may leak into another. Observed with the official aws-lambda-ric 4.0.2 on
// Node 24 (COMPAT_SPEC_ENTRY_4, fixtures/compat/harness.mjs):
// - process.env._X_AMZN_TRACE_ID is never set in this mode (it is shared by every invocation
//   of the worker): the trace id is in context.xRayTraceId and awslambda.InvokeStore only.
// - every console record carries the request id of the invocation that wrote it, and
//   InvokeStore.getRequestId()/getXRayTraceId() answer for the invocation they are called in,
//   across awaits, timers, immediates and nextTicks.
// - InvokeStore.getTenantId() is undefined in 4.0.2 (its runtime never stores the tenant id);
//   we answer the invocation's own tenant id (docs/compatibility.md).
import { test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import { launch, invoke, isOfficial, MODES, waitUntil } from './fixtures/compat/harness.mjs';

const OVERLAPPING = 64;
const trace = (i) => `Root=1-67a0b1c2-${String(i).padStart(24, '0')};Parent=${String(i).padStart(16, '0')};Sampled=1`;

test(`${OVERLAPPING} overlapping invocations: every log record, context and InvokeStore read is its own invocation's`, { skip: MODES[4].skip }, async (t) => {
  const fn = await launch(t, {
    handler: 'overlap.handler',
    version: 4,
    env: { AWS_LAMBDA_MAX_CONCURRENCY: String(OVERLAPPING), AWS_LAMBDA_NODEJS_WORKER_COUNT: '1' },
  });
  const ids = Array.from({ length: OVERLAPPING }, (_, i) => i);
  const results = await Promise.all(ids.map((i) => invoke(fn, { id: `inv-${i}`, expect: OVERLAPPING }, {
    requestId: `req-${i}`,
    headers: {
      'Lambda-Runtime-Trace-Id': trace(i),
      'Lambda-Runtime-Aws-Tenant-Id': `tenant-${i}`,
    },
  })));

  for (const [i, r] of results.entries()) {
    assert.equal(r.kind, 'response', `invocation ${i}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.id, `inv-${i}`);
    assert.equal(r.body.overlapped, true, `invocation ${i} ran while all ${OVERLAPPING} had started`);
    assert.deepEqual(r.body.reads.map((x) => x.where), ['start', 'after-wait', 'after-immediate', 'end']);
    for (const read of r.body.reads) {
      const at = `invocation ${i} at ${read.where}`;
      assert.equal(read.context, `req-${i}`, at);
      assert.equal(read.contextTrace, trace(i), at);
      assert.equal(read.contextTenant, `tenant-${i}`, at);
      assert.equal(read.storeRequestId, `req-${i}`, at);
      assert.equal(read.storeTrace, trace(i), at);
      // 4.0.2 does not store the tenant id; ours is the invocation's own.
      assert.equal(read.storeTenant, isOfficial(4) ? undefined : `tenant-${i}`, at);
      assert.equal(read.traceEnv, null, `${at}: _X_AMZN_TRACE_ID is not set in the shared process.env`);
    }
  }

  // JSON records (always, in this mode), one per read, each with its writer's request id.
  const expected = OVERLAPPING * 4;
  await waitUntil(() => fn.rt.stdout.split('\n').filter((l) => l.includes('inv-')).length >= expected, `${expected} records`);
  const records = fn.rt.stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((r) => /inv-\d+$/.test(r.message));
  assert.equal(records.length, expected);
  for (const record of records) {
    const i = /inv-(\d+)$/.exec(record.message)[1];
    assert.equal(record.requestId, `req-${i}`, `record ${JSON.stringify(record)}`);
  }
});

// A response POST on a worker: 4.0.2 posts synchronously on the worker's JS thread, so while the
// Runtime API takes a large response, every other invocation of that worker stands still (a
// 6 MB response against a Runtime API answering in 200 ms held a sibling invocation's event
// loop 221-261 ms; docs/event-loop.md). We post from a pool thread in this mode. The Runtime API
// here holds its answer to the large POST until the other invocation's response has arrived
// (at most 3 s): only a POST that holds nothing lets that response through first.
test('a large response POST in flight does not hold the worker\'s other invocations (4.0.2: it holds them)', { skip: MODES[4].skip }, async (t) => {
  const fn = await launch(t, {
    handler: 'large-response.handler',
    version: 4,
    env: { AWS_LAMBDA_MAX_CONCURRENCY: '4', AWS_LAMBDA_NODEJS_WORKER_COUNT: '1' },
  });
  await waitUntil(() => fn.api.waitingNextCount === 1, 'the worker\'s GET next');
  const sibling = invoke(fn, { tick: true, ms: 300 }, { requestId: 'sibling' });
  await waitUntil(() => fn.api.waitingNextCount === 1 && fn.api.requests.length >= 2, 'the sibling running, a GET next held again');
  const bytes = 6 * 1024 * 1024 - 1024;
  let released;
  const large = invoke(fn, { bytes }, {
    requestId: 'large',
    holdReply: () => Promise.race([
      fn.api.waitForRequest((q) => q.path.endsWith('/invocation/sibling/response')).then(() => 'the sibling answered'),
      new Promise((resolve) => setTimeout(resolve, 3000, 'timed out')),
    ]).then((why) => { released = why; }),
  });
  const [l, s] = await Promise.all([large, sibling]);
  assert.equal(l.entry.body.length, bytes, 'the whole response');
  assert.equal(s.kind, 'response');
  assert.equal(released, isOfficial(4) ? 'timed out' : 'the sibling answered');
});
