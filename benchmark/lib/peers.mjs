// The runtimes the micro-benchmarks (logging-micro.mjs, streaming-memory.mjs) compare: ours
// and the official 3.x and 4.x clients, each on the Node it runs on in Lambda. RIC3_DIR /
// RIC4_DIR / RIC3_LAUNCH point at the official clients (defaults: an install of 3.x in
// .cache/ric3/, the 4.x that `npm run bench` installs into benchmark/.official/, and the
// conformance suite's launcher in ../shared), NODE24 at a Node 24 binary (default: the one
// scripts/node-binary.mjs keeps in .cache/). `need` lists the files a runtime cannot run without.
import path from 'node:path';
import { ROOT } from '../../scripts/node-binary.mjs';
import { OFFICIAL_DIR } from './paths.mjs';

export function peerRuntimes(ours) {
  const ric3 = process.env.RIC3_DIR ?? path.join(ROOT, '.cache', 'ric3', 'node_modules', 'aws-lambda-ric');
  const ric4 = process.env.RIC4_DIR ?? path.join(OFFICIAL_DIR, 'node_modules', 'aws-lambda-ric');
  const launch3 = process.env.RIC3_LAUNCH ?? path.join(ROOT, '..', 'shared', 'conformance', 'peers', 'ric3-launch.mjs');
  const node24 = process.env.NODE24 ??
    path.join(ROOT, '.cache', 'node24', 'node_modules', `node-${process.platform}-${process.arch}`, 'bin', 'node');
  return {
    'ours-node20': { node: process.execPath, args: [ours], exec: 'AWS_Lambda_nodejs20.x', need: [ours] },
    'ric3-node20': { node: process.execPath, args: [launch3, ric3], exec: 'AWS_Lambda_nodejs20.x', need: [launch3, ric3] },
    'ours-node24': { node: node24, args: [ours], exec: 'AWS_Lambda_nodejs24.x', need: [ours, node24] },
    'ric4-node24': { node: node24, args: [path.join(ric4, 'index.mjs')], exec: 'AWS_Lambda_nodejs24.x', need: [ric4, node24] },
  };
}
