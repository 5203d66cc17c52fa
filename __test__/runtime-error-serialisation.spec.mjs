// Serialising what a function threw for the Runtime API never throws, in either mode, whatever
// the value: the error body, the X-Ray cause and the runtime's own error record are built from
// values that fight back (proxies that throw on every trap, a revoked proxy, getters that throw
// non-Errors, a Symbol.toPrimitive that throws, cycles). The compat specs pin the bodies the
// official clients give for the ordinary odd values (compat-odd-errors.spec.mjs); this one holds
// the line for the rest: a body of the documented shape, and a record written, never a throw.
import { test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import { errorPost, errorResponse, xrayCause } from '../lib/errors.mjs';
import { installLogging } from '../lib/logging.mjs';
import { modeFor } from '../lib/mode.mjs';

const MODES = {
  3: modeFor({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x' }, '20.0.0'),
  4: modeFor({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x' }, '24.0.0'),
};

const throwing = () => { throw Symbol('from a trap'); };
const revoked = Proxy.revocable({}, {});
revoked.revoke();
const NASTY = {
  'proxy throwing on every trap': new Proxy({}, Object.fromEntries(
    ['get', 'has', 'ownKeys', 'getOwnPropertyDescriptor', 'getPrototypeOf', 'defineProperty', 'apply'].map((trap) => [trap, throwing]))),
  'revoked proxy': revoked.proxy,
  'error proxy throwing on every trap': new Proxy(new Error('x'), { get: throwing, getPrototypeOf: throwing, ownKeys: throwing, getOwnPropertyDescriptor: throwing }),
  'getter throwing undefined': Object.defineProperty(new Error('x'), 'message', { get() { throw undefined; } }),
  'Symbol.toPrimitive throws': { [Symbol.toPrimitive]: throwing },
  'toString returning an object': { toString: () => ({}) },
  'cyclic error': (() => { const e = new Error('cycle'); e.self = e; e.cause = e; return e; })(),
  'stack that is a String object': Object.defineProperty(new Error('x'), 'stack', { value: new String('S\n    at f (/a.js:1:1)') }),
  'name with DEL': Object.defineProperty(new Error('m\x7F'), 'name', { value: 'N\x7F' }),
};

for (const version of [3, 4]) {
  test(`${version}.x mode: the error body and X-Ray cause of values that fight back`, () => {
    const mode = MODES[version];
    for (const [what, value] of Object.entries(NASTY)) {
      const body = errorResponse(value, mode);
      assert.ok(body && typeof body === 'object', what);
      assert.ok(body.errorType === undefined || typeof body.errorType === 'string', `${what}: errorType ${String(body.errorType)}`);
      // 3.x posts what toString() returns, whatever it is (as 3.3.0); otherwise a string.
      if (!(version === 3 && what === 'toString returning an object')) {
        assert.ok(body.errorMessage === undefined || typeof body.errorMessage === 'string', `${what}: errorMessage`);
      }
      if (body.trace !== undefined) assert.ok(Array.isArray(body.trace) && body.trace.every((l) => typeof l === 'string'), what);
      const { body: text, errorType } = errorPost(value, mode);
      assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(body)), what);
      assert.equal(typeof errorType, 'string', what);
      const cause = xrayCause(value);
      assert.equal(typeof cause, 'string', what);
      if (cause) assert.ok(Array.isArray(JSON.parse(cause).exceptions), what);
    }
    // DEL is escaped wherever it appears, as both official clients do.
    const del = errorResponse(NASTY['name with DEL'], mode);
    assert.deepEqual([del.errorType, del.errorMessage], ['N%7F', 'm%7F']);
    assert.deepEqual(JSON.parse(xrayCause(NASTY['name with DEL'])).exceptions[0].type, 'N%7F');
  });

  test(`${version}.x mode: logError never throws for values that fight back, and says what to report`, () => {
    // Records filtered by level still build the error's text (intoError, formatErrorForText):
    // what matters here is that recording never throws and hands back the value to post.
    const target = { log() {}, info() {}, warn() {}, debug() {}, trace() {}, fatal() {}, error() {} };
    const log = installLogging({ mode: MODES[version], env: { AWS_LAMBDA_LOG_LEVEL: 'FATAL' }, console: target });
    try {
      for (const [what, value] of Object.entries(NASTY)) {
        let reported;
        assert.doesNotThrow(() => { reported = log.logError('Invoke Error', value); }, what);
        // 4.x reports the value itself; 3.x what its logger threw recording it, if it threw.
        if (version === 4) assert.equal(reported, value, what);
        const { body } = errorPost(reported, MODES[version]);
        assert.equal(typeof body, 'string', what);
      }
    } finally {
      log.uninstall();
    }
  });
}
