// What a Node process carries across a memory snapshot, measured with Node's own startup snapshot
// (`node --build-snapshot`): the V8 heap is saved after an "init" and every process started from
// the blob resumes with it, as every environment Lambda restores from one SnapStart snapshot
// resumes with the microVM's memory. Two processes from one blob are two restored environments.
//
// Measured (docs/snapstart.md, "Uniqueness"): on Node 20, crypto.randomUUID() and crypto.randomInt()
// serve from caches in the JS heap, so both "environments" hand out the SAME next UUID and the
// same next randomInt; on Node 22, 24 and 26 the blob's processes already differ. randomBytes,
// getRandomValues and Math.random differ here only because OpenSSL's and V8's generator state is
// not part of a V8 snapshot (a VM snapshot copies it too: docs/snapstart.md says what then holds).
// The runtime's refill after the restore (lib/snapstart.mjs, refillCryptoCaches) makes both
// caches differ on every Node.
import { test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { refillCryptoCaches } from '../lib/snapstart.mjs';
import { NODE24 } from './helpers/faults.mjs';

const NODES = [...new Set([process.execPath, NODE24])];
const major = (node) => Number(spawnSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.split('.')[0]);

// The "function": draws from every source at init, so that each cache is filled before the
// snapshot; after the "restore" it reports the next value of each.
const ENTRY = `
const crypto = require('node:crypto');
const v8 = require('node:v8');
crypto.randomUUID();
crypto.randomInt(1e9);
const refillCryptoCaches = ${refillCryptoCaches.toString()};
v8.startupSnapshot.setDeserializeMainFunction(() => {
  if (process.env.REFILL === '1') refillCryptoCaches(crypto);
  process.stdout.write(JSON.stringify({ uuid: crypto.randomUUID(), randomInt: crypto.randomInt(2 ** 47) }));
});
`;

function restoredTwice(node, dir, env = {}) {
  const run = () => {
    const r = spawnSync(node, ['--snapshot-blob', path.join(dir, 'snap.blob')], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, ...env } });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  return [run(), run()];
}

function buildSnapshot(t, node) {
  const dir = mkdtempSync(path.join(tmpdir(), 'lr-snapstart-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'entry.js'), ENTRY);
  const r = spawnSync(node, ['--snapshot-blob', path.join(dir, 'snap.blob'), '--build-snapshot', path.join(dir, 'entry.js')],
    { encoding: 'utf8', timeout: 60_000, cwd: dir });
  assert.equal(r.status, 0, `build-snapshot failed: ${r.stderr}`);
  return dir;
}

for (const node of NODES) {
  const v = major(node);
  test(`Node ${v}: two processes restored from one snapshot hand out ${v < 22 ? 'the same' : 'different'} next randomUUID and randomInt without the refill`, async (t) => {
    const dir = buildSnapshot(t, node);
    const [a, b] = restoredTwice(node, dir);
    if (v < 22) {
      assert.equal(a.uuid, b.uuid, 'the randomUUID cache came back from the snapshot');
      assert.equal(a.randomInt, b.randomInt, 'the randomInt cache came back from the snapshot');
    } else {
      assert.notEqual(a.uuid, b.uuid);
      assert.notEqual(a.randomInt, b.randomInt);
    }
  });

  test(`Node ${v}: after the runtime's refill the two restored processes differ`, async (t) => {
    const dir = buildSnapshot(t, node);
    const [a, b] = restoredTwice(node, dir, { REFILL: '1' });
    assert.notEqual(a.uuid, b.uuid);
    assert.notEqual(a.randomInt, b.randomInt);
  });
}
