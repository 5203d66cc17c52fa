// The emulator's SnapStart (`serve --snapstart`, `invoke --snapstart`; src/emulator/snapstart.rs,
// docs/snapstart.md): the runtime inits with AWS_LAMBDA_INITIALIZATION_TYPE=snap-start, its
// before-snapshot hooks run, GET restore/next is answered after the pause with the runtime's other
// connections shut down, the after-restore hooks run, then the invocations; REPORT carries
// Restore Duration once. A failing after-restore hook reaches POST restore/error.
import { test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import path from 'node:path';
import { serve, runCli, ROOT } from './helpers/emulator.mjs';
import { startEmulator, invoke } from '../lib/emulator.mjs';

const TASK_ROOT = path.join(ROOT, '__test__', 'fixtures', 'snapstart');
const ORDER = ['before 2 (global)', 'before 1 (module, async)', 'after 1 (module, async)', 'after 2 (global)'];

test('serve --snapstart: hooks in the documented order, Init and Restore Duration in the first REPORT only', async (t) => {
  const emu = await serve('index.handler', ['--snapstart', '--snapstart-pause', '200'], { taskRoot: TASK_ROOT });
  t.after(() => emu.stop());
  const first = await emu.invoke({});
  assert.equal(first.status, 200, emu.output);
  assert.deepEqual(first.json, { order: ORDER });
  const second = await emu.invoke({});
  assert.deepEqual(second.json, { order: ORDER });
  await emu.waitForOutput(/(REPORT RequestId[^\n]*\n[^]*){2}/);
  const reports = emu.output.split('\n').filter((l) => l.startsWith('REPORT'));
  assert.equal(reports.length, 2, emu.output);
  assert.match(reports[0], /Init Duration: [\d.]+ ms\tRestore Duration: [\d.]+ ms\t/);
  assert.doesNotMatch(reports[1], /Init Duration|Restore Duration/);
});

test('serve without --snapstart: hooks are registered and never called', async (t) => {
  const emu = await serve('index.handler', [], { taskRoot: TASK_ROOT });
  t.after(() => emu.stop());
  const r = await emu.invoke({});
  assert.deepEqual(r.json, { order: [] });
});

test('invoke --snapstart: a failing after-restore hook reaches restore/error (Runtime.AfterRestoreError); the invocation fails', async () => {
  const r = await runCli(['invoke', 'index.handler', '--task-root', TASK_ROOT, '--snapstart', '--env', 'SNAP_FAIL=after']);
  assert.equal(r.code, 1, r.stderr);
  const answer = JSON.parse(r.stdout);
  assert.equal(answer.errorType, 'RangeError');
  assert.equal(answer.errorMessage, 'cannot reconnect');
  assert.match(r.stderr, /RESTORE_REPORT Restore Duration: [\d.]+ ms\tStatus: error\tError Type: Runtime\.AfterRestoreError/);
});

test('invoke --snapstart: a failing before-snapshot hook is an init error (Runtime.BeforeSnapshotError)', async () => {
  const r = await runCli(['invoke', 'index.handler', '--task-root', TASK_ROOT, '--snapstart', '--env', 'SNAP_FAIL=before']);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(JSON.parse(r.stdout).errorType, 'TypeError');
  assert.match(r.stderr, /INIT_REPORT Init Duration: [\d.]+ ms\tPhase: init\tStatus: error\tError Type: Runtime\.BeforeSnapshotError/);
});

test('the restore shuts down the Runtime API connections the runtime opened before it', async (t) => {
  const emu = startEmulator({
    command: [process.execPath, path.join(TASK_ROOT, 'stale-socket-runtime.mjs')],
    taskRoot: TASK_ROOT, port: 0, platformLogs: false, quietRuntime: true, snapStartPauseMs: 50,
  });
  t.after(() => emu.stop());
  const r = await invoke(emu.port, {});
  assert.deepEqual(JSON.parse(r.body), { restoreStatus: 200, oldConnection: 'closed' });
});

test('--snapstart and --max-concurrency do not combine (Lambda has no SnapStart on Managed Instances)', async () => {
  const r = await runCli(['invoke', 'index.handler', '--task-root', TASK_ROOT, '--snapstart', '--max-concurrency', '2']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--snapstart and --max-concurrency do not combine/);
});

test('serve --help documents --snapstart and --snapstart-pause', async () => {
  const r = await runCli(['serve', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /--snapstart +Run SnapStart's lifecycle/);
  assert.match(r.stdout, /--snapstart-pause MS/);
});

test('--snapstart-pause must be a whole number of milliseconds', async () => {
  const r = await runCli(['invoke', 'index.handler', '--task-root', TASK_ROOT, '--snapstart-pause', 'soon']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--snapstart-pause must be an integer >= 0/);
});
