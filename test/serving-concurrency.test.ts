// Many concurrent streams on one real router + shard (generated model): right tokens, batch invariance, cancellation, prefix reuse, prompt limits.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type Cluster } from './helpers/cluster.ts';
import { postJson } from './helpers/sse.ts';
import { generateGreedy, getStats, statsEventually, streamGreedy, tokenize, type GreedyResult } from './helpers/streams.ts';

const WORDS = ['river', 'lantern', 'quiet', 'mountain', 'copper', 'garden', 'violet', 'engine', 'harbor', 'maple', 'thunder', 'pebble'];
/** 64 different prompts of different lengths. */
const prompts = Array.from({ length: 64 }, (_, i) => Array.from({ length: 2 + (i % 9) }, (_, k) => WORDS[(i * 7 + k * 5) % WORDS.length]).join(' ') + ` #${i}`);
const maxNew = (i: number) => 6 + (i % 11);

describe('continuous batching on a generated model', () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster([
      '--max-total-tokens',
      '512',
      '--max-input-tokens',
      '400',
      '--max-batch-prefill-tokens',
      '512',
      '--max-concurrent-requests',
      '128',
    ]);
  });
  after(() => cluster?.stop());

  test('64 concurrent streams all complete, each with exactly its single-request greedy tokens', async () => {
    const alone: GreedyResult[] = [];
    for (let i = 0; i < prompts.length; i++) alone.push(await generateGreedy(cluster.url, prompts[i]!, maxNew(i)));
    const streams = await Promise.all(prompts.map((p, i) => streamGreedy(cluster.url, p, { max_new_tokens: maxNew(i) })));
    streams.forEach((s, i) => {
      assert.equal(s.status, 200);
      assert.deepEqual(s.ids, alone[i]!.ids, `prompt ${i} differs when batched`);
    });
    const stats = await statsEventually(cluster.url, (s) => s.kv_blocks_used === 0);
    assert.equal(stats.batch_size, 0);
    assert.equal(stats.queue_size, 0);
  });

  test('batch invariance: a greedy request gives the same tokens alone and among 31 other concurrent requests', async () => {
    const target = 'the lantern by the copper harbor keeps a quiet engine running';
    const alone = await generateGreedy(cluster.url, target, 24);
    const others = prompts.slice(0, 31).map((p, i) => generateGreedy(cluster.url, `${p} ${WORDS[i % WORDS.length]}`, 8 + (i % 23)));
    const together = generateGreedy(cluster.url, target, 24);
    const [mine] = await Promise.all([together, ...others]);
    assert.deepEqual(mine.ids, alone.ids);
    assert.equal(mine.text, alone.text);
  });

  test('a client that disconnects mid-stream is dropped and its KV blocks are freed', async () => {
    const s = await streamGreedy(cluster.url, 'maple garden thunder', { max_new_tokens: 400 }, (i) => i >= 3);
    assert.equal(s.ids.length, 4);
    const stats = await statsEventually(cluster.url, (st) => st.batch_size === 0 && st.kv_blocks_used === 0);
    assert.equal(stats.kv_blocks_free + stats.kv_blocks_cached, stats.kv_blocks_total);
  });

  test('prefix caching: a second prompt sharing a long prefix computes only its suffix', async () => {
    const shared = Array.from({ length: 40 }, (_, k) => WORDS[(k * 3) % WORDS.length]).join(' ');
    const a = `${shared} and then the river`;
    const b = `${shared} but the violet pebble`;
    const [idsA, idsB] = await Promise.all([tokenize(cluster.url, a), tokenize(cluster.url, b)]);
    let common = 0;
    while (idsA[common] === idsB[common]) common++;
    const before0 = await getStats(cluster.url);
    await generateGreedy(cluster.url, a, 2);
    const mid = await getStats(cluster.url);
    await generateGreedy(cluster.url, b, 2);
    const end = await getStats(cluster.url);
    const block = end.kv_block_size;
    const reused = Math.floor(Math.min(common, idsB.length - 1) / block) * block;
    assert.ok(reused >= 2 * block, `the test prompts share ${common} tokens: too few`);
    assert.equal(mid.prefill_tokens_computed - before0.prefill_tokens_computed, idsA.length);
    assert.equal(end.prefill_tokens_reused - mid.prefill_tokens_reused, reused);
    assert.equal(end.prefill_tokens_computed - mid.prefill_tokens_computed, idsB.length - reused);
    assert.equal(end.prefix_cache_hits - mid.prefix_cache_hits, 1);
  });

  test('a prompt over max_input_tokens is refused with 422 naming the limit; truncate keeps the last N tokens', async () => {
    const long = Array.from({ length: 500 }, (_, k) => WORDS[k % WORDS.length]).join(' ');
    const tgi = await postJson(`${cluster.url}/generate`, { inputs: long, parameters: { max_new_tokens: 2 } });
    assert.equal(tgi.status, 422);
    assert.match(((await tgi.json()) as { error: string }).error, /max_input_tokens/);
    const oa = await postJson(`${cluster.url}/v1/completions`, { model: 'm', prompt: long, max_tokens: 2 });
    assert.ok([400, 422].includes(oa.status));
    assert.match(JSON.stringify(await oa.json()), /max_input_tokens/);
    const cut = await postJson(`${cluster.url}/v1/completions`, { model: 'm', prompt: long, max_tokens: 2, temperature: 0, truncate_prompt_tokens: 100 });
    assert.equal(cut.status, 200);
    assert.equal(((await cut.json()) as { usage: { prompt_tokens: number } }).usage.prompt_tokens, 100);
    // Truncation keeps the END of the prompt: same greedy output as sending those last 100 ids.
    const ids = await tokenize(cluster.url, long);
    const viaTgi = await generateGreedy(cluster.url, long, 4, { truncate: 100 });
    const last = await postJson(`${cluster.url}/v1/completions`, { model: 'm', prompt: ids.slice(-100), max_tokens: 4, temperature: 0 });
    assert.equal(last.status, 200, await last.clone().text());
    const lastBody = (await last.json()) as { choices: { text: string }[] };
    assert.equal(viaTgi.text, lastBody.choices[0]!.text);
  });
});
