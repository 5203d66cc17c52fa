// Loads the native addon: the binary built in this checkout (`npm run build`) first, then the
// per-platform package (`lambda-rapid-<platform>`, napi-rs convention). Kept tiny on purpose:
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
  const err = new Error(
    `lambda-rapid: no native binary for ${process.platform}-${process.arch} could be loaded ` +
      `(run \`npm run build\` in a checkout):\n  ${errors.join('\n  ')}`,
  );
  err.code = 'ERR_LAMBDA_RAPID_NATIVE';
  throw err;
}

const native = load();
// Every export of the addon, by name (native.d.ts declares them). The default export is the
// addon object itself, for this package's own modules (the benchmark's build also holds its
// bench server and raw loops, `--features bench`).
export const { RuntimeClient, ResponseStreamWriter, Emulator, startEmulator } = native;
export default native;
