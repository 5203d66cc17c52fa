// node:test's test/describe/hooks with a timeout on every test, for every spec file: a test that
// hangs fails alone, by name, and the rest of the run goes on. `node --test --test-timeout` does
// this on Node 22+, but on Node 20 it times the whole spec file and names only the file.
// LAMBDA_RAPID_TEST_TIMEOUT_MS overrides the limit (the harness spec sets it low to prove it).
import * as nodeTest from 'node:test';

export const TEST_TIMEOUT_MS = Number(process.env.LAMBDA_RAPID_TEST_TIMEOUT_MS) || 60_000;

// test(name, fn) / test(name, options, fn), as node:test takes them; the option wins when given.
const withTimeout = (fn) => (name, options, body) =>
  (typeof options === 'function' || options === undefined
    ? fn(name, { timeout: TEST_TIMEOUT_MS }, options)
    : fn(name, { timeout: TEST_TIMEOUT_MS, ...options }, body));
const hookWithTimeout = (hook) => (fn, options) => hook(fn, { timeout: TEST_TIMEOUT_MS, ...options });

export const test = withTimeout(nodeTest.test);
export const describe = withTimeout(nodeTest.describe);
export const before = hookWithTimeout(nodeTest.before);
export const after = hookWithTimeout(nodeTest.after);
