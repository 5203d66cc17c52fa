// JSON records (AWS_LAMBDA_LOG_FORMAT=JSON, any case): one JSON object per line with the keys in
// the official order, through the real runtime serving a real invocation.
import { test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import { serve, maskJsonTimestamps, MODES } from './fixtures/logging/harness.mjs';

const ID = 'c0ffee00-0000-4000-8000-000000000001';
const TENANT = { 'Lambda-Runtime-Aws-Tenant-Id': 'tenant-7' };

function expectedJson({ initIds, ids, stacks, version }) {
  const rec = (level, rest, head = ids) => `{"timestamp":"<TS>","level":"${level}"${head}${rest}}`;
  const msg = (m) => `,"message":${JSON.stringify(m)}`;
  const lines = [
    rec('INFO', msg('init record'), initIds),
    rec('INFO', msg('hello json')),
    // A lone object stays structured, nested levels included.
    rec('INFO', ',"message":{"nested":{"deep":{"list":[1,{"two":2}],"nil":null}},"str":"x"}'),
    // A lone Error: errorType from its class, its stack as lines, then its own properties.
    rec('ERROR', `,"message":${JSON.stringify({ errorType: 'RangeError', errorMessage: 'alone', stackTrace: stacks.alone.split('\n'), extra: 'x' })}`),
    // Several arguments: one formatted message plus the Error's fields at the top level.
    rec('WARN', msg(`failed: ${stacks.withArgs} { ctx: 1 }`) +
      `,"errorType":"Error","errorMessage":"second arg","stackTrace":${JSON.stringify(stacks.withArgs.split('\n'))}`),
    // What JSON cannot encode is logged as its util.format text, not dropped.
    rec('INFO', msg("<ref *1> { name: 'loop', self: [Circular *1] }")),
    rec('INFO', msg('10n')),
    // console.log() has no message at all.
    rec('INFO', ''),
    rec('DEBUG', msg('multi\nline')),
    rec('INFO', `,"message":{"inner":${JSON.stringify({ errorType: 'Error', errorMessage: 'inner error', stackTrace: stacks.inner.split('\n') })}}`),
    // An Error as the first of several arguments: 3.x adds its fields, 4.x looks from the second on.
    rec('WARN', msg(`${stacks.first} then text`) + (version === 3
      ? `,"errorType":"TypeError","errorMessage":"first","stackTrace":${JSON.stringify(stacks.first.split('\n'))}`
      : '')),
    rec('INFO', msg('unicode: h\u00e9llo \u{1F600}')),
    rec('INFO', msg('toJSON called for message')),
    rec('INFO', ''),
  ];
  return lines.join('\n') + '\n';
}

test('3.x: JSON records are exact, with the tenant id of the invocation', async () => {
  const run = await serve({ handler: 'records.json', env: { AWS_LAMBDA_LOG_FORMAT: 'JSON' }, events: [{ requestId: ID, headers: TENANT }] });
  const stacks = JSON.parse(run.results[0].entry.body);
  assert.equal(maskJsonTimestamps(run.stdout, run.tStart, run.tEnd), expectedJson({
    initIds: '', // 3.x has no request id during init: the key is absent
    ids: `,"requestId":"${ID}","tenantId":"tenant-7"`,
    stacks,
    version: 3,
  }));
  for (const line of run.stdout.trimEnd().split('\n')) JSON.parse(line);
});

test('4.x: JSON records use "-" during init and, like aws-lambda-ric 4.0.2, carry no tenantId', { skip: MODES[4].skip }, async () => {
  const run = await serve({ handler: 'records.json', version: 4, env: { AWS_LAMBDA_LOG_FORMAT: 'json' }, events: [{ requestId: ID, headers: TENANT }] });
  const stacks = JSON.parse(run.results[0].entry.body);
  assert.equal(maskJsonTimestamps(run.stdout, run.tStart, run.tEnd), expectedJson({
    initIds: ',"requestId":"-"',
    ids: `,"requestId":"${ID}"`,
    stacks,
    version: 4,
  }));
});

test('an invocation error is one JSON record whose message is the error object', async () => {
  const run = await serve({ handler: 'records.throws', env: { AWS_LAMBDA_LOG_FORMAT: 'JSON' }, events: [{ requestId: ID }] });
  const { trace } = JSON.parse(run.results[0].entry.body);
  const error = { errorType: 'Error', errorMessage: 'invoke failed', stackTrace: trace, code: 'E_FAIL' };
  assert.equal(
    maskJsonTimestamps(run.stdout, run.tStart, run.tEnd),
    '{"timestamp":"<TS>","level":"INFO","message":"init record"}\n' +
      `{"timestamp":"<TS>","level":"ERROR","requestId":"${ID}","message":${JSON.stringify(error)}}\n`,
  );
});
