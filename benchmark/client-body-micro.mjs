// String or Buffer: which response body is cheaper to hand to the native client?
//
//   node benchmark/client-body-micro.mjs [--rounds 5] [--sizes 100,16384,1048576,6291456]
//
// For each body size and shape it posts responses to a minimal Runtime API that runs in a child
// process (so that this process's JS thread does only the client's work), and reports medians:
//   - `js µs`: time the JS thread spends in the call before it returns (`respond()` converts its
//     arguments there and hands the POST to a libuv worker; `respondSync()` does the whole POST);
//   - `total µs`: until the POST has been answered (respond: the promise settles).
// Shapes: `string` (a JS string as JSON.stringify returns it), `Buffer.from(string)` (the
// caller converts first: what it would take to pass a Buffer when the result is a string), and
// `Buffer` (the caller already holds bytes, e.g. a streamed or binary body). `ascii` bodies are
// one-byte strings in V8, `utf8` ones (1 in 8 characters is 'é') are two-byte strings.
// Needs a built addon (`npm run build`). Sends traffic to 127.0.0.1 only; bounded loops.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { RuntimeClient } from '../lib/native.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : process.argv[i + 1];
};
const ROUNDS = Number(arg('rounds', 5));
const SIZES = arg('sizes', '100,16384,1048576,6291456').split(',').map(Number);
// Calls per round: enough for a stable median, bounded for 6 MiB bodies.
const callsFor = (size) => Math.max(5, Math.min(400, Math.floor(64 * 1024 * 1024 / size / 4)));

// A Runtime API that drains every POST and answers 202, in its own process.
const SERVER = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => { res.writeHead(202, { 'Content-Type': 'application/json' }); res.end('{"status":"OK"}'); });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
`;

function body(size, chars) {
  const unit = chars === 'ascii' ? 'abcdefgh' : 'abcdefgé';
  const inner = unit.repeat(Math.ceil(size / unit.length)).slice(0, Math.max(0, size - 8));
  return JSON.stringify({ d: inner });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const us = (ns) => Number(ns) / 1000;

async function measure(client, make, calls, sync) {
  const js = [];
  const total = [];
  for (let i = 0; i < calls; i++) {
    const t0 = process.hrtime.bigint();
    const payload = make(); // inside the timing: a conversion the caller makes is part of the cost
    if (sync) {
      client.respondSync('bench', payload);
      const t1 = process.hrtime.bigint();
      js.push(us(t1 - t0));
      total.push(us(t1 - t0));
    } else {
      const pending = client.respond('bench', payload);
      const t1 = process.hrtime.bigint();
      await pending;
      const t2 = process.hrtime.bigint();
      js.push(us(t1 - t0));
      total.push(us(t2 - t0));
    }
  }
  return { js: median(js), total: median(total) };
}

const server = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
const [portLine] = await once(server.stdout, 'data');
const client = new RuntimeClient(`127.0.0.1:${String(portLine).trim()}`);
const hasSync = typeof client.respondSync === 'function';

console.log(`node ${process.version}; medians over ${ROUNDS} rounds (each the median of its calls)`);
console.log('size      chars  shape               call          js µs   total µs');
try {
  for (const size of SIZES) {
    for (const chars of ['ascii', 'utf8']) {
      const text = body(size, chars);
      const bytes = Buffer.from(text);
      const shapes = {
        string: () => text,
        'Buffer.from(string)': () => Buffer.from(text),
        Buffer: () => bytes,
      };
      for (const [shape, make] of Object.entries(shapes)) {
        for (const sync of hasSync ? [false, true] : [false]) {
          const calls = callsFor(size);
          await measure(client, make, Math.min(calls, 20), sync); // warm-up
          const rounds = [];
          for (let r = 0; r < ROUNDS; r++) rounds.push(await measure(client, make, calls, sync));
          const js = median(rounds.map((x) => x.js));
          const total = median(rounds.map((x) => x.total));
          console.log(
            `${String(size).padEnd(9)} ${chars.padEnd(6)} ${shape.padEnd(19)} ${(sync ? 'respondSync' : 'respond').padEnd(12)}` +
              ` ${js.toFixed(1).padStart(8)} ${total.toFixed(1).padStart(10)}`,
          );
        }
      }
    }
  }
} finally {
  server.kill();
}
