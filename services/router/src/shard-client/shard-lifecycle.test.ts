// @module Tests: a shard that restarts under a running router (scripted shard): running requests end with an error, /health 503, re-warmup with the same pool, service resumes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestRouter } from '../testing/router-harness.ts';
import { postJson, postSse } from '../testing/sse-client.ts';

async function eventually(what: string, probe: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > until) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a restarted shard (new instance id, no KV): running streams end with an error, /health 503, then re-warmed and serving', async () => {
  const t = await startTestRouter({ shard: { stepDelayMs: 20, numBlocks: 64 } });
  try {
    const streams = [0, 1, 2].map(() => postSse(`${t.url}/generate_stream`, { inputs: 'Hello a', parameters: { max_new_tokens: 200 } }));
    await eventually('streams running', async () => t.shard.liveRequestIds().length === 3);
    t.shard.simulateRestart();
    const ended = await Promise.all(streams);
    for (const s of ended) {
      const last = JSON.parse(s.data.at(-1)!) as { error?: string; error_type?: string };
      assert.match(last.error ?? '', /restarted|unknown batch|not found|KV cache|recovering/, `terminal error event: ${s.data.at(-1)}`);
      assert.equal(s.data.filter((d) => d.includes('"error"')).length, 1, 'exactly one terminal error event');
    }
    await eventually('/health 200 again', async () => (await fetch(`${t.url}/health`)).status === 200);
    assert.equal(t.shard.warmups.length, 2, 'warmed up again');
    assert.equal(t.shard.warmups[1]!.numBlocks, 64, 're-warmup asks for the pool the router accounts for');
    const after = await postJson(`${t.url}/generate`, { inputs: 'Hello a', parameters: { max_new_tokens: 3 } });
    assert.equal(after.status, 200);
    assert.equal(after.body.generated_text, 'bcd');
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    assert.match(metrics, /tessera_shard_recoveries_total\{[^}]*\} 1/);
    assert.match(metrics, /tessera_requests_in_flight\{[^}]*\} 0/);
    assert.match(metrics, /tessera_kv_blocks\{state="used"[^}]*\} 0/);
  } finally {
    await t.close();
  }
});

test('an idle router notices a restarted shard by its health probe and re-warms it before the next request', async () => {
  const t = await startTestRouter();
  try {
    t.shard.simulateRestart();
    await eventually('re-warmed', async () => t.shard.warmups.length === 2 && (await fetch(`${t.url}/health`)).status === 200, 5_000);
    const res = await postJson(`${t.url}/generate`, { inputs: 'Hello a', parameters: { max_new_tokens: 2 } });
    assert.equal(res.status, 200);
    assert.equal(res.body.generated_text, 'bc');
  } finally {
    await t.close();
  }
});

test('while recovering, new requests get 503 (never a hang), and /health names the shard', async () => {
  const t = await startTestRouter();
  try {
    t.shard.opts.warmupDelayMs = 4000; // the re-warmup takes a while: the router is recovering meanwhile
    t.shard.simulateRestart();
    await eventually('/health 503', async () => (await fetch(`${t.url}/health`)).status === 503, 5_000);
    const health = (await (await fetch(`${t.url}/health`)).json()) as { error: string };
    assert.match(health.error, /shard 0 .*restarted|recovering|not answering|no KV/);
    const res = await postJson(`${t.url}/generate`, { inputs: 'Hello a', parameters: { max_new_tokens: 2 } });
    assert.equal(res.status, 503);
    assert.match(res.body.error, /recovering/);
    await eventually('/health 200 again', async () => (await fetch(`${t.url}/health`)).status === 200, 20_000);
  } finally {
    await t.close();
  }
});
