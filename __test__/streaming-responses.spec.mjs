// Streamed responses through the real runtime (index.mjs) and a real Runtime API server: the
// request line, headers, body bytes and trailers the server received, for each way a
// streaming handler can write, end or fail.
import { test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serveStreaming, errorTrailers, TASK_ROOT, MODE_ENV } from './fixtures/streaming/harness.mjs';
import { startRuntimeApi } from './helpers/runtime-api.mjs';
import { spawnRuntime } from './helpers/spawn-runtime.mjs';

const NUL8 = '\0'.repeat(8);

function assertStreamingHeaders(entry, contentType = 'application/octet-stream') {
  assert.equal(entry.method, 'POST');
  assert.match(entry.path, /^\/2018-06-01\/runtime\/invocation\/[^/]+\/response$/);
  assert.equal(entry.headers['lambda-runtime-function-response-mode'], 'streaming');
  assert.equal(entry.headers['transfer-encoding'], 'chunked');
  assert.equal(entry.headers['content-type'], contentType);
  assert.deepEqual(
    entry.headers.trailer.split(',').map((t) => t.trim().toLowerCase()).sort(),
    ['lambda-runtime-function-error-body', 'lambda-runtime-function-error-type'],
  );
  assert.equal(entry.headers['content-length'], undefined);
}

for (const version of [3, 4]) {
  test(`${version}.x: chunks of every kind arrive in order, JSON-stringified when not bytes (null throws), with no trailers`, async () => {
    const { results } = await serveStreaming({ handler: 'plain', version, events: [{ body: { n: 7 } }, { body: { n: 8 } }] });
    for (const [i, { kind, entry }] of results.entries()) {
      assert.equal(kind, 'response');
      assertStreamingHeaders(entry);
      assert.equal(entry.body.toString(), `chunk-1;chunk-2;A;{"n":${7 + i}};TypeError;end`);
      assert.deepEqual(entry.trailers, {});
    }
  });
}

test('setContentType sets the header before the first write and throws Runtime.InvalidStreamingOperation after it', async () => {
  const { results: [{ entry }] } = await serveStreaming({ handler: 'contentType' });
  assertStreamingHeaders(entry, 'text/event-stream');
  assert.equal(entry.body.toString(), 'data: 1\n\ndata: Runtime.InvalidStreamingOperation: Cannot set content-type, too late.\n\n');
});

test('corked writes are sent together once uncorked', async () => {
  const { results: [{ entry }] } = await serveStreaming({ handler: 'corked' });
  assert.equal(entry.body.toString(), '0;1;2;3;4;');
});

for (const [handler, body] of [
  ['preludeWrite', '{"statusCode":201,"headers":{"content-type":"text/plain","x-custom":"yes"},"cookies":["a=1"]}' + NUL8 + 'body part 1;body part 2'],
  ['preludeEndOnly', '{"statusCode":200}' + NUL8 + 'only end'],
  ['preludeNoBody', '{"statusCode":302,"headers":{"location":"https://example.com/"}}' + NUL8],
  ['preludePipeline', '{"statusCode":200}' + NUL8 + 'piped-1;piped-2'],
]) {
  test(`HttpResponseStream.from: the prelude and 8 NUL bytes precede the body (${handler})`, async () => {
    const { results: [{ entry }] } = await serveStreaming({ handler });
    assertStreamingHeaders(entry, 'application/vnd.awslambda.http-integration-response');
    assert.equal(entry.body.toString('latin1'), body);
    assert.deepEqual(entry.trailers, {});
  });
}

test('pipeline() from a file delivers its bytes intact', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'streaming-spec-'));
  const file = path.join(dir, 'payload.bin');
  const payload = crypto.randomBytes(3 * 1024 * 1024 + 123);
  fs.writeFileSync(file, payload);
  try {
    const { results: [{ entry }] } = await serveStreaming({ handler: 'pipeFile', events: [{ body: { path: file } }] });
    assertStreamingHeaders(entry);
    assert.equal(entry.body.length, payload.length);
    assert.ok(entry.body.equals(payload), 'the received bytes differ from the file');
    assert.deepEqual(entry.trailers, {});
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a handler that returns before its piped stream ends is waited for', async () => {
  const { results: [{ entry }] } = await serveStreaming({ handler: 'pipeNotAwaited' });
  assert.equal(entry.body.toString(), 'late-1;late-2');
  assert.deepEqual(entry.trailers, {});
});

for (const version of [3, 4]) {
  test(`${version}.x: an error after the first write ends the body with the error trailers, and the runtime goes on`, async () => {
    const { results, stdout } = await serveStreaming({ handler: 'throwAfterWrite', version, events: [{}, {}] });
    for (const { kind, entry } of results) {
      assert.equal(kind, 'response');
      assertStreamingHeaders(entry);
      assert.equal(entry.body.toString(), 'partial;');
      const trailers = errorTrailers(entry);
      assert.equal(trailers.type, 'Error');
      assert.equal(trailers.body.errorType, 'Error');
      assert.equal(trailers.body.errorMessage, 'failed mid-stream');
      assert.equal(trailers.body.trace[0], 'Error: failed mid-stream');
      assert.match(trailers.body.trace[1], /at (?:\w+\.)?handler \(file:.*handlers\.mjs:\d+:\d+\)/);
    }
    const records = stdout.split('\n').filter((l) => l.includes('Invoke Error'));
    assert.equal(records.length, 2);
    assert.match(records[0], /\tERROR\tInvoke Error \t\{"errorType":"Error","errorMessage":"failed mid-stream","stack":\["Error: failed mid-stream"/);
  });
}

test('an error before any write is reported the same way, with an empty body', async () => {
  const { results: [{ entry }] } = await serveStreaming({ handler: 'throwBeforeWrite' });
  assertStreamingHeaders(entry);
  assert.equal(entry.body.length, 0);
  const { type, body } = errorTrailers(entry);
  assert.equal(type, 'TypeError');
  assert.equal(body.errorMessage, 'failed before writing');
  assert.deepEqual(Object.keys(body), ['errorType', 'errorMessage', 'trace']);
});

test('a thrown non-Error is reported with its typeof as the error type', async () => {
  const { results: [{ entry }] } = await serveStreaming({ handler: 'rejectString' });
  assert.equal(entry.body.toString(), 'x');
  assert.deepEqual(errorTrailers(entry), {
    type: 'string',
    body: { errorType: 'string', errorMessage: 'a plain string', trace: [] },
  });
});

test('a source failing in the middle of a pipeline is reported after the bytes it produced', async () => {
  const { results: [{ entry }] } = await serveStreaming({ handler: 'pipelineSourceFails' });
  assert.equal(entry.body.toString(), 'from source;');
  const { type, body } = errorTrailers(entry);
  assert.equal(type, 'RangeError');
  assert.equal(body.errorMessage, 'source broke');
});

test('3.x: a non-async handler fails with the official message as a plain string', async () => {
  const { results: [{ entry }], stdout } = await serveStreaming({ handler: 'notAsync', version: 3 });
  assert.equal(entry.body.toString(), 'sync write;');
  assert.deepEqual(errorTrailers(entry), {
    type: 'string',
    body: { errorType: 'string', errorMessage: 'Streaming does not support non-async handlers.', trace: [] },
  });
  assert.match(stdout, /\tERROR\tInvoke Error \t\{"errorType":"Error","errorMessage":"Streaming does not support non-async handlers."/);
});

test('4.x: a non-async handler fails with the official message as an Error', async () => {
  const { results: [{ entry }] } = await serveStreaming({ handler: 'notAsync', version: 4 });
  assert.equal(entry.body.toString(), 'sync write;');
  const { type, body } = errorTrailers(entry);
  assert.equal(type, 'Error');
  assert.equal(body.errorMessage, 'Streaming does not support non-async handlers.');
  assert.equal(body.trace[0], 'Error: Streaming does not support non-async handlers.');
});

test('a stream left open after the handler returns fails with "Response stream is not finished." before the deadline', async () => {
  const deadlineMs = Date.now() + 1500;
  const { results: [{ entry }], stdout } = await serveStreaming({ handler: 'neverEnds', events: [{ deadlineMs }] });
  assert.equal(entry.body.toString(), 'started;');
  assert.deepEqual(errorTrailers(entry), {
    type: 'string',
    body: { errorType: 'string', errorMessage: 'Response stream is not finished.', trace: [] },
  });
  assert.match(stdout, /Invoke Error \t\{"errorType":"Error","errorMessage":"Response stream is not finished."/);
});

test('a returned value is ignored with a warning', async () => {
  const { results: [{ entry }], stdout } = await serveStreaming({ handler: 'returnsValue' });
  assert.equal(entry.body.toString(), 'ok');
  assert.match(stdout, /\tWARN\tStreaming handlers ignore return values\./);
});

test('a handler marked for another streaming mode is refused at init with Runtime.MalformedStreamingHandler', async () => {
  const api = await startRuntimeApi();
  const rt = spawnRuntime({ endpoint: api.endpoint, handler: 'handlers.malformed', taskRoot: TASK_ROOT, env: MODE_ENV[3] });
  try {
    const entry = await Promise.race([api.initError(), rt.exited.then(() => api.initError())]);
    assert.equal(entry.headers['lambda-runtime-function-error-type'], 'Runtime.MalformedStreamingHandler');
    const body = JSON.parse(entry.body.toString());
    assert.equal(body.errorType, 'Runtime.MalformedStreamingHandler');
    assert.equal(body.errorMessage, 'Only response streaming is supported.');
  } finally {
    await rt.kill();
    await api.close();
  }
});

test('without the awslambda global (AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA=1) a module using it fails at init', async () => {
  const api = await startRuntimeApi();
  const rt = spawnRuntime({
    endpoint: api.endpoint,
    handler: 'handlers.plain',
    taskRoot: TASK_ROOT,
    env: { ...MODE_ENV[3], AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA: '1' },
  });
  try {
    const entry = await api.initError();
    assert.match(JSON.parse(entry.body.toString()).errorMessage, /awslambda is not defined/);
  } finally {
    await rt.kill();
    await api.close();
  }
});
