// globalThis.awslambda: what both official clients define before the handler's module loads,
// and what a streaming function calls at import time:
//
//   export const handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
//     const stream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 200 });
//     stream.end('hello');
//   }, { highWaterMark: 16384 });
//
// Loaded at every start-up, so it is tiny and imports nothing: the streaming machinery itself
// (lib/streaming.mjs) is imported only when a streaming handler is invoked. The marks are the
// registered symbols the official clients use, so a handler marked by a library that sets them
// itself is recognised too.

const HANDLER_STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const HANDLER_HIGH_WATER_MARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');
const STREAM_RESPONSE = 'response';

/** The content type of a response that starts with an HTTP prelude (function URLs, API Gateway). */
export const HTTP_INTEGRATION_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';
/** The prelude's JSON is followed by this many NUL bytes, then the body. */
export const PRELUDE_DELIMITER_LENGTH = 8;

/**
 * HttpResponseStream.from(responseStream, prelude): the response becomes an HTTP response whose
 * status, headers and cookies are `prelude`. The stream writes the prelude and the delimiter
 * right before its first bytes, whichever way they come (write, end(chunk), a bare end(),
 * pipeline), so the prelude always precedes the body.
 */
export class HttpResponseStream {
  static from(underlyingStream, prelude) {
    underlyingStream.setContentType(HTTP_INTEGRATION_CONTENT_TYPE);
    const json = JSON.stringify(prelude);
    // `_onBeforeFirstWrite` is the official clients' hook, kept so that streams and libraries
    // built around it behave the same here.
    underlyingStream._onBeforeFirstWrite = (write) => {
      write(json);
      write(new Uint8Array(PRELUDE_DELIMITER_LENGTH));
    };
    return underlyingStream;
  }
}

// ---- SnapStart runtime hooks (docs/snapstart.md) ----------------------------------------------
// awslambda.snapStart.registerBeforeSnapshot(fn) / registerAfterRestore(fn), also exported by
// `lambda-rapid/snapstart` (lib/snapstart-hooks.mjs re-exports them). Here rather than in a
// module of their own so that start-up loads no extra file. The hooks live on globalThis under a
// registered symbol, not in this module's scope: a function that bundles its own copy of
// lambda-rapid, or loads it from its own node_modules, registers into the list the runtime runs
// (lib/snapstart.mjs). Registering outside SnapStart is harmless: the hooks are kept and never
// called, so one code base runs under every init type, and under other runtimes.

const HOOKS = Symbol.for('lambda-rapid.snapstart.hooks');

/** The registry shared by every copy of this module in the process. */
export function snapStartHooks() {
  let hooks = globalThis[HOOKS];
  if (!hooks) {
    hooks = { beforeSnapshot: [], afterRestore: [] };
    Object.defineProperty(globalThis, HOOKS, { value: hooks, enumerable: false });
  }
  return hooks;
}

function checked(fn, what) {
  if (typeof fn !== 'function') {
    throw new TypeError(`${what} takes a function (sync or async), got ${fn === null ? 'null' : typeof fn}`);
  }
  return fn;
}

/**
 * Runs `fn` (awaited if it returns a promise) after init and before Lambda takes the snapshot.
 * Hooks run in the reverse order of their registration, as in Lambda's Java, Python and .NET
 * clients. A hook that throws fails the init (Runtime.BeforeSnapshotError).
 */
export function registerBeforeSnapshot(fn) {
  snapStartHooks().beforeSnapshot.push(checked(fn, 'registerBeforeSnapshot'));
}

/**
 * Runs `fn` (awaited if it returns a promise) in each environment restored from the snapshot,
 * before its first invocation, in the order of registration. A hook that throws fails the
 * restore (Runtime.AfterRestoreError) and the environment is discarded.
 */
export function registerAfterRestore(fn) {
  snapStartHooks().afterRestore.push(checked(fn, 'registerAfterRestore'));
}

/** What globalThis.awslambda.snapStart holds. */
export const snapStart = Object.freeze({ registerBeforeSnapshot, registerAfterRestore });

/** awslambda.streamifyResponse(handler, { highWaterMark }): marks `handler` as streaming. */
function streamifyResponse(handler, options) {
  handler[HANDLER_STREAMING] = STREAM_RESPONSE;
  if (typeof options?.highWaterMark === 'number') {
    handler[HANDLER_HIGH_WATER_MARK] = parseInt(String(options.highWaterMark), 10);
  }
  return handler;
}

/**
 * Defines globalThis.awslambda (keeping any members already there). The caller skips this when
 * AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA is "1" or "true", as the official clients do.
 */
export function installAwsLambdaGlobal() {
  globalThis.awslambda = { ...globalThis.awslambda, streamifyResponse, HttpResponseStream, snapStart };
}

/**
 * Whether `fn` was marked by streamifyResponse. A mark other than response streaming is refused
 * with `errors.MalformedStreamingHandler` (an init error, as officially), when given.
 */
export function isStreamingHandler(fn, errors) {
  const mark = fn?.[HANDLER_STREAMING];
  if (mark === undefined || mark === null || mark === false) return false;
  if (mark === STREAM_RESPONSE) return true;
  const message = 'Only response streaming is supported.';
  throw errors?.MalformedStreamingHandler ? new errors.MalformedStreamingHandler(message) : new Error(message);
}

/** The highWaterMark given to streamifyResponse, or undefined. */
export function streamingHighWaterMark(fn) {
  const value = fn?.[HANDLER_HIGH_WATER_MARK];
  if (value === undefined || value === null || value === false) return undefined;
  const n = parseInt(value, 10);
  return Number.isNaN(n) ? undefined : n;
}
