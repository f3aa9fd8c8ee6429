// Out of KV blocks and over the request cap on a real router + shard: requests wait (never crash, never lost), then 429 on both APIs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type Cluster } from './helpers/cluster.ts';
import { postJson } from './helpers/sse.ts';
import { generateGreedy, getStats, statsEventually, streamGreedy, type GreedyResult } from './helpers/streams.ts';

const WORDS = ['amber', 'bridge', 'cloud', 'dune', 'ember', 'fjord', 'grove', 'hollow'];
const prompt = (i: number) => `${WORDS[i % 8]} ${WORDS[(i * 3) % 8]} ${WORDS[(i * 5 + 1) % 8]} ${i}`;

describe('a deliberately tiny KV cache (1 MiB = 32 blocks of 16 tokens)', () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster([
      '--kv-cache-memory',
      '1MiB',
      '--max-total-tokens',
      '128',
      '--max-batch-prefill-tokens',
      '128',
      '--max-concurrent-requests',
      '40',
    ]);
  });
  after(() => cluster?.stop());

  test('40 concurrent requests needing ~4 blocks each all finish with their single-request tokens', async () => {
    const stats0 = await getStats(cluster.url);
    assert.equal(stats0.kv_blocks_total, 32);
    const alone: GreedyResult[] = [];
    for (let i = 0; i < 40; i++) alone.push(await generateGreedy(cluster.url, prompt(i), 40));
    let peakQueue = 0;
    let peakUsed = 0;
    let polling = true;
    const poll = (async () => {
      while (polling) {
        const s = await getStats(cluster.url);
        peakQueue = Math.max(peakQueue, s.queue_size);
        peakUsed = Math.max(peakUsed, s.kv_blocks_used);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const together = await Promise.all(Array.from({ length: 40 }, (_, i) => generateGreedy(cluster.url, prompt(i), 40)));
    polling = false;
    await poll;
    together.forEach((r, i) => assert.deepEqual(r.ids, alone[i]!.ids, `request ${i}`));
    assert.ok(peakQueue > 0, 'requests had to wait for blocks');
    assert.ok(peakUsed <= 32);
    await statsEventually(cluster.url, (s) => s.kv_blocks_used === 0 && s.queue_size === 0);
  });

  test('over --max-concurrent-requests: 429 with the TGI body on TGI routes and the OpenAI error shape on /v1', async () => {
    // 40 long requests fill the cap (most of them wait in the queue for blocks).
    const running = Array.from({ length: 40 }, (_, i) => streamGreedy(cluster.url, prompt(i), { max_new_tokens: 60 }));
    await statsEventually(cluster.url, (s) => s.queue_size + s.batch_size + s.prefilling_size >= 40);
    const tgi = await postJson(`${cluster.url}/generate`, { inputs: 'hello', parameters: { max_new_tokens: 2 } });
    assert.equal(tgi.status, 429);
    assert.deepEqual(await tgi.json(), { error: 'Model is overloaded', error_type: 'overloaded' });
    const oa = await postJson(`${cluster.url}/v1/completions`, { model: 'm', prompt: 'hello', max_tokens: 2 });
    assert.equal(oa.status, 429);
    const body = (await oa.json()) as { error: { message: string; type: string } };
    assert.equal(typeof body.error.message, 'string');
    assert.equal(typeof body.error.type, 'string');
    const results = await Promise.all(running);
    for (const r of results) assert.equal(r.status, 200);
    assert.ok(results.every((r) => r.ids.length > 0));
    await statsEventually(cluster.url, (s) => s.kv_blocks_used === 0);
  });
});
