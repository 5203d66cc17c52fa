// AWS_LAMBDA_LOG_LEVEL: records below the level are not written; an unknown value logs all.
import { test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import { serve, maskTextTimestamps } from './fixtures/logging/harness.mjs';

const ID = 'c0ffee00-0000-4000-8000-000000000001';
const record = (level, msg) => `<TS>\t${ID}\t${level}\t${msg}`;
const ALL = [record('TRACE', 't'), record('DEBUG', 'd'), record('INFO', 'i'), record('INFO', 'l'),
  record('WARN', 'w'), record('ERROR', 'e'), record('FATAL', 'f')];

async function levelsRun(level) {
  const run = await serve({ handler: 'records.levels', env: { AWS_LAMBDA_LOG_LEVEL: level }, events: [{ requestId: ID }] });
  const lines = maskTextTimestamps(run.stdout, run.tStart, run.tEnd).trimEnd().split('\n');
  return { lines: lines.filter((l) => !l.includes('init record')), result: JSON.parse(run.results[0].entry.body) };
}

test('WARN writes only WARN, ERROR and FATAL; filtered methods are one shared no-op', async () => {
  const { lines, result } = await levelsRun('WARN');
  assert.deepEqual(lines, ALL.slice(4));
  assert.deepEqual(result, { debugIsTrace: true, logIsInfo: true });
});

test('the level is case-insensitive', async () => {
  const { lines } = await levelsRun('error');
  assert.deepEqual(lines, ALL.slice(5));
});

test('an unknown level logs everything, as the official clients do', async () => {
  const { lines, result } = await levelsRun('VERBOSE');
  assert.deepEqual(lines, ALL);
  assert.deepEqual(result, { debugIsTrace: false, logIsInfo: true });
});

test('FATAL also silences the runtime\'s own Invoke Error record, but the error is still posted', async () => {
  const run = await serve({ handler: 'records.throws', env: { AWS_LAMBDA_LOG_LEVEL: 'FATAL' }, events: [{ requestId: ID }] });
  assert.equal(run.results[0].kind, 'error');
  assert.equal(run.stdout, '');
});
