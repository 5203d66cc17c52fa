// Installs what the comparison needs, on demand, into ignored folders: a Node binary of the
// chosen major version (npm's node-<platform>-<arch> package) and the official aws-lambda-ric
// 4.x. Each step says what it does; a step that cannot run returns a reason instead of
// throwing, so the benchmark skips that candidate and says why.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { nodeBinary } from '../../scripts/node-binary.mjs';
import { NODE_CACHE, OFFICIAL_DIR, ROOT } from './paths.mjs';

const OFFICIAL_VERSION = '4';

function npm(args, opts = {}) {
  const r = spawnSync('npm', args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} failed (exit ${r.status})`);
}

/** The directory of an npm-installed Node distribution (holds bin/node and include/node). */
function nodeDistDir(bin) {
  return path.dirname(path.dirname(bin));
}

/**
 * The Node binary to run the candidates with: `spec` is a major version (20, 22, 24) or a
 * path to a node binary. A major version comes from scripts/node-binary.mjs: NODE<major>, the
 * running Node when it has that major version, else npm's node-<platform>-<arch> package,
 * installed once into .cache/ (the cache the test matrix and the conformance run share).
 */
export function resolveNode(spec, { log = console.error } = {}) {
  if (String(spec).includes('/')) {
    if (!fs.existsSync(spec)) throw new Error(`--node ${spec}: no such file`);
    return { bin: path.resolve(spec), version: execFileSync(spec, ['-v'], { encoding: 'utf8' }).trim() };
  }
  const major = String(spec);
  if (process.versions.node.split('.')[0] === major) return { bin: process.execPath, version: process.version };
  log(`bench: Node ${major} from .cache/ (installed from the npm registry on first use)`);
  const bin = nodeBinary(major);
  return { bin, version: execFileSync(bin, ['-v'], { encoding: 'utf8' }).trim() };
}

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Build tools the official client's install script needs (it compiles curl and aws-lambda-cpp). */
export function missingBuildTools() {
  const needs = [['cmake', 'cmake3'], ['autoreconf'], ['automake'], ['libtoolize'], ['make'], ['c++', 'g++'], ['cc', 'gcc']];
  return needs.filter((alts) => !alts.some(have)).map((alts) => alts[0]);
}

/**
 * The official aws-lambda-ric 4.x package directory, installed on demand into
 * benchmark/.official. LAMBDA_RAPID_BENCH_OFFICIAL may point at an existing install (the
 * package directory). Returns { dir } or { skip: reason }.
 */
export function resolveOfficial({ install = true, log = console.error } = {}) {
  const given = process.env.LAMBDA_RAPID_BENCH_OFFICIAL;
  const dir = given ? path.resolve(given) : path.join(OFFICIAL_DIR, 'node_modules', 'aws-lambda-ric');
  const ready = () => fs.existsSync(path.join(dir, 'index.mjs')) && fs.existsSync(path.join(dir, 'rapid-client.node'));
  if (ready()) return { dir, version: JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version };
  if (given) return { skip: `LAMBDA_RAPID_BENCH_OFFICIAL=${given} holds no built aws-lambda-ric (index.mjs + rapid-client.node)` };
  if (!install) return { skip: 'the official client is not installed and --no-install was given' };
  if (process.platform !== 'linux') return { skip: 'the official client builds on Linux only' };
  const missing = missingBuildTools();
  if (missing.length > 0) {
    return {
      skip: `installing aws-lambda-ric@${OFFICIAL_VERSION} compiles curl and aws-lambda-cpp and needs ${missing.join(', ')} ` +
        '(e.g. apt-get install -y cmake autoconf automake libtool g++ make)',
    };
  }
  // node-gyp must find Node's headers locally (this network may not reach nodejs.org): the npm
  // Node 22 package ships them in include/node. The official 4.x requires Node >= 22 anyway.
  let node22;
  try {
    node22 = resolveNode(22, { log });
  } catch (e) {
    return { skip: `no Node 22 to build the official client with: ${e.message}` };
  }
  const distDir = nodeDistDir(node22.bin);
  if (!fs.existsSync(path.join(distDir, 'include', 'node'))) {
    return { skip: `${distDir} has no include/node for node-gyp` };
  }
  fs.mkdirSync(OFFICIAL_DIR, { recursive: true });
  const logFile = path.join(OFFICIAL_DIR, 'install.log');
  log(`bench: installing aws-lambda-ric@${OFFICIAL_VERSION} into ${OFFICIAL_DIR} (compiles curl: about a minute on 2 cores; output in ${logFile}) ...`);
  const out = fs.openSync(logFile, 'w');
  try {
    npm(['i', '--prefix', OFFICIAL_DIR, '--no-audit', '--no-fund', '--foreground-scripts', `aws-lambda-ric@${OFFICIAL_VERSION}`], {
      env: { ...process.env, PATH: `${path.dirname(node22.bin)}:${process.env.PATH}`, npm_config_nodedir: distDir },
      stdio: ['ignore', out, out],
    });
  } catch (e) {
    const tail = fs.readFileSync(logFile, 'utf8').trim().split('\n').slice(-15).join('\n  ');
    return { skip: `installing aws-lambda-ric@${OFFICIAL_VERSION} failed: ${e.message} (last lines of ${logFile}):\n  ${tail}` };
  } finally {
    fs.closeSync(out);
  }
  if (!ready()) return { skip: `aws-lambda-ric@${OFFICIAL_VERSION} installed without rapid-client.node (were install scripts blocked?)` };
  return { dir, version: JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version };
}

/**
 * The addons the benchmark loads, release builds of this checkout copied to
 * benchmark/.cache/addon (the checkout's own binary is often a debug build while developing,
 * and may be rebuilt in the middle of a run):
 * - `product`: the addon as `npm run build` makes it (the `lambda_rapid` crate), for
 *   lambda-rapid's candidates;
 * - `bench`: the benchmark's own addon, the `lambda_rapid_bench` crate in benchmark/native (the
 *   bench server, the raw loops and the lean client; it links the product crate, so it also
 *   exports the product's classes).
 * `given` names one binary (the bench addon) to use for both.
 */
export function releaseAddon({ given, log = console.error } = {}) {
  if (given) {
    if (!fs.existsSync(given)) throw new Error(`--addon ${given}: no such file`);
    return { product: path.resolve(given), bench: path.resolve(given) };
  }
  const target = process.env.CARGO_TARGET_DIR ? path.resolve(ROOT, process.env.CARGO_TARGET_DIR) : path.join(ROOT, 'target');
  const build = (name, crate) => {
    const args = ['build', '--release', '--lib', '--quiet', '-p', crate, '--target-dir', target];
    log(`bench: building the ${name} addon in release mode (cargo ${args.filter((a) => a !== '--quiet' && a !== '--target-dir' && a !== target).join(' ')}) ...`);
    const r = spawnSync('cargo', args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) throw new Error(`cargo build --release failed (exit ${r.status}); is Rust installed?`);
    const built = path.join(target, 'release', process.platform === 'darwin' ? `lib${crate}.dylib` : `lib${crate}.so`);
    const dir = path.join(NODE_CACHE, 'addon');
    fs.mkdirSync(dir, { recursive: true });
    const out = path.join(dir, name, `lambda-rapid.${process.platform}-${process.arch}.node`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    // Copy then rename: a process that still has the previous file mapped keeps its inode.
    fs.copyFileSync(built, `${out}.tmp`);
    fs.renameSync(`${out}.tmp`, out);
    return out;
  };
  return {
    product: build('product', 'lambda_rapid'),
    bench: build('bench', 'lambda_rapid_bench'),
  };
}
