// Which official client we behave like: the one place that decides between the 3.x and the
// 4.x behaviour of aws-lambda-ric. AWS runs 3.x in its nodejs20.x / nodejs22.x images and 4.x in
// nodejs24.x and for Lambda Managed Instances; functions notice the difference (callback
// handlers, exit codes, event-loop ordering, log placeholders), so a drop-in replacement must
// pick the one the environment asks for. Every behaviour difference is a field of the mode
// object below, so code elsewhere branches on a named property, never on a version number.
//
// The table (docs/compatibility.md repeats it with the reasons):
//
// | field                    | 3.x (nodejs20.x/22.x)                   | 4.x (nodejs24.x, managed instances) |
// |--------------------------|-----------------------------------------|-------------------------------------|
// | invokeLoop               | 'callback': callback / context.succeed  | 'await': the handler's result is    |
// |                          | or a promise answers (the next 5 rows)  | awaited (the next 5 rows)           |
// | callbackHandlers         | (event, context, callback) supported    | refused at init: CallbackHandlerDeprecated |
// | legacyContext            | context.succeed/fail/done and           | absent                              |
// |                          | callbackWaitsForEmptyEventLoop          |                                     |
// | syncResultIsResponse     | no: a plain return value is ignored,    | yes: the value is the response      |
// |                          | null is posted when the loop drains     |                                     |
// | postAfterImmediate       | no: POST in the microtask that settles  | yes: nextTick + setImmediate        |
// |                          | the handler's promise                   | callbacks run before the POST       |
// | postResponseAsync        | no: the POST blocks the JS thread       | no; on Managed Instances a response |
// |                          |                                         | over 64 KiB is sent from a pool     |
// |                          |                                         | thread, the worker's other          |
// |                          |                                         | invocations go on                   |
// | nextAfterImmediate       | yes: GET next after queued immediates   | no: GET next right after the POST   |
// | processErrors            | 'report-and-exit': post for the         | 'crash': Node's own crash (exit 1); |
// |                          | invocation, exit 129 / 128              | we post for the invocation first    |
// | initErrorUntilFirstEvent | yes: a process-level error while the     | no: only during init itself         |
// |                          | first GET next is pending posts init/error |                                  |
// | initFailure              | log 'Uncaught Exception', post, exit 129| log 'Init Error', post, crash (1)   |
// | runtimeApiFailureExitCode| 129 (GET next / a post cannot be sent)  | 1                                   |
// | nextRetry                | null: a failed GET next ends the process| the same; Managed Instances: retried|
// |                          |                                         | with backoff (lib/retry.mjs)        |
// | failedPostEndsProcess    | yes: an unreachable API ends the process| the same; Managed Instances: no,    |
// |                          |                                         | only that invocation fails (logged) |
// | errorNameIsOwn           | no: Runtime.* name on the prototype     | yes: own `name` (shows in logs)     |
// | errorClassNames          | ImportModuleError, HandlerNotFound, ... | ImportModuleError, HandlerNotFoundError, ... |
// | errorBody                | 'v3': {name, message, stack} objects    | 'v4': `instanceof Error` (another   |
// |                          | post as errors (duck typing); toString()| realm's Error still is one);        |
// |                          | (null/undefined: 'handled' placeholder) | String(value)                       |
// | stringifyErrorType       | 'Error'                                 | 'Runtime.JSONStringifyError'        |
// | contextErrorStyle        | 'Cannot parse ClientContext as json: …' | 'Failed to parse lambda-runtime-client-context as JSON: …' |
// | contextHasTraceId        | no                                      | context.xRayTraceId                 |
// | traceIdInEnv             | yes: process.env._X_AMZN_TRACE_ID       | yes, except on Managed Instances    |
// |                          | follows the trace header                | (shared by overlapping invocations) |
// | loadCommonJsWithRequire  | yes (require stack names the runtime)   | no: every module through import()   |
// | loadFailureReadsCode     | yes: a module throwing null/undefined   | no: the value is the init error     |
// |                          | fails init with the TypeError of        |                                     |
// |                          | reading its `.code`                     |                                     |
// | neverSettledNonAsync     | null response (forgotten callback)      | Runtime.NodeJsExit error            |
// | handlerReceiver          | 'Runtime': frames read                  | 'BufferedInvokeProcessor'           |
// |                          | "at Runtime.handler (...)"              |                                     |
// | streamingFailuresAreErrors | no: a bare message string (errorType   | yes: Errors                         |
// |                          | "string") for the stream's own failures |                                     |
// | version                  | 3 (logging reads it: placeholder id     | 4 ('-')                             |
// |                          | `undefined`)                            |                                     |
//
// Both modes (deliberately, see docs/compatibility.md): an `async function` handler whose
// promise never settles while the event loop drains fails with Runtime.NodeJsExit (the current
// 3.x source), a directory holding an index file loads, a default export holding the handler
// is found, and an invocation that the official 4.x client would crash on without telling the
// Runtime API (bad event JSON, bad client-context header, an uncaught exception) gets its
// error posted first.

import { nextRetryFrom } from './retry.mjs';

const CALLBACK_REFUSED_NODE22 =
  'ERROR: AWS Lambda does not support callback-based function handlers when using Node.js 22 with Managed Instances. ' +
  'To use Managed Instances, modify this function to use a supported handler signature. ' +
  'For more information see https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html.';
const CALLBACK_REFUSED_NODE24 =
  'ERROR: AWS Lambda has removed support for callback-based function handlers starting with Node.js 24. ' +
  'You need to modify this function to use a supported handler signature to use Node.js 24 or later. ' +
  'For more information see https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html.';

/**
 * The behaviour profile for an environment. 3.x when AWS_EXECUTION_ENV names Node 20 or 22
 * (or, unset, on Node < 24), 4.x on Node 24+ and whenever AWS_LAMBDA_MAX_CONCURRENCY says the
 * function runs on Managed Instances (AWS uses the 4.x client there, Node 22 included; there
 * are none for Node 20).
 */
export function modeFor(env = process.env, nodeVersion = process.versions.node) {
  const named = /nodejs(\d+)/i.exec(env.AWS_EXECUTION_ENV ?? '');
  const major = named ? Number(named[1]) : Number(nodeVersion.split('.')[0]);
  // Managed Instances exist from nodejs22.x on; the 3.x client ignores the variable.
  const managedInstances = env.AWS_LAMBDA_MAX_CONCURRENCY !== undefined && major >= 22;
  const v4 = major >= 24 || managedInstances;
  const reason = named
    ? `AWS_EXECUTION_ENV=${env.AWS_EXECUTION_ENV}${managedInstances ? ' with AWS_LAMBDA_MAX_CONCURRENCY' : ''}`
    : `Node.js ${nodeVersion}${managedInstances ? ' with AWS_LAMBDA_MAX_CONCURRENCY' : ''}`;
  return Object.freeze(v4 ? v4Mode(env, reason, managedInstances) : v3Mode(reason));
}

// The runtime errors' class names (JSON records print them as errorType); 4.x renames two.
const ERROR_CLASS_NAMES = Object.freeze({
  ImportModule: 'ImportModuleError',
  HandlerNotFound: 'HandlerNotFound',
  MalformedHandlerName: 'MalformedHandlerName',
  UserCodeSyntax: 'UserCodeSyntaxError',
  MalformedStreamingHandler: 'MalformedStreamingHandler',
  JSONStringify: 'JSONStringifyError',
  Platform: 'PlatformError',
  CallbackHandlerDeprecated: 'CallbackHandlerDeprecatedError',
  UnhandledPromiseRejection: 'UnhandledPromiseRejection',
  NodeJsExit: 'NodeJsExit',
  MissingRequestId: 'MissingRequestId', // ours: no official class (docs/reliability.md)
});

function v3Mode(reason) {
  return {
    version: 3,
    name: '3.x',
    reason,
    invokeLoop: 'callback',
    multiConcurrent: false,
    callbackHandlers: true,
    callbackRefusedMessage: undefined,
    legacyContext: true,
    syncResultIsResponse: false,
    postAfterImmediate: false,
    postResponseAsync: false,
    streamingFailuresAreErrors: false,
    nextAfterImmediate: true,
    processErrors: 'report-and-exit',
    uncaughtExceptionExitCode: 129,
    unhandledRejectionExitCode: 128,
    runtimeApiFailureExitCode: 129,
    nextRetry: null,
    failedPostEndsProcess: true,
    initErrorUntilFirstEvent: true,
    initFailure: { title: 'Uncaught Exception', crash: false, exitCode: 129 },
    errorNameIsOwn: false,
    errorClassNames: ERROR_CLASS_NAMES,
    userCodeSyntaxKeepsStack: false,
    errorBody: 'v3',
    stringifyErrorType: 'Error',
    contextErrorStyle: 'v3',
    contextHasTraceId: false,
    traceIdInEnv: true,
    loadCommonJsWithRequire: true,
    loadFailureReadsCode: true,
    neverSettledNonAsync: 'null-response',
    handlerReceiver: 'Runtime',
  };
}

function v4Mode(env, reason, managedInstances) {
  return {
    version: 4,
    name: '4.x',
    reason,
    invokeLoop: 'await',
    // Managed Instances: worker threads, each serving invocations that overlap (lib/workers.mjs).
    multiConcurrent: managedInstances,
    callbackHandlers: false,
    callbackRefusedMessage:
      env.AWS_EXECUTION_ENV === 'AWS_Lambda_nodejs22.x' ? CALLBACK_REFUSED_NODE22 : CALLBACK_REFUSED_NODE24,
    legacyContext: false,
    syncResultIsResponse: true,
    postAfterImmediate: true,
    // Managed Instances: a synchronous POST of a large response held every other invocation of
    // the worker (measured: docs/event-loop.md).
    postResponseAsync: managedInstances,
    streamingFailuresAreErrors: true,
    nextAfterImmediate: false,
    processErrors: 'crash',
    uncaughtExceptionExitCode: 1,
    unhandledRejectionExitCode: 1,
    runtimeApiFailureExitCode: 1,
    // Managed Instances: a worker serves several invocations and the environment many workers,
    // so one failure of the Runtime API must not end either (issue 19; the official 4.0.2
    // retries GET next in the worker and logs a failed post).
    nextRetry: managedInstances ? nextRetryFrom(env) : null,
    failedPostEndsProcess: !managedInstances,
    initErrorUntilFirstEvent: false,
    initFailure: { title: 'Init Error', crash: true, exitCode: 1 },
    errorNameIsOwn: true,
    errorClassNames: { ...ERROR_CLASS_NAMES, HandlerNotFound: 'HandlerNotFoundError', MalformedHandlerName: 'MalformedHandlerNameError' },
    userCodeSyntaxKeepsStack: true,
    errorBody: 'v4',
    stringifyErrorType: 'Runtime.JSONStringifyError',
    contextErrorStyle: 'v4',
    contextHasTraceId: true,
    // Managed Instances: invocations overlap, and process.env is the worker's, shared by them.
    traceIdInEnv: !managedInstances,
    loadCommonJsWithRequire: false,
    loadFailureReadsCode: false,
    neverSettledNonAsync: 'node-js-exit',
    handlerReceiver: 'BufferedInvokeProcessor',
  };
}

/** The mode of this process, decided once at start-up. */
export const mode = modeFor();
