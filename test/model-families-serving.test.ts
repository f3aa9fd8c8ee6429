// @module A Gemma 3 and a Phi-3 checkpoint served end to end (launcher, shard, router): /info names the architecture, its features and the supported list; greedy /generate follows the fp64 reference past the sliding window; the family's chat template renders.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadHfDir, SUPPORTED_ARCHITECTURES } from '@tessera/model-files';
import { startCluster, type Cluster } from './helpers/cluster.ts';
import { writeFamilyHfDir, type FamilyName } from './reference/family-checkpoint.ts';
import { chatTemplateFixture, ReferenceCache, ReferenceLlama } from '@tessera/testing';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-family-serving-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

const CASES: { family: FamilyName; template: string; features: string[] }[] = [
  {
    family: 'gemma3',
    template: 'gemma3',
    features: ['qk-norm(head)', 'sandwich-norms', 'gemma-norms-geglu', 'sliding-window(4, 2/3 layers)', 'local-rope-base'],
  },
  { family: 'phi3', template: 'phi3.5', features: ['partial-rotary(12)', 'rope-scaling(longrope)'] },
];

for (const c of CASES) {
  describe(`serving ${c.family}`, () => {
    const dir = path.join(tmp, c.family);
    let cluster: Cluster;
    before(async () => {
      writeFamilyHfDir(dir, c.family, 11, chatTemplateFixture(c.template));
      cluster = await startCluster(['--model-id', dir]);
    });
    after(async () => {
      await cluster?.stop();
    });

    test('/info: architecture, features, supported architectures', async () => {
      const info = (await (await fetch(`${cluster.url}/info`)).json()) as {
        model_architecture: string;
        model_features: string[];
        supported_architectures: string[];
      };
      const model = await loadHfDir(dir);
      assert.equal(info.model_architecture, model.config.architecture);
      assert.deepEqual(info.model_features, c.features);
      assert.deepEqual(info.supported_architectures, [...SUPPORTED_ARCHITECTURES]);
    });

    test("/generate greedy: the fp64 reference's ids, 12 tokens past a prompt longer than any window", async () => {
      const res = await fetch(`${cluster.url}/generate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          inputs: 'the cat sat on the mat and looked at the dog',
          parameters: { max_new_tokens: 12, details: true, decoder_input_details: true },
        }),
      });
      assert.equal(res.status, 200, await res.clone().text());
      const body = (await res.json()) as { details: { tokens: { id: number }[]; prefill: { id: number }[] } };
      const model = await loadHfDir(dir);
      const reference = new ReferenceLlama(model);
      const cache = new ReferenceCache(model.config.numLayers);
      const prompt = body.details.prefill.map((t) => t.id);
      assert.ok(prompt.length > 5, 'the prompt outruns the sliding window');
      let logits = reference.forward(prompt, cache).at(-1)!;
      const expected: number[] = [];
      for (let i = 0; i < 12; i++) {
        expected.push(argmax(logits));
        logits = reference.forward([expected.at(-1)!], cache)[0]!;
      }
      assert.deepEqual(
        body.details.tokens.map((t) => t.id),
        expected,
      );
    });

    test("chat completions render the family's template", async () => {
      const res = await fetch(`${cluster.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'tgi', messages: [{ role: 'user', content: 'Hi there' }], max_tokens: 3 }),
      });
      assert.equal(res.status, 200, await res.clone().text());
      const body = (await res.json()) as { usage: { prompt_tokens: number } };
      assert.ok(body.usage.prompt_tokens > 5, 'the template adds its turn markers');
    });
  });
}
