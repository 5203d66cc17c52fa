// What the emulator does when the function misbehaves, and how it stops: timeouts and crashes
// fail the invocation and restart the runtime; SIGTERM/SIGINT stop everything, no orphans.
import { test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { serve, processExists } from './helpers/emulator.mjs';

const waitFor = async (pred, ms = 3000) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return pred();
};

test('an invocation past --timeout gets "Task timed out after N.NN seconds" and the runtime is restarted', async () => {
  const emu = await serve('app.slow', ['--timeout', '0.5']);
  try {
    const before = await emu.invoke({ ms: 0 });
    const started = performance.now();
    const res = await emu.invoke({ ms: 5000 });
    const took = performance.now() - started;
    assert.equal(res.status, 200);
    assert.equal(res.functionError, 'Unhandled');
    assert.equal(res.json.errorType, 'Sandbox.Timedout');
    assert.match(res.json.errorMessage, /^RequestId: [0-9a-f-]{36} Error: Task timed out after 0\.50 seconds$/);
    assert.ok(took >= 450 && took < 4000, `answered at the timeout, not when the handler finished (${took} ms)`);
    assert.match(emu.output, /Z [0-9a-f-]{36} Task timed out after 0\.50 seconds/);
    // The runtime that held it was killed; a new one answers the next invoke.
    assert.ok(await waitFor(() => !processExists(before.json.pid)), 'the timed-out runtime was killed');
    const after = await emu.invoke({ ms: 0 });
    assert.equal(after.status, 200);
    assert.equal(after.json.slept, 0);
    assert.notEqual(after.json.pid, before.json.pid);
  } finally {
    await emu.stop();
  }
});

test('a runtime that crashes mid-invocation: the caller gets Runtime.ExitError and a new runtime serves the next', async () => {
  const emu = await serve('app.crash');
  try {
    const first = await emu.invoke({});
    const res = await emu.invoke({ crash: true, code: 7 });
    assert.equal(res.functionError, 'Unhandled');
    assert.equal(res.json.errorType, 'Runtime.ExitError');
    assert.match(res.json.errorMessage, /^RequestId: [0-9a-f-]{36} Error: Runtime exited with error: exit status 7$/);
    const next = await emu.invoke({});
    assert.equal(next.status, 200);
    assert.notEqual(next.json.pid, first.json.pid);
    assert.equal(next.functionError, null);
  } finally {
    await emu.stop();
  }
});

test('invocations queued behind one that times out are served afterwards, in order', async () => {
  // A timeout well above a restarted runtime's init under load: the queued invocations are
  // served by the fresh runtime, and its init counts into their timeout.
  const emu = await serve('app.slow', ['--timeout', '2']);
  try {
    const results = await Promise.all([
      emu.invoke({ ms: 8000 }),
      new Promise((r) => setTimeout(r, 30)).then(() => emu.invoke({ ms: 1 })),
      new Promise((r) => setTimeout(r, 60)).then(() => emu.invoke({ ms: 2 })),
    ]);
    assert.equal(results[0].json.errorType, 'Sandbox.Timedout');
    assert.equal(results[1].json.slept, 1);
    assert.equal(results[2].json.slept, 2);
    assert.equal(results[1].json.pid, results[2].json.pid);
  } finally {
    await emu.stop();
  }
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  test(`${signal} stops the emulator cleanly: exit 0, runtime killed, port closed`, async () => {
    const emu = await serve('app.slow');
    const { json } = await emu.invoke({ ms: 0 });
    assert.ok(processExists(json.pid));
    // One invocation in flight while the signal arrives.
    const inflight = emu.invoke({ ms: 2000 }).catch((e) => e);
    await new Promise((r) => setTimeout(r, 100));
    const exit = await emu.stop(signal);
    assert.equal(exit.code, 0, emu.output);
    assert.ok(!processExists(json.pid), `runtime ${json.pid} must not outlive the emulator`);
    const answer = await inflight;
    // The caller is told (an error answer or a closed connection), never left hanging.
    assert.ok(answer instanceof Error || answer.status >= 500 || answer.functionError, String(answer?.status));
    await assert.rejects(fetch(`http://127.0.0.1:${emu.port}/2015-03-31/functions/function/invocations`, { method: 'POST', body: '{}' }));
  });
}

test('Ctrl-C in a terminal (SIGINT to the process group) stops the emulator, not just the runtime', async () => {
  const emu = await serve('app.slow', [], { detached: true });
  const { json } = await emu.invoke({ ms: 0 });
  // The runtime has a process group of its own, so the terminal's SIGINT is not delivered to it.
  const pgrp = (pid) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[2]);
  assert.equal(pgrp(json.pid), json.pid);
  assert.notEqual(pgrp(json.pid), pgrp(emu.child.pid));
  const inflight = emu.invoke({ ms: 3000 });
  await new Promise((r) => setTimeout(r, 150));
  const exit = await emu.signalGroup('SIGINT');
  assert.equal(exit.code, 0, emu.output);
  assert.match(emu.output, /SIGINT: stopped/);
  // The runtime did not die first of the same signal (which the caller would see as a crash,
  // Runtime.ExitError "signal: interrupt"): the emulator stopped it.
  const answer = await inflight;
  assert.equal(answer.json.errorType, 'Runtime.Unavailable', answer.text);
  assert.ok(!processExists(json.pid));
});

test('a SIGKILLed emulator leaves no orphan runtime (the runtime dies with it)', async () => {
  const emu = await serve('app.slow');
  const { json } = await emu.invoke({ ms: 0 });
  await emu.stop('SIGKILL');
  assert.ok(await waitFor(() => !processExists(json.pid)), `runtime ${json.pid} outlived a SIGKILLed emulator`);
});
