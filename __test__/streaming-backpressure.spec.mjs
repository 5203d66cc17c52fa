// The responseStream as a Node Writable against a real Runtime API server, in this process:
// backpressure when the server reads slowly, time to first byte, stream events, and failures of
// the Runtime API itself. invokeStreaming is called as index.mjs calls it.
import { test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { startRuntimeApi } from './helpers/runtime-api.mjs';
import { RuntimeClient } from '../lib/native.mjs';
import { installAwsLambdaGlobal } from '../lib/awslambda.mjs';
import { invokeStreaming } from '../lib/streaming.mjs';

installAwsLambdaGlobal();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** A timer that does not keep the test process alive once everything else is done. */
const idle = (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref());
const quietLog = { logError() {} };

/** Serves one event to `handler` through invokeStreaming; resolves with what the server got. */
async function streamOnce(api, handler, { reply } = {}) {
  const client = new RuntimeClient(api.endpoint);
  const received = api.invoke({}, { reply });
  const invocation = await client.next();
  const streamed = invokeStreaming({
    client,
    handler,
    event: JSON.parse(invocation.body),
    context: {},
    invocation,
    log: quietLog,
  });
  return { received, streamed };
}

test('a slow Runtime API makes write() return false and drain later; every byte arrives in order', async () => {
  const api = await startRuntimeApi();
  let release;
  const released = new Promise((resolve) => { release = resolve; });
  // The server does not read the streamed body until the handler has been held back.
  api.server.on('request', (req) => {
    if (req.method === 'POST') {
      req.pause();
      released.then(() => req.resume());
    }
  });
  const CHUNK = 64 * 1024;
  const CHUNKS = 512; // 32 MiB: more than loopback socket buffers absorb
  const HIGH_WATER_MARK = 1024 * 1024;
  const seen = { stalledAt: null, falses: 0, drains: 0, needDrain: true, instance: false };
  const handler = awslambda.streamifyResponse(async (event, responseStream) => {
    seen.instance = responseStream instanceof Writable;
    responseStream.on('drain', () => { seen.drains += 1; });
    for (let i = 0; i < CHUNKS; i++) {
      if (responseStream.write(Buffer.alloc(CHUNK, i % 251))) continue;
      seen.falses += 1;
      seen.needDrain &&= responseStream.writableNeedDrain;
      const drained = once(responseStream, 'drain');
      if (seen.stalledAt === null) {
        const soon = await Promise.race([drained.then(() => true), idle(300).then(() => false)]);
        if (soon) continue;
        // Held back: the socket is full and the server is not reading.
        seen.stalledAt = (i + 1) * CHUNK;
        release();
      }
      await drained;
    }
    release();
    responseStream.end();
  }, { highWaterMark: HIGH_WATER_MARK });

  try {
    const { received, streamed } = await streamOnce(api, handler);
    const [{ entry }] = await Promise.all([received, streamed]);
    assert.ok(seen.instance, 'responseStream is a stream.Writable');
    assert.ok(seen.stalledAt !== null, 'the handler was never held back by the slow server');
    assert.ok(seen.stalledAt < CHUNK * CHUNKS, `held back only after all ${seen.stalledAt} bytes`);
    assert.ok(seen.falses >= 1 && seen.drains >= seen.falses, `falses=${seen.falses} drains=${seen.drains}`);
    assert.ok(seen.needDrain, 'writableNeedDrain was not set when write() returned false');
    assert.equal(entry.body.length, CHUNK * CHUNKS);
    for (let i = 0; i < CHUNKS; i++) {
      const block = entry.body.subarray(i * CHUNK, (i + 1) * CHUNK);
      assert.ok(block.every((b) => b === i % 251), `block ${i} is corrupt`);
    }
    assert.deepEqual(entry.trailers, {});
  } finally {
    release();
    await api.close();
  }
});

test('a small first write reaches the Runtime API while the handler is still running', async () => {
  const api = await startRuntimeApi();
  let firstBytes;
  const arrived = new Promise((resolve) => { firstBytes = resolve; });
  api.server.on('request', (req) => {
    if (req.method === 'POST') req.once('data', (chunk) => firstBytes(chunk.toString()));
  });
  const handler = awslambda.streamifyResponse(async (event, responseStream) => {
    responseStream.write('first');
    // Nothing else happens until the server has the first bytes: buffering them would hang here.
    const got = await Promise.race([arrived, idle(5000).then(() => '<nothing within 5 s>')]);
    responseStream.end(`;server saw ${got}`);
  });
  try {
    const { received, streamed } = await streamOnce(api, handler);
    const [{ entry }] = await Promise.all([received, streamed]);
    assert.equal(entry.body.toString(), 'first;server saw first');
  } finally {
    await api.close();
  }
});

/** Ends `stream` with a chunk and records its events, as a function would observe them. */
async function endAndRecord(stream) {
  const events = [];
  for (const name of ['finish', 'close']) stream.on(name, () => events.push(name));
  stream.end('done', () => events.push('end callback'));
  await once(stream, 'close');
  events.push(`writableFinished=${stream.writableFinished}`, `writableEnded=${stream.writableEnded}`);
  return events;
}

test('the stream emits its events in the order a plain Writable does, and invokeStreaming resolves after the Runtime API answered', async () => {
  const api = await startRuntimeApi();
  const expected = await endAndRecord(new Writable({ write(chunk, encoding, callback) { callback(); } }));
  let events;
  const handler = awslambda.streamifyResponse(async (event, responseStream) => {
    events = await endAndRecord(responseStream);
  });
  try {
    const { received, streamed } = await streamOnce(api, handler);
    let answered = false;
    received.then(() => { answered = true; });
    await streamed;
    assert.ok(answered, 'invokeStreaming resolved before the server had answered the request');
    assert.deepEqual(events, expected);
    assert.equal((await received).entry.body.toString(), 'done');
  } finally {
    await api.close();
  }
});

test('a Runtime API that refuses the stream makes invokeStreaming reject with its status and body', async () => {
  const api = await startRuntimeApi();
  const handler = awslambda.streamifyResponse(async (event, responseStream) => {
    responseStream.end('too much');
  });
  try {
    const reply = { status: 413, body: '{"errorMessage":"too big","errorType":"RequestEntityTooLarge"}' };
    const { received, streamed } = await streamOnce(api, handler, { reply });
    await received;
    await assert.rejects(streamed, (err) => {
      assert.equal(err.code, 'ERR_RUNTIME_API_STATUS');
      assert.equal(err.status, 413);
      assert.match(err.body, /RequestEntityTooLarge/);
      return true;
    });
  } finally {
    await api.close();
  }
});

test('an unreachable Runtime API makes invokeStreaming reject, without an unhandled error', async () => {
  const api = await startRuntimeApi();
  const client = new RuntimeClient(api.endpoint);
  api.invoke({});
  const invocation = await client.next();
  await api.close();
  const unhandled = [];
  const onUnhandled = (err) => unhandled.push(err);
  process.on('unhandledRejection', onUnhandled);
  try {
    const handler = awslambda.streamifyResponse(async (event, responseStream) => {
      responseStream.write('nobody listens');
      await sleep(20);
      responseStream.end();
    });
    await assert.rejects(
      invokeStreaming({ client, handler, event: {}, context: {}, invocation, log: quietLog }),
      (err) => err.code === 'ERR_RUNTIME_API_UNREACHABLE',
    );
    await sleep(20);
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});
