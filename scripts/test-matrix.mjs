#!/usr/bin/env node
// `npm run test:matrix`: the node tests on Node 22, 24 and 26 as well (npm test runs them on
// the Node that runs npm). The runtime behaves differently per Node line (3.x vs 4.x
// official behaviour, module loading, crash reports), so every line AWS offers is tested.
//
// Node binaries come from the npm registry (the `node-<platform>-<arch>` packages) into
// .cache/node<major>/, installed once; NODE22=/path/to/node (NODE24=...) uses a binary you
// already have instead. The native addon must be built (`npm run build`; built here if absent).
// Node 26 is LTS and nodejs26.x is in preview (4.x behaviour), so it is in the default set.
//
//   npm run test:matrix                          # Node 22, 24 and 26, every __test__/*.spec.mjs
//   node scripts/test-matrix.mjs 24              # only Node 24
//   node scripts/test-matrix.mjs 22 24 runtime-  # only the spec files whose name contains "runtime-"
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { nodeBinary, ROOT } from './node-binary.mjs';
import { provisionTestEnv, runSpecs, specFiles } from './node-tests.mjs';

const args = process.argv.slice(2);
const majors = args.filter((a) => /^\d+$/.test(a));
if (majors.length === 0) majors.push('22', '24', '26');
const only = args.filter((a) => !/^\d+$/.test(a));

function run(cmd, args, opts = {}) {
  console.log(`$ ${[cmd, ...args].join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', ...opts });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

const addon = fs.readdirSync(ROOT).some((f) => /^lambda-rapid\..*\.node$/.test(f));
if (!addon && run('npm', ['run', 'build']) !== 0) process.exit(1);

const env = provisionTestEnv();
const failed = [];
for (const major of majors) {
  const node = nodeBinary(major);
  const version = spawnSync(node, ['-v'], { encoding: 'utf8' }).stdout.trim();
  console.log(`\n== node tests on Node ${version} (${node})`);
  if (runSpecs(node, specFiles(only), env) !== 0) failed.push(version);
}
if (failed.length) {
  console.error(`\ntest:matrix failed on ${failed.join(', ')}`);
  process.exit(1);
}
console.log(`\ntest:matrix passed on Node ${majors.join(', ')}`);
