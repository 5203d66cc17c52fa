// The node:test run that `npm test` and `npm run test:matrix` share: which spec files, with
// which runner flags, and the tools the specs need, provisioned into .cache/ first.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { nodeBinary, ROOT } from './node-binary.mjs';

// Every test has a timeout of its own (__test__/helpers/node-test.mjs: a hang fails that test,
// by name); --test-timeout is the backstop (per test on Node 22+, per spec file on Node 20), and
// --test-force-exit ends a spec file whose tests are done even if a handle was left open.
export const RUNNER_FLAGS = ['--test', '--test-concurrency=2', '--test-timeout=300000', '--test-force-exit'];

/** The spec files, sorted, whose name contains one of `only` (all when empty). */
export function specFiles(only = []) {
  // Listed here, not globbed by node, so that Node 20's runner works too.
  return fs.readdirSync(path.join(ROOT, '__test__'))
    .filter((f) => f.endsWith('.spec.mjs') && (only.length === 0 || only.some((o) => f.includes(o))))
    .sort()
    .map((f) => path.join('__test__', f));
}

const RIE_MODULE = 'github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@latest';
const RIE = path.join(ROOT, '.cache', 'bin', 'aws-lambda-rie');

/**
 * AWS's Runtime Interface Emulator for __test__/emulator-rie.spec.mjs, built with Go into
 * .cache/bin/ once. Returns the binary, or null with the reason printed (the spec then skips).
 */
function provisionRie() {
  if (process.env.LAMBDA_RAPID_RIE) return process.env.LAMBDA_RAPID_RIE;
  if (fs.existsSync(RIE)) return RIE;
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.error || go.status !== 0) {
    console.log('test: no Go toolchain, so no AWS RIE: emulator-rie.spec.mjs will skip');
    return null;
  }
  console.log(`$ GOBIN=${path.dirname(RIE)} go install ${RIE_MODULE}   (about 30 s, once)`);
  const r = spawnSync('go', ['install', RIE_MODULE], {
    cwd: ROOT, stdio: 'inherit', timeout: 300_000, env: { ...process.env, GOBIN: path.dirname(RIE) },
  });
  if (r.status !== 0 || !fs.existsSync(RIE)) {
    console.log(`test: AWS RIE could not be built (go exited ${r.status ?? r.signal}): emulator-rie.spec.mjs will skip`);
    return null;
  }
  return RIE;
}

const CARGO_LAMBDA_DIR = path.join(ROOT, '.cache', 'cargo-lambda');
// Pinned: the version whose behaviour docs/reliability.md records.
const CARGO_LAMBDA_VERSION = '1.9.2';

/**
 * cargo-lambda's emulator for __test__/emulator-cargo-lambda.spec.mjs: a PyPI package holding
 * one native binary, installed into .cache/ once (~3 s, 34 MB; --no-deps leaves out the ~400 MB
 * ziglang wheel, needed only to cross-compile Rust). Returns the binary, or null with the reason
 * printed (the spec then skips).
 */
function provisionCargoLambda() {
  if (process.env.LAMBDA_RAPID_CARGO_LAMBDA) return process.env.LAMBDA_RAPID_CARGO_LAMBDA;
  const bin = path.join(CARGO_LAMBDA_DIR, 'bin', 'cargo-lambda');
  if (fs.existsSync(bin)) return bin;
  const args = ['-m', 'pip', 'install', '--quiet', '--no-deps', '--no-cache-dir', '--disable-pip-version-check',
    '--upgrade', '--target', CARGO_LAMBDA_DIR, `cargo-lambda==${CARGO_LAMBDA_VERSION}`];
  console.log(`$ python3 ${args.join(' ')}`);
  const r = spawnSync('python3', args, {
    cwd: ROOT, stdio: 'inherit', timeout: 300_000, env: { ...process.env, PIP_ROOT_USER_ACTION: 'ignore' },
  });
  if (r.status !== 0 || !fs.existsSync(bin)) {
    console.log(`test: cargo-lambda could not be installed (${r.error?.message ?? `pip exited ${r.status ?? r.signal}`}): ` +
      'emulator-cargo-lambda.spec.mjs will skip');
    return null;
  }
  return bin;
}

/**
 * The environment the specs run with: NODE24 for the 4.x-mode specs (installed from the npm
 * registry into .cache/node24 unless given), LAMBDA_RAPID_RIE for the RIE cross-check,
 * LAMBDA_RAPID_CARGO_LAMBDA for the run under cargo-lambda's emulator. What
 * cannot be had is printed; the specs that need it skip, saying why.
 */
export function provisionTestEnv() {
  const env = { ...process.env };
  try {
    env.NODE24 = nodeBinary(24);
  } catch (e) {
    console.log(`test: ${e.message}: the 4.x-mode logging specs will skip`);
    env.LAMBDA_RAPID_NODE24_MISSING = e.message;
  }
  const rie = provisionRie();
  if (rie) env.LAMBDA_RAPID_RIE = rie;
  const cargoLambda = provisionCargoLambda();
  if (cargoLambda) env.LAMBDA_RAPID_CARGO_LAMBDA = cargoLambda;
  return env;
}

/** Runs the spec files on `node` with the shared flags; returns the exit status. */
export function runSpecs(node, files, env) {
  console.log(`$ ${node} ${[...RUNNER_FLAGS, ...files].join(' ')}`);
  const r = spawnSync(node, [...RUNNER_FLAGS, ...files], { cwd: ROOT, stdio: 'inherit', env });
  if (r.error) throw r.error;
  return r.status ?? 1;
}
