// The event-loop contract (docs/event-loop.md), pinned in both modes: which callbacks the
// handler queued run before the response POST, which run before the next GET, which after.
// Handlers in fixtures/runtime/order append "<monotonic ns> <label>" marks; the Runtime API
// test server stamps every request with the same monotonic clock on arrival, and the two are
// merged into one timeline.
import { test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import { startFunction, ORDER, marksFile, timeline, sleep } from './fixtures/runtime/harness.mjs';

const T = { timeout: 20000 };

/**
 * Runs two invocations of `handler` (ids e1, e2; the second 60 ms after the first answered,
 * so a setTimeout(0) left by the first has fired), waits for a 150 ms timer left by the first
 * to fire, and returns the timeline.
 */
async function probe(t, handler, mode) {
  const marks = marksFile();
  const fn = await startFunction({ handler, taskRoot: ORDER, mode, env: { RUNTIME_MARKS: marks.file } });
  t.after(async () => {
    await fn.close();
    marks.remove();
  });
  const first = await fn.invoke({ n: 1 }, { requestId: 'e1' });
  await sleep(60);
  const second = await fn.invoke({ n: 2 }, { requestId: 'e2' });
  await fn.api.waitForRequest((r) => r.path.endsWith('/next') && r.at > second.entry.at);
  await sleep(200);
  return { first, second, events: timeline(fn.api.requests, marks.read()) };
}

/** The timeline without `label`, and `label`'s index in the full one. */
function without(events, label) {
  return { rest: events.filter((e) => e !== label), at: events.indexOf(label) };
}

function assertBetween(events, label, after, before) {
  const i = events.indexOf(label);
  assert.ok(i > events.indexOf(after), `${label} after ${after}: ${events.join(' | ')}`);
  assert.ok(i < events.indexOf(before), `${label} before ${before}: ${events.join(' | ')}`);
}

test('3.x mode: microtasks run before the POST, nextTick and setImmediate after it and before the next GET', T, async (t) => {
  const { events } = await probe(t, 'probes.afterAwait', 3);
  assert.deepEqual(without(events, 'setTimeout0').rest, [
    'GET next', 'return', 'microtask', 'POST response e1', 'nextTick', 'setImmediate', 'GET next',
    'invoke 2', 'POST response e2', 'GET next', 'setTimeout150',
  ]);
  // setTimeout(0) fires after the POST (its order against the concurrent GET is not defined).
  assertBetween(events, 'setTimeout0', 'POST response e1', 'invoke 2');
});

test('4.x mode: microtasks, nextTick and setImmediate run before the POST; setTimeout(0) after it', T, async (t) => {
  const { events } = await probe(t, 'probes.afterAwait', 4);
  assert.deepEqual(without(events, 'setTimeout0').rest, [
    'GET next', 'return', 'microtask', 'nextTick', 'setImmediate', 'POST response e1', 'GET next',
    'invoke 2', 'POST response e2', 'GET next', 'setTimeout150',
  ]);
  assertBetween(events, 'setTimeout0', 'POST response e1', 'invoke 2');
});

test('3.x mode: an async handler that throws follows the same order (error POST in the settling microtask)', T, async (t) => {
  const { events } = await probe(t, 'probes.throws', 3);
  assert.deepEqual(without(events, 'setTimeout0').rest, [
    'GET next', 'throw', 'microtask', 'POST error e1', 'nextTick', 'setImmediate', 'GET next',
    'invoke 2', 'POST response e2', 'GET next', 'setTimeout150',
  ]);
  assertBetween(events, 'setTimeout0', 'POST error e1', 'invoke 2');
});

test('4.x mode: an async handler that throws follows the same order (error POST after one setImmediate turn)', T, async (t) => {
  const { events } = await probe(t, 'probes.throws', 4);
  assert.deepEqual(without(events, 'setTimeout0').rest, [
    'GET next', 'throw', 'microtask', 'nextTick', 'setImmediate', 'POST error e1', 'GET next',
    'invoke 2', 'POST response e2', 'GET next', 'setTimeout150',
  ]);
  assertBetween(events, 'setTimeout0', 'POST error e1', 'invoke 2');
});

for (const mode of [3, 4]) {
  test(`the handler is called in a microtask after GET next resolves: its microtask runs before its nextTick (${mode}.x mode)`, T, async (t) => {
    const { events } = await probe(t, 'probes.calledIn', mode);
    const firstInvocation = events.slice(0, events.indexOf('GET next', 1) + 1);
    assert.deepEqual(firstInvocation, mode === 3
      ? ['GET next', 'handler', 'queueMicrotask', 'POST response e1', 'nextTick', 'setImmediate', 'GET next']
      : ['GET next', 'handler', 'queueMicrotask', 'nextTick', 'setImmediate', 'POST response e1', 'GET next']);
  });
}

for (const mode of [3, 4]) {
  test(`no timer runs while the response is in flight: one already due fires after the POST (${mode}.x mode)`, T, async (t) => {
    const { events } = await probe(t, 'probes.dueTimer', mode);
    assert.deepEqual(events.slice(0, 3), ['GET next', 'return', 'POST response e1']);
    // (Its order against the next GET differs by mode and phase: not part of the contract.)
    assertBetween(events, 'timer2', 'POST response e1', 'invoke 2');
  });
}

test('3.x mode: context.succeed posts at once, before the handler\'s microtasks', T, async (t) => {
  const { events } = await probe(t, 'callback.succeedProbes', 3);
  assert.deepEqual(without(events, 'setTimeout0').rest, [
    'GET next', 'succeed', 'POST response e1', 'microtask', 'nextTick', 'setImmediate', 'GET next',
    'invoke 2', 'POST response e2', 'GET next',
  ]);
  assertBetween(events, 'setTimeout0', 'POST response e1', 'invoke 2');
});

test('3.x mode: a callback with callbackWaitsForEmptyEventLoop posts once the handler\'s timers have run', T, async (t) => {
  const { events } = await probe(t, 'callback.waits', 3);
  assert.deepEqual(events.slice(0, 5), ['GET next', 'after callback', 'timer100', 'POST response e1', 'GET next']);
});

test('3.x mode: callbackWaitsForEmptyEventLoop = false posts inside callback(), timers run while the next GET waits', T, async (t) => {
  const { events } = await probe(t, 'callback.noWait', 3);
  assert.deepEqual(events.slice(0, 4), ['GET next', 'POST response e1', 'after callback', 'GET next']);
  assert.ok(events.indexOf('timer100') > 3, events.join(' | '));
});
