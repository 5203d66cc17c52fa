// Managed Instances (4.x with AWS_LAMBDA_MAX_CONCURRENCY): the main thread only starts worker
// threads, each a whole runtime (index.mjs again: its own client, handler, and invoke loop,
// which itself serves several invocations at once), and watches them, as the official 4.x
// client does; it also restarts one that dies. Both sides of that conversation live here.
// Loaded only in that mode.
import { builtin } from './builtin.mjs';
import { formatErrorForText } from './logging.mjs';
import { workerCount, workerResourceLimits } from './worker-sizing.mjs';

export { workerCount };

const { Worker } = builtin('node:worker_threads');

// Node refuses these in a worker's execArgv (the official client drops the same three, and
// crashes on any other V8 flag: see startWorker).
const WORKER_REFUSED_FLAGS = ['--expose-gc', '--max-semi-space-size', '--max-old-space-size'];

// How a worker tells the main thread where it stands (worker_threads messages and workerData).
const SIGNAL = 'lambdaRapidWorker';
const QUICK_DEATH_MS = 1000;
const MAX_RESTART_DELAY_MS = 10_000;

const threads = builtin('node:worker_threads');
export const { isMainThread } = threads;
/** This worker was started again after one died: its init is not the environment's. */
export const isRestartedWorker = Boolean(threads.workerData?.[SIGNAL]?.restarted);

/** Worker side: init is done and the invoke loop runs (a worker that dies now is restarted). */
export function reportServing() {
  threads.parentPort?.postMessage({ [SIGNAL]: 'serving' });
}

/** Worker side: GET next failed `attempts` times in a row; the environment cannot go on. */
export function reportRuntimeApiGone(attempts, err) {
  threads.parentPort?.postMessage({ [SIGNAL]: 'runtime-api-gone', attempts, message: String(err?.message ?? err) });
}

/**
 * Runs `count` workers on `entry` (with this process's arguments and environment) and resolves
 * with the process's exit code once the environment cannot go on. A worker that fails or exits
 * with a code other than 0 is reported on stderr, as the official main thread does it: its
 * console is not patched, so `Worker N error:` or `Worker N exit:` then a tab and the error as
 * JSON. Unlike the official client (which lets the capacity shrink and exits 0 when the last
 * worker has ended), a worker that dies after its init is started again (after a backoff when
 * it lived less than a second); the process ends with 1 when a worker gave up on the Runtime
 * API (lib/retry.mjs), or when no worker is left because every one failed its init.
 */
export function runWorkers({ entry, endpoint, count = workerCount(), verbose = () => {} }) {
  verbose('WorkerManager', () => `Starting ${count} worker threads`);
  let execArgv = process.execArgv.filter((arg) => !WORKER_REFUSED_FLAGS.some((flag) => arg.startsWith(flag)));
  const resourceLimits = workerResourceLimits();
  const live = new Set();
  let restartsPending = 0;
  let ending = false;
  let resolveExit;
  const exitCode = new Promise((resolve) => { resolveExit = resolve; });

  // The record first, then every worker ended (their output flushed), then the exit code.
  async function endEnvironment(record) {
    if (ending) return;
    ending = true;
    console.error(record);
    await Promise.all([...live].map((w) => w.terminate().catch(() => {})));
    verbose('WorkerManager', () => 'All workers have exited');
    resolveExit(1);
  }

  function start(id, { restarted = false, quickDeaths = 0 } = {}) {
    const startedAt = Date.now();
    let serving = false;
    let worker;
    ({ worker, execArgv } = startWorker(entry, {
      argv: process.argv.slice(2), env: process.env, execArgv, resourceLimits, workerData: { [SIGNAL]: { id, restarted } },
    }, verbose));
    live.add(worker);
    worker.on('message', (message) => {
      if (message?.[SIGNAL] === 'serving') serving = true;
      else if (message?.[SIGNAL] === 'runtime-api-gone') {
        endEnvironment(`Worker ${id} could not reach the Runtime API at ${endpoint} after ${message.attempts} attempts: ` +
          `the environment cannot go on. Last error: ${message.message}`);
      }
    });
    worker.on('error', (err) => {
      console.error(`Worker ${id} error:`, formatErrorForText(intoError(err)));
    });
    worker.on('exit', (code) => {
      live.delete(worker);
      if (ending) return;
      if (code !== 0) console.error(`Worker ${id} exit:`, formatErrorForText(new Error(`Worker ${id} exited with code ${code}`)));
      if (!serving) {
        // Its init failed (and was reported): starting it again would fail the same way.
        if (live.size === 0 && restartsPending === 0) {
          endEnvironment('No worker is left: every worker failed its initialization (the errors are above); the environment cannot go on');
        }
        return;
      }
      const { delay, quickDeaths: deaths } = restartDelay(Date.now() - startedAt, quickDeaths);
      restartsPending += 1;
      setTimeout(() => {
        restartsPending -= 1;
        if (ending) return;
        console.error(`Worker ${id} restarted (it ended with code ${code})`);
        start(id, { restarted: true, quickDeaths: deaths });
      }, delay);
    });
  }

  for (let id = 0; id < count; id++) start(id);
  return exitCode;
}

/**
 * `new Worker`, and again without the flags Node refuses in a worker's execArgv when it refuses
 * some: V8's options (`--optimize-for-size`, `--max-lazy`, `--stack-size`, ...) are the whole
 * process's, so the workers have them anyway; a Node option a worker cannot take is one it
 * cannot honour. The official 4.x client drops only three such flags and, given any other, its
 * main thread throws and the environment ends before serving anything (docs/compatibility.md).
 * Returns { worker, execArgv } (the execArgv that worked, for the next workers).
 */
function startWorker(entry, options, verbose) {
  try {
    return { worker: new Worker(entry, options), execArgv: options.execArgv };
  } catch (err) {
    if (err?.code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw err;
    // "Initiated Worker with invalid execArgv flags: --a, --b=1": those; every flag when the
    // message says otherwise.
    const listed = /flags: (.+)$/.exec(err.message)?.[1].split(', ');
    const refused = new Set(listed ?? options.execArgv);
    const execArgv = options.execArgv.filter((arg) => !refused.has(arg));
    verbose('WorkerManager', () => `Node refuses ${[...refused].join(' ')} in a worker: the workers start without (V8's flags apply to them all the same)`);
    return { worker: new Worker(entry, { ...options, execArgv }), execArgv };
  }
}

/**
 * When to start again a worker that lived `livedMs` and had died `quickDeaths` times in a row
 * within a second of its start: at once after a longer life, else 100 ms doubling to 10 s, so
 * that a function that crashes its worker at every start does not spin the CPU.
 */
export function restartDelay(livedMs, quickDeaths) {
  if (livedMs >= QUICK_DEATH_MS) return { delay: 0, quickDeaths: 0 };
  const deaths = quickDeaths + 1;
  return { delay: Math.min(100 * 2 ** (deaths - 1), MAX_RESTART_DELAY_MS), quickDeaths: deaths };
}

const intoError = (err) => (err instanceof Error ? err : new Error(String(err)));
