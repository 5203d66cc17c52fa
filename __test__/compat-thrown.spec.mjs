// Non-Error values thrown by a handler (or a promise it returns rejected with them): what the
// error post carries, body and headers (the X-Ray cause in particular), for every kind of value,
// thrown from an async function, returned as a rejected promise, or thrown synchronously.
// Observed with the official clients (COMPAT_SPEC_ENTRY_3/_4, fixtures/compat/harness.mjs):
// aws-lambda-ric 4.0.2 on Node 24, 3.3.0 on Node 20:
// - body: {errorType: typeof value, errorMessage: String(value), trace: []} (4.x: null is
//   'object' / 'null', undefined 'undefined' / 'undefined');
// - Lambda-Runtime-Function-XRay-Error-Cause: `{"working_directory":cwd,"exceptions":[{"stack":[]}],
//   "paths":[]}` (no type, no message) for every non-Error except null and undefined, for which
//   the header is left out (reading .name throws);
// - 4.x: an object shaped like an error ({name, message, stack}) is an 'object' in the body
//   ('[object Object]'), while the X-Ray cause takes its name, message and frames; 3.x posts it
//   as an error;
// - the "Invoke Error" record (4.x) is `new Error(String(value))`'s;
// - neither client sends Lambda-Runtime-Function-Error-Type on invocation errors; we send it,
//   equal to the body's errorType (the Runtime API documents it);
// - 3.x: undefined or null from an async function / rejected promise is context.fail()'s
//   {errorType: 'string', errorMessage: 'handled'}; thrown synchronously it is callback(undefined):
//   a null response.
// Deliberate differences (docs/compatibility.md): an Error made in another realm (a vm context)
// is an Error for us in 4.x mode (4.0.2: 'object', trace []); in 3.x mode a Symbol thrown
// synchronously is posted (as 3.3.0 posts it) and the runtime goes on (3.3.0 then exits 129).
import { describe, test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import { launch, invoke, isOfficial, MODES, TASK_ROOT } from './fixtures/compat/harness.mjs';

const KINDS = {
  string: 'just a string',
  'empty-string': '',
  number: 42,
  zero: 0,
  boolean: false,
  object: { code: 'E_OBJ', detail: [1, 2] },
  array: ['a', 1],
  undefined,
  null: null,
  bigint: 10n,
};
// 4.x also posts a Symbol as itself (3.x: see the last test).
const KINDS_4 = { ...KINDS, symbol: Symbol('sym') };
const HOWS = ['async', 'reject', 'sync'];
const NO_FRAMES_CAUSE = { working_directory: TASK_ROOT, exceptions: [{ stack: [] }], paths: [] };
const SHAPED_CAUSE = {
  working_directory: TASK_ROOT,
  exceptions: [{ type: 'Shaped', message: 'shaped like an error', stack: [{ path: '/x.js', line: 1, label: 'here' }] }],
  paths: ['/x.js'],
};

const causeOf = (r) => {
  const header = r.headers['lambda-runtime-function-xray-error-cause'];
  return header === undefined ? undefined : JSON.parse(header);
};

function assertErrorTypeHeader(r, version, what) {
  const header = r.headers['lambda-runtime-function-error-type'];
  if (isOfficial(version)) assert.equal(header, undefined, `${what}: the official client sends no error-type header`);
  else assert.equal(header, r.body.errorType, `${what}: error-type header`);
}

describe('non-Error values thrown, 4.x mode', { skip: MODES[4].skip }, () => {
  for (const how of HOWS) {
    test(`${how}: every kind of value`, async (t) => {
      const fn = await launch(t, { handler: 'throws.handler', version: 4 });
      for (const [kind, value] of Object.entries(KINDS_4)) {
        const what = `${how} ${kind}`;
        const r = await invoke(fn, { kind, how }, { requestId: `thrown-${how}-${kind}` });
        assert.equal(r.kind, 'error', what);
        assert.deepEqual(r.body, { errorType: value === null ? 'object' : typeof value, errorMessage: String(value), trace: [] }, what);
        assert.deepEqual(causeOf(r), value === null || value === undefined ? undefined : NO_FRAMES_CAUSE, `${what}: X-Ray cause`);
        assertErrorTypeHeader(r, 4, what);
      }
      // The "Invoke Error" records: new Error(String(value)), with the invocation's request id.
      await new Promise((resolve) => setTimeout(resolve, 50));
      for (const [kind, value] of Object.entries(KINDS_4)) {
        const line = fn.rt.stdout.split('\n').find((l) => l.includes(`\tthrown-${how}-${kind}\tERROR\tInvoke Error \t`));
        assert.ok(line, `an Invoke Error record for ${kind} in ${fn.rt.stdout}`);
        const record = JSON.parse(line.split('\t')[4]);
        assert.deepEqual([record.errorType, record.errorMessage], ['Error', String(value)], kind);
        assert.equal(record.stack[0], String(value) === '' ? 'Error' : `Error: ${String(value)}`, kind);
      }
    });
  }

  test('an object shaped like an error is an object in the body; the X-Ray cause takes its fields', async (t) => {
    const fn = await launch(t, { handler: 'throws.handler', version: 4 });
    for (const how of HOWS) {
      const r = await invoke(fn, { kind: 'error-shaped', how });
      assert.deepEqual(r.body, { errorType: 'object', errorMessage: '[object Object]', trace: [] }, how);
      assert.deepEqual(causeOf(r), SHAPED_CAUSE, how);
      assertErrorTypeHeader(r, 4, how);
    }
  });

  test('Errors: their name, message and stack; an Error from another realm too (4.0.2: an object)', async (t) => {
    const fn = await launch(t, { handler: 'throws.handler', version: 4 });
    for (const how of HOWS) {
      const own = await invoke(fn, { kind: 'error', how });
      assert.deepEqual([own.body.errorType, own.body.errorMessage, own.body.trace[0]], ['TypeError', 'an Error', 'TypeError: an Error'], how);
      assert.equal(causeOf(own).exceptions[0].type, 'TypeError');
      const other = await invoke(fn, { kind: 'error-other-realm', how });
      if (isOfficial(4)) {
        assert.deepEqual(other.body, { errorType: 'object', errorMessage: 'RangeError: from another realm', trace: [] }, how);
      } else {
        assert.deepEqual([other.body.errorType, other.body.errorMessage], ['RangeError', 'from another realm'], how);
        assert.equal(other.body.trace[0], 'RangeError: from another realm', how);
      }
      // The cause reads the fields without instanceof, in both.
      assert.deepEqual([causeOf(other).exceptions[0].type, causeOf(other).exceptions[0].message], ['RangeError', 'from another realm'], how);
    }
  });
});

describe('non-Error values thrown, 3.x mode', () => {
  for (const how of HOWS) {
    test(`${how}: every kind of value`, async (t) => {
      const fn = await launch(t, { handler: 'throws.handler', version: 3 });
      for (const [kind, value] of Object.entries(KINDS)) {
        const what = `${how} ${kind}`;
        const r = await invoke(fn, { kind, how });
        if (value === null || value === undefined) {
          if (how === 'sync') {
            assert.deepEqual([r.kind, r.body], ['response', null], `${what}: callback(undefined) is a success`);
            continue;
          }
          assert.deepEqual(r.body, { errorType: 'string', errorMessage: 'handled', trace: [] }, `${what}: context.fail()`);
        } else {
          assert.deepEqual(r.body, { errorType: typeof value, errorMessage: String(value), trace: [] }, what);
        }
        assert.equal(r.kind, 'error', what);
        assert.deepEqual(causeOf(r), NO_FRAMES_CAUSE, `${what}: X-Ray cause`);
        assertErrorTypeHeader(r, 3, what);
      }
    });
  }

  test('an object shaped like an error is posted as an error', async (t) => {
    const fn = await launch(t, { handler: 'throws.handler', version: 3 });
    for (const how of HOWS) {
      const r = await invoke(fn, { kind: 'error-shaped', how });
      assert.deepEqual(r.body, { errorType: 'Shaped', errorMessage: 'shaped like an error', trace: ['Shaped: shaped like an error', '    at here (/x.js:1:1)'] }, how);
      assert.deepEqual(causeOf(r), SHAPED_CAUSE, how);
    }
  });

  // 3.3.0's logger converts a non-Error with `new Error(value)`, which throws for a Symbol; that
  // TypeError is what it records and posts. Thrown synchronously, 3.3.0 then exits 129 through
  // its "Unexpected Top Level Error" path; we go on serving (docs/compatibility.md), so the sync
  // case is not run against the official client.
  test('a thrown Symbol: 3.x posts the TypeError its logger meets converting it', async (t) => {
    const fn = await launch(t, { handler: 'throws.handler', version: 3 });
    for (const how of isOfficial(3) ? ['async', 'reject'] : HOWS) {
      const r = await invoke(fn, { kind: 'symbol', how });
      assert.deepEqual([r.body.errorType, r.body.errorMessage, r.body.trace[0]],
        ['TypeError', 'Cannot convert a Symbol value to a string', 'TypeError: Cannot convert a Symbol value to a string'], how);
      assert.equal(causeOf(r).exceptions[0].type, 'TypeError', how);
    }
    assert.match(fn.rt.stdout, /\tERROR\tInvoke Error \t\{"errorType":"TypeError","errorMessage":"Cannot convert a Symbol value to a string"/);
  });
});
