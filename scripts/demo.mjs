// `npm start`: the project's demo. Builds the addon if this checkout has none, serves each
// function in examples/ with the embedded emulator (no Docker, no AWS), invokes it over HTTP the
// way a client would, and prints what came back with the measured per-invoke latency.
//
// Latency is the round trip a caller sees: HTTP request to the invoke API, the event handed to
// the runtime, the handler, the response posted back, the HTTP answer. "cold" is the first invoke
// issued right after start-up (it waits for the runtime's init); the rest are warm.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const EXAMPLES = path.join(ROOT, 'examples');
const WARM_INVOKES = Number(process.env.DEMO_INVOKES ?? 200);

function ensureAddon() {
  const binary = path.join(ROOT, `lambda-rapid.${process.platform}-${process.arch}-gnu.node`);
  if (existsSync(binary)) return;
  console.log('lambda-rapid: no native addon in this checkout yet; building it (npm run build)...');
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('lambda-rapid: the build failed; see above (a Rust toolchain is needed: https://rustup.rs)');
    process.exit(r.status ?? 1);
  }
}

const EXAMPLE_FUNCTIONS = [
  { name: 'async', handler: 'hello.handler', event: { name: 'demo' }, about: 'plain async handler' },
  { name: 'callback', handler: 'callback.handler', event: { numbers: [1, 2, 3] }, about: 'callback handler (CommonJS)' },
  { name: 'streaming', handler: 'streaming.handler', event: { parts: 3 }, about: 'awslambda.streamifyResponse', warm: 10 },
  { name: 'throws', handler: 'throws.handler', event: { card: '4242' }, about: 'handler that throws' },
];

const ms = (x) => (x < 10 ? x.toFixed(2) : x.toFixed(1));
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

function describeAnswer(res) {
  if (res.functionError) {
    const j = JSON.parse(res.body);
    return `${res.functionError}: ${j.errorType}: ${j.errorMessage}`;
  }
  const text = res.body.length > 46 ? `${res.body.slice(0, 43)}...` : res.body;
  return text.replace(/\n/g, '\\n');
}

async function runExample(ex, { startEmulator, invoke }) {
  const started = performance.now();
  const emulator = startEmulator({
    handler: ex.handler,
    taskRoot: EXAMPLES,
    port: 0,
    platformLogs: false,
    quietRuntime: true,
  });
  try {
    const cold = await invoke(emulator.port, ex.event);
    const coldMs = performance.now() - started;
    const times = [];
    let last = cold;
    for (let i = 0; i < (ex.warm ?? WARM_INVOKES); i++) {
      const t0 = performance.now();
      last = await invoke(emulator.port, ex.event);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return {
      ...ex,
      answer: describeAnswer(last),
      chunks: last.headers['transfer-encoding'] === 'chunked' ? last.chunks.length : null,
      coldMs,
      p50: percentile(times, 50),
      p99: percentile(times, 99),
      n: times.length,
    };
  } finally {
    emulator.stop();
  }
}

function table(rows, columns) {
  const widths = columns.map((c) => Math.max(c.title.length, ...rows.map((r) => String(c.value(r)).length)));
  const line = (cells) => cells.map((cell, i) => (columns[i].right ? String(cell).padStart(widths[i]) : String(cell).padEnd(widths[i]))).join('  ');
  console.log(line(columns.map((c) => c.title)));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(line(columns.map((c) => c.value(r))));
}

ensureAddon();
const emulatorModule = await import('../lib/emulator.mjs');
console.log(`lambda-rapid demo: the functions in examples/, served by the embedded emulator (Node ${process.version})\n`);
const rows = [];
for (const ex of EXAMPLE_FUNCTIONS) rows.push(await runExample(ex, emulatorModule));
table(rows, [
  { title: 'example', value: (r) => r.name },
  { title: 'handler', value: (r) => r.handler },
  { title: 'answer', value: (r) => (r.chunks ? `${r.answer} (${r.chunks} chunks)` : r.answer) },
  { title: 'cold ms', value: (r) => ms(r.coldMs), right: true },
  { title: 'warm p50 ms', value: (r) => ms(r.p50), right: true },
  { title: 'p99 ms', value: (r) => ms(r.p99), right: true },
  { title: 'invokes', value: (r) => r.n + 1, right: true },
]);
console.log(`
cold = start-up to first answer (runtime init included); warm = one HTTP invoke round trip on a
warm runtime. callback waits 5 ms and streaming 3 x 20 ms by design. Try it yourself:
  node bin/lambda-rapid.mjs serve hello.handler --task-root examples   (npx lambda-rapid ... once installed)
  curl -XPOST "http://127.0.0.1:9000/2015-03-31/functions/function/invocations" -d '{"name":"you"}'
or as a local web server (a page and a JSON API; edit examples/web/app.mjs and reload):
  node bin/lambda-rapid.mjs serve app.handler --task-root examples/web --http --watch
  open http://127.0.0.1:9000/`);
