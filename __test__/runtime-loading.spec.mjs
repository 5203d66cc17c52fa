// Start-up: handler strings, module resolution, init errors and exit codes, the environment.
// Every test spawns `node index.mjs` against a real Runtime API server (see
// fixtures/runtime/harness.mjs); fixtures are real handler files.
import { test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import { startRuntimeApi } from './helpers/runtime-api.mjs';
import { spawnRuntime } from './helpers/spawn-runtime.mjs';
import { startFunction, APP, BROKEN, MODES, EXEC_ENV } from './fixtures/runtime/harness.mjs';

const T = { timeout: 20000 };

async function respondsWith(t, handler, expected, opts = {}) {
  const fn = await startFunction({ handler, ...opts });
  t.after(() => fn.close());
  const res = await fn.invoke({ n: 1 });
  assert.equal(res.kind, 'response', `expected a response, got ${res.kind}: ${JSON.stringify(res.body)}`);
  assert.deepEqual(res.body, expected);
  return fn;
}

/** Starts a function whose init fails; returns { body, headers, code, stdout, stderr, requests }. */
async function initFailure(t, { handler, taskRoot = BROKEN, mode, env }) {
  const fn = await startFunction({ handler, taskRoot, mode, env });
  t.after(() => fn.close());
  const posted = await fn.api.initError();
  const exit = await fn.rt.exited;
  return {
    body: JSON.parse(posted.body.toString()),
    headers: posted.headers,
    code: exit.code,
    signal: exit.signal,
    stdout: exit.stdout,
    stderr: exit.stderr,
    requests: fn.api.requests.map((r) => `${r.method} ${r.path}`),
  };
}

test('an ES module (.mjs) handler is loaded by its named export', T, async (t) => {
  await respondsWith(t, 'esm.echo', { event: { n: 1 } });
});

test('a .js file is CommonJS when the nearest package.json does not say "type": "module"', T, async (t) => {
  await respondsWith(t, 'cjs.handler', { loadedAs: 'cjs', file: 'cjs.js', event: { n: 1 } });
});

test('a .js file is an ES module under a package.json with "type": "module"', T, async (t) => {
  await respondsWith(t, 'esm-pkg/index.handler', { loadedAs: 'esm' });
});

test('a .cjs file is loaded when no .js or .mjs exists', T, async (t) => {
  await respondsWith(t, 'app.handler', { file: 'app.cjs' });
});

test('an extensionless file that exists is loaded as named', T, async (t) => {
  await respondsWith(t, 'extensionless.handler', 'extensionless file');
});

test('.js wins over .mjs when both exist', T, async (t) => {
  await respondsWith(t, 'prec.handler', 'prec.js');
});

test('a nested path dir/sub/file.export resolves under the task root', T, async (t) => {
  await respondsWith(t, 'dir/sub/file.handler', { where: 'dir/sub/file.js' });
});

test('a nested export path file.a.b.c is followed property by property', T, async (t) => {
  await respondsWith(t, 'esm.nested.deep.handler', 'deep');
});

test('an export missing from the module is looked up in its default export', T, async (t) => {
  await respondsWith(t, 'esm.fromDefault', 'from default export');
});

for (const mode of MODES) {
  test(`a directory holding index.js is loaded (${mode}.x mode)`, T, async (t) => {
    await respondsWith(t, 'pkgdir.handler', 'directory index.js', { mode });
  });
  test(`a directory holding only index.mjs is loaded (${mode}.x mode)`, T, async (t) => {
    await respondsWith(t, 'mjsdir.handler', 'directory index.mjs', { mode });
  });
}

test('a module not under the task root is resolved from node_modules', T, async (t) => {
  await respondsWith(t, 'fixture-pkg.handler', 'from node_modules/fixture-pkg');
});

test('top-level await in the module completes before the first invocation', T, async (t) => {
  await respondsWith(t, 'tla.handler', 'ready after top-level await');
});

test('the handler can be given as the first argument (custom image CMD) when _HANDLER is unset', T, async (t) => {
  await respondsWith(t, undefined, { event: { n: 1 } }, { args: ['esm.echo'] });
});

test('a handler given as the first argument is looked up in the working directory, as the official bin does', T, async (t) => {
  // The image's WORKDIR holds the function; LAMBDA_TASK_ROOT points elsewhere (/var/task).
  await respondsWith(t, undefined, { event: { n: 1 } }, { args: ['esm.echo'], env: { LAMBDA_TASK_ROOT: BROKEN } });
});

test('without LAMBDA_TASK_ROOT the working directory is the task root', T, async (t) => {
  await respondsWith(t, 'esm.echo', { event: { n: 1 } }, { env: { LAMBDA_TASK_ROOT: undefined } });
});

for (const mode of MODES) {
  const exitCode = mode === 3 ? 129 : 1;

  test(`'..' in the handler is Runtime.MalformedHandlerName, exit ${exitCode} (${mode}.x mode)`, T, async (t) => {
    const r = await initFailure(t, { handler: '../app/esm.echo', mode });
    assert.equal(r.body.errorType, 'Runtime.MalformedHandlerName');
    assert.match(r.body.errorMessage, /'\.\.\/app\/esm\.echo' is not a valid handler name/);
    assert.equal(r.headers['lambda-runtime-function-error-type'], 'Runtime.MalformedHandlerName');
    assert.equal(r.code, exitCode);
  });

  test(`a handler without a dot is Runtime.MalformedHandlerName (${mode}.x mode)`, T, async (t) => {
    const r = await initFailure(t, { handler: 'index', mode });
    assert.equal(r.body.errorType, 'Runtime.MalformedHandlerName');
    assert.match(r.body.errorMessage, /^Bad handler/);
    assert.equal(r.code, exitCode);
  });

  test(`no handler at all is Runtime.MalformedHandlerName (${mode}.x mode)`, T, async (t) => {
    const r = await initFailure(t, { handler: undefined, mode });
    assert.equal(r.body.errorType, 'Runtime.MalformedHandlerName');
    assert.match(r.body.errorMessage, /_HANDLER/);
    assert.equal(r.code, exitCode);
  });

  test(`a missing module is Runtime.ImportModuleError, posted before the exit (${mode}.x mode)`, T, async (t) => {
    const r = await initFailure(t, { handler: 'nothere.handler', mode });
    assert.equal(r.body.errorType, 'Runtime.ImportModuleError');
    assert.match(r.body.errorMessage, /Cannot find module 'nothere'/);
    assert.deepEqual(r.requests, ['POST /2018-06-01/runtime/init/error']);
    assert.equal(r.code, exitCode);
  });

  test(`a dependency the module requires that is not installed is Runtime.ImportModuleError (${mode}.x mode)`, T, async (t) => {
    const r = await initFailure(t, { handler: 'missing-dep.handler', mode });
    assert.equal(r.body.errorType, 'Runtime.ImportModuleError');
    assert.match(r.body.errorMessage, /^Error: Cannot find module 'no-such-package-anywhere'/);
    assert.equal(r.body.trace[0].split(':')[0], 'Runtime.ImportModuleError');
    assert.equal(r.code, exitCode);
  });

  test(`an export that is missing is Runtime.HandlerNotFound (${mode}.x mode)`, T, async (t) => {
    const r = await initFailure(t, { handler: 'exports.nothere', mode });
    assert.deepEqual(
      { errorType: r.body.errorType, errorMessage: r.body.errorMessage },
      { errorType: 'Runtime.HandlerNotFound', errorMessage: 'exports.nothere is undefined or not exported' },
    );
    assert.equal(r.code, exitCode);
  });

  test(`an export that is not a function is Runtime.HandlerNotFound (${mode}.x mode)`, T, async (t) => {
    const r = await initFailure(t, { handler: 'exports.notfn', mode });
    assert.equal(r.body.errorType, 'Runtime.HandlerNotFound');
    assert.equal(r.body.errorMessage, 'exports.notfn is not a function');
    assert.equal(r.code, exitCode);
  });

  for (const file of ['syntax.mjs', 'syntax.js']) {
    test(`a syntax error in ${file} is Runtime.UserCodeSyntaxError (${mode}.x mode)`, T, async (t) => {
      const r = await initFailure(t, { handler: `${file.split('.')[0]}.handler`, mode, env: {} });
      assert.equal(r.body.errorType, 'Runtime.UserCodeSyntaxError');
      assert.equal(r.body.errorMessage, "SyntaxError: Unexpected token ')'");
      assert.equal(r.code, exitCode);
    });
  }

  test(`an error the module throws at init keeps its own type (${mode}.x mode)`, T, async (t) => {
    const r = await initFailure(t, { handler: 'init-throws.handler', mode });
    assert.equal(r.body.errorType, 'DatabaseUnavailable');
    assert.equal(r.body.errorMessage, 'cannot connect at init');
    assert.equal(r.headers['lambda-runtime-function-error-type'], 'DatabaseUnavailable');
    assert.match(r.body.trace[1], /init-throws\.js:3/);
    assert.equal(r.code, exitCode);
  });

  test(`an uncaught exception from a timer during init is posted as the init error (${mode}.x mode)`, T, async (t) => {
    const r = await initFailure(t, { handler: 'init-timer-throws.handler', mode });
    assert.equal(r.body.errorType, 'Error');
    assert.equal(r.body.errorMessage, 'thrown by a timer during init');
    assert.equal(r.code, exitCode);
  });
}

test('3.x mode logs an init failure as "Uncaught Exception" with the placeholder request id', T, async (t) => {
  const r = await initFailure(t, { handler: 'exports.notfn', mode: 3 });
  const line = r.stdout.split('\n').find((l) => l.includes('Uncaught Exception'));
  assert.ok(line, r.stdout);
  assert.deepEqual(line.split('\t').slice(1, 4), ['undefined', 'ERROR', 'Uncaught Exception ']);
  assert.equal(r.stderr, '');
});

test('4.x mode logs an init failure as "Init Error" and crashes with Node\'s report on stderr', T, async (t) => {
  const r = await initFailure(t, { handler: 'exports.notfn', mode: 4 });
  const line = r.stdout.split('\n').find((l) => l.includes('Init Error'));
  assert.ok(line, r.stdout);
  assert.deepEqual(line.split('\t').slice(1, 4), ['-', 'ERROR', 'Init Error ']);
  assert.match(r.stderr, /Runtime\.HandlerNotFound: exports\.notfn is not a function/);
});

test('4.x mode refuses a callback handler (3 parameters) at init: Runtime.CallbackHandlerDeprecated', T, async (t) => {
  const r = await initFailure(t, { handler: 'callback.success', taskRoot: APP, mode: 4 });
  assert.equal(r.body.errorType, 'Runtime.CallbackHandlerDeprecated');
  assert.match(r.body.errorMessage, /removed support for callback-based function handlers starting with Node\.js 24/);
  assert.equal(r.code, 1);
});

test('Node 22 on Managed Instances refuses a callback handler with the Node 22 message', T, async (t) => {
  const r = await initFailure(t, {
    handler: 'callback.success',
    taskRoot: APP,
    mode: 3,
    env: { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', AWS_LAMBDA_MAX_CONCURRENCY: '4' },
  });
  assert.equal(r.body.errorType, 'Runtime.CallbackHandlerDeprecated');
  assert.match(r.body.errorMessage, /Node\.js 22 with Managed Instances/);
});

test('3.x mode accepts an async handler declaring a callback parameter', T, async (t) => {
  await respondsWith(t, 'esm.threeArgs', { cb: 'function' }, { mode: 3 });
});

test('a missing AWS_LAMBDA_RUNTIME_API is a clear fatal error, not a native abort', T, async (t) => {
  const fn = await startFunction({ handler: 'esm.echo', env: { AWS_LAMBDA_RUNTIME_API: undefined } });
  t.after(() => fn.close());
  const exit = await fn.rt.exited;
  assert.equal(exit.code, 1);
  assert.equal(exit.signal, null);
  assert.match(exit.stdout, /AWS_LAMBDA_RUNTIME_API is not set/);
});

test('a malformed AWS_LAMBDA_RUNTIME_API is a clear fatal error', T, async (t) => {
  const fn = await startFunction({ handler: 'esm.echo', env: { AWS_LAMBDA_RUNTIME_API: 'not an endpoint::' } });
  t.after(() => fn.close());
  const exit = await fn.rt.exited;
  assert.equal(exit.code, 1);
  assert.equal(exit.signal, null);
  assert.match(exit.stdout, /ERROR/);
});

for (const mode of MODES) {
  test(`an unreachable Runtime API ends the process with a log line, not a hang (${mode}.x mode)`, T, async (t) => {
    // A port nobody listens on: a server is started, its address noted, and closed.
    const dead = await startRuntimeApi();
    const endpoint = dead.endpoint;
    await dead.close();
    const rt = spawnRuntime({ endpoint, handler: 'esm.echo', taskRoot: APP, env: { AWS_EXECUTION_ENV: EXEC_ENV[mode] } });
    t.after(() => rt.kill());
    const exit = await rt.exited;
    assert.equal(exit.code, mode === 3 ? 129 : 1);
    assert.match(exit.stdout, /Runtime API at 127\.0\.0\.1:\d+ failed/);
  });
}

test('3.x mode installs uncaughtException/unhandledRejection listeners, 4.x mode none (as officially)', T, async (t) => {
  for (const [mode, count] of [[3, 1], [4, 0]]) {
    const fn = await startFunction({ handler: 'globals.handler', mode });
    const res = await fn.invoke({});
    await fn.close();
    assert.equal(res.body.uncaughtListeners, count, `${mode}.x`);
    assert.equal(res.body.unhandledListeners, count, `${mode}.x`);
  }
});

test('globalThis.awslambda exists for the handler\'s module, unless AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA says no', T, async (t) => {
  for (const [value, expected] of [[undefined, 'object'], ['1', 'undefined'], ['true', 'undefined'], ['0', 'object']]) {
    const fn = await startFunction({ handler: 'globals.handler', env: { AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA: value } });
    const res = await fn.invoke({});
    await fn.close();
    assert.equal(res.body.awslambda, expected, `AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA=${value}`);
  }
});

for (const mode of MODES) {
  test(`a buffered function's process never loads node:http, node:net, node:stream or worker_threads (${mode}.x mode)`, T, async (t) => {
    // Start-up weight: the Runtime API is spoken by the native client; streaming is loaded
    // only for streaming handlers.
    const fn = await startFunction({ handler: 'modules.handler', mode });
    t.after(() => fn.close());
    const loaded = (await fn.invoke({})).body;
    assert.ok(Array.isArray(loaded) && loaded.includes('fs'), JSON.stringify(loaded));
    for (const heavy of ['http', 'https', 'net', 'stream', 'worker_threads', 'child_process']) {
      assert.ok(!loaded.includes(heavy), `${heavy} loaded: ${loaded.join(', ')}`);
    }
  });
}
