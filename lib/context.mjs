// The `context` object a handler receives, built from the invocation's headers and the
// function's environment, with the official clients' property names, order and values:
//
//   3.x: callbackWaitsForEmptyEventLoop, succeed, fail, done (the loop supplies these),
//        functionVersion, functionName, memoryLimitInMB, logGroupName, logStreamName,
//        clientContext, identity, invokedFunctionArn, awsRequestId, tenantId,
//        getRemainingTimeInMillis
//   4.x: clientContext, identity, invokedFunctionArn, awsRequestId, tenantId, xRayTraceId,
//        getRemainingTimeInMillis, functionName, functionVersion, memoryLimitInMB,
//        logGroupName, logStreamName
//
// Optional headers the Runtime API sends empty are treated as absent (clientContext, identity
// and tenantId undefined), as both official clients do; 4.x's xRayTraceId is '' without a
// trace header (the compat specs pin every combination, __test__/compat-context.spec.mjs).
//
// The environment part is read once: process.env reads cross into C++ on every access.
// getRemainingTimeInMillis is an own closure, not a prototype method, because functions pass
// it around unbound (`const { getRemainingTimeInMillis } = context`).
import { mode as processMode } from './mode.mjs';
import { Errors } from './errors.mjs';

/**
 * Whether a deadline is an epoch time in milliseconds (after 2001-09-09). The Runtime API may
 * send anything: cargo-lambda's emulator sends 600000, and no header reads as 0. The context
 * computes the remaining time from what was sent, as both official clients do; what is not
 * an epoch time only stops a streamed response from being failed at it (lib/streaming.mjs) and
 * earns a verbose-mode note.
 */
export const isEpochDeadline = (ms) => ms >= 1e12;

/**
 * Returns `build(invocation, base)`: fills `base` (3.x: the loop's object carrying the
 * callback-era members; 4.x: a fresh object if omitted) and returns it. Throws, before the
 * handler runs, when the client-context or Cognito identity header is not JSON.
 */
export function contextBuilder({ mode = processMode, env = process.env, errors = Errors } = {}) {
  const functionName = env.AWS_LAMBDA_FUNCTION_NAME;
  const functionVersion = env.AWS_LAMBDA_FUNCTION_VERSION;
  const memoryLimitInMB = env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE;
  const logGroupName = env.AWS_LAMBDA_LOG_GROUP_NAME;
  const logStreamName = env.AWS_LAMBDA_LOG_STREAM_NAME;

  const parseHeader = mode.contextErrorStyle === 'v3'
    ? (value, name) => {
        if (!value) return undefined; // an empty header is no header (3.3.0's native client drops it)
        try {
          return JSON.parse(value);
        } catch (err) {
          throw new Error(`Cannot parse ${name} as json: ${err.toString()}`);
        }
      }
    : (value, name) => {
        if (!value) return undefined;
        try {
          return JSON.parse(value);
        } catch (err) {
          throw new errors.PlatformError(`Failed to parse ${name} as JSON: ${err.message}`);
        }
      };
  const [clientContextName, identityName] = mode.contextErrorStyle === 'v3'
    ? ['ClientContext', 'CognitoIdentity']
    : ['lambda-runtime-client-context', 'lambda-runtime-cognito-identity'];

  if (mode.contextHasTraceId) {
    return function build(inv, base = {}) {
      const deadline = inv.deadlineMs;
      base.clientContext = parseHeader(inv.clientContext, clientContextName);
      base.identity = parseHeader(inv.cognitoIdentity, identityName);
      base.invokedFunctionArn = inv.invokedFunctionArn;
      base.awsRequestId = inv.requestId;
      base.tenantId = inv.tenantId || undefined;
      // '' without a trace header, as 4.x's native client reports it (docs/compatibility.md).
      base.xRayTraceId = inv.traceId ?? '';
      base.getRemainingTimeInMillis = () => deadline - Date.now();
      base.functionName = functionName;
      base.functionVersion = functionVersion;
      base.memoryLimitInMB = memoryLimitInMB;
      base.logGroupName = logGroupName;
      base.logStreamName = logStreamName;
      return base;
    };
  }
  return function build(inv, base = {}) {
    const deadline = inv.deadlineMs;
    // Parsed first: 3.x builds the header part before assigning anything.
    const clientContext = parseHeader(inv.clientContext, clientContextName);
    const identity = parseHeader(inv.cognitoIdentity, identityName);
    base.functionVersion = functionVersion;
    base.functionName = functionName;
    base.memoryLimitInMB = memoryLimitInMB;
    base.logGroupName = logGroupName;
    base.logStreamName = logStreamName;
    base.clientContext = clientContext;
    base.identity = identity;
    base.invokedFunctionArn = inv.invokedFunctionArn;
    base.awsRequestId = inv.requestId;
    base.tenantId = inv.tenantId || undefined;
    base.getRemainingTimeInMillis = () => deadline - Date.now();
    return base;
  };
}

/**
 * 3.x: the object the loop builds a context on, holding its own
 * `callbackWaitsForEmptyEventLoop` accessor (enumerable, configurable, first in key order, as
 * the official object literal has it), backed by `holder.waitForEmptyEventLoop`.
 *
 * The accessor functions are shared by every invocation rather than closures made per
 * invocation: V8 cannot share the hidden class of objects whose accessors differ, so a fresh
 * closure pair turned each context into a dictionary-mode object (about 1.5 µs to build and
 * slower property reads for the handler). The holder is attached with a private field (no key,
 * no prototype change); the accessors find it on the receiver or up its prototype chain, so
 * `Object.create(context)` reads and writes the same flag, as with the official closures.
 */
export function callbackEraContextBase(holder) {
  const base = {};
  new WaitFlag(base, holder);
  Object.defineProperty(base, 'callbackWaitsForEmptyEventLoop', WAIT_FLAG_ACCESSOR);
  lastHolder = holder;
  return base;
}

let lastHolder = null; // an accessor called without a context as receiver (detached) reads this
const Identity = function (o) { return o; };
class WaitFlag extends Identity {
  #holder;
  constructor(base, holder) {
    super(base); // returns `base`: the field lands on it, not on a new object
    this.#holder = holder;
  }
  static holderOf(receiver) {
    for (let o = receiver; o !== null && o !== undefined; o = Object.getPrototypeOf(o)) {
      if (typeof o === 'object' && #holder in o) return o.#holder;
    }
    return lastHolder;
  }
}
// Named and shaped as an object literal's accessor pair: 'get callbackWaitsForEmptyEventLoop'.
const WAIT_FLAG_ACCESSOR = Object.getOwnPropertyDescriptor({
  get callbackWaitsForEmptyEventLoop() { return WaitFlag.holderOf(this).waitForEmptyEventLoop; },
  set callbackWaitsForEmptyEventLoop(value) { WaitFlag.holderOf(this).waitForEmptyEventLoop = value; },
}, 'callbackWaitsForEmptyEventLoop');

/**
 * process.env._X_AMZN_TRACE_ID follows the invocation's trace header (the X-Ray SDK and
 * OpenTelemetry read it), and is removed when the header is absent so a previous
 * invocation's trace does not leak into this one. Not on Managed Instances (the mode's
 * `traceIdInEnv`): invocations overlap there and process.env is shared by all of them, so one
 * invocation's SDK calls would carry another's trace; as in the official 4.x, the variable
 * stays unset and the trace id is in context.xRayTraceId and awslambda.InvokeStore only.
 */
export function forwardTraceId(inv, env = process.env, mode = processMode) {
  if (!mode.traceIdInEnv) return;
  if (inv.traceId) env._X_AMZN_TRACE_ID = inv.traceId;
  else if (env._X_AMZN_TRACE_ID !== undefined) delete env._X_AMZN_TRACE_ID;
}
