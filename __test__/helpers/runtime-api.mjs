// A real Runtime API server for tests, on 127.0.0.1 and a free port. It queues events, holds
// GET next open until one exists (as Lambda does), and records every request it receives, so a
// test can assert on exactly what a runtime sent. Not a mock of our client: any Runtime API
// client can be pointed at it.
import http from 'node:http';
import { randomUUID } from 'node:crypto';

const FAR_DEADLINE_MS = 15 * 60 * 1000;
const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:test-function';

// Options: `prefix` (a path prefix, as in `127.0.0.1:9001/.rt`), `headerCase` (how the invocation
// headers are spelled), `closeIdleAfterMs` (close a connection left idle that long after an
// answer, as Node's keepAliveTimeout does after 5 s + 1 s), `initErrorReply` ({ status, body }
// answered to POST init/error instead of a 202), `waitMs` (how long invoke(), initError() and
// waitForRequest() wait before they reject, saying what never came), `restore` (serve SnapStart's
// /runtime/restore/next and /runtime/restore/error: `{ pauseMs, drop }` answers restore/next after
// pauseMs, and at that moment every other connection open is destroyed (`drop: 'destroy'`) or
// left open and never answered again (`drop: 'blackhole'`, a peer gone without a reset, as after a
// snapshot restore in another microVM), so that a runtime that reuses one fails or stalls;
// `{ status }` answers restore/next with that status instead).
export async function startRuntimeApi({ prefix = '', headerCase = (name) => name, closeIdleAfterMs,
  initErrorReply, waitMs = 30000, restore } = {}) {
  const queue = []; // events not yet handed out
  const waitingNext = []; // GET next responses held open
  const pending = new Map(); // requestId -> { resolve } of invoke()
  const requests = [];
  let initError = null;
  const initErrorWaiters = [];
  const requestWaiters = [];
  const sockets = new Set();
  let connectionCount = 0;
  let requestsToDrop = 0;
  let restoredAtConnection = null; // connections with a lower index were open before the restore
  let restoreError = null;
  const restoreErrorWaiters = [];

  const base = `${prefix}/2018-06-01/runtime`;
  const timers = new Set();

  // Every wait a test makes on the runtime is bounded: a runtime that died or hangs fails the
  // test with what it did not do, instead of holding the test (and its servers) open for good.
  // The rejection is marked handled here, so a wait the test dropped (it raced it with the
  // runtime's exit, say) does not surface as an unhandled rejection.
  function bounded(promise, what) {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Runtime API test server: ${what} within ${waitMs} ms`)), waitMs);
      timer.unref();
      timers.add(timer);
    });
    const p = Promise.race([promise, timeout]).finally(() => {
      clearTimeout(timer);
      timers.delete(timer);
    });
    p.catch(() => {});
    return p;
  }

  function handOut(res, item) {
    if (item.raw) {
      res.writeHead(item.raw.status, item.raw.headers ?? {});
      res.end(item.raw.body ?? '');
      return;
    }
    const headers = {
      [headerCase('Lambda-Runtime-Aws-Request-Id')]: item.requestId,
      [headerCase('Lambda-Runtime-Deadline-Ms')]: String(item.deadlineMs),
      [headerCase('Lambda-Runtime-Invoked-Function-Arn')]: item.arn,
      ...item.headers,
    };
    if (item.contentType !== null) headers['Content-Type'] = item.contentType;
    for (const [k, v] of Object.entries(headers)) if (v === undefined || v === null) delete headers[k];
    res.writeHead(200, headers);
    res.end(item.body);
  }

  function record(req, body, trailers) {
    const entry = {
      method: req.method,
      path: req.url,
      headers: req.headers,
      body,
      trailers,
      connection: req.socket.connectionIndex, // 0 = the first connection the server accepted
      at: process.hrtime.bigint(),
    };
    requests.push(entry);
    for (const w of requestWaiters.splice(0)) w();
    return entry;
  }

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const entry = record(req, body, req.trailers);
      if (req.socket.blackholed) {
        entry.stale = true; // sent on a connection from before the restore: never answered
        return;
      }
      if (requestsToDrop > 0) {
        requestsToDrop -= 1;
        entry.dropped = true;
        req.socket.destroy();
        return;
      }
      const url = req.url;
      if (req.method === 'GET' && url === `${base}/invocation/next`) {
        const item = queue.shift();
        if (item) {
          handOut(res, item);
          return;
        }
        waitingNext.push(res);
        // A held GET next whose connection closes can no longer be answered: forget it, so that
        // the next event goes to a live request.
        res.on('close', () => {
          const i = waitingNext.indexOf(res);
          if (i >= 0) waitingNext.splice(i, 1);
        });
        return;
      }
      if (restore?.status && req.method === 'GET' && url === `${base}/restore/next`) {
        res.writeHead(restore.status, { 'Content-Type': 'application/json' });
        res.end('{"errorMessage":"restore refused","errorType":"Test"}');
        return;
      }
      if (restore && req.method === 'GET' && url === `${base}/restore/next`) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          restoredAtConnection = connectionCount;
          for (const s of sockets) {
            if (s === req.socket) continue;
            if (restore.drop === 'blackhole') s.blackholed = true;
            else s.destroy();
          }
          res.writeHead(200, { 'Content-Type': 'application/json', Connection: 'close' });
          res.end('{}', () => req.socket.destroy());
        }, restore.pauseMs ?? 50);
        timers.add(timer);
        return;
      }
      if (restore && req.method === 'POST' && url === `${base}/restore/error`) {
        restoreError = entry;
        for (const w of restoreErrorWaiters.splice(0)) w(entry);
        res.writeHead(202, { 'Content-Type': 'application/json' });
        res.end('{"status":"OK"}');
        return;
      }
      if (req.method === 'POST' && url === `${base}/init/error`) {
        initError = entry;
        for (const w of initErrorWaiters.splice(0)) w(entry);
        const reply = initErrorReply ?? { status: 202, body: '{"status":"OK"}' };
        res.writeHead(reply.status, { 'Content-Type': 'application/json' });
        res.end(reply.body);
        return;
      }
      const m = req.method === 'POST' && url.startsWith(`${base}/invocation/`) &&
        /^(.*)\/(response|error)$/.exec(url.slice(`${base}/invocation/`.length));
      if (m) {
        const id = decodeURIComponent(m[1]);
        const waiter = pending.get(id);
        if (!waiter) {
          res.writeHead(400, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ errorMessage: `unknown request id ${id}`, errorType: 'InvalidRequestID' }));
          return;
        }
        const reply = waiter.reply ?? { status: 202, body: '{"status":"OK"}' };
        const answer = () => {
          res.writeHead(reply.status, { 'Content-Type': 'application/json' });
          res.end(reply.body);
          if (reply.status < 300) pending.delete(id);
          waiter.resolve({ kind: m[2], entry, status: reply.status });
        };
        // A slow Runtime API: the post is answered once holdReply()'s promise settles.
        if (waiter.holdReply) waiter.holdReply(entry).finally(answer);
        else answer();
        return;
      }
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end('{"errorMessage":"not found","errorType":"NotFound"}');
    });
  });
  if (closeIdleAfterMs !== undefined) {
    const idleTimers = new WeakMap();
    server.on('request', (req, res) => {
      clearTimeout(idleTimers.get(req.socket));
      res.on('finish', () => {
        idleTimers.set(req.socket, setTimeout(() => req.socket.destroy(), closeIdleAfterMs));
      });
    });
  }
  server.on('connection', (s) => {
    s.connectionIndex = connectionCount;
    connectionCount += 1;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();

  return {
    port,
    endpoint: `127.0.0.1:${port}${prefix}`,
    requests,
    server,
    /**
     * Queues one event. Resolves with `{ kind: 'response'|'error', entry, status }` when the
     * runtime posts for it. `body` is sent as is (string/Buffer) or JSON-encoded otherwise.
     * `reply` overrides the status/body the server answers the post with (e.g. a 413);
     * `holdReply(entry)` returns a promise the answer waits for (a slow Runtime API).
     */
    invoke(event, { requestId = randomUUID(), deadlineMs = Date.now() + FAR_DEADLINE_MS, arn = ARN,
      headers = {}, contentType = 'application/json', reply, holdReply } = {}) {
      const body = typeof event === 'string' || Buffer.isBuffer(event) ? event : JSON.stringify(event);
      const done = bounded(new Promise((resolve) => pending.set(requestId, { resolve, reply, holdReply })),
        `no response or error posted for request ${requestId}`);
      const item = { requestId, deadlineMs, arn, headers, contentType, body };
      const res = waitingNext.shift();
      if (res) handOut(res, item);
      else queue.push(item);
      return done;
    },
    /**
     * Answers one GET next with exactly this `{ status, headers, body }` (no invocation headers
     * are added): for non-2xx answers and malformed invocations.
     */
    replyNext({ status = 200, headers = {}, body = '' } = {}) {
      const item = { raw: { status, headers, body } };
      const res = waitingNext.shift();
      if (res) handOut(res, item);
      else queue.push(item);
    },
    /** Resolves with the recorded init/error request once the runtime posts one. */
    initError() {
      return initError ? Promise.resolve(initError)
        : bounded(new Promise((r) => initErrorWaiters.push(r)), 'no init error posted');
    },
    /** Resolves with the recorded restore/error request once the runtime posts one. */
    restoreError() {
      return restoreError ? Promise.resolve(restoreError)
        : bounded(new Promise((r) => restoreErrorWaiters.push(r)), 'no restore error posted');
    },
    /** With `restore`: connections with a lower index were open when restore/next was answered. */
    get restoredAtConnection() {
      return restoredAtConnection;
    },
    /** Resolves once a request matching `pred` has been recorded. */
    waitForRequest(pred) {
      const found = requests.find(pred);
      if (found) return Promise.resolve(found);
      return bounded((async () => {
        for (;;) {
          await new Promise((r) => requestWaiters.push(r));
          const next = requests.find(pred);
          if (next) return next;
        }
      })(), `no request matching ${pred} arrived`);
    },
    /**
     * The next request received is recorded (with `dropped: true`) and its connection closed
     * without an answer: a kept-alive connection the server closed as the request arrived.
     */
    dropNextRequest() {
      requestsToDrop += 1;
    },
    /** Number of TCP connections accepted so far (keep-alive reuse shows as 1). */
    get connectionCount() {
      return connectionCount;
    },
    /** Number of GET next requests held open right now. */
    get waitingNextCount() {
      return waitingNext.length;
    },
    /** Closes every connection, including held GET next requests. */
    close() {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
    /** Closes the TCP connections currently open (to test reconnects), keeping the server. */
    dropConnections() {
      for (const s of sockets) s.destroy();
    },
  };
}
