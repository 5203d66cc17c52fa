// lambda-rapid: the Lambda Node.js runtime loop, a drop-in for /var/runtime/index.mjs.
//
//   node index.mjs [handler]      (_HANDLER, LAMBDA_TASK_ROOT, AWS_LAMBDA_RUNTIME_API)
//
// Read top to bottom, this file is the event-loop contract (docs/event-loop.md has the
// measurements behind it). Which official client we match, 3.x (nodejs20.x/22.x) or 4.x
// (nodejs24.x, Managed Instances), is decided once in lib/mode.mjs; the differences below
// are named properties of `mode`, never version checks.
//
// 1. Start-up: patch console (lib/logging.mjs), define globalThis.awslambda, connect to the
//    Runtime API, install the process-level error handlers, load the handler (top-level await
//    in the function's module completes first). A failure is logged, posted to
//    /runtime/init/error and ends the process: 3.x exits 129, 4.x crashes with 1.
//    With AWS_LAMBDA_INITIALIZATION_TYPE=snap-start, SnapStart's hooks, snapshot and restore
//    follow (1b; lib/snapstart.mjs, docs/snapstart.md), and the loop runs on a client created
//    after the restore.
// 2. GET next: sent from the JS thread, its socket watched by the event loop itself (the JS
//    thread stays free, and a pending GET holds neither a libuv pool thread nor the process
//    at exit). The handler is called in the microtask in which that promise resolves.
// 3. The response:
//    3.x  POST in the microtask in which the handler's promise settles (or at once from
//         callback/context.succeed): microtasks queued before that run first, nextTick and
//         setImmediate callbacks after. A callback with callbackWaitsForEmptyEventLoop
//         (the default) posts when the event loop has drained; a plain return value is
//         ignored and null is posted when the loop drains.
//    4.x  after the handler's promise settles, one setImmediate turn: microtasks, nextTick
//         and setImmediate callbacks the handler queued all run before the POST.
//    Either way the POST is a blocking call on the JS thread, as in both official clients:
//    no timer or I/O callback the handler left behind runs while the response is in flight.
// 4. GET next again: 3.x after one setImmediate turn (after the handler's immediates), 4.x
//    right after the POST. Timers the handler left (setTimeout 0 included) run while the
//    next GET is outstanding, in this process, before or during the next invocation.
import { mode } from './lib/mode.mjs';
import { installLogging, verboseLogger } from './lib/logging.mjs';
import { RuntimeClient } from './lib/native.mjs';
import { Errors, errorPost, xrayCause, serializeResult } from './lib/errors.mjs';
import { callbackEraContextBase, contextBuilder, forwardTraceId, isEpochDeadline } from './lib/context.mjs';
import { loadHandler } from './lib/handler.mjs';
import { installAwsLambdaGlobal, isStreamingHandler } from './lib/awslambda.mjs';
import { backoffDelay } from './lib/retry.mjs';

const env = process.env;
// AWS_LAMBDA_RUNTIME_VERBOSE=1..3: the runtime's own debug lines (`RUNTIME RAPID ...`); no-ops
// when unset, so the hot path pays one empty call.
const { verbose, vverbose } = verboseLogger('RAPID');
const NO_GLOBAL_AWSLAMBDA = env.AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA === '1' ||
  env.AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA === 'true';

// ---- 0. Managed Instances: the main thread only runs the workers (lib/workers.mjs) ----------
// It restarts a worker that dies, and exits (non-zero) only when the environment cannot go on.
const workers = mode.multiConcurrent ? await import('./lib/workers.mjs') : null;
if (workers?.isMainThread) {
  process.exit(await workers.runWorkers({ entry: new URL(import.meta.url), endpoint: env.AWS_LAMBDA_RUNTIME_API, verbose }));
}

// ---- 1. start-up ------------------------------------------------------------------------------
const log = installLogging({ mode });
await log.ready; // Managed Instances: records go to Lambda's log socket once it is connected
if (!NO_GLOBAL_AWSLAMBDA) installAwsLambdaGlobal();

const endpoint = env.AWS_LAMBDA_RUNTIME_API;
let client;
try {
  if (!endpoint) throw new Errors.PlatformError('AWS_LAMBDA_RUNTIME_API is not set: this process must be started by Lambda or an emulator');
  client = new RuntimeClient(endpoint);
} catch (err) {
  // Nowhere to report it: the Runtime API is what is missing.
  log.logError(mode.initFailure.title, err);
  process.exit(1);
}

// The invocations in flight, by request id, until their response or error is posted: one at a
// time, except on Managed Instances, where they overlap.
const inFlight = new Map();
let initialized = false; // true once the first GET next has been sent
let firstEventReceived = false; // 3.x: until then a process-level error is init's (reportProcessError)
let initErrorPosted = false;
let onBeforeExit = null; // what an event loop that drains mid-invocation means (one-shot)

process.on('beforeExit', () => {
  const fn = onBeforeExit;
  onBeforeExit = null;
  fn?.();
});
installProcessErrorHandlers();

// `node index.mjs app.handler` / `lambda-rapid app.handler` is the custom-image entrypoint
// (`npx aws-lambda-ric app.handler`): the function lives in the working directory (the
// image's WORKDIR), as for the official bin, whatever LAMBDA_TASK_ROOT says. Otherwise
// (/var/runtime style) _HANDLER under LAMBDA_TASK_ROOT, or the working directory without it.
const handlerFromArgs = process.argv[2];
const handlerString = handlerFromArgs || env._HANDLER;
const taskRoot = (!handlerFromArgs && env.LAMBDA_TASK_ROOT) || process.cwd();
verbose('Runtime::start', () => `handler '${handlerString}' in ${taskRoot}, ${mode.version}.x behaviour`);
let handler;
let isAsync;
let streaming = false;
let invokeStreaming;
try {
  ({ handler, isAsync } = await loadHandler({ taskRoot, handlerString, mode, errors: Errors }));
  streaming = isStreamingHandler(handler, Errors);
  if (!mode.callbackHandlers && !streaming && handler.length >= 3) {
    throw new Errors.CallbackHandlerDeprecated(mode.callbackRefusedMessage);
  }
  // Only a streaming function pays for loading the streaming machinery.
  if (streaming) ({ invokeStreaming } = await import('./lib/streaming.mjs'));
} catch (err) {
  await initFailed(err);
}

// ---- 1b. SnapStart: before-snapshot hooks, the snapshot, the restore (lib/snapstart.mjs) ------
// Lambda says AWS_LAMBDA_INITIALIZATION_TYPE=snap-start when it initializes a function version to
// snapshot it. The client is replaced after the restore: nothing of the old one is reused.
// Managed Instances do not combine with SnapStart on Lambda, so their workers never get here.
if (env.AWS_LAMBDA_INITIALIZATION_TYPE === 'snap-start' && !mode.multiConcurrent) {
  client = await snapshotThenRestore();
}

const buildContext = contextBuilder({ mode, env, errors: Errors });
// The handler is called as a method, as both official clients call it (`this.handler(...)`):
// an anonymous function (a wrapped or streamified handler) then shows as "handler" in stack
// traces, under the receiver name the official client has (V8 takes it from the class
// declaration, hence two literal classes).
class Runtime { constructor(fn) { this.handler = fn; } }
class BufferedInvokeProcessor { constructor(fn) { this.handler = fn; } }
const invoker = mode.handlerReceiver === 'Runtime' ? new Runtime(handler) : new BufferedInvokeProcessor(handler);
// An event loop that drains before the handler answered: an async function never settled
// (an error); a plain one forgot its callback (null, in 3.x mode).
const drainedIsError = isAsync || mode.neverSettledNonAsync === 'node-js-exit';
initialized = true;
if (mode.invokeLoop === 'callback') scheduleNext();
else if (mode.multiConcurrent) serveConcurrently();
else serveFrom(client.next());

// An init that failed (the handler's loading, a before-snapshot hook): logged, posted to
// /runtime/init/error, then the end of the process: 3.x exits 129, 4.x crashes.
async function initFailed(failure, errorType) {
  // 3.x: what its logger throws recording the error is what it reports (lib/logging.mjs).
  const err = log.logError(mode.initFailure.title, failure);
  postInitError(err, errorType);
  if (!mode.initFailure.crash) process.exit(mode.initFailure.exitCode);
  // 4.x: Node's own crash report on stderr, exit code 1, reached as 4.x reaches it: its start-up
  // promise rejects unhandled. Node's report then reads the same (`node:internal/process/promises`;
  // a non-Error is named in Node's UnhandledPromiseRejection wrapper, not printed bare as a
  // thrown value would be). Nothing runs after it.
  Promise.reject(err);
  await new Promise(() => {});
}

// SnapStart (docs/snapstart.md): resolves with the client the invoke loop uses, created after the
// restore; a failure ends the process. A failed before-snapshot hook is an init error; a failed
// after-restore hook is posted to /runtime/restore/error and the process exits as after an init
// error (without 4.x's crash report: the restore failed, not the module's start-up).
async function snapshotThenRestore() {
  const snap = await import('./lib/snapstart.mjs');
  try {
    const ran = await snap.runBeforeSnapshot();
    verbose('Runtime::snapStart', () => `${ran} before-snapshot hook(s) ran; waiting for the restore`);
  } catch (err) {
    await initFailed(err.cause, snap.BEFORE_SNAPSHOT_ERROR_TYPE);
  }
  try {
    await snap.restoreNext(endpoint);
  } catch (err) {
    // A Runtime API without SnapStart (an emulator given the variable by hand) has no such
    // endpoint: served as a restore that happened at once, as the official client, which ignores
    // the init type, would serve it. Anything else is the Runtime API failing.
    if (err?.status !== 404) {
      console.error(`The Runtime API at ${endpoint} failed: ${err?.message ?? err}`);
      process.exit(mode.runtimeApiFailureExitCode);
    }
    console.error(`The Runtime API at ${endpoint} has no /runtime/restore/next (404): AWS_LAMBDA_INITIALIZATION_TYPE is snap-start, but no snapshot is taken; going on as restored`);
  }
  const refreshed = await snap.refreshAfterRestore();
  verbose('Runtime::snapStart', () => `restored; renewed: ${refreshed.join(', ') || 'nothing to renew'}`);
  try {
    await snap.runAfterRestore();
  } catch (failure) {
    const err = log.logError(mode.initFailure.title, failure.cause);
    const { body } = errorPost(err);
    verbose('Runtime::postRestoreError', snap.RESTORE_ERROR_TYPE);
    try {
      await snap.postRestoreError(endpoint, body);
    } catch (e) {
      console.error(`Could not post the restore error to the Runtime API at ${endpoint}: ${e?.message ?? e}`);
    }
    process.exit(mode.initFailure.exitCode);
  }
  return new RuntimeClient(endpoint);
}

// ---- 2.-4. the invoke loop, 4.x ------------------------------------------------------------
async function serveFrom(next) {
  for (;;) {
    let inv;
    try {
      inv = await next;
    } catch (err) {
      if (!invocationRejected(err)) return;
      next = client.next();
      continue;
    }
    await log.runInInvocation(inv.requestId, inv.tenantId, () => invokeAwaiting(inv), inv.traceId);
    next = client.next();
  }
}

// 4.x on Managed Instances: the next GET goes out as soon as an event arrives, and each
// invocation starts in a setImmediate turn of its own, as in the official client; how many run
// at once is the Runtime API's to say (AWS_LAMBDA_MAX_CONCURRENCY).
async function serveConcurrently() {
  workers.reportServing();
  for (;;) {
    const inv = await nextRetried();
    if (!inv) return; // given up: the main thread ends the environment
    setImmediate(() => log.runInInvocation(inv.requestId, inv.tenantId, () => invokeAwaiting(inv), inv.traceId));
  }
}

// GET next on Managed Instances: a failure is retried after a backoff (lib/retry.mjs), as the
// official 4.0.2 does, while the invocations in flight in this worker go on; after the last
// attempt the main thread is told (lib/workers.mjs) and this resolves with null.
async function nextRetried() {
  let failures = 0;
  for (;;) {
    try {
      return await client.next();
    } catch (failure) {
      // An event without a request id counts as a failed GET, as in 4.0.2: no POST can answer
      // it, and the backoff keeps a Runtime API that sends only such events from a busy loop.
      const err = failure?.code === 'ERR_RUNTIME_API_INVALID_INVOCATION' ? missingRequestId(failure) : failure;
      failures += 1;
      const delay = backoffDelay(failures, mode.nextRetry);
      if (delay === null) {
        log.logError(`Failed to get next invocation after ${failures} attempts. Giving up.`, err);
        workers.reportRuntimeApiGone(failures, err);
        return null;
      }
      log.logError(`Failed to get next invocation (attempt ${failures}/${mode.nextRetry.attempts}). Retrying in ${delay}ms...`, err);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

// 4.x: the handler's result is awaited whatever the handler is (callbacks were refused at
// start-up); one setImmediate turn separates its settling from the POST.
async function invokeAwaiting(inv) {
  vverbose('Runtime::invoke', inv.requestId);
  if (!isEpochDeadline(inv.deadlineMs)) noteOddDeadline(inv);
  inFlight.set(inv.requestId, inv);
  let ok = false;
  let value;
  try {
    const context = buildContext(inv);
    forwardTraceId(inv, env);
    const event = JSON.parse(inv.body);
    if (streaming) {
      await streamResponse(inv, event, context);
      return;
    }
    value = invoker.handler(event, context);
    // On Managed Instances a GET is always pending, so the loop never drains.
    if (isThenable(value)) value = await (mode.multiConcurrent ? value : settledOrDrained(value));
    ok = true;
  } catch (err) {
    value = err;
  }
  await new Promise(setImmediate);
  if (ok) await postResponse(inv.requestId, value);
  else postInvokeError(inv.requestId, value);
}

// Served all the same, as officially (lib/context.mjs, isEpochDeadline).
function noteOddDeadline(inv) {
  verbose('Runtime::invoke', () => `invocation ${inv.requestId}: Lambda-Runtime-Deadline-Ms is ${inv.deadlineMs}, not an epoch time in milliseconds; getRemainingTimeInMillis() is computed from it as sent`);
}

// A promise the event loop can no longer settle (nothing left to run) would leave the
// invocation hanging until its timeout: when the loop drains first, it fails instead.
function settledOrDrained(promise) {
  return new Promise((resolve, reject) => {
    onBeforeExit = () => (drainedIsError ? reject(new Errors.NodeJsExit()) : resolve(null));
    promise.then(
      (v) => { onBeforeExit = null; resolve(v); },
      (e) => { onBeforeExit = null; reject(e); },
    );
  });
}

// ---- 2.-4. the invoke loop, 3.x ------------------------------------------------------------
function scheduleNext() {
  setImmediate(nextThenInvoke);
}

function nextThenInvoke() {
  client.next().then(invokeOrStream, (err) => {
    if (invocationRejected(err)) scheduleNext();
  });
}

function invokeOrStream(inv) {
  firstEventReceived = true;
  log.runInInvocation(inv.requestId, inv.tenantId, () => {
    vverbose('Runtime::invoke', inv.requestId);
    if (!isEpochDeadline(inv.deadlineMs)) noteOddDeadline(inv);
    return streaming ? invokeStreamingCallbackEra(inv) : invokeCallbackEra(inv);
  });
}

// 3.x: the handler may answer through its promise, the callback, or context.succeed/fail/done;
// the first answer wins. Nothing here defers the POST: it happens in the turn the answer is given.
// Per-invocation state lives in one holder object (the context's callbackWaitsForEmptyEventLoop
// accessor reads it, lib/context.mjs); the answer functions are the official shapes: anonymous,
// no declared parameters.
function invokeCallbackEra(inv) {
  const id = inv.requestId;
  inFlight.set(inv.requestId, inv);
  const state = { waitForEmptyEventLoop: true, answered: false, completed: false };

  const postError = (err) => {
    postInvokeError(id, err);
    scheduleNext();
  };
  const complete = (result) => {
    if (state.completed) {
      console.error('Invocation has already been reported as done. Cannot call complete more than once per invocation.');
      return;
    }
    state.completed = true;
    postResponse(id, result);
    scheduleNext();
  };
  const done = (err, result) => {
    onBeforeExit = null;
    if (err !== undefined && err !== null) postError(err);
    else complete(result);
  };
  const callback = anonymous(function () { // callback / succeed / fail / done: only the first call counts
    if (state.answered) return;
    state.answered = true;
    const err = arguments[0];
    onBeforeExit = null;
    if (err !== undefined && err !== null) postError(err);
    else if (!state.waitForEmptyEventLoop) complete(arguments[1]);
    else {
      const result = arguments[1];
      onBeforeExit = () => setImmediate(() => complete(result));
    }
  });
  const succeed = anonymous(function () {
    if (state.answered) return;
    state.answered = true;
    done(null, arguments[0]);
  });
  const fail = anonymous(function () {
    if (state.answered) return;
    state.answered = true;
    const err = arguments[0];
    if (err === undefined || err === null) done('handled');
    else done(err, null);
  });
  const doneOnce = anonymous(function () {
    if (state.answered) return;
    state.answered = true;
    done(arguments[0], arguments[1]);
  });

  // Neither answered nor returned a promise that settles: when the loop drains, a plain
  // function has forgotten its callback (null, as officially), an async one never settled.
  onBeforeExit = () => {
    state.completed = true;
    if (drainedIsError) postError(new Errors.NodeJsExit());
    else {
      postResponse(id, null);
      scheduleNext();
    }
  };

  try {
    const event = JSON.parse(inv.body);
    forwardTraceId(inv, env);
    const base = callbackEraContextBase(state);
    base.succeed = succeed;
    base.fail = fail;
    base.done = doneOnce;
    const context = buildContext(inv, base);
    const result = invoker.handler(event, context, callback);
    if (isThenable(result)) result.then(succeed, fail).catch(fail);
  } catch (err) {
    callback(err);
  }
}

// 3.x streaming: the next GET waits for the event loop to drain, unless the function set
// context.callbackWaitsForEmptyEventLoop = false (the official StreamingContext).
async function invokeStreamingCallbackEra(inv) {
  inFlight.set(inv.requestId, inv);
  const state = { waitForEmptyEventLoop: true };
  try {
    const event = JSON.parse(inv.body);
    forwardTraceId(inv, env);
    const context = buildContext(inv, callbackEraContextBase(state));
    await streamResponse(inv, event, context);
  } catch (err) {
    // Bad event JSON or client context: nothing was streamed yet, so a plain error post.
    if (inFlight.has(inv.requestId)) postInvokeError(inv.requestId, err);
  }
  if (state.waitForEmptyEventLoop) onBeforeExit = scheduleNext;
  else scheduleNext();
}

// lib/streaming.mjs reports the handler's own failures in the stream (error trailers) and
// rejects only when the Runtime API could not be reached or refused the stream.
async function streamResponse(inv, event, context) {
  try {
    await invokeStreaming({ client, handler, event, context, invocation: inv, log });
  } catch (err) {
    postFailed(inv.requestId, err);
  }
  inFlight.delete(inv.requestId);
}

// ---- posting ---------------------------------------------------------------------------------
function postResponse(id, result) {
  let body;
  try {
    body = serializeResult(result, mode, Errors);
  } catch (err) {
    postInvokeError(id, err);
    return;
  }
  vverbose('Runtime::postResponse', id);
  if (mode.postResponseAsync && body.length > OFF_THREAD_POST_MIN_LENGTH) return postResponseOffThread(id, body);
  try {
    client.respondSync(id, body);
  } catch (err) {
    postFailed(id, err, body);
  }
  inFlight.delete(id);
}

// Managed Instances: a large response is sent from a pool thread, so the worker's other
// invocations run while it is in flight; a synchronous 6 MB POST held them all for as long as
// the Runtime API took to take it (docs/event-loop.md, "Managed Instances"). A small one is
// sent at once from this thread: the pool thread's two hops cost more than the POST itself
// (CPU per invocation 86-103 µs against 48-69 µs, docs/managed-instances.md). The invocation
// counts as answered from here: a process-level error now belongs to no invocation.
// (String length, not bytes: a threshold, not a limit.)
const OFF_THREAD_POST_MIN_LENGTH = 64 * 1024;
async function postResponseOffThread(id, body) {
  inFlight.delete(id);
  try {
    await client.respond(id, body);
  } catch (err) {
    postFailed(id, err, body);
  }
}

function postInvokeError(id, err) {
  // 3.x: what its logger throws recording the error is what it reports (lib/logging.mjs).
  postInvokeErrorQuietly(id, log.logError('Invoke Error', err));
}

function postInvokeErrorQuietly(id, err) {
  const { body, errorType } = errorPost(err);
  verbose('Runtime::postError', id, errorType);
  try {
    client.failSync(id, body, errorType, xrayCause(err) || undefined);
  } catch (e) {
    // Nothing more can be reported for this invocation.
    if (!mode.failedPostEndsProcess) log.logError(`Failed to post invocation error for ${id}`, e);
    else {
      console.error(`Could not post the error of invocation ${id} to the Runtime API: ${e?.message ?? e}`);
      if (e?.code === 'ERR_RUNTIME_API_UNREACHABLE') process.exit(mode.runtimeApiFailureExitCode);
    }
  }
  inFlight.delete(id);
}

function postInitError(err, errorType) {
  // A Managed Instances worker restarted after init has no init phase to fail.
  if (initErrorPosted || workers?.isRestartedWorker) return;
  initErrorPosted = true;
  const post = errorPost(err);
  const type = errorType ?? post.errorType;
  verbose('Runtime::postInitError', type);
  try {
    client.initErrorSync(post.body, type);
  } catch (e) {
    console.error(`Could not post the init error to the Runtime API at ${endpoint}: ${e.message}`);
  }
}

// The Runtime API refused a post. 413: the response is over Lambda's size limit; the
// invocation fails with that reason instead of silently losing the answer. Anything else is
// logged; a Runtime API that cannot be reached at all ends the process, except on Managed
// Instances, where the other invocations in flight go on (as in the official 4.0.2).
function postFailed(id, err, body) {
  if (err?.status === 413) {
    const size = body === undefined ? '' : ` (${Buffer.byteLength(body)} bytes)`;
    const tooLarge = new Error(`Response payload size${size} exceeded the maximum the Runtime API accepts: ${apiMessage(err)}`);
    tooLarge.name = 'Function.ResponseSizeTooLarge';
    postInvokeError(id, tooLarge);
    return;
  }
  if (!mode.failedPostEndsProcess) {
    log.logError(`Failed to post invocation response for ${id}`, err);
    return;
  }
  console.error(`Could not post the result of invocation ${id} to the Runtime API: ${err?.message ?? err}`);
  if (err?.code === 'ERR_RUNTIME_API_UNREACHABLE') process.exit(mode.runtimeApiFailureExitCode);
}

function apiMessage(err) {
  try {
    return JSON.parse(err.body).errorMessage ?? err.body;
  } catch {
    return err.body || err.message;
  }
}

// GET next failed: the process ends, as in both official clients. The client serves every event
// they serve; the one it refuses, an event without a request id, is an invocation no POST can
// answer (src/invocation.rs), reported under a name of its own. Returns whether the loop may go on.
function invocationRejected(err) {
  if (err?.code === 'ERR_RUNTIME_API_INVALID_INVOCATION') {
    log.logError('Invoke Error', missingRequestId(err));
  } else {
    console.error(`The Runtime API at ${endpoint} failed: ${err?.message ?? err}`);
  }
  process.exit(mode.runtimeApiFailureExitCode);
  return false;
}

// The event the client refuses: one without a request id (src/invocation.rs).
function missingRequestId(err) {
  return new Errors.MissingRequestId(`${err.message} (Runtime API at ${endpoint})`);
}

// ---- process-level errors ----------------------------------------------------------------------
function installProcessErrorHandlers() {
  if (mode.processErrors === 'report-and-exit') {
    // 3.x: the error is the invocation's (or init's), then the process exits 129 / 128.
    // Neither handler may throw (a listener that throws ends the process with exit 7 and
    // nothing posted, as 3.3.0 does for a thrown Symbol): what 3.x's logger throws recording
    // the error is reported instead (lib/logging.mjs).
    process.on('uncaughtException', (thrown) => {
      reportProcessError(log.logError('Uncaught Exception', thrown));
      process.exit(mode.uncaughtExceptionExitCode);
    });
    process.on('unhandledRejection', (reason, promise) => {
      let err;
      try {
        err = new Errors.UnhandledPromiseRejection(reason, promise);
      } catch (conversionError) {
        // A reason the wrapper cannot convert (a Symbol, a throwing message getter): 3.3.0's
        // handler throws, and its uncaught-exception handler reports that error (exit 129).
        process.emit('uncaughtException', conversionError, 'uncaughtException');
        return;
      }
      reportProcessError(log.logError('Unhandled Promise Rejection', err));
      process.exit(mode.unhandledRejectionExitCode);
    });
    return;
  }
  // 4.x installs no handler: Node crashes with its own report and exit code 1. A monitor does
  // not change that (nor process.listenerCount('uncaughtException')); it posts the error of
  // the invocation in flight first, so Lambda reports it instead of a bare Runtime.ExitError.
  process.on('uncaughtExceptionMonitor', (err, origin) => {
    // The function handles it itself (a listener, or a capture callback such as domain's).
    if (process.listenerCount('uncaughtException') > 0 || process.hasUncaughtExceptionCaptureCallback()) return;
    // Never throws: a monitor that throws turns Node's exit 1 into 7.
    try {
      if (origin !== 'unhandledRejection') reportProcessError(err);
      // A non-Error reason reaches us wrapped by Node (ERR_UNHANDLED_REJECTION); its message
      // describes the reason, so it becomes the message rather than "UnhandledPromiseRejection: ...".
      else reportProcessError(new Errors.UnhandledPromiseRejection(err?.code === 'ERR_UNHANDLED_REJECTION' ? err.message : err));
    } catch {
      reportProcessError(err); // a reason String() cannot convert: posted as it is (errors.mjs)
    }
  });
}

// The invocation the error belongs to: the one whose async context it was thrown in when there
// are several (Managed Instances), else the one in flight. None: during init it is init's; in
// 3.x mode also while the first GET next is pending (a timer init left behind), as 3.x posts it
// to /runtime/init/error until its first event (docs/compatibility.md).
function reportProcessError(err) {
  const inv = inFlight.get(log.requestId) ?? [...inFlight.values()].at(-1);
  if (inv) postInvokeErrorQuietly(inv.requestId, err);
  else if (!initialized || (mode.initErrorUntilFirstEvent && !firstEventReceived)) postInitError(err);
}

// ---- helpers ---------------------------------------------------------------------------------
// `const f = anonymous(function () {})`: f.name is '' (no name taken from the binding).
const anonymous = (fn) => fn;
function isThenable(value) {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof value.then === 'function';
}
