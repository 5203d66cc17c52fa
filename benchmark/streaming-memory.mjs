// Memory of a large streamed response: the runtime's RSS while a handler streams N MB, ours
// against the official clients.
//
//   node benchmark/streaming-memory.mjs [--mb 50] [--chunk 65536] [--source write|file]
//                                       [--only ours-node20,ric3-node20,...] [--ours /path/to/index.mjs]
//
// Each runtime serves two invocations of the same handler: a 1 MB warm-up, then the N MB
// stream. --source write (default): the handler writes `chunk`-byte Buffers and waits for
// 'drain' whenever write() returns false, as a well-behaved producer does; --source file: it
// pipes a file with pipeline(fs.createReadStream(file, { highWaterMark: chunk }), stream). This process is the Runtime API: it counts
// and hashes the body without keeping it, and samples the runtime's /proc/<pid>/status every
// 5 ms. Reported per runtime: RSS after the warm-up, peak RSS during the big stream (the
// max of the samples and of VmHWM), their difference (flat memory = a difference that does
// not grow with --mb), throughput, the runtime's CPU time per MB (user + system, all threads),
// time to first byte, and whether the bytes arrived intact.
// Official clients: RIC3_DIR / RIC4_DIR / NODE24 / RIC3_LAUNCH (benchmark/lib/peers.mjs).
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { lambdaEnv } from '../__test__/helpers/spawn-runtime.mjs';
import { peerRuntimes } from './lib/peers.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : process.argv[i + 1];
};
const MB = Number(arg('mb', 50));
const CHUNK = Number(arg('chunk', 64 * 1024));
const SOURCE = arg('source', 'write');
const OURS = arg('ours', path.join(ROOT, 'index.mjs'));

const RUNTIMES = peerRuntimes(OURS);
const only = arg('only', '').split(',').filter(Boolean);

// The function: chunk i is filled with the byte i % 251, so the receiver can check every byte.
const HANDLER = `
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';

export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  if (event.file) {
    await pipeline(fs.createReadStream(event.file, { highWaterMark: event.chunk, end: event.bytes - 1 }), responseStream);
    return;
  }
  const total = event.bytes;
  const size = event.chunk;
  let i = 0;
  for (let sent = 0; sent < total; sent += size, i++) {
    const chunk = Buffer.alloc(Math.min(size, total - sent), i % 251);
    if (!responseStream.write(chunk)) await new Promise((resolve) => responseStream.once('drain', resolve));
  }
  responseStream.end();
});
`;

function expectedDigest(total, size) {
  const hash = crypto.createHash('sha256');
  let i = 0;
  for (let sent = 0; sent < total; sent += size, i++) hash.update(Buffer.alloc(Math.min(size, total - sent), i % 251));
  return hash.digest('hex');
}

/** CPU time (user + system) the process has used so far, in ms. */
function cpuMs(pid) {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}
const CLOCK_TICKS = 100; // sysconf(_SC_CLK_TCK) on Linux

function readStatus(pid) {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return { rss: NaN, hwm: NaN };
  }
}

/** A minimal Runtime API: one queue of events; response bodies counted and hashed, not kept. */
async function startCountingApi() {
  const queue = [];
  const waiting = [];
  const posts = [];
  const server = http.createServer({ requestTimeout: 0 }, (req, res) => {
    if (req.method === 'GET') {
      const item = queue.shift();
      if (item) item.handOut(res);
      else waiting.push(res);
      return;
    }
    const post = { bytes: 0, firstByteAt: null, hash: crypto.createHash('sha256') };
    req.on('data', (c) => {
      post.firstByteAt ??= process.hrtime.bigint();
      post.bytes += c.length;
      post.hash.update(c);
    });
    req.on('end', () => {
      post.endAt = process.hrtime.bigint();
      post.digest = post.hash.digest('hex');
      post.trailers = req.trailers;
      res.writeHead(202, { 'Content-Type': 'application/json' });
      res.end('{"status":"OK"}');
      posts.push(post);
      post.done?.(post);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  let n = 0;
  return {
    endpoint: `127.0.0.1:${server.address().port}`,
    /** Hands out one event; resolves with { post, handedOutAt } once its response has ended. */
    invoke(event) {
      const id = `bench-${++n}`;
      return new Promise((resolve) => {
        const item = {
          handOut(res) {
            const body = JSON.stringify(event);
            item.handedOutAt = process.hrtime.bigint();
            res.writeHead(200, {
              'Content-Type': 'application/json',
              'Lambda-Runtime-Aws-Request-Id': id,
              'Lambda-Runtime-Deadline-Ms': String(Date.now() + 600000),
              'Lambda-Runtime-Invoked-Function-Arn': 'arn:aws:lambda:us-east-1:123456789012:function:bench',
              'Content-Length': Buffer.byteLength(body),
            });
            res.end(body);
          },
        };
        const before = posts.length;
        const check = setInterval(() => {
          if (posts.length > before) {
            clearInterval(check);
            resolve({ post: posts[before], handedOutAt: item.handedOutAt });
          }
        }, 2);
        const res = waiting.shift();
        if (res) item.handOut(res);
        else queue.push(item);
      });
    },
    close() {
      for (const res of waiting) res.destroy();
      server.closeAllConnections?.();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

async function measure(name, runtime, taskRoot, digest, file) {
  const api = await startCountingApi();
  const child = spawn(runtime.node, runtime.args, {
    cwd: taskRoot,
    env: { ...lambdaEnv({ endpoint: api.endpoint, handler: 'bulk.handler', taskRoot }), AWS_EXECUTION_ENV: runtime.exec },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  try {
    await api.invoke({ bytes: 1024 * 1024, chunk: CHUNK, file });
    await new Promise((r) => setTimeout(r, 100));
    const baseline = readStatus(child.pid);
    const cpuBefore = cpuMs(child.pid);
    let peak = baseline.rss;
    const sampler = setInterval(() => {
      const s = readStatus(child.pid);
      if (s.rss > peak) peak = s.rss;
    }, 5);
    const total = MB * 1024 * 1024;
    const { post, handedOutAt } = await api.invoke({ bytes: total, chunk: CHUNK, file });
    clearInterval(sampler);
    const cpu = cpuMs(child.pid) - cpuBefore;
    const end = readStatus(child.pid);
    peak = Math.max(peak, end.hwm, end.rss);
    const seconds = Number(post.endAt - handedOutAt) / 1e9;
    return {
      name,
      baselineMB: baseline.rss / 1024,
      peakMB: peak / 1024,
      growthMB: (peak - baseline.rss) / 1024,
      throughputMBs: MB / seconds,
      cpuMsPerMB: cpu / MB,
      ttfbMs: Number(post.firstByteAt - handedOutAt) / 1e6,
      intact: post.bytes === total && post.digest === digest && Object.keys(post.trailers).length === 0,
    };
  } catch (err) {
    throw new Error(`${name}: ${err.message}\n${stderr}`);
  } finally {
    child.kill('SIGKILL');
    await api.close();
  }
}

const taskRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'streaming-memory-'));
fs.writeFileSync(path.join(taskRoot, 'bulk.mjs'), HANDLER);
const digest = expectedDigest(MB * 1024 * 1024, CHUNK);
let file;
if (SOURCE === 'file') {
  // The same bytes as the written stream, so the same digest checks them.
  file = path.join(taskRoot, 'payload.bin');
  const fd = fs.openSync(file, 'w');
  let i = 0;
  for (let sent = 0; sent < MB * 1024 * 1024; sent += CHUNK, i++) fs.writeSync(fd, Buffer.alloc(Math.min(CHUNK, MB * 1024 * 1024 - sent), i % 251));
  fs.closeSync(fd);
}
console.log(`streaming ${MB} MB in ${CHUNK}-byte ${SOURCE === 'file' ? 'reads piped from a file' : 'writes'} (after a 1 MB warm-up); RSS of the runtime process`);
console.log('runtime       baseline MB  peak MB  growth MB  MB/s  CPU ms/MB  TTFB ms  intact');
try {
  for (const [name, runtime] of Object.entries(RUNTIMES)) {
    if (only.length && !only.includes(name)) continue;
    const missing = runtime.need.filter((p) => !fs.existsSync(p));
    if (missing.length) {
      console.log(`${name.padEnd(14)}skipped: missing ${missing.join(', ')}`);
      continue;
    }
    const r = await measure(name, runtime, taskRoot, digest, file);
    console.log(
      `${name.padEnd(14)}${r.baselineMB.toFixed(1).padStart(11)}  ${r.peakMB.toFixed(1).padStart(7)}  ` +
        `${r.growthMB.toFixed(1).padStart(9)}  ${r.throughputMBs.toFixed(0).padStart(4)}  ${r.cpuMsPerMB.toFixed(2).padStart(9)}  ` +
        `${r.ttfbMs.toFixed(2).padStart(7)}  ${r.intact ? 'yes' : 'NO'}`,
    );
  }
} finally {
  fs.rmSync(taskRoot, { recursive: true, force: true });
}
