// Mixture of experts end to end: a tiny Mixtral (HF directory, Q8_0 GGUF) served by the real launcher, 1 and 2 shards.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadModel } from '@tessera/model-files';
import { startCluster, type Cluster } from './helpers/cluster.ts';
import { postJson } from './helpers/sse.ts';
import { ReferenceCache, ReferenceLlama } from '@tessera/testing';
import { moeCheckpointModel, writeMoeCheckpoint } from './reference/moe-checkpoint.ts';
import { startRunners } from './reference/step-compare.ts';

const PROMPT = 'Experts route every token';
const TOKENS = 12;
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-moe-serving-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

async function generate(cluster: Cluster): Promise<{ prompt: number[]; ids: number[] }> {
  const tokens = await postJson(`${cluster.url}/tokenize`, { inputs: PROMPT });
  assert.equal(tokens.status, 200);
  const prompt = ((await tokens.json()) as { id: number }[]).map((t) => t.id);
  const res = await postJson(`${cluster.url}/generate`, { inputs: PROMPT, parameters: { max_new_tokens: TOKENS, details: true } });
  assert.equal(res.status, 200, await res.clone().text());
  const body = (await res.json()) as { details: { tokens: { id: number }[] } };
  return { prompt, ids: body.details.tokens.map((t) => t.id) };
}

/** Greedy continuation of `prompt` by the fp64 reference. */
function referenceGreedy(prompt: number[]): number[] {
  const model = moeCheckpointModel('mixtral');
  const reference = new ReferenceLlama(model);
  const cache = new ReferenceCache(model.config.numLayers);
  let logits = reference.forward(prompt, cache).at(-1)!;
  const out: number[] = [];
  for (let s = 0; s < TOKENS; s++) {
    out.push(logits.reduce((best, v, i) => (v > logits[best]! ? i : best), 0));
    logits = reference.forward([out.at(-1)!], cache)[0]!;
  }
  return out;
}

describe('Mixtral served end to end', () => {
  let files: Awaited<ReturnType<typeof writeMoeCheckpoint>>;
  before(async () => {
    files = await writeMoeCheckpoint('mixtral', root, ['Q8_0']);
  });

  for (const shards of [1, 2]) {
    test(`HF directory, --num-shard ${shards}: the greedy tokens are the fp64 reference's`, async () => {
      const cluster = await startCluster(['--model-id', files.hf, '--num-shard', String(shards)]);
      try {
        const { prompt, ids } = await generate(cluster);
        assert.deepEqual(ids, referenceGreedy(prompt));
      } finally {
        await cluster.stop();
      }
    });
  }

  test('Q8_0 GGUF, --num-shard 2: the greedy tokens of the same file run in process on one rank', async () => {
    const cluster = await startCluster(['--model-id', files.quantized['Q8_0']!, '--num-shard', '2']);
    let served: { prompt: number[]; ids: number[] };
    try {
      served = await generate(cluster);
    } finally {
      await cluster.stop();
    }
    const model = await loadModel(files.quantized['Q8_0']!);
    const { runners, close } = await startRunners(path.join(root, 'graphs'), model, 1, 'int8');
    try {
      const runner = runners[0]!;
      runner.allocate(16);
      const blocks = Array.from({ length: 16 }, (_, i) => i);
      const argmax = (l: Float32Array) => l.reduce((best, v, i) => (v > l[best]! ? i : best), 0);
      let r = await runner.step([{ ids: served.prompt, start: 0, blocks, allLogits: false }]);
      const ids: number[] = [];
      for (let s = 0; s < TOKENS; s++) {
        ids.push(argmax(r.logits));
        r = await runner.step([{ ids: [ids.at(-1)!], start: served.prompt.length + s, blocks, allLogits: false }]);
      }
      assert.deepEqual(served.ids, ids);
    } finally {
      await close();
    }
  });
});
