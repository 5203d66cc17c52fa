#!/usr/bin/env node
// `npm run conformance`: replays the shared conformance cases (golden records of the official
// client) against this runtime for both peers (and the 4.x goldens on Node 26), and fails unless every case passes, apart from
// the intended differences listed in docs/compatibility.md (listed again here, so that a new
// failure, or an intended difference that quietly went away, fails the run).
//
// The suite lives outside this repository: CONFORMANCE_DIR, else ../shared/conformance next to
// the checkout. Without it the run is skipped, saying so.
// Node 24 for the ric4 peer comes from scripts/node-binary.mjs.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { nodeBinary, ROOT } from './node-binary.mjs';

const INTENDED = {
  'ric3-node20': [],
  'ric4-node24': [
    'context-bad-client-context',
    'never-resolves-nonasync',
    'uncaught-exception-in-invoke',
    'unhandled-rejection-nonerror',
  ],
};
// Cases whose golden records one side of a timing race (docs/compatibility.md, "Timing races"):
// they may pass or fail, and a failure is reported without failing the run.
const RACES = {
  'ric3-node20': ['order-context-succeed'],
  'ric4-node24': [],
};
const PEER_NODE = { 'ric3-node20': 20, 'ric4-node24': 24 };
// nodejs26.x (in preview) runs the 4.x client: our runtime on Node 26 is held to the same 4.x
// goldens, with the same intended differences. `node scripts/conformance.mjs ric4-node24@26`.
const RUNS_BY_DEFAULT = ['ric3-node20', 'ric4-node24', 'ric4-node24@26'];

const dir = [process.env.CONFORMANCE_DIR, path.join(ROOT, '..', 'shared', 'conformance')]
  .filter(Boolean)
  .find((d) => fs.existsSync(path.join(d, 'check.sh')));
if (!dir) {
  console.log('conformance: SKIPPED, no conformance suite found (set CONFORMANCE_DIR)');
  process.exit(0);
}

const runs = process.argv.slice(2).length ? process.argv.slice(2) : RUNS_BY_DEFAULT;
let ok = true;
for (const run of runs) {
  const [peer, major = PEER_NODE[run.split('@')[0]]] = run.split('@');
  const node = nodeBinary(major);
  // check.sh puts the peer's node (NODE<its major>) first on PATH: here the one chosen.
  const env = { ...process.env, [`NODE${PEER_NODE[peer]}`]: node };
  console.log(`\n== conformance ${peer} on Node ${major} (${node})`);
  const r = spawnSync('sh', [path.join(dir, 'check.sh'), `node ${path.join(ROOT, 'index.mjs')}`, peer], {
    cwd: ROOT, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024,
  });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  const failed = [...r.stdout.matchAll(/^FAIL ([\w-]+)/gm)].map((m) => m[1]).sort();
  const summary = /(\d+) passed, (\d+) failed/.exec(r.stdout);
  const raced = failed.filter((c) => RACES[peer].includes(c));
  if (raced.length) console.log(`conformance ${run}: timing race lost, tolerated (docs/compatibility.md): ${raced.join(', ')}`);
  const unexpected = failed.filter((c) => !INTENDED[peer].includes(c) && !RACES[peer].includes(c));
  const gone = INTENDED[peer].filter((c) => !failed.includes(c));
  if (!summary) {
    console.error(`conformance ${run}: the suite did not run (exit ${r.status})`);
    ok = false;
  }
  if (unexpected.length) {
    console.error(`conformance ${run}: unexpected failures: ${unexpected.join(', ')}`);
    ok = false;
  }
  if (gone.length) {
    console.error(`conformance ${run}: intended differences that now pass (update docs/compatibility.md and this list): ${gone.join(', ')}`);
    ok = false;
  }
  if (summary && !unexpected.length && !gone.length) {
    console.log(`conformance ${run}: OK (${summary[1]} passed, ${failed.length - raced.length} intended differences, ${raced.length} timing races lost)`);
  }
}
process.exit(ok ? 0 : 1);
