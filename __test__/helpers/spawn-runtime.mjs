// Spawns `node index.mjs` (our runtime) the way Lambda does: a Lambda-like environment, the
// handler in _HANDLER, and the given task root. Collects stdout/stderr and the exit status.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { watch } from './child.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURES = path.join(ROOT, '__test__', 'fixtures');

export function lambdaEnv({ endpoint, handler, taskRoot, env = {} }) {
  const base = {
    PATH: process.env.PATH,
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    AWS_LAMBDA_RUNTIME_API: endpoint,
    _HANDLER: handler,
    LAMBDA_TASK_ROOT: taskRoot,
    AWS_LAMBDA_FUNCTION_NAME: 'test-function',
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
    AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/test-function',
    AWS_LAMBDA_LOG_STREAM_NAME: '2026/11/28/[$LATEST]0123456789abcdef',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
  };
  const out = { ...base, ...env };
  for (const [k, v] of Object.entries(out)) if (v === undefined || v === null) delete out[k];
  return out;
}

/**
 * Starts the runtime. Options: endpoint, handler, taskRoot (default: fixtures dir), env (merged
 * over the Lambda environment; a key set to undefined is removed), node (binary), args.
 */
export function spawnRuntime({ endpoint, handler, taskRoot = FIXTURES, env, node = process.execPath,
  args = [], nodeArgs = [], entry = path.join(ROOT, 'index.mjs'), stdio } = {}) {
  const child = spawn(node, [...nodeArgs, entry, ...args], {
    cwd: taskRoot,
    env: lambdaEnv({ endpoint, handler, taskRoot, env }),
    stdio: stdio ?? ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => { stdout += d; });
  child.stderr?.on('data', (d) => { stderr += d; });
  const watched = watch(child);
  // A node binary that cannot be spawned ends the run like an exit, with the reason on stderr.
  const exited = watched.exited.then(({ code, signal, error }) => {
    if (error) stderr += `cannot spawn ${node}: ${error.message}\n`;
    return { code, signal, error, stdout, stderr };
  });
  return {
    child,
    exited,
    /** Resolves once the child has exited and its stdio has closed (or it never started). */
    closed: watched.closed,
    get stdout() { return stdout; },
    get stderr() { return stderr; },
    kill() {
      watched.kill();
      return exited;
    },
  };
}
