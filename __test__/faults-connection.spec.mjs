// Fault injection, connections: a Runtime API that cannot be reached, goes away, comes back,
// or breaks a connection before, inside or after an answer, against the runtime in its three
// ways of running (3.x, 4.x, Managed Instances). Each test asserts what was posted for every
// invocation handed out, and how the process ended. docs/reliability.md has the table.
//
// The rules these pin: a connection that closes before any byte of an answer is retried once
// on a new connection (a kept-alive connection the server closed while idle, src/client/mod.rs);
// anything else that breaks GET next ends the process (as in both official clients), except on
// Managed Instances, where the worker retries with backoff and the environment ends only after
// the last attempt (lib/retry.mjs); a post that cannot be sent ends the process, except on
// Managed Instances, where only that invocation fails.
import { describe, test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFaultRun, MODES } from './helpers/faults.mjs';
import { freePort } from './helpers/ports.mjs';

const T = { timeout: 30_000 };
// Three cases at a time; the suite as a whole may take longer than one test's limit.
const SUITE = { concurrency: 3, timeout: 300_000 };

// The process ended as the mode says the Runtime API failing for good ends it, with a record.
async function assertGone(run, record) {
  const end = await run.ended();
  assert.equal(end.running, undefined, `the process should have ended\n${run.output()}`);
  assert.deepEqual({ code: end.code, signal: end.signal }, { code: run.mode.gone, signal: null }, run.output());
  assert.match(`${run.rt.stdout}${run.rt.stderr}`, record);
}

describe('connection faults', SUITE, () => {
  for (const modeName of Object.keys(MODES)) {
    const mi = MODES[modeName].mi;

    test(`[${modeName}] unreachable from the start: nothing handed out, the process ends with a record`, T, async (t) => {
      const run = await startFaultRun(t, modeName, { endpoint: `127.0.0.1:${await freePort()}` });
      await assertGone(run, mi ? /after 3 attempts: the environment cannot go on/ : /Runtime API at 127\.0\.0\.1:\d+ failed: .*unreachable/);
      assert.deepEqual(run.api.outcomes(), {});
    });

    test(`[${modeName}] refused after 3 invocations: the 3 are answered, then the process ends`, T, async (t) => {
      const run = await startFaultRun(t, modeName);
      for (const id of ['r1', 'r2', 'r3']) run.api.next(run.api.invocation({ id }));
      await run.alive(run.api.waitForPosts(['r1', 'r2', 'r3']));
      await run.alive(run.api.until(() => run.api.heldCount === 1, 'the next GET'));
      await run.api.down();
      await assertGone(run, mi ? /Giving up/ : /Runtime API at .* failed/);
      assert.deepEqual(run.api.outcomes(), { r1: ['response'], r2: ['response'], r3: ['response'] });
    });

    test(`[${modeName}] down for 300 ms, then back: ${mi ? 'the worker retries and serves' : 'the process ends (as the official clients do)'}`, T, async (t) => {
      // Six attempts (3.1 s of backoff) outlast the outage; three (0.3 s) might not.
      const run = await startFaultRun(t, modeName, { env: { LAMBDA_RAPID_NEXT_ATTEMPTS: '6' } });
      run.api.next(run.api.invocation({ id: 'before' }));
      await run.alive(run.api.waitForPosts(['before']));
      await run.alive(run.api.until(() => run.api.heldCount === 1, 'the next GET'));
      await run.api.down();
      await sleep(300);
      await run.api.up();
      if (!mi) {
        await assertGone(run, /Runtime API at .* failed/);
        assert.deepEqual(run.api.outcomes(), { before: ['response'] });
        return;
      }
      run.api.next(run.api.invocation({ id: 'after' }));
      await run.alive(run.api.waitForPosts(['after']));
      assert.deepEqual(run.api.outcomes(), { before: ['response'], after: ['response'] });
      assert.ok(run.running());
    });

    for (const how of ['closed', 'reset']) {
      test(`[${modeName}] a held GET ${how} by the server: sent again on a new connection, the next event served`, T, async (t) => {
        const run = await startFaultRun(t, modeName);
        await run.alive(run.api.until(() => run.api.heldCount === 1, 'the held GET'));
        const connections = run.api.connectionCount;
        run.api.breakHeld({ close: how === 'closed' });
        await run.alive(run.api.until(() => run.api.heldCount === 1 && run.api.connectionCount > connections, 'the GET again'));
        run.api.next(run.api.invocation({ id: 'after' }));
        await run.alive(run.api.waitForPosts(['after']));
        assert.deepEqual(run.api.outcomes(), { after: ['response'] });
        assert.ok(run.running());
      });
    }

    test(`[${modeName}] a reset before an answer: sent again, served`, T, async (t) => {
      const run = await startFaultRun(t, modeName);
      run.api.next(run.api.fault.reset());
      run.api.next(run.api.invocation({ id: 'a' }));
      await run.alive(run.api.waitForPosts(['a']));
      assert.deepEqual(run.api.outcomes(), { a: ['response'] });
      assert.ok(run.running());
    });

    test(`[${modeName}] two resets in a row before an answer: ${mi ? 'retried with backoff, served' : 'the process ends'}`, T, async (t) => {
      const run = await startFaultRun(t, modeName);
      run.api.next(run.api.fault.reset());
      run.api.next(run.api.fault.reset());
      run.api.next(run.api.invocation({ id: 'a' }));
      if (!mi) {
        await assertGone(run, /Runtime API at .* failed/);
        assert.deepEqual(run.api.outcomes(), {});
        return;
      }
      await run.alive(run.api.waitForPosts(['a']));
      assert.deepEqual(run.api.outcomes(), { a: ['response'] });
    });

    for (const where of ['head', 'body']) {
      test(`[${modeName}] a reset inside an answer's ${where}: that event is lost; ${mi ? 'the worker retries and serves the next' : 'the process ends'}`, T, async (t) => {
        const run = await startFaultRun(t, modeName);
        const broken = run.api.invocation({ id: 'broken', body: JSON.stringify({ id: 'broken', pad: 'x'.repeat(4000) }) });
        run.api.next(where === 'head' ? run.api.fault.resetInHead(broken) : run.api.fault.resetInBody(broken));
        run.api.next(run.api.invocation({ id: 'next' }));
        if (!mi) {
          await assertGone(run, /Runtime API at .* failed/);
          assert.deepEqual(run.api.outcomes(), {});
          assert.equal(run.api.postsFor('broken').length, 0);
          return;
        }
        await run.alive(run.api.waitForPosts(['next']));
        assert.deepEqual(run.api.outcomes(), { next: ['response'] });
        assert.equal(run.api.postsFor('broken').length, 0, 'nothing posted for a half-received event');
      });
    }

    for (const fault of ['reset', 'reset-before-body', 'reset-mid-body']) {
      test(`[${modeName}] a POST ${fault} once: sent again on a new connection, accepted`, T, async (t) => {
        const run = await startFaultRun(t, modeName);
        let faults = 0;
        run.api.onPost = (post) => (post.id === 'a' && faults++ === 0 ? fault : undefined);
        run.api.next(run.api.invocation({ id: 'a', body: JSON.stringify({ id: 'a', pad: 'y'.repeat(2000) }) }));
        run.api.next(run.api.invocation({ id: 'b' }));
        await run.alive(run.api.waitForPosts(['a', 'b']));
        assert.deepEqual(run.api.outcomes(), { a: ['response'], b: ['response'] });
        const posts = run.api.postsFor('a');
        assert.deepEqual(posts.map((p) => Boolean(p.reset)), [true, false]);
        assert.equal(JSON.parse(posts[1].body).size, 2000, 'the repeat carries the whole response');
        assert.ok(run.running());
      });
    }

    test(`[${modeName}] every POST reset: ${mi ? 'each invocation fails alone, logged; the worker serves on' : 'the process ends with a record'}`, T, async (t) => {
      const run = await startFaultRun(t, modeName);
      run.api.onPost = () => 'reset';
      run.api.next(run.api.invocation({ id: 'a' }));
      if (!mi) {
        await assertGone(run, /Could not post the result of invocation a to the Runtime API/);
        assert.deepEqual(run.api.outcomes(), { a: [] });
        assert.equal(run.api.postsFor('a').length, 2, 'sent, then once more');
        return;
      }
      run.api.next(run.api.invocation({ id: 'b' }));
      await run.alive(run.api.until(() => run.api.postsFor('b').length === 2, 'both attempts for b'));
      assert.deepEqual(run.api.outcomes(), { a: [], b: [] });
      // a and b may be in different workers: either record can come first.
      await run.alive(run.api.until(() => /Failed to post invocation response for a/.test(run.rt.stdout) &&
        /Failed to post invocation response for b/.test(run.rt.stdout), 'the records for a and b'));
      run.api.onPost = null;
      run.api.next(run.api.invocation({ id: 'c' }));
      await run.alive(run.api.waitForPosts(['c']));
      assert.deepEqual(run.api.outcomes(), { a: [], b: [], c: ['response'] });
    });
  }
});
