// A Node binary of a given major version for the test matrix and the conformance run: NODE<major>
// when set, the running node when it is that major, else the `node-<platform>-<arch>` package
// from the npm registry installed once into .cache/node<major>/.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function nodeBinary(major) {
  const fromEnv = process.env[`NODE${major}`];
  if (fromEnv) return fromEnv;
  if (process.versions.node.split('.')[0] === String(major)) return process.execPath;
  const pkg = `node-${process.platform}-${process.arch}`;
  const prefix = path.join(ROOT, '.cache', `node${major}`);
  const bin = path.join(prefix, 'node_modules', pkg, 'bin', 'node');
  if (!fs.existsSync(bin)) {
    const args = ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', prefix, `${pkg}@${major}`];
    console.log(`$ npm ${args.join(' ')}`);
    // Bounded: with no registry, npm would retry for many minutes.
    const r = spawnSync('npm', args, { cwd: ROOT, stdio: 'inherit', timeout: 300_000 });
    if (r.status !== 0 || !fs.existsSync(bin)) {
      throw new Error(`could not install ${pkg}@${major} from the npm registry into ${prefix}` +
        (r.error ? ` (${r.error.message})` : ` (npm exited ${r.status ?? r.signal})`));
    }
  }
  return bin;
}
