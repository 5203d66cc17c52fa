// The runtimes compared. Each is a command run as `<node> <args...>` with the Lambda
// environment; `scenarios` limits one to the scenarios it can serve.
import fs from 'node:fs';
import path from 'node:path';
import { CANDIDATES, ROOT } from './paths.mjs';

export function candidates({ official, addon, benchAddon = addon, wanted = [] }) {
  // Our candidates load the benchmark's release build of the product addon; the raw and lean
  // loops need the benchmark's own addon (benchmark/native, built by benchmark/lib/setup.mjs).
  const native = addon ? { LAMBDA_RAPID_NATIVE_PATH: addon } : {};
  const benchNative = benchAddon ? { LAMBDA_RAPID_NATIVE_PATH: benchAddon } : {};
  const list = [];
  const ours = path.join(ROOT, 'index.mjs');
  list.push({
    id: 'lambda-rapid', label: 'lambda-rapid', args: [ours], env: native,
    skip: fs.existsSync(ours) ? undefined : 'index.mjs does not exist yet',
  });
  // On Node 20/22 lambda-rapid behaves like the official 3.x client unless told otherwise; the
  // 4.x behaviour (posting after queued immediates, ...) is what the official 4.x client does.
  list.push({
    id: 'lambda-rapid-4x', label: 'lambda-rapid (4.x mode)', args: [ours],
    env: { ...native, AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x' },
    skip: fs.existsSync(ours) ? undefined : 'index.mjs does not exist yet',
  });
  // The custom image's entrypoint (`lambda-rapid`, no argument: _HANDLER and LAMBDA_TASK_ROOT),
  // which reads the compile cache before the runtime's own modules load (cold starts only).
  const bin = path.join(ROOT, 'bin', 'lambda-rapid.mjs');
  list.push({
    id: 'lambda-rapid-bin', label: 'lambda-rapid (bin entry)', args: [bin], env: native,
    scenarios: ['cold-start', 'cold-start-sdk'], skip: fs.existsSync(bin) ? undefined : 'bin/lambda-rapid.mjs does not exist yet',
  });
  // The compile cache's share of a cold start (cold-start-sdk, where `lambda-rapid warm` ran).
  list.push({
    id: 'lambda-rapid-no-cache', label: 'lambda-rapid, compile cache off', args: [ours],
    env: { ...native, LAMBDA_RAPID_COMPILE_CACHE: '0' }, scenarios: ['cold-start-sdk'],
    skip: fs.existsSync(ours) ? undefined : 'index.mjs does not exist yet',
  });
  const officialEntry = official.dir && path.join(official.dir, 'index.mjs');
  list.push({
    id: 'official', label: `aws-lambda-ric ${official.version ?? '4.x'} (native client)`, args: [officialEntry],
    skip: official.skip,
  });
  list.push({
    id: 'official-alt', label: `aws-lambda-ric ${official.version ?? '4.x'} (alternative client)`, args: [officialEntry],
    env: { AWS_LAMBDA_NODEJS_USE_ALTERNATIVE_CLIENT_1: 'true' }, skip: official.skip,
  });
  list.push({ id: 'node-http', label: 'minimal node:http loop', args: [path.join(CANDIDATES, 'node-http-loop.mjs')] });
  list.push({
    id: 'raw-rust', label: 'raw Rust loop (limit)', args: [path.join(CANDIDATES, 'raw-rust-loop.mjs')], env: benchNative,
    scenarios: ['echo-100B', 'echo-10KiB', 'echo-1MiB', 'cold-start'],
  });
  // Diagnostic only (--candidates raw-lean): the raw loop without an HTTP library.
  list.push({
    id: 'raw-lean', label: 'raw Rust loop, no HTTP library', args: [path.join(CANDIDATES, 'raw-rust-loop.mjs')],
    env: { ...benchNative, BENCH_LEAN: '1' }, optional: true, scenarios: ['echo-100B', 'echo-10KiB', 'echo-1MiB', 'cold-start'],
  });
  // Diagnostic only (--candidates rapid-bare): the bare JS loop over our native client.
  list.push({
    id: 'rapid-bare', label: 'bare loop over our native client', args: [path.join(CANDIDATES, 'native-client-loop.mjs')],
    env: native, optional: true, scenarios: ['echo-100B', 'echo-10KiB', 'echo-1MiB', 'cold-start'],
  });
  // Diagnostic only (--candidates rapid-thread, lambda-rapid-thread): GET next on the client's
  // long-poll thread instead of the event loop (the fallback path), for an A/B in one run.
  list.push({
    id: 'rapid-thread', label: 'bare loop, GET next on a thread', args: [path.join(CANDIDATES, 'native-client-loop.mjs')],
    env: { ...native, LAMBDA_RAPID_NEXT_ON_THREAD: '1' }, optional: true,
    scenarios: ['echo-100B', 'echo-10KiB', 'echo-1MiB', 'cold-start'],
  });
  list.push({
    id: 'lambda-rapid-thread', label: 'lambda-rapid, GET next on a thread', args: [ours],
    env: { ...native, LAMBDA_RAPID_NEXT_ON_THREAD: '1' }, optional: true,
  });
  // Diagnostic only (--candidates lean-bare): the bare JS loop over a transport without ureq.
  list.push({
    id: 'lean-bare', label: 'bare loop over a lean transport', args: [path.join(CANDIDATES, 'native-client-loop.mjs')],
    env: { ...benchNative, BENCH_CLIENT: 'lean' }, optional: true, scenarios: ['echo-100B', 'echo-10KiB', 'echo-1MiB', 'cold-start'],
  });
  // Diagnostic only (--candidates lean-sync): the same, GET next blocking the JS thread.
  list.push({
    id: 'lean-sync', label: 'bare loop, lean transport, no thread hop', args: [path.join(CANDIDATES, 'native-client-loop.mjs')],
    env: { ...benchNative, BENCH_CLIENT: 'lean', BENCH_LOOP: 'all-sync' }, optional: true,
    scenarios: ['echo-100B', 'echo-10KiB', 'echo-1MiB', 'cold-start'],
  });
  // Diagnostic only (--candidates lambda-rapid-w4, official-w2, ...): Managed Instances with
  // AWS_LAMBDA_NODEJS_WORKER_COUNT=N, for the worker-count measurements (docs/benchmark.md).
  for (const id of wanted) {
    const m = /^(lambda-rapid|official)-w(\d+)$/.exec(id);
    const base = m && list.find((c) => c.id === m[1]);
    if (!base) continue;
    list.push({ ...base, id, base: base.id, label: `${base.label}, ${m[2]} workers`, optional: true, env: { ...base.env, AWS_LAMBDA_NODEJS_WORKER_COUNT: m[2] } });
  }
  return list;
}
