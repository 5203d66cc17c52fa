// The emulator's own cost per invocation, for the benchmark: so that a benchmark run against it
// measures the runtime, not the emulator.
//
// The emulator runs alone in a child process (external-runtime mode: no function, only its two
// HTTP APIs). This process plays both other parts with raw keep-alive sockets and hand-framed
// HTTP: a caller posting events to the invoke API, and a minimal "runtime" answering each one
// through the Runtime API (GET next, POST response, pipelined). We report the round trip a caller
// sees and, from /proc, the CPU the emulator process spent per invocation.
//
//   node scripts/emulator-overhead.mjs [invocations=20000] [event bytes=100]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.argv[2] ?? 20000);
const EVENT = JSON.stringify({ data: 'x'.repeat(Math.max(0, Number(process.argv[3] ?? 100) - 11)) });

const wrap = process.env.EMULATOR_OVERHEAD_WRAP?.split(' ') ?? []; // e.g. 'strace -f -c -o /tmp/x'
const server = spawn(wrap[0] ?? process.execPath, [...wrap.slice(1), ...(wrap.length ? [process.execPath] : []), '--input-type=module', '-e', `
  const { default: native } = await import(${JSON.stringify(path.join(ROOT, 'lib', 'native.mjs'))});
  const emu = native.startEmulator({ port: 0, platformLogs: false, timeoutSeconds: 60 });
  console.log(JSON.stringify({ port: emu.port, runtimeApi: emu.runtimeApi }));
  setInterval(() => {}, 1 << 30);
`], { stdio: ['ignore', 'pipe', 'inherit'] });
const { port, runtimeApi } = await new Promise((resolve) => {
  server.stdout.once('data', (d) => resolve(JSON.parse(d.toString())));
});
const [apiHost, apiPort] = runtimeApi.split(':');

/** A keep-alive connection that yields one HTTP response (head + body) at a time. */
function connection(host, p) {
  const socket = net.connect(Number(p), host);
  socket.setNoDelay(true);
  let buf = Buffer.alloc(0);
  const waiting = [];
  socket.on('data', (d) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0 || !waiting.length) return;
      const head = buf.subarray(0, end).toString('latin1');
      const len = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
      if (buf.length < end + 4 + len) return;
      const body = buf.subarray(end + 4, end + 4 + len);
      buf = buf.subarray(end + 4 + len);
      waiting.shift()({ head, body });
    }
  });
  return {
    ready: new Promise((r) => socket.once('connect', r)),
    send(text) { socket.write(text); },
    next() { return new Promise((r) => waiting.push(r)); },
    close() { socket.destroy(); },
  };
}

const caller = connection('127.0.0.1', port);
const runtime = connection(apiHost, apiPort);
await Promise.all([caller.ready, runtime.ready]);

const GET_NEXT = `GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n`;
const invokeRequest = `POST /2015-03-31/functions/function/invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(EVENT)}\r\n\r\n${EVENT}`;

// The runtime: answer each event with a small body, then ask for the next one, in one write.
runtime.send(GET_NEXT);
let stopRuntime = false;
(async () => {
  while (!stopRuntime) {
    const { head } = await runtime.next();
    const id = /lambda-runtime-aws-request-id: ([^\r\n]+)/i.exec(head)?.[1];
    if (!id) break;
    runtime.next().then(() => {}); // the 202 to our POST
    runtime.send(`POST /2018-06-01/runtime/invocation/${id}/response HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n{"ok":true}${GET_NEXT}`);
  }
})();

function cpuMs(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, in clock ticks of 10 ms
}

async function loop(n) {
  const times = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    caller.send(invokeRequest);
    const { head } = await caller.next();
    times[i] = performance.now() - t0;
    if (!head.startsWith('HTTP/1.1 200')) throw new Error(`unexpected answer: ${head}`);
  }
  return times.sort();
}

await loop(Math.min(2000, N)); // warm-up
const cpu0 = cpuMs(server.pid);
const wall0 = performance.now();
const times = await loop(N);
const wall = performance.now() - wall0;
const cpu = cpuMs(server.pid) - cpu0;
stopRuntime = true;
caller.close();
runtime.close();
server.kill(wrap.length ? 'SIGTERM' : 'SIGKILL');

const us = (ms) => `${(ms * 1000).toFixed(1)} µs`;
console.log(`emulator overhead, ${N} sequential invocations, ${Buffer.byteLength(EVENT)} B events, Node ${process.version}`);
console.log(`  round trip seen by the caller (caller -> invoke API -> Runtime API -> runtime and back):`);
console.log(`    p50 ${us(times[Math.floor(N * 0.5)])}, p90 ${us(times[Math.floor(N * 0.9)])}, p99 ${us(times[Math.floor(N * 0.99)])}, mean ${us(wall / N)}`);
console.log(`  emulator process CPU: ${us(cpu / N)} per invocation (${cpu.toFixed(0)} ms over ${(wall / 1000).toFixed(2)} s, /proc tick = 10 ms)`);
