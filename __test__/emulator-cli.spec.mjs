// The lambda-rapid command line: usage errors are clear and exit 2, `invoke` prints the answer
// and exits 1 on a function error, `--help` documents every flag, and the same binary is the
// runtime when given a handler in a Lambda environment.
import { test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli, EMULATOR_FIXTURES } from './helpers/emulator.mjs';
import { startRuntimeApi } from './helpers/runtime-api.mjs';
import { spawn } from 'node:child_process';
import { BIN } from './helpers/emulator.mjs';
import { watch } from './helpers/child.mjs';

const root = ['--task-root', EMULATOR_FIXTURES];

test('--help documents every flag of serve and invoke', async () => {
  const { code, stdout } = await runCli(['--help']);
  assert.equal(code, 0);
  for (const flag of ['--task-root', '--port', '--host', '--timeout', '--memory', '--log-format', '--log-level',
    '--function-name', '--env', '--max-concurrency', '--quiet', '--event', '--http', '--watch', '--instances']) {
    assert.ok(stdout.includes(flag), `--help mentions ${flag}`);
  }
  assert.match(stdout, /lambda-rapid serve <handler>/);
  assert.match(stdout, /lambda-rapid invoke <handler>/);
  assert.equal((await runCli(['serve', '--help'])).code, 0);
});

test('no arguments outside Lambda prints the usage and exits 2', async () => {
  const { code, stdout } = await runCli([], { env: { AWS_LAMBDA_RUNTIME_API: '' } });
  assert.equal(code, 2);
  assert.match(stdout, /Usage:/);
});

test('an unknown flag is a clear error naming the flag', async () => {
  const { code, stderr } = await runCli(['serve', 'app.echo', '--prot', '9000']);
  assert.equal(code, 2);
  assert.match(stderr, /lambda-rapid: Unknown option '--prot'/);
  assert.match(stderr, /lambda-rapid --help/);
});

test('bad flag values are clear errors', async () => {
  const cases = [
    [['serve', 'app.echo', '--port', 'abc'], /--port must be an integer >= 0 and <= 65535, got 'abc'/],
    [['serve', 'app.echo', '--port', '70000'], /--port must be an integer/],
    [['serve', 'app.echo', '--timeout', '0'], /--timeout must be a number/],
    [['invoke', 'app.echo', '--memory', '64'], /--memory must be an integer >= 128/],
    [['invoke', 'app.echo', '--log-format', 'XML'], /--log-format must be TEXT or JSON, got 'XML'/],
    [['invoke', 'app.echo', '--log-level', 'LOUD'], /--log-level must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL/],
    [['invoke', 'app.echo', '--env', 'NOEQUALS'], /--env expects KEY=VALUE/],
    [['serve', 'app.echo', '--max-concurrency', '0'], /--max-concurrency must be an integer >= 1/],
    [['serve'], /serve: missing <handler>/],
    [['serve', 'app.echo', '--task-root', '/nonexistent/dir'], /--task-root: \/nonexistent\/dir is not a directory/],
    [['invoke', 'a.b', 'c.d'], /unexpected argument 'c.d'/],
    [['invoke', 'app.echo', '--event', '/nonexistent/event.json'], /--event: cannot read \/nonexistent\/event.json/],
    [['--frobnicate'], /unknown command or option '--frobnicate'/],
  ];
  for (const [args, re] of cases) {
    const { code, stderr } = await runCli(args);
    assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
    assert.match(stderr, re, args.join(' '));
  }
});

test('a handler without a Lambda environment suggests serve', async () => {
  const { code, stderr } = await runCli(['app.handler'], { env: { AWS_LAMBDA_RUNTIME_API: '' } });
  assert.equal(code, 2);
  assert.match(stderr, /AWS_LAMBDA_RUNTIME_API is not set/);
  assert.match(stderr, /lambda-rapid serve app\.handler/);
});

test('a port already in use is a clear error', async () => {
  const net = await import('node:net');
  const blocker = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => blocker.once('listening', r));
  try {
    const { code, stderr } = await runCli(['serve', 'app.echo', ...root, '--port', String(blocker.address().port)]);
    assert.equal(code, 2);
    assert.match(stderr, /cannot listen on 127\.0\.0\.1:\d+ for the invoke API/);
  } finally {
    blocker.close();
  }
});

test('invoke prints the answer on stdout, logs on stderr, and exits 0', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lr-cli-'));
  const file = path.join(dir, 'event.json');
  writeFileSync(file, JSON.stringify({ from: 'file' }));
  const { code, stdout, stderr } = await runCli(['invoke', 'app.echo', ...root, '--event', file]);
  assert.equal(code, 0, stderr);
  const answer = JSON.parse(stdout);
  assert.deepEqual(answer.event, { from: 'file' });
  assert.match(stderr, /REPORT RequestId: /);
});

test('invoke reads the event from stdin with --event -', async () => {
  const { code, stdout } = await runCli(['invoke', 'app.echo', ...root, '--event', '-', '--quiet'], { input: '{"from":"stdin"}' });
  assert.equal(code, 0);
  assert.deepEqual(JSON.parse(stdout).event, { from: 'stdin' });
});

test('invoke exits 1 on a function error and prints the error JSON', async () => {
  const { code, stdout } = await runCli(['invoke', 'app.fail', ...root, '--quiet'], { input: '' });
  assert.equal(code, 1);
  assert.equal(JSON.parse(stdout).errorType, 'TypeError');
});

test('invoke exits 1 on an init error and on a timeout', async () => {
  const init = await runCli(['invoke', 'init-error.handler', ...root, '--quiet']);
  assert.equal(init.code, 1);
  assert.match(JSON.parse(init.stdout).errorMessage, /cannot initialise/);
  const slow = await runCli(['invoke', 'app.slow', ...root, '--quiet', '--timeout', '0.3', '--event', '-'], { input: '{"ms":3000}' });
  assert.equal(slow.code, 1);
  assert.match(JSON.parse(slow.stdout).errorMessage, /Task timed out after 0\.30 seconds/);
});

test('invoke rejects a malformed event with Lambda\'s error and exits 1', async () => {
  const { code, stdout } = await runCli(['invoke', 'app.echo', ...root, '--quiet', '--event', '-'], { input: '{nope' });
  assert.equal(code, 1);
  assert.match(JSON.parse(stdout).message, /Could not parse request body into json/);
});

test('`lambda-rapid <handler>` in a Lambda environment is the runtime', async () => {
  const api = await startRuntimeApi();
  const child = spawn(process.execPath, [BIN, 'app.echo'], {
    cwd: EMULATOR_FIXTURES,
    env: { ...process.env, AWS_LAMBDA_RUNTIME_API: api.endpoint, LAMBDA_TASK_ROOT: EMULATOR_FIXTURES, _HANDLER: 'app.echo' },
    stdio: 'ignore',
  });
  const watched = watch(child);
  try {
    const { kind, entry } = await api.invoke({ via: 'bin' });
    assert.equal(kind, 'response');
    assert.deepEqual(JSON.parse(entry.body).event, { via: 'bin' });
  } finally {
    await watched.kill();
    await api.close();
  }
});

test('invoke prints a streamed answer and exits 1 when the stream fails', async () => {
  const ok = await runCli(['invoke', 'stream.handler', ...root, '--quiet']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, 'piece 0\npiece 1\npiece 2\n');
  const failed = await runCli(['invoke', 'stream.handler', ...root, '--quiet', '--event', '-'], { input: '{"fail":true}' });
  assert.equal(failed.code, 1);
  assert.match(failed.stdout, /^piece 0\npiece 1\npiece 2\n/);
  assert.match(failed.stderr, /lambda-rapid: the stream failed: \{.*"errorMessage":"failed mid-stream"/);
});
