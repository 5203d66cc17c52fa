// What a function throws (rejects with, or passes to callback(err) / context.fail / context.done)
// when it breaks on inspection or is not an Error: Errors whose message, name or stack is a
// getter that throws, a number, an object, missing or empty; proxies; null-prototype objects;
// objects whose toString throws; duck-typed objects; functions, symbols, BigInt, Dates. Every
// value is answered with an error post and the next event is served: serialising an error for
// the Runtime API never throws.
//
// Recorded from the official clients (COMPAT_SPEC_ENTRY_3/_4, fixtures/compat/harness.mjs):
// aws-lambda-ric 3.3.0 on Node 20.20.2 and 4.0.2 on Node 24.22.3, 2026-12-04:
// - an Error whose name or message is neither a string nor missing, whose stack is not a string
//   (3.x: or is missing), or whose fields throw: the 'handled' placeholder (3.x without `trace`,
//   4.x with `trace: []`) and no X-Ray cause (also when the cause cannot read a field);
// - a missing name or message leaves the key out; an empty stack is the trace [''];
// - 3.x: its logger converts a non-Error with `new Error(value)` before posting; what that
//   throws (a Symbol, a null-prototype object, a toString that throws, another realm's Error
//   whose message getter throws) is what it posts. Thrown synchronously, 3.3.0 then exits 129:
//   we post the same and go on serving (docs/compatibility.md), so against the official client
//   those cases are asked only through the other paths;
// - 4.x: String(value) for a non-Error; a null-prototype object or a throwing toString crashes
//   4.0.2 (nothing posted, exit 1), and another realm's Error with a throwing message getter is
//   an unhandled rejection there: we post the 'handled' placeholder its own formatError gives
//   and go on (docs/compatibility.md); those cases are not asked of the official client;
// - 3.x with JSON records: its record of an Error whose getter throws throws as well, and what
//   it throws is posted (4.x: no change; Managed Instances, whose records are JSON, neither).
import { describe, test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import { launch, invoke, exited, isOfficial, MODES } from './fixtures/compat/harness.mjs';

const H = 'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack';
const NONE = Symbol('absent');
// [errorType, errorMessage, first trace line ('[]': an empty trace; NONE: no trace key),
//  X-Ray cause [type, message] or NONE (header left out)]
const HANDLED3 = ['handled', H, NONE, NONE];
const HANDLED4 = ['handled', H, '[]', NONE];
const EMPTY_CAUSE = [NONE, NONE];
const SHARED = {
  'message-undefined': ['Error', NONE, 'Error', ['Error', NONE]],
  'message-none': ['Error', '', 'Error', ['Error', '']],
  'name-undefined': [NONE, 'odd', 'Error: odd', [NONE, 'odd']],
  'name-empty': ['', 'odd', 'odd', ['', 'odd']],
  'stack-empty': ['Error', 'odd', '', ['Error', 'odd']],
  'duck-no-stack': ['object', '[object Object]', '[]', ['Duck', 'no stack']],
  'duck-empty-message': ['object', '[object Object]', '[]', ['Duck', '']],
  'duck-number-message': ['object', '[object Object]', '[]', NONE],
  'array-of-errors': ['object', 'Error: inside', '[]', EMPTY_CAUSE],
  function: ['function', 'function thrownFunction() {}', '[]', ['thrownFunction', NONE]],
  bigint: ['bigint', '10', '[]', EMPTY_CAUSE],
  string: ['string', 'a string', '[]', EMPTY_CAUSE],
  zero: ['number', '0', '[]', EMPTY_CAUSE],
  false: ['boolean', 'false', '[]', EMPTY_CAUSE],
  date: ['object', 'Thu Jan 01 1970 00:00:00 GMT+0000 (Coordinated Universal Time)', '[]', EMPTY_CAUSE],
};
const ALWAYS_HANDLED = ['message-getter-throws', 'name-getter-throws', 'stack-getter-throws', 'message-number',
  'message-object', 'name-number', 'name-object', 'stack-number', 'stack-object', 'proxy-throws'];
const CONVERSION_TYPE_ERROR = (message) => ['TypeError', message, `TypeError: ${message}`, ['TypeError', message]];
const EXPECTED = {
  3: {
    ...SHARED,
    ...Object.fromEntries(ALWAYS_HANDLED.map((k) => [k, HANDLED3])),
    'stack-undefined': ['handled', H, NONE, ['Error', 'odd']],
    'all-undefined': ['handled', H, NONE, EMPTY_CAUSE],
    'duck-getter-throws': HANDLED3,
    // What 3.x's `new Error(value)` throws:
    'null-prototype': CONVERSION_TYPE_ERROR('Cannot convert object to primitive value'),
    'null-prototype-fields': CONVERSION_TYPE_ERROR('Cannot convert object to primitive value'),
    symbol: CONVERSION_TYPE_ERROR('Cannot convert a Symbol value to a string'),
    'symbol-no-description': CONVERSION_TYPE_ERROR('Cannot convert a Symbol value to a string'),
    'tostring-throws': ['Error', 'boom', 'Error: boom', ['Error', 'boom']],
    'error-other-realm-odd': ['number', '1', '[]', EMPTY_CAUSE],
  },
  4: {
    ...SHARED,
    ...Object.fromEntries(ALWAYS_HANDLED.map((k) => [k, HANDLED4])),
    'stack-undefined': ['Error', 'odd', '[]', ['Error', 'odd']],
    'all-undefined': [NONE, NONE, '[]', EMPTY_CAUSE],
    'duck-getter-throws': ['object', '[object Object]', '[]', NONE],
    symbol: ['symbol', 'Symbol(sym)', '[]', EMPTY_CAUSE],
    'symbol-no-description': ['symbol', 'Symbol()', '[]', EMPTY_CAUSE],
    // 4.0.2 crashes on these (see the header); ours: its formatError's placeholder.
    'null-prototype': ['handled', H, '[]', EMPTY_CAUSE],
    'null-prototype-fields': ['handled', H, '[]', ['N', 'no prototype']],
    'tostring-throws': ['handled', H, '[]', EMPTY_CAUSE],
    'error-other-realm-odd': HANDLED4,
  },
};
// Not asked of the official client (it crashes or exits on them: see the header).
const OFFICIAL_CRASHES = {
  3: { sync: ['null-prototype', 'null-prototype-fields', 'tostring-throws', 'symbol', 'symbol-no-description', 'error-other-realm-odd'] },
  4: { all: ['null-prototype', 'null-prototype-fields', 'tostring-throws', 'error-other-realm-odd'] },
};

const get = (o, k) => (Object.hasOwn(o, k) ? o[k] : NONE);

function assertPost(r, [type, message, trace, cause], what) {
  assert.equal(r.kind, 'error', what);
  assert.equal(get(r.body, 'errorType'), type, `${what}: errorType`);
  assert.equal(get(r.body, 'errorMessage'), message, `${what}: errorMessage`);
  const t = get(r.body, 'trace');
  if (trace === NONE || trace === '[]') assert.deepEqual(t, trace === NONE ? NONE : [], `${what}: trace`);
  else assert.equal(t[0], trace, `${what}: first trace line`);
  const header = r.headers['lambda-runtime-function-xray-error-cause'];
  if (cause === NONE) {
    assert.equal(header, undefined, `${what}: no X-Ray cause`);
  } else {
    assert.ok(header, `${what}: an X-Ray cause`);
    const [exception] = JSON.parse(header).exceptions;
    assert.deepEqual([get(exception, 'type'), get(exception, 'message')], cause, `${what}: X-Ray cause`);
  }
}

// 3.x with AWS_LAMBDA_LOG_FORMAT=JSON: on Node 20 its JSON record of an Error whose getter
// throws throws too (util.format after JSON.stringify failed), and that error ('boom') is what it
// posts. From Node 22 util.format survives the getter, and 3.3.0 posts the usual bodies (recorded
// on Node 22.23: the same as without JSON logs).
const GETTERS = ['message-getter-throws', 'name-getter-throws', 'stack-getter-throws'];
const FORMAT_THROWS = Number(process.versions.node.split('.')[0]) < 22;
const JSON_3 = FORMAT_THROWS
  ? { ...EXPECTED[3], ...Object.fromEntries(GETTERS.map((k) => [k, ['Error', 'boom', 'Error: boom', ['Error', 'boom']]])) }
  : EXPECTED[3];

async function runAll(t, version, handler, hows, { env, expected = EXPECTED[version] } = {}) {
  const fn = await launch(t, { handler, version, env });
  const skipped = { ...OFFICIAL_CRASHES[version] };
  if (env && version === 3 && FORMAT_THROWS) skipped.sync = [...skipped.sync, ...GETTERS];
  for (const how of hows) {
    for (const [kind, want] of Object.entries(expected)) {
      if (isOfficial(version) && (skipped.all?.includes(kind) || skipped[how]?.includes(kind))) continue;
      const what = `${how} ${kind}`;
      assertPost(await invoke(fn, { kind, how }), want, what);
      // The runtime is still serving.
      const next = await invoke(fn, { kind: 'ok' });
      assert.deepEqual([next.kind, next.body], ['response', 'ok'], `${what}: the next event is served`);
    }
  }
  return fn;
}

describe('values that break on inspection, and non-Errors, 3.x mode', () => {
  test('thrown, rejected, or thrown synchronously', async (t) => {
    const fn = await runAll(t, 3, 'odd-errors.handler', ['async', 'reject', 'sync']);
    assert.equal(fn.rt.child.exitCode, null, 'still running');
  });
  test('callback(err), context.fail(err), context.done(err)', async (t) => {
    await runAll(t, 3, 'odd-errors.callbackHandler', ['callback', 'fail', 'done']);
  });
  test('JSON log format: what its error record throws is posted', async (t) => {
    const env = { AWS_LAMBDA_LOG_FORMAT: 'JSON' };
    await runAll(t, 3, 'odd-errors.handler', ['async', 'reject', 'sync'], { env, expected: JSON_3 });
    await runAll(t, 3, 'odd-errors.callbackHandler', ['callback', 'fail'], { env, expected: JSON_3 });
  });
});

describe('values that break on inspection, and non-Errors, 4.x mode', { skip: MODES[4].skip }, () => {
  test('thrown, rejected, or thrown synchronously', async (t) => {
    const fn = await runAll(t, 4, 'odd-errors.handler', ['async', 'reject', 'sync']);
    assert.equal(fn.rt.child.exitCode, null, 'still running');
    // The runtime's own record of an error it cannot encode is the body it posts, never a crash.
    assert.match(fn.rt.stdout, /\tERROR\tInvoke Error \t\{"errorType":"handled","errorMessage":"callback called with Error argument/);
  });
  test('JSON log format and Managed Instances (JSON records): the same posts', async (t) => {
    await runAll(t, 4, 'odd-errors.handler', ['async', 'sync'], { env: { AWS_LAMBDA_LOG_FORMAT: 'JSON' } });
    await runAll(t, 4, 'odd-errors.handler', ['reject'], { env: { AWS_LAMBDA_MAX_CONCURRENCY: '4', AWS_LAMBDA_NODEJS_WORKER_COUNT: '1' } });
  });
});

// Streamed responses: the same bodies, as the error trailers (Lambda-Runtime-Function-Error-Body,
// base64), before anything was written or after a first chunk; the next event is served.
// (The kinds 3.3.0 / 4.0.2 crash on are left out against them, as above.)
const STREAM_KINDS = ['message-getter-throws', 'message-number', 'stack-empty', 'name-undefined', 'string', 'null-prototype', 'symbol'];
for (const version of [3, 4]) {
  test(`${version}.x mode, a streaming handler: the error trailers carry the same bodies`, { skip: MODES[version].skip }, async (t) => {
    const fn = await launch(t, { handler: 'odd-errors.streamHandler', version });
    for (const how of ['before', 'after-write']) {
      for (const kind of STREAM_KINDS) {
        const crashes = version === 3 ? ['null-prototype', 'symbol'] : ['null-prototype'];
        if (isOfficial(version) && crashes.includes(kind)) continue;
        const what = `${how} ${kind}`;
        const r = await invoke(fn, { kind, how });
        assert.equal(r.entry.body.toString(), how === 'before' ? '' : 'partial', what);
        const [type, message, trace] = EXPECTED[version][kind];
        const body = JSON.parse(Buffer.from(r.entry.trailers['lambda-runtime-function-error-body'], 'base64').toString());
        assert.equal(r.entry.trailers['lambda-runtime-function-error-type'], type === NONE ? 'undefined' : type, `${what}: error-type trailer`);
        assert.equal(get(body, 'errorType'), type, what);
        assert.equal(get(body, 'errorMessage'), message, what);
        if (trace === NONE || trace === '[]') assert.deepEqual(get(body, 'trace'), trace === NONE ? NONE : [], what);
        else assert.equal(body.trace[0], trace, what);
        const next = await invoke(fn, { kind: 'ok' });
        assert.equal(next.entry.body.toString(), 'ok', `${what}: the next event is served`);
      }
    }
  });
}

// A value thrown from a timer (uncaught exception) or rejected unhandled while an invocation is
// in flight, 3.x mode (recorded from aws-lambda-ric 3.3.0 on Node 20.20.2, 2026-12-04): the error
// is posted for the invocation, then the process exits 129 / 128. A rejection reason its
// UnhandledPromiseRejection wrapper cannot convert is reported as an uncaught exception (129).
// An uncaught value its logger cannot convert makes 3.3.0's handler throw (exit 7, nothing
// posted); we post the conversion's error and exit 129 (docs/compatibility.md).
const UPR = 'Runtime.UnhandledPromiseRejection';
const PROCESS_3 = {
  // [how, kind]: [exit code, record title, errorType, errorMessage, first trace line (NONE: no key), X-Ray cause sent, ours only]
  'uncaught string': [129, 'Uncaught Exception', 'string', 'a string', '[]', true],
  'uncaught undefined': [129, 'Uncaught Exception', 'handled', H, NONE, false],
  'uncaught null': [129, 'Uncaught Exception', 'handled', H, NONE, false],
  'uncaught message-getter-throws': [129, 'Uncaught Exception', 'handled', H, NONE, false],
  'uncaught message-number': [129, 'Uncaught Exception', 'handled', H, NONE, false],
  'uncaught stack-undefined': [129, 'Uncaught Exception', 'handled', H, NONE, true],
  'uncaught duck-no-stack': [129, 'Uncaught Exception', 'object', '[object Object]', '[]', true],
  'uncaught symbol': [129, 'Uncaught Exception', 'TypeError', 'Cannot convert a Symbol value to a string', 'TypeError: Cannot convert a Symbol value to a string', true, 'ours'],
  'uncaught null-prototype': [129, 'Uncaught Exception', 'TypeError', 'Cannot convert object to primitive value', 'TypeError: Cannot convert object to primitive value', true, 'ours'],
  'uncaught tostring-throws': [129, 'Uncaught Exception', 'Error', 'boom', 'Error: boom', true, 'ours'],
  'rejection string': [128, 'Unhandled Promise Rejection', UPR, 'a string', `${UPR}: a string`, true],
  'rejection undefined': [128, 'Unhandled Promise Rejection', UPR, '', UPR, true],
  'rejection null': [128, 'Unhandled Promise Rejection', UPR, 'null', `${UPR}: null`, true],
  'rejection message-number': [128, 'Unhandled Promise Rejection', UPR, 'Error: 42', `${UPR}: Error: 42`, true],
  'rejection duck-no-stack': [128, 'Unhandled Promise Rejection', UPR, '[object Object]', `${UPR}: [object Object]`, true],
  'rejection symbol': [129, 'Uncaught Exception', 'TypeError', 'Cannot convert a Symbol value to a string', 'TypeError: Cannot convert a Symbol value to a string', true],
  'rejection null-prototype': [129, 'Uncaught Exception', 'TypeError', 'Cannot convert object to primitive value', 'TypeError: Cannot convert object to primitive value', true],
  'rejection message-getter-throws': [129, 'Uncaught Exception', 'Error', 'boom', 'Error: boom', true],
  'rejection tostring-throws': [129, 'Uncaught Exception', 'Error', 'boom', 'Error: boom', true],
};

describe('3.x mode: odd values thrown or rejected outside the handler during an invocation', () => {
  for (const [name, [code, title, type, message, trace, cause, oursOnly]] of Object.entries(PROCESS_3)) {
    const [how, kind] = name.split(' ');
    test(name, { skip: oursOnly && isOfficial(3) && 'a deliberate difference' }, async (t) => {
      const fn = await launch(t, { handler: 'odd-errors.processHandler', version: 3 });
      const r = await invoke(fn, { kind, how }, { requestId: `p-${how}-${kind}` });
      assert.equal(r.kind, 'error');
      assert.equal(get(r.body, 'errorType'), type);
      assert.equal(get(r.body, 'errorMessage'), message);
      const t0 = get(r.body, 'trace');
      if (trace === NONE || trace === '[]') assert.deepEqual(t0, trace === NONE ? NONE : []);
      else assert.equal(t0[0], trace);
      assert.equal(r.headers['lambda-runtime-function-xray-error-cause'] !== undefined, cause, 'X-Ray cause sent');
      const { code: exitCode } = await exited(fn);
      assert.equal(exitCode, code);
      assert.match(fn.rt.stdout, new RegExp(`\\tp-${how}-${kind}\\tERROR\\t${title} \\t`));
    });
  }
});

// Stack lines that are not V8's, parsed into X-Ray frames (recorded from aws-lambda-ric 3.3.0 /
// 4.0.2, 2026-12-04): the two clients split a line differently only where a tab follows the
// first word ("\tat\ttabbed (/b.js:3:4)": 3.x finds no label, 4.x 'tabbed').
const ODD_FRAMES = [['/a.js', 1, ' twoSpaces'], ['/b.js', 3, 'anonymous'], ['noSpace/c.js', 5, 'anonymous'], ['', null, 'anonymous'],
  ['/d.js', 7, 'anonymous'], ['/e.js', 9, 'new Thing'], ['0', null, 'async Promise.all index'], ['plain', null, 'anonymous']];
for (const version of [3, 4]) {
  test(`${version}.x mode: X-Ray frames of stack lines that are not V8's`, { skip: MODES[version].skip }, async (t) => {
    const fn = await launch(t, { handler: 'odd-errors.handler', version });
    const r = await invoke(fn, { kind: 'stack-odd-frames', how: 'async' });
    assert.equal(r.body.trace[2], '\tat\ttabbed (/b.js:3:4)', 'the trace keeps the lines as they are');
    const cause = JSON.parse(r.headers['lambda-runtime-function-xray-error-cause']);
    const want = ODD_FRAMES.map((f) => (version === 4 && f[0] === '/b.js' ? ['/b.js', 3, 'tabbed'] : f));
    assert.deepEqual(cause.exceptions[0].stack.map((f) => [f.path, f.line, f.label]), want);
    assert.deepEqual(cause.paths, ['/a.js', '/b.js', 'noSpace/c.js', '', '/d.js', '/e.js', '0', 'plain']);
  });
}
