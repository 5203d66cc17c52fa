// How RuntimeClient fails: every failure is an Error with a stable `code` the invoke loop can
// branch on, and the context it needs to act (`status` and `body` of a non-2xx answer, the
// `requestId` of an invocation that cannot be served).
import { test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import { RuntimeClient } from '../lib/native.mjs';
import { startRuntimeApi } from './helpers/runtime-api.mjs';
import { freePort } from './helpers/ports.mjs';

const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:f';

async function setup(t, options) {
  const api = await startRuntimeApi(options);
  t.after(() => api.close());
  return { api, client: new RuntimeClient(api.endpoint) };
}

function assertCode(code, extra = {}) {
  return (err) => {
    assert.ok(err instanceof Error, 'an Error');
    assert.equal(err.code, code, err.message);
    for (const [k, v] of Object.entries(extra)) assert.deepEqual(err[k], v, k);
    return true;
  };
}

test('a missing or malformed endpoint throws at construction, saying why', () => {
  const saved = process.env.AWS_LAMBDA_RUNTIME_API;
  delete process.env.AWS_LAMBDA_RUNTIME_API;
  try {
    assert.throws(() => new RuntimeClient(), (err) => {
      assertCode('ERR_RUNTIME_API_ENDPOINT')(err);
      assert.match(err.message, /AWS_LAMBDA_RUNTIME_API is not set/);
      return true;
    });
  } finally {
    if (saved !== undefined) process.env.AWS_LAMBDA_RUNTIME_API = saved;
  }
  for (const [endpoint, why] of [
    ['', /empty/],
    ['localhost', /port is missing/],
    [':9001', /host is missing/],
    ['127.0.0.1:http', /port is not a number/],
    ['127.0.0.1:65536', /port is not a number/],
    ['https://127.0.0.1:9001', /https/],
  ]) {
    assert.throws(() => new RuntimeClient(endpoint), (err) => {
      assertCode('ERR_RUNTIME_API_ENDPOINT')(err);
      assert.match(err.message, why, endpoint);
      assert.ok(err.message.includes(`'${endpoint}'`), 'the message quotes the endpoint');
      return true;
    });
  }
});

test('an unreachable Runtime API rejects every call with ERR_RUNTIME_API_UNREACHABLE', async () => {
  const client = new RuntimeClient(`127.0.0.1:${await freePort()}`);
  const unreachable = assertCode('ERR_RUNTIME_API_UNREACHABLE');
  await assert.rejects(client.next(), unreachable);
  await assert.rejects(client.respond('id', '{}'), unreachable);
  await assert.rejects(client.respondThenNext('id', '{}'), unreachable);
  await assert.rejects(client.fail('id', '{}', 'Error', '{}'), unreachable);
  await assert.rejects(client.initError('{}', 'Error'), unreachable);
  assert.throws(() => client.failSync('id', '{}', 'Error'), unreachable);
  assert.throws(() => client.initErrorSync('{}', 'Error'), unreachable);
});

test('a Runtime API that went away after a call makes the next call fail, not hang', async (t) => {
  const { api, client } = await setup(t);
  api.invoke({}, { requestId: 'last' });
  await client.next();
  await api.close();
  await assert.rejects(client.respond('last', '{}'), assertCode('ERR_RUNTIME_API_UNREACHABLE'));
});

test('non-2xx answers to a POST carry code, status and the API\'s body', async (t) => {
  const { api, client } = await setup(t);
  const answers = [
    [413, '{"errorMessage":"Exceeded maximum allowed payload size (6291556 bytes).","errorType":"RequestEntityTooLarge"}'],
    [400, '{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}'],
    [403, '{"errorMessage":"Invalid state transition","errorType":"InvalidStateTransition"}'],
    [500, '{"errorMessage":"Container error","errorType":"ContainerError"}'],
  ];
  for (const [status, body] of answers) {
    const id = `status-${status}`;
    const done = api.invoke({}, { requestId: id, reply: { status, body } });
    await client.next();
    await assert.rejects(client.respond(id, '{"n":1}'), (err) => {
      assertCode('ERR_RUNTIME_API_STATUS', { status, body })(err);
      assert.match(err.message, new RegExp(`HTTP ${status}`));
      return true;
    });
    assert.equal((await done).status, status);
  }
  // Error bodies were drained: one connection served all four posts (GET next has its own).
  const postConnections = new Set(api.requests.filter((r) => r.method === 'POST').map((r) => r.connection));
  assert.equal(postConnections.size, 1);
  assert.equal(api.connectionCount, 2);
});

test('an oversized response is answered 413 and the body says so', async (t) => {
  const { api, client } = await setup(t);
  const body = '{"errorMessage":"Exceeded maximum allowed payload size (6291556 bytes).","errorType":"RequestEntityTooLarge"}';
  const done = api.invoke({}, { requestId: 'huge', reply: { status: 413, body } });
  await client.next();
  const tooBig = Buffer.alloc(6 * 1024 * 1024 + 101, 0x61);
  await assert.rejects(client.respond('huge', tooBig), assertCode('ERR_RUNTIME_API_STATUS', { status: 413, body }));
  assert.equal((await done).entry.body.length, tooBig.length);
});

test('non-2xx answers to fail(), initError() and next() carry code, status and body', async (t) => {
  const initBody = '{"errorMessage":"init error already reported","errorType":"InvalidStateTransition"}';
  const { api, client } = await setup(t, { initErrorReply: { status: 403, body: initBody } });
  await assert.rejects(client.initError('{}', 'Error'), assertCode('ERR_RUNTIME_API_STATUS', { status: 403, body: initBody }));
  await assert.rejects(client.fail('unknown-id', '{}', 'Error'), (err) => {
    assertCode('ERR_RUNTIME_API_STATUS', { status: 400 })(err);
    assert.match(err.body, /unknown request id unknown-id/);
    return true;
  });
  api.replyNext({ status: 500, headers: { 'Content-Type': 'application/json' }, body: '{"errorType":"ContainerError"}' });
  await assert.rejects(client.next(), assertCode('ERR_RUNTIME_API_STATUS', { status: 500, body: '{"errorType":"ContainerError"}' }));
  api.replyNext({ status: 410 });
  await assert.rejects(client.next(), assertCode('ERR_RUNTIME_API_STATUS', { status: 410, body: '' }));
});

const validHeaders = (id) => ({
  'Lambda-Runtime-Aws-Request-Id': id,
  'Lambda-Runtime-Deadline-Ms': String(Date.now() + 60_000),
  'Lambda-Runtime-Invoked-Function-Arn': ARN,
});

test('an invocation without a request id rejects with ERR_RUNTIME_API_INVALID_INVOCATION', async (t) => {
  const { api, client } = await setup(t);
  const headers = validHeaders('x');
  delete headers['Lambda-Runtime-Aws-Request-Id'];
  api.replyNext({ headers, body: '{}' });
  await assert.rejects(client.next(), (err) => {
    assertCode('ERR_RUNTIME_API_INVALID_INVOCATION')(err);
    assert.equal(err.requestId, undefined);
    assert.match(err.message, /Lambda-Runtime-Aws-Request-Id/);
    return true;
  });
});

test('an invocation missing its deadline or function ARN is served as the official clients serve it', async (t) => {
  const { api, client } = await setup(t);
  const headers = validHeaders('bare');
  delete headers['Lambda-Runtime-Deadline-Ms'];
  delete headers['Lambda-Runtime-Invoked-Function-Arn'];
  api.replyNext({ headers, body: '{}' });
  const inv = await client.next();
  assert.equal(inv.requestId, 'bare');
  assert.equal(inv.deadlineMs, 0);
  assert.equal(inv.invokedFunctionArn, '');
});

test('a deadline is read as the official clients read it: its leading digits, as sent', async (t) => {
  const { api, client } = await setup(t);
  const seconds = Math.floor(Date.now() / 1000);
  for (const [deadline, ms] of [[String(seconds), seconds], ['600000', 600000], ['-1', -1], ['tomorrow', 0], ['', 0], ['1700000000000.9', 1700000000000]]) {
    api.replyNext({ headers: { ...validHeaders('odd-deadline'), 'Lambda-Runtime-Deadline-Ms': deadline }, body: '{}' });
    assert.equal((await client.next()).deadlineMs, ms, deadline);
  }
});

test('after an invocation without a request id the connection serves the next one', async (t) => {
  const { api, client } = await setup(t);
  api.replyNext({ headers: { ...validHeaders('x'), 'Lambda-Runtime-Aws-Request-Id': '' }, body: '{}' });
  await assert.rejects(client.next(), assertCode('ERR_RUNTIME_API_INVALID_INVOCATION'));
  api.invoke({ ok: true }, { requestId: 'fine' });
  assert.equal((await client.next()).requestId, 'fine');
});

test('a body that is neither string nor Buffer is refused synchronously', () => {
  const client = new RuntimeClient('127.0.0.1:9');
  for (const bad of [42, { a: 1 }, null, undefined]) {
    assert.throws(() => client.respond('id', bad), (err) => err instanceof Error);
  }
});
