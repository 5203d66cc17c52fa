// Invocations: the event, the context, results and their serialisation, errors and their
// wire shapes, callback-era handlers (3.x), process-level faults and exit codes. End to end:
// a spawned `node index.mjs`, a real Runtime API server, fixture handlers in
// fixtures/runtime/app.
import { test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import { startFunction, MODES, sleep, APP } from './fixtures/runtime/harness.mjs';

const T = { timeout: 20000 };
const NODEJS_EXIT = /^The Lambda runtime client detected an unexpected Node\.js exit code\. This is most commonly caused by a Promise that was never settled\./;

async function start(t, handler, opts = {}) {
  const fn = await startFunction({ handler, ...opts });
  t.after(() => fn.close());
  return fn;
}

const requestsFor = (fn, id) => fn.api.requests.filter((r) => r.path.includes(`/invocation/${id}/`));

// ---- the event and the context -----------------------------------------------------------------

for (const mode of MODES) {
  test(`the context carries the invocation and the function's environment (${mode}.x mode)`, T, async (t) => {
    const fn = await start(t, 'esm.context', { mode });
    const deadlineMs = Date.now() + 60_000;
    const res = await fn.invoke({}, {
      requestId: 'ctx-1',
      deadlineMs,
      headers: {
        'Lambda-Runtime-Client-Context': JSON.stringify({ client: { app_title: 'demo' }, env: { platform: 'test' } }),
        'Lambda-Runtime-Cognito-Identity': JSON.stringify({ cognitoIdentityId: 'id-1', cognitoIdentityPoolId: 'pool-1' }),
        'Lambda-Runtime-Trace-Id': 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
        'Lambda-Runtime-Aws-Tenant-Id': 'tenant-7',
      },
    });
    const c = res.body;
    const keys3 = ['callbackWaitsForEmptyEventLoop', 'succeed', 'fail', 'done', 'functionVersion', 'functionName',
      'memoryLimitInMB', 'logGroupName', 'logStreamName', 'clientContext', 'identity', 'invokedFunctionArn',
      'awsRequestId', 'tenantId', 'getRemainingTimeInMillis'];
    const keys4 = ['clientContext', 'identity', 'invokedFunctionArn', 'awsRequestId', 'tenantId', 'xRayTraceId',
      'getRemainingTimeInMillis', 'functionName', 'functionVersion', 'memoryLimitInMB', 'logGroupName', 'logStreamName'];
    assert.deepEqual(c.keys, mode === 3 ? keys3 : keys4);
    assert.equal(c.awsRequestId, 'ctx-1');
    assert.equal(c.invokedFunctionArn, 'arn:aws:lambda:us-east-1:123456789012:function:test-function');
    assert.equal(c.functionName, 'test-function');
    assert.equal(c.functionVersion, '$LATEST');
    assert.equal(c.memoryLimitInMB, '128');
    assert.equal(c.logGroupName, '/aws/lambda/test-function');
    assert.equal(c.logStreamName, '2026/11/28/[$LATEST]0123456789abcdef');
    assert.deepEqual(c.clientContext, { client: { app_title: 'demo' }, env: { platform: 'test' } });
    assert.deepEqual(c.identity, { cognitoIdentityId: 'id-1', cognitoIdentityPoolId: 'pool-1' });
    assert.equal(c.tenantId, 'tenant-7');
    assert.equal(c.xRayTraceId, mode === 4 ? 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1' : null);
    assert.ok(c.remaining > 50_000 && c.remaining <= 60_000, `remaining ${c.remaining}`);
    assert.ok(c.remainingUnbound > 50_000 && c.remainingUnbound <= 60_000, 'works unbound');
    assert.equal(c.waits, mode === 3 ? true : null);
    assert.deepEqual(c.legacy, mode === 3 ? ['function', 'function', 'function'] : ['undefined', 'undefined', 'undefined']);
  });
}

test('process.env._X_AMZN_TRACE_ID follows the trace header and is removed when it is absent', T, async (t) => {
  const fn = await start(t, 'esm.context');
  const first = await fn.invoke({}, { headers: { 'Lambda-Runtime-Trace-Id': 'Root=1-abc;Sampled=1' } });
  assert.equal(first.body.traceEnv, 'Root=1-abc;Sampled=1');
  const second = await fn.invoke({});
  assert.equal(second.body.traceEnv, null);
});

test('the event is the parsed body: strings, numbers, arrays and null reach the handler as such', T, async (t) => {
  const fn = await start(t, 'esm.echo');
  for (const raw of ['"just a string"', '123', '[1,2]', 'null', '{"a":{"b":[true]}}']) {
    const res = await fn.invoke(raw);
    assert.deepEqual(res.body, { event: JSON.parse(raw) });
  }
});

for (const mode of MODES) {
  test(`an event body that is not JSON fails that invocation, and the next one is served (${mode}.x mode)`, T, async (t) => {
    const fn = await start(t, 'esm.echo', { mode });
    const bad = await fn.invoke('{not json');
    assert.equal(bad.kind, 'error');
    assert.equal(bad.body.errorType, 'SyntaxError');
    const good = await fn.invoke({ n: 2 });
    assert.deepEqual(good.body, { event: { n: 2 } });
  });

  test(`a client-context header that is not JSON fails that invocation, and the next one is served (${mode}.x mode)`, T, async (t) => {
    const fn = await start(t, 'esm.context', { mode });
    const bad = await fn.invoke({}, { headers: { 'Lambda-Runtime-Client-Context': '{not json' } });
    assert.equal(bad.kind, 'error');
    if (mode === 3) {
      assert.equal(bad.body.errorType, 'Error');
      assert.match(bad.body.errorMessage, /^Cannot parse ClientContext as json: SyntaxError: /);
    } else {
      assert.equal(bad.body.errorType, 'Runtime.PlatformError');
      assert.match(bad.body.errorMessage, /^Failed to parse lambda-runtime-client-context as JSON: /);
    }
    const good = await fn.invoke({});
    assert.equal(good.kind, 'response');
  });
}

// ---- results --------------------------------------------------------------------------------

test('results are JSON; undefined and a function are posted as null', T, async (t) => {
  for (const [handler, expected] of [['esm.returnUndefined', 'null'], ['esm.returnFunction', 'null']]) {
    const fn = await start(t, handler);
    const res = await fn.invoke({});
    assert.equal(res.entry.body.toString(), expected, handler);
    assert.equal(res.headers['content-type'], 'application/json');
  }
});

for (const mode of MODES) {
  const type = mode === 3 ? 'Error' : 'Runtime.JSONStringifyError';
  for (const handler of ['esm.circular', 'esm.bigint']) {
    test(`a result JSON cannot encode (${handler.split('.')[1]}) fails the invocation with ${type} and the loop goes on (${mode}.x mode)`, T, async (t) => {
      const fn = await start(t, handler, { mode });
      const res = await fn.invoke({});
      assert.equal(res.kind, 'error');
      assert.equal(res.body.errorType, type);
      assert.equal(res.body.errorMessage, 'Unable to stringify response body');
      const again = await fn.invoke({});
      assert.equal(again.kind, 'error', 'still serving');
    });
  }
}

test('3.x mode: a plain (non-promise) return value is ignored, null is posted when the loop drains', T, async (t) => {
  const fn = await start(t, 'esm.syncValue', { mode: 3 });
  assert.equal((await fn.invoke({ n: 1 })).entry.body.toString(), 'null');
});

test('4.x mode: a plain (non-promise) return value is the response', T, async (t) => {
  const fn = await start(t, 'esm.syncValue', { mode: 4 });
  assert.deepEqual((await fn.invoke({ n: 1 })).body, { sync: 1 });
});

// ---- errors ---------------------------------------------------------------------------------

for (const mode of MODES) {
  test(`a thrown Error is posted as {errorType, errorMessage, trace} with the error-type and X-Ray headers (${mode}.x mode)`, T, async (t) => {
    const fn = await start(t, 'esm.throwError', { mode });
    const res = await fn.invoke({}, { requestId: 'err-1' });
    assert.equal(res.kind, 'error');
    assert.deepEqual(Object.keys(res.body), ['errorType', 'errorMessage', 'trace']);
    assert.equal(res.body.errorType, 'TypeError');
    assert.equal(res.body.errorMessage, 'bad input');
    assert.equal(res.body.trace[0], 'TypeError: bad input');
    assert.match(res.body.trace[1], /^ {4}at .*esm\.mjs:\d+:\d+\)?$/);
    assert.equal(res.headers['lambda-runtime-function-error-type'], 'TypeError');
    const cause = JSON.parse(res.headers['lambda-runtime-function-xray-error-cause']);
    assert.equal(cause.working_directory, APP);
    assert.deepEqual(cause.exceptions[0].type, 'TypeError');
    assert.deepEqual(cause.exceptions[0].message, 'bad input');
    assert.ok(Array.isArray(cause.exceptions[0].stack) && cause.exceptions[0].stack.length > 0);
    assert.deepEqual(Object.keys(cause.exceptions[0].stack[0]), ['path', 'line', 'label']);
    assert.ok(Array.isArray(cause.paths));
    // The "Invoke Error" record, with the request id.
    await sleep(50);
    const line = fn.rt.stdout.split('\n').find((l) => l.includes('Invoke Error'));
    assert.ok(line, fn.rt.stdout);
    const [, id, level, title, json] = line.split('\t');
    assert.deepEqual([id, level, title], ['err-1', 'ERROR', 'Invoke Error ']);
    assert.deepEqual(JSON.parse(json).code, 'E_BAD');
  });

  test(`a thrown non-Error is posted with its typeof as errorType and an empty trace (${mode}.x mode)`, T, async (t) => {
    const fn = await start(t, 'esm.throwString', { mode });
    const res = await fn.invoke({});
    assert.deepEqual(res.body, { errorType: 'string', errorMessage: 'just a string', trace: [] });
  });

  test(`a handler that throws synchronously fails the invocation (${mode}.x mode)`, T, async (t) => {
    const fn = await start(t, 'esm.throwSync', { mode });
    const res = await fn.invoke({});
    assert.equal(res.body.errorType, 'RangeError');
    assert.equal(res.body.errorMessage, 'thrown synchronously');
  });

  test(`an async handler whose promise never settles while the loop drains fails with Runtime.NodeJsExit (${mode}.x mode)`, T, async (t) => {
    const fn = await start(t, 'esm.neverSettles', { mode });
    const res = await fn.invoke({});
    assert.equal(res.kind, 'error');
    assert.equal(res.body.errorType, 'Runtime.NodeJsExit');
    assert.match(res.body.errorMessage, NODEJS_EXIT);
    assert.equal((await fn.invoke({})).kind, 'error', 'the next invocation is served');
  });
}

test('3.x mode: a plain function returning a promise that never settles gets null (a forgotten callback)', T, async (t) => {
  const fn = await start(t, 'esm.neverSettlesPlain', { mode: 3 });
  assert.equal((await fn.invoke({ n: 1 })).entry.body.toString(), 'null');
  assert.deepEqual((await fn.invoke({ n: 2 })).body, 'second');
});

test('4.x mode: a plain function returning a promise that never settles fails with Runtime.NodeJsExit', T, async (t) => {
  const fn = await start(t, 'esm.neverSettlesPlain', { mode: 4 });
  const res = await fn.invoke({ n: 1 });
  assert.equal(res.body.errorType, 'Runtime.NodeJsExit');
  assert.deepEqual((await fn.invoke({ n: 2 })).body, 'second');
});

// ---- callback-era handlers (3.x) ---------------------------------------------------------------

test('3.x mode: callback(null, result) posts the result', T, async (t) => {
  const fn = await start(t, 'callback.success', { mode: 3 });
  assert.deepEqual((await fn.invoke({ n: 1 })).body, { via: 'callback', n: 1 });
  assert.deepEqual((await fn.invoke({ n: 2 })).body, { via: 'callback', n: 2 });
});

test('3.x mode: callback(error) posts the error', T, async (t) => {
  const fn = await start(t, 'callback.error', { mode: 3 });
  const res = await fn.invoke({});
  assert.equal(res.kind, 'error');
  assert.equal(res.body.errorMessage, 'callback failure');
});

test('3.x mode: the first of callback / context.succeed wins; later calls post nothing', T, async (t) => {
  const fn = await start(t, 'callback.twice', { mode: 3 });
  const res = await fn.invoke({}, { requestId: 'twice-1' });
  assert.deepEqual(res.body, 'first');
  await fn.invoke({}, { requestId: 'twice-2' });
  assert.equal(requestsFor(fn, 'twice-1').length, 1);
});

test('3.x mode: callbackWaitsForEmptyEventLoop is true by default', T, async (t) => {
  const fn = await start(t, 'callback.waits', { mode: 3 });
  assert.deepEqual((await fn.invoke({})).body, { waits: true });
});

test('3.x mode: with callbackWaitsForEmptyEventLoop the response waits for the handler\'s timers', T, async (t) => {
  const fn = await start(t, 'callback.waitsTimer', { mode: 3 });
  const started = Date.now();
  await fn.invoke({});
  assert.ok(Date.now() - started >= 95, 'posted after the 100 ms timer');
});

test('3.x mode: callbackWaitsForEmptyEventLoop = false posts at once, timers keep running', T, async (t) => {
  const fn = await start(t, 'callback.noWait', { mode: 3 });
  const started = Date.now();
  assert.deepEqual((await fn.invoke({})).body, 'at once');
  assert.ok(Date.now() - started < 1500, 'not held by the 2 s timer');
});

test('3.x mode: context.succeed / fail / done answer the invocation', T, async (t) => {
  const cases = [
    ['callback.succeed', 'response', { via: 'succeed' }],
    ['callback.fail', 'error', 'via fail'],
    ['callback.doneOk', 'response', { via: 'done' }],
    ['callback.doneErr', 'error', 'via done'],
  ];
  for (const [handler, kind, expected] of cases) {
    const fn = await start(t, handler, { mode: 3 });
    const res = await fn.invoke({});
    assert.equal(res.kind, kind, handler);
    if (kind === 'response') assert.deepEqual(res.body, expected);
    else assert.equal(res.body.errorMessage, expected);
  }
});

test('3.x mode: context.fail() with no error posts the official "handled" string error', T, async (t) => {
  const fn = await start(t, 'callback.failNothing', { mode: 3 });
  assert.deepEqual((await fn.invoke({})).body, { errorType: 'string', errorMessage: 'handled', trace: [] });
});

test('3.x mode: a handler that never calls back gets null once the event loop drains', T, async (t) => {
  const fn = await start(t, 'callback.forgets', { mode: 3 });
  const res = await fn.invoke({});
  assert.equal(res.kind, 'response');
  assert.equal(res.entry.body.toString(), 'null');
});

test('3.x mode: a result the callback cannot serialise fails the invocation instead of crashing', T, async (t) => {
  const fn = await start(t, 'callback.circularCallback', { mode: 3 });
  const res = await fn.invoke({});
  assert.equal(res.body.errorMessage, 'Unable to stringify response body');
  assert.equal((await fn.invoke({})).kind, 'error', 'still serving');
});

// ---- process-level faults ----------------------------------------------------------------------

for (const mode of MODES) {
  const code = mode === 3 ? 129 : 1;
  test(`an uncaught exception during an invocation posts its error, then exits ${code} (${mode}.x mode)`, T, async (t) => {
    const fn = await start(t, 'esm.uncaughtInTimer', { mode });
    const res = await fn.invoke({});
    assert.equal(res.kind, 'error');
    assert.equal(res.body.errorMessage, 'thrown from a timer');
    const exit = await fn.rt.exited;
    assert.equal(exit.code, code);
    if (mode === 3) assert.match(exit.stdout, /\tERROR\tUncaught Exception \t\{"errorType":"Error","errorMessage":"thrown from a timer"/);
    else assert.match(exit.stderr, /Error: thrown from a timer/);
  });

  const rcode = mode === 3 ? 128 : 1;
  test(`an unhandled rejection during an invocation posts Runtime.UnhandledPromiseRejection, then exits ${rcode} (${mode}.x mode)`, T, async (t) => {
    const fn = await start(t, 'esm.unhandledRejection', { mode });
    const res = await fn.invoke({});
    assert.equal(res.kind, 'error');
    assert.equal(res.body.errorType, 'Runtime.UnhandledPromiseRejection');
    assert.equal(res.body.errorMessage, 'Error: nobody catches this');
    const exit = await fn.rt.exited;
    assert.equal(exit.code, rcode);
  });

  test(`an uncaught exception after the response posts nothing more and exits ${code} (${mode}.x mode)`, T, async (t) => {
    const fn = await start(t, 'esm.throwAfterResponse', { mode });
    const res = await fn.invoke({}, { requestId: 'late-1' });
    assert.deepEqual(res.body, 'answered');
    const exit = await fn.rt.exited;
    assert.equal(exit.code, code);
    assert.deepEqual(requestsFor(fn, 'late-1').map((r) => r.path.split('/').pop()), ['response']);
    if (mode === 4) assert.match(exit.stderr, /Error: late/, "Node's crash report");
  });

  test(`process.exit() from a timer between invocations ends the process with that code (${mode}.x mode)`, T, async (t) => {
    const fn = await start(t, 'esm.exitFromTimer', { mode });
    assert.deepEqual((await fn.invoke({})).body, 'answered before exiting');
    const exit = await fn.rt.exited;
    assert.equal(exit.code, 3);
  });
}

test('4.x mode: an exception the function handles itself (its own uncaughtException listener) is not reported', T, async (t) => {
  const fn = await start(t, 'esm.handledUncaught', { mode: 4 });
  const res = await fn.invoke({});
  assert.equal(res.kind, 'response');
  assert.deepEqual(res.body, 'survived');
});

// ---- the Runtime API refusing or failing --------------------------------------------------------

test('a response the Runtime API refuses as too large (413) fails the invocation with a clear error', T, async (t) => {
  const fn = await start(t, 'esm.big');
  const refused = fn.invoke({ size: 1000 }, {
    requestId: 'big-1',
    reply: { status: 413, body: '{"errorMessage":"Exceeded maximum allowed payload size (6291556 bytes).","errorType":"RequestEntityTooLarge"}' },
  });
  assert.equal((await refused).status, 413);
  const errorPost = await fn.api.waitForRequest((r) => r.path.endsWith('/invocation/big-1/error'));
  const body = JSON.parse(errorPost.body.toString());
  assert.equal(body.errorType, 'Function.ResponseSizeTooLarge');
  assert.match(body.errorMessage, /\(1002 bytes\).*Exceeded maximum allowed payload size/);
  assert.deepEqual((await fn.invoke({ size: 3 })).body, 'xxx', 'still serving');
});

for (const mode of MODES) {
  test(`a response that cannot be posted (Runtime API gone) ends the process with a log line (${mode}.x mode)`, T, async (t) => {
    const fn = await start(t, 'esm.slow', { mode });
    fn.api.invoke({}, { requestId: 'orphan-1' }); // never answered: the API goes away meanwhile
    await fn.api.waitForRequest((r) => r.path.endsWith('/next'));
    await sleep(100);
    await fn.api.close();
    const exit = await fn.rt.exited;
    assert.equal(exit.code, mode === 3 ? 129 : 1);
    assert.match(exit.stdout, /Could not post the result of invocation orphan-1 to the Runtime API/);
  });
}

test('an event without a deadline header is served, as the official clients serve it', T, async (t) => {
  const fn = await start(t, 'esm.context');
  const res = await fn.invoke({}, { requestId: 'no-deadline', headers: { 'Lambda-Runtime-Deadline-Ms': null } });
  assert.equal(res.kind, 'response');
  assert.ok(res.body.remaining < -1e12, `remaining ${res.body.remaining}: computed from a deadline of 0`);
});
