// Ports on 127.0.0.1 and bounded waits for the specs: a port that nothing listens on, a wait
// for a server (a spawned emulator) to listen on one, and a poll of any condition.
import net from 'node:net';

/**
 * A port on 127.0.0.1 that nothing listens on: bound, then released. For a server a test starts
 * (RIE, cargo-lambda), or as an endpoint that refuses every connection.
 */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Resolves once something accepts connections on `port` of 127.0.0.1; rejects after `ms`. */
export async function waitForPort(port, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => { c.destroy(); resolve(true); });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`nothing listens on ${port}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Polls `read()` every 10 ms until it returns something truthy, and resolves with that; rejects
 * naming `what` after `ms`. For what no event announces (a process's output, a request count).
 */
export async function until(read, what, ms = 10_000) {
  const end = Date.now() + ms;
  for (;;) {
    const value = read();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
