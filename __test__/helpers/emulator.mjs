// Runs `lambda-rapid serve` as a user would (a child process on a free port) and talks to it
// over HTTP. Collects the CLI's output (the function's logs pass through it).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { watch, within } from './child.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.join(ROOT, 'bin', 'lambda-rapid.mjs');
export const EMULATOR_FIXTURES = path.join(ROOT, '__test__', 'fixtures', 'emulator');
export const INVOKE_PATH = '/2015-03-31/functions/function/invocations';

/**
 * Runs the CLI to completion: `{ code, signal, stdout, stderr }`. A CLI still running after
 * `timeoutMs` is killed and the call rejects with what it printed.
 */
export async function runCli(args, { input, env, cwd = ROOT, timeoutMs = 30000, uid, gid, node = process.execPath } = {}) {
  const user = uid === undefined ? {} : { uid, gid }; // another user (the caller is root)
  const child = spawn(node, [BIN, ...args], { cwd, env: { ...process.env, ...env }, stdio: 'pipe', ...user });
  const watched = watch(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  child.stdin.on('error', () => {}); // a CLI that exits before reading its input
  child.stdin.end(input);
  try {
    const { code, signal } = await within(watched.closed, timeoutMs, `lambda-rapid ${args.join(' ')}`);
    return { code, signal, stdout, stderr };
  } catch (e) {
    watched.kill();
    throw new Error(`${e.message}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
  }
}

/** Starts `lambda-rapid serve <handler> --port 0 ...`; resolves once it listens. */
export async function serve(handler, args = [], { env, taskRoot = EMULATOR_FIXTURES, detached = false } = {}) {
  const child = spawn(process.execPath, [BIN, 'serve', handler, '--task-root', taskRoot, '--port', '0', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached, // its own process group, as a shell gives a foreground job
  });
  let output = '';
  const waiters = [];
  const onData = (d) => {
    output += d;
    for (const w of waiters.slice()) w();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const watched = watch(child);
  const exited = watched.closed;
  const waitForOutput = (re, timeoutMs = 10000) => new Promise((resolve, reject) => {
    const check = () => {
      const m = re.exec(output);
      if (m) {
        waiters.splice(waiters.indexOf(check), 1);
        clearTimeout(timer);
        resolve(m);
      }
    };
    const timer = setTimeout(() => {
      waiters.splice(waiters.indexOf(check), 1);
      reject(new Error(`timed out waiting for ${re} in:\n${output}`));
    }, timeoutMs);
    waiters.push(check);
    check();
  });
  let m;
  try {
    // An emulator that dies before it listens fails at once, with what it printed.
    m = await Promise.race([
      waitForOutput(/http:\/\/127\.0\.0\.1:(\d+)\//),
      exited.then(({ code, signal, error }) => {
        throw new Error(`lambda-rapid serve ended before listening (${error?.message ?? `code ${code}, signal ${signal}`}):\n${output}`);
      }),
    ]);
  } catch (e) {
    await watched.kill();
    throw e;
  }
  const port = Number(m[1]);
  return {
    port,
    child,
    exited,
    get output() { return output; },
    waitForOutput,
    invoke: (event, opts) => invokeHttp(port, event, opts),
    /** Sends `signal` and resolves with the exit status. */
    stop(signal = 'SIGTERM') {
      watched.kill(signal);
      // One that ignores the signal is killed, so the test fails on its status instead of hanging.
      return within(exited, 10000, `lambda-rapid serve after ${signal}`).catch(() => watched.kill('SIGKILL').then(() => exited));
    },
    /** Sends `signal` to the whole process group, as a terminal's Ctrl-C does (needs `detached`). */
    signalGroup(signal) {
      process.kill(-child.pid, signal);
      return exited;
    },
  };
}

/**
 * One HTTP request to the invoke API with fetch, as a user's client would make it.
 * Resolves `{ status, headers, text, json, functionError }`.
 */
export async function invokeHttp(port, event, { path: p = INVOKE_PATH, method = 'POST', headers = {}, raw = false } = {}) {
  const body = method === 'GET' ? undefined : raw ? event : JSON.stringify(event ?? {});
  const res = await fetch(`http://127.0.0.1:${port}${p}`, { method, body, headers });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json, functionError: res.headers.get('x-amz-function-error') };
}

/**
 * One GET (or `init.method`) of `path` from `serve --http`, redirects not followed.
 * Resolves `{ status, headers, bytes, text }`.
 */
export async function httpGet(port, path = '/', init = {}) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { redirect: 'manual', ...init });
  const bytes = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, bytes, text: bytes.toString() };
}

/** Whether a process exists (signal 0 probes without signalling). */
export function processExists(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}
