#!/usr/bin/env node
// `npm run package:test`: what a user gets from the tarballs `npm run package` wrote, installed
// with no toolchain. In a temp folder whose PATH holds only node, npm, npx and sh (no cargo, cc,
// make or python):
//   1. `npm i` of the main tarball and the host's platform tarball, timed, with a fresh npm
//      cache; then `npx lambda-rapid invoke app.handler --event ev.json` must print the
//      function's answer (the emulator and the runtime both load the installed binary);
//   2. `npm i` of the main tarball alone (the platform package missing, as with
//      --omit=optional): the same command fails at once, naming the package to install;
//   3. the deployment layouts of docs/deploy.md (examples/deploy/), as far as they run without
//      Docker, each serving an invocation from a Runtime API on 127.0.0.1: (a) the custom
//      image's entrypoints `npx lambda-rapid app.handler` and `node node_modules/lambda-rapid/
//      index.mjs app.handler`; (b) AWS's base image with /var/runtime/index.mjs replaced, started
//      by a bootstrap that does what AWS's does, with AWS_LAMBDA_EXEC_WRAPPER and NODE_OPTIONS
//      set; (c) provided.al2023's /var/task/bootstrap.
// Every command has a time limit; the temp folder is removed at the end, pass or fail.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startRuntimeApi } from '../__test__/helpers/runtime-api.mjs';
import { lambdaEnv } from '../__test__/helpers/spawn-runtime.mjs';
import { ROOT } from './node-binary.mjs';
import { distTarballs, PackageError } from './package.mjs';

const INSTALL_TIMEOUT_MS = 180_000;
const INVOKE_TIMEOUT_MS = 30_000;
const EXAMPLES = path.join(ROOT, 'examples', 'deploy');
// What a layout test's handler reports: enough to tell how its Node was started.
const REPORT_HANDLER = `import v8 from 'node:v8';
export const handler = async () => ({
  entry: process.argv[1],
  execArgv: process.execArgv,
  wrapped: process.env.WRAPPED ?? null,
  heapLimitMb: Math.round(v8.getHeapStatistics().heap_size_limit / 2 ** 20),
});
`;

/** The host's platform package name suffix: linux-x64-gnu, linux-arm64-musl, ... */
export function hostPlatform() {
  const libc = process.report.getReport().header.glibcVersionRuntime ? 'gnu' : 'musl';
  return `${process.platform}-${process.arch}-${libc}`;
}

function which(cmd) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const f = path.join(dir, cmd);
    try {
      fs.accessSync(f, fs.constants.X_OK);
      return f;
    } catch {
      // not in this PATH entry
    }
  }
  return null;
}

/** A bin folder with only what installing and running a package needs: no compiler, no Rust. */
export function bareToolPath(dir) {
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  const tools = { node: process.execPath, npm: which('npm'), npx: which('npx'), sh: which('sh') };
  for (const [name, target] of Object.entries(tools)) {
    if (!target) throw new PackageError(`${name} is not on PATH`);
    fs.symlinkSync(fs.realpathSync(target), path.join(bin, name));
  }
  // npm and npx are node scripts that find their own files through their real path.
  return bin;
}

/** Runs a command with a time limit; returns `{ status, stdout, stderr, ms }`. */
export function timed(cmd, args, opts) {
  const started = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', killSignal: 'SIGKILL', ...opts });
  const ms = performance.now() - started;
  if (r.error?.code === 'ETIMEDOUT') throw new PackageError(`${cmd} ${args.join(' ')}: no end after ${opts.timeout} ms`);
  if (r.error) throw new PackageError(`${cmd}: ${r.error.message}`);
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms };
}

export function npmInstall(dir, tarballs, env, extra = []) {
  const args = ['install', '--no-audit', '--no-fund', '--no-update-notifier', ...extra, ...tarballs];
  const r = timed('npm', args, { cwd: dir, env, timeout: INSTALL_TIMEOUT_MS });
  if (r.status !== 0) throw new PackageError(`npm ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return r;
}

/** Bytes under `dir`, as files (apparent size), like `du -sb`. */
export function treeBytes(dir) {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += fs.statSync(path.join(e.parentPath ?? e.path, e.name)).size;
  }
  return total;
}

function writeFunction(dir) {
  fs.writeFileSync(path.join(dir, 'package.json'), '{ "name": "fn", "private": true }\n');
  fs.writeFileSync(path.join(dir, 'app.mjs'),
    'export const handler = async (event, context) => ({ sum: event.a + event.b, arch: process.arch, ' +
    'fn: context.functionName });\n');
  fs.writeFileSync(path.join(dir, 'ev.json'), '{ "a": 20, "b": 22 }\n');
  fs.writeFileSync(path.join(dir, 'report.mjs'), REPORT_HANDLER);
}

/**
 * Runs `argv` as Lambda runs a runtime (a Lambda environment from __test__/helpers, `env` over
 * it) against a Runtime API on 127.0.0.1; resolves with the first invocation's answer (JSON).
 */
async function serveOne(argv, { cwd, taskRoot, env }) {
  const api = await startRuntimeApi();
  const child = spawn(argv[0], argv.slice(1), {
    cwd,
    env: lambdaEnv({ endpoint: api.endpoint, handler: 'report.handler', taskRoot, env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  let timer;
  try {
    const exited = new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => resolve({ kind: 'exit', code: code ?? signal }));
    });
    const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve({ kind: 'timeout' }), INVOKE_TIMEOUT_MS); });
    const res = await Promise.race([api.invoke({}), exited, timeout]);
    if (res.kind !== 'response') {
      throw new PackageError(`${argv.join(' ')}: ${res.kind} ${res.code ?? res.entry?.body ?? ''}\n${output}`);
    }
    return JSON.parse(res.entry.body.toString());
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await api.close();
  }
}

/** The layouts of docs/deploy.md, from the folder a user's `npm i` made (`installed`). */
async function layouts(dir, installed, env) {
  const node = path.join(env.PATH, 'node');
  const major = process.versions.node.split('.')[0];

  // (a) the custom image's two entrypoints, in its WORKDIR.
  const npx = await serveOne([path.join(env.PATH, 'npx'), 'lambda-rapid', 'report.handler'], { cwd: installed, taskRoot: installed, env });
  check(fs.realpathSync(npx.entry) === path.join(installed, 'node_modules', 'lambda-rapid', 'bin', 'lambda-rapid.mjs'),
    `(a) npx ran ${npx.entry}`);
  const direct = await serveOne([node, 'node_modules/lambda-rapid/index.mjs', 'report.handler'], { cwd: installed, taskRoot: installed, env });
  check(direct.entry === path.join(installed, 'node_modules', 'lambda-rapid', 'index.mjs'), `(a) node ran ${direct.entry}`);

  // (b) AWS's base image: lambda-rapid under /var/runtime/lambda-rapid, index.mjs replaced; the
  // bootstrap stands in for AWS's (same flags, same wrapper rules, runs /var/runtime/index.mjs).
  const b = path.join(dir, 'b');
  const runtimeDir = path.join(b, 'var', 'runtime');
  const taskDir = path.join(b, 'var', 'task');
  fs.mkdirSync(taskDir, { recursive: true });
  fs.cpSync(path.join(installed, 'node_modules'), path.join(runtimeDir, 'lambda-rapid', 'node_modules'), { recursive: true });
  fs.copyFileSync(path.join(EXAMPLES, 'aws-base-image', 'index.mjs'), path.join(runtimeDir, 'index.mjs'));
  fs.copyFileSync(path.join(ROOT, 'bootstrap'), path.join(runtimeDir, 'bootstrap'));
  fs.chmodSync(path.join(runtimeDir, 'bootstrap'), 0o755);
  fs.writeFileSync(path.join(taskDir, 'report.mjs'), REPORT_HANDLER);
  const wrapper = path.join(b, 'wrapper.sh');
  fs.writeFileSync(wrapper, '#!/bin/sh\nexport WRAPPED="$#"\nexec "$@"\n', { mode: 0o755 });
  const base = await serveOne([path.join(runtimeDir, 'bootstrap')], {
    cwd: taskDir,
    taskRoot: taskDir,
    env: { ...env, LAMBDA_RUNTIME_DIR: runtimeDir, AWS_EXECUTION_ENV: `AWS_Lambda_nodejs${major}.x`,
      AWS_LAMBDA_EXEC_WRAPPER: wrapper, NODE_OPTIONS: '--max-old-space-size=300' },
  });
  check(base.entry === path.join(runtimeDir, 'index.mjs'), `(b) ran ${base.entry}`);
  check(base.wrapped !== null, '(b) AWS_LAMBDA_EXEC_WRAPPER did not run');
  check(base.execArgv.includes('--expose-gc') && !base.execArgv.some((a) => a.startsWith('--max-old-space-size')),
    `(b) flags: ${base.execArgv.join(' ')}`);
  check(base.heapLimitMb >= 300 && base.heapLimitMb < 400, `(b) NODE_OPTIONS's heap size not applied: ${base.heapLimitMb} MB`);

  // (c) provided.al2023, .zip: /var/task/bootstrap (examples/deploy/provided-al2023) and the
  // function's node_modules.
  const c = path.join(dir, 'c', 'var', 'task');
  fs.mkdirSync(c, { recursive: true });
  fs.cpSync(path.join(installed, 'node_modules'), path.join(c, 'node_modules'), { recursive: true });
  fs.copyFileSync(path.join(EXAMPLES, 'provided-al2023', 'bootstrap'), path.join(c, 'bootstrap'));
  fs.chmodSync(path.join(c, 'bootstrap'), 0o755);
  fs.writeFileSync(path.join(c, 'report.mjs'), REPORT_HANDLER);
  const provided = await serveOne([path.join(c, 'bootstrap')], { cwd: c, taskRoot: c, env });
  check(provided.entry === path.join(c, 'node_modules', 'lambda-rapid', 'index.mjs'), `(c) ran ${provided.entry}`);
  // 128 MB (the Lambda environment's): new space 12, old space 116
  check(provided.execArgv.includes('--max-old-space-size=116'), `(c) flags: ${provided.execArgv.join(' ')}`);
  return { npx, direct, base, provided };
}

function check(cond, message) {
  if (!cond) throw new PackageError(message);
}

async function main() {
  const { main: mainTgz, platform } = distTarballs();
  const host = hostPlatform();
  const platformTgz = platform(host);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambda-rapid-install-'));
  try {
    const bin = bareToolPath(dir);
    const env = {
      PATH: bin,
      HOME: path.join(dir, 'home'),
      npm_config_cache: path.join(dir, 'npm-cache'), // a cold cache: the time is a first install's
      npm_config_userconfig: path.join(dir, 'npmrc'),
    };
    for (const tool of ['cargo', 'rustc', 'cc', 'gcc', 'make', 'cmake', 'python3']) {
      const r = spawnSync('sh', ['-c', `command -v ${tool}`], { env, encoding: 'utf8' });
      check(r.status !== 0, `${tool} is reachable from the test's PATH (${r.stdout.trim()})`);
    }

    // 1. main + host platform tarball: installs in seconds and runs a function.
    const fnDir = path.join(dir, 'fn');
    fs.mkdirSync(fnDir);
    writeFunction(fnDir);
    const install = npmInstall(fnDir, [mainTgz, platformTgz], env);
    const installed = treeBytes(path.join(fnDir, 'node_modules'));
    const r = timed('npx', ['lambda-rapid', 'invoke', 'app.handler', '--event', 'ev.json', '--quiet'],
      { cwd: fnDir, env, timeout: INVOKE_TIMEOUT_MS });
    check(r.status === 0, `npx lambda-rapid invoke exited with ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
    let answer;
    try {
      answer = JSON.parse(r.stdout);
    } catch {
      throw new PackageError(`the answer is not JSON: ${r.stdout}\n${r.stderr}`);
    }
    const expected = { sum: 42, arch: process.arch, fn: 'function' };
    check(JSON.stringify(answer) === JSON.stringify(expected),
      `answer ${JSON.stringify(answer)}, expected ${JSON.stringify(expected)}`);
    console.log(`ok 1 - npm i lambda-rapid + lambda-rapid-${host} with no toolchain: ${(install.ms / 1000).toFixed(1)} s, ` +
      `node_modules ${(installed / 1e6).toFixed(2)} MB; npx lambda-rapid invoke answered ${r.stdout.trim()} ` +
      `in ${(r.ms / 1000).toFixed(2)} s`);

    // 2. main tarball alone: the loader names the missing package; nothing compiles.
    const bareDir = path.join(dir, 'bare');
    fs.mkdirSync(bareDir);
    writeFunction(bareDir);
    npmInstall(bareDir, [mainTgz], env, ['--omit=optional']);
    const missing = timed('npx', ['lambda-rapid', 'invoke', 'app.handler'], { cwd: bareDir, env, timeout: INVOKE_TIMEOUT_MS });
    check(missing.status !== 0, 'lambda-rapid ran without its platform package');
    check(missing.stderr.includes(`npm i lambda-rapid-${host}@`),
      `the error does not say which package to install:\n${missing.stderr}`);
    console.log(`ok 2 - without lambda-rapid-${host}: exits ${missing.status} in ${(missing.ms / 1000).toFixed(2)} s, ` +
      `"${missing.stderr.split('\n').find((l) => l.includes('npm i lambda-rapid-'))?.slice(0, 100)}..."`);

    // 3. the deployment layouts, from the folder test 1 installed.
    const l = await layouts(dir, fnDir, env);
    console.log('ok 3 - layouts: (a) npx lambda-rapid and node node_modules/lambda-rapid/index.mjs; ' +
      `(b) /var/runtime/index.mjs replaced, wrapper ran, NODE_OPTIONS heap ${l.base.heapLimitMb} MB, flags ${l.base.execArgv.join(' ')}; ` +
      `(c) /var/task/bootstrap, flags ${l.provided.execArgv.join(' ')}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    await main();
    console.log('package:test passed');
  } catch (e) {
    if (!(e instanceof PackageError)) throw e;
    console.error(`package:test FAILED: ${e.message}`);
    process.exitCode = 1;
  }
}
