// AWS_LAMBDA_RUNTIME_VERBOSE=1..3: the runtime's own debug lines, printed as console records
// (`RUNTIME <category> ...`, as the official clients do); nothing at all when unset.
import { test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import { serve, maskTextTimestamps } from './fixtures/logging/harness.mjs';

const ID = 'c0ffee00-0000-4000-8000-000000000002';

async function verboseRun(env, handler = 'records.levels', version = 3) {
  const run = await serve({ handler, version, env: { AWS_LAMBDA_LOG_LEVEL: 'ERROR', ...env }, events: [{ requestId: ID }] });
  const lines = maskTextTimestamps(run.stdout, run.tStart, run.tEnd).trimEnd().split('\n');
  return { run, runtimeLines: lines.filter((l) => l.includes('\tRUNTIME ')) };
}

test('unset: the runtime prints no debug line', async () => {
  const { runtimeLines } = await verboseRun({ AWS_LAMBDA_LOG_LEVEL: undefined });
  assert.deepEqual(runtimeLines, []);
});

test('level 1: start-up and module loading, not each invocation', async () => {
  const { runtimeLines } = await verboseRun({ AWS_LAMBDA_RUNTIME_VERBOSE: '1', AWS_LAMBDA_LOG_LEVEL: undefined });
  assert.ok(runtimeLines.some((l) => /\tINFO\tRUNTIME RAPID Runtime::start handler 'records\.levels' in .*, [34]\.x behaviour$/.test(l)), runtimeLines.join('\n'));
  assert.ok(runtimeLines.some((l) => /\tINFO\tRUNTIME LOADER Try loading as (ES module|CommonJS): .*records\.mjs$/.test(l)), runtimeLines.join('\n'));
  assert.ok(!runtimeLines.some((l) => l.includes('Runtime::invoke')));
});

for (const version of [3, 4]) {
  test(`level 2: each invocation and its response, under the invocation's request id (${version}.x mode)`, async () => {
    const { runtimeLines } = await verboseRun({ AWS_LAMBDA_RUNTIME_VERBOSE: '2', AWS_LAMBDA_LOG_LEVEL: undefined }, 'records.levels', version);
    assert.ok(runtimeLines.includes(`<TS>\t${ID}\tINFO\tRUNTIME RAPID Runtime::invoke ${ID}`), runtimeLines.join('\n'));
    assert.ok(runtimeLines.includes(`<TS>\t${ID}\tINFO\tRUNTIME RAPID Runtime::postResponse ${ID}`), runtimeLines.join('\n'));
  });
}

test('an invocation error names its type', async () => {
  const { run, runtimeLines } = await verboseRun({ AWS_LAMBDA_RUNTIME_VERBOSE: '1', AWS_LAMBDA_LOG_LEVEL: undefined }, 'records.throws');
  assert.equal(run.results[0].kind, 'error');
  const errorType = JSON.parse(run.results[0].entry.body).errorType;
  assert.ok(runtimeLines.includes(`<TS>\t${ID}\tINFO\tRUNTIME RAPID Runtime::postError ${ID} ${errorType}`), runtimeLines.join('\n'));
});
