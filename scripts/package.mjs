#!/usr/bin/env node
// `npm run package`: the five npm tarballs in dist/, built on this machine.
//
//   1. the four Linux binaries (x64/arm64 × glibc/musl) with `napi build -x` (cargo-zigbuild):
//      the gnu targets carry a `.2.17` suffix, so they need glibc >= 2.17 (a host build needs
//      the host's glibc, 2.34+ here, which excludes older images); the musl targets link the
//      C runtime dynamically (napi removes `+crt-static`), as a Node addon must;
//   2. a staging copy of the package (the files `npm pack` would publish, plus npm/), where
//      `napi artifacts` puts each binary in its platform package and `napi pre-publish` adds the
//      four optionalDependencies at the package's version. Only the copy is changed: committed
//      optionalDependencies on unpublished packages would break `npm ci`;
//   3. `npm pack` of the four platform packages and the main one into dist/, then what each
//      binary needs from its C library (readelf), printed and written to dist/binaries.json.
//
// Tools: @napi-rs/cli (`npm ci`), rustup's std for the four targets (added when missing), and
// zig + cargo-zigbuild from PyPI into a venv in .cache/pytools (created when missing; nothing
// depends on HOME). Options: --targets x64-gnu,arm64-musl (a subset, for development).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './node-binary.mjs';

export const TARGETS = [
  { platform: 'linux-x64-gnu', triple: 'x86_64-unknown-linux-gnu', build: 'x86_64-unknown-linux-gnu.2.17' },
  { platform: 'linux-arm64-gnu', triple: 'aarch64-unknown-linux-gnu', build: 'aarch64-unknown-linux-gnu.2.17' },
  { platform: 'linux-x64-musl', triple: 'x86_64-unknown-linux-musl', build: 'x86_64-unknown-linux-musl' },
  { platform: 'linux-arm64-musl', triple: 'aarch64-unknown-linux-musl', build: 'aarch64-unknown-linux-musl' },
];
// Pinned: the versions this was measured with (docs/deploy.md).
const PY_TOOLS = ['ziglang==0.17.1', 'cargo-zigbuild==0.24.1'];
const CACHE = path.join(ROOT, '.cache', 'package');
const BIN_DIR = path.join(CACHE, 'bin');
const STAGE = path.join(CACHE, 'stage');
const DIST = path.join(ROOT, 'dist');
const PY_VENV = path.join(ROOT, '.cache', 'pytools');
const NAPI = path.join(ROOT, 'node_modules', '.bin', 'napi');

export class PackageError extends Error {}

/** The tarballs `npm run package` wrote: `{ version, main, platform(name) }` paths in dist/. */
export function distTarballs() {
  const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const file = (name) => {
    const f = path.join(DIST, `${name}-${version}.tgz`);
    if (!fs.existsSync(f)) throw new PackageError(`${path.relative(ROOT, f)} is missing: run \`npm run package\` first`);
    return f;
  };
  return { version, main: file('lambda-rapid'), platform: (p) => file(`lambda-rapid-${p}`) };
}

function run(cmd, args, opts = {}) {
  console.log(`$ ${[cmd, ...args].join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', ...opts });
  if (r.error) throw new PackageError(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new PackageError(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}`);
}

function output(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', ...opts });
  return r.status === 0 ? r.stdout : null;
}

/** PATH with the venv's tools first; every build runs with it. */
function toolEnv() {
  return { ...process.env, PATH: `${path.join(PY_VENV, 'bin')}${path.delimiter}${process.env.PATH}` };
}

function ensureTools(targets) {
  if (!fs.existsSync(NAPI)) throw new PackageError('@napi-rs/cli is missing: run `npm ci` first.');
  if (output('cargo', ['--version']) === null) {
    throw new PackageError('cargo is not on PATH: install Rust (https://rustup.rs) to build the binaries.');
  }
  const installed = output('rustup', ['target', 'list', '--installed']);
  if (installed === null) {
    const list = targets.map((t) => t.triple).join(' ');
    console.log(`rustup is not on PATH: the Rust std for ${list} must already be installed.`);
  } else {
    const missing = targets.map((t) => t.triple).filter((t) => !installed.split('\n').includes(t));
    if (missing.length) run('rustup', ['target', 'add', ...missing]);
  }
  const env = toolEnv();
  if (output('cargo-zigbuild', ['--version'], { env }) === null) {
    if (output('python3', ['--version']) === null) {
      throw new PackageError('cargo-zigbuild is missing and python3 is not on PATH to install it ' +
        `(pip install ${PY_TOOLS.join(' ')}).`);
    }
    if (!fs.existsSync(path.join(PY_VENV, 'bin', 'pip'))) run('python3', ['-m', 'venv', PY_VENV]);
    run(path.join(PY_VENV, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', ...PY_TOOLS], { env });
  }
  return env;
}

function build(targets, env) {
  fs.mkdirSync(BIN_DIR, { recursive: true });
  for (const t of targets) {
    const started = Date.now();
    // --dts: the build regenerates the type declarations; they go to the cache, native.d.ts is
    // the committed one (`npm run build` keeps it current).
    run(NAPI, ['build', '--platform', '--release', '--no-js', '-x', '--target', t.build,
      '--output-dir', BIN_DIR, '--dts', 'native.d.ts'], { env });
    console.log(`== ${t.platform}: built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

/** The files `npm pack` would publish from the checkout, copied into a fresh staging folder. */
function stage(targets) {
  fs.rmSync(STAGE, { recursive: true, force: true });
  fs.mkdirSync(STAGE, { recursive: true });
  const [{ files }] = JSON.parse(output('npm', ['pack', '--dry-run', '--json', '--ignore-scripts']) ?? '[{}]');
  if (!files) throw new PackageError('npm pack --dry-run failed');
  for (const { path: f } of files) {
    fs.mkdirSync(path.dirname(path.join(STAGE, f)), { recursive: true });
    fs.copyFileSync(path.join(ROOT, f), path.join(STAGE, f));
  }
  fs.cpSync(path.join(ROOT, 'npm'), path.join(STAGE, 'npm'), { recursive: true });
  if (targets.length < TARGETS.length) {
    // A development subset: napi's commands work on the configured targets, so the copy's list
    // is cut to the built ones (and its optionalDependencies with it).
    console.log(`== only ${targets.map((t) => t.platform).join(', ')}: the main tarball lists only these`);
    const pkg = JSON.parse(fs.readFileSync(path.join(STAGE, 'package.json'), 'utf8'));
    pkg.napi.targets = targets.map((t) => t.triple);
    fs.writeFileSync(path.join(STAGE, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  }
  for (const t of targets) {
    const bin = path.join(BIN_DIR, `lambda-rapid.${t.platform}.node`);
    if (!fs.existsSync(bin)) throw new PackageError(`${bin} was not built`);
  }
  run(NAPI, ['artifacts', '--output-dir', BIN_DIR, '--npm-dir', 'npm'], { cwd: STAGE });
  run(NAPI, ['pre-publish', '-t', 'npm', '--skip-optional-publish'], { cwd: STAGE });
  const pkg = JSON.parse(fs.readFileSync(path.join(STAGE, 'package.json'), 'utf8'));
  for (const t of targets) {
    const name = `lambda-rapid-${t.platform}`;
    if (pkg.optionalDependencies?.[name] !== pkg.version) {
      throw new PackageError(`napi pre-publish did not list ${name}@${pkg.version} in optionalDependencies`);
    }
  }
  return pkg.version;
}

function pack(targets) {
  fs.mkdirSync(DIST, { recursive: true });
  const tarballs = [];
  for (const dir of [...targets.map((t) => path.join(STAGE, 'npm', t.platform)), STAGE]) {
    const out = output('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', DIST], { cwd: dir });
    if (out === null) throw new PackageError(`npm pack failed in ${dir}`);
    const [{ filename, size, unpackedSize }] = JSON.parse(out);
    tarballs.push({ file: path.join('dist', filename), size, unpackedSize });
  }
  return tarballs;
}

/** What a binary needs from its C library: glibc symbol versions, NEEDED libraries, ELF arch. */
export function libcNeeds(file) {
  const versions = output('readelf', ['-V', '--wide', file]);
  const dynamic = output('readelf', ['-d', '--wide', file]);
  const header = output('readelf', ['-h', '--wide', file]);
  if (versions === null || dynamic === null || header === null) return { error: 'readelf failed (binutils missing?)' };
  const glibc = [...new Set(versions.match(/GLIBC_[0-9.]+/g) ?? [])]
    .map((v) => v.slice('GLIBC_'.length))
    .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  return {
    machine: /Machine:\s+(.*)/.exec(header)?.[1].trim(),
    needed: [...dynamic.matchAll(/\(NEEDED\).*\[(.*)\]/g)].map((m) => m[1]),
    glibcMax: glibc.at(-1) ?? null,
  };
}

function main() {
  const args = process.argv.slice(2);
  const at = args.indexOf('--targets');
  const wanted = at >= 0 ? args[at + 1]?.split(',') ?? [] : null;
  const targets = wanted ? TARGETS.filter((t) => wanted.includes(t.platform.replace(/^linux-/, ''))) : TARGETS;
  if (wanted && targets.length !== wanted.length) {
    throw new PackageError(`--targets takes a comma list of ${TARGETS.map((t) => t.platform.slice(6)).join(', ')}`);
  }
  const started = Date.now();
  const env = ensureTools(targets);
  build(targets, env);
  const version = stage(targets);
  const tarballs = pack(targets);
  const binaries = targets.map((t) => {
    const file = path.join(BIN_DIR, `lambda-rapid.${t.platform}.node`);
    return { platform: t.platform, target: t.build, bytes: fs.statSync(file).size, ...libcNeeds(file) };
  });
  fs.writeFileSync(path.join(DIST, 'binaries.json'), `${JSON.stringify({ version, binaries, tarballs }, null, 2)}\n`);
  console.log(`\nlambda-rapid ${version}: ${tarballs.length} tarballs in dist/ (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  for (const t of tarballs) console.log(`  ${t.file}  ${(t.size / 1024).toFixed(0)} kB packed, ${(t.unpackedSize / 1024).toFixed(0)} kB unpacked`);
  for (const b of binaries) {
    console.log(`  ${b.platform}: ${b.machine}, ${(b.bytes / 1e6).toFixed(2)} MB, ` +
      `${b.glibcMax ? `glibc >= ${b.glibcMax}` : 'no glibc symbol versions'}, needs ${b.needed.join(' ')}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    main();
  } catch (e) {
    if (!(e instanceof PackageError)) throw e;
    console.error(`npm run package: ${e.message}`);
    process.exitCode = 1;
  }
}
