// Node built-in modules for code on the cold-start path. An ESM `import ... from 'node:fs'`
// makes Node wrap the whole built-in as a synthetic ES module: measured here at ~1.5 ms for
// node:fs and 0.6-3 ms for node:util (Node 20 / 24) per process, against ~0.01 ms for
// process.getBuiltinModule (Node >= 20.16, 22.3). Older Node falls back to createRequire.
const getBuiltin = process.getBuiltinModule?.bind(process) ??
  (await import('node:module')).createRequire(import.meta.url);

/** The built-in module `id` (e.g. 'node:fs'), as require() would return it. */
export function builtin(id) {
  return getBuiltin(id);
}
