// lambda-rapid's runtime under cargo-lambda's emulator (`cargo lambda watch --only-lambda-apis`),
// as a user of cargo-lambda runs a Node function beside their Rust ones. That emulator serves
// the Runtime API under a `/.rt` path prefix of an `http://` endpoint, sends no Content-Type,
// and sends `Lambda-Runtime-Deadline-Ms: 600000` (not an epoch time): every invocation failed
// before we served what the official clients serve (docs/reliability.md). Invoked with
// `cargo lambda invoke`, and through its `/lambda-url/<fn>/` endpoint for a streamed answer.
//
// cargo-lambda is a Python package holding a native binary: `npm test` installs it with
//   pip install --no-deps --target .cache/cargo-lambda cargo-lambda==1.9.2   (scripts/node-tests.mjs)
// This file skips (saying so) when no binary is found in .cache/cargo-lambda/bin or on PATH;
// LAMBDA_RAPID_CARGO_LAMBDA=/path/to/cargo-lambda points it at one elsewhere. `cargo lambda
// watch` reads a Cargo project (`cargo metadata`), so `cargo` must be on PATH too.
import { test, describe } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, EMULATOR_FIXTURES } from './helpers/emulator.mjs';
import { spawnRuntime, FIXTURES } from './helpers/spawn-runtime.mjs';
import { watch as watchChild } from './helpers/child.mjs';
import { freePort, until } from './helpers/ports.mjs';

const T = { timeout: 60_000 };

function onPath(name) {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || undefined;
  } catch {
    return undefined;
  }
}

function findCargoLambda() {
  return [process.env.LAMBDA_RAPID_CARGO_LAMBDA, path.join(ROOT, '.cache', 'cargo-lambda', 'bin', 'cargo-lambda'), onPath('cargo-lambda')]
    .find((c) => c && existsSync(c));
}

const CARGO_LAMBDA = findCargoLambda();
const SKIP = !CARGO_LAMBDA
  ? 'cargo-lambda not found (pip install --no-deps --target .cache/cargo-lambda cargo-lambda, or set LAMBDA_RAPID_CARGO_LAMBDA)'
  : !onPath('cargo') ? 'cargo not found: `cargo lambda watch` needs it to read its project' : false;
// cargo-lambda's name for the function of a project's only binary; its Runtime API serves it
// at the bare paths (`/.rt/2018-06-01/runtime/invocation/next`).
const FUNCTION = '_';

/** Runs `cargo-lambda <args>`; resolves { code, stdout, stderr }, killing it after `ms`. */
function cargoLambda(args, { cwd, ms = 20_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(CARGO_LAMBDA, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
  });
}

/**
 * `cargo lambda watch --only-lambda-apis` on a free port (in a throwaway Cargo project) and our
 * runtime for `handler` against the endpoint it prints. `stop()` ends both.
 */
async function startUnderCargoLambda({ handler, taskRoot, mode }) {
  const project = mkdtempSync(path.join(os.tmpdir(), 'rapid-cargo-lambda-'));
  mkdirSync(path.join(project, 'src'));
  writeFileSync(path.join(project, 'Cargo.toml'), '[package]\nname = "rapid-node-fn"\nversion = "0.1.0"\nedition = "2021"\n');
  writeFileSync(path.join(project, 'src', 'main.rs'), 'fn main() {}\n');
  const port = await freePort();
  const watch = spawn(CARGO_LAMBDA, ['lambda', 'watch', '--only-lambda-apis', '-A', '127.0.0.1', '-P', String(port)], {
    cwd: project,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  watch.stdout.on('data', (d) => { output += d; });
  watch.stderr.on('data', (d) => { output += d; });
  watch.on('error', (e) => { output += `spawn error: ${e.message}`; });
  const watched = watchChild(watch); // settles on a spawn failure too
  let rt;
  const stop = async () => {
    await rt?.kill();
    await watched.kill();
    await watched.closed;
    rmSync(project, { recursive: true, force: true });
  };
  try {
    // The environment the function must have, as cargo-lambda prints it.
    const env = {};
    await until(() => /starting Runtime server/.test(output) || watch.exitCode !== null || watched.spawnError, 'cargo lambda watch to listen', 20_000);
    for (const name of ['AWS_LAMBDA_RUNTIME_API', 'AWS_LAMBDA_FUNCTION_NAME', 'AWS_LAMBDA_FUNCTION_VERSION', 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE']) {
      const m = new RegExp(`${name}=(\\S+)`).exec(output);
      assert.ok(m, `cargo lambda watch printed ${name}:\n${output}`);
      env[name] = m[1];
    }
    assert.match(env.AWS_LAMBDA_RUNTIME_API, /^http:\/\/127\.0\.0\.1:\d+\/\.rt$/);
    rt = spawnRuntime({
      endpoint: env.AWS_LAMBDA_RUNTIME_API,
      handler,
      taskRoot,
      env: { ...env, AWS_EXECUTION_ENV: mode === 3 ? 'AWS_Lambda_nodejs20.x' : 'AWS_Lambda_nodejs24.x' },
    });
    return { port, rt, get output() { return output; }, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

describe('lambda-rapid runs under cargo-lambda\'s emulator', { skip: SKIP }, () => {
  for (const mode of [3, 4]) {
    test(`cargo lambda invoke gets the function's answers (${mode}.x mode)`, T, async () => {
      const fn = await startUnderCargoLambda({ handler: 'parity.ok', taskRoot: EMULATOR_FIXTURES, mode });
      try {
        for (const n of [1, 2, 3]) {
          const res = await cargoLambda(['lambda', 'invoke', '--invoke-address', '127.0.0.1', '--invoke-port', String(fn.port),
            '--data-ascii', JSON.stringify({ n }), FUNCTION]);
          assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}\n${fn.output}\n${fn.rt.stdout}${fn.rt.stderr}`);
          const answer = JSON.parse(res.stdout);
          assert.deepEqual(answer.event, { n });
          assert.equal(answer.functionName, FUNCTION);
          // 600000 is not an epoch time: the remaining time is computed from it as sent, as the
          // official clients compute it, so it is negative.
          assert.equal(answer.hasDeadline, false);
        }
      } finally {
        await fn.stop();
      }
    });

    test(`a streamed answer through /lambda-url/ arrives with its status, headers and body (${mode}.x mode)`, T, async () => {
      const fn = await startUnderCargoLambda({ handler: 'handlers.preludeWrite', taskRoot: path.join(FIXTURES, 'streaming'), mode });
      try {
        const res = await fetch(`http://127.0.0.1:${fn.port}/lambda-url/${FUNCTION}/hello?x=1`, { signal: AbortSignal.timeout(20_000) });
        const body = await res.text();
        assert.equal(res.status, 201, `${body}\n${fn.output}\n${fn.rt.stdout}${fn.rt.stderr}`);
        assert.equal(res.headers.get('x-custom'), 'yes');
        assert.equal(res.headers.get('set-cookie'), 'a=1');
        assert.equal(body, 'body part 1;body part 2');
      } finally {
        await fn.stop();
      }
    });
  }
});
