// The scenarios: which handler, which event, what the response must be, and how many
// invocations per trial (quick / full). Events are canonical JSON (no spaces, ASCII), so an
// echo handler's JSON.parse + JSON.stringify gives back the same bytes, checked one by one.

/** A JSON event of exactly `size` bytes: {"id":"bench","data":"abc..."}. */
export function jsonEvent(size) {
  const head = '{"id":"bench","data":"';
  const tail = '"}';
  const n = size - head.length - tail.length;
  if (n < 0) throw new Error(`an event cannot be smaller than ${head.length + tail.length} bytes`);
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let data = '';
  for (let i = 0; i < n; i++) data += alphabet[(i * 7) % alphabet.length];
  return Buffer.from(head + data + tail);
}

const SMALL = jsonEvent(100);

// Must match benchmark/handlers/object.mjs, stream.mjs and log.mjs.
const OBJECT_RESPONSE = JSON.stringify({
  statusCode: 200,
  headers: { 'content-type': 'application/json', 'x-bench': 'object' },
  body: '{"ok":true,"items":[1,2,3]}',
  isBase64Encoded: false,
});
const STREAM_RESPONSE = [1, 2, 3, 4]
  .map((i) => `{"part":${i},"data":"${'abcd'[i - 1].repeat(16)}"}\n`)
  .join('');
const LOG_RESPONSE = JSON.stringify({ logged: 100 });

export const SCENARIOS = [
  { id: 'echo-100B', title: '100 B echo', handler: 'echo.handler', event: SMALL,
    n: { quick: 600, full: 3000 }, warm: { quick: 100, full: 300 } },
  { id: 'echo-10KiB', title: '10 KiB echo', handler: 'echo.handler', event: jsonEvent(10 * 1024),
    n: { quick: 400, full: 2000 }, warm: { quick: 50, full: 200 } },
  { id: 'echo-1MiB', title: '1 MiB echo', handler: 'echo.handler', event: jsonEvent(1024 * 1024),
    n: { quick: 25, full: 100 }, warm: { quick: 5, full: 10 } },
  { id: 'object', title: 'small object', handler: 'object.handler', event: SMALL,
    expected: Buffer.from(OBJECT_RESPONSE), n: { quick: 600, full: 3000 }, warm: { quick: 100, full: 300 } },
  { id: 'stream', title: 'streaming, 4 chunks', handler: 'stream.handler', event: SMALL, streaming: true,
    expected: Buffer.from(STREAM_RESPONSE), n: { quick: 300, full: 1500 }, warm: { quick: 50, full: 150 } },
  { id: 'log-text', title: '100 console.log, TEXT', handler: 'log.handler', event: SMALL,
    env: { AWS_LAMBDA_LOG_FORMAT: 'Text' }, expected: Buffer.from(LOG_RESPONSE),
    n: { quick: 150, full: 600 }, warm: { quick: 30, full: 60 } },
  { id: 'log-json', title: '100 console.log, JSON', handler: 'log.handler', event: SMALL,
    env: { AWS_LAMBDA_LOG_FORMAT: 'JSON' }, expected: Buffer.from(LOG_RESPONSE),
    n: { quick: 150, full: 600 }, warm: { quick: 30, full: 60 } },
];

/**
 * Managed Instances (4.x, AWS_LAMBDA_MAX_CONCURRENCY=C): the bench server keeps exactly C
 * invocations outstanding (benchmark/lib/measure.mjs `closedLoopTrial`). Each trial's count
 * follows the expected rate, so that the window lasts about a second (quick) or 1.5 s (full)
 * at any C: `rate(C)` is a generous guess of the slower candidate's invocations per second.
 * Only runtimes that serve Managed Instances take part; Node 24 unless --node says otherwise.
 */
export const MANAGED_INSTANCES = [
  { id: 'mc-io', title: 'Managed Instances, 10 ms await', handler: 'mc.io',
    rate: (c) => Math.min(c * 95, 12000) },
  { id: 'mc-cpu', title: 'Managed Instances, ~1 ms CPU', handler: 'mc.cpu',
    rate: (c) => Math.min(c * 700, 1000) },
].map((s) => ({ ...s, node: '24', candidates: ['lambda-rapid', 'official'] }));

/** The concurrency levels of a run (`--concurrency` replaces them). */
export const CONCURRENCY = { quick: [32], full: [1, 8, 32, 64, 256] };

/** Invocations in the window and in the warm-up before it, for one Managed Instances trial. */
export function closedLoopCounts(scenario, concurrency, mode) {
  const rate = scenario.rate(concurrency);
  const window = mode === 'quick' ? 1 : 1.5;
  // A warm-up of a second or two: both runtimes past their start-up and JIT warm-up, in their
  // steady state when the window opens.
  const warm = mode === 'quick' ? 1 : 2;
  return { n: Math.max(50, Math.round(rate * window)), warm: Math.max(2 * concurrency, Math.round(rate * warm)) };
}

/**
 * Cold start: a fresh process per sample, its first event queued before the spawn. As on
 * Lambda, the runtimes run as a user that cannot write the code directory, where `lambda-rapid
 * warm` wrote the compile cache before the first sample (`warm`; removed after the scenario).
 */
export const COLD_START = {
  id: 'cold-start', title: 'cold start', handler: 'echo.handler', event: SMALL,
  n: { quick: 20, full: 40 }, unprivileged: true, warm: true,
};

/**
 * Cold start of a real function: the DynamoDB client and DocumentClient built at init; run as
 * `cold-start` is. lambda-rapid-no-cache is the same runtime told not to read the cache.
 */
export const COLD_START_SDK = {
  id: 'cold-start-sdk', title: 'cold start, AWS SDK at init', handler: 'sdk.handler', event: SMALL,
  n: { quick: 8, full: 30 }, unprivileged: true, warm: true,
  candidates: ['lambda-rapid', 'lambda-rapid-bin', 'lambda-rapid-no-cache', 'lambda-rapid-4x', 'official', 'official-alt'],
};

export const COLD_STARTS = [COLD_START, COLD_START_SDK];
