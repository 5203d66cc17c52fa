// A Runtime API on raw sockets: it parses the runtime's requests itself and writes its answers
// byte by byte, so a test can send what no well-behaved HTTP server would (header values in raw
// UTF-8 or with invalid bytes, a header sent twice, a reset inside an answer's head, conflicting
// Content-Length, a 1 MiB header, HTTP/1.0, not HTTP at all) and take the server down and up
// again on the same port. It records every request and which invocations it handed out, so a
// test asserts what was posted for each of them. Used by the fault-injection specs
// (helpers/faults.mjs) and the tolerance spec (runtime-tolerance.spec.mjs).
//
//   const api = await startRawRuntimeApi();
//   api.next(api.invocation({ id: 'a' }));         // the answer to one GET next (queued or held)
//   api.next(api.invocation({ id: Buffer.from('id-\xff', 'latin1') }));   // raw header bytes
//   api.next(api.invocation({ id: 'a', headers: [['Lambda-Runtime-Aws-Request-Id', 'b']] }));  // sent twice
//   api.next(api.fault.resetInHead(api.invocation({ id: 'b' })));
//   api.onPost = (post) => (post.id === 'a' ? 'reset' : undefined);   // per-POST faults
//   await api.waitForPosts(['a']);
import net from 'node:net';

const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:test-function';
const BASE = '/2018-06-01/runtime';
const FAR_DEADLINE_MS = 15 * 60 * 1000;

/** Starts the server on 127.0.0.1 (a free port unless `port` is given). */
export async function startRawRuntimeApi({ port = 0 } = {}) {
  const answers = []; // answers for GET next not yet given: (conn) => void
  const held = []; // connections whose GET next waits for an answer
  const requests = [];
  const handedOut = []; // request ids of the invocations answered to a GET next
  const waiters = new Set();
  const sockets = new Set();
  let connections = 0;
  let accepted = 0; // posts answered 2xx
  let answerCount = 0; // answers written, for closeEvery
  let server = null;
  let listeningPort = port;

  const notify = () => { for (const w of [...waiters]) w(); };

  function listen() {
    server = net.createServer(onConnection);
    server.on('error', () => {});
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(listeningPort, '127.0.0.1', () => {
        server.off('error', reject);
        listeningPort = server.address().port;
        resolve();
      });
    });
  }

  function onConnection(socket) {
    const conn = { socket, index: connections, buffer: Buffer.alloc(0), current: null, closed: false };
    connections += 1;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('end', () => { conn.closed = true; notify(); });
    socket.on('close', () => {
      conn.closed = true;
      sockets.delete(socket);
      const i = held.indexOf(conn);
      if (i >= 0) held.splice(i, 1);
      notify();
    });
    socket.on('data', (chunk) => {
      conn.buffer = Buffer.concat([conn.buffer, chunk]);
      parse(conn);
    });
    if (api.onConnection) api.onConnection(conn, connections);
  }

  // One request at a time per connection (the runtime never pipelines).
  function parse(conn) {
    for (;;) {
      if (conn.closed || conn.ended) return;
      if (!conn.current) {
        const end = conn.buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = conn.buffer.subarray(0, end).toString('latin1');
        conn.buffer = conn.buffer.subarray(end + 4);
        const [line, ...lines] = head.split('\r\n');
        const [method, path] = line.split(' ');
        const headers = {};
        for (const l of lines) {
          const colon = l.indexOf(':');
          headers[l.slice(0, colon).trim().toLowerCase()] = l.slice(colon + 1).trim();
        }
        conn.current = { method, path, headers, connection: conn.index, chunks: [], at: Date.now() };
        conn.current.post = postInfo(conn.current);
        if (conn.current.post) {
          const action = api.onPost?.(conn.current.post) ?? undefined;
          conn.current.action = action;
          if (action === 'reset-before-body') return reset(conn, conn.current);
        }
      }
      const req = conn.current;
      if (req.action === 'reset-mid-body' && conn.buffer.length > 0) return reset(conn, req);
      const body = takeBody(conn, req);
      if (body === null) return;
      conn.current = null;
      req.body = body;
      requests.push(req);
      serve(conn, req);
      notify();
    }
  }

  // The body by Content-Length or chunked framing; null while incomplete.
  function takeBody(conn, req) {
    if ((req.headers['transfer-encoding'] ?? '').toLowerCase().includes('chunked')) {
      const parts = [];
      let at = 0;
      for (;;) {
        const eol = conn.buffer.indexOf('\r\n', at);
        if (eol < 0) return null;
        const size = parseInt(conn.buffer.subarray(at, eol).toString('latin1'), 16);
        if (size === 0) {
          const trailerEnd = conn.buffer.indexOf('\r\n\r\n', eol);
          if (trailerEnd < 0) return null;
          req.trailers = conn.buffer.subarray(eol + 2, trailerEnd + 2).toString('latin1');
          conn.buffer = conn.buffer.subarray(trailerEnd + 4);
          return Buffer.concat(parts);
        }
        if (conn.buffer.length < eol + 2 + size + 2) return null;
        parts.push(conn.buffer.subarray(eol + 2, eol + 2 + size));
        at = eol + 2 + size + 2;
      }
    }
    const length = Number(req.headers['content-length'] ?? 0);
    if (conn.buffer.length < length) return null;
    const body = conn.buffer.subarray(0, length);
    conn.buffer = conn.buffer.subarray(length);
    return body;
  }

  function postInfo(req) {
    if (req.method !== 'POST') return null;
    if (req.path === `${BASE}/init/error`) return { kind: 'init/error', id: null };
    const m = /^\/2018-06-01\/runtime\/invocation\/(.*)\/(response|error)$/.exec(req.path);
    if (!m) return null;
    return { kind: m[2], id: decodeURIComponent(m[1]), headers: req.headers };
  }

  function reset(conn, req) {
    req.reset = true;
    if (conn.current === req) {
      // Reset before the request was whole: recorded here, with what had arrived of its body.
      req.body = conn.buffer;
      conn.current = null;
      requests.push(req);
    }
    conn.socket.resetAndDestroy();
    notify();
  }

  function serve(conn, req) {
    if (req.method === 'GET' && req.path === `${BASE}/invocation/next`) {
      const answer = answers.shift();
      if (answer) answer(conn);
      else held.push(conn);
      return;
    }
    if (req.post) {
      const action = req.action;
      if (action === 'reset') return reset(conn, req);
      if (action === 'close') {
        conn.socket.destroy();
        return;
      }
      const { status = 202, body = '{"status":"OK"}' } = typeof action === 'object' && action ? action : {};
      req.status = status;
      if (status < 300) accepted += 1;
      write(conn, status, [['Content-Type', 'application/json']], body);
      answered(conn);
      return;
    }
    write(conn, 404, [['Content-Type', 'application/json']], '{"errorMessage":"not found"}');
  }

  // With `closeEvery` set, every N-th answer closes its connection once written (FIN), as a
  // server that limits the requests per connection does.
  function answered(conn) {
    answerCount += 1;
    if (api.closeEvery && answerCount % api.closeEvery === 0) {
      conn.ended = true; // what arrives after this is never read
      conn.socket.end();
    }
  }

  function write(conn, status, headers, body) {
    const bytes = Buffer.from(body);
    const head = [`HTTP/1.1 ${status} ${status < 300 ? 'OK' : 'Error'}`,
      ...headers.map(([k, v]) => `${k}: ${v}`), `Content-Length: ${bytes.length}`, '', ''].join('\r\n');
    conn.socket.write(Buffer.concat([Buffer.from(head, 'latin1'), bytes]));
  }

  await listen();

  const api = {
    get port() { return listeningPort; },
    get endpoint() { return `127.0.0.1:${listeningPort}`; },
    requests,
    handedOut,
    /** Called with each POST ({ kind, id, headers }): undefined (202), { status, body },
     * 'reset' (after the whole request), 'reset-before-body', 'reset-mid-body', 'close'. */
    onPost: null,
    onConnection: null,
    /** Close a connection after every N-th answer (0: never). */
    closeEvery: 0,
    get connectionCount() { return connections; },
    get heldCount() { return held.filter((c) => !c.closed).length; },

    /** Gives `answer` to the next GET next (a held one at once). */
    next(answer) {
      const conn = held.shift();
      if (conn) answer(conn);
      else answers.push(answer);
    },

    /**
     * An answer carrying an invocation. `id` (null: no request-id header), `deadline` (a string
     * or number; null: none), `arn` (null: none), `contentType` (null: none), `headers` (more
     * [name, value] pairs, a name again to send it twice), `body`, `chunked`, `version` ('1.1').
     * A value is a string (written in UTF-8) or a Buffer (written as is: invalid bytes too).
     */
    invocation({ id, deadline = Date.now() + FAR_DEADLINE_MS, arn = ARN, contentType = 'application/json',
      headers = [], body, chunked = false, version = '1.1', status = 200, contentLength } = {}) {
      const payload = Buffer.from(body ?? JSON.stringify({ id }));
      const pairs = [];
      if (id !== null && id !== undefined) pairs.push(['Lambda-Runtime-Aws-Request-Id', id]);
      if (deadline !== null) pairs.push(['Lambda-Runtime-Deadline-Ms', String(deadline)]);
      if (arn !== null) pairs.push(['Lambda-Runtime-Invoked-Function-Arn', arn]);
      if (contentType !== null) pairs.push(['Content-Type', contentType]);
      pairs.push(...headers);
      if (chunked) pairs.push(['Transfer-Encoding', 'chunked']);
      else if (contentLength !== undefined) for (const v of [contentLength].flat()) pairs.push(['Content-Length', String(v)]);
      else pairs.push(['Content-Length', String(payload.length)]);
      const head = Buffer.concat([
        Buffer.from(`HTTP/${version} ${status} OK\r\n`),
        ...pairs.map(([k, v]) => Buffer.concat([Buffer.from(`${k}: `), Buffer.from(v), Buffer.from('\r\n')])),
        Buffer.from('\r\n'),
      ]);
      const framed = chunked
        ? Buffer.concat([Buffer.from(`${payload.length.toString(16)}\r\n`), payload, Buffer.from('\r\n0\r\n\r\n')])
        : payload;
      const bytes = Buffer.concat([head, framed]);
      const answer = (conn) => {
        if (id !== null && id !== undefined) handedOut.push(String(id));
        conn.socket.write(bytes);
        if (version === '1.0') conn.socket.end();
        else answered(conn);
      };
      answer.bytes = bytes;
      answer.headLength = head.length;
      answer.id = id;
      return answer;
    },

    /** An answer of exactly these bytes (then, with `end`, the connection is closed). */
    raw(bytes, { end = false } = {}) {
      return (conn) => {
        conn.socket.write(bytes);
        if (end) conn.socket.end();
      };
    },

    /** An answer with a status and a body (no invocation headers). */
    status(status, body = '{"errorMessage":"refused","errorType":"Refused"}') {
      return (conn) => write(conn, status, [['Content-Type', 'application/json']], body);
    },

    /** Faults that replace or break an answer. */
    fault: {
      /** The connection is reset before any byte of the answer. */
      reset: () => (conn) => conn.socket.resetAndDestroy(),
      /** The connection is closed (FIN) before any byte of the answer. */
      close: () => (conn) => conn.socket.end(),
      /** Part of the answer's head is written, then the connection is reset. */
      resetInHead: (answer) => breakAfter(answer, Math.max(1, Math.floor(answer.headLength / 2))),
      /** The head and part of the body are written, then the connection is reset. */
      resetInBody: (answer) => breakAfter(answer, answer.headLength + Math.max(1, Math.floor((answer.bytes.length - answer.headLength) / 2))),
    },

    /** Resets every held GET next (`close: true`: closes them with a FIN instead). */
    breakHeld({ close = false } = {}) {
      for (const conn of held.splice(0)) {
        if (close) conn.socket.end();
        else conn.socket.resetAndDestroy();
      }
    },

    /** The POSTs received, in order (resets included, flagged `reset`). */
    posts() {
      return requests.filter((r) => r.post);
    },

    /** The POSTs received (resets included, flagged `reset`), by request id. */
    postsFor(id) {
      return requests.filter((r) => r.post && r.post.id === id);
    },

    /** What was posted and accepted for each handed-out invocation: { id: ['response'], ... }. */
    outcomes() {
      const byId = new Map();
      for (const r of requests) {
        if (!r.post || r.reset || r.status === undefined || r.status >= 300) continue;
        if (!byId.has(r.post.id)) byId.set(r.post.id, []);
        byId.get(r.post.id).push(r.post.kind);
      }
      return Object.fromEntries(handedOut.map((id) => [id, byId.get(id) ?? []]));
    },

    /** How many posts were accepted (answered 2xx) so far. */
    get acceptedCount() { return accepted; },

    /** Resolves once `predicate()` holds; rejects after `ms`. */
    async until(predicate, what, ms = 10_000) {
      if (predicate()) return;
      await new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate()) return;
          done();
          resolve();
        };
        const timer = setTimeout(() => { done(); reject(new Error(`timed out waiting for ${what}`)); }, ms);
        // Also polled: a predicate may read what the server does not see (the runtime's output).
        const poll = setInterval(check, 20);
        const done = () => { clearTimeout(timer); clearInterval(poll); waiters.delete(check); };
        waiters.add(check);
      });
    },

    /** Resolves once each of `ids` has an accepted POST. */
    waitForPosts(ids, ms) {
      return api.until(() => ids.every((id) => api.outcomes()[id]?.length > 0), `posts for ${ids.join(', ')}`, ms);
    },

    /** Stops listening and breaks every connection: the Runtime API is down (refused). */
    async down() {
      for (const s of sockets) s.destroy();
      held.length = 0;
      await new Promise((resolve) => server.close(() => resolve()));
    },

    /** Listens again on the same port. */
    up() {
      return listen();
    },

    async close() {
      for (const s of sockets) s.destroy();
      if (server.listening) await new Promise((resolve) => server.close(() => resolve()));
    },
  };
  return api;
}

// Writes the first `n` bytes of an answer, then resets the connection.
function breakAfter(answer, n) {
  // Not counted as handed out: the runtime never received the whole invocation.
  return (conn) => {
    conn.socket.write(answer.bytes.subarray(0, n), () => setTimeout(() => conn.socket.resetAndDestroy(), 20));
  };
}
