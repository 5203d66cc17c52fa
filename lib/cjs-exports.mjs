// The export names of the CommonJS modules a function's ES modules import, found once by
// `lambda-rapid warm` and kept next to the compile cache (lib/compile-cache.mjs).
//
// Why: when an ES module imports a CommonJS one (`import { DynamoDBClient } from
// '@aws-sdk/client-dynamodb'`), Node finds the named exports by lexing the CommonJS source
// (cjs-module-lexer, following re-exports) and, for a `.js` file whose package.json has no
// "type", first compiles it to tell which kind it is. Neither is cached by the compile cache.
// For the AWS SDK's DynamoDB clients that is ~15 ms of a ~55 ms import on Node 22, measured
// with and without this (docs/compile-cache.md).
//
// How: `warm` records, for each CommonJS module loaded through `import`, the names Node gave its
// namespace (Object.keys of the namespace: Node's own answer, so nothing is guessed), and the
// size and mtime of every file the function loaded (the lexer follows re-exports into other
// files, and those are loaded when the module runs) and of those modules' package.json files.
// At a cold start, during the function's load only, a load hook (module.registerHooks, Node
// 22.15+ / 23.5+) answers an `import` of such a module with a small ES module that `require`s it
// and exports those names: the values Node would give (own properties of module.exports read
// once after it ran; `default` is module.exports), without the lexing. Before the first such
// answer every recorded file is checked (one stat each, ~0.1 ms for the SDK's 36 files): when
// any changed, or the index was written by another Node version, the whole index is ignored
// and Node lexes as usual. `require` is never touched. Without an index there is no hook at all.
import { builtin } from './builtin.mjs';
import { CJS_EXPORTS_INDEX, RECORD_CJS_EXPORTS_ENV } from './compile-cache.mjs';

const fs = builtin('node:fs');
const path = builtin('node:path');


const nodeModule = () => builtin('node:module');
const canHook = () => typeof nodeModule().registerHooks === 'function';

/**
 * Before the function loads: the hook that records (under `warm`) or serves the index in
 * `cacheDir`. Returns a function to call once the function has loaded: it writes the index, or
 * removes the hook, and resolves with { served, recorded, current } (undefined when there was no
 * hook). Never throws: the index is an optimisation.
 */
export function useCjsExports(cacheDir, env = process.env) {
  try {
    if (!canHook() || env.LAMBDA_RAPID_COMPILE_CACHE === '0') return noop;
    const done = env[RECORD_CJS_EXPORTS_ENV] ? record(env[RECORD_CJS_EXPORTS_ENV]) : serve(path.join(cacheDir, CJS_EXPORTS_INDEX));
    return () => done().catch(() => undefined);
  } catch {
    return noop;
  }
}

const noop = async () => undefined;

function serve(file) {
  let index;
  try {
    index = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return noop; // unreadable: loaded the usual way
  }
  if (index?.node !== process.version || typeof index.modules !== 'object' || !Array.isArray(index.files)) return noop;
  const modules = new Map(Object.entries(index.modules));
  let current; // whether every recorded file is as `warm` saw it: checked once, at the first use
  let served = 0;
  let hooks;
  const done = () => {
    hooks?.deregister();
    hooks = undefined;
  };
  hooks = nodeModule().registerHooks({
    load(url, context, nextLoad) {
      const entry = modules.get(url);
      if (entry === undefined || !context.conditions?.includes('import')) return nextLoad(url, context);
      current ??= unchanged(index.files);
      if (!current) {
        done(); // the whole index is off
        return nextLoad(url, context);
      }
      served++;
      // Removed once the last recorded module is served: while a hook is registered, every
      // module Node loads (the hundreds the SDK `require`s next) goes through it.
      if (served === modules.size) done();
      return { format: 'module', source: wrapperSource(entry), shortCircuit: true };
    },
  });
  return async () => {
    done();
    return { served, recorded: modules.size, current: current !== false };
  };
}

function unchanged(files) {
  try {
    return files.every(([file, size, mtimeMs]) => {
      const s = fs.statSync(file);
      return s.size === size && s.mtimeMs === mtimeMs;
    });
  } catch {
    return false; // a file is gone
  }
}

// What Node's own translator gives an `import` of CommonJS: after the module ran, each name is
// module.exports' own property of that name (undefined when absent or when reading it throws),
// `default` and `module.exports` are module.exports itself.
function wrapperSource({ file, names }) {
  let source = `import { createRequire } from 'node:module';
const exports = createRequire(import.meta.url)(${JSON.stringify(file)});
const own = (name) => { try { return Object.prototype.hasOwnProperty.call(exports, name) ? exports[name] : undefined; } catch { return undefined; } };
export default exports;
`;
  names.forEach((name, i) => {
    if (name === 'default') return;
    source += `const e${i} = ${name === 'module.exports' ? 'exports' : `own(${JSON.stringify(name)})`};\nexport { e${i} as ${JSON.stringify(name)} };\n`;
  });
  return source;
}

function record(indexFile) {
  const imported = [];
  const loaded = new Set();
  const hooks = nodeModule().registerHooks({
    load(url, context, nextLoad) {
      const result = nextLoad(url, context);
      if (url.startsWith('file:')) {
        loaded.add(url);
        if (result.format === 'commonjs' && context.conditions?.includes('import')) imported.push(url);
      }
      return result;
    },
  });
  return async () => {
    hooks.deregister();
    const { fileURLToPath } = builtin('node:url');
    const modules = {};
    const files = new Set([...loaded].map((url) => fileURLToPath(url)));
    for (const url of imported) {
      try {
        const names = Object.keys(await import(url));
        const file = fileURLToPath(url);
        modules[url] = { file, names };
        const packageJson = nearestPackageJson(file);
        if (packageJson) files.add(packageJson);
      } catch {
        // it failed to load: the function's init reports that, and the index skips it
      }
    }
    const stats = [...files].map((file) => {
      const s = fs.statSync(file);
      return [file, s.size, s.mtimeMs];
    });
    // No CommonJS imported by an ES module: no index, and no hook at the cold starts.
    if (Object.keys(modules).length > 0) fs.writeFileSync(indexFile, JSON.stringify({ node: process.version, files: stats, modules }));
    return { served: 0, recorded: Object.keys(modules).length, current: true };
  };
}

// The package.json whose "type" (or its absence) made the file CommonJS.
function nearestPackageJson(file) {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'package.json');
    if (fs.existsSync(candidate)) return candidate;
    if (dir === path.dirname(dir)) return null;
  }
}
