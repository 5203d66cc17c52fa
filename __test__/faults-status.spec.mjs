// Fault injection, status answers to the runtime's posts (413 and 500 to a response, 404 to an
// error, 500 to an init error), and soaks: 3,000 invocations with connections closed every few
// answers, with the runtime's file descriptors and memory flat. In the runtime's three ways of
// running; each test asserts what was posted for every invocation handed out, and how the
// process ended. docs/reliability.md has the table.
import { describe, test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startFaultRun, MODES } from './helpers/faults.mjs';

const T = { timeout: 30_000 };
// Three cases at a time; the suite as a whole may take longer than one test's limit.
const SUITE = { concurrency: 3, timeout: 300_000 };

describe('status answers', SUITE, () => {
  for (const modeName of Object.keys(MODES)) {
    const mi = MODES[modeName].mi;

    test(`[${modeName}] a response answered 413: the invocation fails with Function.ResponseSizeTooLarge`, T, async (t) => {
      const run = await startFaultRun(t, modeName);
      run.api.onPost = (post) => (post.id === 'a' && post.kind === 'response'
        ? { status: 413, body: '{"errorMessage":"Exceeded maximum allowed payload size (6291556 bytes).","errorType":"RequestEntityTooLarge"}' }
        : undefined);
      run.api.next(run.api.invocation({ id: 'a' }));
      run.api.next(run.api.invocation({ id: 'after' }));
      await run.alive(run.api.waitForPosts(['a', 'after']));
      assert.deepEqual(run.api.outcomes(), { a: ['error'], after: ['response'] });
      const error = run.api.postsFor('a').find((r) => r.post.kind === 'error');
      assert.equal(error.headers['lambda-runtime-function-error-type'], 'Function.ResponseSizeTooLarge');
      assert.match(JSON.parse(error.body).errorMessage, /Exceeded maximum allowed payload size/);
      assert.ok(run.running());
    });

    test(`[${modeName}] a response answered 500: that invocation is lost with a record, the next served`, T, async (t) => {
      const run = await startFaultRun(t, modeName);
      run.api.onPost = (post) => (post.id === 'a' ? { status: 500, body: '{"errorMessage":"internal"}' } : undefined);
      run.api.next(run.api.invocation({ id: 'a' }));
      run.api.next(run.api.invocation({ id: 'after' }));
      await run.alive(run.api.waitForPosts(['after']));
      const record = mi ? /Failed to post invocation response for a\s.*HTTP 500/ : /Could not post the result of invocation a to the Runtime API: .*HTTP 500/;
      await run.alive(run.api.until(() => record.test(run.rt.stdout + run.rt.stderr), 'the record'));
      assert.deepEqual(run.api.outcomes(), { a: [], after: ['response'] });
      assert.equal(run.api.postsFor('a').length, 1, 'a status is not retried');
      assert.ok(run.running());
    });

    test(`[${modeName}] an error answered 404: that invocation is lost with a record, the next served`, T, async (t) => {
      const run = await startFaultRun(t, modeName, { handler: 'index.fails' });
      run.api.onPost = (post) => (post.id === 'a' ? { status: 404, body: '{"errorMessage":"unknown request id"}' } : undefined);
      run.api.next(run.api.invocation({ id: 'a' }));
      run.api.next(run.api.invocation({ id: 'after' }));
      await run.alive(run.api.waitForPosts(['after']));
      const record = mi ? /Failed to post invocation error for a/ : /Could not post the error of invocation a to the Runtime API: .*HTTP 404/;
      await run.alive(run.api.until(() => record.test(run.rt.stdout + run.rt.stderr), 'the record'));
      assert.deepEqual(run.api.outcomes(), { a: [], after: ['error'] });
      assert.ok(run.running());
    });

    test(`[${modeName}] an init error answered 500: a record, and the process ends as after any init failure`, T, async (t) => {
      const run = await startFaultRun(t, modeName, { handler: 'index.missing' });
      run.api.onPost = (post) => (post.kind === 'init/error' ? { status: 500, body: '{"errorMessage":"internal"}' } : undefined);
      const end = await run.ended();
      assert.equal(end.running, undefined, `the process should have ended\n${run.output()}`);
      // 3.x exits 129; 4.x crashes (1); on Managed Instances no worker is left (1).
      assert.deepEqual({ code: end.code, signal: end.signal }, { code: modeName === '3.x' ? 129 : 1, signal: null }, run.output());
      assert.match(run.rt.stdout + run.rt.stderr, /Could not post the init error to the Runtime API at 127\.0\.0\.1:\d+: .*HTTP 500/);
      if (mi) assert.match(run.rt.stderr, /No worker is left/);
      assert.ok(run.api.requests.some((r) => r.post?.kind === 'init/error'));
      assert.deepEqual(run.api.outcomes(), {});
    });
  }
});

// The runtime's open file descriptors and resident memory, from /proc (Linux).
function usage(pid) {
  const fds = fs.readdirSync(`/proc/${pid}/fd`).length;
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
  return { fds, rssMb: rssKb / 1024 };
}

const SOAK = 3000;
const WARM = 500;

describe('soaks', { concurrency: 1, timeout: 300_000, skip: process.platform !== 'linux' && 'reads /proc' }, () => {
  for (const modeName of Object.keys(MODES)) {
    test(`[${modeName}] ${SOAK} invocations, a connection closed every 7 answers: all answered once, fds and RSS flat`, { timeout: 60_000 }, async (t) => {
      const run = await startFaultRun(t, modeName);
      run.api.closeEvery = 7;
      const pad = 'p'.repeat(512);
      for (let i = 0; i < SOAK; i++) run.api.next(run.api.invocation({ id: `s${i}`, body: JSON.stringify({ id: `s${i}`, pad }) }));
      await run.alive(run.api.until(() => run.api.acceptedCount >= WARM, `${WARM} posts`, 30_000));
      const warm = usage(run.rt.child.pid);
      await run.alive(run.api.until(() => run.api.acceptedCount >= SOAK, `${SOAK} posts`, 50_000));
      const end = usage(run.rt.child.pid);
      const outcomes = run.api.outcomes();
      assert.equal(Object.keys(outcomes).length, SOAK);
      const wrong = Object.entries(outcomes).filter(([, kinds]) => kinds.length !== 1 || kinds[0] !== 'response');
      assert.deepEqual(wrong, [], 'every invocation answered exactly once, with a response');
      for (const r of run.api.requests) {
        if (r.post?.kind === 'response' && r.status === 202) assert.equal(JSON.parse(r.body).id, r.post.id);
      }
      assert.ok(run.api.connectionCount > SOAK / 7, `connections were closed (${run.api.connectionCount} opened)`);
      assert.ok(end.fds <= warm.fds + 2, `fds flat: ${warm.fds} after ${WARM}, ${end.fds} after ${SOAK}`);
      assert.ok(end.rssMb - warm.rssMb < 25, `RSS flat: ${warm.rssMb.toFixed(1)} MB after ${WARM}, ${end.rssMb.toFixed(1)} MB after ${SOAK}`);
      assert.ok(run.running());
      t.diagnostic(`${modeName}: fds ${warm.fds} -> ${end.fds}, RSS ${warm.rssMb.toFixed(1)} -> ${end.rssMb.toFixed(1)} MB, ${run.api.connectionCount} connections`);
    });
  }
});
