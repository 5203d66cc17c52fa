// Managed Instances (4.x with AWS_LAMBDA_MAX_CONCURRENCY): the main thread only starts worker
// threads, each a whole runtime (index.mjs again: its own client, handler, and invoke loop,
// which itself serves several invocations at once), and waits for them, as the official 4.x
// client does. Loaded only in that mode.
import { builtin } from './builtin.mjs';
import { formatErrorForText } from './logging.mjs';
import { availableCpus, workerCount, workerResourceLimits, workerScaling } from './worker-sizing.mjs';

export { workerCount };

const { Worker } = builtin('node:worker_threads');

const SCALING_INTERVAL_MS = 500;

// Node refuses these in a worker's execArgv (the official client drops the same three).
const WORKER_REFUSED_FLAGS = ['--expose-gc', '--max-semi-space-size', '--max-old-space-size'];

/**
 * Runs `count` workers on `entry` (with this process's arguments and environment) until every
 * one has ended. A worker that fails or exits with a code other than 0 is reported on stderr,
 * as the official main thread does it: its console is not patched, so `Worker N error:` or
 * `Worker N exit:` then a tab and the error as JSON. The others go on.
 */
export async function runWorkers({ entry, count = workerCount(), verbose = () => {} }) {
  verbose('WorkerManager', () => `Starting ${count} worker threads`);
  const execArgv = process.execArgv.filter((arg) => !WORKER_REFUSED_FLAGS.some((flag) => arg.startsWith(flag)));
  const resourceLimits = workerResourceLimits();
  const workers = [];
  const ended = [];
  const start = () => {
    const id = workers.length;
    const worker = new Worker(entry, { argv: process.argv.slice(2), env: process.env, execArgv, resourceLimits });
    workers.push(worker);
    ended.push(new Promise((resolve) => {
      worker.on('error', (err) => {
        console.error(`Worker ${id} error:`, formatErrorForText(intoError(err)));
        resolve();
      });
      worker.on('exit', (code) => {
        if (code !== 0) console.error(`Worker ${id} exit:`, formatErrorForText(new Error(`Worker ${id} exited with code ${code}`)));
        resolve();
      });
    }));
  };
  for (let id = 0; id < count; id++) start();
  // More workers while these wait on the Runtime API (lib/worker-sizing.mjs), unless the count is fixed.
  const scaling = process.env.AWS_LAMBDA_NODEJS_WORKER_COUNT ? null : setInterval(workerScaling({
    workers, cpus: availableCpus(), start: () => {
      verbose('WorkerManager', () => `Starting worker ${workers.length}: the workers wait on the Runtime API`);
      start();
    },
  }), SCALING_INTERVAL_MS).unref();
  for (let i = 0; i < ended.length; i++) await ended[i]; // a worker started meanwhile is waited for too
  clearInterval(scaling);
  verbose('WorkerManager', () => 'All workers have exited');
}

const intoError = (err) => (err instanceof Error ? err : new Error(String(err)));
