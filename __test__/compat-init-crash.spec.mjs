// Init failures that crash in 4.x mode: top-level await rejecting (or a top-level throw) with
// a non-Error value, or an Error. Observed with the official aws-lambda-ric 4.0.2 on Node 24
// (COMPAT_SPEC_ENTRY_4, fixtures/compat/harness.mjs), in this order:
// 1. stdout: the function's own records, then the `Init Error` record (request id `-`) of
//    `new Error(String(value))` for a non-Error;
// 2. POST /runtime/init/error: {errorType: typeof value, errorMessage: String(value), trace: []}
//    with Lambda-Runtime-Function-Error-Type equal to that errorType;
// 3. stderr: Node's report of an unhandled rejection (4.x's start-up promise rejects unhandled),
//    and exit code 1. For a non-Error that is Node's UnhandledPromiseRejection wrapper naming the
//    value (`The promise rejected with the reason "..."`, code ERR_UNHANDLED_REJECTION); for an
//    Error, its stack under `node:internal/process/promises` ... `triggerUncaughtException(err,
//    true /* fromPromise */)`. Nothing else (no runtime line) reaches stderr.
import { test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { launch, exited, isOfficial, MODES } from './fixtures/compat/harness.mjs';

const NON_ERRORS = {
  string: { value: 'init string', reason: 'init string', source: "'init string'" },
  number: { value: 42, reason: '42', source: '42' },
  object: { value: { code: 'E_INIT' }, reason: '#<Object>', source: "{ code: 'E_INIT' }" },
  undefined: { value: undefined, reason: 'undefined', source: 'undefined' },
  null: { value: null, reason: 'null', source: 'null' },
};

// Node's own report of an unhandled rejection of `source`'s value, as this Node 24 prints it
// (its internal line numbers change between releases): the runtime's crash must read the same.
function unhandledRejectionReport(source) {
  const r = spawnSync(MODES[4].node, ['-e', `Promise.reject(${source})`], { encoding: 'utf8', timeout: 10_000 });
  return r.stderr.split('\n').slice(0, -3);
}

async function failInit(t, kind, how) {
  const fn = await launch(t, { handler: 'init-rejects.handler', version: 4, env: { COMPAT_INIT_KIND: kind, COMPAT_INIT_HOW: how } });
  const r = await exited(fn);
  const posted = fn.api.requests.filter((q) => q.path.endsWith('/runtime/init/error'));
  return { ...r, posted, requests: fn.api.requests };
}

for (const how of ['await', 'throw']) {
  for (const [kind, { value, reason, source }] of Object.entries(NON_ERRORS)) {
    test(`4.x mode: init fails with ${kind} (${how === 'await' ? 'top-level await rejects' : 'thrown at the top level'}): record, init error, Node's unhandled-rejection report, exit 1`, { skip: MODES[4].skip }, async (t) => {
      const r = await failInit(t, kind, how);
      assert.equal(r.code, 1);
      const records = r.stdout.trim().split('\n').map((l) => l.split('\t'));
      assert.deepEqual(records.map((f) => f.slice(1, 4)), [['-', 'INFO', 'module started'], ['-', 'ERROR', 'Init Error ']]);
      const record = JSON.parse(records[1][4]);
      assert.deepEqual([record.errorType, record.errorMessage, record.stack[0]], ['Error', String(value), `Error: ${String(value)}`]);
      assert.equal(r.posted.length, 1, 'one init error');
      assert.deepEqual(JSON.parse(r.posted[0].body), { errorType: value === null ? 'object' : typeof value, errorMessage: String(value), trace: [] });
      assert.equal(r.posted[0].headers['lambda-runtime-function-error-type'], value === null ? 'object' : typeof value);
      assert.deepEqual(r.requests.map((q) => q.method), ['POST'], 'no GET next');
      const lines = r.stderr.split('\n');
      const report = unhandledRejectionReport(source);
      assert.match(report.join('\n'), new RegExp(`The promise rejected with the reason "${reason.replace(/[^\w ]/g, '\\$&')}"\\.`));
      assert.deepEqual(lines.slice(0, -3), report);
      assert.match(lines.slice(-3).join('\n'), /^\nNode\.js v\d+\.\d+\.\d+\n$/, 'then a blank line, the Node version, the end');
    });
  }

  test(`4.x mode: init fails with an Error (${how}): its stack in Node's report of a rejected promise`, { skip: MODES[4].skip }, async (t) => {
    const r = await failInit(t, 'error', how);
    assert.equal(r.code, 1);
    assert.deepEqual(JSON.parse(r.posted[0].body).errorType, 'RangeError');
    const lines = r.stderr.split('\n');
    // The line number of Node's internal frame changes between Node releases.
    assert.match(lines[0], /^node:internal\/process\/promises:\d+$/);
    assert.deepEqual(lines.slice(1, 5), [
      '    triggerUncaughtException(err, true /* fromPromise */);',
      '    ^',
      '',
      'RangeError: init Error',
    ]);
    assert.match(lines[5], /^ {4}at Object\.error \(.*init-rejects\.mjs:\d+:\d+\)$/);
    assert.match(r.stderr, /\n\nNode\.js v\d+\.\d+\.\d+\n$/);
  });
}

// 3.x (recorded from aws-lambda-ric 3.3.0 on Node 20.20.2, 2026-12-04): its loader reads `e.code`
// of what the module threw, unguarded, so null and undefined fail init with the TypeError of that
// read; other non-Errors are posted as themselves ({typeof, toString(), []}). Either way the
// record is `Uncaught Exception` (request id `undefined`), one init error is posted and the
// process exits 129 with nothing on stderr.
const NON_ERRORS_3 = {
  string: { type: 'string', message: 'init string', trace: [] },
  number: { type: 'number', message: '42', trace: [] },
  object: { type: 'object', message: '[object Object]', trace: [] },
  undefined: { type: 'TypeError', message: "Cannot read properties of undefined (reading 'code')" },
  null: { type: 'TypeError', message: "Cannot read properties of null (reading 'code')" },
};
for (const how of ['await', 'throw']) {
  for (const [kind, want] of Object.entries(NON_ERRORS_3)) {
    test(`3.x mode: init fails with ${kind} (${how === 'await' ? 'top-level await rejects' : 'thrown at the top level'}): the init error is ${want.type}`, async (t) => {
      const fn = await launch(t, { handler: 'init-rejects.handler', version: 3, env: { COMPAT_INIT_KIND: kind, COMPAT_INIT_HOW: how } });
      const r = await exited(fn);
      assert.equal(r.code, 129);
      assert.equal(r.stderr, '');
      const posted = fn.api.requests.filter((q) => q.path.endsWith('/runtime/init/error'));
      assert.equal(posted.length, 1, 'one init error');
      const body = JSON.parse(posted[0].body);
      assert.deepEqual([body.errorType, body.errorMessage], [want.type, want.message]);
      if (want.trace) assert.deepEqual(body.trace, want.trace);
      else assert.equal(body.trace[0], `${want.type}: ${want.message}`);
      assert.equal(posted[0].headers['lambda-runtime-function-error-type'], want.type);
      const records = r.stdout.trim().split('\n').map((l) => l.split('\t'));
      assert.deepEqual(records.map((f) => f.slice(1, 4)), [['undefined', 'INFO', 'module started'], ['undefined', 'ERROR', 'Uncaught Exception ']]);
      const record = JSON.parse(records[1][4]);
      assert.equal(record.errorMessage, want.message);
    });
  }
}

test('4.x mode: init fails with an Error whose message getter throws: the placeholder is posted, exit 1 (never 7)', { skip: MODES[4].skip }, async (t) => {
  const r = await failInit(t, 'getter', 'await');
  assert.equal(r.code, 1);
  assert.equal(r.posted.length, 1);
  assert.deepEqual(JSON.parse(r.posted[0].body), {
    errorType: 'handled',
    errorMessage: 'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    trace: [],
  });
  assert.match(r.stderr, /^\n\(Use `node --trace-uncaught \.\.\.` to show where the exception was thrown\)\n/);
});

// An Error whose name is undefined: both official clients build the init error's
// Lambda-Runtime-Function-Error-Type header from the body's missing errorType, and Node's http
// refuses it (ERR_HTTP_INVALID_HEADER_VALUE): 3.3.0 exits 7, 4.0.2 crashes with that TypeError,
// nothing posted. We post the body as they would have (no errorType; the header reads
// 'undefined'), then end as the mode ends (docs/compatibility.md).
for (const version of [3, 4]) {
  test(`${version}.x mode: init fails with an Error whose name is undefined: the init error is posted`, { skip: MODES[version].skip || (isOfficial(version) && 'the official client loses it (a deliberate difference)') }, async (t) => {
    const fn = await launch(t, { handler: 'init-rejects.handler', version, env: { COMPAT_INIT_KIND: 'noname', COMPAT_INIT_HOW: 'throw' } });
    const r = await exited(fn);
    assert.equal(r.code, version === 3 ? 129 : 1);
    const posted = fn.api.requests.filter((q) => q.path.endsWith('/runtime/init/error'));
    assert.equal(posted.length, 1);
    const body = JSON.parse(posted[0].body);
    assert.deepEqual([Object.hasOwn(body, 'errorType'), body.errorMessage, body.trace[0]], [false, 'no name', 'Error: no name']);
    assert.equal(posted[0].headers['lambda-runtime-function-error-type'], 'undefined');
  });
}
