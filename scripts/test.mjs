#!/usr/bin/env node
// `npm test`: every test, on a machine that has Rust and Node and nothing else of ours. The
// Rust tests, the release build of the addon, then the node specs on the Node that runs npm,
// with Node 24 (the 4.x mode) and AWS's RIE provisioned into .cache/ first (scripts/node-tests.mjs).
//
//   npm test                      # everything
//   npm test -- runtime- logging  # only the spec files whose name contains one of these
//   npm test -- --no-cargo ...    # skip the Rust tests and the build (an addon must be built)
import { spawnSync } from 'node:child_process';
import { ROOT } from './node-binary.mjs';
import { provisionTestEnv, runSpecs, specFiles } from './node-tests.mjs';

const args = process.argv.slice(2);
const only = args.filter((a) => !a.startsWith('--'));

function step(cmd, cmdArgs) {
  console.log(`$ ${[cmd, ...cmdArgs].join(' ')}`);
  const r = spawnSync(cmd, cmdArgs, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`test: \`${[cmd, ...cmdArgs].join(' ')}\` failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`})`);
    process.exit(1);
  }
}

if (!args.includes('--no-cargo')) {
  step('cargo', ['test', '--workspace', '--quiet']);
  step('npm', ['run', 'build']);
}
const env = provisionTestEnv();
process.exit(runSpecs(process.execPath, specFiles(only), env));
