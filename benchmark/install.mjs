#!/usr/bin/env node
// `npm run bench:install`: what installing the runtime client costs, lambda-rapid beside the
// official aws-lambda-ric 4.0.2 and 3.3.0, each installed the same way: `npm install` into an
// empty folder with a fresh npm cache, so every byte is downloaded and everything built. Reports
// the packed size (the tarballs npm downloads), the installed size (node_modules, bytes of
// files) and the wall time of `npm install`.
//
// lambda-rapid is installed from the tarballs `npm run package` wrote (main + this machine's
// platform package; npm also asks the registry for the three other platform packages, which
// are optional and skipped), with no compiler on PATH. The official clients come from the
// registry and compile their native part (curl and the AWS C runtime client): they need cmake,
// autoconf, automake, libtool, make and g++, and take a core for a minute or more each, so this
// is opt-in and never part of `npm test` or CI.
//
//   npm run bench:install                 # all three
//   node benchmark/install.mjs ours       # only lambda-rapid (seconds)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { distTarballs } from '../scripts/package.mjs';
import { bareToolPath, hostPlatform, npmInstall, treeBytes } from '../scripts/package-test.mjs';

const OFFICIAL = ['4.0.2', '3.3.0'];

function ours(dir) {
  const { version, main, platform } = distTarballs();
  const tarballs = [main, platform(hostPlatform())];
  const env = { PATH: bareToolPath(dir), HOME: path.join(dir, 'home'), npm_config_cache: path.join(dir, 'cache') };
  const fn = path.join(dir, 'fn');
  fs.mkdirSync(fn);
  const r = npmInstall(fn, tarballs, env);
  return {
    name: `lambda-rapid ${version} (+ lambda-rapid-${hostPlatform()})`,
    packed: tarballs.reduce((n, f) => n + fs.statSync(f).size, 0),
    fetched: treeBytes(env.npm_config_cache),
    installed: treeBytes(path.join(fn, 'node_modules')),
    seconds: r.ms / 1000,
  };
}

function official(dir, version) {
  const env = { ...process.env, npm_config_cache: path.join(dir, 'cache') };
  const fn = path.join(dir, 'fn');
  fs.mkdirSync(fn);
  const r = npmInstall(fn, [`aws-lambda-ric@${version}`], env);
  const fetched = treeBytes(env.npm_config_cache);
  const pack = spawnSync('npm', ['pack', '--json', `aws-lambda-ric@${version}`], { cwd: dir, env, encoding: 'utf8', timeout: 120_000 });
  const [{ size }] = JSON.parse(pack.stdout);
  return { name: `aws-lambda-ric ${version}`, packed: size, fetched, installed: treeBytes(path.join(fn, 'node_modules')), seconds: r.ms / 1000 };
}

const only = process.argv[2];
const rows = [];
const jobs = [['ours', ours], ...OFFICIAL.map((v) => [v, (dir) => official(dir, v)])].filter(([k]) => !only || k === only);
for (const [key, job] of jobs) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `lambda-rapid-install-bench-${key}-`));
  try {
    console.log(`== ${key}`);
    rows.push(job(dir));
  } catch (e) {
    rows.push({ name: key === 'ours' ? 'lambda-rapid' : `aws-lambda-ric ${key}`, error: e.message.split('\n')[0] });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
const mb = (n) => (n / 1e6).toFixed(2);
console.log(`\nInstall into an empty folder, fresh npm cache (${os.cpus().length} cores, Node ${process.version}, ${new Date().toISOString()}):\n`);
console.log('| package | tarball MB | npm fetched MB | installed MB | `npm install` s |');
console.log('|---|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(r.error ? `| ${r.name} | failed: ${r.error} | | | |`
    : `| ${r.name} | ${mb(r.packed)} | ${mb(r.fetched)} | ${mb(r.installed)} | ${r.seconds.toFixed(1)} |`);
}
