// Where things are: the repository, the benchmark folder and its ignored caches.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = path.resolve(BENCH, '..');
export const HANDLERS = path.join(BENCH, 'handlers');
export const CANDIDATES = path.join(BENCH, 'candidates');
export const RESULTS = path.join(BENCH, 'results');
/** Node binaries installed on demand (ignored by git). */
export const NODE_CACHE = path.join(BENCH, '.cache');
/** The official client installed on demand (ignored by git). */
export const OFFICIAL_DIR = path.join(BENCH, '.official');
