// `npm version`'s lifecycle script (scripts/version.mjs) on a copy of the package's manifests:
// the four platform packages take the main package's new version, and the changelog's
// "Unreleased" section becomes that version's.
import { test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './helpers/spawn-runtime.mjs';
import { syncVersion } from '../scripts/version.mjs';

function copyManifests() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapid-version-'));
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
  fs.copyFileSync(path.join(ROOT, 'CHANGELOG.md'), path.join(dir, 'CHANGELOG.md'));
  fs.cpSync(path.join(ROOT, 'npm'), path.join(dir, 'npm'), { recursive: true });
  return dir;
}

const read = (f) => JSON.parse(fs.readFileSync(f, 'utf8'));

test('the four platform packages take the version npm version wrote', (t) => {
  const dir = copyManifests();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const pkg = read(path.join(dir, 'package.json'));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ ...pkg, version: '9.8.7' }, null, 2));
  const { changed } = syncVersion(dir, '2030-01-02');
  const platforms = fs.readdirSync(path.join(dir, 'npm'));
  assert.equal(platforms.length, 4);
  for (const p of platforms) assert.equal(read(path.join(dir, 'npm', p, 'package.json')).version, '9.8.7', p);
  assert.ok(changed.includes('CHANGELOG.md'));
  const changelog = fs.readFileSync(path.join(dir, 'CHANGELOG.md'), 'utf8');
  assert.match(changelog, /\n## Unreleased\n\n## 9\.8\.7 \(2030-01-02\)\n/);
  // Run again: nothing left to change.
  assert.deepEqual(syncVersion(dir, '2030-01-02').changed, []);
});

test('the committed platform packages carry the main package version and npm libc names', () => {
  const { version, napi } = read(path.join(ROOT, 'package.json'));
  for (const p of fs.readdirSync(path.join(ROOT, 'npm'))) {
    const sub = read(path.join(ROOT, 'npm', p, 'package.json'));
    assert.equal(sub.version, version, p);
    assert.deepEqual(sub.libc, [p.endsWith('-musl') ? 'musl' : 'glibc'], p);
    assert.equal(sub.main, `${napi.binaryName}.${p}.node`, p);
  }
});
