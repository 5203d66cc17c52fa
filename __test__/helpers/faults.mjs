// The fault-injection specs' set-up: the raw-socket Runtime API (raw-runtime-api.mjs) and our
// runtime on the fixture function in fixtures/faults, in each of the three ways Lambda runs it:
// 3.x (nodejs20.x/22.x), 4.x (nodejs24.x) and 4.x on Managed Instances (worker threads).
// 3.x runs on the Node running the specs; 4.x on Node 24 when there is one (NODE24, the running
// node if it is 24+, or the one `npm run test:matrix` installs in .cache/), else on the
// running node too (`npm run test:matrix` covers Node 22 and 24 either way).
//
// To measure another runtime with the same faults (the official client, for the table in
// docs/reliability.md): LAMBDA_RAPID_FAULTS_ENTRY=<its index.mjs> and, if it needs another
// Node, LAMBDA_RAPID_FAULTS_NODE=<node binary>. Its failures are where it behaves otherwise.
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startRawRuntimeApi } from './raw-runtime-api.mjs';
import { spawnRuntime, FIXTURES, ROOT } from './spawn-runtime.mjs';

export const FAULTS_ROOT = path.join(FIXTURES, 'faults');

export const NODE24 = process.env.NODE24 ??
  (Number(process.versions.node.split('.')[0]) >= 24 ? process.execPath
    : [path.join(ROOT, '.cache', 'node24', 'node_modules', `node-${process.platform}-${process.arch}`, 'bin', 'node')]
      .find((p) => fs.existsSync(p)) ?? process.execPath);

// `gone`: the exit code when the Runtime API fails for good (GET next or a post cannot be sent).
export const MODES = {
  '3.x': { node: process.execPath, env: { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' }, gone: 129, mi: false },
  '4.x': { node: NODE24, env: { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x' }, gone: 1, mi: false },
  // One worker, so that a test knows which connection is whose; three GET attempts (100 +
  // 200 ms) instead of twenty (15 minutes) before the environment gives up.
  'managed instances': {
    node: NODE24,
    env: {
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x', AWS_LAMBDA_MAX_CONCURRENCY: '4',
      AWS_LAMBDA_NODEJS_WORKER_COUNT: '1', LAMBDA_RAPID_NEXT_ATTEMPTS: '3',
    },
    gone: 1,
    mi: true,
  },
};

/**
 * Starts the raw Runtime API and the runtime in `modeName`; both are stopped after the test.
 * Returns { api, rt, mode, alive(promise), ended(ms), running() }.
 */
export async function startFaultRun(t, modeName, { handler = 'index.handler', env = {}, endpoint } = {}) {
  const mode = MODES[modeName];
  const api = await startRawRuntimeApi();
  const rt = spawnRuntime({
    entry: process.env.LAMBDA_RAPID_FAULTS_ENTRY || undefined,
    node: process.env.LAMBDA_RAPID_FAULTS_NODE || mode.node,
    endpoint: endpoint ?? api.endpoint,
    handler,
    taskRoot: FAULTS_ROOT,
    env: { ...mode.env, ...env },
  });
  rt.child.on('error', () => {});
  t.after(async () => {
    await rt.kill();
    await api.close();
  });
  const output = () => `stdout:\n${rt.stdout}\nstderr:\n${rt.stderr}`;
  return {
    api,
    rt,
    mode,
    output,
    /** `promise`, or a failure with the runtime's output if the runtime ends first. */
    alive: (promise) => Promise.race([
      promise,
      rt.exited.then(({ code, signal }) => {
        throw new Error(`the runtime ended (code ${code}, signal ${signal}) while a test waited\n${output()}`);
      }),
    ]),
    /** How the process ended ({ code, signal }), or { running: true } after `ms`. */
    ended: (ms = 10_000) => Promise.race([rt.exited, sleep(ms).then(() => ({ running: true }))]),
    running: () => rt.child.exitCode === null && rt.child.signalCode === null,
  };
}
