// Fault injection, malformed answers to GET next: odd request ids, deadlines and headers, odd
// framing, answers that are not HTTP, and error statuses, against the runtime in its three
// ways of running. Each test asserts what was posted for every invocation handed out, and how
// the process ended. docs/reliability.md has the table.
//
// Issue 19 items 1-3 (header values read as bytes, missing or odd deadlines and a missing ARN
// served, a doubled request id answered under its first value) are pinned here as well.
import { describe, test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import { startFaultRun, MODES } from './helpers/faults.mjs';

const T = { timeout: 30_000 };
// Three cases at a time; the suite as a whole may take longer than one test's limit.
const SUITE = { concurrency: 3, timeout: 300_000 };

// Serves `answer` and then a plain invocation `after`; asserts `expected` (the outcomes of both)
// and that the process runs on.
async function servedThenNext(t, modeName, answer, expected, { handler } = {}) {
  const run = await startFaultRun(t, modeName, { handler });
  run.api.next(answer(run.api));
  run.api.next(run.api.invocation({ id: 'after' }));
  await run.alive(run.api.waitForPosts(['after']));
  // The others were handed out first; on Managed Instances their posts may still be on the way.
  await run.api.waitForPosts(Object.keys(expected).filter((id) => expected[id].length), 2000).catch(() => {});
  assert.deepEqual(run.api.outcomes(), expected);
  assert.ok(run.running(), 'the process runs on');
  return run;
}

// The answer cannot become an invocation: nothing is posted for it. Outside Managed Instances
// the process ends with a record matching `record` (both official clients end too); on Managed
// Instances the worker counts it as a failed GET, retries, and serves the next event.
async function refusedAnswer(t, modeName, answer, record) {
  const run = await startFaultRun(t, modeName);
  run.api.next(answer(run.api));
  run.api.next(run.api.invocation({ id: 'after' }));
  if (!MODES[modeName].mi) {
    const end = await run.ended();
    assert.deepEqual({ code: end.code, signal: end.signal }, { code: run.mode.gone, signal: null }, run.output());
    assert.match(`${run.rt.stdout}${run.rt.stderr}`, record);
    assert.deepEqual(run.api.outcomes(), nothingFor(run.api.handedOut));
    return run;
  }
  await run.alive(run.api.waitForPosts(['after']));
  assert.deepEqual(run.api.outcomes(), { ...nothingFor(run.api.handedOut), after: ['response'] });
  assert.match(run.rt.stdout, /Failed to get next invocation \(attempt 1\/3\)/);
  assert.match(run.rt.stdout, record);
  return run;
}

// The refused answer may carry an id (it was written out, so it counts as handed out): nothing
// may be posted for it.
const nothingFor = (ids) => Object.fromEntries(ids.filter((id) => id !== 'after').map((id) => [id, []]));

const response = (run, id) => JSON.parse(run.api.requests.find((r) => r.post?.id === id && r.status === 202).body);

describe('malformed answers', SUITE, () => {
  for (const modeName of Object.keys(MODES)) {
    // ---- request ids ------------------------------------------------------------------------
    test(`[${modeName}] no request id: nothing can be posted for it`, T, async (t) => {
      await refusedAnswer(t, modeName, (api) => api.invocation({ id: null, body: '{"id":"no-id"}' }), /Lambda-Runtime-Aws-Request-Id/i);
    });

    test(`[${modeName}] an empty request id: nothing can be posted for it`, T, async (t) => {
      await refusedAnswer(t, modeName, (api) => api.invocation({ id: null, headers: [['Lambda-Runtime-Aws-Request-Id', '']] }),
        /Lambda-Runtime-Aws-Request-Id/i);
    });

    test(`[${modeName}] a request id sent twice: answered under the first`, T, async (t) => {
      const run = await servedThenNext(t, modeName,
        (api) => api.invocation({ id: 'first', headers: [['Lambda-Runtime-Aws-Request-Id', 'second']] }),
        { first: ['response'], after: ['response'] });
      assert.equal(run.api.postsFor('second').length, 0);
    });

    test(`[${modeName}] a request id in raw UTF-8: answered under it`, T, async (t) => {
      const id = 'ïd-ü-😀';
      const run = await servedThenNext(t, modeName, (api) => api.invocation({ id }), { [id]: ['response'], after: ['response'] });
      assert.equal(response(run, id).requestId, id);
    });

    for (const id of ['a/b', '..', '../../init/error', 'q?x#y%z&=+', 'a spaced id']) {
      test(`[${modeName}] a request id ${JSON.stringify(id)}: one encoded path segment, answered under it`, T, async (t) => {
        const run = await servedThenNext(t, modeName, (api) => api.invocation({ id }), { [id]: ['response'], after: ['response'] });
        assert.equal(response(run, id).requestId, id);
        assert.equal(run.api.requests.filter((r) => r.post?.kind === 'init/error').length, 0);
      });
    }

    // ---- deadlines, ARN, Content-Type ---------------------------------------------------------
    test(`[${modeName}] no deadline: served`, T, async (t) => {
      await servedThenNext(t, modeName, (api) => api.invocation({ id: 'a', deadline: null }), { a: ['response'], after: ['response'] });
    });

    // 600000 is cargo-lambda 1.9.2's (a duration, not an epoch time).
    for (const deadline of ['600000', 'soon', '', '-5', '1.7e12']) {
      test(`[${modeName}] a deadline of ${JSON.stringify(deadline)}: served`, T, async (t) => {
        const run = await servedThenNext(t, modeName, (api) => api.invocation({ id: 'a', deadline }), { a: ['response'], after: ['response'] });
        assert.equal(response(run, 'a').remainingIsNumber, true);
      });
    }

    test(`[${modeName}] no function ARN: served`, T, async (t) => {
      await servedThenNext(t, modeName, (api) => api.invocation({ id: 'a', arn: null }), { a: ['response'], after: ['response'] });
    });

    test(`[${modeName}] no Content-Type: served`, T, async (t) => {
      const run = await servedThenNext(t, modeName, (api) => api.invocation({ id: 'a', contentType: null }), { a: ['response'], after: ['response'] });
      assert.equal(response(run, 'a').id, 'a');
    });

    // ---- framing -------------------------------------------------------------------------------
    test(`[${modeName}] two different Content-Lengths: refused, not read as two answers`, T, async (t) => {
      const body = '{"id":"a"}';
      await refusedAnswer(t, modeName, (api) => api.invocation({ id: 'a', body, contentLength: [body.length, body.length + 5] }),
        /Runtime API/);
    });

    test(`[${modeName}] a 64 KiB header: served`, T, async (t) => {
      await servedThenNext(t, modeName, (api) => api.invocation({ id: 'a', headers: [['X-Pad', 'p'.repeat(64 * 1024)]] }),
        { a: ['response'], after: ['response'] });
    });

    // The event loop's GET (src/next/polled.rs) takes a head of any size; curl (both
    // official clients) refuses a header over 100 KiB.
    test(`[${modeName}] a 1 MiB header: served`, T, async (t) => {
      await servedThenNext(t, modeName, (api) => api.invocation({ id: 'a', headers: [['X-Pad', 'p'.repeat(1024 * 1024)]] }),
        { a: ['response'], after: ['response'] });
    });

    test(`[${modeName}] a chunked body: served`, T, async (t) => {
      const run = await servedThenNext(t, modeName, (api) => api.invocation({ id: 'a', chunked: true }), { a: ['response'], after: ['response'] });
      assert.equal(response(run, 'a').id, 'a');
    });

    test(`[${modeName}] a chunked body in many chunks, with extensions and trailers: served`, T, async (t) => {
      const event = JSON.stringify({ id: 'a', pad: 'z'.repeat(3000) });
      const chunks = event.match(/.{1,97}/gs).map((c, i) => `${c.length.toString(16)}${i % 2 ? ';ext=1' : ''}\r\n${c}\r\n`).join('');
      const answer = (api) => api.raw(Buffer.from(
        'HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: a\r\n' +
        `Lambda-Runtime-Deadline-Ms: ${Date.now() + 60_000}\r\n` +
        'Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:f\r\n' +
        'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n' +
        `${chunks}0\r\nX-Trailer: yes\r\n\r\n`));
      const run = await startFaultRun(t, modeName);
      run.api.next((conn) => { run.api.handedOut.push('a'); answer(run.api)(conn); });
      run.api.next(run.api.invocation({ id: 'after' }));
      await run.alive(run.api.waitForPosts(['a', 'after']));
      assert.deepEqual(run.api.outcomes(), { a: ['response'], after: ['response'] });
      assert.equal(response(run, 'a').size, 3000);
    });

    test(`[${modeName}] an HTTP/1.0 answer (closed after it): served, the next GET on a new connection`, T, async (t) => {
      const run = await servedThenNext(t, modeName, (api) => api.invocation({ id: 'a', version: '1.0' }), { a: ['response'], after: ['response'] });
      const gets = run.api.requests.filter((r) => r.method === 'GET');
      assert.notEqual(gets[0].connection, gets[1].connection);
    });

    test(`[${modeName}] an answer that is not HTTP: refused`, T, async (t) => {
      await refusedAnswer(t, modeName, (api) => api.raw(Buffer.from('SSH-2.0-OpenSSH_9.2\r\n'), { end: true }), /Runtime API/);
    });

    // ---- error statuses --------------------------------------------------------------------------
    for (const status of [500, 403]) {
      test(`[${modeName}] GET next answered ${status}: ${MODES[modeName].mi ? 'retried' : 'the process ends'}`, T, async (t) => {
        await refusedAnswer(t, modeName, (api) => api.status(status), new RegExp(`HTTP ${status}`));
      });
    }
  }
});
