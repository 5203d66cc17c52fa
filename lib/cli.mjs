// The `lambda-rapid` command line: `serve` (a local Lambda on --port) and `invoke` (one event,
// one answer, exit status says whether the function failed). Usage errors exit with 2, a
// function error with 1. Parsing is strict: an unknown flag is an error, never ignored.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

export const HELP = `Usage:
  lambda-rapid serve <handler> [options]    Run a function locally behind a Lambda invoke API,
                                            or (--http) as a local web server
  lambda-rapid invoke <handler> [options]   Start the function, invoke it once, print the answer
  lambda-rapid warm <handler> [options]     Write the function's compile cache (image build time)
  lambda-rapid <handler>                    Be the runtime (inside Lambda, or under AWS's RIE)
  lambda-rapid --help | --version

<handler> is Lambda's handler string, e.g. index.handler or src/app.main (module.export).

Options (serve and invoke):
  --task-root DIR       The function's code directory (default: the working directory)
  --timeout S           Function timeout in seconds (default: 3); a slower invocation gets
                        "Task timed out after S.00 seconds" and the runtime is restarted
  --memory MB           AWS_LAMBDA_FUNCTION_MEMORY_SIZE (default: 128)
  --log-format F        TEXT or JSON (AWS_LAMBDA_LOG_FORMAT; default: TEXT)
  --log-level L         TRACE, DEBUG, INFO, WARN, ERROR or FATAL (AWS_LAMBDA_LOG_LEVEL)
  --function-name NAME  AWS_LAMBDA_FUNCTION_NAME (default: function)
  --env KEY=VALUE       An environment variable for the function (repeatable)
  --max-concurrency N   Invocations one runtime may hold at once (default: 1); above 1 the
                        runtime gets AWS_LAMBDA_MAX_CONCURRENCY, as on Lambda Managed Instances
  --instances N         Runtimes serving in parallel (default: 1), each its own process, as
                        Lambda scales out; a request goes to the least busy one
  --snapstart           Run SnapStart's lifecycle (docs/snapstart.md): the runtime inits with
                        AWS_LAMBDA_INITIALIZATION_TYPE=snap-start, runs its before-snapshot hooks,
                        calls /runtime/restore/next, which is answered after a pause (the
                        snapshot) with every other Runtime API connection dropped, then runs its
                        after-restore hooks and the invocations; REPORT adds Restore Duration
  --snapstart-pause MS  The snapshot's pause, in milliseconds (default: 100; implies --snapstart)
  --quiet               No START/END/REPORT lines

serve only:
  --port N              Port to listen on (default: 9000; 0 picks a free one)
  --host ADDR           Address to listen on (default: 127.0.0.1)
  --http[=FORMAT]       Be a local web server: every HTTP request becomes the event of a Function
                        URL (--http, --http=url: API Gateway HTTP API payload 2.0) or of an API
                        Gateway REST API proxy route (--http=apigw-v1), and the function's answer
                        ({statusCode, headers, cookies, body, ...}, or a streamed
                        HttpResponseStream) becomes the HTTP response
  --watch               When a file under the task root changes, the next request runs on a fresh
                        runtime (the running one finishes first); no restart of serve needed

invoke only:
  --event FILE          The event: a JSON file, or - for stdin (default: {})

warm (Node 22.1+; takes --task-root and --env):
  Starts the runtime once, lets it load the function (its init code runs) and writes V8's
  compiled code of every module loaded into <task root>/.lambda-rapid-cache, which every cold
  start then reads, also from a read-only directory. Run it again after changing the code
  (a changed file is compiled from source, never from a stale entry).

Without --http, serve answers POST /2015-03-31/functions/function/invocations like AWS's
Runtime Interface Emulator (and POST /2021-11-15/functions/function/response-streaming-invocations).
With --http, open http://127.0.0.1:9000/ in a browser. Stop serve with Ctrl-C or SIGTERM.
invoke prints the function's answer on stdout and its logs on stderr; it exits with 1 when the
function fails.
`;

const COMMON = {
  'task-root': { type: 'string' },
  timeout: { type: 'string' },
  memory: { type: 'string' },
  'log-format': { type: 'string' },
  'log-level': { type: 'string' },
  'function-name': { type: 'string' },
  env: { type: 'string', multiple: true },
  'max-concurrency': { type: 'string' },
  instances: { type: 'string' },
  quiet: { type: 'boolean' },
  snapstart: { type: 'boolean' },
  'snapstart-pause': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};
const SERVE = { ...COMMON, port: { type: 'string' }, host: { type: 'string' }, http: { type: 'string' }, watch: { type: 'boolean' } };
const HTTP_FORMATS = { url: 'url', v2: 'url', 'apigw-v1': 'apigw-v1', v1: 'apigw-v1' };
const INVOKE = { ...COMMON, event: { type: 'string' } };
const WARM = { 'task-root': COMMON['task-root'], env: COMMON.env, help: COMMON.help };
const OPTIONS = { serve: SERVE, invoke: INVOKE, warm: WARM };
const DEFAULT_SNAPSTART_PAUSE_MS = 100;
const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];

export class UsageError extends Error {
  constructor(message) {
    super(message);
    this.name = 'UsageError';
  }
}

function number(name, value, { min, integer = false, max = Infinity }) {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}${max < Infinity ? ` and <= ${max}` : ''}, got '${value}'`);
  }
  return n;
}

/** Parses `serve`/`invoke` arguments into emulator options; throws UsageError on bad input. */
export function parseCommand(command, args) {
  let parsed;
  // `--http` alone means the Function URL format (node:util's string options need a value).
  if (command === 'serve') args = args.map((a) => (a === '--http' ? '--http=url' : a));
  try {
    parsed = parseArgs({ args, options: OPTIONS[command], allowPositionals: true, strict: true });
  } catch (e) {
    // node:util's messages name the flag ("Unknown option '--foo'"); keep them, drop the advice
    // about '--' that does not apply here.
    throw new UsageError(e.message.split('. To specify a positional')[0]);
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true };
  if (positionals.length === 0) throw new UsageError(`${command}: missing <handler> (e.g. lambda-rapid ${command} index.handler)`);
  if (positionals.length > 1) throw new UsageError(`${command}: unexpected argument '${positionals[1]}'`);
  const logFormat = values['log-format']?.toUpperCase();
  if (logFormat !== undefined && logFormat !== 'TEXT' && logFormat !== 'JSON') {
    throw new UsageError(`--log-format must be TEXT or JSON, got '${values['log-format']}'`);
  }
  const logLevel = values['log-level']?.toUpperCase();
  if (logLevel !== undefined && !LOG_LEVELS.includes(logLevel)) {
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got '${values['log-level']}'`);
  }
  const taskRoot = path.resolve(values['task-root'] ?? process.cwd());
  if (!statSync(taskRoot, { throwIfNoEntry: false })?.isDirectory()) {
    throw new UsageError(`--task-root: ${taskRoot} is not a directory`);
  }
  let http;
  if (values.http !== undefined) {
    http = HTTP_FORMATS[values.http.toLowerCase()];
    if (!http) throw new UsageError(`--http must be url or apigw-v1 (e.g. --http=apigw-v1), got '${values.http}'`);
  }
  if ((values.snapstart || values['snapstart-pause'] !== undefined) && values['max-concurrency'] !== undefined) {
    throw new UsageError('--snapstart and --max-concurrency do not combine: Lambda offers SnapStart for on-demand functions, not on Managed Instances');
  }
  const env = {};
  for (const kv of values.env ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`--env expects KEY=VALUE, got '${kv}'`);
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return {
    handler: positionals[0],
    taskRoot,
    timeout: number('timeout', values.timeout, { min: 0.001 }) ?? 3,
    memory: number('memory', values.memory, { min: 128, max: 10240, integer: true }) ?? 128,
    port: number('port', values.port, { min: 0, max: 65535, integer: true }) ?? 9000,
    host: values.host ?? '127.0.0.1',
    logFormat,
    logLevel,
    functionName: values['function-name'] ?? 'function',
    maxConcurrency: number('max-concurrency', values['max-concurrency'], { min: 1, max: 1024, integer: true }),
    instances: number('instances', values.instances, { min: 1, max: 64, integer: true }),
    env,
    platformLogs: !values.quiet,
    event: values.event,
    http,
    watch: values.watch ?? false,
    snapStartPauseMs: values.snapstart || values['snapstart-pause'] !== undefined
      ? number('snapstart-pause', values['snapstart-pause'], { min: 0, max: 600_000, integer: true }) ?? DEFAULT_SNAPSTART_PAUSE_MS
      : undefined,
  };
}

function readEvent(source) {
  if (source === undefined) return '{}';
  try {
    return source === '-' ? readFileSync(0, 'utf8') : readFileSync(source, 'utf8');
  } catch (e) {
    throw new UsageError(`--event: cannot read ${source === '-' ? 'stdin' : source}: ${e.message}`);
  }
}

async function serve(opts) {
  const { startEmulator } = await import('./emulator.mjs');
  const emulator = startEmulator(opts);
  const base = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${emulator.port}`;
  process.stderr.write(
    `lambda-rapid: serving ${opts.handler} from ${opts.taskRoot}\n` +
      (opts.http
        ? `lambda-rapid: open ${base}/ (each request is a ${opts.http === 'url' ? 'Function URL' : 'REST API proxy'} event)\n`
        : `lambda-rapid: invoke with: curl -XPOST "${base}/2015-03-31/functions/function/invocations" -d '{}'\n`),
  );
  let unwatch = () => {};
  if (opts.watch) {
    const { watchTaskRoot } = await import('./watch.mjs');
    unwatch = watchTaskRoot(opts.taskRoot, (files) => {
      const shown = files.map((f) => path.relative(opts.taskRoot, f) || '.').slice(0, 3).join(', ');
      process.stderr.write(`lambda-rapid: changed: ${shown}${files.length > 3 ? ', ...' : ''}; the next request runs on a fresh runtime\n`);
      emulator.recycle();
    });
  }
  // The emulator lives on native threads, which do not keep Node's event loop alive: this does.
  const keepAlive = setInterval(() => {}, 1 << 30);
  return new Promise((resolve) => {
    const shutdown = (signal) => {
      process.off('SIGINT', shutdown);
      process.off('SIGTERM', shutdown);
      unwatch();
      emulator.stop(); // kills and reaps the runtime: no orphan survives us
      clearInterval(keepAlive);
      process.stderr.write(`lambda-rapid: ${signal}: stopped\n`);
      resolve(0);
    };
    process.on('SIGINT', shutdown);
    process.on('SIGTERM', shutdown);
  });
}

async function invokeOnce(opts) {
  const event = readEvent(opts.event);
  const { startEmulator, invoke } = await import('./emulator.mjs');
  const emulator = startEmulator({ ...opts, port: 0, logsToStderr: true });
  const stop = () => emulator.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    // A streamed answer is printed as it arrives; a buffered one arrives in one piece anyway.
    let last = '';
    const res = await invoke(emulator.port, event, {
      raw: true,
      onChunk: (c) => {
        process.stdout.write(c);
        last = c.toString('latin1').slice(-1);
      },
    });
    if (last !== '\n') process.stdout.write('\n');
    const streamError = res.trailers['lambda-runtime-function-error-body'];
    if (streamError) {
      process.stderr.write(`lambda-rapid: the stream failed: ${Buffer.from(streamError, 'base64').toString()}\n`);
    }
    if (res.status !== 200) return 1;
    return res.functionError ? 1 : 0;
  } finally {
    emulator.stop();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

async function warmCache(opts) {
  const { warm } = await import('./warm.mjs');
  try {
    const r = await warm({ handler: opts.handler, taskRoot: opts.taskRoot, env: opts.env, log: (m) => process.stderr.write(`${m}\n`) });
    if (r.skipped) {
      process.stderr.write(`lambda-rapid: ${r.skipped}\n`);
      return 0;
    }
    process.stderr.write(`lambda-rapid: wrote ${r.dir} (${r.files} files)\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`lambda-rapid: warm: ${e.message}\n`);
    return 1;
  }
}

async function version() {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
  return pkg.version;
}

/** Runs the CLI; resolves with the exit status. */
export async function main(argv) {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(HELP);
        return command === undefined ? 2 : 0;
      case '--version':
      case '-v':
        process.stdout.write(`${await version()}\n`);
        return 0;
      case 'serve':
      case 'invoke':
      case 'warm': {
        const opts = parseCommand(command, rest);
        if (opts.help) {
          process.stdout.write(HELP);
          return 0;
        }
        if (command === 'warm') return await warmCache(opts);
        return await (command === 'serve' ? serve(opts) : invokeOnce(opts));
      }
      default:
        throw new UsageError(`unknown command or option '${command}'`);
    }
  } catch (e) {
    if (e instanceof UsageError || e.code === 'ERR_EMULATOR') {
      process.stderr.write(`lambda-rapid: ${e.message}\nRun 'lambda-rapid --help' for usage.\n`);
      return 2;
    }
    throw e;
  }
}
