// `serve --watch`: tells the emulator when the function's code changed, so that the next request
// runs on a fresh runtime (a new process imports the new code; nothing is hot-patched, so what
// runs is exactly what a cold start on Lambda would run). Editors write a file in several steps
// (truncate, write, rename), so changes are gathered for a short quiet period and reported once.
//
// node_modules and .git are not watched at all, not merely filtered: a recursive watch puts an
// inotify watch on every directory below it, and a node_modules of some thousands of directories
// would make start-up slow and can exhaust the user's inotify watches. So the task root is
// watched flat, and each of its other directories recursively (one added when it appears).
import { readdirSync, statSync, watch } from 'node:fs';
import path from 'node:path';

const QUIET_MS = 80;
// Dependencies being installed and version control are not edits of the function.
const IGNORED = new Set(['node_modules', '.git']);

/**
 * Watches `taskRoot`; calls `onChange(files)` once per burst of changes (absolute paths).
 * Returns a function that stops watching.
 */
export function watchTaskRoot(taskRoot, onChange) {
  let pending = new Set();
  let timer = null;
  const watchers = new Map(); // directory name under the root ('' for the root) -> FSWatcher
  const changed = (file) => {
    pending.add(file);
    clearTimeout(timer);
    timer = setTimeout(() => {
      const files = [...pending];
      pending = new Set();
      onChange(files);
    }, QUIET_MS);
  };
  const add = (dir, recursive) => {
    if (watchers.has(dir)) return;
    let watcher;
    try {
      watcher = watch(path.join(taskRoot, dir), { recursive }, (_event, file) => {
        const name = file ? String(file) : '';
        if (dir === '') {
          if (IGNORED.has(name)) return;
          addDirectory(name); // a new directory at the top: watch it too
        }
        changed(path.join(taskRoot, dir, name));
      });
    } catch {
      return; // gone already, or not a directory
    }
    // A watch that fails later (its directory removed) ends quietly; the root's says so.
    watcher.on('error', (e) => {
      watchers.delete(dir);
      watcher.close();
      if (dir === '') process.stderr.write(`lambda-rapid: --watch stopped: ${e.message}\n`);
    });
    watchers.set(dir, watcher);
  };
  const addDirectory = (name) => {
    if (!name || IGNORED.has(name) || name.includes(path.sep)) return;
    if (statSync(path.join(taskRoot, name), { throwIfNoEntry: false })?.isDirectory()) add(name, true);
  };
  add('', false);
  for (const entry of readdirSync(taskRoot, { withFileTypes: true })) {
    if (entry.isDirectory()) addDirectory(entry.name);
  }
  return () => {
    clearTimeout(timer);
    for (const w of watchers.values()) w.close();
    watchers.clear();
  };
}
