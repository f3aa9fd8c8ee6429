// API key and CORS on a real Tessera started by the launcher with TESSERA_API_KEY: the key never shows on a
// command line, the openai client works with it, and in headless Chromium a page from another origin can
// call the API only when --cors-allow-origin lists that origin.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { chromium, type BrowserContext } from 'playwright-core';
import { startCluster, type Cluster } from './helpers/cluster.ts';
import { freePort } from './helpers/ports.ts';

const CHROMIUM = '/usr/bin/chromium';
const SKIP_BROWSER = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (Debian: apt-get install chromium; .ci/run does it)`;
const KEY = 'sk-edge-security-test-key';

let cluster: Cluster;
let allowedPort: number;
let strangerPort: number;
const pageServers: Server[] = [];

/** A page server on its own port (its own origin) that serves one empty HTML page. */
async function servePage(port: number): Promise<void> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>page</title>'));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  pageServers.push(server);
}

before(async () => {
  [allowedPort, strangerPort] = [await freePort(), await freePort()];
  await Promise.all([servePage(allowedPort), servePage(strangerPort)]);
  // Through the environment, as a Kubernetes secret would be: the launcher must pass it on.
  process.env.TESSERA_API_KEY = KEY;
  try {
    cluster = await startCluster(['--cors-allow-origin', `http://127.0.0.1:${allowedPort}`]);
  } finally {
    delete process.env.TESSERA_API_KEY;
  }
});
after(async () => {
  for (const s of pageServers) s.close();
  await cluster?.stop();
});

test('the key from TESSERA_API_KEY guards the router and appears on no command line', async () => {
  assert.equal((await fetch(`${cluster.url}/health`)).status, 200);
  assert.equal((await fetch(`${cluster.url}/info`)).status, 401);
  assert.equal((await fetch(`${cluster.url}/info`, { headers: { authorization: `Bearer ${KEY}` } })).status, 200);
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
    } catch {
      continue; // gone meanwhile
    }
    assert.ok(!cmdline.includes(KEY), `process ${pid} shows the key: ${cmdline.replace(/\0/g, ' ')}`);
  }
});

test('the openai client with apiKey works against the keyed router', async () => {
  const client = new OpenAI({ baseURL: `${cluster.url}/v1`, apiKey: KEY, maxRetries: 0 });
  const chat = await client.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 3 });
  assert.equal(chat.choices[0]!.message.role, 'assistant');
  const stream = await client.completions.create({ model: 'x', prompt: 'Once', max_tokens: 3, stream: true });
  let chunks = 0;
  for await (const _ of stream) chunks++;
  assert.ok(chunks >= 1);
  const anonymous = new OpenAI({ baseURL: `${cluster.url}/v1`, apiKey: 'wrong', maxRetries: 0 });
  await assert.rejects(anonymous.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'Hello' }] }), OpenAI.AuthenticationError);
});

test('in Chromium, only a page from an allowed origin can call the API (CORS)', { skip: SKIP_BROWSER }, async () => {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'tessera-chromium-'));
  let browser: BrowserContext | undefined;
  try {
    browser = await chromium.launchPersistentContext(profile, {
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
    });
    const page = browser.pages()[0] ?? (await browser.newPage());
    // The call a web UI would make: a JSON POST with the key, which needs a preflight.
    const callApi = (key: string) =>
      page.evaluate(
        async ({ url, key }) => {
          try {
            const res = await fetch(`${url}/v1/chat/completions`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
              body: JSON.stringify({ model: 'x', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 2 }),
            });
            const body = (await res.json()) as { object?: string; error?: { code?: string } };
            return { status: res.status, object: body.object ?? body.error?.code ?? null, requestId: res.headers.get('x-request-id') };
          } catch (err) {
            return { status: 0, object: String(err), requestId: null };
          }
        },
        { url: cluster.url, key },
      );

    await page.goto(`http://127.0.0.1:${strangerPort}/`);
    const blocked = await callApi(KEY);
    assert.equal(blocked.status, 0, `a page from another origin was let through: ${JSON.stringify(blocked)}`);
    assert.match(blocked.object!, /TypeError|Failed to fetch/);

    await page.goto(`http://127.0.0.1:${allowedPort}/`);
    const allowed = await callApi(KEY);
    assert.equal(allowed.status, 200, JSON.stringify(allowed));
    assert.equal(allowed.object, 'chat.completion');
    assert.ok(allowed.requestId, 'x-request-id is exposed to the page');
    const wrongKey = await callApi('wrong');
    assert.deepEqual([wrongKey.status, wrongKey.object], [401, 'invalid_api_key']);
  } finally {
    await browser?.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
