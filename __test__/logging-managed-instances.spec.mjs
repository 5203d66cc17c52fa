// Managed Instances (4.x with AWS_LAMBDA_MAX_CONCURRENCY): every record is a JSON line, on
// stdout or on the unix socket Lambda names in _LAMBDA_TELEMETRY_LOG_FD_PROVIDER_SOCKET.
import { test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { serve, maskJsonTimestamps, MODES } from './fixtures/logging/harness.mjs';

const ID = 'c0ffee00-0000-4000-8000-000000000001';
const MI = { AWS_LAMBDA_MAX_CONCURRENCY: '2', AWS_LAMBDA_NODEJS_WORKER_COUNT: '1' };
const skip = MODES[4].skip;

test('records are JSON whatever the format; a TEXT function\'s Invoke Error is its text line as the message', { skip }, async () => {
  const run = await serve({ handler: 'records.throws', version: 4, env: MI, events: [{ requestId: ID }] });
  const { trace } = JSON.parse(run.results[0].entry.body);
  const text = 'Invoke Error \t' + JSON.stringify({ errorType: 'Error', errorMessage: 'invoke failed', code: 'E_FAIL', stack: trace });
  assert.equal(
    maskJsonTimestamps(run.stdout, run.tStart, run.tEnd),
    '{"timestamp":"<TS>","level":"INFO","requestId":"-","message":"init record"}\n' +
      `{"timestamp":"<TS>","level":"ERROR","requestId":"${ID}","message":${JSON.stringify(text)}}\n`,
  );
});

test('with a log socket, the invocation\'s records go to the socket, not stdout', { skip }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'log-socket-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const socketPath = path.join(dir, 'log.sock');
  let received = '';
  const conns = new Set();
  const server = net.createServer((c) => {
    conns.add(c);
    c.on('data', (d) => { received += d; });
  });
  await new Promise((r) => server.listen(socketPath, r));
  t.after(() => { for (const c of conns) c.destroy(); server.close(); });

  const run = await serve({
    handler: 'records.levels',
    version: 4,
    env: { ...MI, _LAMBDA_TELEMETRY_LOG_FD_PROVIDER_SOCKET: socketPath },
    events: [{ requestId: ID }],
    until: () => received.includes('"message":"f"'),
  });
  const lines = maskJsonTimestamps(received, run.tStart, run.tEnd).trimEnd().split('\n')
    .filter((l) => !l.includes('init record'));
  const rec = (level, m) => `{"timestamp":"<TS>","level":"${level}","requestId":"${ID}","message":"${m}"}`;
  assert.deepEqual(lines, [rec('TRACE', 't'), rec('DEBUG', 'd'), rec('INFO', 'i'), rec('INFO', 'l'),
    rec('WARN', 'w'), rec('ERROR', 'e'), rec('FATAL', 'f')]);
  assert.equal(run.stdout.replace(/^.*init record.*\n/m, ''), '');
});
