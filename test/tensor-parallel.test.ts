// Tensor parallelism through the real launcher and HTTP: --num-shard 2 and 4 give the --num-shard 1 greedy tokens.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ensureGeneratedModel } from '@tessera/model-files';
import { startCluster, type Cluster } from './helpers/cluster.ts';
import { SKIP_NO_SHARED, sharedPath, TEST_CACHE } from './helpers/paths.ts';
import { postJson } from './helpers/sse.ts';

const PROMPTS = ['Once upon a time', 'The quick brown fox jumps', 'a', 'Tensor parallel shards agree on every token they generate'];

async function greedyIds(cluster: Cluster, prompt: string, maxNewTokens = 16): Promise<number[]> {
  const res = await postJson(`${cluster.url}/generate`, { inputs: prompt, parameters: { max_new_tokens: maxNewTokens, details: true } });
  assert.equal(res.status, 200, await res.clone().text());
  const body = (await res.json()) as { details: { tokens: { id: number }[] } };
  return body.details.tokens.map((t) => t.id);
}

/** One prompt alone, then all prompts at once (the router batches them). */
async function run(cluster: Cluster): Promise<{ single: number[]; batched: number[][] }> {
  const single = await greedyIds(cluster, PROMPTS[0]!);
  const batched = await Promise.all(PROMPTS.map((p) => greedyIds(cluster, p)));
  return { single, batched };
}

describe('tensor parallelism end to end (generated tp4 model)', () => {
  let model: string;
  let reference: { single: number[]; batched: number[][] };
  before(async () => {
    model = await ensureGeneratedModel(TEST_CACHE, 'tp4');
    const cluster = await startCluster(['--model-id', model, '--num-shard', '1']);
    try {
      reference = await run(cluster);
    } finally {
      await cluster.stop();
    }
    assert.equal(reference.single.length, 16);
  });

  for (const n of [2, 4]) {
    test(`--num-shard ${n}: the same greedy tokens as one shard, single and batched`, async () => {
      const cluster = await startCluster(['--model-id', model, '--num-shard', String(n)]);
      try {
        const health = await fetch(`${cluster.url}/health`);
        assert.equal(health.status, 200);
        assert.deepEqual(await run(cluster), reference);
      } finally {
        await cluster.stop();
      }
    });
  }
});

const stories = sharedPath('models', 'stories260K', 'hf');
const fixturePath = sharedPath('fixtures', 'stories260K-greedy.json');

describe('tensor parallelism end to end (stories260K)', { skip: stories && fixturePath ? false : SKIP_NO_SHARED }, () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster(['--model-id', stories!, '--num-shard', '2']);
  });
  after(() => cluster?.stop());

  test('--num-shard 2 gives the fixture greedy ids', async () => {
    const fixture = JSON.parse(readFileSync(fixturePath!, 'utf8')) as { prompt: string; greedy_ids: number[] };
    assert.deepEqual(await greedyIds(cluster, fixture.prompt, fixture.greedy_ids.length), fixture.greedy_ids);
  });
});
