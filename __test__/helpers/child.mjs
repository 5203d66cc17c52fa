// Waiting on a spawned process without ever hanging. A child that cannot be spawned (a missing
// binary: ENOENT) emits 'error' and never 'exit' or 'close', so a test that waits only for those
// waits for good and leaves its servers open. Every helper that spawns goes through `watch`.

/**
 * `exited`: resolves on 'exit' ({ code, signal }) or on a spawn failure ({ code: null, signal:
 * null, error }). `closed`: the same, once stdio has also closed. `kill(signal)`: signals the
 * child if it still runs and resolves with `exited`.
 */
export function watch(child) {
  let spawnError;
  const failed = new Promise((resolve) => child.once('error', (error) => {
    // 'error' also reports a failed kill() or send() of a running child: only a child that
    // never started (no pid) counts as ended by it.
    if (child.pid === undefined) {
      spawnError = error;
      resolve({ code: null, signal: null, error });
    }
  }));
  const exited = Promise.race([
    new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
    failed,
  ]);
  const closed = Promise.race([
    new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal }))),
    failed,
  ]);
  return {
    exited,
    closed,
    get spawnError() { return spawnError; },
    kill(signal = 'SIGKILL') {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Rejects with `what` timed out after `ms`, unless `promise` settles first (the timer is cleared). */
export function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
