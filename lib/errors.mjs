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

// A field of the body or the X-Ray cause, as both official clients read it: a missing one
// (null, undefined) is left out, a string has DEL escaped, and anything else (a number, an
// object) throws, which turns the whole body into the 'handled' placeholder and leaves the
// X-Ray cause out, as theirs do (`error.name?.replace(...)` on a number).
function field(value) {
  return value === null || value === undefined ? undefined : value.replace(DEL, '%7F');
}

// 3.x's test for an error it posts field by field: a native Error (any realm) or an object
// whose name, message and stack are non-empty strings.
function isV3Error(value) {
  return types.isNativeError(value) || (!!value && !!value.name && !!value.message && !!value.stack &&
    typeof value.name === 'string' && typeof value.message === 'string' && typeof value.stack === 'string');
}

/**
 * The body of an error post: `{errorType, errorMessage, trace}`, never throwing whatever the
 * function threw. Errors post their name, message and stack lines; a non-Error value
 * `{errorType: typeof value, errorMessage: String(value), trace: []}`. An error whose fields
 * cannot be read, or are neither strings nor missing (a getter that throws, a numeric
 * message, a stack that is an object), becomes the official 'handled' placeholder.
 * 3.x (errorBody 'v3'): its duck typing (isV3Error), value.toString() for the rest (so null
 * and undefined are the placeholder too), a stack that is missing makes the placeholder, and
 * the placeholder has no trace. 4.x: `instanceof Error` (another realm's Error too, a
 * deliberate difference), String(value), a missing stack is `[]`, the placeholder has `trace: []`.
 */
export function errorResponse(error, mode = processMode) {
  const v3 = mode.errorBody === 'v3';
  try {
    if (v3) {
      if (isV3Error(error)) {
        return { errorType: field(error.name), errorMessage: field(error.message), trace: error.stack.replace(DEL, '%7F').split('\n') };
      }
      return { errorType: typeof error, errorMessage: error.toString(), trace: [] };
    }
    if (isErrorLike(error, mode)) {
      const stack = error.stack;
      return {
        errorType: field(error.name),
        errorMessage: field(error.message),
        trace: stack === null || stack === undefined ? [] : stack.replace(DEL, '%7F').split('\n'),
      };
    }
    return { errorType: typeof error, errorMessage: String(error), trace: [] };
  } catch {
    return v3 ? { errorType: 'handled', errorMessage: HANDLED_MESSAGE } : { errorType: 'handled', errorMessage: HANDLED_MESSAGE, trace: [] };
  }
}

/** errorResponse as the JSON text posted, with its errorType (for the error-type header). */
export function errorPost(error, mode = processMode) {
  const body = errorResponse(error, mode);
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
 * stack parsed into {path, line, label} frames. '' (header omitted) if it cannot be built, as
 * in both official clients: for a thrown null or undefined (they read `.name` unguarded), a
 * field that is neither a string nor missing, a stack that is not a string, a getter that throws.
 */
export function xrayCause(error, mode = processMode) {
  try {
    const stackText = error.stack;
    const stack = [];
    if (stackText) {
      const lines = stackText.replace(DEL, '%7F').split('\n');
      const frame = mode.errorBody === 'v3' ? v3Frame : v4Frame;
      for (let i = 1; i < lines.length; i++) stack.push(frame(lines[i]));
    }
    return JSON.stringify({
      working_directory: process.cwd(),
      exceptions: [{ type: field(error.name), message: field(error.message), stack }],
      paths: [...new Set(stack.map((f) => f.path))],
    });
  } catch {
    return '';
  }
}

// One stack line as an X-Ray frame, as each client parses it: they differ only on lines that
// are not V8's (a tab after the first word, two spaces, a frame without a label).
function v3Frame(text) {
  let line = text.trim().replace(/\(|\)/g, '');
  line = line.substring(line.indexOf(' ') + 1);
  const space = line.lastIndexOf(' ');
  const label = space >= 0 ? line.slice(0, space) : null;
  const where = (label ? line.slice(space + 1) : line).split(':');
  return { path: where[0], line: parseInt(where[1], 10), label: label || 'anonymous' };
}

function v4Frame(text) {
  const line = text.trim().replace(/[()]/g, '').replace(/^[^\s]*\s/, '');
  const space = line.lastIndexOf(' ');
  const where = (space >= 0 ? line.slice(space + 1) : line).split(':');
  return { path: where[0], line: parseInt(where[1], 10), label: space >= 0 ? line.slice(0, space) : 'anonymous' };
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
