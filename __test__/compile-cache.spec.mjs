// The compile cache (lib/compile-cache.mjs, lib/warm.mjs): `lambda-rapid warm <handler>` writes
// V8's code of the function's modules next to the function, every cold start reads it (also
// from a read-only directory, as another user than the one who wrote it), a changed file is
// never served from a stale entry, and without a cache nothing is written next to the function.
// Node 20 has no compile cache: `warm` says so and writes nothing.
import { test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { runCli as runCliOn, ROOT } from './helpers/emulator.mjs';
import { NODE24 } from './helpers/faults.mjs';

const HAS_CACHE = typeof (await import('node:module')).enableCompileCache === 'function';
// The tests of the cache run on this Node when it has one, else on the Node 24 `npm test`
// provisions (so that they run under `npm test` on Node 20 too).
const cacheIn = (node) => spawnSync(node, ['-p', "typeof require('node:module').enableCompileCache"], { encoding: 'utf8', timeout: 10_000 }).stdout?.trim() === 'function';
const NODE = HAS_CACHE ? process.execPath : [NODE24].find(cacheIn);
const needsCache = { skip: !NODE && `Node ${process.version} has no compile cache, and no Node 24 was provisioned` };
const CACHE = '.lambda-rapid-cache';
// Node's own account of each module it compiles with the cache on.
const DEBUG = { NODE_DEBUG_NATIVE: 'COMPILE_CACHE' };

/** A function directory readable by everyone, holding app.mjs whose handler answers `value`. */
function functionDir(value) {
  const dir = fs.mkdtempSync(path.join(tmpdir(), 'lambda-rapid-cache-'));
  fs.chmodSync(dir, 0o755);
  writeHandler(dir, value);
  return dir;
}

function writeHandler(dir, value) {
  fs.writeFileSync(path.join(dir, 'app.mjs'), `export const handler = async () => ({ v: '${value}' });\n`, { mode: 0o644 });
}

const NOBODY = { uid: 65534, gid: 65534 };
// Whether `nobody` can run this checkout's CLI on this node (not from a checkout under a
// private directory, such as CI's 0700 temporary clone).
const nobodyCanRunCli = () => process.getuid?.() === 0 && spawnSync(NODE,
  ['-e', 'require("fs").accessSync(process.argv[1], require("fs").constants.R_OK)', path.join(ROOT, 'bin', 'lambda-rapid.mjs')],
  { ...NOBODY, stdio: 'ignore', timeout: 10_000 }).status === 0;

const runCli = (args, opts = {}) => runCliOn(args, { node: NODE, ...opts });
const invoke = (dir, opts = {}) => runCli(['invoke', 'app.handler', '--task-root', dir, '--quiet'], { ...opts, env: { ...DEBUG, ...opts.env } });
const accepted = (stderr) => /cache for (ESM )?file:\/\/\S+\/app\.mjs was accepted/.test(stderr); // Node 22 / 24 wording

test('warm writes the cache next to the function, and a cold start compiles the function from it', needsCache, async () => {
  const dir = functionDir('one');
  try {
    const warmed = await runCli(['warm', 'app.handler', '--task-root', dir]);
    assert.equal(warmed.code, 0, warmed.stderr);
    assert.match(warmed.stderr, /wrote .*\.lambda-rapid-cache \(\d+ files\)/);
    // No CommonJS imported by an ES module: no export-name index (lib/cjs-exports.mjs), so no
    // hook at the cold starts.
    assert.ok(!fs.existsSync(path.join(dir, CACHE, 'cjs-exports.json')));
    const r = await invoke(dir);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), '{"v":"one"}');
    assert.ok(accepted(r.stderr), `the handler's entry was used:\n${r.stderr}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a file changed after warm runs its new code, never the cached one', needsCache, async () => {
  const dir = functionDir('one');
  try {
    assert.equal((await runCli(['warm', 'app.handler', '--task-root', dir])).code, 0);
    writeHandler(dir, 'two'); // same length: only the source hash tells the versions apart
    const r = await invoke(dir);
    assert.equal(r.stdout.trim(), '{"v":"two"}', r.stderr);
    assert.ok(!accepted(r.stderr), 'the stale entry was refused');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a read-only cache written by another user is read, and nothing is written next to the function', needsCache, async () => {
  const dir = functionDir('one');
  try {
    assert.equal((await runCli(['warm', 'app.handler', '--task-root', dir])).code, 0);
    const before = listing(dir);
    // As on Lambda: root built the image, another user runs it and cannot write the code
    // directory. Without root (or where `nobody` cannot reach the checkout), the same user on a
    // directory without write permission.
    const asOther = nobodyCanRunCli();
    if (!asOther) chmodTree(dir, 0o555, 0o444);
    const r = await invoke(dir, asOther ? NOBODY : {});
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), '{"v":"one"}');
    assert.ok(accepted(r.stderr), `the handler's entry was used:\n${r.stderr}`);
    assert.deepEqual(listing(dir), before);
  } finally {
    chmodTree(dir, 0o755, 0o644);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('without a warmed cache the runtime creates nothing next to the function', async () => {
  const dir = functionDir('one');
  try {
    const r = await invoke(dir);
    assert.equal(r.stdout.trim(), '{"v":"one"}', r.stderr);
    assert.deepEqual(fs.readdirSync(dir), ['app.mjs']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('warm on a Node without a compile cache says so and writes nothing', { skip: HAS_CACHE && 'this Node has a compile cache' }, async () => {
  const runCli = runCliOn; // this Node's
  const dir = functionDir('one');
  try {
    const r = await runCli(['warm', 'app.handler', '--task-root', dir]);
    assert.equal(r.code, 0);
    assert.match(r.stderr, /has no compile cache .*nothing written/);
    assert.deepEqual(fs.readdirSync(dir), ['app.mjs']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("warm reports a function whose init fails, with the runtime's error", needsCache, async () => {
  const dir = functionDir('one');
  try {
    fs.writeFileSync(path.join(dir, 'app.mjs'), "throw new Error('no database at build time');\n");
    const r = await runCli(['warm', 'app.handler', '--task-root', dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /warm: the function's init failed: .*no database at build time/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

function listing(dir) {
  return fs.readdirSync(dir, { recursive: true }).sort();
}

function chmodTree(dir, dirMode, fileMode) {
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const file = path.join(entry.parentPath ?? entry.path, entry.name);
    if (!entry.isSymbolicLink()) fs.chmodSync(file, entry.isDirectory() ? dirMode : fileMode);
  }
  fs.chmodSync(dir, dirMode);
}
