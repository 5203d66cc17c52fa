// A Runtime API on raw sockets (node:net), for answers no HTTP library would write: header values
// with raw UTF-8 or invalid bytes, a header sent twice, an answer cut off in its head by a reset.
// GET next is answered from a queue of raw answers, each written byte for byte and then left
// open, closed or reset; a GET with nothing queued is held. Every POST is recorded and answered
// 202. Requests are read with Content-Length or chunked bodies.
import net from 'node:net';

/** A 200 answer to GET next: `lines` (strings, written as Latin-1 so each char is one byte, or Buffers) and a body. */
export function rawAnswer(lines, body = '{}') {
  const bodyBytes = Buffer.from(body);
  const head = Buffer.concat([
    Buffer.from('HTTP/1.1 200 OK\r\n'),
    ...lines.map((l) => Buffer.concat([Buffer.isBuffer(l) ? l : Buffer.from(l, 'latin1'), Buffer.from('\r\n')])),
    Buffer.from(`Content-Length: ${bodyBytes.length}\r\n\r\n`),
  ]);
  return Buffer.concat([head, bodyBytes]);
}

/** `text` in UTF-8, as a string of its bytes (for rawAnswer's Latin-1 lines). */
export const utf8Bytes = (text) => Buffer.from(text, 'utf8').toString('latin1');

export async function startRawRuntimeApi() {
  const queue = []; // { bytes, then: 'keep' | 'close' | 'reset' }
  const held = []; // sockets whose GET next waits for an answer
  const requests = []; // { method, path, headers: [[lowercased name, value]], body: Buffer }
  const waiters = [];
  const sockets = new Set();

  function answer(socket, { bytes, then = 'keep' }) {
    socket.write(bytes);
    // Let the bytes arrive before a reset: a reset discards what the peer has not read yet.
    if (then === 'reset') setTimeout(() => socket.resetAndDestroy(), 50);
    else if (then === 'close') socket.end();
  }

  function record(request, socket) {
    requests.push(request);
    for (const w of waiters.splice(0)) w();
    if (request.method === 'GET') {
      const next = queue.shift();
      if (next) answer(socket, next);
      else held.push(socket);
      return;
    }
    socket.write('HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{"status":"OK"}\n');
  }

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      const i = held.indexOf(socket);
      if (i >= 0) held.splice(i, 1);
    });
    socket.on('error', () => {});
    let buf = Buffer.alloc(0);
    socket.on('data', (data) => {
      buf = Buffer.concat([buf, data]);
      for (;;) {
        const parsed = parseRequest(buf);
        if (!parsed) return;
        buf = buf.subarray(parsed.used);
        record(parsed.request, socket);
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    endpoint: `127.0.0.1:${port}`,
    requests,
    /** Queues a raw answer for the next GET next (answering a held one at once). */
    queue(bytes, then = 'keep') {
      const socket = held.shift();
      if (socket) answer(socket, { bytes, then });
      else queue.push({ bytes, then });
    },
    /** The POSTs received so far: { kind: 'response'|'error'|'init/error', id, request }. */
    posts() {
      return requests.filter((r) => r.method === 'POST').map((request) => {
        const m = /\/runtime\/invocation\/(.*)\/(response|error)$/.exec(request.path);
        return m ? { kind: m[2], id: decodeURIComponent(m[1]), request } : { kind: 'init/error', request };
      });
    },
    /** Resolves once `predicate(requests)` holds; rejects after `ms`. */
    async until(predicate, what, ms = 10_000) {
      const deadline = Date.now() + ms;
      while (!predicate(requests)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** One request from the front of `buf`, or null until it is complete. */
function parseRequest(buf) {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const [method, path] = lines[0].split(' ');
  const headers = lines.slice(1).map((l) => {
    const colon = l.indexOf(':');
    return [l.slice(0, colon).trim().toLowerCase(), l.slice(colon + 1).trim()];
  });
  const header = (name) => headers.find(([n]) => n === name)?.[1];
  let at = end + 4;
  if (/chunked/i.test(header('transfer-encoding') ?? '')) {
    const chunks = [];
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', at);
      if (lineEnd < 0) return null;
      const size = parseInt(buf.subarray(at, lineEnd).toString('latin1'), 16);
      if (size === 0) {
        const trailersEnd = buf.indexOf('\r\n\r\n', lineEnd - 2);
        if (trailersEnd < 0) return null;
        return { used: trailersEnd + 4, request: { method, path, headers, body: Buffer.concat(chunks) } };
      }
      if (buf.length < lineEnd + 2 + size + 2) return null;
      chunks.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
  }
  const length = Number(header('content-length') ?? 0);
  if (buf.length < at + length) return null;
  return { used: at + length, request: { method, path, headers, body: Buffer.from(buf.subarray(at, at + length)) } };
}
