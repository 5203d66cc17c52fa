// The telemetry channel: with _LAMBDA_TELEMETRY_LOG_FD set, every record is one binary frame on
// that fd (here a real pipe, fd 3, as Lambda passes it), decoded independently of our writer.
import { test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import { serve, decodeFrames, isTimestampWithin } from './fixtures/logging/harness.mjs';

const ID = 'c0ffee00-0000-4000-8000-000000000001';
const TEXT = 0xa55a0003;
const JSON_FRAME = 0xa55a0002;
const MASK = { TRACE: 4, DEBUG: 8, INFO: 12, WARN: 16, ERROR: 20, FATAL: 24 };

function checkFrame(frame, run) {
  // Length is the message's UTF-8 byte length, the timestamp whole milliseconds in microseconds.
  assert.equal(frame.length, Buffer.byteLength(frame.message));
  assert.equal(frame.timestampUs % 1000n, 0n);
  const ms = Number(frame.timestampUs / 1000n);
  assert.ok(ms >= run.tStart && ms <= run.tEnd, `timestamp ${ms} outside the run`);
  return ms;
}

test('TEXT frames: level in the type, raw newlines kept, one trailing newline; stdout stays empty', async () => {
  const run = await serve({ handler: 'records.big', telemetry: true, events: [{ requestId: ID, body: { size: 10, count: 2 } }] });
  const frames = decodeFrames(run.telemetry());
  const expected = [
    ['INFO', '\tundefined\tINFO\tinit record\n'],
    ['INFO', `\t${ID}\tINFO\t${'x'.repeat(10)}\nend\n`],
    ['INFO', `\t${ID}\tINFO\trecord 0\n`],
    ['INFO', `\t${ID}\tINFO\trecord 1\n`],
    ['ERROR', `\t${ID}\tERROR\tmulti\nline\nrecord\n`],
  ];
  assert.equal(frames.length, expected.length);
  frames.forEach((frame, i) => {
    const [level, rest] = expected[i];
    assert.equal(frame.type, (TEXT | MASK[level]) >>> 0);
    const ms = checkFrame(frame, run);
    // The record's own timestamp is the frame's, in ISO form.
    const ts = frame.message.slice(0, frame.message.indexOf('\t'));
    assert.ok(isTimestampWithin(ts, run.tStart, run.tEnd));
    assert.equal(Date.parse(ts), ms);
    assert.equal(frame.message.slice(ts.length), rest);
  });
  assert.equal(run.stdout, '');
  // The variable is removed so that a child process does not write into Lambda's channel.
  assert.deepEqual(JSON.parse(run.results[0].entry.body), { env: null });
});

test('JSON frames: JSON type | level mask, no trailing newline, level filter applies', async () => {
  const run = await serve({
    handler: 'records.big',
    telemetry: true,
    env: { AWS_LAMBDA_LOG_FORMAT: 'JSON', AWS_LAMBDA_LOG_LEVEL: 'WARN' },
    events: [{ requestId: ID, body: { size: 3, count: 3 } }],
  });
  const frames = decodeFrames(run.telemetry());
  assert.equal(frames.length, 1);
  const [frame] = frames;
  assert.equal(frame.type, (JSON_FRAME | MASK.ERROR) >>> 0);
  const ms = checkFrame(frame, run);
  assert.equal(frame.message, JSON.stringify({ timestamp: new Date(ms).toISOString(), level: 'ERROR', requestId: ID, message: 'multi\nline\nrecord' }));
  assert.equal(run.stdout, '');
});

test('large and many records arrive whole and in order', async () => {
  const size = 4 * 1024 * 1024; // far beyond a pipe's buffer: the writer must not split or drop it
  const count = 3000;
  const run = await serve({ handler: 'records.big', telemetry: true, events: [{ requestId: ID, body: { size, count } }] });
  const frames = decodeFrames(run.telemetry()); // throws on a truncated or interleaved frame
  assert.equal(frames.length, 1 + 1 + count + 1);
  assert.ok(frames[1].message.endsWith(`\tINFO\t${'x'.repeat(size)}\nend\n`));
  for (let i = 0; i < count; i++) assert.ok(frames[2 + i].message.endsWith(`\trecord ${i}\n`), `record ${i}`);
  assert.ok(frames.at(-1).message.endsWith('\tmulti\nline\nrecord\n'));
});

test('a non-blocking telemetry fd loses nothing when the reader falls behind', async () => {
  const size = 4 * 1024 * 1024;
  const count = 2000;
  const run = await serve({
    handler: 'records.bigNonBlocking',
    telemetry: true,
    // The handler opens fd 3 as a libuv handle, which switches it to non-blocking mode; the
    // variable is gone from process.env by then, so the fd number comes with the event.
    events: [{ requestId: ID, body: { size, count, fd: 3 } }],
  });
  const frames = decodeFrames(run.telemetry());
  assert.equal(frames.length, 1 + 1 + count + 1);
  assert.ok(frames[1].message.endsWith(`\tINFO\t${'x'.repeat(size)}\nend\n`));
  for (let i = 0; i < count; i++) assert.ok(frames[2 + i].message.endsWith(`\trecord ${i}\n`), `record ${i}`);
});
