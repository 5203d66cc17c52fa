// One trial: spawn a fresh runtime, warm it up, then time N invocations fed one at a time by
// the Rust bench server, reading the runtime's CPU time before and after the measured window
// and its peak RSS at the end. Every response is checked by the server; a wrong one fails the
// trial. Timings come from the server's clock: event written -> response fully read.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import fs from 'node:fs';
import { HANDLERS } from './paths.mjs';
import { cpuNs, peakRssKiB, treeCpuNs, treePeakRssKiB } from './proc.mjs';
import { median, quantile } from './stats.mjs';

const TIMEOUT_MS = 10_000;
/** `nobody`: the code directory (owned by root, 0755) is read-only for it. */
const UNPRIVILEGED = 65534;
const canRunUnprivileged = new Map();

/**
 * The user a scenario's runtime runs as: `nobody` when the scenario asks for it and we are
 * root, provided `nobody` can reach the node binary, the code and the candidate's files (a
 * checkout under a private directory, such as a 0700 temp dir, it cannot; the scenario then
 * runs as root, and says so once).
 */
function runAs(node, candidate, scenario, env) {
  if (!scenario.unprivileged || process.getuid?.() !== 0) return {};
  const files = [HANDLERS, ...candidate.args.filter((a) => path.isAbsolute(a)), env.LAMBDA_RAPID_NATIVE_PATH].filter(Boolean);
  const key = [node, ...files].join('\0');
  if (!canRunUnprivileged.has(key)) {
    const probe = spawnSync(node, ['-e', 'const fs = require("fs"); for (const f of process.argv.slice(1)) fs.accessSync(f, fs.constants.R_OK)', ...files],
      { uid: UNPRIVILEGED, gid: UNPRIVILEGED, stdio: 'ignore', timeout: TIMEOUT_MS });
    const ok = probe.status === 0;
    if (!ok) console.error(`bench: uid ${UNPRIVILEGED} cannot read ${candidate.id}'s files or node: ${scenario.id} runs it as root`);
    canRunUnprivileged.set(key, ok);
  }
  return canRunUnprivileged.get(key) ? { uid: UNPRIVILEGED, gid: UNPRIVILEGED } : {};
}
const devNull = fs.openSync('/dev/null', 'w');

export function lambdaEnv(endpoint, handler, extra = {}) {
  return {
    PATH: process.env.PATH,
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    AWS_LAMBDA_RUNTIME_API: endpoint,
    _HANDLER: handler,
    LAMBDA_TASK_ROOT: HANDLERS,
    AWS_LAMBDA_FUNCTION_NAME: 'bench-function',
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
    AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/bench-function',
    AWS_LAMBDA_LOG_STREAM_NAME: '2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    ...extra,
  };
}

/**
 * Starts `candidate` against `server`. stdout goes to /dev/null (the logging scenarios measure
 * formatting and writing, not a reader); stderr is kept (first 8 KiB) to explain a failure.
 */
function start(server, node, candidate, scenario, nodeArgs = []) {
  const env = lambdaEnv(`127.0.0.1:${server.port}`, scenario.handler, { ...scenario.env, ...candidate.env });
  // As Lambda runs a function: a user that cannot write the code directory (when we are root).
  const user = runAs(node, candidate, scenario, env);
  const child = spawn(node, [...nodeArgs, ...candidate.args], { cwd: HANDLERS, env, stdio: ['ignore', devNull, 'pipe'], ...user });
  let stderr = '';
  child.stderr.on('data', (d) => {
    if (stderr.length < 8192) stderr += d;
  });
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      server.abort(`${candidate.id} exited (code ${code}, signal ${signal})`);
      resolve();
    });
    child.on('error', (e) => {
      server.abort(`${candidate.id} could not start: ${e.message}`);
      resolve();
    });
  });
  return {
    child,
    get stderr() {
      return stderr;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

async function feed(server, scenario, count) {
  server.enqueue(scenario.event, scenario.expected ?? null, count);
  const run = await server.wait(count, TIMEOUT_MS);
  if (run.mismatches.length > 0) {
    throw new Error(`${run.mismatches.length} of ${count} responses were wrong: ${run.mismatches.filter(Boolean).join('; ')}`);
  }
  return run;
}

function explain(e, runtime, candidate) {
  const tail = runtime.stderr.trim().split('\n').slice(-6).join('\n    ');
  e.message = `${candidate.id}: ${e.message}${tail ? `\n    stderr: ${tail}` : ''}`;
  return e;
}

/**
 * A throughput trial. Returns the per-trial metrics. For profiling, `nodeArgs` go before the
 * script and `around(pid)` is called after the warm-up; the function it returns is awaited
 * after the measured window (and `keep` leaves the runtime running for the caller to end).
 */
export async function trial(server, node, candidate, scenario, { warm, n, nodeArgs, around, keep }) {
  server.reset();
  const runtime = start(server, node, candidate, scenario, nodeArgs);
  try {
    await feed(server, scenario, warm);
    const finish = around ? await around(runtime.child.pid) : null;
    const cpu0 = cpuNs(runtime.child.pid);
    const run = await feed(server, scenario, n);
    const cpu1 = cpuNs(runtime.child.pid);
    await finish?.();
    const rssKiB = peakRssKiB(runtime.child.pid);
    const rt = run.doneNs.map((d, i) => d - run.writtenNs[i]);
    const ttfb = run.firstByteNs.map((f, i) => f - run.writtenNs[i]);
    const window = run.doneNs[n - 1] - run.writtenNs[0];
    return {
      rtUs: median(rt) / 1e3,
      rtP99Us: quantile(rt, 0.99) / 1e3,
      ttfbUs: median(ttfb) / 1e3,
      ips: n / (window / 1e9),
      cpuUs: (cpu1 - cpu0) / n / 1e3,
      rssMiB: rssKiB / 1024,
    };
  } catch (e) {
    throw explain(e, runtime, candidate);
  } finally {
    if (!keep) await runtime.stop();
  }
}

/**
 * A Managed Instances trial: the runtime starts with AWS_LAMBDA_MAX_CONCURRENCY=C and the bench
 * server keeps exactly C invocations outstanding (a closed loop: each answer queues the next
 * invocation at once), each with its own event, each answer checked against its own request id.
 * After `warm` answers the window opens; it closes after `n` more. Throughput is the answers
 * in the window over its length; latency is queued -> answer read (what the caller waits,
 * queueing in the Runtime API included); CPU and peak RSS are the whole process tree's.
 */
export async function closedLoopTrial(server, node, candidate, scenario, { concurrency, warm, n }) {
  server.reset();
  const env = { ...scenario.env, AWS_LAMBDA_MAX_CONCURRENCY: String(concurrency) };
  const runtime = start(server, node, candidate, { ...scenario, env });
  const checked = (run, what) => {
    if (run.mismatches.length > 0) {
      throw new Error(`${run.mismatches.length} ${what} answers were not their own invocation's: ${run.mismatches.filter(Boolean).join('; ')}`);
    }
    return run;
  };
  try {
    // C more than needed: the window closes with C still outstanding, as in the steady state.
    server.closedLoop(concurrency, warm + n + concurrency);
    const warmRun = checked(await server.wait(warm, TIMEOUT_MS), 'warm-up');
    const cpu0 = treeCpuNs(runtime.child.pid);
    const bench0 = process.cpuUsage();
    const run = checked(await server.wait(n, TIMEOUT_MS), 'measured');
    const cpu1 = treeCpuNs(runtime.child.pid);
    const bench = process.cpuUsage(bench0);
    const rssKiB = treePeakRssKiB(runtime.child.pid);
    const opened = Math.max(...warmRun.doneNs);
    const count = run.doneNs.length;
    const latency = run.doneNs.map((d, i) => d - run.queuedNs[i]);
    return {
      ips: count / ((Math.max(...run.doneNs) - opened) / 1e9),
      rtUs: median(latency) / 1e3,
      rtP99Us: quantile(latency, 0.99) / 1e3,
      cpuUs: (cpu1 - cpu0) / count / 1e3,
      // The Runtime API's own share (this process: the bench server's threads, mostly): the
      // machine's CPUs serve both, so it bounds what any runtime can reach.
      serverCpuUs: (bench.user + bench.system) / count,
      rssMiB: rssKiB / 1024,
    };
  } catch (e) {
    throw explain(e, runtime, candidate);
  } finally {
    await runtime.stop();
  }
}

/** A cold start: the event is queued first, then the runtime is spawned. */
export async function coldStart(server, node, candidate, scenario) {
  server.reset();
  server.enqueue(scenario.event, null, 1);
  const spawnNs = server.nowNs();
  const runtime = start(server, node, candidate, scenario);
  try {
    const run = await server.wait(1, TIMEOUT_MS);
    if (run.mismatches.length > 0) throw new Error(`wrong response: ${run.mismatches[0]}`);
    const rssKiB = peakRssKiB(runtime.child.pid);
    return {
      firstGetMs: (server.firstGetNs() - spawnNs) / 1e6,
      firstResponseMs: (run.doneNs[0] - spawnNs) / 1e6,
      rssMiB: rssKiB / 1024,
    };
  } catch (e) {
    throw explain(e, runtime, candidate);
  } finally {
    await runtime.stop();
  }
}
