// The emulator's own cost per invocation, for the benchmark: so that a benchmark run against it
// measures the runtime, not the emulator. And the cost of the HTTP front (`serve --http`)
// against the RIE invoke path: the same emulator, the same runtime answers, but the caller is a
// web client whose request becomes a Function URL event and whose answer is mapped back.
//
// The emulator runs alone in a child process (external-runtime mode: no function, only its two
// HTTP APIs). This process plays both other parts with raw keep-alive sockets and hand-framed
// HTTP: a caller (posting events to the invoke API, or plain HTTP requests to the HTTP front),
// and a minimal "runtime" answering each one through the Runtime API (GET next, POST response,
// pipelined). We report the round trip a caller sees and, from /proc, the CPU the emulator
// process spent per invocation.
//
//   node scripts/emulator-overhead.mjs [invocations=20000] [event bytes=100] [invoke|http|both=both]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.argv[2] ?? 20000);
const EVENT = JSON.stringify({ data: 'x'.repeat(Math.max(0, Number(process.argv[3] ?? 100) - 11)) });
const FRONTS = { invoke: ['invoke'], http: ['http'], both: ['invoke', 'http'] }[process.argv[4] ?? 'both'];
if (!FRONTS) throw new Error(`the third argument is invoke, http or both, not ${process.argv[4]}`);

const wrap = process.env.EMULATOR_OVERHEAD_WRAP?.split(' ') ?? []; // e.g. 'strace -f -c -o /tmp/x'

function startEmulator(front) {
  const options = { port: 0, platformLogs: false, timeoutSeconds: 60, ...(front === 'http' && { http: 'url' }) };
  const server = spawn(wrap[0] ?? process.execPath, [...wrap.slice(1), ...(wrap.length ? [process.execPath] : []), '--input-type=module', '-e', `
    const { default: native } = await import(${JSON.stringify(path.join(ROOT, 'lib', 'native.mjs'))});
    const emu = native.startEmulator(${JSON.stringify(options)});
    console.log(JSON.stringify({ port: emu.port, runtimeApi: emu.runtimeApi }));
    setInterval(() => {}, 1 << 30);
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve) => {
    server.stdout.once('data', (d) => resolve({ server, ...JSON.parse(d.toString()) }));
  });
}

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

// What the caller sends: an invoke of the event, or a browser-like request carrying it as its body.
const REQUESTS = {
  invoke: `POST /2015-03-31/functions/function/invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(EVENT)}\r\n\r\n${EVENT}`,
  http: `POST /api/items?page=2&sort=name HTTP/1.1\r\nHost: 127.0.0.1:9000\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0\r\n` +
    `Accept: application/json\r\nAccept-Language: en\r\nCookie: session=abc; theme=dark\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(EVENT)}\r\n\r\n${EVENT}`,
};
// What the runtime answers: a small result, or a Function URL response object.
const ANSWERS = {
  invoke: '{"ok":true}',
  http: JSON.stringify({ statusCode: 200, headers: { 'content-type': 'application/json' }, cookies: ['seen=1'], body: '{"ok":true}' }),
};

const GET_NEXT = `GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n`;

/** N sequential invocations through one front: `{ times (sorted, ms), wall, cpu, eventBytes }`. */
async function measure(front) {
  const { server, port, runtimeApi } = await startEmulator(front);
  const [apiHost, apiPort] = runtimeApi.split(':');
  const caller = connection('127.0.0.1', port);
  const runtime = connection(apiHost, apiPort);
  await Promise.all([caller.ready, runtime.ready]);

  // The runtime: answer each event, then ask for the next one, in one write.
  let eventBytes = 0;
  let stopRuntime = false;
  runtime.send(GET_NEXT);
  (async () => {
    while (!stopRuntime) {
      const { head, body } = await runtime.next();
      eventBytes = body.length;
      const id = /lambda-runtime-aws-request-id: ([^\r\n]+)/i.exec(head)?.[1];
      if (!id) break;
      runtime.next().then(() => {}); // the 202 to our POST
      runtime.send(`POST /2018-06-01/runtime/invocation/${id}/response HTTP/1.1\r\nHost: x\r\n` +
        `Content-Length: ${Buffer.byteLength(ANSWERS[front])}\r\n\r\n${ANSWERS[front]}${GET_NEXT}`);
    }
  })();

  const loop = async (n) => {
    const times = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      caller.send(REQUESTS[front]);
      const { head } = await caller.next();
      times[i] = performance.now() - t0;
      if (!head.startsWith('HTTP/1.1 200')) throw new Error(`unexpected answer: ${head}`);
    }
    return times.sort();
  };

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
  return { times, wall, cpu, eventBytes };
}

function cpuMs(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, in clock ticks of 10 ms
}

const us = (ms) => `${(ms * 1000).toFixed(1)} µs`;
console.log(`emulator overhead, ${N} sequential invocations, ${Buffer.byteLength(EVENT)} B events/bodies, Node ${process.version}`);
for (const front of FRONTS) {
  const { times, wall, cpu, eventBytes } = await measure(front);
  console.log(front === 'invoke'
    ? '  invoke API (RIE path): caller -> invoke API -> Runtime API -> runtime and back'
    : `  HTTP front (serve --http): request -> Function URL event (${eventBytes} B) -> runtime -> response object mapped back`);
  console.log(`    round trip p50 ${us(times[Math.floor(N * 0.5)])}, p90 ${us(times[Math.floor(N * 0.9)])}, p99 ${us(times[Math.floor(N * 0.99)])}, mean ${us(wall / N)}`);
  console.log(`    emulator process CPU: ${us(cpu / N)} per invocation (${cpu.toFixed(0)} ms over ${(wall / 1000).toFixed(2)} s, /proc tick = 10 ms)`);
}
