// How long a Managed Instances worker waits before it sends GET next again after a failure: the
// official 4.0.2 schedule (its dist/utils/retry.js), 100 ms doubling to 90 s, 20 attempts in all
// (the last retry just past the 15-minute mark, Lambda's longest invocation). A worker that
// gives up ends the environment (lib/workers.mjs); a short outage costs a few hundred ms.

export const NEXT_RETRY = Object.freeze({ attempts: 20, initialDelayMs: 100, maxDelayMs: 90_000 });

/**
 * The policy for this process: NEXT_RETRY, with LAMBDA_RAPID_NEXT_ATTEMPTS (a positive integer)
 * as the number of attempts, so that a test can watch a worker give up in 300 ms.
 */
export function nextRetryFrom(env = process.env) {
  const attempts = parseInt(env.LAMBDA_RAPID_NEXT_ATTEMPTS ?? '', 10);
  return attempts > 0 ? Object.freeze({ ...NEXT_RETRY, attempts }) : NEXT_RETRY;
}

/** The wait in ms after the `failures`-th failure in a row, or null when it is time to give up. */
export function backoffDelay(failures, policy = NEXT_RETRY) {
  if (failures >= policy.attempts) return null;
  return Math.min(policy.initialDelayMs * 2 ** (failures - 1), policy.maxDelayMs);
}
