// The status page in real headless Chromium (playwright-core) against a real Tessera under traffic: the figures update.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { sharedCluster } from './helpers/shared-cluster.ts';
import { postJson } from './helpers/sse.ts';

const CHROMIUM = '/usr/bin/chromium';
const SKIP = `${CHROMIUM} is not installed (Debian: apt-get install chromium; .ci/run does it)`;

test('GET / in Chromium shows the model and live queue, batch, KV, tokens/s and TTFT plots', { skip: existsSync(CHROMIUM) ? false : SKIP }, async () => {
  const cluster = await sharedCluster();
  const profile = mkdtempSync(path.join(os.tmpdir(), 'tessera-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1100, height: 640 },
  });
  let traffic = true;
  const load = (async () => {
    let i = 0;
    while (traffic) {
      await Promise.all(
        [0, 1].map(() => postJson(`${cluster.url}/generate`, { inputs: `Story ${i++}`, parameters: { max_new_tokens: 24 } }).then((r) => r.text())),
      );
    }
  })();
  try {
    const page = browser.pages()[0] ?? (await browser.newPage());
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${cluster.url}/`);
    assert.equal(await page.title(), 'Tessera status');
    await page.waitForFunction(() => Number(document.body.dataset.updates ?? 0) >= 2, undefined, { timeout: 15_000 });
    assert.equal(await page.textContent('#phase'), 'ready');
    const tokens1 = Number((await page.textContent('#tokens-total'))!.replace(/,/g, ''));
    await page.waitForFunction((n) => Number(document.getElementById('tokens-total')!.textContent!.replace(/,/g, '')) > n, tokens1, { timeout: 15_000 });
    await page.waitForFunction(() => Number(document.getElementById('plot-tps')!.dataset.points ?? 0) >= 3, undefined, { timeout: 15_000 });
    // Figures: a throughput above zero, a TTFT in ms, a KV share, the model's facts.
    await page.waitForFunction(() => Number(document.getElementById('tps')!.textContent!.replace(/,/g, '')) > 0, undefined, { timeout: 15_000 });
    assert.match((await page.textContent('#ttft'))!, /^[\d,.]+$/);
    assert.match((await page.textContent('#kv'))!, /%$/);
    assert.match((await page.textContent('#model-table'))!, /block size/);
    for (const id of ['plot-queue', 'plot-running', 'plot-kv', 'plot-tps', 'plot-ttft']) {
      assert.ok((await page.locator(`#${id} polyline`).count()) >= 1, `${id} draws a line`);
    }
    assert.deepEqual(errors, []);
    // TESSERA_STATUS_SCREENSHOT=docs/status-page.png refreshes the screenshot kept in docs/.
    const shot = process.env.TESSERA_STATUS_SCREENSHOT;
    if (shot) await page.screenshot({ path: shot, type: 'png' });
  } finally {
    traffic = false;
    await load.catch(() => undefined);
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
    await cluster.stop();
  }
});
