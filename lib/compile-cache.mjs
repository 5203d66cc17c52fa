// The compile cache (Node >= 22.1, `module.enableCompileCache`): V8's compiled code for the
// function's modules, and for the runtime's own, kept in <task root>/.lambda-rapid-cache.
//
// - Written once, at image build time, by `lambda-rapid warm <handler>` (lib/warm.mjs): it
//   starts the runtime as Lambda would, lets it load the function, and ends it.
// - Read at every cold start, before the function's modules load (lib/handler.mjs), and
//   before the runtime's own when the runtime is started through `lambda-rapid <handler>`
//   (bin/lambda-rapid.mjs). `node index.mjs` compiles its own modules before any line of it
//   runs; NODE_COMPILE_CACHE=<task root>/.lambda-rapid-cache in the function's environment
//   gives it those too.
// - Costs nothing when there is no cache: one `existsSync`; nothing is ever created next to the
//   function by the runtime itself.
// - Read-only directories (Lambda's /var/task) work: Node reads the entries and fails silently
//   when it cannot write new ones at exit.
// - Node keeps one subdirectory per user (`v22.23.5-x64-<flags hash>-<uid>`), and the image is
//   built by another user (root) than the one Lambda runs the function as. When the entries
//   were written for another uid, the runtime links that subdirectory under its own uid's name
//   in a directory of its own in the temporary directory (one mkdir and one symlink, ~0.1 ms)
//   and points Node there.
// - Never stale: Node keys each entry by the file's path and checks a hash of its source (and
//   the Node version, architecture and V8 flags, a subdirectory each) before using it; a changed
//   file is compiled from source. `warm` starts from an empty directory, so no entry for old
//   code is kept.
// Node 20 has no compile cache: there, nothing is read and `warm` says it wrote nothing.
import { builtin } from './builtin.mjs';

const fs = builtin('node:fs');
const path = builtin('node:path');

export const CACHE_DIR_NAME = '.lambda-rapid-cache';
/** lib/cjs-exports.mjs's index, when `warm` found CommonJS imported by ES modules. */
export const CJS_EXPORTS_INDEX = 'cjs-exports.json';
/** Set by `warm` in the runtime it starts: the file lib/cjs-exports.mjs writes that index to. */
export const RECORD_CJS_EXPORTS_ENV = 'LAMBDA_RAPID_RECORD_CJS_EXPORTS';

/** Where the cache of the function in `taskRoot` lives. */
export const compileCacheDir = (taskRoot) => path.join(taskRoot, CACHE_DIR_NAME);

/** Whether this Node can cache compiled code (22.1+). */
export function hasCompileCache() {
  return typeof builtin('node:module').enableCompileCache === 'function';
}

/**
 * Turns the compile cache on for the modules loaded from now on, when `lambda-rapid warm` made
 * one for `taskRoot`; returns { dir, cjsExportsIndex } (whether the cache holds that index: read
 * from the same directory listing) then, else undefined. LAMBDA_RAPID_COMPILE_CACHE=0 turns it
 * off. Never throws: a cache is an optimisation, its absence or a failure only costs the time
 * it would have saved.
 */
export function useCompileCache(taskRoot, env = process.env) {
  if (env.LAMBDA_RAPID_COMPILE_CACHE === '0') return undefined;
  try {
    const nodeModule = builtin('node:module');
    if (typeof nodeModule.enableCompileCache !== 'function') return undefined;
    const dir = compileCacheDir(taskRoot);
    let tags;
    try {
      tags = fs.readdirSync(dir);
    } catch {
      return undefined; // no cache: nothing to read, and nothing is created
    }
    nodeModule.enableCompileCache(dirForThisUser(dir, tags));
    return { dir, cjsExportsIndex: tags.includes(CJS_EXPORTS_INDEX) };
  } catch {
    return undefined;
  }
}

// `v<node version>-<arch>-<flags hash>-<uid>`: Node's name for one user's entries.
const TAG = /^(v[^-]+-[^-]+-[0-9a-f]+)-(\d+)$/;

/**
 * The directory to give Node: the cache itself when it holds entries for this user (or none
 * for this Node at all), else a directory in the temporary directory where this user's name
 * links to the entries another user wrote for this Node.
 */
function dirForThisUser(dir, tags) {
  const uid = process.getuid?.();
  if (uid === undefined) return dir;
  const prefix = `${process.version}-${process.arch}-`;
  const mine = tags.filter((t) => t.startsWith(prefix));
  if (mine.length === 0 || mine.some((t) => TAG.exec(t)?.[2] === String(uid))) return dir;
  const linked = path.join(builtin('node:os').tmpdir(), `lambda-rapid-compile-cache-${uid}`);
  fs.mkdirSync(linked, { recursive: true, mode: 0o700 });
  // Compiled code is trusted as it is: only a directory this user owns, not a link someone
  // else placed in the shared temporary directory.
  const own = fs.lstatSync(linked);
  if (!own.isDirectory() || own.uid !== uid) return dir;
  for (const tag of mine) {
    const m = TAG.exec(tag);
    if (!m) continue;
    link(path.join(dir, tag), path.join(linked, `${m[1]}-${uid}`));
  }
  return linked;
}

/** Makes `name` a link to `target`, replacing a link to elsewhere (another function's cache). */
function link(target, name) {
  try {
    if (fs.readlinkSync(name) === target) return; // an earlier start in this sandbox made it
  } catch {
    // not there yet
  }
  // Made aside and renamed into place: workers starting together each see a whole link.
  const aside = `${name}.${process.pid}.${builtin('node:worker_threads').threadId}`;
  fs.rmSync(aside, { force: true });
  fs.symlinkSync(target, aside);
  fs.renameSync(aside, name);
}
