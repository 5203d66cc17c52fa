// Finding and loading the function's handler from a handler string such as `index.handler`,
// `src/app.main` or `lib/api.routes.get`, with the official runtime's resolution rules:
//
//   "dir/sub/file.a.b"  ->  module root "dir/sub/", module "file", export path "a.b"
//
// - `..` anywhere is refused (Runtime.MalformedHandlerName): the handler must stay under the
//   task root. A last segment without a dot is refused likewise.
// - The module is looked for under LAMBDA_TASK_ROOT: the name as given (an extensionless file,
//   or a directory holding an index file or a package.json "main"), then `.js` (CommonJS,
//   or ESM when the nearest package.json says "type": "module"), `.mjs`, `.cjs`; failing
//   that, Node resolution from the task root (a package in node_modules).
// - The export path is followed property by property; when that finds nothing, the same path
//   is tried under the module's default export (an ES module `export default { handler }`, or
//   CommonJS loaded through import()).
// - Errors: a missing module -> Runtime.ImportModuleError, a syntax error ->
//   Runtime.UserCodeSyntaxError, a missing export or one that is not a function ->
//   Runtime.HandlerNotFound; anything the module throws while loading keeps its own type.
//
// 3.x loads CommonJS with require() and ES modules with import(); 4.x uses import() for
// everything. It shows in one place users see (the "Require stack" of a missing dependency
// names the runtime's file under 3.x), so the mode picks (lib/mode.mjs). The official 4.x
// client cannot load a directory (import() refuses it); we can, in both modes.
import { builtin } from './builtin.mjs';
import { mode as processMode } from './mode.mjs';
import { Errors } from './errors.mjs';
import { verboseLogger } from './logging.mjs';
import { compileCacheDir, useCompileCache, RECORD_CJS_EXPORTS_ENV } from './compile-cache.mjs';

// Built-ins through getBuiltinModule, not ESM imports: this runs on every cold start
// (lib/builtin.mjs has the measurements).
const { existsSync, readFileSync, statSync } = builtin('node:fs');
const path = builtin('node:path');
const { pathToFileURL } = builtin('node:url');
const { types } = builtin('node:util');
// require() only for what needs it (CommonJS in 3.x mode, packages, directories): making one
// costs ~0.25 ms of every cold start, which an ES module handler never uses.
let require;
const nodeRequire = () => (require ??= builtin('node:module').createRequire(import.meta.url));
const HANDLER_NAME = /^([^.]*)\.(.*)$/;
const { verbose } = verboseLogger('LOADER');

/** Splits a handler string into { moduleRoot, moduleName, exportPath }, or throws MalformedHandlerName. */
export function parseHandlerString(handlerString, errors = Errors) {
  if (typeof handlerString !== 'string' || handlerString === '') {
    throw new errors.MalformedHandlerName(
      'Bad handler: no handler given (set _HANDLER or pass one as the first argument, e.g. index.handler)',
    );
  }
  if (handlerString.includes('..')) {
    throw new errors.MalformedHandlerName(
      `'${handlerString}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const base = path.basename(handlerString);
  const moduleRoot = handlerString.substring(0, handlerString.indexOf(base));
  const m = HANDLER_NAME.exec(base);
  if (!m) {
    throw new errors.MalformedHandlerName(
      `Bad handler: '${handlerString}' is not <module>.<export> (e.g. index.handler)`,
    );
  }
  return { moduleRoot, moduleName: m[1], exportPath: m[2] };
}

/**
 * Loads the handler. Returns { handler, isAsync } where isAsync tells an `async function`
 * (whose never-settling promise is an error) from a plain one. Throws the runtime errors
 * described above.
 */
export async function loadHandler({ taskRoot, handlerString, mode = processMode, errors = Errors }) {
  const { moduleRoot, moduleName, exportPath } = parseHandlerString(handlerString, errors);
  // The function's modules compile from `lambda-rapid warm`'s cache, when there is one.
  // And the CommonJS modules its ES modules import skip Node's export lexing (lib/cjs-exports.mjs),
  // whose module loads only when `warm` wrote an index (or is writing one): a cold start
  // without one pays nothing for it.
  const cache = useCompileCache(taskRoot);
  const loaded = cache?.cjsExportsIndex || process.env[RECORD_CJS_EXPORTS_ENV]
    ? (await import('./cjs-exports.mjs')).useCjsExports(compileCacheDir(taskRoot))
    : async () => undefined;
  let userModule;
  try {
    userModule = await loadModule(taskRoot, moduleRoot, moduleName, mode);
  } catch (err) {
    if (err instanceof SyntaxError) throw new errors.UserCodeSyntaxError(err);
    // 3.x reads `e.code` unguarded: a module that throws null or undefined (or whose top-level
    // await rejects with it) fails init with the TypeError of that read, as in 3.3.0.
    const code = mode.loadFailureReadsCode ? err.code : err?.code;
    if (code === 'MODULE_NOT_FOUND') throw new errors.ImportModuleError(err);
    throw err;
  } finally {
    const cjs = await loaded();
    if (cjs) verbose(`CommonJS export names: ${cjs.served} of ${cjs.recorded} modules from the index${cjs.current ? '' : ' (a file changed since warm: not used)'}`);
  }
  let handler = findExport(userModule, exportPath);
  if (!handler && userModule !== null && typeof userModule === 'object' && 'default' in userModule) {
    handler = findExport(userModule.default, exportPath);
  }
  if (!handler) throw new errors.HandlerNotFound(`${handlerString} is undefined or not exported`);
  if (typeof handler !== 'function') throw new errors.HandlerNotFound(`${handlerString} is not a function`);
  return { handler, isAsync: types.isAsyncFunction(handler) };
}

function findExport(obj, exportPath) {
  let value = obj;
  for (const key of exportPath.split('.')) {
    if (!value) return value;
    value = value[key];
  }
  return value;
}

async function loadModule(taskRoot, moduleRoot, moduleName, mode) {
  const base = path.resolve(taskRoot, moduleRoot, moduleName);
  const importFile = (file) => {
    verbose('Try loading as ES module:', file);
    return import(pathToFileURL(file).href);
  };
  const loadCommonJs = mode.loadCommonJsWithRequire
    ? (file) => {
      verbose('Try loading as CommonJS:', file);
      return nodeRequire()(file);
    }
    : importFile;

  if (existsSync(base)) {
    if (!isDirectory(base)) return loadCommonJs(base);
    return loadDirectory(base, loadCommonJs, importFile);
  }
  const js = base + '.js';
  if (existsSync(js)) return isTypeModule(path.dirname(js)) ? importFile(js) : loadCommonJs(js);
  if (existsSync(base + '.mjs')) return importFile(base + '.mjs');
  if (existsSync(base + '.cjs')) return loadCommonJs(base + '.cjs');
  // Not a file under the task root: a package (node_modules) or a bare name Node can resolve.
  const resolved = nodeRequire().resolve(moduleName, { paths: [taskRoot, path.resolve(taskRoot, moduleRoot)] });
  verbose('Try loading as a package:', resolved);
  return nodeRequire()(resolved);
}

// A directory is loaded the way `require(dir)` resolves it (package.json "main", index.js,
// ...), or through its index.mjs when it has only that.
function loadDirectory(dir, loadCommonJs, importFile) {
  let entry;
  try {
    entry = nodeRequire().resolve(dir);
  } catch (err) {
    const mjs = path.join(dir, 'index.mjs');
    if (existsSync(mjs)) return importFile(mjs);
    throw err;
  }
  if (entry.endsWith('.mjs') || (entry.endsWith('.js') && isTypeModule(path.dirname(entry)))) return importFile(entry);
  return loadCommonJs(entry);
}

function isDirectory(file) {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}

// Whether the nearest package.json above `folder` says "type": "module" (a node_modules
// folder is a boundary, as for Node itself). A package.json that cannot be parsed is ignored
// with a warning, as officially.
function isTypeModule(folder) {
  for (let dir = folder; ; dir = path.dirname(dir)) {
    if (dir.endsWith('/node_modules')) return false;
    const pj = path.join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        return JSON.parse(readFileSync(pj, 'utf8'))?.type === 'module';
      } catch (e) {
        console.warn(`${pj} cannot be read, it will be ignored for ES module detection purposes.`, e);
        return false;
      }
    }
    if (dir === path.dirname(dir)) return false;
  }
}
