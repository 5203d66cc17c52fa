// examples/web in a real browser: `serve --http` serves the page, headless Chromium loads it, a
// click runs the page's script, which calls the function's JSON API; the page must show the
// answer. A screenshot of the result is kept in __test__/artifacts/ (gitignored).
// Skipped, saying why, where Chromium is not installed (Debian: apt-get install -y chromium).
import { test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { serve, ROOT } from './helpers/emulator.mjs';
import { evaluate, findChromium, launchChromium, openPage } from './helpers/chromium.mjs';

const chromium = findChromium();
const skip = !chromium && 'no Chromium found (/usr/bin/chromium; set CHROMIUM=path, or apt-get install -y chromium)';
const ARTIFACTS = path.join(ROOT, '__test__', 'artifacts');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('examples/web in Chromium: the page loads, the button calls the API, the page shows the answer', { skip }, async () => {
  const emu = await serve('app.handler', ['--http', '--quiet'], { taskRoot: path.join(ROOT, 'examples', 'web') });
  let browser;
  try {
    browser = await launchChromium(chromium);
    const page = await openPage(browser);
    const loaded = page.once('Page.loadEventFired');
    const nav = await page.call('Page.navigate', { url: `http://127.0.0.1:${emu.port}/` });
    assert.equal(nav.errorText, undefined, `navigation failed: ${nav.errorText}`);
    await loaded;
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
