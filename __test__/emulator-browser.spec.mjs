// examples/web in a real browser: `serve --http` serves the page, headless Chromium loads it, a
// click runs the page's script, which calls the function's JSON API; the page must show the
// answer. A screenshot of the result is kept in __test__/artifacts/ (gitignored).
// Skipped, saying why, where Chromium is not installed (Debian: apt-get install -y chromium).
import { test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { serve, ROOT } from './helpers/emulator.mjs';
import { evaluate, findChromium, launchChromium, openPage } from './helpers/chromium.mjs';

const chromium = findChromium();
const skip = !chromium && 'no Chromium found (/usr/bin/chromium; set CHROMIUM=path, or apt-get install -y chromium)';
const ARTIFACTS = path.join(ROOT, '__test__', 'artifacts');

/** Loads `url` in the page and resolves once its load event fired. */
async function load(page, url) {
  const loaded = page.once('Page.loadEventFired');
  const nav = await page.call('Page.navigate', { url });
  assert.equal(nav.errorText, undefined, `navigation failed: ${nav.errorText}`);
  await loaded;
}

test('examples/web in Chromium: the page loads, the button calls the API, the page shows the answer', { skip }, async () => {
  const emu = await serve('app.handler', ['--http', '--quiet'], { taskRoot: path.join(ROOT, 'examples', 'web') });
  let browser;
  try {
    browser = await launchChromium(chromium);
    const page = await openPage(browser);
    await load(page, `http://127.0.0.1:${emu.port}/`);
    assert.equal(await evaluate(page, 'document.title'), 'lambda-rapid web example');

    // A real click where the button is, as a user's mouse would do it.
    const box = await evaluate(page, `(() => {
      const r = document.getElementById('ask').getBoundingClientRect();
      return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
    })()`);
    for (const type of ['mousePressed', 'mouseReleased']) {
      await page.call('Input.dispatchMouseEvent', { type, x: box.x, y: box.y, button: 'left', clickCount: 1 });
    }

    let shown = '';
    const deadline = Date.now() + 10000;
    while (Date.now() < deadline && !/Hello/.test(shown)) {
      await sleep(50);
      shown = await evaluate(page, "document.getElementById('answer').textContent");
    }
    assert.equal(shown, 'Hello, browser! (visit 1)');
    // The API set a cookie through the Function URL's `cookies`; the browser keeps it.
    assert.equal(await evaluate(page, 'document.cookie'), 'visits=1');

    const { data } = await page.call('Page.captureScreenshot', { format: 'png' });
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = path.join(ARTIFACTS, 'examples-web.png');
    writeFileSync(file, Buffer.from(data, 'base64'));
    assert.ok(Buffer.from(data, 'base64').subarray(1, 4).toString() === 'PNG');
  } finally {
    await browser?.close();
    await emu.stop();
  }
});

test('under --watch, an edit of examples/web shows on the next reload', { skip }, async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lambda-rapid-web-'));
  const app = path.join(root, 'app.mjs');
  copyFileSync(path.join(ROOT, 'examples', 'web', 'app.mjs'), app);
  const emu = await serve('app.handler', ['--http', '--watch', '--quiet'], { taskRoot: root });
  let browser;
  try {
    browser = await launchChromium(chromium);
    const page = await openPage(browser);
    await load(page, `http://127.0.0.1:${emu.port}/`);
    assert.equal(await evaluate(page, "document.querySelector('h1').textContent"), 'Hello from Lambda');
    writeFileSync(app, readFileSync(app, 'utf8').replace('<h1>Hello from Lambda</h1>', '<h1>Edited while serving</h1>'));
    let heading = '';
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline && heading !== 'Edited while serving') {
      await sleep(100);
      await load(page, `http://127.0.0.1:${emu.port}/`);
      heading = await evaluate(page, "document.querySelector('h1').textContent");
    }
    assert.equal(heading, 'Edited while serving');
  } finally {
    await browser?.close();
    await emu.stop();
    rmSync(root, { recursive: true, force: true });
  }
});

test('a streamed answer (examples/web/stream.mjs) reaches the browser in pieces', { skip }, async () => {
  const emu = await serve('stream.handler', ['--http', '--quiet'], { taskRoot: path.join(ROOT, 'examples', 'web') });
  let browser;
  try {
    browser = await launchChromium(chromium);
    const page = await openPage(browser);
    await load(page, `http://127.0.0.1:${emu.port}/`);
    // The page's own fetch reads the answer chunk by chunk, noting when each arrived.
    const pieces = await evaluate(page, `(async () => {
      const res = await fetch('/');
      const reader = res.body.getReader();
      const t0 = performance.now();
      const pieces = [];
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return pieces;
        pieces.push({ at: performance.now() - t0, text: new TextDecoder().decode(value) });
      }
    })()`);
    const text = pieces.map((p) => p.text).join('');
    assert.equal(text.match(/^line \d of 5 at /gm)?.length, 5, text);
    assert.ok(pieces.length >= 3, `${pieces.length} pieces`);
    const first = pieces.find((p) => p.text.includes('line 1'));
    const last = pieces.find((p) => p.text.includes('line 5'));
    assert.ok(last.at - first.at >= 600, `line 1 at ${first.at} ms, line 5 at ${last.at} ms: the lines arrived as written`);
  } finally {
    await browser?.close();
    await emu.stop();
  }
});
