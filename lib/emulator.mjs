// The local Lambda from JS: starts the emulator in the addon (its own threads; nothing here runs
// per request) with the runtime command `node index.mjs <handler>` of this package, and offers a
// small invoke client for the CLI, the demo and tests.
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import native from './native.mjs';

export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const RUNTIME_ENTRY = path.join(PACKAGE_ROOT, 'index.mjs');
export const INVOKE_PATH = '/2015-03-31/functions/function/invocations';
export const STREAMING_INVOKE_PATH = '/2021-11-15/functions/function/response-streaming-invocations';

/** `AWS_Lambda_nodejs22.x` for the Node running the function, as Lambda's managed runtimes say. */
export function executionEnv(nodeVersion = process.versions.node) {
  return `AWS_Lambda_nodejs${nodeVersion.split('.')[0]}.x`;
}

/**
 * Starts serving `handler` from `taskRoot`. Returns the native handle: `port`, `runtimeApi`,
 * `stats()`, `recycle()`, `stop()`. `command` replaces the runtime's argv (e.g. to run the official
 * client). `http: 'url' | 'apigw-v1'` serves plain HTTP on `port` instead of the invoke API.
 */
export function startEmulator({
  handler,
  taskRoot = process.cwd(),
  host = '127.0.0.1',
  port = 9000,
  timeout = 3,
  memory = 128,
  functionName = 'function',
  logFormat,
  logLevel,
  node = process.execPath,
  command,
  env,
  platformLogs = true,
  logsToStderr = false,
  quietRuntime = false,
  maxConcurrency,
  instances,
  http,
  snapStartPauseMs,
} = {}) {
  if (!handler && !command) throw new TypeError('startEmulator: a handler (e.g. "index.handler") is required');
  return native.startEmulator({
    command: command ?? [node, RUNTIME_ENTRY, handler],
    taskRoot: path.resolve(taskRoot),
    handler: handler ?? '',
    host,
    port,
    timeoutSeconds: timeout,
    functionName,
    memoryMb: memory,
    executionEnv: executionEnv(),
    runtimeDir: PACKAGE_ROOT,
    logFormat,
    logLevel,
    env,
    platformLogs,
    logsToStderr,
    quietRuntime,
    maxConcurrency,
    instances,
    http,
    // SnapStart (docs/snapstart.md): init, restore/next answered after this pause, then invocations.
    snapstartPauseMs: snapStartPauseMs,
  });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

/**
 * POSTs one event to an invoke API and collects the answer:
 * `{ status, headers, body (string), functionError, trailers, chunks }`. `chunks` records each piece
 * as it arrived with its time, so a caller can see a stream was passed through as it came;
 * `onChunk(buffer)` sees each piece as it arrives.
 */
export function invoke(port, event, { host = '127.0.0.1', path: p = INVOKE_PATH, headers = {}, raw = false, onChunk } = {}) {
  const payload = raw || typeof event === 'string' || Buffer.isBuffer(event) ? event : JSON.stringify(event ?? {});
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host, port, path: p, method: 'POST', agent, headers: { 'Content-Type': 'application/json', ...headers } },
      (res) => {
        const chunks = [];
        res.on('data', (c) => {
          chunks.push({ at: performance.now(), data: c });
          onChunk?.(c);
        });
        res.on('end', () => {
          resolve({
            status: res.statusCode,
            headers: res.headers,
            body: Buffer.concat(chunks.map((c) => c.data)).toString(),
            functionError: res.headers['x-amz-function-error'] ?? res.trailers['x-amz-function-error'],
            trailers: res.trailers,
            chunks,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
