// Streamed responses through the emulator: the invoke API passes the function's chunks through
// as they are written (not when the handler returns), and a mid-stream failure arrives as
// trailers. Both invoke paths (the classic one and response-streaming-invocations) do this.
import { test, before, after } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import http from 'node:http';
import { serve } from './helpers/emulator.mjs';

/** POSTs with node:http and records when each chunk arrived, and the trailers. */
function streamInvoke(port, event, path) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST' }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push({ at: performance.now() - started, text: d.toString() }));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, trailers: res.trailers, chunks,
        text: chunks.map((c) => c.text).join('') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(JSON.stringify(event));
  });
}

let emu;
before(async () => { emu = await serve('stream.handler', ['--timeout', '2']); });
after(() => emu.stop());

for (const path of ['/2015-03-31/functions/function/invocations', '/2021-11-15/functions/function/response-streaming-invocations']) {
  test(`chunks arrive as the function writes them (${path.split('/')[1]})`, async () => {
    const res = await streamInvoke(emu.port, {}, path);
    assert.equal(res.status, 200);
    assert.equal(res.headers['transfer-encoding'], 'chunked');
    assert.equal(res.headers['content-type'], 'text/plain');
    assert.equal(res.text, 'piece 0\npiece 1\npiece 2\n');
    // The function waits 150 ms between writes: the first piece must arrive well before the last
    // (a buffered answer would bring them together).
    const first = res.chunks.find((c) => c.text.includes('piece 0'));
    const last = res.chunks.find((c) => c.text.includes('piece 2'));
    assert.notEqual(first, last, 'the pieces arrive as separate chunks');
    assert.ok(last.at - first.at >= 100, `first at ${first.at} ms, last at ${last.at} ms`);
    assert.equal(res.trailers['x-amz-function-error'], undefined);
  });
}

test('a failure mid-stream: the pieces written so far, then the error in the trailers', async () => {
  const res = await streamInvoke(emu.port, { fail: true }, '/2015-03-31/functions/function/invocations');
  assert.equal(res.status, 200);
  assert.match(res.text, /^piece 0\npiece 1\npiece 2\n/);
  assert.equal(res.trailers['x-amz-function-error'], 'Unhandled');
  assert.ok(res.trailers['lambda-runtime-function-error-type']);
  const body = JSON.parse(Buffer.from(res.trailers['lambda-runtime-function-error-body'], 'base64').toString());
  assert.equal(body.errorMessage, 'failed mid-stream');
});

test('a stream that outlives the timeout ends with the timeout error in the trailers, then the runtime restarts', async () => {
  // Pieces 3 s apart against a 1.5 s timeout: the first piece is out long before the timeout,
  // even when a restarted runtime's init (counted into the timeout) is slow under load.
  const short = await serve('stream.handler', ['--timeout', '1.5']);
  try {
    const res = await streamInvoke(short.port, { gapMs: 3000 }, '/2015-03-31/functions/function/invocations');
    assert.match(res.text, /^piece 0\n/);
    assert.doesNotMatch(res.text, /piece 2/);
    assert.equal(res.trailers['x-amz-function-error'], 'Unhandled');
    assert.equal(res.trailers['lambda-runtime-function-error-type'], 'Sandbox.Timedout');
    const body = JSON.parse(Buffer.from(res.trailers['lambda-runtime-function-error-body'], 'base64').toString());
    assert.match(body.errorMessage, /Task timed out after 1\.50 seconds$/);
    // The next invoke is served by a fresh runtime (and times out the same way).
    const again = await streamInvoke(short.port, { gapMs: 3000 }, '/2015-03-31/functions/function/invocations');
    assert.match(again.text, /^piece 0\n/);
  } finally {
    await short.stop();
  }
});
