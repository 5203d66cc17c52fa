// Process-level errors between init and the first event: init succeeded and left a timer (or an
// immediate, or a promise) behind that throws or rejects while the runtime waits for its first
// event (GET next pending). Observed with the official clients (COMPAT_SPEC_ENTRY_3/_4,
// fixtures/compat/harness.mjs):
// - 3.3.0 (Node 20): logs `Uncaught Exception` / `Unhandled Promise Rejection` (request id
//   `undefined`), POSTs the error to /runtime/init/error (its error callbacks are init's until
//   the first event: a thrown undefined becomes the 'handled' placeholder, no trace), nothing on
//   stderr; then it exits 129 / 128, but only once the next event has been delivered (its exit
//   waits on the pending GET next), leaving that event unanswered.
// - 4.0.2 (Node 24): Node's crash report on stderr, nothing posted, exit 1, likewise only once
//   the next event has been delivered.
// We do the same, except that the process exits at once: it takes no event it cannot serve
// (docs/compatibility.md). Against the official client the spec delivers an event to let it exit.
import { describe, test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import { launch, exited, isOfficial, waitUntil, MODES } from './fixtures/compat/harness.mjs';

const HANDLED = 'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack';
const FAULTS = {
  'timeout-throws-error': { title: 'Uncaught Exception', code: 129, type: 'Error', message: 'thrown by a timer after init', recordMessage: 'thrown by a timer after init' },
  'timeout-throws-string': { title: 'Uncaught Exception', code: 129, type: 'string', message: 'string thrown by a timer after init', recordMessage: 'string thrown by a timer after init' },
  'timeout-throws-undefined': { title: 'Uncaught Exception', code: 129, type: 'handled', message: HANDLED, noTrace: true, recordMessage: '' },
  'immediate-throws-error': { title: 'Uncaught Exception', code: 129, type: 'Error', message: 'thrown by an immediate after init', recordMessage: 'thrown by an immediate after init' },
  'timeout-rejects-error': { title: 'Unhandled Promise Rejection', code: 128, type: 'Runtime.UnhandledPromiseRejection', message: 'Error: rejected by a timer after init' },
  'timeout-rejects-string': { title: 'Unhandled Promise Rejection', code: 128, type: 'Runtime.UnhandledPromiseRejection', message: 'string rejected by a timer after init' },
  'pending-promise-rejects': { title: 'Unhandled Promise Rejection', code: 128, type: 'Runtime.UnhandledPromiseRejection', message: 'Error: a promise made at init rejected' },
  // Issue 22 (recorded from 3.3.0 on Node 20.20.2, 2026-12-04):
  'timeout-throws-null': { title: 'Uncaught Exception', code: 129, type: 'handled', message: HANDLED, noTrace: true, recordMessage: 'null' },
  'timeout-throws-getter': { title: 'Uncaught Exception', code: 129, type: 'handled', message: HANDLED, noTrace: true, recordType: 'handled', recordMessage: HANDLED },
  'timeout-rejects-undefined': { title: 'Unhandled Promise Rejection', code: 128, type: 'Runtime.UnhandledPromiseRejection', message: '' },
  'timeout-rejects-null': { title: 'Unhandled Promise Rejection', code: 128, type: 'Runtime.UnhandledPromiseRejection', message: 'null' },
  'timeout0-throws-error': { title: 'Uncaught Exception', code: 129, type: 'Error', message: 'thrown by a 0 ms timer after init' },
  'nexttick-throws-error': { title: 'Uncaught Exception', code: 129, type: 'Error', message: 'thrown by a nextTick at init' },
  'microtask-throws-error': { title: 'Uncaught Exception', code: 129, type: 'Error', message: 'thrown by a microtask at init' },
  'interval-throws-error': { title: 'Uncaught Exception', code: 129, type: 'Error', message: 'thrown by an interval after init' },
  'immediate-rejects-string': { title: 'Unhandled Promise Rejection', code: 128, type: 'Runtime.UnhandledPromiseRejection', message: 'string rejected by an immediate after init' },
  // A reason 3.3.0's UnhandledPromiseRejection cannot convert: its handler throws, and the
  // uncaught-exception handler reports what it threw.
  'timeout-rejects-symbol': { title: 'Uncaught Exception', code: 129, type: 'TypeError', message: 'Cannot convert a Symbol value to a string', recordType: 'TypeError' },
  'timeout-rejects-getter': { title: 'Uncaught Exception', code: 129, type: 'Error', message: 'getter' },
  // 3.3.0's uncaught-exception handler throws converting a Symbol (exit 7, nothing posted); we
  // post that TypeError and exit 129 (docs/compatibility.md): not asked of the official client.
  'timeout-throws-symbol': { title: 'Uncaught Exception', code: 129, type: 'TypeError', message: 'Cannot convert a Symbol value to a string', recordType: 'TypeError', ours: true },
};

// Against the official client: an event, so that its pending GET next returns and it exits.
function releaseOfficial(fn, version) {
  if (isOfficial(version)) fn.api.invoke({ released: true }, { requestId: 'released' }).catch(() => {});
}
const invocationPosts = (fn) => fn.api.requests.filter((q) => q.path.includes('/invocation/') && q.method === 'POST');

describe('3.x mode: a process-level error while the first GET next is pending is posted as the init error', () => {
  for (const [fault, want] of Object.entries(FAULTS)) {
    test(fault, { skip: want.ours && isOfficial(3) && 'a deliberate difference' }, async (t) => {
      const fn = await launch(t, { handler: 'init-timer.handler', version: 3, env: { COMPAT_TIMER: fault } });
      await waitUntil(() => fn.api.requests.some((q) => q.path.endsWith('/init/error')), 'the init error');
      releaseOfficial(fn, 3);
      const r = await exited(fn);
      assert.equal(r.code, want.code);
      assert.equal(r.stderr, '');
      const records = r.stdout.trim().split('\n').map((l) => l.split('\t'));
      assert.deepEqual(records.map((f) => f.slice(1, 4)), [['undefined', 'INFO', 'init done'], ['undefined', 'ERROR', `${want.title} `]]);
      const record = JSON.parse(records[1][4]);
      assert.equal(record.errorType, want.recordType ?? (want.title === 'Uncaught Exception' ? 'Error' : 'Runtime.UnhandledPromiseRejection'));
      assert.equal(record.errorMessage, want.recordMessage ?? want.message);
      const [posted] = fn.api.requests.filter((q) => q.path.endsWith('/init/error'));
      const body = JSON.parse(posted.body);
      assert.equal(body.errorType, want.type);
      assert.equal(body.errorMessage, want.message);
      assert.equal('trace' in body, !want.noTrace);
      assert.equal(posted.headers['lambda-runtime-function-error-type'], want.type);
      assert.deepEqual(invocationPosts(fn), [], 'no invocation answered');
    });
  }
});

describe('4.x mode: a process-level error while the first GET next is pending crashes, nothing posted', { skip: MODES[4].skip }, () => {
  for (const fault of ['timeout-throws-error', 'timeout-throws-string', 'timeout-rejects-error', 'timeout-rejects-string',
    'timeout-throws-getter', 'timeout-rejects-symbol', 'timeout-rejects-getter']) {
    test(fault, async (t) => {
      const fn = await launch(t, { handler: 'init-timer.handler', version: 4, env: { COMPAT_TIMER: fault } });
      await waitUntil(() => /\nNode\.js v\d+/.test(fn.rt.stderr), 'Node\'s crash report');
      releaseOfficial(fn, 4);
      const r = await exited(fn);
      assert.equal(r.code, 1);
      assert.deepEqual(r.stdout.trim().split('\n').map((l) => l.split('\t').slice(1)), [['-', 'INFO', 'init done']]);
      if (fault.endsWith('-getter')) {
        // Node cannot print an error whose message getter throws (nor did a monitor of ours
        // that threw turn the exit code into 7).
        assert.match(r.stderr, /^\n\(Use `node --trace-uncaught \.\.\.` to show where the exception was thrown\)\n/);
      } else if (fault.includes('rejects-symbol')) {
        assert.match(r.stderr, /The promise rejected with the reason "Symbol\(rejected symbol\)"\./);
      } else if (fault.includes('rejects-string')) {
        assert.match(r.stderr, /^node:internal\/process\/promises:\d+\n/);
        assert.match(r.stderr, /The promise rejected with the reason "string rejected by a timer after init"\./);
      } else {
        assert.match(r.stderr, /^\n?file:\/\/.*init-timer\.mjs:\d+\n/, 'Node\'s report points at the throw');
      }
      assert.deepEqual(fn.api.requests.filter((q) => q.method === 'POST'), [], 'nothing posted');
    });
  }
});
