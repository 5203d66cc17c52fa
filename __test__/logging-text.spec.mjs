// TEXT records (the default format): `<ISO time>\t<request id>\t<LEVEL>\t<util.format message>`,
// one line per console call, through the real runtime serving real invocations.
import { test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import { serve, failInit, maskTextTimestamps, MODES } from './fixtures/logging/harness.mjs';

const ID = 'c0ffee00-0000-4000-8000-000000000001';
const ID2 = 'c0ffee00-0000-4000-8000-000000000002';

function expectedText(placeholder, stack) {
  return [
    `<TS>\t${placeholder}\tINFO\tinit record`,
    `<TS>\t${ID}\tINFO\tplain log`,
    `<TS>\t${ID}\tINFO\tinfo str and 42 and {"j":1}`,
    `<TS>\t${ID}\tWARN\tnested { a: 1, nested: { b: [ 1, 2 ], c: { d: [Object] } } }`,
    `<TS>\t${ID}\tERROR\terror line`,
    `<TS>\t${ID}\tDEBUG\tdebug line`,
    `<TS>\t${ID}\tTRACE\ttrace line`,
    `<TS>\t${ID}\tFATAL\tfatal line`,
    `<TS>\t${ID}\tINFO\tmulti\rline\r\rmessage`,
    `<TS>\t${ID}\tINFO\tundefined`,
    `<TS>\t${ID}\tINFO\t[ 1, [length]: 1 ]`,
    `<TS>\t${ID}\tINFO\t100% literal tail`,
    `<TS>\t${ID}\tINFO\tunicode: h\u00e9llo \u{1F600}`,
    // A multi-line stack stays one record: \n becomes \r on stdout.
    `<TS>\t${ID}\tINFO\twith error ${stack.replaceAll('\n', '\r')}`,
    'raw stdout write',
    '',
  ].join('\n');
}

for (const version of [3, 4]) {
  const placeholder = version === 3 ? 'undefined' : '-';
  test(`${version}.x: every console method writes one exact TEXT record; the init record carries ${placeholder}`, { skip: MODES[version].skip }, async () => {
    const run = await serve({ handler: 'records.text', version, events: [{ requestId: ID }] });
    const { stack } = JSON.parse(run.results[0].entry.body);
    assert.equal(maskTextTimestamps(run.stdout, run.tStart, run.tEnd), expectedText(placeholder, stack));
    // process.stderr.write is untouched too, and nothing else reaches stderr.
    assert.equal(run.stderr, 'raw stderr write\n');
  });
}

test('records and the function\'s own process.stdout writes keep their order', async () => {
  const run = await serve({ handler: 'records.interleaved', events: [{ requestId: ID }], until: (out) => out.includes('after big') });
  const lines = maskTextTimestamps(run.stdout, run.tStart, run.tEnd).split('\n');
  assert.deepEqual(lines.map((l) => (l.startsWith('yyy') ? `y*${l.length}` : l)), [
    '<TS>\tundefined\tINFO\tinit record',
    `<TS>\t${ID}\tINFO\tbefore any raw write`,
    'raw 1',
    `<TS>\t${ID}\tINFO\tafter raw 1`,
    `y*${1 << 20}`,
    `<TS>\t${ID}\tINFO\tafter big raw write`,
    '',
  ]);
});

test('records written between invocations keep the last request id until the next one', async () => {
  const run = await serve({
    handler: 'records.later',
    events: [{ requestId: ID, after: (out) => out.includes('after 1') }, { requestId: ID2 }],
    until: (out) => out.includes('after 2'),
  });
  const lines = maskTextTimestamps(run.stdout, run.tStart, run.tEnd).split('\n');
  assert.deepEqual(lines.filter((l) => l.includes('after')), [
    `<TS>\t${ID}\tINFO\tafter 1`,
    `<TS>\t${ID2}\tINFO\tafter 2`,
  ]);
});

test('an invocation error is logged as the official "Invoke Error" record', async () => {
  const run = await serve({ handler: 'records.throws', events: [{ requestId: ID }] });
  assert.equal(run.results[0].kind, 'error');
  const { trace } = JSON.parse(run.results[0].entry.body);
  const errorJson = JSON.stringify({ errorType: 'Error', errorMessage: 'invoke failed', code: 'E_FAIL', stack: trace });
  assert.equal(
    maskTextTimestamps(run.stdout, run.tStart, run.tEnd),
    `<TS>\tundefined\tINFO\tinit record\n<TS>\t${ID}\tERROR\tInvoke Error \t${errorJson}\n`,
  );
});

// The init failure record: 3.x logs it as "Uncaught Exception" under the `undefined` id and
// exits 129; 4.x as "Init Error" under `-` (its runtime errors carry an own `name`, which
// shows), then crashes.
for (const [version, title, placeholder] of [[3, 'Uncaught Exception', 'undefined'], [4, 'Init Error', '-']]) {
  test(`${version}.x: a handler that cannot be found is logged as "${title}"`, { skip: MODES[version].skip }, async () => {
    const run = await failInit({ handler: 'records.nothere', version });
    const { errorType, errorMessage, trace } = run.initError;
    assert.equal(errorType, 'Runtime.HandlerNotFound');
    const error = version === 3
      ? { errorType, errorMessage, stack: trace }
      : { errorType, errorMessage, name: errorType, stack: trace };
    assert.equal(
      maskTextTimestamps(run.stdout, run.tStart, run.tEnd),
      `<TS>\t${placeholder}\tINFO\tinit record\n<TS>\t${placeholder}\tERROR\t${title} \t${JSON.stringify(error)}\n`,
    );
  });
}
