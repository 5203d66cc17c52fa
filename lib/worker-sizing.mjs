// Managed Instances sizing: how many worker threads, and how much young generation each gets.
// Measured, not copied (docs/managed-instances.md has the figures): the official 4.x client
// starts 8 isolates per CPU, but an invocation that awaits I/O does not need an isolate of its
// own (one worker overlaps hundreds), and CPU-bound work gains nothing from more isolates than
// CPUs; every isolate costs 12-15 MB, and on Managed Instances memory per environment is what
// decides how many fit on an instance.
import { builtin } from './builtin.mjs';

const fs = builtin('node:fs');
const os = builtin('node:os');

/** Below this many workers, one long synchronous invocation would stall every other one. */
const MIN_WORKERS = 2;
/**
 * A worker's semi-space, in MiB, unless the function asks for another (--max-semi-space-size).
 * V8 grows it up to 16 MiB under a high allocation rate; at 1 MiB (V8's starting size) a
 * worker stays 4-5 MiB smaller under load, with no throughput loss measured (the invocations'
 * garbage dies young either way).
 */
const SEMI_SPACE_MIB = 1;

/**
 * How many workers: AWS_LAMBDA_NODEJS_WORKER_COUNT, else one per CPU of the cgroup's quota
 * (/sys/fs/cgroup/cpu.max; every core when it says "max" or cannot be read), at least two.
 */
export function workerCount(env = process.env, readCpuMax = () => fs.readFileSync('/sys/fs/cgroup/cpu.max', 'utf8')) {
  if (env.AWS_LAMBDA_NODEJS_WORKER_COUNT) {
    const n = parseInt(env.AWS_LAMBDA_NODEJS_WORKER_COUNT, 10);
    if (n > 0) return n;
  }
  return Math.max(MIN_WORKERS, availableCpus(readCpuMax));
}

/** CPUs of the cgroup's quota (every core when it says "max" or cannot be read). */
export function availableCpus(readCpuMax = () => fs.readFileSync('/sys/fs/cgroup/cpu.max', 'utf8')) {
  const cores = Math.max(1, os.availableParallelism());
  try {
    const [max, period] = readCpuMax().trim().split(/\s+/);
    if (max === 'max') return cores;
    const cpus = Math.ceil(parseInt(max, 10) / parseInt(period, 10));
    if (cpus > 0) return cpus;
  } catch {
    // no cgroup v2 CPU controller here: the cores the process may run on
  }
  return cores;
}

/**
 * The worker's V8 limits (Worker `resourceLimits`). Node refuses --max-semi-space-size in a
 * worker's execArgv (the official client drops it silently); here it still sizes the workers'
 * young generation, from the runtime's arguments or NODE_OPTIONS.
 */
export function workerResourceLimits(execArgv = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? '') {
  let semi = SEMI_SPACE_MIB;
  for (const arg of [...nodeOptions.split(/\s+/), ...execArgv]) {
    const m = /^--max[-_]semi[-_]space[-_]size=(\d+)$/.exec(arg);
    if (m && Number(m[1]) > 0) semi = Number(m[1]);
  }
  // V8's young generation is two semi-spaces and a large-object space of the same size.
  return { maxYoungGenerationSizeMb: 3 * semi };
}

/** Workers may grow to this many per CPU when they wait on the Runtime API rather than compute. */
const MAX_PER_CPU = 2;
/**
 * A worker is saturated above this event-loop utilisation... (measured, 2 workers, 10 ms
 * await: 0.3 at C = 64, 0.6 at C = 128, 0.75 at C = 256, where a third worker adds 40%; the
 * loop is never fully busy, since each worker has one GET next open at a time)
 */
const SATURATED_ELU = 0.65;
/** ...and the process is not short of CPU below this share of its CPUs. */
const CPU_TO_SPARE = 0.75;

/**
 * The pool grows while its workers are saturated but the process is not using its CPUs: the
 * workers' JS threads are then waiting out Runtime API round trips (each response is a blocking
 * POST), which another worker overlaps. CPU-bound work saturates the CPUs too, and more isolates
 * would only time-slice them, so the pool does not grow then; nor past MAX_PER_CPU per CPU, nor
 * when AWS_LAMBDA_NODEJS_WORKER_COUNT fixes the count. It never shrinks: a worker holds
 * invocations. `step()` looks at the last interval (two in a row must say so);
 * docs/managed-instances.md has the measurements.
 */
export function workerScaling({ workers, start, cpus, max = MAX_PER_CPU * cpus, cpuUsage = () => process.cpuUsage(), now = () => performance.now() }) {
  let last = { cpu: cpuUsage(), at: now(), elu: new Map() };
  let strikes = 0;
  return function step() {
    const cpu = cpuUsage();
    const at = now();
    const list = [...workers]; // an array or the live set: the workers now
    const elu = new Map(list.map((w) => [w, w.performance.eventLoopUtilization()]));
    const used = (cpu.user - last.cpu.user + cpu.system - last.cpu.system) / 1000 / (at - last.at) / cpus;
    // Only workers seen in the previous interval too (a starting worker is busy loading).
    const busy = list.filter((w) => last.elu.has(w)).map((w) => w.performance.eventLoopUtilization(elu.get(w), last.elu.get(w)).utilization);
    const saturated = busy.length > 0 && Math.min(...busy) > SATURATED_ELU && used < CPU_TO_SPARE;
    last = { cpu, at, elu };
    strikes = saturated ? strikes + 1 : 0;
    if (strikes >= 2 && list.length < max) {
      strikes = 0;
      start();
      return true;
    }
    return false;
  };
}
