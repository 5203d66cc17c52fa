// Lambda logging: makes `console` inside a function write the records the official Node.js
// runtime writes, byte for byte, so CloudWatch metric filters, subscription pipelines and
// Powertools-style loggers keep working. Formats, levels and the telemetry channel are
// described in docs/logging.md.
//
// Contract with the runtime loop (index.mjs):
//
//   const log = installLogging({ mode });        // once, before the handler is loaded
//   log.requestId = invocation.requestId;         // at the start of every invocation,
//   log.tenantId = invocation.tenantId;           //   undefined when the header is absent
//   log.logError('Invoke Error', err);            // the runtime's own error lines (below)
//
// - Nothing has to be reset between invocations: like both official clients, the last
//   request id stays in force until the next invocation sets a new one. Before the first
//   invocation (init) the id is the mode's placeholder: 4.x prints `-`, 3.x prints
//   `undefined` in TEXT and omits `requestId` in JSON. installLogging() sets it.
// - In 4.x multi-concurrent mode (AWS_LAMBDA_MAX_CONCURRENCY set) invocations overlap, so a
//   single "current" id cannot work: run each invocation as
//   `log.runInInvocation(requestId, tenantId, () => ..., traceId)` (AsyncLocalStorage-backed
//   there; in every other mode it just sets the ids and calls fn, so the loop may always use
//   it). traceId (optional) feeds the 4.x invoke store's getXRayTraceId().
// - 4.x mode also publishes the ids as globalThis.awslambda.InvokeStore (the object
//   @aws/lambda-invoke-store, used by AWS SDK v3 and Powertools, looks for), unless
//   AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA is set; 3.x mode as the global symbols
//   Symbol.for('aws.lambda.runtime.requestId' / '.tenantId'), as the official clients do.
// - log.logError(title, err) prints the official runtime error record: TEXT
//   `<ts>\t<id>\tERROR\t<title> \t{"errorType":..,"errorMessage":..,"stack":[..]}`, JSON one
//   record whose `message` is the error object. Titles the official clients use:
//   'Invoke Error', 'Init Error' (4.x), 'Uncaught Exception', 'Unhandled Promise Rejection'.
//   It goes through console.error, so AWS_LAMBDA_LOG_LEVEL=FATAL silences it, as officially.
// - verboseLogger(category) gives AWS_LAMBDA_RUNTIME_VERBOSE=1..3 debug lines; off by default,
//   and then every method is the same no-op.
//
// Cost: a record is built once as one string and written with one write; a filtered level's
// console method is a shared no-op, so a filtered call costs one empty function call.
import { builtin } from './builtin.mjs';
import { errorResponse } from './errors.mjs';
import { consumeTelemetryFd, createTelemetryWriter, writeFully, FRAME_TYPE_JSON, FRAME_TYPE_TEXT } from './telemetry.mjs';

const { format } = builtin('node:util');
const { writeSync } = builtin('node:fs');

/** Log levels: priority orders them, tlvMask is OR-ed into telemetry frame types. */
export const LEVELS = Object.freeze({
  TRACE: Object.freeze({ name: 'TRACE', priority: 1, tlvMask: 4 }),
  DEBUG: Object.freeze({ name: 'DEBUG', priority: 2, tlvMask: 8 }),
  INFO: Object.freeze({ name: 'INFO', priority: 3, tlvMask: 12 }),
  WARN: Object.freeze({ name: 'WARN', priority: 4, tlvMask: 16 }),
  ERROR: Object.freeze({ name: 'ERROR', priority: 5, tlvMask: 20 }),
  FATAL: Object.freeze({ name: 'FATAL', priority: 6, tlvMask: 24 }),
});

/** AWS_LAMBDA_LOG_FORMAT, case-insensitive; anything but JSON means TEXT. */
export function logFormatFrom(env = process.env) {
  return env.AWS_LAMBDA_LOG_FORMAT?.toUpperCase() === 'JSON' ? 'JSON' : 'TEXT';
}

/** AWS_LAMBDA_LOG_LEVEL, case-insensitive; unset or unknown means TRACE (log everything). */
export function logLevelFrom(env = process.env) {
  const name = env.AWS_LAMBDA_LOG_LEVEL?.toUpperCase();
  return name !== undefined && Object.hasOwn(LEVELS, name) ? LEVELS[name] : LEVELS.TRACE;
}

/**
 * What the logging records do differently between the official 3.x and 4.x clients. The
 * mode object (lib/mode.mjs) may override any of these by defining a property of that name.
 */
export function loggingProfile(mode = {}, env = process.env) {
  const v4 = (mode.version ?? 4) >= 4;
  const pick = (key, value) => (mode[key] !== undefined ? mode[key] : value);
  return {
    // 3.x reads an unset global (`undefined`); 4.x's invoke store answers '-'.
    initialRequestId: pick('initialRequestId', v4 ? '-' : undefined),
    // 4.0.2 never hands the tenant id to its logger, so its JSON records have no tenantId.
    jsonTenantId: pick('jsonTenantId', !v4),
    // JSON with several arguments: 3.x takes errorType/... from the first Error among all of
    // them, 4.x skips the first argument.
    errorFieldsFrom: pick('errorFieldsFrom', v4 ? 1 : 0),
    // A non-Error thrown value: 3.x `new Error(value)` (undefined -> ''), 4.x String(value).
    stringifyThrown: pick('stringifyThrown', v4),
    // 3.x keeps the ids in well-known global symbols that user code can read.
    globalSymbols: pick('globalSymbols', !v4),
    // 4.x publishes them as globalThis.awslambda.InvokeStore (@aws/lambda-invoke-store).
    invokeStore: pick('invokeStore', v4),
    // 3.x's error logger can throw (`new Error(symbol)`, a JSON record of an Error whose getter
    // throws); the error it throws is then what 3.x reports instead of the function's value.
    // 4.x's does not change what is reported (we never let either throw: see logError).
    loggerFailureIsReported: pick('loggerFailureIsReported', !v4),
    // 4.x with AWS_LAMBDA_MAX_CONCURRENCY: JSON records to fd 1 (or the socket Lambda gives).
    multiConcurrent: pick('multiConcurrent', v4 && env.AWS_LAMBDA_MAX_CONCURRENCY !== undefined),
  };
}

const REQUEST_ID_SYMBOL = Symbol.for('aws.lambda.runtime.requestId');
const TENANT_ID_SYMBOL = Symbol.for('aws.lambda.runtime.tenantId');
const STORE_REQUEST_ID = Symbol.for('_AWS_LAMBDA_REQUEST_ID');
const STORE_TRACE_ID = Symbol.for('_AWS_LAMBDA_X_RAY_TRACE_ID');
const STORE_TENANT_ID = Symbol.for('_AWS_LAMBDA_TENANT_ID');
const STORE_PROTECTED = [STORE_REQUEST_ID, STORE_TRACE_ID, STORE_TENANT_ID];

const noGlobalAwsLambda = (env) => env.AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA === '1' ||
  env.AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA === 'true';

/**
 * The 4.x invoke store: what @aws/lambda-invoke-store (used by AWS SDK v3 middleware and
 * Powertools) finds at globalThis.awslambda.InvokeStore and asks for the current invocation's
 * request id, X-Ray trace id and tenant id, plus a per-invocation key/value space. Backed by
 * the logging ids, so a record and the store always agree. The X-Ray trace id is the one the
 * runtime passed to runInInvocation, or else (one invocation at a time) _X_AMZN_TRACE_ID,
 * which the runtime sets for each invocation.
 */
function createInvokeStore({ currentIds, multiConcurrent, env, run, ensureContext }) {
  const isProtectedKey = (key) => STORE_PROTECTED.includes(key);
  return {
    PROTECTED_KEYS: Object.freeze({ REQUEST_ID: STORE_REQUEST_ID, X_RAY_TRACE_ID: STORE_TRACE_ID, TENANT_ID: STORE_TENANT_ID }),
    isProtectedKey,
    getContext: () => currentIds().context,
    hasContext: () => currentIds().context !== undefined,
    get: (key) => currentIds().context?.[key],
    set(key, value) {
      if (isProtectedKey(key)) throw new Error(`Cannot modify protected Lambda context field: ${String(key)}`);
      ensureContext()[key] = value;
    },
    run,
    getRequestId: () => currentIds().context?.[STORE_REQUEST_ID] ?? '-',
    getTenantId: () => currentIds().context?.[STORE_TENANT_ID],
    getXRayTraceId() {
      const context = currentIds().context;
      if (context && Object.hasOwn(context, STORE_TRACE_ID)) return context[STORE_TRACE_ID];
      return multiConcurrent || !context ? undefined : env._X_AMZN_TRACE_ID;
    },
  };
}

const noop = () => {};
const PATCHED_METHODS = ['trace', 'debug', 'info', 'log', 'warn', 'error', 'fatal'];

/**
 * Patches console.trace/debug/info/log/warn/error/fatal to write Lambda records and returns
 * the logging handle (see the contract above). Options: mode (lib/mode.mjs), env
 * (default process.env; _LAMBDA_TELEMETRY_LOG_FD is removed from it), console (the object to
 * patch, default the global console).
 */
export function installLogging({ mode, env = process.env, console: target = globalThis.console } = {}) {
  const profile = loggingProfile(mode, env);
  const format_ = profile.multiConcurrent ? 'JSON' : logFormatFrom(env);
  const errorFormat = logFormatFrom(env); // 4.x MC: JSON records, but the error title style follows the env
  const minLevel = logLevelFrom(env);

  // --- the current invocation's ids -------------------------------------------------------
  // `ids.json` is the `,"requestId":..,"tenantId":..` fragment of a JSON record, built once per
  // invocation instead of once per record. `ids.context` is the invocation's entry in the 4.x
  // invoke store (below): undefined before the first invocation, as officially.
  const makeIds = (requestId, tenantId, context) => ({
    requestId,
    tenantId,
    json: (requestId === undefined ? '' : ',"requestId":' + JSON.stringify(requestId)) +
      (profile.jsonTenantId && tenantId != null ? ',"tenantId":' + JSON.stringify(tenantId) : ''),
    context,
  });
  // As the context has them (lib/context.mjs): an empty tenant header is no tenant id, and the
  // 4.x store's trace id is '' without a trace header (4.0.2 stores context.xRayTraceId).
  const invocationIds = (requestId, tenantId, traceId, hasTraceId) => {
    tenantId = tenantId || undefined;
    const context = { [STORE_REQUEST_ID]: requestId, [STORE_TENANT_ID]: tenantId };
    if (hasTraceId) context[STORE_TRACE_ID] = traceId ?? '';
    return makeIds(requestId, tenantId, context);
  };
  const initialIds = makeIds(profile.initialRequestId, undefined, undefined);
  let ids = initialIds;
  let currentIds = () => ids;
  let runInInvocation = function (requestId, tenantId, fn, traceId) {
    ids = invocationIds(requestId, tenantId, traceId, arguments.length > 3);
    publishIds();
    return fn();
  };
  let als;
  if (profile.multiConcurrent) {
    const { AsyncLocalStorage } = builtin('node:async_hooks');
    als = new AsyncLocalStorage();
    currentIds = () => als.getStore() ?? ids;
    runInInvocation = function (requestId, tenantId, fn, traceId) {
      return als.run(invocationIds(requestId, tenantId, traceId, arguments.length > 3), fn);
    };
  }
  function setIds(requestId, tenantId) {
    ids = invocationIds(requestId, tenantId, undefined, false);
    publishIds();
  }
  function publishIds() {
    if (profile.globalSymbols) {
      globalThis[REQUEST_ID_SYMBOL] = ids.requestId;
      globalThis[TENANT_ID_SYMBOL] = ids.tenantId;
    }
  }
  if (profile.invokeStore && !noGlobalAwsLambda(env)) {
    globalThis.awslambda = globalThis.awslambda || {};
    globalThis.awslambda.InvokeStore ??= createInvokeStore({
      currentIds,
      multiConcurrent: profile.multiConcurrent,
      env,
      run(context, fn) {
        const next = makeIds(context?.[STORE_REQUEST_ID] ?? '-', context?.[STORE_TENANT_ID], context);
        if (als) return als.run(next, fn);
        ids = next;
        return fn();
      },
      ensureContext() {
        const current = currentIds();
        if (current.context) return current.context;
        if (als) throw new Error('No context available');
        current.context = {};
        return current.context;
      },
    });
  }

  // --- the sink ------------------------------------------------------------------------------
  const jsonLine = (ms, level, args) => jsonRecord(isoAt(ms), level.name, currentIds().json, args, profile.errorFieldsFrom);
  const textLine = (ms, level, args) => isoAt(ms) + '\t' + currentIds().requestId + '\t' + level.name + '\t' + textMessage(args);

  let telemetryFd;
  let emit;
  let ready;
  if (profile.multiConcurrent) {
    // As 4.x: JSON lines written with write(2) to fd 1, or to the fd of a unix socket whose
    // path Lambda gives in _LAMBDA_TELEMETRY_LOG_FD_PROVIDER_SOCKET (log.ready settles once
    // it is connected; records written before then go to fd 1).
    let fd = 1;
    const socketPath = env._LAMBDA_TELEMETRY_LOG_FD_PROVIDER_SOCKET;
    if (socketPath) ready = connectLogSocket(socketPath).then((socketFd) => { fd = socketFd; });
    emit = (level, args) => {
      const buf = Buffer.from(jsonLine(Date.now(), level, args) + '\n'); // JSON has no raw \n
      writeFully(fd, buf, buf.length);
    };
  } else if ((telemetryFd = consumeTelemetryFd(env)) !== undefined) {
    const writer = createTelemetryWriter(telemetryFd);
    emit = format_ === 'JSON'
      ? (level, args) => {
          const ms = Date.now();
          writer.writeFrame(FRAME_TYPE_JSON | level.tlvMask, ms, jsonLine(ms, level, args));
        }
      : (level, args) => {
          const ms = Date.now();
          writer.writeFrame(FRAME_TYPE_TEXT | level.tlvMask, ms, textLine(ms, level, args) + '\n');
        };
  } else {
    // stdout: one line per record, so newlines inside a record become \r (CloudWatch keeps a
    // multi-line stack trace as one event). JSON.stringify never emits a raw \n, so JSON
    // records need no replacement.
    const writeLine = stdoutLineWriter();
    emit = format_ === 'JSON'
      ? (level, args) => { writeLine(jsonLine(Date.now(), level, args) + '\n'); }
      : (level, args) => {
          const line = textLine(Date.now(), level, args);
          writeLine((line.includes('\n') ? line.replace(NEWLINES, '\r') : line) + '\n');
        };
  }

  // --- patch console -------------------------------------------------------------------------
  const originals = {};
  for (const name of PATCHED_METHODS) originals[name] = target[name];
  const methodFor = (level) => (level.priority < minLevel.priority ? noop : (...args) => emit(level, args));
  target.trace = methodFor(LEVELS.TRACE);
  target.debug = methodFor(LEVELS.DEBUG);
  target.info = methodFor(LEVELS.INFO);
  target.log = target.info;
  target.warn = methodFor(LEVELS.WARN);
  target.error = methodFor(LEVELS.ERROR);
  target.fatal = methodFor(LEVELS.FATAL);

  const intoError = profile.stringifyThrown
    ? (err) => (err instanceof Error ? err : new Error(String(err)))
    : (err) => (err instanceof Error ? err : new Error(err)); // 3.x: throws for a Symbol, a null-prototype object

  // One error record as the official logger writes it; throws where that logger throws.
  const writeErrorRecord = (title, err) => {
    const error = intoError(err);
    if (errorFormat === 'JSON') target.error(error);
    else target.error(title, formatErrorForText(error, mode));
  };

  publishIds();

  return {
    get requestId() { return currentIds().requestId; },
    set requestId(id) { setIds(id, ids.tenantId); },
    get tenantId() { return currentIds().tenantId; },
    set tenantId(id) { setIds(ids.requestId, id); },
    runInInvocation,
    /**
     * Settles when the log destination is ready: at once, except in Managed Instances mode
     * with _LAMBDA_TELEMETRY_LOG_FD_PROVIDER_SOCKET, where it waits for the socket and rejects
     * with a Runtime.PlatformError if it cannot connect (4.x then fails the init). Await it
     * before loading the handler.
     */
    ready: ready ?? Promise.resolve(),
    /** 'TEXT' or 'JSON': the shape of the records. */
    format: format_,
    /** The lowest level that is written ('TRACE' ... 'FATAL'). */
    level: minLevel.name,
    /** The telemetry fd records go to, or undefined for stdout. */
    telemetryFd,
    /**
     * Logs one of the runtime's own errors in the official shape (see the header comment) and
     * returns the error to report: `err`, or in 3.x what its logger throws recording it (the
     * record is then that error's, as 3.3.0's failure path writes it). Never throws, whatever
     * the function threw: what cannot be recorded is written as the body the mode posts (4.0.2
     * crashes converting a null-prototype object).
     */
    logError(title, err) {
      try {
        writeErrorRecord(title, err);
        return err;
      } catch (loggerFailure) {
        const reported = profile.loggerFailureIsReported ? loggerFailure : err;
        if (reported !== err) {
          try {
            writeErrorRecord(title, reported);
            return reported;
          } catch {}
        }
        try {
          target.error(title, '\t' + JSON.stringify(errorResponse(reported, mode)));
        } catch {}
        return reported;
      }
    },
    /** Puts the original console methods back (tests, or a runtime shutting down). */
    uninstall() {
      for (const name of PATCHED_METHODS) {
        if (originals[name] === undefined) delete target[name];
        else target[name] = originals[name];
      }
    },
  };
}

const NEWLINES = /\n/g;

// Record timestamps: what Date#toISOString gives (`2026-11-28T09:28:01.843Z`), built by hand
// because the first toISOString of a process costs ~0.2 ms (measured, Node 20/24) and every
// cold start that logs pays it; the date part is reused for the rest of the UTC day.
const DAY_MS = 86400000;
let isoDay = NaN;
let isoDatePrefix = '';
const pad2 = (n) => (n < 10 ? '0' + n : '' + n);
export function isoAt(ms) {
  const day = Math.floor(ms / DAY_MS);
  if (day !== isoDay) {
    isoDay = day;
    isoDatePrefix = civilDate(day) + 'T';
  }
  let t = ms - day * DAY_MS;
  const h = Math.floor(t / 3600000);
  t -= h * 3600000;
  const m = Math.floor(t / 60000);
  t -= m * 60000;
  const s = Math.floor(t / 1000);
  const milli = t - s * 1000;
  return isoDatePrefix + pad2(h) + ':' + pad2(m) + ':' + pad2(s) + '.' +
    (milli < 10 ? '00' + milli : milli < 100 ? '0' + milli : '' + milli) + 'Z';
}

// Days since 1970-01-01 -> YYYY-MM-DD (proleptic Gregorian, H. Hinnant's civil_from_days).
// Years 0-9999 only, which covers every clock a function runs under.
function civilDate(days) {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return String(year).padStart(4, '0') + '-' + pad2(month) + '-' + pad2(d);
}

let logSocket; // kept referenced: its fd is where records go
function connectLogSocket(socketPath) {
  const platformError = (message) => Object.assign(new Error(`Failed to connect to telemetry socket: ${message}`), { name: 'Runtime.PlatformError' });
  return new Promise((resolve, reject) => {
    const socket = builtin('node:net').createConnection(socketPath);
    socket.once('error', (err) => reject(platformError(err.message)));
    socket.once('connect', () => {
      // The fd is written to with write(2) like the official client does; the socket object
      // only keeps it open. unref: an idle log socket must not keep the process alive.
      const fd = socket._handle?.fd;
      if (typeof fd !== 'number' || fd < 0) {
        reject(Object.assign(new Error('Socket file descriptor not available'), { name: 'Runtime.PlatformError' }));
        return;
      }
      logSocket = socket;
      socket.on('error', () => {}); // a later failure surfaces as a write error, not a crash
      socket.unref();
      resolve(fd);
    });
  });
}

/**
 * Writes whole lines to stdout. The official clients call process.stdout.write, and the first
 * access to process.stdout builds the stream (net, stream internals): measured at 3-4.5 ms on
 * a pipe, paid on the first record of every cold start. Until something else asks for
 * process.stdout we write to fd 1 directly with write(2), which is also what makes the
 * record safe from loss at process.exit(). Once process.stdout exists (user code writes to it,
 * or console.dir/table is used), every record goes through it, so records and the user's own
 * writes stay in order even when the stream has queued data.
 */
let stdoutStream = null;
let stdoutWatched = false;
function stdoutLineWriter() {
  if (!stdoutWatched) {
    stdoutWatched = true;
    const desc = Object.getOwnPropertyDescriptor(process, 'stdout');
    if (desc?.get && desc.configurable) {
      Object.defineProperty(process, 'stdout', {
        configurable: true,
        enumerable: desc.enumerable,
        get() {
          // First access: let Node build the stream, then step out of the way for good.
          Object.defineProperty(process, 'stdout', desc);
          stdoutStream = desc.get.call(process);
          return stdoutStream;
        },
      });
    } else {
      stdoutStream = process.stdout;
    }
  }
  return (line) => {
    if (stdoutStream !== null) {
      process.stdout.write(line); // not the cached stream: a replaced process.stdout gets it
      return;
    }
    try {
      // One call writes the whole line unless the kernel takes part of it (a signal, a
      // non-blocking fd): only then is the line encoded again to write the rest.
      const n = writeSync(1, line);
      if (n !== line.length && n < Buffer.byteLength(line)) {
        const rest = Buffer.from(line).subarray(n);
        writeFully(1, rest, rest.length);
      }
    } catch (err) {
      if (err.code === 'EAGAIN') {
        const buf = Buffer.from(line);
        writeFully(1, buf, buf.length);
      } else if (err.code !== 'EPIPE' && err.code !== 'EBADF') {
        throw err;
      }
      // stdout closed: nobody can read the record (the official client would crash on the
      // stream's 'error' event instead).
    }
  };
}

/** The message of a TEXT record: util.format of the arguments, as console.log would print. */
function textMessage(args) {
  if (args.length === 1) {
    const m = args[0];
    return typeof m === 'string' ? m : format(m);
  }
  // console.log() prints "undefined": the official clients call format(undefined).
  return args.length === 0 ? 'undefined' : format(...args);
}

/**
 * One JSON record. A lone argument stays structured (objects as objects, Errors expanded by
 * jsonErrorReplacer); several arguments become one util.format string plus the first Error's
 * errorType/errorMessage/stackTrace. A value JSON cannot encode (circular, BigInt) is logged
 * as its util.format text rather than lost.
 */
export function jsonRecord(timestamp, levelName, idsJson, args, errorFieldsFrom = 1) {
  let out = '{"timestamp":"' + timestamp + '","level":"' + levelName + '"' + idsJson;
  if (args.length <= 1) {
    const m = args[0];
    if (typeof m === 'string') return out + ',"message":' + JSON.stringify(m) + '}';
    let body;
    try {
      // Stringified as the `message` member of an object, as officially: a toJSON(key) sees
      // "message", and undefined, functions and symbols leave the key out.
      body = JSON.stringify({ message: m }, jsonErrorReplacer);
    } catch {
      body = '{"message":' + JSON.stringify(format(m)) + '}';
    }
    return body.length === 2 ? out + '}' : out + ',' + body.slice(1);
  }
  out += ',"message":' + JSON.stringify(format(...args));
  for (let i = errorFieldsFrom; i < args.length; i++) {
    const p = args[i];
    if (p instanceof Error) {
      out += jsonField('errorType', p.constructor?.name ?? 'UnknownError') +
        jsonField('errorMessage', p.message) +
        jsonField('stackTrace', typeof p.stack === 'string' ? p.stack.split('\n') : []);
      break;
    }
  }
  return out + '}';
}

function jsonField(key, value) {
  let s;
  try {
    s = JSON.stringify(value);
  } catch {
    s = JSON.stringify(format(value));
  }
  return s === undefined ? '' : ',"' + key + '":' + s;
}

/** JSON.stringify replacer: an Error becomes {errorType, errorMessage, stackTrace, ...own props}. */
export function jsonErrorReplacer(_key, value) {
  if (value instanceof Error) {
    return Object.assign({
      errorType: value.constructor?.name ?? 'UnknownError',
      errorMessage: value.message,
      stackTrace: typeof value.stack === 'string' ? value.stack.split('\n') : value.stack,
    }, value);
  }
  return value;
}

/**
 * The second argument of a TEXT runtime error record: a tab, then the error as JSON with
 * errorType/errorMessage/code, its own enumerable properties and the stack split into lines
 * (nested Errors alike). If that cannot be encoded (a getter that throws, a cycle), the error
 * body the mode posts (lib/errors.mjs), as both official clients fall back to theirs.
 */
export function formatErrorForText(error, mode) {
  try {
    return '\t' + JSON.stringify(error, (_key, value) => withEnumerableProperties(value));
  } catch {
    // The official fallback: the body the client would post (never throws).
    return '\t' + JSON.stringify(errorResponse(error, mode));
  }
}

function withEnumerableProperties(value) {
  if (!(value instanceof Error)) return value;
  const ret = Object.assign({ errorType: value.name, errorMessage: value.message, code: value.code }, value);
  if (typeof value.stack === 'string') ret.stack = value.stack.split('\n');
  return ret;
}

/**
 * Debug logging of the runtime itself, enabled by AWS_LAMBDA_RUNTIME_VERBOSE=1|2|3 (more is
 * chattier). Lines go through console.log as `RUNTIME <category> ...args`, like the official
 * clients; a function argument is called only when the line is printed, so an expensive
 * message costs nothing when verbosity is off.
 */
export function verboseLogger(category, env = process.env) {
  const level = runtimeVerbosity(env);
  const at = (min) => (level >= min
    ? (...args) => console.log('RUNTIME', category, ...args.map((a) => (typeof a === 'function' ? a() : a)))
    : noop);
  return { verbose: at(1), vverbose: at(2), vvverbose: at(3) };
}

export function runtimeVerbosity(env = process.env) {
  const n = parseInt(env.AWS_LAMBDA_RUNTIME_VERBOSE, 10);
  return Number.isNaN(n) ? 0 : Math.min(3, Math.max(0, n));
}
