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

function availableCpus(readCpuMax = () => fs.readFileSync('/sys/fs/cgroup/cpu.max', 'utf8')) {
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

