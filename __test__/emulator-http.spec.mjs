// `serve --http`: the emulator as a local web server. Every HTTP request becomes a Function URL
// event (payload format 2.0) or, with --http=apigw-v1, a REST API proxy event; the function's
// answer becomes the HTTP response, streamed answers as they are written.
import { test, before, after } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { serve, httpGet as get } from './helpers/emulator.mjs';

/** A request with node:http that records when each chunk arrived. */
function timedRequest(port, path) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.get({ host: '127.0.0.1', port, path }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push({ at: performance.now() - started, text: d.toString() }));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, chunks, complete: res.complete,
        text: chunks.map((c) => c.text).join('') }));
      res.on('error', reject);
      res.on('aborted', () => resolve({ status: res.statusCode, headers: res.headers, chunks, complete: false,
        text: chunks.map((c) => c.text).join('') }));
    });
    req.on('error', reject);
  });
}

let url;
let v1;
before(async () => {
  [url, v1] = await Promise.all([
    serve('http.handler', ['--http', '--timeout', '5', '--quiet']),
    serve('http.handler', ['--http=apigw-v1', '--timeout', '5', '--quiet']),
  ]);
});
after(async () => {
  await Promise.all([url?.stop(), v1?.stop()]);
});

test('a request reaches the function as a Function URL event (payload format 2.0)', async () => {
  const res = await get(url.port, '/echo?p=1&p=2&q=a%20b', {
    method: 'POST',
    headers: { 'content-type': 'text/plain', cookie: 'c1=v1; c2=v2', 'x-custom': 'X', 'user-agent': 'spec-agent' },
    body: 'hello body',
  });
  assert.equal(res.status, 201);
  const event = JSON.parse(res.text);
  assert.equal(event.version, '2.0');
  assert.equal(event.routeKey, '$default');
  assert.equal(event.rawPath, '/echo');
  assert.equal(event.rawQueryString, 'p=1&p=2&q=a%20b');
  assert.deepEqual(event.queryStringParameters, { p: '1,2', q: 'a b' });
  assert.deepEqual(event.cookies, ['c1=v1', 'c2=v2']);
  assert.equal(event.headers['x-custom'], 'X');
  assert.equal(event.headers.cookie, undefined, 'cookies travel in `cookies`, not in headers');
  assert.equal(event.body, 'hello body');
  assert.equal(event.isBase64Encoded, false);
  assert.deepEqual(event.requestContext.http, {
    method: 'POST', path: '/echo', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'spec-agent',
  });
  assert.equal(event.requestContext.requestId, res.headers.get('x-amzn-requestid'));
  assert.match(event.requestContext.time, /^\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000$/);
  assert.ok(Math.abs(event.requestContext.timeEpoch - Date.now()) < 60_000);
});

test('a GET has no body, cookies or query parameters in its event; a binary body arrives base64', async () => {
  const plain = JSON.parse((await get(url.port, '/echo')).text);
  for (const absent of ['body', 'cookies', 'queryStringParameters']) assert.equal(plain[absent], undefined, absent);
  const binary = JSON.parse((await get(url.port, '/echo', {
    method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from([0, 1, 254, 255]),
  })).text);
  assert.equal(binary.isBase64Encoded, true);
  assert.deepEqual(Buffer.from(binary.body, 'base64'), Buffer.from([0, 1, 254, 255]));
});

test('statusCode, headers, multiValueHeaders, cookies and body are mapped back', async () => {
  const res = await get(url.port, '/echo');
  assert.equal(res.status, 201);
  assert.equal(res.headers.get('content-type'), 'application/json');
  assert.equal(res.headers.get('x-answer'), 'yes');
  assert.equal(res.headers.get('x-number'), '7');
  assert.equal(res.headers.get('x-multi'), 'one, two');
  assert.deepEqual(res.headers.getSetCookie(), ['session=abc; Path=/', 'theme=dark']);
  const redirect = await get(url.port, '/redirect');
  assert.equal(redirect.status, 302);
  assert.equal(redirect.headers.get('location'), '/echo');
  const missing = await get(url.port, '/nowhere');
  assert.equal(missing.status, 404);
  assert.equal(missing.text, 'no route /nowhere');
});

test('204 and HEAD answers carry no body, and the server keeps serving', async () => {
  const none = await get(url.port, '/no-content');
  assert.equal(none.status, 204);
  assert.equal(none.headers.get('x-done'), '1');
  assert.equal(none.bytes.length, 0);
  const head = await get(url.port, '/string', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), '15');
  assert.equal(head.bytes.length, 0);
  assert.equal((await get(url.port, '/string')).text, '"just a string"');
});

test('isBase64Encoded answers are decoded to their bytes', async () => {
  const res = await get(url.port, '/binary');
  assert.equal(res.headers.get('content-type'), 'image/png');
  assert.deepEqual(res.bytes, Buffer.from([0, 1, 2, 255]));
});

test('a result that is not a response object is a 200 JSON body', async () => {
  for (const [path, body] of [['/plain-object', '{"hello":"world"}'], ['/string', '"just a string"']]) {
    const res = await get(url.port, path);
    assert.equal(res.status, 200, path);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(res.text, body);
  }
});

test('a function error is a 502 with Lambda\'s error body, and the runtime keeps serving', async () => {
  const res = await get(url.port, '/throw');
  assert.equal(res.status, 502);
  const body = JSON.parse(res.text);
  assert.equal(body.errorType, 'TypeError');
  assert.equal(body.errorMessage, 'broken route');
  assert.equal((await get(url.port, '/plain-object')).status, 200);
});

test('a timeout is a 502 with the timeout error, after the function timeout', async () => {
  const short = await serve('http.handler', ['--http', '--timeout', '0.3', '--quiet']);
  try {
    const started = performance.now();
    const res = await get(short.port, '/slow?ms=3000');
    assert.equal(res.status, 502);
    assert.equal(JSON.parse(res.text).errorType, 'Sandbox.Timedout');
    assert.match(JSON.parse(res.text).errorMessage, /Task timed out after 0\.30 seconds/);
    assert.ok(performance.now() - started < 2500, 'answered at the timeout, not when the function would have finished');
    // A fresh runtime serves the next request.
    assert.equal((await get(short.port, '/plain-object')).status, 200);
  } finally {
    await short.stop();
  }
});

test('keep-alive: several requests on one connection, answered in order', async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const one = (path) => new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: url.port, path, agent }, (res) => {
        let text = '';
        res.on('data', (d) => { text += d; });
        res.on('end', () => resolve({ status: res.statusCode, text, socket: res.socket }));
      }).on('error', reject);
    });
    const a = await one('/string');
    const b = await one('/plain-object');
    assert.deepEqual([a.status, a.text, b.status, b.text], [200, '"just a string"', 200, '{"hello":"world"}']);
  } finally {
    agent.destroy();
  }
});

test('--http=apigw-v1: a REST API proxy event, with multi-value fields and the {proxy+} path parameter', async () => {
  const res = await get(v1.port, '/echo?p=1&p=2', {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-custom': 'X' }, body: '{"a":1}',
  });
  assert.equal(res.status, 201);
  const event = JSON.parse(res.text);
  assert.equal(event.resource, '/{proxy+}');
  assert.equal(event.path, '/echo');
  assert.equal(event.httpMethod, 'POST');
  assert.deepEqual(event.queryStringParameters, { p: '2' });
  assert.deepEqual(event.multiValueQueryStringParameters, { p: ['1', '2'] });
  assert.deepEqual(event.pathParameters, { proxy: 'echo' });
  assert.deepEqual(event.multiValueHeaders['x-custom'], ['X']);
  assert.equal(event.headers['x-custom'], 'X');
  assert.equal(event.body, '{"a":1}');
  assert.equal(event.isBase64Encoded, false);
  assert.equal(event.requestContext.httpMethod, 'POST');
  assert.equal(event.requestContext.identity.sourceIp, '127.0.0.1');
  assert.equal(event.stageVariables, null);
  assert.deepEqual(res.headers.getSetCookie(), ['session=abc; Path=/', 'theme=dark']);
  // A result that is not a proxy response is API Gateway's 502.
  const malformed = await get(v1.port, '/string');
  assert.equal(malformed.status, 502);
  assert.deepEqual(JSON.parse(malformed.text), { message: 'Internal server error' });
});

test('a streamed answer: the prelude\'s status, headers and cookies first, then each piece as it is written', async () => {
  const emu = await serve('http.stream', ['--http', '--timeout', '5', '--quiet']);
  try {
    const res = await timedRequest(emu.port, '/');
    assert.equal(res.status, 207);
    assert.equal(res.headers['content-type'], 'text/plain');
    assert.equal(res.headers['x-streamed'], 'yes');
    assert.deepEqual(res.headers['set-cookie'], ['streamed=1']);
    assert.equal(res.headers['transfer-encoding'], 'chunked');
    assert.equal(res.text, 'piece 0\npiece 1\npiece 2\n');
    assert.ok(res.complete);
    const first = res.chunks.find((c) => c.text.includes('piece 0'));
    const last = res.chunks.find((c) => c.text.includes('piece 2'));
    assert.notEqual(first, last, 'the pieces arrive as separate chunks');
    assert.ok(last.at - first.at >= 100, `first at ${first.at} ms, last at ${last.at} ms`);
    // A failure after the pieces: the client gets what was written, then an incomplete response.
    const failed = await timedRequest(emu.port, '/?fail=1');
    assert.equal(failed.status, 207);
    assert.match(failed.text, /^piece 0\npiece 1\npiece 2\n$/);
    assert.equal(failed.complete, false, 'a failed stream does not end like a whole one');
  } finally {
    await emu.stop();
  }
});

test('a stream with no prelude passes through with its content type; a failure before any byte is a 502', async () => {
  const raw = await serve('http.rawStream', ['--http', '--quiet']);
  const early = await serve('http.streamFailsEarly', ['--http', '--quiet']);
  try {
    const res = await timedRequest(raw.port, '/');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/csv');
    assert.equal(res.text, 'a,b\n1,2\n');
    const failed = await get(early.port, '/');
    assert.equal(failed.status, 502);
    assert.equal(JSON.parse(failed.text).errorMessage, 'nothing streamed');
  } finally {
    await Promise.all([raw.stop(), early.stop()]);
  }
});

test('a slow client slows the streaming function down (backpressure), nothing is buffered whole', async () => {
  const emu = await serve('http.stream', ['--http', '--timeout', '30']);
  const totalMiB = 64;
  const progress = () => Math.max(0, ...[...emu.output.matchAll(/wrote (\d+) MiB/g)].map((m) => Number(m[1])));
  let req;
  try {
    const received = await new Promise((resolve, reject) => {
      req = http.get({ host: '127.0.0.1', port: emu.port, path: `/?mb=${totalMiB}` }, (res) => {
        let bytes = 0;
        res.on('data', (d) => { bytes += d.length; });
        res.on('end', () => resolve(bytes));
        res.on('error', reject);
        res.once('data', async () => {
          // Stop reading: the function must stall, well short of the end.
          res.pause();
          try {
            await sleep(1000);
            const stalledAt = progress();
            await sleep(700);
            assert.equal(progress(), stalledAt, 'no progress while the client does not read');
            assert.ok(stalledAt < totalMiB, `the function wrote ${stalledAt} of ${totalMiB} MiB while the client paused`);
            assert.doesNotMatch(emu.output, /stream done/);
          } catch (e) {
            reject(e);
          }
          res.resume();
        });
      });
      req.on('error', reject);
    });
    assert.equal(received, totalMiB * 1024 * 1024);
    await emu.waitForOutput(/stream done/, 5000);
  } finally {
    req?.destroy();
    await emu.stop();
  }
});

// Our runtime overlaps invocations in its Managed Instances mode, which needs Node 22+.
const overlapSkip = Number(process.versions.node.split('.')[0]) < 22
  && `the runtime overlaps invocations (AWS_LAMBDA_MAX_CONCURRENCY) on Node 22+ only; this is Node ${process.versions.node}`;

test('concurrent requests are queued for one runtime', async () => {
  const [a, b] = await Promise.all([get(url.port, '/slow?ms=300'), get(url.port, '/slow?ms=300')]);
  const [x, y] = [JSON.parse(a.text), JSON.parse(b.text)].sort((p, q) => p.started - q.started);
  assert.equal(x.pid, y.pid);
  assert.ok(y.started >= x.ended, 'one runtime serves them one after the other');
});

test('concurrent requests overlap in one runtime with --max-concurrency', { skip: overlapSkip }, async () => {
  const overlapped = await serve('http.handler', ['--http', '--max-concurrency', '2', '--quiet']);
  try {
    const pair = async (port) => {
      const [a, b] = await Promise.all([get(port, '/slow?ms=300'), get(port, '/slow?ms=300')]);
      const [x, y] = [JSON.parse(a.text), JSON.parse(b.text)].sort((p, q) => p.started - q.started);
      return { overlap: y.started < x.ended, samePid: x.pid === y.pid };
    };
    const parallel = await pair(overlapped.port);
    assert.deepEqual(parallel, { overlap: true, samePid: true }, 'one runtime holds both at once');
  } finally {
    await overlapped.stop();
  }
});

test('--instances N: concurrent requests are served by separate runtimes in parallel', async () => {
  const scaled = await serve('http.handler', ['--http', '--instances', '2', '--quiet']);
  try {
    const [a, b] = await Promise.all([get(scaled.port, '/slow?ms=400'), get(scaled.port, '/slow?ms=400')]);
    const [x, y] = [JSON.parse(a.text), JSON.parse(b.text)].sort((p, q) => p.started - q.started);
    assert.notEqual(x.pid, y.pid, 'two runtime processes');
    assert.ok(y.started < x.ended, 'the second started before the first ended');
    // One request at a time keeps reaching the same warm runtime.
    const pids = new Set();
    for (let i = 0; i < 3; i++) pids.add(JSON.parse((await get(scaled.port, '/slow?ms=0')).text).pid);
    assert.equal(pids.size, 1);
  } finally {
    await scaled.stop();
  }
});
