// globalThis.awslambda as functions and libraries use it, without a runtime: the marks
// streamifyResponse leaves (the official registered symbols), isStreamingHandler, and
// HttpResponseStream.from on a stream that is not ours (libraries wrap their own streams).
import { test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import {
  installAwsLambdaGlobal,
  isStreamingHandler,
  streamingHighWaterMark,
  HttpResponseStream,
} from '../lib/awslambda.mjs';
import { Errors } from '../lib/errors.mjs';

const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const HIGH_WATER_MARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');

test('installAwsLambdaGlobal keeps members already on globalThis.awslambda', () => {
  const before = globalThis.awslambda;
  try {
    globalThis.awslambda = { custom: 1 };
    installAwsLambdaGlobal();
    assert.equal(globalThis.awslambda.custom, 1);
    assert.equal(typeof globalThis.awslambda.streamifyResponse, 'function');
    assert.equal(globalThis.awslambda.HttpResponseStream, HttpResponseStream);
  } finally {
    globalThis.awslambda = before;
  }
});

test('streamifyResponse marks the handler itself with the official symbols and an integer highWaterMark', () => {
  installAwsLambdaGlobal();
  const fn = async () => {};
  assert.equal(awslambda.streamifyResponse(fn, { highWaterMark: 1024.7 }), fn);
  assert.equal(fn[STREAMING], 'response');
  assert.equal(fn[HIGH_WATER_MARK], 1024);
  assert.equal(streamingHighWaterMark(fn), 1024);
  const plain = async () => {};
  awslambda.streamifyResponse(plain, { highWaterMark: '4096' });
  assert.equal(streamingHighWaterMark(plain), undefined, 'a non-number highWaterMark is ignored, as officially');
});

test('isStreamingHandler: unmarked false, marked true, any other mark refused', () => {
  assert.equal(isStreamingHandler(async () => {}), false);
  const marked = Object.assign(async () => {}, { [STREAMING]: 'response' });
  assert.equal(isStreamingHandler(marked), true);
  const other = Object.assign(async () => {}, { [STREAMING]: 'duplex' });
  assert.throws(() => isStreamingHandler(other, Errors), (err) => {
    assert.equal(err.name, 'Runtime.MalformedStreamingHandler');
    assert.equal(err.message, 'Only response streaming is supported.');
    return true;
  });
});

test('HttpResponseStream.from on a stream of a library\'s own: content type and the official _onBeforeFirstWrite hook', () => {
  const written = [];
  const stream = new Writable({ write(chunk, encoding, callback) { written.push(chunk); callback(); } });
  stream.setContentType = (type) => { stream.contentType = type; };
  assert.equal(HttpResponseStream.from(stream, { statusCode: 204, cookies: [] }), stream);
  assert.equal(stream.contentType, 'application/vnd.awslambda.http-integration-response');
  stream._onBeforeFirstWrite((chunk) => stream.write(chunk));
  assert.equal(Buffer.concat(written.map((c) => Buffer.from(c))).toString('latin1'), '{"statusCode":204,"cookies":[]}' + '\0'.repeat(8));
});
