// Loads the native addon: the binary built in this checkout (`npm run build`) first, then the
// per-platform package (`lambda-rapid-<platform>`, napi-rs convention; an optional dependency
// npm installs only on its os/cpu/libc). Kept tiny on purpose:
// it runs on every cold start, so no `process.report` probing for musl (it costs milliseconds);
// the gnu binary is tried first and musl only if it does not load.
import { builtin } from './builtin.mjs';

// A binary file is opened with process.dlopen, as require() would, without require()'s
// resolution machinery: ~0.5 ms less on every cold start (Node 22, this machine). Only the
// per-platform packages need require() to be found.
function candidates() {
  // An explicit binary: `npm run bench` runs its own release build, whatever the checkout's
  // binary is (often a debug build while developing).
  const explicit = process.env.LAMBDA_RAPID_NATIVE_PATH;
  if (explicit) return [{ file: explicit }];
  const { platform, arch } = process;
  const abis = platform === 'linux' ? ['gnu', 'musl'] : [''];
  const names = abis.map((abi) => `${platform}-${arch}${abi ? `-${abi}` : ''}`);
  return [
    ...names.map((n) => ({ file: new URL(`../lambda-rapid.${n}.node`, import.meta.url).pathname })),
    ...names.map((n) => ({ pkg: `lambda-rapid-${n}` })),
  ];
}

function open({ file, pkg }) {
  if (pkg) {
    // Not an ESM `import` of node:module: that costs milliseconds at start-up (lib/builtin.mjs).
    return builtin('node:module').createRequire(import.meta.url)(pkg);
  }
  const module = { exports: {} };
  process.dlopen(module, file);
  return module.exports;
}

function load() {
  const errors = [];
  for (const candidate of candidates()) {
    try {
      return open(candidate);
    } catch (e) {
      errors.push(`${candidate.file ?? candidate.pkg}: ${e.message.split('\n')[0]}`);
    }
  }
  const err = new Error(`${missingBinary()}\nTried:\n  ${errors.join('\n  ')}`);
  err.code = 'ERR_LAMBDA_RAPID_NATIVE';
  throw err;
}

// The error path only: what is missing and what to do. The libc probe (process.report, a few
// milliseconds) and reading package.json cost nothing on a start that found its binary.
function missingBinary() {
  const { platform, arch } = process;
  if (process.env.LAMBDA_RAPID_NATIVE_PATH) {
    return `lambda-rapid: LAMBDA_RAPID_NATIVE_PATH=${process.env.LAMBDA_RAPID_NATIVE_PATH} could not be loaded ` +
      '(unset it to use the installed platform package).';
  }
  if (platform !== 'linux' || (arch !== 'x64' && arch !== 'arm64')) {
    return `lambda-rapid: there is no prebuilt binary for ${platform}-${arch}: the packages cover Lambda's ` +
      'platforms, Linux x64 and arm64 (glibc and musl). In a checkout with Rust, `npm run build` builds ' +
      'one for this machine; or run your function in a Linux container.';
  }
  const glibc = process.report?.getReport?.().header?.glibcVersionRuntime;
  const abi = glibc ? 'gnu' : 'musl';
  const pkg = `lambda-rapid-${platform}-${arch}-${abi}`;
  let version = '';
  try {
    const json = builtin('node:fs').readFileSync(new URL('../package.json', import.meta.url), 'utf8');
    version = `@${JSON.parse(json).version}`;
  } catch {
    // A copy of the package without its package.json: name the package without a version.
  }
  return `lambda-rapid: no native binary for ${platform}-${arch} (${glibc ? `glibc ${glibc}` : 'musl'}). ` +
    `It ships in the package ${pkg}, an optional dependency of lambda-rapid, which is not installed ` +
    `or did not load (reasons below). Install it beside lambda-rapid: npm i ${pkg}${version}. ` +
    '(npm skips it with --omit=optional, or when package-lock.json was written on another ' +
    'OS/CPU/libc and lacks it: reinstall without the lock file, or install with ' +
    `--os=${platform} --cpu=${arch} --libc=${glibc ? 'glibc' : 'musl'}; see docs/deploy.md.)`;
}

const native = load();
// Every export of the addon, by name (native.d.ts declares them). The default export is the
// addon object itself, for this package's own modules (the benchmark loads its own addon,
// benchmark/native, through this module too: its bench server and raw loops).
export const { RuntimeClient, ResponseStreamWriter, Emulator, startEmulator } = native;
export default native;
