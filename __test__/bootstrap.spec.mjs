// The package's `bootstrap` (sh): started as Lambda starts a runtime's bootstrap, against a real
// Runtime API on 127.0.0.1. The handler reports the flags Node received (process.execArgv),
// so each formula of AWS's Node.js bootstrap is checked on the Node running the tests.
import { test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startRuntimeApi } from './helpers/runtime-api.mjs';
import { spawnRuntime, ROOT, FIXTURES } from './helpers/spawn-runtime.mjs';

const T = { timeout: 20000 };
const BOOTSTRAP = path.join(ROOT, 'bootstrap');
const TASK_ROOT = path.join(FIXTURES, 'bootstrap');
const MAJOR = Number(process.versions.node.split('.')[0]);
// Node first on PATH: the bootstrap runs `node` from PATH, and this one is the one under test.
const PATH = `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}`;

/** Starts the bootstrap with `env` over a Lambda environment; `invoke()` returns the handler's report. */
async function start(t, env = {}, args = []) {
  const api = await startRuntimeApi();
  const rt = spawnRuntime({
    endpoint: api.endpoint,
    handler: 'app.handler',
    taskRoot: TASK_ROOT,
    node: '/bin/sh',
    entry: BOOTSTRAP,
    args,
    env: { PATH, NODE_PATH: undefined, NODE_OPTIONS: undefined, AWS_EXECUTION_ENV: undefined, ...env },
  });
  t.after(async () => {
    await rt.kill();
    await api.close();
  });
  return {
    rt,
    async report() {
      const res = await Promise.race([api.invoke({}), rt.exited.then((e) => ({ kind: 'exit', ...e }))]);
      assert.equal(res.kind, 'response', `the runtime did not answer (${res.code ?? res.kind}): ${rt.stdout}${rt.stderr}`);
      return JSON.parse(res.entry.body.toString());
    },
  };
}

/** The --no-experimental-* flags Lambda applies on this Node line (AWS's Node.js docs). */
function experimentalFlags({ require = true, detect = true } = {}) {
  const flags = [];
  if (require && (MAJOR === 20 || MAJOR === 22)) flags.push('--no-experimental-require-module');
  if (detect && MAJOR === 22) flags.push('--no-experimental-detect-module');
  return flags;
}

test('Node gets --expose-gc, the header size, heap flags from the memory size and the experimental switches', T, async (t) => {
  const fn = await start(t, { AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256' });
  const { execArgv, executionEnv } = await fn.report();
  // new space = 256 / 10 = 25; semi space = 25 / 2 = 12; old space = 256 - 25 = 231
  assert.deepEqual(execArgv, ['--expose-gc', '--max-http-header-size', '81920',
    '--max-semi-space-size=12', '--max-old-space-size=231', ...experimentalFlags()]);
  assert.equal(executionEnv, `AWS_Lambda_nodejs${MAJOR}.x`);
});

test('a heap size in NODE_OPTIONS (either spelling) leaves both heap flags out', T, async (t) => {
  for (const opt of ['--max-old-space-size=100', '--max_semi_space_size=4']) {
    const fn = await start(t, { AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024', NODE_OPTIONS: opt });
    const { execArgv } = await fn.report();
    assert.deepEqual(execArgv, ['--expose-gc', '--max-http-header-size', '81920', ...experimentalFlags()], opt);
  }
});

test('no memory size, no heap flags', T, async (t) => {
  const fn = await start(t, { AWS_LAMBDA_FUNCTION_MEMORY_SIZE: undefined });
  const { execArgv } = await fn.report();
  assert.deepEqual(execArgv, ['--expose-gc', '--max-http-header-size', '81920', ...experimentalFlags()]);
});

test('an experimental feature re-enabled in NODE_OPTIONS drops its --no- flag', { ...T, skip: MAJOR !== 22 && MAJOR !== 20 && 'Lambda disables none on this Node line' }, async (t) => {
  const fn = await start(t, { AWS_LAMBDA_FUNCTION_MEMORY_SIZE: undefined, NODE_OPTIONS: '--experimental-require-module' });
  const { execArgv } = await fn.report();
  assert.deepEqual(execArgv, ['--expose-gc', '--max-http-header-size', '81920', ...experimentalFlags({ require: false })]);
});

test('NODE_PATH defaults to the layer, runtime and task folders; a set one is kept', T, async (t) => {
  const fn = await start(t, { LAMBDA_RUNTIME_DIR: '/rt' });
  assert.equal((await fn.report()).nodePath,
    `/opt/nodejs/node${MAJOR}/node_modules:/opt/nodejs/node_modules:/rt/node_modules:/rt:${TASK_ROOT}`);
  const kept = await start(t, { NODE_PATH: '/mine' });
  assert.equal((await kept.report()).nodePath, '/mine');
});

test('AWS_LAMBDA_EXEC_WRAPPER runs the wrapper with the node command line', T, async (t) => {
  const fn = await start(t, { AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128', AWS_LAMBDA_EXEC_WRAPPER: path.join(TASK_ROOT, 'wrapper.sh') });
  const { wrapped, execArgv } = await fn.report();
  // node + its flags + index.mjs
  assert.equal(wrapped, `wrapper.sh ${1 + execArgv.length + 1}`);
  assert.ok(execArgv.includes('--max-old-space-size=116'), execArgv.join(' '));
});

test("the bootstrap's arguments (a container's CMD) reach index.mjs: the handler", T, async (t) => {
  const fn = await start(t, { _HANDLER: 'nowhere.handler' }, ['app.handler']);
  const { execArgv } = await fn.report();
  assert.ok(execArgv.includes('--expose-gc'));
});

test('a missing wrapper exits 127, a wrapper that is not executable 126', T, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapid-wrapper-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const missing = path.join(dir, 'missing.sh');
  const notExecutable = path.join(dir, 'plain.sh');
  fs.writeFileSync(notExecutable, '#!/bin/sh\nexec "$@"\n', { mode: 0o644 });
  for (const [wrapper, code, says] of [[missing, 127, 'does not exist'], [notExecutable, 126, 'is not an executable']]) {
    const fn = await start(t, { AWS_LAMBDA_EXEC_WRAPPER: wrapper });
    const exit = await fn.rt.exited;
    assert.equal(exit.code, code, exit.stdout + exit.stderr);
    assert.equal(exit.stdout, `${wrapper}: ${says}\n`);
  }
});
