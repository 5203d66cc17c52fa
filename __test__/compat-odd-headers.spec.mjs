// Optional invocation headers present but odd, and header values that are not ASCII. Recorded
// from the official clients (COMPAT_SPEC_ENTRY_3/_4, fixtures/compat/harness.mjs): aws-lambda-ric
// 3.3.0 on Node 20.20.2 and 4.0.2 on Node 24.22.3 (also on Managed Instances), 2026-12-04:
// - a client context or identity that is whitespace only is no header (HTTP drops the blanks
//   around a value, so it arrives empty: undefined, no parse error); JSON `null` is null, a JSON
//   array, number or string is that value; a tenant id or trace id is taken as sent (`null`
//   stays the string 'null'); 4.x's xRayTraceId is '' without a trace;
// - header values are read as UTF-8: a client context, identity, tenant id, trace id or request
//   id with non-ASCII characters reaches the function as those characters, and the request id
//   is percent-encoded (as encodeURIComponent) in the response and error paths.
// 4.0.2's InvokeStore.getTenantId() is always undefined; ours answers the tenant id
// (docs/compatibility.md), so that one read is asserted for ours only.
import { describe, test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import { launch, invoke, isOfficial, MODES } from './fixtures/compat/harness.mjs';

// A header value as UTF-8 bytes on the wire (Node's http server writes strings as latin1).
const wire = (s) => Buffer.from(s, 'utf8').toString('latin1');
const field = (value) => (value === undefined ? { type: 'undefined' } : { type: value === null ? 'null' : typeof value, value });

// [header value sent, what the function sees (parsed for client context and identity)]
const JSON_HEADER_CASES = {
  whitespace: ['   ', undefined],
  tab: ['\t', undefined],
  'json null': ['null', null],
  'json array': ['[1,"a"]', [1, 'a']],
  'json number': ['5', 5],
  'json string': ['"s"', 's'],
  'padded object': [' {"a":1} ', { a: 1 }],
};
const RAW_HEADER_CASES = {
  whitespace: ['   ', undefined],
  'json null': ['null', 'null'],
  'json array': ['[1,"a"]', '[1,"a"]'],
  padded: [' t-1 ', 't-1'],
};
const RUNS = [
  { version: 3, label: '3.x mode' },
  { version: 4, label: '4.x mode' },
  { version: 4, label: '4.x mode on Managed Instances', env: { AWS_LAMBDA_MAX_CONCURRENCY: '4', AWS_LAMBDA_NODEJS_WORKER_COUNT: '1' } },
];

describe('optional headers present but odd', () => {
  for (const { version, label, env } of RUNS) {
    test(label, { skip: MODES[version].skip }, async (t) => {
      const fn = await launch(t, { handler: 'context.handler', version, env });
      for (const [name, header] of [['clientContext', 'Lambda-Runtime-Client-Context'], ['identity', 'Lambda-Runtime-Cognito-Identity']]) {
        for (const [what, [sent, seen]] of Object.entries(JSON_HEADER_CASES)) {
          const r = await invoke(fn, {}, { headers: { [header]: sent } });
          assert.equal(r.kind, 'response', `${name} ${what}: ${JSON.stringify(r.body)}`);
          assert.deepEqual(r.body.fields[name], field(seen), `${name} ${what}`);
        }
      }
      for (const [what, [sent, seen]] of Object.entries(RAW_HEADER_CASES)) {
        const r = await invoke(fn, {}, { headers: { 'Lambda-Runtime-Aws-Tenant-Id': sent } });
        assert.deepEqual(r.body.fields.tenantId, field(seen), `tenant id ${what}`);
        if (version === 4) assert.deepEqual(r.body.fields.xRayTraceId, field(''), `tenant id ${what}: xRayTraceId without a trace`);
        const traced = await invoke(fn, {}, { headers: { 'Lambda-Runtime-Trace-Id': sent } });
        if (version === 4) assert.deepEqual(traced.body.fields.xRayTraceId, field(seen ?? ''), `trace id ${what}`);
        else assert.deepEqual(traced.body.traceEnv, field(seen), `trace id ${what}: _X_AMZN_TRACE_ID`);
      }
    });
  }
});

describe('non-ASCII header values are UTF-8', () => {
  const clientContext = { client: { app_title: 'Zoë 日本 🚀' }, custom: { k: 'ünï' } };
  const identity = { cognitoIdentityId: 'id-é', cognitoIdentityPoolId: 'pool-日本' };
  const tenantId = 'tenant-ñ-中';
  const traceId = 'Root=1-5759e988-bd862e3fe1be46a994272793;Lineage=é';
  const headersFor = (requestId) => ({
    'Lambda-Runtime-Aws-Request-Id': wire(requestId),
    'Lambda-Runtime-Client-Context': wire(JSON.stringify(clientContext)),
    'Lambda-Runtime-Cognito-Identity': wire(JSON.stringify(identity)),
    'Lambda-Runtime-Aws-Tenant-Id': wire(tenantId),
    'Lambda-Runtime-Trace-Id': wire(traceId),
  });
  const REQUEST_IDS = ['req-é-日本-🚀', 'req with space/slash?#%'];

  for (const { version, label, env } of RUNS) {
    test(`${label}: the context, and the request id in the POST path`, { skip: MODES[version].skip }, async (t) => {
      const fn = await launch(t, { handler: 'context.handler', version, env });
      for (const requestId of REQUEST_IDS) {
        const r = await invoke(fn, {}, { requestId, headers: headersFor(requestId) });
        assert.equal(r.kind, 'response');
        assert.equal(r.entry.path, `/2018-06-01/runtime/invocation/${encodeURIComponent(requestId)}/response`);
        const { fields } = r.body;
        assert.deepEqual(fields.awsRequestId, field(requestId));
        assert.deepEqual(fields.clientContext, field(clientContext));
        assert.deepEqual(fields.identity, field(identity));
        assert.deepEqual(fields.tenantId, field(tenantId));
        if (version === 4) {
          assert.deepEqual(fields.xRayTraceId, field(traceId));
          assert.deepEqual(r.body.store.requestId, field(requestId));
          assert.deepEqual(r.body.store.traceId, field(traceId));
          if (!isOfficial(4)) assert.deepEqual(r.body.store.tenantId, field(tenantId));
        }
        if (!env) assert.deepEqual(r.body.traceEnv, field(traceId), '_X_AMZN_TRACE_ID');
      }
    });
  }

  test('3.x and 4.x mode: an error post names the request id percent-encoded too', async (t) => {
    for (const version of [3, 4]) {
      if (MODES[version].skip) continue;
      const fn = await launch(t, { handler: 'throws.handler', version });
      const requestId = 'err-é-日本';
      const r = await invoke(fn, { kind: 'error', how: 'async' }, { requestId, headers: { 'Lambda-Runtime-Aws-Request-Id': wire(requestId) } });
      assert.equal(r.kind, 'error');
      assert.equal(r.entry.path, `/2018-06-01/runtime/invocation/${encodeURIComponent(requestId)}/error`);
      assert.equal(r.body.errorType, 'TypeError');
    }
  });
});
