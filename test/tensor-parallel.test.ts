// Tensor parallelism through the real launcher and HTTP: --num-shard 2 and 4 give the --num-shard 1 greedy tokens,
// also when requests leave a continuously decoding batch (a stop string, a client that goes away): rank 0
// shares those drops with the other ranks at a step boundary, so the ranks never diverge.
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

interface Outcome {
  single: number[];
  batched: number[][];
  /** A stop string found by the router mid-generation, beside a request that goes on. */
  stopped: { text: string; finish: string };
  beside: number[];
}

async function generate(cluster: Cluster, prompt: string, parameters: Record<string, unknown>) {
  const res = await postJson(`${cluster.url}/generate`, { inputs: prompt, parameters: { details: true, ...parameters } });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as { generated_text: string; details: { finish_reason: string; tokens: { id: number }[] } };
}

/**
 * One prompt alone, then all prompts at once (the router batches them), then a request that the
 * router stops on a string (the shard has stepped past it) beside one that keeps decoding.
 */
async function run(cluster: Cluster): Promise<Outcome> {
  const single = await greedyIds(cluster, PROMPTS[0]!);
  const batched = await Promise.all(PROMPTS.map((p) => greedyIds(cluster, p)));
  const full = await generate(cluster, PROMPTS[1]!, { max_new_tokens: 24 });
  const stop = full.generated_text.slice(12, 15);
  assert.ok(stop.length === 3, `a stop string inside ${JSON.stringify(full.generated_text)}`);
  const [stopped, beside] = await Promise.all([
    generate(cluster, PROMPTS[1]!, { max_new_tokens: 24, stop: [stop] }),
    generate(cluster, PROMPTS[3]!, { max_new_tokens: 40 }),
  ]);
  assert.equal(stopped.details.finish_reason, 'stop_sequence');
  return {
    single,
    batched,
    stopped: { text: stopped.generated_text, finish: stopped.details.finish_reason },
    beside: beside.details.tokens.map((t) => t.id),
  };
}

/** A streaming client goes away mid-generation while another request decodes: the other is unaffected, nothing leaks. */
async function abandonStream(cluster: Cluster, reference: Outcome): Promise<void> {
  const abort = new AbortController();
  const res = await fetch(`${cluster.url}/generate_stream`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: PROMPTS[2], parameters: { max_new_tokens: 400, ignore_eos: true } }),
    signal: abort.signal,
  });
  const reader = res.body!.getReader();
  const beside = greedyIds(cluster, PROMPTS[0]!);
  for (let got = 0; got < 4; got++) assert.equal((await reader.read()).done, false, 'the stream ended before it was abandoned');
  abort.abort();
  await reader.read().catch(() => undefined);
  assert.deepEqual(await beside, reference.single);
  const until = Date.now() + 20_000;
  for (;;) {
    const metrics = await (await fetch(`${cluster.url}/metrics`)).text();
    const inFlight = /^tessera_requests_in_flight(?:\{[^}]*\})? (\S+)$/m.exec(metrics)?.[1];
    const used = /^tessera_kv_blocks\{[^}]*state="used"[^}]*\} (\S+)$/m.exec(metrics)?.[1];
    if (inFlight === '0' && used === '0') break;
    assert.ok(Date.now() < until, `requests in flight ${inFlight}, KV blocks used ${used}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('tensor parallelism end to end (generated tp4 model)', () => {
  let model: string;
  let reference: Outcome;
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
    test(`--num-shard ${n}: the same greedy tokens as one shard, single, batched, beside a stop string and an abandoned stream`, async () => {
      const cluster = await startCluster(['--model-id', model, '--num-shard', String(n)]);
      try {
        const health = await fetch(`${cluster.url}/health`);
        assert.equal(health.status, 200);
        assert.deepEqual(await run(cluster), reference);
        await abandonStream(cluster, reference);
        // The ranks still agree afterwards.
        assert.deepEqual(await greedyIds(cluster, PROMPTS[3]!), reference.batched[3]);
        // SIGTERM stops every rank at once and promptly: a rank whose peer stopped first used to wait out
        // its group's re-forming until the launcher's SIGKILL (45 s).
        const stopping = performance.now();
        await cluster.stop();
        assert.equal(await cluster.exited, 0, cluster.output());
        const stopMs = performance.now() - stopping;
        assert.ok(stopMs < 10_000, `the cluster took ${Math.round(stopMs)} ms to stop`);
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
