// The runtime's error types and the shapes errors take on the wire: the
// `{errorType, errorMessage, trace}` body of /invocation/{id}/error and /init/error, the
// X-Ray cause header, and the serialisation of a handler's result. Shapes follow the official
// clients exactly, because functions' monitoring (CloudWatch filters, X-Ray, Step Functions
// `Error` matching) keys on them.
//
// Runtime error types are named `Runtime.<Something>`. The two official clients attach that
// name differently and it shows: 3.x puts it on the prototype, 4.x sets an own (enumerable)
// `name`, which then appears in the "Invoke Error"/"Init Error" log records and in Node's
// crash output; their class names differ too (HandlerNotFound vs HandlerNotFoundError), and
// JSON log records print the class name as errorType. The mode decides (lib/mode.mjs).
import { builtin } from './builtin.mjs';
import { mode as processMode } from './mode.mjs';

const { types } = builtin('node:util'); // not an ESM import: that costs ~1 ms at start-up (lib/builtin.mjs)
const DEL = /\x7F/g; // the Runtime API rejects a DEL byte in a header; both clients escape it

/** A runtime error class for `mode`: `Runtime.<typeSuffix>`, with the mode's class name. */
function runtimeErrorClass(mode, key, typeSuffix, init) {
  const className = mode.errorClassNames[key];
  const type = `Runtime.${typeSuffix}`;
  const ownName = mode.errorNameIsOwn;
  // A computed key gives the class its name without eval.
  const cls = {
    [className]: class extends Error {
      constructor(...args) {
        super(...(init ? init.message(...args) : args));
        if (ownName) this.name = type;
        init?.after?.(this, ...args);
      }
    },
  }[className];
  if (!ownName) Object.defineProperty(cls.prototype, 'name', { value: type, writable: true, configurable: true });
  return cls;
}

/** The runtime's error classes as the given mode names and shapes them. */
export function runtimeErrors(mode = processMode) {
  const wrapOriginal = { message: (original) => [String(original)] };
  return {
    ImportModuleError: runtimeErrorClass(mode, 'ImportModule', 'ImportModuleError', wrapOriginal),
    HandlerNotFound: runtimeErrorClass(mode, 'HandlerNotFound', 'HandlerNotFound'),
    MalformedHandlerName: runtimeErrorClass(mode, 'MalformedHandlerName', 'MalformedHandlerName'),
    UserCodeSyntaxError: runtimeErrorClass(mode, 'UserCodeSyntax', 'UserCodeSyntaxError', {
      ...wrapOriginal,
      // 4.x keeps the SyntaxError's own stack (its first line names SyntaxError, not us).
      after: mode.userCodeSyntaxKeepsStack
        ? (self, original) => { self.stack = original?.stack; }
        : undefined,
    }),
    MalformedStreamingHandler: runtimeErrorClass(mode, 'MalformedStreamingHandler', 'MalformedStreamingHandler'),
    PlatformError: runtimeErrorClass(mode, 'Platform', 'PlatformError'),
    CallbackHandlerDeprecated: runtimeErrorClass(mode, 'CallbackHandlerDeprecated', 'CallbackHandlerDeprecated'),
    JSONStringifyError: runtimeErrorClass(mode, 'JSONStringify', 'JSONStringifyError'),
    // 3.x: `new UnhandledPromiseRejection(reason, promise)`, message String(reason), and both
    // kept as own properties (they show in the "Unhandled Promise Rejection" log record).
    UnhandledPromiseRejection: runtimeErrorClass(mode, 'UnhandledPromiseRejection', 'UnhandledPromiseRejection', {
      message: (reason) => [reason],
      after: (self, reason, promise) => {
        self.reason = reason;
        self.promise = promise;
      },
    }),
    // An event the Runtime API handed out without a request id: no POST can name it, so the
    // runtime ends (both official clients end too, with an unnamed error).
    MissingRequestId: runtimeErrorClass(mode, 'MissingRequestId', 'MissingRequestId'),
    // The current 3.x source's error for an async handler whose promise never settled.
    NodeJsExit: runtimeErrorClass(mode, 'NodeJsExit', 'NodeJsExit', {
      message: () => [
        'The Lambda runtime client detected an unexpected Node.js exit code. This is most commonly caused by ' +
          'a Promise that was never settled. For more information, see ' +
          'https://nodejs.org/docs/latest/api/process.html#exit-codes',
      ],
    }),
  };
}

/** This process's error classes (see runtimeErrors). */
export const Errors = runtimeErrors();

/**
 * An Error (of this realm or another: a vm context's), or, in 3.x mode (errorBody 'v3'), any
 * object shaped like one (non-empty string name, message and stack), as 3.x's duck typing
 * accepts. 4.x checks `instanceof Error`: a plain object shaped like an error is posted as an
 * 'object'. Another realm's Error is an Error in both modes (4.0.2's instanceof misses it and
 * posts its trace as [], docs/compatibility.md).
 */
export function isErrorLike(value, mode = processMode) {
  if (types.isNativeError(value) || value instanceof Error) return true;
  return mode.errorBody === 'v3' && !!value && typeof value.name === 'string' && typeof value.message === 'string' &&
    typeof value.stack === 'string' && value.name !== '' && value.message !== '' && value.stack !== '';
}

const HANDLED_MESSAGE =
  'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack';

/**
 * The body of an error post: `{errorType, errorMessage, trace}`. A thrown non-Error becomes
 * `{errorType: typeof value, errorMessage: String(value), trace: []}`; an error whose fields
 * cannot be read becomes the official 'handled' placeholder rather than a crash. 3.x (errorBody
 * 'v3') calls value.toString(), so null and undefined (reaching a post from an uncaught
 * exception or an init failure) become that placeholder too, without a trace, as in 3.x.
 */
export function errorResponse(error, mode = processMode) {
  if (mode.errorBody === 'v3' && !isErrorLike(error, mode)) {
    try {
      return { errorType: typeof error, errorMessage: error.toString(), trace: [] };
    } catch {
      return { errorType: 'handled', errorMessage: HANDLED_MESSAGE };
    }
  }
  try {
    if (isErrorLike(error, mode)) {
      const stack = typeof error.stack === 'string' ? error.stack : '';
      return {
        errorType: typeof error.name === 'string' ? error.name.replace(DEL, '%7F') : error.name,
        errorMessage: typeof error.message === 'string' ? error.message.replace(DEL, '%7F') : error.message,
        trace: stack ? stack.replace(DEL, '%7F').split('\n') : [],
      };
    }
    return { errorType: typeof error, errorMessage: String(error), trace: [] };
  } catch {
    return { errorType: 'handled', errorMessage: HANDLED_MESSAGE, trace: [] };
  }
}

/** errorResponse as the JSON text posted, with its errorType (for the error-type header). */
export function errorPost(error) {
  const body = errorResponse(error);
  let text;
  try {
    text = JSON.stringify(body);
  } catch {
    text = JSON.stringify({ errorType: String(body.errorType), errorMessage: String(body.errorMessage), trace: [] });
  }
  return { body: text, errorType: typeof body.errorType === 'string' ? body.errorType : String(body.errorType) };
}

/**
 * The Lambda-Runtime-Function-XRay-Error-Cause header: X-Ray's "cause" object with the error's
 * stack parsed into {path, line, label} frames. '' (header omitted) if it cannot be built, and
 * for a thrown null or undefined.
 */
export function xrayCause(error) {
  // Both official clients read error.name unguarded: for a thrown null or undefined that
  // throws, and the header is left out.
  if (error === null || error === undefined) return '';
  try {
    const stack = [];
    if (error?.stack) {
      const lines = String(error.stack).replace(DEL, '%7F').split('\n');
      for (let i = 1; i < lines.length; i++) {
        let line = lines[i].trim().replace(/\(|\)/g, '');
        line = line.substring(line.indexOf(' ') + 1);
        const space = line.lastIndexOf(' ');
        const label = space >= 0 ? line.slice(0, space) : null;
        const where = (label ? line.slice(space + 1) : line).split(':');
        stack.push({ path: where[0], line: parseInt(where[1], 10), label: label || 'anonymous' });
      }
    }
    const name = error?.name;
    const message = error?.message;
    return JSON.stringify({
      working_directory: process.cwd(),
      exceptions: [{
        type: typeof name === 'string' ? name.replace(DEL, '%7F') : name,
        message: typeof message === 'string' ? message.replace(DEL, '%7F') : message,
        stack,
      }],
      paths: [...new Set(stack.map((f) => f.path))],
    });
  } catch {
    return '';
  }
}

/**
 * A handler's result as the response body: JSON, `undefined` as `null`. A value JSON cannot
 * encode (circular, BigInt, a throwing toJSON) throws the mode's "Unable to stringify
 * response body" error, which the loop posts as the invocation's error.
 */
export function serializeResult(value, mode = processMode, errors = Errors) {
  let text;
  try {
    text = JSON.stringify(value === undefined ? null : value);
  } catch {
    throw mode.stringifyErrorType === 'Error'
      ? new Error('Unable to stringify response body')
      : new errors.JSONStringifyError('Unable to stringify response body');
  }
  // A function or a symbol has no JSON text at all: it is posted as null, as inside an array.
  return text === undefined ? 'null' : text;
}
