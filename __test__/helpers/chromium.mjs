// Headless Chromium driven over the Chrome DevTools Protocol, with no npm dependency: the
// protocol runs over `--remote-debugging-pipe` (fd 3 in, fd 4 out, NUL-separated JSON), which
// needs neither a WebSocket client (Node 20 has none built in) nor a port. Every call is bounded.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { watch, within } from './child.mjs';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** The browser binary (CHROMIUM overrides), or undefined when there is none. */
export function findChromium() {
  const wanted = process.env.CHROMIUM;
  if (wanted) return existsSync(wanted) ? wanted : undefined;
  return CANDIDATES.find((p) => existsSync(p));
}

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage', '--remote-debugging-pipe', '--window-size=1024,768'];

/**
 * Starts the browser with a fresh profile. Returns `{ send(method, params, sessionId), once(event,
 * sessionId), close() }`; `close` kills it and removes the profile, and never throws.
 */
export async function launchChromium(binary, { timeoutMs = 15000 } = {}) {
  const profile = mkdtempSync(path.join(tmpdir(), 'lambda-rapid-chromium-'));
  // Its own process group: the browser's helpers (zygote, renderers, GPU and network services)
  // are killed with it, and none outlives the test.
  const child = spawn(binary, [...FLAGS, `--user-data-dir=${profile}`, 'about:blank'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
    detached: true,
  });
  const watched = watch(child);
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  const [toBrowser, fromBrowser] = [child.stdio[3], child.stdio[4]];
  // A browser that died: its pipes error, and calls fail by their own timeout.
  toBrowser.on('error', () => {});
  fromBrowser.on('error', () => {});

  let nextId = 1;
  const pending = new Map();
  const listeners = new Set();
  let buffered = '';
  fromBrowser.on('data', (d) => {
    buffered += d;
    let end;
    while ((end = buffered.indexOf('\0')) >= 0) {
      const message = JSON.parse(buffered.slice(0, end));
      buffered = buffered.slice(end + 1);
      if (message.id !== undefined) {
        const p = pending.get(message.id);
        pending.delete(message.id);
        if (message.error) p?.reject(new Error(`${p.method}: ${message.error.message}`));
        else p?.resolve(message.result);
      } else {
        for (const l of [...listeners]) l(message);
      }
    }
  });

  const send = (method, params = {}, sessionId) => {
    const id = nextId++;
    const reply = new Promise((resolve, reject) => pending.set(id, { resolve, reject, method }));
    toBrowser.write(`${JSON.stringify({ id, method, params, ...(sessionId && { sessionId }) })}\0`);
    return within(reply, timeoutMs, `CDP ${method}`).catch((e) => {
      pending.delete(id);
      throw new Error(`${e.message}\nchromium stderr:\n${stderr}`);
    });
  };
  const once = (event, sessionId) => within(new Promise((resolve) => {
    const l = (m) => {
      if (m.method === event && (!sessionId || m.sessionId === sessionId)) {
        listeners.delete(l);
        resolve(m.params);
      }
    };
    listeners.add(l);
  }), timeoutMs, `CDP event ${event}`);

  const close = async () => {
    // Politely first (the browser ends its helpers and stops writing its profile), then for sure.
    await send('Browser.close').catch(() => {});
    await within(watched.exited, 3000, 'chromium exit').catch(() => {});
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // the group is gone already
    }
    await within(watched.kill('SIGKILL'), 5000, 'chromium exit').catch(() => {});
    // Never throws: a test's other clean-ups (its server, its files) must still run after this.
    try {
      rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    } catch (e) {
      process.stderr.write(`chromium profile ${profile} not removed: ${e.message}\n`);
    }
  };
  try {
    await send('Browser.getVersion');
  } catch (e) {
    await close();
    throw e;
  }
  return { send, once, close };
}

/** Opens a tab and attaches to it: `{ sessionId, call(method, params), once(event) }`. */
export async function openPage(browser) {
  const { targetId } = await browser.send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await browser.send('Target.attachToTarget', { targetId, flatten: true });
  const call = (method, params) => browser.send(method, params, sessionId);
  await call('Page.enable');
  await call('Runtime.enable');
  return { sessionId, call, once: (event) => browser.once(event, sessionId) };
}

/** The value of a JS expression in the page (awaited when it is a promise). */
export async function evaluate(page, expression) {
  const { result, exceptionDetails } = await page.call('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true });
  if (exceptionDetails) throw new Error(`in the page: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`);
  return result.value;
}
