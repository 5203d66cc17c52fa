// Response streaming: runs one invocation of a handler marked by awslambda.streamifyResponse
// and streams what it writes to the Runtime API. Imported lazily by index.mjs, on the first
// streaming invocation, so that buffered functions never load it.
//
// CONTRACT with index.mjs (the invoke loop):
//
//   const { invokeStreaming } = await import('./lib/streaming.mjs');
//   await invokeStreaming({ client, handler, event, context, invocation, log });
//
//   client      the RuntimeClient (its `endpoint`, when it has one, else AWS_LAMBDA_RUNTIME_API)
//   handler     the user's function, marked streaming (see lib/awslambda.mjs)
//   event       the parsed event
//   context     the context object, already built by the loop; passed to the handler as is
//   invocation  the native Invocation (requestId, deadlineMs)
//   log         optional: the handle of installLogging() (lib/logging.mjs); its
//               logError('Invoke Error', err) prints handler failures in the official shape.
//               Without it, console.error is used.
//
//   Calls handler(event, responseStream, context) right away (synchronously, in the caller's
//   turn), and returns a promise that
//   - resolves once the streamed response has been sent whole and the Runtime API has
//     accepted it (2xx), whether it ended normally or with error trailers: a handler's failure
//     is reported here (trailers + an "Invoke Error" log record) and never rejects;
//   - rejects only when talking to the Runtime API failed: the native error (code
//     ERR_RUNTIME_API_*, status, body), as RuntimeClient's calls reject. The loop treats it as
//     it treats a failed buffered response.
//   It does not fetch the next invocation and does not decide when that happens (3.x waits for
//   an empty event loop unless context.callbackWaitsForEmptyEventLoop is false; 4.x does not):
//   that is the loop's event-loop contract.
//
// What the handler sees, as with the official clients:
// - responseStream is a real stream.Writable: write() takes strings, Buffers and Uint8Arrays
//   (other values are JSON-stringified, as officially; null and undefined throw a TypeError),
//   returns false when the upload is behind
//   (a slow Runtime API fills the native queue), then 'drain' fires; cork/uncork, end(chunk),
//   pipeline(), 'finish', writableFinished behave as Node documents. The first bytes leave as
//   soon as they are written: nothing is buffered for throughput's sake when the socket is free.
// - setContentType(type) before the first write; afterwards it throws
//   Runtime.InvalidStreamingOperation "Cannot set content-type, too late.".
// - The POST starts at the first write or at the end, never before: a handler that neither
//   writes nor ends sends nothing.
// - Errors: a throw or rejection, before or after the first write, ends the body with the
//   trailers Lambda-Runtime-Function-Error-Type and -Error-Body (base64 of
//   {errorType, errorMessage, trace}); bytes already written are kept. A non-async handler
//   fails with "Streaming does not support non-async handlers.". A handler that returns before
//   ending the stream is waited for (a stream piped without awaiting ends later, as officially);
//   if the stream is still open when the invocation's deadline comes, it fails with "Response
//   stream is not finished." (the official clients wait forever: Lambda then only reports a
//   timeout). 3.x reports these two runtime errors as plain strings (errorType "string"),
//   4.x as Errors: lib/mode.mjs decides.
// - The native side (src/stream/) sends the chunked request from its own thread and holds
//   at most max(highWaterMark, 1 MiB) bytes it has not yet written to the socket (plus one
//   write), so memory stays flat however large the stream (Lambda allows 200 MB).
import { Writable } from 'node:stream';
import native from './native.mjs';
import { errorPost } from './errors.mjs';
import { mode } from './mode.mjs';
import { streamingHighWaterMark } from './awslambda.mjs';
import { isEpochDeadline } from './context.mjs';

const { ResponseStreamWriter } = native;

const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
const NON_ASYNC_MESSAGE = 'Streaming does not support non-async handlers.';
const NOT_FINISHED_MESSAGE = 'Response stream is not finished.';
/** How long before the deadline an unfinished stream is reported, so the report gets out. */
const DEADLINE_MARGIN_MS = 50;
/**
 * The native queue (bytes handed to the upload thread, not yet in the socket) holds at least
 * this much before write() waits for it, whatever the highWaterMark: the Writable's own buffer
 * honours highWaterMark, and a native queue as small as a chunk would make every write wait for
 * a round trip to the upload thread (measured: -30% throughput at 64 KiB writes).
 */
const NATIVE_QUEUE_MIN = 1024 * 1024;
/** A header value may not hold control characters (Node's own rule for setHeader). */
const INVALID_HEADER_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

// The behaviour differences between the official clients that streaming has, decided once.
/** 3.x fails with the bare message string, 4.x with an Error. */
const runtimeFailure = mode.streamingFailuresAreErrors ? (message) => new Error(message) : (message) => message;
/** 4.x reports a failure one setImmediate turn after it happens, as it posts any result. */
const failureDelay = mode.postAfterImmediate ? () => new Promise((resolve) => setImmediate(resolve)) : () => undefined;

/** Runtime.InvalidStreamingOperation, named like the runtime's other errors in this mode. */
class InvalidStreamingOperation extends Error {
  constructor(message) {
    super(message);
    if (mode.errorNameIsOwn) this.name = 'Runtime.InvalidStreamingOperation';
  }
}
if (!mode.errorNameIsOwn) {
  Object.defineProperty(InvalidStreamingOperation.prototype, 'name', {
    value: 'Runtime.InvalidStreamingOperation',
    writable: true,
    configurable: true,
  });
}

const noop = () => {};

/**
 * The `responseStream` a streaming handler writes to. The native writer (and with it the POST)
 * is created at the first write or at the end; content type and prelude are fixed then.
 */
export class ResponseStream extends Writable {
  #endpoint;
  #requestId;
  #contentType = DEFAULT_CONTENT_TYPE;
  #started = false; // the first write() or end() was called: too late for a content type
  #writer = null;
  #done = null; // the native end()/fail() promise: the Runtime API's answer
  #error = null; // the error the stream emitted, if any
  #failure = null; // { errorType, errorBody } when fail() ends the stream

  constructor({ requestId, endpoint, highWaterMark } = {}) {
    super(highWaterMark === undefined ? {} : { highWaterMark });
    this.#requestId = requestId;
    this.#endpoint = endpoint;
    // A failed upload must not crash the process through an 'error' nobody listens to: the
    // invocation reports it (see invokeStreaming). Listeners the handler adds still see it.
    this.on('error', (err) => {
      this.#error ??= err;
    });
  }

  setContentType(contentType) {
    if (this.#started) throw new InvalidStreamingOperation('Cannot set content-type, too late.');
    const value = String(contentType);
    if (INVALID_HEADER_CHAR.test(value)) {
      const err = new TypeError('Invalid character in header content ["Content-Type"]');
      err.code = 'ERR_INVALID_CHAR';
      throw err;
    }
    this.#contentType = value;
  }

  write(chunk, encoding, callback) {
    // Values that are not bytes are sent as JSON, as officially; null and undefined throw
    // TypeErrors, as from any Writable (the official client throws one reading their length).
    if (chunk !== null && chunk !== undefined && typeof chunk !== 'string' && !(chunk instanceof Uint8Array)) {
      chunk = JSON.stringify(chunk);
    }
    this.#start();
    return super.write(chunk, encoding, callback);
  }

  end(chunk, encoding, callback) {
    if (typeof chunk === 'function') {
      callback = chunk;
      chunk = undefined;
    } else if (typeof encoding === 'function') {
      callback = encoding;
      encoding = undefined;
    }
    if (chunk !== undefined && chunk !== null) this.write(chunk, encoding);
    else this.#start();
    return super.end(callback);
  }

  /** The first write or end: the prelude hook (HttpResponseStream.from) writes before anything else. */
  #start() {
    if (this.#started) return;
    this.#started = true;
    const hook = this._onBeforeFirstWrite;
    if (typeof hook === 'function') hook((bytes) => super.write(bytes));
  }

  #open() {
    this.#writer ??= new ResponseStreamWriter(
      this.#endpoint,
      this.#requestId,
      this.#contentType,
      Math.max(this.writableHighWaterMark, NATIVE_QUEUE_MIN),
    );
    return this.#writer;
  }

  _write(chunk, _encoding, callback) {
    this.#send([chunk], callback);
  }

  _writev(entries, callback) {
    this.#send(entries.map((e) => e.chunk), callback);
  }

  #send(chunks, callback) {
    let room;
    try {
      room = this.#open().write(chunks);
    } catch (err) {
      callback(err);
      return;
    }
    // No room: the chunk is queued natively, but Node's buffer holds what comes next until the
    // upload catches up, so write() returns false and 'drain' follows.
    if (room) callback();
    else this.#writer.drained().then(() => callback(), callback);
  }

  _final(callback) {
    try {
      const writer = this.#open();
      const failure = this.#failure;
      this.#settle(failure ? writer.fail(failure.errorType, failure.errorBody) : writer.end());
      callback();
    } catch (err) {
      callback(err);
    }
  }

  /**
   * Ends the response with the error trailers, after everything written so far. Once ended
   * (end() called), the response completes as it is: the trailers can no longer be added, as
   * with the official clients. Resolves like `completion`.
   */
  async fail(errorType, errorBody) {
    if (!this.#done && !this.destroyed && !this.writableEnded) {
      // Pending writes go first (end() flushes them, uncorking), then the trailers instead of
      // the normal end. The prelude hook is not run: there is no body for it to introduce.
      this.#failure = { errorType, errorBody };
      this.#started = true;
      Writable.prototype.end.call(this);
    }
    if (!this.#done && !this.destroyed && !this.writableFinished) {
      await new Promise((resolve) => {
        const done = () => {
          this.off('finish', done);
          this.off('close', done);
          resolve();
        };
        this.on('finish', done);
        this.on('close', done);
      });
    }
    // Destroyed before it could end (a failed write, destroy() by the handler or by a failed
    // pipeline): what had been handed over is queued natively, so the trailers still follow it.
    if (!this.#done) this.#settle(this.#open().fail(errorType, errorBody));
    return this.#done;
  }

  #settle(promise) {
    this.#done = promise;
    // Rejections are reported by whoever awaits `completion`; never as unhandled.
    promise.catch(noop);
  }

  /** The Runtime API's answer, once the stream has ended; null before. */
  get completion() {
    return this.#done;
  }

  /** The error the stream emitted (a failed upload, a write after end...), if any. */
  get streamError() {
    return this.#error;
  }
}

/**
 * Waits until `stream` has finished or closed, or until `deadlineMs` - margin; resolves with
 * 'finished', 'closed' or 'deadline'. The timer keeps the process alive, as the official
 * clients' open socket does.
 */
function streamOutcome(stream, deadlineMs) {
  if (stream.writableFinished) return Promise.resolve('finished');
  if (stream.destroyed) return Promise.resolve('closed');
  return new Promise((resolve) => {
    // A deadline that is not an epoch time (an emulator's) is no deadline: wait, as officially.
    const delay = isEpochDeadline(deadlineMs) ? Math.max(0, deadlineMs - Date.now() - DEADLINE_MARGIN_MS) : Infinity;
    const timer = setTimeout(() => settle('deadline'), Math.min(delay, 2 ** 31 - 1));
    const onFinish = () => settle('finished');
    const onClose = () => settle(stream.writableFinished ? 'finished' : 'closed');
    function settle(outcome) {
      clearTimeout(timer);
      stream.off('finish', onFinish);
      stream.off('close', onClose);
      resolve(outcome);
    }
    stream.once('finish', onFinish);
    stream.once('close', onClose);
  });
}

function isPromiseLike(value) {
  return typeof value === 'object' && value !== null && typeof value.then === 'function';
}

/** See the contract at the top of this file. */
export async function invokeStreaming({ client, handler, event, context, invocation, log }) {
  const stream = new ResponseStream({
    requestId: invocation.requestId,
    endpoint: typeof client?.endpoint === 'string' ? client.endpoint : undefined,
    highWaterMark: streamingHighWaterMark(handler),
  });
  const fail = async (err) => {
    await failureDelay();
    // What the mode reports (3.x: what its logger throws recording it, lib/logging.mjs).
    let reported = err;
    if (log?.logError) reported = log.logError('Invoke Error', err);
    else console.error('Invoke Error', err);
    const { body, errorType } = errorPost(reported);
    await stream.fail(errorType, body);
  };

  // Called as a method named `handler`, as both official clients do (`this.handler(...)`): the
  // anonymous function given to streamifyResponse then shows as "handler" in stack traces.
  const invoker = { handler };
  let pending;
  try {
    pending = invoker.handler(event, stream, context);
  } catch (err) {
    return fail(err);
  }
  if (!isPromiseLike(pending)) return fail(runtimeFailure(NON_ASYNC_MESSAGE));
  try {
    const result = await pending;
    if (result !== undefined) console.warn('Streaming handlers ignore return values.');
  } catch (err) {
    return fail(err);
  }

  const outcome = await streamOutcome(stream, invocation.deadlineMs);
  if (outcome === 'finished' && stream.completion) {
    await stream.completion;
    return;
  }
  // Destroyed before its end (a failed pipeline the handler did not await, a failed upload), or
  // still open at the deadline.
  if (stream.completion) {
    await stream.completion;
    return;
  }
  const uploadFailed = typeof stream.streamError?.code === 'string' && stream.streamError.code.startsWith('ERR_RUNTIME_API');
  if (uploadFailed) throw stream.streamError;
  return fail(outcome === 'closed' && stream.streamError ? stream.streamError : runtimeFailure(NOT_FINISHED_MESSAGE));
}
