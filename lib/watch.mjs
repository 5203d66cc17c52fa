// `serve --watch`: tells the emulator when the function's code changed, so that the next request
// runs on a fresh runtime (a new process imports the new code; nothing is hot-patched, so what
// runs is exactly what a cold start on Lambda would run). Editors write a file in several steps
// (truncate, write, rename), so changes are gathered for a short quiet period and reported once.
import { watch } from 'node:fs';
import path from 'node:path';

const QUIET_MS = 80;
// Dependencies installing and version control are not edits of the function.
const IGNORED = /(^|[\\/])(node_modules|\.git)([\\/]|$)/;

/**
 * Watches `taskRoot` recursively; calls `onChange(files)` once per burst of changes. Returns a
 * function that stops watching.
 */
export function watchTaskRoot(taskRoot, onChange) {
  let pending = new Set();
  let timer = null;
  const watcher = watch(taskRoot, { recursive: true }, (_event, file) => {
    const name = file ? String(file) : '';
    if (IGNORED.test(name)) return;
    pending.add(name || '.');
    clearTimeout(timer);
    timer = setTimeout(() => {
      const files = [...pending].map((f) => path.join(taskRoot, f));
      pending = new Set();
      onChange(files);
    }, QUIET_MS);
  });
  // A watch that fails later (the directory removed) must not crash serve; it says so instead.
  watcher.on('error', (e) => process.stderr.write(`lambda-rapid: --watch stopped: ${e.message}\n`));
  return () => {
    clearTimeout(timer);
    watcher.close();
  };
}
