// A quantized GGUF (stories260K written as Q4_0 by `tessera quantize`) served end to end: greedy equals the fp64 reference on its dequantized weights; /info reports the weights.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadModel } from '@tessera/model-files';
import { startCluster, type Cluster } from './helpers/cluster.ts';
import { REPO_ROOT, SKIP_NO_SHARED, sharedPath } from './helpers/paths.ts';
import { ReferenceCache, ReferenceLlama } from '@tessera/testing';

const stories = sharedPath('models', 'stories260K', 'stories260K.gguf');
const fixturePath = sharedPath('fixtures', 'stories260K-greedy.json');

describe('stories260K quantized to Q4_0, served through HTTP', { skip: stories && fixturePath ? false : SKIP_NO_SHARED }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-quantized-serving-'));
  const file = path.join(dir, 'stories260K-Q4_0.gguf');
  let cluster: Cluster;
  before(async () => {
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'tessera.js'), 'quantize', stories!, file, 'Q4_0'], { stdio: 'ignore' });
    // float32 activations: the greedy path then matches the fp64 reference token for token (int8, the
    // default, is checked against the reference's logits in services/shard/src/graph/quantized-graph.test.ts).
    cluster = await startCluster(['--model-id', file, '--quant-accuracy', 'float32']);
  });
  after(async () => {
    await cluster?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("/generate greedy gives the fp64 reference's tokens on the dequantized weights", async () => {
    const fixture = JSON.parse(fs.readFileSync(fixturePath!, 'utf8')) as { prompt: string; prompt_ids_with_bos: number[] };
    const steps = 32;
    const res = await fetch(`${cluster.url}/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: fixture.prompt, parameters: { max_new_tokens: steps, details: true } }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const body = (await res.json()) as { generated_text: string; details: { tokens: { id: number }[] } };

    const model = await loadModel(file);
    const reference = new ReferenceLlama(model);
    const cache = new ReferenceCache(model.config.numLayers);
    const argmax = (row: ArrayLike<number>) => {
      let best = 0;
      for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
      return best;
    };
    const expected: number[] = [];
    let logits = reference.forward(fixture.prompt_ids_with_bos, cache).at(-1)!;
    for (let i = 0; i < steps; i++) {
      expected.push(argmax(logits));
      logits = reference.forward([expected.at(-1)!], cache)[0]!;
    }
    assert.deepEqual(
      body.details.tokens.map((t) => t.id),
      expected,
    );
    assert.ok(body.generated_text.length > 20, 'a story, not nothing');
  });

  test('/info reports the quantized weights per type', async () => {
    const info = (await (await fetch(`${cluster.url}/info`)).json()) as { weights: { types: string; quantized: boolean; bytes_per_shard: number } };
    assert.equal(info.weights.quantized, true);
    assert.match(info.weights.types, /Q4_0/);
    assert.match(info.weights.types, /F32/);
    assert.ok(info.weights.bytes_per_shard > 0);
  });
});
