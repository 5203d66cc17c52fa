// The CommonJS export-name index (lib/cjs-exports.mjs): `lambda-rapid warm` records the names
// Node gives the CommonJS modules a function's ES modules import, and a cold start serves those
// imports from it instead of lexing the sources. What the function sees must be exactly what
// Node gives without it (every name, every value, `default`), and a file changed after `warm`
// must switch the index off. Needs module.registerHooks (Node 22.15+, 24): the running Node
// when it has it, else the Node 24 `npm test` provisions.
import { test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { runCli, ROOT } from './helpers/emulator.mjs';
import { NODE24 } from './helpers/faults.mjs';

const FIXTURE = path.join(ROOT, '__test__', 'fixtures', 'cjs-exports');
const hasHooks = (node) => spawnSync(node, ['-p', "typeof require('node:module').registerHooks"], { encoding: 'utf8', timeout: 10_000 }).stdout?.trim() === 'function';
const NODE = [process.execPath, NODE24].find(hasHooks);
const needsHooks = { skip: !NODE && `no Node with module.registerHooks here (${process.version}; Node 24 not provisioned)` };
const VERBOSE = { AWS_LAMBDA_RUNTIME_VERBOSE: '1' };

function functionDir() {
  const dir = fs.mkdtempSync(path.join(tmpdir(), 'lambda-rapid-cjs-'));
  fs.cpSync(FIXTURE, dir, { recursive: true });
  return dir;
}

const invoke = async (dir, env = {}) => {
  const r = await runCli(['invoke', 'app.handler', '--task-root', dir, '--quiet'], { node: NODE, env: { ...VERBOSE, ...env } });
  assert.equal(r.code, 0, r.stderr);
  return { answer: JSON.parse(r.stdout), stderr: r.stderr };
};
const served = (stderr) => /CommonJS export names: (\d+) of (\d+) modules from the index( \(a file changed)?/.exec(stderr);
const warm = async (dir) => {
  const r = await runCli(['warm', 'app.handler', '--task-root', dir], { node: NODE });
  assert.equal(r.code, 0, r.stderr);
};

test('a function importing CommonJS sees the same names and values with the index as without it', needsHooks, async () => {
  const dir = functionDir();
  try {
    const plain = await invoke(dir);
    assert.equal(served(plain.stderr), null, 'no index before warm: no hook');
    await warm(dir);
    const index = JSON.parse(fs.readFileSync(path.join(dir, '.lambda-rapid-cache', 'cjs-exports.json'), 'utf8'));
    assert.equal(Object.keys(index.modules).length, 5, 'the five CommonJS modules app.mjs imports');
    const indexed = await invoke(dir);
    assert.deepEqual(served(indexed.stderr)?.slice(1, 4), ['5', '5', undefined], indexed.stderr);
    assert.deepEqual(indexed.answer, plain.answer);
    // What Node gives, pinned, so that an index that serves the wrong thing cannot agree with
    // a Node that changed its mind.
    const names = (k) => plain.answer[k].map(([name]) => name).filter((n) => n !== 'module.exports');
    assert.deepEqual(names('shapes'), ['__esModule', 'default', 'fn', 'not-an-identifier', 'nothing', 'plain', 'throws']);
    assert.deepEqual(names('reexport'), names('shapes'));
    assert.deepEqual(names('object'), ['a', 'b', 'c', 'default']);
    assert.deepEqual(plain.answer.inherited.find(([n]) => n === 'inherited'), ['inherited', 'undefined', '<undefined>']);
    assert.deepEqual(plain.answer.shapes.find(([n]) => n === 'throws'), ['throws', 'undefined', '<undefined>']);
    assert.deepEqual(plain.answer.shapes.find(([n]) => n === 'default'), ['default', 'object', '<module.exports>']);
    assert.equal(plain.answer.defaultIsModuleExports, true);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a file changed after warm, even one only re-exported, switches the index off', needsHooks, async () => {
  const dir = functionDir();
  try {
    await warm(dir);
    // index.js is imported directly and through reexport.js: a name added to it must show in both.
    fs.appendFileSync(path.join(dir, 'node_modules', 'shapes', 'index.js'), "exports.added = 'after warm';\n");
    const r = await invoke(dir);
    assert.ok(served(r.stderr)?.[3], `the index was not used:\n${r.stderr}`);
    assert.ok(r.answer.shapes.some(([n]) => n === 'added'));
    assert.ok(r.answer.reexport.some(([n]) => n === 'added'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('LAMBDA_RAPID_COMPILE_CACHE=0 turns the index off with the compile cache', needsHooks, async () => {
  const dir = functionDir();
  try {
    await warm(dir);
    const r = await invoke(dir, { LAMBDA_RAPID_COMPILE_CACHE: '0' });
    assert.equal(served(r.stderr), null, r.stderr);
    assert.equal(r.answer.plain, 1);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
