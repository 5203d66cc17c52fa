// Connections and threads: kept-alive TCP connections across calls (GET next's own, and the
// posts'), recovery when the server closes them, and a GET next that never blocks the JS
// thread, whether the event loop or the long-poll thread serves it.
import { test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RuntimeClient } from '../lib/native.mjs';
import { startRuntimeApi } from './helpers/runtime-api.mjs';
import { watch } from './helpers/child.mjs';

const PENDING_NEXT = fileURLToPath(new URL('./fixtures/client/pending-next.mjs', import.meta.url));

// GET next is served by the event loop itself (src/next/on_loop.rs, chosen in src/next/mod.rs), or by the client's
// long-poll thread when told so (the fallback where libuv cannot be reached): both must keep
// the process alive while pending, and neither may hold up process.exit().
const NEXT_PATHS = { 'event loop': {}, 'long-poll thread': { LAMBDA_RAPID_NEXT_ON_THREAD: '1' } };

function runPendingNext(t, endpoint, mode, env = {}) {
  const child = spawn(process.execPath, [PENDING_NEXT, endpoint, mode], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  const watched = watch(child);
  t.after(() => watched.kill());
  let stdout = '';
  child.stdout.on('data', (d) => { stdout += d; });
  const exited = watched.exited.then(({ code, signal }) => ({ code, signal, stdout }));
  return { exited };
}

async function setup(t, options) {
  const api = await startRuntimeApi(options);
  t.after(() => api.close());
  return { api, client: new RuntimeClient(api.endpoint) };
}

async function roundTrip(api, client, id) {
  const done = api.invoke({ id }, { requestId: id });
  const inv = await client.next();
  assert.equal(inv.requestId, id);
  await client.respond(id, JSON.stringify({ id }));
  assert.equal((await done).status, 202);
}

// GET next has a connection of its own (watched by the event loop, src/next/on_loop.rs);
// the posts share another. Both are kept alive.
const connectionsOf = (requests, method) => [...new Set(requests.filter((r) => r.method === method).map((r) => r.connection))];

test('keep-alive: GET next keeps one connection, and the posts share another', async (t) => {
  const { api, client } = await setup(t);
  for (let i = 0; i < 5; i++) await roundTrip(api, client, `ka-${i}`);
  const done = api.invoke({}, { requestId: 'ka-err' });
  await client.next();
  await client.fail('ka-err', '{}', 'Error', '{}');
  await done;
  await client.initError('{}', 'Error');
  assert.equal(api.requests.length, 13);
  assert.equal(api.connectionCount, 2);
  assert.equal(connectionsOf(api.requests, 'GET').length, 1, 'every GET on one connection');
  assert.equal(connectionsOf(api.requests, 'POST').length, 1, 'every POST on one connection');
  assert.notDeepEqual(connectionsOf(api.requests, 'GET'), connectionsOf(api.requests, 'POST'));
  for (const r of api.requests) assert.notEqual(r.headers.connection, 'close');
});

test('a server that closes the kept-alive connections between calls costs a reconnect, not a failure', async (t) => {
  const { api, client } = await setup(t);
  await roundTrip(api, client, 'before');
  assert.equal(api.connectionCount, 2);
  api.dropConnections();
  await roundTrip(api, client, 'after');
  assert.equal(api.connectionCount, 4, 'one new connection for the GET, one for the POST');
  api.dropConnections();
  await client.initError('{}', 'Error');
  assert.equal(api.connectionCount, 5);
});

test('a request the server drops unanswered on a kept-alive connection is sent once more', async (t) => {
  const { api, client } = await setup(t);
  const calls = {
    'GET next': async () => {
      api.invoke({}, { requestId: 'n1' });
      assert.equal((await client.next()).requestId, 'n1');
    },
    'POST response': () => client.respond('n1', '{"once":true}'),
    'POST error': async () => {
      const done = api.invoke({}, { requestId: 'e1' });
      await client.next();
      api.dropNextRequest();
      await client.fail('e1', '{"errorType":"E"}', 'E', '{"c":1}');
      await done;
    },
    'POST init/error': () => client.initError('{}', 'Runtime.Error'),
  };
  await roundTrip(api, client, 'warm');
  for (const [name, call] of Object.entries(calls)) {
    const connectionsBefore = api.connectionCount;
    const seenBefore = api.requests.length;
    if (name !== 'POST error') api.dropNextRequest();
    await call();
    const sent = api.requests.slice(seenBefore).filter((r) => `${r.method} ${r.path}`.includes(name.split(' ')[1]));
    assert.deepEqual(sent.map((r) => Boolean(r.dropped)), [true, false], `${name}: dropped once, sent again once`);
    assert.deepEqual(sent[1].headers['lambda-runtime-function-error-type'], sent[0].headers['lambda-runtime-function-error-type']);
    assert.ok(sent[1].body.equals(sent[0].body), `${name}: the same body again`);
    assert.equal(api.connectionCount, connectionsBefore + 1, `${name}: on a new connection`);
  }
});

test('a request dropped twice in a row fails with ERR_RUNTIME_API_UNREACHABLE: one retry only', async (t) => {
  const { api, client } = await setup(t);
  await roundTrip(api, client, 'warm');
  api.dropNextRequest();
  api.dropNextRequest();
  await assert.rejects(client.initError('{}', 'Error'), (err) => err.code === 'ERR_RUNTIME_API_UNREACHABLE');
  assert.equal(api.requests.filter((r) => r.dropped).length, 2);
  await client.initError('{}', 'Error');
});

test('a server closing idle connections as the client reuses them never fails a call', async (t) => {
  // Node's http server closes a connection idle for keepAliveTimeout (5 s + 1 s by default:
  // shorter than many handlers run). Pausing about that long before each call makes the close
  // and the next request meet: either ureq sees the close first and reconnects, or the request
  // is lost and sent again. Both must end in success, with each response answered once.
  const { api, client } = await setup(t, { closeIdleAfterMs: 30 });
  for (let i = 0; i < 12; i++) {
    const done = api.invoke({ i }, { requestId: `idle-${i}` });
    await client.next();
    await sleep(27 + (i % 6));
    await client.respond(`idle-${i}`, '{}');
    await done;
    await sleep(27 + (i % 6));
  }
  assert.ok(api.connectionCount > 1, `idle connections were closed (${api.connectionCount} connections)`);
  const answered = api.requests.filter((r) => r.method === 'POST');
  assert.equal(answered.length, 12, 'each response posted and answered once');
});

test('a GET next the server drops while holding it is sent once more and still gets its event', async (t) => {
  const { api, client } = await setup(t);
  const pending = client.next();
  await api.waitForRequest((r) => r.method === 'GET');
  api.dropConnections();
  await api.waitForRequest((r, i) => r.method === 'GET' && i > 0);
  api.invoke({ late: true }, { requestId: 'late' });
  assert.equal((await pending).requestId, 'late');
  assert.equal(api.connectionCount, 2);
});

test('the JS thread stays free while next() waits: timers keep firing', { timeout: 10_000 }, async (t) => {
  const { api, client } = await setup(t);
  let ticks = 0;
  const timer = setInterval(() => { ticks += 1; }, 5);
  t.after(() => clearInterval(timer));
  let settled = false;
  const pending = client.next().finally(() => { settled = true; });
  await api.waitForRequest((r) => r.method === 'GET');
  const ticksAtStart = ticks;
  await sleep(300);
  assert.equal(settled, false, 'next() is still waiting for an event');
  assert.equal(api.waitingNextCount, 1);
  // A blocked JS thread would fire none; a free one about 60 (allow a slow, shared machine).
  assert.ok(ticks - ticksAtStart >= 10, `the timer fired ${ticks - ticksAtStart} times during a pending next()`);
  api.invoke({ n: 1 }, { requestId: 'free' });
  assert.equal((await pending).requestId, 'free');
});

test('other calls complete while a next() is pending', async (t) => {
  const { api, client } = await setup(t);
  const pending = client.next();
  await api.waitForRequest((r) => r.method === 'GET');
  // The pending GET holds one connection; these go on another.
  await client.initError('{}', 'Runtime.Error');
  await api.initError();
  api.invoke({}, { requestId: 'after' });
  assert.equal((await pending).requestId, 'after');
  assert.equal(api.connectionCount, 2);
});

test('respond() runs off the JS thread too: a slow Runtime API does not block timers', { timeout: 10_000 }, async (t) => {
  const { api, client } = await setup(t);
  const done = api.invoke({}, { requestId: 'slow', reply: { status: 202, body: '{}' } });
  await client.next();
  // Hold the POST's answer: the server answers only after 200 ms.
  const original = api.server.listeners('request')[0];
  api.server.removeListener('request', original);
  api.server.on('request', (req, res) => setTimeout(() => original(req, res), 200));
  let ticks = 0;
  const timer = setInterval(() => { ticks += 1; }, 5);
  t.after(() => clearInterval(timer));
  await client.respond('slow', '{"slow":true}');
  assert.ok(ticks >= 10, `the timer fired ${ticks} times while respond() waited`);
  assert.equal((await done).entry.body.toString(), '{"slow":true}');
});

for (const [path, env] of Object.entries(NEXT_PATHS)) {
  test(`a pending next() keeps the process alive until its event arrives (${path})`, { timeout: 20_000 }, async (t) => {
    const { api } = await setup(t);
    const { exited } = runPendingNext(t, api.endpoint, 'wait', env);
    await api.waitForRequest((r) => r.method === 'GET');
    await sleep(200); // nothing else is pending in the child: only the GET keeps it running
    api.invoke({}, { requestId: 'kept-alive' });
    const { code, stdout } = await exited;
    assert.equal(stdout, 'invocation kept-alive\n');
    assert.equal(code, 0);
  });

  test(`process.exit() while a next() is pending ends the process (${path})`, { timeout: 20_000 }, async (t) => {
    const { api } = await setup(t);
    const { exited } = runPendingNext(t, api.endpoint, 'exit', env);
    const { code, signal, stdout } = await exited;
    assert.equal(signal, null);
    assert.equal(code, 3, 'exited with its own code, not killed by the test timeout');
    assert.equal(stdout, '');
  });
}

test('GET next needs no thread: the long-poll thread starts only when told to, or for a second pending next()', { timeout: 20_000 }, async (t) => {
  const { api } = await setup(t);
  const threads = () => fs.readdirSync('/proc/self/task')
    .map((id) => fs.readFileSync(`/proc/self/task/${id}/comm`, 'utf8').trim())
    .filter((name) => name.startsWith('lambda-rapid-ne')).length;
  const client = new RuntimeClient(api.endpoint);
  const before = threads();
  api.invoke({ n: 1 }, { requestId: 'one-at-a-time' });
  assert.equal((await client.next()).requestId, 'one-at-a-time');
  assert.equal(threads(), before, 'no thread was started for a lone next()');
  // Two at once: the first on the event loop, the second on the thread; each gets one event,
  // in the order the GETs were sent.
  const first = client.next();
  await api.waitForRequest((r, i) => r.method === 'GET' && i > 0);
  const second = client.next();
  await api.waitForRequest((r, i) => r.method === 'GET' && i > 1);
  api.invoke({}, { requestId: 'a' });
  api.invoke({}, { requestId: 'b' });
  assert.deepEqual([(await first).requestId, (await second).requestId], ['a', 'b']);
  assert.equal(threads(), before + 1, 'the second pending next() started the thread');
});
