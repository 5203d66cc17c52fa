// The installed package's loader (lib/native.mjs) when the platform binary is missing: the error
// names the platform package it looked for and what to do, and nothing tries to compile.
// The package's files are copied into a temp folder with no binary and no node_modules, as
// an install without its optional dependency leaves them.
import { test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './helpers/spawn-runtime.mjs';

const T = { timeout: 20000 };

function copyPackage() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambda-rapid-nobinary-'));
  for (const f of ['index.mjs', 'package.json', 'lib', 'bin']) {
    fs.cpSync(path.join(ROOT, f), path.join(dir, f), { recursive: true });
  }
  return dir;
}

function run(args, { cwd, env }) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const env = { PATH: process.env.PATH };
const libc = process.report.getReport().header.glibcVersionRuntime ? 'gnu' : 'musl';
const expectedPkg = `lambda-rapid-${process.platform}-${process.arch}-${libc}`;
const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

test('a missing platform binary names the package it looked for and how to install it', T, async (t) => {
  const dir = copyPackage();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const r = await run(['-e', "import('./lib/native.mjs').catch((e) => { console.log(e.code); console.log(e.message); })"],
    { cwd: dir, env });
  assert.match(r.stdout, /^ERR_LAMBDA_RAPID_NATIVE\n/);
  assert.ok(r.stdout.includes(`npm i ${expectedPkg}@${version}`), r.stdout);
  assert.ok(r.stdout.includes(`Cannot find module '${expectedPkg}'`), r.stdout);
  assert.doesNotMatch(r.stdout, /npm run build/);
});

test('the runtime entrypoint fails at once with that error, not a compile', T, async (t) => {
  const dir = copyPackage();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const r = await run(['bin/lambda-rapid.mjs', 'invoke', 'app.handler'], { cwd: dir, env });
  assert.notEqual(r.code, 0);
  assert.ok(r.stderr.includes(`It ships in the package ${expectedPkg}`), r.stderr);
});

test('LAMBDA_RAPID_NATIVE_PATH that does not load is named as the cause', T, async (t) => {
  const dir = copyPackage();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const bogus = path.join(dir, 'missing.node');
  const r = await run(['-e', "import('./lib/native.mjs').catch((e) => console.log(e.message))"],
    { cwd: dir, env: { ...env, LAMBDA_RAPID_NATIVE_PATH: bogus } });
  assert.ok(r.stdout.includes(`LAMBDA_RAPID_NATIVE_PATH=${bogus} could not be loaded`), r.stdout);
});
