// The context when the optional invocation headers are absent or empty: every combination of
// the trace id, client context, Cognito identity and tenant id headers (absent, sent empty,
// present: 81), in each mode. Observed with the official clients (COMPAT_SPEC_ENTRY_3/_4,
// fixtures/compat/harness.mjs): aws-lambda-ric 3.3.0 on Node 20, 4.0.2 on Node 24:
// - the keys and their order never change: a missing header leaves its field `undefined`, never
//   a missing key;
// - an empty header is the same as an absent one: clientContext, identity and tenantId are
//   undefined (no JSON parse error for an empty client context or identity, in either client);
// - 4.x: context.xRayTraceId (and InvokeStore.getXRayTraceId()) is '' without a trace header or
//   with an empty one, never undefined;
// - process.env._X_AMZN_TRACE_ID is the header's value, and deleted when it is absent or empty;
//   on Managed Instances it is never set (compat-managed-instances.spec.mjs);
// - 4.0.2's InvokeStore.getTenantId() is always undefined; ours answers the tenant id
//   (docs/compatibility.md).
import { describe, test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import { launch, invoke, isOfficial, MODES } from './fixtures/compat/harness.mjs';

const HEADERS = {
  trace: ['Lambda-Runtime-Trace-Id', 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1'],
  clientContext: ['Lambda-Runtime-Client-Context', JSON.stringify({ client: { app_title: 'demo' }, custom: { k: 'v' } })],
  identity: ['Lambda-Runtime-Cognito-Identity', JSON.stringify({ cognitoIdentityId: 'id-1', cognitoIdentityPoolId: 'pool-1' })],
  tenant: ['Lambda-Runtime-Aws-Tenant-Id', 'tenant-7'],
};
const STATES = ['absent', 'empty', 'present'];
const KEYS = {
  3: ['callbackWaitsForEmptyEventLoop', 'succeed', 'fail', 'done', 'functionVersion', 'functionName', 'memoryLimitInMB',
    'logGroupName', 'logStreamName', 'clientContext', 'identity', 'invokedFunctionArn', 'awsRequestId', 'tenantId',
    'getRemainingTimeInMillis'],
  4: ['clientContext', 'identity', 'invokedFunctionArn', 'awsRequestId', 'tenantId', 'xRayTraceId',
    'getRemainingTimeInMillis', 'functionName', 'functionVersion', 'memoryLimitInMB', 'logGroupName', 'logStreamName'],
};

function* combinations() {
  for (const trace of STATES) for (const clientContext of STATES) for (const identity of STATES) for (const tenant of STATES) {
    yield { trace, clientContext, identity, tenant };
  }
}

const absentValue = { type: 'undefined' };
const fieldOf = (combo, name, parse) => (combo[name] === 'present'
  ? { type: parse ? 'object' : 'string', value: parse ? JSON.parse(HEADERS[name][1]) : HEADERS[name][1] }
  : absentValue);

function expected(version, combo, { managedInstances = false } = {}) {
  const trace = combo.trace === 'present' ? HEADERS.trace[1] : '';
  const tenant = fieldOf(combo, 'tenant');
  const fields = {
    clientContext: fieldOf(combo, 'clientContext', true),
    identity: fieldOf(combo, 'identity', true),
    tenantId: tenant,
  };
  if (version === 4) fields.xRayTraceId = { type: 'string', value: trace };
  const traceInEnv = combo.trace === 'present' && !managedInstances;
  return {
    keys: KEYS[version],
    fields,
    traceEnv: traceInEnv ? { type: 'string', value: trace } : absentValue,
    traceEnvPresent: traceInEnv,
    store: version === 3 ? undefined : {
      traceId: { type: 'string', value: trace },
      tenantId: isOfficial(4) ? absentValue : tenant,
    },
  };
}

function headersFor(combo) {
  const headers = {};
  for (const [name, state] of Object.entries(combo)) {
    if (state !== 'absent') headers[HEADERS[name][0]] = state === 'empty' ? '' : HEADERS[name][1];
  }
  return headers;
}

const RUNS = [
  { version: 3, label: '3.x mode' },
  { version: 4, label: '4.x mode' },
  { version: 4, label: '4.x mode on Managed Instances', managedInstances: true,
    env: { AWS_LAMBDA_MAX_CONCURRENCY: '4', AWS_LAMBDA_NODEJS_WORKER_COUNT: '1' } },
];

describe('the context with optional headers absent, empty or present (all 81 combinations)', () => {
  for (const { version, label, env, managedInstances } of RUNS) {
    test(label, { skip: MODES[version].skip }, async (t) => {
      const fn = await launch(t, { handler: 'context.handler', version, env });
      for (const combo of combinations()) {
        const name = Object.entries(combo).map(([k, v]) => `${k} ${v}`).join(', ');
        const requestId = `ctx-${Object.values(combo).join('-')}`;
        const r = await invoke(fn, {}, { requestId, headers: headersFor(combo) });
        assert.equal(r.kind, 'response', `${name}: ${JSON.stringify(r.body)}`);
        const want = expected(version, combo, { managedInstances });
        assert.deepEqual(r.body.keys, want.keys, name);
        for (const [field, value] of Object.entries(want.fields)) assert.deepEqual(r.body.fields[field], value, `${name}: ${field}`);
        assert.deepEqual(r.body.fields.awsRequestId, { type: 'string', value: requestId });
        assert.deepEqual(r.body.traceEnv, want.traceEnv, `${name}: process.env._X_AMZN_TRACE_ID`);
        assert.equal(r.body.traceEnvPresent, want.traceEnvPresent, `${name}: '_X_AMZN_TRACE_ID' in process.env`);
        if (want.store) {
          assert.deepEqual(r.body.store.requestId, { type: 'string', value: requestId }, `${name}: InvokeStore.getRequestId()`);
          assert.deepEqual(r.body.store.traceId, want.store.traceId, `${name}: InvokeStore.getXRayTraceId()`);
          assert.deepEqual(r.body.store.tenantId, want.store.tenantId, `${name}: InvokeStore.getTenantId()`);
        } else {
          assert.equal(r.body.store, undefined, `${name}: no InvokeStore in 3.x`);
        }
      }
    });
  }
});
