// `serve --watch`: an edit under the task root makes the next request run on a fresh runtime
// (the running invocation finishes first on the old one); a syntax error is the init error, in
// the HTTP answer and the terminal, and the fix recovers without restarting serve.
import { test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { serve, httpGet as get } from './helpers/emulator.mjs';

const version = (v, ms = 0) => `const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const handler = async (event) => {
  if (event.rawPath === '/slow') await sleep(${ms});
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ version: ${JSON.stringify(v)}, pid: process.pid }) };
};
`;

/** Requests until `accept(answer)` holds; fails after `ms` with the last answer. */
async function until(port, accept, ms = 15000) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await get(port);
    if (accept(last)) return last;
    await sleep(100);
  }
  throw new Error(`no matching answer within ${ms} ms; last: ${last?.status} ${last?.text}`);
}

test('an edit is served by a fresh runtime; a syntax error is the init error until it is fixed', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lambda-rapid-watch-'));
  const file = path.join(root, 'app.mjs');
  writeFileSync(file, version('one', 600));
  const emu = await serve('app.handler', ['--http', '--watch', '--timeout', '5'], { taskRoot: root });
  try {
    const first = JSON.parse((await get(emu.port)).text);
    assert.equal(first.version, 'one');

    // An invocation under way when the file changes finishes on the old runtime.
    const slow = get(emu.port, '/slow');
    await sleep(150);
    writeFileSync(file, version('two'));
    const finished = await slow;
    assert.equal(finished.status, 200);
    assert.deepEqual(JSON.parse(finished.text), { version: 'one', pid: first.pid });

    const second = JSON.parse((await until(emu.port, (r) => r.text.includes('"two"'))).text);
    assert.notEqual(second.pid, first.pid, 'a new runtime process');
    await emu.waitForOutput(/changed: app\.mjs/);

    // A syntax error: the HTTP answer and the terminal both show the init error.
    writeFileSync(file, 'export const handler = async () => {\n  return {;\n};\n');
    const broken = await until(emu.port, (r) => r.status === 502);
    assert.equal(JSON.parse(broken.text).errorType, 'Runtime.UserCodeSyntaxError');
    await emu.waitForOutput(/Runtime\.UserCodeSyntaxError/);

    // The fix recovers, with serve still the same process.
    writeFileSync(file, version('three'));
    const fixed = await until(emu.port, (r) => r.status === 200);
    assert.equal(JSON.parse(fixed.text).version, 'three');
    assert.equal(emu.child.exitCode, null);

    // A file in a directory created while serving counts too.
    mkdirSync(path.join(root, 'lib'));
    await sleep(200);
    writeFileSync(path.join(root, 'lib', 'util.mjs'), 'export const x = 1;\n');
    await emu.waitForOutput(/changed: .*lib[\\/]util\.mjs/);

    // node_modules is not the function's code: a change there keeps the runtime. (Let the last
    // edit's events settle first: some Node versions report one write twice.)
    await sleep(500);
    const before = { pid: JSON.parse((await get(emu.port)).text).pid, output: emu.output.length };
    mkdirSync(path.join(root, 'node_modules'));
    writeFileSync(path.join(root, 'node_modules', 'dep.js'), '');
    await sleep(400);
    assert.doesNotMatch(emu.output.slice(before.output), /changed:/);
    assert.equal(JSON.parse((await get(emu.port)).text).pid, before.pid);
  } finally {
    await emu.stop();
    rmSync(root, { recursive: true, force: true });
  }
});
