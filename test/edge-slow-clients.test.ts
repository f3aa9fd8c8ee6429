// Slow and stuck clients against a real router (its HTTP edge is what is tested, so the router runs in
// process over a scripted shard: services/router/src/testing/router-harness.ts): slowloris headers and
// trickled bodies are cut off, a stream client that stops reading is disconnected and its generation
// cancelled (KV freed), and connections beyond --max-connections are refused while requests within the
// cap still succeed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startTestRouter, type TestRouter } from '../services/router/src/testing/router-harness.ts';

/** A raw TCP connection to a cluster, with what it received and when it closed. */
interface RawClient {
  socket: net.Socket;
  received(): string;
  closed: Promise<number>;
}

function connect(url: string): Promise<RawClient> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (data += d));
    const closed = new Promise<number>((res) => socket.once('close', () => res(performance.now())));
    socket.once('error', () => undefined);
    socket.once('connect', () => resolve({ socket, received: () => data, closed }));
    socket.once('error', reject);
  });
}

/** A sample's value: the first line of `name` whose labels include `label` (e.g. 'reason="slow_reader"'); 0 if none. */
async function metric(url: string, name: string, label = ''): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m !== null && m[1] === name && (m[2] ?? '').includes(label)) return Number(m[3]);
  }
  return 0;
}

async function eventually(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > until) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function generateOk(url: string): Promise<void> {
  const res = await fetch(`${url}/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', connection: 'close' },
    body: JSON.stringify({ inputs: 'Hello', parameters: { max_new_tokens: 3 } }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  await res.text();
}

describe('slow and stuck clients', () => {
  let timeouts: TestRouter;
  let capped: TestRouter;
  const CAP = 6;
  before(async () => {
    [timeouts, capped] = await Promise.all([
      // 2 ms per step: a stream's length in wall time does not depend on the machine's speed. KV for 8 × 2000 tokens.
      startTestRouter({
        shard: { stepDelayMs: 2, numBlocks: 1100, maxPositionEmbeddings: 2048 },
        args: ['--headers-timeout', '1', '--request-timeout', '1.5', '--sse-max-buffered-bytes', '65536'],
      }),
      startTestRouter({ args: ['--max-connections', String(CAP)] }),
    ]);
  });
  after(async () => {
    await Promise.all([timeouts?.close(), capped?.close()]);
  });

  test('slowloris: headers trickled one line at a time are cut off after --headers-timeout', async () => {
    const c = await connect(timeouts.url);
    const started = performance.now();
    c.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n');
    const trickle = setInterval(() => c.socket.writable && c.socket.write('X-Slow: 1\r\n'), 150);
    try {
      const closedAt = await c.closed;
      const ms = closedAt - started;
      assert.ok(ms >= 900 && ms < 5000, `closed after ${Math.round(ms)} ms`);
      assert.match(c.received(), /^HTTP\/1\.1 408/);
    } finally {
      clearInterval(trickle);
    }
    await generateOk(timeouts.url);
  });

  test('a body trickled slower than --request-timeout is cut off', async () => {
    const c = await connect(timeouts.url);
    const started = performance.now();
    c.socket.write('POST /generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"inputs":"');
    const trickle = setInterval(() => c.socket.writable && c.socket.write('a'), 150);
    try {
      const ms = (await c.closed) - started;
      assert.ok(ms >= 1300 && ms < 6000, `closed after ${Math.round(ms)} ms`);
      assert.match(c.received(), /^HTTP\/1\.1 408/);
    } finally {
      clearInterval(trickle);
    }
  });

  test('--request-timeout limits receiving the request, not the response: a stream longer than it completes', async () => {
    const started = performance.now();
    const res = await fetch(`${timeouts.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', prompt: 'Once', max_tokens: 1100, ignore_eos: true, stream: true }),
    });
    assert.equal(res.status, 200);
    const text = await res.text();
    const ms = performance.now() - started;
    assert.match(text, /data: \[DONE\]\n\n$/);
    // Vacuous if the stream were shorter than the 1.5 s request timeout (1100 steps of ≥ 2 ms).
    assert.ok(ms > 2000, `the stream took only ${Math.round(ms)} ms`);
  });

  test('a stream client that stops reading is disconnected and its generation cancelled; KV returns to 0', async () => {
    const before = await metric(timeouts.url, 'tessera_request_finished_total', 'outcome="cancelled"');
    const c = await connect(timeouts.url);
    // Top-20 logprobs make every chunk ~1.7 kB and n = 8 choices stream ~28 MB in all: far more than the
    // kernel's socket buffers (a few MB on loopback) hold, so Node's own queue grows past the limit.
    const body = JSON.stringify({
      model: 'm',
      messages: [{ role: 'user', content: 'Tell me everything.' }],
      stream: true,
      logprobs: true,
      top_logprobs: 20,
      max_tokens: 2000,
      n: 8,
      ignore_eos: true,
    });
    c.socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    // Read the status line, then stop reading for good.
    await eventually('stream opened', async () => c.received().startsWith('HTTP/1.1 200'), 10_000);
    c.socket.pause();
    await eventually('slow reader cut', async () => (await metric(timeouts.url, 'tessera_requests_rejected_total', 'reason="slow_reader"')) >= 1, 60_000);
    await eventually('generation cancelled', async () => (await metric(timeouts.url, 'tessera_request_finished_total', 'outcome="cancelled"')) > before);
    await eventually('in-flight back to 0', async () => (await metric(timeouts.url, 'tessera_requests_in_flight')) === 0);
    await eventually('KV blocks freed', async () => (await metric(timeouts.url, 'tessera_kv_blocks', 'state="used"')) === 0);
    c.socket.destroy();
    await generateOk(timeouts.url);
  });

  test(`connections beyond --max-connections ${CAP} are closed at once; requests within the cap succeed`, async () => {
    // Hold CAP - 1 idle connections: one slot is left for a normal request.
    const held = await Promise.all(Array.from({ length: CAP - 1 }, () => connect(capped.url)));
    try {
      await generateOk(capped.url);
      // Fill the last slot, then one more connection is dropped without an answer.
      held.push(await connect(capped.url));
      await new Promise((r) => setTimeout(r, 100));
      const extra = await connect(capped.url);
      const outcome = await Promise.race([extra.closed.then(() => 'closed'), new Promise((r) => setTimeout(() => r('open'), 3000))]);
      assert.equal(outcome, 'closed');
      assert.equal(extra.received(), '');
      for (const h of held) assert.equal(h.socket.destroyed, false, 'connections within the cap stay open');
    } finally {
      for (const h of held) h.socket.destroy();
    }
    // Slots free again: normal requests succeed, and the drop was counted.
    await eventually(
      'slots freed',
      async () => {
        await generateOk(capped.url);
        return true;
      },
      5000,
    );
    assert.ok((await metric(capped.url, 'tessera_requests_rejected_total', 'reason="max_connections"')) >= 1);
  });
});
