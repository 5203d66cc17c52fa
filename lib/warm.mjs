// `lambda-rapid warm <handler>`: fills the compile cache of a function (lib/compile-cache.mjs)
// at image build time. It starts the runtime exactly as Lambda would (this checkout's
// index.mjs, the same Node, the function's environment) with NODE_COMPILE_CACHE pointing at the
// cache, against a Runtime API of its own that refuses GET next: the runtime loads the function
// (its init code runs, as at a cold start), asks for its first event, fails, and exits, and
// Node writes the compiled code of every module it loaded, the runtime's and the function's.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { CJS_EXPORTS_INDEX, compileCacheDir, hasCompileCache, RECORD_CJS_EXPORTS_ENV } from './compile-cache.mjs';

const INIT_TIMEOUT_MS = 120_000;

/**
 * Warms the cache of `handler` in `taskRoot`. Resolves with { dir, files } or { skipped }, and
 * rejects when the function's init failed (the runtime's init error, with its type).
 */
export async function warm({ handler, taskRoot, env = {}, log = () => {} }) {
  if (!hasCompileCache()) {
    return { skipped: `Node ${process.version} has no compile cache (module.enableCompileCache, Node 22.1+): nothing written` };
  }
  const dir = compileCacheDir(taskRoot);
  // From empty: an entry for a file that has changed or gone since would only take space.
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const api = await runtimeApiThatEndsAfterInit();
  try {
    log(`lambda-rapid: loading ${handler} from ${taskRoot} ...`);
    const { exit, output } = await runRuntime({ handler, taskRoot, dir, env, port: api.port });
    if (api.initError) {
      const e = new Error(`the function's init failed: ${api.initError}${output ? `\n${output}` : ''}`);
      e.code = 'ERR_INIT';
      throw e;
    }
    if (!api.askedForEvent) throw new Error(`the runtime ended before asking for an event (${exit})${output ? `:\n${output}` : ''}`);
  } finally {
    api.close();
  }
  return { dir, files: shareable(dir) };
}

/** The Runtime API of a warm-up: records an init error, and closes the connection of GET next. */
function runtimeApiThatEndsAfterInit() {
  const state = { initError: undefined, askedForEvent: false };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (req.url.endsWith('/runtime/invocation/next')) {
        state.askedForEvent = true;
        req.socket.destroy(); // the runtime's first GET fails: it exits, and Node writes the cache
        return;
      }
      if (req.url.endsWith('/runtime/init/error')) {
        const type = req.headers['lambda-runtime-function-error-type'] ?? '';
        state.initError = `${type} ${Buffer.concat(chunks).toString()}`.trim();
      }
      res.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"OK"}');
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve(Object.assign(state, { port: server.address().port, close: () => server.close() }));
    });
  });
}

function runRuntime({ handler, taskRoot, dir, env, port }) {
  const child = spawn(process.execPath, [new URL('../index.mjs', import.meta.url).pathname], {
    cwd: taskRoot,
    env: {
      ...process.env,
      ...env,
      AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${port}`,
      _HANDLER: handler,
      LAMBDA_TASK_ROOT: taskRoot,
      NODE_COMPILE_CACHE: dir,
      // And the export names of the CommonJS modules the function's ES modules import.
      [RECORD_CJS_EXPORTS_ENV]: `${dir}/${CJS_EXPORTS_INDEX}`,
      // One runtime, not a worker per CPU: the workers would load the same modules.
      AWS_LAMBDA_NODEJS_WORKER_COUNT: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The function's and the runtime's output, shown only when something went wrong (the
  // runtime's complaint about the refused GET is expected).
  let output = '';
  const keep = (d) => {
    if (output.length < 16384) output += d;
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the function's init took more than ${INIT_TIMEOUT_MS / 1000} s`));
    }, INIT_TIMEOUT_MS);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ exit: signal ? `signal ${signal}` : `exit code ${code}`, output: output.trim() });
    });
  });
}

/**
 * Node writes the entries readable by their owner only; Lambda runs the function as another
 * user than the one who built the image, so the cache is made readable by all (it holds
 * nothing the code itself does not). Returns the number of files.
 */
function shareable(dir) {
  let n = 0;
  fs.chmodSync(dir, 0o755);
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const file = `${entry.parentPath ?? entry.path}/${entry.name}`;
    fs.chmodSync(file, entry.isDirectory() ? 0o755 : 0o644);
    if (entry.isFile()) n++;
  }
  return n;
}
