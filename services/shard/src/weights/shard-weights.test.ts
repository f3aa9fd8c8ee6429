// @module Per-rank weight slices: plans (heads, KV replication, uneven FFN/vocab) and slices that reassemble the whole.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expandBlockAffine, loadModel, writeGeneratedModel, type ModelConfig } from '@tessera/model-files';
import { evenSpan, isQuantized, type Matrix, parallelPlan, ShardWeights } from './shard-weights.ts';

const floats = (m: Matrix): Float32Array => (isQuantized(m) ? expandBlockAffine(m) : m);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-slices-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** stories260K's shape (only the fields a plan reads). */
const config = (over: Partial<ModelConfig>): ModelConfig =>
  ({ hiddenSize: 64, intermediateSize: 172, numHeads: 8, numKvHeads: 4, headDim: 8, vocabSize: 512, numLayers: 1, ...over }) as ModelConfig;

describe('parallelPlan', () => {
  test('even spans cover the dimension without gaps', () => {
    for (const [n, parts] of [
      [172, 4],
      [10, 3],
      [7, 7],
      [513, 2],
    ] as const) {
      let next = 0;
      for (let r = 0; r < parts; r++) {
        const s = evenSpan(n, parts, r);
        assert.equal(s.start, next);
        next += s.count;
      }
      assert.equal(next, n);
    }
  });

  test('heads and KV heads split evenly; KV heads replicated when the shards outnumber them', () => {
    assert.deepEqual(parallelPlan(config({}), 1, 2).heads, { start: 4, count: 4 });
    assert.deepEqual(parallelPlan(config({}), 1, 2).kvHeads, { start: 2, count: 2 });
    assert.deepEqual(
      [0, 1, 2, 3].map((r) => parallelPlan(config({ numKvHeads: 2 }), r, 4).kvHeads.start),
      [0, 0, 1, 1],
    );
    assert.deepEqual(parallelPlan(config({}), 3, 4).ffn, { start: 129, count: 43 });
  });

  test('splits that cannot work are refused, naming the dimension', () => {
    assert.throws(() => parallelPlan(config({}), 0, 3), /num_attention_heads 8 is not divisible by the 3 shards/);
    assert.throws(() => parallelPlan(config({ numHeads: 12, numKvHeads: 4 }), 0, 6), /num_key_value_heads 4 and the 6 shards/);
  });
});

describe('ShardWeights', () => {
  test("the ranks' slices put back together are the whole tensors (rows for Q/K/V/gate/up/embedding/head, columns for o/down)", async () => {
    const dir = path.join(tmp, 'tp4');
    await writeGeneratedModel(dir, { preset: 'tp4' });
    const model = await loadModel(dir);
    const c = model.config;
    const N = 4;
    const ranks = Array.from({ length: N }, (_, r) => new ShardWeights(model, parallelPlan(c, r, N)));
    const whole = (name: string) => model.tensor(name).data;
    const cat = (parts: Matrix[]) => Float32Array.from(parts.map(floats).flatMap((p) => [...p]));
    /** Columns of each rank's [rows, cols_r] slice interleaved back into [rows, Σ cols_r]. */
    const catColumns = (parts: Matrix[], rows: number) => {
      const out: number[] = [];
      for (let i = 0; i < rows; i++) for (const p of parts.map(floats)) out.push(...p.subarray(i * (p.length / rows), (i + 1) * (p.length / rows)));
      return Float32Array.from(out);
    };
    assert.deepEqual(cat(ranks.map((w) => w.qkv(1).q)), whole('model.layers.1.self_attn.q_proj.weight'));
    assert.deepEqual(cat(ranks.map((w) => w.qkv(1).k)), whole('model.layers.1.self_attn.k_proj.weight'));
    assert.deepEqual(cat(ranks.map((w) => w.gateUp(0).up)), whole('model.layers.0.mlp.up_proj.weight'));
    assert.deepEqual(
      catColumns(
        ranks.map((w) => w.oProj(0)),
        c.hiddenSize,
      ),
      whole('model.layers.0.self_attn.o_proj.weight'),
    );
    assert.deepEqual(
      catColumns(
        ranks.map((w) => w.down(1)),
        c.hiddenSize,
      ),
      whole('model.layers.1.mlp.down_proj.weight'),
    );
    assert.deepEqual(cat(ranks.map((w) => w.embed())), whole('model.embed_tokens.weight'));
    const head = c.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
    assert.deepEqual(cat(ranks.map((w) => w.lmHead())), whole(head));
    // Each rank keeps ~1/N of a sharded matrix.
    assert.equal(floats(ranks[0]!.down(0)).length * N, whole('model.layers.0.mlp.down_proj.weight').length);
  });
});
