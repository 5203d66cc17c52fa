// The current invocation's ids as libraries read them outside the handler's context object.
import { test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import { serve, MODES } from './fixtures/logging/harness.mjs';

const ID = 'c0ffee00-0000-4000-8000-000000000001';
const HEADERS = { 'Lambda-Runtime-Trace-Id': 'Root=1-5f84c7a1-0123456789abcdef01234567;Sampled=1', 'Lambda-Runtime-Aws-Tenant-Id': 'tenant-7' };

test('4.x: globalThis.awslambda.InvokeStore answers the invocation\'s request, trace and tenant ids', { skip: MODES[4].skip }, async () => {
  const run = await serve({ handler: 'records.ids', version: 4, events: [{ requestId: ID, headers: HEADERS }] });
  assert.deepEqual(JSON.parse(run.results[0].entry.body), {
    store: { requestId: ID, traceId: HEADERS['Lambda-Runtime-Trace-Id'], tenantId: 'tenant-7', custom: 'value' },
    symbols: { requestId: null, tenantId: null },
  });
});

test('4.x: AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA leaves no InvokeStore behind', { skip: MODES[4].skip }, async () => {
  const run = await serve({ handler: 'records.ids', version: 4, env: { AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA: '1' }, events: [{ requestId: ID }] });
  assert.deepEqual(JSON.parse(run.results[0].entry.body).store ?? null, null);
});

test('3.x: the ids are in the global symbols the 3.x client keeps them in', async () => {
  const run = await serve({ handler: 'records.ids', events: [{ requestId: ID, headers: HEADERS }] });
  assert.deepEqual(JSON.parse(run.results[0].entry.body), {
    symbols: { requestId: ID, tenantId: 'tenant-7' },
  });
});
