// The SnapStart lifecycle, when AWS_LAMBDA_INITIALIZATION_TYPE is snap-start (docs/snapstart.md):
//
// 1. (index.mjs) init as always: the handler's module is loaded, top-level await included.
// 2. The before-snapshot hooks, in the reverse order of registration, each awaited. One that
//    throws is an init error (Runtime.BeforeSnapshotError on /runtime/init/error).
// 3. GET /runtime/restore/next. Lambda snapshots the microVM while it is pending; it returns in
//    a restored environment, possibly minutes later and in another microVM.
// 4. The runtime's own state is renewed (refreshAfterRestore), then the after-restore hooks run
//    in the order of registration. One that throws: POST /runtime/restore/error with
//    Lambda-Runtime-Function-Error-Type: Runtime.AfterRestoreError, then exit.
// 5. (index.mjs) the invoke loop, on a RuntimeClient created after the restore.
//
// Imported only in snap-start mode: an on-demand cold start loads none of this.
//
// The two restore calls are made here with node:http, not by the Rust client: they happen once
// per environment, so their speed does not matter, and each goes out on a connection of its own
// (`agent: false`, `Connection: close`) that ends with its answer. No socket the runtime opened
// before the snapshot is left to be reused after it; the Rust client used from then on is a new
// one, with an empty connection pool (index.mjs). Keeping them out of src/ also keeps the addon's
// API and its cold-start path as they were.
import http from 'node:http';
import { snapStartHooks } from './awslambda.mjs';

export const RESTORE_ERROR_TYPE = 'Runtime.AfterRestoreError';
export const BEFORE_SNAPSHOT_ERROR_TYPE = 'Runtime.BeforeSnapshotError';
const API_VERSION = '2018-06-01';

/** A hook failed: `phase` says which ('beforeSnapshot' | 'afterRestore'). */
export class HookError extends Error {
  constructor(phase, cause) {
    super(`SnapStart ${phase} hook failed`, { cause });
    this.phase = phase;
  }
}

/** Runs the before-snapshot hooks, last registered first; rejects with a HookError. */
export const runBeforeSnapshot = () => runHooks([...snapStartHooks().beforeSnapshot].reverse(), 'beforeSnapshot');

/** Runs the after-restore hooks, first registered first; rejects with a HookError. */
export const runAfterRestore = () => runHooks([...snapStartHooks().afterRestore], 'afterRestore');

// Each hook awaited in turn; the first that fails ends the phase. Resolves with how many ran.
async function runHooks(hooks, phase) {
  for (const hook of hooks) {
    try {
      await hook();
    } catch (err) {
      throw new HookError(phase, err);
    }
  }
  return hooks.length;
}

/**
 * GET /runtime/restore/next: resolves when the Runtime API answers (in the restored
 * environment); rejects with `code` ERR_RUNTIME_API_UNREACHABLE or ERR_RUNTIME_API_STATUS.
 */
export function restoreNext(endpoint) {
  return call(endpoint, 'GET', 'restore/next');
}

/** POST /runtime/restore/error with the error's JSON body. */
export function postRestoreError(endpoint, body) {
  return call(endpoint, 'POST', 'restore/error', body, { 'Lambda-Runtime-Function-Error-Type': RESTORE_ERROR_TYPE });
}

function call(endpoint, method, what, body, headers = {}) {
  const slash = endpoint.indexOf('/');
  const hostPort = slash < 0 ? endpoint : endpoint.slice(0, slash);
  const prefix = slash < 0 ? '' : endpoint.slice(slash).replace(/\/+$/, '');
  const colon = hostPort.lastIndexOf(':');
  const host = (colon < 0 ? hostPort : hostPort.slice(0, colon)).replace(/^\[|\]$/g, '');
  const port = colon < 0 ? 80 : Number(hostPort.slice(colon + 1));
  const payload = body === undefined ? undefined : Buffer.from(body);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host,
      port,
      method,
      path: `${prefix}/${API_VERSION}/runtime/${what}`,
      agent: false,
      headers: {
        Connection: 'close',
        'User-Agent': 'lambda-rapid/0.1',
        ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {}),
        ...headers,
      },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', (e) => reject(unreachable(endpoint, what, e)));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        if (res.statusCode >= 200 && res.statusCode < 300) return resolve({ status: res.statusCode, body: text });
        const err = new Error(`${method} ${what} answered ${res.statusCode}: ${text}`);
        err.code = 'ERR_RUNTIME_API_STATUS';
        err.status = res.statusCode;
        err.body = text;
        reject(err);
      });
    });
    req.on('error', (e) => reject(unreachable(endpoint, what, e)));
    req.end(payload);
  });
}

function unreachable(endpoint, what, cause) {
  const err = new Error(`the Runtime API at ${endpoint} could not be reached for ${what}: ${cause.message}`, { cause });
  err.code = 'ERR_RUNTIME_API_UNREACHABLE';
  return err;
}

// ---- uniqueness -------------------------------------------------------------------------------
// Node's crypto keeps random bytes it already drew from OpenSSL in process memory, and the
// snapshot copies them into every environment restored from it:
// - crypto.randomUUID() (and globalThis.crypto.randomUUID()) serves UUIDs from a buffer of 128
//   UUIDs' worth of random bytes, refilled when the last one is used;
// - crypto.randomInt() takes 6 bytes at a time from a 6 KiB buffer (1024 draws), refilled the
//   same way.
// Node exposes no way to empty them, but their refill is deterministic: drawing a whole buffer's
// worth passes its refill point exactly once, so every entry left afterwards was drawn after the
// restore. Only when that code was loaded before the snapshot: otherwise there is no buffer.
/** Renews what the process carries across a snapshot that the runtime can renew; returns what it did. */
// Measured: 0.5-1.5 ms for both (Node 20 and 24, this machine), once per restore.
export async function refreshAfterRestore() {
  // process.moduleLoadList names every builtin loaded so far, without loading anything.
  if (!process.moduleLoadList?.includes('NativeModule internal/crypto/random')) return [];
  refillCryptoCaches(await import('node:crypto'));
  return ['crypto.randomUUID cache', 'crypto.randomInt cache'];
}

/**
 * Draws a whole cache's worth from both caches of `crypto` (node:crypto). Self-contained (the
 * uniqueness spec runs it inside a Node startup snapshot, from its source text).
 */
export function refillCryptoCaches(crypto) {
  const UUIDS_PER_BATCH = 128;
  const RANDOM_INT_ENTRIES = 6 * 1024 / 6;
  for (let i = 0; i < UUIDS_PER_BATCH; i += 1) crypto.randomUUID();
  // randomInt(2): one 6-byte draw per call (its rejection sampling almost never draws twice).
  for (let i = 0; i < RANDOM_INT_ENTRIES; i += 1) crypto.randomInt(2);
}
