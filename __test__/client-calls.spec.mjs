// Every RuntimeClient call against a real Runtime API server on 127.0.0.1: what it sends (paths,
// headers, bodies, byte for byte) and what it hands back to JS.
import { test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RuntimeClient } from '../lib/native.mjs';
import { startRuntimeApi } from './helpers/runtime-api.mjs';

const SIX_MB = 6 * 1024 * 1024;
const POST_SYNC_THEN_EXIT = fileURLToPath(new URL('./fixtures/client/post-sync-then-exit.mjs', import.meta.url));

async function setup(t, options) {
  const api = await startRuntimeApi(options);
  t.after(() => api.close());
  return { api, client: new RuntimeClient(api.endpoint) };
}

test('next() returns every invocation field and respond() posts the result', async (t) => {
  const { api, client } = await setup(t);
  const deadlineMs = Date.now() + 3000;
  const done = api.invoke({ hello: 'world' }, {
    requestId: '8476a536-e9f4-11e8-9739-2dfe598c3fcd',
    deadlineMs,
    headers: {
      'Lambda-Runtime-Trace-Id': 'Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1',
      'Lambda-Runtime-Client-Context': '{"custom":{"k":"v"}}',
      'Lambda-Runtime-Cognito-Identity': '{"cognitoIdentityId":"id","cognitoIdentityPoolId":"pool"}',
      'Lambda-Runtime-Aws-Tenant-Id': 'tenant-42',
    },
  });
  const inv = await client.next();
  assert.deepEqual(inv, {
    requestId: '8476a536-e9f4-11e8-9739-2dfe598c3fcd',
    deadlineMs,
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:test-function',
    traceId: 'Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1',
    clientContext: '{"custom":{"k":"v"}}',
    cognitoIdentity: '{"cognitoIdentityId":"id","cognitoIdentityPoolId":"pool"}',
    tenantId: 'tenant-42',
    body: '{"hello":"world"}',
  });
  assert.equal(await client.respond(inv.requestId, '{"ok":true}'), undefined);
  const { kind, entry } = await done;
  assert.equal(kind, 'response');
  assert.equal(entry.method, 'POST');
  assert.equal(entry.path, '/2018-06-01/runtime/invocation/8476a536-e9f4-11e8-9739-2dfe598c3fcd/response');
  assert.equal(entry.headers['content-type'], 'application/json');
  assert.equal(entry.body.toString(), '{"ok":true}');
  assert.equal(api.requests[0].method, 'GET');
  assert.equal(api.requests[0].path, '/2018-06-01/runtime/invocation/next');
});

test('optional invocation fields are absent when the API does not send them', async (t) => {
  const { api, client } = await setup(t);
  api.invoke({}, { requestId: 'bare' });
  const inv = await client.next();
  assert.equal(inv.requestId, 'bare');
  for (const field of ['traceId', 'clientContext', 'cognitoIdentity', 'tenantId']) {
    assert.equal(inv[field], undefined, field);
  }
});

test('invocation headers are read in any letter case', async (t) => {
  for (const headerCase of [(n) => n.toLowerCase(), (n) => n.toUpperCase()]) {
    const { api, client } = await setup(t, { headerCase });
    api.invoke({ n: 1 }, {
      requestId: 'cased',
      headers: { [headerCase('Lambda-Runtime-Trace-Id')]: 'Root=1-x' },
    });
    const inv = await client.next();
    assert.equal(inv.requestId, 'cased');
    assert.equal(inv.invokedFunctionArn, 'arn:aws:lambda:us-east-1:123456789012:function:test-function');
    assert.equal(inv.traceId, 'Root=1-x');
    assert.ok(inv.deadlineMs > Date.now());
  }
});

test('an event without Content-Type is read (the official native client crashes on it)', async (t) => {
  const { api, client } = await setup(t);
  api.invoke('{"a":1}', { requestId: 'no-ct', contentType: null });
  const inv = await client.next();
  assert.equal(inv.requestId, 'no-ct');
  assert.equal(inv.body, '{"a":1}');
  assert.equal(api.requests.length, 1);
});

test('an empty event is an empty string', async (t) => {
  const { api, client } = await setup(t);
  api.invoke('', { requestId: 'empty' });
  assert.equal((await client.next()).body, '');
});

test('every call goes under the endpoint path prefix', async (t) => {
  const { api, client } = await setup(t, { prefix: '/.rt' });
  assert.match(api.endpoint, /\/\.rt$/);
  const first = api.invoke({}, { requestId: 'p1' });
  await client.next();
  await client.respond('p1', '{}');
  await first;
  const second = api.invoke({}, { requestId: 'p2' });
  await client.next();
  await client.fail('p2', '{}', 'Runtime.Error');
  await second;
  await client.initError('{}', 'Runtime.Error');
  assert.deepEqual(api.requests.map((r) => `${r.method} ${r.path}`), [
    'GET /.rt/2018-06-01/runtime/invocation/next',
    'POST /.rt/2018-06-01/runtime/invocation/p1/response',
    'GET /.rt/2018-06-01/runtime/invocation/next',
    'POST /.rt/2018-06-01/runtime/invocation/p2/error',
    'POST /.rt/2018-06-01/runtime/init/error',
  ]);
});

test('request ids that need encoding are one percent-encoded path segment', async (t) => {
  const { api, client } = await setup(t);
  const ids = ['a/b c', 'q?x=1#frag', '100%', 'ünïcödé-✓', '../../init/error'];
  for (const id of ids) {
    // Queued only (not all of these are legal header values for next()): the server knows the id.
    const done = api.invoke({}, { requestId: id });
    await client.respond(id, '{}');
    const { entry } = await done;
    assert.equal(entry.path, `/2018-06-01/runtime/invocation/${encodeURIComponent(id)}/response`);
  }
});

test('fail() posts the error body with its type and the X-Ray cause', async (t) => {
  const { api, client } = await setup(t);
  const done = api.invoke({}, { requestId: 'e1' });
  await client.next();
  const body = JSON.stringify({ errorType: 'TypeError', errorMessage: 'bad', trace: ['TypeError: bad'] });
  const cause = JSON.stringify({ working_directory: '/var/task', exceptions: [{ type: 'TypeError', message: 'bad', stack: [] }], paths: [] });
  await client.fail('e1', body, 'TypeError', cause);
  const { kind, entry } = await done;
  assert.equal(kind, 'error');
  assert.equal(entry.path, '/2018-06-01/runtime/invocation/e1/error');
  assert.equal(entry.headers['content-type'], 'application/json');
  assert.equal(entry.headers['lambda-runtime-function-error-type'], 'TypeError');
  assert.equal(entry.headers['lambda-runtime-function-xray-error-cause'], cause);
  assert.equal(entry.body.toString(), body);
});

test('fail() without an X-Ray cause sends no cause header', async (t) => {
  const { api, client } = await setup(t);
  const done = api.invoke({}, { requestId: 'e2' });
  await client.next();
  await client.fail('e2', Buffer.from('{"errorType":"Error"}'), 'Error');
  const { entry } = await done;
  assert.equal(entry.headers['lambda-runtime-function-error-type'], 'Error');
  assert.equal(entry.headers['lambda-runtime-function-xray-error-cause'], undefined);
  assert.equal(entry.body.toString(), '{"errorType":"Error"}');
});

test('a non-ASCII X-Ray cause is sent as the same JSON in ASCII', async (t) => {
  const { api, client } = await setup(t);
  const done = api.invoke({}, { requestId: 'e3' });
  await client.next();
  const cause = JSON.stringify({ exceptions: [{ message: 'héllo 😀 "q"' }] });
  await client.fail('e3', '{}', 'Error', cause);
  const { entry } = await done;
  const sent = entry.headers['lambda-runtime-function-xray-error-cause'];
  assert.match(sent, /^[\x20-\x7e]+$/);
  assert.deepEqual(JSON.parse(sent), JSON.parse(cause));
});

test('initError() posts to init/error with the error type', async (t) => {
  const { api, client } = await setup(t);
  const body = JSON.stringify({ errorType: 'Runtime.ImportModuleError', errorMessage: 'Cannot find module' });
  await client.initError(body, 'Runtime.ImportModuleError');
  const entry = await api.initError();
  assert.equal(entry.method, 'POST');
  assert.equal(entry.path, '/2018-06-01/runtime/init/error');
  assert.equal(entry.headers['content-type'], 'application/json');
  assert.equal(entry.headers['lambda-runtime-function-error-type'], 'Runtime.ImportModuleError');
  assert.equal(entry.body.toString(), body);
});

// The sync calls block the JS thread, so the Runtime API runs in this process and the client in
// a child that exits right after the call: what the server saw, it saw before the exit.
function postSyncThenExit(endpoint, ...args) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [POST_SYNC_THEN_EXIT, endpoint, ...args], (error, stdout) => {
      if (error && typeof error.code !== 'number') reject(error);
      else resolve({ exitCode: error ? error.code : 0, stdout });
    });
  });
}

test('failSync() has posted the error when it returns, in a process that exits at once', async (t) => {
  const { api } = await setup(t);
  const done = api.invoke({}, { requestId: 'sync/1' });
  const { exitCode, stdout } = await postSyncThenExit(api.endpoint, 'fail', 'sync/1', 'Error', '{"paths":[]}');
  assert.equal(stdout, '');
  assert.equal(exitCode, 7);
  const { kind, entry } = await done;
  assert.equal(kind, 'error');
  assert.equal(entry.path, '/2018-06-01/runtime/invocation/sync%2F1/error');
  assert.equal(entry.headers['lambda-runtime-function-error-type'], 'Error');
  assert.equal(entry.headers['lambda-runtime-function-xray-error-cause'], '{"paths":[]}');
  assert.deepEqual(JSON.parse(entry.body), { errorType: 'Error', errorMessage: 'exiting' });
});

test('initErrorSync() has posted the init error when it returns', async (t) => {
  const { api } = await setup(t);
  const { exitCode } = await postSyncThenExit(api.endpoint, 'init-error', 'Runtime.HandlerNotFound');
  assert.equal(exitCode, 7);
  const entry = await api.initError();
  assert.equal(entry.path, '/2018-06-01/runtime/init/error');
  assert.equal(entry.headers['lambda-runtime-function-error-type'], 'Runtime.HandlerNotFound');
  assert.deepEqual(JSON.parse(entry.body), { errorType: 'Runtime.HandlerNotFound', errorMessage: 'exiting' });
});

test('a sync call reports a non-2xx answer by throwing, with status and body', async (t) => {
  const { api } = await setup(t, { initErrorReply: { status: 403, body: '{"errorType":"InvalidStateTransition"}' } });
  const { exitCode, stdout } = await postSyncThenExit(api.endpoint, 'init-error', 'Runtime.Error');
  assert.equal(exitCode, 9);
  const thrown = JSON.parse(stdout);
  assert.equal(thrown.code, 'ERR_RUNTIME_API_STATUS');
  assert.equal(thrown.status, 403);
  assert.equal(thrown.body, '{"errorType":"InvalidStateTransition"}');
  assert.match(thrown.message, /403/);
});

test('respondThenNext() posts the response and returns the next invocation', async (t) => {
  const { api, client } = await setup(t);
  const first = api.invoke({ n: 1 }, { requestId: 'r1' });
  await client.next();
  const pending = client.respondThenNext('r1', '{"n":1}');
  assert.equal((await first).entry.body.toString(), '{"n":1}');
  api.invoke({ n: 2 }, { requestId: 'r2' });
  const inv = await pending;
  assert.equal(inv.requestId, 'r2');
  assert.deepEqual(JSON.parse(inv.body), { n: 2 });
});

test('bodies are binary-safe, as a Buffer and as a string', async (t) => {
  const { api, client } = await setup(t);
  const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  let done = api.invoke({}, { requestId: 'bin' });
  await client.next();
  await client.respond('bin', bytes);
  assert.ok((await done).entry.body.equals(bytes), 'all 256 byte values arrive unchanged');

  const text = 'nul:\u0000 ctl:\u0001\u001f del:\u007f latin:\u00ff bmp:\uffee';
  done = api.invoke({}, { requestId: 'bin-str' });
  await client.next();
  await client.respond('bin-str', text);
  assert.ok((await done).entry.body.equals(Buffer.from(text, 'utf8')));
});

test('unicode survives both ways', async (t) => {
  const { api, client } = await setup(t);
  const event = { text: 'Grüße, 世界! 🚀 👩‍👩‍👧 العربية', e: '\u2028\u2029' };
  const done = api.invoke(event, { requestId: 'uni' });
  const inv = await client.next();
  assert.deepEqual(JSON.parse(inv.body), event);
  await client.respond('uni', JSON.stringify({ echo: event.text }));
  assert.deepEqual(JSON.parse((await done).entry.body.toString('utf8')), { echo: event.text });
});

// An ASCII event crosses as a one-byte string (no UTF-8 decoding); anything else must still be
// decoded as UTF-8, including U+0080-U+00FF, whose UTF-8 bytes would be wrong read as Latin-1.
test('ASCII and Latin-1-range events both arrive as the same text', async (t) => {
  const { api, client } = await setup(t);
  let ascii = '';
  for (let c = 0; c < 128; c++) ascii += String.fromCharCode(c);
  let latin1 = '';
  for (let c = 128; c < 256; c++) latin1 += String.fromCharCode(c);
  for (const [id, text] of [['ascii', ascii], ['latin1-range', latin1], ['big-ascii', 'a'.repeat(1 << 20)]]) {
    api.invoke({ text }, { requestId: id });
    const inv = await client.next();
    assert.equal(inv.requestId, id);
    assert.equal(JSON.parse(inv.body).text, text, id);
    await client.respond(id, '{}');
  }
});

test('string bodies are encoded as UTF-8 whatever their characters', async (t) => {
  const { api, client } = await setup(t);
  const cases = {
    'three bytes per UTF-16 unit (the worst case)': '€'.repeat(100_000),
    'four bytes per surrogate pair': '😀'.repeat(50_000),
    'a lone surrogate becomes U+FFFD': 'a\ud800b',
    'a concatenated string': 'x'.repeat(70_000) + 'ü' + 'y'.repeat(70_000),
    'empty': '',
  };
  for (const [name, text] of Object.entries(cases)) {
    const done = api.invoke({}, { requestId: 'utf8' });
    await client.next();
    await client.respond('utf8', text);
    const sent = (await done).entry.body;
    assert.ok(sent.equals(Buffer.from(text, 'utf8')), name);
  }
});

test('a 6 MB event and 6 MB responses, as string and as Buffer, arrive intact', async (t) => {
  const { api, client } = await setup(t);
  const bigEvent = JSON.stringify({ data: 'e'.repeat(SIX_MB - 20) });
  let done = api.invoke(bigEvent, { requestId: 'big-1' });
  const inv = await client.next();
  assert.equal(inv.body.length, bigEvent.length);
  assert.equal(inv.body, bigEvent);

  const bigString = JSON.stringify({ s: 'ü✓'.repeat(SIX_MB / 10) }); // multi-byte, ~3 MiB chars
  await client.respond('big-1', bigString);
  assert.ok((await done).entry.body.equals(Buffer.from(bigString)));

  const bigBuffer = randomBytes(SIX_MB);
  done = api.invoke({}, { requestId: 'big-2' });
  await client.next();
  await client.respond('big-2', bigBuffer);
  const posted = (await done).entry;
  assert.equal(posted.headers['content-length'], String(SIX_MB));
  assert.ok(posted.body.equals(bigBuffer));
});

test('a body that is not valid UTF-8 reaches JS with replacement characters, not a crash', async (t) => {
  const { api, client } = await setup(t);
  api.invoke(Buffer.from([0x22, 0xff, 0xfe, 0x22]), { requestId: 'latin' });
  const inv = await client.next();
  assert.equal(inv.body, '"\ufffd\ufffd"');
});

test('the endpoint defaults to AWS_LAMBDA_RUNTIME_API', async (t) => {
  const { api } = await setup(t);
  const saved = process.env.AWS_LAMBDA_RUNTIME_API;
  t.after(() => {
    if (saved === undefined) delete process.env.AWS_LAMBDA_RUNTIME_API;
    else process.env.AWS_LAMBDA_RUNTIME_API = saved;
  });
  process.env.AWS_LAMBDA_RUNTIME_API = api.endpoint;
  const client = new RuntimeClient();
  assert.equal(client.endpoint, api.endpoint);
  api.invoke({ from: 'env' }, { requestId: 'env' });
  assert.equal((await client.next()).requestId, 'env');
});

test('client.endpoint is the endpoint as given', () => {
  assert.equal(new RuntimeClient('127.0.0.1:9001/.rt').endpoint, '127.0.0.1:9001/.rt');
  assert.equal(new RuntimeClient('http://localhost:80').endpoint, 'http://localhost:80');
});
